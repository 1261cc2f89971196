"""Writing the worklist (DESIGN section 7): ``worklist.xlsx``, ``worklist.csv``,
``excluded.csv``, ``watchlist.csv``.

- The XLSX has a ``summary`` sheet, a ``watch list`` sheet (the large exposures that wait, with
  why and until when), one formatted sheet per collector (frozen header, autofilter, currency,
  percent and date formats, column widths) and an ``excluded`` sheet.
- ``worklist.csv`` holds the same rows and columns as the collectors' sheets together (rank
  order); ``excluded.csv`` the excluded list; ``watchlist.csv`` the watch list.
- Text from the input is never a formula: XLSX cells are written with ``write_string`` (and the
  workbook converts no string to a formula, number or URL); in the CSV files a text field
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
  quote (OWASP, CSV injection).
- In the team's language (``Worklist.language``, policy ``team.language``): a French export has
  French sheet names, titles and headers, the code columns in words (:mod:`workbench.labels`),
  dates as dd/mm/yyyy; its CSV files use ``;`` and the decimal comma, with a UTF-8 byte order
  mark, as LibreOffice and Excel in French expect. English exports show the codes.
- Excel holds at most 32,767 characters in a cell: a longer text (a name or draft from the
  input) is cut visibly, ending with "… [cut: full text in worklist.csv]" (the CSV file of that
  sheet, which keeps the full text), with one warning per workbook counting the cells cut.
- Same worklist, same bytes: the document properties are fixed (created on the as-of date).
- Written atomically (:func:`workbench.files.atomic_outputs`): into a temporary folder beside the
  output folder, then each file renamed into it; the folder's other files are kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from workbench.errors import InputError, Problem, warn_input
from workbench.files import atomic_outputs
from workbench.labels import for_display, header, word
from workbench.phrases import WORKBOOK
from workbench.worklist import (
    EXCLUDED_COLUMNS,
    MONEY_COLUMNS,
    WORKLIST_COLUMNS,
    Worklist,
    summary_tables,
)

OUTPUTS = ("worklist.xlsx", "worklist.csv", "excluded.csv", "watchlist.csv")
"""The files :func:`write_worklist` writes."""

CELL_LIMIT = 32_767
"""The most characters an Excel cell holds (UTF-16 code units: a character outside the Basic
Multilingual Plane, an emoji, counts twice)."""

SHEET_ROWS = 1_048_576
"""The most rows an Excel sheet holds (header included)."""

CUT_NOTE = {"en": "… [cut: full text in {file}]", "fr": "… [coupé : texte complet dans {file}]"}
"""The end of a text cut to :data:`CELL_LIMIT`, by language; ``{file}`` is the CSV file."""

FORMULA_START = r"^[=+\-@\t\r]"
"""Text starting like this would be read as a formula by a spreadsheet."""

WIDTHS = {
    "rank": 6, "collector": 18, "customer_id": 12, "customer_name": 30, "contact": 22,
    "phone": 18, "email": 30, "channel": 16, "tone": 10, "action": 30, "step": 16, "reason": 70,
    "risk_reasons": 50,
    "open_amount": 15, "overdue_amount": 15, "oldest_dpd": 10, "amount_at_risk": 15,
    "probability": 11, "segment": 14, "invoices": 50, "last_contact": 12, "last_outcome": 16,
    "promise": 34, "draft_message": 80, "draft_language": 8, "draft_note": 30,
}  # fmt: skip
"""Column widths (characters) of the worklist sheets."""

RESERVED_SHEETS = ("summary", "watch list", "excluded")
"""The sheets of the English workbook that are not a collector's (French: :data:`WORKBOOK`)."""

EXCLUDED_WIDTHS = {
    "customer_name": 30, "collector": 18, "open_amount": 15, "overdue_amount": 15,
    "exclusion": 24, "next_step": 18, "next_date": 12, "reason": 90,
}  # fmt: skip


def _units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Excel counts a cell's characters)."""
    return len(text.encode("utf-16-le")) // 2


def cell_text(text: str, file: str, language: str = "en") -> str:
    """``text`` as an XLSX cell can hold it: unchanged up to :data:`CELL_LIMIT` code units,
    else cut so that with the note (:data:`CUT_NOTE`, naming the CSV ``file`` that keeps the
    full text) it is exactly at the limit or just under (a character is never split)."""
    if len(text) <= CELL_LIMIT // 2 or _units(text) <= CELL_LIMIT:
        return text
    note = CUT_NOTE.get(language, CUT_NOTE["en"]).format(file=file)
    room = 2 * (CELL_LIMIT - _units(note))  # bytes of UTF-16-LE
    head = text.encode("utf-16-le")[:room].decode("utf-16-le", errors="ignore")
    return head + note


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text field that starts like a formula prefixed with ``'``."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.concat_str(pl.lit("'"), pl.col(name)))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def write_csv(frame: pl.DataFrame, path: Path, language: str = "en") -> None:
    """``frame`` as CSV, injection-safe (:func:`csv_safe`): in English UTF-8, ``,``, ISO dates,
    the codes; in French UTF-8 with a byte order mark, ``;``, decimal comma, dd/mm/yyyy dates,
    French headers and words (:func:`workbench.labels.for_display`)."""
    if language == "en":
        csv_safe(frame).write_csv(path, date_format="%Y-%m-%d", line_terminator="\n")
        return
    csv_safe(for_display(frame, language)).write_csv(
        path,
        separator=";",
        decimal_comma=True,
        date_format="%d/%m/%Y",
        include_bom=True,
        line_terminator="\n",
    )


def sheet_names(collectors: list[str], language: str = "en") -> dict[str, str]:
    """A valid, unique sheet name per collector (at most 31 characters, none of ``[]:*?/\\``,
    not the name of the summary, watch list or excluded sheet of ``language``), in the order
    given."""
    reserved = (WORKBOOK[language][sheet] for sheet in ("summary", "watch", "excluded"))
    used = {name.lower() for name in reserved}
    names: dict[str, str] = {}
    for collector in collectors:
        base = re.sub(r"[\[\]:*?/\\]", "_", collector).strip().strip("'")[:31] or "collector"
        name, n = base, 2
        while name.lower() in used:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names[collector] = name
    return names


class _Sheets:
    """Cell formats of the workbook and the writing of typed cells."""

    def __init__(self, book: xlsxwriter.Workbook, currency: str, language: str = "en") -> None:
        self.language = language
        code = re.sub(r"[^A-Za-z]", "", currency)
        money = f'#,##0.00 "{code}"' if code else "#,##0.00"
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.money = book.add_format({"num_format": money, "valign": "top"})
        self.percent = book.add_format({"num_format": "0%", "valign": "top"})
        day = "yyyy-mm-dd" if language == "en" else "dd/mm/yyyy"
        self.date = book.add_format({"num_format": day, "valign": "top"})
        self.integer = book.add_format({"num_format": "0", "valign": "top"})
        self.full_text_in = "worklist.csv"  # the CSV file of the sheet being written
        self.cut = 0  # cells cut to CELL_LIMIT
        self.rows_left_out = 0  # rows beyond SHEET_ROWS
        self.text = book.add_format({"valign": "top"})
        self.wrapped = book.add_format({"text_wrap": True, "valign": "top"})

    def cell_format(self, column: str, dtype: pl.DataType):
        if column in MONEY_COLUMNS:
            return self.money
        if column == "probability":
            return self.percent
        if dtype == pl.Date:
            return self.date
        if dtype.is_integer():
            return self.integer
        if column in ("reason", "risk_reasons", "draft_message", "invoices"):
            return self.wrapped
        return self.text

    def write(self, sheet, row: int, col: int, value, fmt) -> None:
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            text = cell_text(value, self.full_text_in, self.language)
            self.cut += text is not value
            sheet.write_string(row, col, text, fmt)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
        else:
            sheet.write_number(row, col, value, fmt)

    def table(
        self, sheet, frame: pl.DataFrame, first_row: int = 0, widths: dict | None = None
    ) -> int:
        """``frame`` with its header at ``first_row`` (headers and code columns in the
        workbook's language); returns the row after it."""
        formats = [self.cell_format(name, dtype) for name, dtype in frame.schema.items()]
        for col, name in enumerate(frame.columns):
            sheet.write_string(first_row, col, header(name, self.language), self.header)
            sheet.set_column(col, col, (widths or {}).get(name, max(12, len(name) + 2)))
        room = max(SHEET_ROWS - first_row - 1, 0)
        self.rows_left_out += max(frame.height - room, 0)
        shown = for_display(frame.head(room), self.language)
        for r, values in enumerate(shown.iter_rows(), start=first_row + 1):
            for col, value in enumerate(values):
                self.write(sheet, r, col, value, formats[col])
        return first_row + shown.height + 1


def write_xlsx(worklist: Worklist, path: Path) -> None:
    """The worklist workbook: summary, watch list, one sheet per collector, excluded (in the
    worklist's language)."""
    language = worklist.language
    words = WORKBOOK[language]
    day = worklist.as_of.isoformat() if language == "en" else worklist.as_of.strftime("%d/%m/%Y")
    as_of = datetime(worklist.as_of.year, worklist.as_of.month, worklist.as_of.day)
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    book.set_properties(
        {
            "title": words["title"].format(date=day),
            "author": "workbench",
            "comments": "Generated by workbench worklist",
            "created": as_of,
        }
    )
    formats = _Sheets(book, worklist.currency, language)

    summary = book.add_worksheet(words["summary"])
    summary.write_string(0, 0, words["heading"].format(date=day), formats.title)
    row = 2
    for title, table in summary_tables(worklist).items():
        summary.write_string(row, 0, title, formats.title)
        row = formats.table(summary, table, row + 1) + 1
    summary.set_column(0, 0, 34)

    _list_sheet(book, formats, words["watch"], worklist.watch, "watchlist.csv")
    formats.full_text_in = "worklist.csv"
    rows = worklist.rows.select(WORKLIST_COLUMNS)
    collectors = sorted(rows["collector"].unique().to_list())
    shown = {collector: word(collector, "collector", language) for collector in collectors}
    if len(set(shown.values())) < len(shown):  # a collector named like a translated code
        shown = {collector: collector for collector in collectors}
    names = sheet_names(list(shown.values()), language)
    for collector in collectors:
        sheet = book.add_worksheet(names[shown[collector]])
        mine = rows.filter(pl.col("collector") == collector)
        formats.table(sheet, mine, 0, WIDTHS)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(mine.height, 1), len(WORKLIST_COLUMNS) - 1)
        sheet.set_row(0, 30)

    _list_sheet(book, formats, words["excluded"], worklist.excluded, "excluded.csv")
    book.close()
    if formats.cut:
        warn_input(
            Problem(
                f"{formats.cut} cell(s) longer than Excel's {CELL_LIMIT:,} characters cut, "
                "marked as cut; the CSV files keep the full text",
                file=path.name,
            )
        )
    if formats.rows_left_out:
        warn_input(
            Problem(
                f"{formats.rows_left_out} row(s) beyond Excel's {SHEET_ROWS:,} rows a sheet "
                "holds left out; the CSV files have every row",
                file=path.name,
            )
        )


def _list_sheet(
    book: xlsxwriter.Workbook, formats: _Sheets, name: str, frame: pl.DataFrame, csv: str
) -> None:
    """A sheet of excluded customers (the excluded list or the watch list, whose full texts are
    in the CSV file ``csv``)."""
    formats.full_text_in = csv
    sheet = book.add_worksheet(name)
    table = frame.select(EXCLUDED_COLUMNS)
    formats.table(sheet, table, 0, EXCLUDED_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(table.height, 1), len(EXCLUDED_COLUMNS) - 1)


def check_out_dir(out_dir: str | Path) -> None:
    """Refuse (:class:`InputError`) early, before any work, an output folder that is a file or
    holds a folder named like one of :data:`OUTPUTS`. Other files in it are fine:
    :func:`write_worklist` replaces its own files and keeps the rest."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(Problem("--out must be a folder, not a file", file=str(out_dir)))
    for name in OUTPUTS:
        if (out_dir / name).is_dir():
            raise InputError(
                Problem(
                    "is a folder where the worklist writes its file: move or rename it",
                    file=str(out_dir / name),
                )
            )


def write_worklist_files(worklist: Worklist, folder: Path) -> list[Path]:
    """Write :data:`OUTPUTS` into the existing ``folder`` (not atomically: for a caller that
    writes into its own temporary folder, like the weekly run). Returns the written paths."""
    language = worklist.language
    write_xlsx(worklist, folder / "worklist.xlsx")
    write_csv(worklist.rows.select(WORKLIST_COLUMNS), folder / "worklist.csv", language)
    write_csv(worklist.excluded.select(EXCLUDED_COLUMNS), folder / "excluded.csv", language)
    write_csv(worklist.watch.select(EXCLUDED_COLUMNS), folder / "watchlist.csv", language)
    return [folder / name for name in OUTPUTS]


def write_worklist(worklist: Worklist, out_dir: str | Path) -> list[Path]:
    """Write :data:`OUTPUTS` into ``out_dir``, atomically (:func:`workbench.files.atomic_outputs`:
    written into a temporary folder beside it, then each file renamed into it when all are
    written; other files of ``out_dir`` are kept; a concurrent run on ``out_dir`` is refused).
    Returns the written paths."""
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir)
    with atomic_outputs(out_dir) as tmp:
        write_worklist_files(worklist, tmp)
    return [out_dir / name for name in OUTPUTS]
