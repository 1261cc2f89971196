"""Customer behaviour features: hand-worked values per customer, leakage, absent tables."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import HAND_TABLES, portfolio_of, random_portfolios
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from workbench.features import FEATURES, FEATURES_FROM, customer_features
from workbench.schema import empty_frame


def features_by_customer(portfolio, as_of) -> dict[str, dict]:
    frame = customer_features(portfolio, as_of).collect()
    assert frame.columns == list(FEATURES)
    return {row["customer_id"]: row for row in frame.iter_rows(named=True)}


@pytest.fixture(scope="module")
def features(hand_portfolio, as_of) -> dict[str, dict]:
    return features_by_customer(hand_portfolio, as_of)


def test_known_customers(features):
    assert sorted(features) == ["C1", "C2", "C3", "C4"]


def test_alpha_reliable_payer(features):
    a = features["C1"]
    assert a["invoices_issued"] == 3 and a["invoices_settled"] == 2  # I1, I2 settled; I3 open
    # days late: I1 02-05 - 02-09 = -4, I2 05-20 - 05-15 = 5; late (> 0): I2 only
    assert a["share_settled_late"] == 0.5  # 1 / 2
    assert a["share_settled_severely_late"] == 0.0
    assert a["mean_days_late"] == 0.5  # (-4 + 5) / 2
    assert a["weighted_mean_days_late"] == 2.0  # (1000 * -4 + 2000 * 5) / 3000
    # sample std of (-4, 5): sqrt((4.5^2 + 4.5^2) / 1) = sqrt(40.5)
    assert a["std_days_late"] == pytest.approx(40.5**0.5)
    # settled in (04-01, 06-30]: I2 (5); in the 365 days before: I1 (-4): 5 - (-4) = 9
    assert a["days_late_trend"] == 9.0
    assert a["mean_days_to_pay"] == 30.5  # (26 + 35) / 2
    assert a["partial_payment_rate"] == 0.0  # I1, I2 each paid in one payment
    assert a["dispute_rate"] == 0.0 and a["open_disputes"] == 0
    # PR1 2000 made 05-16 for 05-22: P2 2000 on 05-20 is within [05-16, 05-25]: kept
    assert (a["promises_made"], a["promises_kept"], a["promises_broken"], a["promises_pending"]) == (1, 1, 0, 0)
    assert a["days_since_last_payment"] == 41  # 06-30 - 05-20 = 11 + 30
    assert a["unapplied_cash"] == 0.0
    assert (a["open_balance"], a["overdue_balance"], a["open_invoices"]) == (1500.0, 0.0, 1)
    assert a["credit_limit_use"] == 0.15  # 1500 / 10000
    assert a["oldest_dpd"] == -10  # I3 due 07-10, not yet due
    assert a["tenure_days"] == 545  # 2025-01-01 -> 2026-06-30 = 365 + 180
    assert a["terms_days"] == 30.0
    assert a["contacts_last_90_days"] == 0 and a["last_contact_date"] is None
    assert a["plan_instalments_missed"] == 0 and a["on_active_plan"] is False


def test_beta_late_payer_on_a_plan(features):
    b = features["C2"]
    assert b["invoices_issued"] == 3 and b["invoices_settled"] == 1  # I4 only
    # I4 settled 04-20, due 03-03: 48 days late (> 30: severely)
    assert (b["share_settled_late"], b["share_settled_severely_late"]) == (1.0, 1.0)
    assert b["mean_days_late"] == 48.0 and b["weighted_mean_days_late"] == 48.0
    assert b["std_days_late"] is None  # one settled invoice
    assert b["days_late_trend"] is None  # nothing settled in the reference year
    assert b["mean_days_to_pay"] == 78.0
    # paid at all: I4 (2 payments), I5 (2 payments, still open): 2 / 2
    assert b["partial_payment_rate"] == 1.0
    # PR2 1000 made 05-01 for 05-15: paid in [05-01, 05-18] = P5 500.25 < 1000, 05-18 < 06-30
    assert (b["promises_made"], b["promises_kept"], b["promises_broken"], b["promises_pending"]) == (1, 0, 1, 0)
    assert b["days_since_last_payment"] == 5  # P7 on 06-25
    assert b["unapplied_cash"] == 300.0  # P7
    # I5 2500 - 500.25 - 500 = 1499.75, I6 1200, both overdue
    assert (b["open_balance"], b["overdue_balance"], b["open_invoices"]) == (2699.75, 2699.75, 2)
    assert b["credit_limit_use"] is None  # no limit
    assert b["oldest_dpd"] == 77  # I5 due 04-14
    assert b["tenure_days"] == 394  # 2025-06-01 -> 2026-06-30 = 365 + 29
    assert b["terms_days"] == 30.0  # no terms: median of (30, 30, 45) days
    assert b["contacts_last_90_days"] == 2 and b["last_contact_date"] == date(2026, 6, 10)
    # PL1 500 on 06-01, 06-15, 07-01; paid since 05-29 (06-01 - 3 days): P6 500 + P7 300 = 800.
    # 06-01 (cumulated 500 <= 800): covered; 06-15 (1000 > 800, 06-18 < 06-30): missed;
    # 07-01: not yet due
    assert b["plan_instalments_missed"] == 1
    assert b["on_active_plan"] is True  # 06-01 <= 06-30 <= 07-01 + 3


def test_gamma_disputes_and_credit_notes(features):
    c = features["C3"]
    # I9 fully credited 06-25: settled 5 days after issue, 55 days before due
    assert (c["invoices_issued"], c["invoices_settled"]) == (3, 1)
    assert (c["share_settled_late"], c["mean_days_late"], c["mean_days_to_pay"]) == (0.0, -55.0, 5.0)
    assert c["partial_payment_rate"] == 1.0  # I7: one payment, still open
    # D1 on I7 (open), D2 on I8 (resolved 06-05): 2 disputed invoices of 3, 1 open dispute
    assert c["dispute_rate"] == pytest.approx(2 / 3) and c["open_disputes"] == 1
    # PR3 made 06-20 for 06-28: grace runs to 07-01 >= 06-30, nothing paid since: pending
    assert (c["promises_made"], c["promises_kept"], c["promises_broken"], c["promises_pending"]) == (1, 0, 0, 1)
    assert c["days_since_last_payment"] == 112  # P8 03-10 -> 06-30: 21 + 30 + 31 + 30
    # I7 4000 - 400 - 1000 = 2600 + I8 1800 = 4400; 4400 / 5000
    assert (c["open_balance"], c["overdue_balance"], c["credit_limit_use"]) == (4400.0, 4400.0, 0.88)
    assert c["oldest_dpd"] == 151
    assert c["tenure_days"] == 211  # no created date: first invoice 2025-12-01 -> 2026-06-30
    assert c["terms_days"] == 60.0
    assert c["contacts_last_90_days"] == 1  # K4 06-22; K3 03-15 is before 04-01
    assert c["last_contact_date"] == date(2026, 6, 22)


def test_delta_new_customer(features):
    d = features["C4"]
    assert (d["invoices_issued"], d["invoices_settled"], d["mean_days_late"]) == (1, 1, -20.0)
    assert d["promises_made"] == 0 and d["promises_pending"] == 0  # promises present, none
    assert (d["open_balance"], d["open_invoices"], d["credit_limit_use"]) == (0.0, 0, 0.0)
    assert d["oldest_dpd"] is None  # nothing open
    assert d["tenure_days"] == 60  # created 2026-05-01
    assert d["days_since_last_payment"] == 15 and d["on_active_plan"] is False


def test_promise_turns_broken_only_after_its_grace(hand_portfolio, hand_portfolio_with_future):
    # PR3 promised for 06-28, grace 3 days: pending up to 07-01, broken from 07-02
    assert features_by_customer(hand_portfolio, date(2026, 7, 1))["C3"]["promises_pending"] == 1
    late = features_by_customer(hand_portfolio, date(2026, 7, 2))["C3"]
    assert (late["promises_broken"], late["promises_pending"]) == (1, 0)
    # with P10 (1000 on 07-01) visible, it is kept
    paid = features_by_customer(hand_portfolio_with_future, date(2026, 7, 2))["C3"]
    assert (paid["promises_kept"], paid["promises_broken"]) == (1, 0)


def test_nothing_after_as_of_changes_the_features(hand_portfolio, hand_portfolio_with_future, as_of):
    expected = customer_features(hand_portfolio, as_of).collect().sort("customer_id")
    got = customer_features(hand_portfolio_with_future, as_of).collect().sort("customer_id")
    assert_frame_equal(got, expected)
    # C5 (created 07-10) appears once it exists
    later = features_by_customer(hand_portfolio_with_future, date(2026, 7, 10))
    assert "C5" in later and later["C5"]["invoices_issued"] == 0


def test_customer_known_through_an_invoice():
    tables = {
        "customers": {"customer_id": ["C", "D"], "name": ["C", "D"],
                      "created_date": [date(2026, 9, 1), date(2026, 9, 1)]},
        "invoices": {
            "invoice_id": ["I"], "customer_id": ["C"], "issue_date": [date(2026, 1, 1)],
            "due_date": [date(2026, 1, 31)], "amount": [100.0], "currency": ["EUR"],
        },
    }  # fmt: skip
    # C has an invoice before its recorded creation; D is created after as_of
    assert list(features_by_customer(portfolio_of(tables), date(2026, 2, 1))) == ["C"]


def test_an_unapplied_payment_of_another_invoice_balance_pays_no_plan():
    """A plan on invoice P (two instalments of 500.00); 800.00 arrives without reference on the
    first instalment's day, exactly the balance of invoice O, which the plan does not name: it
    is O's payment, so the instalment is missed. 500.00 (P's instalment) keeps the plan."""
    as_of = date(2026, 11, 20)

    def missed(amount: float) -> int:
        tables = {
            "customers": {"customer_id": ["C"], "name": ["C"]},
            "invoices": {
                "invoice_id": ["P", "O"], "customer_id": ["C", "C"],
                "issue_date": [date(2026, 9, 1)] * 2,
                "due_date": [date(2026, 10, 1), date(2026, 10, 20)],
                "amount": [1000.0, 800.0], "currency": ["EUR"] * 2,
            },
            "payments": {
                "payment_id": ["Y"], "customer_id": ["C"], "payment_date": [date(2026, 11, 1)],
                "amount": [amount], "invoice_id": [None],
            },
            "payment_plans": {
                "plan_id": ["PL", "PL"], "customer_id": ["C", "C"],
                "instalment_date": [date(2026, 11, 1), date(2026, 12, 1)],
                "amount": [500.0, 500.0], "invoice_id": ["P", "P"],
                "agreed_date": [date(2026, 10, 15)] * 2,
            },
        }  # fmt: skip
        return features_by_customer(portfolio_of(tables), as_of)["C"]["plan_instalments_missed"]

    assert (missed(800.0), missed(500.0)) == (1, 0)


def test_absent_tables_give_null_features(minimal_portfolio, as_of):
    frame = customer_features(minimal_portfolio, as_of).collect()
    for table, columns in FEATURES_FROM.items():
        for column in columns:
            assert frame[column].null_count() == frame.height, (table, column)
    # from invoices alone: balances, tenure and terms are still known
    assert frame.sort("customer_id")["open_balance"].to_list() == [4500.0, 6700.0, 6700.0, 600.0]
    assert frame["tenure_days"].null_count() == 0


def test_present_but_empty_tables_give_zero_counts(as_of):
    tables = {name: HAND_TABLES[name] for name in ("customers", "invoices")}
    for name in ("payments", "disputes", "promises", "contacts", "payment_plans", "credit_notes"):
        tables[name] = empty_frame(name)
    frame = customer_features(portfolio_of(tables), as_of).collect()
    for column in ("invoices_settled", "open_disputes", "promises_made", "promises_broken",
                   "contacts_last_90_days", "plan_instalments_missed"):  # fmt: skip
        assert frame[column].to_list() == [0] * 4, column
    assert frame["unapplied_cash"].to_list() == [0.0] * 4
    assert frame["dispute_rate"].to_list() == [0.0] * 4
    assert frame["on_active_plan"].to_list() == [False] * 4
    # nothing to average or date: null
    assert frame["mean_days_late"].null_count() == 4
    assert frame["days_since_last_payment"].null_count() == 4


def test_lazy_and_streaming_agree(hand_portfolio, as_of):
    lazy = customer_features(hand_portfolio, as_of)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(
        lazy.collect().sort("customer_id"), lazy.collect(engine="streaming").sort("customer_id")
    )


@settings(max_examples=30, deadline=None)
@given(random_portfolios())
def test_feature_invariants(generated):
    portfolio, as_of = generated
    frame = customer_features(portfolio, as_of).collect()
    assert frame["customer_id"].is_unique().all()
    for share in ("share_settled_late", "partial_payment_rate", "dispute_rate"):
        values = frame[share].drop_nulls()
        assert ((values >= 0) & (values <= 1)).all(), share
    assert (frame["invoices_settled"] <= frame["invoices_issued"]).all()
    assert (frame["overdue_balance"] <= frame["open_balance"]).all()
