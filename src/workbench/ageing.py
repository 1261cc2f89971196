"""Ageing of open receivables by days past due (DESIGN section 4).

The buckets partition open AR exactly: their amounts (summed in cents) add up to total open AR.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from workbench.balances import money_sum, reporting_balances
from workbench.policy import DEFAULT_POLICY, Ageing, Policy
from workbench.portfolio import Portfolio


def bucket_dtype(bounds: Sequence[int] = DEFAULT_POLICY.ageing.overdue_bounds) -> pl.Enum:
    """The ordered bucket names (``not yet due``, ``1-30``, ..., ``over 120``) as an Enum."""
    return pl.Enum(Ageing(tuple(bounds)).bucket_names)


def ageing_bucket(
    days_past_due: pl.Expr, bounds: Sequence[int] = DEFAULT_POLICY.ageing.overdue_bounds
) -> pl.Expr:
    """The ageing bucket (Enum, ordered) of ``days_past_due`` (days).

    ``not yet due`` for dpd <= 0; then one bucket per upper bound (inclusive, days), e.g.
    ``1-30`` for 1 <= dpd <= 30; the last bucket (``over 120``) is open-ended. Null stays null.
    """
    dtype = bucket_dtype(bounds)
    names = dtype.categories.to_list()
    bucket = pl.when(days_past_due.is_null()).then(None)
    bucket = bucket.when(days_past_due <= 0).then(pl.lit(names[0]))
    for upper, name in zip(bounds, names[1:], strict=False):
        bucket = bucket.when(days_past_due <= upper).then(pl.lit(name))
    return bucket.otherwise(pl.lit(names[-1])).cast(dtype)


def ageing_from_balances(
    balances: pl.LazyFrame | pl.DataFrame, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """Open AR by ageing bucket, from invoice balances.

    Needs is_open, open_balance (currency), days_past_due (days), as :func:`invoice_balances`
    returns them. Returns one row per bucket of ``policy.ageing``, in order, present even when
    empty: bucket (Enum), amount (currency, exact to the cent), invoices (count, Int64).
    """
    dtype = bucket_dtype(policy.ageing.overdue_bounds)
    by_bucket = (
        balances.lazy()
        .filter("is_open")
        .group_by(bucket=ageing_bucket(pl.col("days_past_due"), policy.ageing.overdue_bounds))
        .agg(amount=money_sum(pl.col("open_balance")), invoices=pl.len().cast(pl.Int64))
    )
    return (
        pl.LazyFrame({"bucket": pl.Series(dtype.categories, dtype=dtype)})
        .join(by_bucket, on="bucket", how="left", maintain_order="left")
        .with_columns(pl.col("amount").fill_null(0.0), pl.col("invoices").fill_null(0))
    )


def ageing(portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY) -> pl.LazyFrame:
    """Open AR as of ``as_of`` by ageing bucket, in the reporting currency.

    Nothing dated after ``as_of`` is visible. Columns: bucket (Enum, in order, every bucket
    present), amount (currency), invoices (count). The amounts sum exactly to total open AR.
    """
    return ageing_from_balances(reporting_balances(portfolio, as_of, policy), policy)
