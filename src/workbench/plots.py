"""Plot builders: each returns a plotly figure from package outputs; notebooks only show them.

Figures take polars frames or the dicts of :mod:`workbench.kpis`; money is in the portfolio
currency, durations in days. :func:`use_offline_renderer` makes notebooks executed by papermill
produce self-contained HTML (plotly.js embedded once, no MathJax or CDN requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.io._base_renderers import MimetypeRenderer

PALETTE = ("#1f5f8b", "#e07b39", "#3a9e6f", "#b8405e", "#7b6fb0", "#8c8c8c")
LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=50, b=40), height=380)

# KPI name -> (label, kind, a rise is good?) for tiles and deltas.
TILES: dict[str, tuple[str, str, bool]] = {
    "total_ar": ("Open AR", "money", False),
    "overdue_ar": ("Overdue AR", "money", False),
    "dso_standard": ("DSO (days)", "days", False),
    "best_possible_dso": ("Best possible DSO", "days", False),
    "add": ("Avg days delinquent", "days", False),
    "cei": ("CEI (%)", "percent", True),
}


TABLE_FORMATS = {
    "open_balance": ",.2f",
    "disputed_amount": ",.2f",
    "amount": ",.2f",
    "paid": ",.2f",
    "overdue_balance": ",.2f",
    "share_settled_late": ".0%",
    "credit_limit_use": ".0%",
}
"""d3 formats of the money and share columns shown in tables."""


class OfflineHtmlRenderer(MimetypeRenderer):
    """Renders figures as HTML: plotly.js inlined with the first figure only, no MathJax."""

    def __init__(self) -> None:
        # plotly shallow-copies renderers before each use: the flag lives in a shared dict.
        self.state = {"plotlyjs_sent": False}

    def to_mimebundle(self, fig_dict: dict) -> dict[str, str]:
        html = pio.to_html(
            fig_dict,
            include_plotlyjs=not self.state["plotlyjs_sent"],
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
        self.state["plotlyjs_sent"] = True
        return {"text/html": html}


def use_offline_renderer(interactive: bool) -> None:
    """Select the plotly renderer for a notebook.

    Interactive (JupyterLab): plotly's own mimetype renderer. Otherwise (papermill): figures as
    self-contained HTML, plotly.js embedded once, so the exported report works offline.
    """
    if interactive:
        pio.renderers.default = "plotly_mimetype+notebook_connected"
        return
    pio.renderers["workbench_offline"] = OfflineHtmlRenderer()
    pio.renderers.default = "workbench_offline"


def escaped(text: pl.Expr) -> pl.Expr:
    """``text`` with &, < and > as HTML entities: plotly renders tags in labels and table
    cells (<b>, <a>, ...), so text from the input data is escaped before it is plotted."""
    return (
        text.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def escaped_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text column :func:`escaped`."""
    return frame.with_columns(escaped(pl.col(pl.String)))


def escaped_text(text: str) -> str:
    """One string :func:`escaped` (titles built from input data)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(value: float | None, currency: str | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency or ''}".strip()


def kpi_tiles(current: dict[str, Any], previous: dict[str, Any] | None = None) -> go.Figure:
    """KPI tiles (number and week-over-week delta) from two :func:`portfolio_kpis` results."""
    fig = go.Figure()
    n = len(TILES)
    for i, (key, (label, kind, rise_is_good)) in enumerate(TILES.items()):
        value = current.get(key)
        reference = None if previous is None else previous.get(key)
        good, bad = "#3a9e6f", "#b8405e"
        fig.add_trace(
            go.Indicator(
                mode="number+delta" if reference is not None else "number",
                value=value if value is not None else float("nan"),
                number={
                    "valueformat": ",.3s" if kind == "money" else ",.1f",
                    "suffix": f" {current.get('currency') or ''}" if kind == "money" else "",
                    "font": {"size": 26},
                },
                delta={
                    "reference": reference,
                    "valueformat": ",.3s" if kind == "money" else ",.1f",
                    "increasing": {"color": good if rise_is_good else bad},
                    "decreasing": {"color": bad if rise_is_good else good},
                }
                if reference is not None
                else None,
                title={"text": label, "font": {"size": 14}},
                domain={"x": [i / n + 0.01, (i + 1) / n - 0.01], "y": [0, 1]},
            )
        )
    fig.update_layout(template="plotly_white", height=170, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def ageing_bars(ageing: dict[str, float], currency: str | None = None) -> go.Figure:
    """Open AR by ageing bucket (bucket order kept)."""
    names, amounts = list(ageing), list(ageing.values())
    colors = [PALETTE[2]] + [PALETTE[min(1 + i // 2, 3)] for i in range(len(names) - 1)]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=amounts,
            marker_color=colors,
            text=[_money(a, None) for a in amounts],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Open AR by ageing bucket", yaxis_title=currency or "amount", **LAYOUT
    )
    return fig


def dso_trend(series: pl.DataFrame) -> go.Figure:
    """DSO standard and countback, best possible DSO and ADD over time (days).

    Needs the columns of :func:`workbench.kpis.kpi_series`.
    """
    fig = go.Figure()
    lines = {
        "dso_standard": "DSO (standard)",
        "dso_countback": "DSO (countback)",
        "best_possible_dso": "Best possible DSO",
        "add": "Avg days delinquent",
    }
    for (column, label), color in zip(lines.items(), PALETTE, strict=False):
        fig.add_trace(
            go.Scatter(
                x=series.get_column("as_of").to_list(),
                y=series.get_column(column).to_list(),
                name=label,
                mode="lines+markers",
                line={"color": color, "width": 2, "dash": "dot" if column == "add" else None},
                marker={"size": 4},
            )
        )
    fig.update_layout(title="DSO, best possible DSO and ADD", yaxis_title="days", **LAYOUT)
    return fig


def cei_trend(series: pl.DataFrame) -> go.Figure:
    """Collection effectiveness index over time (percent)."""
    fig = go.Figure(
        go.Scatter(
            x=series.get_column("as_of").to_list(),
            y=series.get_column("cei").to_list(),
            mode="lines+markers",
            line={"color": PALETTE[2], "width": 2},
            name="CEI",
        )
    )
    fig.update_layout(title="Collection effectiveness index", yaxis_title="%", **LAYOUT)
    return fig


def stacked_bars(
    frame: pl.DataFrame, category: str, values: Sequence[str], title: str, unit: str = ""
) -> go.Figure:
    """One bar per ``category`` value, stacked over the ``values`` columns."""
    fig = go.Figure()
    labels = frame.select(escaped(pl.col(category).cast(pl.String))).to_series().to_list()
    for column, color in zip(values, PALETTE, strict=False):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=frame.get_column(column).to_list(),
                name=column.replace("_", " "),
                marker_color=color,
            )
        )
    fig.update_layout(barmode="stack", title=title, yaxis_title=unit, **LAYOUT)
    return fig


def table(frame: pl.DataFrame, title: str, formats: dict[str, str] | None = None) -> go.Figure:
    """A plotly table of ``frame`` (values formatted with ``formats``: column -> d3 format)."""
    formats = formats or {}
    frame = escaped_frame(frame)
    fig = go.Figure(
        go.Table(
            header={
                "values": [c.replace("_", " ") for c in frame.columns],
                "fill_color": PALETTE[0],
                "font": {"color": "white"},
                "align": "left",
            },
            cells={
                "values": [frame.get_column(c).to_list() for c in frame.columns],
                "format": [formats.get(c) for c in frame.columns],
                "align": "left",
            },
        )
    )
    fig.update_layout(
        title=title, margin=dict(l=10, r=10, t=40, b=10), height=80 + 40 * min(frame.height, 25)
    )
    return fig


EVENT_MARKERS = {
    "payment": ("circle", PALETTE[2]),
    "unapplied cash": ("circle-open", PALETTE[2]),
    "credit note": ("diamond", PALETTE[4]),
    "dispute opened": ("x", PALETTE[3]),
    "dispute resolved": ("x-open", PALETTE[3]),
    "promise": ("star", PALETTE[1]),
    "contact": ("triangle-up", PALETTE[5]),
    "plan instalment": ("square-open", PALETTE[0]),
}


def customer_timeline(
    invoices: pl.DataFrame, events: pl.DataFrame, as_of: Any, title: str = ""
) -> go.Figure:
    """One customer's invoices as bars from issue to settlement (or as_of while open), due dates
    as ticks, and its events (payments, promises, disputes, contacts, ...) as markers.

    ``invoices``: :func:`workbench.drilldown.customer_invoices`; ``events``:
    :func:`workbench.drilldown.customer_events`. Events not tied to an invoice sit on a
    "customer" row.
    """
    fig = go.Figure()
    rows = invoices.get_column("invoice_id").to_list()
    spans = invoices.with_columns(
        end=pl.coalesce("settlement_date", pl.lit(as_of, pl.Date)),
    ).with_columns(span_ms=(pl.col("end") - pl.col("issue_date")).dt.total_milliseconds())
    for is_open, name, color in ((True, "open", PALETTE[1]), (False, "settled", PALETTE[0])):
        part = spans.filter(pl.col("is_open") == is_open)
        fig.add_trace(
            go.Bar(
                y=part.get_column("invoice_id").to_list(),
                base=part.get_column("issue_date").to_list(),
                x=part.get_column("span_ms").to_list(),
                orientation="h",
                marker_color=color,
                opacity=0.55,
                name=name,
                customdata=part.get_column("open_balance").to_list(),
                hovertemplate="%{y}: open %{customdata:,.2f}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=invoices.get_column("due_date").to_list(),
            y=rows,
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": "black"},
            name="due date",
        )
    )
    placed = events.filter(pl.col("kind") != "invoice").with_columns(
        row=pl.col("invoice_id").fill_null("customer")
    )
    for kind, (symbol, color) in EVENT_MARKERS.items():
        part = placed.filter(pl.col("kind") == kind)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=part.get_column("date").to_list(),
                y=part.get_column("row").to_list(),
                mode="markers",
                marker={"symbol": symbol, "size": 10, "color": color},
                name=kind,
                customdata=part.select(pl.col("detail").fill_null("")).to_series().to_list(),
                hovertemplate=f"{kind} %{{x}} %{{customdata}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=escaped_text(title) if title else "Invoice timeline",
        xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": ["customer", *rows], "autorange": "reversed"},
        barmode="overlay",
        template="plotly_white",
        height=max(300, 60 + 24 * (len(rows) + 1)),
        margin=dict(l=80, r=20, t=50, b=40),
    )
    return fig


def priority_heatmap(matrix: pl.DataFrame, value: str = "amount_at_risk") -> go.Figure:
    """Risk band by value band: ``value`` per cell (colour) with the customer counts as text.

    ``matrix``: :func:`workbench.segments.priority_matrix` (risk_band, value_band, customers,
    open_amount, amount_at_risk).
    """
    risks = list(dict.fromkeys(matrix.get_column("risk_band").to_list()))
    values = list(dict.fromkeys(matrix.get_column("value_band").to_list()))[::-1]
    cell = {(r, v): (a, n) for r, v, a, n in matrix.select(
        "risk_band", "value_band", value, "customers").iter_rows()}  # fmt: skip
    z = [[cell.get((r, v), (0.0, 0))[0] for v in values] for r in risks]
    text = [[f"{cell.get((r, v), (0, 0))[1]} customers<br>{cell.get((r, v), (0.0, 0))[0]:,.0f}"
             for v in values] for r in risks]  # fmt: skip
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[f"{v} value" for v in values], y=[f"{r} risk" for r in risks], text=text,
            texttemplate="%{text}", colorscale="OrRd", hovertemplate="%{y}, %{x}: %{z:,.2f}<extra></extra>",
            colorbar={"title": value.replace("_", " ")},
        )  # fmt: skip
    )
    fig.update_layout(title="Priority matrix: risk band by value band",
                      **{**LAYOUT, "margin": dict(l=110, r=20, t=50, b=40)})  # fmt: skip
    return fig


def actions_by(rows: pl.DataFrame, category: str, split: str, title: str) -> go.Figure:
    """Counts of worklist ``rows`` per ``category`` (e.g. collector), stacked by ``split``
    (e.g. channel)."""
    counts = (
        rows.group_by(category, split)
        .len()
        .pivot(on=split, index=category, values="len", sort_columns=True)
        .fill_null(0)
        .sort(category)
    )
    return stacked_bars(counts, category, [c for c in counts.columns if c != category], title, "actions")


def model_vs_baselines(metrics: dict[str, dict[str, float | None]]) -> go.Figure:
    """ROC AUC, average precision, Brier score and top-decile amount capture of the model and
    its baselines (the ``metrics`` of :func:`workbench.model.train_model`'s report)."""
    names = ("roc_auc", "average_precision", "brier", "top_decile_amount_capture")
    fig = go.Figure()
    scored = {who: values for who, values in metrics.items() if isinstance(values, dict)}
    for (who, values), color in zip(scored.items(), PALETTE, strict=False):
        fig.add_trace(
            go.Bar(
                x=[n.replace("_", " ") for n in names], y=[values.get(n) for n in names],
                name=who.replace("_", " "), marker_color=color,
                text=[None if values.get(n) is None else f"{values[n]:.3f}" for n in names],
                textposition="outside",
            )  # fmt: skip
        )
    fig.update_layout(
        barmode="group", title="Model against baselines (out-of-time test; Brier: lower is better)",
        **LAYOUT,
    )  # fmt: skip
    return fig


def calibration_curve(calibration: dict[str, Any]) -> go.Figure:
    """Observed rate against mean predicted probability per bin, with the diagonal."""
    bins = calibration.get("bins", [])
    fig = go.Figure(
        [
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                       line={"dash": "dot", "color": PALETTE[5]}),
            go.Scatter(
                x=[b["mean_predicted"] for b in bins], y=[b["observed_rate"] for b in bins],
                mode="lines+markers", name="model", line={"color": PALETTE[0]},
                marker={"size": [max(6, min(24, b["n"] ** 0.5)) for b in bins]},
                customdata=[b["n"] for b in bins],
                hovertemplate="predicted %{x:.2f}, observed %{y:.2f} (%{customdata} rows)<extra></extra>",
            ),
        ]  # fmt: skip
    )
    ece = calibration.get("expected_calibration_error")
    title = "Calibration" + ("" if ece is None else f" (expected calibration error {ece:.3f})")
    fig.update_layout(title=title, xaxis_title="predicted probability",
                      yaxis_title="observed rate", **LAYOUT)  # fmt: skip
    return fig


def importance_bars(importance: Sequence[dict[str, Any]], top: int = 15) -> go.Figure:
    """Permutation importance (drop of ROC AUC) of the ``top`` features."""
    rows = list(importance)[:top][::-1]
    fig = go.Figure(
        go.Bar(
            x=[r["importance"] for r in rows], y=[r["feature"] for r in rows], orientation="h",
            error_x={"type": "data", "array": [r.get("std", 0) for r in rows]},
            marker_color=PALETTE[0],
        )  # fmt: skip
    )
    fig.update_layout(title="What drives the score (permutation importance, ROC AUC drop)",
                      **{**LAYOUT, "height": 120 + 24 * len(rows)})  # fmt: skip
    return fig


def score_distribution(scores: dict[str, pl.DataFrame]) -> go.Figure:
    """Overlaid histograms of the probability column of each named scores frame (score drift)."""
    fig = go.Figure()
    for (name, frame), color in zip(scores.items(), PALETTE, strict=False):
        fig.add_trace(
            go.Histogram(
                x=frame.get_column("probability").to_list(), name=name, opacity=0.6,
                xbins={"start": 0, "end": 1, "size": 0.05}, histnorm="percent",
                marker_color=color,
            )  # fmt: skip
        )
    fig.update_layout(barmode="overlay", title="Score distribution",
                      xaxis_title="probability still open at the horizon",
                      yaxis_title="% of open invoices", **LAYOUT)  # fmt: skip
    return fig


def report_heading(week: str, as_of: Any, model: Any = None) -> str:
    """The Markdown line under the report title: week, as-of date and model used."""
    line = f"**Week {week}**, as of **{as_of.isoformat()}**."
    if model is not None:
        meta = model.metadata
        line += (
            f" Risk model trained as of {meta.get('as_of')} (horizon {meta.get('horizon_days')} "
            f"days, retrain by {meta.get('retrain_by')})."
        )
    return line


def rolling_origin(results: Sequence[dict[str, Any]], metric: str = "roc_auc") -> go.Figure:
    """``metric`` of the model and its baselines at each rolling origin (cutoff) of the backtest
    (the ``rolling_origin`` list of :func:`workbench.model.train_model`'s report)."""
    fig = go.Figure()
    cutoffs = [r["cutoff"] for r in results]
    names = list(results[0]["metrics"]) if results else []
    for name, color in zip(names, PALETTE, strict=False):
        fig.add_trace(
            go.Scatter(
                x=cutoffs, y=[r["metrics"][name].get(metric) for r in results],
                mode="lines+markers", name=name.replace("_", " "), line={"color": color},
            )  # fmt: skip
        )
    fig.update_layout(title=f"Rolling-origin backtest: {metric.replace('_', ' ')} by cutoff",
                      xaxis_title="cutoff", **LAYOUT)  # fmt: skip
    return fig


def leakage_check(report: dict[str, Any]) -> str:
    """Markdown comparing the random-split and the out-of-time ROC AUC (a leakage alarm: a
    random split much better than the time split means the features see the future, or the
    portfolio drifts)."""
    random_auc, time_auc = report.get("random_split_roc_auc"), report.get("time_split_roc_auc")
    if random_auc is None or time_auc is None:
        return "Leakage alarm: not enough rows to compare the random and the time split."
    gap = random_auc - time_auc
    verdict = (
        "no alarm" if gap < 0.05 else "**alarm**: check the features for information from after the snapshot"
    )
    return (
        f"Leakage alarm: ROC AUC {random_auc:.3f} on a random split against {time_auc:.3f} out of "
        f"time (gap {gap:+.3f}): {verdict}."
    )
