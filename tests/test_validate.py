"""Validation at load: every error names the file, table, row and column (exit code 2)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.errors import InputError
from workbench.load import load_portfolio
from workbench.portfolio import Portfolio

CUSTOMERS = "customer_id,name\nC1,Alpha SA\nC2,Beta SARL\n"
INVOICES = (
    "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
    "I1,C1,2026-01-01,2026-01-31,100.00,EUR\n"
    "I2,C2,2026-01-05,2026-02-04,250.50,EUR\n"
)


def write_source(folder: Path, **tables: str) -> Path:
    """A folder holding one CSV per keyword (table name -> CSV text); defaults for the mandatory."""
    tables = {"customers": CUSTOMERS, "invoices": INVOICES, **tables}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def load_error(folder: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_portfolio(folder)
    return info.value


def only_problem(error: InputError):
    assert len(error.problems) == 1, str(error)
    return error.problems[0]


def test_valid_csv_folder_loads_typed(tmp_path: Path) -> None:
    portfolio = load_portfolio(write_source(tmp_path))
    invoices = portfolio.invoices.collect()
    assert invoices.schema["issue_date"] == pl.Date
    assert invoices.schema["amount"] == pl.Float64
    assert invoices.get_column("amount").to_list() == [100.0, 250.5]
    assert portfolio.present == {"customers", "invoices"}
    # Absent optional tables are empty with their canonical columns.
    assert portfolio.payments.collect().columns == [
        "payment_id", "customer_id", "payment_date", "amount", "invoice_id"
    ]


def test_missing_required_column_names_file_table_and_column(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path, invoices="invoice_id,customer_id,issue_date,amount,currency\nI1,C1,2026-01-01,5,EUR\n"
    )
    problem = only_problem(load_error(folder))
    assert problem.table == "invoices" and problem.column == "due_date"
    assert problem.file.endswith("invoices.csv")
    assert "required column 'due_date' is missing" in str(problem)


def test_unparseable_date_names_row_line_and_column(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path,
        invoices=INVOICES.replace("2026-01-05,2026-02-04", "2026-01-05,04/02/2026"),
    )
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("invoices", 2, "due_date")
    text = str(problem)
    assert "invoices.csv" in text and "row 2 (line 3)" in text and "column due_date" in text
    assert "'04/02/2026'" in text and "YYYY-MM-DD" in text


def test_unparseable_amount(tmp_path: Path) -> None:
    folder = write_source(tmp_path, invoices=INVOICES.replace("250.50", "2x0"))
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (2, "amount")
    assert "cannot read '2x0' as an amount" in str(problem)


def test_duplicate_key_reports_both_rows(tmp_path: Path) -> None:
    folder = write_source(tmp_path, customers=CUSTOMERS + "C1,Alpha bis\n")
    error = load_error(folder)
    assert {(p.table, p.row, p.column) for p in error.problems} == {
        ("customers", 1, "customer_id"),
        ("customers", 3, "customer_id"),
    }
    assert "duplicate key (customer_id) C1" in str(error)


def test_invoice_of_unknown_customer(tmp_path: Path) -> None:
    folder = write_source(tmp_path, invoices=INVOICES.replace("I2,C2", "I2,C9"))
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("invoices", 2, "customer_id")
    assert "customer_id 'C9' does not exist in table customers" in str(problem)


def test_payment_of_unknown_invoice(tmp_path: Path) -> None:
    payments = (
        "payment_id,customer_id,payment_date,amount,invoice_id\n"
        "P1,C1,2026-02-01,100,I1\n"
        "P2,C1,2026-02-02,40,\n"  # unapplied cash: null invoice_id is allowed
        "P3,C2,2026-02-03,10,I404\n"
    )
    problem = only_problem(load_error(write_source(tmp_path, payments=payments)))
    assert (problem.table, problem.row, problem.column) == ("payments", 3, "invoice_id")
    assert "invoice_id 'I404' does not exist in table invoices" in str(problem)


def test_dispute_of_unknown_invoice(tmp_path: Path) -> None:
    disputes = "dispute_id,invoice_id,opened_date\nD1,I1,2026-01-10\nD2,IX,2026-01-11\n"
    problem = only_problem(load_error(write_source(tmp_path, disputes=disputes)))
    assert (problem.table, problem.row, problem.column) == ("disputes", 2, "invoice_id")


def test_due_date_before_issue_date(tmp_path: Path) -> None:
    folder = write_source(tmp_path, invoices=INVOICES.replace("2026-01-01,2026-01-31", "2026-01-01,2025-12-31"))
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("invoices", 1, "due_date")
    assert "due date 2025-12-31 is before issue date 2026-01-01" in str(problem)


@pytest.mark.parametrize("amount", ["0", "-12.5"])
def test_non_positive_invoice_amount(tmp_path: Path, amount: str) -> None:
    folder = write_source(tmp_path, invoices=INVOICES.replace("100.00", amount))
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("invoices", 1, "amount")
    assert "must be greater than 0" in str(problem)


def test_missing_required_value(tmp_path: Path) -> None:
    folder = write_source(tmp_path, customers="customer_id,name\nC1,Alpha\nC2,\n")
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("customers", 2, "name")
    assert "required value is missing" in str(problem)


def test_value_outside_closed_set(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path, customers="customer_id,name,preferred_channel\nC1,Alpha,fax\nC2,Beta,email\n"
    )
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (1, "preferred_channel")
    assert "'fax' is not allowed" in str(problem)


def test_mandatory_table_missing(tmp_path: Path) -> None:
    tmp_path.joinpath("customers.csv").write_text(CUSTOMERS)
    problem = only_problem(load_error(tmp_path))
    assert problem.table == "invoices" and "invoices.csv or invoices.parquet" in str(problem)


def test_many_problems_are_capped_and_counted(tmp_path: Path) -> None:
    rows = "".join(f"I{i},C1,2026-01-01,2026-01-31,bad,EUR\n" for i in range(50))
    folder = write_source(tmp_path, invoices="invoice_id,customer_id,issue_date,due_date,amount,currency\n" + rows)
    error = load_error(folder)
    assert len(error.problems) == 20 and error.more == 30
    assert "30 more problem(s)" in str(error)


def test_parquet_with_typed_columns_and_header_noise(tmp_path: Path) -> None:
    pl.DataFrame({"\ufeffcustomer_id ": ["C1"], "name": ["Alpha"], "strategic": ["oui"]}).write_parquet(
        tmp_path / "customers.parquet"
    )
    frame = pl.DataFrame(
        {
            "invoice_id": [1],  # integer ids become text
            "customer_id": ["C1"],
            "due_date": ["2026-01-31"],
            "amount": [100],  # integer amounts become Float64
            "currency": ["EUR"],
            "po_number": ["x"],  # columns outside the schema are dropped
        }
    ).with_columns(issue_date=pl.lit("2026-01-01").str.to_datetime())  # datetimes become dates
    frame.write_parquet(tmp_path / "invoices.parquet")
    portfolio = load_portfolio(tmp_path)
    invoices = portfolio.invoices.collect()
    assert invoices.row(0, named=True)["invoice_id"] == "1"
    assert str(invoices.row(0, named=True)["issue_date"]) == "2026-01-01"
    assert "po_number" not in invoices.columns
    assert portfolio.customers.collect().get_column("strategic").to_list() == [True]


def test_from_frames_rejects_unknown_table() -> None:
    with pytest.raises(InputError, match="unknown table 'invoice'"):
        Portfolio.from_frames({"customers": {"customer_id": ["C1"], "name": ["A"]}, "invoice": {}})
