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
        "amount": ["100", "50", "30", "60", "200", "10", "-40"],
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
    # F4 (-40, code Y: no invoice) is negated but not linked; A1 10 has no sign: not negative
    assert notes.select("credit_note_id", "amount", "invoice_id").rows() == [("F4", 40.0, None)]


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
