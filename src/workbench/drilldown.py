"""One customer's history as of a date: its invoices and every event around them.

Nothing dated after ``as_of`` is visible. Money in the invoice currency, durations in days.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import invoice_balances
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

EVENT_KINDS = ("invoice", "payment", "unapplied cash", "credit note", "dispute opened",
               "dispute resolved", "promise", "contact", "plan instalment")  # fmt: skip


def customer_invoices(
    portfolio: Portfolio, customer_id: str, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The customer's invoices issued <= as_of with their balances (columns of
    :func:`workbench.balances.invoice_balances`), oldest first."""
    return (
        invoice_balances(portfolio, as_of, policy)
        .filter(pl.col("customer_id") == customer_id)
        .sort("issue_date", "invoice_id")
        .collect()
    )


def customer_events(portfolio: Portfolio, customer_id: str, as_of: date) -> pl.DataFrame:
    """Every event of the customer dated <= as_of, oldest first.

    Columns: date, kind (one of :data:`EVENT_KINDS`), invoice_id (null when not tied to one),
    amount (currency, null when none), detail (text: channel and outcome of a contact, reason of
    a dispute, promised date of a promise).
    """
    mine = pl.col("customer_id") == customer_id
    invoices = portfolio.invoices.filter(mine)
    ids = invoices.select("invoice_id")
    text = pl.lit(None, pl.String)
    frames = [
        invoices.select(
            pl.col("issue_date").alias("date"), kind=pl.lit("invoice"), invoice_id="invoice_id",
            amount="amount", detail=pl.format("due {}", pl.col("due_date")),
        ),
        portfolio.payments.filter(mine).select(
            pl.col("payment_date").alias("date"),
            kind=pl.when(pl.col("invoice_id").is_null()).then(pl.lit("unapplied cash"))
            .otherwise(pl.lit("payment")),
            invoice_id="invoice_id", amount="amount", detail=text,
        ),
        portfolio.credit_notes.join(ids, on="invoice_id").select(
            "date", kind=pl.lit("credit note"), invoice_id="invoice_id", amount="amount",
            detail=text,
        ),
        portfolio.disputes.join(ids, on="invoice_id").select(
            pl.col("opened_date").alias("date"), kind=pl.lit("dispute opened"),
            invoice_id="invoice_id", amount="amount", detail="reason",
        ),
        portfolio.disputes.join(ids, on="invoice_id").filter(pl.col("resolved_date").is_not_null())
        .select(
            pl.col("resolved_date").alias("date"), kind=pl.lit("dispute resolved"),
            invoice_id="invoice_id", amount="amount", detail="reason",
        ),
        portfolio.promises.filter(mine).select(
            pl.col("promise_date").alias("date"), kind=pl.lit("promise"), invoice_id="invoice_id",
            amount="amount", detail=pl.format("to pay by {}", pl.col("promised_date")),
        ),
        portfolio.contacts.filter(mine).select(
            pl.col("contact_date").alias("date"), kind=pl.lit("contact"), invoice_id="invoice_id",
            amount=pl.lit(None, pl.Float64),
            detail=pl.concat_str(
                "channel", pl.col("tone").fill_null(""), pl.col("outcome").fill_null(""),
                separator=" ",
            ).str.strip_chars(),
        ),
        portfolio.payment_plans.filter(mine).select(
            pl.col("instalment_date").alias("date"), kind=pl.lit("plan instalment"),
            invoice_id=text, amount="amount", detail="plan_id",
        ),
    ]  # fmt: skip
    kind_order = {kind: i for i, kind in enumerate(EVENT_KINDS)}
    return (
        pl.concat(frames)
        .filter(pl.col("date") <= as_of)
        .with_columns(order=pl.col("kind").replace_strict(kind_order, return_dtype=pl.Int8))
        .sort("date", "order", "invoice_id", nulls_last=True)
        .drop("order")
        .collect()
    )
