"""Loading a portfolio from a source (DESIGN section 10): read the raw tables
(:mod:`workbench.sources`), apply the column-mapping file if any (:mod:`workbench.mapping`),
read French or ISO numbers and dates in text columns (:mod:`workbench.dialect`), then type and
validate (:mod:`workbench.validate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from workbench.errors import InputError, Problem
from workbench.portfolio import Portfolio
from workbench.schema import TABLES
from workbench.sources import RawSource, SourceOptions, read_source, table_files

__all__ = ["SourceOptions", "ground_truth", "load_portfolio", "raw_source", "table_files"]


def raw_source(source: str | Path, options: SourceOptions | None = None) -> RawSource:
    """The canonical tables of ``source`` as raw frames (mapped when ``options.mapping``), with
    text numbers and dates in the canonical forms; not yet typed nor validated."""
    options = options or SourceOptions()
    if options.mapping is not None:
        from workbench.mapping import apply_mapping, load_mapping

        mapping = load_mapping(options.mapping)
        raw = apply_mapping(read_source(str(source), mapping.source_tables, options), mapping)
    else:
        raw = read_source(str(source), list(TABLES), options)
    missing = [name for name, table in TABLES.items() if table.mandatory and name not in raw.frames]
    if missing:
        raise InputError(
            [
                Problem(
                    f"required table not found: expected {name}.csv or {name}.parquet in a "
                    f"folder, a sheet or a database table named {name}",
                    file=str(source),
                    table=name,
                )
                for name in missing
            ]
        )
    return _in_dialect(raw, options)


def _in_dialect(raw: RawSource, options: SourceOptions) -> RawSource:
    """``raw`` with its text numbers and dates rewritten in canonical form (see dialect.py)."""
    try:
        from workbench.dialect import canonical_text
    except ImportError:  # written by the CSV-dialect work
        return raw
    return canonical_text(raw, options.dialect)


def load_portfolio(
    source: str | Path,
    options: SourceOptions | None = None,
    outcomes: Sequence[str | Path] = (),
) -> Portfolio:
    """The validated portfolio stored at ``source``: a folder of CSV or Parquet files, an XLSX
    workbook or a database URI (see :mod:`workbench.sources`).

    ``outcomes``: folders written by ``workbench outcomes`` (or a weekly run) whose contacts,
    promises and disputes are appended to the source's, validated like any input, and whose
    follow-ups become the extra frame ``follow_ups`` (:func:`workbench.outcomes.with_outcomes`).

    Only ``customers`` and ``invoices`` are mandatory. Raises :class:`InputError` (exit code 2)
    naming the file, table, row and column of what is wrong.
    """
    raw = raw_source(source, options)
    portfolio = Portfolio.from_frames(raw.frames, sources=raw.origins, inputs=tuple(raw.inputs))
    if not outcomes:
        return portfolio
    from workbench.outcomes import with_outcomes

    return with_outcomes(portfolio, outcomes)


def ground_truth(source: str | Path) -> pl.DataFrame | None:
    """The generator's hidden archetypes (``ground_truth.parquet``) when ``source`` is a
    generated portfolio folder, else None. Real data has none; never used to compute anything."""
    path = Path(source) / "ground_truth.parquet"
    return pl.read_parquet(path) if "://" not in str(source) and path.is_file() else None
