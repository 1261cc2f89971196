"""Late-payment risk model (DESIGN section 5): calibrated probability that an open invoice is
still unpaid ``horizon_days`` from now, its out-of-time evaluation, scoring and persistence.

The estimator is a scikit-learn pipeline: an ``OrdinalEncoder`` for the categorical customer
attributes (unknown or rare categories become missing) feeding a ``HistGradientBoostingClassifier``
that handles them natively (``categorical_features``), seeded. Its probabilities are calibrated by
``CalibratedClassifierCV`` on a ``FrozenEstimator`` of the fitted pipeline, fitted on a **later**
time slice of training snapshots than the trees (the latest ``model.calibration_share`` of the
snapshot dates), so that calibration sees how the trees do on weeks they were not fitted on.
The trees only use snapshots whose label was known when the calibration slice starts
(``s + H <= first calibration snapshot``): no label window of the tree rows overlaps it.

Isotonic calibration is the default (``model.calibration_method``): training sets have thousands
of calibration rows (a 400-customer portfolio gives about 30 000), enough for the non-parametric
isotonic fit not to overfit, and unlike the sigmoid (Platt) it does not assume the trees'
distortion has the shape of a logistic curve; gradient-boosted trees' errors often do not
(over-confident at the top, a shift of base rate over time). Sigmoid is there for small portfolios.

Evaluation (:func:`train_model`) is out of time, never a random split:

- training rows: snapshots with ``s + H <= cutoff`` (their label was known at the cutoff);
- test rows: snapshots with ``cutoff < s`` and ``s + H <= as_of``; default cutoff
  ``as_of - H - 7 * model.test_weeks`` (a test period of ``test_weeks`` weekly snapshots);
- a rolling-origin backtest repeats this at ``model.backtest_origins`` earlier cutoffs, each
  ``test_weeks`` weeks before the previous one;
- a random split of the same rows is reported as a leakage alarm only.

The **saved** model is not the evaluated one: once evaluated, it is refitted for production on
every labelled snapshot up to ``as_of`` (trees on the earlier part, calibration on the last
slice), so it has seen the latest weeks; the report's metrics are those of the out-of-time test,
the honest estimate of how such a model does on weeks it has not seen.
"""

from __future__ import annotations

import json
import platform
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import atomic_file
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.snapshots import (
    CATEGORICAL_FEATURES,
    KEY_COLUMNS,
    LABEL_COLUMNS,
    MODEL_FEATURES,
    NUMERIC_FEATURES,
    history_snapshots,
    invoice_features,
    training_set,
)

MODEL_FORMAT = "workbench-risk-model"
MODEL_FORMAT_VERSION = 1

TREE_PARAMETERS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 50,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
"""Hyperparameters of the HistGradientBoostingClassifier (fixed, not tuned on the test period)."""

MAX_CATEGORIES = 250
"""Per categorical feature, rarer categories are grouped (the trees take at most 255 bins)."""

TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]
"""Types skops does not trust by default that a risk model file may contain, listed explicitly
(the scikit-learn estimators and numpy types themselves are trusted by skops). Loading a file
that contains any other type fails instead of running it."""

BASELINES = ("baseline_dpd", "baseline_customer_late_rate")
BASELINE_FEATURE = {
    "baseline_dpd": "days_past_due",
    "baseline_customer_late_rate": "customer_share_settled_late",
}
"""The one feature of each baseline (turned into a probability by a logistic regression)."""

METRIC_NAMES = ("roc_auc", "average_precision", "brier", "top_decile_amount_capture")


@dataclass
class RiskModel:
    """A fitted, calibrated risk model and its metadata (see :func:`save_model`).

    ``estimator`` is the scikit-learn ``CalibratedClassifierCV`` (over a frozen pipeline);
    ``metadata`` is JSON-ready: training window, horizon, cutoff, features and their dtypes,
    categories, metrics, versions.
    """

    estimator: Any
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """The model's features, in the order the estimator takes them."""
        return list(self.metadata["features"])

    @property
    def horizon_days(self) -> int:
        return int(self.metadata["horizon_days"])

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Probability (0-1) that each row's invoice is still open ``horizon_days`` after its
        snapshot date. ``frame`` has the columns of :func:`workbench.snapshots.invoice_features`;
        raises :class:`InputError` when its features are not the model's."""
        check_features(self, frame)
        if frame.height == 0:
            return np.zeros(0)
        return self.estimator.predict_proba(frame.select(self.features))[:, 1]


# --- estimator -------------------------------------------------------------------------------


def _pipeline(random_state: int, features: list[str]) -> Any:
    """Unfitted pipeline: categorical columns (first in ``features``) ordinal-encoded, then
    gradient-boosted trees treating them as categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    n_categorical = sum(name in CATEGORICAL_FEATURES for name in features)
    assert list(features[:n_categorical]) == [f for f in features if f in CATEGORICAL_FEATURES]
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_CATEGORIES,
    )
    columns = ColumnTransformer(
        [("categories", encoder, list(range(n_categorical)))],
        remainder="passthrough",
    )
    trees = HistGradientBoostingClassifier(
        categorical_features=list(range(n_categorical)),
        random_state=random_state,
        **TREE_PARAMETERS,
    )
    return Pipeline([("encode", columns), ("trees", trees)])


def _target(rows: pl.DataFrame) -> np.ndarray:
    return rows["label"].cast(pl.Int8).to_numpy()


def _fit_trees(rows: pl.DataFrame, policy: Policy) -> Any:
    """The pipeline fitted on ``rows`` (uncalibrated).

    A numeric feature that is null on every row (e.g. no customer has a trend yet in an early
    backtest) is filled with 0 for the fit: HistGradientBoostingClassifier 1.9 fails to bin an
    all-missing column. The trees cannot split on a constant, so predictions ignore it either way.
    """
    features = rows.select(MODEL_FEATURES)
    empty = [name for name in NUMERIC_FEATURES if features[name].null_count() == features.height]
    features = features.with_columns(pl.col(empty).fill_null(0.0))
    pipeline = _pipeline(policy.model.random_state, list(MODEL_FEATURES))
    pipeline.fit(features, _target(rows))
    return pipeline


def _fit_calibrated(trees_rows: pl.DataFrame, calibration_rows: pl.DataFrame, policy: Policy) -> Any:
    """Trees fitted on ``trees_rows``, calibrated on the later ``calibration_rows``."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    for name, rows in (("tree", trees_rows), ("calibration", calibration_rows)):
        if rows["label"].n_unique() < 2:
            first, last = rows["snapshot_date"].min(), rows["snapshot_date"].max()
            raise InputError(
                Problem(
                    f"every {name} row from {first} to {last} has the same label "
                    f"({rows['label'][0]}); the model needs both outcomes: use more history"
                )
            )
    calibrated = CalibratedClassifierCV(
        FrozenEstimator(_fit_trees(trees_rows, policy)), method=policy.model.calibration_method
    )
    calibrated.fit(calibration_rows.select(MODEL_FEATURES), _target(calibration_rows))
    return calibrated


def _trees_of(calibrated: Any) -> Any:
    """The fitted pipeline inside a calibrated model (CalibratedClassifierCV of a
    FrozenEstimator)."""
    return calibrated.estimator.estimator


@dataclass(frozen=True)
class _Split:
    """Training rows split in time: trees on the earlier snapshots, calibration on the later."""

    trees: pl.DataFrame
    calibration: pl.DataFrame

    def window(self) -> dict[str, Any]:
        return {
            "trees": _window(self.trees),
            "calibration": _window(self.calibration),
        }


def _window(rows: pl.DataFrame) -> dict[str, Any]:
    """First and last snapshot date (ISO) and row count of ``rows``."""
    if rows.height == 0:
        return {"first_snapshot": None, "last_snapshot": None, "rows": 0}
    return {
        "first_snapshot": rows["snapshot_date"].min().isoformat(),
        "last_snapshot": rows["snapshot_date"].max().isoformat(),
        "rows": rows.height,
    }


def _time_split(rows: pl.DataFrame, horizon_days: int, policy: Policy, what: str) -> _Split:
    """Calibration on the latest ``calibration_share`` of the snapshot dates of ``rows``; trees
    on the snapshots whose label is known at the first calibration date (s + H <= it)."""
    dates = sorted(rows["snapshot_date"].unique().to_list())
    n_calibration = max(1, round(len(dates) * policy.model.calibration_share))
    calibration_start = dates[-n_calibration] if len(dates) > n_calibration else None
    if calibration_start is None or dates[0] + timedelta(days=horizon_days) > calibration_start:
        first = dates[0].isoformat() if dates else "none"
        raise InputError(
            Problem(
                f"not enough history for {what}: {len(dates)} snapshot date(s) (first {first}); "
                f"the trees need snapshots s with s + {horizon_days} days before the calibration "
                f"slice (the latest {policy.model.calibration_share:.0%} of the snapshot dates)"
            )
        )
    last_tree = calibration_start - timedelta(days=horizon_days)
    return _Split(
        trees=rows.filter(pl.col("snapshot_date") <= last_tree),
        calibration=rows.filter(pl.col("snapshot_date") >= calibration_start),
    )


# --- metrics ---------------------------------------------------------------------------------


def top_decile_amount_capture(
    score: np.ndarray, amount_at_horizon: np.ndarray, share: float = 0.1
) -> float | None:
    """Share (0-1) of the amount still open at the horizon that lies in the top ``share`` of rows
    by score. Rows tied with the last selected score count pro rata, so the figure does not depend
    on how ties are ordered. None when nothing is open at the horizon."""
    total = float(amount_at_horizon.sum())
    n = len(score)
    if n == 0 or total <= 0:
        return None
    k = share * n
    order = np.argsort(-score, kind="stable")
    threshold = score[order[int(np.ceil(k)) - 1]] if k >= 1 else score[order[0]]
    above = score > threshold
    tied = score == threshold
    room = k - above.sum()
    captured = amount_at_horizon[above].sum() + amount_at_horizon[tied].sum() * room / tied.sum()
    return float(captured / total)


def prediction_metrics(
    label: np.ndarray, probability: np.ndarray, amount_at_horizon: np.ndarray
) -> dict[str, float | None]:
    """roc_auc, average_precision, brier (mean squared error of the probability) and
    top_decile_amount_capture; ranking metrics are None when only one outcome occurs."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    both = len(np.unique(label)) == 2
    return {
        "roc_auc": _round(roc_auc_score(label, probability)) if both else None,
        "average_precision": _round(average_precision_score(label, probability)) if both else None,
        "brier": _round(brier_score_loss(label, probability, labels=[0, 1])) if len(label) else None,
        "top_decile_amount_capture": _round(top_decile_amount_capture(probability, amount_at_horizon)),
    }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def calibration_table(label: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Reliability of ``probability``: ``bins`` equal-width bins of predicted probability, each
    with n, mean_predicted and observed_rate (empty bins left out), and the expected calibration
    error (ECE: the n-weighted mean of |mean_predicted - observed_rate|, 0-1)."""
    index = np.minimum((probability * bins).astype(int), bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        if n == 0:
            continue
        predicted, observed = float(probability[inside].mean()), float(label[inside].mean())
        ece += n * abs(predicted - observed)
        rows.append(
            {
                "lower": round(b / bins, 6),
                "upper": round((b + 1) / bins, 6),
                "n": n,
                "mean_predicted": _round(predicted),
                "observed_rate": _round(observed),
            }
        )
    n_total = len(label)
    return {
        "expected_calibration_error": _round(ece / n_total) if n_total else None,
        "mean_predicted": _round(probability.mean()) if n_total else None,
        "observed_rate": _round(label.mean()) if n_total else None,
        "bins": rows,
    }


def _baseline_probabilities(train: pl.DataFrame, test: pl.DataFrame, name: str) -> np.ndarray:
    """A one-feature logistic regression fitted on ``train``, applied to ``test``; missing values
    filled with the training mean (0 when the feature is missing throughout)."""
    from sklearn.linear_model import LogisticRegression

    column = BASELINE_FEATURE[name]
    fill = train[column].mean()
    fill = 0.0 if fill is None else float(fill)

    def values(rows: pl.DataFrame) -> np.ndarray:
        return rows[column].cast(pl.Float64).fill_null(fill).fill_nan(fill).to_numpy().reshape(-1, 1)

    regression = LogisticRegression().fit(values(train), _target(train))
    return regression.predict_proba(values(test))[:, 1]


def _evaluate(model: Any, train: pl.DataFrame, test: pl.DataFrame, policy: Policy) -> dict[str, Any]:
    """Metrics of the model and both baselines on ``test``, overall and on its not-yet-due rows
    (dpd <= 0), and the model's calibration table."""
    probabilities = {"model": model.predict_proba(test.select(MODEL_FEATURES))[:, 1]}
    for name in BASELINES:
        probabilities[name] = _baseline_probabilities(train, test, name)
    label = _target(test)
    amount = test["open_at_horizon"].to_numpy()
    not_yet_due = (test["days_past_due"] <= 0).to_numpy()
    balance = test["open_balance"].to_numpy()
    return {
        "metrics": {n: prediction_metrics(label, p, amount) for n, p in probabilities.items()},
        # ranked as the worklist ranks: open balance x probability (expected amount at risk)
        "top_decile_amount_capture_by_expected_amount": {
            n: _round(top_decile_amount_capture(p * balance, amount)) for n, p in probabilities.items()
        },
        "n_not_yet_due": int(not_yet_due.sum()),
        "metrics_not_yet_due": {
            n: prediction_metrics(label[not_yet_due], p[not_yet_due], amount[not_yet_due])
            for n, p in probabilities.items()
        },
        "calibration": calibration_table(label, probabilities["model"], policy.model.calibration_bins),
        "probability": probabilities["model"],
    }


# --- training --------------------------------------------------------------------------------


def default_cutoff(as_of: date, horizon_days: int, policy: Policy = DEFAULT_POLICY) -> date:
    """``as_of - horizon_days - 7 * model.test_weeks``: the test period is the last
    ``test_weeks`` weeks of snapshots whose label is known at ``as_of``."""
    return as_of - timedelta(days=horizon_days + 7 * policy.model.test_weeks)


def _is_train(horizon_days: int, cutoff: date) -> pl.Expr:
    return pl.col("snapshot_date") + timedelta(days=horizon_days) <= cutoff


def _is_test(cutoff: date, until: date) -> pl.Expr:
    return (pl.col("snapshot_date") > cutoff) & (pl.col("snapshot_date") <= until)


def out_of_time_split(
    rows: pl.DataFrame, horizon_days: int, cutoff: date, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, test): train rows have s + horizon <= cutoff; test rows cutoff < s and
    s + horizon <= as_of."""
    last_labelled = as_of - timedelta(days=horizon_days)
    return (
        rows.filter(_is_train(horizon_days, cutoff)),
        rows.filter(_is_test(cutoff, last_labelled)),
    )


def _check_dates(
    snapshots: list[date], as_of: date, horizon_days: int, cutoff: date, given: bool, policy: Policy
) -> None:
    """InputError naming the dates when the history cannot give a training and a test period.
    ``given``: the cutoff came from the user (else it is the default)."""
    last_labelled = as_of - timedelta(days=horizon_days)
    which = f"cutoff {cutoff}" if given else (
        f"default cutoff {cutoff} (as-of - {horizon_days} days - {policy.model.test_weeks} test weeks)"
    )
    column = "cutoff" if given else None
    if not snapshots:
        raise InputError(
            Problem(
                f"not enough history for a {horizon_days}-day horizon as of {as_of}: the last "
                f"labelled snapshot would be {last_labelled}, before the first snapshot allowed "
                f"(first invoice + {policy.model.warmup_days} days of warm-up)"
            )
        )
    span = (
        f"as of {as_of} with a {horizon_days}-day horizon, labelled snapshots run from "
        f"{snapshots[0]} to {last_labelled}"
    )
    if cutoff >= last_labelled:
        raise InputError(
            Problem(
                f"the {which} leaves no test snapshot: test snapshots s need cutoff < s <= "
                f"as-of - horizon = {last_labelled}",
                column=column,
            )
        )
    train = [s for s in snapshots if s + timedelta(days=horizon_days) <= cutoff]
    if len(train) < 2:
        raise InputError(
            Problem(
                f"not enough history before the {which}: training snapshots need "
                f"s + {horizon_days} days <= cutoff, i.e. s <= {cutoff - timedelta(days=horizon_days)}; "
                f"{span}; found {len(train)}, need several (a later cutoff or more history)",
                column=column,
            )
        )
    if not any(cutoff < s <= last_labelled for s in snapshots):
        raise InputError(
            Problem(f"no snapshot between the {which} and {last_labelled}; {span}", column=column)
        )


def _random_split_roc_auc(rows: pl.DataFrame, policy: Policy) -> float | None:
    """ROC AUC of the (uncalibrated) trees on a seeded random 25 % of ``rows``, trained on the
    other 75 %: the split this project never uses, reported as a leakage alarm (far above the
    time-split AUC means the same invoices and weeks on both sides flatter the model)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(policy.model.random_state)
    in_test = rng.random(rows.height) < 0.25
    train, test = rows.filter(~in_test), rows.filter(in_test)
    if train["label"].n_unique() < 2 or test["label"].n_unique() < 2:
        return None
    trees = _fit_trees(train, policy)
    return _round(roc_auc_score(_target(test), trees.predict_proba(test.select(MODEL_FEATURES))[:, 1]))


def _rolling_origin(
    rows: pl.DataFrame, horizon_days: int, cutoff: date, policy: Policy
) -> list[dict[str, Any]]:
    """The out-of-time evaluation repeated at ``model.backtest_origins`` earlier cutoffs, each
    ``test_weeks`` weeks before the previous, each tested on the ``test_weeks`` weeks after it."""
    period = timedelta(days=7 * policy.model.test_weeks)
    results = []
    for k in range(1, policy.model.backtest_origins + 1):
        origin = cutoff - k * period
        train = rows.filter(_is_train(horizon_days, origin))
        test = rows.filter(_is_test(origin, origin + period))
        entry: dict[str, Any] = {
            "cutoff": origin.isoformat(),
            "n_train": train.height,
            "n_test": test.height,
        }
        try:
            if test.height == 0:
                raise InputError(f"no test snapshot after the cutoff {origin}")
            split = _time_split(train, horizon_days, policy, f"the backtest cutoff {origin}")
            model = _fit_calibrated(split.trees, split.calibration, policy)
        except InputError as exc:
            entry["metrics"] = None
            entry["skipped"] = str(exc)
        else:
            evaluation = _evaluate(model, train, test, policy)
            entry["metrics"] = evaluation["metrics"]
            entry["expected_calibration_error"] = evaluation["calibration"]["expected_calibration_error"]
        results.append(entry)
    return results


def train_model(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    horizon_days: int | None = None,
    cutoff: date | None = None,
) -> tuple[RiskModel, dict[str, Any]]:
    """Train, evaluate out of time, and refit for production the late-payment risk model.

    ``horizon_days`` defaults to ``model.horizon_days`` (30); ``cutoff`` to
    :func:`default_cutoff`. Snapshots: :func:`workbench.snapshots.history_snapshots` (weekly,
    labelled by ``as_of``). Returns ``(model, report)``:

    - ``model``: refitted on every labelled snapshot up to ``as_of`` (trees on the earlier part,
      calibration on the latest ``calibration_share`` of the dates), for production scoring;
    - ``report`` (JSON-ready): as_of, horizon_days, cutoff, n_train (rows with s + H <= cutoff),
      n_test (rows with cutoff < s <= as_of - H), train/test windows, ``metrics`` = {model,
      baseline_dpd, baseline_customer_late_rate} each {roc_auc, average_precision, brier,
      top_decile_amount_capture} on the test period, ``metrics_not_yet_due`` (same, on the
      ``n_test_not_yet_due`` test rows not yet due at s: the preventive-reminder use), ``top_decile_amount_capture_by_expected_amount`` (the capture when rows are
      ranked by open balance x probability, as the worklist ranks them), ``rolling_origin``
      (list of {cutoff, n_train, n_test, metrics}), ``random_split_roc_auc`` and
      ``time_split_roc_auc``, ``calibration`` (method, ECE, bins of predicted vs observed), ``feature_importance`` (permutation importance on the test period),
      ``production`` (the refit's windows).

    Raises :class:`InputError` naming the dates when the history is too short for the horizon
    and cutoff.
    """
    from workbench.explain import global_importance

    rules = policy.model
    horizon = rules.horizon_days if horizon_days is None else horizon_days
    if horizon <= 0:
        raise InputError(Problem(f"the horizon must be > 0 days, got {horizon}", column="horizon"))
    given = cutoff is not None
    cutoff = default_cutoff(as_of, horizon, policy) if cutoff is None else cutoff
    snapshots = history_snapshots(portfolio, as_of, policy, horizon)
    _check_dates(snapshots, as_of, horizon, cutoff, given, policy)

    rows = training_set(portfolio, snapshots, horizon, policy)
    train, test = out_of_time_split(rows, horizon, cutoff, as_of)
    split = _time_split(train, horizon, policy, f"the cutoff {cutoff}")
    evaluated = _fit_calibrated(split.trees, split.calibration, policy)
    evaluation = _evaluate(evaluated, train, test, policy)
    calibration = {"method": rules.calibration_method, **evaluation["calibration"]}

    report: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon,
        "cutoff": cutoff.isoformat(),
        "n_train": train.height,
        "n_test": test.height,
        "n_test_not_yet_due": evaluation["n_not_yet_due"],
        "train_window": split.window(),
        "test_window": _window(test),
        "test_base_rate": _round(test["label"].mean()),
        "metrics": evaluation["metrics"],
        "metrics_not_yet_due": evaluation["metrics_not_yet_due"],
        "top_decile_amount_capture_by_expected_amount": evaluation[
            "top_decile_amount_capture_by_expected_amount"
        ],
        "calibration": calibration,
        "rolling_origin": _rolling_origin(rows, horizon, cutoff, policy),
        "time_split_roc_auc": evaluation["metrics"]["model"]["roc_auc"],
        "random_split_roc_auc": _random_split_roc_auc(pl.concat([train, test]), policy),
        "feature_importance": global_importance(_trees_of(evaluated), test, policy),
    }

    production = _time_split(rows, horizon, policy, f"the production refit as of {as_of}")
    estimator = _fit_calibrated(production.trees, production.calibration, policy)
    report["production"] = production.window()
    metadata = _metadata(estimator, rows, production, report, as_of, policy)
    model = RiskModel(estimator=estimator, metadata=metadata)
    return model, report


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("workbench", "polars", "scikit-learn", "numpy", "skops"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def _metadata(
    estimator: Any,
    rows: pl.DataFrame,
    split: _Split,
    report: dict[str, Any],
    as_of: date,
    policy: Policy,
) -> dict[str, Any]:
    """The model's metadata (JSON-ready): see :func:`save_model`."""
    encoder = estimator.estimator.named_steps["encode"].named_transformers_["categories"]
    categories = {
        name: [None if c is None or c != c else str(c) for c in values]
        for name, values in zip(CATEGORICAL_FEATURES, encoder.categories_, strict=True)
    }
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "as_of": as_of.isoformat(),
        "horizon_days": report["horizon_days"],
        "cutoff": report["cutoff"],
        "training_window": split.window(),
        "evaluation_window": {"train": report["train_window"], "test": report["test_window"]},
        "retrain_by": (as_of + timedelta(days=policy.model.retrain_after_days)).isoformat(),
        "features": list(MODEL_FEATURES),
        "feature_dtypes": {name: str(rows.schema[name]) for name in MODEL_FEATURES},
        "categorical_features": list(CATEGORICAL_FEATURES),
        "categories": categories,
        "calibration_method": policy.model.calibration_method,
        "tree_parameters": dict(TREE_PARAMETERS),
        "random_state": policy.model.random_state,
        "metrics": report["metrics"],
        "metrics_not_yet_due": report["metrics_not_yet_due"],
        "expected_calibration_error": report["calibration"]["expected_calibration_error"],
        "calibration": report["calibration"],
        "feature_importance": report["feature_importance"],
        "rolling_origin": report["rolling_origin"],
        "versions": _versions(),
    }


# --- scoring ---------------------------------------------------------------------------------


def check_features(model: RiskModel, frame: pl.DataFrame) -> None:
    """InputError naming the missing and extra features when ``frame`` (from
    :func:`workbench.snapshots.invoice_features`) does not carry exactly the model's features,
    with the same kinds (categorical or numeric)."""
    expected = model.features
    present = [c for c in frame.columns if c not in KEY_COLUMNS and c not in LABEL_COLUMNS]
    missing = [name for name in expected if name not in present]
    extra = [name for name in present if name not in expected]
    kinds = model.metadata.get("feature_dtypes", {})
    changed = [
        f"{name} ({kinds[name]} in the model, {frame.schema[name]} now)"
        for name in expected
        if name in frame.columns
        and name in kinds
        and (kinds[name] == "String") != (frame.schema[name] == pl.String)
    ]
    if missing or extra or changed:
        parts = []
        if missing:
            parts.append(f"missing features: {', '.join(missing)}")
        if extra:
            parts.append(f"extra features: {', '.join(extra)}")
        if changed:
            parts.append(f"features of another kind: {', '.join(changed)}")
        raise InputError(
            Problem(
                "the model does not match the features this version computes ("
                + "; ".join(parts)
                + "); retrain it with `workbench train`",
                file=model.metadata.get("path"),
            )
        )


def score(
    model: RiskModel, portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """One row per invoice open at ``as_of``: invoice_id, customer_id, open_balance (reporting
    currency), days_past_due (days, Int64), probability (0-1, Float64) that it is still open at
    ``as_of + model.horizon_days``. Sorted by probability (highest first), then invoice_id.

    Raises :class:`InputError` when the model's features are not those
    :func:`workbench.snapshots.invoice_features` computes now.
    """
    features = invoice_features(portfolio, as_of, policy).collect()
    probability = model.predict_proba(features)
    return (
        features.select(
            "invoice_id",
            "customer_id",
            "open_balance",
            pl.col("days_past_due").cast(pl.Int64),
        )
        .with_columns(probability=pl.Series(probability, dtype=pl.Float64))
        .sort(["probability", "invoice_id"], descending=[True, False])
    )


def customer_risk(scores: pl.DataFrame) -> pl.DataFrame:
    """Per customer, from :func:`score`: customer_id, expected_amount_at_risk (sum of open_balance
    x probability, currency, rounded to the cent), max_probability (0-1), open_balance (currency).
    Sorted by expected_amount_at_risk (highest first), then customer_id."""
    from workbench.balances import money_sum

    return (
        scores.group_by("customer_id")
        .agg(
            expected_amount_at_risk=(pl.col("open_balance") * pl.col("probability")).sum().round(2),
            max_probability=pl.col("probability").max(),
            open_balance=money_sum(pl.col("open_balance")),
        )
        .sort(["expected_amount_at_risk", "customer_id"], descending=[True, False])
    )


def is_stale(model: RiskModel, as_of: date) -> bool:
    """Whether ``as_of`` is past the model's ``retrain_by`` date (``model.retrain_after_days``
    after the as-of date it was trained at)."""
    retrain_by = model.metadata.get("retrain_by")
    return retrain_by is not None and as_of > date.fromisoformat(retrain_by)


# --- persistence -----------------------------------------------------------------------------


def sidecar_path(path: str | Path) -> Path:
    """The JSON metadata sidecar of the model file ``path``: ``path`` + ``.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def save_model(model: RiskModel, path: str | Path) -> Path:
    """Write ``model`` with skops (a safe format: loading runs no arbitrary code) to ``path``,
    its metadata embedded, and the same metadata as JSON to :func:`sidecar_path` (``MODEL.json``).
    Both files are written atomically. Returns the sidecar path.

    Metadata: format, format_version, as_of (the data's date), horizon_days, cutoff of the
    evaluation, training_window (production refit: trees and calibration slices, first and last
    snapshot, rows), evaluation_window, retrain_by (as_of + model.retrain_after_days), features
    (in order), feature_dtypes, categorical_features, categories (learned per categorical
    feature), calibration_method, tree_parameters, random_state, metrics and
    metrics_not_yet_due (out-of-time test), expected_calibration_error, versions (python,
    workbench, polars, scikit-learn, numpy, skops)."""
    import skops.io as sio

    path = Path(path)
    metadata = {k: v for k, v in model.metadata.items() if k != "path"}
    text = json.dumps(metadata, indent=2, ensure_ascii=False, sort_keys=True)
    blob = sio.dumps({"estimator": model.estimator, "metadata": text})
    untrusted = sorted(set(sio.get_untrusted_types(data=blob)) - set(TRUSTED_TYPES))
    if untrusted:  # a new scikit-learn may add types: review them before trusting
        raise RuntimeError(f"the model holds types not in TRUSTED_TYPES: {', '.join(untrusted)}")
    with atomic_file(path) as tmp:
        tmp.write_bytes(blob)
    sidecar = sidecar_path(path)
    with atomic_file(sidecar) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return sidecar


REQUIRED_METADATA = ("format", "format_version", "as_of", "horizon_days", "features",
                     "feature_dtypes", "retrain_by")  # fmt: skip
"""Metadata keys every model file must carry: what :func:`score`, :func:`is_stale`, the weekly
run and the report read."""


def check_metadata(metadata: Any, file: str) -> dict[str, Any]:
    """``metadata`` (parsed JSON) when it is a workbench risk model's: a JSON object of
    :data:`MODEL_FORMAT` at most :data:`MODEL_FORMAT_VERSION`, with every key of
    :data:`REQUIRED_METADATA`, ISO dates ``as_of`` and ``retrain_by``, a horizon in days and a
    list of features. Raises :class:`InputError` naming ``file`` otherwise."""

    def bad(message: str) -> InputError:
        return InputError(Problem(f"{message}: not a workbench risk model's metadata", file=file))

    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        raise bad(f'no "format": "{MODEL_FORMAT}"')
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise bad(f"missing keys {', '.join(missing)}")
    version = metadata["format_version"]
    if type(version) is not int or version > MODEL_FORMAT_VERSION:
        message = (
            f"model format version {version!r}: this workbench reads versions up to "
            f"{MODEL_FORMAT_VERSION}; upgrade the workbench or retrain"
        )
        raise InputError(Problem(message, file=file))
    for key in ("as_of", "retrain_by"):
        try:
            date.fromisoformat(metadata[key])
        except (TypeError, ValueError):
            raise bad(f"{key} {metadata[key]!r} is not a date YYYY-MM-DD") from None
    if type(metadata["horizon_days"]) is not int or metadata["horizon_days"] < 1:
        raise bad(f"horizon_days {metadata['horizon_days']!r} is not a number of days")
    features = metadata["features"]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise bad("features is not a list of names")
    if not isinstance(metadata["feature_dtypes"], dict):
        raise bad("feature_dtypes is not a table")
    return metadata


def trained_as_of(metadata: dict[str, Any]) -> date:
    """The as-of date of the data a model was trained on (its metadata checked by
    :func:`check_metadata`)."""
    return date.fromisoformat(metadata["as_of"])


def check_trained_by(model: RiskModel | dict[str, Any], as_of: date, file: str) -> None:
    """Refuse (:class:`InputError` naming ``file``) a model (or its metadata) trained on data as
    of a date after ``as_of``: it has seen outcomes after the as-of date, so its probabilities
    (and a back-dated worklist built on them) would use the future. Used by ``worklist --model``
    and by the weekly run's choice of a saved model (:func:`workbench.weekly.reusable_model`)."""
    trained = trained_as_of(model.metadata if isinstance(model, RiskModel) else model)
    if trained > as_of:
        raise InputError(
            Problem(
                f"the model was trained on data as of {trained}, after --as-of {as_of}: it has "
                f"seen what happened after {as_of}; use a model trained as of {as_of} or "
                "earlier (workbench train --as-of)",
                file=file,
            )
        )


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The metadata in the JSON sidecar ``path`` (``MODEL.json``), checked by
    :func:`check_metadata`; :class:`InputError` naming it when unreadable or not JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read the model's metadata: {exc}", file=str(path))) from None
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(f"the model's metadata is not JSON ({exc})", file=str(path))
        ) from None
    return check_metadata(metadata, str(path))


def _check_estimator(estimator: Any, metadata: dict[str, Any], file: str) -> None:
    """The estimator of a model file is a fitted ``CalibratedClassifierCV`` taking as many
    features as the metadata lists (InputError naming ``file`` otherwise)."""
    from sklearn.calibration import CalibratedClassifierCV

    if not isinstance(estimator, CalibratedClassifierCV) or not hasattr(
        estimator, "calibrated_classifiers_"
    ):
        raise InputError(
            Problem(
                f"the model's estimator is a {type(estimator).__name__}, not a fitted "
                "CalibratedClassifierCV: not a workbench risk model; retrain it with "
                "`workbench train`",
                file=file,
            )
        )
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and expected != len(metadata["features"]):
        raise InputError(
            Problem(
                f"the model's estimator takes {expected} features but its metadata lists "
                f"{len(metadata['features'])}: the file was altered; retrain it",
                file=file,
            )
        )


def load_model(path: str | Path) -> RiskModel:
    """The model saved at ``path`` by :func:`save_model`. Only :data:`TRUSTED_TYPES` (and what
    skops trusts by default) may appear in the file; anything else is an :class:`InputError`, as
    is a file that is not a workbench risk model: not a skops file, metadata that is not JSON or
    lacks a key (:func:`check_metadata`), an estimator of another class, or a sidecar
    (``MODEL.json``) that is not JSON or disagrees with the metadata inside the model file (the
    sidecar is optional: a model file copied alone loads)."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    file = str(path)
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "model file not found"
        raise InputError(Problem(what, file=file))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            content = sio.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise InputError(
            Problem(f"the model file holds untrusted types: {exc}", file=file)
        ) from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(Problem(f"not a readable skops model file: {exc}", file=file)) from None
    if not isinstance(content, dict) or "estimator" not in content or "metadata" not in content:
        raise InputError(Problem("not a workbench risk model file", file=file))
    try:
        metadata = json.loads(content["metadata"])
    except (TypeError, json.JSONDecodeError) as exc:
        raise InputError(
            Problem(f"the metadata inside the model file is not JSON ({exc})", file=file)
        ) from None
    check_metadata(metadata, file)
    _check_estimator(content["estimator"], metadata, file)
    sidecar = sidecar_path(path)
    if sidecar.exists() and read_sidecar(sidecar) != metadata:
        raise InputError(
            Problem(
                f"the metadata beside the model does not match the one inside {path.name}: one "
                "of the two files was replaced; copy them together or retrain",
                file=str(sidecar),
            )
        )
    metadata["path"] = file
    return RiskModel(estimator=content["estimator"], metadata=metadata)
