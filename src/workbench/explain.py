"""Why the model ranks what it ranks: a global explanation (permutation importance on the test
period) and, per customer, the top risk reasons in words a collector can say on the phone
(DESIGN 2.13), driven by the explicit thresholds of the policy's ``[model]`` section
(``reason_*`` keys).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from workbench.policy import DEFAULT_POLICY, Policy
from workbench.snapshots import MODEL_FEATURES

IMPORTANCE_ROWS = 5_000
"""Permutation importance uses at most this many test rows (a seeded sample)."""
IMPORTANCE_REPEATS = 3


def global_importance(
    pipeline: Any, rows: pl.DataFrame, policy: Policy = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """Permutation importance of each model feature on ``rows`` (the test period): the mean drop
    of ROC AUC when the feature's values are shuffled (sklearn.inspection.permutation_importance,
    ``IMPORTANCE_REPEATS`` repeats, seeded with ``model.random_state``; at most
    ``IMPORTANCE_ROWS`` rows, a seeded sample).

    ``pipeline``: the fitted (uncalibrated) model pipeline, taking the columns of
    :data:`workbench.snapshots.MODEL_FEATURES`; its encoding steps are applied once and the
    shuffling is done on the encoded columns (one per feature, same order), which is cheaper and
    gives the same ranking (calibration is monotone). Returns [{feature, importance, std}] sorted
    by importance, highest first; empty when ``rows`` has only one outcome.
    """
    from sklearn.inspection import permutation_importance

    if rows.height == 0 or rows["label"].n_unique() < 2:
        return []
    if rows.height > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, seed=policy.model.random_state)
    encoded = pipeline[:-1].transform(rows.select(MODEL_FEATURES))
    if encoded.shape[1] != len(MODEL_FEATURES):
        raise ValueError("the pipeline's encoding must keep one column per feature")
    result = permutation_importance(
        pipeline[-1],
        encoded,
        rows["label"].cast(pl.Int8).to_numpy(),
        scoring="roc_auc",
        n_repeats=IMPORTANCE_REPEATS,
        random_state=policy.model.random_state,
    )
    order = np.argsort(-result.importances_mean, kind="stable")
    return [
        {
            "feature": MODEL_FEATURES[i],
            "importance": round(float(result.importances_mean[i]), 6),
            "std": round(float(result.importances_std[i]), 6),
        }
        for i in order
    ]


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _plural(count: pl.Expr, singular: str, plural: str) -> pl.Expr:
    """"1 promise broken" / "2 promises broken"."""
    return _int(count) + pl.when(count == 1).then(pl.lit(singular)).otherwise(pl.lit(plural))


def reason_rules(policy: Policy = DEFAULT_POLICY) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """The risk reasons, most serious first: (name, condition, sentence) over the columns of
    :func:`workbench.features.customer_features`. A reason applies when its condition is true
    (null counts as false)."""
    r = policy.model
    settled = pl.col("invoices_settled")
    enough = settled >= r.reason_min_settled
    late_share, severe_share = pl.col("share_settled_late"), pl.col("share_settled_severely_late")
    mean_late, trend = pl.col("mean_days_late"), pl.col("days_late_trend")
    severe_days = policy.behaviour.severe_late_days
    trend_text = pl.when(trend >= r.reason_trend_days).then(
        pl.lit(", getting later (+") + _int(trend) + pl.lit(" days vs the year before)")
    ).otherwise(pl.lit(""))
    return [
        (
            "broken_promises",
            pl.col("promises_broken") >= r.reason_broken_promises,
            _plural(pl.col("promises_broken"), " promise to pay broken", " promises to pay broken"),
        ),
        (
            "missed_instalments",
            pl.col("plan_instalments_missed") >= r.reason_missed_instalments,
            pl.lit("missed ")
            + _plural(
                pl.col("plan_instalments_missed"),
                " payment-plan instalment",
                " payment-plan instalments",
            ),
        ),
        (
            "oldest_dpd",
            pl.col("oldest_dpd") >= r.reason_oldest_dpd,
            pl.lit("oldest open invoice ") + _int(pl.col("oldest_dpd")) + pl.lit(" days past due"),
        ),
        (
            "severely_late",
            enough & (severe_share >= r.reason_severe_late_share),
            pl.lit("paid ")
            + _int(severe_share * settled)
            + pl.lit(" of ")
            + _int(settled)
            + pl.lit(f" settled invoices more than {severe_days} days late"),
        ),
        (
            "late_share",
            enough & (late_share >= r.reason_late_share),
            pl.lit("paid ") + _int(late_share * settled) + pl.lit(" of ") + _int(settled)
            + pl.lit(" settled invoices late"),
        ),
        (
            "days_late",
            enough & ((mean_late >= r.reason_mean_days_late) | (trend >= r.reason_trend_days)),
            pl.when(mean_late >= r.reason_mean_days_late)
            .then(pl.lit("average ") + _int(mean_late) + pl.lit(" days late") + trend_text)
            .otherwise(
                pl.lit("getting later: +") + _int(trend) + pl.lit(" days late vs the year before")
            ),
        ),
        (
            "open_disputes",
            pl.col("open_disputes") >= r.reason_open_disputes,
            _plural(pl.col("open_disputes"), " open dispute", " open disputes"),
        ),
        (
            "credit_limit",
            pl.col("credit_limit_use") >= r.reason_credit_limit_use,
            pl.lit("at ") + _int(pl.col("credit_limit_use") * 100) + pl.lit(" % of the credit limit"),
        ),
        (
            "no_recent_payment",
            (pl.col("days_since_last_payment") >= r.reason_days_since_payment)
            & (pl.col("overdue_balance") > 0),
            pl.lit("no payment for ") + _int(pl.col("days_since_last_payment")) + pl.lit(" days"),
        ),
        (
            "partial_payments",
            (pl.col("partial_payment_rate") >= r.reason_partial_rate) & enough,
            pl.lit("pays in part (")
            + _int(pl.col("partial_payment_rate") * 100)
            + pl.lit(" % of paid invoices)"),
        ),
        (
            "new_customer",
            pl.col("tenure_days") < r.reason_new_customer_days,
            pl.lit("new customer (") + _int(pl.col("tenure_days")) + pl.lit(" days), little history"),
        ),
    ]


def customer_reasons(
    features: pl.DataFrame, top: int = 3, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The ``top`` most serious risk reasons of each customer, in words.

    ``features``: :func:`workbench.features.customer_features` (collected). Returns one row per
    customer of ``features``, in its order: customer_id, risk_reasons (the sentences of
    :func:`reason_rules` that apply, most serious first, joined by "; "; empty string when none).
    Thresholds: the ``reason_*`` keys of the policy's ``[model]`` section.
    """
    rules = reason_rules(policy)
    sentences = [
        pl.when(condition.fill_null(False)).then(sentence).alias(f"_reason_{i}")
        for i, (_, condition, sentence) in enumerate(rules)
    ]
    return (
        features.lazy()
        .select("customer_id", *sentences)
        .select(
            "customer_id",
            risk_reasons=pl.concat_list([f"_reason_{i}" for i in range(len(rules))])
            .list.drop_nulls()
            .list.head(top)
            .list.join("; "),
        )
        .collect()
    )
