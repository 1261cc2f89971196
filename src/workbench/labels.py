"""Labels of the team's exports, per team language (policy ``team.language``): the header of
each column and the words shown for the code columns (channel, tone, step, next step,
exclusion, segment, last outcome, bands, the collector of unassigned customers), and back
again to read a sheet a collector returns.

English exports show the codes themselves (``customer_id``, ``registered_letter``); French
exports show French labels and words (``n° client``, ``lettre recommandée``). The data frames
always keep the codes (other code reads them); only the written files are translated. The words
of the code columns are the ones of :mod:`workbench.phrases`, so a step reads the same in a
reason and in its column.
"""

from __future__ import annotations

import polars as pl

from workbench.phrases import (
    BAND_WORDS,
    CHANNEL_WORDS,
    COLLECTOR_WORDS,
    EXCLUSION_WORDS,
    OUTCOME_WORDS,
    SEGMENT_NAMES,
    STEP_WORDS,
    TONE_WORDS,
)

COLUMN_LABELS: dict[str, dict[str, str]] = {
    "en": {},
    "fr": {
        # worklist
        "rank": "rang", "collector": "chargé de recouvrement", "customer_id": "n° client",
        "customer_name": "client", "contact": "contact", "phone": "téléphone",
        "email": "e-mail", "channel": "canal", "tone": "ton", "action": "action",
        "step": "étape", "reason": "motif", "risk_reasons": "facteurs de risque",
        "open_amount": "montant ouvert", "overdue_amount": "montant échu",
        "customer_credit": "crédit client",
        "oldest_dpd": "retard max (jours)", "amount_at_risk": "montant à risque",
        "probability": "probabilité d'impayé", "segment": "profil de paiement",
        "invoices": "factures", "last_contact": "dernier contact",
        "last_outcome": "résultat du dernier contact", "promise": "promesse",
        "draft_message": "projet de message", "draft_language": "langue du projet",
        "draft_note": "remarque sur le projet",
        # excluded list and watch list
        "exclusion": "exclusion", "next_step": "prochaine étape", "next_date": "à partir du",
        # summary tables
        "item": "élément", "value": "valeur", "customers": "clients",
        "calls_per_week": "appels par semaine", "phone_actions": "actions par téléphone",
        "calls": "appels", "automated": "basculées en envoi automatique", "actions": "actions",
        "risk_band": "niveau de risque", "value_band": "tranche de montant",
    },
}  # fmt: skip
"""The header of each column (code -> label) per language; English: the code itself."""

VALUE_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "channel": CHANNEL_WORDS,
    "tone": TONE_WORDS,
    "step": STEP_WORDS,
    "next_step": STEP_WORDS,
    "exclusion": EXCLUSION_WORDS,
    "segment": SEGMENT_NAMES,
    "last_outcome": OUTCOME_WORDS,
    "risk_band": BAND_WORDS,
    "value_band": BAND_WORDS,
    "collector": COLLECTOR_WORDS,
}
"""The words of each code column (per language tables of :mod:`workbench.phrases`)."""


def header(column: str, language: str = "en") -> str:
    """The header of ``column`` in ``language`` (the code itself in English or when unknown)."""
    return COLUMN_LABELS[language].get(column, column)


def column_of(label: str, language: str = "en") -> str:
    """The column code of a header written in ``language`` (the inverse of :func:`header`)."""
    codes = {text: code for code, text in COLUMN_LABELS[language].items()}
    return codes.get(label, label)


def _value_words(column: str, language: str) -> dict[str, str]:
    """code -> word of a code column in ``language`` (empty in English: codes are shown)."""
    if language == "en" or column not in VALUE_WORDS:
        return {}
    return VALUE_WORDS[column][language]


def word(code: str, column: str, language: str = "en") -> str:
    """One value of the code column ``column`` as shown in an export of ``language``."""
    return _value_words(column, language).get(code, code)


def shown(code: pl.Expr, column: str, language: str = "en") -> pl.Expr:
    """``code`` (values of the code column ``column``) as shown in an export of ``language``."""
    mapping = _value_words(column, language)
    return code.replace(mapping) if mapping else code


def for_display(frame: pl.DataFrame, language: str = "en") -> pl.DataFrame:
    """``frame`` as written in an export of ``language``: code columns in words, headers
    labelled (unchanged in English)."""
    if language == "en":
        return frame
    words = [shown(pl.col(name), name, language) for name in frame.columns if name in VALUE_WORDS]
    return frame.with_columns(words).rename(lambda name: header(name, language))


def from_display(frame: pl.DataFrame, language: str = "en") -> pl.DataFrame:
    """The inverse of :func:`for_display`: a sheet read back (headers and words of ``language``)
    with code column names and code values."""
    if language == "en":
        return frame
    frame = frame.rename(lambda label: column_of(label, language))
    codes = [
        pl.col(name).replace({word: code for code, word in _value_words(name, language).items()})
        for name in frame.columns
        if _value_words(name, language)
    ]
    return frame.with_columns(codes)
