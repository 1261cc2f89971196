"""Message drafts (workbench.drafts): language, greeting, legal mentions by audience, figures
true to the data, SMS limits, one language per draft, golden files.

The rows come from tests/draft_cases.py, whose figures are written by hand. Golden drafts live in
tests/golden_drafts/ (rewrite them with ``UPDATE_GOLDEN=1 pytest tests/test_drafts.py`` and read
the diff before committing).
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from babel.numbers import parse_decimal

from draft_cases import AS_OF, INV_A, INV_B, INV_D, LANGUAGES, STEPS_CHANNELS, cases, invoice, promise, row
from workbench.drafts import (
    _environment,
    draft_language,
    draft_messages,
    gender_of,
    render_draft,
    surname_of,
    template_name,
)
from workbench.locale_text import (
    LOCALES,
    gsm7_septets,
    gsm7_text,
    long_date,
    money_text,
    short_date,
)
from workbench.policy import DEFAULT_POLICY, LANGUAGES as POLICY_LANGUAGES, Drafts, Team

GOLDEN = Path(__file__).parent / "golden_drafts"
INTERNAL = ("agency", "legal", "write_off_review", "small_balance_review")
CUSTOMER_FACING = [s for s in STEPS_CHANNELS if s not in INTERNAL]


def draft(r: dict, policy=DEFAULT_POLICY) -> str:
    return render_draft(r, AS_OF, policy)[0]


# --- language, title, locale ---------------------------------------------------------------------


def test_language_from_column_then_country_then_default():
    assert draft_language("nl", "BE") == ("nl", None)
    assert draft_language("NL-be", "BE") == ("nl", None)
    assert draft_language(None, "BE") == ("fr", None)
    assert draft_language(None, "de") == ("de", None)
    assert draft_language("", "CH") == ("fr", None)
    assert draft_language(None, "JP") == ("en", None)
    assert draft_language("pt", "PT") == ("en", "no 'pt' templates: drafted in English")
    policy = dataclasses.replace(
        DEFAULT_POLICY, drafts=Drafts(default_language="fr", country_languages={"GB": "en"})
    )
    assert [draft_language(None, c, policy)[0] for c in ("GB", "DE", None)] == ["en", "fr", "fr"]


def test_gender_and_surname():
    assert [
        gender_of(t) for t in ("Madame", "Mme.", "Ms", "Frau", "Sra.", "Sig.ra", "Mevrouw")
    ] == ["f"] * 7
    assert [gender_of(t) for t in ("Monsieur", "M.", "Mr", "Herr", "Sr.", "Sig.", "De heer")] == [
        "m"
    ] * 7
    assert [gender_of(t) for t in ("Dr", "Maître", None, "")] == [None] * 4
    assert surname_of("Jean de La Fontaine") == "de La Fontaine"
    assert surname_of("Aurélie Martin") == "Martin" and surname_of("Cher") is None


def test_amounts_and_dates_per_language():
    nnbsp, nbsp = "\u202f", "\u00a0"
    assert money_text(1234.565, "EUR", "fr") == f"1{nnbsp}234,57{nbsp}EUR"
    assert money_text(1234.5, "EUR", "en") == f"1,234.50{nbsp}EUR"
    assert money_text(1234.5, "EUR", "de") == f"1.234,50{nbsp}EUR"
    assert money_text(-0.5, "USD", "nl") == f"-0,50{nbsp}USD"
    day = date(2026, 12, 1)
    assert [long_date(day, lang) for lang in ("fr", "en", "de")] == [
        "1er décembre 2026",
        "1 December 2026",
        "1. Dezember 2026",
    ]
    assert [short_date(day, lang) for lang in LANGUAGES] == [
        "01/12/2026",
        "01/12/2026",
        "01.12.2026",
        "01/12/2026",
        "01/12/2026",
        "01-12-2026",
    ]


def test_gsm7():
    assert gsm7_septets("Relevé à payer") == 14
    assert gsm7_septets("€") == 2 and gsm7_septets("ê") is None
    assert gsm7_text("Fête\u202fça") == "Fete ca"


def test_every_language_has_every_customer_facing_step():
    assert set(POLICY_LANGUAGES) == set(LANGUAGES) == set(LOCALES)
    for language in LANGUAGES:
        for step in CUSTOMER_FACING:
            assert template_name(language, step) == f"{language}/{step}.txt.j2"
        assert (
            template_name(language, "formal_notice", consumer=True)
            == f"{language}/b2c/formal_notice.txt.j2"
        )
    for language in ("en", "fr"):  # internal notes: the team's languages
        for step in INTERNAL:
            assert template_name(language, step) is not None


# --- greeting, sender, payment details -----------------------------------------------------------


def test_greeting_and_sign_off_follow_title_and_language():
    r = row("light_reminder", "letter", "fr")
    text = draft(r)
    assert "\nMadame,\n" in text and "Nous vous prions d'agréer, Madame," in text
    assert "Aurélie Martin," not in text.split("\n")[2]  # no mail-merge "Bonjour Aurélie Martin,"
    assert "Madame, Monsieur," in draft({**r, "contact_title": None})
    assert (
        draft({**r, "contact_title": "Monsieur", "channel": "email"}).count(
            "Bonjour Monsieur Martin,"
        )
        == 1
    )
    assert "Dear Ms Wilson," in draft(row("light_reminder", "letter", "en"))
    assert "Dear Sir or Madam," in draft(
        {**row("light_reminder", "letter", "en"), "contact_title": None}
    )
    assert "Yours faithfully," in draft(
        {**row("light_reminder", "letter", "en"), "contact_title": None}
    )


def test_agreement_in_gender_where_the_title_gives_it():
    base = {
        **row("light_reminder", "letter", "fr"),
        "promises": [promise("INV-A", 900.0, date(2026, 11, 10), "broken")],
    }
    assert "Vous vous étiez engagée à régler 900,00" in draft(base)
    assert "Vous vous étiez engagé à régler" in draft({**base, "contact_title": "Monsieur"})
    unknown = draft({**base, "contact_title": None})
    assert "Vous aviez pris l'engagement de régler 900,00" in unknown
    assert "engagement à régler" not in unknown
    # the promise is not dated to "our last exchange": later calls may have followed it
    assert "dernier échange" not in unknown


def test_a_hand_over_says_unanswered_only_when_nothing_was_paid():
    """The agency, legal and write-off drafts say the notice went unanswered when nothing was
    paid on the invoices, "not settled in full" when some was (the golden drafts: part paid)."""
    for step, channel in (("agency", "agency"), ("legal", "legal"), ("write_off_review", "none")):
        for language, unanswered, partly in (
            ("en", "unanswered", "not settled in full"),
            ("fr", "sans réponse", "sans règlement complet"),
        ):
            team = dataclasses.replace(DEFAULT_POLICY, team=Team(language=language))
            base = row(step, channel, language)
            unpaid = [{**i, "paid": 0.0, "last_paid_on": None} for i in base["invoices"]]
            text = draft({**base, "invoices": unpaid}, team)
            assert unanswered in text and partly not in text, (step, language, text)
            text = draft(base, team)
            assert partly in text and unanswered not in text, (step, language, text)


def test_every_written_draft_is_signed_and_says_how_to_pay():
    sender = DEFAULT_POLICY.sender
    for name, r in cases():
        step, channel = r["step"], r["channel"]
        if channel in ("email", "letter", "registered_letter") and step in CUSTOMER_FACING:
            text = draft(r)
            assert sender.company in text and sender.address in text and sender.phone in text, name
            if step not in ("thank_you", "resolve_dispute"):
                assert sender.iban in text and sender.bic in text, name
            assert "Arthur Becker" in text, name


def test_a_collector_signature_and_a_payment_link_from_the_policy():
    sender = dataclasses.replace(
        DEFAULT_POLICY.sender,
        payment_link="https://pay.example.invalid/x",
        signatures={"Arthur Becker": "Arthur Becker, chargé de recouvrement, +33 1 00 00 00 01"},
    )
    policy = dataclasses.replace(DEFAULT_POLICY, sender=sender)
    text = draft(row("light_reminder", "email", "fr"), policy)
    assert "Arthur Becker, chargé de recouvrement, +33 1 00 00 00 01" in text
    assert "https://pay.example.invalid/x" in text
    sms = draft(row("light_reminder", "sms", "fr"), policy)
    assert "https://pay.example.invalid/x" in sms


# --- legal mentions by audience ------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_b2b_formal_notice_states_penalties_indemnity_total_and_deadline(language):
    text = draft(row("formal_notice", "registered_letter", language))
    assert "L441-10" in text and "D441-5" in text
    money = lambda v: money_text(v, "EUR", language)  # noqa: E731
    assert money(27.47) in text and money(0.29) in text  # per invoice, hand-worked
    assert text.count(money(40)) >= 3  # the rule and once per invoice
    assert money(2330.26) in text  # 2,222.50 + 27.76 + 80.00
    assert long_date(AS_OF + timedelta(days=11), language) in text  # postal 3 + answer 8 days
    assert "12,15" in text or "12.15" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_b2c_formal_notice_has_no_indemnity_and_states_consumer_rights(language):
    text = draft(row("formal_notice", "registered_letter", language, "B2C"))
    assert "L441-10" not in text and "D441-5" not in text
    assert not re.search(r"(?<![\d.,\u202f])40[.,]00\u00a0EUR", text)  # no indemnity
    for article in ("1344-1", "1343-5", "L111-8"):
        assert article in text, article
    assert money_text(2222.50, "EUR", language) in text  # the principal only
    assert long_date(AS_OF + timedelta(days=11), language) in text


def test_b2c_mediator_named_when_the_policy_names_one():
    sender = dataclasses.replace(
        DEFAULT_POLICY.sender, consumer_mediator="Médiateur Exemple, mediateur.example.invalid"
    )
    text = draft(
        row("formal_notice", "registered_letter", "fr", "B2C"),
        dataclasses.replace(DEFAULT_POLICY, sender=sender),
    )
    assert "Médiateur Exemple, mediateur.example.invalid" in text


def test_earlier_steps_state_penalties_only_where_the_policy_says():
    r = row("last_notice", "letter", "fr")
    assert "L441-10" not in draft(r)
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        penalties=dataclasses.replace(
            DEFAULT_POLICY.penalties, mention_steps=("formal_notice", "last_notice")
        ),
    )
    assert "L441-10" in draft(r, policy)
    assert "L441-10" not in draft(row("last_notice", "letter", "fr", "B2C"), policy)


# --- true to the data ----------------------------------------------------------------------------


def expected_amounts(r: dict) -> set[Decimal]:
    """Every amount a draft of ``r`` may state, computed here from the row's fields."""
    cent = lambda v: Decimal(str(v)).quantize(Decimal("0.01"))  # noqa: E731
    values = set()
    for group in (r["invoices"], r["statement"]):
        for i in group:
            values |= {
                cent(i["amount"]),
                cent(i["open_balance"]),
                cent(i["paid"]),
                cent(i["penalty"]),
            }
    covered, statement = r["invoices"], r["statement"]
    total = sum(cent(i["open_balance"]) for i in covered)
    penalties = sum(cent(i["penalty"]) for i in covered)
    indemnities = Decimal(40) * len(covered)
    values |= {total, penalties, indemnities, total + penalties + indemnities, Decimal(40)}
    values |= {sum(cent(i["open_balance"]) for i in statement if keep(i)) for keep in (
        lambda i: True, lambda i: i["days_past_due"] > 0, lambda i: i["days_past_due"] <= 0,
        lambda i: i["disputed"])}  # fmt: skip
    for key in ("promise_amount", "pending_amount", "unapplied_cash"):
        if r.get(key):
            values.add(cent(r[key]))
    return values


def expected_dates(r: dict) -> set[date]:
    days = {AS_OF, r.get("cleared_date"), r.get("notice_date"), r.get("notice_deadline"),
            r.get("promise_date"), r.get("pending_date")}  # fmt: skip
    for i in [*r["invoices"], *r["statement"]]:
        days |= {i["issue_date"], i["due_date"], i["last_paid_on"]}
    ids = {i["invoice_id"] for i in [*r["invoices"], *r["statement"]]}
    days |= {m["contact_date"] for m in r["sent"]  # the letters sent about these invoices
             if m["channel"] != "phone" and set(m["invoice_ids"]) & ids}  # fmt: skip
    waits = DEFAULT_POLICY.cadence.wait_days
    days |= {AS_OF + timedelta(days=n) for n in (11, waits.last_notice, waits.solution_offer)}
    return {d for d in days if d}


AMOUNT = re.compile(r"(-?\d[\d.,\u202f]*)\u00a0EUR")
SHORT_DATE = re.compile(r"\b(\d{2})[/.-](\d{2})[/.-](\d{4})\b")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_figure_in_a_draft_equals_the_data(language):
    for name, r in cases():
        if not name.endswith("." + language):
            continue
        text, written_in, _ = render_draft(r, AS_OF)
        allowed = expected_amounts(r)
        for found in AMOUNT.findall(text):
            value = parse_decimal(found, locale=LOCALES[written_in], strict=True)
            assert value in allowed, (name, found)
        days = expected_dates(r)
        for dd, mm, yyyy in SHORT_DATE.findall(text):
            assert date(int(yyyy), int(mm), int(dd)) in days, (name, dd, mm, yyyy)
        if written_in in ("en", "fr"):
            late = {i["days_past_due"] for i in [*r["invoices"], *r["statement"]]}
            for n in re.findall(r"(\d+) (?:days?|jours?)\b", text):
                assert int(n) in late, (name, n)


def test_partial_payment_acknowledged_with_its_date():
    text = draft(row("light_reminder", "email", "en"))
    assert (
        "we received 1,077.00\u00a0EUR (last payment on 18/11/2026), thank you; 1,342.00\u00a0EUR remains due"
        in text
    )
    assert "not yet received" not in text
    fr = draft(row("light_reminder", "email", "fr"))
    assert (
        "nous avons bien reçu 1\u202f077,00\u00a0EUR (dernier paiement le 18/11/2026), merci" in fr
    )
    assert "pas encore reçu" not in fr


def test_days_late_are_per_invoice():
    text = draft(row("last_notice", "letter", "fr"))
    assert "35 jours de retard" in text and "1 jour de retard" in text
    assert "restent impayées 35 jours" not in text


def test_promise_in_the_right_tense():
    base = row("light_reminder", "email", "fr")
    future = draft(
        {**base, "promises": [promise("INV-B", 500.0, AS_OF + timedelta(days=5), "pending")]}
    )
    past = draft(
        {**base, "promises": [promise("INV-B", 500.0, AS_OF - timedelta(days=1), "pending")]}
    )
    assert (
        "Nous prenons note de votre engagement à régler 500,00\u00a0EUR d'ici le 25/11/2026"
        in future
    )
    assert (
        "à régler 500,00\u00a0EUR au plus tard le 19/11/2026 ; ce paiement ne nous est pas encore parvenu"
        in past
    )
    assert "prenons note" not in past


def test_only_promises_about_the_draft_invoices_are_quoted():
    base = row("light_reminder", "email", "fr")
    other = draft({**base, "promises": [promise("INV-Z", 205.13, date(2026, 11, 10), "broken")]})
    assert "205,13" not in other and "engag" not in other
    general = draft({**base, "promises": [promise(None, 700.0, date(2026, 11, 10), "broken")]})
    assert "Vous vous étiez engagée à régler 700,00\u00a0EUR au plus tard le 10/11/2026" in general
    old = draft({**base, "promises": [promise("INV-A", 900.0, date(2026, 5, 10), "broken")]})
    assert "900,00" not in old  # broken long ago (escalation.broken_promise_days)
    script = draft(
        {
            **row("personal_contact", "phone", "fr"),  # a call: every pending promise
            "promises": [promise("INV-Y", 300.0, date(2026, 11, 19), "pending"),
                         promise("INV-Z", 912.11, date(2026, 11, 1), "broken")],
        }
    )  # fmt: skip
    assert (
        "Rappeler l'engagement de régler 300,00\u00a0EUR au plus tard le 19/11/2026, non encore reçu"
        in script
    )
    assert "912,11" not in script  # broken, about an invoice not in the call (paid since?)


def test_promises_broken_the_same_day_are_recalled_as_one_amount():
    """Two invoices promised in one call for the same day and both unpaid: a call script recalls
    the whole commitment (a fresh-seed check's C00068 script recalled 1,222.82 of 1,698.17: the
    other invoice, still open, followed its own cadence); a letter only its own invoices'."""
    promises = [promise("INV-A", 900.0, date(2026, 11, 10), "broken"),
                promise("INV-C", 300.25, date(2026, 11, 10), "broken"),  # open, not in the call
                promise("INV-B", 50.0, date(2026, 11, 3), "broken")]  # earlier: not summed
    script = draft({**row("personal_contact", "phone", "fr"), "promises": promises})
    assert "Rappeler l'engagement de régler 1\u202f200,25\u00a0EUR au plus tard le 10/11/2026, non tenu" in script
    letter = draft({**row("light_reminder", "email", "fr"), "promises": promises})
    assert "régler 900,00\u00a0EUR au plus tard le 10/11/2026" in letter and "1\u202f200,25" not in letter


def test_two_pending_promises_are_quoted_each_with_its_date_in_every_draft_language():
    """Two commitments are quoted as two, earliest first (they were summed at the later date,
    giving the first one days it does not have); two promised the same day are one amount."""
    promises = [promise("INV-B", 3291.70, AS_OF + timedelta(days=5), "pending"),
                promise("INV-A", 2924.55, AS_OF + timedelta(days=1), "pending")]  # fmt: skip
    french = draft({**row("light_reminder", "email", "fr"), "promises": promises})
    assert (
        "votre engagement à régler 2\u202f924,55\u00a0EUR d'ici le 21/11/2026 et "
        "3\u202f291,70\u00a0EUR d'ici le 25/11/2026 et vous en remercions" in french
    ), french
    english = draft({**row("light_reminder", "email", "en"), "promises": promises})
    assert "undertaking to pay 2,924.55 EUR by 21/11/2026 and 3,291.70 EUR by 25/11/2026" in (
        english.replace("\u00a0", " ")
    ), english
    past = [promise("INV-B", 100.0, AS_OF - timedelta(days=1), "pending"),
            promise("INV-A", 50.0, AS_OF - timedelta(days=1), "pending"),
            promise("INV-A", 40.0, AS_OF - timedelta(days=2), "pending")]  # fmt: skip
    late = draft({**row("light_reminder", "email", "fr"), "promises": past})
    assert (
        "à régler 40,00\u00a0EUR au plus tard le 18/11/2026 et 150,00\u00a0EUR au plus tard le "
        "19/11/2026 ; ces paiements ne nous sont pas encore parvenus" in late
    ), late


def test_previous_messages_are_the_written_ones_about_these_invoices():
    text = draft(row("light_reminder", "email", "fr"))
    assert "Nos précédents envois : dernière relance amiable du 02/11/2026." in text
    # not the call of 20/10 nor the e-mail of 01/08 about another invoice
    assert "Nos précédents envois : dernière relance amiable du 02/11/2026.\n" in text
    notice = draft(row("formal_notice", "registered_letter", "fr"))
    assert "Malgré notre message du 02/11/2026, les factures suivantes restent impayées" in notice


def test_singular_when_one_invoice():
    text = draft({**row("light_reminder", "letter", "fr"), "invoices": [INV_B]})
    assert "la facture suivante est échue :" in text


def test_step_named_after_what_was_sent_before():
    r = row("last_notice", "letter", "fr")
    assert "Objet : Dernière relance avant mise en demeure" in draft(r)
    assert "dernière relance amiable du 02/11/2026" in draft(r)
    after_notice = draft({**r, "notice_date": date(2026, 10, 1)})
    assert (
        "avant mise en demeure" not in after_notice and "Dernière relance amiable" in after_notice
    )


def test_statement_lists_every_open_invoice_and_marks_disputes():
    text = draft(row("light_reminder", "email", "fr"))
    statement = text[text.index("Relevé de compte") :]
    for invoice_id in ("INV-A", "INV-B", "INV-C", "INV-D"):
        assert f"- {invoice_id} du" in statement
    assert "INV-D du 01/10/2026, échéance 31/10/2026 : 640,00\u00a0EUR (en litige" in statement
    assert (
        "Total ouvert : 4\u202f362,50\u00a0EUR ; échu : 2\u202f862,50\u00a0EUR ; non échu : 1\u202f500,00\u00a0EUR ; dont en litige : 640,00\u00a0EUR"
        in statement
    )


def test_internal_notes_are_in_the_team_language():
    r = row("agency", "agency", "de")
    assert draft(r).startswith("Hand-over to the collection agency")
    fr_team = dataclasses.replace(DEFAULT_POLICY, team=Team(language="fr"))
    assert draft(r, fr_team).startswith("Transmission à la société de recouvrement")
    assert render_draft(r, AS_OF, fr_team)[1] == "fr"


# --- SMS ---------------------------------------------------------------------------------------


def test_every_sms_fits_160_gsm7_septets_and_names_the_company():
    short = DEFAULT_POLICY.sender.short_name
    long_rows = [{**r, "invoices": [dict(INV_A, invoice_id=f"INV-2026-{n:06d}") for n in range(6)]}
                 for _, r in cases() if r["channel"] == "sms"]  # fmt: skip
    for r in [r for _, r in cases() if r["channel"] == "sms"] + long_rows:
        text = draft(r)
        septets = gsm7_septets(text)
        assert septets is not None and septets <= 160, (r["step"], septets, text)
        assert text.startswith(short) and DEFAULT_POLICY.sender.phone in text, text


# --- one language per draft --------------------------------------------------------------------

MARKERS = {
    "en": {"the", "invoice", "invoices", "please", "payment", "thank", "your", "dear", "received", "remains", "regards", "yours"},
    "fr": {"facture", "factures", "nous", "vous", "merci", "règlement", "échéance", "madame", "monsieur", "cordialement", "reçu"},
    "de": {"rechnung", "rechnungen", "bitte", "wir", "ihre", "zahlung", "geehrte", "geehrter", "und", "freundlichen", "grüßen"},
    "es": {"factura", "facturas", "pago", "gracias", "estimada", "estimado", "atentamente", "nuestra", "usted"},
    "it": {"fattura", "fatture", "pagamento", "grazie", "gentile", "cordiali", "saluti", "nostra", "distinti"},
    "nl": {"factuur", "facturen", "betaling", "geachte", "wij", "uw", "vriendelijke", "groet", "bedankt"},
}  # fmt: skip
"""Words only one language uses: a draft holding another language's marker mixes languages."""


def test_no_draft_contains_another_language():
    sender = DEFAULT_POLICY.sender
    names = " ".join([sender.company, sender.address, "Martin Bâtiment SARL", "REASON"]).lower()
    for name, r in cases():
        text, language, _ = render_draft(r, AS_OF)
        words = set(re.findall(r"\w+", text.lower())) - set(re.findall(r"\w+", names))
        for other, markers in MARKERS.items():
            if other != language:
                assert not words & markers, (name, other, words & markers)
        assert words & MARKERS[language], name


# --- rendering -----------------------------------------------------------------------------------


def test_every_step_tone_and_channel_renders_cleanly():
    for name, r in cases():
        for tone in ("friendly", "neutral", "firm", "formal"):
            text = draft({**r, "tone": tone})
            assert text.strip(), name
            assert "None" not in text and "\n\n\n" not in text, (name, tone)
            assert not re.search(r"\S- (?:invoice|facture|INV)", text), (
                name,
                tone,
            )  # lines run together


def test_draft_messages_columns_and_fallback_note():
    rows = pl.DataFrame(
        [
            row("light_reminder", "email", "fr"),
            {**row("light_reminder", "email", "en"), "step": None},
            {**row("light_reminder", "email", "en"), "language": "pt"},
        ]
    )
    out = draft_messages(rows, AS_OF)
    assert out.columns == ["draft_message", "draft_language", "draft_note"]
    assert out["draft_message"][0].startswith("Objet") and out["draft_message"][1] == ""
    assert out["draft_language"].to_list() == ["fr", "", "en"]
    assert out["draft_note"].to_list() == [None, None, "no 'pt' templates: drafted in English"]


def test_input_text_is_data_not_template_code():
    text = draft(
        {**row("light_reminder", "email", "en"), "customer_name": "{{ 7 * 7 }} <b>Ltd</b>"}
    )
    assert "{{ 7 * 7 }} <b>Ltd</b>" in text  # plain text drafts: kept as written, never evaluated


def test_html_templates_would_be_autoescaped():
    env = _environment()
    assert env.autoescape("message.html") is True
    assert env.autoescape("en/light_reminder.txt.j2") is False


# --- golden drafts -----------------------------------------------------------------------------


def golden_cases():
    """Every customer-facing step x channel in every language (B2B), the B2C formal notice and
    light reminder, and the internal notes in the team languages."""
    keep = []
    for name, r in cases():
        step, channel, audience, language = name.split(".")
        internal = step in INTERNAL or (step == "resolve_dispute" and channel == "none")
        if internal and language not in ("en", "fr"):
            continue
        if audience == "b2c" and not (
            step in ("formal_notice", "agency") or name.startswith("light_reminder.email")
        ):
            continue
        keep.append((name, r))
    return keep


@pytest.mark.parametrize("name,r", golden_cases(), ids=[n for n, _ in golden_cases()])
def test_golden_draft(name, r):
    language = name.rsplit(".", 1)[1]
    policy = dataclasses.replace(
        DEFAULT_POLICY, team=Team(language="fr" if language == "fr" else "en")
    )
    text = draft(r, policy) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


# --- on a generated portfolio ------------------------------------------------------------------


def test_drafts_of_a_generated_worklist(generated_portfolio):
    """Every draft of a real run: in the customer's language (internal notes: the team's),
    SMS within 160 GSM-7 septets, invoice ids only the customer's own, days late per invoice
    equal to as_of - due date, nothing left unfilled."""
    from workbench.worklist import build_worklist

    portfolio, as_of = generated_portfolio
    detail = build_worklist(portfolio, as_of).detail
    customers = portfolio.customers.collect()
    invoices = portfolio.invoices.collect().select("invoice_id", "customer_id", "due_date")
    owner = dict(invoices.select("invoice_id", "customer_id").iter_rows())
    due = dict(invoices.select("invoice_id", "due_date").iter_rows())
    spoken = {r["customer_id"]: draft_language(r["language"], r["country"])[0]
              for r in customers.iter_rows(named=True)}  # fmt: skip
    assert detail.height > 10
    for r in detail.iter_rows(named=True):
        text, language = r["draft_message"], r["draft_language"]
        internal = r["step"] in INTERNAL or r["channel"] == "none"
        assert language == ("en" if internal else spoken[r["customer_id"]]), r["customer_id"]
        assert "None" not in text and "{" not in text.replace(r["customer_name"], "")
        if r["channel"] == "sms":
            assert (gsm7_septets(text) or 999) <= 160, text
        for invoice_id in set(re.findall(r"INV-\d+", text)):
            assert owner[invoice_id] == r["customer_id"], (r["customer_id"], invoice_id)
        if language == "fr":
            for invoice_id, n in re.findall(
                r"facture (INV-\d+) du \S+ \([^)]*\), échéance \S+, (\d+) jours? de retard", text
            ):
                assert int(n) == (as_of - due[invoice_id]).days, (invoice_id, n)


def test_statement_marks_promised_and_planned_invoices():
    statement = [dict(INV_A, planned=True), dict(INV_B, promised=True)]
    text = draft({**row("light_reminder", "email", "fr"), "statement": statement})
    assert "(35 jours de retard ; dans un échéancier)" in text
    assert "(1 jour de retard ; sous engagement de paiement)" in text


OVERSIGHT = {"en": "oversight", "fr": "oubli", "de": "Versehen", "es": "descuido",
             "it": "dimenticanza", "nl": "vergetelheid|aandacht ontsnapt"}  # fmt: skip


@pytest.mark.parametrize("language", sorted(OVERSIGHT))
def test_no_presumed_oversight_to_a_customer_known_in_difficulty(language):
    """A friendly reminder presumes "probably an oversight", except to a customer in payment
    difficulty or with an invoice in a payment plan (a fresh-seed check's C00113 got "sans doute
    un simple oubli" four days after agreeing a plan): its neutral opening then, in e-mails and
    call scripts alike."""
    word = re.compile(OVERSIGHT[language])
    for channel in ("email", "phone"):
        base = {**row("light_reminder", channel, language), "tone": "friendly", "invoices": [INV_B]}
        # a call script's purpose (line 2.; its line 4. lists the reasons to listen for)
        said = lambda text: [line for line in text.split("\n") if channel == "email" or line.startswith("2.")]  # noqa: E731
        assert word.search(" ".join(said(draft(base)))), (language, channel)
        hard = draft({**base, "segment": "in_difficulty"})
        planned = draft({**base, "statement": [{**INV_A, "planned": True}, INV_B]})
        assert not word.search(" ".join(said(hard) + said(planned))), (language, channel, hard)
        if channel == "email":  # the neutral opening, not the firm one (the subject stays)
            neutral = draft({**base, "tone": "neutral"})
            assert hard.split("\n")[1:] == neutral.split("\n")[1:], hard


@pytest.mark.parametrize("language", sorted(OVERSIGHT))
def test_a_credit_note_on_an_invoice_is_told_so_its_figures_add_up(language):
    """An invoice of 235.64 paid 86.53 and credited 74.45 owes 74.66: the line says the credit
    note, so that amount = received + credited + due reads in the letter (a fresh-seed check's
    C00047 formal notice said "received 86.53; 74.66 due" of 235.64). Credited but unpaid
    too. Every figure of the line is parsed back and the three add up to the amount."""
    credited = {**invoice("INV-K", date(2026, 9, 3), date(2026, 10, 3), 235.64, 74.66,
                          paid=86.53, last_paid_on=date(2026, 11, 9)), "credited": 74.45}  # fmt: skip
    only_credit = {**credited, "paid": 0.0, "last_paid_on": None, "open_balance": 161.19}
    for item, parts in ((credited, 4), (only_credit, 3)):
        text = draft({**row("formal_notice", "email", language), "invoices": [item]})
        line = next(line for line in text.split("\n") if "INV-K" in line)
        amounts = [parse_decimal(m.replace("\u202f", "").replace("\u00a0", ""), locale=LOCALES[language])
                   for m in re.findall(r"(\d[\d.,\u202f\u00a0']*\d)\u00a0EUR", line)]  # fmt: skip
        assert len(amounts) == parts, (line, amounts)
        assert amounts[0] == sum(amounts[1:]) and Decimal("74.45") in amounts, (line, amounts)


HANDED = {"en": "handed over to our collection agent", "fr": "confiée à notre mandataire de recouvrement",
          "de": "an unser Inkassobüro übergeben", "es": "confiada a nuestra agencia de cobro",
          "it": "affidata alla nostra agenzia di recupero", "nl": "overgedragen aan ons incassobureau"}  # fmt: skip


@pytest.mark.parametrize("language", sorted(HANDED))
def test_the_statement_of_account_marks_the_invoices_handed_over(language):
    """An invoice with the agency is not presented as simply owed to us: its statement line says
    it was handed over (a fresh-seed check's C00072 formal notice listed 7 agency files)."""
    base = row("light_reminder", "email", language)
    text = draft({**base, "statement": [INV_A, {**INV_D, "disputed": False, "handed": True}]})
    marked = [line for line in text.split("\n") if HANDED[language] in line]
    assert len(marked) == 1 and "INV-D" in marked[0], text


LETTER_REPLY = {"en": "reply to this letter", "fr": "répondre à ce courrier",
                "de": "auf dieses Schreiben", "es": "a este escrito",
                "it": "rispondere a questa lettera", "nl": "deze brief"}  # fmt: skip


@pytest.mark.parametrize("language", sorted(LETTER_REPLY))
def test_a_letter_asks_for_a_reply_to_the_letter_not_to_a_message(language):
    """A friendly plan offer sent by post says "reply to this letter" (a fresh-seed check's
    Italian letter said "rispondere a questo messaggio"); by e-mail, "this message"."""
    base = {**row("solution_offer", "letter", language), "tone": "friendly"}
    assert LETTER_REPLY[language] in draft(base), draft(base)
    assert LETTER_REPLY[language] not in draft({**base, "channel": "email"})


YOUNGER = {"en": "not covered by this final reminder", "fr": "hors de ce dernier rappel",
           "de": "nicht Gegenstand dieser letzten Mahnung", "es": "no afectadas por este último recordatorio",
           "it": "non oggetto di quest'ultimo sollecito", "nl": "niet betrokken bij deze laatste herinnering"}  # fmt: skip


@pytest.mark.parametrize("channel", ["letter", "phone"])
@pytest.mark.parametrize("language", sorted(YOUNGER))
def test_a_final_reminder_lists_apart_the_invoices_not_at_its_step(language, channel):
    """A last notice threatens a formal notice: the invoices of the customer whose own cadence is
    earlier (here INV-B, 1 day late, never reminded) are listed apart, after a heading saying
    they are not concerned (a fresh-seed check's C00091 last notice covered invoices 1 to 9
    days late that had never had a reminder). Without such invoices, no heading."""
    base = row("last_notice", channel, language)
    at, young = {**INV_A, "step": "last_notice"}, {**INV_B, "step": "light_reminder"}
    lines = draft({**base, "invoices": [at, young]}).split("\n")
    heading = next(n for n, line in enumerate(lines) if YOUNGER[language] in line)
    where = {i: next(n for n, line in enumerate(lines) if f" {i} " in line) for i in ("INV-A", "INV-B")}
    assert where["INV-A"] < heading < where["INV-B"], lines
    alone = draft({**base, "invoices": [at, {**young, "step": "last_notice"}]})
    assert YOUNGER[language] not in alone, alone


def test_a_thank_you_fits_one_invoice_and_a_consumer():
    """One invoice is "la facture suivante, soldée"; a consumer is not told of "our
    collaboration" (a fresh-seed check's C00026), nor thanked twice."""
    base = {**row("thank_you", "email", "fr"), "cleared_date": date(2026, 11, 16)}
    one = draft(base)
    assert "le règlement de la facture suivante, soldée le 16/11/2026" in one, one
    consumer = draft({**row("thank_you", "email", "fr", audience="B2C"), "cleared_date": date(2026, 11, 16)})
    assert "Au plaisir de vous compter parmi nos clients." in consumer, consumer
    assert "collaboration" not in consumer and consumer.count("remerci") == 1, consumer
    assert "Nous apprécions notre collaboration." in one


def test_no_presumed_oversight_about_an_invoice_paid_in_part():
    """A call about an invoice paid 28 % before its due date does not say "probably an
    oversight" (a fresh-seed check's C00112): the short payment was a choice, ask why."""
    paid = {**INV_B, "paid": 500.0, "open_balance": 380.5, "last_paid_on": date(2026, 11, 13)}
    script = draft({**row("light_reminder", "phone", "fr"), "tone": "friendly", "invoices": [paid]})
    purpose = next(line for line in script.split("\n") if line.startswith("2."))
    assert "oubli" not in purpose, script


def test_french_elides_de_before_a_vowel_in_the_dispute_note():
    """"auprès d'Emily Williams", "auprès de Jean Martin", "auprès du client" (a fresh-seed
    check's C00035 read "auprès de Emily Williams"; without a contact it read "auprès de du
    client")."""
    base = row("resolve_dispute", "none", "fr")
    french = dataclasses.replace(DEFAULT_POLICY, team=Team(language="fr"))  # an internal note
    assert "auprès d'Emily Williams" in draft({**base, "contact_name": "Emily Williams"}, french)
    assert "auprès de Jean Martin" in draft({**base, "contact_name": "Jean Martin"}, french)
    assert "auprès du client" in draft({**base, "contact_name": None}, french)


@pytest.mark.parametrize(
    ("language", "subject", "said"),
    [("fr", "Objet : Votre facture échue", "La facture ci-dessous est échue et nous n'avons pas"),
     ("en", "Subject: Your past-due invoice", "The invoice below is past due and we have not")],
)  # fmt: skip
def test_one_invoice_past_due_is_singular(language, subject, said):
    """One invoice past due (another not yet due beside it) is spoken of in the singular, in
    the subject, the letter and the call script (a fresh-seed check's C00080, C00112, C00119:
    "vos factures échues", "les factures ci-dessous sont échues" about one invoice)."""
    one = {**INV_B, "paid": 0.0}
    soon = {**INV_A, "invoice_id": "INV-S", "days_past_due": -5, "not_due": True, "paid": 0.0,
            "open_balance": 2419.0}  # fmt: skip
    base = {**row("personal_contact", "email", language), "tone": "neutral", "invoices": [one, soon]}
    text = draft(base)
    assert subject in text and said in text, text
    script = draft({**base, "channel": "phone"})
    assert ("la facture ci-dessous est échue depuis 1 jour ;" if language == "fr"
            else "the invoice below is 1 day past due") in script, script  # fmt: skip
    two = draft({**base, "invoices": [one, {**INV_A, "paid": 0.0, "open_balance": 2419.0}]})
    assert ("Vos factures échues" if language == "fr" else "Your past-due invoices") in two


@pytest.mark.parametrize("language", ["fr", "en", "de", "es", "it", "nl"])
def test_a_total_over_overdue_and_coming_invoices_tells_both_parts(language):
    """A last reminder listing an invoice past due and one falling due soon says what of its
    total is past due (a fresh-seed check's C00024: "Total : 5 761,66 EUR" just before the
    threat, of which 4,596.76 was not yet due)."""
    overdue = {**INV_B, "paid": 0.0, "open_balance": 1164.9}
    soon = {**INV_A, "invoice_id": "INV-S", "days_past_due": -2, "not_due": True, "paid": 0.0,
            "open_balance": 4596.76}  # fmt: skip
    base = {**row("last_notice", "letter", language), "invoices": [overdue, soon]}
    text = draft(base)
    parts = {"fr": "Total : 5 761,66 EUR (échu : 1 164,90 EUR ; à échoir : 4 596,76 EUR)",
             "en": "Total: 5,761.66 EUR (overdue: 1,164.90 EUR; not yet due: 4,596.76 EUR)"}
    total = parts.get(language, "(")
    assert total in text.replace("\u202f", " ").replace("\xa0", " "), text
    both_overdue = draft({**base, "invoices": [overdue, {**soon, "days_past_due": 3,
                                                          "not_due": False}]})
    assert "1 164,90 EUR ;" not in both_overdue and "1,164.90 EUR;" not in both_overdue


def test_a_reminder_call_about_one_invoice_is_singular():
    """A call script about one invoice: "la facture ci-dessous est échue", "3. La facture :"
    (a fresh-seed check's C00112 script said "les factures ... sont échues", "Les factures")."""
    script = draft({**row("light_reminder", "phone", "fr"), "invoices": [INV_B]})
    assert "un simple rappel : la facture ci-dessous est échue" in script, script
    assert "\n3. La facture :\n" in script, script
