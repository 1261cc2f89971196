"""Column-mapping files: reading an export whose tables and columns are named otherwise
(DESIGN section 10, ``--mapping FILE``; worked examples in ``examples/mappings/``).

A mapping is a TOML file with one section per canonical table (:data:`workbench.schema.TABLES`)
built from the source, and an optional ``[defaults]`` section::

    [defaults]
    decimal = ","                     # numbers written 1 234,56 ("," or ".")
    date_format = "%d/%m/%Y"          # strftime format of every date column

    [invoices]
    from = "grand_livre"              # source table: file stem, sheet or database table
    where = { "Type pièce" = ["FA", "Facture"] }   # keep rows whose column holds one of these
    columns = { invoice_id = "N° pièce", customer_id = "Tiers", amount = "Débit",
                issue_date = "Date pièce", due_date = "Échéance" }   # canonical = source
    constants = { currency = "EUR" }  # a value for every row
    date_format = { due_date = "%d/%m/%y" }   # per column (or one string for the table)
    decimal = ","
    sign = "positive"                 # see below

    [credit_notes]
    from = "grand_livre"              # several tables may split one ledger by ``where``
    where = { "Type pièce" = "AV" }
    columns = { credit_note_id = "N° pièce", date = "Date pièce", amount = "Crédit" }
    link = { code = "Lettrage", customer = "Tiers" }   # find the invoice by matching code

Keys of a table section:

- ``from``: the source table (default: the canonical name); a canonical table the mapping does
  not name is read under its own name when the source has it;
- ``columns``: canonical column = source column; a source column already named like a
  canonical column is taken as it is;
- ``constants``: canonical column = a value for every row (e.g. ``currency = "EUR"``);
- ``date_format`` (strftime, e.g. ``%d/%m/%Y``) and ``decimal`` (``","`` or ``"."``): how the
  source writes dates and numbers; without them the dialect is detected (``workbench.dialect``);
  a value that does not match the given format is refused with its source row;
- ``where``: source column = a value or a list of values (compared as trimmed text, in any
  letter case); rows whose column holds none of them are left out; several columns must all
  match. The source rows that no table takes are counted in a warning with their first rows and
  ``where`` values, except those left out by a filter every table of that source shares (e.g.
  Odoo's ``account_type = "asset_receivable"``);
- ``sign``: ``"negative"`` keeps the rows whose amount is below zero and negates them (a credit
  note written as a negative invoice line; ``-500``, ``−500`` (U+2212), ``500-`` and ``(500)``
  are negative); a row its ``where`` selects whose amount is not a negative number (positive,
  zero, empty, text) is refused with its source row unless another table takes it (a positive
  invoice line). ``"positive"`` keeps the rows above zero, ``"negate"`` negates every amount;
- ``link`` (payments and credit notes, "lettrage"): ``code`` is the source column holding the
  matching code, ``invoice_code`` the invoices' source column holding it (default: the same name),
  ``customer`` this table's source column naming the customer (payments use their
  ``customer_id``); codes match within a customer when both sides name one. The rows that share a
  code are allocated to that code's invoices oldest due date first (then invoice id), each
  invoice up to its amount, payments (and credit notes) in date order; a row spread over several
  invoices is split into one row per invoice (id ``<id>/<invoice_id>``); what is left of a
  payment once the code's invoices are covered stays unapplied (no invoice; id ``<id>/unapplied``
  when split), what is left of a credit note goes to the code's latest invoice (an over-credit,
  reported as the customer's credit). A row with no code, or a code with no invoice, is not
  linked; a code no invoice carries (codes compare exactly) is warned with its row.

The mapping file is UTF-8 (a byte-order mark is accepted; another encoding is refused naming
the line); names are compared in Unicode NFC on both sides (macOS decomposed accents match).
Errors (exit 2) name the mapping file and the key: an unknown key, a source table or column
absent from the source, a bad ``date_format``, a value that does not match the given format.
Rows named by validation after a mapping are the data rows of the source table (header not
counted); columns are named as in the mapped (canonical) table.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from workbench.dialect import number_text
from workbench.errors import InputError, Problem, warn_input
from workbench.files import sha256
from workbench.schema import TABLES
from workbench.sources import RawSource

TABLE_KEYS = ("from", "columns", "constants", "date_format", "decimal", "where", "sign", "link")
DEFAULT_KEYS = ("date_format", "decimal")
SIGNS = ("negative", "positive", "negate")
LINKED = {"payments": "payment_id", "credit_notes": "credit_note_id"}
LINK_KEYS = ("code", "invoice_code", "customer")
SOURCE_ROW = "__source_row__"
ROW = "__row__"
"""The row number validation reports (:data:`workbench.validate.ROW`): the source row."""
CODE = "__code__"
CUSTOMER = "__customer__"
_EPSILON = 1e-9
MAX_SHOWN = 5
"""Rows named in one warning; the rest are counted."""


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is built from a source table (see the module docstring)."""

    table: str
    source: str
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    decimal: str | None = None
    where: dict[str, list[str]] = field(default_factory=dict)
    sign: str | None = None
    link: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    """A column-mapping file: its path and one :class:`TableMapping` per canonical table."""

    path: Path
    tables: dict[str, TableMapping]

    @property
    def source_tables(self) -> list[str]:
        """The source tables to read: those the mapping names, then the canonical tables it
        does not map (read under their own name when present)."""
        names = [m.source for m in self.tables.values()]
        names += [t for t in TABLES if t not in self.tables]
        return list(dict.fromkeys(names))


def load_mapping(path: str | Path) -> Mapping:
    """The mapping file at ``path``, checked; raises :class:`InputError` naming the file and key."""
    path = Path(path)
    try:
        document = tomllib.loads(_mapping_text(path))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            Problem(f"cannot read the mapping file: {reason}", file=str(path))
        ) from None
    defaults = document.pop("defaults", {})
    _check_keys(path, "[defaults]", defaults, DEFAULT_KEYS)
    unknown = [name for name in document if name not in TABLES]
    if unknown:
        _fail(path, f"[{unknown[0]}]", f"unknown table; known: defaults, {', '.join(TABLES)}")
    tables = {
        name: _table_mapping(path, name, section, defaults) for name, section in document.items()
    }
    return Mapping(
        path=path, tables=dict(sorted(tables.items(), key=lambda i: list(TABLES).index(i[0])))
    )


def _mapping_text(path: Path) -> str:
    """The mapping file's text: UTF-8 with or without a byte-order mark, in Unicode NFC (macOS
    decomposed accents composed); another encoding is refused naming the line."""
    data = path.read_bytes()
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # a UTF-8 byte-order mark
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            Problem(
                f"line {line} is not UTF-8 (byte "
                f"0x{data[exc.start]:02X}): save the mapping file as UTF-8 (e.g. in Notepad: "
                "Save as, Encoding UTF-8)",
                file=str(path),
            )
        ) from None


def _fail(path: Path, key: str, message: str) -> None:
    raise InputError(Problem(f"{key}: {message}", file=str(path)))


def _check_keys(path: Path, where: str, section: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(section, dict):
        _fail(path, where, "must be a table of keys (key = value)")
    for key in section:
        if key not in allowed:
            _fail(path, f"{where} {key}", f"unknown key; expected one of {', '.join(allowed)}")


def _strings(path: Path, key: str, value: Any, allowed: tuple[str, ...] | None) -> dict[str, str]:
    """``value`` checked as a table of text values whose keys are in ``allowed`` (if given)."""
    if not isinstance(value, dict):
        _fail(path, key, "must be a table (name = value)")
    for name, text in value.items():
        if allowed is not None and name not in allowed:
            _fail(
                path, f"{key}.{name}", f"not a column of the table; expected {', '.join(allowed)}"
            )
        if not isinstance(text, (str, int, float)) or isinstance(text, bool):
            _fail(path, f"{key}.{name}", "must be text")
    return {name: str(text) for name, text in value.items()}


def _table_mapping(path: Path, name: str, section: Any, defaults: dict) -> TableMapping:
    key = f"[{name}]"
    _check_keys(path, key, section, TABLE_KEYS)
    columns = TABLES[name].column_names
    source = section.get("from", name)
    if not isinstance(source, str) or not source.strip():
        _fail(path, f"{key} from", "must be the name of a source table")
    mapped = _strings(path, f"{key} columns", section.get("columns", {}), tuple(columns))
    constants = _strings(path, f"{key} constants", section.get("constants", {}), tuple(columns))
    both = sorted(set(mapped) & set(constants))
    if both:
        _fail(path, f"{key} constants.{both[0]}", "given both as a column and as a constant")
    decimal = section.get("decimal", defaults.get("decimal"))
    if decimal not in (None, ",", "."):
        _fail(path, f"{key} decimal", 'must be "," or "."')
    sign = section.get("sign")
    if sign is not None and sign not in SIGNS:
        _fail(path, f"{key} sign", f"must be one of {', '.join(SIGNS)}")
    if sign is not None and "amount" not in columns:
        _fail(path, f"{key} sign", "the table has no amount")
    link = _link(path, name, section.get("link"))
    if link and "invoice_id" in mapped:
        _fail(path, f"{key} link", "give columns.invoice_id or link, not both")
    return TableMapping(
        table=name,
        source=source.strip(),
        columns=mapped,
        constants=constants,
        date_formats=_date_formats(path, name, section, defaults),
        decimal=decimal,
        where=_where(path, key, section.get("where", {})),
        sign=sign,
        link=link,
    )


def _where(path: Path, key: str, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        _fail(path, f"{key} where", "must be a table (source column = value or [values])")
    where = {}
    for column, values in value.items():
        values = values if isinstance(values, list) else [values]
        if not values or any(isinstance(v, (dict, list, bool)) for v in values):
            _fail(path, f"{key} where.{column}", "must be a value or a list of values")
        where[column] = [str(v).strip() for v in values]
    return where


def _link(path: Path, name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    key = f"[{name}] link"
    if name not in LINKED:
        _fail(path, key, f"only {', '.join(LINKED)} can be linked to invoices by a code")
    link = _strings(path, key, value, LINK_KEYS)
    if "code" not in link:
        _fail(path, f"{key}.code", "missing: the source column holding the matching code")
    return link


def _date_formats(path: Path, name: str, section: dict, defaults: dict) -> dict[str, str]:
    """The strftime format of each date column of ``name`` (table-wide or per column)."""
    dates = [c.name for c in TABLES[name].columns if c.dtype == pl.Date]
    formats: dict[str, str] = {}
    for where, value in (
        ("[defaults]", defaults.get("date_format")),
        (f"[{name}]", section.get("date_format")),
    ):
        if value is None:
            continue
        if isinstance(value, str):
            formats.update({column: value for column in dates})
            _check_date_format(path, f"{where} date_format", value)
            continue
        for column, fmt in _strings(path, f"{where} date_format", value, tuple(dates)).items():
            _check_date_format(path, f"{where} date_format.{column}", fmt)
            formats[column] = fmt
    return formats


def _check_date_format(path: Path, key: str, fmt: str) -> None:
    """Refuse a format that does not write and read back a date (``%d/%m`` alone, ``%Q``)."""
    sample = dt.date(2026, 12, 31)
    try:
        back = pl.Series([sample.strftime(fmt)]).str.to_date(fmt, strict=False)[0]
    except (ValueError, pl.exceptions.PolarsError):
        back = None
    if back != sample:
        _fail(
            path,
            key,
            f"{fmt!r} is not a date format that reads a day, a month and a year "
            '(strftime codes, e.g. "%d/%m/%Y")',
        )


# --- applying a mapping --------------------------------------------------------------------------


def apply_mapping(raw: RawSource, mapping: Mapping) -> RawSource:
    """The canonical tables built from ``raw`` (read by source table name) as ``mapping`` says;
    tables the mapping does not name are passed on as read. Values stay text except where the
    mapping gives a ``date_format`` or ``decimal`` (typed here) or links rows by a code."""
    codes = _invoice_codes(mapping)
    frames: dict[str, pl.DataFrame] = {}
    origins: dict[str, str] = {}
    taken: dict[str, list[pl.Series]] = {}
    unsigned: list[tuple[TableMapping, str, pl.DataFrame]] = []
    for name in TABLES:
        spec = mapping.tables.get(name)
        if spec is None and name in codes and name in raw.frames:
            spec = TableMapping(table=name, source=name)
        if spec is None:
            if name in raw.frames:
                frames[name], origins[name] = raw.frames[name], raw.origins.get(name, name)
            continue
        if spec.source not in raw.frames:
            _fail(
                mapping.path,
                f"[{name}] from",
                f"source table {spec.source!r} not found in the data source (a file "
                f"{spec.source}.csv or .parquet, a sheet or a database table)",
            )
        file = raw.origins.get(spec.source, spec.source)
        refused: list[pl.DataFrame] = []
        frame = _mapped(
            raw.frames[spec.source], spec, mapping.path, file, codes.get(name, {}), refused
        )
        taken.setdefault(spec.source, []).append(frame.get_column(SOURCE_ROW))
        unsigned += [(spec, file, rows) for rows in refused]
        if spec.link:
            frame = _linked(frame, spec, frames.get("invoices"), mapping.path, file)
        if name in LINKED:
            frame = _unique_ids(frame, LINKED[name])
        frames[name] = frame.rename({SOURCE_ROW: ROW})  # validation names the source row
        origins[name] = f"{file} (mapped by {mapping.path.name}; rows of the source file)"
    _refuse_unsigned(unsigned, taken, mapping.path)
    _warn_left_out(raw, mapping, taken)
    frames = {
        name: frame.select(c for c in frame.columns if c == ROW or not c.startswith("__"))
        for name, frame in frames.items()
    }
    inputs = [*raw.inputs, {"mapping": str(mapping.path), "sha256": sha256(mapping.path)}]
    return RawSource(frames=frames, origins=origins, inputs=inputs)


def _warn_left_out(raw: RawSource, mapping: Mapping, taken: dict[str, list[pl.Series]]) -> None:
    """Warn, per source table split by ``where`` or ``sign``, about the source rows that no
    canonical table took: their count, the first rows and their values of the ``where`` columns
    (a ledger line of a type the mapping does not list would otherwise vanish silently)."""
    for source, rows in taken.items():
        specs = [s for s in mapping.tables.values() if s.source == source]
        if not any(s.where or s.sign for s in specs):
            continue
        columns = list(dict.fromkeys(c for s in specs for c in s.where))
        frame = _numbered(_nfc_columns(raw.frames[source]))
        left = frame.filter(~pl.col(SOURCE_ROW).is_in(pl.concat(rows).implode()))
        for column, values in _common_filters(specs).items():  # rows meant to be left out
            left = left.filter(_matches(column, values))
            columns.remove(column)
        if not left.height:
            continue
        shown = []
        for row in left.select(SOURCE_ROW, *columns).head(MAX_SHOWN).iter_rows(named=True):
            values = ", ".join(f"{c} = {row[c]!r}" for c in columns)
            shown.append(f"row {row[SOURCE_ROW]}" + (f" ({values})" if values else ""))
        warn_input(
            Problem(
                f"{left.height} source row(s) went to no table of {mapping.path.name} (no "
                f"where list holds their values, or their amount's sign is not the one taken): "
                f"{'; '.join(shown)}{' ...' if left.height > MAX_SHOWN else ''}; list their "
                "values in a where list if they belong to a table",
                file=raw.origins.get(source, source),
            )
        )


def _nfc_columns(source: pl.DataFrame) -> pl.DataFrame:
    """``source`` with its column names in Unicode NFC (``é`` as one character, as the
    mapping file is read), so that a macOS export's decomposed accents match."""
    names = {c: unicodedata.normalize("NFC", c) for c in source.columns}
    return source.rename(names) if len(set(names.values())) == len(names) else source


def _numbered(source: pl.DataFrame) -> pl.DataFrame:
    """``source`` with ``SOURCE_ROW``: its data row numbers (as its reader numbered them)."""
    if ROW in source.columns:
        return source.rename({ROW: SOURCE_ROW})
    return source.with_row_index(SOURCE_ROW, offset=1)


def _refuse_unsigned(
    unsigned: list[tuple[TableMapping, str, pl.DataFrame]],
    taken: dict[str, list[pl.Series]],
    path: Path,
) -> None:
    """Refuse the rows a ``sign = "negative"`` table selected by ``where`` but could not take
    (amount not a negative number) when no other table took them either, with the source row."""
    problems = []
    for spec, file, rows in unsigned:
        rows = rows.filter(~pl.col(SOURCE_ROW).is_in(pl.concat(taken[spec.source]).implode()))
        column = spec.columns.get("amount", "amount")
        problems += [
            Problem(
                f'[{spec.table}] sign = "negative" selects this row (where) but its amount '
                f"{value!r} is not a negative number (e.g. -500.00, \u2212500.00, 500.00-, "
                f"(500.00)) and no other table takes it: correct the export or the where list "
                f"({path.name})",
                file=file,
                row=int(row),
                column=column,
            )
            for row, value in rows.iter_rows()
        ]
    if problems:
        raise InputError(problems[:MAX_SHOWN], more=max(0, len(problems) - MAX_SHOWN))


def _common_filters(specs: list[TableMapping]) -> dict[str, list[str]]:
    """The ``where`` columns that every table of one source filters with the same values (e.g.
    Odoo's receivable account type): a row they leave out is left out on purpose."""
    first, *others = specs
    return {
        column: values
        for column, values in first.where.items()
        if all(
            {v.lower() for v in s.where.get(column, [])} == {v.lower() for v in values}
            for s in others
        )
    }


def _matches(column: str, values: list[str]) -> pl.Expr:
    """True where ``column`` holds one of ``values`` (trimmed, case-insensitive)."""
    wanted = [v.strip().lower() for v in values]
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase().is_in(wanted)


def _invoice_codes(mapping: Mapping) -> dict[str, dict[str, tuple[str, str]]]:
    """For the invoices table, the helper columns the links need: ``__code__<col>`` = (the
    invoices' source column, the mapping key that names it)."""
    columns = {}
    for spec in mapping.tables.values():
        if spec.link:
            key = "invoice_code" if "invoice_code" in spec.link else "code"
            column = spec.link[key]
            columns[f"{CODE}{column}"] = (column, f"[{spec.table}] link.{key} (in the invoices)")
    return {"invoices": columns} if columns else {}


def _mapped(
    source: pl.DataFrame,
    spec: TableMapping,
    path: Path,
    file: str,
    keep: dict[str, tuple[str, str]],
    refused: list,
) -> pl.DataFrame:
    """``source`` filtered, signed, renamed and typed as ``spec`` says, with ``SOURCE_ROW``."""
    key = f"[{spec.table}]"
    source = _nfc_columns(source)
    needed = {f"{key} columns.{c}": s for c, s in spec.columns.items()}
    needed |= {f"{key} where.{s}": s for s in spec.where}
    needed |= {f"{key} link.{k}": s for k, s in spec.link.items() if k != "invoice_code"}
    needed |= {key: column for column, key in keep.values()}
    for where, column in needed.items():
        if column not in source.columns:
            _fail(
                path,
                where,
                f"column {column!r} not found in {file} (columns: {', '.join(source.columns)})",
            )
    frame = _numbered(source)
    for column, values in spec.where.items():
        frame = frame.filter(_matches(column, values))
    amount = spec.columns.get("amount", "amount")
    if spec.sign is not None:
        if amount not in frame.columns:
            _fail(path, f"{key} sign", "the table has no amount column (map columns.amount)")
        frame = _signed(frame, amount, spec.sign, refused)
    selected = [pl.col(SOURCE_ROW)]
    for column in TABLES[spec.table].column_names:
        if column in spec.columns:
            selected.append(pl.col(spec.columns[column]).alias(column))
        elif column in spec.constants:
            selected.append(pl.lit(spec.constants[column]).alias(column))
        elif column in source.columns:
            selected.append(pl.col(column))
    selected += [
        pl.col(column).cast(pl.String).str.strip_chars().alias(alias)
        for alias, (column, _key) in keep.items()
    ]
    if "code" in spec.link:
        selected.append(pl.col(spec.link["code"]).cast(pl.String).str.strip_chars().alias(CODE))
    if "customer" in spec.link:
        selected.append(
            pl.col(spec.link["customer"]).cast(pl.String).str.strip_chars().alias(CUSTOMER)
        )
    return _typed(frame.select(selected), spec, path, file)


_SIGNED_NUMBER = r"^-[\d., \u00a0\u202f]*[1-9][\d., \u00a0\u202f]*$"


def _signed(frame: pl.DataFrame, column: str, sign: str, refused: list) -> pl.DataFrame:
    """Rows kept and amounts negated as ``sign`` says. Text amounts are read by their sign:
    a leading ``-`` or Unicode minus (U+2212), a trailing ``-`` (``500.00-``) or parentheses
    (``(500.00)``); with ``negative``, the selected rows whose amount is not a negative number
    (empty, zero, positive, text) are appended to ``refused`` (source row, value): refused by
    :func:`_refuse_unsigned` unless another table takes them."""
    value = pl.col(column)
    if frame.schema[column] == pl.String:
        text = value.str.strip_chars().str.replace_all("\u2212", "-", literal=True)
        text = (
            pl.when(text.str.contains(r"^\(.*\)$"))
            .then(pl.lit("-") + text.str.slice(1, text.str.len_chars() - 2).str.strip_chars())
            .when(text.str.ends_with("-") & ~text.str.starts_with("-"))
            .then(pl.lit("-") + text.str.strip_suffix("-").str.strip_chars())
            .otherwise(text)
        )
        frame = frame.with_columns(text.alias(column))
        text = pl.col(column)
        nonzero = text.str.contains("[1-9]")
        negative = text.str.contains(_SIGNED_NUMBER).fill_null(False)
        positive = ~text.str.starts_with("-") & nonzero
        negated = (
            pl.when(text.str.starts_with("-"))
            .then(text.str.strip_prefix("-"))
            .otherwise(pl.lit("-") + text)
        )
    else:
        negative, positive, negated = (value < 0).fill_null(False), value > 0, -value
    if sign == "negative":
        refused.append(frame.filter(~negative).select(SOURCE_ROW, pl.col(column).alias("__value")))
        return frame.filter(negative).with_columns(negated.alias(column))
    if sign == "positive":
        return frame.filter(positive)
    return frame.with_columns(negated.alias(column))


def _typed(frame: pl.DataFrame, spec: TableMapping, path: Path, file: str) -> pl.DataFrame:
    """Dates with a given ``date_format`` and numbers with a given ``decimal`` typed; a value
    that does not match is refused with its source row."""
    problems: list[Problem] = []
    typed = []
    for column in TABLES[spec.table].columns:
        if column.name not in frame.columns or frame.schema[column.name] != pl.String:
            continue
        text = frame.get_column(column.name).str.strip_chars()
        if column.dtype == pl.Date and column.name in spec.date_formats:
            fmt = spec.date_formats[column.name]
            value = text.str.to_date(fmt, strict=False)
            what = f"a date in the mapping's date_format {fmt!r}"
        elif column.dtype in (pl.Float64, pl.Int64) and spec.decimal is not None:
            dialect = "fr" if spec.decimal == "," else "iso"
            value = number_text(text, dialect)[0].cast(pl.Float64, strict=False)
            what = f"a number with the mapping's decimal {spec.decimal!r}"
        else:
            continue
        bad = frame.filter(text.is_not_null() & (text != "") & value.is_null())
        source_column = spec.columns.get(column.name, column.name)
        for row, original in bad.select(SOURCE_ROW, column.name).head(5).iter_rows():
            problems.append(
                Problem(
                    f"cannot read {original!r} as {what} ({path.name} [{spec.table}])",
                    file=file,
                    table=spec.source,
                    row=row,
                    column=source_column,
                )
            )
        typed.append(value.alias(column.name))
    if problems:
        raise InputError(problems)
    return frame.with_columns(typed)


def _as_number(
    frame: pl.DataFrame, column: str, spec: TableMapping, path: Path, file: str
) -> pl.Series:
    """``column`` as Float64 for allocating by code; refuses a value that is not a number."""
    series = frame.get_column(column)
    if series.dtype != pl.String:
        return series.cast(pl.Float64, strict=False)
    text, problem = number_text(series, None)
    if problem is not None:
        _fail(
            path,
            f"[{spec.table}] decimal",
            f'{problem.message.split(":")[0]} in {file}: give decimal = "," or "."',
        )
    value = text.str.strip_chars().cast(pl.Float64, strict=False)
    bad = frame.filter(series.is_not_null() & value.is_null())
    if bad.height:
        raise InputError(
            Problem(
                f"cannot read {bad[column][0]!r} as an amount to link it by its code",
                file=file,
                table=spec.source,
                row=int(bad[SOURCE_ROW][0]),
                column=spec.columns.get(column, column),
            )
        )
    return value


def _as_date(series: pl.Series) -> pl.Series:
    """``series`` as dates for ordering (null where it cannot tell)."""
    if series.dtype != pl.String:
        return series.cast(pl.Date, strict=False)
    from workbench.dialect import date_text

    text, problem = date_text(series, None)
    return (series if problem else text).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)


def _invoice_slots(
    invoices: pl.DataFrame, code: str, keys: list[str], spec: TableMapping, path: Path
) -> pl.DataFrame:
    """The invoices that carry a code, each as the slice [__istart, __iend) of its code's
    running total, oldest due first (a credit note's last slice is open-ended)."""
    inv = pl.DataFrame(
        {
            CODE: invoices.get_column(code),
            CUSTOMER: invoices.get_column("customer_id").cast(pl.String).str.strip_chars()
            if "customer_id" in invoices.columns
            else None,
            "invoice_id": invoices.get_column("invoice_id").cast(pl.String),
            "__due": _as_date(invoices.get_column("due_date")),
            "__iamt": _as_number(invoices, "amount", spec, path, "invoices"),
        }
    ).filter(pl.col(CODE).is_not_null() & (pl.col(CODE) != "") & (pl.col("__iamt") > 0))
    inv = (
        inv.sort([*keys, "__due", "invoice_id"], nulls_last=True)
        .with_columns(
            __iend=pl.col("__iamt").cum_sum().over(keys),
            __last=pl.int_range(pl.len()).over(keys) == pl.len().over(keys) - 1,
        )
        .with_columns(__istart=pl.col("__iend") - pl.col("__iamt"))
    )
    if spec.table == "credit_notes":  # what a credit note has left goes to the latest invoice
        inv = inv.with_columns(
            pl.when("__last").then(float("inf")).otherwise("__iend").alias("__iend")
        )
    return inv


def _linked(
    frame: pl.DataFrame,
    spec: TableMapping,
    invoices: pl.DataFrame | None,
    path: Path,
    file: str,
) -> pl.DataFrame:
    """``frame`` (payments or credit notes) with ``invoice_id`` found by matching code, rows
    allocated to the code's invoices oldest due first (module docstring)."""
    ident = LINKED[spec.table]
    when = "payment_date" if spec.table == "payments" else "date"
    customer = (
        "customer_id" if spec.table == "payments" and "customer_id" in frame.columns else CUSTOMER
    )
    code = f"{CODE}{spec.link.get('invoice_code', spec.link['code'])}"
    if invoices is None or code not in invoices.columns:
        return frame.with_columns(pl.lit(None, pl.String).alias("invoice_id"))
    keys = [CODE] + (
        [CUSTOMER] if customer in frame.columns and "customer_id" in invoices.columns else []
    )
    inv = _invoice_slots(invoices, code, keys, spec, path)
    _warn_unmatched_codes(frame, inv, keys, spec, customer, file)
    frame = frame.drop("invoice_id", strict=False)
    rows = frame.with_row_index("__k").with_columns(
        __amt=_as_number(frame, "amount", spec, path, spec.source),
        __date=_as_date(frame.get_column(when)) if when in frame.columns else pl.lit(None, pl.Date),
    )
    if CUSTOMER in keys and customer != CUSTOMER:
        rows = rows.with_columns(pl.col(customer).cast(pl.String).str.strip_chars().alias(CUSTOMER))
    paying = (
        rows.filter(pl.col(CODE).is_not_null() & (pl.col("__amt") > 0))
        .sort([*keys, "__date", ident], nulls_last=True)
        .with_columns(__pend=pl.col("__amt").cum_sum().over(keys))
    )
    pieces = (
        paying.with_columns(__pstart=pl.col("__pend") - pl.col("__amt"))
        .join(inv.select(*keys, "invoice_id", "__istart", "__iend"), on=keys, how="inner")
        .with_columns(
            __part=(
                pl.min_horizontal("__pend", "__iend") - pl.max_horizontal("__pstart", "__istart")
            ).round(6)
        )
        .filter(pl.col("__part") > _EPSILON)
    )
    applied = pieces.group_by("__k").agg(__applied=pl.col("__part").sum())
    rest = (
        rows.join(applied, on="__k", how="left")
        .with_columns(__rest=(pl.col("__amt") - pl.col("__applied").fill_null(0)).round(6))
        .filter(pl.col("__applied").is_null() | (pl.col("__rest") > _EPSILON))
        .with_columns(
            pl.when(pl.col("__applied").is_null())
            .then(pl.col("__amt"))
            .otherwise(pl.col("__rest"))
            .alias("amount"),
            pl.lit(None, pl.String).alias("invoice_id"),
        )
    )
    pieces = pieces.with_columns(pl.col("__part").alias("amount"))
    columns = [*frame.columns, "invoice_id", "__k"]
    result = pl.concat(
        [
            pieces.select(columns).with_columns(pl.col("amount").cast(pl.Float64)),
            rest.select(columns).with_columns(pl.col("amount").cast(pl.Float64)),
        ]
    ).sort("__k", "invoice_id", nulls_last=True)
    return _split_ids(result, ident)


def _warn_unmatched_codes(
    frame: pl.DataFrame,
    inv: pl.DataFrame,
    keys: list[str],
    spec: TableMapping,
    customer: str,
    file: str,
) -> None:
    """Warn about the rows whose matching code no invoice carries (for their customer when
    codes match within a customer): they stay unapplied / unlinked. Codes compare exactly; a
    code that matches only in another letter case is said so."""
    rows = frame.filter(pl.col(CODE).is_not_null() & (pl.col(CODE) != ""))
    if CUSTOMER in keys and customer != CUSTOMER:
        rows = rows.with_columns(pl.col(customer).cast(pl.String).str.strip_chars().alias(CUSTOMER))
    lost = rows.join(inv.select(keys).unique(), on=keys, how="anti")
    if not lost.height:
        return
    lower = set(inv.get_column(CODE).str.to_lowercase().to_list())
    other_case = ", an invoice has it in another letter case"
    shown = [
        f"{code!r} (row {row}{other_case if code.lower() in lower else ''})"
        for code, row in lost.select(CODE, SOURCE_ROW).head(MAX_SHOWN).iter_rows()
    ]
    what = "stay unapplied cash" if spec.table == "payments" else "are not linked to an invoice"
    warn_input(
        Problem(
            f"{lost.height} row(s) of [{spec.table}] carry a matching code ({spec.link['code']}) "
            f"that no invoice carries{' for their customer' if CUSTOMER in keys else ''}: "
            f"{'; '.join(shown)}{' ...' if lost.height > MAX_SHOWN else ''}; they {what}",
            file=file,
        )
    )


def _unique_ids(frame: pl.DataFrame, ident: str) -> pl.DataFrame:
    """Payment and credit-note ids made unique: a document booked on several ledger lines (one
    payment lettered against two codes, a payment split by the bank) keeps its number on each
    line, suffixed with its source row where the number repeats (``RG0001#4``). Invoices are not
    renumbered: an invoice number twice stays a duplicate key for validation to refuse."""
    repeated = pl.len().over(ident) > 1
    numbered = pl.format("{}#{}", pl.col(ident).cast(pl.String), pl.col(SOURCE_ROW))
    return frame.with_columns(pl.when(repeated).then(numbered).otherwise(pl.col(ident)).alias(ident))


def _split_ids(result: pl.DataFrame, ident: str) -> pl.DataFrame:
    """Rows split over several invoices renamed ``<id>/<invoice_id>`` (``<id>/unapplied``)."""
    split = pl.len().over("__k") > 1
    named = pl.concat_str(
        [pl.col(ident).cast(pl.String), pl.col("invoice_id").fill_null("unapplied")],
        separator="/",
    )
    return result.with_columns(
        pl.when(split).then(named).otherwise(pl.col(ident)).alias(ident)
    ).drop("__k")
