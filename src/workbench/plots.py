"""Plot builders: each returns a plotly figure from package outputs; notebooks only show them.

Figures take polars frames or the dicts of :mod:`workbench.kpis`; money is in the portfolio
currency, durations in days. What a figure shows is rounded and carries its unit (money: 2
decimals, thousands separators and the currency; days: 1 decimal and "days"; shares: %), hover
texts included, and its titles, axes, legends and headers are words, not column codes
(:func:`header`, :func:`display_frame`). Tables show every row, in pages of at most
:data:`PAGE_ROWS` rows the reader flips with buttons. :func:`use_offline_renderer` makes
notebooks request nothing outside the machine: executed by papermill, self-contained HTML
(plotly.js embedded once, no MathJax or CDN requests); in JupyterLab, plotly's own mimetype
(rendered by the local extension) with the same offline HTML as a fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.colors import sample_colorscale
from plotly.io._base_renderers import MimetypeRenderer, PlotlyRenderer

from workbench.phrases import CHANNEL_WORDS, STEP_WORDS

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

AGEING_COLORS = ("#7d95a8", "#f2c94c", "#f2994a", "#e2623b", "#c33a2f", "#8b1a1a")
"""The ageing buckets' colours, from calm to alarming: "not yet due" blue-grey, then the overdue
buckets (1-30, 31-60, 61-90, 91-120, over 120 with the default bounds) from yellow through orange
to dark red. Every ageing figure takes its colours from :func:`ageing_colors`."""

PAGE_ROWS = 30
"""Rows per page of a table figure; a longer table is split into pages with buttons."""

MAX_PAGES = 20
"""Pages a table figure holds at most; beyond, the title says how many rows are left out."""

TABLE_WIDTH_PX = 1000
"""The width of a table figure (pixels, fixed so that its rows wrap as its height assumes: a
JupyterLab output area or the report's body; a narrower window scrolls sideways)."""

HEADERS: dict[str, str] = {
    "customer_id": "Customer ID", "customer_name": "Customer", "name": "Customer",
    "collector": "Collector", "country": "Country", "customer_type": "Customer type",
    "segment": "Payment behaviour", "open_balance": "Open balance",
    "overdue_balance": "Overdue balance", "oldest_dpd": "Oldest days past due",
    "open_invoices": "Open invoices", "share_settled_late": "Share settled late",
    "credit_limit_use": "Credit limit used", "current_ar": "Not yet due",
    "overdue_ar": "Overdue", "total_ar": "Open AR", "customers": "Customers",
    "share": "Share of open AR", "days_late_trend": "Days late: change",
    "mean_days_late": "Mean days late", "kind": "Event", "invoice_id": "Invoice",
    "amount": "Amount", "detail": "Detail", "promise_date": "Promise made on",
    "promised_date": "Promised for", "paid": "Paid", "opened_date": "Opened on",
    "days_open": "Days open", "reason": "Reason", "disputed_amount": "Disputed amount",
    "risk_band": "Risk band", "value_band": "Value band", "open_amount": "Open amount",
    "amount_at_risk": "Amount at risk", "item": "Item", "value": "Value",
    "channel": "Channel", "tone": "Tone", "action": "Action", "step": "Step",
    "calls_per_week": "Calls per week", "phone_actions": "Phone actions", "calls": "Calls",
    "automated": "Moved to automated sending", "actions": "Actions", "rank": "Rank",
    "overdue_amount": "Overdue amount", "customer_credit": "Customer credit",
    "probability": "Probability still open", "exclusion": "Why no action",
    "next_step": "Next step", "next_date": "Next step from", "change": "Change",
    "action_before": "Action now", "action_after": "Action in the what-if",
    "channel_before": "Channel now", "channel_after": "Channel in the what-if",
    "tone_before": "Tone now", "tone_after": "Tone in the what-if", "from": "From",
    "to": "To", "weeks": "Weeks", "contacts_sent": "Contacts sent",
    "customer_facing_actions": "Customer-facing actions", "customer_facing": "Customer-facing",
    "handovers": "Hand-overs", "amount_chased": "Amount chased",
    "max_messages_per_customer": "Most messages to one customer", "violations": "Violations",
    "week": "Week", "excluded": "Excluded", "customers_contacted": "Customers contacted",
    "rule": "Rule", "contact_date": "Contact date",
    "expected_amount_at_risk": "Expected amount at risk", "max_probability": "Highest probability",
    "risk_reasons": "Risk reasons", "archetype": "Archetype", "recovered": "Recovered",
    "date": "Date", "contact": "Contact", "phone": "Phone", "email": "E-mail",
    "last_contact": "Last contact", "last_outcome": "Last outcome", "promise": "Promise",
    "invoices": "Invoices", "as_of": "As of", "currency": "Currency",
    "dso_standard": "DSO (standard)", "dso_countback": "DSO (countback)",
    "best_possible_dso": "Best possible DSO", "add": "Avg days delinquent", "cei": "CEI",
    "credit_sales": "Credit sales", "opening_ar": "Opening AR",
    "roc_auc": "ROC AUC", "average_precision": "Average precision", "brier": "Brier score",
    "top_decile_amount_capture": "Top-decile amount capture",
}  # fmt: skip
"""Column code -> English header of the figures and displayed tables (columns not listed:
the English words of :mod:`workbench.phrases` for steps and channels, else the code with spaces,
capitalised)."""

MONEY_COLUMNS = frozenset({
    "open_balance", "overdue_balance", "current_ar", "overdue_ar", "total_ar", "amount", "paid",
    "disputed_amount", "open_amount", "overdue_amount", "customer_credit", "amount_at_risk",
    "amount_chased", "expected_amount_at_risk", "credit_sales", "opening_ar", "credit_limit",
})  # fmt: skip
DAYS_COLUMNS = frozenset({
    "oldest_dpd", "days_late_trend", "mean_days_late", "days_open", "dso_standard",
    "dso_countback", "best_possible_dso", "add", "weighted_days_to_pay", "weighted_days_late",
    "days_past_due", "period_days",
})  # fmt: skip
SHARE_COLUMNS = frozenset({
    "share", "share_settled_late", "credit_limit_use", "probability", "max_probability",
    "recovered", "top_decile_amount_capture",
})  # fmt: skip
PERCENT_COLUMNS = frozenset({"cei"})
"""Columns already in percent points (0-100)."""

CODE_COLUMNS = frozenset({
    "channel", "tone", "step", "next_step", "segment", "last_outcome", "risk_band", "value_band",
    "action_before", "action_after", "channel_before", "channel_after", "tone_before",
    "tone_after", "kind", "archetype", "expected",
})  # fmt: skip
"""Columns holding codes (``registered_letter``, ``chronic_late``): shown as words."""


def header(column: str) -> str:
    """The English header of a column code (``open_balance`` -> "Open balance")."""
    if column in HEADERS:
        return HEADERS[column]
    words = STEP_WORDS["en"].get(column) or CHANNEL_WORDS["en"].get(column)
    text = words or column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


CODE_WORDS = {"none": "internal"}
"""Codes whose English words are not in :mod:`workbench.phrases` (the channel ``none`` of the
internal steps: nothing is sent to the customer)."""


def words(code: str) -> str:
    """A code value in words (``registered_letter`` -> "registered letter", a step code -> its
    English words in :mod:`workbench.phrases`)."""
    known = {**CODE_WORDS, **CHANNEL_WORDS["en"], **STEP_WORDS["en"]}
    return known.get(code) or code.replace("_", " ")


FEATURE_WORDS = {
    "amount_log": "invoice amount (log)",
    "open_share": "share of the invoice still open",
    "terms_days": "payment terms (days)",
    "days_past_due": "days past due",
    "invoice_payments": "payments on the invoice",
    "invoice_contacts": "contacts about the invoice",
    "invoice_promises": "promises to pay the invoice",
    "customer_customer_credit": "customer's credit (beyond its invoices)",
    "customer_type": "customer type",
    "customer_strategic": "strategic customer",
    "customer_terms": "customer's payment terms",
    "snapshot_month": "month of the snapshot",
}  # fmt: skip
"""Model features whose words are not their code with spaces (see :func:`feature_words`)."""


def feature_words(name: str) -> str:
    """A model feature (:data:`workbench.snapshots.MODEL_FEATURES`) in words:
    ``customer_unapplied_cash`` -> "customer's unapplied cash", ``days_past_due`` -> "days past
    due" (the ``customer_`` prefix said as the customer's, underscores as spaces)."""
    if name in FEATURE_WORDS:
        return FEATURE_WORDS[name]
    if name.startswith("customer_"):
        return "customer's " + name.removeprefix("customer_").replace("_", " ")
    return name.replace("_", " ")


def in_words(codes: pl.Expr) -> pl.Expr:
    """:func:`words` of every value of ``codes`` (a string column of codes)."""
    mapping = {**CODE_WORDS, **CHANNEL_WORDS["en"], **STEP_WORDS["en"]}
    return codes.replace(mapping).str.replace_all("_", " ", literal=True)


def column_kind(column: str, dtype: pl.DataType, d3_format: str | None = None) -> str:
    """How a column is shown: money, days, share, percent, count, number or text (a d3
    ``format`` of the old ``formats`` argument hints at shares and money)."""
    if not dtype.is_numeric():
        return "text"
    if column in MONEY_COLUMNS:
        return "money"
    if column in DAYS_COLUMNS or "days" in column or column.endswith("_dpd"):
        return "whole days" if dtype.is_integer() else "days"
    if column in SHARE_COLUMNS or (d3_format or "").endswith("%") or column.startswith("share"):
        return "share"
    if column in PERCENT_COLUMNS:
        return "percent"
    if d3_format and d3_format.endswith("f"):
        return "money"
    if column.endswith(("_amount", "_balance", "_ar")) or column.startswith("amount"):
        return "money"
    return "count" if dtype.is_integer() else "number"


def fixed(value: pl.Expr, decimals: int) -> pl.Expr:
    """``value`` as text rounded to ``decimals`` with thousands separators ("1,234.57");
    null stays null."""
    scaled = (value.abs() * 10**decimals).round().cast(pl.Int64)
    whole = (
        (scaled // 10**decimals).cast(pl.String).str.reverse()
        .str.replace_all(r"(\d{3})", "${1},").str.reverse().str.strip_chars_start(",")
    )  # fmt: skip
    parts = [pl.when((value < 0) & (scaled > 0)).then(pl.lit("-")).otherwise(pl.lit("")), whole]
    if decimals:
        parts += [pl.lit("."), (scaled % 10**decimals).cast(pl.String).str.zfill(decimals)]
    return pl.concat_str(parts)


def shown_value(value: pl.Expr, kind: str, currency: str | None = None) -> pl.Expr:
    """``value`` as shown for its ``kind`` (:func:`column_kind`): money "1,234.57 EUR", days
    "35.8 days", shares (fractions) and percents "35.8 %", counts "1,234", numbers 2 decimals;
    text and dates as they are; null as an empty cell."""
    unit = f" {currency}" if currency else ""
    shown = {
        "money": fixed(value, 2) + pl.lit(unit),
        "days": fixed(value, 1) + pl.lit(" days"),
        "whole days": fixed(value, 0) + pl.lit(" days"),
        "share": fixed(value * 100, 1) + pl.lit(" %"),
        "percent": fixed(value, 1) + pl.lit(" %"),
        "count": fixed(value, 0),
        "number": fixed(value, 2),
    }.get(kind, value.cast(pl.String))
    return shown.fill_null("")


def display_frame(
    frame: pl.DataFrame,
    currency: str | None = None,
    formats: dict[str, str] | None = None,
    *,
    html: bool = False,
) -> pl.DataFrame:
    """``frame`` ready to display: numbers rounded with their unit (:func:`shown_value`, money
    in ``currency``), code columns in words and headers in words (:func:`header`, unique); with
    ``html`` (for plotly, which renders tags), text from the data HTML-escaped. Every
    column becomes text (null: empty); the order of rows and columns is kept.
    ``formats`` (column -> d3 format) only hints at a column's kind."""
    formats = formats or {}
    unit = (escaped_text(currency) if html else currency) if currency else None
    columns = []
    for (name, dtype), label in zip(frame.schema.items(), headers(frame.columns), strict=True):
        kind = column_kind(name, dtype, formats.get(name))
        value = pl.col(name)
        if kind == "text":
            value = _as_text(value, dtype)
            value = in_words(value) if name in CODE_COLUMNS else value
            value = escaped(value) if html else value
        columns.append(shown_value(value, kind, unit).alias(label))
    return frame.select(columns)


def _as_text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A column of any type as text: lists joined by ", ", structs as JSON."""
    if isinstance(dtype, pl.List | pl.Array):
        return value.cast(pl.List(pl.String)).list.join(", ")
    if isinstance(dtype, pl.Struct):
        return value.struct.json_encode()
    return value.cast(pl.String)


def headers(columns: Sequence[str]) -> list[str]:
    """:func:`header` of each column, made unique: a header two columns share gets the code in
    words in brackets ("Customer (customer name)")."""
    labels = [header(c) for c in columns]
    return [
        f"{label} ({c.replace('_', ' ')})" if labels.count(label) > 1 else label
        for c, label in zip(columns, labels, strict=True)
    ]


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


class OfflineMimetypeRenderer(MimetypeRenderer):
    """For JupyterLab: plotly's mimetype (drawn by the jupyterlab-plotly extension installed with
    plotly, nothing fetched) and, for front ends without it (classic notebook, an HTML export),
    the offline HTML of :class:`OfflineHtmlRenderer`. Unlike plotly's ``notebook_connected``
    renderer, no plotly.js from a CDN; unlike its ``notebook`` renderer, no MathJax from one."""

    def __init__(self) -> None:
        self.mimetype = PlotlyRenderer(config={"displaylogo": False})
        self.html = OfflineHtmlRenderer()

    def to_mimebundle(self, fig_dict: dict) -> dict[str, Any]:
        return {**self.html.to_mimebundle(fig_dict), **self.mimetype.to_mimebundle(fig_dict)}


def use_offline_renderer(interactive: bool) -> None:
    """Select the plotly renderer for a notebook; neither requests anything outside the machine.

    Interactive (JupyterLab): :class:`OfflineMimetypeRenderer`. Otherwise (papermill): figures as
    self-contained HTML, plotly.js embedded once, so the exported report works offline.
    """
    if interactive:
        pio.renderers["workbench_interactive"] = OfflineMimetypeRenderer()
        pio.renderers.default = "workbench_interactive"
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
    """``value`` to the cent with thousands separators and the currency ("1,234.50 EUR")."""
    return "n/a" if value is None else f"{value:,.2f} {currency or ''}".strip()


def _unit(currency: str | None) -> str:
    """ " EUR" (a space and the currency, HTML-escaped) or nothing."""
    return f" {escaped_text(currency)}" if currency else ""


def ageing_colors(buckets: Sequence[str]) -> list[str]:
    """The colour of each ageing bucket, from calm to alarming: the first ("not yet due")
    blue-grey, the overdue ones from yellow to dark red in bucket order (:data:`AGEING_COLORS`
    with the default five overdue buckets; another number of buckets samples the same scale)."""
    overdue = len(buckets) - 1
    if overdue <= 0:
        return list(AGEING_COLORS[:1])
    warm = AGEING_COLORS[1:]
    if overdue == len(warm):
        return [AGEING_COLORS[0], *warm]
    scale = [[i / (len(warm) - 1), c] for i, c in enumerate(warm)]
    points = [i / max(overdue - 1, 1) for i in range(overdue)]
    sampled = sample_colorscale(scale, points, colortype="rgb")
    return [AGEING_COLORS[0], *(_hex(c) for c in sampled)]


def _hex(rgb: str) -> str:
    """ "rgb(242, 201, 76)" as "#f2c94c"."""
    values = [round(float(v)) for v in rgb[rgb.index("(") + 1 : -1].split(",")]
    return "#" + "".join(f"{v:02x}" for v in values)


TILE_FORMATS = {
    "money": (",.2f", 22),
    "days": (",.1f", 26),
    "percent": (",.1f", 26),
}
"""d3 format and font size of a tile's number per kind."""


TILE_COLORS = {"good": "#3a9e6f", "bad": "#b8405e", "same": "#8a8a8a"}
"""Colour of a tile's change: better, worse, unchanged (neutral grey)."""


def tile_delta(
    kind: str, now: float | None, before: float | None, rise_is_good: bool, currency: str | None
) -> tuple[str, str] | None:
    """A KPI tile's week-over-week change as (text, colour), None without both values.

    The change is rounded as the tile shows it (money to the cent with the currency, days to
    0.1 day, CEI to 0.1 percentage point, said in points): ``▲ 1,234.56 EUR``, ``▼ 0.5 pts``,
    one arrow and no sign; green when better, red when worse (``rise_is_good`` says which way
    is better); a change that rounds to 0 is ``= 0.0 days`` in grey, neither good nor bad."""
    if now is None or before is None:
        return None
    decimals = 2 if kind == "money" else 1
    change = round(now - before, decimals)
    unit = {"money": _unit(currency), "days": " days", "percent": " pts"}[kind]
    size = f"{abs(change):,.{decimals}f}{unit}"
    if change == 0:
        return f"= {size}", TILE_COLORS["same"]
    better = (change > 0) == rise_is_good
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {size}", TILE_COLORS["good" if better else "bad"]


def kpi_tiles(current: dict[str, Any], previous: dict[str, Any] | None = None) -> go.Figure:
    """KPI tiles (number and week-over-week change, :func:`tile_delta`) from two
    :func:`portfolio_kpis` results, in two rows of three: money to the cent with the currency,
    days and % to 1 decimal; the change below each number."""
    fig = go.Figure()
    currency = current.get("currency")
    for i, (key, (label, kind, rise_is_good)) in enumerate(TILES.items()):
        value = current.get(key)
        reference = None if previous is None else previous.get(key)
        valueformat, size = TILE_FORMATS[kind]
        suffix = _unit(currency) if kind == "money" else " days" if kind == "days" else " %"
        row, column = divmod(i, 3)
        bottom = 0.52 - row * 0.52
        fig.add_trace(
            go.Indicator(
                mode="number",
                value=value if value is not None else float("nan"),
                number={"valueformat": valueformat, "suffix": suffix, "font": {"size": size}},
                title={"text": label, "font": {"size": 14}},
                domain={
                    "x": [column / 3 + 0.01, (column + 1) / 3 - 0.01],
                    "y": [bottom + 0.1, 1.0 - row * 0.52],
                },
            )  # fmt: skip
        )
        delta = tile_delta(kind, value, reference, rise_is_good, currency)
        if delta is not None:
            fig.add_annotation(
                text=delta[0], font={"color": delta[1], "size": 15}, showarrow=False,
                x=(column + 0.5) / 3, y=bottom + 0.06, xref="paper", yref="paper",
                name=key,
            )  # fmt: skip
    fig.update_layout(template="plotly_white", height=300, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def ageing_bars(ageing: dict[str, float], currency: str | None = None) -> go.Figure:
    """Open AR by ageing bucket (bucket order kept), coloured from calm ("not yet due") to
    alarming (the oldest bucket) by :func:`ageing_colors`; amounts to the cent with the
    currency on the bars and in the hover."""
    names, amounts = list(ageing), list(ageing.values())
    unit = _unit(currency)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=amounts,
            marker_color=ageing_colors(names),
            text=[_money(a, currency) for a in amounts],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:,.2f}}{unit}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Open AR by ageing bucket",
        yaxis_title=f"open AR ({currency})" if currency else "open AR",
        xaxis_title="days past due", **LAYOUT,
    )  # fmt: skip
    return fig


def dso_trend(series: pl.DataFrame) -> go.Figure:
    """DSO standard and countback, best possible DSO and ADD over time (days, 1 decimal).

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
                hovertemplate=f"{label}, %{{x|%Y-%m-%d}}: %{{y:,.1f}} days<extra></extra>",
            )
        )
    fig.update_layout(title="DSO, best possible DSO and ADD", yaxis_title="days", **LAYOUT)
    return fig


def cei_trend(series: pl.DataFrame) -> go.Figure:
    """Collection effectiveness index over time (percent, 1 decimal)."""
    fig = go.Figure(
        go.Scatter(
            x=series.get_column("as_of").to_list(),
            y=series.get_column("cei").to_list(),
            mode="lines+markers",
            line={"color": PALETTE[2], "width": 2},
            name="CEI",
            hovertemplate="CEI, %{x|%Y-%m-%d}: %{y:,.1f} %<extra></extra>",
        )
    )
    fig.update_layout(title="Collection effectiveness index", yaxis_title="%", **LAYOUT)
    return fig


def stacked_bars(
    frame: pl.DataFrame,
    category: str,
    values: Sequence[str],
    title: str,
    unit: str = "",
    *,
    currency: str | None = None,
) -> go.Figure:
    """One bar per ``category`` value (codes in words), stacked over the ``values`` columns
    (legend: their headers). With ``currency`` the values are money (hover to the cent with the
    currency); else counts of ``unit`` when it is given, numbers to 2 decimals otherwise."""
    fig = go.Figure()
    column = pl.col(category).cast(pl.String)
    labels = frame.select(escaped(in_words(column) if category in CODE_COLUMNS else column))
    if currency:
        number, axis = f"%{{y:,.2f}}{_unit(currency)}", currency
    else:
        number, axis = ("%{y:,.0f}" if unit else "%{y:,.2f}") + (f" {unit}" if unit else ""), unit
    for name, color in zip(values, PALETTE, strict=False):
        legend = header(name)
        fig.add_trace(
            go.Bar(
                x=labels.to_series().to_list(),
                y=frame.get_column(name).to_list(),
                name=legend,
                marker_color=color,
                hovertemplate=f"%{{x}}, {escaped_text(legend)}: {number}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack", title=title, yaxis_title=axis, xaxis_title=header(category), **LAYOUT
    )
    return fig


LINE_PX = 16
"""Height of one line of text in a table cell (12 px font)."""
CHAR_PX = 6.0
"""Mean width of a character in a table cell (12 px font), to estimate wrapping."""
WRAP_SLACK = 1.15
"""Words do not break: a wrapped text takes this much more room than its characters."""
CELL_PADDING_PX = 6
"""Vertical padding of a table cell around its lines."""
ROW_MIN_PX, HEADER_MIN_PX = 20, 28
"""Heights of a one-line row and of the header (plotly's defaults)."""


def _column_widths(shown: pl.DataFrame) -> list[float]:
    """Relative widths of the columns of a display frame, in characters: the longest cell
    (at most 45) or the longest word of the header, whichever is wider, plus 3 of padding, so a
    short column ("Rank", "friendly") is not clipped next to a long one."""
    if not shown.width:
        return []
    longest = shown.select(pl.col(pl.String).str.len_chars().max().fill_null(0)).row(0)
    return [
        float(max(min(n, 45), *(len(w) + 1 for w in h.split()), 4) + 3)
        for n, h in zip(longest, shown.columns, strict=True)
    ]


def _lines(texts: pl.Expr, characters_per_line: float) -> pl.Expr:
    """Lines a text cell wraps to (at least 1)."""
    return (texts.str.len_chars() * WRAP_SLACK / characters_per_line).ceil().clip(1).fill_null(1)


def table_height(
    shown: pl.DataFrame, widths: Sequence[float], width_px: int = TABLE_WIDTH_PX
) -> int:
    """Pixels a table of the display frame ``shown`` needs to show every row without an inner
    scroll when drawn ``width_px`` wide (header and rows wrapped by their columns' ``widths``);
    measured in Chromium (DejaVu Sans, as wide as Verdana) 1-12 % above the rows' real height."""
    if not shown.width:
        return HEADER_MIN_PX
    per_line = [max(width_px * w / sum(widths) / CHAR_PX - 2, 1.0) for w in widths]
    lines = [_lines(pl.col(c), n) for c, n in zip(shown.columns, per_line, strict=True)]
    rows = shown.select(
        (pl.max_horizontal(lines) * LINE_PX + CELL_PADDING_PX).clip(ROW_MIN_PX).sum()
    ).item()
    head = max(-(-len(c) * WRAP_SLACK // n) for c, n in zip(shown.columns, per_line, strict=True))
    return int((rows or 0) + max(head * LINE_PX + CELL_PADDING_PX, HEADER_MIN_PX)) + 8


def page_title(title: str, first: int, last: int, total: int, source: str = "") -> str:
    """The title of one page of a table: "Title: rows 31-60 of 112" (and where every row is)."""
    where = f"; every row in {source}" if source else ""
    return f"{title}: rows {first:,}-{last:,} of {total:,}{where}"


def table(
    frame: pl.DataFrame,
    title: str,
    formats: dict[str, str] | None = None,
    *,
    currency: str | None = None,
    page_rows: int = PAGE_ROWS,
    source: str = "",
) -> go.Figure:
    """A plotly table of ``frame`` shown by :func:`display_frame` (numbers rounded with their
    unit, money in ``currency``; ``formats``: column -> d3 format, a hint at the kind), tall
    enough for every row. Above ``page_rows`` rows the table is split into pages: one table per
    page, buttons to flip them, the title saying which rows are shown ("rows 1-30 of 112") and,
    with ``source`` (a file name), where every row is. At most :data:`MAX_PAGES` pages; the
    title of the last says how many rows are left out."""
    shown = display_frame(frame, currency, formats, html=True)
    widths = _column_widths(shown)
    starts = list(range(0, max(shown.height, 1), page_rows))[:MAX_PAGES]
    fig = go.Figure()
    pages = []
    for start in starts:
        page = shown.slice(start, page_rows)
        fig.add_trace(_table_trace(page, widths, visible=start == 0))
        last = start + page.height
        text = (
            title if len(starts) == 1 else page_title(title, start + 1, last, shown.height, source)
        )
        if start == starts[-1] and last < shown.height:
            text += f" ({shown.height - last:,} more rows not shown)"
        height = table_height(page, widths, TABLE_WIDTH_PX - 20)
        pages.append((f"rows {start + 1:,}-{last:,}", text, height))
    top = 40 if len(pages) == 1 else 80
    fig.update_layout(
        title={"text": pages[0][1]}, margin=dict(l=10, r=10, t=top, b=10),
        height=top + 10 + pages[0][2], width=TABLE_WIDTH_PX, autosize=False,
    )  # fmt: skip
    if len(pages) > 1:
        fig.update_layout(updatemenus=[_page_buttons(pages, top)])
    return fig


def _table_trace(page: pl.DataFrame, widths: list[float], visible: bool) -> go.Table:
    """One page of a table: bold headers on the palette's blue, rows in alternating colours."""
    return go.Table(
        columnwidth=widths,
        header={
            "values": [f"<b>{escaped_text(c)}</b>" for c in page.columns],
            "fill_color": PALETTE[0],
            "font": {"color": "white"},
            "align": "left",
        },
        cells={
            "values": [page.get_column(c).to_list() for c in page.columns],
            "align": "left",
            "fill_color": [_zebra(page.height)] * page.width,
        },
        visible=visible,
    )


def _page_buttons(pages: list[tuple[str, str, int]], top: int) -> dict[str, Any]:
    """Buttons (a drop-down above 8 pages) showing one page of a table: its trace, title and
    height."""
    buttons = [
        {"label": label, "method": "update",
         "args": [{"visible": [j == i for j in range(len(pages))]},
                  {"title.text": text, "height": top + 10 + height}]}
        for i, (label, text, height) in enumerate(pages)
    ]  # fmt: skip
    return {
        "type": "buttons" if len(pages) <= 8 else "dropdown",
        "direction": "right" if len(pages) <= 8 else "down",
        "buttons": buttons,
        "active": 0,
        "showactive": True,
        "x": 0,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"b": 6},
        "font": {"size": 11},
    }


def _zebra(rows: int) -> list[str]:
    """Alternating row colours of a table page."""
    return (["white", "#f2f5f8"] * (rows // 2 + 1))[:rows]


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
    invoices: pl.DataFrame,
    events: pl.DataFrame,
    as_of: Any,
    title: str = "",
    *,
    currency: str | None = None,
) -> go.Figure:
    """One customer's invoices as bars from issue to settlement (or as_of while open), due dates
    as ticks, and its events (payments, promises, disputes, contacts, ...) as markers.

    ``invoices``: :func:`workbench.drilldown.customer_invoices`; ``events``:
    :func:`workbench.drilldown.customer_events`. Events not tied to an invoice sit on a
    "customer" row. Hover: open balances to the cent (with ``currency`` when given), event
    amounts likewise.
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
                hovertemplate=f"%{{y}}: open %{{customdata:,.2f}}{_unit(currency)}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=invoices.get_column("due_date").to_list(),
            y=rows,
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": "black"},
            name="due date",
            hovertemplate="%{y} due %{x|%Y-%m-%d}<extra></extra>",
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
                customdata=part.select(_event_text(currency)).to_series().to_list(),
                hovertemplate=f"{kind} %{{x|%Y-%m-%d}} %{{customdata}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=escaped_text(title) if title else "Invoice timeline",
        xaxis={"type": "date"},
        yaxis={
            "categoryorder": "array",
            "categoryarray": ["customer", *rows],
            "autorange": "reversed",
        },
        barmode="overlay",
        template="plotly_white",
        height=max(300, 60 + 24 * (len(rows) + 1)),
        margin=dict(l=80, r=20, t=50, b=40),
    )
    return fig


def _event_text(currency: str | None) -> pl.Expr:
    """The hover text of an event: its amount to the cent with the currency (when it has one)
    and its detail (HTML-escaped)."""
    amount = pl.when(pl.col("amount").is_not_null()).then(
        fixed(pl.col("amount"), 2) + pl.lit(_unit(currency) + " ")
    )
    return pl.concat_str(
        [amount.otherwise(pl.lit("")), escaped(pl.col("detail").cast(pl.String)).fill_null("")]
    )


def priority_heatmap(
    matrix: pl.DataFrame, value: str = "amount_at_risk", *, currency: str | None = None
) -> go.Figure:
    """Risk band by value band: ``value`` per cell (colour, money to the cent with ``currency``)
    with the customer counts as text.

    ``matrix``: :func:`workbench.segments.priority_matrix` (risk_band, value_band, customers,
    open_amount, amount_at_risk).
    """
    risks = list(dict.fromkeys(matrix.get_column("risk_band").to_list()))
    values = list(dict.fromkeys(matrix.get_column("value_band").to_list()))[::-1]
    cell = {(r, v): (a, n) for r, v, a, n in matrix.select(
        "risk_band", "value_band", value, "customers").iter_rows()}  # fmt: skip
    z = [[cell.get((r, v), (0.0, 0))[0] for v in values] for r in risks]
    text = [[f"{cell.get((r, v), (0, 0))[1]} customers<br>"
             f"{_money(cell.get((r, v), (0.0, 0))[0], None)}{_unit(currency)}"
             for v in values] for r in risks]  # fmt: skip
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{v} value" for v in values],
            y=[f"{r} risk" for r in risks],
            text=text,
            texttemplate="%{text}",
            colorscale="OrRd",
            hovertemplate=f"%{{y}}, %{{x}}: %{{z:,.2f}}{_unit(currency)}<extra></extra>",
            colorbar={
                "title": header(value) + (f" ({escaped_text(currency)})" if currency else "")
            },
        )  # fmt: skip
    )
    fig.update_layout(title="Priority matrix: risk band by value band",
                      **{**LAYOUT, "margin": dict(l=110, r=20, t=50, b=40)})  # fmt: skip
    return fig


def actions_by(rows: pl.DataFrame, category: str, split: str, title: str) -> go.Figure:
    """Counts of worklist ``rows`` per ``category`` (e.g. collector), stacked by ``split``
    (e.g. channel; its codes in words in the legend)."""
    counts = (
        rows.with_columns(in_words(pl.col(split).cast(pl.String)))
        .group_by(category, split)
        .len()
        .pivot(on=split, index=category, values="len", sort_columns=True)
        .fill_null(0)
        .sort(category)
    )
    return stacked_bars(
        counts, category, [c for c in counts.columns if c != category], title, "actions"
    )


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

IN_A_SENTENCE = {
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "brier": "Brier score",
}

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
        'its invoices), so a difference is "better" or "worse" only when its whole interval '
        'is on one side of 0, and a "tie" when the interval holds 0.'
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
                x=[METRIC_LABELS[n] for n in names],
                y=[values.get(n) for n in names],
                name=SCORER_LABELS.get(who, who.replace("_", " ")),
                marker_color=color,
                hovertemplate="%{fullData.name}, %{x}: %{y:.3f}<extra></extra>",
                text=[None if values.get(n) is None else f"{values[n]:.3f}" for n in names],
                textposition="outside",
                error_y=_bar_errors(values, bounds.get(who) or {}, names),
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
    """ "better" when the whole interval of the difference model - baseline is on the model's
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
        names = [
            IN_A_SENTENCE.get(m, m.replace("_", " ")) for m, v in verdicts.items() if v == verdict
        ]
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
    columns = (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in headers]
    )
    fig = go.Figure(
        go.Table(
            columnwidth=[1.6, 1.5, 1.5, 1.5, 2.2],
            header={
                "values": headers,
                "fill_color": PALETTE[0],
                "font": {"color": "white"},
                "align": "left",
            },
            cells={"values": columns, "align": "left", "height": 30},
        )  # fmt: skip
    )
    fig.update_layout(
        title=f"{SCORER_LABELS.get(reference, reference.replace('_', ' ')).capitalize()} minus "
        "each "
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
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="perfect",
                line={"dash": "dot", "color": PALETTE[5]},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[b["mean_predicted"] for b in bins],
                y=[b["observed_rate"] for b in bins],
                mode="lines+markers",
                name="model",
                line={"color": PALETTE[0]},
                marker={"size": [max(6, min(24, b["n"] ** 0.5)) for b in bins]},
                customdata=[b["n"] for b in bins],
                hovertemplate="predicted %{x:.2f}, observed %{y:.2f} (%{customdata:,} rows)"
                "<extra></extra>",
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
            x=[r["importance"] for r in rows],
            y=[header(r["feature"]) for r in rows],
            orientation="h",
            error_x={"type": "data", "array": [r.get("std", 0) for r in rows]},
            marker_color=PALETTE[0],
            hovertemplate="%{y}: ROC AUC drop %{x:.4f}<extra></extra>",
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
                x=frame.get_column("probability").to_list(),
                name=name,
                opacity=0.6,
                xbins={"start": 0, "end": 1, "size": 0.05},
                histnorm="percent",
                marker_color=color,
                hovertemplate=f"{escaped_text(name)}: %{{y:.1f}} % of open invoices<extra></extra>",
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
                x=cutoffs,
                y=[r["metrics"][name].get(metric) for r in results],
                mode="lines+markers",
                name=SCORER_LABELS.get(name, name.replace("_", " ")),
                line={"color": color},
                hovertemplate="%{fullData.name}, cutoff %{x}: %{y:.3f}<extra></extra>",
            )  # fmt: skip
        )
    label = METRIC_LABELS.get(metric, metric.replace("_", " "))
    fig.update_layout(title=f"Rolling-origin backtest: {label} by cutoff", yaxis_title=label,
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
        "no alarm"
        if gap < 0.05
        else "**alarm**: check the features for information from after the snapshot"
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
    method = selection["calibration_method"]
    dropped = report.get("dropped_features") or {}
    copies = [
        f"{feature_words(name)} (a copy of {feature_words(kept)})"
        for name, kept in (dropped.get("duplicate") or {}).items()
    ]
    left_out = [
        f"{', '.join(feature_words(name) for name in names)} ({why})"
        for why, names in (
            ("missing on every row", dropped.get("empty", [])),
            ("one value on every row", dropped.get("constant", [])),
        )
        if names
    ] + copies
    lines = [
        f"Settings chosen by forward-chained cross-validation over {len(selection['blocks'])} "
        f"blocks of weeks ({selection['search_rows']:,} rows), by out-of-fold log loss among "
        f"{len(selection['scores'])} combinations: trees of depth {chosen['max_depth']}, at "
        f"least {chosen['min_samples_leaf']} rows per leaf, {chosen['max_iter']} iterations at "
        f"learning rate {grid['learning_rate']}.",
        f"Calibration: {CALIBRATION_WORDS.get(method, method)}, "
        "fitted on the out-of-fold predictions.",
        "Features left out: " + ("; ".join(left_out) if left_out else "none") + ".",
    ]
    return "\n\n".join(lines)


def model_words(path: Any, model: Any = None, folder: Any = None) -> str:
    """Markdown saying which risk model the priorities use: the saved model at ``path`` (its
    training date, horizon and retrain date; the weekly run's when it comes from its models
    ``folder``), or, without ``model``, the documented fallback probabilities (and that no
    usable model was found in ``folder``)."""
    if model is None:
        where = f" (none usable as of this date in `{folder}`)" if folder else ""
        return f"No saved risk model{where}: priorities use the documented fallback probabilities."
    meta = model.metadata
    origin = (
        ", the weekly run's model: the actions agree with its exports"
        if folder is not None and str(path).startswith(str(folder))
        else ""
    )
    return (
        f"Priorities use the risk model `{path}` (trained as of {meta.get('as_of')}, horizon "
        f"{meta.get('horizon_days')} days, retrain by {meta.get('retrain_by')}){origin}."
    )
