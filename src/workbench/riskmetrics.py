"""Metrics of the late-payment risk model's out-of-time evaluation (DESIGN section 5): ranking
(ROC AUC, average precision), probability (Brier score, calibration table and expected
calibration error), money (share of the amount still open at the horizon captured by the top
decile), and the two one-feature baselines every model must beat."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

BASELINES = ("baseline_dpd", "baseline_customer_late_rate")
BASELINE_FEATURE = {
    "baseline_dpd": "days_past_due",
    "baseline_customer_late_rate": "customer_share_settled_late",
}
"""The one feature of each baseline (turned into a probability by a logistic regression)."""

METRIC_NAMES = ("roc_auc", "average_precision", "brier", "top_decile_amount_capture")


def window(rows: pl.DataFrame) -> dict[str, Any]:
    """First and last snapshot date (ISO) and row count of ``rows``."""
    if rows.height == 0:
        return {"first_snapshot": None, "last_snapshot": None, "rows": 0}
    return {
        "first_snapshot": rows["snapshot_date"].min().isoformat(),
        "last_snapshot": rows["snapshot_date"].max().isoformat(),
        "rows": rows.height,
    }


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
        "roc_auc": rounded(roc_auc_score(label, probability)) if both else None,
        "average_precision": rounded(average_precision_score(label, probability)) if both else None,
        "brier": rounded(brier_score_loss(label, probability, labels=[0, 1]))
        if len(label)
        else None,
        "top_decile_amount_capture": rounded(
            top_decile_amount_capture(probability, amount_at_horizon)
        ),
    }


def rounded(value: float | None, digits: int = 6) -> float | None:
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
                "mean_predicted": rounded(predicted),
                "observed_rate": rounded(observed),
            }
        )
    n_total = len(label)
    return {
        "expected_calibration_error": rounded(ece / n_total) if n_total else None,
        "mean_predicted": rounded(probability.mean()) if n_total else None,
        "observed_rate": rounded(label.mean()) if n_total else None,
        "bins": rows,
    }


BASELINE_ROWS = 500_000
"""A baseline's logistic regression is fitted on at most this many training rows (a seeded
sample above): two coefficients need no more, and a million invoices give millions of rows."""


def baseline_probabilities(train: pl.DataFrame, test: pl.DataFrame, name: str) -> np.ndarray:
    """A one-feature logistic regression fitted on ``train`` (at most :data:`BASELINE_ROWS`,
    a seeded sample above), applied to ``test``; missing values filled with the training mean
    (0 when the feature is missing throughout)."""
    from sklearn.linear_model import LogisticRegression

    if train.height > BASELINE_ROWS:
        keep = np.random.default_rng(0).choice(train.height, size=BASELINE_ROWS, replace=False)
        train = train[np.sort(keep)]
    column = BASELINE_FEATURE[name]
    fill = train[column].mean()
    fill = 0.0 if fill is None else float(fill)

    def values(rows: pl.DataFrame) -> np.ndarray:
        return (
            rows[column].cast(pl.Float64).fill_null(fill).fill_nan(fill).to_numpy().reshape(-1, 1)
        )

    label = train["label"].cast(pl.Int8).to_numpy()
    regression = LogisticRegression().fit(values(train), label)
    return regression.predict_proba(values(test))[:, 1]
