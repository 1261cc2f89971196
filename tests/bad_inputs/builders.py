"""Builders of bad-input cases that are not plain UTF-8 text (Parquet, XLSX, databases, other
encodings). Each takes the case's temporary folder (``{tmp}``; the data is in ``{tmp}/data``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def data(tmp: Path) -> Path:
    """The case's data folder."""
    return tmp / "data"


def as_parquet(tmp: Path, table: str, frame: pl.DataFrame) -> None:
    """Replace ``<table>.csv`` of the case's data by ``<table>.parquet`` holding ``frame``."""
    (data(tmp) / f"{table}.csv").unlink(missing_ok=True)
    frame.write_parquet(data(tmp) / f"{table}.parquet")


def base_invoices(tmp: Path) -> pl.DataFrame:
    """The base invoices, typed (dates as dates, amounts as numbers)."""
    return pl.read_csv(data(tmp) / "invoices.csv", try_parse_dates=True)


def parquet_boolean_amount(tmp: Path) -> None:
    """invoices.parquet whose amount column is Boolean (was silently read as 1.0)."""
    invoices = base_invoices(tmp).with_columns(pl.lit(True).alias("amount"))
    as_parquet(tmp, "invoices", invoices)


# --- C. Values and types (val_) ------------------------------------------------------------------

from datetime import date, time  # noqa: E402  (kept with this area's builders)


def _val_base(tmp: Path, table: str) -> pl.DataFrame:
    """The base ``table``, typed (dates as dates, numbers as numbers)."""
    return pl.read_csv(data(tmp) / f"{table}.csv", try_parse_dates=True)


def _val_invoices(tmp: Path, **columns: pl.Expr) -> None:
    as_parquet(tmp, "invoices", base_invoices(tmp).with_columns(**columns))


def _val_customers(tmp: Path, **columns: pl.Expr) -> None:
    as_parquet(tmp, "customers", _val_base(tmp, "customers").with_columns(**columns))


def _on_row_2(value: object, column: str) -> pl.Expr:
    """``value`` on data row 2, the column's own value elsewhere."""
    return pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value)).otherwise(pl.col(column))


def parquet_list_amount(tmp: Path) -> None:
    """invoices.parquet whose amount is a list of numbers per cell."""
    _val_invoices(tmp, amount=pl.concat_list("amount"))


def parquet_struct_invoice_id(tmp: Path) -> None:
    """invoices.parquet whose invoice_id is a struct."""
    _val_invoices(tmp, invoice_id=pl.struct("invoice_id"))


def parquet_binary_currency(tmp: Path) -> None:
    """invoices.parquet whose currency is stored as bytes (was decoded silently)."""
    _val_invoices(tmp, currency=pl.col("currency").cast(pl.Binary))


def parquet_integer_dates(tmp: Path) -> None:
    """invoices.parquet whose issue_date holds integers (was read as days since 1970)."""
    _val_invoices(tmp, issue_date=pl.col("issue_date").cast(pl.Int32))


def parquet_time_due_date(tmp: Path) -> None:
    """invoices.parquet whose due_date is a time of day (crashed)."""
    _val_invoices(tmp, due_date=pl.lit(time(12, 0)))


def parquet_integer_strategic(tmp: Path) -> None:
    """customers.parquet whose strategic flag is 0/1 integers (read as true/false)."""
    _val_customers(tmp, strategic=pl.lit(1, dtype=pl.Int8))


def parquet_nan_terms(tmp: Path) -> None:
    """customers.parquet whose payment_terms_days is a float column with NaN on row 2 (crashed)."""
    _val_customers(tmp, payment_terms_days=_on_row_2(float("nan"), "payment_terms_days"))


def parquet_inf_amount(tmp: Path) -> None:
    """invoices.parquet with an infinite amount on row 2 (crashed)."""
    _val_invoices(tmp, amount=_on_row_2(float("inf"), "amount"))


def parquet_huge_uint64_amount(tmp: Path) -> None:
    """invoices.parquet with UInt64 amounts, 2^64 - 1 on row 2 (crashed)."""
    huge = pl.lit(2**64 - 1, dtype=pl.UInt64)
    amount = pl.col("amount").cast(pl.UInt64)
    _val_invoices(tmp, amount=pl.when(pl.int_range(pl.len()) == 1).then(huge).otherwise(amount))


def parquet_null_typed_invoice_id(tmp: Path) -> None:
    """payments.parquet whose invoice_id column has the Null type (all unapplied): accepted."""
    payments = _val_base(tmp, "payments").with_columns(invoice_id=pl.lit(None))
    as_parquet(tmp, "payments", payments)


def parquet_categorical_ids(tmp: Path) -> None:
    """invoices.parquet with Categorical ids and an Enum currency: accepted as text."""
    _val_invoices(
        tmp,
        invoice_id=pl.col("invoice_id").cast(pl.Categorical),
        customer_id=pl.col("customer_id").cast(pl.Categorical),
        currency=pl.col("currency").cast(pl.Enum(["EUR", "USD"])),
    )


def parquet_decimal_amount(tmp: Path) -> None:
    """invoices.parquet with Decimal(12, 2) amounts: accepted."""
    _val_invoices(tmp, amount=pl.col("amount").cast(pl.Decimal(12, 2)))


def parquet_int32_amount(tmp: Path) -> None:
    """invoices.parquet with Int32 amounts: accepted."""
    _val_invoices(tmp, amount=pl.col("amount").cast(pl.Int32))


def parquet_datetime_tz_dates(tmp: Path) -> None:
    """invoices.parquet with dates as midnight Europe/Paris datetimes: accepted, same dates."""
    _val_invoices(
        tmp,
        issue_date=pl.col("issue_date").cast(pl.Datetime("us")).dt.replace_time_zone("Europe/Paris"),
        due_date=pl.col("due_date").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
    )


def parquet_duplicate_header_case(tmp: Path) -> None:
    """invoices.parquet with both 'Amount' and 'amount' columns (first one won)."""
    _val_invoices(tmp, Amount=pl.col("amount") * 2)


def parquet_duplicate_header_space(tmp: Path) -> None:
    """invoices.parquet with both ' amount' and 'amount' columns (crashed)."""
    _val_invoices(tmp, **{" amount": pl.col("amount") * 2})


def parquet_ancient_date(tmp: Path) -> None:
    """invoices.parquet with an issue date of 0001-01-01 on row 2."""
    _val_invoices(tmp, issue_date=_on_row_2(date(1, 1, 1), "issue_date"))


# --- B. French CSV files and column mapping ------------------------------------------------------


def _customers_text(tmp: Path) -> str:
    return (data(tmp) / "customers.csv").read_text(encoding="utf-8")


def cp1252_customers(tmp: Path) -> None:
    """customers.csv as Excel saves it on Windows: accented names in Windows-1252."""
    text = _customers_text(tmp).replace("Beta SA", "Bêta Électricité SA")
    (data(tmp) / "customers.csv").write_bytes(text.encode("cp1252"))


def undecodable_customers(tmp: Path) -> None:
    """customers.csv holding byte 0x81 on line 3: neither UTF-8 nor Windows-1252."""
    text = _customers_text(tmp).encode("cp1252")
    lines = text.split(b"\n")
    lines[2] = lines[2].replace(b"Beta", b"B\x81ta")
    (data(tmp) / "customers.csv").write_bytes(b"\n".join(lines))


def garbage_invoices_parquet(tmp: Path) -> None:
    """invoices.parquet that is not Parquet (a CSV renamed)."""
    path = data(tmp) / "invoices.csv"
    path.rename(data(tmp) / "invoices.parquet")


# --- A. Databases and workbooks ------------------------------------------------------------------


def _base_tables(tmp: Path) -> dict[str, pl.DataFrame]:
    """The base tables, typed as a workbook or a database holds them (dates, numbers)."""
    return {
        path.stem: pl.read_csv(path, try_parse_dates=True) for path in sorted(data(tmp).glob("*.csv"))
    }


def _workbook(tmp: Path, tables: dict[str, pl.DataFrame]) -> None:
    """``{tmp}/data.xlsx`` with a sheet per table (polars' xlsxwriter writer)."""
    import xlsxwriter

    with xlsxwriter.Workbook(tmp / "data.xlsx") as book:
        for name, frame in tables.items():
            frame.write_excel(book, worksheet=name)


def xlsx_without_invoices(tmp: Path) -> None:
    """data.xlsx whose sheets are customers, payments and contacts: no invoices."""
    tables = _base_tables(tmp)
    tables.pop("invoices")
    _workbook(tmp, tables)


def xlsx_duplicate_header(tmp: Path) -> None:
    """data.xlsx whose invoices sheet has two columns headed amount (B: amount, G: Amount)."""
    tables = _base_tables(tmp)
    tables["invoices"] = tables["invoices"].with_columns(pl.lit(1.0).alias("Amount "))
    _workbook(tmp, tables)


def xlsx_bad_date(tmp: Path) -> None:
    """data.xlsx whose invoices sheet has the text "yesterday" among the issue dates (row 2)."""
    import xlsxwriter

    tables = _base_tables(tmp)
    invoices = tables.pop("invoices")
    with xlsxwriter.Workbook(tmp / "data.xlsx") as book:
        for name, frame in tables.items():
            frame.write_excel(book, worksheet=name)
        invoices.write_excel(book, worksheet="Invoices")
        book.get_worksheet_by_name("Invoices").write_string(2, 2, "yesterday")


def xlsx_boolean_amount(tmp: Path) -> None:
    """data.xlsx whose invoices amounts hold a TRUE cell on row 3 (was read as 1.0)."""
    import xlsxwriter

    tables = _base_tables(tmp)
    with xlsxwriter.Workbook(tmp / "data.xlsx") as book:
        for name, frame in tables.items():
            frame.write_excel(book, worksheet=name)
        book.get_worksheet_by_name("invoices").write_boolean(3, 4, True)


def xlsx_not_a_workbook(tmp: Path) -> None:
    """data.xlsx that is a CSV file renamed."""
    (tmp / "data.xlsx").write_bytes((data(tmp) / "invoices.csv").read_bytes())


def _sqlite(tmp: Path, tables: dict[str, pl.DataFrame]) -> None:
    """``{tmp}/data.db``: a SQLite database with the tables (dates as ISO text)."""
    import sqlite3

    with sqlite3.connect(tmp / "data.db") as connection:
        for name, frame in tables.items():
            frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            connection.execute(f'CREATE TABLE "{name}" ({columns})')
            marks = ", ".join("?" for _ in frame.columns)
            connection.executemany(f'INSERT INTO "{name}" VALUES ({marks})', frame.rows())
    connection.close()


def sqlite_without_invoices(tmp: Path) -> None:
    """data.db holding every base table but invoices."""
    tables = _base_tables(tmp)
    tables.pop("invoices")
    _sqlite(tmp, tables)


def sqlite_not_a_database(tmp: Path) -> None:
    """data.db that is a CSV file renamed."""
    (tmp / "data.db").write_bytes((data(tmp) / "invoices.csv").read_bytes())


def duckdb_not_a_database(tmp: Path) -> None:
    """data.duckdb that is a CSV file renamed."""
    (tmp / "data.duckdb").write_bytes((data(tmp) / "invoices.csv").read_bytes())


def sqlite_text_in_amounts(tmp: Path) -> None:
    """data.db whose invoices.amount holds the text 'twelve hundred' on row 2 among numbers."""
    import sqlite3

    _sqlite(tmp, _base_tables(tmp))
    with sqlite3.connect(tmp / "data.db") as connection:
        connection.execute("UPDATE invoices SET amount = 'twelve hundred' WHERE invoice_id = 'I2'")
    connection.close()


# --- D. Policy, command line and model files ---------------------------------------------------


def policy_not_utf8(tmp: Path) -> None:
    """policy.toml saved in Latin-1 ('é' is the byte 0xe9, on line 2)."""
    (tmp / "policy.toml").write_bytes("[sender]\ncompany = 'Société Exemple'\n".encode("latin-1"))


def _fitted_estimator(kind: str = "calibrated"):
    """A small fitted estimator taking as many columns as the model's features: a
    CalibratedTrees (the class a risk model file holds) over a logistic regression standing for
    the trees (fast to fit) or, for ``kind="plain"``, the bare logistic regression (the wrong
    class)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from workbench.riskfit import CalibratedTrees, fit_calibrator
    from workbench.snapshots import MODEL_FEATURES

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, len(MODEL_FEATURES)))
    y = (x[:, 0] > 0).astype(int)
    trees = LogisticRegression().fit(x, y)
    if kind == "plain":
        return trees
    calibrator = fit_calibrator(trees.decision_function(x), y, "sigmoid")
    return CalibratedTrees(list(MODEL_FEATURES), trees, calibrator, "sigmoid")


def model_metadata(as_of: str = "2026-11-13", **changes) -> dict:
    """Metadata of a risk model file trained as of ``as_of`` with the keys a model file must
    carry; ``changes`` replace keys (a value of None removes the key)."""
    from datetime import date, timedelta

    from workbench.model import MODEL_FORMAT, MODEL_FORMAT_VERSION
    from workbench.snapshots import MODEL_FEATURES

    metadata = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "as_of": as_of,
        "retrain_by": (date.fromisoformat(as_of) + timedelta(days=28)).isoformat(),
        "horizon_days": 30,
        "features": list(MODEL_FEATURES),
        "feature_dtypes": {name: "Float64" for name in MODEL_FEATURES},
    }
    metadata.update(changes)
    return {k: v for k, v in metadata.items() if v is not None}


def write_model_file(
    path: Path, metadata: dict | str, estimator=None, sidecar: dict | str | None = "same"
) -> Path:
    """A skops model file at ``path`` holding ``estimator`` (default: a small fitted
    CalibratedTrees) and ``metadata`` (a dict, or raw text), and its sidecar
    ``path.json`` (the same metadata, other text, or none)."""
    import json

    import skops.io as sio

    text = metadata if isinstance(metadata, str) else json.dumps(metadata, sort_keys=True)
    estimator = _fitted_estimator() if estimator is None else estimator
    path.write_bytes(sio.dumps({"estimator": estimator, "metadata": text}))
    if sidecar is not None:
        sidecar_text = text if sidecar == "same" else sidecar
        if isinstance(sidecar_text, dict):
            sidecar_text = json.dumps(sidecar_text, sort_keys=True)
        path.with_name(path.name + ".json").write_text(sidecar_text, encoding="utf-8")
    return path


def model_not_skops(tmp: Path) -> None:
    """model.skops that is a CSV file renamed."""
    (tmp / "model.skops").write_bytes((data(tmp) / "invoices.csv").read_bytes())


def model_metadata_not_json(tmp: Path) -> None:
    """model.skops whose embedded metadata is not JSON."""
    write_model_file(tmp / "model.skops", "{as_of: 2026-11-13", sidecar=None)


def model_metadata_missing_keys(tmp: Path) -> None:
    """model.skops whose metadata lacks as_of and features."""
    metadata = model_metadata(features=None)
    del metadata["as_of"]
    write_model_file(tmp / "model.skops", metadata)


def model_wrong_estimator(tmp: Path) -> None:
    """model.skops holding a bare LogisticRegression instead of a calibrated model."""
    write_model_file(tmp / "model.skops", model_metadata(), estimator=_fitted_estimator("plain"))


def model_trained_after_as_of(tmp: Path) -> None:
    """model.skops trained as of 2026-12-01 (used with --as-of 2026-11-20)."""
    write_model_file(tmp / "model.skops", model_metadata(as_of="2026-12-01"))


def model_sidecar_not_json(tmp: Path) -> None:
    """A valid model.skops whose sidecar model.skops.json is not JSON."""
    write_model_file(tmp / "model.skops", model_metadata(), sidecar="as_of = 2026-11-13\n")


def model_sidecar_mismatch(tmp: Path) -> None:
    """model.skops whose sidecar says another as-of date than the metadata inside the file."""
    write_model_file(
        tmp / "model.skops", model_metadata(), sidecar=model_metadata(as_of="2026-11-06")
    )


def model_older_format(tmp: Path) -> None:
    """model.skops written by an earlier workbench (model format version 1, whose estimator was
    a CalibratedClassifierCV over a held-out calibration slice)."""
    write_model_file(tmp / "model.skops", model_metadata(format_version=1))


def model_newer_format(tmp: Path) -> None:
    """model.skops written by a (future) workbench with model format version 99."""
    write_model_file(tmp / "model.skops", model_metadata(format_version=99))


# --- E. Outputs: re-runs, locks, kills, XLSX limits (out_) ---


def _hold_lock(lock: Path) -> None:
    """Lock ``lock`` as a running workbench process would (``flock``), for the next minute: the
    file object is closed by a timer, so the case's run finds the lock held."""
    import fcntl
    import os
    import threading

    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = lock.open("w")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    timer = threading.Timer(60, handle.close)
    timer.daemon = True
    timer.start()


def out_folder_locked(tmp: Path) -> None:
    """Another run is writing ``{tmp}/out`` (worklist --out, replay --out)."""
    _hold_lock(tmp / ".out.lock")


def week_folder_locked(tmp: Path) -> None:
    """Another weekly run is writing ``{tmp}/out/2026-W47`` (as of 2026-11-20)."""
    _hold_lock(tmp / "out" / ".2026-W47.lock")


def customer_name_over_xlsx_limit(tmp: Path) -> None:
    """Customer C2 (overdue, so in the worklist) named with 40,000 characters."""
    customers = pl.read_csv(data(tmp) / "customers.csv", infer_schema=False)
    long_name = "Beta " + "0123456789" * 3_999 + "SA!!!"
    customers = customers.with_columns(
        name=pl.when(pl.col("customer_id") == "C2").then(pl.lit(long_name)).otherwise("name")
    )
    customers.write_csv(data(tmp) / "customers.csv")


# --- lead: review fixes -------------------------------------------------------------------------


def xlsx_hidden_credit_notes(tmp: Path) -> None:
    """data.xlsx whose credit_notes sheet (800.00 on I2) is hidden in Excel."""
    import xlsxwriter

    tables = _base_tables(tmp)
    tables["credit_notes"] = pl.DataFrame(
        {"credit_note_id": ["N1"], "invoice_id": ["I2"], "date": [date(2026, 11, 5)],
         "amount": [800.0]}
    )  # fmt: skip
    with xlsxwriter.Workbook(tmp / "data.xlsx") as book:
        for name, frame in tables.items():
            frame.write_excel(book, worksheet=name)
        book.get_worksheet_by_name("credit_notes").hide()


# --- B2. CSV, dialect, mapping: review fixes -----------------------------------------------------


def mixed_encoding_customers(tmp: Path) -> None:
    """customers.csv in UTF-8 (an accented name on line 2) with line 4 pasted in Latin-1."""
    lines = _customers_text(tmp).split("\n")
    lines[1] = lines[1].replace("Alpha SARL", "Alpha Électricité SARL")
    head = "\n".join(lines[:3]).encode("utf-8") + b"\n"
    (data(tmp) / "customers.csv").write_bytes(
        head + lines[3].replace("Gamma", "Gamm\u00e9").encode("latin-1") + b"\n"
    )


def bom_then_latin1_customers(tmp: Path) -> None:
    """customers.csv with a UTF-8 byte-order mark and byte 0xC9 (Latin-1 É) on line 3."""
    lines = _customers_text(tmp).encode("utf-8").split(b"\n")
    lines[2] = lines[2].replace(b"Beta", b"\xc9ta")
    (data(tmp) / "customers.csv").write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))


def cp1252_mapping(tmp: Path) -> None:
    """mapping.toml saved in Windows-1252: "Débit" on line 4 is byte 0xE9."""
    (tmp / "mapping.toml").write_bytes(
        '[invoices]\nfrom = "invoices"\n# montants\ncolumns = { amount = "D\u00e9bit" }\n'.encode(
            "cp1252"
        )
    )


def customers_utf16_without_bom(tmp: Path) -> None:
    """customers.csv saved as UTF-16 little-endian without a byte-order mark, with an accent."""
    path = data(tmp) / "customers.csv"
    text = path.read_text(encoding="utf-8").replace("Gamma", "Gamma Électricité")
    path.write_bytes(text.encode("utf-16-le"))


def sqlite_copy_of_base(tmp: Path) -> None:
    """``{tmp}/data.db``: the base tables in SQLite (dates as ISO text)."""
    import sqlite3

    with sqlite3.connect(tmp / "data.db") as connection:
        for name, frame in _base_tables(tmp).items():
            frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            connection.execute(f'create table "{name}" ({columns})')
            marks = ", ".join("?" * frame.width)
            connection.executemany(f'insert into "{name}" values ({marks})', frame.rows())
