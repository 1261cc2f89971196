"""Message drafts (DESIGN section 6): an e-mail, letter, SMS or call script per action, in the
customer's language, signed by the company of ``[sender]``, true to the data as of a date.

- **Templates**: ``workbench/templates/<language>/<step>.txt.j2`` (Jinja2), each covering its
  step in every tone and channel; a consumer (``customer_type`` B2C) gets
  ``<language>/b2c/<step>.txt.j2`` where it exists (no recovery indemnity, the rights a
  consumer has before litigation). Internal notes (hand-overs, reviews, a dispute routed
  internally) are for the team: they are written in the team's language (``[team]``).
- **Language** of a customer (:func:`draft_language`): its ``language`` column (ISO 639-1, any
  case, ``nl-BE`` read as ``nl``) when templates exist for it; else its country's
  (``[drafts.country_languages]``); else ``drafts.default_language``. A language without
  templates, or a step missing in a language, falls back to English and ``draft_note`` says so.
- **Facts**: amounts, dates and numbers per language from Babel (:mod:`workbench.locale_text`);
  days late per invoice; partial payments with their date; promise dates in the right tense;
  previous messages from the dunning state (the written messages of the contact log); a
  statement of account (every open invoice, disputed ones marked) in every written reminder;
  penalties (:mod:`workbench.penalties`) where the law and ``[penalties]`` say so.
- **SMS**: GSM-7 only, at most 160 septets, naming the company and a phone number or link.

Rendering is per message, hence the one Python loop over rows of the package (templating is
per message by nature). Nothing is sent: collectors adapt and send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import polars as pl

from workbench.locale_text import (
    gsm7_septets,
    gsm7_text,
    long_date,
    money_text,
    number_text,
    short_date,
    to_cents,
)
from workbench.dunning import CUSTOMER_FACING
from workbench.penalties import owes_penalties
from workbench.policy import DEFAULT_POLICY, LANGUAGES, Policy

REMINDER_STEPS = (
    "pre_due", "light_reminder", "personal_contact", "solution_offer", "last_notice",
    "formal_notice",
)  # fmt: skip
"""Steps whose written drafts carry the statement of account."""

WRITTEN = ("email", "letter", "registered_letter")
"""Channels of a written message (the others: phone script, SMS, internal note)."""

SMS_MAX_SEPTETS = 160

TITLE_GENDERS = {
    "f": ("madame", "mme", "mademoiselle", "mlle", "ms", "mrs", "miss", "frau", "fr", "señora",
          "sra", "senora", "signora", "sig.ra", "sigra", "mevrouw", "mevr", "mw"),
    "m": ("monsieur", "m", "mr", "herr", "hr", "hrn", "señor", "sr", "senor", "signor", "sig",
          "sig.r", "de heer", "heer", "dhr"),
}  # fmt: skip
"""Courtesy titles (lower case, final dot dropped) that tell the contact's gender."""


def draft_language(
    language: str | None, country: str | None, policy: Policy = DEFAULT_POLICY
) -> tuple[str, str | None]:
    """(language of the drafts, note): see the module docstring. The note is None unless the
    customer's language has no templates (then English)."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    if code in LANGUAGES:
        return code, None
    if code:
        return "en", f"no '{code}' templates: drafted in English"
    languages = {k.upper(): v for k, v in policy.drafts.country_languages.items()}
    return languages.get((country or "").strip().upper(), policy.drafts.default_language), None


def gender_of(title: str | None) -> str | None:
    """``f`` or ``m`` when the courtesy ``title`` tells it (Madame, Mr, Frau...), else None."""
    key = (title or "").strip().lower().rstrip(".")
    return next((g for g, titles in TITLE_GENDERS.items() if key in titles), None)


def surname_of(contact_name: str | None) -> str | None:
    """The surname of ``contact_name`` ("given names then surname"): every word after the
    first (``Jean de La Fontaine`` -> ``de La Fontaine``); None for a single word."""
    words = (contact_name or "").split()
    return " ".join(words[1:]) if len(words) > 1 else None


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("workbench", "templates"),
        # plain-text drafts are not escaped (the exports escape what they write); an HTML
        # template would be
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2"), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _exists(name: str) -> bool:
    try:
        _environment().get_template(name)
    except jinja2.TemplateNotFound:
        return False
    return True


def template_name(language: str, step: str, consumer: bool = False) -> str | None:
    """The template of ``step`` in ``language`` (the B2C variant for a consumer when there is
    one); None when ``language`` has none."""
    names = ([f"{language}/b2c/{step}.txt.j2"] if consumer else []) + [f"{language}/{step}.txt.j2"]
    return next((name for name in names if _exists(name)), None)


def _is_internal(channel: str) -> bool:
    """A note for the team: the action contacts nobody (agency, legal, none)."""
    return channel not in CUSTOMER_FACING


def _sums(items: Iterable[tuple[str, Decimal]], language: str) -> str:
    """Amounts summed per currency: ``1 200,00 EUR`` or ``100,00 EUR + 5,00 USD``."""
    sums: dict[str, Decimal] = {}
    for currency, amount in items:
        sums[currency] = sums.get(currency, Decimal(0)) + amount
    return " + ".join(money_text(v, k or None, language) for k, v in sorted(sums.items()))


def _invoice(
    item: Mapping[str, Any], language: str, penalties: bool, indemnity_currency: str = ""
) -> dict[str, Any]:
    """One invoice of a row, with its figures as text in ``language`` (penalty and indemnity:
    :func:`workbench.penalties.invoice_penalties`, shown when ``penalties``)."""
    cur = item.get("currency") or ""
    money = lambda v: money_text(v, cur, language)  # noqa: E731
    dpd = item.get("days_past_due") or 0
    return {
        **item,
        "days_late": max(dpd, 0),
        "not_due": dpd <= 0,
        "amount_text": money(item["amount"]),
        "open_text": money(item["open_balance"]),
        "paid_text": money(item["paid"]) if item.get("paid") else None,
        "credited_text": money(item["credited"]) if item.get("credited") else None,
        "paid_on": short_date(item.get("last_paid_on"), language) or None,
        "issue_text": short_date(item.get("issue_date"), language),
        "due_text": short_date(item.get("due_date"), language),
        "penalty_text": money(item.get("penalty") or 0) if penalties else None,
        "indemnity_text": money_text(item.get("indemnity") or 0, indemnity_currency, language)
        if penalties
        else None,
    }


def _claim(
    invoices: list[dict], language: str, policy: Policy, deducted: tuple[str, Decimal] | None
) -> dict[str, Any]:
    """The amounts a formal notice claims: principal (less the customer credit ``deducted``, a
    (currency, amount) pair), penalties, indemnities and total."""
    rules = policy.penalties
    principal = [(i.get("currency") or "", to_cents(i["open_balance"])) for i in invoices]
    if deducted is not None:
        principal.append((deducted[0], -deducted[1]))
    penalty = [(i.get("currency") or "", to_cents(i.get("penalty") or 0)) for i in invoices]
    indemnity = [(rules.indemnity_currency, to_cents(i.get("indemnity") or 0)) for i in invoices]
    return {
        "rate_text": number_text(rules.rate_percent, 2, language),
        "indemnity_text": money_text(rules.indemnity, rules.indemnity_currency, language),
        "principal_text": _sums(principal, language),
        "penalties_text": _sums(penalty, language),
        "indemnities_text": _sums(indemnity, language),
        "claimed_text": _sums([*principal, *penalty, *indemnity], language),
    }


def _credit(row: Mapping[str, Any], raw: list[Mapping[str, Any]], language: str) -> dict[str, Any]:
    """The customer credit set against the invoices of the draft (over-payments and credit notes
    beyond their invoices: :mod:`workbench.shelters`), and what remains due after it.

    ``invoice_total`` is the amount the draft asks for: the open balances less the credit set
    against them (reporting currency, which is the invoices' when they share it); ``gross_total``
    the open balances; ``credit_text`` the credit deducted; ``credit_total`` the customer's whole
    credit (statement); ``credit_from`` the invoices it comes from. Empty texts when no credit.
    ``overdue_part`` and ``soon_part``: the open balances past due and not yet due, when the
    draft lists both (so that the total asked is not read as all overdue), else None.
    """
    open_items = [(i.get("currency") or "", to_cents(i["open_balance"])) for i in raw]
    gross = _sums(open_items, language)
    overdue = [(i.get("currency") or "", to_cents(i["open_balance"])) for i in raw
               if i["days_past_due"] > 0]  # fmt: skip
    both = 0 < len(overdue) < len(raw)
    soon = [(i.get("currency") or "", to_cents(i["open_balance"])) for i in raw
            if i["days_past_due"] <= 0]  # fmt: skip
    currency = row.get("currency") or ""
    credit = to_cents(row.get("credit_amount") or 0)
    sources = [s["invoice_id"] for s in row.get("credit_sources") or []]
    whole = to_cents(row.get("customer_credit") or 0)
    context: dict[str, Any] = {
        "invoice_total": gross,
        "gross_total": gross,
        "credit_text": None,
        "credit_from": ", ".join(sources),
        "credit_count": len(sources),
        "credit_total": money_text(whole, currency or None, language) if whole else None,
        "overdue_part": _sums(overdue, language) if both else None,
        "soon_part": _sums(soon, language) if both else None,
    }
    if credit > 0 and {c for c, _ in open_items} <= {currency}:
        net = sum((a for _, a in open_items), Decimal(0)) - credit
        context["credit_text"] = money_text(credit, currency or None, language)
        context["invoice_total"] = money_text(max(net, Decimal(0)), currency or None, language)
    return context


def _statement(row: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The statement of account: every open invoice (oldest due first) and the totals."""
    items = sorted(row.get("statement") or [], key=lambda i: (i["due_date"], i["invoice_id"]))
    lines = [_invoice(i, language, False) for i in items]
    pick = lambda test: [(i.get("currency") or "", to_cents(i["open_balance"])) for i in items  # noqa: E731
                         if test(i)]  # fmt: skip
    return {
        "lines": lines,
        "total": _sums(pick(lambda i: True), language),
        "overdue": _sums(pick(lambda i: i["days_past_due"] > 0), language),
        "not_due": _sums(pick(lambda i: i["days_past_due"] <= 0), language),
        "disputed": _sums(pick(lambda i: i.get("disputed")), language),
    }


def _previous(row: Mapping[str, Any], invoices: list[Mapping[str, Any]]) -> list[tuple[str, date]]:
    """The written messages already sent about ``invoices`` (step, date), oldest first: the
    contact log's outbound e-mails, SMS and letters naming one of them, or naming none and
    dated after the oldest one was issued (calls are conversations, not messages sent)."""
    ids = {i["invoice_id"] for i in invoices}
    since = min((i["issue_date"] for i in invoices if i.get("issue_date")), default=None)
    seen = {
        (m["step"], m["contact_date"])
        for m in row.get("sent") or []
        if m["channel"] in (*WRITTEN, "sms")
        and (set(m["invoice_ids"] or []) & ids
             or (not m["invoice_ids"] and since is not None and m["contact_date"] >= since))
    }  # fmt: skip
    return sorted(seen, key=lambda pair: (pair[1], pair[0]))


def _promises(
    row: Mapping[str, Any],
    invoices: list[Mapping[str, Any]],
    as_of: date,
    policy: Policy,
    every_pending: bool = False,
) -> dict[str, Any]:
    """The promises a draft about ``invoices`` may quote: those about one of them or about no
    invoice in particular; the latest broken within ``escalation.broken_promise_days`` (those
    broken the same day summed: ``promise_amount``, ``promise_date``), and the pending ones
    (summed, latest pay-by date; ``promise_past`` when that date is today or gone).
    ``every_pending``: every pending promise of the customer (a call script, for the collector),
    and the broken ones about any invoice still open (a letter quotes only those about its
    invoices: others may be paid since)."""
    ids = {i["invoice_id"] for i in invoices} | {None}
    promises = row.get("promises") or []
    about = [p for p in promises if p["invoice_id"] in ids]
    window = policy.escalation.broken_promise_days
    still_open = ids | {i["invoice_id"] for i in row.get("statement") or []}
    broken = sorted(
        (p for p in (promises if every_pending else about)
         if p["status"] == "broken" and (as_of - p["promised_date"]).days <= window
         and (not every_pending or p["invoice_id"] in still_open)),
        key=lambda p: p["promised_date"],
    )  # fmt: skip
    pending = [p for p in (promises if every_pending else about)
               if p["status"] == "pending"]  # fmt: skip
    last = broken[-1] if broken else None
    broken_cents = sum(
        to_cents(p["amount"])
        for p in broken
        if last and p["promised_date"] == last["promised_date"]
    )
    pending_date = max((p["promised_date"] for p in pending), default=None)
    by_date: dict[date, int] = {}
    for p in pending:  # each commitment told with its own date (same date: one amount)
        by_date[p["promised_date"]] = by_date.get(p["promised_date"], 0) + to_cents(p["amount"])
    return {
        "pending": [{"amount": float(cents), "date": day} for day, cents in sorted(by_date.items())],
        "promise_status": "broken" if last else None,
        "broken_recent": len(broken),
        "promise_amount": float(broken_cents) if last else None,
        "promise_date": last["promised_date"] if last else None,
        "pending_amount": float(sum(to_cents(p["amount"]) for p in pending)) if pending else 0.0,
        "pending_date": pending_date,
        "promise_past": bool(pending_date and pending_date <= as_of),
    }


def _may_be_an_oversight(row: Mapping[str, Any]) -> bool:
    """Whether a friendly reminder may presume "probably an oversight": not to a customer known
    to be in payment difficulty, nor to one with an invoice in a payment plan (it knows), nor
    about an invoice paid in part (a short payment is a choice: ask why)."""
    planned = any(i.get("planned") for i in row.get("statement") or [])
    short = any(i.get("paid") for i in row.get("invoices") or [])
    return row.get("segment") != "in_difficulty" and not planned and not short


def _people(row: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """Who writes and to whom: contact, title, gender, surname, sender and signature."""
    collector = row.get("collector")
    collector = None if collector in (None, "unassigned") else collector
    title = (row.get("contact_title") or "").strip() or None
    return {
        "contact_title": title,
        "gender": gender_of(title),
        "surname": surname_of(row.get("contact_name")),
        "consumer": row.get("customer_type") == "B2C",
        "collector": collector,
        "signature": policy.sender.signature_of(collector),
        "sender": policy.sender,
    }


def draft_context(row: Mapping[str, Any], as_of: date, policy: Policy = DEFAULT_POLICY) -> dict:
    """The template variables of one recommendation row (:func:`workbench.recommend
    .recommendations` columns; ``channel`` is the final one, after capacity)."""
    step, channel = row.get("step") or "", row.get("channel") or "none"
    language, note = draft_language(row.get("language"), row.get("country"), policy)
    if _is_internal(channel):
        language, note = policy.team.language, None
    people = _people(row, policy)
    owes = owes_penalties(row.get("customer_type"), policy)
    claims = ("formal_notice", "agency", "legal", *policy.penalties.mention_steps)
    penalties = owes and step in claims
    raw = list(row.get("invoices") or [])
    invoices = [_invoice(i, language, penalties, policy.penalties.indemnity_currency) for i in raw]
    credit = _credit(row, raw, language)
    deducted = (
        (row.get("currency") or "", to_cents(row.get("credit_amount") or 0))
        if credit["credit_text"]
        else None
    )
    waits = policy.cadence.wait_days
    escalation = policy.escalation
    answer = escalation.notice_postal_days + escalation.notice_answer_days
    reply_by = as_of + timedelta(
        days=answer if step == "formal_notice" else getattr(waits, step, escalation.notice_answer_days)
    )  # fmt: skip
    return {
        **{
            key: row.get(key)
            for key in (
                "customer_name",
                "contact_name",
                "phone",
                "email",
                "step",
                "tone",
                "strategic",
                "notice_date",
                "notice_deadline",
                "cleared_date",
                "reason",
                "currency",
                "unapplied_cash",
                "paid_elsewhere",
                "paid_elsewhere_on",
            )
        },  # fmt: skip
        **_promises(row, raw, as_of, policy, every_pending=channel == "phone"),
        **people,
        "language": language,
        "internal": _is_internal(channel),
        "channel": channel,
        "as_of": as_of,
        "invoices": invoices,
        **credit,
        "oldest_days": max((i["days_late"] for i in invoices), default=0),
        "partly_paid": any(i.get("paid") for i in raw),
        "oversight": _may_be_an_oversight(row),
        "previous": _previous(row, raw),
        "statement": _statement(row, language),
        "penalties": penalties,
        "claim": _claim(raw, language, policy, deducted) if penalties else None,
        "reply_by": reply_by,
        "answer_days": escalation.notice_answer_days,
        "note": note,
    }


def _render(name: str, context: dict, short: bool = False) -> str:
    language = context["language"]
    text = (
        _environment()
        .get_template(name)
        .render(
            **context,
            short=short,
            money=lambda amount, currency=None: money_text(amount, currency, language),
            day=lambda d: long_date(d, language),
            dmy=lambda d: short_date(d, language),
        )
    )
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def render_draft(
    row: Mapping[str, Any], as_of: date, policy: Policy = DEFAULT_POLICY
) -> tuple[str, str, str | None]:
    """(draft, its language, note) of one recommendation row; an empty draft when the row has
    no step. An SMS is GSM-7 and at most 160 septets (the template's ``short`` form when the
    full one is longer)."""
    if not row.get("step"):
        return "", "", None
    context = draft_context(row, as_of, policy)
    name = template_name(context["language"], context["step"], context["consumer"])
    if name is None:  # a step missing in that language: in English, and the note says so
        note = f"no '{context['language']}' template for {context['step']}: drafted in English"
        context = draft_context({**row, "language": "en"}, as_of, policy) | {"note": note}
        name = template_name("en", context["step"], context["consumer"])
    language, note = context["language"], context["note"]
    text = _render(name, context)
    if context["channel"] == "sms":
        text = gsm7_text(" ".join(text.split()))
        if (gsm7_septets(text) or 0) > SMS_MAX_SEPTETS:
            text = gsm7_text(" ".join(_render(name, context, short=True).split()))
    return text, language, note


def draft_messages(
    rows: pl.DataFrame, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """draft_message, draft_language and draft_note (why it is not in the customer's language;
    null otherwise) for each row of ``rows`` (recommendation columns), in order."""
    drafts = [render_draft(row, as_of, policy) for row in rows.iter_rows(named=True)]
    return pl.DataFrame(
        {
            "draft_message": [d[0] for d in drafts],
            "draft_language": [d[1] for d in drafts],
            "draft_note": [d[2] for d in drafts],
        },
        schema={"draft_message": pl.String, "draft_language": pl.String, "draft_note": pl.String},
    )
