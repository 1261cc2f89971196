"""The call sheets of worklist.xlsx (workbench.export, layout workbench.callsheet): read back
with openpyxl and checked against the worklist frame recomputed in plain polars (never through
the export's helpers)."""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.utils import get_column_letter
from test_recommend import AS_OF, Book

from workbench.callsheet import (
    DONE_WORDS,
    FEEDBACK_COLUMNS,
    HEADERS,
    KEY_COLUMNS,
    KEYS_SHEET,
    LAYOUT_VERSION,
    OUTCOME_WORDS,
    SHEET_COLUMNS,
)
from workbench.export import SUMMARY_CHARS, write_xlsx
from workbench.policy import DEFAULT_POLICY, Team
from workbench.worklist import build_worklist

FR = dataclasses.replace(DEFAULT_POLICY, team=Team(language="fr"))
LAST_DAY = date(2026, 10, 31)
"""The last day of the ``generated_portfolio`` fixture (tests/conftest.py)."""

COL = {name: k + 1 for k, name in enumerate(SHEET_COLUMNS)}
"""The 1-based column of each call sheet column."""

MONEY = ("overdue_amount", "open_amount", "amount_at_risk")
FOLDED = (
    "customer_id", "open_amount", "amount_at_risk", "oldest_dpd", "promise", "last_contact",
    "draft",
)  # fmt: skip
"""The secondary columns of a call sheet, hidden in a collapsed outline group."""

PRINTED_POINTS_PER_WIDTH = 5.6
"""Points one unit of stored column width takes on paper at 100 % in LibreOffice (Carlito 11:
measured on the sample's PDF, 4.5-point text for 348.6 units one page wide before this layout,
7.0 points for 223.4 units after)."""

PRINTABLE_POINTS = 842 - 2 * 0.25 * 72
"""The width (points) of A4 landscape within the sheets' 0.25-inch left and right margins."""
HEADER_FILL = "FFDDE4EE"
"""The fill of every header cell of the workbook (how the tests find the headers)."""

BLOCK = {
    "promise pending": 0, "plan on track": 0, "formal notice sent": 0,
    "waiting for the next step": 0, "in conversation": 0, "handed over": 0,
    "contacted recently": 1, "capped": 1, "same message sent": 1,
    "not yet due and no risk": 2,
    "customer credit to offset": 3, "unapplied cash to reconcile": 3,
}  # fmt: skip
"""The block of the excluded sheet (in order) where each exclusion belongs."""


@pytest.fixture(scope="module")
def english(generated_portfolio, tmp_path_factory):
    portfolio, _ = generated_portfolio
    worklist = build_worklist(portfolio, LAST_DAY)
    path = tmp_path_factory.mktemp("callsheet") / "worklist.xlsx"
    write_xlsx(worklist, path)
    return worklist, path


@pytest.fixture(scope="module")
def french(generated_portfolio, tmp_path_factory):
    portfolio, _ = generated_portfolio
    worklist = build_worklist(portfolio, LAST_DAY, FR)
    path = tmp_path_factory.mktemp("callsheet_fr") / "worklist.xlsx"
    write_xlsx(worklist, path)
    return worklist, path


def collectors(worklist) -> list[str]:
    """The collectors of the worklist's rows (plain names in the generated portfolio: each one
    is also its sheet's name)."""
    names = sorted(worklist.rows["collector"].unique().to_list())
    assert all(re.fullmatch(r"[\w .'-]+", name) for name in names), names
    return names


def mine(worklist, collector: str) -> pl.DataFrame:
    return worklist.rows.filter(pl.col("collector") == collector).sort("rank")


def column(sheet, name: str, rows: int) -> list:
    return [sheet.cell(row=r, column=COL[name]).value for r in range(2, rows + 2)]


def test_call_sheets_hold_each_collectors_actions_in_rank_order(english):
    worklist, path = english
    book = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    assert len(collectors(worklist)) >= 2
    for collector in collectors(worklist):
        sheet, expected = book[collector], mine(worklist, collector)
        n = expected.height
        assert [c.value for c in sheet[1]] == [HEADERS["en"][name] for name in SHEET_COLUMNS]
        assert column(sheet, "customer_id", n) == expected["customer_id"].to_list()
        assert column(sheet, "rank", n) == expected["rank"].to_list()
        assert column(sheet, "customer_name", n) == expected["customer_name"].to_list()
        for name in MONEY:
            values = column(sheet, name, n)
            assert all(isinstance(v, int | float) for v in values), name
            assert values == pytest.approx(expected[name].round(2).to_list(), abs=0.005), name
            assert sheet.cell(row=2, column=COL[name]).number_format == '#,##0.00 "EUR"'
        dpd = column(sheet, "oldest_dpd", n)
        assert [d if d is None else int(d) for d in dpd] == expected["oldest_dpd"].to_list()
        contacts = [v.date() if v else None for v in column(sheet, "last_contact", n)]
        assert contacts == expected["last_contact"].to_list()
        # a blank row, then the totals: SUM formulas whose cached values are the sums
        assert all(c.value is None for c in sheet[n + 2])
        assert sheet.cell(row=n + 3, column=COL["customer_name"]).value == "Total"
        for name in MONEY:
            letter = get_column_letter(COL[name])
            formula = sheet.cell(row=n + 3, column=COL[name]).value
            assert formula == f"=SUM({letter}2:{letter}{n + 1})"
            value = cached[collector].cell(row=n + 3, column=COL[name]).value
            assert value == pytest.approx(expected[name].sum(), abs=0.005), name
        assert sheet.max_row == n + 3


def test_call_sheets_read_on_one_line_and_link_to_the_full_texts(english):
    worklist, path = english
    book = openpyxl.load_workbook(path)
    drafts = book["drafts"]
    drafts_header = [c.value for c in drafts[1]]
    assert drafts_header[:4] == ["Rank", "Collector", "Customer no.", "Customer"]
    message = drafts_header.index("Draft message") + 1
    for k, row in enumerate(worklist.rows.sort("rank").iter_rows(named=True), start=2):
        assert drafts.cell(row=k, column=1).value == row["rank"]
        assert drafts.cell(row=k, column=3).value == row["customer_id"]
        assert drafts.cell(row=k, column=message).value == row["draft_message"]
        assert drafts.cell(row=k, column=message).alignment.wrap_text
    cut = 0
    for collector in collectors(worklist):
        sheet, expected = book[collector], mine(worklist, collector)
        n = expected.height
        summaries = column(sheet, "summary", n)
        for summary, reason in zip(summaries, expected["reason"], strict=True):
            flat = re.sub(r"[ \t\r\n]+", " ", reason).strip(" ")  # no-break spaces kept
            assert "\n" not in summary and len(summary) <= min(SUMMARY_CHARS, 70)
            if len(flat) <= SUMMARY_CHARS:
                assert summary == flat  # whole, no "…"
                continue
            # cut after a whole word or clause, without its punctuation or spaces, then "…"
            cut += 1
            body = summary.removesuffix("…")
            assert body != summary and body[-1] not in " \u00a0\u202f,;:…", summary
            assert flat.startswith(body), (summary, flat)
            assert flat[len(body)] in " \u00a0\u202f,;:", (summary, flat)
            assert len(body) >= len(flat[:SUMMARY_CHARS].rsplit(" ", 1)[0]) // 2  # not too short
        for r in range(2, n + 2):
            link = sheet.cell(row=r, column=COL["draft"])
            target = int(re.fullmatch(r"drafts, row (\d+)", link.value).group(1))
            assert link.hyperlink.location == f"'drafts'!A{target}"
            assert (
                drafts.cell(row=target, column=3).value == sheet.cell(r, COL["customer_id"]).value
            )
        # one line per customer: no wrapped cell, no tall row
        for row in sheet.iter_rows(min_row=2):
            assert not any(cell.alignment.wrap_text for cell in row)
        heights = {k: d.height or 15 for k, d in sheet.row_dimensions.items()}
        assert heights.pop(1, 15) <= 31  # the header: at most two lines
        assert all(height <= 21 for height in heights.values())
        channels = column(sheet, "channel", n)
        assert not [c for c in channels if c and "_" in c]
    assert cut > 0  # the portfolio has long reasons: the cut is tested


def test_call_sheets_work_on_paper(english):
    worklist, path = english
    book = openpyxl.load_workbook(path)
    raw = zipfile.ZipFile(path)
    for collector in collectors(worklist):
        sheet = book[collector]
        assert sheet.freeze_panes == "D2"  # below the header, right of rank, customer, phone
        assert sheet.auto_filter.ref.startswith(f"A1:{get_column_letter(len(SHEET_COLUMNS))}")
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert int(setup.fitToWidth or 1) == 1 and int(setup.fitToHeight) == 0
        assert sheet.print_title_rows.replace("$", "") == "1:1"
        assert sheet.page_margins.left <= 0.5 and sheet.print_options.gridLines
        assert sheet.oddHeader.left.text == collector
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
        for name in MONEY:  # wide enough for the total (a digit ~1 unit, " EUR" ~3): no "###"
            total = mine(worklist, collector)[name].sum()
            assert width_of(sheet, COL[name]) >= len(f"{total:,.2f}") + 3, name
        # the secondary columns folded away, on screen and on paper, but still in the sheet
        for name in SHEET_COLUMNS:
            dimension = dimension_of(sheet, COL[name])
            assert bool(dimension.hidden) == (name in FOLDED), name
            assert dimension.outlineLevel == (1 if name in FOLDED else 0), name
            follows_fold = COL[name] > 1 and SHEET_COLUMNS[COL[name] - 2] in FOLDED
            assert bool(dimension.collapsed) == (follows_fold and name not in FOLDED), name
        assert sheet.cell(row=2, column=COL["customer_id"]).value is not None
        assert printed_points(sheet, len(SHEET_COLUMNS)) >= 7.0, collector
        for name in FEEDBACK_COLUMNS:  # room to write by hand, on paper
            least = {"done": 5, "comment": 20, "outcome": 13}.get(name, 10)
            assert width_of(sheet, COL[name]) >= least, name
    drafts = book["drafts"]
    setup = drafts.page_setup
    assert setup.orientation == "landscape" and int(setup.paperSize) == 9
    assert int(setup.fitToWidth or 1) == 1 and int(setup.fitToHeight) == 0
    assert drafts.sheet_properties.pageSetUpPr.fitToPage
    header = [c.value for c in drafts[1]]
    folded = {header.index(h) + 1 for h in ("Customer no.", "Risk factors", "Language")}
    for k in range(1, len(header) + 1):
        assert bool(dimension_of(drafts, k).hidden) == (k in folded), header[k - 1]
    assert printed_points(drafts, len(header)) >= 7.0
    message = dimension_of(drafts, header.index("Draft message") + 1)
    assert message.width >= 60 and not message.hidden
    assert all(name.startswith("xl/") or "." in name for name in raw.namelist())


def dimension_of(sheet, index: int):
    """The column dimension (width, hidden, outline level) of the sheet's column ``index``."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.min <= index <= dimension.max:
            return dimension
    raise AssertionError(f"no width set for column {index}")


def printed_points(sheet, columns: int) -> float:
    """The size on paper of the sheet's 11-point text, printed one page wide: the printable
    width over the visible columns' width (hidden columns are not printed), as LibreOffice
    scales (a whole percentage, rounded down)."""
    visible = [dimension_of(sheet, k) for k in range(1, columns + 1)]
    width = sum(d.width for d in visible if not d.hidden) * PRINTED_POINTS_PER_WIDTH
    return 11 * min(PRINTABLE_POINTS // (width / 100), 100) / 100


def feedback_rules(sheet) -> dict[str, tuple]:
    """column name -> (type, operator, formula1, formula2, rows) of the sheet's validations."""
    names = {get_column_letter(k): name for name, k in COL.items()}
    rules = {}
    for rule in sheet.data_validations.dataValidation:
        for cells in str(rule.sqref).split():
            first, last = cells.split(":")
            letter = re.match(r"[A-Z]+", first).group(0)
            rows = (int(first[len(letter) :]), int(last[len(letter) :]))
            rules[names[letter]] = (rule.type, rule.operator, rule.formula1, rule.formula2, rows)
    return rules


def excel_day(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def test_feedback_columns_are_empty_with_drop_downs_and_date_validation(english):
    worklist, path = english
    book = openpyxl.load_workbook(path)
    low = excel_day(LAST_DAY - timedelta(days=60))  # DATE_PAST_DAYS, DATE_FUTURE_DAYS
    high = excel_day(LAST_DAY + timedelta(days=400))
    for collector in collectors(worklist):
        sheet = book[collector]
        n = mine(worklist, collector).height
        rules = feedback_rules(sheet)
        assert set(rules) == set(FEEDBACK_COLUMNS) - {"comment"}
        assert rules["done"][:3] == ("list", None, '"yes,no"')
        words = ",".join(OUTCOME_WORDS["en"].values())
        assert rules["outcome"][:3] == ("list", None, f'"{words}"')
        for name in ("contact_date", "promised_date", "next_contact_date"):
            kind, operator, *limits = rules[name][:4]
            assert kind == "date" and operator in (None, "between"), name  # between: the default
            assert limits == [str(low), str(high)], name
        assert rules["promised_amount"][:3] == ("decimal", "greaterThan", "0")
        assert all(rule[4] == (2, n + 1) for rule in rules.values())
        for name in FEEDBACK_COLUMNS:
            cells = [sheet.cell(row=r, column=COL[name]) for r in range(2, n + 2)]
            assert all(c.value is None for c in cells), name
            assert all(c.fill.fgColor.rgb == "FFFFF8DC" for c in cells), name  # where to write
        assert sheet.cell(row=2, column=COL["promised_date"]).number_format == "yyyy-mm-dd"
        assert sheet.cell(row=2, column=COL["promised_amount"]).number_format == '#,##0.00 "EUR"'


def test_promised_amount_must_be_above_0_as_the_reader_wants(english, french):
    """workbench.outcomes refuses a promised amount of 0 ("is not above 0"): the sheet's
    validation and its messages say "greater than 0" too, in both languages."""
    expected = {"en": ("more than 0", "greater than 0"), "fr": ("supérieur à 0", "supérieur à 0")}
    for (worklist, path), language in ((english, "en"), (french, "fr")):
        book = openpyxl.load_workbook(path)
        sheet = book[collectors(worklist)[0]]
        letter = get_column_letter(COL["promised_amount"])
        (rule,) = [
            r for r in sheet.data_validations.dataValidation if str(r.sqref).startswith(letter)
        ]
        assert (rule.type, rule.operator, rule.formula1) == ("decimal", "greaterThan", "0")
        prompt, error = expected[language]
        assert prompt in rule.prompt and error in rule.error, (rule.prompt, rule.error)
        for text in (rule.prompt, rule.error):
            assert not re.search(r"0 or more|positif ou nul|>= ?0", text), text


def test_keys_sheet_names_every_call_sheet_row(english):
    worklist, path = english
    book = openpyxl.load_workbook(path)
    keys = book[KEYS_SHEET]
    assert keys.sheet_state in ("hidden", "veryHidden")
    assert keys["A1"].value == LAYOUT_VERSION
    assert tuple(c.value for c in keys[2]) == KEY_COLUMNS
    got = pl.DataFrame(
        list(keys.iter_rows(min_row=3, values_only=True)), schema=list(KEY_COLUMNS), orient="row"
    )
    # the covered invoices, from the detail's invoice structs, in a second way
    covered = (
        worklist.detail.select("rank", "invoices")
        .explode("invoices")
        .select("rank", invoice=pl.col("invoices").struct.field("invoice_id"))
        .drop_nulls()
        .group_by("rank", maintain_order=True)
        .agg("invoice")
    )
    expected = (
        worklist.rows.join(covered, on="rank", how="left")
        .sort(["collector", "rank"])
        .select(
            sheet="collector", customer_id="customer_id", collector="collector",
            as_of=pl.lit(LAST_DAY.isoformat()), currency=pl.lit("EUR"),
            invoices=pl.col("invoice").fill_null([]), overdue_amount="overdue_amount",
        )
    )  # fmt: skip
    plain = ["sheet", "customer_id", "collector", "as_of", "currency"]
    assert got.select(plain).rows() == expected.select(plain).rows()
    # the invoices key: a JSON array of the ids, in the action's order
    assert [json.loads(text) for text in got["invoices"]] == expected["invoices"].to_list()
    assert got["overdue_amount"].cast(pl.Float64).to_list() == pytest.approx(
        expected["overdue_amount"].to_list(), abs=0.005
    )
    assert (got["invoices"] != "[]").any()
    for collector in collectors(worklist):  # the same customers as on the sheet, in its order
        n = mine(worklist, collector).height
        ids = got.filter(pl.col("sheet") == collector)["customer_id"].to_list()
        assert ids == column(book[collector], "customer_id", n)
        assert len(set(ids)) == len(ids)  # a customer is once on its sheet: its id is a key


def test_invoice_ids_with_separators_survive_in_the_keys(tmp_path):
    book = Book()
    ids = ["INV;1", 'INV,"2"', "INV\\3 é"]
    cid = book.customer("S1", collector="Zoe")
    for k, iid in enumerate(ids):
        book.invoice(cid, 40 - 10 * k, 1000.0 + k, iid=iid)
    worklist = build_worklist(book.portfolio(), AS_OF)
    path = tmp_path / "worklist.xlsx"
    write_xlsx(worklist, path)
    keys = openpyxl.load_workbook(path)[KEYS_SHEET]
    header = [c.value for c in keys[2]]
    (row,) = keys.iter_rows(min_row=3, values_only=True)
    text = row[header.index("invoices")]
    assert isinstance(text, str) and text.startswith("[")
    assert sorted(json.loads(text)) == sorted(ids)


def read_blocks(sheet) -> list[list[dict]]:
    """The titled blocks of the excluded sheet: a title row, a header row, data rows."""
    blocks: list[list[dict]] = []
    header = None
    for row in sheet.iter_rows(values_only=True):
        if row[0] is None:
            continue
        if row[1] is None and ": " in row[0] and row[0].endswith("customer(s)"):
            blocks.append([])
            header = None
        elif header is None:
            header = row
        else:
            blocks[-1].append(dict(zip(header, row, strict=False)))
    return blocks


def test_excluded_sheet_in_blocks_each_customer_once(english):
    worklist, path = english
    sheet = openpyxl.load_workbook(path)["excluded"]
    titles = [row[0] for row in sheet.iter_rows(values_only=True) if row[0] and row[1] is None]
    excluded = worklist.excluded.with_columns(
        block=pl.col("exclusion").replace_strict(BLOCK, default=0)
    )
    wanted = sorted(excluded["block"].unique().to_list())
    assert len(wanted) >= 2  # the generated portfolio has several kinds
    names = ["Waiting, with a reason", "Held by the contact rules", "Not yet due and no risk",
             "Customer credit or unapplied cash"]  # fmt: skip
    assert len(titles) == len(wanted)
    for title, block in zip(titles, wanted, strict=True):
        assert title.startswith(names[block]), title
    blocks = read_blocks(sheet)
    seen = []
    for block, rows in zip(wanted, blocks, strict=True):
        expected = excluded.filter(pl.col("block") == block)
        assert [r["Customer no."] for r in rows] == expected["customer_id"].to_list()
        assert [r["Collector"] for r in rows] == expected["collector"].to_list()
        amounts = [r["Open"] for r in rows]
        assert amounts == sorted(amounts, reverse=True)
        seen += [r["Customer no."] for r in rows]
    assert sorted(seen) == sorted(worklist.excluded["customer_id"].to_list())
    assert len(seen) == len(set(seen))


def test_every_header_is_in_words(english, french):
    for worklist, path in (english, french):
        book = openpyxl.load_workbook(path)
        headers = [
            cell.value
            for sheet in book.worksheets
            if sheet.title != KEYS_SHEET
            for row in sheet.iter_rows()
            for cell in row
            if cell.fill.fgColor.rgb == HEADER_FILL
        ]
        assert len(headers) > 50
        assert not [h for h in headers if "_" in h or h == h.lower()], worklist.language


def width_of(sheet, index: int) -> float:
    """The width (characters) of the sheet's column ``index`` (1-based)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.min <= index <= dimension.max:
            return dimension.width
    return 8.43


def test_summary_totals_are_numbers_in_wide_enough_columns(english):
    worklist, path = english
    sheet = openpyxl.load_workbook(path)["summary"]
    items = {row[0].value: row[1] for row in sheet.iter_rows(min_row=4, max_row=11)}
    assert items["as of"].is_date and items["as of"].value.date() == LAST_DAY
    assert items["actions"].value == worklist.rows.height
    assert items["excluded"].value == worklist.excluded.height
    total = worklist.rows["open_amount"].sum() + worklist.excluded["open_amount"].sum()
    assert items["open amount"].value == pytest.approx(total, abs=0.01)
    assert items["open amount"].number_format == '#,##0.00 "EUR"'
    shown = f"{total:,.2f} EUR"
    assert width_of(sheet, 2) >= len(shown) + 1  # no "###"
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float):
                width = width_of(sheet, cell.column)
                assert width >= len(f"{cell.value:,.2f} EUR"), cell.coordinate


def test_french_call_sheets(french):
    worklist, path = french
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["synthèse", "à surveiller"]
    assert book.sheetnames[-3:] == ["exclus", "projets", KEYS_SHEET]
    for collector in collectors(worklist):
        sheet = book[collector]
        n = mine(worklist, collector).height
        assert [c.value for c in sheet[1]] == [HEADERS["fr"][name] for name in SHEET_COLUMNS]
        rules = feedback_rules(sheet)
        assert rules["done"][2] == '"oui,non"'
        assert rules["outcome"][2] == '"' + ",".join(OUTCOME_WORDS["fr"].values()) + '"'
        assert set(DONE_WORDS["fr"].values()) == {"oui", "non"}
        for name in ("last_contact", "contact_date", "next_contact_date"):
            assert sheet.cell(row=2, column=COL[name]).number_format == "dd/mm/yyyy", name
        assert column(sheet, "draft", n)[0].startswith("projets, ligne ")
        assert sheet.cell(row=n + 3, column=COL["customer_name"]).value == "Total"
        assert "Page &P sur &N" in sheet.oddFooter.center.text


def awkward_book() -> Book:
    """Customers named like formulas with the collector "A&B"."""
    book = Book()
    for k, name in enumerate(['=HYPERLINK("http://x","y")', "+1", "@x"]):
        cid = book.customer(f"W{k}", name=name, collector="A&B")
        book.invoice(cid, 20 + 10 * k, 900.0 + k)
    return book


def test_formula_like_names_stay_text_and_ampersands_are_escaped(tmp_path):
    worklist = build_worklist(awkward_book().portfolio(), AS_OF)
    path = tmp_path / "worklist.xlsx"
    write_xlsx(worklist, path)
    book = openpyxl.load_workbook(path)
    assert "A&B" in book.sheetnames
    sheet = book["A&B"]
    names = {sheet.cell(row=r, column=COL["customer_name"]) for r in range(2, 5)}
    assert {c.value for c in names} == {'=HYPERLINK("http://x","y")', "+1", "@x"}
    assert all(c.data_type == "s" for c in names)
    for other in book.worksheets:  # no formula but the totals' SUMs
        for row in other.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert re.fullmatch(r"=SUM\([A-Z]+2:[A-Z]+4\)", cell.value)
    index = book.sheetnames.index("A&B") + 1
    xml = zipfile.ZipFile(path).read(f"xl/worksheets/sheet{index}.xml").decode()
    page_header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1)
    assert page_header.startswith("&amp;LA&amp;&amp;B&amp;C")  # "&LA&&B&C..."


def test_same_worklist_same_bytes(english, tmp_path):
    worklist, path = english
    write_xlsx(worklist, tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == Path(path).read_bytes()
