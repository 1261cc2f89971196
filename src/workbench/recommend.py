"""The next action per customer (DESIGN sections 2 and 6), as of a date.

One consolidated action per customer covering its open invoices, or the reason it is left alone.
Everything is vectorized polars driven by the policy (``[cadence]``, ``[contact]``,
``[escalation]``, ``[channels.*]``); there is no Python loop over customers.

**Invoices the cadence does not chase** (paused): an invoice with an open dispute (DESIGN 2.5);
an invoice handed over to an agency or legal (an ``agency``/``legal`` contact on it, or on the
customer while it was overdue); an invoice covered by a pending promise (DESIGN 2.6: a promise
made on the invoice pauses it; a promise without an invoice covers the customer's overdue
invoices oldest first, each while the promised amount covers it in full). The other overdue
open invoices are *chased*.

**Decision**, checked in this order for each customer with an open balance (the first that
holds wins; ``excluded`` rows name their reason):

1. unapplied cash above the tolerance: excluded ``unapplied cash to reconcile`` (DESIGN 2.1);
2. payments of the last ``contact.recent_payment_days`` cover the chased amount: excluded
   ``paid`` (DESIGN 2.1);
3. an active payment plan with no missed instalment: excluded ``plan on track`` (DESIGN 2.7);
4. chased invoices: the cadence step of the most overdue one (DESIGN 2.3), its days past due
   shifted by ``cadence.delay_days`` of the customer's segment (DESIGN 2.8), at least
   ``escalation.broken_promise_min_step`` after a promise broken (or a plan instalment missed)
   within ``escalation.broken_promise_days``. At the formal-notice step, a registered letter
   already sent and left without payment sends the customer to hand-over once
   ``escalation.formal_notice_wait_days`` have passed (``legal`` from ``legal_min_amount`` of
   chased amount, ``agency`` from ``agency_min_amount``, else ``write_off_review``), and until
   then excludes it (``formal notice sent``);
5. open disputes and nothing to chase: ``resolve_dispute``, routed to the owner (DESIGN 2.4-2.5);
6. overdue invoices all covered by pending promises: excluded ``promise pending``;
7. overdue invoices all handed over: excluded ``handed over``;
8. an invoice due within ``cadence.pre_due_days`` whose probability of still being open at the
   horizon reaches ``cadence.pre_due_min_probability``: ``pre_due`` reminder (DESIGN 2.2);
9. otherwise excluded ``not yet due and no risk``.

Then a customer-facing action (email, sms, phone, letter, registered letter) for a customer
already contacted ``contact.max_per_week`` times in the last ``contact.cap_window_days`` is
excluded ``capped`` (DESIGN 2.10). A customer with no open balance whose last overdue invoice
was settled in the last ``cadence.thank_you_days`` gets a ``thank_you`` (DESIGN 2.12), unless
capped: these rows are extra, flagged by their status.

**Channel and tone**: ``[channels.<segment>]`` of the step (else ``[channels.default]``); the
customer's preferred channel unless the step's channel is formal or ``none`` (DESIGN 2.9);
after a broken promise, ``escalation.broken_promise_channel`` and one tone firmer (DESIGN 2.6);
for a strategic customer, amicable steps no firmer than ``escalation.strategic_max_tone`` and
the account owner in the loop (DESIGN 2.8). Hand-over goes by ``agency`` or ``legal`` (formal),
a write-off review is internal (``none``).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import (
    cents,
    days_between,
    invoice_balances,
    money_sum,
    reporting_balances,
    reporting_currency,
    within_days,
)
from workbench.features import customer_features
from workbench.policy import DEFAULT_POLICY, MESSAGE_STEPS, SEGMENTS, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status
from workbench.schema import TONES
from workbench.segments import behaviour_segment, invoice_probabilities

CADENCE_STEPS = (
    "light_reminder", "personal_contact", "solution_offer", "last_notice", "formal_notice",
)  # fmt: skip
"""The steps after the due date, in order (DESIGN 2.3)."""

HANDOVER_STEPS = ("agency", "legal", "write_off_review")
"""What follows an unanswered formal notice."""

ACTIONS = {
    "pre_due": "preventive reminder",
    "light_reminder": "light reminder",
    "personal_contact": "personal contact",
    "solution_offer": "offer a payment plan or a new date",
    "last_notice": "last amicable notice",
    "formal_notice": "formal notice",
    "agency": "hand over to a collection agency",
    "legal": "start legal proceedings (injunction to pay)",
    "write_off_review": "propose a write-off review",
    "resolve_dispute": "resolve dispute",
    "thank_you": "thank you",
}
"""The action (words a collector reads) of each step."""

EXCLUSIONS = (
    "unapplied cash to reconcile", "paid", "plan on track", "formal notice sent",
    "promise pending", "handed over", "not yet due and no risk", "capped",
)  # fmt: skip
"""Why a customer with an open balance gets no action (the ``exclusion`` column)."""

CUSTOMER_FACING = ("email", "sms", "phone", "letter", "registered_letter")
"""Channels that contact the customer (and count towards the contact cap)."""

STATUSES = ("action", "thank_you", "excluded")

CHANNEL_WORDS = {"registered_letter": "registered letter"}

_INVOICE = ("invoice_id", "due_date", "days_past_due", "amount", "open_balance", "currency")
"""Fields of each element of the invoice lists (invoice currency)."""


# --- small expressions -------------------------------------------------------------------------


def money_text(amount: pl.Expr, currency: pl.Expr | str | None = None) -> pl.Expr:
    """``amount`` (currency) as text with thousands separators and cents: ``1,234.56 EUR``."""
    amount_cents = cents(amount)
    units = (
        (amount_cents.abs() // 100)
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "${1},")
        .str.strip_chars_end(",")
        .str.reverse()
    )
    text = pl.concat_str(
        pl.when(amount_cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        units,
        pl.lit("."),
        (amount_cents.abs() % 100).cast(pl.String).str.zfill(2),
    )
    if currency is None:
        return text
    currency = pl.lit(currency) if isinstance(currency, str) else currency
    return pl.concat_str(text, pl.lit(" "), currency)


def counted(n: pl.Expr, word: str, plural: str | None = None) -> pl.Expr:
    """``"1 invoice"``, ``"3 invoices"``."""
    many = plural or f"{word}s"
    return pl.format("{} {}", n, pl.when(n == 1).then(pl.lit(word)).otherwise(pl.lit(many)))


def _month(day: pl.Expr, as_of: date) -> pl.Expr:
    """``June`` (same year as as_of) or ``June 2025``."""
    return (
        pl.when(day.dt.year() == as_of.year)
        .then(day.dt.strftime("%B"))
        .otherwise(day.dt.strftime("%B %Y"))
    )


def _words(channel: pl.Expr) -> pl.Expr:
    return channel.replace(CHANNEL_WORDS)


def _tone_rank(tone: pl.Expr) -> pl.Expr:
    return tone.replace_strict({t: i for i, t in enumerate(TONES)}, return_dtype=pl.Int64)


def _tone_of(rank: pl.Expr) -> pl.Expr:
    return rank.replace_strict(dict(enumerate(TONES)), return_dtype=pl.String)


# --- invoice level -----------------------------------------------------------------------------


def _handed_over(portfolio: Portfolio, as_of: date, balances: pl.LazyFrame) -> pl.LazyFrame:
    """invoice_id, handed_date: the first agency or legal contact on the invoice, or on its
    customer (contact without invoice) after its due date, dated <= as_of."""
    handovers = portfolio.contacts.filter(
        pl.col("contact_date") <= as_of, pl.col("channel").is_in(["agency", "legal"])
    )
    on_invoice = (
        handovers.filter(pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(handed_date=pl.col("contact_date").min())
    )
    on_customer = (
        balances.select("invoice_id", "customer_id", "due_date")
        .join(
            handovers.filter(pl.col("invoice_id").is_null()).select("customer_id", "contact_date"),
            on="customer_id",
        )
        .filter(pl.col("contact_date") > pl.col("due_date"))
        .group_by("invoice_id")
        .agg(handed_date=pl.col("contact_date").min())
    )
    return (
        pl.concat([on_invoice, on_customer])
        .group_by("invoice_id")
        .agg(pl.col("handed_date").min())
    )


def invoice_states(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
    features: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every invoice issued on or before ``as_of`` with what the recommendation needs.

    Columns of :func:`workbench.balances.invoice_balances` (invoice currency) plus:
    open_reporting (open balance in the reporting currency, 0 when closed); dispute_reason,
    dispute_opened (open dispute); handed_date; promised (covered by a pending promise, see the
    module docstring); probability (0-1, still open at the horizon; model score when ``scores``
    has the invoice, else the fallback) and probability_source; chased (open, overdue, not
    disputed, handed over nor promised). Sorted by customer_id, due_date, invoice_id.
    """
    tolerance_cents = round(policy.amounts.open_tolerance * 100)
    if features is None:
        features = customer_features(portfolio, as_of, policy).collect()
    balances = invoice_balances(portfolio, as_of, policy).collect()
    if balances["currency"].n_unique() > 1:
        reporting = reporting_balances(portfolio, as_of, policy).select(
            "invoice_id", reporting_open="open_balance"
        )
        balances = balances.join(reporting.collect(), on="invoice_id", how="left")
    else:
        balances = balances.with_columns(reporting_open=pl.col("open_balance"))
    lazy = balances.lazy()
    disputes = (
        portfolio.disputes.filter(
            pl.col("opened_date") <= as_of,
            pl.col("resolved_date").is_null() | (pl.col("resolved_date") > as_of),
        )
        .sort("opened_date", "dispute_id")
        .group_by("invoice_id")
        .agg(
            dispute_reason=pl.col("reason").drop_nulls().first(),
            dispute_opened=pl.col("opened_date").min(),
        )
    )
    promises = promise_status(portfolio, as_of, policy).filter(pl.col("status") == "pending")
    linked = promises.filter(pl.col("invoice_id").is_not_null()).group_by("invoice_id").agg(
        linked_promise=pl.lit(True)
    )
    unlinked = (
        promises.filter(pl.col("invoice_id").is_null())
        .group_by("customer_id")
        .agg(unlinked_cents=cents(pl.col("amount")).sum())
    )
    c = pl.col
    frame = (
        lazy.join(disputes, on="invoice_id", how="left")
        .join(_handed_over(portfolio, as_of, lazy), on="invoice_id", how="left")
        .join(linked, on="invoice_id", how="left")
        .join(unlinked, on="customer_id", how="left")
        .with_columns(
            disputed=c("disputed").fill_null(False),
            open_reporting=pl.when(c("is_open")).then(c("reporting_open")).otherwise(0.0),
        )
        .with_columns(
            candidate=c("is_open")
            & (c("days_past_due") > 0)
            & ~c("disputed")
            & c("handed_date").is_null()
            & c("linked_promise").is_null()
        )
        .with_columns(
            covered_cents=pl.when(c("candidate"))
            .then(cents(c("open_reporting")))
            .otherwise(0)
            .cum_sum()
            .over("customer_id", order_by=["due_date", "invoice_id"])
        )
        .with_columns(
            promised=c("is_open")
            & (
                c("linked_promise").fill_null(False)
                | (
                    c("candidate")
                    & (c("covered_cents") <= c("unlinked_cents").fill_null(0) + tolerance_cents)
                    & c("unlinked_cents").is_not_null()
                )
            )
        )
        .with_columns(chased=c("candidate") & ~c("promised"))
        .drop("candidate", "covered_cents", "linked_promise", "unlinked_cents", "reporting_open")
    )
    return (
        invoice_probabilities(frame, features.lazy(), policy, scores)
        .with_columns(probability=pl.when(c("is_open")).then(c("probability")))
        .sort("customer_id", "due_date", "invoice_id")
        .collect()
    )


# --- customer level ----------------------------------------------------------------------------


def _invoice_facts(invoices: pl.DataFrame, as_of: date, policy: Policy) -> pl.DataFrame:
    """Per customer (one group_by over its invoices, sorted by due date)."""
    c = pl.col
    is_open, dpd = c("is_open"), c("days_past_due")
    paused = c("disputed") | c("handed_date").is_not_null() | c("promised")
    pre_due = (
        is_open
        & dpd.is_between(-policy.cadence.pre_due_days, 0)
        & ~paused
        & (c("probability") >= policy.cadence.pre_due_min_probability)
    )
    disputed = is_open & c("disputed")
    cleared = c("settlement_date").is_not_null() & (c("days_late") > 0) & within_days(
        c("settlement_date"), as_of, policy.cadence.thank_you_days
    )
    detail = pl.struct(*_INVOICE)
    return invoices.group_by("customer_id").agg(
        open_invoices=is_open.sum(),
        open_amount=money_sum(c("open_reporting")),
        overdue_amount=money_sum(c("open_reporting").filter(is_open & (dpd > 0))),
        oldest_dpd=dpd.filter(is_open).max(),
        amount_at_risk=money_sum(c("open_reporting") * c("probability").fill_null(0.0)),
        chased_count=c("chased").sum(),
        chased_dpd=dpd.filter(c("chased")).max(),
        chased_amount=money_sum(c("open_reporting").filter(c("chased"))),
        chased_invoices=detail.filter(c("chased")),
        disputed_count=disputed.sum(),
        disputed_amount=money_sum(c("open_reporting").filter(disputed)),
        disputed_invoices=detail.filter(disputed),
        dispute_reasons=c("dispute_reason").filter(disputed).drop_nulls().unique(maintain_order=True).str.join(", "),
        dispute_since=c("dispute_opened").filter(disputed).min(),
        promised_count=(is_open & c("promised")).sum(),
        overdue_count=(is_open & (dpd > 0)).sum(),
        handed_count=(is_open & c("handed_date").is_not_null()).sum(),
        handed_since=c("handed_date").filter(is_open).min(),
        pre_due_count=pre_due.sum(),
        pre_due_amount=money_sum(c("open_reporting").filter(pre_due)),
        pre_due_next=c("due_date").filter(pre_due).min(),
        pre_due_probability=c("probability").filter(pre_due).max(),
        pre_due_invoices=detail.filter(pre_due),
        next_due=c("due_date").filter(is_open & (dpd <= 0)).min(),
        all_open_invoices=detail.filter(is_open),
        cleared_date=c("settlement_date").filter(cleared).max(),
        cleared_invoices=detail.filter(cleared),
    )  # fmt: skip


def _contact_facts(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: contacts in the cap window, last contact (date, channel, outcome), last
    registered letter (formal notice)."""
    c = pl.col
    return (
        portfolio.contacts.filter(c("contact_date") <= as_of)
        .sort("contact_date", "contact_id")
        .group_by("customer_id")
        .agg(
            recent_contacts=within_days(c("contact_date"), as_of, policy.contact.cap_window_days)
            .sum()
            .cast(pl.Int64),
            last_contact=c("contact_date").last(),
            last_channel=c("channel").last(),
            last_outcome=c("outcome").last(),
            notice_date=c("contact_date").filter(c("channel") == "registered_letter").max(),
        )
    )


def _payment_facts(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: payments of the last contact.recent_payment_days (currency), last payment."""
    c = pl.col
    recent = within_days(c("payment_date"), as_of, policy.contact.recent_payment_days)
    return (
        portfolio.payments.filter(c("payment_date") <= as_of)
        .group_by("customer_id")
        .agg(
            recent_paid=money_sum(c("amount").filter(recent)),
            last_payment=c("payment_date").max(),
        )
    )


def _promise_facts(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: promises broken within escalation.broken_promise_days (count, first
    promised date), pending promises (amount, latest date), the latest promise."""
    c = pl.col
    since = as_of - timedelta(days=policy.escalation.broken_promise_days)
    broken = (c("status") == "broken") & (c("deadline") >= since)
    pending = c("status") == "pending"
    return (
        promise_status(portfolio, as_of, policy)
        .sort("promise_date", "promise_id")
        .group_by("customer_id")
        .agg(
            broken_recent=broken.sum().cast(pl.Int64),
            broken_since=c("promised_date").filter(broken).min(),
            pending_amount=money_sum(c("amount").filter(pending)),
            pending_date=c("promised_date").filter(pending).max(),
            promise_amount=c("amount").last(),
            promise_date=c("promised_date").last(),
            promise_status=c("status").last(),
        )
    )


def _segment_delay(policy: Policy) -> pl.Expr:
    delays = {s: getattr(policy.cadence.delay_days, s) for s in SEGMENTS}
    return pl.col("segment").replace_strict(delays, return_dtype=pl.Int64)


def _cadence_step(policy: Policy) -> pl.Expr:
    """The cadence step of the chased invoices: their max dpd shifted by the segment's delay,
    at least the light reminder; at least broken_promise_min_step when escalated."""
    bounds = policy.cadence.step_bounds
    effective = pl.col("chased_dpd") - _segment_delay(policy)
    index = pl.lit(0, pl.Int64)
    for i, step in enumerate(CADENCE_STEPS):
        if i:
            index = pl.when(effective >= bounds[step]).then(pl.lit(i, pl.Int64)).otherwise(index)
    floor = CADENCE_STEPS.index(policy.escalation.broken_promise_min_step)
    index = pl.when(pl.col("escalated")).then(pl.max_horizontal(index, floor)).otherwise(index)
    return index.replace_strict(dict(enumerate(CADENCE_STEPS)), return_dtype=pl.String)


def _style(policy: Policy, part: int) -> pl.Expr:
    """Channel (part 0) or tone (part 1) of (segment, step) from the ``[channels.*]`` tables;
    null for the steps the tables do not cover (hand-over)."""
    mapping = {
        f"{segment}|{step}": policy.channels.style(segment, step)[part]
        for segment in SEGMENTS
        for step in MESSAGE_STEPS
    }
    key = pl.concat_str(pl.col("segment"), pl.lit("|"), pl.col("step"))
    return key.replace_strict(mapping, default=None, return_dtype=pl.String)


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
    :func:`workbench.segments.fallback_probability`. The decision rules are in the module
    docstring. One row per customer, sorted by customer_id, with:

    - identity: customer_id, customer_name, contact_name, phone, email, country,
      preferred_channel, collector ("unassigned" when null), strategic, segment;
    - status: ``action``, ``thank_you`` or ``excluded``; step (code, null when excluded), action
      (:data:`ACTIONS`), channel, tone; exclusion (:data:`EXCLUSIONS`, null unless excluded);
      reason (plain words a collector can say);
    - money in the reporting currency (``currency``): open_amount, overdue_amount, chased_amount,
      amount_at_risk (sum of open balance x probability), probability (amount_at_risk /
      open_amount, 0-1); oldest_dpd (days);
    - invoices: the invoices the row is about (list of struct invoice_id, due_date,
      days_past_due, amount, open_balance, currency, in the invoice currency);
    - facts for the message: disputed_invoices, promise (text of the latest promise),
      promise_amount, promise_date, promise_status, pending_amount, pending_date,
      broken_recent, last_contact, last_channel, last_outcome, notice_date, cleared_date;
    - flags: unapplied_cash (currency), escalated, capped.
    """
    tolerance = policy.amounts.open_tolerance
    currency = reporting_currency(portfolio, as_of) or ""
    features = customer_features(portfolio, as_of, policy).collect()
    invoices = invoice_states(portfolio, as_of, policy, scores, features)
    facts = _invoice_facts(invoices, as_of, policy).lazy()
    customers = portfolio.customers.select(
        "customer_id",
        customer_name="name",
        contact_name="contact_name",
        phone="phone",
        email="email",
        country="country",
        preferred_channel="preferred_channel",
        collector=pl.col("collector").fill_null("unassigned"),
        strategic=pl.col("strategic").fill_null(False),
    )
    behaviour = features.lazy().select(
        "customer_id",
        "unapplied_cash",
        "on_active_plan",
        "plan_instalments_missed",
        "mean_days_late",
        "days_late_trend",
        segment=behaviour_segment(policy),
    )
    c = pl.col
    frame = (
        facts.filter((c("open_invoices") > 0) | c("cleared_date").is_not_null())
        .join(customers, on="customer_id", how="left")
        .join(behaviour, on="customer_id", how="left")
        .join(_contact_facts(portfolio, as_of, policy), on="customer_id", how="left")
        .join(_payment_facts(portfolio, as_of, policy), on="customer_id", how="left")
        .join(_promise_facts(portfolio, as_of, policy), on="customer_id", how="left")
        .with_columns(
            c("recent_contacts", "broken_recent", "plan_instalments_missed").fill_null(0),
            c("recent_paid", "unapplied_cash", "pending_amount").fill_null(0.0),
            c("on_active_plan").fill_null(False),
            segment=c("segment").fill_null("new"),
        )
        .with_columns(
            escalated=(c("broken_recent") > 0) | (c("plan_instalments_missed") > 0),
            probability=pl.when(c("open_amount") > 0).then(
                (c("amount_at_risk") / c("open_amount")).round(4)
            ),
        )
    )
    frame = _decide(frame, as_of, policy, tolerance)
    frame = _channel_and_tone(frame, policy)
    frame = _cap(frame, policy).with_columns(
        reason=_reason(as_of, policy, currency),
        action=c("step").replace_strict(ACTIONS, default=None, return_dtype=pl.String),
        invoices=pl.when(c("step") == "pre_due")
        .then(c("pre_due_invoices"))
        .when(c("step") == "resolve_dispute")
        .then(c("disputed_invoices"))
        .when(c("step") == "thank_you")
        .then(c("cleared_invoices"))
        .when(c("status") == "action")
        .then(c("chased_invoices"))
        .otherwise(c("all_open_invoices")),
        promise=pl.when(c("promise_amount").is_not_null()).then(
            pl.format(
                "{} by {} ({})",
                money_text(c("promise_amount"), currency),
                c("promise_date"),
                c("promise_status"),
            )
        ),
        currency=pl.lit(currency),
    )
    return (
        frame.with_columns(
            action=pl.when(c("strategic") & (c("status") != "excluded"))
            .then(pl.concat_str(c("action"), pl.lit(" (account owner in the loop)")))
            .otherwise(c("action"))
        )
        .select(RECOMMENDATION_COLUMNS)
        .sort("customer_id")
        .collect()
    )


RECOMMENDATION_COLUMNS = (
    "customer_id", "customer_name", "contact_name", "phone", "email", "country",
    "preferred_channel", "collector", "strategic", "segment", "status", "step", "action",
    "channel", "tone", "exclusion", "reason", "currency", "open_amount", "overdue_amount",
    "chased_amount", "amount_at_risk", "probability", "oldest_dpd", "invoices",
    "disputed_invoices", "promise", "promise_amount", "promise_date", "promise_status",
    "pending_amount", "pending_date", "broken_recent", "last_contact", "last_channel",
    "last_outcome", "notice_date", "cleared_date", "unapplied_cash", "escalated", "capped",
)  # fmt: skip
"""The columns of :func:`recommendations`, in order."""


def _decide(frame: pl.LazyFrame, as_of: date, policy: Policy, tolerance: float) -> pl.LazyFrame:
    """status, step (before the cap) and exclusion, by the order of the module docstring."""
    c = pl.col
    rules = policy.escalation
    chased = c("chased_count") > 0
    notice_pending = (
        c("notice_date").is_not_null()
        & (c("last_payment").is_null() | (c("last_payment") < c("notice_date")))
    )
    waited = days_between(as_of, c("notice_date")) >= rules.formal_notice_wait_days
    handover = (
        pl.when(c("chased_amount") >= rules.legal_min_amount)
        .then(pl.lit("legal"))
        .when(c("chased_amount") >= rules.agency_min_amount)
        .then(pl.lit("agency"))
        .otherwise(pl.lit("write_off_review"))
    )
    frame = frame.with_columns(
        cadence_step=pl.when(chased).then(_cadence_step(policy)),
        thank_you=(c("open_invoices") == 0) & c("cleared_date").is_not_null(),
    ).with_columns(notice_pending=(c("cadence_step") == "formal_notice") & notice_pending)
    exclusion = (
        pl.when(c("thank_you"))
        .then(pl.lit(None, pl.String))
        .when(c("unapplied_cash") > tolerance)
        .then(pl.lit("unapplied cash to reconcile"))
        .when(chased & (c("recent_paid") >= c("chased_amount") - tolerance))
        .then(pl.lit("paid"))
        .when(c("on_active_plan") & (c("plan_instalments_missed") == 0))
        .then(pl.lit("plan on track"))
        .when(chased & c("notice_pending") & ~waited)
        .then(pl.lit("formal notice sent"))
        .when(chased)
        .then(pl.lit(None, pl.String))
        .when(c("disputed_count") > 0)
        .then(pl.lit(None, pl.String))
        .when((c("overdue_count") > 0) & (c("promised_count") > 0) & (c("handed_count") == 0))
        .then(pl.lit("promise pending"))
        .when(c("overdue_count") > 0)
        .then(pl.lit("handed over"))
        .when(c("pre_due_count") > 0)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit("not yet due and no risk"))
    )
    step = (
        pl.when(c("thank_you"))
        .then(pl.lit("thank_you"))
        .when(c("exclusion").is_not_null())
        .then(pl.lit(None, pl.String))
        .when(chased & c("notice_pending"))
        .then(handover)
        .when(chased)
        .then(c("cadence_step"))
        .when(c("disputed_count") > 0)
        .then(pl.lit("resolve_dispute"))
        .otherwise(pl.lit("pre_due"))
    )
    return (
        frame.with_columns(exclusion=exclusion)
        .with_columns(step=step)
        .with_columns(
            status=pl.when(c("thank_you"))
            .then(pl.lit("thank_you"))
            .when(c("step").is_null())
            .then(pl.lit("excluded"))
            .otherwise(pl.lit("action"))
        )
    )


def _channel_and_tone(frame: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """channel, tone of the step; preference, escalation and strategic adjustments."""
    c = pl.col
    formal = list(policy.contact.formal_channels)
    rules = policy.escalation
    frame = frame.with_columns(
        base_channel=pl.when(c("step") == "agency")
        .then(pl.lit("agency"))
        .when(c("step") == "legal")
        .then(pl.lit("legal"))
        .when(c("step") == "write_off_review")
        .then(pl.lit("none"))
        .otherwise(_style(policy, 0)),
        tone=pl.when(c("step").is_in(["agency", "legal"]))
        .then(pl.lit("formal"))
        .when(c("step") == "write_off_review")
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
    tone_rank = _tone_rank(c("tone"))
    firmer = pl.when(escalate & (tone_rank < TONES.index("firm"))).then(tone_rank + 1)
    capped_rank = TONES.index(rules.strategic_max_tone)
    return frame.with_columns(
        channel=pl.when(escalate)
        .then(pl.lit(rules.broken_promise_channel))
        .when(prefer)
        .then(c("preferred_channel"))
        .otherwise(c("base_channel")),
        tone=pl.when(c("strategic") & amicable)
        .then(_tone_of(pl.min_horizontal(firmer.otherwise(tone_rank), capped_rank)))
        .otherwise(_tone_of(firmer.otherwise(tone_rank))),
    )


def _cap(frame: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Customer-facing actions of a customer contacted max_per_week times in the cap window
    are excluded ``capped`` (thank-you rows are dropped)."""
    c = pl.col
    capped = (
        c("status").is_in(["action", "thank_you"])
        & c("channel").is_in(CUSTOMER_FACING)
        & (c("recent_contacts") >= policy.contact.max_per_week)
    )
    return (
        frame.with_columns(capped=capped.fill_null(False))
        .filter(~(c("capped") & (c("status") == "thank_you")))
        .with_columns(
            status=pl.when(c("capped")).then(pl.lit("excluded")).otherwise(c("status")),
            exclusion=pl.when(c("capped")).then(pl.lit("capped")).otherwise(c("exclusion")),
            capped_step=pl.when(c("capped")).then(c("step")),
        )
        .with_columns(
            step=pl.when(c("capped")).then(pl.lit(None, pl.String)).otherwise(c("step")),
            channel=pl.when(c("capped")).then(pl.lit(None, pl.String)).otherwise(c("channel")),
            tone=pl.when(c("capped")).then(pl.lit(None, pl.String)).otherwise(c("tone")),
        )
    )


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


def _reason(as_of: date, policy: Policy, currency: str) -> pl.Expr:
    """The reason of each row, in plain words from its facts."""
    c = pl.col
    money = lambda column: money_text(c(column), currency)  # noqa: E731
    dpd = c("chased_dpd")
    segment = c("segment").replace_strict(SEGMENT_WORDS, return_dtype=pl.String)
    segment = (
        pl.when(c("segment") == "chronic_late")
        .then(pl.format("{} (on average {} days late)", segment, c("mean_days_late").round(0).cast(pl.Int64)))
        .when((c("segment") == "deteriorating") & c("days_late_trend").is_not_null())
        .then(pl.format("{} (+{} days late)", segment, c("days_late_trend").round(0).cast(pl.Int64)))
        .otherwise(segment)
    )  # fmt: skip
    overdue = pl.format(
        "{} past due on {} ({})",
        counted(dpd, "day"),
        counted(c("chased_count"), "invoice"),
        money("chased_amount"),
    )
    broken = pl.when(c("broken_recent") > 0).then(
        pl.format(
            "{} broken since {}",
            counted(c("broken_recent"), "promise"),
            _month(c("broken_since"), as_of),
        )
    )
    missed = pl.when(c("plan_instalments_missed") > 0).then(
        pl.format("{} of the payment plan missed", counted(c("plan_instalments_missed"), "instalment"))
    )
    disputed = pl.when(c("disputed_count") > 0).then(
        pl.format(
            "{} disputed ({}): dunning paused, dispute routed to its owner",
            counted(c("disputed_count"), "invoice"),
            money("disputed_amount"),
        )
    )
    promised = pl.when(c("pending_amount") > 0).then(
        pl.format("promise of {} by {} pending", money("pending_amount"), c("pending_date"))
    )
    notice = pl.when(c("step").is_in(HANDOVER_STEPS)).then(
        pl.format(
            "formal notice of {} unanswered after {}",
            c("notice_date"),
            counted(days_between(as_of, c("notice_date")), "day"),
        )
    )
    write_off = pl.when(c("step") == "write_off_review").then(
        pl.format(
            "below the {} threshold for an agency",
            money_text(pl.lit(policy.escalation.agency_min_amount), currency),
        )
    )
    preferred = _words(c("preferred_channel"))
    preference = (
        pl.when(c("channel") == c("preferred_channel"))
        .then(pl.format("prefers {}", preferred))
        .when(c("channel").is_in(list(policy.contact.formal_channels)) & c("step").is_in(CADENCE_STEPS))
        .then(pl.format("prefers {} but this step needs a {}", preferred, _words(c("channel"))))
        .when(c("escalated") & c("step").is_in(CADENCE_STEPS))
        .then(pl.format("prefers {} but the broken commitment calls for a {}", preferred, _words(c("channel"))))
    )  # fmt: skip
    strategic = pl.when(c("strategic")).then(pl.lit("strategic account: account owner in the loop"))

    def joined(*parts: pl.Expr) -> pl.Expr:
        return pl.concat_str(*parts, separator=", ", ignore_nulls=True)

    cadence = joined(overdue, broken, missed, notice, write_off, segment, disputed, promised,
                     preference, strategic)  # fmt: skip
    dispute = joined(
        pl.format(
            "{} disputed since {} ({}{}): dunning paused, route to the owner to resolve",
            counted(c("disputed_count"), "invoice"),
            c("dispute_since"),
            money("disputed_amount"),
            pl.when(c("dispute_reasons") != "")
            .then(pl.format(": {}", c("dispute_reasons").str.replace_all("_", " ")))
            .otherwise(pl.lit("")),
        ),
        strategic,
    )
    pre_due = joined(
        pl.format(
            "{} ({}) due on {}, {}% risk of still being unpaid in 30 days",
            counted(c("pre_due_count"), "invoice"),
            money("pre_due_amount"),
            c("pre_due_next"),
            (c("pre_due_probability") * 100).round(0).cast(pl.Int64),
        ),
        segment,
        preference,
        strategic,
    )
    thank_you = joined(
        pl.format("overdue balance cleared on {}: thank the customer", c("cleared_date")),
        preference,
    )
    capped_step = c("capped_step").replace_strict(ACTIONS, default=None, return_dtype=pl.String)
    wait = timedelta(days=policy.escalation.formal_notice_wait_days)
    details = {
        "unapplied cash to reconcile": pl.format(
            "{} received without an invoice, do not chase", money("unapplied_cash")
        ),
        "paid": pl.format(
            "{} received in the last {} covers the {} overdue",
            money("recent_paid"),
            counted(pl.lit(policy.contact.recent_payment_days), "day"),
            money("chased_amount"),
        ),
        "plan on track": pl.lit("payment plan instalments paid as agreed"),
        "formal notice sent": pl.format(
            "registered letter of {}, answer awaited until {}",
            c("notice_date"),
            c("notice_date") + wait,
        ),
        "promise pending": pl.format(
            "{} promised by {}", money("pending_amount"), c("pending_date")
        ),
        "handed over": pl.format(
            "{} with the agency or legal since {}",
            counted(c("handed_count"), "invoice"),
            c("handed_since"),
        ),
        "not yet due and no risk": pl.format(
            "{} due from {}", money("open_amount"), c("next_due")
        ),
        "capped": pl.format(
            "{} in the last {} (last on {} by {}); next: {}",
            counted(c("recent_contacts"), "contact"),
            counted(pl.lit(policy.contact.cap_window_days), "day"),
            c("last_contact"),
            _words(c("last_channel")),
            capped_step,
        ),
    }
    assert set(details) == set(EXCLUSIONS)
    excluded = pl.lit(None, pl.String)
    for exclusion, detail in details.items():
        excluded = (
            pl.when(c("exclusion") == exclusion)
            .then(pl.format("{}: {}", pl.lit(exclusion), detail))
            .otherwise(excluded)
        )
    return (
        pl.when(c("status") == "excluded")
        .then(excluded)
        .when(c("step") == "thank_you")
        .then(thank_you)
        .when(c("step") == "resolve_dispute")
        .then(dispute)
        .when(c("step") == "pre_due")
        .then(pre_due)
        .otherwise(cadence)
    )
