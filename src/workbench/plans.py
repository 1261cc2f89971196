"""Payment plans as of a date (DESIGN 2.7): one definition of a plan's status.

Used by the customer features (missed instalments, active plan) and by the shelters of the
recommendation (:mod:`workbench.shelters`).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import cents, reporting_balances
from workbench.cashpairs import paired_payments, unapplied_payments
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


def plan_status(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    paired: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per plan known as of ``as_of``.

    A plan is known from its agreed_date (its first instalment date when agreed_date is null)
    and its instalments are its agreed schedule. An instalment is missed when its date +
    behaviour.plan_grace_days < as_of and the plan's instalments up to it (cumulated) exceed, by
    more than the tolerance, the payments of the plan (:func:`plan_payments`) dated from the
    first instalment date - plan_grace_days to as_of. A plan is active from its first
    instalment to its last instalment + plan_grace_days (and from its agreement when that comes
    first).

    Columns: plan_id, customer_id, agreed (date), first, last (instalment dates), total
    (currency), missed (count of missed instalments), first_missed (date of the first missed
    instalment, null if none), arrears (what the missed instalments leave unpaid: the plan's
    instalments due to the last missed one less its payments, currency; null if none missed),
    active (bool), on_track (active and nothing missed), next_instalment (first instalment
    dated after as_of, null if none), invoice_ids (sorted list of the invoices named on its
    rows, empty when none), payment_ids (the payments that pay it, :func:`plan_payments`;
    empty when none).

    ``paired``: the unapplied payments taken as an invoice's payment as of ``as_of``
    (:func:`unapplied_pairs`), when the caller has them; else computed here.
    """
    grace = timedelta(days=policy.behaviour.plan_grace_days)
    tolerance_cents = round(policy.amounts.open_tolerance * 100)
    c = pl.col
    rows = _plan_rows(portfolio, as_of)
    if paired is None:
        paired = unapplied_pairs(portfolio, reporting_balances(portfolio, as_of, policy), as_of)
    paid = (
        plan_payments(rows, portfolio, as_of, grace, paired)
        .group_by("plan_id")
        .agg(paid_cents=cents(c("amount")).sum(), payment_ids=c("payment_id"))
    )
    behind = c("due_cents") - c("paid_cents").fill_null(0)  # cents due to date not yet paid
    missed = (c("instalment_date") + grace < as_of) & (behind > tolerance_cents)
    return (
        rows.join(paid, on="plan_id", how="left")
        .group_by("plan_id", "customer_id", "agreed", "first", "last")
        .agg(
            total=(cents(c("amount")).sum() / 100).round(2),
            missed=missed.sum().cast(pl.Int64),
            first_missed=c("instalment_date").filter(missed).min(),
            arrears=(behind.filter(missed).max() / 100).round(2),
            next_instalment=c("instalment_date").filter(c("instalment_date") > as_of).min(),
            invoice_ids=c("invoice_id").drop_nulls().unique().sort(),
            payment_ids=c("payment_ids").first().fill_null([]),
        )
        .with_columns(
            active=(pl.min_horizontal("first", "agreed") <= as_of)
            & (pl.lit(as_of) <= c("last") + grace)
        )
        .with_columns(on_track=c("active") & (c("missed") == 0))
    )


def superseded_promises(status: pl.LazyFrame, portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """promise_id of the broken promises of ``status`` (:func:`workbench.promises.promise_status`
    rows) that a payment plan replaced: a plan agreed on or after the promise was made (and on
    or before ``as_of``) naming the promise's invoice, or naming none (it covers the customer's
    overdue invoices); for a promise without an invoice, any plan of the customer so agreed.
    A renegotiated debt is followed by its plan (missed instalments escalate), not by the
    promise it replaced."""
    c = pl.col
    plans = _plan_rows(portfolio, as_of).select(
        "customer_id", "agreed", plan_invoice="invoice_id"
    )
    return (
        status.filter(c("status") == "broken")
        .select("promise_id", "customer_id", "invoice_id", "promise_date")
        .join(plans, on="customer_id")
        .filter(
            c("agreed") >= c("promise_date"),
            c("plan_invoice").is_null()
            | c("invoice_id").is_null()
            | (c("plan_invoice") == c("invoice_id")),
        )
        .select("promise_id")
        .unique()
    )


def _plan_rows(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """The instalment rows of the plans known as of ``as_of``, with first and last (instalment
    dates), due_cents (the plan's instalments cumulated up to the row, cents) and agreed (its
    agreed_date, else its first instalment date; <= as_of)."""
    c = pl.col
    rows = portfolio.payment_plans.with_columns(
        first=c("instalment_date").min().over("plan_id"),
        last=c("instalment_date").max().over("plan_id"),
        due_cents=cents(c("amount")).cum_sum().over("plan_id", order_by="instalment_date"),
    ).with_columns(agreed=pl.coalesce(c("agreed_date").min().over("plan_id"), c("first")))
    return rows.filter(c("agreed") <= as_of)


def unapplied_pairs(
    portfolio: Portfolio, balances: pl.LazyFrame, as_of: date, open_amount: str = "open_balance"
) -> pl.LazyFrame:
    """payment_id, invoice_id, match_cents: the unapplied payments of ``portfolio`` dated on or
    before ``as_of`` taken as an invoice's payment (:mod:`workbench.cashpairs`), from
    ``balances`` (the invoices as of ``as_of``, with ``open_amount`` in the reporting currency:
    :func:`workbench.balances.reporting_balances` or the worklist's balances)."""
    return paired_payments(balances, open_amount, unapplied_payments(portfolio, as_of))


def plan_payments(
    rows: pl.LazyFrame, portfolio: Portfolio, as_of: date, grace: timedelta, paired: pl.LazyFrame
) -> pl.LazyFrame:
    """Which payment pays which plan: plan_id, payment_id, amount (currency), one row per
    payment dated on or before ``as_of`` that pays one of the plans of ``rows`` (plan
    instalment rows with plan_id, customer_id, invoice_id, first, agreed).

    A payment of the customer dated on or after a plan's first instalment - ``grace`` is about
    the plan when it is applied to an invoice the plan names, or unapplied (possibly the
    instalment, not yet matched), or when the plan names no invoice. A payment to another
    invoice does not pay a plan: an instalment is not "kept" by the customer paying its other
    bills; nor does an unapplied payment of ``paired`` (:func:`unapplied_pairs`) paired with an
    invoice the plan does not name: it pays that invoice. A payment about several plans pays
    one: the plan agreed most recently on or before the payment's date (a renegotiated plan
    replaces the one before), else the first agreed after it; then by plan_id."""
    c = pl.col
    plans = rows.group_by("plan_id").agg(
        c("customer_id").first(),
        c("first").first(),
        c("agreed").first(),
        names=c("invoice_id").drop_nulls().unique(),
    )
    payments = portfolio.payments.filter(c("payment_date") <= as_of).select(
        "customer_id", "payment_id", "payment_date", "amount", paid_invoice="invoice_id"
    )
    # the invoice a payment is about: the one it is applied to, else the one it pays exactly
    paying = pl.coalesce("paid_invoice", "paired_invoice")
    about = paying.is_null() | (c("names").list.len() == 0) | c("names").list.contains(paying)
    agreed_before = c("agreed") <= c("payment_date")
    return (
        plans.join(payments, on="customer_id")
        .filter(c("payment_date") >= c("first") - grace)
        .join(
            paired.select("payment_id", paired_invoice="invoice_id"), on="payment_id", how="left"
        )
        .filter(about)
        .sort(
            "payment_id", agreed_before, pl.when(agreed_before).then(c("agreed")), "agreed",
            "plan_id", descending=[False, True, True, False, False], nulls_last=True,
        )  # fmt: skip
        .unique("payment_id", keep="first", maintain_order=True)
        .select("plan_id", "payment_id", "amount")
    )
