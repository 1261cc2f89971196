"""Reading one CSV or Parquet file of a folder source (DESIGN section 10) into a raw table.

CSV files as French ERPs and spreadsheets write them:

- encoding: UTF-8 with or without a byte-order mark (UTF-16 when it starts with its BOM, or
  without one when every other byte is NUL); a file
  that is not valid UTF-8 is decoded as Windows-1252 (a superset of Latin-1's printable
  characters) with a warning naming the file and ``--encoding``; a file that is neither is refused
  naming ``--encoding``. ``--encoding X`` forces X, strictly. No decode is ever lossy: a byte that
  the encoding cannot read is an error, never a replacement character. A file holding both real
  UTF-8 multi-byte characters and bytes that are not UTF-8 (lines pasted from another file) is
  refused as mixed encodings, naming the first bad line;
- separator: ``,``, ``;`` or a tab, whichever occurs most often in the header line outside quotes
  (``,`` when none does), or the one named by Excel's ``sep=;`` first line (then skipped);
- lines: LF, CRLF or CR-only (classic Mac) line ends; blank records (empty lines, or only
  separators) are skipped like a workbook's empty rows, the kept rows then carrying their number
  in the file in a ``__row__`` column that validation uses (so messages name the right line);
- structure: every record must have as many fields as the header; a ragged record or an
  unterminated quote is refused with the file and the LINE number, with a hint when the file looks
  separated by semicolons but was read otherwise;
- header: names that are equal after trimming and case-folding (``Amount`` and `` amount``) are
  refused naming both columns;
- values are kept as text: :mod:`workbench.dialect` rewrites French numbers and dates and
  :mod:`workbench.validate` types them.

Parquet files are kept as stored (validation refuses a column of the wrong type); an unreadable
file or duplicate column names are refused with the file named.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from workbench.errors import InputError, Problem, warn_input

SEPARATORS = (",", ";", "\t")
ROW = "__row__"
"""The row number column validation reads (:data:`workbench.validate.ROW`) when blank rows
were skipped."""
MAX_LISTED = 5
"""Ragged records listed in one error; the rest are counted."""

_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def read_csv_table(path: Path, table: str, encoding: str | None = None) -> pl.DataFrame:
    """The CSV file at ``path`` as a frame of text columns named by its header.

    ``encoding``: the ``--encoding`` option (None = detect, see the module docstring).
    Raises :class:`InputError` naming the file (and the line) when it cannot be read.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"cannot read the file: {exc.strerror}", file=str(path))) from None
    text = decoded(data, str(path), encoding)
    if "\r" in text and "\n" not in text:  # classic Mac line ends
        text = text.replace("\r", "\n")
    text, separator, skipped = _excel_separator_line(text)
    if not text.strip():
        raise InputError(Problem("the file is empty (no header line)", file=str(path), table=table))
    separator = separator or detected_separator(text)
    header = checked_structure(text, separator, str(path), skipped)
    check_duplicates(header, str(path), table)
    names = [name if name.strip() else f"unnamed_{i + 1}" for i, name in enumerate(header)]
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=separator,
            has_header=True,
            new_columns=names,
            infer_schema=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            Problem(f"cannot read the file as CSV: {_first_line(exc)}", file=str(path), table=table)
        ) from None
    frame = frame.with_columns(pl.all().replace("", None))  # a quoted "" is a missing value
    return _without_blank_rows(frame, skipped)


def _excel_separator_line(text: str) -> tuple[str, str | None, int]:
    """``text`` without Excel's ``sep=;`` first line, the separator it names (None without
    one) and the number of lines removed (0 or 1)."""
    first, _, rest = text.partition("\n")
    found = re.fullmatch(r'\ufeff?"?sep=([,;\t|])"?[,;\t|]*\r?', first, flags=re.IGNORECASE)
    return (rest, found.group(1), 1) if found else (text, None, 0)


def _without_blank_rows(frame: pl.DataFrame, skipped: int) -> pl.DataFrame:
    """``frame`` without its blank records (empty lines, or only separators), like a workbook's
    empty rows; when rows go (or a ``sep=`` line went), ``ROW`` keeps each row's number as
    counted in the file (row = line - 1 for one-line records) for validation's messages."""
    kept = frame.select(pl.any_horizontal(pl.all().is_not_null()).alias(ROW)).to_series()
    if not skipped and kept.all():
        return frame
    return frame.with_row_index(ROW, offset=1 + skipped).filter(kept)


def decoded(data: bytes, file: str, encoding: str | None) -> str:
    """``data`` decoded strictly: with ``encoding`` when given, else detected (module docstring)."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(
                Problem(f"unknown text encoding {encoding!r} given with --encoding", file=file)
            ) from None
        codec = "utf-8-sig" if codec == "utf-8" else codec
        return _strict(data, codec, file, f"--encoding {encoding}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", file, "its UTF-16 byte-order mark")
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", file, "its UTF-8 byte-order mark")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _strict(data, utf16, file, "its NUL bytes every other byte (UTF-16 text)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = _line_of(data, exc.start)
        bad_byte = data[exc.start]
    utf8 = _UTF8_SEQUENCE.search(data)
    if utf8 is not None:  # real UTF-8 accents and a byte that is not: two encodings in one file
        raise InputError(
            Problem(
                f"mixed encodings: the file holds UTF-8 text (line {_line_of(data, utf8.start())}) "
                f"and a byte that is not UTF-8 (0x{bad_byte:02X} on line {where}), e.g. lines "
                "pasted from another file: save the whole file as UTF-8 (or give its encoding "
                "with --encoding)",
                file=file,
            )
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(
                f"the file is neither UTF-8 (line {where}) nor Windows-1252 (byte "
                f"0x{data[exc.start]:02X} on line {_line_of(data, exc.start)}): give its "
                "encoding with --encoding (e.g. --encoding latin-1, --encoding utf-16)",
                file=file,
            )
        ) from None
    warn_input(
        Problem(
            f"not valid UTF-8 (line {where}): read as Windows-1252 (cp1252); if accented "
            "letters look wrong, give the file's encoding with --encoding",
            file=file,
        )
    )
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``data`` is UTF-16 text saved without a byte-order
    mark (unambiguous: Latin text then has a NUL byte at every odd, or every even, offset of
    its first kilobyte), else None. Text never holds NUL bytes otherwise."""
    head = data[:1024]
    if len(head) < 4 or head.count(0) * 4 < len(head):
        return None
    odd, even = head[1::2], head[0::2]
    if odd.count(0) * 10 >= len(odd) * 9:
        return "utf-16-le"
    if even.count(0) * 10 >= len(even) * 9:
        return "utf-16-be"
    return None


def _strict(data: bytes, codec: str, file: str, because: str) -> str:
    skip = len(codecs.BOM_UTF8) if codec == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8" if skip else codec)
    except UnicodeDecodeError as exc:
        start = exc.start + skip  # the offset in the file, byte-order mark included
        raise InputError(
            Problem(
                f"cannot decode the file as {codec} (as {because} says): byte "
                f"0x{data[start]:02X} on line {_line_of(data, start)}; give the file's "
                "encoding with --encoding (e.g. --encoding cp1252)",
                file=file,
            )
        ) from None


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""A multi-byte UTF-8 character (``é`` is C3 A9); Windows-1252 text almost never holds one."""


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line holding byte ``offset`` of ``data``."""
    return data.count(b"\n", 0, offset) + 1


def detected_separator(text: str) -> str:
    """The separator that occurs most often in the header line of ``text`` outside quotes."""
    header = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def checked_structure(text: str, separator: str, file: str, skipped: int = 0) -> list[str]:
    """The header's names, after checking that every record of ``text`` has as many fields as
    the header and that every quote is closed; raises :class:`InputError` with the line
    (``skipped``: lines removed before ``text``, e.g. Excel's ``sep=;``)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        counts = list(map(len, reader))  # records parsed and counted in C
    except csv.Error:
        _raise_bad_quote(text, separator, file, skipped)
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    expected = len(header)
    series = pl.Series(counts, dtype=pl.Int64)
    bad = ((series != 0) & (series != expected)).arg_true()
    if len(bad):
        _raise_ragged(text, separator, file, expected, bad.to_list(), skipped)
    return header


def _record_lines(text: str, separator: str, upto: int) -> list[tuple[int, list[str]]]:
    """(first line, fields) of the records of ``text`` up to index ``upto`` (error path only)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    records, line = [], 1
    for index, row in enumerate(reader):
        records.append((line, row))
        line = reader.line_num + 1
        if index >= upto:
            break
    return records


def _raise_ragged(
    text: str, separator: str, file: str, expected: int, bad: list[int], skipped: int
) -> None:
    records = _record_lines(text, separator, bad[min(len(bad), MAX_LISTED) - 1])
    problems = []
    for index in bad[:MAX_LISTED]:
        line, fields = records[index]
        hint = _separator_hint(text, separator, fields)
        problems.append(
            Problem(
                f"line {line + skipped} has {len(fields)} field(s) where the header has {expected} "
                f"(fields separated by {_SEPARATOR_NAMES[separator]}s){hint}",
                file=file,
            )
        )
    raise InputError(problems, more=max(0, len(bad) - MAX_LISTED))


def _separator_hint(text: str, separator: str, fields: list[str]) -> str:
    """A hint about the delimiter when the file looks separated by semicolons but was not read
    so (the separator is detected from the header line)."""
    if separator != ";" and any(";" in field for field in fields):
        return (
            "; the line holds semicolons: if the file is separated by ';', its header line "
            "must be too (the separator is detected from the header line)"
        )
    return ""


def _raise_bad_quote(text: str, separator: str, file: str, skipped: int) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    line = 1
    try:
        for _row in reader:
            line = reader.line_num + 1
    except csv.Error as exc:
        hint = ""
        if separator != ";" and text.count(";") > text.count(separator):
            hint = "; the file looks separated by ';' while its header line is not"
        raise InputError(
            Problem(
                f"line {line + skipped}: a quoted field is not closed or a quote is misplaced "
                f"({exc}); "
                f'a quote inside a quoted field must be doubled (""){hint}',
                file=file,
            )
        ) from None
    raise InputError(Problem("the file is not valid CSV", file=file))  # pragma: no cover


def check_duplicates(names: Sequence[str], file: str, table: str) -> None:
    """Refuse column names that are equal after trimming and case-folding, naming both."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.strip().lstrip("\ufeff").strip().casefold()
        if not key:
            continue
        if key in seen:
            raise InputError(
                Problem(
                    f"duplicate column names {seen[key]!r} and {name!r}: keep one (a column "
                    "read twice would silently hide the other)",
                    file=file,
                    table=table,
                )
            )
        seen[key] = name


def read_parquet_table(path: Path, table: str) -> pl.DataFrame:
    """The Parquet file at ``path`` as stored, in one chunk per column; refuses an unreadable
    file or duplicate names.

    One chunk: polars reads a chunk per row group, and an eager ``select`` or ``drop`` of a frame
    in several chunks copies all of it into one (measured at 10 million payments: 0.8 GB per
    call); made contiguous once here, every later ``select`` shares the columns."""
    try:
        frame = pl.read_parquet(path).rechunk()
    except (pl.exceptions.PolarsError, OSError) as exc:
        message = _first_line(exc)
        if "duplicate" in message.lower():
            message = f"duplicate column names: {message}"
        raise InputError(
            Problem(f"cannot read the file as Parquet: {message}", file=str(path), table=table)
        ) from None
    check_duplicates(frame.columns, str(path), table)
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
