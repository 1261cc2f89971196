"""The KPI series in one pass (workbench.kpiseries) against the KPIs computed date by date.

The reference is :func:`workbench.kpis.kpi_frame` at each date on its own (balances recomputed
from the raw tables each time); the one-pass series must give the same money to the cent, the
same counts, and the same days and percentages (to 1e-9 before rounding), at every date,
including dates before the first invoice, on a due date, on a settlement date.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from conftest import random_portfolios, typed_portfolio
from hypothesis import given, settings

from workbench.kpis import SERIES_SCHEMA, kpi_frame, kpi_series, portfolio_kpis
from workbench.kpiseries import one_pass_series
from workbench.load import load_portfolio
from workbench.policy import Kpis, Policy

EXACT = ("total_ar", "overdue_ar", "current_ar", "customer_credit", "credit_sales", "opening_ar",
         "open_invoices", "customers_with_balance")  # fmt: skip
CLOSE = ("dso_standard", "dso_countback", "best_possible_dso", "add", "cei",
         "weighted_days_to_pay", "weighted_days_late")  # fmt: skip


def date_by_date(portfolio, dates, policy=Policy()) -> pl.DataFrame:
    """The reference: kpi_frame at each date on its own."""
    return pl.concat(
        [
            kpi_frame(portfolio, day, policy).collect().with_columns(as_of=pl.lit(day))
            for day in dates
        ]
    )


def assert_same_kpis(fast: pl.DataFrame, slow: pl.DataFrame) -> None:
    assert fast["as_of"].to_list() == slow["as_of"].to_list()
    for column in EXACT:
        assert fast[column].to_list() == slow[column].cast(fast[column].dtype).to_list(), column
    for column in CLOSE:
        a, b = fast[column], slow[column]
        assert (a.is_null() == b.is_null()).all(), column
        assert ((a - b).abs().fill_null(0) < 1e-9).all(), (column, a.to_list(), b.to_list())


def every_day(start: date, end: date) -> pl.Series:
    return pl.date_range(start, end, "1d", eager=True)


EDGES = {
    "customers": {"customer_id": ["C1", "C2"], "name": ["One", "Two"]},
    "invoices": {
        "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
        "customer_id": ["C1", "C1", "C2", "C2", "C1", "C2"],
        "issue_date": ["2026-03-02", "2026-03-10", "2026-03-05", "2026-04-20", "2026-05-01", "2026-05-03"],
        "due_date": ["2026-03-31", "2026-03-10", "2026-04-04", "2026-05-20", "2026-05-31", "2026-05-03"],
        "amount": [1000.0, 250.5, 300.0, 99.99, 10.0, 0.01],
        "currency": ["EUR"] * 6,
    },
    "payments": {
        # P1 before I1's issue (a prepayment), P2 + P3 the same day settling I1 exactly with
        # sub-cent parts, P4 over-pays I3 (excess), P5 pays I2 on its due date, P6 a part of I4,
        # P7 unapplied, P8 on I5 leaving 0.004 (settled within the tolerance)
        "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"],
        "customer_id": ["C1", "C1", "C1", "C2", "C1", "C2", "C2", "C1"],
        "payment_date": ["2026-02-25", "2026-04-15", "2026-04-15", "2026-04-10", "2026-03-10",
                         "2026-05-25", "2026-04-01", "2026-06-02"],
        "amount": [200.0, 400.333, 399.667, 350.0, 250.5, 50.0, 75.0, 9.996],
        "invoice_id": ["I1", "I1", "I1", "I3", "I2", "I4", None, "I5"],
    },  # fmt: skip
    "credit_notes": {
        "credit_note_id": ["N1"],
        "invoice_id": ["I4"],
        "date": ["2026-06-10"],
        "amount": [49.99],
    },
}  # fmt: skip


def test_edge_cases_every_day():
    """Prepayment, same-day payments with sub-cent parts, over-payment, payment on the due date,
    settlement within the tolerance, an invoice of 0.01, a credit note closing an invoice: the
    series equals the date-by-date KPIs on every day from before the first invoice on."""
    portfolio = typed_portfolio(EDGES)
    dates = every_day(date(2026, 2, 20), date(2026, 9, 30))
    policy = Policy(kpis=Kpis(period_days=30))
    fast = one_pass_series(portfolio, dates, policy).collect()
    assert_same_kpis(fast, date_by_date(portfolio, dates, policy))
    # hand check on 2026-04-16: I1 settled 04-15 (200 + 400.333 + 399.667), I2 settled on its
    # due date, I3 over-paid by 50 (excess), I4 not issued: AR = 0
    row = fast.filter(pl.col("as_of") == date(2026, 4, 16)).row(0, named=True)
    assert (row["total_ar"], row["customer_credit"], row["open_invoices"]) == (0.0, 50.0, 0)
    assert row["customers_with_balance"] == 0


def test_sample_portfolio_52_weeks():
    """The committed sample over 52 weeks, and from before its first invoice."""
    portfolio = load_portfolio("data/sample")
    for start, end in (
        (date(2025, 11, 21), date(2026, 11, 20)),
        (date(2024, 10, 1), date(2025, 2, 1)),
    ):
        dates = pl.date_range(start, end, "7d", eager=True)
        fast = one_pass_series(portfolio, dates).collect()
        assert_same_kpis(fast, date_by_date(portfolio, dates))


@settings(max_examples=20, deadline=None)
@given(random_portfolios())
def test_random_portfolios(generated):
    portfolio, as_of = generated
    dates = pl.date_range(as_of - timedelta(days=200), as_of, "9d", eager=True)
    fast = one_pass_series(portfolio, dates).collect()
    assert_same_kpis(fast, date_by_date(portfolio, dates))


def test_kpi_series_rows_are_portfolio_kpis(hand_portfolio, as_of):
    """Each row of kpi_series is what portfolio_kpis says at that date (same rounding)."""
    series = kpi_series(hand_portfolio, as_of - timedelta(weeks=20), as_of, 7)
    assert series.columns == list(SERIES_SCHEMA)
    for row in series.iter_rows(named=True):
        expected = portfolio_kpis(hand_portfolio, row["as_of"])
        expected.pop("ageing"), expected.pop("customer_credit")
        assert row == {**expected, "as_of": row["as_of"]}


def test_nothing_after_a_date_is_seen(hand_portfolio, hand_portfolio_with_future, as_of):
    """Rows dated after the last date change no value of the series."""
    plain = kpi_series(hand_portfolio, as_of - timedelta(weeks=8), as_of)
    with_future = kpi_series(hand_portfolio_with_future, as_of - timedelta(weeks=8), as_of)
    assert plain.equals(with_future)


@pytest.mark.parametrize("every", [0, -7])
def test_every_days_must_be_positive(hand_portfolio, as_of, every):
    with pytest.raises(ValueError, match="every_days"):
        kpi_series(hand_portfolio, as_of, as_of, every)


def test_empty_range(hand_portfolio, as_of):
    assert kpi_series(hand_portfolio, as_of, as_of - timedelta(days=1)).height == 0
