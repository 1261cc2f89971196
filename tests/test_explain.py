"""Explanations: risk reasons in words per customer (hand-worked), and the global permutation
importance."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import polars as pl
import pytest
from threadpoolctl import threadpool_limits
from test_model import AS_OF, HORIZON, generated

from workbench.explain import customer_reasons, global_importance
from workbench.features import FEATURES, customer_features
from workbench.policy import DEFAULT_POLICY
from workbench.snapshots import MODEL_FEATURES, training_set

NEUTRAL = {
    "invoices_issued": 12, "invoices_settled": 10, "share_settled_late": 0.1,
    "share_settled_severely_late": 0.0, "mean_days_late": -2.0, "weighted_mean_days_late": -2.0,
    "std_days_late": 3.0, "days_late_trend": 0.0, "mean_days_to_pay": 28.0,
    "partial_payment_rate": 0.0, "dispute_rate": 0.0, "open_disputes": 0, "promises_made": 0,
    "promises_kept": 0, "promises_broken": 0, "promises_pending": 0,
    "days_since_last_payment": 10, "unapplied_cash": 0.0, "customer_credit": 0.0,
    "open_balance": 1000.0,
    "overdue_balance": 0.0, "open_invoices": 2, "credit_limit_use": 0.1, "oldest_dpd": -5,
    "tenure_days": 800, "terms_days": 30.0, "contacts_last_90_days": 0, "last_contact_date": None,
    "plan_instalments_missed": 0, "on_active_plan": False,
}  # fmt: skip
"""A reliable customer: no reason applies."""


def features_of(**customers: dict) -> pl.DataFrame:
    """A customer_features-like frame: one row per keyword, NEUTRAL values overridden."""
    rows = [{"customer_id": cid, **NEUTRAL, **values} for cid, values in customers.items()]
    return pl.DataFrame(rows, schema_overrides={"last_contact_date": pl.Date}).select(FEATURES)


def reasons_of(frame: pl.DataFrame, **kwargs) -> dict[str, str]:
    result = customer_reasons(frame, **kwargs)
    assert result.columns == ["customer_id", "risk_reasons"]
    return dict(result.iter_rows())


def test_reasons_in_words():
    frame = features_of(
        reliable={},
        late={"share_settled_late": 0.7, "mean_days_late": 23.4, "days_late_trend": 9.2},
        promises={"promises_broken": 2},
        disputes={"open_disputes": 3},
        stopped={"days_since_last_payment": 75, "overdue_balance": 500.0},
        stopped_but_nothing_due={"days_since_last_payment": 75},
        new={"tenure_days": 45, "invoices_settled": 1},
    )
    reasons = reasons_of(frame)
    assert reasons["reliable"] == ""
    # 0.7 of 10 settled invoices = 7; mean 23.4 days late, trend +9.2 days
    assert reasons["late"] == (
        "paid 7 of 10 settled invoices late; "
        "average 23 days late, getting later (+9 days vs the year before)"
    )
    assert reasons["promises"] == "2 promises to pay broken"
    assert reasons["disputes"] == "3 open disputes"
    assert reasons["stopped"] == "no payment for 75 days"
    assert reasons["stopped_but_nothing_due"] == ""  # nothing overdue: no reason to worry
    assert reasons["new"] == "new customer (45 days), little history"


def test_top_reasons_are_the_most_serious_first():
    frame = features_of(
        many={
            "promises_broken": 1, "plan_instalments_missed": 2, "oldest_dpd": 64,
            "share_settled_late": 0.9, "open_disputes": 1,
        }  # fmt: skip
    )
    assert reasons_of(frame)["many"] == (
        "1 promise to pay broken; missed 2 payment-plan instalments; "
        "oldest open invoice 64 days past due"
    )
    assert reasons_of(frame, top=1)["many"] == "1 promise to pay broken"
    assert reasons_of(frame, top=10)["many"].count(";") == 4


def test_reasons_need_enough_history_and_ignore_nulls():
    frame = features_of(
        # 2 settled invoices, both late: below reason_min_settled (3)
        few={"invoices_settled": 2, "share_settled_late": 1.0, "mean_days_late": 40.0},
        unknown={"share_settled_late": None, "mean_days_late": None, "oldest_dpd": None,
                 "credit_limit_use": None, "days_late_trend": None},  # fmt: skip
    )
    reasons = reasons_of(frame)
    assert reasons == {"few": "", "unknown": ""}


def test_thresholds_come_from_the_policy():
    frame = features_of(late={"share_settled_late": 0.6})
    assert reasons_of(frame)["late"] == "paid 6 of 10 settled invoices late"
    strict = replace(DEFAULT_POLICY, model=replace(DEFAULT_POLICY.model, reason_late_share=0.8))
    assert reasons_of(frame, policy=strict)["late"] == ""


def test_reasons_of_the_hand_worked_portfolio(hand_portfolio, as_of):
    # see conftest.py and test_features.py for the features of each customer on 2026-06-30
    reasons = reasons_of(customer_features(hand_portfolio, as_of).collect())
    # C1: 2 settled invoices (too few to judge), nothing overdue, 545 days of tenure
    assert reasons["C1"] == ""
    # C2: PR2 broken, PL1's 06-15 instalment missed, I5 77 days past due
    assert reasons["C2"] == (
        "1 promise to pay broken; missed 1 payment-plan instalment; "
        "oldest open invoice 77 days past due"
    )
    # C3: I7 151 days past due, D1 open, last payment 03-10 (112 days) with 4400 overdue;
    # credit limit use 0.88 is under the 0.9 threshold
    assert reasons["C3"] == (
        "oldest open invoice 151 days past due; 1 open dispute; no payment for 112 days"
    )
    # C4: created 2026-05-01
    assert reasons["C4"] == "new customer (60 days), little history"


@pytest.fixture(scope="module")
def one_snapshot() -> pl.DataFrame:
    return training_set(generated(), [AS_OF - timedelta(days=HORIZON)], HORIZON)


@pytest.fixture(scope="module")
def small_pipeline(one_snapshot):
    """A pipeline of the model's kind with 5 trees, fitted on one snapshot (cheap to permute),
    over every feature (the empty ones filled with 0 so that shuffling them is a no-op)."""
    from workbench.riskfit import TreeShape, _pipeline

    features = one_snapshot.select(MODEL_FEATURES)
    empty = [c for c in features.columns if features[c].null_count() == features.height]
    pipeline = _pipeline(list(MODEL_FEATURES), TreeShape(3, 20, 5), DEFAULT_POLICY)
    with threadpool_limits(1):
        return pipeline.fit(features.with_columns(pl.col(empty).fill_null(0.0)),
                            one_snapshot["label"].cast(pl.Int8).to_numpy())  # fmt: skip


def test_global_importance_is_seeded_and_complete(small_pipeline, one_snapshot):
    features = list(MODEL_FEATURES)
    with threadpool_limits(1):
        first = global_importance(small_pipeline, one_snapshot, features)
        assert first == global_importance(small_pipeline, one_snapshot, features)
    assert {row["feature"] for row in first} == set(MODEL_FEATURES)
    assert [row["importance"] for row in first] == sorted((row["importance"] for row in first), reverse=True)
    by_feature = {row["feature"]: row["importance"] for row in first}
    # one snapshot: the month is the same on every row, shuffling it changes nothing
    assert by_feature["snapshot_month"] == 0.0
    assert max(by_feature.values()) > 0.01


def test_global_importance_of_one_outcome_is_empty(small_pipeline, one_snapshot):
    rows = one_snapshot.filter(pl.col("label"))
    assert global_importance(small_pipeline, rows, list(MODEL_FEATURES)) == []
