"""Computations over sorted runs (workbench.runs) against the same computed by group."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.runs import first_in_run, key_then_day, run_end, run_start, within_run_cum_sum


def test_hand_worked_runs():
    frame = pl.DataFrame(
        {
            "key": [1, 1, 1, 2, 3, 3],
            "value": [5, -2, 4, 7, 1, 1],
            "flag": [False, True, True, False, False, True],
            "day": [date(2026, 1, d) for d in (1, 2, 3, 4, 5, 6)],
        }
    )
    out = frame.select(
        start=run_start("key"),
        end=run_end("key"),
        cum=within_run_cum_sum("value", "key"),
        first=first_in_run("day", "flag", "key"),
    )
    assert out["start"].to_list() == [True, False, False, True, True, False]
    assert out["end"].to_list() == [False, False, True, True, False, True]
    assert out["cum"].to_list() == [5, 3, 7, 7, 1, 2]
    jan = [date(2026, 1, 2)] * 3 + [None] + [date(2026, 1, 6)] * 2
    assert out["first"].to_list() == jan


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-50, 50), st.booleans()), max_size=30))
def test_runs_equal_group_computations(rows):
    """Against over(key): cumulative sums, and the first flagged day once the flag stays on."""
    schema = {"key": pl.Int64, "value": pl.Int64, "flag": pl.Boolean}
    frame = pl.DataFrame(rows, schema=schema, orient="row").with_row_index("i")
    frame = frame.sort("key", "i").with_columns(
        day=pl.lit(date(2026, 1, 1)) + pl.duration(days=pl.col("i").cast(pl.Int64)),
        # a flag that, once on, stays on within the key (as a falling balance stays settled)
        flag=pl.col("flag").cast(pl.Int64).cum_max().over("key").cast(pl.Boolean),
    )
    got = frame.select(
        cum=within_run_cum_sum("value", "key"), first=first_in_run("day", "flag", "key")
    )
    expected = frame.select(
        cum=pl.col("value").cum_sum().over("key"),
        first=pl.col("day").filter("flag").min().over("key"),
    )
    assert got.equals(expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**32 - 1), st.dates(date(1, 1, 1), date(9999, 12, 31))),
        max_size=40,
    )
)
def test_key_then_day_sorts_as_key_and_day(rows):
    """One UInt64 orders rows as (key, day) does: row numbers up to 2^32 - 1, any date
    (before 1970 too)."""
    frame = pl.DataFrame(rows, schema={"key": pl.UInt32, "day": pl.Date}, orient="row")
    by_pair = frame.sort("key", "day")
    by_one = frame.sort(key_then_day("key", "day"))
    assert by_one.equals(by_pair)
