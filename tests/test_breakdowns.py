"""Open AR breakdowns, top exposures and week-over-week KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from workbench.breakdowns import (
    broken_promise_list,
    open_ar_by,
    open_dispute_list,
    top_exposures,
    week_over_week,
)
from workbench.kpis import portfolio_kpis


def test_top_exposures_by_hand(hand_portfolio, as_of) -> None:
    top = top_exposures(hand_portfolio, as_of, n=10)
    # C3: I7 4000 - 400 credit - 1000 paid = 2600, plus I8 1800 unpaid = 4400.00
    # C2: I5 2500 - 500.25 - 500 = 1499.75, plus I6 1200 = 2699.75
    # C1: I3 1500 (not yet due); C4 has paid everything and is not listed.
    assert top.get_column("customer_id").to_list() == ["C3", "C2", "C1"]
    assert top.get_column("open_balance").to_list() == [4400.0, 2699.75, 1500.0]
    assert top_exposures(hand_portfolio, as_of, n=2).height == 2


def test_breakdown_by_hand(hand_portfolio, as_of) -> None:
    frame = open_ar_by(hand_portfolio, as_of, "collector")
    # No collector column in the hand portfolio: everything lands in "(none)".
    assert frame.get_column("collector").to_list() == ["(none)"]
    row = frame.row(0, named=True)
    assert row["total_ar"] == 8599.75 and row["customers"] == 3 and row["share"] == 1.0
    assert row["current_ar"] + row["overdue_ar"] == pytest.approx(row["total_ar"], abs=1e-9)


@pytest.mark.parametrize("dimension", ["collector", "country", "customer_type", "strategic"])
def test_breakdowns_reconcile_with_total_ar(generated_portfolio, dimension: str) -> None:
    portfolio, as_of = generated_portfolio
    kpis = portfolio_kpis(portfolio, as_of)
    frame = open_ar_by(portfolio, as_of, dimension)
    assert frame.get_column("total_ar").sum() == pytest.approx(kpis["total_ar"], abs=0.005)
    assert frame.get_column("overdue_ar").sum() == pytest.approx(kpis["overdue_ar"], abs=0.005)
    assert frame.get_column("customers").sum() == kpis["customers_with_balance"]
    assert frame.get_column("share").sum() == pytest.approx(1.0)
    assert frame.get_column(dimension).n_unique() == frame.height


def test_segment_breakdown_needs_segments(hand_portfolio, as_of) -> None:
    with pytest.raises(ValueError, match="segments"):
        open_ar_by(hand_portfolio, as_of, "segment")
    segments = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "segment": ["a", "b", "b"]})
    frame = open_ar_by(hand_portfolio, as_of, "segment", segments=segments)
    assert dict(zip(frame["segment"], frame["total_ar"], strict=True)) == {
        "b": 7099.75,  # 2699.75 + 4400
        "a": 1500.0,
    }


def test_unknown_dimension(hand_portfolio, as_of) -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        open_ar_by(hand_portfolio, as_of, "email")


def test_week_over_week_sees_only_its_own_past(hand_portfolio, as_of) -> None:
    current, previous = week_over_week(hand_portfolio, as_of)
    assert current == portfolio_kpis(hand_portfolio, as_of)
    assert previous == portfolio_kpis(hand_portfolio, as_of - timedelta(days=7))
    assert previous["as_of"] == date(2026, 6, 23).isoformat()


def test_open_disputes_by_hand(hand_portfolio, hand_portfolio_with_future, as_of) -> None:
    disputes = open_dispute_list(hand_portfolio, as_of)
    # D1 on I7 opened 2026-02-10 and still open (D2 was resolved on 06-05): 140 days open,
    # open balance 4000 - 400 - 1000 = 2600.
    assert disputes.get_column("invoice_id").to_list() == ["I7"]
    row = disputes.row(0, named=True)
    assert row["days_open"] == 140 and row["open_balance"] == 2600.0
    # Resolving D1 after as_of changes nothing as of as_of.
    assert open_dispute_list(hand_portfolio_with_future, as_of).equals(disputes)


def test_broken_promises_by_hand(hand_portfolio, as_of) -> None:
    broken = broken_promise_list(hand_portfolio, as_of)
    # PR2: 1000 promised on 05-01 for 05-15 (deadline 05-18 with 3 days grace); C2 paid 500.25
    # on 05-10 in the window, short of 1000: broken. PR1 was kept, PR3 is pending.
    assert broken.get_column("customer_id").to_list() == ["C2"]
    assert broken.row(0, named=True)["paid"] == 500.25
    assert broken_promise_list(hand_portfolio, as_of, within_days=30).is_empty()


def test_behaviour_segments_cover_every_known_customer(generated_portfolio) -> None:
    from workbench.breakdowns import behaviour_segments, deteriorating_payers
    from workbench.segments import SEGMENT_PRECEDENCE

    portfolio, as_of = generated_portfolio
    segments = behaviour_segments(portfolio, as_of)
    assert segments.get_column("customer_id").is_unique().all()
    assert set(segments.get_column("segment")) <= set(SEGMENT_PRECEDENCE)
    worse = deteriorating_payers(segments)
    assert set(worse.get_column("customer_id")) <= set(
        segments.filter(pl.col("segment") == "deteriorating").get_column("customer_id")
    )
    trend = worse.get_column("days_late_trend").drop_nulls()
    assert trend.to_list() == sorted(trend.to_list(), reverse=True)
