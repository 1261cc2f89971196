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
