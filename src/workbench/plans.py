"""Payment plans as of a date (DESIGN 2.7): one definition of a plan's status.

Used by the customer features (missed instalments, active plan) and by the shelters of the
recommendation (:mod:`workbench.shelters`).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import cents
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


def plan_status(portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY) -> pl.LazyFrame:
    """One row per plan known as of ``as_of``.

    A plan is known from its agreed_date (its first instalment date when agreed_date is null)
    and its instalments are its agreed schedule. An instalment is missed when its date +
    behaviour.plan_grace_days < as_of and the plan's instalments up to it (cumulated) exceed, by
    more than the tolerance, the customer's payments dated from the first instalment date -
    plan_grace_days to as_of. A plan is active from its first instalment to its last instalment +
    plan_grace_days (and from its agreement when that comes first).

    Columns: plan_id, customer_id, agreed (date), first, last (instalment dates), total
    (currency), missed (count of missed instalments), active (bool), on_track (active and
    nothing missed), next_instalment (first instalment dated after as_of, null if none),
    invoice_ids (sorted list of the invoices named on its rows, empty when none).
    """
    grace = timedelta(days=policy.behaviour.plan_grace_days)
    tolerance_cents = round(policy.amounts.open_tolerance * 100)
    c = pl.col
    rows = portfolio.payment_plans.with_columns(
        first=c("instalment_date").min().over("plan_id"),
        last=c("instalment_date").max().over("plan_id"),
        due_cents=cents(c("amount")).cum_sum().over("plan_id", order_by="instalment_date"),
    ).with_columns(agreed=pl.coalesce(c("agreed_date").min().over("plan_id"), c("first")))
    rows = rows.filter(c("agreed") <= as_of)
    payments = portfolio.payments.filter(c("payment_date") <= as_of)
    paid = (
        rows.select("plan_id", "customer_id", "first")
        .unique()
        .join(payments.select("customer_id", "payment_date", "amount"), on="customer_id")
        .filter(c("payment_date") >= c("first") - grace)
        .group_by("plan_id")
        .agg(paid_cents=cents(c("amount")).sum())
    )
    missed = (c("instalment_date") + grace < as_of) & (
        c("due_cents") - c("paid_cents").fill_null(0) > tolerance_cents
    )
    return (
        rows.join(paid, on="plan_id", how="left")
        .group_by("plan_id", "customer_id", "agreed", "first", "last")
        .agg(
            total=(cents(c("amount")).sum() / 100).round(2),
            missed=missed.sum().cast(pl.Int64),
            next_instalment=c("instalment_date").filter(c("instalment_date") > as_of).min(),
            invoice_ids=c("invoice_id").drop_nulls().unique().sort(),
        )
        .with_columns(
            active=(pl.min_horizontal("first", "agreed") <= as_of)
            & (pl.lit(as_of) <= c("last") + grace)
        )
        .with_columns(on_track=c("active") & (c("missed") == 0))
    )
