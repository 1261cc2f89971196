"""What-if analysis of the worklist: change the capacity or the cadence, see what moves.

Each variant is a policy built from the current one and validated like a policy file, so a what-if
can never run on thresholds the policy loader would refuse.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from workbench.policy import Policy, check_policy
from workbench.worklist import Worklist

CADENCE_STEPS = ("personal_contact_dpd", "solution_offer_dpd", "last_notice_dpd", "formal_notice_dpd")
"""The cadence thresholds (days past due) a what-if can move."""


def what_if_policy(
    policy: Policy, calls_per_week: int | None = None, **cadence_dpd: int
) -> Policy:
    """``policy`` with every collector's weekly calls set to ``calls_per_week`` (when given) and
    the cadence thresholds of :data:`CADENCE_STEPS` given as keywords (days past due).

    Raises :class:`workbench.errors.InputError` when the result is not a valid policy (e.g. the
    steps out of order).
    """
    unknown = set(cadence_dpd) - set(CADENCE_STEPS)
    if unknown:
        raise ValueError(f"unknown cadence thresholds {sorted(unknown)}; use {CADENCE_STEPS}")
    capacity = policy.capacity
    if calls_per_week is not None:
        capacity = replace(
            capacity,
            default_calls_per_week=calls_per_week,
            calls_per_week={name: calls_per_week for name in capacity.calls_per_week},
        )
    variant = replace(policy, capacity=capacity, cadence=replace(policy.cadence, **cadence_dpd))
    check_policy(variant, "what-if")
    return variant


def worklist_changes(base: Worklist, variant: Worklist) -> pl.DataFrame:
    """Customers whose action differs between two worklists of the same date.

    Columns: customer_id, customer_name, change ("added", "removed" or "changed"), and
    action/channel/tone ``_before`` and ``_after`` (null where absent); ordered by the variant's
    rank, then the base's.
    """
    keys = ["customer_id", "customer_name"]
    cols = ["rank", "action", "channel", "tone"]
    before = base.rows.select(*keys, *[pl.col(c).alias(f"{c}_before") for c in cols])
    after = variant.rows.select(*keys, *[pl.col(c).alias(f"{c}_after") for c in cols])
    joined = before.join(after, on=keys, how="full", coalesce=True)
    differs = pl.any_horizontal(
        pl.col(f"{c}_before").ne_missing(pl.col(f"{c}_after")) for c in ("action", "channel", "tone")
    )
    change = (
        pl.when(pl.col("rank_before").is_null())
        .then(pl.lit("added"))
        .when(pl.col("rank_after").is_null())
        .then(pl.lit("removed"))
        .otherwise(pl.lit("changed"))
    )
    return (
        joined.filter(differs)
        .with_columns(change=change)
        .sort(["rank_after", "rank_before"], nulls_last=True)
        .select(
            *keys, "change", "action_before", "action_after", "channel_before", "channel_after",
            "tone_before", "tone_after",
        )  # fmt: skip
    )
