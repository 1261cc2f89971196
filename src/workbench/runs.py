"""Computations over runs of a sorted frame, without hashing the key.

Rows sorted by a key (an invoice number, a customer number) form one run per key value. A
cumulative sum within each run, the first row of a run where a flag holds, or the last row of
each run are computed from the neighbouring rows (shift, forward and backward fill): cheaper
than ``over(key)`` or ``group_by(key)``, which hash every key (at 10 million rows, several
seconds). Every function expects the rows sorted by ``key``.
"""

from __future__ import annotations

from datetime import date

import polars as pl


def run_start(key: str) -> pl.Expr:
    """True on the first row of each run of equal ``key`` values."""
    return pl.col(key).ne_missing(pl.col(key).shift(1))


def run_end(key: str) -> pl.Expr:
    """True on the last row of each run of equal ``key`` values."""
    return pl.col(key).ne_missing(pl.col(key).shift(-1))


def within_run_cum_sum(value: pl.Expr | str, key: str) -> pl.Expr:
    """The cumulative sum of ``value`` within each run of ``key``: a global cumulative sum less
    its value before the run (exact for integers)."""
    value = pl.col(value) if isinstance(value, str) else value
    total = value.cum_sum()
    before_run = pl.when(run_start(key)).then(total - value).forward_fill()
    return total - before_run


def key_then_day(key: str, day: str) -> pl.Expr:
    """A UInt64 that sorts rows as (``key``, ``day``) would: ``key`` (a row number, unsigned
    32-bit) in the high half, ``day``'s day number, shifted to be positive, in the low half.
    One integer column sorts faster than two within a plan (10 million movements: about 0.6 s
    against 1.4 s)."""
    days = pl.col(day).cast(pl.Int32).cast(pl.Int64) + 2**31
    return pl.col(key).cast(pl.UInt64) * 2**32 + days.cast(pl.UInt64)


NEVER = date(9999, 12, 31)
"""Marks a run's end while looking back for its first flagged row (no such date in data)."""


def first_in_run(value: str, flag: str, key: str) -> pl.Expr:
    """On every row of a run, the date ``value`` at the first row of the run where ``flag``
    holds; null when it never holds. (The first flagged row's date is spread back to the run's
    start and forward to its end; the runs' ends and starts stop the spreading.)"""
    flagged = pl.col(flag)
    first = flagged & ~(flagged.shift(1).fill_null(False) & ~run_start(key))
    date_ = pl.col(value)
    back = pl.when(first).then(date_).when(run_end(key)).then(pl.lit(NEVER)).backward_fill()
    ahead = pl.when(first).then(date_).when(run_start(key)).then(pl.lit(NEVER)).forward_fill()
    found = pl.when(back != NEVER).then(back).otherwise(ahead)
    return pl.when(found != NEVER).then(found)
