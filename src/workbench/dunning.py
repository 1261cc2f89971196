"""The dunning state as of a date (DESIGN section 6b): what was already sent, when, to whom.

The contacts history dated on or before ``as_of`` is the memory. This module reads it; the
decision that follows from it is :mod:`workbench.recommend`.

**Step of a contact.** The ``step`` column when the source has it; otherwise inferred from the
channel, the outcome and the date (first rule that holds):

=====================================================  ===================
contact                                                inferred step
=====================================================  ===================
outcome ``dispute_raised``                             ``resolve_dispute``
outcome ``plan_agreed``                                ``solution_offer``
channel ``registered_letter``                          ``formal_notice``
channel ``agency`` / ``legal``                         ``agency`` / ``legal``
channel ``letter``                                     ``last_notice``
channel ``phone``                                      ``personal_contact``
``email`` or ``sms`` before the invoice's due date     ``pre_due``
``email`` or ``sms`` otherwise                         ``light_reminder``
=====================================================  ===================

**Messages.** An outbound customer-facing contact has a channel among :data:`CUSTOMER_FACING`
and an outcome other than ``dispute_raised`` (that one is the customer's own message). A
message is a distinct (customer, date, channel, step): a letter about three invoices may be
logged as three rows, it is one message. The gap, the weekly cap and the repeat rule count
messages.

**Per invoice**, the contacts about it are the rows naming it, plus the customer-level rows
(no invoice) dated after its due date. The step reached is the highest cadence rank among
them (:data:`STEP_RANK`), dated by the latest contact at that rank. A contact about an invoice
dated before its due date is that invoice's pre-due reminder, whatever the step of the message
(an amicable letter about overdue invoices may also list one due next week): it never makes the
invoice reach a cadence step.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import within_days
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

CADENCE_STEPS = (
    "light_reminder", "personal_contact", "solution_offer", "last_notice", "formal_notice",
)  # fmt: skip
"""The steps after the due date, in order (DESIGN 2.3)."""

HANDOVER_STEPS = ("agency", "legal", "write_off_review")
"""What follows an unanswered formal notice."""

STEP_RANK = {step: i + 1 for i, step in enumerate(CADENCE_STEPS)} | {"agency": 6, "legal": 6}
"""Cadence rank of the steps a contact can reach; the other steps have none."""

CUSTOMER_FACING = ("email", "sms", "phone", "letter", "registered_letter")
"""Channels that contact the customer (and count towards the gap and the cap)."""

INBOUND_OUTCOMES = ("dispute_raised",)
"""Outcomes of a contact that came from the customer."""


def inferred_step() -> pl.Expr:
    """The step of a contact without one (see the module table); needs channel, outcome,
    contact_date and due_date (of its invoice, null for a customer-level contact)."""
    c = pl.col
    written = c("channel").is_in(["email", "sms"])
    return (
        pl.when(c("outcome") == "dispute_raised")
        .then(pl.lit("resolve_dispute"))
        .when(c("outcome") == "plan_agreed")
        .then(pl.lit("solution_offer"))
        .when(c("channel") == "registered_letter")
        .then(pl.lit("formal_notice"))
        .when(c("channel").is_in(["agency", "legal"]))
        .then(c("channel"))
        .when(c("channel") == "letter")
        .then(pl.lit("last_notice"))
        .when(c("channel") == "phone")
        .then(pl.lit("personal_contact"))
        .when(written & (c("contact_date") < c("due_date")).fill_null(False))
        .then(pl.lit("pre_due"))
        .otherwise(pl.lit("light_reminder"))
    )


def contact_log(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """The contacts dated <= ``as_of`` with their step.

    Columns of ``contacts`` plus: step (given, else :func:`inferred_step`), step_inferred
    (bool), before_due (dated before the due date of its invoice), rank (:data:`STEP_RANK`;
    null for the other steps and for a contact before its invoice's due date), outbound (an
    outbound customer-facing contact, see the module docstring).
    """
    c = pl.col
    due = portfolio.invoices.select("invoice_id", "due_date")
    return (
        portfolio.contacts.filter(c("contact_date") <= as_of)
        .join(due, on="invoice_id", how="left")
        .with_columns(
            step_inferred=c("step").is_null(),
            step=pl.coalesce(c("step"), inferred_step()),
        )
        .with_columns(before_due=(c("contact_date") < c("due_date")).fill_null(False))
        .with_columns(
            rank=pl.when(~c("before_due")).then(
                c("step").replace_strict(STEP_RANK, default=None, return_dtype=pl.Int64)
            ),
            outbound=c("channel").is_in(CUSTOMER_FACING)
            & ~c("outcome").is_in(INBOUND_OUTCOMES).fill_null(False),
        )
        .drop("due_date")
    )


def messages(log: pl.LazyFrame) -> pl.LazyFrame:
    """The outbound messages of a :func:`contact_log`: customer_id, contact_date, channel,
    step, invoice_ids (sorted list of the invoices named; empty for a customer-level one)."""
    return (
        log.filter(pl.col("outbound"))
        .group_by("customer_id", "contact_date", "channel", "step")
        .agg(invoice_ids=pl.col("invoice_id").drop_nulls().unique().sort())
    )


def invoice_memory(log: pl.LazyFrame, invoices: pl.LazyFrame) -> pl.LazyFrame:
    """What each invoice of ``invoices`` (invoice_id, customer_id, due_date) already received.

    Columns: invoice_id; reached_rank (highest cadence rank, null when none), reached_step,
    reached_date (latest contact at that rank); reached_unanswered (every contact at that rank
    on that date had outcome no_answer); handed_date (first agency or legal contact);
    notice_date (latest formal notice); pre_due_date (latest pre-due reminder);
    last_contact_on (latest contact about it, any step). Invoices without contacts get nulls.
    """
    c = pl.col
    named = log.filter(c("invoice_id").is_not_null())
    general = (
        invoices.select("invoice_id", "customer_id", "due_date")
        .join(log.filter(c("invoice_id").is_null()).drop("invoice_id"), on="customer_id")
        .filter(c("contact_date") > c("due_date"))
        .drop("due_date")
    )
    about = pl.concat([named, general.select(named.collect_schema().names())])
    top = c("rank") == c("rank").max()
    return (
        invoices.select("invoice_id")
        .join(about, on="invoice_id", how="inner")
        .group_by("invoice_id")
        .agg(
            reached_rank=c("rank").max(),
            reached_step=c("step").filter(top).sort_by(c("contact_date").filter(top)).last(),
            reached_date=c("contact_date").filter(top).max(),
            # every contact at that rank on that day went unanswered (a call nobody picked up)
            reached_unanswered=(c("outcome") == "no_answer")
            .filter(top & (c("contact_date") == c("contact_date").filter(top).max()))
            .all(),
            handed_date=c("contact_date").filter(c("step").is_in(["agency", "legal"])).min(),
            notice_date=c("contact_date").filter(c("step") == "formal_notice").max(),
            pre_due_date=c("contact_date").filter((c("step") == "pre_due") | c("before_due")).max(),
            last_contact_on=c("contact_date").max(),
        )
    )


def conversations(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Every conversation with a customer dated <= ``as_of``: customer_id, day, kind.

    A conversation is a contact whose outcome is among ``contact.conversation_outcomes`` (kind:
    the outcome), a promise made (``promise made``) or a payment plan agreed (``plan agreed``,
    on its agreed_date).
    """
    c = pl.col
    talked = portfolio.contacts.filter(
        c("contact_date") <= as_of,
        c("outcome").is_in(list(policy.contact.conversation_outcomes)),
    ).select("customer_id", day="contact_date", kind=c("outcome").str.replace_all("_", " "))
    promised = portfolio.promises.filter(c("promise_date") <= as_of).select(
        "customer_id", day="promise_date", kind=pl.lit("promise made")
    )
    planned = (
        portfolio.payment_plans.filter(c("agreed_date") <= as_of)
        .select("customer_id", day="agreed_date", kind=pl.lit("plan agreed"))
        .unique()
    )
    return pl.concat([talked, promised, planned])


def customer_contacts(
    log: pl.LazyFrame, portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """Per customer, the contact facts the governance needs, as of ``as_of``, from ``log``
    (:func:`contact_log` as of ``as_of``) and the conversations of ``portfolio``.

    Columns: customer_id; last_contact, last_channel, last_outcome, last_step (the latest
    contact, any kind); last_outbound (date of the latest outbound message), last_outbound_channel;
    recent_contacts (messages in (as_of - contact.cap_window_days, as_of]), window_start (the
    oldest of them); general_notice (the latest formal notice naming no invoice);
    last_conversation (date), conversation_kind.
    """
    c = pl.col
    sent = messages(log).sort("contact_date", "channel", "step")
    in_window = within_days(c("contact_date"), as_of, policy.contact.cap_window_days)
    outbound = sent.group_by("customer_id").agg(
        last_outbound=c("contact_date").last(),
        last_outbound_channel=c("channel").last(),
        recent_contacts=in_window.sum().cast(pl.Int64),
        window_start=c("contact_date").filter(in_window).min(),
    )
    last = (
        log.sort("contact_date", "contact_id")
        .group_by("customer_id")
        .agg(
            last_contact=c("contact_date").last(),
            last_channel=c("channel").last(),
            last_outcome=c("outcome").last(),
            last_step=c("step").last(),
            general_notice=c("contact_date")
            .filter((c("step") == "formal_notice") & c("invoice_id").is_null())
            .max(),
        )
    )
    talks = (
        conversations(portfolio, as_of, policy)
        .sort("day", "kind")
        .group_by("customer_id")
        .agg(last_conversation=c("day").last(), conversation_kind=c("kind").last())
    )
    return (
        last.join(outbound, on="customer_id", how="full", coalesce=True)
        .join(talks, on="customer_id", how="full", coalesce=True)
        .with_columns(c("recent_contacts").fill_null(0))
    )


def recent_messages(log: pl.LazyFrame, as_of: date, policy: Policy) -> pl.LazyFrame:
    """The messages of ``log`` (:func:`contact_log` as of ``as_of``) in the last
    ``cadence.repeat_after_days`` (see :func:`messages`), for the rule "no identical message":
    customer_id, contact_date, channel, step, invoice_ids."""
    since = as_of - timedelta(days=policy.cadence.repeat_after_days)
    return messages(log).filter(pl.col("contact_date") > since)
