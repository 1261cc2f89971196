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
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


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
            from workbench.databases import masked

            raise InputError(
                Problem(
                    f"unsupported data source scheme {scheme!r}: use a folder, an .xlsx workbook, "
                    "duckdb:///file.duckdb, sqlite:///file.db or postgresql://user@host/db",
                    file=masked(source),
                )
            )
        return "postgresql" if scheme == "postgres" else scheme
    path = Path(source)
    if not path.exists():
        raise InputError(Problem("data source not found", file=source))
    if path.is_dir():
        return "folder"
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return "xlsx"
    hint = ""
    if path.suffix.lower() in (".duckdb", ".db", ".sqlite", ".sqlite3"):
        hint = f" (for a database file, give its URI: duckdb:///{source} or sqlite:///{source})"
    raise InputError(
        Problem(
            "unsupported data source: expected a folder of CSV or Parquet files named after the "
            "tables, an .xlsx workbook with a sheet per table, or a database URI (duckdb:///..., "
            f"sqlite:///..., postgresql://...){hint}",
            file=source,
        )
    )


def read_source(source: str, tables: Sequence[str], options: SourceOptions) -> RawSource:
    """The ``tables`` found in ``source`` (see :func:`source_kind`), as raw frames: a folder's
    files, a workbook's sheets (:mod:`workbench.workbook`) or a database's tables
    (:mod:`workbench.databases`), matched to ``tables`` by name."""
    source = str(source)
    kind = source_kind(source)
    if kind == "folder":
        return read_folder(Path(source), tables, options)
    if kind == "xlsx":
        from workbench.workbook import read_workbook

        frames, origins, inputs = read_workbook(Path(source), tables)
    else:
        from workbench.databases import read_database

        frames, origins, inputs = read_database(source, kind, tables)
    return RawSource(frames=frames, origins=origins, inputs=inputs)


def match_names(
    found: Sequence[str], wanted: Sequence[str], *, file: str, kind: str
) -> dict[str, str]:
    """For each of ``wanted`` found among ``found`` (a source's sheets or tables), the name as
    the source spells it: matched trimmed and case-insensitively. Two names of the source that
    match one wanted name are refused (``kind``: ``sheet`` or ``table``, for the message)."""
    by_key: dict[str, list[str]] = {}
    for name in found:
        by_key.setdefault(name.strip().casefold(), []).append(name)
    matched: dict[str, str] = {}
    for name in wanted:
        names = by_key.get(name.strip().casefold(), [])
        if len(names) > 1:
            listed = " and ".join(repr(n) for n in names)
            raise InputError(
                Problem(
                    f"{kind}s {listed} both match table {name}; keep one", file=file, table=name
                )
            )
        if names:
            matched[name] = names[0]
    return matched


# --- a folder of CSV or Parquet files ------------------------------------------------------------


def table_files(folder: Path, tables: Sequence[str]) -> dict[str, Path]:
    """The file of each of ``tables`` found in ``folder``: ``<table>.parquet`` or ``<table>.csv``,
    the name matched case-insensitively (``Clients.CSV`` is table ``clients``)."""
    by_name: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            by_name.setdefault(path.stem.strip().casefold(), []).append(path)
    found: dict[str, Path] = {}
    for name in tables:
        existing = by_name.get(name.strip().casefold(), [])
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
    """The table stored at ``path``: CSV read as text (typed by validation; see
    :mod:`workbench.csvread` for encodings and separators), Parquet as stored."""
    from workbench.csvread import read_csv_table, read_parquet_table

    if path.suffix.lower() == ".csv":
        return read_csv_table(path, table, options.encoding)
    return read_parquet_table(path, table)


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
