"""Hand-made recommendation rows covering every draft: step x channel x audience x language.

Every figure is written here by hand, so the golden drafts (tests/golden_drafts/) and the
figure checks of tests/test_draft_content.py compare the drafts with independent values.
As of 2026-11-20.
"""

from __future__ import annotations

from datetime import date

AS_OF = date(2026, 11, 20)

LANGUAGES = ("en", "fr", "de", "es", "it", "nl")


def invoice(invoice_id, issue, due, amount, open_balance, *, paid=0.0, last_paid_on=None,
            disputed=False, penalty=0.0, indemnity=0.0, currency="EUR"):  # fmt: skip
    """One element of a row's invoice lists (the fields of recommend._INVOICE)."""
    return {
        "invoice_id": invoice_id, "due_date": due, "days_past_due": (AS_OF - due).days,
        "amount": amount, "open_balance": open_balance, "chased_amount": open_balance,
        "currency": currency, "step": None, "paid": paid, "last_paid_on": last_paid_on,
        "short_payment": False, "issue_date": issue, "disputed": disputed, "promised": False,
        "planned": False, "penalty": penalty, "indemnity": indemnity, "handed": False,
    }  # fmt: skip


# INV-A: 2,419.00 EUR due 2026-10-16 (35 days late), 1,077.00 received on 2026-11-18,
# 1,342.00 EUR remains; penalties at 12.15 %: 2,419.00 x 33 days (17/10 to 18/11 is 33 days)
# + 1,342.00 x 2 days (19/11, 20/11) = 79,827 + 2,684 = 82,511 EUR-days
# x 0.1215 / 365 = 27.4659... -> 27.47 EUR.
INV_A = invoice("INV-A", date(2026, 9, 16), date(2026, 10, 16), 2419.00, 1342.00, paid=1077.00,
                last_paid_on=date(2026, 11, 18), penalty=27.47, indemnity=40.0)  # fmt: skip
# INV-B: 880.50 EUR due 2026-11-19, 1 day late: 880.50 x 1 x 0.1215 / 365 = 0.2931 -> 0.29
INV_B = invoice("INV-B", date(2026, 10, 20), date(2026, 11, 19), 880.50, 880.50,
                penalty=0.29, indemnity=40.0)  # fmt: skip
# INV-C: not yet due (2026-12-05); INV-D: disputed, due 2026-10-31
INV_C = invoice("INV-C", date(2026, 11, 5), date(2026, 12, 5), 1500.00, 1500.00)
INV_D = invoice("INV-D", date(2026, 10, 1), date(2026, 10, 31), 640.00, 640.00, disputed=True)

SENT = [
    # a call is a conversation, not a message sent: the drafts do not list it
    {"contact_date": date(2026, 10, 20), "channel": "phone", "step": "personal_contact",
     "invoice_ids": ["INV-A"]},
    {"contact_date": date(2026, 11, 2), "channel": "letter", "step": "last_notice",
     "invoice_ids": ["INV-A"]},
    # about another invoice (paid since): not listed either
    {"contact_date": date(2026, 8, 1), "channel": "email", "step": "light_reminder",
     "invoice_ids": ["INV-Z"]},
]  # fmt: skip
"""The messages already sent to the customer (recommend's ``sent`` column)."""


def promise(invoice_id, amount, promised_date, status):
    """One element of a row's ``promises`` (pending or broken promises)."""
    return {"invoice_id": invoice_id, "amount": amount, "promised_date": promised_date,
            "status": status}  # fmt: skip


STEPS_CHANNELS = {
    "pre_due": ("email", "sms", "phone"),
    "light_reminder": ("email", "letter", "sms", "phone"),
    "personal_contact": ("email", "sms", "phone"),
    "solution_offer": ("email", "sms", "phone"),
    "last_notice": ("letter", "email", "sms", "phone"),
    "formal_notice": ("registered_letter",),
    "thank_you": ("email", "sms"),
    "resolve_dispute": ("email", "none"),
    "agency": ("agency",),
    "legal": ("legal",),
    "write_off_review": ("none",),
    "small_balance_review": ("none",),
}
"""The channels each step's draft is tried with."""

TONES = {"pre_due": "friendly", "light_reminder": "neutral", "personal_contact": "neutral",
         "solution_offer": "neutral", "last_notice": "firm", "formal_notice": "formal",
         "thank_you": "friendly", "resolve_dispute": "neutral"}  # fmt: skip

CONTACTS = {
    "en": ("Ms", "Emily Wilson", "GB"), "fr": ("Madame", "Aurélie Martin", "FR"),
    "de": ("Herr", "Jürgen Müller", "DE"), "es": ("Sra.", "Lucía Gómez", "ES"),
    "it": ("Sig.", "Marco Rossi", "IT"), "nl": ("Mevrouw", "Sanne de Vries", "BE"),
}  # fmt: skip


def row(step: str, channel: str, language: str, audience: str = "B2B") -> dict:
    """A recommendation row for ``step`` by ``channel`` to a customer of ``language``."""
    title, contact, country = CONTACTS[language]
    covered = {"pre_due": [INV_C], "resolve_dispute": [INV_D],
               "thank_you": [invoice("INV-E", date(2026, 9, 1), date(2026, 10, 1), 300.0, 0.0)],
               "small_balance_review": [invoice("INV-F", date(2026, 8, 1), date(2026, 9, 1),
                                                120.0, 30.0, paid=90.0,
                                                last_paid_on=date(2026, 10, 2))],
               }.get(step, [INV_A, INV_B])  # fmt: skip
    return {
        "customer_id": "C1", "customer_name": "Martin Bâtiment SARL" if audience == "B2B"
        else contact, "contact_name": contact, "contact_title": title,
        "phone": "+33 1 23 45 67 89", "email": "compta@example.invalid", "country": country,
        "language": "nl" if language == "nl" else None, "customer_type": audience,
        "collector": "Arthur Becker", "strategic": False, "step": step, "channel": channel,
        "tone": TONES.get(step, "formal"), "invoices": covered,
        "statement": [INV_A, INV_B, INV_C, INV_D], "currency": "EUR",
        "promises": [], "sent": SENT,
        "notice_date": date(2026, 10, 20) if step in ("agency", "legal", "write_off_review")
        else None, "notice_deadline": date(2026, 10, 31) if step in ("agency", "legal",
        "write_off_review") else None, "cleared_date": date(2026, 11, 16),
        "reason": "REASON", "unapplied_cash": 0.0, "paid_elsewhere": 0.0,
        "paid_elsewhere_on": None,
    }  # fmt: skip


def cases():
    """(name, row) of every golden draft: each step x channel x audience x language (internal
    notes: team languages en and fr only, B2B and B2C)."""
    out = []
    for step, channels in STEPS_CHANNELS.items():
        for channel in channels:
            for audience in ("B2B", "B2C"):
                for language in LANGUAGES:
                    out.append((f"{step}.{channel}.{audience.lower()}.{language}",
                                row(step, channel, language, audience)))  # fmt: skip
    return out
