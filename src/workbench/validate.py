"""Typing and validating raw tables into the canonical schema.

Three layers, each reporting problems located by file, table, row and column:

1. parsing: headers are matched ignoring surrounding spaces and letter case (two columns that
   become the same name are refused); every canonical column is converted to its type; a typed
   column (Parquet, a workbook, a database) of a type that does not fit is refused, never cast
   (:mod:`workbench.parsing`); a value that cannot be read (a date that is not ``YYYY-MM-DD``,
   an amount that is not a number) is reported with its row, and so are NaN, infinite and
   too large numbers (:data:`~workbench.parsing.MAX_AMOUNT`) and dates outside the accepted
   range; blank text counts as missing;
2. column rules: required values present, keys unique, closed sets of values, positive amounts;
3. table rules: due date on or after issue date, and the like, and references between tables
   (an invoice's customer exists, a payment's invoice exists, ...).

Rows are numbered from 1 for the first data row (the CSV header is line 1, so row N is line N+1).

**One pass per table.** Each table is converted in one lazy ``select`` that also flags the
refused values, and every row rule is counted in one more; the rows behind a problem are looked
up only when there is one, so a valid table of 10 million rows costs a few scans, not one per
check (the references of all tables are joined together, in parallel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import polars as pl

from workbench.errors import InputError, Problem, warn_input
from workbench.parsing import (
    MAX_AMOUNT,
    Conversion,
    conversion,
    expected,
    is_clean_text,
    is_textual,
    type_refusal,
)
from workbench.schema import TABLES, Column, ForeignKey, Table, empty_frame

__all__ = ["MAX_AMOUNT", "MAX_PROBLEMS", "ROW", "validated_tables"]

MAX_PROBLEMS = 20
"""Problems listed in one error; the rest are counted."""

ROW = "__row__"


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
        _check_rows(frame, TABLES[name], sources.get(name), found)
    wrong_owners = _check_references(typed, sources, found)
    found.raise_if_any()
    _check_invoice_owners(wrong_owners, sources, found)
    found.raise_if_any()

    return {name: typed[name].drop(ROW) if name in typed else empty_frame(name) for name in TABLES}


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
    """``frame`` with canonical columns in canonical types, plus a 1-based ``ROW`` column.

    Every column is converted in one lazy ``select`` (:func:`workbench.parsing.conversion`);
    the rows of a column are looked at one by one only when some are refused or unreadable."""
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
        frame = frame.with_columns(pl.col(ROW).cast(pl.UInt32))
    else:
        frame = frame.with_row_index(ROW, offset=1)
    conversions = _conversions(frame, table, file, found)
    values = [pl.col(ROW)] + [
        pl.lit(None, c.dtype).alias(c.name)
        if c.name not in conversions
        else conversions[c.name].value.alias(c.name)
        for c in table.columns
    ]
    flags = {
        f"{BAD}{name}": conversion.reason.is_not_null()
        | (conversion.present & conversion.value.is_null())
        for name, conversion in conversions.items()
        if conversion.can_fail
    } | {
        f"{CONTROL}{name}": conversion.controls
        for name, conversion in conversions.items()
        if conversion.controls is not None
    }
    typed = frame.lazy().select(*values, **flags).collect()
    counts = typed.select(pl.col(list(flags)).sum()).row(0, named=True) if flags else {}
    for name, count in counts.items():
        if count and name.startswith(CONTROL):
            column = table.column(name.removeprefix(CONTROL))
            _warn_controls(typed, name, count, column, (file, table.name))
        elif count:
            column = table.column(name.removeprefix(BAD))
            _report_values(frame, conversions[column.name], column, (file, table, found))
    return typed.select(ROW, *table.column_names)


BAD = "__bad__"
CONTROL = "__control__"
"""Prefixes of the per-column flags computed with the values: refused or unreadable; held
control characters."""

UPPER_CASE = ("currency",)
"""Text columns read in upper case (currency codes: "eur" is EUR)."""
LOWER = "__lower__"
"""Prefix of the probe saying whether a column of :data:`UPPER_CASE` holds a lower-case letter."""


def _conversions(
    frame: pl.DataFrame, table: Table, file: str | None, found: _Collector
) -> dict[str, Conversion]:
    """The :class:`Conversion` of every canonical column ``frame`` holds with a type that fits
    (a column whose type is refused is reported and left out: it reads as nulls). Text columns
    needing no cleaning are found first, in one scan (:func:`workbench.parsing.is_clean_text`)."""
    fitting = {}
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        dtype = frame.schema[column.name]
        refusal = type_refusal(dtype, column, table)
        if refusal is not None:
            found.add(Problem(refusal, file=file, table=table.name, column=column.name))
            continue
        fitting[column.name] = (dtype, column)
    probes = {
        name: probe
        for name, (dtype, column) in fitting.items()
        if (probe := is_clean_text(dtype, column)) is not None
    }
    probes |= {
        f"{LOWER}{name}": pl.col(name).cast(pl.String).str.contains(r"\p{Ll}").any()
        for name in UPPER_CASE
        if name in fitting and is_textual(fitting[name][0])
    }
    found_now = frame.lazy().select(**probes).collect().row(0, named=True) if probes else {}
    conversions = {
        name: conversion(dtype, column, table, clean=found_now.get(name, False))
        for name, (dtype, column) in fitting.items()
    }
    # upper-cased within the conversion (a `with_columns` afterwards would copy the whole
    # table into one chunk: 0.9 GB and 0.5 s per 10 million payments), and only when needed
    return conversions | {
        name: replace(conversions[name], value=conversions[name].value.str.to_uppercase())
        for name in UPPER_CASE
        if found_now.get(f"{LOWER}{name}")
    }


def _warn_controls(
    typed: pl.DataFrame, flag: str, cells: int, column: Column, where: tuple[str | None, str]
) -> None:
    """Warn that ``cells`` cells of ``column`` held control characters, removed, locating the
    first (``flag``: the column of ``typed`` saying which rows held some)."""
    file, table = where
    first = int(typed.filter(pl.col(flag)).get_column(ROW).min())
    warn_input(
        Problem(
            f"{cells} cell(s) of this column held control characters (NUL, escape, ...): "
            "removed (this row is the first)",
            file=file,
            table=table,
            row=first,
            column=column.name,
        )
    )


def _report_values(
    frame: pl.DataFrame,
    conversion: Conversion,
    column: Column,
    where: tuple[str | None, Table, _Collector],
) -> None:
    """Report every row of ``frame`` whose ``column`` value is refused or present but
    unreadable: the first :data:`MAX_PROBLEMS` worded, the rest counted."""
    file, table, found = where
    bad = (
        frame.lazy()
        .select(
            pl.col(ROW),
            original=pl.col(column.name),
            reason=conversion.reason,
            bad=conversion.reason.is_not_null() | (conversion.present & conversion.value.is_null()),
        )
        .filter("bad")
        .collect()
    )
    for row, original, why, _ in bad.sort(ROW).head(MAX_PROBLEMS).iter_rows():
        message = why or f"cannot read {original!r} as {expected(column)}"
        found.add(Problem(message, file=file, table=table.name, row=row, column=column.name))
    found.more += max(0, bad.height - MAX_PROBLEMS)


# --- row rules: column rules, then table rules --------------------------------------------


@dataclass(frozen=True)
class _Check:
    """A rule checked on every row of a table: ``bad`` is true on a failing row, ``message``
    words the problem from the failing row (its columns, and ``value``: the value shown)."""

    column: str
    bad: pl.Expr
    message: Callable[[dict], str]
    value: pl.Expr | None = None
    column_rule: bool = True
    proven: pl.Expr | None = None
    """A cheap aggregate, true when it proves that no row fails (then ``bad`` is not counted)."""


def _column_checks(table: Table) -> list[_Check]:
    """Required values present, values in their closed set, positive amounts, unique keys
    (nulls are checked by the first rule only)."""
    checks = []
    for column in table.columns:
        value = pl.col(column.name)
        if column.required:
            checks.append(
                _Check(column.name, value.is_null(), lambda r: "required value is missing")
            )
        if column.allowed is not None:
            expected = ", ".join(column.allowed)
            checks.append(_Check(
                column.name, ~value.is_in(column.allowed),
                lambda r, expected=expected: f"{r['value']!r} is not allowed; expected one of {expected}",
                value,
            ))  # fmt: skip
        if column.positive:
            checks.append(
                _Check(
                    column.name,
                    value <= 0,
                    lambda r: f"must be greater than 0, got {r['value']}",
                    value,
                )
            )
    if table.key:
        checks.append(_key_check(table))
    return checks


def _key_check(table: Table) -> _Check:
    """Every row whose key (one or several columns, all present) is shared by another row."""
    keys = [pl.col(k) for k in table.key]
    key = keys[0] if len(keys) == 1 else pl.struct(keys)
    shown = pl.concat_str([k.cast(pl.String) for k in keys], separator=", ")
    named = ", ".join(table.key)
    # as many distinct fingerprints as rows prove the keys distinct (a tenth of the cost of
    # finding the duplicated rows, which is done only when the proof fails)
    distinct = fingerprint(list(table.key)).n_unique() == pl.len()
    return _Check(
        named,
        pl.all_horizontal(k.is_not_null() for k in keys) & key.is_duplicated(),
        lambda r: f"duplicate key ({named}) {r['value']}: keys must be unique",
        shown,
        proven=distinct,
    )


def _row_checks(table: Table) -> list[_Check]:
    """The column rules of ``table``, then its table rules (:data:`_RULES`)."""
    rules = [
        _Check(rule.column, rule.bad(), rule.message, column_rule=False)
        for rule in _RULES
        if rule.table == table.name
    ]
    return _column_checks(table) + rules


def _check_rows(frame: pl.DataFrame, table: Table, file: str | None, found: _Collector) -> None:
    """Report the rows failing a rule of :func:`_row_checks`: every rule counted in one pass over
    the table; the failing rows of a rule looked up only when it has some. Column-rule problems
    come in row order (then column), table-rule problems after them, rule by rule."""
    checks = _row_checks(table)
    counts = _failure_counts(frame, checks)
    located: list[tuple[bool, int, str, str]] = []
    for check, count in zip(checks, counts, strict=True):
        if not count:
            continue
        failing = frame.filter(check.bad.fill_null(False)).sort(ROW).head(MAX_PROBLEMS)
        if check.value is not None:
            failing = failing.with_columns(value=check.value)
        for row in failing.iter_rows(named=True):
            located.append((not check.column_rule, row[ROW], check.column, check.message(row)))
        found.more += count - failing.height
    for _, row, column, message in sorted(located, key=lambda p: p[:3]):
        found.add(Problem(message, file=file, table=table.name, row=row, column=column))


def _failure_counts(frame: pl.DataFrame, checks: list[_Check]) -> list[int]:
    """How many rows of ``frame`` fail each check: one scan counting the checks without a
    proof and trying the proofs, then one counting the checks whose proof failed."""

    def counted(check: _Check, i: int) -> pl.Expr:
        return check.bad.fill_null(False).sum().alias(str(i))

    first = frame.select(
        counted(check, i) if check.proven is None else check.proven.alias(str(i))
        for i, check in enumerate(checks)
    ).row(0)
    unproven = [i for i, check in enumerate(checks) if check.proven is not None and not first[i]]
    second = (
        frame.select(counted(checks[i], i) for i in unproven).row(0, named=True) if unproven else {}
    )
    return [
        int(first[i]) if check.proven is None else int(second.get(str(i), 0))
        for i, check in enumerate(checks)
    ]


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
        lambda r: (
            f"promised date {r['promised_date']} is before the promise was made "
            f"({r['promise_date']})"
        ),
    ),
    _Rule(
        "disputes",
        "amount",
        lambda: pl.col("amount") < 0,
        lambda r: f"disputed amount must not be negative, got {r['amount']}",
    ),
)


# --- references between tables ------------------------------------------------------------


def fingerprint(columns: list[str]) -> pl.Expr:
    """A 64-bit hash of the values of ``columns`` (UInt64): joining and counting on it is two to
    three times cheaper than on the text ids at 10 million rows. Equal values give equal
    fingerprints; different values the same one with a probability of about 5 x 10^-20 per pair."""
    hashes = [pl.col(name).hash(seed=i) for i, name in enumerate(columns)]
    combined = hashes[0]
    for more in hashes[1:]:
        combined = combined ^ more
    return combined


def _absent(probes: list[pl.DataFrame], on: list[str], target: pl.DataFrame) -> pl.LazyFrame:
    """``source`` (the index in ``probes``) and ``ROW`` of every row of the ``probes`` whose
    ``on[0]`` is present and whose values of ``on`` are not a row of ``target[on]``.

    One anti join on :func:`fingerprint` for all the probes, so the target's hash table is built
    once (at 10 million invoices, building it per table cost more than the checks themselves).
    A row whose fingerprint is absent is certainly absent; one absent whose fingerprint matches
    another row's would be missed, with a probability of about len(target) x 5 x 10^-20 (5 x
    10^-13 at 10 million invoices). Duplicates in ``target`` change nothing."""
    rows = [
        frame.lazy()
        .filter(pl.col(on[0]).is_not_null())
        .select(pl.lit(i, pl.UInt16).alias("source"), ROW, key=fingerprint(on))
        for i, frame in enumerate(probes)
    ]
    known = target.lazy().select(key=fingerprint(on))
    return pl.concat(rows).join(known, on="key", how="anti").drop("key")


@dataclass(frozen=True)
class _Reference:
    """One reference check: the rows of table ``name`` whose ``on`` values are not a row of
    ``target`` (``fk``: the foreign key reported; ``pair``: the (invoice, customer) pair, whose
    failing rows are orphans or rows naming another customer's invoice)."""

    name: str
    on: tuple[str, ...]
    target: str
    fk: ForeignKey
    pair: bool = False


def _references(typed: Mapping[str, pl.DataFrame]) -> list[_Reference]:
    """The checks of every foreign key of the tables present; a table naming both a customer
    and an invoice has its invoice checked with the pair (the invoice must exist and belong to
    the row's customer: both found by one check)."""
    checks = []
    for name, frame in typed.items():
        owned = "invoices" in typed and {"invoice_id", "customer_id"} <= set(frame.columns)
        for fk in TABLES[name].foreign_keys:
            if fk.table not in typed:
                continue
            if owned and fk.column == "invoice_id":
                checks.append(_Reference(name, PAIR, "invoices", fk, pair=True))
            else:
                checks.append(_Reference(name, (fk.column,), fk.table, fk))
    return checks


PAIR = ("invoice_id", "customer_id")


def _check_references(
    typed: Mapping[str, pl.DataFrame], sources: Mapping[str, str], found: _Collector
) -> dict[str, pl.DataFrame]:
    """Report every row naming a customer, invoice, ... that does not exist: the checks against
    one target column grouped into one anti join (:func:`_absent`), all collected together.
    Returns, per table whose rows name both a customer and an invoice, the rows naming another
    customer's invoice (with ``owner``), for :func:`_check_invoice_owners`."""
    checks = _references(typed)
    groups: dict[tuple[tuple[str, ...], str, str], list[_Reference]] = {}
    for check in checks:
        column = check.on[0] if check.pair else check.fk.target_column
        groups.setdefault((check.on, check.target, column), []).append(check)
    plans = []
    for (on, target, column), members in groups.items():
        shown = typed[target].select(pl.col(column).alias(on[0]), *on[1:])
        plans.append(_absent([typed[c.name] for c in members], list(on), shown))
    absent_rows = {
        id(check): absent.filter(pl.col("source") == i).get_column(ROW)
        for members, absent in zip(groups.values(), pl.collect_all(plans), strict=True)
        for i, check in enumerate(members)
    }
    wrong: dict[str, pl.DataFrame] = {}
    for check in checks:  # reported table by table, key by key
        rows = absent_rows[id(check)]
        if rows.len():
            _report_absent(check, rows, typed, (sources.get(check.name), found), wrong)
    return wrong


def _report_absent(
    check: _Reference,
    rows: pl.Series,
    typed: Mapping[str, pl.DataFrame],
    where: tuple[str | None, _Collector],
    wrong: dict[str, pl.DataFrame],
) -> None:
    """Report the ``rows`` (ROW numbers) of ``check.name`` that ``check`` did not find: their
    reference does not exist; for a pair check, those whose invoice exists name another
    customer's invoice (kept in ``wrong`` with ``owner``, reported once every invoice exists)."""
    file, found = where
    fk = check.fk
    failing = typed[check.name].filter(pl.col(ROW).is_in(rows.implode()))
    if check.pair:
        owners = typed["invoices"].select("invoice_id", owner="customer_id")
        failing = failing.join(owners, on="invoice_id", how="left")
        wrong[check.name] = failing.filter(
            pl.col("owner").is_not_null(), pl.col("customer_id").is_not_null()
        )
        failing = failing.filter(pl.col("owner").is_null())
    found.add_rows(
        failing,
        lambda row: f"{fk.column} {row[fk.column]!r} does not exist in table {fk.table}",
        file=file,
        table=check.name,
        column=fk.column,
    )


def _check_invoice_owners(
    wrong: Mapping[str, pl.DataFrame], sources: Mapping[str, str], found: _Collector
) -> None:
    """A row naming both a customer and an invoice (payments, promises, plans, contacts) must
    name the invoice's own customer: a payment of C3 applied to C1's invoice would move money
    between customers silently. ``wrong``: those rows per table (:func:`_check_references`),
    reported once every invoice named exists."""
    for name, rows in wrong.items():
        table = TABLES[name]
        what = name.removesuffix("s").replace("_", " ")
        key = table.key[0] if table.key else None

        def message(row: dict, what: str = what, key: str | None = key) -> str:
            named = f"{what} {row[key]}" if key and row.get(key) is not None else what
            return (
                f"{named} names customer {row['customer_id']} but its invoice "
                f"{row['invoice_id']} belongs to customer {row['owner']}"
            )

        found.add_rows(rows, message, file=sources.get(name), table=name, column="customer_id")
