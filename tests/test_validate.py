"""Validation at load: every error names the file, table, row and column (exit code 2)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest

from workbench.errors import InputError
from workbench.load import load_portfolio
from workbench.portfolio import Portfolio
from workbench.validate import MAX_AMOUNT

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
    assert portfolio.payments.collect().columns[:5] == [
        "payment_id",
        "customer_id",
        "payment_date",
        "amount",
        "invoice_id",
    ]


def test_missing_required_column_names_file_table_and_column(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path,
        invoices="invoice_id,customer_id,issue_date,amount,currency\nI1,C1,2026-01-01,5,EUR\n",
    )
    problem = only_problem(load_error(folder))
    assert problem.table == "invoices" and problem.column == "due_date"
    assert problem.file.endswith("invoices.csv")
    assert "required column 'due_date' is missing" in str(problem)


def test_unparseable_date_names_row_line_and_column(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path,
        invoices=INVOICES.replace("2026-01-05,2026-02-04", "2026-01-05,2026-02-31"),
    )
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("invoices", 2, "due_date")
    text = str(problem)
    assert "invoices.csv" in text and "row 2 (line 3)" in text and "column due_date" in text
    assert "'2026-02-31'" in text and "YYYY-MM-DD" in text


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
    folder = write_source(
        tmp_path, invoices=INVOICES.replace("2026-01-01,2026-01-31", "2026-01-01,2025-12-31")
    )
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
    folder = write_source(
        tmp_path, invoices="invoice_id,customer_id,issue_date,due_date,amount,currency\n" + rows
    )
    error = load_error(folder)
    assert len(error.problems) == 20 and error.more == 30
    assert "30 more problem(s)" in str(error)


def test_parquet_with_typed_columns_and_header_noise(tmp_path: Path) -> None:
    pl.DataFrame(
        {"\ufeffcustomer_id ": ["C1"], "name": ["Alpha"], "strategic": ["oui"]}
    ).write_parquet(tmp_path / "customers.parquet")
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


# --- values and types (issue 10, area C) ----------------------------------------------------------

INVOICE_FRAME = pl.DataFrame(
    {
        "invoice_id": ["I1", "I2"],
        "customer_id": ["C1", "C2"],
        "issue_date": [date(2026, 1, 1), date(2026, 1, 5)],
        "due_date": [date(2026, 1, 31), date(2026, 2, 4)],
        "amount": [100.0, 250.5],
        "currency": ["EUR", "EUR"],
    }
)


def parquet_source(folder: Path, table: str = "invoices", **columns: pl.Series) -> Path:
    """The default CSV source with ``table`` replaced by a Parquet file: the table's base frame
    (invoices: INVOICE_FRAME; customers: CUSTOMERS) with ``columns`` replaced or added."""
    write_source(folder)
    base = INVOICE_FRAME if table == "invoices" else pl.read_csv(folder / f"{table}.csv")
    (folder / f"{table}.csv").unlink()
    base.with_columns(*(s.alias(name) for name, s in columns.items())).write_parquet(
        folder / f"{table}.parquet"
    )
    return folder


@pytest.mark.parametrize(
    ("table", "column", "series", "message"),
    [
        ("invoices", "amount", pl.Series([True, False]), "column type Boolean cannot be read as an amount"),
        ("invoices", "amount", pl.Series([[1.0], [2.0]]), "column type List(Float64) cannot be read as an amount"),
        ("invoices", "invoice_id", pl.Series([{"a": "I1"}, {"a": "I2"}]), "column type Struct({'a': String}) cannot be read as text"),
        ("invoices", "currency", pl.Series([b"EUR", b"EUR"]), "column type Binary cannot be read as text"),
        ("invoices", "currency", pl.Series([True, True]), "column type Boolean cannot be read as text"),
        ("invoices", "issue_date", pl.Series([20454, 20458], dtype=pl.Int32), "column type Int32 cannot be read as a date"),
        ("invoices", "issue_date", pl.Series([time(0), time(0)]), "column type Time cannot be read as a date"),
        ("invoices", "issue_date", pl.Series([timedelta(1), timedelta(2)]), "column type Duration(time_unit='us') cannot be read as a date"),
        ("customers", "strategic", pl.Series([1.0, 0.0]), "column type Float64 cannot be read as true or false"),
        ("customers", "payment_terms_days", pl.Series([True, False]), "column type Boolean cannot be read as a whole number"),
        ("customers", "credit_limit", pl.Series(["a", "b"], dtype=pl.Categorical), "column type Categorical cannot be read as an amount"),
    ],
)  # fmt: skip
def test_typed_column_of_the_wrong_type_is_refused_not_cast(
    tmp_path: Path, table: str, column: str, series: pl.Series, message: str
) -> None:
    problem = only_problem(load_error(parquet_source(tmp_path, table, **{column: series})))
    assert (problem.table, problem.row, problem.column) == (table, None, column)
    assert problem.file.endswith(f"{table}.parquet")
    assert problem.message == message


def test_typed_columns_that_fit_are_read_exactly(tmp_path: Path) -> None:
    paris = pl.Series([datetime(2026, 1, 1), datetime(2026, 1, 5)]).dt.replace_time_zone(
        "Europe/Paris"
    )
    folder = parquet_source(
        tmp_path,
        invoice_id=pl.Series([7, 8], dtype=pl.UInt64),  # ids stored as integers: "7", not "7.0"
        customer_id=pl.Series(["C1", "C2"], dtype=pl.Categorical),
        currency=pl.Series(["EUR", "EUR"], dtype=pl.Enum(["EUR", "USD"])),
        amount=pl.Series([0.1, 1234.56], dtype=pl.Float32),  # float32 0.1 is 0.100000001490116
        issue_date=paris,  # midnight in Paris is 23:00 UTC the day before: the Paris date counts
        due_date=pl.Series([datetime(2026, 1, 31, 18, 45), datetime(2026, 2, 4, 8)]),
    )
    invoices = load_portfolio(folder).invoices.collect()
    assert invoices.get_column("invoice_id").to_list() == ["7", "8"]
    assert invoices.get_column("customer_id").to_list() == ["C1", "C2"]
    assert invoices.get_column("currency").to_list() == ["EUR", "EUR"]
    assert invoices.get_column("amount").to_list() == [0.1, 1234.56]
    assert invoices.get_column("issue_date").to_list() == [date(2026, 1, 1), date(2026, 1, 5)]
    assert invoices.get_column("due_date").to_list() == [date(2026, 1, 31), date(2026, 2, 4)]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pl.Series(["100.25", "250.50"]).cast(pl.Decimal(12, 2)), [100.25, 250.5]),
        (pl.Series([100, 250], dtype=pl.Int32), [100.0, 250.0]),
        (pl.Series([100, 250], dtype=pl.UInt64), [100.0, 250.0]),
        (pl.Series([100, 25], dtype=pl.Int8), [100.0, 25.0]),
    ],
)
def test_numeric_amount_types_are_accepted(
    tmp_path: Path, series: pl.Series, expected: list[float]
) -> None:
    invoices = load_portfolio(parquet_source(tmp_path, amount=series)).invoices.collect()
    assert invoices.get_column("amount").to_list() == expected


def test_whole_float_ids_become_integer_text_and_fractions_are_refused(tmp_path: Path) -> None:
    folder = parquet_source(tmp_path, "customers", name=pl.Series([12.0, 3.5]))
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (2, "name")
    assert "cannot read 3.5 as text" in problem.message
    folder = parquet_source(tmp_path / "whole", "customers", name=pl.Series([12.0, 30000000001.0]))
    names = load_portfolio(folder).customers.collect().get_column("name").to_list()
    assert names == ["12", "30000000001"]


def test_null_typed_column_is_read_as_missing(tmp_path: Path) -> None:
    folder = parquet_source(tmp_path, "customers", country=pl.Series([None, None]))
    customers = load_portfolio(folder).customers.collect()
    assert customers.schema["country"] == pl.String
    assert customers.get_column("country").to_list() == [None, None]


@pytest.mark.parametrize("blank", ['""', '"   "', "\u00a0", '" \t "'])
def test_blank_text_counts_as_missing(tmp_path: Path, blank: str) -> None:
    folder = write_source(tmp_path, customers=f"customer_id,name\nC1,Alpha\nC2,{blank}\n")
    problem = only_problem(load_error(folder))
    assert (problem.table, problem.row, problem.column) == ("customers", 2, "name")
    assert problem.message == "required value is missing"


def test_blank_text_in_a_typed_string_parquet_column_counts_as_missing(tmp_path: Path) -> None:
    folder = parquet_source(tmp_path, currency=pl.Series(["EUR", "  "]))
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column, problem.message) == (
        2,
        "currency",
        "required value is missing",
    )


def test_text_is_stripped_so_ids_match(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path, invoices=INVOICES.replace("I2,C2,", "' I2 ', C2 ,").replace("'", '"')
    )
    invoices = load_portfolio(folder).invoices.collect()
    assert invoices.get_column("invoice_id").to_list() == ["I1", "I2"]
    assert invoices.get_column("customer_id").to_list() == ["C1", "C2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "not a number (NaN)"),
        ("nan", "not a number (NaN)"),
        ("inf", "infinite"),
        ("-inf", "infinite"),
        ("1e308", "too large: amounts above 100,000,000,000 cannot be summed exactly to the cent"),
        ("1e17", "too large: amounts above 100,000,000,000 cannot be summed exactly to the cent"),
        ("100000000000.01", "too large: amounts above 100,000,000,000"),
    ],
)
def test_amounts_that_are_not_finite_or_too_large_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    folder = write_source(tmp_path, invoices=INVOICES.replace("250.50", text))
    error = load_error(folder)
    problem = only_problem(error)
    assert (problem.table, problem.row, problem.column) == ("invoices", 2, "amount")
    assert problem.message.startswith(message)
    assert "missing" not in str(error)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e17, 1e308])
def test_parquet_float_amounts_not_finite_or_too_large_are_refused(
    tmp_path: Path, value: float
) -> None:
    error = load_error(parquet_source(tmp_path, amount=pl.Series([100.0, value])))
    problem = only_problem(error)
    assert (problem.row, problem.column) == (2, "amount")
    assert "missing" not in str(error)


def test_the_amount_limit_itself_is_accepted_and_exact_to_the_cent(tmp_path: Path) -> None:
    # 99,999,999,999.99 and 100,000,000,000 are accepted; in cents they are exact integers
    # (9,999,999,999,999 and 10,000,000,000,000 are below 2^53 = 9,007,199,254,740,992).
    folder = write_source(
        tmp_path, invoices=INVOICES.replace("100.00", "99999999999.99").replace("250.50", "1e11")
    )
    amounts = load_portfolio(folder).invoices.collect().get_column("amount").to_list()
    assert [round(a * 100) for a in amounts] == [9_999_999_999_999, 10_000_000_000_000]
    assert MAX_AMOUNT == 100_000_000_000


def test_nan_and_inf_refused_in_other_number_columns(tmp_path: Path) -> None:
    customers = "customer_id,name,credit_limit,payment_terms_days\nC1,A,NaN,30\nC2,B,100,inf\n"
    fx = "currency,date,rate_to_base\nUSD,2026-01-01,nan\nJPY,2026-01-01,1e12\n"
    error = load_error(write_source(tmp_path, customers=customers, fx_rates=fx))
    found = {(p.table, p.row, p.column, p.message) for p in error.problems}
    assert found == {
        ("customers", 1, "credit_limit", "not a number (NaN)"),
        ("customers", 2, "payment_terms_days", "infinite"),
        ("fx_rates", 1, "rate_to_base", "not a number (NaN)"),
    }  # a rate of 1e12 is not an amount: no amount limit


def test_parquet_nan_in_whole_number_column(tmp_path: Path) -> None:
    folder = parquet_source(
        tmp_path, "customers", payment_terms_days=pl.Series([30.0, float("nan")])
    )
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column, problem.message) == (
        2,
        "payment_terms_days",
        "not a number (NaN)",
    )


def test_huge_unsigned_amount_is_refused_not_crashed(tmp_path: Path) -> None:
    folder = parquet_source(tmp_path, amount=pl.Series([100, 2**64 - 1], dtype=pl.UInt64))
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (2, "amount") and "too large" in problem.message


@pytest.mark.parametrize(
    ("due", "refused"),
    [
        ("1899-12-31", True),
        ("1900-01-01", False),
        ("2200-12-31", False),
        ("2201-01-01", True),
        ("9999-12-31", True),
    ],
)
def test_dates_outside_1900_2200_are_refused(tmp_path: Path, due: str, refused: bool) -> None:
    # The issue date is moved to 1900-01-01 so that due >= issue holds for every case.
    invoices = INVOICES.replace("2026-01-05,2026-02-04", f"1900-01-01,{due}")
    folder = write_source(tmp_path, invoices=invoices)
    if not refused:
        dates = load_portfolio(folder).invoices.collect().get_column("due_date").to_list()
        assert str(dates[1]) == due
        return
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (2, "due_date")
    assert problem.message == f"date {due} is outside the accepted range 1900-01-01 to 2200-12-31"


def test_ancient_datetime_in_parquet_is_refused(tmp_path: Path) -> None:
    folder = parquet_source(
        tmp_path, issue_date=pl.Series([datetime(2026, 1, 1), datetime(1, 1, 1)])
    )
    problem = only_problem(load_error(folder))
    assert (problem.row, problem.column) == (2, "issue_date") and "0001-01-01" in problem.message


@pytest.mark.parametrize("twin", [" amount", "Amount", "AMOUNT ", "\ufeffamount"])
def test_columns_equal_after_header_cleaning_are_refused(twin: str) -> None:
    # Validation itself, whatever the reader (the folder reader refuses these too).
    invoices = INVOICE_FRAME.with_columns(pl.Series(twin, [1.0, 2.0]))
    customers = pl.DataFrame({"customer_id": ["C1", "C2"], "name": ["A", "B"]})
    with pytest.raises(InputError) as info:
        Portfolio.from_frames(
            {"customers": customers, "invoices": invoices}, sources={"invoices": "book.xlsx"}
        )
    problem = only_problem(info.value)
    assert (problem.file, problem.table, problem.column) == ("book.xlsx", "invoices", "amount")
    assert f"columns 'amount' and {twin!r} are the same column" in problem.message


def test_headers_are_matched_ignoring_case_and_spaces(tmp_path: Path) -> None:
    folder = write_source(
        tmp_path, invoices=INVOICES.replace("invoice_id,customer_id", " Invoice_ID ,CUSTOMER_ID")
    )
    invoices = load_portfolio(folder).invoices.collect()
    assert invoices.get_column("invoice_id").to_list() == ["I1", "I2"]


# --- issue 10 review: currency codes, control characters, invoices of another customer ---------


def test_currency_codes_are_trimmed_and_upper_cased_in_every_table(tmp_path: Path) -> None:
    invoices = INVOICES.replace("100.00,EUR", "100.00, eur ").replace("250.50,EUR", "250.50,Eur")
    payments = "payment_id,customer_id,payment_date,amount,invoice_id,currency\nP1,C1,2026-02-01,50,I1,eur\n"
    rates = "currency,date,rate_to_base\nusd,2026-01-01,0.9\n"
    portfolio = load_portfolio(
        write_source(tmp_path, invoices=invoices, payments=payments, fx_rates=rates)
    )
    assert portfolio.invoices.collect()["currency"].to_list() == ["EUR", "EUR"]
    assert portfolio.payments.collect()["currency"].to_list() == ["EUR"]
    assert portfolio.fx_rates.collect()["currency"].to_list() == ["USD"]


def test_control_characters_are_removed_with_a_warning(tmp_path: Path) -> None:
    customers = "customer_id,name\nC1,Al\x00pha\x1b SA\nC2,Beta\x07\n"
    with pytest.warns(Warning) as caught:
        portfolio = load_portfolio(write_source(tmp_path, customers=customers))
    assert portfolio.customers.collect()["name"].to_list() == ["Alpha SA", "Beta"]
    text = " ".join(str(w.message) for w in caught)
    assert "2 cell(s)" in text and "row 1" in text and "column name" in text


def test_payment_naming_an_invoice_of_another_customer_is_refused(tmp_path: Path) -> None:
    payments = "payment_id,customer_id,payment_date,amount,invoice_id\nP1,C1,2026-02-01,50,I1\nP2,C1,2026-02-01,50,I2\n"
    problem = only_problem(load_error(write_source(tmp_path, payments=payments)))
    assert (problem.table, problem.row, problem.column) == ("payments", 2, "customer_id")
    assert (
        "payment P2 names customer C1 but its invoice I2 belongs to customer C2" in problem.message
    )


def test_integer_flags_0_and_1_are_booleans_other_integers_are_refused(tmp_path: Path) -> None:
    """SQLite and many ERPs store flags as 0/1 integers: 1 is true, 0 false, 2 refused."""
    folder = parquet_source(tmp_path, "customers", strategic=pl.Series([1, 0], dtype=pl.Int8))
    portfolio = load_portfolio(folder)
    assert portfolio.customers.collect().get_column("strategic").to_list()[:2] == [True, False]
    bad = parquet_source(tmp_path / "bad", "customers", strategic=pl.Series([1, 2], dtype=pl.Int64))
    problem = only_problem(load_error(bad))
    assert (problem.column, problem.row) == ("strategic", 2)
    assert "2 is neither 0 nor 1" in problem.message


def test_composite_key_duplicates_are_named_by_their_values() -> None:
    """fx_rates is keyed by (currency, date): both rows of a duplicated pair are reported, the
    key shown as its values (not the whole row), and the fingerprint proof does not hide it."""
    from workbench.validate import validated_tables

    rates = {"currency": ["USD", "USD", "GBP"], "date": ["2026-01-05"] * 3,
             "rate_to_base": ["0.9", "0.91", "1.1"]}  # fmt: skip
    tables = {
        "customers": pl.DataFrame({"customer_id": ["C1"], "name": ["Alpha"]}),
        "invoices": pl.DataFrame(
            {
                "invoice_id": ["I1"],
                "customer_id": ["C1"],
                "issue_date": ["2026-01-02"],
                "due_date": ["2026-02-01"],
                "amount": ["10"],
                "currency": ["EUR"],
            }
        ),  # fmt: skip
        "fx_rates": pl.DataFrame(rates),
    }
    with pytest.raises(InputError) as caught:
        validated_tables(tables)
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(1, "currency, date"), (2, "currency, date")]
    assert (
        problems[0].message == "duplicate key (currency, date) USD, 2026-01-05: keys must be unique"
    )


def test_many_rows_with_one_orphan_and_one_duplicate() -> None:
    """At 200,000 payments the fingerprint joins still find the one orphan and the one
    duplicated key, at their rows."""
    from workbench.validate import validated_tables

    n = 200_000
    ids = [f"P{i}" for i in range(n)]
    ids[150_000] = "P7"  # duplicate of row 8
    invoices = [f"I{i % 1000}" for i in range(n)]
    invoices[99_999] = "I-unknown"
    tables = {
        "customers": pl.DataFrame({"customer_id": ["C1"], "name": ["Alpha"]}),
        "invoices": pl.DataFrame(
            {
                "invoice_id": [f"I{i}" for i in range(1000)],
                "customer_id": ["C1"] * 1000,
                "issue_date": ["2026-01-02"] * 1000,
                "due_date": ["2026-02-01"] * 1000,
                "amount": ["10"] * 1000,
                "currency": ["EUR"] * 1000,
            }
        ),  # fmt: skip
        "payments": pl.DataFrame(
            {
                "payment_id": ids,
                "customer_id": ["C1"] * n,
                "payment_date": ["2026-01-10"] * n,
                "amount": ["1"] * n,
                "invoice_id": invoices,
            }
        ),  # fmt: skip
    }
    with pytest.raises(InputError) as caught:
        validated_tables(tables)
    found = {(p.table, p.row, p.column) for p in caught.value.problems}
    assert found == {
        ("payments", 8, "payment_id"),
        ("payments", 150_001, "payment_id"),
        ("payments", 100_000, "invoice_id"),
    }
    tables["payments"] = tables["payments"].with_columns(
        payment_id=pl.Series([f"P{i}" for i in range(n)])
    )
    with pytest.raises(InputError) as caught:
        validated_tables(tables)
    assert [(p.table, p.row, p.column) for p in caught.value.problems] == [
        ("payments", 100_000, "invoice_id")
    ]


def test_references_failing_in_several_tables_are_each_reported_in_table_order(
    tmp_path: Path,
) -> None:
    """Tables checked against the same target share one anti join: each failing row is still
    reported with its own table, row and column, tables in their canonical order, and the rows
    that are fine (including a null invoice, unapplied cash) are not."""
    payments = (
        "payment_id,customer_id,payment_date,amount,invoice_id\n"
        "P1,C1,2026-02-01,100,I1\n"
        "P2,C9,2026-02-02,40,\n"  # unknown customer
        "P3,C2,2026-02-03,10,I404\n"  # unknown invoice
    )
    disputes = "dispute_id,invoice_id,opened_date\nD1,IX,2026-01-10\nD2,I2,2026-01-11\n"
    promises = (
        "promise_id,customer_id,promise_date,promised_date,amount,invoice_id\n"
        "R1,C2,2026-02-01,2026-02-10,10,I2\n"
        "R2,C2,2026-02-01,2026-02-10,10,I405\n"
    )
    contacts = (
        "contact_id,customer_id,contact_date,channel,step,outcome,invoice_id\n"
        "K1,C8,2026-02-01,email,light_reminder,sent,\n"
        "K2,C1,2026-02-01,email,light_reminder,sent,I406\n"
    )
    credit_notes = "credit_note_id,invoice_id,date,amount\nN1,I1,2026-02-01,5\nN2,I407,2026-02-01,5\n"
    error = load_error(
        write_source(
            tmp_path,
            payments=payments,
            disputes=disputes,
            promises=promises,
            contacts=contacts,
            credit_notes=credit_notes,
        )
    )
    found = [(p.table, p.row, p.column, p.message) for p in error.problems]
    assert found == [
        ("payments", 2, "customer_id", "customer_id 'C9' does not exist in table customers"),
        ("payments", 3, "invoice_id", "invoice_id 'I404' does not exist in table invoices"),
        ("disputes", 1, "invoice_id", "invoice_id 'IX' does not exist in table invoices"),
        ("promises", 2, "invoice_id", "invoice_id 'I405' does not exist in table invoices"),
        ("contacts", 1, "customer_id", "customer_id 'C8' does not exist in table customers"),
        ("contacts", 2, "invoice_id", "invoice_id 'I406' does not exist in table invoices"),
        ("credit_notes", 2, "invoice_id", "invoice_id 'I407' does not exist in table invoices"),
    ]
