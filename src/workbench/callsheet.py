"""The layout of the collectors' call sheets in ``worklist.xlsx``: the contract between the
writer (:mod:`workbench.export`) and the reader of what collectors fill in
(:mod:`workbench.outcomes`). Both import these names; nothing else knows the layout.

A collector's sheet has its header on the first row (row 1 in Excel) and one customer per row
below it, in rank order, then a totals row after a blank row. Its columns, left to right:

- :data:`FROZEN_COLUMNS`, frozen on the left (who to call and the number to dial);
- :data:`ACTION_COLUMNS`, what to do and why, read-only for the collector;
- :data:`FEEDBACK_COLUMNS`, empty when written, filled in by the collector (drop-down lists on
  ``done`` and ``outcome``, date and amount validation on the others).

Every column is in the sheet, in this order, but the writer folds the secondary ones (see
``workbench.export.CALL_FOLDED``: customer id, open amount, amount at risk, days late, promise,
last contact, draft) into a collapsed outline group: hidden on screen and on paper until the
user expands it; a reader finds them as any other column.

The hidden sheet :data:`KEYS_SHEET` holds, per customer row of every collector sheet, what the
reader needs and a collector must not edit (:data:`KEY_COLUMNS`): the reader finds a filled row's
keys by its customer id (sorting or filtering a sheet does not break it) and refuses a customer
id that is not in the keys of that sheet. Cell (row 1) of :data:`KEYS_SHEET` holds
:data:`LAYOUT_VERSION`; its header is on row 2.
"""

from __future__ import annotations

LAYOUT_VERSION = "workbench call sheet 1"
"""Written in cell A1 of the keys sheet; the reader refuses another version."""

KEYS_SHEET = "_keys"
"""The hidden sheet of the keys of every collector row."""

DRAFTS_SHEET = {"en": "drafts", "fr": "projets"}
"""The sheet of the full texts (reason, risk reasons, invoices, draft message), one row per
action in rank order, by team language; a collector sheet's ``draft`` cell names its row there."""

KEY_COLUMNS = (
    "sheet", "customer_id", "collector", "as_of", "currency", "invoices", "overdue_amount",
)  # fmt: skip
"""Columns of :data:`KEYS_SHEET`: the collector sheet's name, the customer id, the collector
(as in the source data), the worklist's as-of date (ISO text), the currency of the amounts, the
invoice ids the action covers, the overdue amount (a number).

``invoices`` is the text of a JSON array of strings, in the action's order: ``["INV-1","INV-2"]``,
``[]`` for none (read it with ``json.loads`` or polars ``str.json_decode(pl.List(pl.String))``);
an invoice id may hold any character, ``;`` and ``,`` included. (Before, the ids were joined
with ``;``.)

A customer is at most once on a sheet (the worklist has one row per customer: an action or a
thank-you, never both), so ``sheet`` and ``customer_id`` identify a row of the keys."""

FROZEN_COLUMNS = ("rank", "customer_name", "phone")
"""Frozen on the left of a collector's sheet."""

ACTION_COLUMNS = (
    "customer_id", "contact", "action", "channel", "summary", "overdue_amount", "open_amount",
    "amount_at_risk", "oldest_dpd", "promise", "last_contact", "draft",
)  # fmt: skip
"""What the collector reads: ``summary`` is the reason in one line (the full reason and the
draft are on the drafts sheet, ``draft`` names the row there)."""

FEEDBACK_COLUMNS = (
    "done", "outcome", "contact_date", "promised_date", "promised_amount", "next_contact_date",
    "comment",
)  # fmt: skip
"""What the collector fills in: done (yes/no), the outcome (:data:`OUTCOMES`), the date of the
contact (empty: the day after the worklist's as-of date), the promised pay-by date and amount
(both required with the outcome ``promise_to_pay``), the date of the next contact, a comment."""

SHEET_COLUMNS = FROZEN_COLUMNS + ACTION_COLUMNS + FEEDBACK_COLUMNS
"""Every column of a collector's sheet, in order."""

DATE_PAST_DAYS = 60
"""A date a collector types (contact, promised, next contact) is at most this many days before
the worklist's as-of date (the sheet's date validation; a typo guard for the reader too;
candidate policy entry)."""

DATE_FUTURE_DAYS = 400
"""... and at most this many days after it."""

OUTCOMES = (
    "reached", "no_answer", "left_message", "promise_to_pay", "plan_agreed", "dispute_raised",
    "wrong_contact",
)  # fmt: skip
"""Outcome codes a collector can choose (stored as ``contacts.outcome``)."""

OUTCOME_WORDS = {
    "en": {
        "reached": "reached", "no_answer": "no answer", "left_message": "left a message",
        "promise_to_pay": "promise to pay", "plan_agreed": "payment plan agreed",
        "dispute_raised": "dispute raised", "wrong_contact": "wrong contact",
    },
    "fr": {
        "reached": "joint", "no_answer": "pas de réponse", "left_message": "message laissé",
        "promise_to_pay": "promesse de paiement", "plan_agreed": "échéancier accordé",
        "dispute_raised": "litige signalé", "wrong_contact": "mauvais interlocuteur",
    },
}  # fmt: skip
"""The words of :data:`OUTCOMES` in each team language (the drop-down list's entries)."""

DONE_WORDS = {"en": {"yes": "yes", "no": "no"}, "fr": {"yes": "oui", "no": "non"}}
"""The words of the ``done`` drop-down list."""

HEADERS = {
    "en": {
        "rank": "Rank", "customer_name": "Customer", "phone": "Phone",
        "customer_id": "Customer no.", "contact": "Contact", "action": "Action",
        "channel": "Channel", "summary": "Why (summary)", "overdue_amount": "Overdue",
        "open_amount": "Open", "amount_at_risk": "At risk", "oldest_dpd": "Days late (max)",
        "promise": "Promise", "last_contact": "Last contact", "draft": "Draft",
        "done": "Done?", "outcome": "Outcome", "contact_date": "Contact date",
        "promised_date": "Promised date", "promised_amount": "Promised amount",
        "next_contact_date": "Next contact", "comment": "Comment",
    },
    "fr": {
        "rank": "Rang", "customer_name": "Client", "phone": "Téléphone",
        "customer_id": "N° client", "contact": "Interlocuteur", "action": "Action",
        "channel": "Canal", "summary": "Motif (résumé)", "overdue_amount": "Échu",
        "open_amount": "Ouvert", "amount_at_risk": "À risque", "oldest_dpd": "Retard max (j)",
        "promise": "Promesse", "last_contact": "Dernier contact", "draft": "Projet",
        "done": "Fait ?", "outcome": "Résultat", "contact_date": "Date du contact",
        "promised_date": "Date promise", "promised_amount": "Montant promis",
        "next_contact_date": "Prochain contact", "comment": "Commentaire",
    },
}  # fmt: skip
"""The header of each column of a collector's sheet, per team language."""


def outcome_code(text: str, language: str) -> str | None:
    """The outcome code of a cell's ``text`` (its word in ``language`` or in English, or the
    code itself; case and surrounding spaces ignored); None when it is none of them."""
    wanted = text.strip().casefold()
    for words in (OUTCOME_WORDS.get(language, {}), OUTCOME_WORDS["en"]):
        for code, word in words.items():
            if wanted in (word.casefold(), code):
                return code
    return None


def done_value(text: str, language: str) -> bool | None:
    """True / False for a ``done`` cell's yes / no (in ``language`` or English, any case);
    None when it is neither."""
    wanted = text.strip().casefold()
    for words in (DONE_WORDS.get(language, {}), DONE_WORDS["en"]):
        if wanted == words["yes"]:
            return True
        if wanted == words["no"]:
            return False
    return None


__all__ = [
    "ACTION_COLUMNS", "DATE_FUTURE_DAYS", "DATE_PAST_DAYS", "DONE_WORDS", "DRAFTS_SHEET",
    "FEEDBACK_COLUMNS", "FROZEN_COLUMNS",
    "HEADERS", "KEYS_SHEET", "KEY_COLUMNS", "LAYOUT_VERSION", "OUTCOMES", "OUTCOME_WORDS",
    "SHEET_COLUMNS", "done_value", "outcome_code",
]  # fmt: skip
