"""The words of the managers' weekly report (issue 13): what changed this week and the three
things to look at, as HTML (every text from the input data escaped).

The report is in English (the managers' language is not yet a policy entry). Numbers are
rounded, with thousands separators and their unit (the currency, days, %, points).

**The things to look at** are chosen by these rules, in this order; the first three that apply
are shown (:data:`RULES`):

1. ``cash_below_forecast``: the cash collected last week is below the 10 %-90 % range of the
   forecast made a week ago (:func:`workbench.report.cash_against_forecast`, verdict
   ``below``): "Cash collected last week, 383,675.56 EUR, was below the forecast made a week
   ago: 643,302.61 EUR expected, 259,627.05 EUR short, under the 10 %-90 % range 408,268.56 EUR
   to 1,119,340.46 EUR.";
2. ``broken_promises``: promises whose deadline passed this week unpaid (:func:`workbench.report.
   promises_due` with status broken): how many, the amount promised, the largest;
3. ``new_over_limit``: customers over their credit limit this week who were not a week ago;
4. ``cash_above_forecast``: the cash collected last week is above that range (verdict
   ``above``): "Cash collected last week, ..., was above the forecast made a week ago: ...
   expected, ... more, over the 10 %-90 % range ... to ...". Cash outside its range is the
   week's biggest cash news: at most two rules come before either cash rule (they cannot both
   apply), so it is always among the three things shown;
5. ``waiting_exposure``: the largest overdue exposure left without an action this week
   (:func:`workbench.reportrisks.waiting_exposures`): why it waits and its next step;
6. ``old_buckets_rise``: the open AR over :data:`OLD_DAYS` days past due rose against last week;
7. ``collector_behind``: the collector with the most actions planned last week not matched by a
   contact done this week (planned last week - done > 0; needs last week's worklist);
8. ``unapplied_cash``: payments without an invoice wait to be allocated;
9. ``old_disputes``: disputes open longer than the last dispute age band's lower bound.
"""

from __future__ import annotations

from html import escape
from typing import Any

import polars as pl

from workbench.policy import DEFAULT_POLICY, Policy
from workbench.report import EFFECT_DAYS

RULES = (
    "cash_below_forecast", "broken_promises", "new_over_limit", "cash_above_forecast",
    "waiting_exposure", "old_buckets_rise", "collector_behind", "unapplied_cash", "old_disputes",
)  # fmt: skip
"""The rules of the things to look at, in priority order (see the module docstring)."""

# Policy entry wanted (issue 13): [report] old_days. Until then, here.
OLD_DAYS = 90
"""Open AR more than this many days past due is "old" (the 91+ buckets)."""

KPI_WORDS = {
    "total_ar": ("Open AR", "money"),
    "overdue_ar": ("Overdue AR", "money"),
    "dso_standard": ("DSO", "days"),
    "cei": ("CEI", "percent"),
}
"""The KPIs said in the summary: label and unit kind."""


def money(value: float | None, currency: str | None) -> str:
    """``1,234,567.00 EUR`` (escaped); ``n/a`` for None."""
    if value is None:
        return "n/a"
    return escape(f"{value:,.2f} {currency or ''}".strip())


def counted(n: int, word: str) -> str:
    """``1 promise``, ``3 promises`` (regular English plural)."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _amount(value: float, kind: str, currency: str | None) -> str:
    if kind == "money":
        return money(value, currency)
    return f"{value:,.1f} days" if kind == "days" else f"{value:,.1f} %"


def kpi_sentence(
    label: str, kind: str, now: float | None, before: float | None, currency: str | None
) -> str:
    """One KPI against last week in words: ``Overdue AR rose 12.0 % to 1,234,567.00 EUR (last
    week 1,102,292.00 EUR).`` Money changes in percent, days in days, CEI in points."""
    if now is None:
        return f"{label} cannot be computed this week."
    if before is None:
        return f"{label} is {_amount(now, kind, currency)} (no figure last week)."
    change = now - before
    if round(change, 2) == 0:
        return f"{label} was unchanged at {_amount(now, kind, currency)}."
    verb = "rose" if change > 0 else "fell"
    if kind == "money":
        size = f" {abs(change) / before:.1%}".replace("%", " %") if before else ""
    elif kind == "days":
        size = f" {abs(change):,.1f} days"
    else:
        size = f" {abs(change):,.1f} points"
    return (
        f"{label} {verb}{size} to {_amount(now, kind, currency)} "
        f"(last week {_amount(before, kind, currency)})."
    )


def kpi_sentences(current: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    """The sentences of :data:`KPI_WORDS` from two :func:`workbench.kpis.portfolio_kpis`."""
    currency = current.get("currency")
    return [
        kpi_sentence(label, kind, current.get(key), previous.get(key), currency)
        for key, (label, kind) in KPI_WORDS.items()
    ]


def old_buckets(policy: Policy = DEFAULT_POLICY, days: int = OLD_DAYS) -> list[str]:
    """The ageing bucket names whose days past due are all above ``days`` (``91-120``,
    ``over 120`` with the default bounds)."""
    names = list(policy.ageing.bucket_names)[1:]
    lowers = [1, *[bound + 1 for bound in policy.ageing.overdue_bounds]]
    return [name for name, lower in zip(names, lowers, strict=False) if lower > days]


def old_ar(ageing: dict[str, float], policy: Policy = DEFAULT_POLICY) -> float:
    """Open AR more than :data:`OLD_DAYS` days past due (currency) of an ageing dict."""
    return round(sum(ageing.get(name) or 0.0 for name in old_buckets(policy)), 2)


def _cash_off(cash: dict[str, Any] | None, verdict: str, currency: str | None) -> str | None:
    """The cash collected last week against the forecast made a week ago (``cash``:
    :func:`workbench.report.cash_against_forecast`), when its verdict is ``verdict`` (``below``
    or ``above`` the 10 %-90 % range); None otherwise or without a forecast."""
    if cash is None or cash.get("verdict") != verdict:
        return None
    gap = money(abs(cash["difference"]), currency)
    gap_word, range_word = ("short", "under") if verdict == "below" else ("more", "over")
    return (
        f"Cash collected last week, {money(cash['collected'], currency)}, was {verdict} the "
        f"forecast made a week ago: {money(cash['expected'], currency)} expected, {gap} "
        f"{gap_word}, {range_word} the 10 %-90 % range {money(cash['low'], currency)} to "
        f"{money(cash['high'], currency)}."
    )


def _broken(broken: pl.DataFrame, currency: str | None) -> str | None:
    if broken.height == 0:
        return None
    top = broken.sort(["amount", "customer_id"], descending=[True, False]).row(0, named=True)
    return (
        f"{counted(broken.height, 'promise')} to pay broken last week, "
        f"{money(broken['amount'].sum(), currency)} promised; the largest: "
        f"{escape(str(top['name']))} ({money(top['amount'], currency)})."
    )


def _over_limit(over: pl.DataFrame, currency: str | None) -> str | None:
    new = over.filter(pl.col("new_this_week"))
    if new.height == 0:
        return None
    top = new.row(0, named=True)
    return (
        f"{counted(new.height, 'customer')} newly over their credit limit, "
        f"{money(new['over_by'].sum(), currency)} over in all; the largest: "
        f"{escape(str(top['name']))}, {money(top['over_by'], currency)} over a limit of "
        f"{money(top['credit_limit'], currency)}."
    )


def _waiting(waiting: pl.DataFrame, currency: str | None) -> str | None:
    if waiting.height == 0:
        return None
    top = waiting.row(0, named=True)
    step = str(top["next_step"] or "no next step").replace("_", " ")
    when = f" from {top['next_date']}" if top["next_date"] is not None else ""
    return (
        f"The largest overdue exposure without an action this week: "
        f"{escape(str(top['customer_name']))}, {money(top['overdue_amount'], currency)} overdue "
        f"({escape(str(top['exclusion']))}); next step: {escape(step)}{when}."
    )


def _old_rise(now: float, before: float, currency: str | None) -> str | None:
    if now <= before:
        return None
    return (
        f"Open AR more than {OLD_DAYS} days past due rose "
        f"{money(now - before, currency)} to {money(now, currency)}."
    )


def _behind(collectors: pl.DataFrame) -> str | None:
    if "planned_last_week" not in collectors.columns:
        return None
    gap = collectors.filter(pl.col("planned_last_week").is_not_null()).with_columns(
        gap=pl.col("planned_last_week") - pl.col("done")
    )
    gap = gap.filter(pl.col("gap") > 0).sort(["gap", "collector"], descending=[True, False])
    if gap.height == 0:
        return None
    top = gap.row(0, named=True)
    return (
        f"{escape(str(top['collector']))} is furthest behind plan: "
        f"{counted(top['done'], 'contact')} done last week for "
        f"{counted(top['planned_last_week'], 'action')} planned."
    )


def _unapplied(unapplied: pl.DataFrame, currency: str | None) -> str | None:
    if unapplied.height == 0:
        return None
    return (
        f"{money(unapplied['unapplied'].sum(), currency)} of unapplied cash from "
        f"{counted(unapplied.height, 'customer')} waits to be allocated to invoices."
    )


def _old_disputes(disputes: pl.DataFrame, currency: str | None) -> str | None:
    last = disputes.row(disputes.height - 1, named=True) if disputes.height else None
    if last is None or not last["disputes"]:
        return None
    return (
        f"{counted(last['disputes'], 'dispute')} open {escape(last['band'])}, "
        f"{money(last['disputed'], currency)} disputed."
    )


def things_to_look_at(
    facts: dict[str, Any], currency: str | None, n: int = 3
) -> list[tuple[str, str]]:
    """The first ``n`` of :data:`RULES` that apply, as (rule, sentence in HTML).

    ``facts``: cash_vs_forecast (:func:`workbench.report.cash_against_forecast`; missing or
    None: the cash rules do not apply), broken (promises broken this week: customer_id, name,
    amount), over_limit
    (:func:`workbench.reportrisks.over_credit_limit`), waiting
    (:func:`workbench.reportrisks.waiting_exposures`), old_now and old_before (:func:`old_ar`
    of this week and last week), collectors (:func:`workbench.report.collector_view`),
    unapplied (:func:`workbench.reportrisks.unapplied_cash`), disputes
    (:func:`workbench.reportrisks.disputes_by_age`).
    """
    cash = facts.get("cash_vs_forecast")
    sentences = {
        "cash_below_forecast": lambda: _cash_off(cash, "below", currency),
        "cash_above_forecast": lambda: _cash_off(cash, "above", currency),
        "broken_promises": lambda: _broken(facts["broken"], currency),
        "new_over_limit": lambda: _over_limit(facts["over_limit"], currency),
        "waiting_exposure": lambda: _waiting(facts["waiting"], currency),
        "old_buckets_rise": lambda: _old_rise(facts["old_now"], facts["old_before"], currency),
        "collector_behind": lambda: _behind(facts["collectors"]),
        "unapplied_cash": lambda: _unapplied(facts["unapplied"], currency),
        "old_disputes": lambda: _old_disputes(facts["disputes"], currency),
    }
    points = []
    for rule in RULES:
        sentence = sentences[rule]()
        if sentence is not None:
            points.append((rule, sentence))
        if len(points) == n:
            break
    return points


def summary_html(
    current: dict[str, Any], previous: dict[str, Any], points: list[tuple[str, str]]
) -> str:
    """The summary at the top of the report: the KPI sentences, then the things to look at as
    a numbered list (HTML; the points are already escaped)."""
    changes = " ".join(escape(sentence) for sentence in kpi_sentences(current, previous))
    if not points:
        listing = "<p>Nothing stands out this week under the report's rules.</p>"
    else:
        items = "".join(f"<li>{sentence}</li>" for _, sentence in points)
        listing = f"<p><b>To look at this week:</b></p><ol>{items}</ol>"
    return f'<div class="report-summary"><p>{changes}</p>{listing}</div>'


def cash_sentence(cash: dict[str, Any], currency: str | None) -> str:
    """Cash collected last week against the forecast made a week ago, in words (HTML)."""
    collected = money(cash["collected"], currency)
    if cash["verdict"] == "no forecast":
        return f"<p>Cash collected last week: {collected} (no forecast was made a week ago).</p>"
    where = {"above": "above", "below": "below", "within": "within"}[cash["verdict"]]
    return (
        f"<p>Cash collected last week: {collected}, against {money(cash['expected'], currency)} "
        f"expected a week ago ({money(cash['difference'], currency)} difference), {where} the "
        f"10 %-90 % range {money(cash['low'], currency)} to {money(cash['high'], currency)}.</p>"
    )


def risk_split_sentence(split: dict[str, Any], currency: str | None) -> str:
    """The amount at risk split overdue / not yet due, in words (HTML)."""
    share = split["not_yet_due_share"]
    part = "" if share is None else f" ({share:.0%} of it)".replace("%", " %")
    return (
        f"<p>Amount at risk: {money(split['total'], currency)}, of which "
        f"{money(split['overdue'], currency)} on overdue invoices and "
        f"{money(split['not_yet_due'], currency)} on invoices not yet due{part}. The amount at "
        f"risk is each open invoice's balance times its probability of still being open at the "
        f"horizon, before customer credits and unapplied cash are set against it.</p>"
    )


def effect_sentence(effect: pl.DataFrame, start: Any, end: Any) -> str:
    """The effect table in words, said to be observational (HTML)."""
    rows = {
        row["group"]: row for row in effect.filter(pl.col("value") == "all").iter_rows(named=True)
    }
    contacted, other = rows.get("all contacted"), rows.get("not contacted")

    def part(row: dict | None, who: str) -> str:
        if row is None or not row["customers"]:
            return f"no {who} customers"
        return f"{row['share']:.0%} of {row['customers']} {who} customers".replace("%", " %")

    return (
        f"<p>Of the customers contacted between {start} (exclusive) and {end}, "
        f"{part(contacted, 'contacted')} paid something within {EFFECT_DAYS} days of the "
        f"contact; {part(other, 'comparable (overdue, not contacted)')} paid within "
        f"{EFFECT_DAYS} days of {start}. "
        f"This is observational: the customers contacted were chosen, so the difference is not "
        f"the effect of the contact.</p>"
    )
