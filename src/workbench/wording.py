"""Wording helpers of the team's texts (:mod:`workbench.reasons`, the worklist): money, counts,
dates, months, channel names, as polars expressions, in the team's language (English or French:
:mod:`workbench.phrases`; the drafts have their own per language)."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from workbench.balances import cents
from workbench.locale_text import number_symbols, number_text  # noqa: F401 (re-exported)
from workbench.phrases import CHANNEL_WORDS, NOUNS, SINGULAR
from workbench.schema import TONES

_FIELD = re.compile(r"\{(\w+)\}")


def money_text(
    amount: pl.Expr, currency: pl.Expr | str | None = None, language: str = "en"
) -> pl.Expr:
    """``amount`` (currency) as text with thousands separators and cents (rounded to the cent
    by :func:`workbench.balances.cents`): ``1,234.56 EUR`` (en), ``1 234,56 EUR`` (fr: the
    group, decimal and minus symbols of Babel's locale data, the group a U+202F; a no-break
    space U+00A0 before the currency, as in :func:`workbench.locale_text.money_text`)."""
    group, decimal, minus = number_symbols(language)
    amount_cents = cents(amount)
    units = (
        (amount_cents.abs() // 100)
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "${1},")
        .str.strip_chars_end(",")
        .str.reverse()
    )
    if group != ",":
        units = units.str.replace_all(",", group, literal=True)
    text = pl.concat_str(
        pl.when(amount_cents < 0).then(pl.lit(minus)).otherwise(pl.lit("")),
        units,
        pl.lit(decimal),
        (amount_cents.abs() % 100).cast(pl.String).str.zfill(2),
    )
    if currency is None:
        return text
    currency = pl.lit(currency) if isinstance(currency, str) else currency
    return pl.concat_str(text, pl.lit(" " if language == "en" else "\u00a0"), currency)


def phrase(template: str, **parts: pl.Expr) -> pl.Expr:
    """``template`` (a :mod:`workbench.phrases` template) with each ``{name}`` filled with the
    expression ``parts[name]``; parts the template does not name are left out."""
    names = _FIELD.findall(template)
    if not names:
        return pl.lit(template)
    return pl.format(_FIELD.sub("{}", template), *(parts[name] for name in names))


def counted(n: pl.Expr, noun: str, language: str = "en") -> pl.Expr:
    """``"1 invoice"``, ``"3 invoices"``; ``"0 facture"``, ``"3 factures"`` (``noun``: a key
    of :data:`workbench.phrases.NOUNS`)."""
    one, many = NOUNS[language][noun]
    word = pl.when(n.is_in(SINGULAR[language])).then(pl.lit(one)).otherwise(pl.lit(many))
    return pl.format("{} {}", n, word)


def day_text(day: pl.Expr, language: str = "en") -> pl.Expr:
    """A date in a text: ISO (``2026-11-20``, as is) in English, ``20/11/2026`` in French."""
    return day if language == "en" else day.dt.strftime("%d/%m/%Y")


def percent_text(n: pl.Expr, language: str = "en") -> pl.Expr:
    """A whole percentage as text with the locale's pattern (Babel): ``12%``, ``12 %``."""
    from babel.numbers import format_percent

    before, after = format_percent(0, locale=language).split("0", 1)
    return pl.concat_str(pl.lit(before), n.cast(pl.String), pl.lit(after))


def month_text(day: pl.Expr, as_of: date, language: str = "en") -> pl.Expr:
    """``June`` (same year as as_of) or ``June 2025``; ``juin``, ``juin 2025``."""
    if language == "en":
        name, with_year = day.dt.strftime("%B"), day.dt.strftime("%B %Y")
    else:
        from babel.dates import get_month_names

        months = dict(get_month_names("wide", locale=language).items())
        name = day.dt.month().cast(pl.Int64).replace_strict(months, return_dtype=pl.String)
        with_year = pl.format("{} {}", name, day.dt.year())
    return pl.when(day.dt.year() == as_of.year).then(name).otherwise(with_year)


def words(code: pl.Expr, table: dict[str, dict[str, str]], language: str = "en") -> pl.Expr:
    """``code`` in words from a per-language :mod:`workbench.phrases` table (a code missing
    from the table is kept as it is)."""
    mapping = table[language]
    return code.replace(mapping) if mapping else code


def channel_words(channel: pl.Expr, language: str = "en") -> pl.Expr:
    """A channel code in words (``registered letter``, ``lettre recommandée``)."""
    return words(channel, CHANNEL_WORDS, language)


def joined(*parts: pl.Expr) -> pl.Expr:
    """The non-null, non-empty ``parts`` joined by ``", "`` (null when there are none)."""
    parts = [pl.when(part != "").then(part) for part in parts]
    text = pl.concat_str(*parts, separator=", ", ignore_nulls=True)
    return pl.when(text != "").then(text)


def tone_rank(tone: pl.Expr) -> pl.Expr:
    """Position of a tone in :data:`workbench.schema.TONES` (friendly 0 ... formal 3)."""
    return tone.replace_strict({t: i for i, t in enumerate(TONES)}, return_dtype=pl.Int64)


def tone_of(rank: pl.Expr) -> pl.Expr:
    """The tone at a position of :data:`workbench.schema.TONES`."""
    return rank.replace_strict(dict(enumerate(TONES)), return_dtype=pl.String)
