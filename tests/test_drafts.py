"""Message drafts in French and English from the Jinja2 templates (workbench.drafts)."""

from __future__ import annotations

import dataclasses
from datetime import date
from importlib import resources

import polars as pl
import pytest

from workbench.drafts import (
    _environment,
    draft_messages,
    language_of,
    long_date,
    money,
    render_draft,
    template_name,
)
from workbench.policy import DEFAULT_POLICY, Drafts
from workbench.recommend import ACTIONS
from workbench.schema import TONES

AS_OF = date(2026, 6, 30)
CHANNELS = ("email", "sms", "phone", "letter", "registered_letter", "agency", "legal", "none")


def row(**change) -> dict:
    """A recommendation row (the columns drafts read) for a customer with two overdue invoices."""
    base = {
        "customer_id": "C1", "customer_name": "Dupont Logistique SARL", "contact_name": "Marie Dupont",
        "phone": "+33 1 23 45 67 89", "email": "m.dupont@example.fr", "country": "FR",
        "collector": "Jean Martin", "strategic": False, "segment": "chronic_late",
        "step": "light_reminder", "action": ACTIONS["light_reminder"], "channel": "email",
        "tone": "friendly", "reason": "12 days past due on 2 invoices (1,734.50 EUR)",
        "currency": "EUR", "promise_amount": 900.0, "promise_date": date(2026, 6, 15),
        "promise_status": "broken", "pending_amount": 0.0, "pending_date": None,
        "broken_recent": 1, "notice_date": date(2026, 6, 1), "cleared_date": date(2026, 6, 28),
        "invoices": [
            {"invoice_id": "F-2026-101", "due_date": date(2026, 6, 18), "days_past_due": 12,
             "amount": 1234.5, "open_balance": 1234.5, "currency": "EUR"},
            {"invoice_id": "F-2026-117", "due_date": date(2026, 6, 29), "days_past_due": 1,
             "amount": 800.0, "open_balance": 500.0, "currency": "EUR"},
        ],
        "disputed_invoices": [],
    }  # fmt: skip
    base.update(change)
    return base


def test_language_from_country_or_policy_default():
    assert [language_of(c) for c in ("FR", "be", "DE", None, "")] == ["fr", "fr", "en", "en", "en"]
    policy = dataclasses.replace(
        DEFAULT_POLICY, drafts=Drafts(default_language="fr", country_languages={"GB": "en"})
    )
    assert [language_of(c, policy) for c in ("GB", "DE", "FR")] == ["en", "fr", "fr"]


def test_money_and_dates_per_language():
    assert money(1234567.5, "EUR") == "1,234,567.50 EUR"
    assert money(1234567.5, "EUR", "fr") == "1 234 567,50 EUR"
    assert money(0.125) == "0.13"  # half up, not banker's rounding
    assert long_date(date(2026, 8, 3)) == "3 August 2026"
    assert long_date(date(2026, 8, 3), "fr") == "3 août 2026"


def test_french_light_reminder_filled_with_the_customer_facts():
    text = render_draft(row(), AS_OF)
    assert text.startswith("Objet : Petit rappel - Dupont Logistique SARL")
    assert "Bonjour Marie Dupont," in text
    assert "- facture F-2026-101 de 1 234,50 EUR, échue le 18 juin 2026 (12 jours de retard) : reste dû 1 234,50 EUR" in text
    assert "(1 jour de retard) : reste dû 500,00 EUR" in text
    assert "Total : 1 734,50 EUR" in text
    assert "vous vous étiez engagé à régler 900,00 EUR avant le 15 juin 2026" in text
    assert text.endswith("Jean Martin, Service recouvrement")


def test_english_call_script_for_a_firm_personal_contact():
    text = render_draft(
        row(country="GB", step="personal_contact", channel="phone", tone="firm"), AS_OF
    )
    assert text.startswith("Call script (firm): personal contact")
    assert "Call Marie Dupont at Dupont Logistique SARL, +33 1 23 45 67 89." in text
    assert "- invoice F-2026-101 of 1,234.50 EUR, due 18 June 2026 (12 days past due): 1,234.50 EUR outstanding" in text
    assert "(1 day past due): 500.00 EUR outstanding" in text
    assert "Recall the promise of 900.00 EUR by 15 June 2026, not kept." in text
    assert "Total: 1,734.50 EUR" in text


def test_tone_changes_the_wording():
    texts = {
        tone: render_draft(row(country="GB", tone=tone, promise_status="kept"), AS_OF)
        for tone in ("friendly", "neutral", "firm")
    }
    assert "probably a simple oversight" in texts["friendly"]
    assert texts["friendly"].startswith("Subject: Friendly reminder")
    assert "According to our records" in texts["neutral"]
    assert "remain unpaid" in texts["firm"] and "We count on your prompt payment." in texts["firm"]
    assert len(set(texts.values())) == 3


def test_formal_notice_and_pending_promise():
    text = render_draft(
        row(country="BE", step="formal_notice", channel="registered_letter", tone="formal",
            promise_status="pending", pending_amount=300.0, pending_date=date(2026, 7, 3)),
        AS_OF,
    )  # fmt: skip
    assert text.startswith("Objet : Mise en demeure de payer - Dupont Logistique SARL")
    assert "(lettre recommandée avec accusé de réception)" in text
    assert "Madame, Monsieur," in text
    assert "la somme de 1 734,50 EUR dans un délai de 8 jours" in text
    assert "votre engagement à régler 300,00 EUR avant le 3 juillet 2026" in text


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_action_tone_and_channel_renders(language):
    country = {"en": "GB", "fr": "FR"}[language]
    for step in ACTIONS:
        assert resources.files("workbench").joinpath("templates", template_name(language, step)).is_file()
        for tone in TONES:
            for channel in CHANNELS:
                text = render_draft(row(country=country, step=step, tone=tone, channel=channel, contact_name=None), AS_OF)
                assert text.strip(), (step, tone, channel)
                assert "  " not in text.replace("    ", ""), (step, tone, channel)
                assert "\n\n\n" not in text
                assert "None" not in text, (step, tone, channel, text)
                if step not in ("agency", "legal", "write_off_review", "small_balance_review", "formal_notice", "thank_you"):
                    if channel == "phone":
                        assert text.startswith("Call script" if language == "en" else "Script d'appel")


def test_no_draft_without_a_step_and_series_in_row_order():
    rows = pl.DataFrame([row(customer_id="A"), row(customer_id="B", step=None), row(customer_id="C", country="DE")])
    drafts = draft_messages(rows, AS_OF)
    assert drafts.name == "draft_message" and drafts.len() == 3
    assert drafts[0].startswith("Objet") and drafts[1] == "" and drafts[2].startswith("Subject")


def test_input_text_is_data_not_template_code():
    text = render_draft(row(country="GB", customer_name="{{ 7 * 7 }} <b>Ltd</b>"), AS_OF)
    assert "{{ 7 * 7 }} <b>Ltd</b>" in text  # plain text drafts: kept as written, never evaluated


def test_html_templates_would_be_autoescaped():
    env = _environment()
    assert env.autoescape("message.html") is True
    assert env.autoescape("message.html.j2") is True
    assert env.autoescape("en/light_reminder.txt.j2") is False
