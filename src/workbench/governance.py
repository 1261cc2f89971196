"""Contact governance checked on a contact log (DESIGN 6b): the violations, one row each.

Used by :mod:`workbench.replay` to prove, week after week, that the engine never over-contacts.
It reads the log (contacts with their steps, :func:`workbench.dunning.contact_log`), not the
engine's decisions. Rules, for the contacts dated from ``since`` on (earlier ones are history):

- ``gap``: two outbound messages to one customer less than ``contact.min_gap_days`` apart;
- ``cap``: more than ``contact.max_per_week`` messages in ``contact.cap_window_days``;
- ``repeat``: the same message (step, channel, invoices) within ``cadence.repeat_after_days``;
- ``step repeated``: a cadence step sent again on an invoice that had reached it (a personal
  contact after a payment on the invoice excepted: the short-payment question);
- ``notice deadline``: an outbound message or a hand-over before a formal notice's deadline
  (a notice about an invoice paid in full before that contact holds nothing more);
- ``conversation``: a formal notice or hand-over less than ``contact.after_conversation_days``
  after a conversation (:func:`workbench.dunning.conversations`).
Proportionality needs the amounts, so :mod:`workbench.replay` checks it on its actions.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import days_between
from workbench.cadence import notice_deadline
from workbench.dunning import messages
from workbench.policy import DEFAULT_POLICY, Policy

VIOLATION_COLUMNS = ("rule", "customer_id", "contact_date", "detail")


def _pairs(sent: pl.LazyFrame) -> pl.LazyFrame:
    """Every ordered pair (earlier, later) of messages of one customer: contact_date,
    contact_date_later, channel, step, invoice_ids and their ``_later`` twins."""
    return sent.join(sent, on="customer_id", suffix="_later").filter(
        pl.col("contact_date_later") >= pl.col("contact_date")
    )


def _gap_cap_repeat(sent: pl.LazyFrame, since: date, policy: Policy) -> list[pl.LazyFrame]:
    c = pl.col
    pairs = _pairs(sent).with_row_index("_i").filter(c("contact_date_later") >= since)
    distinct = (
        (c("contact_date") != c("contact_date_later"))
        | (c("channel") != c("channel_later"))
        | (c("step") != c("step_later"))
    )
    apart = days_between(c("contact_date_later"), c("contact_date"))
    gap = pairs.filter(distinct, apart < policy.contact.min_gap_days).select(
        rule=pl.lit("gap"), customer_id="customer_id", contact_date="contact_date_later",
        detail=pl.format("{} days after the message of {}", apart, c("contact_date")),
    )  # fmt: skip
    window = (
        pairs.filter(apart < policy.contact.cap_window_days)
        .group_by("customer_id", "contact_date_later", "channel_later", "step_later")
        .agg(n=pl.len())
        .filter(c("n") > policy.contact.max_per_week)
        .select(rule=pl.lit("cap"), customer_id="customer_id", contact_date="contact_date_later",
                detail=pl.format("{} messages within {} days", c("n"), policy.contact.cap_window_days))
    )  # fmt: skip
    repeat = pairs.filter(
        c("contact_date") < c("contact_date_later"),
        apart < policy.cadence.repeat_after_days,
        c("channel") == c("channel_later"), c("step") == c("step_later"),
        c("invoice_ids") == c("invoice_ids_later"),
    ).select(rule=pl.lit("repeat"), customer_id="customer_id", contact_date="contact_date_later",
             detail=pl.format("same {} by {} as on {}", c("step"), c("channel"), c("contact_date")))  # fmt: skip
    return [gap, window, repeat]


def _step_repeats(log: pl.LazyFrame, since: date, payments: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    ranked = log.filter(c("rank").is_not_null(), c("invoice_id").is_not_null()).select(
        "customer_id", "invoice_id", "contact_date", "step", "rank"
    )
    pairs = ranked.join(ranked, on=["customer_id", "invoice_id"], suffix="_later").filter(
        c("contact_date_later") > c("contact_date"),
        c("contact_date_later") >= since,
        c("rank_later") <= c("rank"),
    )
    paid = payments.select("invoice_id", "payment_date")
    asked = (
        pairs.filter(c("step_later") == "personal_contact")
        .join(paid, on="invoice_id")
        .filter(c("payment_date") > c("contact_date"), c("payment_date") <= c("contact_date_later"))
        .select("invoice_id", "contact_date", "contact_date_later")
        .unique()
    )
    return pairs.join(asked, on=["invoice_id", "contact_date", "contact_date_later"], how="anti").select(
        rule=pl.lit("step repeated"), customer_id="customer_id", contact_date="contact_date_later",
        detail=pl.format("{} on {} after {} of {}", c("step_later"), c("invoice_id"), c("step"), c("contact_date")),
    )  # fmt: skip


def _notice_and_talks(
    log: pl.LazyFrame,
    talks: pl.LazyFrame,
    since: date,
    policy: Policy,
    settled: pl.LazyFrame | None = None,
) -> list[pl.LazyFrame]:
    c = pl.col
    notices = (
        log.filter(c("step") == "formal_notice")
        .select("customer_id", "invoice_id", notice="contact_date")
        .unique()
        .with_columns(deadline=notice_deadline(c("notice"), policy))
    )
    if settled is None:
        notices = notices.with_columns(settled_on=pl.lit(None, pl.Date))
    else:
        notices = notices.join(
            settled.select("invoice_id", settled_on="settlement_date"), on="invoice_id", how="left"
        )
    later = log.filter(
        c("contact_date") >= since, c("outbound") | c("step").is_in(["agency", "legal"])
    )
    early = (
        later.join(notices, on="customer_id", suffix="_noticed")
        .filter(
            c("contact_date") > c("notice"),
            c("contact_date") <= c("deadline"),
            c("settled_on").is_null() | (c("settled_on") > c("contact_date")),
        )
        .select(rule=pl.lit("notice deadline"), customer_id="customer_id", contact_date="contact_date",
                detail=pl.format("{} by {} before the deadline {} of the notice of {}", c("step"), c("channel"),
                                 c("deadline"), c("notice")))
        .unique()
    )  # fmt: skip
    formal = later.filter(c("step").is_in(["formal_notice", "agency", "legal"]))
    pause = (
        formal.join(talks, on="customer_id")
        .filter(days_between(c("contact_date"), c("day")).is_between(0, policy.contact.after_conversation_days - 1))
        .select(rule=pl.lit("conversation"), customer_id="customer_id", contact_date="contact_date",
                detail=pl.format("{} {} days after {} on {}", c("step"), days_between(c("contact_date"), c("day")),
                                 c("kind"), c("day")))
        .unique()
    )  # fmt: skip
    return [early, pause]


def violations(
    log: pl.LazyFrame,
    talks: pl.LazyFrame,
    payments: pl.LazyFrame,
    since: date,
    policy: Policy = DEFAULT_POLICY,
    settled: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """The governance violations of the contacts of ``log`` dated on or after ``since``.

    ``log``: :func:`workbench.dunning.contact_log` rows; ``talks``: conversations (customer_id,
    day, kind); ``payments``: the payments table; ``settled``: invoice_id, settlement_date (the
    day each invoice was paid in full, :func:`workbench.balances.invoice_balances`; without it,
    every notice holds to its deadline). Columns :data:`VIOLATION_COLUMNS`, sorted.
    """
    sent = messages(log)
    frames = [
        *_gap_cap_repeat(sent, since, policy),
        _step_repeats(log, since, payments),
        *_notice_and_talks(log, talks, since, policy, settled),
    ]
    schema = {
        "rule": pl.String,
        "customer_id": pl.String,
        "contact_date": pl.Date,
        "detail": pl.String,
    }
    return (
        pl.concat([f.select(pl.col(k).cast(t) for k, t in schema.items()) for f in frames])
        .unique()
        .sort("contact_date", "customer_id", "rule")
        .collect()
    )
