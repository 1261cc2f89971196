"""The risk model's fitting procedure (workbench.riskfit): usable features, forward-chained
blocks, the hyper-parameter search, Platt scaling, and the walk forward over cut-offs, each
checked against a hand-worked case or recomputed independently from the rows.

Fits run on one thread, with a small grid (2 depths x 2 leaf sizes x 2 iteration counts) on a
60-customer generated portfolio, to keep the suite fast.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from threadpoolctl import threadpool_limits

from workbench import riskfit
from workbench.errors import InputError
from workbench.generate import generate_portfolio
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.riskfit import (
    Block,
    calibrated,
    choose_method,
    fit_calibrator,
    forward_blocks,
    select_parameters,
    usable_features,
    walk_forward,
)
from workbench.snapshots import MODEL_FEATURES, history_snapshots, training_set

START, END = date(2024, 11, 1), date(2026, 6, 30)
H = 30


def small_policy(**changes) -> Policy:
    model = replace(
        DEFAULT_POLICY.model,
        grid_max_depth=(2, 3),
        grid_min_samples_leaf=(20, 200),
        grid_max_iter=(30, 60),
        bootstrap_resamples=100,
        **changes,
    )
    return replace(DEFAULT_POLICY, model=model)


@functools.cache
def rows() -> pl.DataFrame:
    tables = generate_portfolio(customers=60, seed=3, start=START, end=END)
    tables.pop("ground_truth")
    portfolio = Portfolio.from_frames(tables)
    return training_set(portfolio, history_snapshots(portfolio, END), H)


def cutoffs() -> list[date]:
    last = END - timedelta(days=H + 84)
    return [last - timedelta(weeks=12), last]


# --- features ----------------------------------------------------------------------------------


def test_usable_features_drop_empty_constant_and_duplicates():
    n = 6
    frame = pl.DataFrame(
        {
            name: pl.Series([float(i) * (k + 1) for i in range(n)], dtype=pl.Float32)
            for k, name in enumerate(MODEL_FEATURES)
        }  # fmt: skip
    ).with_columns(
        pl.lit(None, pl.String).alias("country"),  # categorical, missing everywhere
        pl.lit("B2B").alias("customer_type"),  # categorical, one value
        pl.lit(None, pl.Float32).alias("invoice_promises"),  # empty
        pl.lit(3.0, pl.Float32).alias("snapshot_month"),  # constant
        pl.Series([1.0, None, 1.0, 1.0, None, 1.0], dtype=pl.Float32).alias("disputed"),  # kept
        pl.col("days_past_due").alias("customer_oldest_dpd"),  # a copy
    )
    features, dropped = usable_features(frame)
    assert dropped["empty"] == ["country", "invoice_promises"]
    assert dropped["constant"] == ["customer_type", "snapshot_month"]
    # the later copy goes, the first stays (MODEL_FEATURES order)
    first, later = sorted(["days_past_due", "customer_oldest_dpd"], key=list(MODEL_FEATURES).index)
    assert dropped["duplicate"] == {later: first}
    assert "disputed" in features  # one value, but missing on some rows: informative
    assert features == [
        f for f in MODEL_FEATURES
        if f not in {"country", "invoice_promises", "customer_type", "snapshot_month", later}
    ]  # fmt: skip
    # scaled copies of one column (k x i) are not duplicates: only exact equality counts
    assert len(features) == len(MODEL_FEATURES) - 5


def test_usable_features_on_invoices_and_payments_only():
    """No contacts, promises, plans, disputes: their features are missing on every row and
    are dropped, instead of being filled with 0 and fitted on."""
    tables = generate_portfolio(customers=20, seed=4, start=START, end=date(2025, 9, 30))
    tables.pop("ground_truth")
    reduced = {k: tables[k] for k in ("customers", "invoices", "payments")}
    portfolio = Portfolio.from_frames(reduced)
    frame = training_set(portfolio, history_snapshots(portfolio, date(2025, 9, 30)), H)
    features, dropped = usable_features(frame)
    for name in ("invoice_contacts", "invoice_promises", "disputed", "customer_contacts"):
        assert name in dropped["empty"], name
        assert name not in features
    # an independent count: every column of the frame that is entirely null
    empty = [c for c in MODEL_FEATURES if frame[c].null_count() == frame.height]
    assert dropped["empty"] == empty


# --- blocks ------------------------------------------------------------------------------------


def test_forward_blocks_cover_the_latest_share_and_train_on_known_labels():
    dates = [date(2025, 1, 1) + timedelta(weeks=k) for k in range(30)]
    blocks = forward_blocks(dates, H, DEFAULT_POLICY)
    assert len(blocks) == 4
    # latest 60 % of 30 dates = 18 dates, cut into 4 consecutive blocks (5, 5, 4, 4)
    covered = [d for b in blocks for d in dates if b.first <= d <= b.last]
    assert covered == dates[12:]
    assert [sum(b.first <= d <= b.last for d in dates) for b in blocks] == [5, 5, 4, 4]
    for block in blocks:
        train, valid = riskfit._block_rows(
            pl.DataFrame({"snapshot_date": dates, "label": [True] * 30}), block, H
        )
        assert (train["snapshot_date"] + timedelta(days=H) <= block.first).all()
        assert valid["snapshot_date"].min() == block.first
        # the 4 weeks before the block are neither trained on nor validated: labels unknown
        assert train["snapshot_date"].max() == block.first - timedelta(weeks=5)


def test_forward_blocks_refuse_too_short_a_history():
    dates = [date(2025, 1, 1) + timedelta(weeks=k) for k in range(5)]
    with pytest.raises(InputError, match="not enough history to choose the model's settings"):
        forward_blocks(dates, H, DEFAULT_POLICY)


# --- calibration -------------------------------------------------------------------------------


def test_platt_scaling_keeps_the_ranking_isotonic_ties_it():
    rng = np.random.default_rng(0)
    score = rng.normal(size=1500)
    label = (rng.random(1500) < 1 / (1 + np.exp(-2 * score))).astype(int)
    platt = calibrated(fit_calibrator(score, label, "sigmoid"), score)
    isotonic = calibrated(fit_calibrator(score, label, "isotonic"), score)
    order = np.argsort(score)
    assert np.all(np.diff(platt[order]) > 0)  # strictly increasing: no tie added
    assert len(np.unique(platt)) == 1500
    assert len(np.unique(isotonic)) < 100  # isotonic steps tie most rows
    # Platt's slope recovers the simulated 2 (a logistic model of the log-odds)
    slope = fit_calibrator(score, label, "sigmoid").coef_[0, 0]
    assert 1.6 < slope < 2.4


def test_choose_method_needs_enough_rows_for_isotonic():
    rng = np.random.default_rng(1)
    dates = [date(2025, 1, 1) + timedelta(weeks=k) for k in range(8)]
    n = 4000
    score = rng.normal(size=n)
    # a step-shaped truth isotonic fits and Platt cannot
    label = (rng.random(n) < np.where(score > 0, 0.9, 0.1)).astype(bool)
    oof = pl.DataFrame(
        {
            "snapshot_date": [dates[i % 8] for i in range(n)],
            "customer_id": ["C"] * n,
            "label": label,
            "score": score,
        }  # fmt: skip
    )
    blocks = [Block(dates[2 * k], dates[2 * k + 1]) for k in range(4)]
    method, comparison = choose_method(oof, blocks, small_policy())
    assert method == "sigmoid" and comparison["oof_rows"] == n < 10_000
    assert comparison["forward_log_loss"]["isotonic"] < comparison["forward_log_loss"]["sigmoid"]
    method, _ = choose_method(oof, blocks, small_policy(isotonic_min_rows=1000))
    assert method == "isotonic"
    method, _ = choose_method(
        oof, blocks, small_policy(calibration_method="sigmoid", isotonic_min_rows=0)
    )
    assert method == "sigmoid"


# --- search and walk forward -------------------------------------------------------------------


def test_search_scores_every_grid_point_and_picks_the_lowest_log_loss():
    policy = small_policy()
    data = rows().filter(pl.col("snapshot_date") + timedelta(days=H) <= cutoffs()[0])
    with threadpool_limits(1):
        selection = select_parameters(data, H, policy)
    assert len(selection.table) == 8
    best = min(selection.table, key=lambda r: r["log_loss"])
    assert selection.chosen.as_dict() == {
        k: best[k] for k in ("max_depth", "min_samples_leaf", "max_iter")
    }
    # out-of-fold rows are exactly the validation blocks' rows
    blocks = [
        (date.fromisoformat(b["first"]), date.fromisoformat(b["last"]))
        for b in selection.summary["blocks"]
    ]
    expected = data.filter(
        pl.any_horizontal([pl.col("snapshot_date").is_between(a, b) for a, b in blocks])
    )
    assert selection.oof.height == expected.height == selection.table[0]["rows"]


def _recording(monkeypatch) -> list[int]:
    heights: list[int] = []
    original = riskfit.fit_trees

    def fit_trees(rows_, shape, policy):
        heights.append(rows_.height)
        return original(rows_, shape, policy)

    monkeypatch.setattr(riskfit, "fit_trees", fit_trees)
    return heights


def test_walk_forward_fits_every_training_row_and_calibrates_on_known_oof(monkeypatch):
    policy = small_policy()
    heights = _recording(monkeypatch)
    with threadpool_limits(1):
        walk = walk_forward(rows(), END, H, cutoffs(), policy, production=True)
    known = pl.col("snapshot_date") + timedelta(days=H)
    for evaluation in walk.evaluations:
        n_train = rows().filter(known <= evaluation.cutoff).height
        assert evaluation.train.height == n_train
        assert n_train in heights  # the trees saw every training row, none held out
        first, last = evaluation.test["snapshot_date"].min(), evaluation.test["snapshot_date"].max()
        assert first > evaluation.cutoff and last + timedelta(days=H) <= END
        # the calibrator, refitted independently on the out-of-fold rows known at the cut-off
        oof = walk.oof.filter(known <= evaluation.cutoff)
        again = fit_calibrator(
            oof["score"].to_numpy(), oof["label"].cast(pl.Int8).to_numpy(), "sigmoid"
        )
        assert evaluation.estimator.method == "sigmoid"
        np.testing.assert_allclose(evaluation.estimator.calibrator.coef_, again.coef_, rtol=1e-9)
        p = evaluation.probabilities["model"]
        assert p.shape == (evaluation.test.height,) and np.all((p > 0) & (p < 1))
    # out-of-fold rows: search blocks, then each test period, never twice the same date
    dates = walk.oof["snapshot_date"]
    assert dates.is_sorted() or walk.oof.group_by("snapshot_date").len().height == dates.n_unique()
    # production (fitted side by side with the cut-offs' trees): trees on every row, equal to
    # one fit of them alone; calibrated on every out-of-fold row
    assert rows().height in heights
    again = fit_calibrator(
        walk.oof["score"].to_numpy(), walk.oof["label"].cast(pl.Int8).to_numpy(), "sigmoid"
    )
    np.testing.assert_allclose(walk.production.calibrator.coef_, again.coef_, rtol=1e-9)
    with threadpool_limits(1):
        alone, features, _ = riskfit.fit_trees(rows(), walk.selection.chosen, policy)
    frame = rows().select(features)
    np.testing.assert_array_equal(
        walk.production.decision_function(frame), alone.decision_function(frame)
    )


def test_each_parallel_fit_runs_on_one_openmp_thread():
    """OpenMP's thread count is per thread: the limit must be set inside each worker (a limit
    set by the caller does not reach them), and the caller's own setting is left as it was."""
    from threadpoolctl import threadpool_info

    def openmp_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    before = openmp_threads()
    seen = riskfit.in_parallel([openmp_threads] * 4)
    assert seen and all(threads == [1] * len(threads) and threads for threads in seen)
    assert openmp_threads() == before


def test_walk_forward_never_sees_a_label_after_the_cutoff():
    """Labels of rows whose horizon ends after the first cut-off (s + H > cutoff) are flipped:
    the first evaluation's probabilities must not change (its search, trees and calibration
    only see labels known at its cut-off)."""
    policy = small_policy()
    first = cutoffs()[0]
    later = pl.col("snapshot_date") + timedelta(days=H) > first
    flipped = rows().with_columns(
        label=pl.when(later).then(~pl.col("label")).otherwise(pl.col("label"))
    )
    with threadpool_limits(1):
        a = walk_forward(rows(), END, H, [first], policy).evaluations[0]
        b = walk_forward(flipped, END, H, [first], policy).evaluations[0]
    np.testing.assert_array_equal(a.probabilities["model"], b.probabilities["model"])
    np.testing.assert_array_equal(a.probabilities["baseline_dpd"], b.probabilities["baseline_dpd"])
    assert not a.test["label"].equals(b.test["label"])  # the test labels did change


def test_search_row_cap_is_a_seeded_sample():
    policy = small_policy(search_rows=2_000)
    data = rows().filter(pl.col("snapshot_date") + timedelta(days=H) <= cutoffs()[0])
    assert data.height > 2_000
    with threadpool_limits(1):
        one = select_parameters(data, H, policy)
        two = select_parameters(data, H, policy)
    assert one.summary["search_rows"] == 2_000 and one.summary["rows"] == data.height
    assert one.table == two.table  # same seed, same sample, same scores


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_a_calibrated_estimator_of_either_method_is_safe_to_save(method):
    """Whichever calibration the CV picks, the model file holds only trusted types (save_model
    refuses otherwise, which would turn a successful training into an internal error)."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from workbench.model import TRUSTED_TYPES
    from workbench.riskfit import CalibratedTrees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(int)
    trees = LogisticRegression().fit(x, y)
    calibrator = fit_calibrator(trees.decision_function(x), y, method)
    blob = sio.dumps({"estimator": CalibratedTrees(["a", "b", "c"], trees, calibrator, method)})
    assert set(sio.get_untrusted_types(data=blob)) <= set(TRUSTED_TYPES)
    loaded = sio.loads(blob, trusted=TRUSTED_TYPES)["estimator"]
    np.testing.assert_array_equal(
        loaded.predict_proba(x),
        CalibratedTrees(["a", "b", "c"], trees, calibrator, method).predict_proba(x),
    )
