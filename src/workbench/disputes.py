"""Disputes as of a date (DESIGN 2.4-2.5): the one definition of an open dispute.

A dispute is open as of ``as_of`` when it was opened on or before ``as_of`` and not resolved by
then (no resolved date, or one after ``as_of``). Balances, features, recommendations and the
report all use :func:`open_disputes`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.portfolio import Portfolio


def open_disputes(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """The disputes open as of ``as_of``: the ``disputes`` columns (dispute_id, invoice_id,
    opened_date, resolved_date, reason, amount in the invoice currency), one row per dispute.
    Empty when the portfolio has no disputes table."""
    resolved = pl.col("resolved_date")
    return portfolio.disputes.filter(
        pl.col("opened_date") <= as_of, resolved.is_null() | (resolved > as_of)
    )


def disputed_invoices(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """invoice_id, dispute_reason (first reason given, by opening date), dispute_opened (first
    opening date), dispute_amount (what the open disputes contest, invoice currency, summed to
    the cent; null when one of them gives no amount: the whole invoice is contested): one row
    per invoice with a dispute open as of ``as_of``."""
    amount = pl.col("amount")
    return (
        open_disputes(portfolio, as_of)
        .sort("opened_date", "dispute_id")
        .group_by("invoice_id")
        .agg(
            dispute_reason=pl.col("reason").drop_nulls().first(),
            dispute_opened=pl.col("opened_date").min(),
            dispute_amount=pl.when(amount.is_null().any()).then(None).otherwise(
                (amount * 100).round(0).sum() / 100
            ),
        )
    )
