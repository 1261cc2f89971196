"""The next action per customer (DESIGN sections 2, 6 and 6b), as of a date.

One consolidated action per customer, or the reason it is left alone. Vectorized polars driven
by the policy; there is no Python loop over customers. The pieces:

- :mod:`workbench.dunning`: the memory (what each invoice already received, when);
- :mod:`workbench.shelters`: what promises, plans and unapplied cash cover, invoice by invoice;
- :mod:`workbench.cadence`: the next step of each chased invoice and when it can be taken;
- this module: one action per customer, its channel and tone, and the contact governance;
- :mod:`workbench.reasons`: the reason of each row in words.

**Decision** for each customer with an open balance (the first that holds):

1. chased invoices ready for a step: the highest of their steps. A formal notice or a
   hand-over covers only the invoices at that step; an amicable step covers every ready invoice
   (that has not reached that step yet) and the customer's pre-due invoices. A hand-over goes to
   ``legal`` when the invoices handed over owe ``escalation.legal_min_amount``, to ``agency``
   when they or the customer's whole chased amount reach ``agency_min_amount`` (or whatever the
   amount when the customer already has invoices with the agency: they join its file), else to
   ``write_off_review``; a strategic account's hand-over needs approval. A dunning action whose
   customer owes less than ``amounts.small_balance`` becomes a ``small_balance_review``;
2. open disputes and nothing ready: ``resolve_dispute``, routed to the owner;
3. risky invoices due within ``cadence.pre_due_days``: ``pre_due`` reminder;
4. otherwise excluded, saying why: the next step's date, a pending promise, a plan on track,
   customer credit to offset (over-payments and credit notes beyond their invoices, netted
   per customer: :mod:`workbench.shelters`), unapplied cash, the agency, or nothing due.

Every amount chased is the customer's **net** position: what its promises, plans, credit and
unapplied cash leave of its overdue invoices.

**Governance** then, on the real history (:func:`workbench.dunning.customer_contacts`):
while a formal notice to the customer awaits its deadline nothing is sent, not even a thank-you
(``formal notice sent``); a customer-facing action needs ``contact.min_gap_days`` since the
last message (``contacted recently``) and fewer than ``contact.max_per_week`` messages in the cap window (``capped``); no
formal notice or hand-over within ``contact.after_conversation_days`` of a conversation (``in
conversation``); no identical message within ``cadence.repeat_after_days`` (``same message
sent``); no action before the next contact a collector planned in a call sheet (``next
contact planned``, the follow-ups of :mod:`workbench.outcomes`) unless an invoice of the
customer fell due since it was planned. Proportionality: no letter below
``escalation.letter_min_amount``, no registered letter below ``formal_notice_min_amount``
(e-mail instead). A customer with no open balance whose last overdue invoice was settled in
the last ``cadence.thank_you_days`` gets a ``thank_you`` unless the gap or the cap forbids it
(those rows are extra).

**Channel and tone**: ``[channels.<segment>]`` of the step; the customer's preferred channel
unless the step's channel is formal or internal; after a broken promise,
``escalation.broken_promise_channel`` and one tone firmer; a strategic customer's amicable steps
no firmer than ``escalation.strategic_max_tone``, the account owner in the loop.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import (
    days_between,
    from_cents,
    invoice_balances,
    money_sum,
    reporting_balances,
    reporting_currency,
    within_days,
)
from workbench.cadence import HANDOVER_RANK, next_steps, notice_deadline
from workbench.disputes import disputed_invoices
from workbench.dunning import (
    CADENCE_STEPS,
    CUSTOMER_FACING,
    HANDOVER_STEPS,
    contact_log,
    customer_contacts,
    invoice_memory,
    messages,
    recent_messages,
)
from workbench.features import customer_features
from workbench.outcomes import FOLLOW_UPS_SCHEMA
from workbench.penalties import invoice_penalties
from workbench.phrases import (
    ACTION_LABELS,
    HISTORY,
    PROMISE_STATUS_WORDS,
    REASONS,
    STEP_WORDS,
    UNANSWERED,
)
from workbench.plans import plan_status, superseded_promises, unapplied_pairs
from workbench.policy import DEFAULT_POLICY, MESSAGE_STEPS, SEGMENTS, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status
from workbench.reasons import with_reason
from workbench.schema import TONES
from workbench.segments import behaviour_segment, invoice_probabilities
from workbench.shelters import sheltered_invoices
from workbench.wording import day_text, money_text, phrase, tone_of, tone_rank, words

__all__ = [
    "ACTIONS", "CADENCE_STEPS", "CUSTOMER_FACING", "EXCLUSIONS", "HANDOVER_STEPS",
    "RECOMMENDATION_COLUMNS", "invoice_states", "money_text", "promise_status",
    "proportionate_channel", "recommendations",
]  # fmt: skip

ACTIONS = ACTION_LABELS["en"]
"""The action (words a collector reads) of each step, in English (every language:
:data:`workbench.phrases.ACTION_LABELS`)."""

INTERNAL_STEPS = ("write_off_review", "small_balance_review", "resolve_dispute")
"""Steps that send nothing to the customer (channel ``none``)."""

FORMAL_STEPS = ("formal_notice", "agency", "legal")
"""Steps held during a conversation pause."""

EXCLUSIONS = (
    "formal notice sent", "contacted recently", "capped", "in conversation",
    "same message sent", "waiting for the next step", "promise pending", "plan on track",
    "customer credit to offset", "unapplied cash to reconcile", "handed over",
    "not yet due and no risk", "next contact planned",
)  # fmt: skip
"""Why a customer with an open balance gets no action (the ``exclusion`` column)."""

_INVOICE = (
    "invoice_id", "due_date", "days_past_due", "amount", "open_balance", "chased_amount",
    "currency", "step", "paid", "credited", "last_paid_on", "short_payment", "issue_date",
    "disputed", "promised", "planned", "penalty", "indemnity", "handed",
)  # fmt: skip
"""Fields of each element of the invoice lists (invoice currency, except chased_amount in the
reporting currency; step: the invoice's own next step; penalty and indemnity:
:func:`workbench.penalties.invoice_penalties`; handed: handed over to an agency or lawyer)."""


# --- invoice level -----------------------------------------------------------------------------


def _balances(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """:func:`invoice_balances` with open_reporting and excess_reporting (open balance and
    excess in the reporting currency)."""
    balances = invoice_balances(portfolio, as_of, policy)
    if balances.select(pl.col("currency").n_unique()).collect().item() > 1:
        reporting = reporting_balances(portfolio, as_of, policy).select(
            "invoice_id", open_reporting="open_balance", excess_reporting="excess"
        )
        return balances.join(reporting, on="invoice_id", how="left")
    return balances.with_columns(
        open_reporting=pl.col("open_balance"), excess_reporting=pl.col("excess")
    )


def _disputed_open() -> pl.Expr:
    """What an open dispute contests of its invoice's open balance (reporting currency): the
    dispute's amount, converted at the invoice's own rate, up to the open balance; the whole
    open balance when the dispute gives no amount; 0 when undisputed or closed. (The whole
    invoice's dunning is paused all the same: DESIGN 2.5.)"""
    c = pl.col
    share = (c("dispute_amount") / c("open_balance")).clip(upper_bound=1.0)
    part = pl.when(c("dispute_amount").is_null()).then(c("open_reporting")).otherwise(
        (c("open_reporting") * share).round(2)
    )
    return pl.when(c("disputed") & c("is_open")).then(part).otherwise(0.0)


def _last_paid(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """invoice_id, last_paid_on: the latest payment applied to the invoice, dated <= as_of."""
    return (
        portfolio.payments.filter(
            pl.col("payment_date") <= as_of, pl.col("invoice_id").is_not_null()
        )
        .group_by("invoice_id")
        .agg(last_paid_on=pl.col("payment_date").max())
    )


def _customer_state(
    features: pl.DataFrame, portfolio: Portfolio, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """customer_id, segment, escalated (a promise broken within escalation.broken_promise_days
    or a plan instalment missed), plus the behaviour facts the reasons quote."""
    c = pl.col
    since = days_between(as_of, c("deadline")) <= policy.escalation.broken_promise_days
    status = promise_status(portfolio, as_of, policy)
    broken = (
        status.filter(c("status") == "broken", since)
        .join(superseded_promises(status, portfolio, as_of), on="promise_id", how="anti")
        .group_by("customer_id")
        .agg(broken_recent=pl.len().cast(pl.Int64), broken_since=c("promised_date").min())
    )
    return (
        features.lazy()
        .select(
            "customer_id",
            "unapplied_cash",
            "on_active_plan",
            "plan_instalments_missed",
            "mean_days_late",
            "days_late_trend",
            segment=behaviour_segment(policy),
        )  # fmt: skip
        .join(broken, on="customer_id", how="left")
        .with_columns(
            c("broken_recent", "plan_instalments_missed").fill_null(0),
            c("unapplied_cash").fill_null(0.0),
            c("on_active_plan").fill_null(False),
            segment=c("segment").fill_null("new"),
        )
        .with_columns(escalated=(c("broken_recent") > 0) | (c("plan_instalments_missed") > 0))
    )


def invoice_states(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
    features: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every invoice issued on or before ``as_of`` with its dunning state.

    Columns of :func:`workbench.balances.invoice_balances` (invoice currency) plus:
    open_reporting (reporting currency, 0 when closed); dispute_reason, dispute_opened; the
    memory (:func:`workbench.dunning.invoice_memory`); the shelters in cents
    (:func:`workbench.shelters.sheltered_invoices`) and chased_amount (reporting currency);
    last_paid_on, short_payment; probability (0-1) and probability_source; chased; the customer's
    segment and escalated; the next step (:func:`workbench.cadence.next_steps`): next_rank,
    ready, next_date, notice_deadline, short_open, notice_answered. Sorted by customer_id,
    due_date, invoice_id.
    """
    if features is None:
        features = customer_features(portfolio, as_of, policy).collect()
    state = _customer_state(features, portfolio, as_of, policy).collect()
    log = contact_log(portfolio, as_of)
    return _invoice_states(portfolio, as_of, policy, scores, features, state, log)


def _invoice_states(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy,
    scores: pl.DataFrame | None,
    features: pl.DataFrame,
    state: pl.DataFrame,
    log: pl.LazyFrame,
) -> pl.DataFrame:
    """:func:`invoice_states` from the pieces :func:`recommendations` shares: the customer
    features, :func:`_customer_state` and the contact log."""
    c = pl.col
    balances = _balances(portfolio, as_of, policy)
    memory = invoice_memory(log, balances)
    frame = (
        balances.join(disputed_invoices(portfolio, as_of), on="invoice_id", how="left")
        .join(memory, on="invoice_id", how="left")
        .join(_last_paid(portfolio, as_of), on="invoice_id", how="left")
        .join(invoice_penalties(portfolio, as_of, policy), on="invoice_id", how="left")
        .with_columns(
            disputed=c("disputed").fill_null(False),
            open_reporting=pl.when(c("is_open")).then(c("open_reporting")).otherwise(0.0),
        )
        .with_columns(disputed_open=_disputed_open())
        .with_columns(
            short_payment=c("is_open")
            & (c("paid") > 0)
            & (c("open_balance") <= policy.cadence.short_payment_max_share * c("amount")),
        )
    )
    frame = sheltered_invoices(frame, portfolio, as_of, policy).with_columns(
        handed=c("handed_date").is_not_null(),
        chased_amount=from_cents(c("chased_cents")),
        chased=c("chaseable") & (from_cents(c("chased_cents")) > policy.amounts.open_tolerance),
    )
    frame = frame.join(
        state.lazy().select("customer_id", "segment", "escalated"), on="customer_id", how="left"
    ).with_columns(c("segment").fill_null("new"), c("escalated").fill_null(False))
    frame = next_steps(frame, as_of, policy)
    return (
        invoice_probabilities(frame, features.lazy(), policy, scores)
        .with_columns(probability=pl.when(c("is_open")).then(c("probability")))
        .sort("customer_id", "due_date", "invoice_id")
        .collect()
    )


# --- customer level ----------------------------------------------------------------------------

RANK_STEPS = {i + 1: step for i, step in enumerate(CADENCE_STEPS)} | {HANDOVER_RANK: "hand-over"}
"""Step name of each next_rank (the hand-over's kind is decided per customer, by amount)."""


def _covered(invoices: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per invoice: pre_due (a risky invoice due soon, not yet reminded), action_rank (the
    customer's highest ready rank), covered (the invoice is in the customer's action: a ready
    invoice that has not reached the action's step yet, and for an amicable step the pre-due
    invoices), step (the invoice's own step)."""
    c = pl.col
    cadence = policy.cadence
    pre_due = (
        c("is_open")
        & c("days_past_due").is_between(-cadence.pre_due_days, 0)
        & ~c("disputed")
        & ~c("promised")
        & ~c("planned")
        & ~c("offset")
        & c("pre_due_date").is_null()
        & (c("probability") >= cadence.pre_due_min_probability)
    )
    action_rank = c("next_rank").filter(c("ready")).max().over("customer_id")
    amicable = action_rank.is_null() | (action_rank < 5)
    return invoices.with_columns(
        pre_due=pre_due.fill_null(False).cast(pl.Boolean), action_rank=action_rank
    ).with_columns(
        # never a repeat: an invoice that already reached the action's step is not covered
        # (except the call asking the reason of a short payment, or about the rest of an
        # invoice paid in part since its formal notice)
        covered=(
            (
                c("ready")
                & (amicable | (c("next_rank") == c("action_rank")))
                & (
                    (c("reached_rank").fill_null(0) < c("action_rank"))
                    | (
                        (c("short_open") | c("notice_answered"))
                        & (c("next_rank") == c("action_rank"))
                    )
                )
            )
            | (c("pre_due") & amicable)
        )
        .fill_null(False)
        .cast(pl.Boolean),
        step=pl.when(c("pre_due"))
        .then(pl.lit("pre_due"))
        .otherwise(c("next_rank").replace_strict(RANK_STEPS, default=None, return_dtype=pl.String)),
    )


def _invoice_facts(invoices: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """One row per customer of ``invoices`` (:func:`_covered` rows): amounts, what the action
    covers, what waits, the history (highest step reached on an open invoice and its date)."""
    c = pl.col
    is_open, dpd = c("is_open"), c("days_past_due")
    left_over = c("chased") & ~c("covered") & (dpd > 0)
    disputed = is_open & c("disputed")
    waiting = c("chased") & ~c("ready")
    cleared = (
        c("settlement_date").is_not_null()
        & (c("days_late") > 0)
        & within_days(c("settlement_date"), as_of, policy.cadence.thank_you_days)
    )
    covered_amount = pl.when(c("pre_due")).then(c("open_reporting")).otherwise(c("chased_amount"))
    # the net position: the open balance less the money the customer already holds against it
    # (its credit and its unapplied cash, set against this invoice by the shelters)
    held = from_cents(c("credit_cents").fill_null(0) + c("cash_cents").fill_null(0))
    net = (c("open_reporting") - held).clip(lower_bound=0)
    # the history the reason tells: of the invoices the action covers, else of the open ones
    about = c("covered") | (~c("covered").any() & is_open)
    top = about & (c("reached_rank") == c("reached_rank").filter(about).max())
    detail = pl.struct(*_INVOICE)
    return invoices.group_by("customer_id").agg(
        open_invoices=is_open.sum(),
        open_amount=money_sum(c("open_reporting")),
        overdue_amount=money_sum(c("open_reporting").filter(is_open & (dpd > 0))),
        oldest_dpd=dpd.filter(is_open).max(),
        amount_at_risk=money_sum(net * c("probability").fill_null(0.0)),
        gross_at_risk=money_sum(c("open_reporting") * c("probability").fill_null(0.0)),
        net_open=money_sum(net.filter(is_open)),
        net_overdue=money_sum(net.filter(is_open & (dpd > 0))),
        overdue_count=(is_open & (dpd > 0)).sum(),
        chased_count=c("chased").sum(),
        chased_amount=money_sum(c("chased_amount").filter(c("chased"))),
        chased_dpd=dpd.filter(c("chased")).max(),
        chased_invoices=detail.filter(c("chased")),
        noticed_amount=money_sum(c("chased_amount").filter(c("chased") & (c("reached_rank") == 5))),
        action_rank=c("action_rank").first(),
        covered_count=c("covered").sum(),
        covered_amount=money_sum(covered_amount.filter(c("covered"))),
        covered_dpd=dpd.filter(c("covered") & ~c("pre_due")).max(),
        covered_dpd_low=dpd.filter(c("covered") & ~c("pre_due")).min(),
        # the past-due part the reason's first words count, and what the call adds not yet due
        covered_due_count=(c("covered") & ~c("pre_due")).sum(),
        covered_due_amount=money_sum(covered_amount.filter(c("covered") & ~c("pre_due"))),
        covered_pre_due_count=(c("covered") & c("pre_due")).sum(),
        covered_pre_due_amount=money_sum(covered_amount.filter(c("covered") & c("pre_due"))),
        covered_invoices=detail.filter(c("covered")),
        # the overdue invoices still chased that the action leaves to their own next step
        # (ready for another step, or waiting for theirs)
        uncovered_count=left_over.sum(),
        uncovered_amount=money_sum(c("chased_amount").filter(left_over)),
        pre_due_count=c("pre_due").sum(),
        pre_due_amount=money_sum(c("open_reporting").filter(c("pre_due"))),
        pre_due_next=c("due_date").filter(c("pre_due")).min(),
        pre_due_probability=c("probability").filter(c("pre_due")).max(),
        pre_due_invoices=detail.filter(c("pre_due")),
        disputed_count=disputed.sum(),
        disputed_amount=money_sum(c("disputed_open").filter(disputed)),
        disputed_open_amount=money_sum(c("open_reporting").filter(disputed)),
        disputed_invoices=detail.filter(disputed),
        dispute_reasons=c("dispute_reason").filter(disputed).drop_nulls().unique(maintain_order=True).str.join(", "),
        dispute_since=c("dispute_opened").filter(disputed).min(),
        promised_count=(is_open & c("promised")).sum(),
        promised_amount=from_cents(c("promise_cents").sum()),
        planned_count=(is_open & c("planned")).sum(),
        planned_amount=from_cents(c("plan_cents").sum()),
        cash_count=(c("cash_cents") > 0).sum(),
        cash_matched=c("invoice_id").filter(
            is_open & c("cash_matched").fill_null(False) & c("handed_date").is_null()
        ),
        cash_matched_handed=c("invoice_id").filter(
            is_open & c("cash_matched").fill_null(False) & c("handed_date").is_not_null()
        ),
        cash_amount=from_cents(c("cash_cents").sum()),
        credit_count=(c("chaseable") & (c("credit_cents") > 0)).sum(),
        credit_amount=from_cents(c("credit_cents").filter(c("chaseable")).sum()),
        customer_credit=money_sum(c("excess_reporting")),
        credit_sources=pl.struct(
            "invoice_id", "amount", "paid", "credited", "excess", "currency"
        ).filter(c("excess") > 0),
        handed_count=(is_open & c("handed_date").is_not_null()).sum(),
        handed_amount=money_sum(
            c("open_reporting").filter(is_open & c("handed_date").is_not_null())
        ),
        handed_since=c("handed_date").filter(is_open).min(),
        notice_date=c("reached_date").filter(is_open & (c("reached_rank") == 5)).max(),
        notice_deadline=c("notice_deadline").filter(is_open).max(),
        next_date=c("next_date").filter(waiting).min(),
        next_wait_rank=c("next_rank").filter(waiting).sort_by(c("next_date").filter(waiting)).first(),
        history_step=c("reached_step").filter(top).first(),
        history_date=c("reached_date").filter(top).max(),
        history_unanswered=c("reached_unanswered")
        .filter(top & (c("reached_date") == c("reached_date").filter(top).max()))
        .all(),
        short_invoices=detail.filter(c("short_open") & c("covered")),
        # every formal notice answered in part is told, the action's or not: its rest is to be
        # asked for in a call before any hand-over
        answered_invoices=detail.filter(c("notice_answered") & c("chased")),
        answered_chased=detail.filter(c("notice_answered") & c("chased")),
        partly_paid=detail.filter(c("covered") & (c("paid") > 0)),
        next_due=c("due_date").filter(is_open & (dpd <= 0)).min(),
        statement=detail.filter(is_open),
        cleared_date=c("settlement_date").filter(cleared).max(),
        cleared_invoices=detail.filter(cleared),
    )  # fmt: skip


def _payments_elsewhere(
    portfolio: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """Per customer, the payments of the last contact.recent_payment_days applied to invoices
    the action does not cover (currency): paid_elsewhere and paid_elsewhere_on (the latest) for
    those still ours; paid_handed, paid_handed_on and paid_handed_invoices for those paid to an
    invoice already handed over (agency or lawyer), on or after its hand-over: the file's
    holder must be told."""
    c = pl.col
    recent = within_days(c("payment_date"), as_of, policy.contact.recent_payment_days)
    uncovered = invoices.filter(~c("covered")).select("invoice_id", "handed_date")
    handed = (c("handed_date") <= c("payment_date")).fill_null(False)
    return (
        portfolio.payments.filter(c("payment_date") <= as_of, recent)
        .join(uncovered, on="invoice_id")
        .group_by("customer_id")
        .agg(
            paid_elsewhere=money_sum(c("amount").filter(~handed)),
            paid_elsewhere_on=c("payment_date").filter(~handed).max(),
            paid_handed=money_sum(c("amount").filter(handed)),
            paid_handed_on=c("payment_date").filter(handed).max(),
            paid_handed_invoices=c("invoice_id").filter(handed).unique().sort(),
        )
    )


def _handover(handed: pl.Expr, policy: Policy) -> pl.Expr:
    """The hand-over of an unanswered formal notice whose invoices owe ``handed`` (currency):
    legal proceedings when that amount justifies them; else the agency when it, or the
    customer's whole chased amount, reaches the agency minimum, or when the customer already
    has invoices with the agency (they join its file); else a write-off review."""
    rules = policy.escalation
    c = pl.col
    agency = (
        (handed >= rules.agency_min_amount)
        | (c("chased_amount") >= rules.agency_min_amount)
        | (c("handed_count") > 0)
    )
    return (
        pl.when(handed >= rules.legal_min_amount)
        .then(pl.lit("legal"))
        .when(agency)
        .then(pl.lit("agency"))
        .otherwise(pl.lit("write_off_review"))
    )


def _waiting_exclusion() -> pl.Expr:
    """Why a customer with nothing ready is left alone (null when it has an action)."""
    c = pl.col
    return (
        # the next step waits for the notice's deadline: the hand-over, or the call about the
        # rest of an invoice paid in part since the notice
        pl.when(c("notice_deadline").is_not_null() & (c("chased_count") > 0) & c("next_date").is_not_null()
                & ((c("next_wait_rank") == HANDOVER_RANK)
                   | (c("next_date") == c("notice_deadline") + timedelta(days=1))))
        .then(pl.lit("formal notice sent"))
        .when(c("chased_count") > 0)
        .then(pl.lit("waiting for the next step"))
        .when(c("promised_count") > 0)
        .then(pl.lit("promise pending"))
        .when(c("planned_count") > 0)
        .then(pl.lit("plan on track"))
        .when(c("credit_count") > 0)
        .then(pl.lit("customer credit to offset"))
        .when(c("cash_count") > 0)
        .then(pl.lit("unapplied cash to reconcile"))
        .when(c("handed_count") > 0)
        .then(pl.lit("handed over"))
        .otherwise(pl.lit("not yet due and no risk"))
    )  # fmt: skip


def _decide(frame: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """step (before governance), exclusion, next_step, needs_approval."""
    c = pl.col
    ready = c("action_rank").is_not_null()
    cadence_step = c("action_rank").replace_strict(RANK_STEPS, default=None, return_dtype=pl.String)
    step = (
        pl.when(c("thank_you"))
        .then(pl.lit("thank_you"))
        .when(ready & (c("action_rank") == HANDOVER_RANK))
        .then(_handover(c("covered_amount"), policy))
        .when(ready)
        .then(cadence_step)
        .when(c("disputed_count") > 0)
        .then(pl.lit("resolve_dispute"))
        .when(c("pre_due_count") > 0)
        .then(pl.lit("pre_due"))
    )
    # a small balance is reviewed, never dunned: also when its next step is not due yet
    dunning = c("step").is_in([*CADENCE_STEPS, *HANDOVER_STEPS]) | (
        c("step").is_null() & (c("chased_count") > 0)
    )
    small = (dunning & (c("chased_amount") < policy.amounts.small_balance)).fill_null(False)
    return (
        frame.with_columns(thank_you=(c("open_invoices") == 0) & c("cleared_date").is_not_null())
        .with_columns(step=step)
        .with_columns(
            step=pl.when(small).then(pl.lit("small_balance_review")).otherwise(c("step")),
            exclusion=pl.when(step.is_null() & ~small).then(_waiting_exclusion()),
            next_step=pl.when(step.is_null() & (c("chased_count") > 0))
            .then(
                c("next_wait_rank").replace_strict(RANK_STEPS, default=None, return_dtype=pl.String)
            )
            .when(step.is_null() & (c("overdue_count") == 0))
            .then(pl.lit("light_reminder"))
            .when(
                step.is_null()
                & (c("credit_count") > 0)
                & (c("promised_count") + c("planned_count") == 0)
            )
            .then(pl.lit("offset the customer credit"))
            .when(
                step.is_null()
                & (c("cash_count") > 0)
                & (c("promised_count") + c("planned_count") == 0)
            )
            .then(pl.lit("reconcile unapplied cash"))
            .when(
                step.is_null()
                & (c("handed_count") > 0)
                & (
                    c("promised_count") + c("planned_count") + c("cash_count") + c("credit_count")
                    == 0
                )
            )
            .then(pl.lit("review with the agency")),
        )
        .with_columns(
            needs_approval=c("strategic") & c("step").is_in(HANDOVER_STEPS),
            handover_kind=_handover(c("noticed_amount"), policy),
            next_date=pl.when(c("step").is_null()).then(_excluded_next_date(as_of, policy)),
            status=pl.when(c("thank_you"))
            .then(pl.lit("thank_you"))
            .when(c("step").is_null())
            .then(pl.lit("excluded"))
            .otherwise(pl.lit("action")),
            invoices=pl.when(c("thank_you"))
            .then(c("cleared_invoices"))
            .when(c("step") == "resolve_dispute")
            .then(c("disputed_invoices"))
            .when(c("step") == "small_balance_review")
            .then(c("chased_invoices"))
            .when(c("step").is_not_null())
            .then(c("covered_invoices"))
            .otherwise(c("statement")),
        )
        .with_columns(
            covered_ids=c("invoices").list.eval(pl.element().struct.field("invoice_id")).list.sort()
        )
    )


def _excluded_next_date(as_of: date, policy: Policy) -> pl.Expr:
    """When an excluded customer's next step can come: the waiting invoice's date, the day after
    a promise's grace, the next instalment, the day after the first due date, today for
    unapplied cash to reconcile or customer credit to offset, the next review with the agency (every
    escalation.handover_review_days after the hand-over)."""
    c = pl.col
    every = policy.escalation.handover_review_days
    periods = ((days_between(as_of, c("handed_since")) + every - 1) // every).clip(lower_bound=1)
    return (
        pl.when(c("exclusion").is_in(["formal notice sent", "waiting for the next step"]))
        .then(c("next_date"))
        .when(c("exclusion") == "promise pending")
        .then(c("pending_date") + pl.duration(days=policy.behaviour.promise_grace_days + 1))
        .when(c("exclusion") == "plan on track")
        .then(c("next_instalment"))
        .when(c("exclusion") == "not yet due and no risk")
        .then(c("next_due") + pl.duration(days=policy.cadence.light_reminder_dpd))
        .when(c("exclusion").is_in(["unapplied cash to reconcile", "customer credit to offset"]))
        .then(pl.lit(as_of))
        .when(c("exclusion") == "handed over")
        .then(c("handed_since") + pl.duration(days=periods * every))
    )


def _promise_facts(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: pending promises (amount, latest pay-by date), the latest promise
    (amount, pay-by date, status; with the promises made the same day for the same pay-by date
    and of the same status, summed), promises (pending and broken, one struct each) and
    pending_by_date (what is promised by each pay-by date, earliest first: two promises due
    the same day are one amount, summed exactly; as the drafts say them)."""
    c = pl.col
    pending = c("status") == "pending"
    status = promise_status(portfolio, as_of, policy)
    replaced = superseded_promises(status, portfolio, as_of).with_columns(replaced=pl.lit(True))
    status = status.join(replaced, on="promise_id", how="left")
    by_date = (
        status.filter(pending)
        .group_by("customer_id", "promised_date")
        .agg(amount=money_sum(c("amount")))
        .group_by("customer_id")
        .agg(pending_by_date=pl.struct("promised_date", "amount").sort_by("promised_date"))
    )
    return (
        status.sort("promise_date", "promise_id")
        .group_by("customer_id")
        .agg(
            pending_amount=money_sum(c("amount").filter(pending)),
            pending_date=c("promised_date").filter(pending).max(),
            # the latest commitment: the promises of the last one's day, pay-by date and status
            # (two invoices promised in one call for the same day are one amount, summed)
            promise_amount=money_sum(c("amount").filter(
                (c("promise_date") == c("promise_date").last())
                & (c("promised_date") == c("promised_date").last())
                & (c("status") == c("status").last()))),
            promise_date=c("promised_date").last(),
            promise_status=pl.when(c("replaced").last().fill_null(False))
            .then(pl.lit("replaced by a plan"))
            .otherwise(c("status").last()),
            # a broken promise a plan replaced is not recalled (the plan is followed instead)
            promises=pl.struct("invoice_id", "amount", "promised_date", "status").filter(
                c("status").is_in(["pending", "broken"]) & c("replaced").is_null()
            ),
        )
        .join(by_date, on="customer_id", how="left")
    )


def _sent_messages(log: pl.LazyFrame) -> pl.LazyFrame:
    """Per customer: sent, the outbound messages of ``log`` (contact_date, channel, step,
    invoice_ids), oldest first (what the drafts say was sent before)."""
    return (
        messages(log)
        .sort("contact_date", "channel", "step")
        .group_by("customer_id")
        .agg(sent=pl.struct("contact_date", "channel", "step", "invoice_ids"))
    )


def _plan_facts(
    portfolio: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """Per customer: next_instalment of its plans on track; missed_since (first missed
    instalment) and plan_arrears (currency) of its plans with missed instalments (``invoices``:
    the invoice states, for the unapplied payments that pay an invoice rather than a plan)."""
    c = pl.col
    paired = unapplied_pairs(portfolio, invoices, as_of, open_amount="open_reporting")
    return (
        plan_status(portfolio, as_of, policy, paired)
        .group_by("customer_id")
        .agg(
            next_instalment=c("next_instalment").filter(c("on_track")).min(),
            missed_since=c("first_missed").min(),
            plan_arrears=c("arrears").sum(),
        )
    )


def _style(policy: Policy, part: int) -> pl.Expr:
    """Channel (part 0) or tone (part 1) of (segment, step) from the ``[channels.*]`` tables;
    null for the steps the tables do not cover (hand-over, reviews)."""
    mapping = {
        f"{segment}|{step}": policy.channels.style(segment, step)[part]
        for segment in SEGMENTS
        for step in MESSAGE_STEPS
    }
    key = pl.concat_str(pl.col("segment"), pl.lit("|"), pl.col("step"))
    return key.replace_strict(mapping, default=None, return_dtype=pl.String)


def proportionate_channel(channel: pl.Expr, amount: pl.Expr, policy: Policy) -> pl.Expr:
    """``channel`` unless ``amount`` (currency, what the action covers) is too small for it: no
    letter below ``escalation.letter_min_amount``, no registered letter below
    ``formal_notice_min_amount``; e-mail instead."""
    rules = policy.escalation
    too_small = ((channel == "letter") & (amount < rules.letter_min_amount)) | (
        (channel == "registered_letter") & (amount < rules.formal_notice_min_amount)
    )
    return pl.when(too_small.fill_null(False)).then(pl.lit("email")).otherwise(channel)


def _channel_and_tone(frame: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """channel, tone of the step; preference, escalation, strategic and proportionality."""
    c = pl.col
    formal = list(policy.contact.formal_channels)
    rules = policy.escalation
    frame = frame.with_columns(
        base_channel=pl.when(c("step").is_in(["agency", "legal"]))
        .then(c("step"))
        .when(c("step").is_in(INTERNAL_STEPS))
        .then(pl.lit("none"))
        .otherwise(_style(policy, 0)),
        tone=pl.when(c("step").is_in(["agency", "legal"]))
        .then(pl.lit("formal"))
        .when(c("step").is_in(INTERNAL_STEPS))
        .then(pl.lit("neutral"))
        .otherwise(_style(policy, 1)),
    )
    amicable = ~c("base_channel").is_in([*formal, "none"])
    prefer = (
        c("preferred_channel").is_not_null() & amicable
        if policy.contact.respect_preference
        else pl.lit(False)
    )
    escalate = c("escalated") & amicable & c("step").is_in(CADENCE_STEPS)
    rank = tone_rank(c("tone"))
    firmer = pl.when(escalate & (rank < TONES.index("firm"))).then(rank + 1).otherwise(rank)
    capped_rank = TONES.index(rules.strategic_max_tone)
    channel = (
        pl.when(escalate)
        .then(pl.lit(rules.broken_promise_channel))
        .when(prefer)
        .then(c("preferred_channel"))
        .otherwise(c("base_channel"))
    )
    return frame.with_columns(
        wanted_channel=channel,
        channel=proportionate_channel(channel, c("covered_amount"), policy),
        tone=pl.when(c("strategic") & amicable)
        .then(tone_of(pl.min_horizontal(firmer, capped_rank)))
        .otherwise(tone_of(firmer)),
    )


def _same_message(
    frame: pl.LazyFrame, log: pl.LazyFrame, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """Per customer whose action repeats a message of the last cadence.repeat_after_days (same
    step, channel and invoices): same_message_on (its latest date)."""
    c = pl.col
    sent = recent_messages(log, as_of, policy)
    return (
        frame.select("customer_id", "step", "channel", "covered_ids")
        .join(sent, on=["customer_id", "step", "channel"])
        .filter(c("invoice_ids") == c("covered_ids"))
        .group_by("customer_id")
        .agg(same_message_on=c("contact_date").max())
    )


def _follow_ups(portfolio: Portfolio, frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The next contact a collector planned for each customer (the ``follow_ups`` frame that
    outcomes folders bring, :mod:`workbench.outcomes`): follow_up_date (of the follow-up set
    last on or before ``as_of``, when it is after ``as_of``), follow_up_by (the collector).
    Dropped when an invoice of the customer fell due after the follow-up was set and is
    overdue now (its overdue amount grew: the collector did not plan for it). Nothing set
    after ``as_of`` is used."""
    c = pl.col
    planned = portfolio.frames.get("follow_ups")
    if planned is None:  # no outcomes loaded
        planned = pl.DataFrame(schema=FOLLOW_UPS_SCHEMA)
    planned = planned.lazy()
    latest = (  # the latest planned wins, even if it is earlier than the one before
        planned.filter(c("set_on") <= as_of)
        .sort("set_on", "follow_up_date", "collector")
        .group_by("customer_id")
        .agg(c("follow_up_date", "collector", "set_on").last())
        .filter(c("follow_up_date") > as_of)
    )
    grew = (
        frame.select("customer_id", "statement")
        .join(latest.select("customer_id", "set_on"), on="customer_id")
        .explode("statement")
        .filter(
            (c("statement").struct.field("due_date") > c("set_on"))
            & (c("statement").struct.field("days_past_due") > 0)
        )
        .select("customer_id")
        .unique()
    )
    return latest.join(grew, on="customer_id", how="anti").select(
        "customer_id", "follow_up_date", follow_up_by="collector"
    )


def _governance(as_of: date, policy: Policy) -> tuple[pl.Expr, pl.Expr]:
    """(exclusion, next_date) of the governance rules, in order; null when none applies."""
    c = pl.col
    contact, cadence = policy.contact, policy.cadence
    facing = c("channel").is_in(CUSTOMER_FACING) & c("status").is_in(["action", "thank_you"])
    internal = c("step").is_in(["resolve_dispute", "small_balance_review"])
    notice = (
        c("status").is_in(["action", "thank_you"]) & ~internal & (c("customer_deadline") >= as_of)
    )
    gap = facing & (days_between(as_of, c("last_outbound")) < contact.min_gap_days)
    capped = facing & (c("recent_contacts") >= contact.max_per_week)
    pause = c("step").is_in(FORMAL_STEPS) & (
        days_between(as_of, c("last_conversation")) < contact.after_conversation_days
    )
    same = facing & c("same_message_on").is_not_null()
    planned = (c("status") == "action") & (c("follow_up_date") > as_of)
    rules = (
        (notice, "formal notice sent", c("customer_deadline") + pl.duration(days=1)),
        (planned, "next contact planned", c("follow_up_date")),
        (gap, "contacted recently", c("last_outbound") + pl.duration(days=contact.min_gap_days)),
        (capped, "capped", c("window_start") + pl.duration(days=contact.cap_window_days)),
        (pause, "in conversation", c("last_conversation") + pl.duration(days=contact.after_conversation_days)),
        (same, "same message sent", c("same_message_on") + pl.duration(days=cadence.repeat_after_days)),
    )  # fmt: skip
    exclusion = pl.lit(None, pl.String)
    for held, name, _ in reversed(rules):
        exclusion = pl.when(held.fill_null(False)).then(pl.lit(name)).otherwise(exclusion)
    # the action can come once every rule that holds it lets it: the latest of their dates
    when = pl.max_horizontal([pl.when(held.fill_null(False)).then(day) for held, _, day in rules])
    return exclusion, when


def _govern(frame: pl.LazyFrame, log: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Apply the governance (``log``: the contact log as of ``as_of``): a held action becomes
    ``excluded`` with its rule, next_step (the step held) and next_date; a held thank-you is
    dropped."""
    c = pl.col
    frame = frame.join(
        _same_message(frame, log, as_of, policy), on="customer_id", how="left"
    ).with_columns(customer_deadline=notice_deadline(c("last_notice"), policy))
    exclusion, when = _governance(as_of, policy)
    frame = frame.with_columns(held=exclusion, held_until=when)
    held = c("held").is_not_null()
    # what comes after: the hand-over of an invoice awaiting its notice's deadline, else the
    # step held; never inside a pending notice's deadline; a pre-due reminder held past the
    # due date becomes the first reminder
    after_notice = (c("customer_deadline") >= as_of) & (c("next_date") <= c("customer_deadline"))
    next_step = (
        pl.when(held & (c("held") == "formal notice sent") & c("notice_deadline").is_not_null())
        .then(pl.lit("hand-over"))
        .when(held)
        .then(c("step"))
        .otherwise(c("next_step"))
    )
    return (
        frame.filter(~(held & (c("status") == "thank_you")))
        .with_columns(
            status=pl.when(held).then(pl.lit("excluded")).otherwise(c("status")),
            exclusion=pl.coalesce("held", "exclusion"),
            next_step=next_step,
            next_date=pl.when(held).then(c("held_until")).otherwise(c("next_date")),
            capped=held & (c("held") == "capped"),
        )
        .with_columns(
            next_date=pl.when(after_notice.fill_null(False))
            .then(c("customer_deadline") + pl.duration(days=1))
            .otherwise(c("next_date"))
        )
        .with_columns(
            next_step=pl.when((c("next_step") == "pre_due") & (c("next_date") > c("pre_due_next")))
            .then(pl.lit("light_reminder"))
            .otherwise(c("next_step"))
        )
        .with_columns(
            step=pl.when(held).then(pl.lit(None, pl.String)).otherwise(c("step")),
            channel=pl.when(held).then(pl.lit(None, pl.String)).otherwise(c("channel")),
            tone=pl.when(held).then(pl.lit(None, pl.String)).otherwise(c("tone")),
            needs_approval=c("needs_approval").fill_null(False) & ~held,
        )
    )


RECOMMENDATION_COLUMNS = (
    "customer_id", "customer_name", "contact_name", "phone", "email", "country",
    "preferred_channel", "collector", "strategic", "segment", "status", "step", "action",
    "channel", "tone", "exclusion", "reason", "history", "next_step", "next_date",
    "needs_approval", "currency", "open_amount", "overdue_amount", "chased_amount",
    "covered_amount", "amount_at_risk", "probability", "oldest_dpd", "invoices",
    "disputed_invoices", "promise", "promise_amount", "promise_date", "promise_status",
    "pending_amount", "pending_date", "broken_recent", "last_contact", "last_channel",
    "last_outcome", "last_outbound", "last_conversation", "notice_date", "notice_deadline",
    "cleared_date", "unapplied_cash", "customer_credit", "credit_amount", "credit_sources",
    "paid_elsewhere",
    "paid_elsewhere_on", "escalated", "capped", "customer_type", "language", "contact_title",
    "statement", "promises", "sent", "net_open", "net_overdue",
)  # fmt: skip
"""The columns of :func:`recommendations`, in order."""


def _customers(portfolio: Portfolio) -> pl.LazyFrame:
    return portfolio.customers.select(
        "customer_id",
        customer_name="name",
        contact_name="contact_name",
        phone="phone",
        email="email",
        country="country",
        customer_type="customer_type",
        language="language",
        contact_title="contact_title",
        preferred_channel="preferred_channel",
        collector=pl.col("collector").fill_null("unassigned"),
        strategic=pl.col("strategic").fill_null(False),
    )


def _customer_frame(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy,
    scores: pl.DataFrame | None,
    log: pl.LazyFrame,
) -> pl.LazyFrame:
    """One row per customer with an open balance or a recent clearance, with every fact the
    decision, the governance and the reason need (``log``: the contact log as of ``as_of``)."""
    c = pl.col
    features = customer_features(portfolio, as_of, policy).collect()
    state = _customer_state(features, portfolio, as_of, policy).collect()
    states = _invoice_states(portfolio, as_of, policy, scores, features, state, log)
    invoices = _covered(states.lazy(), as_of, policy).collect().lazy()
    return (
        _invoice_facts(invoices, as_of, policy)
        .filter((c("open_invoices") > 0) | c("cleared_date").is_not_null())
        .join(
            invoices.select("customer_id", "segment", "escalated").unique("customer_id"),
            on="customer_id",
            how="left",
        )
        .join(_customers(portfolio), on="customer_id", how="left")
        .join(state.lazy().drop("segment", "escalated"), on="customer_id", how="left")
        .join(customer_contacts(log, portfolio, as_of, policy), on="customer_id", how="left")
        # the notice that holds the customer: the latest about an invoice still open (one paid
        # in full holds nothing more), or naming no invoice
        .with_columns(last_notice=pl.max_horizontal("notice_date", "general_notice"))
        .join(_promise_facts(portfolio, as_of, policy), on="customer_id", how="left")
        .join(_sent_messages(log), on="customer_id", how="left")
        .join(_plan_facts(portfolio, invoices, as_of, policy), on="customer_id", how="left")
        .join(_payments_elsewhere(portfolio, invoices, as_of, policy), on="customer_id", how="left")
        .with_columns(
            c("recent_contacts", "broken_recent", "plan_instalments_missed").fill_null(0),
            c("unapplied_cash", "pending_amount", "customer_credit").fill_null(0.0),
            # of the net position when there is one (so that amount_at_risk = net x probability)
            probability=pl.when(c("net_open") > 0)
            .then((c("amount_at_risk") / c("net_open")).round(4))
            .when(c("open_amount") > 0)
            .then((c("gross_at_risk") / c("open_amount")).round(4)),
        )
    )


def recommendations(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The next action of every customer with an open balance as of ``as_of``, or why it has
    none, plus a thank-you for customers who just cleared an overdue balance.

    ``scores`` (invoice_id, probability: still open at the horizon) comes from the risk model;
    without it (or for invoices it lacks) the probability is
    :func:`workbench.segments.fallback_probability`. Rules: the module docstring. One row per
    customer, sorted by customer_id, with :data:`RECOMMENDATION_COLUMNS`:

    - identity: customer_id, customer_name, contact_name, phone, email, country,
      preferred_channel, collector ("unassigned" when null), strategic, segment;
    - status (``action``, ``thank_you``, ``excluded``), step (null when excluded), action
      (:data:`ACTIONS`), channel, tone, exclusion (:data:`EXCLUSIONS`), reason (plain words),
      history (what was sent, in words), next_step and next_date (of an excluded customer:
      what comes next, from when), needs_approval (a strategic account's hand-over);
    - money in the reporting currency (``currency``): open_amount, overdue_amount,
      chased_amount (overdue and not sheltered), covered_amount (what the action covers),
      amount_at_risk (net open balance x probability: the open balances less the customer credit
      and unapplied cash set against them), probability (amount_at_risk / net_open; of the gross
      open balances when the credit covers everything), net_open and net_overdue (open_amount
      and overdue_amount less that credit and cash);
      oldest_dpd (days);
    - invoices: what the row is about (list of struct: invoice_id, due_date, days_past_due,
      amount, open_balance, chased_amount, currency, step, paid, last_paid_on, short_payment);
    - facts for the message: disputed_invoices, promise (text of the latest promise) and its
      parts, pending_amount, pending_date, broken_recent, last contact (date, channel,
      outcome), last_outbound, last_conversation, notice_date, notice_deadline, cleared_date,
      unapplied_cash, customer_credit (over-payments and credit notes beyond their invoices,
      set against the chased amount: :mod:`workbench.shelters`), credit_amount (the part of it
      set against the invoices this row chases; reporting currency) and credit_sources (the
      invoices it comes from: invoice_id, amount, paid, credited, excess, currency, in the
      invoice currency; for the drafts' statement), paid_elsewhere (recent
      payments to other invoices) and its date;
      promises (pending or broken: invoice_id, amount, promised_date, status), sent (the
      messages already sent: contact_date, channel, step, invoice_ids);
    - for the drafts: customer_type, language, contact_title, statement (every open invoice);
    - flags: escalated, capped.
    """
    currency = reporting_currency(portfolio, as_of) or ""
    log = contact_log(portfolio, as_of).collect().lazy()  # read by the memory and the governance
    frame = _decide(_customer_frame(portfolio, as_of, policy, scores, log), as_of, policy)
    frame = _channel_and_tone(frame, policy).join(
        _follow_ups(portfolio, frame, as_of), on="customer_id", how="left"
    )
    frame = _govern(frame, log, as_of, policy)
    return (
        _texts(frame, as_of, policy, currency)
        .select(RECOMMENDATION_COLUMNS)
        .sort("customer_id")
        .collect()
    )


def _texts(frame: pl.LazyFrame, as_of: date, policy: Policy, currency: str) -> pl.LazyFrame:
    """history, action, promise, currency and reason: the words of each row, in the team's
    language (policy ``team.language``, :mod:`workbench.phrases`)."""
    c = pl.col
    language = policy.team.language
    say = REASONS[language]
    frame = frame.with_columns(
        history=_history_words(language),
        action=c("step").replace_strict(
            ACTION_LABELS[language], default=None, return_dtype=pl.String
        ),
        promise=pl.when(c("promise_amount").is_not_null()).then(
            phrase(
                say["promise"],
                amount=money_text(c("promise_amount"), currency, language),
                date=day_text(c("promise_date"), language),
                status=words(c("promise_status"), PROMISE_STATUS_WORDS, language),
            )
        ),
        currency=pl.lit(currency),
    )
    return with_reason(frame, as_of, policy, currency).with_columns(
        action=pl.when(c("needs_approval"))
        .then(pl.concat_str(c("action"), pl.lit(say["needs_approval_suffix"])))
        .when(c("strategic") & (c("status") != "excluded"))
        .then(pl.concat_str(c("action"), pl.lit(say["owner_suffix"])))
        .otherwise(c("action"))
    )


def _history_words(language: str = "en") -> pl.Expr:
    """The dunning history in words: ``formal notice sent 2026-11-19, deadline 2026-12-01``,
    ``mise en demeure envoyée le 19/11/2026, échéance le 01/12/2026``
    (:data:`workbench.phrases.HISTORY`, by the highest step reached)."""
    c = pl.col
    templates = HISTORY[language]
    if language == "en":
        step = c("history_step").str.replace_all("_", " ")
    else:
        step = c("history_step").replace_strict(
            STEP_WORDS[language], default=c("history_step"), return_dtype=pl.String
        )
    parts = {
        "step": step,
        "date": day_text(c("history_date"), language),
        "deadline": day_text(c("notice_deadline"), language),
    }
    text = pl.when(c("history_step").is_not_null()).then(phrase(templates["*"], **parts))
    for reached, template in reversed([(k, v) for k, v in templates.items() if k != "*"]):
        text = pl.when(c("history_step") == reached).then(phrase(template, **parts)).otherwise(text)
    # a step reached by calls nobody answered is said so: it was tried, not heard
    unanswered = c("history_unanswered").fill_null(False)
    return pl.when(unanswered).then(pl.concat_str(text, pl.lit(UNANSWERED[language]))).otherwise(
        text
    )
