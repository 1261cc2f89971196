"""Portfolio KPIs: every figure of the hand-worked portfolio, leakage, and invariants.

As of 2026-06-30 with N = 90, the period is (2026-04-01, 2026-06-30]. Open invoices (see
conftest): I3 1500 (dpd -10), I5 1499.75 (dpd 77), I6 1200 (dpd 11), I7 2600 (dpd 151),
I8 1800 (dpd 30).
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import polars as pl
import pytest
from conftest import HAND_TABLES, portfolio_of, random_portfolios, typed_portfolio
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from workbench.balances import cents, invoice_balances, reporting_balances
from workbench.errors import InputError
from workbench.kpis import countback_months, kpi_frame, kpi_series, portfolio_kpis, total_ar_at
from workbench.policy import Kpis, Policy


def test_hand_worked_kpis(hand_portfolio, as_of):
    k = portfolio_kpis(hand_portfolio, as_of)
    assert k["as_of"] == "2026-06-30" and k["currency"] == "EUR" and k["period_days"] == 90
    # 1500 + 1499.75 + 1200 + 2600 + 1800
    assert k["total_ar"] == 8599.75
    # dpd > 0: 1499.75 + 1200 + 2600 + 1800
    assert k["overdue_ar"] == 7099.75
    # dpd <= 0: I3
    assert k["current_ar"] == 1500.0
    assert k["ageing"] == {
        "not yet due": 1500.0,  # I3
        "1-30": 3000.0,  # I6 1200 + I8 1800
        "31-60": 0.0,
        "61-90": 1499.75,  # I5
        "91-120": 0.0,
        "over 120": 2600.0,  # I7
    }
    assert list(k["ageing"]) == ["not yet due", "1-30", "31-60", "61-90", "91-120", "over 120"]
    # issued in (04-01, 06-30]: I2 2000 + I6 1200 + I10 600 + I3 1500 + I9 900 (I8, issued on
    # 04-01, is outside)
    assert k["credit_sales"] == 6200.0
    # 8599.75 / 6200 * 90 = 773977.5 / 6200 = 124.8351
    assert k["dso_standard"] == 124.84
    # June (30 days as of the 30th) 3000 -> 5599.75 left; May (31) 1200 -> 4399.75 left;
    # April (30) 3800 -> 599.75 left; March: 599.75 / 2500 * 31 = 7.4369
    # 30 + 31 + 30 + 7.4369 = 98.4369
    assert k["dso_countback"] == 98.44
    # 1500 / 6200 * 90 = 21.7742
    assert k["best_possible_dso"] == 21.77
    # 124.8351 - 21.7742 = 103.0609
    assert k["add"] == 103.06
    # AR as of 04-01: I4 3000 - 1000 + I5 2500 + I7 4000 - 400 - 1000 + I8 1800 = 8900
    assert k["opening_ar"] == 8900.0
    # (8900 + 6200 - 8599.75) / (8900 + 6200 - 1500) * 100 = 6500.25 / 13600 * 100 = 47.7960
    assert k["cei"] == 47.8
    # settled in (04-01, 06-30]: I2 2000 (35 days to pay, 5 late), I4 3000 (78, 48),
    # I9 900 (5, -55), I10 600 (10, -20); total 6500
    # (2000*35 + 3000*78 + 900*5 + 600*10) / 6500 = 314500 / 6500 = 48.3846
    assert k["weighted_days_to_pay"] == 48.38
    # (2000*5 + 3000*48 - 900*55 - 600*20) / 6500 = 92500 / 6500 = 14.2308
    assert k["weighted_days_late"] == 14.23
    # I3, I5, I6, I7, I8 open; customers C1, C2, C3 (C4 is paid up)
    assert k["open_invoices"] == 5
    assert k["customers_with_balance"] == 3
    json.dumps(k)


def test_hand_worked_countback_months(hand_portfolio, as_of):
    balances = reporting_balances(hand_portfolio, as_of)
    months = countback_months(balances, as_of).collect()
    assert_frame_equal(months, countback_months(balances.collect(), as_of).collect())
    assert months["month"].to_list() == [date(2026, m, 1) for m in (6, 5, 4, 3, 2, 1)] + [
        date(2025, 12, 1)
    ]
    assert months["days"].to_list() == [30, 31, 30, 31, 28, 31, 31]
    assert months["credit_sales"].to_list() == [3000.0, 1200.0, 3800.0, 2500.0, 3000.0, 1000.0, 4000.0]
    assert months["days_counted"].to_list()[:3] == [30.0, 31.0, 30.0]
    assert months["days_counted"][3] == pytest.approx(599.75 / 2500 * 31)
    assert months["days_counted"].to_list()[4:] == [0.0, 0.0, 0.0]


def test_countback_mid_month():
    # as of 2026-06-10: June counts 10 days; AR 1000 against June sales 400 (issued 06-05) and
    # May sales 0 (31 full days) and April 2000: 10 + 31 + (1000 - 400) / 2000 * 30 = 50
    tables = {
        "customers": {"customer_id": ["C"], "name": ["C"]},
        "invoices": {
            "invoice_id": ["A", "B"], "customer_id": ["C", "C"],
            "issue_date": [date(2026, 4, 10), date(2026, 6, 5)],
            "due_date": [date(2026, 5, 10), date(2026, 7, 5)],
            "amount": [2000.0, 400.0], "currency": ["EUR", "EUR"],
        },
        "payments": {
            "payment_id": ["P"], "customer_id": ["C"], "payment_date": [date(2026, 5, 2)],
            "amount": [1400.0], "invoice_id": ["A"],
        },
    }  # fmt: skip
    k = portfolio_kpis(portfolio_of(tables), date(2026, 6, 10))
    assert k["total_ar"] == 1000.0  # 2000 - 1400 + 400
    assert k["dso_countback"] == 50.0


def test_nothing_after_as_of_changes_the_kpis(hand_portfolio, hand_portfolio_with_future, as_of):
    assert portfolio_kpis(hand_portfolio_with_future, as_of) == portfolio_kpis(hand_portfolio, as_of)


def test_kpis_move_with_as_of(hand_portfolio_with_future):
    # as of 07-02: P10 pays 1000 on I7, CN3 credits I8 in full: AR 8599.75 - 1000 - 1800 + I11 700
    k = portfolio_kpis(hand_portfolio_with_future, date(2026, 7, 2))
    assert k["total_ar"] == 6499.75


def test_lazy_and_streaming_agree(hand_portfolio, as_of):
    frame = kpi_frame(hand_portfolio, as_of)
    assert isinstance(frame, pl.LazyFrame)
    assert_frame_equal(frame.collect(), frame.collect(engine="streaming"))


def test_no_sales_gives_null_ratios(hand_portfolio):
    # a year later nothing was issued in the last 90 days: DSO, BPDSO, ADD undefined, not inf
    k = portfolio_kpis(hand_portfolio, date(2027, 6, 30))
    assert k["credit_sales"] == 0.0 and k["total_ar"] == 8599.75
    assert k["dso_standard"] is None and k["best_possible_dso"] is None and k["add"] is None
    assert k["weighted_days_to_pay"] is None and k["weighted_days_late"] is None
    json.dumps(k)


def test_empty_portfolio():
    portfolio = typed_portfolio({"customers": {"customer_id": ["C"], "name": ["C"]}})
    k = portfolio_kpis(portfolio, date(2026, 6, 30))
    assert k["total_ar"] == 0.0 and k["dso_countback"] == 0.0 and k["cei"] is None
    assert k["currency"] is None and k["open_invoices"] == 0
    assert list(k["ageing"].values()) == [0.0] * 6


def test_period_days_from_policy(hand_portfolio, as_of):
    k = portfolio_kpis(hand_portfolio, as_of, Policy(kpis=Kpis(period_days=30)))
    # issued in (05-31, 06-30]: I3 1500 + I9 900 + I10 600 = 3000; 8599.75 / 3000 * 30 = 85.9975
    assert k["credit_sales"] == 3000.0 and k["dso_standard"] == 86.0 and k["period_days"] == 30


def test_multi_currency_without_rates_is_an_input_error(as_of):
    tables = {name: HAND_TABLES[name] for name in ("customers", "invoices")}
    tables["invoices"] = dict(tables["invoices"], currency=["EUR"] * 8 + ["USD", "GBP"])
    with pytest.raises(InputError, match="needs an fx_rates table.*EUR, GBP, USD"):
        portfolio_kpis(portfolio_of(tables), as_of)


def test_kpi_series(hand_portfolio, as_of):
    series = kpi_series(hand_portfolio, date(2026, 6, 2), as_of, every_days=7)
    # 06-02, 06-09, 06-16, 06-23, 06-30
    assert series["as_of"].to_list() == [date(2026, 6, 2) + timedelta(days=7 * i) for i in range(5)]
    last = series.row(-1, named=True)
    expected = portfolio_kpis(hand_portfolio, as_of)
    assert {k: last[k] for k in ("total_ar", "dso_countback", "cei")} == {
        k: expected[k] for k in ("total_ar", "dso_countback", "cei")
    }
    assert "ageing" not in series.columns


@settings(max_examples=40, deadline=None)
@given(random_portfolios(), st.integers(0, 200))
def test_opening_ar_from_later_balances_is_the_opening_ar_on_its_own(generated, back):
    """The AR as of an earlier day, summed over the invoices the later balances show unsettled
    then, equals the AR as of that day computed from all its invoices (partial payments,
    over-payments, credit notes, payments after the day), on a random day and on the eve, the
    day and the morrow of every settlement."""
    portfolio, as_of = generated
    later = invoice_balances(portfolio, as_of)
    settled = later.select("settlement_date").drop_nulls().collect().to_series().to_list()
    near = {d + timedelta(days=k) for d in settled for k in (-1, 0, 1)}
    for day in sorted({as_of - timedelta(days=back)} | {d for d in near if d <= as_of}):
        alone = total_ar_at(portfolio, day).collect().item()
        assert total_ar_at(portfolio, day, later=later).collect().item() == alone, day
        open_then = reporting_balances(portfolio, day).filter("is_open")
        by_hand = open_then.select(cents(pl.col("open_balance"))).collect().to_series().sum()
        assert round(alone * 100) == by_hand, day


@given(random_portfolios())
def test_kpi_invariants(generated):
    portfolio, as_of = generated
    row = kpi_frame(portfolio, as_of).collect().row(0, named=True)
    # ADD = DSO - best possible DSO; overdue + current = total AR, to the cent
    if row["dso_standard"] is None:
        assert row["credit_sales"] == 0 and row["add"] is None
    else:
        assert math.isclose(row["add"], row["dso_standard"] - row["best_possible_dso"], abs_tol=1e-9)
    assert round((row["overdue_ar"] + row["current_ar"]) * 100) == round(row["total_ar"] * 100)
    k = portfolio_kpis(portfolio, as_of)
    assert round(sum(k["ageing"].values()) * 100) == round(k["total_ar"] * 100)
    if k["add"] is not None:
        assert abs(k["add"] - (k["dso_standard"] - k["best_possible_dso"])) <= 0.011
    # countback: when AR is below the as-of month's sales, AR / month sales x as_of.day
    balances = reporting_balances(portfolio, as_of)
    month_sales = (
        balances.filter(pl.col("issue_date") >= as_of.replace(day=1))
        .select(cents(pl.col("amount")).sum())
        .collect()
        .item()
    )
    ar = round(row["total_ar"] * 100)
    if 0 < ar <= month_sales:
        assert row["dso_countback"] == pytest.approx(ar / month_sales * as_of.day)
    assert row["dso_countback"] >= 0


@settings(max_examples=30, deadline=None)
@given(
    amount_cents=st.integers(100, 10_000_000),
    paid_share=st.floats(0.0, 0.99),
    as_of_day=st.integers(1, 28),
)
@example(amount_cents=100, paid_share=0.99, as_of_day=5)  # 0.01 left: within the tolerance
def test_countback_single_month(amount_cents, paid_share, as_of_day):
    # one invoice issued on the 1st of the as-of month, partly paid: AR / sales x as_of.day
    paid_cents = int(amount_cents * paid_share)
    tables = {
        "customers": {"customer_id": ["C"], "name": ["C"]},
        "invoices": {
            "invoice_id": ["I"], "customer_id": ["C"], "issue_date": [date(2026, 3, 1)],
            "due_date": [date(2026, 3, 31)], "amount": [amount_cents / 100], "currency": ["EUR"],
        },
        "payments": {
            "payment_id": ["P"], "customer_id": ["C"], "payment_date": [date(2026, 3, 1)],
            "amount": [max(paid_cents, 1) / 100], "invoice_id": ["I"],
        },
    }  # fmt: skip
    as_of = date(2026, 3, as_of_day)
    k = kpi_frame(typed_portfolio(tables), as_of).collect().row(0, named=True)
    ar_cents = amount_cents - max(paid_cents, 1)
    # a balance at or below the 0.01 tolerance is not open: no AR, no countback days
    expected = ar_cents / amount_cents * as_of_day if ar_cents > 1 else 0.0
    assert k["dso_countback"] == pytest.approx(expected)
