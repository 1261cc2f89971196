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
    every payment of the customer. The promise counts of
    :func:`workbench.features.customer_features` aggregate these rows.
    """
    grace = timedelta(days=policy.behaviour.promise_grace_days)
    tolerance = policy.amounts.open_tolerance
    payments = portfolio.payments.filter(pl.col("payment_date") <= as_of).select(
        "customer_id", "payment_date", paid="amount", paid_invoice="invoice_id"
    )
    in_window = pl.col("payment_date").is_between(pl.col("promise_date"), pl.col("deadline"))
    about = (
        pl.col("invoice_id").is_null()
        | pl.col("paid_invoice").is_null()
        | (pl.col("paid_invoice") == pl.col("invoice_id"))
    )
    return (
        portfolio.promises.filter(pl.col("promise_date") <= as_of)
        .with_columns(deadline=pl.col("promised_date") + grace)
        .join(payments, on="customer_id", how="left")
        .group_by(
            "promise_id",
            "customer_id",
            "invoice_id",
            "amount",
            "promise_date",
            "promised_date",
            "deadline",
        )  # fmt: skip
        .agg(paid=money_sum(pl.col("paid").filter(in_window & about.fill_null(False))))
        .with_columns(
            status=pl.when(pl.col("paid") >= pl.col("amount") - tolerance)
            .then(pl.lit("kept"))
            .when(pl.col("deadline") < as_of)
            .then(pl.lit("broken"))
            .otherwise(pl.lit("pending"))
        )
    )
