"""The next dunning step of each chased invoice, from its memory (DESIGN 2.3 and 6b).

For an invoice with ``reached_rank`` r (:func:`workbench.dunning.invoice_memory`; 0 when no
cadence step was reached) and effective days past due ``dpd - delay`` (the segment's
``cadence.delay_days``):

- r = 0 (never dunned): the days-past-due step, but no further than
  ``cadence.first_contact_max_step`` (a formal notice always follows an amicable contact); after
  a pre-due reminder, not before ``cadence.wait_days.pre_due`` days;
- r = 1..4: the step of rank r + 1, once ``cadence.wait_days`` of step r have passed since it
  was reached **and** the effective days past due reach the next step's threshold. Days past due
  decide the earliest date of a step, never a repeat;
- r = 5 (formal notice): the hand-over, once the notice's deadline has passed (date +
  ``escalation.notice_postal_days`` + ``notice_answer_days``); until then the invoice waits;
- after a broken promise or a missed plan instalment (``escalated``) the step is at least
  ``escalation.broken_promise_min_step``, and the threshold gate is lifted up to that step (the
  wait stays; a formal notice still waits for its days past due);
- a short payment (a rest of at most ``cadence.short_payment_max_share`` of the amount) with no
  contact since its last payment is not escalated beyond a personal contact: ask the reason
  (deduction, dispute) first; that call may follow an earlier personal contact;
- a formal notice followed by a payment on the invoice (dated on or after the notice's day: a
  payment of that day may have crossed it, and is heard before any hand-over) and by no
  contact about it since was answered in part (``notice_answered``): once its deadline has
  passed, one personal contact about the rest comes before the hand-over (a customer who paid
  after the notice is called, not handed to an agency unheard). Not a restart of the cadence:
  no reminder and no new notice, and after that call the hand-over follows, whatever is paid
  later.

Ranks: 1 light_reminder ... 5 formal_notice, 6 hand-over (:data:`workbench.dunning.STEP_RANK`).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.dunning import CADENCE_STEPS
from workbench.policy import SEGMENTS, Policy

HANDOVER_RANK = 6
"""Rank of the hand-over that follows an unanswered formal notice."""


def segment_delay(policy: Policy) -> pl.Expr:
    """``cadence.delay_days`` of the row's ``segment`` (days, Int64)."""
    delays = {s: getattr(policy.cadence.delay_days, s) for s in SEGMENTS}
    return pl.col("segment").replace_strict(delays, default=0, return_dtype=pl.Int64)


def _by_rank(values: dict[int, int], rank: pl.Expr) -> pl.Expr:
    return rank.replace_strict(values, default=None, return_dtype=pl.Int64)


def notice_deadline(notice_date: pl.Expr, policy: Policy) -> pl.Expr:
    """The last day a formal notice sent on ``notice_date`` leaves the customer to answer."""
    rules = policy.escalation
    return notice_date + timedelta(days=rules.notice_postal_days + rules.notice_answer_days)


def next_steps(frame: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """``frame`` (one row per invoice) with the next step of each chased invoice.

    Needs: chased (bool), days_past_due, due_date, segment, escalated (bool), reached_rank,
    reached_date, pre_due_date, short_payment (bool), last_paid_on, last_contact_on. Adds:
    next_rank (1-6, null when not chased), ready (the step can be taken as of ``as_of``),
    next_date (the first day it can, null when ready), notice_deadline (of the invoice's formal
    notice, when reached), short_open (a short payment not yet asked about), notice_answered
    (a formal notice answered in part by a payment, no contact since the notice).
    """
    c = pl.col
    cadence = policy.cadence
    bounds = dict(enumerate(cadence.step_bounds.values(), start=1))  # rank -> first dpd
    waits = {r: getattr(cadence.wait_days, s) for r, s in enumerate(CADENCE_STEPS[:4], start=1)}
    first_max = CADENCE_STEPS.index(cadence.first_contact_max_step) + 1
    floor = CADENCE_STEPS.index(policy.escalation.broken_promise_min_step) + 1
    effective = c("days_past_due") - segment_delay(policy)
    dpd_rank = pl.lit(1, pl.Int64)
    for rank, first in bounds.items():
        dpd_rank = pl.when(effective >= first).then(pl.lit(rank, pl.Int64)).otherwise(dpd_rank)
    reached = c("reached_rank").fill_null(0)
    paid_since_contact = c("last_contact_on").is_null() | (
        c("last_contact_on") <= c("last_paid_on")
    )
    short_open = c("short_payment") & paid_since_contact
    # one call per notice: none about the invoice since the notice (a customer paying a little
    # after each call is not called again and again: the hand-over follows the call)
    answered = (
        (reached == 5)
        & (c("last_paid_on") >= c("reached_date"))
        & (c("last_contact_on") <= c("reached_date"))
    )
    rank = (
        pl.when(reached == 0)
        .then(pl.min_horizontal(dpd_rank, pl.lit(first_max)))
        .otherwise(pl.min_horizontal(reached + 1, pl.lit(HANDOVER_RANK)))
    )
    rank = pl.when(c("escalated")).then(pl.max_horizontal(rank, pl.lit(floor))).otherwise(rank)
    rank = (
        pl.when(short_open & (reached <= 4))
        .then(pl.when(reached == 0).then(pl.min_horizontal(rank, pl.lit(2))).otherwise(2))
        .when(answered)
        .then(pl.lit(2, pl.Int64))
        .otherwise(rank)
    )
    deadline = notice_deadline(c("reached_date"), policy)
    gate_day = c("due_date") + pl.duration(
        days=_by_rank(bounds, c("next_rank")) + segment_delay(policy)
    )
    pre_due_day = c("pre_due_date") + timedelta(days=cadence.wait_days.pre_due)
    wait_day = (
        pl.when(reached == 0)
        .then(pre_due_day)
        .when(reached <= 4)
        .then(c("reached_date") + pl.duration(days=_by_rank(waits, reached)))
        .otherwise(deadline + timedelta(days=1))
    )
    # a broken commitment brings the call earlier, never a formal step: it lifts the gate only
    # up to escalation.broken_promise_min_step
    open_gate = (
        (c("escalated") & (c("next_rank") <= floor))
        | (reached == 0)
        | (short_open & (reached >= 2))
        | answered
    )
    earliest = (
        pl.when(open_gate | (c("next_rank") >= HANDOVER_RANK))
        .then(wait_day)
        .otherwise(pl.max_horizontal(wait_day, gate_day))
    )
    return (
        frame.with_columns(
            next_rank=pl.when(c("chased") & (reached < HANDOVER_RANK)).then(rank),
            short_open=short_open.fill_null(False),
            notice_answered=answered.fill_null(False),
            notice_deadline=pl.when(reached == 5).then(deadline),
        )
        .with_columns(earliest=pl.when(c("next_rank").is_not_null()).then(earliest))
        .with_columns(
            ready=c("next_rank").is_not_null()
            & (c("earliest").is_null() | (c("earliest") <= as_of)),
        )
        .with_columns(next_date=pl.when(~c("ready")).then(c("earliest")))
        .drop("earliest")
    )
