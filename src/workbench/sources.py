"""Reading a data source into raw tables (DESIGN section 10): a folder of CSV or Parquet files,
an XLSX workbook with a sheet per table, or a database (DuckDB, SQLite, PostgreSQL).

A reader returns the tables it was asked for, by their names in the source (the canonical table
names, or the source names a column-mapping file gives), untyped or as stored: typing and
validation happen later (:mod:`workbench.validate`). Nothing here builds SQL from input text:
table names are matched against the source's own list of tables before they are quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import sha256

SUFFIXES = (".parquet", ".csv")
DATABASE_SCHEMES = ("duckdb", "sqlite", "postgresql", "postgres")


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source: a column-mapping file, and for CSV files the text encoding (None =
    detect: UTF-8 with or without BOM, else Windows-1252 with a warning) and the number and date
    dialect (None = detect where unambiguous; ``fr``: 1 234,56 and dd/mm/yyyy; ``iso``: 1234.56
    and yyyy-mm-dd)."""

    mapping: Path | None = None
    encoding: str | None = None
    dialect: str | None = None


@dataclass(frozen=True)
class RawSource:
    """Tables read from a source, by source table name, with where each came from.

    ``frames``: the tables found (absent ones are left out); ``origins``: for each table the
    file (or ``database table``) named in error messages; ``inputs``: what the run read, for
    the weekly manifest (files with their checksum, or a database URI without its password).
    """

    frames: dict[str, pl.DataFrame]
    origins: dict[str, str]
    inputs: list[dict[str, Any]] = field(default_factory=list)


def source_kind(source: str) -> str:
    """``folder``, ``xlsx`` or a database scheme (``duckdb``, ``sqlite``, ``postgresql``)."""
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme:
        if scheme not in DATABASE_SCHEMES:
            raise InputError(
                Problem(
                    f"unsupported data source scheme {scheme!r}: use a folder, an .xlsx workbook, "
                    "duckdb:///file.duckdb, sqlite:///file.db or postgresql://user@host/db",
                    file=source,
                )
            )
        return "postgresql" if scheme == "postgres" else scheme
    path = Path(source)
    if not path.exists():
        raise InputError(Problem("data source not found", file=source))
    if path.is_dir():
        return "folder"
    if path.suffix.lower() == ".xlsx":
        return "xlsx"
    raise InputError(
        Problem(
            "unsupported data source: expected a folder of CSV or Parquet files named after the "
            "tables, an .xlsx workbook with a sheet per table, or a database URI (duckdb:///..., "
            "sqlite:///..., postgresql://...)",
            file=source,
        )
    )


def read_source(source: str, tables: Sequence[str], options: SourceOptions) -> RawSource:
    """The ``tables`` found in ``source`` (see :func:`source_kind`), as raw frames."""
    kind = source_kind(str(source))
    if kind == "folder":
        return read_folder(Path(source), tables, options)
    raise InputError(Problem(f"{kind} sources are not supported yet", file=str(source)))


# --- a folder of CSV or Parquet files ------------------------------------------------------------


def table_files(folder: Path, tables: Sequence[str]) -> dict[str, Path]:
    """The file of each of ``tables`` found in ``folder`` (``<table>.parquet`` or ``.csv``)."""
    found: dict[str, Path] = {}
    for name in tables:
        candidates = [folder / f"{name}{suffix}" for suffix in SUFFIXES]
        existing = [path for path in candidates if path.is_file()]
        if len(existing) > 1:
            raise InputError(
                Problem(
                    f"both {existing[0].name} and {existing[1].name} exist; keep one",
                    file=str(folder),
                    table=name,
                )
            )
        if existing:
            found[name] = existing[0]
    return found


def raw_table(path: Path, table: str, options: SourceOptions) -> pl.DataFrame:
    """The table stored at ``path``: CSV read as text (typed by validation), Parquet as stored."""
    try:
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            Problem(f"cannot read the file: {exc}", file=str(path), table=table)
        ) from None


def read_folder(folder: Path, tables: Sequence[str], options: SourceOptions) -> RawSource:
    """The ``tables`` stored in ``folder`` as ``<table>.csv`` or ``<table>.parquet``."""
    files = table_files(folder, tables)
    return RawSource(
        frames={name: raw_table(path, name, options) for name, path in files.items()},
        origins={name: str(path) for name, path in files.items()},
        inputs=[
            {"table": name, "path": str(path), "sha256": sha256(path), "bytes": path.stat().st_size}
            for name, path in sorted(files.items())
        ],
    )
