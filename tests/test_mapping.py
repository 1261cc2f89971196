"""Column-mapping files (workbench.mapping) and the shipped examples (examples/mappings/)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.mapping import apply_mapping, load_mapping
from workbench.sources import RawSource

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "mappings"


def _kpis(example: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    folder = EXAMPLES / example
    args = ["kpis", "--data", str(folder), "--mapping", str(folder / "mapping.toml")]
    status = main([*args, *extra, "--as-of", "2026-11-20", "--json"])
    out = capsys.readouterr().out
    assert status == 0
    return json.loads(out)


def test_sage_example_kpis_worked_by_hand(capsys: pytest.CaptureFixture[str]):
    kpis = _kpis("sage", capsys, "--encoding", "cp1252")
    # FA0001 1200.00 + FA0002 800.50 share lettrage AA with RG0001 1500.00: oldest due first,
    # FA0001 (due 05/10) takes 1200.00, FA0002 (due 20/10) the other 300.00 -> 500.50 open.
    # FA0003 2400.00 less avoir AV0001 400.00 (lettrage AA of account MARTIN) -> 2000.00 open.
    # FA0004 650.00 and FA0005 99.90 open, not due; FA0006 300.00 paid by RG0002 350.00 (50.00
    # unapplied).
    assert kpis["total_ar"] == pytest.approx(500.50 + 2000.00 + 650.00 + 99.90)  # 3250.40
    assert kpis["overdue_ar"] == pytest.approx(500.50 + 2000.00)  # due 20/10 and 14/11
    assert kpis["open_invoices"] == 4
    assert kpis["customers_with_balance"] == 2  # DUPONT, MARTIN


def test_odoo_example_kpis_worked_by_hand(capsys: pytest.CaptureFixture[str]):
    kpis = _kpis("odoo", capsys)
    # INV/2026/00001 1500.00 matched (A1) by PBNK1/2026/00001 1500.00 -> 0.
    # INV/2026/00002 2000.00 due 2026-11-14: open, overdue.
    # INV/2026/00003 3000.00 less refund RINV/2026/00001 (balance -500.00, P2) -> 2500.00, not due.
    # INV/2026/00004 750.25 due 2026-08-31: open, overdue. Income lines are left out by `where`.
    assert kpis["total_ar"] == pytest.approx(2000.00 + 2500.00 + 750.25)  # 5250.25
    assert kpis["overdue_ar"] == pytest.approx(2000.00 + 750.25)
    assert kpis["open_invoices"] == 3
    assert kpis["customers_with_balance"] == 3


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


LEDGER = pl.DataFrame(
    {
        "type": ["FA", "FA", "FA", "RG", "RG", "AV", "FA"],
        "doc": ["F1", "F2", "F3", "R1", "R2", "A1", "F4"],
        "client": ["C1", "C1", "C1", "C1", "C1", "C1", "C2"],
        "due": ["2026-03-01", "2026-01-01", "2026-02-01", "", "", "", "2026-01-01"],
        "date": ["2026-01-01"] * 3 + ["2026-04-01", "2026-04-02", "2026-04-03", "2026-01-01"],
        "amount": ["100", "50", "30", "60", "200", "\u221210", "-40"],
        "code": ["X", "X", "X", "X", "X", "Z", "Y"],
    }
)
MAPPING = """
[invoices]
from = "ledger"
where = { type = "FA" }
columns = { invoice_id = "doc", customer_id = "client", issue_date = "date", due_date = "due" }
constants = { currency = "EUR" }
sign = "positive"

[payments]
from = "ledger"
where = { type = "RG" }
columns = { payment_id = "doc", customer_id = "client", payment_date = "date" }
link = { code = "code" }

[credit_notes]
from = "ledger"
where = { type = ["FA", "AV"] }
columns = { credit_note_id = "doc", date = "date" }
sign = "negative"
link = { code = "code", customer = "client" }
"""


def _applied(tmp_path: Path, ledger: pl.DataFrame = LEDGER) -> RawSource:
    raw = RawSource(frames={"ledger": ledger}, origins={"ledger": "ledger.csv"})
    return apply_mapping(raw, load_mapping(_mapping(tmp_path, MAPPING)))


def test_a_code_shared_by_several_invoices_pays_the_oldest_due_first(tmp_path: Path):
    payments = _applied(tmp_path).frames["payments"]
    # invoices with code X by due date: F2 50 (Jan), F3 30 (Feb), F1 100 (Mar) = 180 in all.
    # R1 60 (Apr 1) -> F2 50, F3 10; R2 200 (Apr 2) -> F3 20, F1 100, 200 - 120 = 80 unapplied.
    assert payments.select("payment_id", "invoice_id", "amount").rows() == [
        ("R1/F2", "F2", 50.0),
        ("R1/F3", "F3", 10.0),
        ("R2/F1", "F1", 100.0),
        ("R2/F3", "F3", 20.0),
        ("R2/unapplied", None, 80.0),
    ]
    assert payments["amount"].sum() == pytest.approx(60 + 200)  # nothing created nor lost


def test_sign_rules_split_negative_invoice_lines_into_credit_notes(tmp_path: Path):
    raw = _applied(tmp_path)
    assert sorted(raw.frames["invoices"]["invoice_id"]) == ["F1", "F2", "F3"]  # F4 -40 left out
    notes = raw.frames["credit_notes"].sort("credit_note_id")
    # F4 (-40, code Y: no invoice) and A1 (Unicode minus 10, code Z: no invoice) are negated,
    # not linked; positive FA lines selected by credit_notes' where are taken by invoices
    assert notes.select("credit_note_id", "amount", "invoice_id").rows() == [
        ("A1", 10.0, None),
        ("F4", 40.0, None),
    ]


@pytest.mark.parametrize("amount", ["10", "", "dix", "0"])
def test_sign_negative_refuses_a_selected_row_no_table_takes(tmp_path: Path, amount: str):
    ledger = LEDGER.with_columns(
        pl.when(pl.col("doc") == "A1").then(pl.lit(amount)).otherwise("amount").alias("amount")
    ).with_columns(pl.col("amount").replace("", None))
    with pytest.raises(InputError) as error:
        _applied(tmp_path, ledger)
    text = str(error.value)
    assert "row 6" in text and "[credit_notes] sign" in text and "not a negative number" in text


@pytest.mark.parametrize("amount", ["500.00-", "(500.00)", "\u2212500.00", " -500.00 "])
def test_sign_negative_reads_trailing_minus_parentheses_and_unicode_minus(
    tmp_path: Path, amount: str
):
    ledger = LEDGER.with_columns(
        pl.when(pl.col("doc") == "A1").then(pl.lit(amount)).otherwise("amount").alias("amount")
    )
    notes = _applied(tmp_path, ledger).frames["credit_notes"]
    assert notes.filter(pl.col("credit_note_id") == "A1")["amount"].to_list() == [500.0]


def test_where_matches_trimmed_case_insensitive_and_warns_rows_no_table_took(tmp_path: Path):
    ledger = LEDGER.with_columns(
        pl.when(pl.col("doc") == "F3").then(pl.lit(" fa ")).otherwise("type").alias("type")
    ).vstack(LEDGER.head(1).with_columns(type=pl.lit("FC"), doc=pl.lit("F9")))
    with pytest.warns(UserWarning) as caught:
        raw = _applied(tmp_path, ledger)
    assert sorted(raw.frames["invoices"]["invoice_id"]) == ["F1", "F2", "F3"]  # " fa " taken
    text = " ".join(str(w.message) for w in caught)
    # F9 (type FC, row 8) is in no where list: warned with its row and value, not silently lost
    assert "1 source row(s) went to no table" in text and "row 8 (type = 'FC')" in text, text


def test_mapping_errors_name_the_file_and_the_key(tmp_path: Path):
    cases = {
        '[invoices]\nfrom = "ledger"\ncolumns = { amount = "total" }\n': "[invoices] columns.amount",
        '[invoices]\ndate_format = "%Y"\n': "[invoices] date_format",
        '[payments]\nlink = { cod = "x" }\n': "[payments] link.cod",
        '[defaults]\nsign = "negative"\n': "[defaults] sign",
    }
    for text, key in cases.items():
        with pytest.raises(InputError) as error:
            mapping = load_mapping(_mapping(tmp_path, text))
            raw = RawSource(frames={"ledger": LEDGER}, origins={"ledger": "ledger.csv"})
            apply_mapping(raw, mapping)
        assert key in str(error.value) and "mapping.toml" in str(error.value), str(error.value)


def test_source_tables_list_mapped_sources_then_unmapped_canonical_tables(tmp_path: Path):
    mapping = load_mapping(_mapping(tmp_path, MAPPING))
    assert mapping.source_tables[0] == "ledger"
    assert "customers" in mapping.source_tables and "invoices" not in mapping.source_tables


def test_a_code_no_invoice_carries_is_warned_with_its_row(tmp_path: Path):
    # R2's code "x" matches invoice code "X" only in another case: R2 (row 5) stays unapplied
    ledger = LEDGER.with_columns(
        pl.when(pl.col("doc") == "R2").then(pl.lit("x")).otherwise("code").alias("code")
    )
    with pytest.warns(UserWarning) as caught:
        payments = _applied(tmp_path, ledger).frames["payments"]
    text = " ".join(str(w.message) for w in caught)
    assert "[payments]" in text and "'x' (row 5, an invoice has it in another letter case)" in text
    assert "stay unapplied cash" in text
    assert payments.filter(pl.col("payment_id") == "R2")["invoice_id"].to_list() == [None]


def test_mapping_file_with_bom_and_decomposed_accents_reads(tmp_path: Path):
    # the mapping names "Débit" with a composed é; the export's header has e + U+0301 (macOS)
    text = (
        '[invoices]\nfrom = "ledger"\nwhere = { type = "FA" }\nconstants = { currency = "EUR" }\n'
        'columns = { invoice_id = "doc", customer_id = "client", issue_date = "date", '
        'due_date = "due", amount = "D\u00e9bit" }\n'
    )
    path = tmp_path / "mapping.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ledger = LEDGER.rename({"amount": "De\u0301bit"})
    raw = RawSource(frames={"ledger": ledger}, origins={"ledger": "ledger.csv"})
    invoices = apply_mapping(raw, load_mapping(path)).frames["invoices"]
    assert invoices.sort("invoice_id")["amount"].to_list() == ["100", "50", "30", "-40"]


def test_mapping_file_not_utf8_names_the_line(tmp_path: Path):
    path = tmp_path / "mapping.toml"
    path.write_bytes(b'[invoices]\nfrom = "ledger"\n# D\xe9bit\n')
    with pytest.raises(InputError, match="line 3 is not UTF-8.*save the mapping file as UTF-8"):
        load_mapping(path)


def test_one_payment_on_two_ledger_lines_keeps_its_number_on_each(tmp_path: Path, capsys):
    """RG0001 (1,500.00) booked on two lines, 1,200.00 lettered with FA0001 and 300.00 with
    FA0002 (a second code AC): the same balances as the one-line example (FA0002 500.50 open,
    total 3,250.40), the two lines named RG0001#<source row> instead of a duplicate key."""
    import shutil

    folder = tmp_path / "sage"
    shutil.copytree(EXAMPLES / "sage", folder)
    ledger = (folder / "grand_livre.csv").read_text(encoding="cp1252")
    one = "411DUPONT;DUPONT;25/10/2026;25/10/2026;RG;RG0001;Règlement virement;;1 500,00;AA"
    two = (
        "411DUPONT;DUPONT;25/10/2026;25/10/2026;RG;RG0001;Règlement virement;;1 200,00;AA\r\n"
        "411DUPONT;DUPONT;25/10/2026;25/10/2026;RG;RG0001;Règlement virement;;300,00;AC"
    )
    assert one in ledger
    ledger = ledger.replace(one, two).replace(
        "FA0002;Facture FA0002;800,50;;AA", "FA0002;Facture FA0002;800,50;;AC"
    )
    (folder / "grand_livre.csv").write_text(ledger, encoding="cp1252", newline="")
    args = ["--data", str(folder), "--mapping", str(folder / "mapping.toml"), "--encoding",
            "cp1252", "--as-of", "2026-11-20"]  # fmt: skip
    assert main(["kpis", *args, "--json"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    assert (kpis["total_ar"], kpis["overdue_ar"]) == (3250.40, 2500.50)
    from workbench.load import SourceOptions, load_portfolio

    options = SourceOptions(mapping=folder / "mapping.toml", encoding="cp1252")
    payments = load_portfolio(folder, options).payments.collect()
    ids = payments.filter(pl.col("payment_id").str.starts_with("RG0001"))["payment_id"]
    assert sorted(ids) == ["RG0001#3", "RG0001#4"]  # data rows 3 and 4 (lines 4 and 5)
