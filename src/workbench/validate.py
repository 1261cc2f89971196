"""Typing and validating raw tables into the canonical schema.

Three layers, each reporting problems located by file, table, row and column:

1. parsing: every canonical column is converted to its type; a value that cannot be read (a date
   that is not ``YYYY-MM-DD``, an amount that is not a number) is reported with its row;
2. column rules, checked with pandera: required values present, keys unique, closed sets of
   values, positive amounts;
3. table rules: due date on or after issue date, and the like, and references between tables
   (an invoice's customer exists, a payment's invoice exists, ...).

Rows are numbered from 1 for the first data row (the CSV header is line 1, so row N is line N+1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from workbench.errors import InputError, Problem
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

    return {
        name: typed[name].drop(ROW) if name in typed else empty_frame(name) for name in TABLES
    }


# --- parsing -------------------------------------------------------------------------------


def _clean_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip()


def _typed(frame: pl.DataFrame, table: Table, file: str | None, found: _Collector) -> pl.DataFrame:
    """``frame`` with canonical columns in canonical types, plus a 1-based ``ROW`` column."""
    frame = frame.rename({c: _clean_header(c) for c in frame.columns})
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
    frame = frame.with_row_index(ROW, offset=1)
    converted = [frame.get_column(ROW)]
    for column in table.columns:
        if column.name not in frame.columns:
            converted.append(pl.Series(column.name, [None] * frame.height, dtype=column.dtype))
            continue
        source = frame.get_column(column.name)
        value = _converted(source, column).alias(column.name)
        bad = frame.select(ROW, column.name).filter(_present(source) & value.is_null())
        for row, original in bad.head(MAX_PROBLEMS).iter_rows():
            found.add(
                Problem(
                    f"cannot read {original!r} as {_expected(column)}",
                    file=file,
                    table=table.name,
                    row=row,
                    column=column.name,
                )
            )
        found.more += max(0, bad.height - MAX_PROBLEMS)
        converted.append(value)
    return pl.DataFrame(converted)


def _present(series: pl.Series) -> pl.Series:
    """True where the source holds a value (not null, not a blank string)."""
    if series.dtype == pl.String:
        return series.str.strip_chars().fill_null("") != ""
    return series.is_not_null()


def _expected(column: Column) -> str:
    return {
        pl.Date: "a date (YYYY-MM-DD)",
        pl.Float64: "an amount (a number such as 1234.56)",
        pl.Int64: "a whole number",
        pl.Boolean: "true or false",
    }.get(column.dtype, "text")


def _converted(series: pl.Series, column: Column) -> pl.Series:
    """``series`` converted to ``column.dtype``; unreadable values become null."""
    target = column.dtype
    if series.dtype == target:
        return series
    if series.dtype == pl.Null:
        return series.cast(target)
    if series.dtype == pl.String:
        text = series.str.strip_chars()
        text = pl.select(pl.when(text != "").then(text)).to_series()
        if target == pl.Date:
            return text.str.to_date("%Y-%m-%d", strict=False)
        if target == pl.Boolean:
            lower = text.str.to_lowercase()
            return pl.select(
                pl.when(lower.is_in(TRUE_WORDS))
                .then(True)
                .when(lower.is_in(FALSE_WORDS))
                .then(False)
                .otherwise(None)
            ).to_series()
        if target == pl.Int64:
            as_float = text.cast(pl.Float64, strict=False)
            whole = pl.select(pl.when(as_float == as_float.round()).then(as_float)).to_series()
            return whole.cast(pl.Int64, strict=False)
        return text.cast(target, strict=False)
    if target == pl.Date and series.dtype.is_temporal():
        return series.cast(pl.Date, strict=False)
    if target == pl.String:
        return series.cast(pl.String)
    if target == pl.Int64 and series.dtype.is_float():
        return pl.select(pl.when(series == series.round()).then(series)).to_series().cast(pl.Int64)
    return series.cast(target, strict=False)


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
        for row in frame.filter(rule.bad()).head(MAX_PROBLEMS).iter_rows(named=True):
            found.add(Problem(rule.message(row), file=file, table=table.name, row=row[ROW], column=rule.column))


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
        for row in orphans.sort(ROW).head(MAX_PROBLEMS).iter_rows(named=True):
            found.add(
                Problem(
                    f"{fk.column} {row[fk.column]!r} does not exist in table {fk.table}",
                    file=file,
                    table=table.name,
                    row=row[ROW],
                    column=fk.column,
                )
            )
        found.more += max(0, orphans.height - MAX_PROBLEMS)
