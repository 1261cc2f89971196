"""Worklist exports (workbench.export): XLSX layout, CSV, formula-injection safety,
reproducible bytes, atomic writing."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from test_recommend import AS_OF, Book, day

from workbench import export
from workbench.callsheet import HEADERS, SHEET_COLUMNS
from workbench.errors import InputError, InputWarning
from workbench.export import OUTPUTS, csv_safe, sheet_names, write_worklist
from workbench.worklist import EXCLUDED_COLUMNS, WORKLIST_COLUMNS, build_worklist

EVIL_NAMES = [
    '=HYPERLINK("http://x","y")',
    "+33 cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed SARL",
    "\rReturn Ltd",
]


def book_of_customers() -> Book:
    """Two collectors; customers with formula-like names, one of each outcome."""
    book = Book()
    for k, name in enumerate(EVIL_NAMES):
        cid = book.customer(f"E{k}", name=name, collector="Zoe" if k % 2 else "Yann [north]")
        book.invoice(cid, 10 + 10 * k, 1000.0 + k)
    cid = book.customer("X1", name="=1+1 excluded", collector="Zoe")
    book.invoice(cid, -30, 50.0)
    cid = book.customer("T1", name="Thanks SA", collector="Zoe")
    book.payment(cid, day(-1), 80.0, book.invoice(cid, 5, 80.0))
    return book


@pytest.fixture(scope="module")
def worklist():
    return build_worklist(book_of_customers().portfolio(), AS_OF)


@pytest.fixture(scope="module")
def written(worklist, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "week"
    write_worklist(worklist, out)
    return out


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_files_and_csv_rows_match_the_worklist(worklist, written):
    assert sorted(p.name for p in written.iterdir()) == sorted(OUTPUTS)
    rows = pl.read_csv(written / "worklist.csv", infer_schema=False)
    assert rows.columns == list(WORKLIST_COLUMNS)
    assert rows.height == worklist.rows.height == len(EVIL_NAMES) + 1
    assert rows["customer_id"].to_list() == worklist.rows["customer_id"].to_list()
    excluded = pl.read_csv(written / "excluded.csv", infer_schema=False)
    assert excluded.columns == list(EXCLUDED_COLUMNS)
    assert excluded.row(0) == (
        "X1", "'=1+1 excluded", "Zoe", "50.0", "0.0", "0.0", "not yet due and no risk",
        "light_reminder", str(day(31)), f"not yet due and no risk: 50.00 EUR due from {day(30)}",
    )  # fmt: skip


def test_csv_text_starting_like_a_formula_is_prefixed_with_a_quote(worklist, written):
    rows = pl.read_csv(written / "worklist.csv", infer_schema=False)
    names = dict(zip(rows["customer_id"], rows["customer_name"], strict=True))
    # the names as the export receives them (validation may trim a leading tab or return)
    loaded = dict(zip(worklist.rows["customer_id"], worklist.rows["customer_name"], strict=True))
    for k, name in enumerate(EVIL_NAMES):
        assert loaded[f"E{k}"] in (name, name.strip())
        risky = loaded[f"E{k}"][0] in "=+-@\t\r"
        assert names[f"E{k}"] == ("'" if risky else "") + loaded[f"E{k}"]
    assert names["T1"] == "Thanks SA"
    # phone numbers from the input start with "+": text, kept readable behind the quote
    assert rows["phone"].str.starts_with("'+").all()
    for column in rows.columns:  # no field of any column starts like a formula
        values = rows[column].drop_nulls()
        assert not values.str.contains(r"^[=+\-@\t\r]").any(), column


def test_csv_safe_leaves_numbers_and_plain_text_alone():
    frame = pl.DataFrame(
        {"t": ["=1", "a=1", "-x", None, "ok", "\tTab", "\rCR"], "n": [-1, 2, 3, 4, 5, 6, 7]}
    )
    out = csv_safe(frame)
    assert out["t"].to_list() == ["'=1", "a=1", "'-x", None, "ok", "'\tTab", "'\rCR"]
    assert out["n"].to_list() == [-1, 2, 3, 4, 5, 6, 7]


def test_xlsx_text_is_never_a_formula(worklist, written):
    book = openpyxl.load_workbook(written / "worklist.xlsx")
    names = set(worklist.rows["customer_name"])
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # only the SUM formulas of a call sheet's totals row
                    assert re.fullmatch(r"=SUM\([A-Z]+\d+:[A-Z]+\d+\)", cell.value), cell.value
                    assert sheet.cell(row=cell.row, column=2).value == "Total", cell.coordinate
                if isinstance(cell.value, str) and cell.value in names:
                    assert cell.data_type == "s"
                    seen.add(cell.value)
    # openpyxl reads a lone carriage return back as a newline-free string; the rest as written
    assert seen >= names - {"\rReturn Ltd"}
    assert {n for n in names if n[0] in "=+-@"} >= {n for n in EVIL_NAMES if n[0] in "=+-@"}


def test_xlsx_layout(worklist, written):
    book = openpyxl.load_workbook(written / "worklist.xlsx")
    assert book.sheetnames == [
        "summary", "watch list", "Yann _north_", "Zoe", "excluded", "drafts", "_keys",
    ]  # fmt: skip
    sheet = book["Zoe"]
    header = [c.value for c in sheet[1]]
    assert header == [HEADERS["en"][name] for name in SHEET_COLUMNS]
    assert sheet.freeze_panes == "D2"  # below the header, right of rank, customer and phone
    last = openpyxl.utils.get_column_letter(len(SHEET_COLUMNS))
    assert sheet.auto_filter.ref.startswith(f"A1:{last}")  # every column filterable
    zoe = worklist.rows.filter(pl.col("collector") == "Zoe")
    assert sheet.max_row == zoe.height + 3  # header, rows, a blank row, the totals
    col = {name: i + 1 for i, name in enumerate(SHEET_COLUMNS)}
    first = {name: sheet.cell(row=2, column=col[name]) for name in SHEET_COLUMNS}
    assert first["open_amount"].number_format == '#,##0.00 "EUR"'
    assert isinstance(first["open_amount"].value, int | float)
    assert first["rank"].value == zoe["rank"][0]
    summary = openpyxl.utils.get_column_letter(col["summary"])
    assert sheet.column_dimensions[summary].width >= 40  # a one-line summary of 56 characters
    customer_id = openpyxl.utils.get_column_letter(col["customer_id"])
    assert sheet.column_dimensions[customer_id].hidden  # folded: a secondary column
    assert sheet.column_dimensions[customer_id].outlineLevel == 1
    drafts = book["drafts"]
    assert [c.value for c in drafts[1]][:3] == ["Rank", "Collector", "Customer no."]
    excluded = book["excluded"]
    assert excluded["A1"].value == "Not yet due and no risk: 1 customer(s)"
    assert [c.value for c in excluded[2]][:3] == ["Customer no.", "Customer", "Collector"]
    assert excluded["B3"].value == "=1+1 excluded" and excluded["B3"].data_type == "s"
    summary = [c.value for c in book["summary"]["A"] if c.value]
    for title in (
        "totals",
        "actions by channel",
        "excluded by reason",
        "capacity per collector",
        "priority matrix",
    ):
        assert title in summary


def test_excluded_sheet_keeps_its_header_in_view_and_on_every_page(worklist, written):
    sheet = openpyxl.load_workbook(written / "worklist.xlsx")["excluded"]
    # row 1: the first block's title, row 2: the column headers (the same in every block)
    assert [c.value for c in sheet[2]][:3] == ["Customer no.", "Customer", "Collector"]
    assert sheet.freeze_panes == "A3"  # the title and the header stay visible when scrolling
    assert sheet.print_title_rows == "$1:$2"  # and are printed at the top of every page


def test_dates_are_dates(tmp_path):
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10)
    book.contact(cid, date(2026, 6, 20), "email")
    out = tmp_path / "w"
    write_worklist(build_worklist(book.portfolio(), AS_OF), out)
    sheet = openpyxl.load_workbook(out / "worklist.xlsx")["Zoe"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index(HEADERS["en"]["last_contact"]) + 1)
    assert (
        cell.is_date
        and cell.value.date() == date(2026, 6, 20)
        and cell.number_format == "yyyy-mm-dd"
    )
    assert pl.read_csv(out / "worklist.csv", infer_schema=False)["last_contact"][0] == "2026-06-20"


def test_same_inputs_same_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_worklist(build_worklist(book_of_customers().portfolio(), AS_OF), first)
    write_worklist(build_worklist(book_of_customers().portfolio(), AS_OF), second)
    assert digest(first) == digest(second)


def test_a_failed_write_leaves_the_previous_output(worklist, tmp_path, monkeypatch):
    out = tmp_path / "week"
    write_worklist(worklist, out)
    before = digest(out)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_csv", broken)
    with pytest.raises(RuntimeError):
        write_worklist(worklist, out)
    assert digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["week"]  # no temporary folder left


def test_a_rerun_keeps_the_users_files_and_replaces_its_own(worklist, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "worklist.csv").write_text("an old worklist")
    write_worklist(worklist, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine"
    assert pl.read_csv(out / "worklist.csv").height == worklist.rows.height
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary folder, no lock


def test_a_folder_named_like_an_output_is_refused(worklist, tmp_path):
    out = tmp_path / "report"
    (out / "excluded.csv").mkdir(parents=True)
    with pytest.raises(InputError, match="excluded.csv: is a folder"):
        write_worklist(worklist, out)
    assert [p.name for p in out.iterdir()] == ["excluded.csv"]


LONG = 40_000


def long_book() -> Book:
    """One customer whose name is 40,000 characters (an 'x' then digits, so any cut shows)."""
    book = Book()
    name = "Long " + "".join(str(k % 10) for k in range(LONG - 5))
    cid = book.customer("L1", name=name, collector="Zoe")
    book.invoice(cid, 40, 5000.0)
    return book


def test_cells_over_excels_limit_are_cut_visibly_and_the_csv_keeps_them(tmp_path):
    worklist = build_worklist(long_book().portfolio(), AS_OF)
    name = worklist.rows["customer_name"][0]
    assert len(name) == LONG
    rows = worklist.rows.select(WORKLIST_COLUMNS)
    texts = [c for c, t in rows.schema.items() if t == pl.String]
    too_long = {c for c in texts if (rows[c].str.len_chars() > 32_767).any()}
    assert "customer_name" in too_long  # and the draft, which names the customer
    out = tmp_path / "out"
    # the name is on the call sheet and on the drafts sheet, the other texts on the drafts sheet
    with pytest.warns(InputWarning, match=f"worklist.xlsx: {len(too_long) + 1} cell"):
        write_worklist(worklist, out)
    book = openpyxl.load_workbook(out / "worklist.xlsx")
    note = "… [cut: full text in worklist.csv]"
    csv = pl.read_csv(out / "worklist.csv")
    drafts = book["drafts"]
    header = [c.value for c in drafts[1]]
    for column in too_long:
        full = rows[column][0]
        cells = [drafts.cell(row=2, column=header.index(export.heading(column)) + 1).value]
        if column == "customer_name":
            cells.append(book["Zoe"]["B2"].value)
        for cell in cells:
            assert len(cell) == 32_767 and cell == full[: 32_767 - len(note)] + note, column
        assert csv[column][0] == full, column
    assert csv["customer_name"][0] == name


def test_cell_text_counts_utf16_units_and_never_splits_a_character():
    assert export.cell_text("short", "worklist.csv") == "short"
    exact = "é" * 32_767
    assert export.cell_text(exact, "worklist.csv") is exact
    emoji = "\N{GRINNING FACE}" * 20_000  # 40,000 UTF-16 units in 20,000 characters
    cut = export.cell_text(emoji, "excluded.csv", "fr")
    note = "… [coupé : texte complet dans excluded.csv]"
    assert cut.endswith(note)
    head = cut[: -len(note)]
    assert set(head) == {"\N{GRINNING FACE}"}
    # 2 units per emoji: as many as fit in what the note leaves
    assert len(head) == (32_767 - len(note)) // 2
    assert len(cut.encode("utf-16-le")) // 2 <= 32_767


def test_rows_beyond_a_sheets_limit_are_left_out_with_a_warning(worklist, tmp_path, monkeypatch):
    """Excel's 1,048,576 rows, scaled down: a call sheet of 5 rows holds a header, 2 customers, a
    blank row and the totals."""
    monkeypatch.setattr(export, "SHEET_ROWS", 5)
    zoe = worklist.rows.filter(pl.col("collector") == "Zoe").height
    assert zoe > 2
    with pytest.warns(InputWarning, match="beyond Excel's 5 rows"):
        write_worklist(worklist, tmp_path / "out")
    sheet = openpyxl.load_workbook(tmp_path / "out" / "worklist.xlsx")["Zoe"]
    assert sheet.max_row == 5 and sheet["B5"].value == "Total"
    csv = pl.read_csv(tmp_path / "out" / "worklist.csv")
    assert csv.filter(pl.col("collector") == "Zoe").height == zoe


def test_sheet_names_valid_and_unique():
    names = sheet_names(["Summary", "a/b", "a?b", "x" * 40, "x" * 40 + "y", "'quoted'", ""])
    assert list(names.values()) == [
        "Summary (2)", "a_b", "a_b (2)", "x" * 31, "x" * 27 + " (2)", "quoted", "collector",
    ]  # fmt: skip
    assert list(sheet_names(["drafts", "_KEYS", "projets"]).values()) == [
        "drafts (2)", "_KEYS (2)", "projets",
    ]  # fmt: skip
    assert sheet_names(["projets"], "fr") == {"projets": "projets (2)"}
