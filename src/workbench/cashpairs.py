"""Unapplied payments taken as one invoice's payment (DESIGN 2.6): one definition, used by the
shelters of the recommendation (:mod:`workbench.shelters`) and by the plans
(:mod:`workbench.plans`: such a payment pays its invoice, not a plan naming other invoices).

A payment without an invoice whose amount is, to the cent, the open balance as of ``as_of`` of
one of its customer's open invoices that is not disputed (overdue or not, handed over or not) is
that invoice's payment, not yet applied. The k-th such payment of an amount, by date then
payment_id, pairs with the k-th oldest invoice of that balance (by due date, then invoice_id),
so that two payments of the same amount pair with two invoices, never twice with one.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import cents, in_reporting_currency
from workbench.portfolio import Portfolio

INVOICE_ORDER = ["due_date", "invoice_id"]
"""Oldest first: the k-th payment of an amount pairs with the k-th invoice in this order."""


def unapplied_payments(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """The payments without an invoice dated on or before ``as_of``, every column of the
    payments table, amount in the reporting currency
    (:func:`workbench.balances.in_reporting_currency`)."""
    c = pl.col
    return in_reporting_currency(
        portfolio.payments.filter(c("payment_date") <= as_of, c("invoice_id").is_null()),
        portfolio,
        as_of,
    )


def paired_payments(
    invoices: pl.LazyFrame, open_amount: str, unapplied: pl.LazyFrame
) -> pl.LazyFrame:
    """payment_id, invoice_id, match_cents: each payment of ``unapplied`` (customer_id,
    payment_date, payment_id, amount: :func:`unapplied_payments`, or some of them) paired with
    the invoice of ``invoices`` whose open balance it equals to the cent (module docstring).

    ``invoices`` has customer_id, invoice_id, due_date, is_open, disputed and ``open_amount``
    (the open balance as of the same date, reporting currency); match_cents is that balance in
    cents. A payment pairs with one invoice at most, an invoice with one payment at most."""
    c = pl.col
    same = ["customer_id", "match_cents"]
    payments = unapplied.select(
        "customer_id", "payment_date", "payment_id", match_cents=cents(c("amount"))
    )
    # only the invoices of a balance some payment of their customer has are ranked (the rank
    # among those of one balance is the same): a few rows, not every open invoice
    candidates = (
        invoices.filter(c("is_open"), ~c("disputed").fill_null(False))
        .select("customer_id", "invoice_id", "due_date", match_cents=cents(c(open_amount)))
        .join(payments.select(same), on=same, how="semi")
    )
    rank = pl.int_range(pl.len()).over(same, order_by=INVOICE_ORDER).alias("k")
    paid_rank = pl.int_range(pl.len()).over(same, order_by=["payment_date", "payment_id"])
    return (
        candidates.with_columns(rank)
        .join(payments.with_columns(paid_rank.alias("k")), on=[*same, "k"])
        .select("payment_id", "invoice_id", "match_cents")
    )
