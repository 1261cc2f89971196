"""Data sources (--data SRC): one small generated portfolio written as a CSV folder, a Parquet
folder, an XLSX workbook, a DuckDB file, a SQLite file and a real PostgreSQL database (started
on 127.0.0.1 by the ``postgres_uri`` fixture) loads into the same validated tables and gives the
same KPIs and customer features; and the readers' own rules (names matched case-insensitively,
typed cells, mixed columns read as text, passwords masked, fast failure)."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from workbench.databases import database_path, masked
from workbench.errors import InputError
from workbench.features import customer_features
from workbench.files import sha256
from workbench.kpis import portfolio_kpis
from workbench.load import load_portfolio, raw_source
from workbench.policy import load_policy
from workbench.sources import match_names, source_kind

KINDS = ["parquet", "xlsx", "duckdb", "sqlite", "postgresql"]
SQLITE_TYPES = {pl.String: "TEXT", pl.Float64: "REAL", pl.Int64: "INTEGER", pl.Boolean: "BOOLEAN",
                pl.Date: "DATE"}  # fmt: skip


def write_csv_folder(tables: dict[str, pl.DataFrame], folder: Path) -> str:
    folder.mkdir()
    for name, frame in tables.items():
        frame.write_csv(folder / f"{name}.csv")
    return str(folder)


def write_parquet_folder(tables: dict[str, pl.DataFrame], folder: Path) -> str:
    folder.mkdir()
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
    return str(folder)


def write_workbook(tables: dict[str, pl.DataFrame], path: Path) -> str:
    """A sheet per table, the invoices sheet named " Invoices " (trimmed, case-insensitive)."""
    with xlsxwriter.Workbook(path) as book:
        for name, frame in tables.items():
            frame.write_excel(book, worksheet=" Invoices " if name == "invoices" else name)
    return str(path)


def write_duckdb(tables: dict[str, pl.DataFrame], path: Path) -> str:
    """Tables created from Parquet copies; invoices as "INVOICES" (matched case-insensitively)."""
    import duckdb

    with duckdb.connect(str(path)) as connection:
        for name, frame in tables.items():
            parquet = path.with_name(f"{name}.parquet")
            frame.write_parquet(parquet)
            real = "INVOICES" if name == "invoices" else name
            connection.execute(
                f"CREATE TABLE \"{real}\" AS SELECT * FROM read_parquet('{parquet}')"
            )
            parquet.unlink()
    return f"duckdb:///{path}"


def write_sqlite(tables: dict[str, pl.DataFrame], path: Path) -> str:
    """Declared column types, dates as ISO text (SQLite has no date type), booleans as 0/1."""
    with sqlite3.connect(path) as connection:
        for name, frame in tables.items():
            columns = ", ".join(
                f'"{c}" {SQLITE_TYPES[t.base_type()]}' for c, t in frame.schema.items()
            )
            connection.execute(f'CREATE TABLE "{name}" ({columns})')
            stored = frame.with_columns(pl.col(pl.Date).cast(pl.String))
            marks = ", ".join("?" for _ in frame.columns)
            connection.executemany(f'INSERT INTO "{name}" VALUES ({marks})', stored.rows())
    connection.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def written(source_tables, tmp_path_factory) -> dict[str, str]:
    """The source tables written in every file format: kind -> --data value."""
    tables, _ = source_tables
    root = tmp_path_factory.mktemp("sources")
    return {
        "csv": write_csv_folder(tables, root / "csv"),
        "parquet": write_parquet_folder(tables, root / "parquet"),
        "xlsx": write_workbook(tables, root / "data.xlsx"),
        "duckdb": write_duckdb(tables, root / "data.duckdb"),
        "sqlite": write_sqlite(tables, root / "data.db"),
    }


def _source(kind: str, written: dict[str, str], request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("postgres_uri") if kind == "postgresql" else written[kind]


@pytest.fixture(scope="module")
def reference(written, source_tables) -> dict:
    """The CSV folder's validated tables, KPIs (JSON text) and customer features."""
    _, as_of = source_tables
    portfolio = load_portfolio(written["csv"])
    policy = load_policy(None)
    return {
        "portfolio": portfolio,
        "kpis": json.dumps(portfolio_kpis(portfolio, as_of, policy), sort_keys=True),
        "features": customer_features(portfolio, as_of, policy).collect().sort("customer_id"),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_source_gives_the_same_tables_kpis_and_features(
    kind, written, reference, source_tables, request
) -> None:
    _, as_of = source_tables
    policy = load_policy(None)
    portfolio = load_portfolio(_source(kind, written, request))
    for name, frame in reference["portfolio"].frames.items():
        assert_frame_equal(portfolio.frames[name], frame, check_exact=True)
    kpis = json.dumps(portfolio_kpis(portfolio, as_of, policy), sort_keys=True)
    assert kpis == reference["kpis"]
    assert json.loads(kpis)["open_invoices"] > 0  # a portfolio with something to compare
    features = customer_features(portfolio, as_of, policy).collect().sort("customer_id")
    assert_frame_equal(features, reference["features"])


def test_the_source_tables_are_found_whatever_their_case(source_tables, written) -> None:
    """The invoices sheet is " Invoices ", the DuckDB table "INVOICES": both are found, and each
    origin names the source's own spelling."""
    tables, _ = source_tables
    book = raw_source(written["xlsx"])
    assert book.origins["invoices"] == f"{written['xlsx']}, sheet Invoices"
    assert book.frames["invoices"].height == tables["invoices"].height
    duck = raw_source(written["duckdb"])
    assert duck.origins["invoices"] == f"{written['duckdb']}, table INVOICES"


def test_inputs_name_each_table_with_its_rows_and_the_file_checksum(source_tables, written) -> None:
    tables, _ = source_tables
    for kind in ("xlsx", "duckdb", "sqlite"):
        raw = raw_source(written[kind])
        path = Path(written[kind]) if kind == "xlsx" else database_path(written[kind])
        by_table = {entry["table"]: entry for entry in raw.inputs}
        assert set(by_table) == set(tables)
        for name, entry in by_table.items():
            assert entry["source"] == written[kind]
            assert entry["rows"] == tables[name].height
            assert entry["sha256"] == sha256(path)


def test_postgresql_inputs_mask_the_password(postgres_uri, source_tables) -> None:
    tables, _ = source_tables
    raw = raw_source(postgres_uri)
    password = postgres_uri.split(":")[2].split("@")[0]
    assert {e["table"]: e["rows"] for e in raw.inputs} == {n: f.height for n, f in tables.items()}
    text = json.dumps(raw.inputs) + json.dumps(raw.origins)
    assert password not in text and "***" in text
    assert raw.origins["customers"].endswith(", table Customers")


def test_a_wrong_postgresql_password_is_refused_without_showing_it(postgres_uri) -> None:
    wrong = postgres_uri.replace(":s3cret-pw@", ":not-the-Pw@")
    with pytest.raises(InputError) as caught:
        raw_source(wrong)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "not-the-Pw" not in message and "s3cret-pw" not in message
    assert "workbench:***@127.0.0.1" in message


def test_an_unreachable_postgresql_server_fails_fast() -> None:
    from postgres import free_port

    started = time.monotonic()
    with pytest.raises(InputError, match="cannot connect to the PostgreSQL database"):
        raw_source(f"postgresql://u:pw@127.0.0.1:{free_port()}/db")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://erp:hunter2@db:5432/ar", "postgresql://erp:***@db:5432/ar"),
        ("postgresql://erp:p%40ss@db/ar?sslmode=allow", "postgresql://erp:***@db/ar?sslmode=allow"),
        ("postgresql://erp@db/ar?password=hunter2&x=1", "postgresql://erp@db/ar?password=***&x=1"),
        ("postgresql://erp@db/ledger", "postgresql://erp@db/ledger"),
        ("postgres://erp:a:b@c@db:99999/ledger", "postgres://erp:***@db:99999/ledger"),
    ],
)  # fmt: skip
def test_masked_hides_every_form_of_password(uri: str, shown: str) -> None:
    assert masked(uri) == shown


def test_table_names_are_matched_never_spliced_into_sql() -> None:
    """A wanted name is only ever compared with the source's own names; a name carrying SQL
    matches nothing, and two source names for one table are refused."""
    found = ["Invoices", "customers", 'odd "name"']
    assert match_names(
        found, ["invoices", " CUSTOMERS ", 'odd "NAME"'], file="x", kind="table"
    ) == {
        "invoices": "Invoices",
        " CUSTOMERS ": "customers",
        'odd "NAME"': 'odd "name"',
    }
    assert match_names(found, ['invoices"; DROP TABLE customers; --'], file="x", kind="table") == {}
    with pytest.raises(InputError, match="both match table invoices"):
        match_names(["Invoices", "invoices "], ["invoices"], file="x", kind="sheet")


def test_sqlite_uri_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three slashes: relative to the current folder (as in SQLAlchemy); four: absolute; three
    with an absolute path that does not exist relatively: absolute."""
    (tmp_path / "erp.db").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert database_path("sqlite:///erp.db") == Path("erp.db")
    assert database_path(f"sqlite:///{tmp_path}/erp.db") == tmp_path / "erp.db"
    assert database_path(f"sqlite://{tmp_path}/erp.db") == tmp_path / "erp.db"
    with pytest.raises(InputError, match="database file not found"):
        database_path("sqlite:///missing.db")
    with pytest.raises(InputError, match="is a folder"):
        database_path(f"sqlite:///{tmp_path}")
    assert source_kind("POSTGRES://x") == "postgresql"


def test_sqlite_columns_take_the_one_type_their_values_allow(tmp_path: Path) -> None:
    """Numbers stay numbers, text among numbers makes the column text (validation judges each
    cell), a BOOLEAN column of 0/1 is Boolean, integers with reals are reals."""
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (a, b, flag BOOLEAN, c REAL, empty INTEGER, d)")
        connection.executemany(
            "INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?)",
            [(1, 1.5, 1, 2, None, "x"), ("two", 2, 0, 2.5, None, None)],
        )
    connection.close()
    frame = raw_source_frames(f"sqlite:///{path}")["invoices"]
    assert frame.schema == pl.Schema(
        {"a": pl.String, "b": pl.Float64, "flag": pl.Boolean, "c": pl.Float64, "empty": pl.Int64,
         "d": pl.String}
    )  # fmt: skip
    assert frame.to_dict(as_series=False) == {
        "a": ["1", "two"], "b": [1.5, 2.0], "flag": [True, False], "c": [2.0, 2.5],
        "empty": [None, None], "d": ["x", None],
    }  # fmt: skip


def raw_source_frames(source: str) -> dict[str, pl.DataFrame]:
    """The raw frames read from ``source`` (before dialect and validation)."""
    return raw_source_frames_of(source, ["invoices"])


def test_workbook_cells_keep_their_types_and_mixed_columns_become_text(tmp_path: Path) -> None:
    """Whole numbers -> Int64 (Excel has no integers), dates at midnight -> Date, a date with a
    time stays a Datetime, numbers among text -> text, TRUE among numbers -> text, a date cell in
    a text column -> its ISO date; trailing empty rows and empty unnamed columns dropped."""
    path = tmp_path / "book.xlsx"
    day = datetime(2026, 8, 1)
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("INVOICES")
        dated = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, ["id", "whole", "amount", "due", "stamp", "mixed", "flagged"])
        sheet.write_row(1, 0, [1001, 3, 12.5])
        sheet.write_datetime(1, 3, day, dated)
        sheet.write_datetime(1, 4, datetime(2026, 8, 1, 13, 30), dated)
        sheet.write_datetime(1, 5, day, dated)
        sheet.write_number(1, 6, 7)
        sheet.write_row(2, 0, [1002, 4, 13])
        sheet.write_datetime(2, 3, datetime(2026, 8, 2), dated)
        sheet.write_string(2, 5, "soon")
        sheet.write_boolean(2, 6, True)
        sheet.write_blank(5, 2, None, dated)  # a formatted empty cell below the data
    frame = raw_source_frames(str(path))["invoices"]
    assert frame.schema == pl.Schema(
        {"id": pl.Int64, "whole": pl.Int64, "amount": pl.Float64, "due": pl.Date,
         "stamp": pl.Datetime("ms"), "mixed": pl.String, "flagged": pl.String}
    )  # fmt: skip
    assert frame.to_dict(as_series=False) == {
        "id": [1001, 1002], "whole": [3, 4], "amount": [12.5, 13.0],
        "due": [date(2026, 8, 1), date(2026, 8, 2)], "stamp": [datetime(2026, 8, 1, 13, 30), None],
        "mixed": ["2026-08-01", "soon"], "flagged": ["7", "true"],
    }  # fmt: skip


def test_the_command_line_reads_databases_with_nothing_on_stderr(
    written, source_tables, reference
) -> None:
    """``workbench kpis --json`` on the DuckDB and SQLite files prints the CSV folder's KPIs and
    nothing on stderr (DuckDB 2.0 printed reference-leak reports at every exit: pinned below 2);
    a missing database exits 2 with one located line."""
    import subprocess
    import sys

    workbench = Path(sys.executable).with_name("workbench")
    _, as_of = source_tables

    def run(data: str) -> subprocess.CompletedProcess:
        args = [str(workbench), "kpis", "--data", data, "--as-of", as_of.isoformat(), "--json"]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    for kind in ("duckdb", "sqlite"):
        done = run(written[kind])
        assert (done.returncode, done.stderr) == (0, ""), kind
        assert json.loads(done.stdout) == json.loads(reference["kpis"]), kind
    missing = run(written["duckdb"].replace("data.duckdb", "nothing.duckdb"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: file duckdb:///") and "not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_postgresql_erp_types_and_the_search_path_schema(postgres_uri) -> None:
    """Tables of another schema, chosen by the URI's search_path, typed as an ERP types them
    (varchar ids, numeric(14,2) amounts, date columns, a NULL-only text column): loaded, and the
    total receivable is 1200.50 + 800.25 = 2000.75 as of 2026-06-30 (nothing paid)."""
    import psycopg

    with psycopg.connect(postgres_uri, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS erp")
        connection.execute(
            "CREATE TABLE erp.customers (customer_id varchar(10), name varchar(80), email text)"
        )
        connection.execute("INSERT INTO erp.customers VALUES ('K1', 'Alpha', NULL)")
        connection.execute(
            "CREATE TABLE erp.invoices (invoice_id varchar(10), customer_id varchar(10), "
            "issue_date date, due_date date, amount numeric(14, 2), currency char(3))"
        )
        connection.execute(
            "INSERT INTO erp.invoices VALUES ('F1', 'K1', '2026-04-01', '2026-05-01', 1200.50, "
            "'EUR'), ('F2', 'K1', '2026-06-01', '2026-07-01', 800.25, 'EUR')"
        )
    uri = postgres_uri + "?options=-csearch_path%3Derp"
    raw = raw_source(uri)
    assert set(raw.frames) == {"customers", "invoices"}
    assert raw.frames["customers"].schema["email"] == pl.String
    portfolio = load_portfolio(uri)
    kpis = portfolio_kpis(portfolio, date(2026, 6, 30), load_policy(None))
    assert kpis["total_ar"] == pytest.approx(2000.75, abs=0.001)
    assert kpis["open_invoices"] == 2


def test_a_sheet_with_only_its_header_gives_empty_text_columns(tmp_path: Path) -> None:
    """No cell to type a column by: text, as a CSV file with only its header gives it; a table
    placed lower and further right than A1 is read from its first row."""
    path = tmp_path / "book.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("invoices").write_row(0, 0, ["invoice_id", "amount"])
        book.add_worksheet("payments").write_row(3, 2, ["payment_id", "amount"])
        book.get_worksheet_by_name("payments").write_row(4, 2, ["P1", 5])
    frames = raw_source_frames_of(str(path), ["invoices", "payments"])
    assert frames["invoices"].schema == pl.Schema({"invoice_id": pl.String, "amount": pl.String})
    assert frames["invoices"].height == 0
    assert frames["payments"].to_dict(as_series=False) == {"payment_id": ["P1"], "amount": [5]}


def raw_source_frames_of(source: str, tables: list[str]) -> dict[str, pl.DataFrame]:
    """The raw ``tables`` read from ``source`` (before dialect and validation)."""
    from workbench.sources import SourceOptions, read_source

    return read_source(source, tables, SourceOptions()).frames


ODOO = Path(__file__).parents[1] / "examples" / "mappings" / "odoo"


@pytest.mark.parametrize("kind", ["xlsx", "duckdb", "sqlite"])
def test_a_mapping_reads_a_workbook_or_database_as_it_reads_the_csv_export(
    kind: str, tmp_path: Path
) -> None:
    """The Odoo example export (examples/mappings/odoo), typed as a workbook or a database holds
    it (dates, numbers), gives through its mapping file the same KPIs as the CSV files."""
    from workbench.sources import SourceOptions

    tables = {path.stem: pl.read_csv(path, try_parse_dates=True) for path in ODOO.glob("*.csv")}
    assert tables["account_move_line"].schema["debit"] == pl.Float64  # typed, unlike the CSV
    writer = {"xlsx": write_workbook, "duckdb": write_duckdb, "sqlite": write_sqlite}[kind]
    source = writer(tables, tmp_path / f"odoo.{kind}")
    options = SourceOptions(mapping=ODOO / "mapping.toml")
    as_of, policy = date(2026, 11, 20), load_policy(None)
    expected = portfolio_kpis(load_portfolio(ODOO, options), as_of, policy)
    assert portfolio_kpis(load_portfolio(source, options), as_of, policy) == expected
    assert expected["open_invoices"] > 0
