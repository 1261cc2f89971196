"""Debt segments (DESIGN section 6): behaviour segment per customer, risk and value bands.

- The **behaviour segment** names how a customer pays, from its payment-behaviour features
  (:func:`workbench.features.customer_features`) and the ``[segments]`` thresholds of the policy,
  checked in the order of :data:`SEGMENT_PRECEDENCE` (the first rule that holds wins).
- The **probability** that an open invoice is still open at the horizon comes from the risk model
  when scores are given, else from a documented fallback on days past due and behaviour
  (:func:`fallback_probability`, ``[risk_fallback]``).
- **Risk band** (probability) by **value band** (open amount) gives the priority matrix.
"""

from __future__ import annotations

import polars as pl

from workbench.balances import money_sum
from workbench.policy import DEFAULT_POLICY, SEGMENTS, Policy

SEGMENT_PRECEDENCE = (
    "new", "in_difficulty", "disputing", "chronic_late", "deteriorating", "occasional", "reliable",
)  # fmt: skip
"""The order in which the segment rules are checked; the first that holds wins.

- new: tenure_days < new_max_tenure_days, or invoices_settled < new_min_settled: too little
  history to judge (checked first: every other rule reads the history);
- in_difficulty: no payment for difficulty_silent_days while something is overdue, or
  partial_payment_rate >= difficulty_min_partial_rate, or plan_instalments_missed >=
  difficulty_min_missed_instalments (checked before the lateness rules, which it explains);
- disputing: dispute_rate >= disputing_min_dispute_rate (its delays come from its disputes);
- chronic_late: share_settled_late >= chronic_min_share_late and mean_days_late >=
  chronic_min_mean_days_late;
- deteriorating: days_late_trend >= deteriorating_min_trend_days (a chronic payer whose trend
  moves is still chronic, hence checked after it);
- occasional: share_settled_late > reliable_max_share_late;
- reliable: everyone else.
"""

ARCHETYPE_SEGMENT = {
    "reliable": "reliable",
    "occasional": "occasional",
    "chronic_late": "chronic_late",
    "deteriorating": "deteriorating",
    "cash_strapped": "in_difficulty",
    "defaulter": "in_difficulty",
    "disputer": "disputing",
    "new": "new",
}
"""The segment expected for each archetype of the synthetic generator (its ground truth)."""

RISK_BANDS = ("low", "medium", "high")
VALUE_BANDS = ("small", "medium", "large")

SEGMENT_FEATURES = (
    "tenure_days", "invoices_settled", "days_since_last_payment", "overdue_balance",
    "partial_payment_rate", "plan_instalments_missed", "dispute_rate", "share_settled_late",
    "mean_days_late", "days_late_trend",
)  # fmt: skip
"""The feature columns :func:`behaviour_segment` reads."""


def behaviour_segment(policy: Policy = DEFAULT_POLICY) -> pl.Expr:
    """The behaviour segment (String, one of :data:`workbench.policy.SEGMENTS`) of each row of a
    customer-features frame (columns :data:`SEGMENT_FEATURES`), by :data:`SEGMENT_PRECEDENCE`.

    A null feature never satisfies a rule (a customer without a payments table is judged on
    what is known; without settled invoices it is new).
    """
    rules = policy.segments
    c = pl.col
    silent = (c("days_since_last_payment") >= rules.difficulty_silent_days) & (
        c("overdue_balance") > 0
    )
    missed = (
        c("plan_instalments_missed") >= rules.difficulty_min_missed_instalments
        if rules.difficulty_min_missed_instalments > 0
        else pl.lit(False)
    )
    conditions = {
        "new": (c("tenure_days").fill_null(0) < rules.new_max_tenure_days)
        | (c("invoices_settled").fill_null(0) < rules.new_min_settled),
        "in_difficulty": silent.fill_null(False)
        | (c("partial_payment_rate") >= rules.difficulty_min_partial_rate).fill_null(False)
        | missed.fill_null(False),
        "disputing": c("dispute_rate") >= rules.disputing_min_dispute_rate,
        "chronic_late": (c("share_settled_late") >= rules.chronic_min_share_late)
        & (c("mean_days_late") >= rules.chronic_min_mean_days_late),
        "deteriorating": c("days_late_trend") >= rules.deteriorating_min_trend_days,
        "occasional": c("share_settled_late") > rules.reliable_max_share_late,
    }
    expr: pl.Expr | None = None
    for name in SEGMENT_PRECEDENCE[:-1]:
        condition = conditions[name].fill_null(False)
        expr = (pl.when(condition) if expr is None else expr.when(condition)).then(pl.lit(name))
    assert expr is not None and set(SEGMENT_PRECEDENCE) == set(SEGMENTS)
    return expr.otherwise(pl.lit(SEGMENT_PRECEDENCE[-1]))


def customer_segments(features: pl.LazyFrame, policy: Policy = DEFAULT_POLICY) -> pl.LazyFrame:
    """customer_id, segment: the behaviour segment of each customer of a
    :func:`workbench.features.customer_features` frame."""
    return features.select("customer_id", segment=behaviour_segment(policy))


def fallback_probability(policy: Policy = DEFAULT_POLICY) -> pl.Expr:
    """P(an open invoice is still open at the horizon) without a model (Float64, 0-1).

    Reads days_past_due (days) of the invoice and its customer's share_settled_late,
    share_settled_severely_late (0-1) and promises_broken (count); ``[risk_fallback]``:
    ``base + per_dpd_day * max(dpd, 0) + late_weight * share_settled_late + severe_late_weight *
    share_settled_severely_late + broken_promise_weight * (promises_broken > 0)``, clipped to
    ``[minimum, maximum]``; a customer without settled invoices counts as never late.
    """
    risk = policy.risk_fallback
    c = pl.col
    score = (
        risk.base
        + risk.per_dpd_day * c("days_past_due").clip(lower_bound=0)
        + risk.late_weight * c("share_settled_late").fill_null(0.0)
        + risk.severe_late_weight * c("share_settled_severely_late").fill_null(0.0)
        + risk.broken_promise_weight * (c("promises_broken").fill_null(0) > 0).cast(pl.Float64)
    )
    return score.clip(risk.minimum, risk.maximum)


def invoice_probabilities(
    open_invoices: pl.LazyFrame,
    features: pl.LazyFrame,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """``open_invoices`` (invoice_id, customer_id, days_past_due, ...) with ``probability``
    (0-1, still open at the horizon) and ``probability_source`` ("model" or "fallback").

    The model's score of the invoice when ``scores`` (invoice_id, probability) has it, else
    :func:`fallback_probability` from ``features`` (customer_features columns). Row order is kept.
    """
    behaviour = features.select(
        "customer_id", "share_settled_late", "share_settled_severely_late", "promises_broken"
    )
    out = open_invoices.with_row_index("_order").join(behaviour, on="customer_id", how="left")
    if scores is not None:
        model = scores.lazy().select(
            pl.col("invoice_id").cast(pl.String), model_probability=pl.col("probability")
        )
        out = out.join(model.unique("invoice_id", keep="first"), on="invoice_id", how="left")
    else:
        out = out.with_columns(model_probability=pl.lit(None, pl.Float64))
    return (
        out.with_columns(
            probability=pl.coalesce("model_probability", fallback_probability(policy)),
            probability_source=pl.when(pl.col("model_probability").is_not_null())
            .then(pl.lit("model"))
            .otherwise(pl.lit("fallback")),
        )
        .sort("_order")
        .drop("_order", "model_probability", "share_settled_late",
              "share_settled_severely_late", "promises_broken")  # fmt: skip
    )


def _band(value: pl.Expr, cuts: tuple[float, ...], names: tuple[str, ...]) -> pl.Expr:
    return (
        pl.when(value < cuts[0])
        .then(pl.lit(names[0]))
        .when(value < cuts[1])
        .then(pl.lit(names[1]))
        .otherwise(pl.lit(names[2]))
    )


def risk_band(probability: pl.Expr, policy: Policy = DEFAULT_POLICY) -> pl.Expr:
    """low / medium / high from a probability (0-1) and ``segments.risk_band_cuts``."""
    return _band(probability, policy.segments.risk_band_cuts, RISK_BANDS)


def value_band(amount: pl.Expr, policy: Policy = DEFAULT_POLICY) -> pl.Expr:
    """small / medium / large from an open amount (currency) and ``segments.value_band_cuts``."""
    return _band(amount, policy.segments.value_band_cuts, VALUE_BANDS)


def priority_matrix(customers: pl.DataFrame, policy: Policy = DEFAULT_POLICY) -> pl.DataFrame:
    """Counts and amounts per cell of risk band by value band.

    ``customers``: one row per customer with open_amount (currency), amount_at_risk (currency)
    and probability (0-1; amount_at_risk / open_amount); rows without an open amount are left
    out. Returns the 9 cells in band order (high risk and large value first): risk_band,
    value_band, customers (count), open_amount and amount_at_risk (currency, exact to the cent).
    """
    cells = pl.DataFrame(
        {
            "risk_band": [r for r in reversed(RISK_BANDS) for _ in VALUE_BANDS],
            "value_band": [v for _ in RISK_BANDS for v in reversed(VALUE_BANDS)],
        }
    )
    counted = (
        customers.filter(pl.col("open_amount") > 0)
        .with_columns(
            risk_band=risk_band(pl.col("probability"), policy),
            value_band=value_band(pl.col("open_amount"), policy),
        )
        .group_by("risk_band", "value_band")
        .agg(
            customers=pl.len().cast(pl.Int64),
            open_amount=money_sum(pl.col("open_amount")),
            amount_at_risk=money_sum(pl.col("amount_at_risk")),
        )
    )
    return (
        cells.with_row_index("_order")
        .join(counted, on=["risk_band", "value_band"], how="left")
        .sort("_order")
        .drop("_order")
        .with_columns(
            pl.col("customers").fill_null(0), pl.col("open_amount", "amount_at_risk").fill_null(0.0)
        )
    )


def archetype_confusion(segments: pl.DataFrame, ground_truth: pl.DataFrame) -> pl.DataFrame:
    """How the behaviour segments recover the generator's hidden archetypes.

    ``segments``: customer_id, segment; ``ground_truth``: customer_id, archetype. One row per
    archetype (generator order), one count column per segment (precedence order), plus
    ``expected`` (the segment of :data:`ARCHETYPE_SEGMENT`) and ``recovered`` (share of the
    archetype's customers in it, 0-1).
    """
    joined = segments.join(ground_truth.select("customer_id", "archetype"), on="customer_id")
    counts = (
        joined.group_by("archetype", "segment")
        .len()
        .pivot(on="segment", index="archetype", values="len")
        .fill_null(0)
    )
    for name in SEGMENT_PRECEDENCE:
        if name not in counts.columns:
            counts = counts.with_columns(pl.lit(0, pl.UInt32).alias(name))
    order = pl.DataFrame({"archetype": list(ARCHETYPE_SEGMENT)}).with_row_index("_order")
    expected = pl.col("archetype").replace_strict(ARCHETYPE_SEGMENT, default=None)
    hits = pl.sum_horizontal(
        pl.when(expected == name).then(pl.col(name)).otherwise(0) for name in SEGMENT_PRECEDENCE
    )
    return (
        order.join(counts, on="archetype", how="inner")
        .sort("_order")
        .select(
            "archetype",
            *SEGMENT_PRECEDENCE,
            expected=expected,
            recovered=hits / pl.sum_horizontal(SEGMENT_PRECEDENCE),
        )
    )
