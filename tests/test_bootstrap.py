"""Customer-cluster bootstrap intervals (workbench.bootstrap): the weighted metrics against
scikit-learn's own with sample_weight, the cluster draw, the paired differences, the shape of
the JSON-ready result and its reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from workbench.bootstrap import (
    cluster_bootstrap,
    resampled_metrics,
    weighted_average_precision,
    weighted_brier,
    weighted_roc_auc,
)

SKLEARN = {
    "roc_auc": (weighted_roc_auc, roc_auc_score),
    "average_precision": (weighted_average_precision, average_precision_score),
    "brier": (weighted_brier, brier_score_loss),
}


def portfolio(customers: int, rows_per_customer: int, seed: int = 0, repeat: int = 1):
    """Rows of ``customers`` customers with a customer-level risk (correlated rows), a good
    score, a weak one and a coarse one; ``repeat`` copies the customers under new ids."""
    rng = np.random.default_rng(seed)
    risk = np.repeat(rng.normal(size=customers), rows_per_customer)
    label = (rng.random(len(risk)) < 1 / (1 + np.exp(-2 * risk))).astype(int)
    good = 1 / (1 + np.exp(-(2 * risk + rng.normal(scale=0.3, size=len(risk)))))
    weak = np.clip(0.5 + 0.1 * risk + rng.normal(scale=0.3, size=len(risk)), 0, 1)
    ids = np.repeat([f"C{i:04d}" for i in range(customers)], rows_per_customer)
    scores = {"model": good, "baseline_dpd": weak, "baseline_customer_late_rate": np.round(good, 1)}
    if repeat > 1:
        ids = np.concatenate([np.char.add(f"r{r}-", ids) for r in range(repeat)])
        label = np.tile(label, repeat)
        scores = {name: np.tile(values, repeat) for name, values in scores.items()}
    return label, scores, ids


def draws_of_the_documented_rule(n_clusters: int, resamples: int, seed: int) -> np.ndarray:
    """Customer counts per resample, drawn as the module docstring says (independent of the
    module's own code)."""
    rng = np.random.default_rng(seed)
    return np.array(
        [np.bincount(rng.integers(0, n_clusters, size=n_clusters), minlength=n_clusters) for _ in range(resamples)]
    )


# --- the weighted metrics -------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_weighted_metrics_equal_sklearn_with_sample_weight(decimals) -> None:
    rng = np.random.default_rng(7)
    n, customers = 400, 40
    label = rng.integers(0, 2, n)
    score = rng.random(n) * 0.6 + 0.4 * label
    if decimals is not None:  # many tied scores (0 decimals: only 0.0 and 1.0)
        score = np.round(score, decimals)
    cluster = rng.integers(0, customers, n)
    # Weights as the bootstrap makes them (customer counts, many zeros), plus hand rows: all
    # ones, zeros on whole tied groups, fractional weights.
    counts = draws_of_the_documented_rule(customers, 6, seed=3)
    weights = np.vstack([
        counts[:, cluster],
        np.ones(n),
        np.where(score == score.max(), 0, 1 + (np.arange(n) % 3)),
        np.where(np.arange(n) % 2 == 0, 0.0, rng.random(n) * 5),
    ])  # fmt: skip
    assert (weights == 0).any(axis=1)[:6].all()
    for name, (ours, theirs) in SKLEARN.items():
        got = ours(label, score, weights)
        assert got.shape == (len(weights),)
        for row, value in zip(weights, got, strict=True):
            assert value == pytest.approx(theirs(label, score, sample_weight=row), abs=1e-12, rel=0), name


def test_weighted_ranking_metrics_are_nan_when_one_class_has_weight() -> None:
    label = np.array([0, 0, 1, 1])
    score = np.array([0.1, 0.4, 0.35, 0.8])
    weights = np.array([[1, 1, 0, 0], [0, 0, 2, 1], [1, 0, 0, 1]])
    for metric in (weighted_roc_auc, weighted_average_precision):
        got = metric(label, score, weights)
        assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == 1.0
    assert weighted_roc_auc(label, score, [1, 1, 1, 1])[0] == 0.75  # a 1-d vector is one row


# --- the result ------------------------------------------------------------------------------


def test_estimates_equal_the_plain_sklearn_metrics_and_the_dict_is_json_ready() -> None:
    label, scores, ids = portfolio(60, 5)
    result = cluster_bootstrap(label, scores, ids, resamples=200)
    assert result["resamples"] == 200 and result["level"] == 0.95 and result["reference"] == "model"
    assert result["clusters"] == 60 and result["rows"] == 300
    assert set(result["metrics"]) == set(scores)
    assert set(result["differences"]) == {"baseline_dpd", "baseline_customer_late_rate"}
    for name, values in scores.items():
        plain = {
            "roc_auc": roc_auc_score(label, values),
            "average_precision": average_precision_score(label, values),
            "brier": brier_score_loss(label, values),
        }
        for metric, value in plain.items():
            assert result["metrics"][name][metric]["estimate"] == round(value, 6)
        for metric, value in plain.items():
            if name != "model":
                reference = result["metrics"]["model"][metric]["estimate"]
                assert result["differences"][name][metric]["estimate"] == pytest.approx(reference - value, abs=1.1e-6)
    assert json.loads(json.dumps(result)) == result

    def plain_types(node) -> bool:
        if isinstance(node, dict):
            return all(isinstance(k, str) and plain_types(v) for k, v in node.items())
        return node is None or type(node) in (int, float, str)

    assert plain_types(result)


def test_customers_are_drawn_together_not_rows() -> None:
    # Customer "a": 3 rows, all late, scored 0.9; customer "b": 5 rows, all paid, scored 0.2.
    label = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.9, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2])
    ids = np.array(["a", "a", "a", "b", "b", "b", "b", "b"])
    resamples = 400
    resampled = resampled_metrics(label, {"model": score}, ids, resamples=resamples, seed=11)["model"]
    counts = draws_of_the_documented_rule(2, resamples, seed=11)
    both_drawn = (counts > 0).all(axis=1)
    # AUC is defined exactly when both customers are drawn (a row bootstrap of 8 rows would
    # nearly always draw both classes); then it is 1.
    assert 0 < both_drawn.sum() < resamples
    assert np.array_equal(~np.isnan(resampled["roc_auc"]), both_drawn)
    assert (resampled["roc_auc"][both_drawn] == 1.0).all()
    # Brier takes only three values: 0.01 ("a" twice), 0.04 ("b" twice), 0.23 / 8 (each once).
    expected = np.where(counts[:, 0] == 2, 0.01, np.where(counts[:, 1] == 2, 0.04, (3 * 0.01 + 5 * 0.04) / 8))
    assert np.allclose(resampled["brier"], expected, rtol=0, atol=1e-15)
    result = cluster_bootstrap(label, {"model": score}, ids, resamples=resamples, seed=11)
    assert result["clusters"] == 2 and result["differences"] == {}
    # A quarter of the resamples draw only "a", a quarter only "b": the extremes are the interval.
    assert result["metrics"]["model"]["brier"]["low"] == 0.01
    assert result["metrics"]["model"]["brier"]["high"] == 0.04
    assert result["metrics"]["model"]["roc_auc"] == {"estimate": 1.0, "low": 1.0, "high": 1.0}


def test_a_metric_never_defined_is_none() -> None:
    label = np.zeros(6, dtype=int)
    score = np.linspace(0.1, 0.6, 6)
    result = cluster_bootstrap(label, {"model": score, "other": score[::-1]}, np.arange(6) % 3, resamples=50)
    assert result["metrics"]["model"]["roc_auc"] == {"estimate": None, "low": None, "high": None}
    assert result["differences"]["other"]["average_precision"] == {
        "estimate": None, "low": None, "high": None, "better_share": None,
    }  # fmt: skip
    brier = result["metrics"]["model"]["brier"]
    assert brier["estimate"] == round(float(np.mean(score**2)), 6) and brier["low"] <= brier["high"]


def test_differences_are_paired() -> None:
    label, scores, ids = portfolio(80, 4, seed=2)
    rng = np.random.default_rng(5)
    both = {
        "model": scores["model"],
        "itself": scores["model"].copy(),
        "clearly_better": np.clip(label + rng.normal(scale=0.1, size=len(label)), 0, 1),
        "noise": rng.random(len(label)),
        "rounded": scores["baseline_customer_late_rate"],  # the model's score to 1 decimal
    }
    result = cluster_bootstrap(label, both, ids, resamples=300)
    for metric in ("roc_auc", "average_precision", "brier"):
        same = result["differences"]["itself"][metric]
        assert (same["estimate"], same["low"], same["high"], same["better_share"]) == (0.0, 0.0, 0.0, 0.0)
    against_noise = cluster_bootstrap(label, both, ids, reference="clearly_better", resamples=300)
    versus = against_noise["differences"]["noise"]
    assert versus["roc_auc"]["low"] > 0 and versus["average_precision"]["low"] > 0
    assert versus["brier"]["high"] < 0  # reference - other: negative, the reference is better
    assert all(versus[m]["better_share"] == 1.0 for m in versus)
    # Paired: the difference interval is narrower than the spread of either metric would allow.
    model = result["metrics"]["model"]["roc_auc"]
    other = result["metrics"]["rounded"]["roc_auc"]
    paired = result["differences"]["rounded"]["roc_auc"]
    assert paired["high"] - paired["low"] < (model["high"] - model["low"]) / 2
    assert paired["high"] - paired["low"] < (other["high"] - other["low"]) / 2


def test_intervals_contain_the_estimate_and_shrink_with_more_customers() -> None:
    small = cluster_bootstrap(*portfolio(50, 6, seed=4), resamples=400)
    large = cluster_bootstrap(*portfolio(50, 6, seed=4, repeat=4), resamples=400)
    assert large["clusters"] == 4 * small["clusters"] == 200
    for result in (small, large):
        for name, metrics in result["metrics"].items():
            for metric, v in metrics.items():
                assert v["low"] <= v["estimate"] <= v["high"], (name, metric, v)
        for name, metrics in result["differences"].items():
            for metric, v in metrics.items():
                assert v["low"] <= v["estimate"] <= v["high"], (name, metric, v)
    for name in small["metrics"]:
        for metric in ("roc_auc", "average_precision", "brier"):
            before, after = small["metrics"][name][metric], large["metrics"][name][metric]
            assert after["estimate"] == pytest.approx(before["estimate"], abs=2e-6)  # same pattern
            # Four times the customers: about half the width (sqrt 4).
            assert after["high"] - after["low"] < 0.7 * (before["high"] - before["low"]), (name, metric)


def test_reproducible_and_seeded() -> None:
    label, scores, ids = portfolio(40, 5, seed=9)
    first = cluster_bootstrap(label, scores, ids, resamples=150, seed=3)
    assert cluster_bootstrap(label, scores, ids, resamples=150, seed=3) == first
    other = cluster_bootstrap(label, scores, ids, resamples=150, seed=4)
    assert other["metrics"]["model"]["roc_auc"]["estimate"] == first["metrics"]["model"]["roc_auc"]["estimate"]
    assert (other["metrics"]["model"]["roc_auc"]["low"], other["metrics"]["model"]["roc_auc"]["high"]) != (
        first["metrics"]["model"]["roc_auc"]["low"], first["metrics"]["model"]["roc_auc"]["high"],
    )  # fmt: skip


def test_more_resamples_than_one_block() -> None:
    """Blocks of resamples (at most 100) give the same values as the documented draw."""
    label, scores, ids = portfolio(30, 4, seed=1)
    resampled = resampled_metrics(label, scores, ids, resamples=230, seed=8)
    _, codes = np.unique(ids, return_inverse=True)
    weights = draws_of_the_documented_rule(30, 230, seed=8)[:, codes]
    for name, values in scores.items():
        for metric, (ours, _) in SKLEARN.items():
            assert np.allclose(resampled[name][metric], ours(label, values, weights), rtol=0, atol=1e-12)
    for b in (0, 99, 100, 229):
        assert resampled["model"]["roc_auc"][b] == pytest.approx(
            roc_auc_score(label, scores["model"], sample_weight=weights[b]), abs=1e-12
        )


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_low_and_high_are_the_percentiles_of_the_resampled_values(level) -> None:
    label, scores, ids = portfolio(30, 4, seed=6)
    result = cluster_bootstrap(label, scores, ids, resamples=120, seed=2, level=level)
    resampled = resampled_metrics(label, scores, ids, resamples=120, seed=2)
    tail = (1 - level) / 2 * 100
    for name in scores:
        for metric in ("roc_auc", "brier"):
            values = resampled[name][metric]
            low, high = np.percentile(values, [tail, 100 - tail])
            assert result["metrics"][name][metric]["low"] == round(low, 6)
            assert result["metrics"][name][metric]["high"] == round(high, 6)
        if name != "model":
            paired = resampled["model"]["brier"] - resampled[name]["brier"]
            low, high = np.percentile(paired, [tail, 100 - tail])
            brier = result["differences"][name]["brier"]
            assert (brier["low"], brier["high"]) == (round(low, 6), round(high, 6))
            assert brier["better_share"] == round(float(np.mean(paired < 0)), 6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: {**a, "label": a["label"][:-1]}, "rows"),
        (lambda a: {**a, "label": np.where(a["label"] == 1, 2, 0)}, "0 and 1"),
        (lambda a: {**a, "label": np.where(a["label"] == 1, np.nan, 0.0)}, "0 and 1"),
        (lambda a: {**a, "clusters": a["clusters"][:-1]}, "clusters"),
        (lambda a: {**a, "probabilities": {"model": np.r_[a["probabilities"]["model"][:-1], np.nan]}}, "finite"),
        (lambda a: {**a, "probabilities": {"model": np.r_[a["probabilities"]["model"][:-1], np.inf]}}, "finite"),
        (lambda a: {**a, "probabilities": {"model": a["probabilities"]["model"][:-1]}}, "shape"),
        (lambda a: {**a, "probabilities": {"baseline_dpd": a["probabilities"]["model"]}}, "reference"),
    ],
)
def test_bad_inputs_raise_value_error(change, message) -> None:
    label = np.array([0, 1, 1, 0, 1])
    arguments = {"label": label, "probabilities": {"model": np.linspace(0, 1, 5)}, "clusters": np.array(list("aabbc"))}
    cluster_bootstrap(**arguments, resamples=5)  # the unchanged arguments are fine
    assert cluster_bootstrap(label.astype(bool), arguments["probabilities"], arguments["clusters"], resamples=5)
    with pytest.raises(ValueError, match=message):
        cluster_bootstrap(**change(arguments), resamples=5)
