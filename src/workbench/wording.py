"""Wording helpers of the reasons (:mod:`workbench.reasons`): money, counts, months, channel
and tone names, as polars expressions (English; the drafts have their own per language)."""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import cents
from workbench.schema import TONES

CHANNEL_WORDS = {"registered_letter": "registered letter"}
"""How a reason names a channel whose code is not a word."""


def money_text(amount: pl.Expr, currency: pl.Expr | str | None = None) -> pl.Expr:
    """``amount`` (currency) as text with thousands separators and cents: ``1,234.56 EUR``."""
    amount_cents = cents(amount)
    units = (
        (amount_cents.abs() // 100)
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "${1},")
        .str.strip_chars_end(",")
        .str.reverse()
    )
    text = pl.concat_str(
        pl.when(amount_cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        units,
        pl.lit("."),
        (amount_cents.abs() % 100).cast(pl.String).str.zfill(2),
    )
    if currency is None:
        return text
    currency = pl.lit(currency) if isinstance(currency, str) else currency
    return pl.concat_str(text, pl.lit(" "), currency)


def counted(n: pl.Expr, word: str, plural: str | None = None) -> pl.Expr:
    """``"1 invoice"``, ``"3 invoices"``."""
    many = plural or f"{word}s"
    return pl.format("{} {}", n, pl.when(n == 1).then(pl.lit(word)).otherwise(pl.lit(many)))


def month_text(day: pl.Expr, as_of: date) -> pl.Expr:
    """``June`` (same year as as_of) or ``June 2025``."""
    return (
        pl.when(day.dt.year() == as_of.year)
        .then(day.dt.strftime("%B"))
        .otherwise(day.dt.strftime("%B %Y"))
    )


def channel_words(channel: pl.Expr) -> pl.Expr:
    """A channel code in words (``registered letter``)."""
    return channel.replace(CHANNEL_WORDS)


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
