"""The reason of each recommendation, in words a collector can say on the phone (DESIGN 2.13).

Built from the facts of :func:`workbench.recommend.recommendations` rows as one polars
expression. Every reason tells the history ("formal notice sent 2026-11-19, deadline
2026-12-01, then agency") and what shelters or holds the rest.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.dunning import CADENCE_STEPS
from workbench.policy import Policy
from workbench.wording import channel_words, counted, joined, money_text, month_text

SEGMENT_WORDS = {
    "reliable": "usually pays on time: probably an oversight",
    "occasional": "sometimes late: probably an oversight",
    "chronic_late": "pays late habitually",
    "deteriorating": "paying later lately: watch closely",
    "in_difficulty": "payment difficulties: listen and offer a plan",
    "disputing": "often disputes invoices",
    "new": "new customer",
}
"""How the reason names each behaviour segment."""

STEP_WORDS = {
    "pre_due": "preventive reminder", "light_reminder": "light reminder",
    "personal_contact": "personal contact", "solution_offer": "payment plan offer",
    "last_notice": "last amicable notice", "formal_notice": "formal notice",
    "hand-over": "hand-over", "agency": "agency", "legal": "legal proceedings",
    "write_off_review": "write-off review", "small_balance_review": "small-balance review",
    "resolve_dispute": "dispute resolution", "thank_you": "thank-you",
}  # fmt: skip
"""Steps in words."""


def _step_words(step: pl.Expr) -> pl.Expr:
    return step.replace_strict(STEP_WORDS, default=step, return_dtype=pl.String)


def _segment() -> pl.Expr:
    c = pl.col
    words = c("segment").replace_strict(SEGMENT_WORDS, return_dtype=pl.String)
    return (
        pl.when(c("segment") == "chronic_late")
        .then(pl.format("{} (on average {} days late)", words, c("mean_days_late").round(0).cast(pl.Int64)))
        .when((c("segment") == "deteriorating") & c("days_late_trend").is_not_null())
        .then(pl.format("{} (+{} days late)", words, c("days_late_trend").round(0).cast(pl.Int64)))
        .otherwise(words)
    )  # fmt: skip


def _invoice_list(column: str, text: pl.Expr) -> pl.Expr:
    """``text`` (over ``pl.element().struct``) of each invoice of list ``column``, joined."""
    return pl.col(column).list.eval(text).list.join("; ")


def _payments(policy: Policy, currency: str) -> pl.Expr:
    """Partial payments on the covered invoices, short payments, payments to other invoices."""
    c, e = pl.col, pl.element().struct
    money = lambda column: money_text(c(column), currency)  # noqa: E731
    partly = _invoice_list(
        "partly_paid",
        pl.format("{} partly paid ({} received, last on {}; {} still due)",
                  e.field("invoice_id"), money_text(e.field("paid"), e.field("currency")),
                  e.field("last_paid_on"), money_text(e.field("open_balance"), e.field("currency"))),
    )  # fmt: skip
    short = _invoice_list(
        "short_invoices",
        pl.format("short payment on {}: ask the reason (deduction, dispute?) before escalating",
                  e.field("invoice_id")),
    )  # fmt: skip
    elsewhere = pl.when(c("paid_elsewhere") > 0).then(
        pl.format("paid {} in the last {} (last on {}) against other invoices, which does not "
                  "settle these", money("paid_elsewhere"),
                  counted(pl.lit(policy.contact.recent_payment_days), "day"), c("paid_elsewhere_on"))
    )  # fmt: skip
    return joined(
        pl.when(c("partly_paid").list.len() > 0).then(partly),
        pl.when(c("short_invoices").list.len() > 0).then(short),
        elsewhere,
    )


def _shelters(currency: str) -> pl.Expr:
    """What shelters the customer's other overdue invoices (promises, plans, cash, disputes)."""
    c = pl.col
    money = lambda column: money_text(c(column), currency)  # noqa: E731
    return joined(
        pl.when(c("disputed_count") > 0).then(pl.format(
            "{} disputed ({}): dunning paused, dispute routed to its owner",
            counted(c("disputed_count"), "invoice"), money("disputed_amount"))),
        pl.when(c("promised_amount") > 0).then(pl.format(
            "{} under a promise of {} by {}", money("promised_amount"), money("pending_amount"),
            c("pending_date"))),
        pl.when(c("planned_amount") > 0).then(pl.format(
            "{} in a payment plan on track", money("planned_amount"))),
        pl.when((c("unapplied_cash") > 0) & (c("cash_amount") == 0)).then(pl.format(
            "{} of unapplied cash to reconcile", money("unapplied_cash"))),
        pl.when(c("cash_amount") > 0).then(pl.format(
            "{} set against {} of unapplied cash to reconcile", money("cash_amount"),
            money("unapplied_cash"))),
    )  # fmt: skip


def _escalation(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """Broken promises, missed instalments, the unanswered notice, the hand-over threshold."""
    c = pl.col
    handover = c("step").is_in(["agency", "legal", "write_off_review"])
    return joined(
        pl.when(c("broken_recent") > 0).then(pl.format(
            "{} broken since {}", counted(c("broken_recent"), "promise"),
            month_text(c("broken_since"), as_of))),
        pl.when(c("plan_instalments_missed") > 0).then(pl.format(
            "{} of the payment plan missed", counted(c("plan_instalments_missed"), "instalment"))),
        pl.when(handover).then(pl.format(
            "formal notice of {} unanswered at its deadline {}", c("notice_date"), c("notice_deadline"))),
        pl.when((c("step") == "agency") & (c("handed_count") > 0)).then(pl.format(
            "{} already with the agency since {}: these join its file",
            counted(c("handed_count"), "invoice"), c("handed_since"))),
        pl.when(c("step") == "write_off_review").then(pl.format(
            "below the {} threshold for an agency",
            money_text(pl.lit(policy.escalation.agency_min_amount), currency))),
        pl.when(c("needs_approval")).then(pl.lit("strategic account: needs approval before hand-over")),
    )  # fmt: skip


def _channel_note(policy: Policy, currency: str) -> pl.Expr:
    """Why the channel is what it is: preference, formal step, broken commitment, amount."""
    c = pl.col
    preferred = channel_words(c("preferred_channel"))
    rules = policy.escalation
    shrunk = pl.when(c("wanted_channel") != c("channel")).then(
        pl.format(
            "{} too small for a {} (minimum {}): by {}",
            money_text(c("covered_amount"), currency),
            channel_words(c("wanted_channel")),
            pl.when(c("wanted_channel") == "letter")
            .then(money_text(pl.lit(rules.letter_min_amount), currency))
            .otherwise(money_text(pl.lit(rules.formal_notice_min_amount), currency)),
            channel_words(c("channel")),
        )
    )
    preference = (
        pl.when(c("channel") == c("preferred_channel"))
        .then(pl.format("prefers {}", preferred))
        .when(c("channel").is_in(list(policy.contact.formal_channels)) & c("step").is_in(CADENCE_STEPS))
        .then(pl.format("prefers {} but this step needs a {}", preferred, channel_words(c("channel"))))
        .when(c("escalated") & c("step").is_in(CADENCE_STEPS))
        .then(pl.format("prefers {} but the broken commitment calls for a {}", preferred, channel_words(c("channel"))))
    )  # fmt: skip
    return joined(shrunk, preference)


def _action_reason(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """Reason of a dunning action (cadence step or hand-over)."""
    c = pl.col
    handover = c("step").is_in(["agency", "legal", "write_off_review"])  # the notice is told
    overdue = pl.format(
        "{} past due on {} ({})", counted(c("covered_dpd"), "day"),
        counted(c("covered_count"), "invoice"), money_text(c("covered_amount"), currency),
    )  # fmt: skip
    others = pl.when(c("uncovered_ready") > 0).then(
        pl.format("{} follow their own cadence", counted(c("uncovered_ready"), "other invoice"))
    )
    strategic = pl.when(c("strategic")).then(pl.lit("strategic account: account owner in the loop"))
    return joined(
        overdue, pl.when(~handover).then(c("history")), c("_r_escalation"), c("_r_payments"),
        c("_r_segment"), others, c("_r_shelters"), c("_r_channel"), strategic,
    )  # fmt: skip


def _other_reasons(policy: Policy, currency: str) -> dict[str, pl.Expr]:
    """Reasons of the non-dunning steps, by step."""
    c = pl.col
    money = lambda column: money_text(c(column), currency)  # noqa: E731
    strategic = pl.when(c("strategic")).then(pl.lit("strategic account: account owner in the loop"))
    reasons = (
        pl.when(c("dispute_reasons") != "")
        .then(pl.format(": {}", c("dispute_reasons").str.replace_all("_", " ")))
        .otherwise(pl.lit(""))
    )
    return {
        "resolve_dispute": joined(pl.format(
            "{} disputed since {} ({}{}): dunning paused, route to the owner to resolve",
            counted(c("disputed_count"), "invoice"), c("dispute_since"), money("disputed_amount"),
            reasons), strategic),
        "pre_due": joined(pl.format(
            "{} ({}) due on {}, {}% risk of still being unpaid in 30 days",
            counted(c("pre_due_count"), "invoice"), money("pre_due_amount"), c("pre_due_next"),
            (c("pre_due_probability") * 100).round(0).cast(pl.Int64)),
            c("history"), c("_r_segment"), c("_r_channel"), strategic),
        "thank_you": joined(pl.format(
            "overdue balance cleared on {}: thank the customer", c("cleared_date")),
            c("_r_channel")),
        "small_balance_review": joined(pl.format(
            "only {} overdue, below the small-balance threshold of {}: review it (offset, "
            "write off, or add it to the next statement) rather than dun",
            money("chased_amount"), money_text(pl.lit(policy.amounts.small_balance), currency)),
            c("history")),
    }  # fmt: skip


def _excluded_reason(policy: Policy, currency: str) -> pl.Expr:
    """``<exclusion>: <detail>`` with the date of the next step where there is one."""
    c = pl.col
    money = lambda column: money_text(c(column), currency)  # noqa: E731
    following = pl.when(c("next_step").is_not_null() & c("next_date").is_not_null()).then(
        pl.format("next: {} from {}", _step_words(c("next_step")), c("next_date"))
    )
    last = pl.format(
        "last message on {} by {}", c("last_outbound"), channel_words(c("last_outbound_channel"))
    )
    details = {
        "formal notice sent": pl.format(
            "formal notice sent {}, deadline {}, then {}", c("last_notice"), c("customer_deadline"),
            _step_words(pl.when(c("next_step") == "hand-over").then(c("handover_kind")).otherwise(c("next_step")))),
        "waiting for the next step": joined(c("history"), following),
        "contacted recently": joined(last, following),
        "capped": joined(pl.format("{} in the last {}", counted(c("recent_contacts"), "message"),
                                   counted(pl.lit(policy.contact.cap_window_days), "day")), last, following),
        "in conversation": joined(pl.format("{} on {}", c("conversation_kind"), c("last_conversation")),
                                  pl.format("{} held", _step_words(c("next_step"))), following),
        "same message sent": joined(pl.format("the same {} by {} on {}", _step_words(c("next_step")),
                                              channel_words(c("last_outbound_channel")), c("same_message_on")), following),
        "promise pending": pl.format("{} promised by {}, covering {}", money("pending_amount"),
                                     c("pending_date"), money("promised_amount")),
        "plan on track": joined(pl.lit("payment plan instalments paid as agreed"),
                                pl.format("next instalment {}", c("next_instalment"))),
        "unapplied cash to reconcile": pl.format(
            "{} received without an invoice covers the {} overdue: reconcile, do not chase",
            money("unapplied_cash"), money("cash_amount")),
        "handed over": pl.format("{} with the agency or legal since {}",
                                 counted(c("handed_count"), "invoice"), c("handed_since")),
        "not yet due and no risk": pl.format("{} due from {}", money("open_amount"), c("next_due")),
    }  # fmt: skip
    text = pl.lit(None, pl.String)
    for exclusion, detail in details.items():
        text = (
            pl.when(c("exclusion") == exclusion)
            .then(pl.format("{}: {}", pl.lit(exclusion), detail))
            .otherwise(text)
        )
    shelters = c("_r_shelters")
    own = c("exclusion").is_in(["promise pending", "plan on track", "unapplied cash to reconcile"])
    return (
        pl.when(shelters.is_not_null() & ~own)
        .then(pl.format("{}; {}", text, shelters))
        .otherwise(text)
    )


PARTS = ("_r_escalation", "_r_payments", "_r_segment", "_r_shelters", "_r_channel")
"""Intermediate columns of :func:`with_reason` (computed once, then referenced)."""


def with_reason(frame: pl.LazyFrame, as_of: date, policy: Policy, currency: str) -> pl.LazyFrame:
    """``frame`` (recommendation facts) with ``reason``: the reason of each row (action,
    thank-you or exclusion). The parts shared by several kinds of rows are computed first as
    columns, so that the expression stays small."""
    c = pl.col
    parts = frame.with_columns(
        _r_escalation=_escalation(as_of, policy, currency),
        _r_payments=_payments(policy, currency),
        _r_segment=_segment(),
        _r_shelters=_shelters(currency),
        _r_channel=_channel_note(policy, currency),
    )
    others = _other_reasons(policy, currency)
    staged = parts.with_columns(
        _r_action=_action_reason(as_of, policy, currency),
        _r_excluded=_excluded_reason(policy, currency),
        **{f"_r_{step}": words for step, words in others.items()},
    )
    text = c("_r_action")
    for step in others:
        text = pl.when(c("step") == step).then(c(f"_r_{step}")).otherwise(text)
    text = pl.when(c("status") == "excluded").then(c("_r_excluded")).otherwise(text)
    temporary = [*PARTS, "_r_action", "_r_excluded", *(f"_r_{step}" for step in others)]
    return staged.with_columns(reason=text).drop(temporary)
