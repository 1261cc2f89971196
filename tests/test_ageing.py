"""Ageing buckets: boundaries, hand-worked amounts, and the exact partition of open AR."""

from __future__ import annotations

from datetime import date

import polars as pl
from conftest import random_portfolios
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from workbench.ageing import ageing, ageing_bucket, ageing_from_balances
from workbench.balances import cents, reporting_balances
from workbench.policy import DEFAULT_POLICY, Ageing, Policy

DPD = [-5, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 400, None]
NAMES = [
    "not yet due", "not yet due", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90",
    "91-120", "91-120", "over 120", "over 120", None,
]  # fmt: skip


def test_bucket_boundaries_eager_and_lazy():
    frame = pl.DataFrame({"dpd": DPD}, schema={"dpd": pl.Int64})
    bucket = ageing_bucket(pl.col("dpd")).alias("bucket")
    eager = frame.with_columns(bucket)
    lazy = frame.lazy().with_columns(bucket).collect()
    assert_frame_equal(eager, lazy)
    assert eager["bucket"].cast(pl.String).to_list() == NAMES
    # an ordered Enum: sorting follows the bucket order, not the alphabet
    assert eager["bucket"].dtype == pl.Enum(DEFAULT_POLICY.ageing.bucket_names)


def test_bucket_names_follow_the_bounds():
    frame = pl.DataFrame({"dpd": [0, 15, 16, 45, 46]})
    got = frame.select(ageing_bucket(pl.col("dpd"), (15, 45)).cast(pl.String)).to_series()
    assert got.to_list() == ["not yet due", "1-15", "16-45", "16-45", "over 45"]


def test_hand_worked_ageing(hand_portfolio, as_of):
    frame = ageing(hand_portfolio, as_of).collect()
    assert frame["bucket"].cast(pl.String).to_list() == DEFAULT_POLICY.ageing.bucket_names
    assert dict(zip(frame["bucket"].cast(pl.String), frame["amount"], strict=True)) == {
        "not yet due": 1500.0,  # I3, due 07-10 (dpd -10)
        "1-30": 3000.0,  # I6 1200 (dpd 11) + I8 1800 (dpd 30, upper bound inclusive)
        "31-60": 0.0,
        "61-90": 1499.75,  # I5 2500 - 500.25 - 500 (dpd 77)
        "91-120": 0.0,
        "over 120": 2600.0,  # I7 4000 - 1000 - 400 (dpd 151)
    }
    assert frame["invoices"].to_list() == [1, 2, 0, 1, 0, 1]
    # 1500 + 3000 + 1499.75 + 2600 = 8599.75 = total open AR
    assert frame["amount"].sum() == 8599.75


def test_every_bucket_present_when_nothing_is_open(hand_portfolio):
    # before any invoice is issued
    frame = ageing(hand_portfolio, date(2025, 1, 1)).collect()
    assert frame.height == 6 and frame["amount"].to_list() == [0.0] * 6
    assert frame["invoices"].to_list() == [0] * 6


def test_custom_bounds(hand_portfolio, as_of):
    policy = Policy(ageing=Ageing(overdue_bounds=(60,)))
    frame = ageing(hand_portfolio, as_of, policy).collect()
    # not yet due 1500; 1-60: 1200 + 1800; over 60: 1499.75 + 2600
    assert frame.rows() == [("not yet due", 1500.0, 1), ("1-60", 3000.0, 2), ("over 60", 4099.75, 2)]


def test_eager_and_lazy_balances_agree(hand_portfolio, as_of):
    balances = reporting_balances(hand_portfolio, as_of)
    assert_frame_equal(
        ageing_from_balances(balances).collect(), ageing_from_balances(balances.collect()).collect()
    )


@settings(max_examples=40, deadline=None)
@given(random_portfolios())
def test_buckets_partition_open_ar_to_the_cent(generated):
    portfolio, as_of = generated
    balances = reporting_balances(portfolio, as_of).collect()
    frame = ageing_from_balances(balances).collect()
    open_cents = balances.filter("is_open").select(cents(pl.col("open_balance")).sum()).item()
    assert frame.select(cents(pl.col("amount")).sum()).item() == open_cents
    assert frame["invoices"].sum() == balances["is_open"].sum()
    assert frame.height == len(DEFAULT_POLICY.ageing.bucket_names)
