"""Open AR broken down by customer attributes, top exposures and week-over-week changes.

Everything is as of ``as_of`` (nothing dated later is visible); money in the portfolio currency.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from workbench.balances import money_sum, reporting_balances
from workbench.disputes import open_disputes
from workbench.features import customer_features
from workbench.kpis import portfolio_kpis
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status

DIMENSIONS = ("collector", "country", "customer_type", "industry", "strategic")
"""Customer attributes open AR can be broken down by."""


def open_ar_by(
    portfolio: Portfolio,
    as_of: date,
    dimension: str,
    policy: Policy = DEFAULT_POLICY,
    segments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Open AR by ``dimension`` (a customer column, or ``segment`` with ``segments`` given).

    Columns: the dimension (null shown as "(none)"), current_ar, overdue_ar, total_ar (currency),
    customers (with a balance), share (of total AR, 0-1); largest total first.
    """
    balances = reporting_balances(portfolio, as_of, policy).filter(pl.col("is_open"))
    if dimension == "segment":
        if segments is None:
            raise ValueError("segment breakdown needs the segments frame (customer_id, segment)")
        labels = segments.lazy().select("customer_id", pl.col("segment").cast(pl.String))
    elif dimension in DIMENSIONS:
        labels = portfolio.customers.select("customer_id", pl.col(dimension).cast(pl.String))
    else:
        raise ValueError(f"unknown dimension {dimension!r}; choose from {DIMENSIONS} or segment")
    overdue = pl.col("days_past_due") > 0
    return (
        balances.join(labels, on="customer_id", how="left")
        .with_columns(pl.col(dimension).fill_null("(none)"))
        .group_by(dimension)
        .agg(
            current_ar=money_sum(pl.col("open_balance").filter(~overdue)),
            overdue_ar=money_sum(pl.col("open_balance").filter(overdue)),
            total_ar=money_sum(pl.col("open_balance")),
            customers=pl.col("customer_id").n_unique(),
        )
        .with_columns(share=pl.col("total_ar") / pl.col("total_ar").sum())
        .sort(["total_ar", dimension], descending=[True, False])
        .collect()
    )


def top_exposures(
    portfolio: Portfolio, as_of: date, n: int = 15, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The ``n`` customers with the largest open balance as of ``as_of``.

    Columns: customer_id, name, collector, open_balance, overdue_balance (currency), oldest_dpd
    (days), open_invoices, share_settled_late (0-1), credit_limit_use (ratio).
    """
    names = portfolio.customers.select("customer_id", "name", "collector")
    return (
        customer_features(portfolio, as_of, policy)
        .filter(pl.col("open_balance") > 0)
        .join(names, on="customer_id", how="left")
        .select(
            "customer_id",
            "name",
            "collector",
            "open_balance",
            "overdue_balance",
            "oldest_dpd",
            "open_invoices",
            "share_settled_late",
            "credit_limit_use",
        )  # fmt: skip
        .sort(["open_balance", "customer_id"], descending=[True, False])
        .head(n)
        .collect()
    )


def week_over_week(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The KPIs as of ``as_of`` and as of 7 days earlier (each seeing only its own past)."""
    return (
        portfolio_kpis(portfolio, as_of, policy),
        portfolio_kpis(portfolio, as_of - timedelta(days=7), policy),
    )


def open_dispute_list(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Disputes open as of ``as_of`` (opened on or before it, not resolved by it).

    Columns: customer_id, name, collector, invoice_id, opened_date, days_open (days), reason,
    disputed_amount and open_balance (currency); largest open balance first.
    """
    balances = reporting_balances(portfolio, as_of, policy).select(
        "invoice_id", "customer_id", "open_balance"
    )
    return (
        open_disputes(portfolio, as_of)
        .join(balances, on="invoice_id")
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select(
            "customer_id",
            "name",
            "collector",
            "invoice_id",
            "opened_date",
            days_open=(pl.lit(as_of) - pl.col("opened_date")).dt.total_days(),
            reason="reason",
            disputed_amount="amount",
            open_balance="open_balance",
        )  # fmt: skip
        .sort(["open_balance", "invoice_id"], descending=[True, False])
        .collect()
    )


def broken_promise_list(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY, within_days: int = 90
) -> pl.DataFrame:
    """Promises broken as of ``as_of`` whose deadline (promised date + grace) fell in the last
    ``within_days`` days.

    Columns: customer_id, name, collector, promise_date, promised_date, amount (promised,
    currency), paid (paid in the promise window, currency); latest deadline first.
    """
    return (
        promise_status(portfolio, as_of, policy)
        .filter(
            pl.col("status") == "broken",
            pl.col("deadline") > as_of - timedelta(days=within_days),
        )
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select(
            "customer_id", "name", "collector", "promise_date", "promised_date", "amount", "paid"
        )
        .sort(["promised_date", "customer_id"], descending=[True, False])
        .collect()
    )


def behaviour_segments(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Every customer known as of ``as_of`` with its behaviour segment and the features the
    segment rules read (see :mod:`workbench.segments`), plus name and collector."""
    from workbench.segments import SEGMENT_FEATURES, behaviour_segment

    return (
        customer_features(portfolio, as_of, policy)
        .with_columns(segment=behaviour_segment(policy))
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select("customer_id", "name", "collector", "segment", "open_balance", *SEGMENT_FEATURES)
        .sort("customer_id")
        .collect()
    )


def deteriorating_payers(segments: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """The customers of segment ``deteriorating`` (from :func:`behaviour_segments`), largest
    worsening of days late first: customer_id, name, collector, days_late_trend (days),
    mean_days_late (days), share_settled_late (0-1), open_balance (currency)."""
    return (
        segments.filter(pl.col("segment") == "deteriorating")
        .sort(["days_late_trend", "customer_id"], descending=[True, False], nulls_last=True)
        .select(
            "customer_id",
            "name",
            "collector",
            "days_late_trend",
            "mean_days_late",
            "share_settled_late",
            "open_balance",
        )  # fmt: skip
        .head(n)
    )
