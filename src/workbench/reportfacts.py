"""Everything the managers' weekly report shows, computed once (issue 13).

:func:`week_facts` gathers the sections of :mod:`workbench.report` and
:mod:`workbench.reportrisks` as of a date, so the report notebook only displays them and the
summary at its top (:mod:`workbench.reportwords`) reads the same figures as the sections below
it. As-of rule: nothing dated after ``as_of`` is read; money in the reporting currency.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from workbench import report, reportrisks, reportwords
from workbench.breakdowns import week_over_week
from workbench.forecast import cash_forecasts
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.worklist import Worklist


def broken_this_week(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The promises broken this week (:func:`workbench.report.promises_due` with status
    broken): customer_id, name, collector, promised_date, amount (promised, currency), paid;
    largest amount first."""
    return (
        report.promises_due(portfolio, as_of, policy)
        .filter(pl.col("status") == "broken")
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select("customer_id", "name", "collector", "promised_date", "amount", "paid")
        .sort(["amount", "customer_id"], descending=[True, False])
        .collect()
    )


def week_facts(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy,
    worklist: Worklist,
    previous: pl.DataFrame | None = None,
    scores: pl.DataFrame | None = None,
    forecasts: dict[date, pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """The report's figures as of ``as_of`` (``previous``: last week's worklist rows or None;
    ``scores``: the model's, or None for the fallback probability; ``forecasts``:
    :func:`workbench.forecast.cash_forecasts` made at ``as_of - 7`` and ``as_of`` if already
    computed, else computed here).

    Keys: current, previous_kpis (:func:`workbench.kpis.portfolio_kpis` as of as_of and 7 days
    earlier), currency, collected (cash of last week), forecast (this week's cash forecast),
    cash_vs_forecast (:func:`workbench.report.cash_against_forecast`: last week's cash against
    the forecast made a week ago), collectors, effect, effect_window, broken, over_limit,
    unapplied, disputes, pipeline, waiting, split, old_now, old_before, and points (the things
    to look at: :func:`workbench.reportwords.things_to_look_at`).
    """
    current, before = week_over_week(portfolio, as_of, policy)
    week_ago = as_of - timedelta(days=7)
    if forecasts is None or week_ago not in forecasts or as_of not in forecasts:
        forecasts = cash_forecasts(portfolio, [week_ago, as_of], policy)
    collected = report.cash_collected(portfolio, as_of)
    facts: dict[str, Any] = {
        "current": current,
        "previous_kpis": before,
        "currency": current.get("currency"),
        "collected": collected,
        "forecast": forecasts[as_of],
        "cash_vs_forecast": report.cash_against_forecast(collected, forecasts[week_ago]),
        "collectors": report.collector_view(portfolio, as_of, worklist.rows, previous, policy),
        "effect": report.contact_effect(portfolio, as_of, policy),
        "effect_window": report.effect_window(as_of),
        "broken": broken_this_week(portfolio, as_of, policy),
        "over_limit": reportrisks.over_credit_limit(portfolio, as_of, policy),
        "unapplied": reportrisks.unapplied_cash(portfolio, as_of),
        "disputes": reportrisks.disputes_by_age(portfolio, as_of, policy),
        "pipeline": reportrisks.handover_pipeline(portfolio, as_of, worklist.rows, policy),
        "waiting": reportrisks.waiting_exposures(worklist.watch, worklist.excluded),
        "split": report.amount_at_risk_split(portfolio, as_of, policy, scores),
        "old_now": reportwords.old_ar(current["ageing"], policy),
        "old_before": reportwords.old_ar(before["ageing"], policy),
    }
    facts["points"] = reportwords.things_to_look_at(facts, facts["currency"])
    return facts


def last_week_label(as_of: date) -> str:
    """``2026-11-14 to 2026-11-20``: the 7 days ``(as_of - 7, as_of]``."""
    return f"{(as_of - timedelta(days=6)).isoformat()} to {as_of.isoformat()}"
