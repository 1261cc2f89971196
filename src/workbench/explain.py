"""Why the model ranks what it ranks: a global explanation (permutation importance on the test
period) and, per customer, the top risk reasons in words a collector can say on the phone
(DESIGN 2.13), driven by the explicit thresholds of the policy's ``[model]`` section
(``reason_*`` keys).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from workbench.phrases import RISK_REASONS
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.wording import counted, percent_text, phrase

IMPORTANCE_ROWS = 2_000
"""Permutation importance uses at most this many test rows (a seeded sample)."""
IMPORTANCE_REPEATS = 3


def global_importance(
    pipeline: Any, rows: pl.DataFrame, features: list[str], policy: Policy = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """Permutation importance of each model feature on ``rows`` (the test period): the mean drop
    of ROC AUC when the feature's values are shuffled (sklearn.inspection.permutation_importance,
    ``IMPORTANCE_REPEATS`` repeats, seeded with ``model.random_state``; at most
    ``IMPORTANCE_ROWS`` rows, a seeded sample).

    ``pipeline``: the fitted (uncalibrated) model pipeline, taking the columns ``features``
    (the model's, a subset of :data:`workbench.snapshots.MODEL_FEATURES`); its encoding steps
    are applied once and the shuffling is done on the encoded columns (one per feature, same order), which is cheaper and
    gives the same ranking (calibration is monotone). Returns [{feature, importance, std}] sorted
    by importance, highest first; empty when ``rows`` has only one outcome.
    """
    from threadpoolctl import threadpool_limits

    if rows.height == 0 or rows["label"].n_unique() < 2:
        return []
    if rows.height > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, seed=policy.model.random_state)
    encoded = pipeline[:-1].transform(rows.select(features))
    if encoded.shape[1] != len(features):
        raise ValueError("the pipeline's encoding must keep one column per feature")
    # one thread: each of the many small predictions would otherwise wake the OpenMP threads
    # once per tree (measured: 16 s on the sample's 2,000 rows, against about 2 s)
    with threadpool_limits(1, user_api="openmp"):
        result = _permutation_importance(pipeline[-1], encoded, rows, policy)
    order = np.argsort(-result.importances_mean, kind="stable")
    return [
        {
            "feature": features[i],
            "importance": round(float(result.importances_mean[i]), 6),
            "std": round(float(result.importances_std[i]), 6),
        }
        for i in order
    ]


def _permutation_importance(trees: Any, encoded: Any, rows: pl.DataFrame, policy: Policy) -> Any:
    """sklearn's permutation importance of ``trees`` on the ``encoded`` feature matrix of
    ``rows`` (ROC AUC drop, ``IMPORTANCE_REPEATS`` repeats, seeded)."""
    from sklearn.inspection import permutation_importance

    return permutation_importance(
        trees,
        encoded,
        rows["label"].cast(pl.Int8).to_numpy(),
        scoring="roc_auc",
        n_repeats=IMPORTANCE_REPEATS,
        random_state=policy.model.random_state,
    )


def _int(expr: pl.Expr) -> pl.Expr:
    """``expr`` rounded to a whole number (Int64)."""
    return expr.round(0).cast(pl.Int64)


def _sentences(policy: Policy) -> dict[str, pl.Expr]:
    """The sentence of each risk reason, by name, in the team's language
    (:data:`workbench.phrases.RISK_REASONS`)."""
    language = policy.team.language
    say = RISK_REASONS[language]
    settled = pl.col("invoices_settled")
    trend, mean_late = _int(pl.col("days_late_trend")), _int(pl.col("mean_days_late"))
    severe = pl.lit(policy.behaviour.severe_late_days)

    def days(n: pl.Expr) -> dict[str, pl.Expr]:
        """``n`` as a number and as counted days."""
        return {"n": n, "n_days": counted(n, "day", language)}

    def percent(share: pl.Expr) -> dict[str, pl.Expr]:
        """A share (0-1) as a whole percentage: the number and its text."""
        n = _int(share * 100)
        return {"n": n, "percent": percent_text(n, language)}

    trend_text = (
        pl.when(pl.col("days_late_trend") >= policy.model.reason_trend_days)
        .then(phrase(say["trend_suffix"], **days(trend)))
        .otherwise(pl.lit(""))
    )
    return {
        "broken_promises": phrase(say["broken_promises"], promises=counted(
            _int(pl.col("promises_broken")), "promise_to_pay_broken", language)),
        "missed_instalments": phrase(say["missed_instalments"], instalments=counted(
            _int(pl.col("plan_instalments_missed")), "plan_instalment", language)),
        "oldest_dpd": phrase(say["oldest_dpd"], **days(_int(pl.col("oldest_dpd")))),
        "severely_late": phrase(
            say["severely_late"], late=_int(pl.col("share_settled_severely_late") * settled),
            settled=_int(settled), severe=severe, severe_days=counted(severe, "day", language)),
        "late_share": phrase(say["late_share"], late=_int(pl.col("share_settled_late") * settled),
                             settled=_int(settled)),
        "average_late": phrase(say["average_late"], trend=trend_text, **days(mean_late)),
        "getting_later": phrase(say["getting_later"], **days(trend)),
        "open_disputes": phrase(say["open_disputes"], disputes=counted(
            _int(pl.col("open_disputes")), "open_dispute", language)),
        "credit_limit": phrase(say["credit_limit"], **percent(pl.col("credit_limit_use"))),
        "no_recent_payment": phrase(say["no_recent_payment"],
                                    **days(_int(pl.col("days_since_last_payment")))),
        "partial_payments": phrase(say["partial_payments"],
                                   **percent(pl.col("partial_payment_rate"))),
        "new_customer": phrase(say["new_customer"], **days(_int(pl.col("tenure_days")))),
    }  # fmt: skip


def reason_rules(policy: Policy = DEFAULT_POLICY) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """The risk reasons, most serious first: (name, condition, sentence) over the columns of
    :func:`workbench.features.customer_features`. A reason applies when its condition is true
    (null counts as false). Sentences in the team's language (policy ``team.language``)."""
    r = policy.model
    enough = pl.col("invoices_settled") >= r.reason_min_settled
    mean_late, trend = pl.col("mean_days_late"), pl.col("days_late_trend")
    say = _sentences(policy)
    return [
        ("broken_promises", pl.col("promises_broken") >= r.reason_broken_promises,
         say["broken_promises"]),
        ("missed_instalments", pl.col("plan_instalments_missed") >= r.reason_missed_instalments,
         say["missed_instalments"]),
        ("oldest_dpd", pl.col("oldest_dpd") >= r.reason_oldest_dpd, say["oldest_dpd"]),
        ("severely_late",
         enough & (pl.col("share_settled_severely_late") >= r.reason_severe_late_share),
         say["severely_late"]),
        ("late_share", enough & (pl.col("share_settled_late") >= r.reason_late_share),
         say["late_share"]),
        ("days_late",
         enough & ((mean_late >= r.reason_mean_days_late) | (trend >= r.reason_trend_days)),
         pl.when(mean_late >= r.reason_mean_days_late).then(say["average_late"])
         .otherwise(say["getting_later"])),
        ("open_disputes", pl.col("open_disputes") >= r.reason_open_disputes, say["open_disputes"]),
        ("credit_limit", pl.col("credit_limit_use") >= r.reason_credit_limit_use,
         say["credit_limit"]),
        ("no_recent_payment",
         (pl.col("days_since_last_payment") >= r.reason_days_since_payment)
         & (pl.col("overdue_balance") > 0),
         say["no_recent_payment"]),
        ("partial_payments", (pl.col("partial_payment_rate") >= r.reason_partial_rate) & enough,
         say["partial_payments"]),
        ("new_customer", pl.col("tenure_days") < r.reason_new_customer_days, say["new_customer"]),
    ]  # fmt: skip


def customer_reasons(
    features: pl.DataFrame, top: int = 3, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The ``top`` most serious risk reasons of each customer, in words.

    ``features``: :func:`workbench.features.customer_features` (collected). Returns one row per
    customer of ``features``, in its order: customer_id, risk_reasons (the sentences of
    :func:`reason_rules` that apply, most serious first, joined by "; " (French: " ; "); empty
    string when none).
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
            .list.join(RISK_REASONS[policy.team.language]["separator"]),
        )
        .collect()
    )
