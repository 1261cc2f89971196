"""What the collectors wrote in their call sheets, read back (issue 13, "Outcomes read back").

:func:`read_outcomes` reads a ``worklist.xlsx`` whose collector sheets were filled in (layout:
:mod:`workbench.callsheet`) and turns every row with a feedback cell filled into canonical
records; :func:`write_outcomes` writes them as ``contacts.csv``, ``promises.csv``,
``disputes.csv`` and ``follow_ups.csv``; :func:`with_outcomes` adds such folders to a portfolio
(:func:`workbench.load.load_portfolio` ``outcomes=``).

Rules (``as_of``: the worklist's as-of date, from its keys sheet; a row's *contact date*: its
``contact_date`` cell, or ``as_of`` + 1 day when empty):

- a contact per invoice the row's action covers (the keys' ``invoices``), for a filled row
  whose ``done`` is yes or whose outcome is given, as :mod:`workbench.replay` records an
  action: ``contact_id = WB-<as_of>-<customer_id>-<invoice_id>``, invoice_id = that invoice
  (so the dunning memory, :func:`workbench.dunning.invoice_memory`, credits the step to the
  invoices the action was about, not to every overdue invoice of the customer); a row whose
  keys name no invoice records one contact ``WB-<as_of>-<customer_id>`` with no invoice_id
  (a customer-level contact). Channel = the row's channel (``phone`` when the row names none
  a contact can have), step = the row's action when it is a dunning step, outcome = the
  outcome code; ``done`` = no without an outcome records no contact, ``done`` = no with an
  outcome is refused (contradictory);
- a promise for ``promise_to_pay`` (promised date and amount required) and for ``plan_agreed``
  with both: ``promise_id = WB-<as_of>-<customer_id>-P``, made on the contact date, for the
  row's invoice when the keys name exactly one, else for the customer (a customer-level
  promise, :mod:`workbench.promises`), in the keys' currency;
- a dispute per invoice of the row's keys for ``dispute_raised``, opened on the contact date,
  its reason the comment (``WB-<as_of>-<customer_id>-<invoice_id>``);
- a follow-up for a ``next_contact_date`` (customer, date, collector, set_on = contact date).

Validation: dates are real dates between ``as_of`` - :data:`PAST_DAYS` and ``as_of`` +
:data:`FUTURE_DAYS`; a contact date is not after the day of reading (``today``); a promised
date is not before its contact date; amounts are numbers above 0; done and outcome are words
of the drop-down lists (either language); done is not "no" when an outcome is given (a
contact not done has no outcome). Each problem names the file and sheet, the row as Excel
numbers it (the header is row 1) and the column's header; all are reported at once.

Loading an outcomes folder (:func:`with_outcomes`) undoes the CSV injection guard of
:func:`write_files` (:func:`workbench.export.csv_safe`): a text field starting with ``'``
followed by one of ``= + - @`` tab CR loses that first ``'``
(:func:`workbench.export.csv_unescaped`), so a comment ``=HYPERLINK(...)`` comes back as
written in the sheet.

Cells may be typed (date, number) or text in the sheet's language (French: ``25/11/2026``,
``1 234,50``; English: ``2026-11-25``, ``1,234.50``), read with the dialect helpers of
:mod:`workbench.dialect`. Reading the cells is the one Python loop over rows (openpyxl, a
library boundary); everything after is polars.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench.callsheet import (
    DATE_FUTURE_DAYS,
    DATE_PAST_DAYS,
    DONE_WORDS,
    FEEDBACK_COLUMNS,
    HEADERS,
    KEY_COLUMNS,
    KEYS_SHEET,
    LAYOUT_VERSION,
    OUTCOME_WORDS,
    OUTCOMES,
)
from workbench.errors import InputError, Problem
from workbench.parsing import MAX_AMOUNT
from workbench.schema import CONTACT_CHANNELS, CONTACT_STEPS, TABLES

__all__ = [
    "FOLLOW_UPS_SCHEMA", "OUTCOME_FILES", "Outcomes", "filled_rows",
    "read_outcomes", "sheet_names", "with_outcomes", "write_files", "write_outcomes",
]  # fmt: skip

PAST_DAYS = DATE_PAST_DAYS
"""A date of a filled row may be at most this many days before the worklist's as-of date
(a typo guard; the same window as the sheet's date validation, :mod:`workbench.callsheet`)."""
FUTURE_DAYS = DATE_FUTURE_DAYS
"""... and at most this many days after it."""

OUTCOME_FILES = ("contacts", "promises", "disputes", "follow_ups")
"""The files an outcomes folder holds (``<name>.csv``)."""

CONTACT_EXTRA = {"collector": pl.String, "recorded_from": pl.String, "comment": pl.String}
"""Columns of ``contacts.csv`` beyond the canonical ones: who recorded it, where
(``worklist.xlsx / <sheet> / row N``) and the collector's comment (not loaded)."""

FOLLOW_UPS_SCHEMA = pl.Schema(
    {"customer_id": pl.String, "follow_up_date": pl.Date, "collector": pl.String,
     "set_on": pl.Date}
)  # fmt: skip
"""``follow_ups.csv``: the next contact a collector planned (follow_up_date) on ``set_on``
(the file also holds the row's ``comment``, not loaded)."""

_DATES = ("contact_date", "promised_date", "next_contact_date")
_AMOUNTS = ("promised_amount",)
_REQUIRED = ("customer_id", *FEEDBACK_COLUMNS)
"""Headers a collector sheet must have (the others are optional)."""
_OPTIONAL = ("action", "channel")


@dataclass(frozen=True)
class Outcomes:
    """What a filled call sheet says: canonical ``contacts`` (plus collector, recorded_from;
    one per invoice of a row's action), ``promises``, ``disputes`` and ``follow_ups``
    (:data:`FOLLOW_UPS_SCHEMA`); ``rows_read``: the rows with a feedback cell filled;
    ``warnings``: what was read with a caveat."""

    contacts: pl.DataFrame
    promises: pl.DataFrame
    disputes: pl.DataFrame
    follow_ups: pl.DataFrame
    rows_read: int = 0
    warnings: tuple[str, ...] = ()
    as_of: date | None = None

    def frames(self) -> dict[str, pl.DataFrame]:
        """The four tables by file name (:data:`OUTCOME_FILES`)."""
        return {name: getattr(self, name) for name in OUTCOME_FILES}

    def counts(self) -> dict[str, int]:
        """Rows read (filled), rows that recorded a contact (``contact_rows``) and the records
        written to each table (``contacts``: one per invoice of such a row, so it can exceed
        ``contact_rows``)."""
        contact_rows = self.contacts.get_column("recorded_from").n_unique()
        return {"rows_read": self.rows_read, "contact_rows": contact_rows} | {
            n: f.height for n, f in self.frames().items()
        }


# --- reading the cells (openpyxl: the library boundary) ---------------------------------------


@contextlib.contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """The workbook at ``path`` opened read-only with the cached values of formulas."""
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            Problem(f"cannot read the call sheet as an Excel workbook: {detail}", file=str(path))
        ) from None
    try:
        yield book
    finally:
        book.close()


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of the workbook at ``path`` (InputError when it is not one)."""
    with _workbook(Path(path)) as book:
        return list(book.sheetnames)


def _rows(book: Any, sheet: str) -> list[tuple]:
    """Every row of ``sheet`` from Excel row 1 (empty rows included), as cell values."""
    return list(book[sheet].iter_rows(min_row=1, values_only=True))


def _text(value: Any) -> str | None:
    """A cell as text: None when empty, whole numbers without ``.0``, dates in ISO."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _cells(values: list[Any], name: str) -> dict[str, pl.Series]:
    """A column's cells split by kind: ``name`` (text of a text cell), ``name:n`` (a number
    cell), ``name:d`` (a date cell), ``name:s`` (any cell as text, for messages)."""
    text = [v.strip() or None if isinstance(v, str) else None for v in values]
    number = [
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
    ]
    day = [
        v.date() if isinstance(v, datetime) else v if isinstance(v, date) else None for v in values
    ]
    return {
        name: pl.Series(name, text, pl.String),
        f"{name}:n": pl.Series(f"{name}:n", number, pl.Float64),
        f"{name}:d": pl.Series(f"{name}:d", day, pl.Date),
        f"{name}:s": pl.Series(f"{name}:s", [_text(v) for v in values], pl.String),
    }


# --- the keys sheet ---------------------------------------------------------------------------


def _keys(book: Any, file: str) -> pl.DataFrame:
    """The keys sheet (:data:`KEYS_SHEET`) as a frame of :data:`KEY_COLUMNS`; refuses a
    workbook without it, of another layout version, or with a column missing."""
    where = f"{file}, sheet {KEYS_SHEET}"
    if KEYS_SHEET not in book.sheetnames:
        raise InputError(
            Problem(
                f"no sheet {KEYS_SHEET}: not a call sheet written by workbench (or the sheet "
                "was deleted)",
                file=file,
            )
        )
    rows = _rows(book, KEYS_SHEET)
    version = _text(rows[0][0]) if rows and rows[0] else None
    if version != LAYOUT_VERSION:
        raise InputError(
            Problem(
                f"layout version {version!r}, expected {LAYOUT_VERSION!r}: this call sheet was "
                "written by another version of workbench",
                file=where, row=1, column="A",
            )
        )  # fmt: skip
    header = [_text(v) for v in (rows[1] if len(rows) > 1 else ())]
    missing = [c for c in KEY_COLUMNS if c not in header]
    if missing:
        raise InputError(
            [Problem("column not found in the keys", file=where, row=2, column=c) for c in missing]
        )
    body = rows[2:]
    frame = pl.DataFrame(
        {c: pl.Series(c, [_text(r[header.index(c)]) for r in body], pl.String) for c in KEY_COLUMNS}
    ).filter(pl.col("sheet").is_not_null() & pl.col("customer_id").is_not_null())
    frame = frame.unique(["sheet", "customer_id"], keep="first", maintain_order=True)
    as_of = frame.get_column("as_of").str.to_date("%Y-%m-%d", strict=False)
    if frame.height == 0 or as_of.null_count():
        raise InputError(Problem("the keys hold no valid as-of date (YYYY-MM-DD)", file=where))
    return frame.with_columns(
        as_of=as_of, overdue_amount=pl.col("overdue_amount").cast(pl.Float64, strict=False)
    )


# --- a collector's sheet ----------------------------------------------------------------------


def _language(header: list[str | None]) -> str:
    """The team language whose headers match most of ``header`` (English on a tie)."""
    seen = {(h or "").strip().casefold() for h in header}
    scores = {
        lang: sum(label.casefold() in seen for label in labels.values())
        for lang, labels in HEADERS.items()
    }
    return max(scores, key=lambda lang: (scores[lang], lang == "en"))


def _sheet_frame(book: Any, sheet: str, file: str) -> tuple[pl.DataFrame, str]:
    """The rows of collector sheet ``sheet`` with a feedback cell filled, cells split by kind
    (:func:`_cells`), with their Excel row number (``row``); and the sheet's language."""
    where = f"{file}, sheet {sheet}"
    if sheet not in book.sheetnames:
        raise InputError(Problem("sheet named in the keys not found", file=where))
    rows = _rows(book, sheet)
    header = [_text(v) for v in (rows[0] if rows else ())]
    language = _language(header)
    position = {(h or "").casefold(): i for i, h in enumerate(header)}
    labels = HEADERS[language]
    missing = [c for c in _REQUIRED if labels[c].casefold() not in position]
    if missing:
        raise InputError(
            [Problem("column not found", file=where, row=1, column=labels[c]) for c in missing]
        )
    body = rows[1:]
    columns: dict[str, pl.Series] = {"row": pl.Series("row", range(2, len(body) + 2), pl.Int64)}
    for name in (*_REQUIRED, *_OPTIONAL):
        index = position.get(labels[name].casefold())
        values = [r[index] if index is not None and index < len(r) else None for r in body]
        columns |= _cells(values, name)
    frame = pl.DataFrame(columns)
    filled = pl.any_horizontal(pl.col(f"{c}:s").is_not_null() for c in FEEDBACK_COLUMNS)
    return frame.filter(filled).with_columns(sheet=pl.lit(sheet)), language


def _words(mapping: dict[str, str]) -> dict[str, str]:
    return {word.casefold(): code for code, word in mapping.items()}


def _code_maps(language: str) -> dict[str, dict[str, str]]:
    """Words (case-folded) to codes for done, outcome, channel and step, in ``language`` or
    English, codes included."""
    from workbench.phrases import ACTION_LABELS, CHANNEL_WORDS, STEP_WORDS

    def both(table: dict[str, dict[str, str]], codes: Sequence[str]) -> dict[str, str]:
        return (
            {c.casefold(): c for c in codes}
            | _words(table.get("en", {}))
            | _words(table.get(language, {}))
        )

    return {
        "done": both(DONE_WORDS, ()),
        "outcome": both(OUTCOME_WORDS, OUTCOMES),
        "channel": both(CHANNEL_WORDS, CONTACT_CHANNELS),
        "step": both(ACTION_LABELS, CONTACT_STEPS) | both(STEP_WORDS, ()),
    }


def _parsed(frame: pl.DataFrame, language: str) -> pl.DataFrame:
    """``frame`` (:func:`_sheet_frame`) with typed values: done (yes/no), outcome, channel and
    step codes, dates, amounts, comment; and a ``bad:<column>`` flag per unreadable cell."""
    from workbench.dialect import date_text, number_text

    dialect = "fr" if language == "fr" else "iso"
    maps = _code_maps(language)
    c = pl.col
    texts = {name: date_text(frame.get_column(name), dialect)[0] for name in _DATES} | {
        name: number_text(frame.get_column(name), dialect)[0] for name in _AMOUNTS
    }
    frame = frame.with_columns(pl.Series(f"{n}:t", s) for n, s in texts.items())

    def code(name: str, table: str) -> pl.Expr:
        words = maps[table]
        return c(f"{name}:s").str.to_lowercase().str.strip_chars().replace_strict(
            {w.lower(): v for w, v in words.items()}, default=None, return_dtype=pl.String
        )  # fmt: skip

    dates = {
        n: pl.coalesce(c(f"{n}:d"), c(f"{n}:t").str.to_date("%Y-%m-%d", strict=False))
        for n in _DATES
    }
    amounts = {
        n: pl.coalesce(c(f"{n}:n"), c(f"{n}:t").cast(pl.Float64, strict=False)) for n in _AMOUNTS
    }
    values = {
        "customer_id": c("customer_id:s"),
        "done": code("done", "done"),
        "outcome": code("outcome", "outcome"),
        "channel_code": code("channel", "channel"),
        "step_code": _step(c("action:s"), maps["step"], language),
        "comment": c("comment:s"),
        **dates,
        **amounts,
    }
    typed = frame.with_columns(**values)
    bad = {
        f"bad:{n}": c(f"{n}:s").is_not_null() & c(n).is_null()
        for n in ("done", "outcome", *_DATES, *_AMOUNTS)
    }
    return typed.with_columns(**bad)


def _step(action: pl.Expr, words: dict[str, str], language: str) -> pl.Expr:
    """The step code of an action cell (its words, without the strategic-account suffixes)."""
    from workbench.phrases import REASONS

    suffixes = {REASONS[lang][k] for lang in ("en", language) for k in
                ("needs_approval_suffix", "owner_suffix")}  # fmt: skip
    text = action
    for suffix in sorted(suffixes, key=len, reverse=True):
        text = text.str.strip_suffix(suffix)
    steps = {w.lower(): v for w, v in words.items() if v in CONTACT_STEPS}
    return (
        text.str.to_lowercase()
        .str.strip_chars()
        .replace_strict(steps, default=None, return_dtype=pl.String)
    )


# --- checks -----------------------------------------------------------------------------------

_WHAT = {
    "done": "not one of the words of the list (yes / no)",
    "outcome": "not one of the outcomes of the list",
    "contact_date": "not a date",
    "promised_date": "not a date",
    "next_contact_date": "not a date",
    "promised_amount": "not an amount",
}


def _what(language: str) -> dict[str, str]:
    """What an unreadable cell of each column is not, with the words the list offers."""
    outcomes = ", ".join(OUTCOME_WORDS[language].values())
    done = " / ".join(DONE_WORDS[language].values())
    return _WHAT | {
        "done": f"not one of the words of the list ({done})",
        "outcome": f"not one of the outcomes of the list ({outcomes})",
    }


def _checks(today: date, language: str) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """(column, failing, message) of every rule a filled row must follow (module docstring);
    the frame carries the row's ``as_of`` and its ``contact_day`` (the contact date)."""
    c = pl.col
    lowest = c("as_of") - pl.duration(days=PAST_DAYS)
    highest = c("as_of") + pl.duration(days=FUTURE_DAYS)
    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        (name, c(f"bad:{name}"), pl.concat_str(pl.lit("'"), c(f"{name}:s"), pl.lit(f"': {text}")))
        for name, text in _what(language).items()
    ]
    for name in _DATES:
        checks.append(
            (
                name,
                (c(name) < lowest) | (c(name) > highest),
                pl.format(
                    f"{{}} is outside the dates a call sheet of {{}} may hold ({PAST_DAYS} days "
                    f"before to {FUTURE_DAYS} days after)",
                    c(name),
                    c("as_of"),
                ),
            )
        )
    checks += [
        ("customer_id", c("as_of").is_null(),
         pl.concat_str(pl.lit("customer "), c("customer_id").fill_null("(empty)"),
                       pl.lit(" is not a customer of this sheet (the keys do not list it)"))),
        ("customer_id", c("customer_id").is_not_null() & (c("row") > c("first_row")),
         pl.format("customer {} is also filled in on row {}: keep one row per customer",
                   c("customer_id"), c("first_row"))),
        ("contact_date", c("contact_date") > today,
         pl.format(f"{{}} is after today ({today}): a contact cannot be recorded in advance",
                   c("contact_date"))),
        ("promised_date", c("promised_date") < c("contact_day"),
         pl.format("{} is before the contact date {}", c("promised_date"), c("contact_day"))),
        ("promised_amount", c("promised_amount") <= 0,
         pl.format("{} is not above 0", c("promised_amount"))),
        ("promised_amount", ~c("promised_amount").is_finite() | (c("promised_amount") > MAX_AMOUNT),
         pl.format("{} is not an amount a promise can have", c("promised_amount"))),
        ("done", (c("done") == "no") & c("outcome").is_not_null(),
         pl.format("'{}' with the outcome '{}': a contact not done has no outcome (set done to "
                   "yes, or clear the outcome)", c("done:s"), c("outcome:s"))),
        ("promised_date", _promise_needs("promised_date"),
         pl.lit("a promise needs the promised date")),
        ("promised_amount", _promise_needs("promised_amount"),
         pl.lit("a promise needs the promised amount")),
    ]  # fmt: skip
    return checks


def _promise_needs(column: str) -> pl.Expr:
    """A promise to pay without ``column``, or a plan agreed with only one of its two cells."""
    c = pl.col
    other = "promised_amount" if column == "promised_date" else "promised_date"
    return c(f"{column}:s").is_null() & (
        (c("outcome") == "promise_to_pay")
        | ((c("outcome") == "plan_agreed") & c(other).is_not_null())
    )


def _problems(frame: pl.DataFrame, language: str, file: str, today: date) -> list[Problem]:
    """Every rule broken by the rows of one sheet (``frame``: parsed and joined to the keys)."""
    checks = _checks(today, language)
    flags = frame.select(
        "sheet",
        "row",
        *[
            pl.when(failing.fill_null(False)).then(message).alias(f"p{i}")
            for i, (_, failing, message) in enumerate(checks)
        ],
    )
    found = []
    labels = HEADERS[language]
    for i, (column, _, _) in enumerate(checks):
        bad = flags.filter(pl.col(f"p{i}").is_not_null())
        for sheet, row, message in bad.select("sheet", "row", f"p{i}").iter_rows():
            found.append((row, FEEDBACK_ORDER.get(column, -1),
                          Problem(message, file=f"{file}, sheet {sheet}", row=row,
                                  column=labels[column])))  # fmt: skip
    return [p for _, _, p in sorted(found, key=lambda t: (t[0], t[1]))]


FEEDBACK_ORDER = {name: i for i, name in enumerate(_REQUIRED)}


# --- records ----------------------------------------------------------------------------------


def _rows_of(book: Any, keys: pl.DataFrame, file: str, today: date) -> tuple[pl.DataFrame, list]:
    """Every filled row of every collector sheet, parsed and joined to its keys; the problems."""
    frames, problems = [], []
    sheets = keys.get_column("sheet").unique(maintain_order=True).to_list()
    for sheet in sheets:  # a handful of collectors
        raw, language = _sheet_frame(book, sheet, file)
        joined = (
            _parsed(raw, language)
            .join(keys, on=["sheet", "customer_id"], how="left")
            .with_columns(
                contact_day=pl.coalesce("contact_date", pl.col("as_of") + pl.duration(days=1)),
                first_row=pl.col("row").min().over("customer_id"),
            )
        )
        problems += _problems(joined, language, file, today)
        frames.append(joined.select(_KEEP))
    rows = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=_EMPTY)
    return rows, problems


_KEEP = (
    "sheet", "row", "customer_id", "collector", "as_of", "currency", "invoices", "done",
    "outcome", "channel_code", "step_code", "contact_day", "promised_date", "promised_amount",
    "next_contact_date", "comment",
)  # fmt: skip
_EMPTY = {
    "sheet": pl.String, "row": pl.Int64, "customer_id": pl.String, "collector": pl.String,
    "as_of": pl.Date, "currency": pl.String, "invoices": pl.String, "done": pl.String,
    "outcome": pl.String, "channel_code": pl.String, "step_code": pl.String,
    "contact_day": pl.Date, "promised_date": pl.Date, "promised_amount": pl.Float64,
    "next_contact_date": pl.Date, "comment": pl.String,
}  # fmt: skip


RECORD_PREFIX = "WB-"
"""The start of the id of every record read back from a call sheet (contacts, promises,
disputes): how a report tells what the collectors reported from what the source recorded."""


def _prefix() -> pl.Expr:
    """``WB-<as_of>-<customer_id>``: the start of the ids of a row's records (deterministic)."""
    c = pl.col
    return pl.concat_str(pl.lit(RECORD_PREFIX), c("as_of").dt.to_string("%Y-%m-%d"), pl.lit("-"),
                         c("customer_id"))  # fmt: skip


def _contacts(rows: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """A contact per invoice of each row that records one (one with a null invoice_id when
    the row's keys name no invoice); ``name``: the workbook's file name (recorded_from)."""
    c = pl.col
    channel = pl.when(c("channel_code").is_in(CONTACT_CHANNELS)).then(c("channel_code"))
    invoices = _invoice_keys().list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
    return (
        rows.filter((c("done") == "yes") | c("outcome").is_not_null())
        .with_columns(invoice_id=invoices.list.unique(maintain_order=True))
        .explode("invoice_id", empty_as_null=True)
        .select(
            contact_id=pl.when(c("invoice_id").is_null())
            .then(_prefix())
            .otherwise(pl.concat_str(_prefix(), pl.lit("-"), c("invoice_id"))),
            customer_id="customer_id",
            contact_date="contact_day",
            channel=channel.otherwise(pl.lit("phone")),
            step="step_code",
            outcome="outcome",
            tone=pl.lit(None, pl.String),
            invoice_id="invoice_id",
            collector="collector",
            recorded_from=pl.format(f"{name} / {{}} / row {{}}", c("sheet"), c("row")),
            comment="comment",
        )
    )


def _invoice_keys() -> pl.Expr:
    """The invoice ids of a row's ``invoices`` key (a JSON array of text, see
    :data:`workbench.callsheet.KEY_COLUMNS`), a list (empty when none)."""
    return pl.col("invoices").fill_null("[]").str.json_decode(pl.List(pl.String))


def _promises(rows: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    promised = (c("outcome") == "promise_to_pay") | (
        (c("outcome") == "plan_agreed")
        & c("promised_date").is_not_null()
        & c("promised_amount").is_not_null()
    )
    invoices = _invoice_keys()
    return rows.filter(promised).select(
        promise_id=pl.concat_str(_prefix(), pl.lit("-P")),
        customer_id="customer_id",
        promise_date="contact_day",
        promised_date="promised_date",
        amount="promised_amount",
        invoice_id=pl.when(invoices.list.len() == 1).then(invoices.list.first()),
        currency="currency",
    )


def _disputes(rows: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    return (
        rows.filter(c("outcome") == "dispute_raised")
        .with_columns(invoice_id=_invoice_keys())
        .explode("invoice_id")
        .filter(c("invoice_id").is_not_null() & (c("invoice_id") != ""))
        .select(
            dispute_id=pl.concat_str(_prefix(), pl.lit("-"), c("invoice_id")),
            invoice_id="invoice_id",
            opened_date="contact_day",
            resolved_date=pl.lit(None, pl.Date),
            reason="comment",
            amount=pl.lit(None, pl.Float64),
        )
    )


def _follow_ups(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.filter(pl.col("next_contact_date").is_not_null()).select(
        customer_id="customer_id",
        follow_up_date="next_contact_date",
        collector="collector",
        set_on="contact_day",
        comment="comment",
    )


def _warnings(rows: pl.DataFrame, file: str) -> tuple[str, ...]:
    """Filled cells that record nothing: a dispute with no invoice in the keys, a promised
    date or amount with an outcome that is not a promise."""
    c = pl.col
    no_invoice = rows.filter((c("outcome") == "dispute_raised") & (_invoice_keys().list.len() == 0))
    stray = rows.filter(
        (c("promised_date").is_not_null() | c("promised_amount").is_not_null())
        & ~c("outcome").is_in(["promise_to_pay", "plan_agreed"]).fill_null(False)
    )
    return tuple(
        [f"{file}, sheet {s}, row {r}: dispute raised but the row names no invoice: no dispute "
         "recorded" for s, r in no_invoice.select("sheet", "row").iter_rows()]
        + [f"{file}, sheet {s}, row {r}: promised date or amount given without the outcome "
           "'promise to pay': no promise recorded"
           for s, r in stray.select("sheet", "row").iter_rows()]
    )  # fmt: skip


def _schema_of(table: str) -> pl.Schema:
    return TABLES[table].polars_schema


def read_outcomes(path: str | Path, today: date | None = None) -> Outcomes:
    """What the collectors filled in the call sheet ``path`` (module docstring).

    ``today``: the day of reading (default: the machine's date); no contact may be dated after
    it. Raises :class:`InputError` listing every problem (sheet, Excel row, column header).
    """
    path = Path(path)
    today = today or date.today()
    file = str(path)
    with _workbook(path) as book:
        keys = _keys(book, file)
        rows, problems = _rows_of(book, keys, file, today)
    if problems:
        raise InputError(problems[:20], more=max(0, len(problems) - 20))
    lazy = rows.lazy()
    contacts = _contacts(lazy, path.name).collect()
    return Outcomes(
        contacts=contacts.cast(dict(_schema_of("contacts")) | CONTACT_EXTRA),  # type: ignore[arg-type]
        promises=_promises(lazy).collect().cast(dict(_schema_of("promises"))),  # type: ignore[arg-type]
        disputes=_disputes(lazy).collect().cast(dict(_schema_of("disputes"))),  # type: ignore[arg-type]
        follow_ups=_follow_ups(lazy)
        .collect()
        .cast(dict(FOLLOW_UPS_SCHEMA) | {"comment": pl.String}),  # type: ignore[arg-type]
        rows_read=rows.height,
        warnings=_warnings(rows, file),
        as_of=keys.get_column("as_of").min(),  # type: ignore[arg-type]
    )


def filled_rows(path: str | Path) -> int | None:
    """How many rows of the call sheet at ``path`` have a feedback cell filled, valid or not
    (a collector's work either way: nothing is checked but the layout). None when ``path``
    cannot be read as a call sheet of this layout: not a workbook, no keys sheet or another
    layout version (an older call sheet), a collector sheet or one of its columns missing."""
    path = Path(path)
    try:
        with _workbook(path) as book:
            keys = _keys(book, str(path))
            sheets = keys.get_column("sheet").unique(maintain_order=True).to_list()
            return sum(_sheet_frame(book, s, str(path))[0].height for s in sheets)  # a handful
    except InputError:
        return None


# --- writing and loading ----------------------------------------------------------------------


def write_files(outcomes: Outcomes, folder: Path) -> list[Path]:
    """The four CSV files of ``outcomes`` in ``folder`` (created), English CSV (ISO dates),
    injection-safe (:func:`workbench.export.csv_safe`), sorted by id; the paths."""
    from workbench.export import csv_safe

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in outcomes.frames().items():
        path = folder / f"{name}.csv"
        csv_safe(frame.sort(frame.columns[:2])).write_csv(
            path, date_format="%Y-%m-%d", line_terminator="\n"
        )
        written.append(path)
    return written


def write_outcomes(outcomes: Outcomes, folder: str | Path) -> list[Path]:
    """Write ``outcomes`` into ``folder`` atomically (:func:`workbench.files.atomic_outputs`:
    all four files or none; other files of the folder kept). The paths written."""
    from workbench.files import atomic_outputs

    folder = Path(folder)
    with atomic_outputs(folder) as tmp:
        names = [p.name for p in write_files(outcomes, tmp)]
    return [folder / name for name in names]


_LOADED = ("contacts", "promises", "disputes")
"""The canonical tables an outcomes folder adds to a portfolio."""


def _read_folder(folder: Path) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The canonical tables of outcomes folder ``folder`` as raw text frames (canonical
    columns only, the CSV guard undone: :func:`workbench.export.csv_unescaped`) in canonical text
    (:mod:`workbench.dialect`), and their files."""
    from workbench.csvread import read_csv_table
    from workbench.dialect import canonical_text
    from workbench.export import csv_unescaped
    from workbench.sources import RawSource, table_files

    if not folder.is_dir():
        raise InputError(Problem("outcomes folder not found", file=str(folder)))
    files = table_files(folder, list(OUTCOME_FILES))
    frames = {}
    for name in (n for n in _LOADED if n in files):
        frame = csv_unescaped(read_csv_table(files[name], name, None))
        wanted = {*TABLES[name].column_names, "__row__"}
        frames[name] = frame.select(c for c in frame.columns if c.strip().casefold() in wanted)
    origins = {name: str(path) for name, path in files.items()}
    raw = canonical_text(RawSource(frames=frames, origins=origins), None)
    return raw.frames, origins


def _follow_ups_file(path: Path, customers: pl.DataFrame) -> pl.DataFrame:
    """``follow_ups.csv`` typed (:data:`FOLLOW_UPS_SCHEMA`); a bad date or an unknown customer
    is refused naming the file, row and column."""
    from workbench.csvread import read_csv_table
    from workbench.export import csv_unescaped

    raw = csv_unescaped(read_csv_table(path, "follow_ups", None))
    missing = [c for c in FOLLOW_UPS_SCHEMA if c not in raw.columns]
    if missing:
        raise InputError([Problem("column missing", file=str(path), column=c) for c in missing])
    c = pl.col
    frame = raw.with_row_index("line", offset=2).with_columns(
        follow_up=c("follow_up_date").str.to_date("%Y-%m-%d", strict=False),
        set=c("set_on").str.to_date("%Y-%m-%d", strict=False),
        known=c("customer_id").is_in(customers.get_column("customer_id").implode()),
    )
    checks = {
        "follow_up_date": (c("follow_up").is_null(), "not a date (YYYY-MM-DD)"),
        "set_on": (c("set").is_null(), "not a date (YYYY-MM-DD)"),
        "customer_id": (~c("known"), "unknown customer (not in the customers table)"),
    }
    problems = [
        Problem(f"{value!r}: {text}", file=str(path), row=line - 1, column=column)
        for column, (failing, text) in checks.items()
        for line, value in frame.filter(failing).select("line", column).iter_rows()
    ]
    if problems:
        raise InputError(problems[:20], more=max(0, len(problems) - 20))
    return frame.select(
        "customer_id", follow_up_date="follow_up", collector="collector", set_on="set"
    ).cast(dict(FOLLOW_UPS_SCHEMA))  # type: ignore[arg-type]


def _collisions(
    table: str, added: pl.DataFrame, frames: dict[str, pl.DataFrame], origin: dict, file: str
) -> list[Problem]:
    """Ids of ``added`` (an outcomes file) already in ``frames[table]`` (the source or an
    earlier outcomes folder): one problem per id, naming both files."""
    key = TABLES[table].key[0]
    clash = added.select(key).join(frames[table].select(key), on=key, how="semi")
    return [
        Problem(f"{key} {value!r} is also in {origin.get(table, 'the source data')}",
                file=file, table=table, column=key)
        for (value,) in clash.head(20).iter_rows()
    ]  # fmt: skip


def with_outcomes(portfolio: Any, folders: Sequence[str | Path]) -> Any:
    """``portfolio`` (a :class:`workbench.portfolio.Portfolio`) with the contacts, promises and
    disputes of each outcomes folder (:func:`write_outcomes`) appended to its own (a table the
    source lacked becomes present), each file validated like any input against the portfolio's
    customers and invoices; an id already in the source or an earlier folder is refused naming
    both. The follow-ups are kept as the extra frame ``follow_ups`` (not a canonical table).
    Text fields come back as the collectors wrote them (the CSV guard undone,
    :func:`csv_unescaped`).
    Rows dated after an as-of date stay invisible as everywhere (the engine filters by date)."""
    from workbench.portfolio import Portfolio

    frames = dict(portfolio.frames)
    frames.setdefault("follow_ups", pl.DataFrame(schema=FOLLOW_UPS_SCHEMA))
    present = set(portfolio.present)
    origin = dict(portfolio.sources)
    for folder in map(Path, folders):  # a handful of weeks
        raw, files = _read_folder(folder)
        context = {t: portfolio.frames[t] for t in ("customers", "invoices")}
        if portfolio.has("fx_rates"):
            context["fx_rates"] = portfolio.frames["fx_rates"]
        checked = Portfolio.from_frames(context | raw, sources=files)
        problems = [
            p for t in raw for p in _collisions(t, checked.frames[t], frames, origin, files[t])
        ]
        if problems:
            raise InputError(problems)
        for table in raw:
            frames[table] = pl.concat([frames[table], checked.frames[table]], how="vertical")
            origin.setdefault(table, files[table])
            present.add(table)
        if "follow_ups" in files:
            follow = _follow_ups_file(Path(files["follow_ups"]), portfolio.frames["customers"])
            frames["follow_ups"] = pl.concat([frames["follow_ups"], follow], how="vertical")
    return dataclasses.replace(portfolio, frames=frames, present=frozenset(present))
