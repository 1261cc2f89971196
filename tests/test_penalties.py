"""Late-payment penalties and indemnities (workbench.penalties), checked against a hand-worked
example and a day-by-day recomputation from the raw tables in plain Python."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from hypothesis import given, settings

from conftest import HAND_TABLES, portfolio_of, random_portfolios
from workbench.penalties import invoice_penalties
from workbench.policy import DEFAULT_POLICY, Penalties


def day_by_day(portfolio, as_of: date, rate_percent: float = 12.15, day_count: int = 365) -> dict:
    """invoice_id -> penalty, summing each day's balance (before that day's payments) from the
    day after the due date to as_of, in exact decimals (a second method, no polars)."""
    invoices = portfolio.invoices.collect().filter(pl.col("issue_date") <= as_of)
    moves: dict[str, list[tuple[date, Decimal]]] = {}
    for table, day_column in (("payments", "payment_date"), ("credit_notes", "date")):
        frame = getattr(portfolio, table).collect()
        for r in frame.iter_rows(named=True):
            if r.get("invoice_id") and r[day_column] <= as_of:
                moves.setdefault(r["invoice_id"], []).append(
                    (r[day_column], Decimal(str(r["amount"])))
                )
    out = {}
    for inv in invoices.iter_rows(named=True):
        own = moves.get(inv["invoice_id"], [])
        total = Decimal(0)
        day = inv["due_date"] + timedelta(days=1)
        while day <= as_of:
            paid_before = sum((a for d, a in own if d < day), Decimal(0))
            total += max(Decimal(str(inv["amount"])) - paid_before, Decimal(0))
            day += timedelta(days=1)
        penalty = total * Decimal(str(rate_percent)) / 100 / day_count
        out[inv["invoice_id"]] = float(penalty.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return out


def test_hand_worked_invoice():
    # 2,419.00 due 2026-10-16, 1,077.00 paid 2026-11-18, as of 2026-11-20: 2,419 x 33 days
    # (17/10 to 18/11) + 1,342 x 2 days = 82,511 EUR-days x 12.15 % / 365 = 27.4659 -> 27.47
    portfolio = portfolio_of({
        "customers": {"customer_id": ["C"], "name": ["C"], "customer_type": ["B2B"]},
        "invoices": {"invoice_id": ["A", "B"], "customer_id": ["C", "C"],
                     "issue_date": [date(2026, 9, 16), date(2026, 11, 1)],
                     "due_date": [date(2026, 10, 16), date(2026, 12, 1)],
                     "amount": [2419.0, 100.0], "currency": ["EUR", "EUR"]},
        "payments": {"payment_id": ["P"], "customer_id": ["C"], "payment_date": [date(2026, 11, 18)],
                     "amount": [1077.0], "invoice_id": ["A"]},
    })  # fmt: skip
    got = invoice_penalties(portfolio, date(2026, 11, 20)).collect().sort("invoice_id")
    assert got["penalty"].to_list() == [27.47, 0.0]
    assert got["indemnity"].to_list() == [40.0, 0.0]  # B is not yet due


def test_consumers_owe_nothing_and_paid_on_time_owes_nothing():
    portfolio = portfolio_of({
        "customers": {"customer_id": ["P", "Q"], "name": ["P", "Q"], "customer_type": ["B2C", "B2B"]},
        "invoices": {"invoice_id": ["A", "B"], "customer_id": ["P", "Q"],
                     "issue_date": [date(2026, 1, 1)] * 2, "due_date": [date(2026, 2, 1)] * 2,
                     "amount": [1000.0, 1000.0], "currency": ["EUR", "EUR"]},
        "payments": {"payment_id": ["X"], "customer_id": ["Q"], "payment_date": [date(2026, 2, 1)],
                     "amount": [1000.0], "invoice_id": ["B"]},
    })  # fmt: skip
    got = invoice_penalties(portfolio, date(2026, 6, 1)).collect().sort("invoice_id")
    assert got["penalty"].to_list() == [0.0, 0.0] and got["indemnity"].to_list() == [0.0, 0.0]


def test_paid_late_owes_the_indemnity_and_the_penalty_up_to_the_payment():
    portfolio = portfolio_of({
        "customers": {"customer_id": ["Q"], "name": ["Q"]},
        "invoices": {"invoice_id": ["A"], "customer_id": ["Q"], "issue_date": [date(2026, 1, 1)],
                     "due_date": [date(2026, 2, 1)], "amount": [3650.0], "currency": ["EUR"]},
        "payments": {"payment_id": ["X"], "customer_id": ["Q"], "payment_date": [date(2026, 2, 11)],
                     "amount": [3650.0], "invoice_id": ["A"]},
    })  # fmt: skip
    got = invoice_penalties(portfolio, date(2026, 6, 1)).collect()
    # 3,650 x 10 days (2/2 to 11/2) x 12.15 % / 365 = 12.15
    assert got["penalty"].to_list() == [12.15] and got["indemnity"].to_list() == [40.0]


def test_rate_and_day_count_come_from_the_policy():
    portfolio = portfolio_of(HAND_TABLES)
    policy = dataclasses.replace(
        DEFAULT_POLICY, penalties=Penalties(rate_percent=10.0, day_count=360)
    )
    got = dict(
        invoice_penalties(portfolio, date(2026, 6, 30), policy)
        .collect()
        .select("invoice_id", "penalty")
        .iter_rows()
    )
    assert got == day_by_day(portfolio, date(2026, 6, 30), 10.0, 360)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(random_portfolios())
def test_matches_a_day_by_day_sum(case):
    portfolio, as_of = case
    got = dict(
        invoice_penalties(portfolio, as_of).collect().select("invoice_id", "penalty").iter_rows()
    )
    expected = day_by_day(portfolio, as_of)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) <= 0.011, (key, got[key], value)


def test_sees_nothing_after_the_as_of_date(hand_portfolio, hand_portfolio_with_future, as_of):
    before = invoice_penalties(hand_portfolio, as_of).collect().sort("invoice_id")
    after = invoice_penalties(hand_portfolio_with_future, as_of).collect().sort("invoice_id")
    assert before.equals(after)
