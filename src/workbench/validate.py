"""Typing and validating raw tables into the canonical schema.

Three layers, each reporting problems located by file, table, row and column:

1. parsing: headers are matched ignoring surrounding spaces and letter case (two columns that
   become the same name are refused); every canonical column is converted to its type; a typed
   column (Parquet, a workbook, a database) of a type that does not fit is refused, never cast
   (see :func:`_type_refusal`); a value that cannot be read (a date that is not ``YYYY-MM-DD``,
   an amount that is not a number) is reported with its row, and so are NaN, infinite and
   too large numbers (:data:`MAX_AMOUNT`) and dates outside :data:`EARLIEST_DATE` to
   :data:`LATEST_DATE`; blank text counts as missing;
2. column rules, checked with pandera: required values present, keys unique, closed sets of
   values, positive amounts;
3. table rules: due date on or after issue date, and the like, and references between tables
   (an invoice's customer exists, a payment's invoice exists, ...).

Rows are numbered from 1 for the first data row (the CSV header is line 1, so row N is line N+1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import pandera.polars as pa
import polars as pl

from workbench.errors import InputError, Problem, warn_input
from workbench.schema import TABLES, Column, Table, empty_frame

MAX_PROBLEMS = 20
"""Problems listed in one error; the rest are counted."""

ROW = "__row__"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "oui", "vrai")
FALSE_WORDS = ("false", "f", "no", "n", "0", "non", "faux")


class _Collector:
    """Collects problems up to :data:`MAX_PROBLEMS`, counting the rest."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1

    def add_rows(
        self,
        rows: pl.DataFrame,
        message: Callable[[dict], str],
        *,
        file: str | None,
        table: str,
        column: str,
    ) -> None:
        """One problem per row of ``rows`` (which carry :data:`ROW`), in row order: the first
        :data:`MAX_PROBLEMS` worded by ``message``, the rest counted."""
        for row in rows.sort(ROW).head(MAX_PROBLEMS).iter_rows(named=True):
            self.add(Problem(message(row), file=file, table=table, row=row[ROW], column=column))
        self.more += max(0, rows.height - MAX_PROBLEMS)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems, more=self.more)


def validated_tables(
    raw: Mapping[str, pl.DataFrame], sources: Mapping[str, str] | None = None
) -> dict[str, pl.DataFrame]:
    """Every canonical table, typed and validated; absent optional tables are empty.

    ``raw`` maps table names to frames whose columns carry canonical names (strings or typed
    values); ``sources`` maps table names to the file they came from, for error messages.
    Raises :class:`InputError` listing what is wrong.
    """
    sources = dict(sources or {})
    found = _Collector()
    for name in raw:
        if name not in TABLES:
            found.add(Problem(f"unknown table {name!r}; known: {', '.join(TABLES)}", table=name))
    for table in TABLES.values():
        if table.mandatory and table.name not in raw:
            found.add(Problem(f"table {table.name} is required but missing", table=table.name))
    found.raise_if_any()

    typed: dict[str, pl.DataFrame] = {}
    for name, table in TABLES.items():
        if name in raw:
            typed[name] = _typed(raw[name], table, sources.get(name), found)
    found.raise_if_any()

    for name, frame in typed.items():
        _check_columns(frame, TABLES[name], sources.get(name), found)
        _check_rules(frame, TABLES[name], sources.get(name), found)
    for name, frame in typed.items():
        _check_references(frame, TABLES[name], typed, sources.get(name), found)
    found.raise_if_any()
    for name, frame in typed.items():
        _check_invoice_owner(frame, TABLES[name], typed, sources.get(name), found)
    found.raise_if_any()

    return {
        name: typed[name].drop(ROW) if name in typed else empty_frame(name) for name in TABLES
    }


# --- parsing -------------------------------------------------------------------------------


def _clean_header(name: str) -> str:
    """A header as matched to the canonical names: no surrounding spaces or BOM, case-folded."""
    return name.strip().lstrip("\ufeff").strip().casefold()


def _with_clean_headers(
    frame: pl.DataFrame, table: Table, file: str | None, found: _Collector
) -> pl.DataFrame | None:
    """``frame`` with cleaned headers, or None (reported) when two become the same name."""
    groups: dict[str, list[str]] = {}
    for name in frame.columns:
        groups.setdefault(_clean_header(name), []).append(name)
    clashes = {clean: names for clean, names in groups.items() if len(names) > 1}
    for clean, names in clashes.items():
        found.add(
            Problem(
                f"columns {' and '.join(repr(n) for n in names)} are the same column once "
                "surrounding spaces and letter case are ignored: keep one",
                file=file,
                table=table.name,
                column=clean,
            )
        )
    return None if clashes else frame.rename({c: _clean_header(c) for c in frame.columns})


def _typed(frame: pl.DataFrame, table: Table, file: str | None, found: _Collector) -> pl.DataFrame:
    """``frame`` with canonical columns in canonical types, plus a 1-based ``ROW`` column."""
    cleaned = _with_clean_headers(frame, table, file, found)
    if cleaned is None:
        return frame
    frame = cleaned
    missing = [c for c in table.required_columns if c not in frame.columns]
    for column in missing:
        found.add(
            Problem(
                f"required column {column!r} is missing (columns found: {', '.join(frame.columns)})",
                file=file,
                table=table.name,
                column=column,
            )
        )
    if missing:
        return frame
    if ROW in frame.columns:  # numbered by the reader (blank lines skipped) or the mapping
        frame = frame.select(pl.col(ROW).cast(pl.UInt32), pl.exclude(ROW))
    else:
        frame = frame.with_row_index(ROW, offset=1)
    converted = [frame.get_column(ROW)]
    for column in table.columns:
        nulls = pl.Series(column.name, [None] * frame.height, dtype=column.dtype)
        if column.name not in frame.columns:
            converted.append(nulls)
            continue
        source = frame.get_column(column.name)
        refusal = _type_refusal(source.dtype, column, table)
        if refusal is not None:
            found.add(Problem(refusal, file=file, table=table.name, column=column.name))
            converted.append(nulls)
            continue
        textual = source.dtype in (pl.String, pl.Categorical) or isinstance(source.dtype, pl.Enum)
        if column.dtype == pl.String and textual:
            source = source.cast(pl.String)
            source = _without_controls(source, frame.get_column(ROW), column, (file, table))
        value, reason = _converted(source, column, _is_amount(column, table))
        _report_values(frame.get_column(ROW), source, value, reason, column, (file, table, found))
        if column.name == "currency":
            value = value.str.to_uppercase()  # "eur", " EUR " and "EUR" are one currency
        converted.append(value.alias(column.name))
    return pl.DataFrame(converted)


CONTROLS = r"[\x00-\x08\x0B-\x1F\x7F]"
"""Control characters removed from text (C0 except tab and line feed, and DEL): a NUL or an
escape pasted into a name is invisible and shows as ``_x0000_`` in a workbook."""


def _without_controls(
    source: pl.Series, rows: pl.Series, column: Column, where: tuple[str | None, Table]
) -> pl.Series:
    """``source`` (text) without :data:`CONTROLS`, with a warning counting the cells changed and
    locating the first (``rows``: the row number of each value)."""
    dirty = source.str.contains(CONTROLS).fill_null(False)
    cells = int(dirty.sum())
    if cells == 0:
        return source
    file, table = where
    first = int(rows.filter(dirty)[0])
    warn_input(
        Problem(
            f"{cells} cell(s) of this column held control characters (NUL, escape, ...): "
            "removed (this row is the first)",
            file=file,
            table=table.name,
            row=first,
            column=column.name,
        )
    )
    return source.str.replace_all(CONTROLS, "")


def _report_values(
    rows: pl.Series,
    source: pl.Series,
    value: pl.Series,
    reason: pl.Series,
    column: Column,
    where: tuple[str | None, Table, _Collector],
) -> None:
    """Report every row whose value is refused (``reason``) or present but unreadable."""
    file, table, found = where
    checked = pl.DataFrame({"row": rows, "original": source, "reason": reason})
    bad = checked.filter(reason.is_not_null() | (_present(source) & value.is_null()))
    for row, original, why in bad.head(MAX_PROBLEMS).iter_rows():
        message = why or f"cannot read {original!r} as {_expected(column)}"
        found.add(Problem(message, file=file, table=table.name, row=row, column=column.name))
    found.more += max(0, bad.height - MAX_PROBLEMS)


def _present(series: pl.Series) -> pl.Series:
    """True where the source holds a value (not null, not a blank string; NaN is a value)."""
    if series.dtype in (pl.String, pl.Categorical) or isinstance(series.dtype, pl.Enum):
        return series.cast(pl.String).str.strip_chars().fill_null("") != ""
    return series.is_not_null()


def _expected(column: Column) -> str:
    return {
        pl.Date: "a date (YYYY-MM-DD, or DD/MM/YYYY with a four-digit year; a real calendar day)",
        pl.Float64: "an amount (a number such as 1234.56)",
        pl.Int64: "a whole number",
        pl.Boolean: "true or false",
    }.get(column.dtype, "text")


# --- parsing: column types --------------------------------------------------------------------


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


def _is_amount(column: Column, table: Table) -> bool:
    return column.dtype == pl.Float64 and (table.name, column.name) not in NOT_AMOUNTS


def _type_refusal(dtype: pl.DataType, column: Column, table: Table) -> str | None:
    """Why a source column of type ``dtype`` cannot hold ``column`` (None: it can).

    Text and all-null columns are read value by value. Otherwise a typed column is refused, not
    cast, when its type does not fit: amounts and numbers take integers, floats and decimals
    (never Boolean); whole numbers the same, each value whole; dates take Date and Datetime (the
    calendar date in the column's own time zone, any time of day dropped); true/false columns
    take Boolean and integers 0 and 1 (other integers refused row by row); text columns take Categorical, Enum and integers (ids stored as numbers,
    written without ".0"). Lists, structs, binary and objects are never read.
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
        target, "an amount" if _is_amount(column, table) else "a number"
    )
    return f"column type {dtype} cannot be read as {noun if target != pl.String else 'text'}"


def _converted(series: pl.Series, column: Column, amount: bool) -> tuple[pl.Series, pl.Series]:
    """``series`` as ``column.dtype`` (null where unreadable or refused), and for each row why its
    value is refused (null where it is fine or merely unreadable). ``series`` has a type that
    :func:`_type_refusal` accepts."""
    target = column.dtype
    if series.dtype == pl.Null:
        return series.cast(target), _no_reason(series)
    if target == pl.String:
        return _as_text(series)
    if target == pl.Date:
        return _as_date(series)
    if target == pl.Boolean:
        return _as_boolean(series)
    return _as_number(series, target, amount)


def _no_reason(series: pl.Series) -> pl.Series:
    return pl.Series([None] * len(series), dtype=pl.String)


def _stripped(series: pl.Series) -> pl.Series:
    """Text without surrounding whitespace; empty or blank text becomes null (missing)."""
    text = series.cast(pl.String).str.strip_chars()
    return pl.select(pl.when(text != "").then(text)).to_series()


def _as_text(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Text stripped (blank = missing); integers as digits; whole floats as integers."""
    dtype = series.dtype
    if dtype.is_integer():
        return series.cast(pl.String), _no_reason(series)
    if isinstance(dtype, pl.Decimal):
        text = series.cast(pl.String).str.replace(r"\.0*$", "")
        whole = pl.select(pl.when(~text.str.contains(".", literal=True)).then(text)).to_series()
        return whole, _no_reason(series)
    if dtype.is_float():
        number = series.cast(pl.Float64)
        exact = number.is_finite() & (number == number.round()) & (number.abs() <= WHOLE_LIMIT)
        value = pl.select(pl.when(exact).then(number)).to_series().cast(pl.Int64).cast(pl.String)
        return value, _no_reason(series)
    return _stripped(series), _no_reason(series)


def _as_date(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Dates from ISO text, Date or Datetime; dates outside the accepted range refused."""
    if series.dtype == pl.String:
        value = _stripped(series).str.to_date("%Y-%m-%d", strict=False)
    elif isinstance(series.dtype, pl.Datetime):
        value = series.dt.date()
    else:
        value = series
    outside = (value < EARLIEST_DATE) | (value > LATEST_DATE)
    accepted = f"is outside the accepted range {EARLIEST_DATE} to {LATEST_DATE}"
    reason = pl.select(pl.when(outside).then(pl.format(f"date {{}} {accepted}", value))).to_series()
    return pl.select(pl.when(reason.is_null()).then(value)).to_series(), reason


def _as_boolean(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Booleans as stored, or from the words of :data:`TRUE_WORDS` and :data:`FALSE_WORDS`."""
    if series.dtype == pl.Boolean:
        return series, _no_reason(series)
    if series.dtype.is_integer():
        flag = series.is_in([0, 1])
        value = pl.select(pl.when(flag).then(series == 1)).to_series()
        reason = pl.select(
            pl.when(~flag).then(pl.format("{} is neither 0 nor 1", series))
        ).to_series()
        return value, reason
    lower = _stripped(series).str.to_lowercase()
    value = pl.select(
        pl.when(lower.is_in(TRUE_WORDS)).then(True).when(lower.is_in(FALSE_WORDS)).then(False)
    ).to_series()
    return value, _no_reason(series)


def _as_number(series: pl.Series, target: pl.DataType, amount: bool) -> tuple[pl.Series, pl.Series]:
    """Float64 or Int64 values; NaN, infinities and (for amounts) amounts above
    :data:`MAX_AMOUNT` refused with the reason, never read as missing."""
    if series.dtype == pl.String:
        number = _stripped(series).cast(pl.Float64, strict=False)
    elif series.dtype == pl.Float32:
        # Through its shortest decimal text: the float32 0.1 reads 0.1, not 0.10000000149.
        number = series.cast(pl.String).cast(pl.Float64)
    else:
        number = series.cast(pl.Float64)
    limit = MAX_AMOUNT if amount else WHOLE_LIMIT
    too_large = (
        f"too large: amounts above {MAX_AMOUNT:,} cannot be summed exactly to the cent"
        if amount
        else f"too large: numbers above {limit:,} are not exact"
    )
    reason = pl.select(
        pl.when(number.is_nan())
        .then(pl.lit("not a number (NaN)"))
        .when(number.is_infinite())
        .then(pl.lit("infinite"))
        .when(number.abs() > limit)
        .then(pl.lit(too_large))
    ).to_series()
    if target == pl.Float64:
        return pl.select(pl.when(reason.is_null()).then(number)).to_series(), reason
    if series.dtype.is_integer():
        return series.cast(pl.Int64, strict=False), reason
    whole = reason.is_null() & (number == number.round())
    return pl.select(pl.when(whole).then(number)).to_series().cast(pl.Int64), reason


# --- column rules (pandera) ------------------------------------------------------------------


def _pandera_schema(table: Table) -> pa.DataFrameSchema:
    columns = {}
    for column in table.columns:
        checks = []
        if column.allowed is not None:
            checks.append(pa.Check.isin(list(column.allowed)))
        if column.positive:
            checks.append(pa.Check.gt(0))
        columns[column.name] = pa.Column(
            column.dtype,
            checks=checks,
            nullable=not column.required,
            unique=len(table.key) == 1 and column.name == table.key[0],
            coerce=False,
        )
    return pa.DataFrameSchema(
        columns, unique=list(table.key) if len(table.key) > 1 else None, strict=False
    )


def _check_columns(frame: pl.DataFrame, table: Table, file: str | None, found: _Collector) -> None:
    try:
        _pandera_schema(table).validate(frame.drop(ROW), lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.sort("index", "column", nulls_last=True)
        rows = frame.get_column(ROW)
        for case in cases.iter_rows(named=True):
            row = None if case["index"] is None else int(rows[int(case["index"])])
            found.add(
                Problem(
                    _pandera_message(case, table),
                    file=file,
                    table=table.name,
                    row=row,
                    column=case["column"] or ", ".join(table.key),
                )
            )


def _pandera_message(case: dict, table: Table) -> str:
    check = str(case["check"])
    value = case["failure_case"]
    if check == "not_nullable":
        return "required value is missing"
    if "uniqueness" in check:
        return f"duplicate key ({', '.join(table.key)}) {value}: keys must be unique"
    if check.startswith("isin"):
        column = table.column(case["column"])
        return f"{value!r} is not allowed; expected one of {', '.join(column.allowed or ())}"
    if check.startswith("greater_than"):
        return f"must be greater than 0, got {value}"
    return f"{check} failed for {value!r}"


# --- table rules and references ----------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    table: str
    column: str
    bad: Callable[[], pl.Expr]
    message: Callable[[dict], str]


_RULES = (
    _Rule(
        "invoices",
        "due_date",
        lambda: pl.col("due_date") < pl.col("issue_date"),
        lambda r: f"due date {r['due_date']} is before issue date {r['issue_date']}",
    ),
    _Rule(
        "disputes",
        "resolved_date",
        lambda: pl.col("resolved_date") < pl.col("opened_date"),
        lambda r: f"resolved date {r['resolved_date']} is before opened date {r['opened_date']}",
    ),
    _Rule(
        "promises",
        "promised_date",
        lambda: pl.col("promised_date") < pl.col("promise_date"),
        lambda r: f"promised date {r['promised_date']} is before the promise was made "
        f"({r['promise_date']})",
    ),
    _Rule(
        "disputes",
        "amount",
        lambda: pl.col("amount") < 0,
        lambda r: f"disputed amount must not be negative, got {r['amount']}",
    ),
)


def _check_rules(frame: pl.DataFrame, table: Table, file: str | None, found: _Collector) -> None:
    for rule in _RULES:
        if rule.table != table.name:
            continue
        found.add_rows(
            frame.filter(rule.bad()), rule.message, file=file, table=table.name, column=rule.column
        )


def _check_references(
    frame: pl.DataFrame,
    table: Table,
    typed: Mapping[str, pl.DataFrame],
    file: str | None,
    found: _Collector,
) -> None:
    for fk in table.foreign_keys:
        if fk.table not in typed:
            continue
        known = typed[fk.table].select(pl.col(fk.target_column).alias(fk.column)).unique()
        orphans = frame.filter(pl.col(fk.column).is_not_null()).join(
            known, on=fk.column, how="anti"
        )
        found.add_rows(
            orphans,
            lambda row, fk=fk: f"{fk.column} {row[fk.column]!r} does not exist in table {fk.table}",
            file=file,
            table=table.name,
            column=fk.column,
        )


def _check_invoice_owner(
    frame: pl.DataFrame,
    table: Table,
    typed: Mapping[str, pl.DataFrame],
    file: str | None,
    found: _Collector,
) -> None:
    """A row naming both a customer and an invoice (payments, promises, plans, contacts) must
    name the invoice's own customer: a payment of C3 applied to C1's invoice would move money
    between customers silently."""
    if "invoices" not in typed or not {"customer_id", "invoice_id"} <= set(frame.columns):
        return
    owners = typed["invoices"].select("invoice_id", owner=pl.col("customer_id"))
    wrong = (
        frame.filter(pl.col("invoice_id").is_not_null(), pl.col("customer_id").is_not_null())
        .join(owners, on="invoice_id", how="inner")
        .filter(pl.col("customer_id") != pl.col("owner"))
    )
    what = table.name.removesuffix("s").replace("_", " ")
    key = table.key[0] if table.key else None

    def message(row: dict) -> str:
        named = f"{what} {row[key]}" if key and row.get(key) is not None else what
        return (
            f"{named} names customer {row['customer_id']} but its invoice "
            f"{row['invoice_id']} belongs to customer {row['owner']}"
        )

    found.add_rows(wrong, message, file=file, table=table.name, column="customer_id")
