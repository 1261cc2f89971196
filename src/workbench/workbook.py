"""Reading an XLSX workbook with a sheet per table (fastexcel, the calamine engine of polars).

- Sheets are matched to the tables wanted by name, trimmed and case-insensitive (a sheet
  `` Invoices `` is the table ``invoices``); two sheets matching one table are refused.
- The first row of a sheet is its header; data rows are numbered from 1 below it (the header is
  row 0), so a message's row N is the sheet's (N+1)th row.
- Typed cells are kept: numbers stay numbers (a column of whole numbers is read as integers, as
  Excel has no integer type and identifiers are often typed as numbers), dates stay dates (a
  date-formatted column whose times are all midnight is a Date, else a Datetime that validation
  judges). A column that mixes kinds of cells (numbers and text, a TRUE among amounts, dates and
  numbers) is never coerced silently: it is read as text (a date cell as ``YYYY-MM-DD``), and
  validation reports the cells that are not what the column needs, with their row.
- Two header cells with the same name (after trimming and case-folding) are refused, naming the
  sheet and both columns by letter.
- Limits: a cell holding an Excel error (``#DIV/0!``, ``#N/A``) reads as empty (fastexcel gives
  no error cells without pyarrow), so a required column reports it as missing; only the cached
  values of formulas are read (a workbook written by a program that does not compute them reads
  them as empty or 0).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import sha256

# fastexcel logs "Could not determine dtype for column N, falling back to string" for empty
# columns through Python's logging; with no handler the message would reach stderr as is.
logging.getLogger("fastexcel").addHandler(logging.NullHandler())

_MIXED = re.compile(r"could not determine dtype for column (.+)$", re.MULTILINE)
_UNNAMED = "__UNNAMED__"


def column_letter(index: int) -> str:
    """Excel's letter of the 0-based column ``index`` (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _reader(path: Path):
    import fastexcel

    try:
        return fastexcel.read_excel(path)
    except (fastexcel.FastExcelError, OSError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            Problem(f"cannot read the file as an Excel workbook (.xlsx): {detail}", file=str(path))
        ) from None


def read_workbook(path: Path, tables: Sequence[str]) -> tuple[dict, dict, list]:
    """The ``tables`` found as sheets of the workbook at ``path``: (frames, origins, inputs)."""
    from workbench.sources import match_names

    reader = _reader(path)
    sheets = match_names(reader.sheet_names, tables, file=str(path), kind="sheet")
    frames: dict[str, pl.DataFrame] = {}
    origins: dict[str, str] = {}
    for table, sheet in sheets.items():
        origin = f"{path}, sheet {sheet.strip()}"
        _warn_if_hidden(reader, sheet, origin)
        frames[table] = read_sheet(reader, sheet, table, origin)
        origins[table] = origin
    digest = sha256(path)
    inputs = [
        {"source": str(path), "table": t, "sheet": sheets[t], "rows": frames[t].height,
         "sha256": digest}
        for t in sorted(frames)
    ]  # fmt: skip
    return frames, origins, inputs


def _warn_if_hidden(reader, sheet: str, origin: str) -> None:
    """A warning when ``sheet`` is hidden in Excel: it is read (it is in the workbook, and
    skipping it would drop data as silently), but a hidden sheet is often a stale copy."""
    from workbench.errors import warn_input

    visibility = reader.load_sheet(sheet, n_rows=0).visible
    if visibility != "visible":
        warn_input(
            f"{origin}: the sheet is {visibility.replace('veryhidden', 'very hidden')} in Excel "
            "and is read like the others; unhide it to check it, or delete it if it is stale"
        )


def read_sheet(reader, sheet: str, table: str, origin: str) -> pl.DataFrame:
    """One sheet as a frame: typed cells kept, mixed columns as text, empty trailing rows and
    empty unnamed columns dropped."""
    _check_header(reader, sheet, table, origin)
    frame = _load(reader, sheet, table, origin)
    unnamed = [c for c in frame.columns if c.startswith(_UNNAMED)]
    if unnamed:
        empty = frame.select(pl.col(unnamed).null_count() == frame.height).row(0)
        frame = frame.drop([c for c, is_empty in zip(unnamed, empty) if is_empty])
    if frame.width:
        filled = frame.select(pl.any_horizontal(pl.all().is_not_null()).alias("f")).to_series()
        last = filled.arg_true().max()
        frame = frame.head(0 if last is None else int(last) + 1)
    return _typed_cells(frame)


def _check_header(reader, sheet: str, table: str, origin: str) -> None:
    """Refuse two header cells with the same name (trimmed, case-folded), naming both."""
    first = reader.load_sheet(sheet, header_row=None, n_rows=1, dtypes="string")
    if first.height == 0:
        return
    names = first.to_polars().row(0)
    indexes = [info.absolute_index for info in first.available_columns()]
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name is None or not name.strip():
            continue
        key = name.strip().casefold()
        if key in seen:
            other = seen[key]
            raise InputError(
                Problem(
                    f"two columns have the same header: column {column_letter(indexes[other])} "
                    f"({names[other]!r}) and column {column_letter(indexes[position])} "
                    f"({name!r}); rename or delete one",
                    file=origin,
                    table=table,
                )
            )
        seen[key] = position


def _load(reader, sheet: str, table: str, origin: str) -> pl.DataFrame:
    """The sheet with each column's type guessed from all its cells; a column whose cells mix
    kinds is read as text (found one at a time by fastexcel's strict mode)."""
    import fastexcel

    as_text: dict[str, str] = {}
    while True:
        try:
            loaded = reader.load_sheet(
                sheet,
                schema_sample_rows=None,
                dtype_coercion="strict",
                dtypes=dict(as_text) or None,
            )
            return loaded.to_polars()
        except fastexcel.UnsupportedColumnTypeCombinationError as exc:
            found = _MIXED.search(str(exc))
            column = found.group(1).strip() if found else None
            if column is None or column in as_text:
                return reader.load_sheet(sheet, dtypes="string").to_polars()
            as_text[column] = "string"
        except fastexcel.FastExcelError as exc:
            detail = str(exc).splitlines()[0]
            raise InputError(
                Problem(f"cannot read the sheet: {detail}", file=origin, table=table)
            ) from None


def _typed_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Whole-number Float64 columns as Int64, midnight-only Datetime columns as Date, date cells
    written into text columns (``2026-08-01 00:00:00``) as ``2026-08-01``, and columns with no
    cell at all (a sheet with only its header) as text, as a CSV file gives them."""
    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    stamps = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    texts = [c for c, t in frame.schema.items() if t == pl.String]
    empty = [c for c, t in frame.schema.items() if t == pl.Null]
    whole = frame.select(
        [((pl.col(c) % 1 == 0) & (pl.col(c).abs() < 2**53)).all().alias(c) for c in floats]
        + [(pl.col(c).dt.truncate("1d") == pl.col(c)).all().alias(c) for c in stamps]
    )
    flags = whole.row(0, named=True) if whole.width else {}
    return frame.with_columns(
        [pl.col(c).cast(pl.Int64) for c in floats if flags[c]]
        + [pl.col(c).cast(pl.Date) for c in stamps if flags[c]]
        + [pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1") for c in texts]
        + [pl.col(c).cast(pl.String) for c in empty]
    )
