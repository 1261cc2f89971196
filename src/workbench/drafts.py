"""Message drafts (DESIGN section 6): a short email, letter, SMS or call script per action, in
French or English, from the Jinja2 templates in ``workbench/templates/<language>/<step>.txt.j2``.

Each template covers its action in every tone (friendly, neutral, firm, formal) and channel
(``phone``: a call script; ``sms``: one short text; ``none``: an internal note; else a written
message), filled with the customer's facts. Collectors adapt the drafts; nothing is sent.
Rendering is per message, hence the one Python loop over rows of the package (templating is
per message by nature).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import jinja2
import polars as pl

from workbench.policy import DEFAULT_POLICY, Policy
from workbench.recommend import ACTIONS

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
}  # fmt: skip

CHANNEL_NAMES = {
    "en": {"registered_letter": "registered letter", "none": "internal"},
    "fr": {
        "email": "e-mail", "sms": "SMS", "phone": "téléphone", "letter": "courrier",
        "registered_letter": "lettre recommandée", "agency": "agence", "legal": "contentieux",
        "none": "interne",
    },
}  # fmt: skip


STEP_LABELS = {
    "en": {},  # the English labels are workbench.recommend.ACTIONS
    "fr": {
        "pre_due": "rappel préventif",
        "light_reminder": "rappel courtois",
        "personal_contact": "contact personnel",
        "solution_offer": "proposer un échéancier ou une nouvelle date",
        "last_notice": "dernière relance amiable",
        "formal_notice": "mise en demeure",
        "agency": "transmission à la société de recouvrement",
        "legal": "procédure judiciaire (injonction de payer)",
        "write_off_review": "revue de passage en perte",
        "resolve_dispute": "résoudre le litige",
        "thank_you": "remerciement",
    },
}
TONE_NAMES = {
    "en": {},
    "fr": {"friendly": "cordial", "neutral": "neutre", "firm": "ferme", "formal": "formel"},
}


def language_of(country: str | None, policy: Policy = DEFAULT_POLICY) -> str:
    """The draft language of a customer: ``drafts.country_languages`` of its country (ISO
    alpha-2, any case), else ``drafts.default_language``."""
    languages = {k.upper(): v for k, v in policy.drafts.country_languages.items()}
    return languages.get((country or "").strip().upper(), policy.drafts.default_language)


def money(amount: float | None, currency: str | None = None, language: str = "en") -> str:
    """``1,234.56 EUR`` (en) or ``1 234,56 EUR`` (fr), rounded half up to the cent."""
    if amount is None:
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{value:,.2f}"
    if language == "fr":
        text = text.replace(",", " ").replace(".", ",")
    return f"{text} {currency}".strip() if currency else text


def long_date(day: date | None, language: str = "en") -> str:
    """``14 April 2026`` (en) or ``14 avril 2026`` (fr)."""
    if day is None:
        return ""
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2"), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def template_name(language: str, step: str) -> str:
    """The template of ``step`` in ``language``."""
    return f"{language}/{step}.txt.j2"


def _totals(invoices: Iterable[Mapping[str, Any]], language: str) -> str:
    """Open balance of ``invoices`` per currency: ``1,200.00 EUR`` or ``100.00 EUR + 5.00 USD``."""
    sums: dict[str, Decimal] = {}
    for invoice in invoices:
        currency = invoice.get("currency") or ""
        sums[currency] = sums.get(currency, Decimal(0)) + Decimal(str(invoice["open_balance"]))
    return " + ".join(money(float(v), k, language) for k, v in sorted(sums.items()))


def draft_context(row: Mapping[str, Any], as_of: date, policy: Policy = DEFAULT_POLICY) -> dict:
    """The template variables of one recommendation row (:func:`workbench.recommend
    .recommendations` columns; ``channel`` is the final one, after capacity)."""
    language = language_of(row.get("country"), policy)
    invoices = list(row.get("invoices") or [])
    collector = row.get("collector")
    channel = row.get("channel") or "none"
    step, tone = row.get("step") or "", row.get("tone") or ""
    label = STEP_LABELS[language].get(step, ACTIONS.get(step, step))
    owner = {"en": " (account owner in the loop)", "fr": " (avec le responsable du compte)"}
    return {
        **{key: row.get(key) for key in (
            "customer_name", "contact_name", "phone", "email", "step", "action", "tone",
            "segment", "strategic", "promise_amount", "promise_date", "promise_status",
            "pending_amount", "pending_date", "broken_recent", "notice_date", "cleared_date",
            "reason", "currency", "unapplied_cash",
        )},  # fmt: skip
        "language": language,
        "action_label": label + (owner[language] if row.get("strategic") else ""),
        "tone_name": TONE_NAMES[language].get(tone, tone),
        "channel": channel,
        "channel_name": CHANNEL_NAMES[language].get(channel, channel),
        "invoices": invoices,
        "invoice_total": _totals(invoices, language),
        "disputed_invoices": list(row.get("disputed_invoices") or []),
        "max_dpd": max((i["days_past_due"] for i in invoices), default=0),
        "collector": None if collector in (None, "unassigned") else collector,
        "signature": getattr(policy.drafts, f"signature_{language}"),
        "as_of": as_of,
        "answer_days": policy.escalation.notice_answer_days,
    }


def render_draft(row: Mapping[str, Any], as_of: date, policy: Policy = DEFAULT_POLICY) -> str:
    """The draft message of one recommendation row (empty when it has no step)."""
    if not row.get("step"):
        return ""
    context = draft_context(row, as_of, policy)
    env = _environment()
    template = env.get_template(template_name(context["language"], context["step"]))
    language = context["language"]
    text = template.render(
        **context,
        money=lambda amount, currency=None: money(amount, currency, language),
        day=lambda d: long_date(d, language),
    )
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def draft_messages(
    rows: pl.DataFrame, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.Series:
    """``draft_message`` (String) for each row of ``rows`` (recommendation columns), in order."""
    texts = [render_draft(row, as_of, policy) for row in rows.iter_rows(named=True)]
    return pl.Series("draft_message", texts, dtype=pl.String)
