"""Numbers, amounts and dates written the way each language writes them, from Babel's CLDR data
(no hand-written separators), and the GSM-7 alphabet of SMS.

Used by the drafts (one message at a time). The team-facing tables use the vectorized helpers of
:mod:`workbench.wording`, which take their symbols from the same Babel data.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.dates import format_date, get_date_format
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

LOCALES = {
    "en": "en_GB", "fr": "fr_FR", "de": "de_DE", "es": "es_ES", "it": "it_IT", "nl": "nl_NL",
}  # fmt: skip
"""The CLDR locale of each draft language (European conventions: en_GB dates day first)."""


def to_cents(amount: float | Decimal) -> Decimal:
    """``amount`` rounded half up to the cent, as an exact Decimal."""
    return Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@cache
def number_symbols(language: str = "en") -> tuple[str, str, str]:
    """(group, decimal, minus) symbols of ``language`` from Babel's locale data (French: the
    narrow no-break space U+202F, the comma, the hyphen-minus; German: the dot, the comma)."""
    return get_group_symbol(language), get_decimal_symbol(language), get_minus_sign_symbol(language)


def number_text(value: float | Decimal, decimals: int = 2, language: str = "en") -> str:
    """A number (a Python scalar) with grouping: ``1,234.56`` (en), ``1 234,56`` (fr),
    ``1.234,56`` (de, es, it, nl). Rounded by Python's format in every language (same figure),
    then written with the symbols of :func:`number_symbols`."""
    text = f"{value:,.{decimals}f}"
    if language == "en":
        return text
    group, decimal, minus = number_symbols(language)
    return text.translate(str.maketrans({",": group, ".": decimal, "-": minus}))


def money_text(amount: float | Decimal | None, currency: str | None, language: str) -> str:
    """``1 234,56 EUR``: the amount rounded half up to the cent, then the currency code."""
    if amount is None:
        return ""
    text = number_text(to_cents(amount), 2, language)
    return f"{text}\u00a0{currency}" if currency else text


def long_date(day: date | None, language: str) -> str:
    """``20 novembre 2026``, ``20 November 2026``, ``20. November 2026``...; French writes the
    first of the month ``1er décembre 2026`` (an ordinal CLDR's date patterns do not carry)."""
    if day is None:
        return ""
    text = format_date(day, format="long", locale=LOCALES[language])
    return "1er" + text[1:] if language == "fr" and day.day == 1 else text


@cache
def _short_pattern(language: str) -> str:
    """The locale's short date pattern, day and month on two digits and a four-digit year
    (``dd/MM/yyyy``, ``dd.MM.yyyy``, ``dd-MM-yyyy``)."""
    pattern = get_date_format("short", locale=LOCALES[language]).pattern
    return re.sub("M+", "MM", re.sub("d+", "dd", re.sub("y+", "yyyy", pattern)))


def short_date(day: date | None, language: str) -> str:
    """``20/11/2026`` (fr, en), ``20.11.2026`` (de), ``20-11-2026`` (nl)..."""
    return "" if day is None else format_date(day, format=_short_pattern(language),
                                               locale=LOCALES[language])  # fmt: skip


# GSM 03.38 basic character set; the extension set costs two septets per character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7_SUBSTITUTES = str.maketrans({
    "\u00a0": " ", "\u202f": " ", "’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"',
    "–": "-", "—": "-", "…": "...", "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e",
    "ï": "i", "ç": "c", "á": "a", "í": "i", "ó": "o", "ú": "u", "À": "A", "Â": "A", "È": "E",
    "Ê": "E", "Î": "I", "Ô": "O", "Û": "U", "Á": "A", "Í": "I", "Ó": "O", "Ú": "U", "ã": "a",
    "õ": "o", "ÿ": "y", "œ": "oe", "Œ": "OE",
})  # fmt: skip
"""Characters outside GSM-7 replaced by their nearest GSM-7 form (accents GSM-7 lacks)."""


def gsm7_text(text: str) -> str:
    """``text`` in the GSM-7 alphabet: known non-GSM characters replaced (â -> a, narrow
    no-break space -> space), any other one replaced by ``?``."""
    text = text.translate(_GSM7_SUBSTITUTES)
    return "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else "?" for ch in text)


def gsm7_septets(text: str) -> int | None:
    """Length of ``text`` in GSM-7 septets (extension characters count two); None when a
    character is not in GSM-7 at all."""
    if any(ch not in GSM7_BASIC and ch not in GSM7_EXTENSION for ch in text):
        return None
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
