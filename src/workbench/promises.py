"""Promises to pay as of a date: made, kept, broken or pending (DESIGN section 2.6).

One definition, used by the customer features, the recommendations and the reports.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import money_sum
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


def promise_status(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """One row per promise made on or before ``as_of``, with its status as of that date.

    Columns: promise_id, customer_id, invoice_id, amount (currency), promise_date,
    promised_date, deadline (= promised_date + behaviour.promise_grace_days), paid (currency)
    and status: ``kept`` (paid >= amount - tolerance), ``broken`` (not kept, deadline <
    as_of) or ``pending``. ``paid`` counts the payments dated in [promise_date, deadline] and
    <= as_of that the promise is about: for a promise on an invoice, the payments applied to
    that invoice and the customer's unapplied payments (possibly the promised payment, not yet
    matched); a payment to another invoice does not keep it. For a promise without an invoice,
    every payment of the customer. An unapplied payment counts for one promise only: the one
    with the earliest deadline among those whose window holds it. The promise counts of
    :func:`workbench.features.customer_features` aggregate these rows.
    """
    grace = timedelta(days=policy.behaviour.promise_grace_days)
    tolerance = policy.amounts.open_tolerance
    c = pl.col
    payments = portfolio.payments.filter(c("payment_date") <= as_of).select(
        "customer_id", "payment_id", "payment_date", paid="amount", paid_invoice="invoice_id"
    )
    promises = portfolio.promises.filter(c("promise_date") <= as_of).with_columns(
        deadline=c("promised_date") + grace
    )
    about = (
        c("invoice_id").is_null()
        | c("paid_invoice").is_null()
        | (c("paid_invoice") == c("invoice_id"))
    )
    # an unapplied payment keeps one promise at most: the earliest deadline whose window holds it
    first = c("promise_id") == c("promise_id").first().over("payment_id")
    paid = (
        promises.select("promise_id", "customer_id", "invoice_id", "promise_date", "deadline")
        .join(payments, on="customer_id")
        .filter(c("payment_date").is_between(c("promise_date"), c("deadline")), about)
        .sort("deadline", "promise_id")
        .filter(c("paid_invoice").is_not_null() | first)
        .group_by("promise_id")
        .agg(paid=money_sum(c("paid")))
    )
    return (
        promises.join(paid, on="promise_id", how="left")
        .with_columns(c("paid").fill_null(0.0))
        .select(
            "promise_id",
            "customer_id",
            "invoice_id",
            "amount",
            "promise_date",
            "promised_date",
            "deadline",
            "paid",
        )
        .with_columns(
            status=pl.when(pl.col("paid") >= pl.col("amount") - tolerance)
            .then(pl.lit("kept"))
            .when(pl.col("deadline") < as_of)
            .then(pl.lit("broken"))
            .otherwise(pl.lit("pending"))
        )
    )
