"""Loading a portfolio from a source: a folder of CSV or Parquet files named after the tables.

Broader sources (Excel workbooks, databases, column-mapping files) plug in here later.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workbench.errors import InputError, Problem
from workbench.portfolio import Portfolio
from workbench.schema import TABLES

SUFFIXES = (".parquet", ".csv")


def table_files(folder: Path) -> dict[str, Path]:
    """The file of each canonical table found in ``folder`` (``<table>.parquet`` or ``.csv``)."""
    found: dict[str, Path] = {}
    for name in TABLES:
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


def raw_table(path: Path, table: str) -> pl.DataFrame:
    """The table stored at ``path``: CSV read as text (typed by validation), Parquet as stored."""
    try:
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(Problem(f"cannot read the file: {exc}", file=str(path), table=table)) from None


def load_portfolio(source: str | Path) -> Portfolio:
    """The validated portfolio stored at ``source`` (a folder of CSV or Parquet files).

    Only ``customers`` and ``invoices`` are mandatory. Raises :class:`InputError` (exit code 2)
    naming the file, table, row and column of what is wrong.
    """
    folder = Path(source)
    if not folder.exists():
        raise InputError(Problem("data source not found", file=str(folder)))
    if not folder.is_dir():
        raise InputError(
            Problem(
                "unsupported data source: expected a folder of CSV or Parquet files named after "
                f"the tables ({', '.join(TABLES)})",
                file=str(folder),
            )
        )
    files = table_files(folder)
    missing = [name for name, table in TABLES.items() if table.mandatory and name not in files]
    if missing:
        raise InputError(
            [
                Problem(f"required table not found: expected {name}.csv or {name}.parquet", file=str(folder), table=name)
                for name in missing
            ]
        )
    raw = {name: raw_table(path, name) for name, path in files.items()}
    return Portfolio.from_frames(raw, sources={name: str(path) for name, path in files.items()})


def ground_truth(source: str | Path) -> pl.DataFrame | None:
    """The generator's hidden archetypes (``ground_truth.parquet``) when ``source`` is a
    generated portfolio, else None. Real data has none; never used to compute anything."""
    path = Path(source) / "ground_truth.parquet"
    return pl.read_parquet(path) if path.is_file() else None
