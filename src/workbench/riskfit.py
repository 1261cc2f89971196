"""Fitting the late-payment risk model (DESIGN section 5): regularized gradient-boosted trees on
every training row, hyper-parameters chosen by forward-chained cross-validation inside the
training period, probabilities calibrated on the pooled out-of-fold predictions.

Why (measured on small real portfolios, issue 11): default trees (31 leaves, learning rate 0.1)
fit their own training rows almost perfectly and lose out of time; an isotonic map fitted on a
held-out slice of 1,500 rows collapses the scores to about 30 distinct probabilities (ties cost
average precision) and the held-out slice takes 25-40 % of the rows away from the trees. So:

- **Trees on every row.** The trees of an evaluation are fitted on every training row (snapshot
  s with s + H <= cutoff), none held out; above ``model.max_training_rows`` rows, on a seeded
  uniform sample of that many rows (consecutive weekly snapshots of one invoice are near
  copies, so a sample loses little and keeps one million invoices within minutes).
- **Small trees, chosen by forward-chained CV** (:func:`select_parameters`): the snapshot dates
  of the search period are cut into ``model.cv_blocks`` consecutive blocks over their latest
  ``model.cv_share``; each block is predicted by trees fitted only on the snapshots whose label
  was known when the block starts (s + H <= its first date). Every combination of the grid
  (``model.grid_max_depth`` x ``grid_min_samples_leaf`` x ``grid_max_iter``, learning rate
  ``model.learning_rate``) is scored by the log loss of its pooled out-of-fold predictions
  after Platt scaling (calibration always follows, so a combination is judged on what it will
  deliver). One fit per depth and leaf size and block gives every iteration count (staged
  predictions). Above ``model.search_rows`` training rows the search runs on a seeded sample.
- **Platt scaling** (a logistic regression on the trees' log-odds) fitted on the pooled
  out-of-fold predictions: monotone and strictly increasing, so it keeps the trees' ranking.
  Isotonic regression only when there are at least ``model.isotonic_min_rows`` out-of-fold rows
  and its forward cross-fitted log loss (fitted on earlier blocks, scored on the next) beats
  Platt's: with fewer rows its steps tie many scores.
- **No empty, constant or duplicate feature** (:func:`usable_features`): a feature missing on
  every training row or with a single value is dropped, as is an exact copy of another (the
  dropped ones are listed in the model's metadata); no monotone constraint on days past due
  (fresh invoices carry the risk on some books); optional increasing constraints on the features
  of ``model.monotone_increasing``.

:func:`walk_forward` chains it over several cut-offs: one search on the earliest cut-off's
training rows (so no evaluation sees a hyper-parameter chosen with its test weeks), then at
each cut-off trees on its training rows and a calibration on the out-of-fold predictions whose
label was known by then (the search blocks and the earlier test periods).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

import numpy as np
import polars as pl

from workbench.errors import InputError, Problem
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.progress import QUIET, Steps
from workbench.snapshots import CATEGORICAL_FEATURES, MODEL_FEATURES

T = TypeVar("T")

MAX_CATEGORIES = 250
"""Per categorical feature, rarer categories are grouped (the trees take at most 255 bins)."""

PROBABILITY_FLOOR = 1e-6
"""Probabilities are clipped to [floor, 1 - floor] when a log loss is computed (an isotonic step
at exactly 0 or 1 would otherwise cost an infinite loss for one wrong row)."""


# --- the estimator ---------------------------------------------------------------------------


class CalibratedTrees:
    """Gradient-boosted trees and the calibration map of their log-odds: what a risk model file
    holds. ``features`` (categorical first), ``trees`` (a fitted scikit-learn pipeline:
    ordinal encoding then ``HistGradientBoostingClassifier``), ``calibrator`` (a fitted
    ``LogisticRegression`` on the log-odds for ``method="sigmoid"``, an ``IsotonicRegression``
    for ``"isotonic"``). Plain attributes only, so skops can save it and load it without running
    any code of the file."""

    def __init__(
        self,
        features: list[str],
        trees: Any,
        calibrator: Any,
        method: str,
        dropped: dict[str, Any] | None = None,
    ) -> None:
        self.features = list(features)
        self.dropped = dropped or {"empty": [], "constant": [], "duplicate": {}}
        self.trees = trees
        self.calibrator = calibrator
        self.method = method
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(self.features)

    def decision_function(self, frame: Any) -> np.ndarray:
        """The trees' log-odds of each row of ``frame`` (its columns: :attr:`features`)."""
        return self.trees.decision_function(frame)

    def predict_proba(self, frame: Any) -> np.ndarray:
        """Calibrated probabilities, one row per row of ``frame``: [P(paid), P(still open)]."""
        p = calibrated(self.calibrator, self.decision_function(frame))
        return np.column_stack([1.0 - p, p])


def calibrated(calibrator: Any, score: np.ndarray) -> np.ndarray:
    """The calibrated probability (0-1) of the trees' log-odds ``score``."""
    if hasattr(calibrator, "predict_proba"):
        return calibrator.predict_proba(score.reshape(-1, 1))[:, 1]
    return np.clip(calibrator.predict(score), 0.0, 1.0)


def fit_calibrator(score: np.ndarray, label: np.ndarray, method: str) -> Any:
    """Platt scaling (``"sigmoid"``: an unpenalized logistic regression of the label on the
    log-odds) or isotonic regression, fitted on out-of-fold ``score`` and ``label``."""
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(score, label)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e6).fit(score.reshape(-1, 1), label)


def log_loss(label: np.ndarray, probability: np.ndarray) -> float:
    """Mean log loss (nats per row) with probabilities clipped by :data:`PROBABILITY_FLOOR`."""
    p = np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return float(-np.mean(label * np.log(p) + (1 - label) * np.log(1 - p)))


# --- features --------------------------------------------------------------------------------


def usable_features(rows: pl.DataFrame) -> tuple[list[str], dict[str, Any]]:
    """The model features worth fitting on ``rows`` (in :data:`MODEL_FEATURES` order, categorical
    first) and the dropped ones: ``{"empty": [...], "constant": [...], "duplicate": {name: the
    earlier feature it copies}}``. Empty: missing on every row; constant: one value and no
    missing; duplicate: equal to an earlier feature on every row, missing at the same rows."""
    stats = rows.select(
        *[pl.col(n).null_count().alias(f"{n}:nulls") for n in MODEL_FEATURES],
        *[pl.col(n).n_unique().alias(f"{n}:distinct") for n in MODEL_FEATURES],
    ).row(0, named=True)
    n = rows.height
    empty = [f for f in MODEL_FEATURES if stats[f"{f}:nulls"] == n]
    constant = [
        f for f in MODEL_FEATURES
        if f not in empty and stats[f"{f}:nulls"] == 0 and stats[f"{f}:distinct"] == 1
    ]  # fmt: skip
    kept = [f for f in MODEL_FEATURES if f not in empty and f not in constant]
    duplicate = _duplicates(rows, kept, stats)
    features = [f for f in kept if f not in duplicate]
    return features, {"empty": empty, "constant": constant, "duplicate": duplicate}


def _duplicates(rows: pl.DataFrame, names: list[str], stats: dict[str, Any]) -> dict[str, str]:
    """{feature: earlier feature it equals on every row}, among ``names`` of one kind (numeric
    or categorical); candidates share dtype, null and distinct counts and are then compared
    whole (so few comparisons are made)."""
    schema = rows.schema
    copies: dict[str, str] = {}
    seen: dict[tuple[Any, ...], list[str]] = {}
    for name in names:
        key = (schema[name], stats[f"{name}:nulls"], stats[f"{name}:distinct"])
        for earlier in seen.get(key, []):
            if rows[name].equals(rows[earlier], check_names=False):
                copies[name] = earlier
                break
        else:
            seen.setdefault(key, []).append(name)
    return copies


# --- trees -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeShape:
    """Hyper-parameters of one grid point: tree depth, rows per leaf (minimum), iterations."""

    max_depth: int
    min_samples_leaf: int
    max_iter: int

    def as_dict(self) -> dict[str, int]:
        return {
            "max_depth": self.max_depth,
            "min_samples_leaf": self.min_samples_leaf,
            "max_iter": self.max_iter,
        }


def tree_parameters(shape: TreeShape, policy: Policy) -> dict[str, Any]:
    """Every keyword of the ``HistGradientBoostingClassifier`` of ``shape`` (seeded; leaves
    bounded by depth only)."""
    rules = policy.model
    return {
        **shape.as_dict(),
        "max_leaf_nodes": None,
        "learning_rate": rules.learning_rate,
        "l2_regularization": rules.l2_regularization,
        "early_stopping": False,
        "random_state": rules.random_state,
    }


def _pipeline(features: list[str], shape: TreeShape, policy: Policy) -> Any:
    """Unfitted pipeline over ``features`` (categorical ones first): ordinal encoding of the
    categories (unknown or rare ones become missing) feeding trees that treat them as
    categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    n_categorical = sum(name in CATEGORICAL_FEATURES for name in features)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_CATEGORIES,
    )
    columns = ColumnTransformer(
        [("categories", encoder, list(range(n_categorical)))], remainder="passthrough"
    )
    increasing = set(policy.model.monotone_increasing)
    trees = HistGradientBoostingClassifier(
        categorical_features=list(range(n_categorical)),
        monotonic_cst=[1 if name in increasing else 0 for name in features],
        **tree_parameters(shape, policy),
    )
    return Pipeline([("encode", columns), ("trees", trees)])


def target(rows: pl.DataFrame) -> np.ndarray:
    """The label of ``rows`` as 0/1 integers."""
    return rows["label"].cast(pl.Int8).to_numpy()


def capped(rows: pl.DataFrame, limit: int, seed: int) -> pl.DataFrame:
    """``rows``, or a seeded uniform sample of ``limit`` of them (original order kept)."""
    if rows.height <= limit:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(rows.height, size=limit, replace=False))
    return rows[keep]


def sample_where(
    rows: pl.DataFrame, where: pl.Expr, limit: int, seed: int
) -> tuple[pl.DataFrame, int]:
    """(the rows matching ``where`` - the same sample as ``capped(rows.filter(where), limit,
    seed)`` - and how many match), gathering only the sample: a filtered copy of millions of
    rows is never made."""
    index = np.flatnonzero(rows.select(where.fill_null(False)).to_series().to_numpy())
    n = len(index)
    if n > limit:
        index = index[np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))]
    return rows[index], n


def check_both_labels(rows: pl.DataFrame, what: str) -> None:
    """InputError naming the dates when ``rows`` hold a single outcome (nothing to learn)."""
    if rows.height == 0 or rows["label"].n_unique() < 2:
        first, last = rows["snapshot_date"].min(), rows["snapshot_date"].max()
        outcome = "no row" if rows.height == 0 else f"the same label ({rows['label'][0]})"
        raise InputError(
            Problem(
                f"every {what} row from {first} to {last} has {outcome}; the model needs both "
                "outcomes: use more history"
            )
        )


def fit_trees(
    rows: pl.DataFrame, shape: TreeShape, policy: Policy
) -> tuple[Any, list[str], dict[str, Any]]:
    """The pipeline of ``shape`` fitted on ``rows`` (at most ``model.max_training_rows``, a
    seeded sample above) over their :func:`usable_features`, those features and the dropped
    ones."""
    rows = capped(rows, policy.model.max_training_rows, policy.model.random_state)
    check_both_labels(rows, "training")
    features, dropped = usable_features(rows)
    pipeline = _pipeline(features, shape, policy)
    pipeline.fit(rows.select(features), target(rows))
    return pipeline, features, dropped


# --- forward-chained cross-validation ---------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A validation block: snapshot dates ``first``..``last``, predicted by trees fitted on the
    rows with s + H <= ``first``."""

    first: date
    last: date


def forward_blocks(dates: list[date], horizon_days: int, policy: Policy) -> list[Block]:
    """``model.cv_blocks`` consecutive blocks over the latest ``model.cv_share`` of ``dates``
    (sorted, distinct); a block with fewer than 2 earlier labelled dates to train on is left
    out. InputError when fewer than 2 blocks remain."""
    rules = policy.model
    n_validation = min(max(rules.cv_blocks, round(len(dates) * rules.cv_share)), len(dates) - 1)
    chunks = np.array_split(
        np.array(dates[len(dates) - n_validation :], dtype=object), rules.cv_blocks
    )
    blocks = []
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        known = [d for d in dates if d + timedelta(days=horizon_days) <= chunk[0]]
        if len(known) >= 2:
            blocks.append(Block(first=chunk[0], last=chunk[-1]))
    if len(blocks) < 2:
        first = dates[0].isoformat() if dates else "none"
        raise InputError(
            Problem(
                f"not enough history to choose the model's settings: {len(dates)} snapshot "
                f"date(s) from {first} before the earliest cut-off; forward-chained "
                f"validation needs at least 2 blocks, each after 2 weeks whose {horizon_days}-day "
                "label is known (more history, or fewer backtest origins)"
            )
        )
    return blocks


def _block_rows(
    rows: pl.DataFrame, block: Block, horizon_days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training rows, validation rows) of ``block``."""
    s = pl.col("snapshot_date")
    return (
        rows.filter(s + timedelta(days=horizon_days) <= block.first),
        rows.filter(s.is_between(block.first, block.last)),
    )


def grid(policy: Policy) -> list[TreeShape]:
    """Every combination of the policy's grid, iterations last (staged from one fit)."""
    rules = policy.model
    return [
        TreeShape(depth, leaf, n)
        for depth in rules.grid_max_depth
        for leaf in rules.grid_min_samples_leaf
        for n in sorted(rules.grid_max_iter)
    ]


def _staged_scores(
    pipeline: Any, rows: pl.DataFrame, features: list[str], stops: list[int]
) -> Iterator[tuple[int, np.ndarray]]:
    """(iterations, log-odds of ``rows``) after each number of iterations in ``stops``."""
    encoded = pipeline[:-1].transform(rows.select(features))
    wanted = set(stops)
    for i, score in enumerate(pipeline[-1].staged_decision_function(encoded), start=1):
        if i in wanted:
            yield i, np.asarray(score, dtype=np.float64).ravel()


@dataclass
class Selection:
    """The outcome of :func:`select_parameters`: the chosen shape and calibration method, the
    score of every grid point, and the out-of-fold predictions of the chosen shape
    (``oof``: snapshot_date, customer_id, label, score = log-odds)."""

    chosen: TreeShape
    method: str
    table: list[dict[str, Any]]
    oof: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


FIT_WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Independent fits run this many at a time, each on one OpenMP thread (:func:`in_parallel`)."""


def in_parallel(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """The results of ``jobs``, in their order, run :data:`FIT_WORKERS` at a time in threads,
    each job on one OpenMP thread (the trees' loops release the GIL).

    Why one thread per fit (measured on the sample, issue 11): a fit of 12,000 rows takes 1.2 s
    on one OpenMP thread and 3.0 s on two, and one of 143,000 rows 11.5 s against 10.3 s, so two
    single-threaded fits side by side finish far sooner than two two-threaded fits in turn. A
    model is also the same on any number of cores (the trees' sums depend on the thread count).
    The limit is set inside each worker: OpenMP's thread count is a per-thread setting, so a
    limit set by the calling thread would not reach the workers."""
    from concurrent.futures import ThreadPoolExecutor

    import sklearn.ensemble  # noqa: F401  (loads OpenMP, so the limit below reaches it)
    from threadpoolctl import threadpool_limits

    def one(job: Callable[[], T]) -> T:
        with threadpool_limits(1, user_api="openmp"):
            return job()

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(FIT_WORKERS) as pool:
        return list(pool.map(one, jobs))


def select_parameters(
    rows: pl.DataFrame,
    horizon_days: int,
    policy: Policy,
    progress: Steps = QUIET,
    rows_before_sampling: int | None = None,
) -> Selection:
    """Choose the tree shape and the calibration method by forward-chained cross-validation on
    ``rows`` (all with s + H <= the earliest cut-off; a seeded sample of ``model.search_rows``
    above that). See the module docstring. The result does not depend on the order in which
    the fits run (:func:`in_parallel`)."""
    rules = policy.model
    search = capped(rows, rules.search_rows, rules.random_state)
    dates = sorted(search["snapshot_date"].unique().to_list())
    blocks = forward_blocks(dates, horizon_days, policy)
    parts = [_block_rows(search, block, horizon_days) for block in blocks]
    for block, (train, _valid) in zip(blocks, parts, strict=True):
        check_both_labels(train, f"validation block {block.first} training")
    tasks = [
        (i, depth, leaf)
        for i in range(len(blocks))
        for depth in rules.grid_max_depth
        for leaf in rules.grid_min_samples_leaf
    ]
    stops = sorted(rules.grid_max_iter)

    def staged(i: int, depth: int, leaf: int) -> list[tuple[TreeShape, pl.DataFrame]]:
        train, valid = parts[i]
        pipeline, features, _dropped = fit_trees(train, TreeShape(depth, leaf, stops[-1]), policy)
        out = [
            (TreeShape(depth, leaf, n), _oof(valid, score))
            for n, score in _staged_scores(pipeline, valid, features, stops)
        ]
        progress.advance()
        return out

    results = in_parallel([partial(staged, *task) for task in tasks])  # in task order
    scores: dict[TreeShape, list[pl.DataFrame]] = {shape: [] for shape in grid(policy)}
    for result in results:
        for shape, oof in result:
            scores[shape].append(oof)
    table = [_grid_point(shape, pl.concat(oofs)) for shape, oofs in scores.items()]
    best = min(table, key=lambda r: (r["log_loss"], r["max_depth"], r["max_iter"]))
    chosen = TreeShape(best["max_depth"], best["min_samples_leaf"], best["max_iter"])
    oof = pl.concat(scores[chosen])
    method, comparison = choose_method(oof, blocks, policy)
    summary = {
        "grid": grid_description(policy),
        "search_rows": search.height,
        "rows": rows.height if rows_before_sampling is None else rows_before_sampling,
        "blocks": [{"first": b.first.isoformat(), "last": b.last.isoformat()} for b in blocks],
        "calibration": comparison,
    }
    return Selection(chosen=chosen, method=method, table=table, oof=oof, summary=summary)


def _oof(rows: pl.DataFrame, score: np.ndarray) -> pl.DataFrame:
    return rows.select("snapshot_date", "customer_id", "label").with_columns(
        score=pl.Series(score, dtype=pl.Float64)
    )


def _grid_point(shape: TreeShape, oof: pl.DataFrame) -> dict[str, Any]:
    """The grid point's log loss (pooled out-of-fold, after Platt scaling on them) and rows."""
    label, score = target(oof), oof["score"].to_numpy()
    probability = calibrated(fit_calibrator(score, label, "sigmoid"), score)
    return {
        **shape.as_dict(),
        "log_loss": round(log_loss(label, probability), 6),
        "rows": oof.height,
    }


def choose_method(
    oof: pl.DataFrame, blocks: list[Block], policy: Policy
) -> tuple[str, dict[str, Any]]:
    """The calibration method: the policy's when it names one; for ``"auto"``, Platt
    (``"sigmoid"``) unless there are at least ``model.isotonic_min_rows`` out-of-fold rows and
    isotonic's forward cross-fitted log loss (each block calibrated on the earlier blocks) is
    lower. Returns (method, the comparison)."""
    rules = policy.model
    losses = {m: _forward_calibration_loss(oof, blocks, m) for m in ("sigmoid", "isotonic")}
    comparison = {
        "policy": rules.calibration_method,
        "oof_rows": oof.height,
        "isotonic_min_rows": rules.isotonic_min_rows,
        "forward_log_loss": losses,
    }
    if rules.calibration_method != "auto":
        return rules.calibration_method, comparison
    allowed = oof.height >= rules.isotonic_min_rows and losses["isotonic"] is not None
    better = allowed and losses["sigmoid"] is not None and losses["isotonic"] < losses["sigmoid"]
    return ("isotonic" if better else "sigmoid"), comparison


def _forward_calibration_loss(oof: pl.DataFrame, blocks: list[Block], method: str) -> float | None:
    """Pooled log loss of blocks 2.. calibrated by ``method`` fitted on the earlier blocks."""
    labels, probabilities = [], []
    for block in blocks[1:]:
        earlier = oof.filter(pl.col("snapshot_date") < block.first)
        later = oof.filter(pl.col("snapshot_date").is_between(block.first, block.last))
        if earlier["label"].n_unique() < 2 or later.height == 0:
            continue
        calibrator = fit_calibrator(earlier["score"].to_numpy(), target(earlier), method)
        labels.append(target(later))
        probabilities.append(calibrated(calibrator, later["score"].to_numpy()))
    if not labels:
        return None
    return round(log_loss(np.concatenate(labels), np.concatenate(probabilities)), 6)


# --- walk forward over cut-offs ---------------------------------------------------------------


@dataclass
class Evaluation:
    """One out-of-time evaluation: the cut-off, its test rows (cutoff < s <= min(cutoff + test
    period, as_of - H)), the fitted estimator, the probabilities of the model and of both
    baselines on the test rows (aligned with them), and :attr:`train`, its training rows
    (s + H <= cutoff), filtered from ``rows`` when asked (not kept: at a million invoices each
    copy is gigabytes)."""

    cutoff: date
    rows: pl.DataFrame = field(repr=False)
    horizon_days: int
    test: pl.DataFrame
    estimator: CalibratedTrees
    probabilities: dict[str, np.ndarray]
    n_train: int = 0

    @property
    def train(self) -> pl.DataFrame:
        """The training rows of the cut-off: snapshot s with s + H <= cutoff."""
        return self.rows.filter(
            pl.col("snapshot_date") + timedelta(days=self.horizon_days) <= self.cutoff
        )


@dataclass
class WalkForward:
    """:func:`walk_forward`'s result: evaluations in cut-off order, the hyper-parameter
    selection, and every out-of-fold prediction of the chosen shape (search blocks, then each
    test period), which the production refit calibrates on; the production estimator when
    asked for."""

    evaluations: list[Evaluation]
    selection: Selection
    oof: pl.DataFrame
    production: CalibratedTrees | None = None
    alongside: Any = None
    """The result of the ``alongside`` job of :func:`walk_forward` (None without one)."""

    def selection_report(self) -> dict[str, Any]:
        """JSON-ready: the grid, each point's log loss, the choice and the calibration."""
        chosen = self.selection.chosen
        return {
            "chosen": chosen.as_dict(),
            "calibration_method": self.selection.method,
            **self.selection.summary,
            "scores": self.selection.table,
        }


def grid_description(policy: Policy) -> dict[str, Any]:
    """The policy's grid (JSON-ready)."""
    rules = policy.model
    return {
        "max_depth": list(rules.grid_max_depth),
        "min_samples_leaf": list(rules.grid_min_samples_leaf),
        "max_iter": list(rules.grid_max_iter),
        "learning_rate": rules.learning_rate,
        "l2_regularization": rules.l2_regularization,
        "cv_blocks": rules.cv_blocks,
        "cv_share": rules.cv_share,
    }


def fit_estimator(
    train: pl.DataFrame, oof: pl.DataFrame, selection: Selection, policy: Policy
) -> CalibratedTrees:
    """Trees of the chosen shape on every row of ``train`` and the chosen calibration fitted on
    ``oof`` (out-of-fold predictions whose label is known by the end of ``train``)."""
    check_both_labels(oof, "out-of-fold")
    return with_calibration(fit_trees(train, selection.chosen, policy), oof, selection)


def with_calibration(
    fitted: tuple[Any, list[str], dict[str, Any]], oof: pl.DataFrame, selection: Selection
) -> CalibratedTrees:
    """The :func:`fit_trees` result ``fitted`` with the chosen calibration fitted on ``oof``."""
    check_both_labels(oof, "out-of-fold")
    pipeline, features, dropped = fitted
    calibrator = fit_calibrator(oof["score"].to_numpy(), target(oof), selection.method)
    return CalibratedTrees(features, pipeline, calibrator, selection.method, dropped)


def test_rows(rows: pl.DataFrame, cutoff: date, until: date) -> pl.DataFrame:
    """Rows with cutoff < snapshot_date <= until."""
    s = pl.col("snapshot_date")
    return rows.filter((s > cutoff) & (s <= until))


def walk_forward(
    rows: pl.DataFrame,
    as_of: date,
    horizon_days: int,
    cutoffs: list[date],
    policy: Policy = DEFAULT_POLICY,
    progress: Steps = QUIET,
    test_until: list[date] | None = None,
    production: bool = False,
    alongside: Callable[[Selection], Callable[[], Any]] | None = None,
) -> WalkForward:
    """Evaluate the fitting procedure out of time at each of ``cutoffs`` (see the module
    docstring). Test rows of a cut-off run to ``test_until`` (one date per cut-off), by default
    to ``cutoff + 7 * model.test_weeks`` days, never past ``as_of - horizon_days``. With
    ``production``, also the trees on every row of ``rows`` calibrated on every out-of-fold
    prediction (:attr:`WalkForward.production`). ``alongside``: given the selection, a job run
    side by side with those fits (its result in :attr:`WalkForward.alongside`): a core left idle
    while the largest fit finishes does it.

    The trees of every cut-off (and of production) are independent of one another and are
    fitted side by side (:func:`in_parallel`); their calibrations follow in cut-off order, each
    on the out-of-fold predictions known by then (the earlier test periods included).
    ``progress`` advances once per search fit and once per fit after it."""
    cutoffs = sorted(cutoffs)
    period = timedelta(days=7 * policy.model.test_weeks)
    ends = test_until or [c + period for c in cutoffs]
    rules = policy.model
    known = pl.col("snapshot_date") + timedelta(days=horizon_days)
    search, n_search = sample_where(
        rows, known <= cutoffs[0], rules.search_rows, rules.random_state
    )
    selection = select_parameters(search, horizon_days, policy, progress, n_search)
    del search
    check_both_labels(selection.oof.filter(known <= cutoffs[0]), "out-of-fold")
    # every training row, or the same seeded sample fit_trees would draw above the cap
    trains = [
        sample_where(rows, known <= cutoff, rules.max_training_rows, rules.random_state)
        for cutoff in cutoffs
    ]
    # the production fit (every row: the largest) first, so the others share the other core
    fitting = ([rows] if production else []) + [train for train, _n in trains]
    jobs = [progress.counting(partial(fit_trees, r, selection.chosen, policy)) for r in fitting]
    done = in_parallel(jobs + ([alongside(selection)] if alongside else []))
    fitted = done[int(production) : int(production) + len(trains)] + done[: int(production)]
    walk = WalkForward(evaluations=[], selection=selection, oof=selection.oof)
    walk.alongside = done[-1] if alongside else None
    last_labelled = as_of - timedelta(days=horizon_days)
    for i, cutoff in enumerate(cutoffs):
        train, n_train = trains[i]
        until = min(ends[i], last_labelled)
        _evaluate(walk, rows, train, n_train, fitted[i], cutoff, until, horizon_days)
    if production:
        walk.production = with_calibration(fitted[-1], walk.oof, selection)
    return walk


def _evaluate(
    walk: WalkForward,
    rows: pl.DataFrame,
    train: pl.DataFrame,
    n_train: int,
    fitted: tuple[Any, list[str], dict[str, Any]],
    cutoff: date,
    until: date,
    horizon_days: int,
) -> None:
    """Append to ``walk`` the evaluation at ``cutoff`` of the trees ``fitted`` on ``train``
    (calibrated on the out-of-fold rows known by ``cutoff``), tested on cutoff < s <= until,
    and add the test period's predictions after the last out-of-fold date to ``walk.oof``."""
    from workbench.riskmetrics import baseline_probabilities

    known = pl.col("snapshot_date") + timedelta(days=horizon_days)
    test = test_rows(rows, cutoff, until)
    estimator = with_calibration(fitted, walk.oof.filter(known <= cutoff), walk.selection)
    score = estimator.decision_function(test.select(estimator.features))
    probabilities = {"model": calibrated(estimator.calibrator, score)}
    for name in ("baseline_dpd", "baseline_customer_late_rate"):
        probabilities[name] = baseline_probabilities(train, test, name)
    walk.evaluations.append(
        Evaluation(cutoff, rows, horizon_days, test, estimator, probabilities, n_train)
    )
    later = (test["snapshot_date"] > walk.oof["snapshot_date"].max()).to_numpy()
    walk.oof = pl.concat([walk.oof, _oof(test.filter(pl.Series(later)), score[later])])


__all__ = [
    "CalibratedTrees", "Evaluation", "Selection", "TreeShape", "WalkForward", "calibrated",
    "fit_calibrator", "fit_estimator", "fit_trees", "forward_blocks", "grid", "in_parallel",
    "log_loss", "select_parameters", "usable_features", "walk_forward", "with_calibration",
]  # fmt: skip
