"""The reason of each recommendation, in words a collector can say on the phone (DESIGN 2.13).

Built from the facts of :func:`workbench.recommend.recommendations` rows as one polars
expression. Every reason tells the history ("formal notice sent 2026-11-19, deadline
2026-12-01, then agency") and what shelters or holds the rest. In the team's language (policy
``team.language``), from the templates of :mod:`workbench.phrases`: "mise en demeure envoyée le
19/11/2026, échéance le 01/12/2026, puis transmission au cabinet de recouvrement".
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.dunning import CADENCE_STEPS, HANDOVER_STEPS
from workbench.phrases import (
    CONVERSATION_WORDS,
    DISPUTE_WORDS,
    EXCLUSION_WORDS,
    REASONS,
    SEGMENT_WORDS,
    STEP_WORDS,
)
from workbench.policy import Policy
from workbench.wording import (
    channel_words,
    counted,
    day_text,
    joined,
    money_text,
    month_text,
    percent_text,
    phrase,
    words,
)


def _step_words(step: pl.Expr, language: str = "en") -> pl.Expr:
    """A step (or next step) code in words."""
    mapping = STEP_WORDS[language]
    return step.replace_strict(mapping, default=step, return_dtype=pl.String)


def _says(language: str) -> dict[str, str]:
    """The reason templates of ``language``."""
    return REASONS[language]


def _segment(language: str = "en") -> pl.Expr:
    """The behaviour segment in words, with the average delay of a chronic late payer and the
    trend of a deteriorating one; a customer in difficulty is offered a plan only in a call."""
    c, say = pl.col, _says(language)
    words = c("segment").replace_strict(SEGMENT_WORDS[language], return_dtype=pl.String)
    mean = c("mean_days_late").round(0).cast(pl.Int64)
    trend = c("days_late_trend").round(0).cast(pl.Int64)
    late = lambda n: {"n": n, "n_days": counted(n, "day", language)}  # noqa: E731
    # "listen and offer a plan" is advice for a call: not for a letter, nor beside a hand-over,
    # nor to a customer whose plan is on track (said with the shelters): the difficulty alone
    conversation = (
        (c("channel") == "phone")
        & ~c("step").is_in(HANDOVER_STEPS)
        & (c("planned_amount").fill_null(0) <= 0)
    ).fill_null(False)
    return (
        pl.when((c("segment") == "in_difficulty") & ~conversation)
        .then(pl.lit(say["difficulty_alone"]))
        .when(c("segment") == "chronic_late")
        .then(phrase(say["segment_chronic"], words=words, **late(mean)))
        .when((c("segment") == "deteriorating") & c("days_late_trend").is_not_null())
        .then(phrase(say["segment_trend"], words=words, **late(trend)))
        .otherwise(words)
    )


def _invoice_list(column: str, text: pl.Expr, language: str = "en") -> pl.Expr:
    """``text`` (over ``pl.element().struct``) of each invoice of list ``column``, joined."""
    return pl.col(column).list.eval(text).list.join(_says(language)["list_separator"])


def _payments(policy: Policy, currency: str) -> pl.Expr:
    """Partial payments on the covered invoices, short payments, formal notices answered in
    part, payments to other invoices, and to invoices handed over (to tell the file's holder)."""
    c, e = pl.col, pl.element().struct
    language = policy.team.language
    say = _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    partly = _invoice_list(
        "partly_paid",
        phrase(say["partly_paid"], invoice=e.field("invoice_id"),
               paid=money_text(e.field("paid"), e.field("currency"), language),
               last=day_text(e.field("last_paid_on"), language),
               due=money_text(e.field("open_balance"), e.field("currency"), language)),
        language,
    )  # fmt: skip
    short = _invoice_list(
        "short_invoices", phrase(say["short_payment"], invoice=e.field("invoice_id")), language
    )
    answered = _invoice_list(
        "answered_invoices", phrase(say["notice_answered"], invoice=e.field("invoice_id")), language
    )
    days = pl.lit(policy.contact.recent_payment_days)
    elsewhere = pl.when(c("paid_elsewhere") > 0).then(
        # "these" are the invoices asked for (else those past due): one, or several
        pl.when(pl.when(c("covered_count") > 0).then(c("covered_count"))
                .otherwise(c("overdue_count")) == 1).then(
            phrase(say["paid_elsewhere_one"], amount=money("paid_elsewhere"), n=days,
                   n_days=counted(days, "day", language),
                   date=day_text(c("paid_elsewhere_on"), language)))
        .otherwise(
            phrase(say["paid_elsewhere"], amount=money("paid_elsewhere"), n=days,
                   n_days=counted(days, "day", language),
                   date=day_text(c("paid_elsewhere_on"), language)))
    )  # fmt: skip
    handed = pl.when(c("paid_handed") > 0).then(
        phrase(say["paid_handed"], amount=money("paid_handed"), n=days,
               n_days=counted(days, "day", language),
               invoices=c("paid_handed_invoices").list.join(", "),
               date=day_text(c("paid_handed_on"), language))
    )  # fmt: skip
    return joined(
        pl.when(c("partly_paid").list.len() > 0).then(partly),
        pl.when(c("short_invoices").list.len() > 0).then(short),
        pl.when(c("answered_invoices").list.len() > 0).then(answered),
        elsewhere,
        handed,
    )


def _credit_sources(language: str = "en") -> pl.Expr:
    """The invoices the customer's credit comes from, each with its arithmetic in its own
    currency: ``I7 invoiced 1,000.00 EUR, paid 1,150.00 EUR, credited 0.00 EUR: 150.00 EUR
    beyond its amount``."""
    e = pl.element().struct
    money = lambda field: money_text(e.field(field), e.field("currency"), language)  # noqa: E731
    text = phrase(
        _says(language)["credit_source"], invoice=e.field("invoice_id"), amount=money("amount"),
        paid=money("paid"), credited=money("credited"), excess=money("excess"),
    )  # fmt: skip
    return _invoice_list("credit_sources", text, language)


def _credit(currency: str, language: str = "en") -> pl.Expr:
    """The customer's credit (over-payments, credit notes beyond their invoices): what it is
    set against the chased invoices, or that it has nothing to be set against."""
    c, say = pl.col, _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    sources = _credit_sources(language)
    return (
        pl.when(c("credit_amount") > 0)
        .then(phrase(say["credit_set_against"], amount=money("credit_amount"),
                     credit=money("customer_credit"), sources=sources))
        .when(c("customer_credit") > 0)
        .then(phrase(say["customer_credit"], credit=money("customer_credit"), sources=sources))
    )  # fmt: skip


def pending_promises(currency: str, language: str = "en") -> pl.Expr:
    """The customer's pending promises, each pay-by date with its amount, earliest first:
    ``"2,924.55 EUR by 2026-11-20 and 3,291.70 EUR by 2026-11-25"`` (never one sum at the
    latest date, which would give the first promise days it does not have; two promises due
    the same day are one amount, as in the drafts). Reads ``pending_by_date`` (the structs of
    :func:`workbench.recommend.recommendations`)."""
    say = _says(language)
    item = pl.element().struct
    texts = pl.col("pending_by_date").list.eval(
        phrase(
            say["pay_by"],
            amount=money_text(item.field("amount"), currency, language),
            date=day_text(item.field("promised_date"), language),
        )
    )
    n = texts.list.len()
    head = texts.list.head(n - 1).list.join(", ")
    return pl.when(n > 1).then(pl.concat_str(head, pl.lit(say["and"]), texts.list.last())).when(
        n == 1
    ).then(texts.list.first())


def _disputed_text(currency: str, language: str = "en") -> pl.Expr:
    """What the open disputes contest: their open amount, or ``4,365.18 EUR contested of
    12,719.36 EUR`` when they contest only part of their invoices' open balance."""
    c, say = pl.col, _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    return (
        pl.when(c("disputed_amount") < c("disputed_open_amount"))
        .then(phrase(say["disputed_part"], part=money("disputed_amount"),
                     whole=money("disputed_open_amount")))
        .otherwise(money("disputed_open_amount"))
    )  # fmt: skip


def _own_cadence(currency: str, language: str = "en") -> pl.Expr:
    """The overdue invoices still chased that the action leaves to their own next step."""
    c, say = pl.col, _says(language)
    return pl.when(c("uncovered_count") > 0).then(
        phrase(say["own_cadence"], others=counted(c("uncovered_count"), "other_invoice", language),
               amount=money_text(c("uncovered_amount"), currency, language))
    )  # fmt: skip


def _shelters(currency: str, language: str = "en") -> pl.Expr:
    """What shelters the customer's other overdue invoices (promises, plans, credit, cash,
    disputes) or takes them out of its dunning (handed over)."""
    c, say = pl.col, _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    return joined(
        pl.when(c("disputed_count") > 0).then(phrase(
            say["disputed"], invoices=counted(c("disputed_count"), "invoice", language),
            amount=_disputed_text(currency, language))),
        pl.when(c("promised_amount") > 0).then(phrase(
            say["promised"], promised=money("promised_amount"),
            pending=pending_promises(currency, language))),
        pl.when(c("planned_amount") > 0).then(phrase(
            say["planned"], amount=money("planned_amount"))),
        # the agency or lawyer holds them: not chased here (a hand-over says so itself)
        pl.when((c("handed_count") > 0) & ~c("step").is_in(HANDOVER_STEPS)).then(phrase(
            say["handed_apart"], invoices=counted(c("handed_count"), "invoice", language),
            amount=money("handed_amount"), date=day_text(c("handed_since"), language))),
        _credit(currency, language),
        _cash(currency, language),
    )  # fmt: skip


def _cash(currency: str, language: str = "en") -> pl.Expr:
    """The customer's unapplied cash to reconcile, and what of it is set against its overdue
    invoices (null when it has none)."""
    c, say = pl.col, _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    return joined(
        pl.when((c("unapplied_cash") > 0) & (c("cash_amount") == 0)).then(phrase(
            say["unapplied_cash"], amount=money("unapplied_cash"))),
        pl.when(c("cash_amount") > 0).then(phrase(
            say["cash_set_against"], amount=money("cash_amount"), cash=money("unapplied_cash"))),
        _cash_matched(language),
    )  # fmt: skip


def _cash_matched(language: str = "en") -> pl.Expr:
    """The invoices an unapplied payment pays to the cent (probably theirs: to reconcile; with
    the agency: to tell it too)."""
    c, say = pl.col, _says(language)
    return joined(
        pl.when(c("cash_matched").list.len() > 0).then(
            phrase(say["cash_matched"], invoices=c("cash_matched").list.join(", "))),
        pl.when(c("cash_matched_handed").list.len() > 0).then(
            phrase(say["cash_matched_handed"], invoices=c("cash_matched_handed").list.join(", "))),
    )  # fmt: skip


def _broken_commitments(as_of: date, currency: str, language: str = "en") -> pl.Expr:
    """The promises broken recently (since which month) and the plan instalments missed (since
    when, and how much the customer is behind its plans)."""
    c, say = pl.col, _says(language)
    arrears = pl.when(c("missed_since").is_not_null() & (c("plan_arrears") > 0)).then(phrase(
        say["plan_arrears"], date=day_text(c("missed_since"), language),
        amount=money_text(c("plan_arrears"), currency, language)))
    missed = phrase(say["missed_instalments"], instalments=counted(
        c("plan_instalments_missed"), "missed_instalment", language))
    return joined(
        pl.when(c("broken_recent") > 0).then(phrase(
            say["broken"], promises=counted(c("broken_recent"), "broken_promise", language),
            month=month_text(c("broken_since"), as_of, language))),
        pl.when(c("plan_instalments_missed") > 0).then(
            pl.when(arrears.is_not_null()).then(pl.format("{} ({})", missed, arrears))
            .otherwise(missed)),
    )  # fmt: skip


def _escalation(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """Broken promises, missed instalments, the unanswered notice, the hand-over threshold
    (and, for an agency hand-over under it, the customer's whole chased amount that passes it)."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    day = lambda column: day_text(c(column), language)  # noqa: E731
    handover = c("step").is_in(HANDOVER_STEPS)
    minimum = policy.escalation.agency_min_amount
    return joined(
        _broken_commitments(as_of, currency, language),
        # a payment received on the invoices handed over: the notice was not unanswered
        pl.when(handover & (c("partly_paid").list.len() > 0)).then(phrase(
            say["notice_not_settled"], date=day("notice_date"), deadline=day("notice_deadline")))
        .when(handover).then(phrase(
            say["notice_unanswered"], date=day("notice_date"), deadline=day("notice_deadline"))),
        pl.when((c("step") == "agency") & (c("handed_count") > 0)).then(phrase(
            say["agency_file"], invoices=counted(c("handed_count"), "invoice", language),
            date=day("handed_since"))),
        pl.when((c("step") == "agency") & (c("handed_count") == 0)
                & (c("covered_amount") < minimum)).then(phrase(
            say["agency_by_total"], handed=money_text(c("covered_amount"), currency, language),
            minimum=money_text(pl.lit(minimum), currency, language),
            total=money_text(c("chased_amount"), currency, language))),
        pl.when(c("step") == "write_off_review").then(phrase(
            say["below_agency"], amount=money_text(pl.lit(minimum), currency, language))),
        pl.when(c("needs_approval")).then(pl.lit(say["needs_approval"])),
    )  # fmt: skip


def _channel_note(policy: Policy, currency: str) -> pl.Expr:
    """Why the channel is what it is: preference, formal step, broken commitment, amount."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    named = lambda column: channel_words(c(column), language)  # noqa: E731
    money = lambda amount: money_text(amount, currency, language)  # noqa: E731
    rules = policy.escalation
    shrunk = pl.when(c("wanted_channel") != c("channel")).then(
        phrase(
            say["too_small"],
            amount=money(c("covered_amount")),
            wanted=named("wanted_channel"),
            minimum=pl.when(c("wanted_channel") == "letter")
            .then(money(pl.lit(rules.letter_min_amount)))
            .otherwise(money(pl.lit(rules.formal_notice_min_amount))),
            channel=named("channel"),
        )
    )
    preferred, channel = named("preferred_channel"), named("channel")
    # a formal channel shrunk for a small amount is told by ``shrunk``: no "but the broken
    # commitment calls for an e-mail" (the e-mail comes from the amount, not the commitment)
    preference = (
        pl.when(c("channel") == c("preferred_channel"))
        .then(phrase(say["prefers"], preferred=preferred))
        .when(c("wanted_channel") != c("channel"))
        .then(pl.lit(None, pl.String))
        .when(c("channel").is_in(list(policy.contact.formal_channels)) & c("step").is_in(CADENCE_STEPS))
        .then(phrase(say["prefers_formal"], preferred=preferred, channel=channel))
        .when(c("escalated") & c("step").is_in(CADENCE_STEPS))
        .then(phrase(say["prefers_escalated"], preferred=preferred, channel=channel))
    )  # fmt: skip
    return joined(shrunk, preference)


def _action_reason(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """Reason of a dunning action (cadence step or hand-over)."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    handover = c("step").is_in(HANDOVER_STEPS)  # the notice is told
    parts = dict(
        days=counted(c("covered_dpd"), "day", language),
        invoices=counted(c("covered_due_count"), "invoice", language),
        amount=money_text(c("covered_due_amount"), currency, language),
    )
    # invoices late by different numbers of days: the range, not the worst for every one
    overdue = pl.when(c("covered_dpd_low") < c("covered_dpd")).then(
        phrase(say["overdue_range"], low=c("covered_dpd_low").cast(pl.String), **parts)
    ).otherwise(phrase(say["overdue"], **parts))
    also = pl.when(c("covered_pre_due_count") > 0).then(
        phrase(
            say["also_pre_due"],
            invoices=counted(c("covered_pre_due_count"), "invoice", language),
            amount=money_text(c("covered_pre_due_amount"), currency, language),
        )
    )
    others = _own_cadence(currency, language)
    strategic = pl.when(c("strategic")).then(pl.lit(say["strategic"]))
    return joined(
        overdue, also, pl.when(~handover).then(c("history")), c("_r_escalation"),
        c("_r_payments"),
        c("_r_segment"), others, c("_r_shelters"), c("_r_channel"), strategic,
    )  # fmt: skip


def _dispute_reasons(language: str) -> pl.Expr:
    """The reasons of the open disputes (``: quality, billing error``; empty when none)."""
    c = pl.col
    if language == "en":
        listed = c("dispute_reasons").str.replace_all("_", " ")
    else:
        named = pl.element().replace(DISPUTE_WORDS[language]).str.replace_all("_", " ")
        listed = c("dispute_reasons").str.split(", ").list.eval(named).list.join(", ")
    return (
        pl.when(c("dispute_reasons") != "")
        .then(phrase(_says(language)["dispute_reasons"], reasons=listed))
        .otherwise(pl.lit(""))
    )


def _other_reasons(policy: Policy, currency: str) -> dict[str, pl.Expr]:
    """Reasons of the non-dunning steps, by step."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    day = lambda column: day_text(c(column), language)  # noqa: E731
    strategic = pl.when(c("strategic")).then(pl.lit(say["strategic"]))
    percent = (c("pre_due_probability") * 100).round(0).cast(pl.Int64)
    return {
        "resolve_dispute": joined(phrase(
            say["dispute"], invoices=counted(c("disputed_count"), "invoice", language),
            date=day("dispute_since"), amount=_disputed_text(currency, language),
            reasons=_dispute_reasons(language)), _own_cadence(currency, language), strategic),
        "pre_due": joined(phrase(
            say["pre_due"], invoices=counted(c("pre_due_count"), "invoice", language),
            amount=money("pre_due_amount"), date=day("pre_due_next"), n=percent,
            percent=percent_text(percent, language)),
            # what keeps the overdue invoices out of this reminder (cash paid, a promise, ...)
            c("history"), c("_r_shelters"), c("_r_segment"), c("_r_channel"), strategic),
        "thank_you": joined(phrase(say["thank_you"], date=day("cleared_date")), c("_r_channel")),
        "small_balance_review": joined(phrase(
            say["small_balance"], amount=money("chased_amount"),
            threshold=money_text(pl.lit(policy.amounts.small_balance), currency, language)),
            c("history"), c("_r_credit")),
    }  # fmt: skip


def _excluded_details(as_of: date, policy: Policy, currency: str) -> dict[str, pl.Expr]:
    """The detail of each exclusion (by exclusion code), with the next step where there is one."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    money = lambda column: money_text(c(column), currency, language)  # noqa: E731
    day = lambda column: day_text(c(column), language)  # noqa: E731
    step = lambda expr: _step_words(expr, language)  # noqa: E731
    channel = channel_words(c("last_outbound_channel"), language)
    then = pl.when(c("next_step") == "hand-over").then(c("handover_kind")).otherwise(c("next_step"))
    # a strategic account's hand-over is announced with its approval, wherever it is announced
    approval = pl.when(c("strategic") & then.is_in(HANDOVER_STEPS)).then(
        pl.lit(say["needs_approval_suffix"])).otherwise(pl.lit(""))  # fmt: skip
    following = pl.when(c("next_step").is_not_null() & c("next_date").is_not_null()).then(
        phrase(say["next"], step=pl.concat_str(step(c("next_step")), approval),
               date=day("next_date"))
    )  # fmt: skip
    last = phrase(say["last_message"], date=day("last_outbound"), channel=channel)
    window = counted(pl.lit(policy.contact.cap_window_days), "day", language)
    messages = counted(c("recent_contacts"), "message", language)
    handed = counted(c("handed_count"), "invoice", language)
    e = pl.element().struct
    kind = words(c("conversation_kind"), CONVERSATION_WORDS, language)
    # broken promises and missed plan instalments: what a held or waiting step is about
    broken = _broken_commitments(as_of, currency, language)
    return {
        "formal notice sent": joined(
            phrase(say["notice_sent"], date=day("last_notice"), deadline=day("customer_deadline"),
                   step=pl.concat_str(step(then), approval)),
            pl.when(c("answered_chased").list.len() > 0).then(_invoice_list(
                "answered_chased", phrase(say["notice_answered"], invoice=e.field("invoice_id")),
                language))),
        # the last message when it came after the step the history tells, and the broken
        # commitments that will speed the next step up
        "waiting for the next step": joined(
            c("history"),
            pl.when(c("last_outbound") > c("history_date").fill_null(date.min)).then(last),
            broken, following),
        "contacted recently": joined(last, broken, following),
        "capped": joined(phrase(say["capped"], messages=messages, n_days=window), last, broken,
                         following),
        "in conversation": joined(
            phrase(say["conversation"], kind=kind, date=day("last_conversation")),
            # the approval told once: with the next step's date when there is one
            phrase(say["held"], step=pl.concat_str(step(c("next_step")), pl.when(
                following.is_null()).then(approval).otherwise(pl.lit("")))), broken,
            following),
        "same message sent": joined(
            phrase(say["same_message"], step=step(c("next_step")), channel=channel,
                   date=day("same_message_on")), following),
        "next contact planned": joined(
            phrase(say["follow_up"], collector=c("follow_up_by"), date=day("follow_up_date")),
            following),
        "promise pending": phrase(say["promise_pending"],
                                  pending=pending_promises(currency, language),
                                  promised=money("promised_amount")),
        "plan on track": joined(pl.lit(say["plan_on_track"]),
                                phrase(say["next_instalment"], date=day("next_instalment"))),
        "unapplied cash to reconcile": joined(
            phrase(say["cash_covers"], cash=money("unapplied_cash"), amount=money("cash_amount")),
            _cash_matched(language)),
        # the unapplied cash beside these is told once, with the shelters (_excluded_reason)
        "customer credit to offset": phrase(
            say["credit_covers"], credit=money("customer_credit"),
            amount=money("credit_amount"), sources=_credit_sources(language)),
        "handed over": phrase(say["handed_over"], invoices=handed, date=day("handed_since")),
        "not yet due and no risk": phrase(say["not_due"], amount=money("open_amount"),
                                          date=day("next_due")),
    }  # fmt: skip


def _excluded_reason(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """``<exclusion>: <detail>`` with the date of the next step where there is one."""
    c = pl.col
    language = policy.team.language
    say = _says(language)
    text = pl.lit(None, pl.String)
    for exclusion, detail in _excluded_details(as_of, policy, currency).items():
        label = EXCLUSION_WORDS[language].get(exclusion, exclusion)
        text = (
            pl.when(c("exclusion") == exclusion)
            .then(phrase(say["exclusion"], exclusion=pl.lit(label), detail=detail))
            .otherwise(text)
        )
    shelters = c("_r_shelters")
    own = c("exclusion").is_in(
        ["promise pending", "plan on track", "unapplied cash to reconcile",
         "customer credit to offset"]
    )  # fmt: skip
    # a promise, a plan, credit or unapplied cash told as the exclusion: the customer's credit
    # and its unapplied cash are still told (cash paid before a promise may be the promised
    # payment, not yet matched: the collector reconciles it before the promise falls due)
    also = joined(
        pl.when(c("exclusion") != "customer credit to offset").then(c("_r_credit")),
        pl.when(c("exclusion") != "unapplied cash to reconcile").then(_cash(currency, language)),
    )
    return (
        pl.when(shelters.is_not_null() & ~own)
        .then(phrase(say["with_shelters"], reason=text, shelters=shelters))
        .when(own & also.is_not_null())
        .then(phrase(say["with_shelters"], reason=text, shelters=also))
        .otherwise(text)
    )


PARTS = ("_r_escalation", "_r_payments", "_r_segment", "_r_credit", "_r_shelters", "_r_channel")
"""Intermediate columns of :func:`with_reason` (computed once, then referenced)."""


def with_reason(frame: pl.LazyFrame, as_of: date, policy: Policy, currency: str) -> pl.LazyFrame:
    """``frame`` (recommendation facts) with ``reason``: the reason of each row (action,
    thank-you or exclusion). The parts shared by several kinds of rows are computed first as
    columns, so that the expression stays small."""
    c = pl.col
    parts = frame.with_columns(
        _r_escalation=_escalation(as_of, policy, currency),
        _r_payments=_payments(policy, currency),
        _r_segment=_segment(policy.team.language),
        _r_credit=_credit(currency, policy.team.language),
        _r_shelters=_shelters(currency, policy.team.language),
        _r_channel=_channel_note(policy, currency),
    )
    others = _other_reasons(policy, currency)
    staged = parts.with_columns(
        _r_action=_action_reason(as_of, policy, currency),
        _r_excluded=_excluded_reason(as_of, policy, currency),
        **{f"_r_{step}": reason for step, reason in others.items()},
    )
    text = c("_r_action")
    for step in others:
        text = pl.when(c("step") == step).then(c(f"_r_{step}")).otherwise(text)
    text = pl.when(c("status") == "excluded").then(c("_r_excluded")).otherwise(text)
    temporary = [*PARTS, "_r_action", "_r_excluded", *(f"_r_{step}" for step in others)]
    return staged.with_columns(reason=text).drop(temporary)
