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


METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "average_precision": "Average precision",
    "brier": "Brier score",
    "top_decile_amount_capture": "Top-decile amount capture",
}
"""Readable names of the model metrics."""

SCORER_LABELS = {
    "model": "model",
    "baseline_dpd": "days past due alone",
    "baseline_customer_late_rate": "customer's late share alone",
}
"""The model and its baselines in words (:func:`interval_table`)."""

IN_A_SENTENCE = {"roc_auc": "ROC AUC", "average_precision": "average precision", "brier": "Brier score"}

LOWER_IS_BETTER = frozenset({"brier"})


def _bar_errors(
    values: dict[str, float | None], bounds: dict[str, Any], names: Sequence[str]
) -> dict[str, Any] | None:
    """Asymmetric error bars from ``bounds`` (metric -> {low, high}) around the bar values;
    None (no bar) for a metric without an interval."""
    plus, minus = [], []
    for n in names:
        bound = bounds.get(n) or {}
        value, low, high = values.get(n), bound.get("low"), bound.get("high")
        known = value is not None and low is not None and high is not None
        plus.append(round(max(high - value, 0.0), 6) if known else None)
        minus.append(round(max(value - low, 0.0), 6) if known else None)
    if all(p is None for p in plus):
        return None
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
            "color": "#444444", "thickness": 1.5, "width": 4}  # fmt: skip


def interval_words(intervals: dict[str, Any]) -> str:
    """What the intervals are, in one sentence ("95 % interval from 1,000 resamples of
    customers")."""
    level = f"{intervals.get('level', 0.95) * 100:g}"
    return (
        f"Error bars and ranges in brackets: {level} % interval from "
        f"{intervals.get('resamples', 0):,} resamples of customers (a drawn customer brings all "
        "its invoices), so a difference is \"better\" or \"worse\" only when its whole interval "
        "is on one side of 0, and a \"tie\" when the interval holds 0."
    )


def model_vs_baselines(
    metrics: dict[str, dict[str, float | None]], intervals: dict[str, Any] | None = None
) -> go.Figure:
    """ROC AUC, average precision, Brier score and top-decile amount capture of the model and
    its baselines (the ``metrics`` of :func:`workbench.model.train_model`'s report); with
    ``intervals`` (:func:`workbench.bootstrap.cluster_bootstrap`), the interval of ROC AUC,
    average precision and Brier score as error bars."""
    names = ("roc_auc", "average_precision", "brier", "top_decile_amount_capture")
    fig = go.Figure()
    scored = {who: values for who, values in metrics.items() if isinstance(values, dict)}
    bounds = (intervals or {}).get("metrics") or {}
    for (who, values), color in zip(scored.items(), PALETTE, strict=False):
        fig.add_trace(
            go.Bar(
                x=[n.replace("_", " ") for n in names], y=[values.get(n) for n in names],
                name=who.replace("_", " "), marker_color=color,
                text=[None if values.get(n) is None else f"{values[n]:.3f}" for n in names],
                textposition="outside", error_y=_bar_errors(values, bounds.get(who) or {}, names),
            )  # fmt: skip
        )
    span = f", {(intervals or {}).get('level', 0.95) * 100:g} % intervals" if bounds else ""
    title = f"Model against baselines (out-of-time test{span}; Brier: lower is better)"
    fig.update_layout(barmode="group", title=title, **LAYOUT)
    return fig


def _signed(value: float) -> str:
    """``value`` with its sign and 3 decimals; a tiny negative value stays "-0.000" (the side of
    0 decides the verdict), an exact zero is "+0.000"."""
    return f"{value + 0.0:+.3f}"


def interval_verdict(metric: str, low: float | None, high: float | None) -> str:
    """"better" when the whole interval of the difference model - baseline is on the model's
    side of 0 (above for ROC AUC and average precision, below for Brier), "worse" when it is
    wholly on the other side, "tie" when it holds 0; "n/a" without an interval."""
    if low is None or high is None:
        return "n/a"
    if metric in LOWER_IS_BETTER:
        low, high = -high, -low
    return "better" if low > 0 else "worse" if high < 0 else "tie"


def _verdict_text(verdicts: dict[str, str]) -> str:
    """The verdicts of one comparison in words ("better on ROC AUC and average precision,
    tie on Brier score")."""
    if len(set(verdicts.values())) == 1:
        verdict = next(iter(verdicts.values()))
        return "no interval" if verdict == "n/a" else f"{verdict} on all {len(verdicts)}"
    parts = []
    for verdict in ("better", "tie", "worse", "n/a"):
        names = [IN_A_SENTENCE.get(m, m.replace("_", " ")) for m, v in verdicts.items() if v == verdict]
        if names:
            joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            parts.append(f"{'no interval' if verdict == 'n/a' else verdict} on {joined}")
    return ", ".join(parts)


def interval_table(intervals: dict[str, Any]) -> go.Figure:
    """The paired differences model - baseline of :func:`workbench.bootstrap.cluster_bootstrap`
    as a table: one row per baseline, per metric the difference and its interval ("+0.082
    (+0.051 to +0.113)"), and a verdict in words: better, tie (the interval holds 0) or worse
    for each metric (Brier: lower is better, so a negative difference is better)."""
    metrics = ("roc_auc", "average_precision", "brier")
    reference = intervals.get("reference", "model")
    rows: list[list[str]] = []
    for other, differences in (intervals.get("differences") or {}).items():
        cells = [escaped_text(f"{SCORER_LABELS.get(reference, reference.replace('_', ' '))} - "
                              f"{SCORER_LABELS.get(other, other.replace('_', ' '))}")]  # fmt: skip
        verdicts = {}
        for m in metrics:
            d = differences.get(m) or {}
            estimate, low, high = d.get("estimate"), d.get("low"), d.get("high")
            cells.append(
                "n/a" if estimate is None or low is None or high is None
                else f"{_signed(estimate)} ({_signed(low)} to {_signed(high)})"
            )  # fmt: skip
            verdicts[m] = interval_verdict(m, low, high)
        cells.append(_verdict_text(verdicts))
        rows.append(cells)
    headers = ["Comparison", *(METRIC_LABELS[m] for m in metrics), "Verdict"]
    headers[3] += " (lower is better)"
    level = f"{intervals.get('level', 0.95) * 100:g}"
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in headers]
    fig = go.Figure(
        go.Table(
            columnwidth=[1.6, 1.5, 1.5, 1.5, 2.2],
            header={"values": headers, "fill_color": PALETTE[0], "font": {"color": "white"}, "align": "left"},
            cells={"values": columns, "align": "left", "height": 30},
        )  # fmt: skip
    )
    fig.update_layout(
        title=f"{SCORER_LABELS.get(reference, reference.replace('_', ' ')).capitalize()} minus each "
        f"baseline, with the {level} % interval over "
        f"{intervals.get('resamples', 0):,} resamples of customers",
        margin=dict(l=10, r=10, t=40, b=10), height=130 + 80 * max(len(rows), 1),
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


CALIBRATION_WORDS = {
    "sigmoid": "Platt scaling (a logistic curve of the trees' log-odds: it keeps their ranking)",
    "isotonic": "isotonic regression (a step function of the trees' log-odds)",
}


def selection_words(report: dict[str, Any]) -> str:
    """Markdown saying which settings the forward-chained cross-validation chose, on how many
    rows, the calibration, and the features left out (empty, constant or duplicate)."""
    selection = report.get("selection")
    if not selection:
        return ""
    chosen, grid = selection["chosen"], selection["grid"]
    dropped = report.get("dropped_features") or {}
    left_out = [
        f"{', '.join(names)} ({why})"
        for why, names in (
            ("missing on every row", dropped.get("empty", [])),
            ("one value on every row", dropped.get("constant", [])),
            ("copies of another feature", list(dropped.get("duplicate", {}))),
        )
        if names
    ]
    lines = [
        f"Settings chosen by forward-chained cross-validation over {len(selection['blocks'])} "
        f"blocks of weeks ({selection['search_rows']:,} rows), by out-of-fold log loss among "
        f"{len(selection['scores'])} combinations: trees of depth {chosen['max_depth']}, at "
        f"least {chosen['min_samples_leaf']} rows per leaf, {chosen['max_iter']} iterations at "
        f"learning rate {grid['learning_rate']}.",
        f"Calibration: {CALIBRATION_WORDS.get(selection['calibration_method'], selection['calibration_method'])}, "
        "fitted on the out-of-fold predictions.",
        "Features left out: " + ("; ".join(left_out) if left_out else "none") + ".",
    ]
    return "\n\n".join(lines)
