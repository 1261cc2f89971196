"""Writing the worklist (DESIGN section 7): ``worklist.xlsx``, ``worklist.csv``,
``excluded.csv``, ``watchlist.csv``.

- The XLSX (:func:`write_xlsx`) has a ``summary`` sheet (typed totals and small tables), a
  ``watch list`` sheet (the large exposures that wait, with why and until when), one **call
  sheet** per collector, an ``excluded`` sheet (in titled blocks: waiting with a reason, held by
  the contact rules, not yet due, credit or cash to allocate; the first block's title and
  column headers frozen at the top and printed on every page), a ``drafts`` sheet (the full
  reasons and draft messages, wrapped) and the hidden :data:`workbench.callsheet.KEYS_SHEET`.
- A call sheet is laid out as :mod:`workbench.callsheet` says (the contract with the reader of
  what collectors fill in): one line per action in rank order (no wrapped text; the reason as a
  one-line summary, a link to the draft's row on the drafts sheet), customer and phone frozen on
  the left, amounts as numbers in the worklist's currency, dates as dates, a totals row (SUM
  formulas with their value cached), empty feedback columns with drop-down lists and date and
  amount validation (a promised amount above 0, as :mod:`workbench.outcomes` reads it),
  printed landscape on A4, one page wide, the header row on every page.
  The secondary columns (:data:`CALL_FOLDED`) are in a collapsed outline group, hidden on
  screen and on paper until expanded, so that the rest prints at a readable size (11-point
  text at about 7 points one page wide) with room to write in the feedback columns; the
  drafts sheet folds its secondary columns (:data:`DRAFTS_FOLDED`) the same way.
- The keys sheet's ``invoices`` is a JSON array of the invoice ids (any character in an id).
- Every header is in words of the team's language; the code columns (channel, step, tone,
  exclusion, ...) are in words too (French: :mod:`workbench.labels`; English: the phrases'
  words or the code with spaces).
- ``worklist.csv`` holds the same rows as the collectors' sheets together, with every column
  of :data:`workbench.worklist.WORKLIST_COLUMNS` (rank order); ``excluded.csv`` the excluded
  list; ``watchlist.csv`` the watch list. Their headers are the codes in English (other tools
  read them); in French the labels of :mod:`workbench.labels`.
- Text from the input is never a formula: XLSX cells are written with ``write_string`` (and the
  workbook converts no string to a formula, number or URL); in the CSV files a text field
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
  quote (OWASP, CSV injection). Page headers escape ``&`` as ``&&``.
- In the team's language (``Worklist.language``, policy ``team.language``): a French export has
  French sheet names, titles and headers, the code columns in words, dates as dd/mm/yyyy; its
  CSV files use ``;`` and the decimal comma, with a UTF-8 byte order mark, as LibreOffice and
  Excel in French expect.
- Excel holds at most 32,767 characters in a cell: a longer text (a name or draft from the
  input) is cut visibly, ending with "… [cut: full text in worklist.csv]" (the CSV file of that
  sheet, which keeps the full text), with one warning per workbook counting the cells cut; a
  sheet holds at most :data:`SHEET_ROWS` rows, the rest are left out with a warning.
- Same worklist, same bytes: the document properties are fixed (created on the as-of date).
- Written atomically (:func:`workbench.files.atomic_outputs`): into a temporary folder beside the
  output folder, then each file renamed into it; the folder's other files are kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import xlsxwriter

from workbench.balances import money_sum
from workbench.callsheet import (
    DATE_FUTURE_DAYS,
    DATE_PAST_DAYS,
    DONE_WORDS,
    DRAFTS_SHEET,
    FEEDBACK_COLUMNS,
    FROZEN_COLUMNS,
    HEADERS,
    KEY_COLUMNS,
    KEYS_SHEET,
    LAYOUT_VERSION,
    OUTCOME_WORDS,
    SHEET_COLUMNS,
)
from workbench.errors import InputError, Problem, warn_input
from workbench.files import atomic_outputs
from workbench.labels import VALUE_WORDS, for_display, header, shown, word
from workbench.phrases import SUMMARY, WORKBOOK
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

ESCAPED_START = f"^'({FORMULA_START.removeprefix('^')})"
"""A text :func:`csv_safe` escaped: ``'`` then a :data:`FORMULA_START` character (captured)."""

SUMMARY_CHARS = 56
"""The most characters of a call sheet's one-line ``summary`` of the reason, "…" included (a
layout choice, not a business threshold): what the ``summary`` column of :data:`CALL_WIDTHS`
shows whole on screen and on paper (a reason is dense in digits, about 0.8 width unit per
character); the full reason is on the drafts sheet."""

CLAUSE_CHARS = 30
"""A summary cut short is cut after its last whole clause (``,`` ``;`` ``:``) when that keeps at
least this many characters, else after its last whole word."""

SPACES_AND_STOPS = " \u00a0\u202f,;:"
"""Left out at the end of a cut summary: spaces (no-break ones too) and clause punctuation."""

LINE_POINTS = 15.0
"""Height (points) of one line of text in the default 11-point font."""

MAX_ROW_POINTS = 409.0
"""The tallest row Excel allows (points)."""

HEADER_POINTS = 30.0
"""Height of a call sheet's header row (points): two lines, so that narrow columns keep their
whole header ("Days late" / "(max)"); every customer row is one line."""

CALL_WIDTHS = {
    "rank": 4.5, "customer_name": 19, "phone": 14.5, "customer_id": 10, "contact": 12,
    "action": 16, "channel": 9, "summary": 45, "overdue_amount": 13, "open_amount": 13,
    "amount_at_risk": 13, "oldest_dpd": 7.5, "promise": 30, "last_contact": 11, "draft": 14,
    "done": 5.5, "outcome": 13, "contact_date": 10, "promised_date": 10, "promised_amount": 11,
    "next_contact_date": 10, "comment": 20,
}  # fmt: skip
"""Column widths (characters of the default font) of a call sheet: one line per customer; the
visible columns one page wide on A4 landscape at 64 % (LibreOffice; the 11-point text printed
at 7 points), the feedback columns wide enough to write in by hand (a date in about 13 mm, a
comment in about 25 mm)."""

CALL_FOLDED = (
    "customer_id", "open_amount", "amount_at_risk", "oldest_dpd", "promise", "last_contact",
    "draft",
)  # fmt: skip
"""The secondary columns of a call sheet: in a collapsed outline group (level 1), hidden on
screen and on paper until the user expands it (the "+" above the column after them). They stay
in the sheet, in :data:`workbench.callsheet.SHEET_COLUMNS` order, for the reader (the days
late are in the summary of most rows; the promise in its reason)."""

DRAFT_COLUMNS = (
    "rank", "collector", "customer_id", "customer_name", "channel", "action", "reason",
    "risk_reasons", "invoices", "draft_message", "draft_language", "draft_note",
)  # fmt: skip
"""The columns of the drafts sheet (from :data:`workbench.worklist.WORKLIST_COLUMNS`)."""

WIDTHS = {
    "rank": 5, "collector": 12, "customer_id": 10, "customer_name": 18, "channel": 10,
    "action": 16, "reason": 38, "risk_reasons": 35, "invoices": 30, "draft_message": 64,
    "draft_language": 9, "draft_note": 18,
}  # fmt: skip
"""Column widths (characters) of the drafts sheet: the visible ones one page wide on A4
landscape at 66 % (LibreOffice; the 11-point text printed at 7.3 points), long texts
wrapped."""

DRAFTS_FOLDED = ("customer_id", "risk_reasons", "draft_language")
"""The secondary columns of the drafts sheet, in a collapsed outline group (hidden on screen and
on paper until expanded), as :data:`CALL_FOLDED`."""

EXCLUDED_WIDTHS = {
    "customer_id": 11, "customer_name": 22, "collector": 15, "open_amount": 14,
    "overdue_amount": 14, "customer_credit": 14, "exclusion": 26, "next_step": 20,
    "next_date": 11, "reason": 62,
}  # fmt: skip
"""Column widths (characters) of the excluded and watch list sheets: one page wide on A4
landscape at 67 % (LibreOffice; the 11-point text printed at 7.4 points), the reason
wrapped."""

ENGLISH_WORDS = {"channel": {"none": "internal"}}
"""Codes shown in other words in English than the phrases' (the channel of internal steps)."""

WRAPPED = ("reason", "risk_reasons", "draft_message", "invoices", "draft_note")
"""Columns of long text, wrapped (on the drafts, excluded and watch list sheets only)."""

EXCLUDED_BLOCKS = {
    "waiting": (
        "promise pending", "plan on track", "formal notice sent", "waiting for the next step",
        "in conversation", "handed over",
    ),
    "held": ("contacted recently", "capped", "same message sent"),
    "not_due": ("not yet due and no risk",),
    "to_allocate": ("customer credit to offset", "unapplied cash to reconcile"),
}  # fmt: skip
"""The blocks of the excluded sheet, in order, and the exclusions of each; an exclusion not
listed goes to ``waiting`` (a customer waits for a reason)."""

HEADER_WORDS = {
    "en": {
        "collector": "Collector", "email": "E-mail", "tone": "Tone", "step": "Step",
        "reason": "Why", "risk_reasons": "Risk factors", "customer_credit": "Customer credit",
        "probability": "Risk of non-payment", "segment": "Payment profile",
        "invoices": "Invoices", "last_outcome": "Last outcome", "draft_message": "Draft message",
        "draft_language": "Language", "draft_note": "Note on the draft",
        "exclusion": "Excluded because", "next_step": "Next step", "next_date": "From",
        "item": "Item", "value": "Value", "customers": "Customers",
        "calls_per_week": "Calls per week", "phone_actions": "Phone actions", "calls": "Calls",
        "automated": "Moved to automated sending", "actions": "Actions",
        "risk_band": "Risk band", "value_band": "Amount band",
    },
    "fr": {
        "collector": "Chargé de recouvrement", "reason": "Motif", "draft_language": "Langue",
        "exclusion": "Exclu parce que", "next_date": "À partir du",
    },
}  # fmt: skip
"""Headers of the workbook's columns that are not a call sheet's (:data:`HEADERS`); a column
missing here takes :func:`workbench.labels.header` (French) or its code in words."""

WORDS = {
    "en": {
        "total": "Total", "draft_link": "drafts, row {}",
        "page_title": "Call sheet as of {date} (week {week})", "footer": "&CPage &P of &N",
        "waiting": "Waiting, with a reason (promise, plan, notice deadline, next step, agency)",
        "held": "Held by the contact rules (contacted recently, capped, same message sent)",
        "not_due": "Not yet due and no risk",
        "to_allocate": "Customer credit or unapplied cash to allocate first",
        "count": "{title}: {n} customer(s)",
        "date_title": "Date", "date_input": "A date from {start} to {end} ({form}).",
        "date_error_title": "Not a valid date",
        "date_error": "Type a date from {start} to {end}, as {form}.",
        "list_title": "Choose from the list", "list_error": "Choose a value from the list.",
        "amount_title": "Amount",
        "amount_input": "The amount promised ({currency}), more than 0.",
        "amount_error": "Type an amount greater than 0, digits only.",
    },
    "fr": {
        "total": "Total", "draft_link": "projets, ligne {}",
        "page_title": "Feuille d'appels au {date} (semaine {week})",
        "footer": "&CPage &P sur &N",
        "waiting": "En attente, pour une raison (promesse, échéancier, délai de mise en "
        "demeure, étape suivante, cabinet)",
        "held": "Retenus par les règles de contact (contacté récemment, plafond atteint, même "
        "message déjà envoyé)",
        "not_due": "Non échus et sans risque",
        "to_allocate": "Crédit client ou encaissement non lettré à imputer d'abord",
        "count": "{title} : {n} client(s)",
        "date_title": "Date", "date_input": "Une date du {start} au {end} ({form}).",
        "date_error_title": "Date non valide",
        "date_error": "Saisissez une date du {start} au {end}, au format {form}.",
        "list_title": "Choisir dans la liste",
        "list_error": "Choisissez une valeur de la liste.",
        "amount_title": "Montant",
        "amount_input": "Le montant promis ({currency}), supérieur à 0.",
        "amount_error": "Saisissez un montant supérieur à 0, en chiffres.",
    },
}  # fmt: skip
"""The workbook's own words (titles, page header and footer, validation messages)."""


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


def csv_unescaped(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (read from a CSV written with :func:`csv_safe`) with what csv_safe did undone:
    every text field starting with ``'`` followed by one of ``= + - @`` tab CR loses that first
    ``'``; other text is unchanged.

    csv_safe leaves a text already starting with ``'`` as it is, so a text that itself began
    with ``'=`` (or ``'+`` ...) before writing loses its ``'`` here too: the one case the
    round trip cannot tell apart (a collector's comment starting so is rare, and its meaning
    is kept)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.col(name).str.replace(ESCAPED_START, "$1") for name in text)


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
    not the name of the summary, watch list, excluded, drafts or keys sheet of ``language``),
    in the order given."""
    reserved = [WORKBOOK[language][sheet] for sheet in ("summary", "watch", "excluded")]
    used = {name.lower() for name in [*reserved, DRAFTS_SHEET[language], KEYS_SHEET]}
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


def heading(column: str, language: str = "en") -> str:
    """The header of ``column`` in the workbook (words of ``language``, never a code)."""
    for table in (HEADERS, HEADER_WORDS):
        if column in table[language]:
            return table[language][column]
    text = header(column, language) if language != "en" else column
    return (text[:1].upper() + text[1:]).replace("_", " ")


def readable(frame: pl.DataFrame, language: str = "en") -> pl.DataFrame:
    """``frame`` with its code columns (channel, step, tone, exclusion, ...) in words of
    ``language``: the phrases' words, else the code with spaces for ``_`` (collectors' names
    are kept as they are, but for the words of ``unassigned``)."""
    codes = [name for name in frame.columns if name in VALUE_WORDS]
    return frame.with_columns(
        shown(pl.col(name), name, language)
        if name == "collector"
        else pl.col(name).replace(_code_words(name, language)).str.replace_all("_", " ").alias(name)
        for name in codes
    )


def _code_words(column: str, language: str) -> dict[str, str]:
    """code -> word of the code column ``column`` in ``language`` (:mod:`workbench.phrases`,
    in English with :data:`ENGLISH_WORDS`)."""
    words = VALUE_WORDS[column].get(language, {})
    return ENGLISH_WORDS.get(column, {}) | words if language == "en" else words


def one_line(reason: pl.Expr, limit: int = SUMMARY_CHARS) -> pl.Expr:
    """``reason`` on one line (line breaks, tabs and runs of spaces made one space; no-break
    spaces kept, so an amount is never split): whole when it has at most ``limit`` characters;
    else cut after its last whole clause (``,`` ``;`` ``:`` and a space) that keeps at least
    :data:`CLAUSE_CHARS` characters, or after its last whole word (followed by a space), without
    the trailing punctuation, and ended with "…" (``limit`` characters at most, "…" included; a
    first word longer than that is cut inside)."""
    flat = reason.str.replace_all(r"[ \t\r\n\f\v]+", " ").str.strip_chars(" ")
    room = flat.str.slice(0, limit)  # a word of the summary is whole when a space follows
    clause = room.str.extract(rf"^(.{{{CLAUSE_CHARS},}})[,;:] ", 1)
    words = room.str.extract(r"^(.*\S) ", 1)
    body = pl.coalesce(clause, words, flat.str.slice(0, limit - 1))
    cut = body.str.slice(0, limit - 1).str.strip_chars_end(SPACES_AND_STOPS)
    return pl.when(flat.str.len_chars() > limit).then(cut + "…").otherwise(flat)


def line_heights(frame: pl.DataFrame, widths: dict[str, float]) -> pl.Series:
    """Row heights (points) that show the wrapped columns of ``frame`` (:data:`WRAPPED`) whole
    at their ``widths`` (characters), at most :data:`MAX_ROW_POINTS`; null for a one-line row
    (an application does not size rows written by xlsxwriter itself: without it a long text
    spills over the next rows on paper)."""
    wrapped = [name for name in frame.columns if name in WRAPPED]
    if not wrapped:
        return pl.Series("height", [None] * frame.height, pl.Float64)
    lines = [
        pl.col(name)
        .cast(pl.String)
        .fill_null("")
        .str.split("\n")
        .list.eval((pl.element().str.len_chars() / widths.get(name, 12)).ceil().clip(1))
        .list.sum()
        for name in wrapped
    ]
    most = pl.max_horizontal(lines)
    height = (most * LINE_POINTS).clip(upper_bound=MAX_ROW_POINTS)
    return frame.select(pl.when(most > 1).then(height).alias("height")).to_series()


class _Sheets:
    """Cell formats of the workbook and the writing of typed cells."""

    def __init__(self, book: xlsxwriter.Workbook, currency: str, language: str = "en") -> None:
        self.language = language
        code = re.sub(r"[^A-Za-z]", "", currency)
        money = f'#,##0.00 "{code}"' if code else "#,##0.00"
        day = "yyyy-mm-dd" if language == "en" else "dd/mm/yyyy"
        top = {"valign": "top"}
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.line_header = book.add_format(
            {
                "bold": True,
                "bg_color": "#DDE4EE",
                "border": 1,
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.money = book.add_format({"num_format": money, **top})
        self.percent = book.add_format({"num_format": "0%", **top})
        self.date = book.add_format({"num_format": day, **top})
        self.integer = book.add_format({"num_format": "0", **top})
        self.text = book.add_format(top)
        self.wrapped = book.add_format({"text_wrap": True, **top})
        self.total_label = book.add_format({"bold": True, "top": 1})
        self.total = book.add_format({"bold": True, "top": 1, "num_format": money})
        entry = {"bg_color": "#FFF8DC", "border": 1, "border_color": "#BFBFBF"}
        self.entry_text = book.add_format(entry)
        self.entry_date = book.add_format({"num_format": day, **entry})
        self.entry_money = book.add_format({"num_format": money, **entry})
        self.full_text_in = "worklist.csv"  # the CSV file of the sheet being written
        self.cut = 0  # cells cut to CELL_LIMIT
        self.rows_left_out = 0  # rows beyond SHEET_ROWS

    def cell_format(self, column: str, dtype: pl.DataType):
        """The format of a cell of ``column`` (of polars type ``dtype``)."""
        if column in FEEDBACK_COLUMNS:
            if dtype == pl.Date:
                return self.entry_date
            return self.entry_money if dtype.is_numeric() else self.entry_text
        if column in MONEY_COLUMNS:
            return self.money
        if column == "probability":
            return self.percent
        if dtype == pl.Date:
            return self.date
        if dtype.is_integer():
            return self.integer
        if column in WRAPPED:
            return self.wrapped
        return self.text

    def write(self, sheet, row: int, col: int, value, fmt) -> None:
        """One typed cell (text always as a string, never a formula)."""
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

    def shown_rows(self, frame: pl.DataFrame, first_row: int, after: int = 0) -> pl.DataFrame:
        """The rows of ``frame`` a sheet holds below ``first_row`` (keeping ``after`` rows free
        for what follows); counts the others in :attr:`rows_left_out`."""
        room = max(SHEET_ROWS - first_row - after, 0)
        self.rows_left_out += max(frame.height - room, 0)
        return frame.head(room)

    def table(
        self, sheet, frame: pl.DataFrame, first_row: int = 0, widths: dict | None = None
    ) -> int:
        """``frame`` with its header at ``first_row`` (headers and code columns in words of the
        workbook's language, wrapped rows tall enough); returns the row after it. With
        ``widths`` (characters by column), sets the column widths."""
        formats = [self.cell_format(name, dtype) for name, dtype in frame.schema.items()]
        lines = 1
        for col, name in enumerate(frame.columns):
            text = heading(name, self.language)
            sheet.write_string(first_row, col, text, self.header)
            if widths is not None:
                width = widths.get(name, max(12, len(text) + 2))
                sheet.set_column(col, col, width)
                lines = max(lines, -(-len(text) // int(width)))
        if lines > 1:
            sheet.set_row(first_row, lines * LINE_POINTS)
        data = readable(self.shown_rows(frame, first_row + 1), self.language)
        heights = line_heights(data, widths or {}).to_list()
        for r, values in enumerate(data.iter_rows(), start=first_row + 1):
            if heights[r - first_row - 1] is not None:
                sheet.set_row(r, heights[r - first_row - 1])
            for col, value in enumerate(values):
                self.write(sheet, r, col, value, formats[col])
        return first_row + data.height + 1


def _print_setup(sheet, header_text: str, footer_text: str, repeat: bool = True) -> None:
    """Landscape A4, one page wide and as many tall as needed, narrow margins, gridlines,
    ``header_text`` / ``footer_text`` as page header and footer (xlsxwriter codes: data in
    them must have ``&`` doubled), the first row repeated on every page when ``repeat``."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.25, right=0.25, top=0.6, bottom=0.6)
    sheet.set_header(header_text, {"margin": 0.25})
    sheet.set_footer(footer_text, {"margin": 0.25})
    sheet.hide_gridlines(0)  # shown on screen and printed
    if repeat:
        sheet.repeat_rows(0)


def page_text(text: str, limit: int = 80) -> str:
    """``text`` (from the data) for a page header: at most ``limit`` characters, ``&`` doubled
    (xlsxwriter's control character)."""
    return text[:limit].replace("&", "&&")


def _summary_sheet(book, formats: _Sheets, worklist: Worklist, name: str, day: str) -> None:
    """The summary sheet: the typed totals, then the small tables of
    :func:`workbench.worklist.summary_tables`; columns wide enough for their values."""
    language = worklist.language
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, WORKBOOK[language]["heading"].format(date=day), formats.title)
    tables = summary_tables(worklist)
    totals_title = SUMMARY[language]["totals"]
    widths: list[int] = []
    row = 2
    for title, table in tables.items():
        sheet.write_string(row, 0, title, formats.title)
        if title == totals_title:
            row = _totals_block(sheet, formats, worklist, table, row + 1) + 1
            _widen(widths, [max(len(title), *table["item"].str.len_chars().to_list()), 22])
            continue
        row = formats.table(sheet, table, row + 1) + 1
        _widen(widths, fitting_widths(readable(table, language), language))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    _print_setup(sheet, "&C" + page_text(WORKBOOK[language]["title"].format(date=day)), "", False)


def _widen(widths: list[int], more: list[int]) -> None:
    """``widths`` (by column) widened in place to at least ``more``."""
    widths.extend([0] * (len(more) - len(widths)))
    widths[: len(more)] = [max(a, b) for a, b in zip(widths, more, strict=False)]


def fitting_widths(frame: pl.DataFrame, language: str = "en") -> list[int]:
    """Column widths (characters) that show ``frame``'s header and values whole (a money
    value with its thousands separators, two decimals and a currency code), at most 60."""
    widths = []
    for name, dtype in frame.schema.items():
        values = frame[name]
        if dtype == pl.String:
            longest = values.str.len_chars().max() or 0
        elif dtype.is_numeric():
            biggest = values.abs().max() or 0
            longest = len(f"{biggest:,.2f}") + 6 if dtype.is_float() else len(f"{biggest:,}") + 1
        else:
            longest = 12
        widths.append(min(max(len(heading(name, language)), longest) + 3, 60))
    return widths


def _totals_block(
    sheet, formats: _Sheets, worklist: Worklist, table: pl.DataFrame, row: int
) -> int:
    """The totals of the summary as typed cells under their item (``table``: item, value as
    text, from :func:`workbench.worklist.summary_tables`): the as-of date a date, counts
    numbers, amounts numbers in the currency format. Returns the row after it."""
    say = SUMMARY[worklist.language]
    amounts = {
        say["open_amount"]: pl.concat([worklist.rows, worklist.excluded], how="diagonal")
        .select(money_sum(pl.col("open_amount")))
        .item(),
        say["at_risk"]: worklist.rows.select(money_sum(pl.col("amount_at_risk"))).item(),
    }
    for item, text in table.select("item", "value").iter_rows():
        sheet.write_string(row, 0, item, formats.text)
        if item == say["as_of"]:
            formats.write(sheet, row, 1, worklist.as_of, formats.date)
        elif item in amounts:
            sheet.write_number(row, 1, amounts[item] or 0.0, formats.money)
        elif text.isdigit():
            sheet.write_number(row, 1, int(text), formats.integer)
        else:
            sheet.write_string(row, 1, text, formats.text)
        row += 1
    return row


def _list_sheet(
    book: xlsxwriter.Workbook, formats: _Sheets, name: str, frame: pl.DataFrame, csv: str
) -> None:
    """The watch list sheet (excluded customers, whose full texts are in the CSV file ``csv``)."""
    formats.full_text_in = csv
    sheet = book.add_worksheet(name)
    table = frame.select(EXCLUDED_COLUMNS)
    formats.table(sheet, table, 0, EXCLUDED_WIDTHS)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(table.height, 1), len(EXCLUDED_COLUMNS) - 1)
    _print_setup(sheet, "&L" + page_text(name), WORDS[formats.language]["footer"])


def _excluded_sheet(book: xlsxwriter.Workbook, formats: _Sheets, name: str, frame: pl.DataFrame):
    """The excluded customers in titled blocks (:data:`EXCLUDED_BLOCKS`), largest open amount
    first in each (the order of ``frame``), each customer once; an empty block is left out.
    The first block's title and column headers (the same columns in every block) stay in view
    when scrolling (frozen panes) and are repeated at the top of every printed page."""
    formats.full_text_in = "excluded.csv"
    words = WORDS[formats.language]
    sheet = book.add_worksheet(name)
    block_of = {exclusion: block for block, names in EXCLUDED_BLOCKS.items() for exclusion in names}
    table = frame.select(EXCLUDED_COLUMNS).with_columns(
        _block=pl.col("exclusion").replace_strict(block_of, default="waiting")
    )
    row = 0
    for block in EXCLUDED_BLOCKS:
        mine = table.filter(pl.col("_block") == block).drop("_block")
        if mine.is_empty() or row >= SHEET_ROWS - 1:
            formats.rows_left_out += mine.height if row >= SHEET_ROWS - 1 else 0
            continue
        title = words["count"].format(title=words[block], n=mine.height)
        sheet.write_string(row, 0, title, formats.title)
        row = formats.table(sheet, mine, row + 1, EXCLUDED_WIDTHS) + 1
    _print_setup(sheet, "&L" + page_text(name), words["footer"], repeat=False)
    if row > 0:  # the first block's title (row 0) and its header (row 1)
        sheet.freeze_panes(2, 0)
        sheet.repeat_rows(0, 1)


def call_frame(rows: pl.DataFrame, language: str = "en") -> pl.DataFrame:
    """The cells of a call sheet (:data:`workbench.callsheet.SHEET_COLUMNS`) for ``rows``
    (:data:`workbench.worklist.WORKLIST_COLUMNS` and ``draft_row``, the row of the action on
    the drafts sheet, 1-based, null when it is not there): the reason as a one-line summary
    (:func:`one_line`), ``draft`` naming the drafts sheet's row, the code columns in words, the
    feedback columns empty (typed: dates, the promised amount a number), and ``_draft_row``."""
    c = pl.col
    link = pl.format(WORDS[language]["draft_link"], c("draft_row"))
    empty = {
        name: pl.lit(None, pl.Date if name.endswith("_date") else pl.String)
        for name in FEEDBACK_COLUMNS
    }
    empty["promised_amount"] = pl.lit(None, pl.Float64)
    return readable(
        rows.with_columns(
            summary=one_line(c("reason")), draft=link, _draft_row=c("draft_row"), **empty
        ).select(*SHEET_COLUMNS, "_draft_row"),
        language,
    )


def invoice_keys(detail: pl.DataFrame) -> pl.DataFrame:
    """rank, invoices: the ids of the invoices each action of ``detail`` (the worklist's
    :attr:`Worklist.detail`) covers, in its order, as a JSON array of strings (``[]`` for
    none): an id holding ``;``, ``,`` or quotes survives (read it back with ``json.loads``)."""
    ids = pl.col("invoices").list.eval(pl.element().struct.field("invoice_id").cast(pl.String))
    wrapped = pl.struct(i=ids).struct.json_encode()  # {"i":[...]}: polars' own JSON escaping
    array = wrapped.str.strip_prefix('{"i":').str.strip_suffix("}")
    return detail.select(
        "rank", invoices=pl.when(ids.is_null()).then(pl.lit("[]")).otherwise(array)
    )


def _call_sheet(book, formats: _Sheets, name: str, frame: pl.DataFrame, words: dict) -> None:
    """A collector's call sheet ``name`` of ``frame`` (:func:`call_frame`, already cut to what
    the sheet holds): header, one line per customer with a link to its draft, the totals row
    after a blank row, validation of the feedback columns, frozen panes, filter."""
    formats.full_text_in = "worklist.csv"
    sheet = book.add_worksheet(name)
    columns = list(SHEET_COLUMNS)
    for col, column in enumerate(columns):
        sheet.write_string(0, col, heading(column, formats.language), formats.line_header)
    sheet.set_row(0, HEADER_POINTS)
    cells = [formats.cell_format(n, t) for n, t in frame.select(columns).schema.items()]
    draft, drafts = columns.index("draft"), DRAFTS_SHEET[formats.language]
    links = frame["_draft_row"].to_list()
    for r, values in enumerate(frame.select(columns).iter_rows(), start=1):
        for col, value in enumerate(values):
            if col == draft and links[r - 1] is not None:
                target = f"internal:'{drafts}'!A{links[r - 1]}"
                if sheet.write_url(r, col, target, string=value) == 0:
                    continue
            formats.write(sheet, r, col, value, cells[col])
    widths = CALL_WIDTHS | _totals_row(sheet, formats, frame, words["total"])
    fold_columns(sheet, columns, widths, CALL_FOLDED)
    _feedback_validation(sheet, formats, frame.height, words)
    sheet.freeze_panes(1, len(FROZEN_COLUMNS))
    sheet.autofilter(0, 0, max(frame.height, 1), len(columns) - 1)


def _totals_row(sheet, formats: _Sheets, frame: pl.DataFrame, label: str) -> dict[str, int]:
    """After a blank row below the ``frame.height`` customer rows: ``label`` and a SUM formula
    over each amount column, its value (the sum to the cent) cached for a reader that does not
    recalculate. Returns the widths (characters) of the amount columns that show their total
    whole (never "###")."""
    widths = {}
    row = frame.height + 2
    sheet.write_string(row, SHEET_COLUMNS.index("customer_name"), label, formats.total_label)
    sums = frame.select(money_sum(pl.col(name)) for name in MONEY_COLUMNS if name in frame.columns)
    for name, total in sums.row(0, named=True).items():
        col = SHEET_COLUMNS.index(name)
        cells = xlsxwriter.utility.xl_range(1, col, max(frame.height, 1), col)
        sheet.write_formula(row, col, f"=SUM({cells})", formats.total, total or 0.0)
        widths[name] = max(CALL_WIDTHS.get(name, 14), len(f"{total or 0.0:,.2f}") + 3)
    return widths


def fold_columns(sheet, columns: list[str], widths: dict, folded: tuple[str, ...]) -> None:
    """Set the width (characters, ``widths``, else 14) of each of ``columns``; the ``folded``
    ones in a collapsed outline group (level 1, hidden on screen and on paper until the user
    expands it), the column after each run of them carrying the group's "+" (collapsed)."""
    for col, column in enumerate(columns):
        options = {"level": 1, "hidden": True} if column in folded else {}
        if column not in folded and col > 0 and columns[col - 1] in folded:
            options = {"collapsed": True}
        sheet.set_column(col, col, widths.get(column, 14), None, options)


def _feedback_validation(sheet, formats: _Sheets, rows: int, words: dict) -> None:
    """Drop-down lists on ``done`` and ``outcome``, date and amount validation on the others
    (with input and error messages in the workbook's language), over the ``rows`` customer
    rows."""
    if rows == 0:
        return
    language = formats.language
    lists = {"done": DONE_WORDS[language], "outcome": OUTCOME_WORDS[language]}
    for name, choices in lists.items():
        col = SHEET_COLUMNS.index(name)
        options = {"validate": "list", "source": list(choices.values())}
        options.update(input_title=words["list_title"], error_message=words["list_error"])
        sheet.data_validation(1, col, rows, col, options)
    for name in ("contact_date", "promised_date", "next_contact_date"):
        col = SHEET_COLUMNS.index(name)
        sheet.data_validation(1, col, rows, col, words["date_rule"])
    col = SHEET_COLUMNS.index("promised_amount")
    # above 0, as workbench.outcomes reads it back (a promise of 0 is refused there)
    amount = {"validate": "decimal", "criteria": ">", "value": 0}
    amount.update(
        input_title=words["amount_title"],
        input_message=words["amount_input"].format(currency=words["currency"]),
        error_title=words["amount_title"],
        error_message=words["amount_error"],
    )
    sheet.data_validation(1, col, rows, col, amount)


def date_rule(as_of: date, language: str) -> dict:
    """The xlsxwriter validation of a date a collector types: from
    :data:`workbench.callsheet.DATE_PAST_DAYS` days before ``as_of`` to
    :data:`workbench.callsheet.DATE_FUTURE_DAYS` days after, with its messages."""
    words = WORDS[language]
    start, end = as_of - timedelta(days=DATE_PAST_DAYS), as_of + timedelta(days=DATE_FUTURE_DAYS)
    form = "yyyy-mm-dd" if language == "en" else "jj/mm/aaaa"
    shown_day = "{:%Y-%m-%d}" if language == "en" else "{:%d/%m/%Y}"
    say = {"start": shown_day.format(start), "end": shown_day.format(end), "form": form}
    return {
        "validate": "date",
        "criteria": "between",
        "minimum": datetime(start.year, start.month, start.day),
        "maximum": datetime(end.year, end.month, end.day),
        "input_title": words["date_title"],
        "input_message": words["date_input"].format(**say),
        "error_title": words["date_error_title"],
        "error_message": words["date_error"].format(**say),
    }


def _drafts_sheet(book, formats: _Sheets, rows: pl.DataFrame, name: str, header_text: str):
    """The drafts sheet: one row per action (``rows``, rank order, already cut to what the sheet
    holds) with the full texts, wrapped, in wide columns; rows as tall as their text."""
    formats.full_text_in = "worklist.csv"
    sheet = book.add_worksheet(name)
    formats.table(sheet, rows.select(DRAFT_COLUMNS), 0, WIDTHS)
    fold_columns(sheet, list(DRAFT_COLUMNS), WIDTHS, DRAFTS_FOLDED)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(rows.height, 1), len(DRAFT_COLUMNS) - 1)
    _print_setup(sheet, header_text, WORDS[formats.language]["footer"])


def _keys_sheet(book, formats: _Sheets, keys: pl.DataFrame) -> None:
    """The hidden keys sheet: :data:`workbench.callsheet.LAYOUT_VERSION` in A1, the
    :data:`workbench.callsheet.KEY_COLUMNS` header on row 2, one row per call sheet row."""
    sheet = book.add_worksheet(KEYS_SHEET)
    sheet.write_string(0, 0, LAYOUT_VERSION)
    for col, name in enumerate(KEY_COLUMNS):
        sheet.write_string(1, col, name)
    for r, values in enumerate(keys.select(KEY_COLUMNS).iter_rows(), start=2):
        for col, value in enumerate(values):
            formats.write(sheet, r, col, value, None)
    sheet.very_hidden()


def write_xlsx(worklist: Worklist, path: Path) -> None:
    """The worklist workbook in the worklist's language: summary, watch list, one call sheet per
    collector, excluded, drafts and the hidden keys sheet (see the module docstring). Nothing
    in it is dated after ``worklist.as_of`` but the validation window of the dates to type."""
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
    _summary_sheet(book, formats, worklist, words["summary"], day)
    _list_sheet(book, formats, words["watch"], worklist.watch, "watchlist.csv")
    drafts = formats.shown_rows(worklist.rows.select(WORKLIST_COLUMNS), 1)
    keys = _call_sheets(book, formats, worklist, drafts.height, day)
    _excluded_sheet(book, formats, words["excluded"], worklist.excluded)
    title = "&L" + page_text(DRAFTS_SHEET[language]) + "&R" + page_text(words["title"])
    _drafts_sheet(book, formats, drafts, DRAFTS_SHEET[language], title.format(date=day))
    _keys_sheet(book, formats, formats.shown_rows(keys, 2))
    book.close()
    _warn_left_out(formats, path)


def _call_sheets(book, formats: _Sheets, worklist: Worklist, drafts: int, day: str) -> pl.DataFrame:
    """One call sheet per collector (sorted by name), the actions of the first ``drafts`` ranks
    linked to their row on the drafts sheet. Returns the keys of their rows
    (:data:`workbench.callsheet.KEY_COLUMNS`)."""
    language = worklist.language
    c = pl.col
    rows = (
        worklist.rows.select(WORKLIST_COLUMNS)
        .with_row_index("_position")
        .with_columns(
            draft_row=pl.when(c("_position") < drafts).then(c("_position").cast(pl.Int64) + 2)
        )
        .join(invoice_keys(worklist.detail), on="rank", how="left", suffix="_ids")
    )
    collectors = sorted(rows["collector"].unique().to_list())
    shown_as = {collector: word(collector, "collector", language) for collector in collectors}
    if len(set(shown_as.values())) < len(shown_as):  # a collector named like a translated code
        shown_as = {collector: collector for collector in collectors}
    names = sheet_names(list(shown_as.values()), language)
    words = WORDS[language] | {
        "currency": worklist.currency, "date_rule": date_rule(worklist.as_of, language),
    }  # fmt: skip
    title = words["page_title"].format(date=day, week=worklist.as_of.isocalendar().week)
    keys = []
    for collector in collectors:
        name = names[shown_as[collector]]
        mine = formats.shown_rows(rows.filter(c("collector") == collector), 1, after=2)
        _call_sheet(book, formats, name, call_frame(mine, language), words)
        header_text = f"&L{page_text(shown_as[collector])}&C{page_text(title)}&R{day}"
        _print_setup(book.get_worksheet_by_name(name), header_text, words["footer"])
        keys.append(
            mine.select(
                sheet=pl.lit(name),
                customer_id="customer_id",
                collector="collector",
                as_of=pl.lit(worklist.as_of.isoformat()),
                currency=pl.lit(worklist.currency),
                invoices=c("invoices_ids").fill_null("[]"),
                overdue_amount="overdue_amount",
            )
        )
    schema = dict.fromkeys(KEY_COLUMNS, pl.String) | {"overdue_amount": pl.Float64}
    return pl.concat(keys) if keys else pl.DataFrame(schema=schema)


def _warn_left_out(formats: _Sheets, path: Path) -> None:
    """One warning for the cells cut to :data:`CELL_LIMIT`, one for the rows left out."""
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
