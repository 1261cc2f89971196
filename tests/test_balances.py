"""Invoice balances as of a date: hand-worked values, visibility, currencies, invariants."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from conftest import HAND_TABLES, portfolio_of, random_portfolios
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from workbench.balances import (
    BalanceCursor,
    balance_history,
    days_between,
    invoice_balances,
    money_sum,
    reporting_balances,
    reporting_currency,
    within_days,
)
from workbench.errors import InputError
from workbench.policy import DEFAULT_POLICY, Amounts, Policy


def by_invoice(portfolio, as_of) -> dict[str, dict]:
    frame = invoice_balances(portfolio, as_of).collect()
    return {row["invoice_id"]: row for row in frame.iter_rows(named=True)}


def test_hand_worked_balances(hand_portfolio, as_of):
    rows = by_invoice(hand_portfolio, as_of)
    assert set(rows) == {f"I{i}" for i in range(1, 11)}
    # I5: 2500 - 500.25 (P5) - 500 (P6) = 1499.75, due 04-14: 16 + 31 + 30 = 77 days past due
    i5 = rows["I5"]
    assert (i5["paid"], i5["credited"], i5["open_balance"]) == (1000.25, 0.0, 1499.75)
    assert i5["is_open"] and i5["days_past_due"] == 77 and i5["n_payments"] == 2
    assert i5["settlement_date"] is None and i5["days_to_pay"] is None and i5["days_late"] is None
    # I7: 4000 - 1000 (P8) - 400 (CN1) = 2600, due 01-30: 1 + 28 + 31 + 30 + 31 + 30 = 151 dpd
    i7 = rows["I7"]
    assert (i7["paid"], i7["credited"], i7["open_balance"]) == (1000.0, 400.0, 2600.0)
    assert i7["days_past_due"] == 151 and i7["disputed"] is True
    # I8: dispute D2 resolved 06-05 <= as_of: not disputed; due 05-31: 30 dpd
    assert rows["I8"]["disputed"] is False and rows["I8"]["days_past_due"] == 30
    # I3: due 07-10: -10 dpd (not yet due)
    assert rows["I3"]["days_past_due"] == -10 and rows["I3"]["open_balance"] == 1500.0
    # I4: 1000 (03-20) + 2000 (04-20) settles on 04-20; 02-01 -> 04-20 = 27 + 31 + 20 = 78 days,
    # due 03-03 -> 04-20 = 28 + 20 = 48 days late
    i4 = rows["I4"]
    assert i4["settlement_date"] == date(2026, 4, 20) and not i4["is_open"]
    assert (i4["days_to_pay"], i4["days_late"], i4["n_payments"]) == (78, 48, 2)
    # I9: fully credited (CN2) on 06-25: 5 days to pay, 06-25 - 08-19 = -55 days late
    i9 = rows["I9"]
    assert (i9["settlement_date"], i9["days_to_pay"], i9["days_late"]) == (date(2026, 6, 25), 5, -55)
    assert (i9["credited"], i9["open_balance"], i9["n_payments"]) == (900.0, 0.0, 0)
    # I1: paid 02-05, issued 01-10, due 02-09: 26 days to pay, 4 days early
    assert (rows["I1"]["days_to_pay"], rows["I1"]["days_late"]) == (26, -4)


def test_balances_before_a_payment(hand_portfolio):
    # as of 2026-04-19, P4 (04-20) does not exist yet: I4 = 3000 - 1000 = 2000 open
    rows = by_invoice(hand_portfolio, date(2026, 4, 19))
    assert rows["I4"]["open_balance"] == 2000.0 and rows["I4"]["settlement_date"] is None
    assert "I6" not in rows  # issued 05-05, not yet issued
    # as of 2026-06-01 the dispute D2 on I8 (opened 05-10, resolved 06-05) is still open
    assert by_invoice(hand_portfolio, date(2026, 6, 1))["I8"]["disputed"] is True


def test_nothing_after_as_of_is_visible(hand_portfolio, hand_portfolio_with_future, as_of):
    expected = invoice_balances(hand_portfolio, as_of).collect().sort("invoice_id")
    got = invoice_balances(hand_portfolio_with_future, as_of).collect().sort("invoice_id")
    assert_frame_equal(got, expected)


def test_lazy_and_streaming_agree(hand_portfolio, as_of):
    lazy = invoice_balances(hand_portfolio, as_of)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(
        lazy.collect().sort("invoice_id"), lazy.collect(engine="streaming").sort("invoice_id")
    )


def test_tolerance_closes_an_invoice():
    tables = {
        "customers": {"customer_id": ["C"], "name": ["C"]},
        "invoices": {
            "invoice_id": ["I"], "customer_id": ["C"], "issue_date": [date(2026, 1, 1)],
            "due_date": [date(2026, 1, 31)], "amount": [100.0], "currency": ["EUR"],
        },
        "payments": {
            "payment_id": ["P"], "customer_id": ["C"], "payment_date": [date(2026, 2, 2)],
            "amount": [99.99], "invoice_id": ["I"],
        },
    }  # fmt: skip
    portfolio = portfolio_of(tables)
    row = invoice_balances(portfolio, date(2026, 3, 1)).collect().row(0, named=True)
    # 100 - 99.99 = 0.01 <= tolerance 0.01: closed, settled on 02-02, 2 days late
    assert row["open_balance"] == 0.01 and not row["is_open"]
    assert row["settlement_date"] == date(2026, 2, 2) and row["days_late"] == 2
    strict = Policy(amounts=Amounts(open_tolerance=0.0))
    row = invoice_balances(portfolio, date(2026, 3, 1), strict).collect().row(0, named=True)
    assert row["is_open"] and row["settlement_date"] is None


def test_an_invoice_within_the_tolerance_is_settled_when_issued_whatever_comes_later():
    """An invoice of 0.01 (the tolerance) is settled on its issue date; a payment of it a month
    later does not move its settlement date (it moved to the payment's date once the payment
    was visible, and the one-pass KPI series disagreed: hypothesis found it)."""
    tables = {
        "customers": {"customer_id": ["C"], "name": ["C"]},
        "invoices": {
            "invoice_id": ["I"], "customer_id": ["C"], "issue_date": [date(2026, 4, 11)],
            "due_date": [date(2026, 4, 11)], "amount": [0.01], "currency": ["EUR"],
        },
        "payments": {
            "payment_id": ["P"], "customer_id": ["C"], "payment_date": [date(2026, 5, 14)],
            "amount": [0.01], "invoice_id": ["I"],
        },
    }  # fmt: skip
    portfolio = portfolio_of(tables)
    for as_of in (date(2026, 5, 1), date(2026, 6, 1)):
        row = by_invoice(portfolio, as_of)["I"]
        assert not row["is_open"] and row["settlement_date"] == date(2026, 4, 11), (as_of, row)
        assert row["days_to_pay"] == 0


def test_sums_too_large_for_int64_stay_exact():
    """Movements whose micro-unit sums pass 2^63 (9.2 x 10^12 of the currency) are summed in
    Int128: to the cent, settled on the right day, and the next invoice's sums untouched."""
    most = 99_999_999_999.99  # the largest amount validation accepts
    n = 100
    tables = {
        "customers": {"customer_id": ["C"], "name": ["C"]},
        "invoices": {
            "invoice_id": ["I", "J"], "customer_id": ["C", "C"],
            "issue_date": [date(2026, 1, 1)] * 2, "due_date": [date(2026, 1, 31)] * 2,
            "amount": [most, 10.0], "currency": ["EUR"] * 2,
        },
        "payments": {
            "payment_id": [f"P{i}" for i in range(n + 1)], "customer_id": ["C"] * (n + 1),
            "payment_date": [date(2026, 2, 1) + timedelta(days=i) for i in range(n + 1)],
            "amount": [most] * n + [2.5], "invoice_id": ["I"] * n + ["J"],
        },
    }  # fmt: skip
    rows = by_invoice(portfolio_of(tables), date(2026, 12, 31))
    # paid 100 x 99,999,999,999.99 = 9,999,999,999,999.00 (10^19 micro-units > 2^63)
    assert rows["I"]["paid"] == 9_999_999_999_999.0
    assert rows["I"]["excess"] == 9_899_999_999_999.01 and rows["I"]["open_balance"] == 0.0
    assert rows["I"]["settlement_date"] == date(2026, 2, 1)
    assert rows["J"]["open_balance"] == 7.5 and rows["J"]["paid"] == 2.5


def test_absent_tables(minimal_portfolio, as_of):
    frame = invoice_balances(minimal_portfolio, as_of).collect()
    # no payments nor credit notes: the open balance is the amount; counts from absent tables null
    assert (frame["open_balance"] == frame["amount"]).all()
    assert frame["n_payments"].null_count() == frame.height
    assert frame["disputed"].null_count() == frame.height


def multi_currency_tables(with_fx: bool) -> dict:
    tables = {name: HAND_TABLES[name] for name in ("customers", "invoices", "payments")}
    invoices = dict(tables["invoices"])
    invoices["currency"] = ["EUR"] * 9 + ["USD"]  # I10 (600, paid) in USD
    tables["invoices"] = invoices
    if with_fx:
        tables["fx_rates"] = {
            "currency": ["EUR", "USD", "USD", "USD"],
            "date": [date(2026, 1, 1), date(2026, 6, 10), date(2026, 6, 30), date(2026, 7, 1)],
            "rate_to_base": [1.0, 0.5, 0.9, 2.0],
        }
    return tables


def test_multi_currency_needs_fx_rates(as_of):
    portfolio = portfolio_of(multi_currency_tables(with_fx=False))
    with pytest.raises(InputError, match="multi-currency portfolio needs an fx_rates table") as err:
        reporting_balances(portfolio, as_of)
    assert "EUR, USD" in str(err.value)
    # before I10 was issued (06-05) the portfolio is in EUR only
    assert reporting_currency(portfolio, date(2026, 6, 4)) == "EUR"


def test_multi_currency_converted_at_latest_rate(as_of):
    portfolio = portfolio_of(multi_currency_tables(with_fx=True))
    assert reporting_currency(portfolio, as_of) == "EUR"  # the currency at rate 1
    rows = {r["invoice_id"]: r for r in reporting_balances(portfolio, as_of).collect().iter_rows(named=True)}
    # I10: 600 USD at the 06-30 rate 0.9 (the 07-01 rate is not visible) = 540 EUR
    assert rows["I10"]["amount"] == 540.0 and rows["I10"]["currency"] == "EUR"
    assert rows["I1"]["amount"] == 1000.0
    # as of 06-10 the latest USD rate is 0.5
    rows = reporting_balances(portfolio, date(2026, 6, 10)).collect()
    assert rows.filter(pl.col("invoice_id") == "I10")["open_balance"].item() == 300.0
    # as of 06-06, I10 (issued 06-05) is in USD but the first USD rate is dated 06-10
    with pytest.raises(InputError, match="no fx rate dated on or before 2026-06-06 for USD"):
        reporting_balances(portfolio, date(2026, 6, 6))


def test_money_and_day_helpers():
    frame = pl.DataFrame({"x": [0.1] * 10, "d": [date(2026, 1, 1), date(2026, 3, 31)] * 5})
    assert frame.select(money_sum(pl.col("x"))).item() == 1.0
    assert frame.select(days_between(date(2026, 3, 31), pl.col("d"))).to_series().to_list()[:2] == [89, 0]
    inside = frame.select(within_days(pl.col("d"), date(2026, 3, 31), 89)).to_series()
    assert inside.to_list()[:2] == [False, True]  # (01-01, 03-31] excludes 01-01


@settings(max_examples=40, deadline=None)
@given(random_portfolios())
def test_balance_invariants(generated):
    portfolio, as_of = generated
    frame = invoice_balances(portfolio, as_of).collect()
    assert (frame["issue_date"] <= as_of).all()
    # 0 <= open balance <= amount
    assert ((frame["open_balance"] >= 0) & (frame["open_balance"] <= frame["amount"])).all()
    settled = frame.filter(pl.col("settlement_date").is_not_null())
    # settled invoices settled on or before as_of, after they were issued, and are closed
    assert (settled["settlement_date"] <= as_of).all()
    assert (settled["days_to_pay"] >= 0).all()
    assert (frame["is_open"] == frame["settlement_date"].is_null()).all()
    # open balance = amount - paid - credited to the cent, unless overpaid
    expected = (frame["amount"] - frame["paid"] - frame["credited"]).round(2).clip(0)
    assert ((frame["open_balance"] - expected).abs() < 1e-6).all()


# --- balances at many dates from one movement history (the training set's path) -------------


def cursor_dates(as_of: date) -> list[date]:
    """Dates ascending, repeated, then going back (the cursor starts again), up to as_of."""
    back = [as_of - timedelta(days=n) for n in (200, 90, 31, 30, 0)]
    return [*back, as_of, back[0] - timedelta(days=60), back[2]]


def assert_cursor_is_invoice_balances(portfolio, as_of):
    history = balance_history(portfolio, as_of)
    cursor = BalanceCursor(portfolio, history, DEFAULT_POLICY)
    for day in cursor_dates(as_of):
        expected = invoice_balances(portfolio, day).collect().sort("invoice_id")
        got = cursor.invoice_balances(day).collect().sort("invoice_id")
        assert_frame_equal(got, expected, check_exact=True)
        some = expected["invoice_id"].gather_every(2)
        only = cursor.invoice_balances(day, some).collect().sort("invoice_id")
        assert_frame_equal(only, expected.filter(pl.col("invoice_id").is_in(some.implode())))


def test_balance_cursor_is_invoice_balances_at_every_date(hand_portfolio_with_future, as_of):
    # settlements, partial payments, credit notes, disputes opened and resolved between dates,
    # invoices and payments dated after some of the dates
    assert_cursor_is_invoice_balances(hand_portfolio_with_future, as_of + timedelta(days=10))


@settings(max_examples=30, deadline=None)
@given(random_portfolios())
def test_balance_cursor_is_invoice_balances_on_random_portfolios(generated):
    # over-payments, credit notes beyond the balance, several movements on one day
    portfolio, as_of = generated
    assert_cursor_is_invoice_balances(portfolio, as_of)


def test_balance_cursor_refuses_a_date_after_its_history(hand_portfolio, as_of):
    cursor = BalanceCursor(hand_portfolio, balance_history(hand_portfolio, as_of), DEFAULT_POLICY)
    with pytest.raises(ValueError, match="history"):
        cursor.invoice_balances(as_of + timedelta(days=1))
