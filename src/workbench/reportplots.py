"""Figures and HTML tables of the managers' weekly report (issue 13).

Tables are plain HTML (every row shown, or the first ``max_rows`` with a visible note saying how
many there are), with human headers and numbers rounded with thousands separators; every text
cell is HTML-escaped. Money is in the reporting currency, shares 0-1 shown as percent.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

import plotly.graph_objects as go
import polars as pl

from workbench.report import EFFECT_DAYS, in_words

PALETTE = ("#1f5f8b", "#3a9e6f", "#7b6fb0", "#8c8c8c")
LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=60), height=400)

KINDS = ("money", "share", "count", "days", "text")
"""How a table column is shown: money (2 decimals), share (0 %), count, days (whole days),
text (escaped)."""

HEADERS = {
    "customer_name": "Customer", "name": "Customer", "collector": "Collector",
    "open_amount": "Open amount", "overdue_amount": "Overdue amount",
    "credit_limit": "Credit limit",
    "over_by": "Over the limit by", "new_this_week": "New this week", "unapplied": "Unapplied cash",
    "payments": "Payments", "oldest": "Oldest payment", "oldest_days": "Oldest (days)",
    "band": "Days open", "disputes": "Disputes",
    "disputed": "Disputed amount", "step": "Step", "since": "Since",
    "proposed": "Proposed this week",
    "exclusion": "Why it waits", "next_step": "Next step", "next_date": "From", "reason": "Reason",
    "planned": "Actions planned this week", "planned_last_week": "Actions planned last week",
    "reported_done": "Reported done on the call sheet",
    "done": "Contacts done last week (all sources)", "done_by_channel": "By channel",
    "cash_collected": "Cash collected last week", "promises_obtained": "Promises obtained",
    "promises_due": "Promises due", "promises_kept": "Kept", "promises_broken": "Broken",
    "group": "Group", "value": "Step or channel", "customers": "Customers",
    "customers_paid": f"Paid within {EFFECT_DAYS} days", "share": "Share paid", "week": "Week",
    "start": "From",
    "end": "To", "expected": "Expected", "low": "Low (10 %)", "high": "High (90 %)",
    "from_promises": "From promises", "from_plans": "From plans",
    "from_open_invoices": "From open invoices", "from_future_invoices": "From future invoices",
    "customer_credit": "Customer credit",
}  # fmt: skip
"""Column code -> header shown in the report's tables."""


MONEY_COLUMNS = frozenset({
    "open_amount", "overdue_amount", "credit_limit", "over_by", "unapplied", "disputed",
    "cash_collected", "expected", "low", "high", "from_promises", "from_plans",
    "from_open_invoices", "from_future_invoices", "customer_credit", "amount", "paid",
})  # fmt: skip
"""Columns shown as money unless told otherwise."""


CODE_COLUMNS = ("step", "next_step", "channel")
"""Code columns shown in words (:func:`workbench.report.in_words`)."""


def header(column: str) -> str:
    """The header of ``column``: :data:`HEADERS`, else the code in words."""
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def cell(value: Any, kind: str) -> str:
    """One value shown as ``kind`` (:data:`KINDS`), HTML-escaped; empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "share":
        return f"{value:.0%}".replace("%", " %")
    if kind in ("count", "days"):
        return f"{value:,.0f}"
    return escape(str(value))


def _kind(frame: pl.DataFrame, column: str, kinds: dict[str, str]) -> str:
    if column in kinds:
        return kinds[column]
    if column in MONEY_COLUMNS:
        return "money"
    if column == "share":
        return "share"
    return "count" if frame.schema[column].is_integer() else "text"


def html_table(
    frame: pl.DataFrame,
    caption: str,
    kinds: dict[str, str] | None = None,
    max_rows: int | None = None,
    currency: str | None = None,
) -> str:
    """``frame`` as an HTML table with ``caption`` (escaped), human headers (:func:`header`,
    money headers followed by the currency) and cells shown by ``kinds`` (column ->
    :data:`KINDS`; else :data:`MONEY_COLUMNS` as money, ``share`` as a share, integers as
    counts, the rest as text; :data:`CODE_COLUMNS` in words). With ``max_rows``, the first rows and
    a note saying how many are not shown. An empty frame is a sentence saying so."""
    kinds = kinds or {}
    codes = [c for c in CODE_COLUMNS if c in frame.columns and frame.schema[c] == pl.String]
    frame = frame.with_columns(in_words(pl.col(c), c) for c in codes)
    if frame.height == 0:
        return f"<p><b>{escape(caption)}</b>: none.</p>"
    shown = frame if max_rows is None else frame.head(max_rows)
    unit = f" ({escape(currency)})" if currency else ""
    heads = "".join(
        f"<th>{escape(header(c))}{unit if _kind(frame, c, kinds) == 'money' else ''}</th>"
        for c in frame.columns
    )
    body = []
    for row in shown.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            kind = _kind(frame, column, kinds)
            align = "left" if kind == "text" else "right"
            cells.append(f'<td style="text-align:{align}">{cell(value, kind)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    note = ""
    if shown.height < frame.height:
        note = f"<p><i>The first {shown.height} of {frame.height} rows are shown.</i></p>"
    return (
        f'<table class="report-table"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"
    )


def forecast_chart(forecast: pl.DataFrame, currency: str | None = None) -> go.Figure:
    """The cash forecast (:func:`workbench.forecast.cash_forecast`): expected cash per week by
    source (stacked bars) and the 10 %-90 % range (a band), weeks labelled by their first day."""
    frame = forecast.sort("week")
    weeks = [f"week {w} ({s})" for w, s in zip(frame["week"], frame["start"], strict=True)]
    fig = go.Figure()
    sources = {
        "from_promises": "promises",
        "from_plans": "payment plans",
        "from_open_invoices": "open invoices",
        "from_future_invoices": "invoices not yet issued",
    }
    for (column, label), color in zip(sources.items(), PALETTE, strict=False):
        fig.add_trace(
            go.Bar(x=weeks, y=frame[column].to_list(), name=f"expected from {label}",
                   marker_color=color, hovertemplate="%{y:,.0f}<extra></extra>")
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=weeks + weeks[::-1],
            y=frame["high"].to_list() + frame["low"].to_list()[::-1],
            fill="toself",
            mode="lines",
            fillcolor="rgba(31,95,139,0.12)",
            line={"width": 0},
            name="10 %-90 % range",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(x=weeks, y=frame["expected"].to_list(), name="expected", mode="lines+markers",
                   line={"color": "#333333", "width": 2},
                   hovertemplate="expected %{y:,.0f}<extra></extra>")
    )  # fmt: skip
    fig.update_layout(
        barmode="stack",
        title="Cash expected in the next 8 weeks, with its 10 %-90 % range",
        yaxis_title=currency or "amount",
        yaxis_tickformat=",.0f",
        **LAYOUT,
    )
    return fig
