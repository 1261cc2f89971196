"""Reading one source column into its canonical type, as polars expressions.

A source column arrives as text (CSV, a workbook's text cells) or typed (Parquet, a database, a
workbook's numbers and dates). :func:`type_refusal` says whether its type can hold the canonical
column at all (a typed column that does not fit is refused, never cast); :func:`conversion`
gives, for a column that can, two expressions over the source column: its value in the canonical
type (null where unreadable or refused) and, per row, why the value is refused (null where it is
fine or merely unreadable: an unreadable value is reported as "cannot read ..." by the caller).

Expressions rather than Series, so that a whole table is converted in one lazy ``select``: every
column in parallel, one pass over the data (:mod:`workbench.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from workbench.schema import Column, Table

TRUE_WORDS = ("true", "t", "yes", "y", "1", "oui", "vrai")
FALSE_WORDS = ("false", "f", "no", "n", "0", "non", "faux")

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
"""Dates accepted in data. A technical limit, not a business rule: a date such as 0001-01-01 or
9999-12-31 is a typing slip or a placeholder ("no date"), and it breaks later date arithmetic
(datetimes in nanoseconds end in 2262; day counts from such dates are absurd)."""

MAX_AMOUNT = 100_000_000_000
"""Largest amount accepted (in the row's currency): 10^11, that is 10^13 cents. A technical limit,
not a business threshold. Balances are summed as Int64 cents, which hold 9.2 * 10^18: 922,337
amounts at this limit, or 10 million rows averaging 9.2 * 10^9, before an overflow. An amount is a
float64, exact to the cent only below 2^53 cents (9.0 * 10^15 cents, 9.0 * 10^13 in currency): at
10^13 cents every amount, and any sum of up to 900 of them, stays exact to the cent. Larger
amounts (1e17 overflowed the Int64 cents; 1e308 became infinite) are refused with their row."""

WHOLE_LIMIT = 2**53
"""Whole numbers (and ids stored as floats) above this are not exact in a float64."""

NOT_AMOUNTS = frozenset({("fx_rates", "rate_to_base")})
"""Float64 columns that are ratios, not amounts: no :data:`MAX_AMOUNT` limit."""

CONTROLS = r"[\x00-\x08\x0B-\x1F\x7F]"
"""Control characters removed from text (C0 except tab and line feed, and DEL): a NUL or an
escape pasted into a name is invisible and shows as ``_x0000_`` in a workbook."""


@dataclass(frozen=True)
class Conversion:
    """How one source column becomes its canonical column (expressions over the source).

    ``value``: the canonical value (null where unreadable or refused); ``reason``: why a row's
    value is refused (String, null where fine or merely unreadable); ``present``: whether the
    source holds a value (not null, not blank text; NaN is a value); ``controls``: whether the
    source text held control characters (removed from ``value``), or None for non-text;
    ``can_fail``: False when no value can be refused or unreadable (text into text)."""

    value: pl.Expr
    reason: pl.Expr
    present: pl.Expr
    controls: pl.Expr | None = None
    can_fail: bool = True


def is_amount(column: Column, table: Table) -> bool:
    """Whether ``column`` of ``table`` is an amount (limited to :data:`MAX_AMOUNT`)."""
    return column.dtype == pl.Float64 and (table.name, column.name) not in NOT_AMOUNTS


def expected(column: Column) -> str:
    """What a readable value of ``column`` looks like, for "cannot read ... as ..."."""
    return {
        pl.Date: "a date (YYYY-MM-DD, or DD/MM/YYYY with a four-digit year; a real calendar day)",
        pl.Float64: "an amount (a number such as 1234.56)",
        pl.Int64: "a whole number",
        pl.Boolean: "true or false",
    }.get(column.dtype, "text")


def is_textual(dtype: pl.DataType) -> bool:
    """Whether a source column of ``dtype`` holds text (String, Categorical, Enum)."""
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def type_refusal(dtype: pl.DataType, column: Column, table: Table) -> str | None:
    """Why a source column of type ``dtype`` cannot hold ``column`` (None: it can).

    Text and all-null columns are read value by value. Otherwise a typed column is refused, not
    cast, when its type does not fit: amounts and numbers take integers, floats and decimals
    (never Boolean); whole numbers the same, each value whole; dates take Date and Datetime (the
    calendar date in the column's own time zone, any time of day dropped); true/false columns
    take Boolean and integers 0 and 1 (other integers refused row by row); text columns take
    Categorical, Enum and integers (ids stored as numbers, written without ".0"). Lists,
    structs, binary and objects are never read.
    """
    if dtype in (pl.String, pl.Null):
        return None
    target = column.dtype
    if target in (pl.Float64, pl.Int64):
        fits = dtype.is_numeric()
    elif target == pl.Date:
        fits = dtype == pl.Date or isinstance(dtype, pl.Datetime)
    elif target == pl.Boolean:
        fits = dtype == pl.Boolean or dtype.is_integer()  # 0/1 flags (SQLite has no Boolean)
    else:
        fits = dtype.is_numeric() or dtype == pl.Categorical or isinstance(dtype, pl.Enum)
    if fits:
        return None
    noun = {pl.Date: "a date", pl.Int64: "a whole number", pl.Boolean: "true or false"}.get(
        target, "an amount" if is_amount(column, table) else "a number"
    )
    return f"column type {dtype} cannot be read as {noun if target != pl.String else 'text'}"


NO_REASON = pl.lit(None, pl.String)

UNCLEAN = r"^\s|\s$|^$|" + CONTROLS
"""Text a value must be cleaned of: surrounding whitespace, emptiness, control characters."""


def is_clean_text(dtype: pl.DataType, column: Column) -> pl.Expr | None:
    """For a text source of text ``column``: an expression, true when no value of the column
    needs cleaning (:data:`UNCLEAN`), so that it can be taken as it is (:func:`conversion`
    with ``clean=True``: one regex scan instead of stripping and comparing every value). None
    for other columns."""
    if column.dtype != pl.String or not is_textual(dtype):
        return None
    return ~pl.col(column.name).cast(pl.String).str.contains(UNCLEAN).fill_null(False).any()


def conversion(dtype: pl.DataType, column: Column, table: Table, clean: bool = False) -> Conversion:
    """The :class:`Conversion` of a source column of type ``dtype`` (one that
    :func:`type_refusal` accepts) named ``column.name``. ``clean``: the column is text known
    to need no cleaning (:func:`is_clean_text`): its values are taken as they are."""
    source = pl.col(column.name)
    if clean:
        return Conversion(source.cast(pl.String), NO_REASON, source.is_not_null(), can_fail=False)
    present = (
        source.cast(pl.String).str.strip_chars().fill_null("") != ""
        if is_textual(dtype)
        else source.is_not_null()
    )
    target = column.dtype
    if dtype == pl.Null:
        return Conversion(source.cast(target), NO_REASON, present)
    if target == pl.String:
        return _as_text(source, dtype, present)
    if target == pl.Date:
        value, reason = _as_date(source, dtype)
    elif target == pl.Boolean:
        value, reason = _as_boolean(source, dtype)
    else:
        value, reason = _as_number(source, dtype, target, is_amount(column, table))
    return Conversion(value, reason, present)


def _stripped(text: pl.Expr) -> pl.Expr:
    """Text without surrounding whitespace; empty or blank text becomes null (missing)."""
    text = text.str.strip_chars()
    return pl.when(text != "").then(text)


def _as_text(source: pl.Expr, dtype: pl.DataType, present: pl.Expr) -> Conversion:
    """Text stripped (blank = missing) and without :data:`CONTROLS`; integers as digits; whole
    floats and decimals as integers."""
    if dtype.is_integer():
        return Conversion(source.cast(pl.String), NO_REASON, present, can_fail=False)
    if isinstance(dtype, pl.Decimal):
        text = source.cast(pl.String).str.replace(r"\.0*$", "")
        whole = pl.when(~text.str.contains(".", literal=True)).then(text)
        return Conversion(whole, NO_REASON, present)
    if dtype.is_float():
        number = source.cast(pl.Float64)
        exact = number.is_finite() & (number == number.round()) & (number.abs() <= WHOLE_LIMIT)
        value = pl.when(exact).then(number).cast(pl.Int64).cast(pl.String)
        return Conversion(value, NO_REASON, present)
    text = source.cast(pl.String)
    controls = text.str.contains(CONTROLS).fill_null(False)
    cleaned = pl.when(controls).then(text.str.replace_all(CONTROLS, "")).otherwise(text)
    present = cleaned.str.strip_chars().fill_null("") != ""
    return Conversion(_stripped(cleaned), NO_REASON, present, controls, can_fail=False)


def _as_date(source: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """Dates from ISO text, Date or Datetime; dates outside the accepted range refused."""
    if dtype == pl.String:
        value = _stripped(source).str.to_date("%Y-%m-%d", strict=False)
    elif isinstance(dtype, pl.Datetime):
        value = source.dt.date()
    else:
        value = source
    outside = (value < EARLIEST_DATE) | (value > LATEST_DATE)
    accepted = f"is outside the accepted range {EARLIEST_DATE} to {LATEST_DATE}"
    reason = pl.when(outside).then(pl.format(f"date {{}} {accepted}", value))
    return pl.when(~outside.fill_null(False)).then(value), reason


def _as_boolean(source: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """Booleans as stored, 0/1 integers, or the words of :data:`TRUE_WORDS` and
    :data:`FALSE_WORDS`."""
    if dtype == pl.Boolean:
        return source, NO_REASON
    if dtype.is_integer():
        flag = source.is_in([0, 1])
        reason = pl.when(~flag).then(pl.format("{} is neither 0 nor 1", source))
        return pl.when(flag).then(source == 1), reason
    lower = _stripped(source.cast(pl.String)).str.to_lowercase()
    value = pl.when(lower.is_in(TRUE_WORDS)).then(True).when(lower.is_in(FALSE_WORDS)).then(False)
    return value, NO_REASON


def _as_number(
    source: pl.Expr, dtype: pl.DataType, target: pl.DataType, amount: bool
) -> tuple[pl.Expr, pl.Expr]:
    """Float64 or Int64 values; NaN, infinities and numbers above the limit (:data:`MAX_AMOUNT`
    for amounts, :data:`WHOLE_LIMIT` otherwise) refused with the reason, never read as
    missing."""
    if dtype == pl.String:
        number = _stripped(source).cast(pl.Float64, strict=False)
    elif dtype == pl.Float32:
        # Through its shortest decimal text: the float32 0.1 reads 0.1, not 0.10000000149.
        number = source.cast(pl.String).cast(pl.Float64)
    else:
        number = source.cast(pl.Float64)
    limit = MAX_AMOUNT if amount else WHOLE_LIMIT
    too_large = (
        f"too large: amounts above {MAX_AMOUNT:,} cannot be summed exactly to the cent"
        if amount
        else f"too large: numbers above {limit:,} are not exact"
    )
    reason = (
        pl.when(number.is_nan())
        .then(pl.lit("not a number (NaN)"))
        .when(number.is_infinite())
        .then(pl.lit("infinite"))
        .when(number.abs() > limit)
        .then(pl.lit(too_large))
    )
    if target == pl.Float64:
        return pl.when(reason.is_null()).then(number), reason
    if dtype.is_integer():
        return source.cast(pl.Int64, strict=False), reason
    whole = reason.is_null() & (number == number.round())
    return pl.when(whole).then(number).cast(pl.Int64), reason
