"""Late-payment risk model (DESIGN section 5): calibrated probability that an open invoice is
still unpaid ``horizon_days`` from now, its out-of-time evaluation, scoring and persistence.

The estimator (:class:`workbench.riskfit.CalibratedTrees`) is a scikit-learn pipeline (an
``OrdinalEncoder`` for the categorical customer attributes feeding a seeded
``HistGradientBoostingClassifier``) and a calibration map of its log-odds. How it is fitted
(small trees on every training row, hyper-parameters chosen by forward-chained cross-validation
inside the training period, Platt scaling on the pooled out-of-fold predictions, empty,
constant and duplicate features dropped) is :mod:`workbench.riskfit`'s subject.

Evaluation (:func:`train_model`) is out of time, never a random split:

- training rows: snapshots with ``s + H <= cutoff`` (their label was known at the cutoff);
- test rows: snapshots with ``cutoff < s`` and ``s + H <= as_of``; default cutoff
  ``as_of - H - 7 * model.test_weeks`` (a test period of ``test_weeks`` weekly snapshots);
- a rolling-origin backtest repeats this at ``model.backtest_origins`` earlier cutoffs, each
  ``test_weeks`` weeks before the previous one (an origin too early for the search is
  reported as skipped); the hyper-parameters are chosen once, on the training rows of the
  earliest cut-off, so no evaluation sees settings chosen with its own test weeks;
- customer-cluster bootstrap intervals (:mod:`workbench.bootstrap`) of the test metrics, and of
  the paired difference model - baseline;
- a random split of the same rows is reported as a leakage alarm only.

The **saved** model is not the evaluated one: once evaluated, it is refitted for production on
every labelled snapshot up to ``as_of`` and calibrated on every out-of-fold prediction (the
search blocks and the test periods), so it has seen the latest weeks; the report's metrics are
those of the out-of-time test, the honest estimate of how such a model does on weeks it has not
seen.
"""

from __future__ import annotations

import json
import platform
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import atomic_file
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.progress import QUIET, Steps
from workbench.riskfit import test_rows
from workbench.riskmetrics import (  # noqa: F401 - re-exported: the model's metrics
    BASELINE_FEATURE,
    BASELINES,
    METRIC_NAMES,
    baseline_probabilities,
    calibration_table,
    prediction_metrics,
    rounded,
    top_decile_amount_capture,
    window,
)
from workbench.snapshots import (
    CATEGORICAL_FEATURES,
    KEY_COLUMNS,
    LABEL_COLUMNS,
    history_snapshots,
    invoice_features,
    training_set,
)

MODEL_FORMAT = "workbench-risk-model"
MODEL_FORMAT_VERSION = 2
"""Version 2 (issue 11): CalibratedTrees (trees on every row, out-of-fold calibration) instead
of version 1's CalibratedClassifierCV over a held-out calibration slice."""

TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "workbench.riskfit.CalibratedTrees",
]
"""Types skops does not trust by default that a risk model file may contain, listed explicitly
(the scikit-learn estimators and numpy types themselves are trusted by skops; CalibratedTrees is
this package's own class of plain attributes). Loading a file that contains any other type fails
instead of running it."""


@dataclass
class RiskModel:
    """A fitted, calibrated risk model and its metadata (see :func:`save_model`).

    ``estimator`` is a :class:`workbench.riskfit.CalibratedTrees`;
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


# --- training --------------------------------------------------------------------------------


def default_cutoff(as_of: date, horizon_days: int, policy: Policy = DEFAULT_POLICY) -> date:
    """``as_of - horizon_days - 7 * model.test_weeks``: the test period is the last
    ``test_weeks`` weeks of snapshots whose label is known at ``as_of``."""
    return as_of - timedelta(days=horizon_days + 7 * policy.model.test_weeks)


def out_of_time_split(
    rows: pl.DataFrame, horizon_days: int, cutoff: date, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, test): train rows have s + horizon <= cutoff; test rows cutoff < s and
    s + horizon <= as_of."""
    known = pl.col("snapshot_date") + timedelta(days=horizon_days)
    return rows.filter(known <= cutoff), test_rows(rows, cutoff, as_of - timedelta(days=horizon_days))


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


def _searchable(rows: pl.DataFrame, cutoff: date, horizon_days: int, policy: Policy) -> str | None:
    """Why the hyper-parameter search cannot run on the training rows of ``cutoff`` (too few
    snapshot dates for the validation blocks, or a block trained on one outcome), else None."""
    from workbench.riskfit import forward_blocks

    known = pl.col("snapshot_date") + timedelta(days=horizon_days)
    train = rows.lazy().select("snapshot_date", "label").filter(known <= cutoff).collect()
    try:
        blocks = forward_blocks(sorted(train["snapshot_date"].unique().to_list()), horizon_days, policy)
    except InputError as exc:
        return str(exc)
    for block in blocks:
        before = train.filter(known <= block.first)
        if before["label"].n_unique() < 2:
            return f"every training row before {block.first} has the same label"
    return None


def _cutoffs(
    rows: pl.DataFrame, as_of: date, horizon_days: int, cutoff: date, policy: Policy
) -> tuple[list[date], list[date], list[dict[str, Any]]]:
    """(cut-offs, their test ends, skipped origins): the rolling origins ``cutoff - k x test
    period`` (k = backtest_origins .. 1) then ``cutoff``; origins too early for the search are
    skipped (reported with the reason). InputError when even ``cutoff`` is too early."""
    period = timedelta(days=7 * policy.model.test_weeks)
    origins = [cutoff - k * period for k in range(policy.model.backtest_origins, 0, -1)]
    skipped = []
    while origins and (reason := _searchable(rows, origins[0], horizon_days, policy)) is not None:
        first = origins.pop(0)
        train, test = out_of_time_split(rows, horizon_days, first, first + period + timedelta(days=horizon_days))
        skipped.append({"cutoff": first.isoformat(), "n_train": train.height, "n_test": test.height,
                        "metrics": None, "skipped": reason})  # fmt: skip
    if not origins and (reason := _searchable(rows, cutoff, horizon_days, policy)) is not None:
        raise InputError(Problem(f"{reason} (cutoff {cutoff})"))
    ends = [o + period for o in origins] + [as_of - timedelta(days=horizon_days)]
    return [*origins, cutoff], ends, skipped


def _test_metrics(evaluation: Any, policy: Policy) -> dict[str, Any]:
    """Metrics of the model and both baselines on the evaluation's test rows, overall and on the
    not-yet-due rows (dpd <= 0), the capture ranked by expected amount, and the calibration."""
    test, probabilities = evaluation.test, evaluation.probabilities
    label = test["label"].cast(pl.Int8).to_numpy()
    amount = test["open_at_horizon"].to_numpy()
    not_yet_due = (test["days_past_due"] <= 0).to_numpy()
    balance = test["open_balance"].to_numpy()
    return {
        "metrics": {n: prediction_metrics(label, p, amount) for n, p in probabilities.items()},
        # ranked as the worklist ranks: open balance x probability (expected amount at risk)
        "top_decile_amount_capture_by_expected_amount": {
            n: rounded(top_decile_amount_capture(p * balance, amount))
            for n, p in probabilities.items()
        },
        "n_not_yet_due": int(not_yet_due.sum()),
        "metrics_not_yet_due": {
            n: prediction_metrics(label[not_yet_due], p[not_yet_due], amount[not_yet_due])
            for n, p in probabilities.items()
        },
        "calibration": calibration_table(label, probabilities["model"], policy.model.calibration_bins),
    }


BOOTSTRAP_ROWS = 50_000
"""The bootstrap intervals use the test rows of at most this many rows' worth of customers (a
seeded sample of whole customers above it): the cost grows with rows x resamples, and a
subsample of customers gives wider intervals, never narrower (conservative)."""


def _intervals(evaluation: Any, policy: Policy) -> dict[str, Any] | None:
    """Customer-cluster bootstrap intervals of the test metrics, model against each baseline
    (:func:`workbench.bootstrap.cluster_bootstrap`); None with ``bootstrap_resamples = 0`` or
    a single outcome in the test period. Above :data:`BOOTSTRAP_ROWS` test rows, on a seeded
    sample of customers (``sampled_customers`` then says how many of ``all_customers``)."""
    from workbench.bootstrap import cluster_bootstrap

    test = evaluation.test.with_row_index("_row")
    customers = test["customer_id"].unique(maintain_order=True)
    if test.height > BOOTSTRAP_ROWS:
        share = BOOTSTRAP_ROWS / test.height
        drawn = customers.sample(fraction=share, seed=policy.model.random_state)
        test = test.filter(pl.col("customer_id").is_in(drawn.implode()))
    label = test["label"].cast(pl.Int8).to_numpy()
    if policy.model.bootstrap_resamples == 0 or len(np.unique(label)) < 2:
        return None
    rows = test["_row"].to_numpy()
    result = cluster_bootstrap(
        label,
        {name: p[rows] for name, p in evaluation.probabilities.items()},
        test["customer_id"].to_numpy(),
        reference="model",
        resamples=policy.model.bootstrap_resamples,
        seed=policy.model.random_state,
    )
    if test.height < evaluation.test.height:
        result["sampled_customers"] = test["customer_id"].n_unique()
        result["all_customers"] = customers.len()
    return result


def _random_split_roc_auc(rows: pl.DataFrame, shape: Any, policy: Policy) -> float | None:
    """ROC AUC of the (uncalibrated) trees of the chosen shape on a seeded random 25 % of
    ``rows`` (every labelled row; at most ``model.search_rows`` of them, a seeded sample),
    trained on the other 75 %: the split this project never uses, reported as a leakage alarm (far above the
    time-split AUC means the same invoices and weeks on both sides flatter the model)."""
    from sklearn.metrics import roc_auc_score

    from workbench.riskfit import capped, fit_trees

    rows = capped(rows, policy.model.search_rows, policy.model.random_state)
    in_test = np.random.default_rng(policy.model.random_state).random(rows.height) < 0.25
    train, test = rows.filter(~in_test), rows.filter(in_test)
    if train["label"].n_unique() < 2 or test["label"].n_unique() < 2:
        return None
    pipeline, features, _dropped = fit_trees(train, shape, policy)
    label = test["label"].cast(pl.Int8).to_numpy()
    return rounded(roc_auc_score(label, pipeline.decision_function(test.select(features))))


def _train_window(rows: pl.DataFrame, cutoff: date, horizon_days: int) -> dict[str, Any]:
    """:func:`window` of the training rows of ``cutoff`` (s + H <= cutoff), without copying
    them."""
    known = pl.col("snapshot_date") + timedelta(days=horizon_days)
    return window(rows.lazy().select("snapshot_date").filter(known <= cutoff).collect())


def _rolling_entry(evaluation: Any, policy: Policy) -> dict[str, Any]:
    """The rolling-origin report of one earlier cut-off's evaluation."""
    result = _test_metrics(evaluation, policy)
    return {
        "cutoff": evaluation.cutoff.isoformat(),
        "n_train": evaluation.n_train,
        "n_test": evaluation.test.height,
        "metrics": result["metrics"],
        "expected_calibration_error": result["calibration"]["expected_calibration_error"],
    }


def train_model(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    horizon_days: int | None = None,
    cutoff: date | None = None,
    progress: Steps = QUIET,
    importance: bool = True,
) -> tuple[RiskModel, dict[str, Any]]:
    """Train, evaluate out of time, and refit for production the late-payment risk model
    (:mod:`workbench.riskfit` for the fitting procedure).

    ``importance=False`` leaves out the permutation importance (``feature_importance`` is then
    an empty list): the weekly run does, as its report does not show it.

    ``horizon_days`` defaults to ``model.horizon_days`` (30); ``cutoff`` to
    :func:`default_cutoff`. Snapshots: :func:`workbench.snapshots.history_snapshots` (weekly,
    labelled by ``as_of``). ``progress`` advances per snapshot, per fit and per stage.
    Returns ``(model, report)``:

    - ``model``: trees of the chosen shape on every labelled snapshot up to ``as_of``,
      calibrated on every out-of-fold prediction, for production scoring;
    - ``report`` (JSON-ready): as_of, horizon_days, cutoff, n_train (rows with s + H <=
      cutoff), n_test (rows with cutoff < s <= as_of - H), train/test windows, ``metrics`` =
      {model, baseline_dpd, baseline_customer_late_rate} each {roc_auc, average_precision,
      brier, top_decile_amount_capture} on the test period, ``intervals`` (customer-cluster
      bootstrap: each metric's interval and the paired difference model - baseline),
      ``metrics_not_yet_due`` (same, on the ``n_test_not_yet_due`` rows not yet due at s: the
      preventive-reminder use), ``top_decile_amount_capture_by_expected_amount`` (rows ranked
      by open balance x probability, as the worklist ranks them), ``rolling_origin`` (earlier
      cut-offs, each {cutoff, n_train, n_test, metrics}), ``selection`` (the grid, every
      point's cross-validated log loss, the chosen shape and calibration method),
      ``random_split_roc_auc`` and ``time_split_roc_auc``, ``calibration`` (method, ECE, bins),
      ``feature_importance`` (permutation importance on the test period), ``dropped_features``
      and ``production`` (the refit's rows).

    Raises :class:`InputError` naming the dates when the history is too short for the horizon
    and cutoff.
    """
    from workbench.explain import global_importance
    from workbench.riskfit import in_parallel, walk_forward

    rules = policy.model
    horizon = rules.horizon_days if horizon_days is None else horizon_days
    if horizon <= 0:
        raise InputError(Problem(f"the horizon must be > 0 days, got {horizon}", column="horizon"))
    given = cutoff is not None
    cutoff = default_cutoff(as_of, horizon, policy) if cutoff is None else cutoff
    snapshots = history_snapshots(portfolio, as_of, policy, horizon)
    _check_dates(snapshots, as_of, horizon, cutoff, given, policy)

    progress.expect(len(snapshots))
    progress.stage("training set")
    rows = _training_rows(portfolio, snapshots, horizon, policy, progress)
    cutoffs, ends, skipped = _cutoffs(rows, as_of, horizon, cutoff, policy)
    fits = len(rules.grid_max_depth) * len(rules.grid_min_samples_leaf) * rules.cv_blocks
    progress.expect(fits + len(cutoffs) + 4)
    progress.stage("choosing the settings, then one fit per cut-off and for production")
    def random_split(selection: Any) -> Any:  # run beside the last fits (riskfit.walk_forward)
        return progress.counting(partial(_random_split_roc_auc, rows, selection.chosen, policy))

    walk = walk_forward(
        rows, as_of, horizon, cutoffs, policy, progress,
        test_until=ends, production=True, alongside=random_split,
    )  # fmt: skip
    main = walk.evaluations[-1]
    result = _test_metrics(main, policy)
    progress.stage("intervals and explanations")
    report: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon,
        "cutoff": cutoff.isoformat(),
        "n_train": main.n_train,
        "n_test": main.test.height,
        "n_test_not_yet_due": result["n_not_yet_due"],
        "train_window": _train_window(rows, cutoff, horizon),
        "test_window": window(main.test),
        "test_base_rate": rounded(main.test["label"].mean()),
        "metrics": result["metrics"],
        "intervals": _intervals(main, policy),
        "metrics_not_yet_due": result["metrics_not_yet_due"],
        "top_decile_amount_capture_by_expected_amount": result[
            "top_decile_amount_capture_by_expected_amount"
        ],
        "calibration": {"method": walk.selection.method, **result["calibration"]},
        "rolling_origin": skipped + [_rolling_entry(e, policy) for e in walk.evaluations[:-1]],
        "selection": walk.selection_report(),
        "time_split_roc_auc": result["metrics"]["model"]["roc_auc"],
    }
    progress.advance()
    trees = main.estimator
    report["random_split_roc_auc"] = walk.alongside
    report["feature_importance"] = (
        in_parallel([partial(global_importance, trees.trees, main.test, trees.features, policy)])[0]
        if importance
        else []
    )
    progress.advance()
    estimator = walk.production
    report["dropped_features"] = estimator.dropped
    report["production"] = {"trees": window(rows), "calibration": window(walk.oof)}
    metadata = _metadata(estimator, rows, report, as_of, policy)
    return RiskModel(estimator=estimator, metadata=metadata), report


def _training_rows(
    portfolio: Portfolio, snapshots: list[date], horizon: int, policy: Policy, progress: Steps
) -> pl.DataFrame:
    """:func:`workbench.snapshots.training_set`, advancing ``progress`` once per snapshot."""
    return training_set(portfolio, snapshots, horizon, policy, on_snapshot=progress.advance)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("workbench", "polars", "scikit-learn", "numpy", "skops"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def _metadata(
    estimator: Any, rows: pl.DataFrame, report: dict[str, Any], as_of: date, policy: Policy
) -> dict[str, Any]:
    """The model's metadata (JSON-ready): see :func:`save_model`."""
    from workbench.riskfit import TreeShape, tree_parameters

    encoder = estimator.trees.named_steps["encode"].named_transformers_["categories"]
    categorical = [f for f in estimator.features if f in CATEGORICAL_FEATURES]
    categories = {
        name: [None if c is None or c != c else str(c) for c in values]
        for name, values in zip(categorical, encoder.categories_, strict=True)
    }
    chosen = TreeShape(**report["selection"]["chosen"])
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "as_of": as_of.isoformat(),
        "horizon_days": report["horizon_days"],
        "cutoff": report["cutoff"],
        "training_window": report["production"],
        "evaluation_window": {"train": report["train_window"], "test": report["test_window"]},
        "retrain_by": (as_of + timedelta(days=policy.model.retrain_after_days)).isoformat(),
        "features": list(estimator.features),
        "feature_dtypes": {name: str(rows.schema[name]) for name in estimator.features},
        "dropped_features": report["dropped_features"],
        "categorical_features": categorical,
        "categories": categories,
        "calibration_method": estimator.method,
        "tree_parameters": tree_parameters(chosen, policy),
        "selection": report["selection"],
        "random_state": policy.model.random_state,
        "metrics": report["metrics"],
        "intervals": report["intervals"],
        "metrics_not_yet_due": report["metrics_not_yet_due"],
        "expected_calibration_error": report["calibration"]["expected_calibration_error"],
        "calibration": report["calibration"],
        "feature_importance": report["feature_importance"],
        "random_split_roc_auc": report["random_split_roc_auc"],
        "time_split_roc_auc": report["time_split_roc_auc"],
        "rolling_origin": report["rolling_origin"],
        "versions": _versions(),
    }


# --- scoring ---------------------------------------------------------------------------------


def check_features(model: RiskModel, frame: pl.DataFrame) -> None:
    """InputError naming the missing and extra features when ``frame`` (from
    :func:`workbench.snapshots.invoice_features`) does not carry the model's features with the
    same kinds (categorical or numeric), or carries a feature the model neither used nor
    dropped (computed by a later version: retrain)."""
    expected = model.features
    dropped = model.metadata.get("dropped_features") or {}
    ignored = {*dropped.get("empty", []), *dropped.get("constant", []), *dropped.get("duplicate", {})}
    present = [c for c in frame.columns if c not in KEY_COLUMNS and c not in LABEL_COLUMNS]
    missing = [name for name in expected if name not in present]
    extra = [name for name in present if name not in expected and name not in ignored]
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
    evaluation, training_window (production refit: the trees' rows and the out-of-fold rows of
    the calibration, first and last snapshot, rows), evaluation_window, retrain_by (as_of +
    model.retrain_after_days), features (in order), feature_dtypes, dropped_features (empty,
    constant, duplicate), categorical_features, categories (learned per categorical feature),
    calibration_method, tree_parameters, selection (grid, scores, choice), random_state,
    metrics, intervals and metrics_not_yet_due (out-of-time test), expected_calibration_error,
    calibration, feature_importance, rolling_origin, versions (python, workbench, polars,
    scikit-learn, numpy, skops)."""
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
    if type(version) is int and version < MODEL_FORMAT_VERSION:
        message = (
            f"model format version {version}, written by an earlier workbench whose trees and "
            f"calibration this version replaced (format {MODEL_FORMAT_VERSION}: regularized "
            "trees on every row, out-of-fold calibration); retrain it with `workbench train`"
        )
        raise InputError(Problem(message, file=file))
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
    """The estimator of a model file is a fitted :class:`workbench.riskfit.CalibratedTrees` over
    the features the metadata lists (InputError naming ``file`` otherwise)."""
    from workbench.riskfit import CalibratedTrees

    if not isinstance(estimator, CalibratedTrees) or not hasattr(estimator, "calibrator"):
        raise InputError(
            Problem(
                f"the model's estimator is a {type(estimator).__name__}, not a fitted "
                "CalibratedTrees: not a workbench risk model; retrain it with "
                "`workbench train`",
                file=file,
            )
        )
    if list(getattr(estimator, "features", [])) != list(metadata["features"]):
        raise InputError(
            Problem(
                f"the model's estimator takes {len(estimator.features)} features but its "
                f"metadata lists {len(metadata['features'])} others: the file was altered; "
                "retrain it",
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
