"""French or ISO numbers and dates in text columns, rewritten in canonical form (DESIGN section 10).

Applied to the text columns whose canonical type (:data:`workbench.schema.TABLES`) is a date,
an amount (Float64) or a whole number (Int64), after the column mapping and before validation:

- numbers: ``1234.56``, ``1 234,56`` (space, no-break space or narrow no-break space between
  thousands), ``1.234,56``, ``1,234.56``, ``-12,5`` are rewritten ``1234.56`` / ``-12.5``;
- dates: ``2026-12-31``, ``31/12/2026``, ``31.12.2026``, ``31-12-2026``, each optionally followed
  by a time (``00:00:00``, dropped), are rewritten ``2026-12-31``.

The dialect is chosen per column: ``--dialect fr`` forces day/month/year and decimal commas,
``--dialect iso`` forces ISO dates and decimal points; by default it is detected where the column
says so unambiguously: a day/month/year column with a day above 12 somewhere (one such column
settles the other date columns of its table: one program wrote the file); a decimal comma
followed by 1, 2 or more than 3 digits, or both separators in one value. A column whose values
could be read either way (every date day/month/year with both parts at most 12; ``1,234`` as the
only kind of comma) is refused naming the file, the column, the first such row and the option to
set. A value that matches no form is left as it is: validation reports it with its row. Currency
symbols are not removed (validation refuses ``12,50 €``).
"""

from __future__ import annotations

import polars as pl

from workbench.errors import InputError, Problem
from workbench.schema import TABLES
from workbench.sources import RawSource

DIALECTS = ("fr", "iso")

_SPACES = " \u00a0\u202f"
FR_NUMBER = rf"^[+-]?(?:[1-9]\d{{0,2}}(?:[{_SPACES}.]\d{{3}})+|\d+)(?:,\d+)?$"
"""A French number: thousands grouped by a space (or NBSP, NNBSP) or a dot, a decimal comma."""
ISO_NUMBER = rf"^[+-]?(?:[1-9]\d{{0,2}}(?:[,{_SPACES}]\d{{3}})+|\d+)(?:\.\d+)?$"
"""An ISO (or English) number: thousands grouped by a comma or a space, a decimal point."""
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
ISO_DATE = rf"^(\d{{4}}-\d{{2}}-\d{{2}}){_TIME}$"
DMY_DATE = rf"^(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}){_TIME}$"
"""day/month/year with ``/``, ``.`` or ``-``."""


def canonical_text(raw: RawSource, dialect: str | None) -> RawSource:
    """``raw`` with the numbers and dates of its text columns in canonical form (module
    docstring); ``dialect``: ``fr``, ``iso`` or None (detect). Raises :class:`InputError` for a
    column that is ambiguous or mixes both dialects, naming the option to set."""
    if dialect is not None and dialect not in DIALECTS:
        raise InputError(f"unknown --dialect {dialect!r}: use fr or iso")
    problems: list[Problem] = []
    frames = {}
    for name, frame in raw.frames.items():
        frames[name] = _table_in_canonical_text(
            frame, name, raw.origins.get(name), dialect, problems
        )
    if problems:
        raise InputError(problems)
    return RawSource(frames=frames, origins=raw.origins, inputs=raw.inputs)


def _table_in_canonical_text(
    frame: pl.DataFrame, table: str, file: str | None, dialect: str | None, problems: list
) -> pl.DataFrame:
    if table not in TABLES:
        return frame
    types = {c.name: c.dtype for c in TABLES[table].columns}
    targets = {
        column: types.get(column.strip().lstrip("\ufeff").strip())
        for column in frame.columns
        if frame.schema[column] == pl.String
    }
    dates = [column for column, target in targets.items() if target == pl.Date]
    # one program wrote the file: a date column with a day above 12 settles the others
    date_dialect = dialect or ("fr" if any(_days_above_12(frame[c]) for c in dates) else None)
    changed = []
    for column, target in targets.items():
        if target not in (pl.Date, pl.Float64, pl.Int64):
            continue
        where = Problem("", file=file, table=table, column=column)
        if target == pl.Date:
            series, problem = date_text(frame.get_column(column), date_dialect, where)
        else:
            series, problem = number_text(frame.get_column(column), dialect, where)
        if problem is not None:
            problems.append(problem)
        else:
            changed.append(series)
    return frame.with_columns(changed) if changed else frame


def number_text(
    series: pl.Series, dialect: str | None, where: Problem | None = None
) -> tuple[pl.Series, Problem | None]:
    """``series`` (text) with its numbers rewritten as ``1234.56``; a problem (located like
    ``where``) instead when ``dialect`` is None and the column is ambiguous or mixed."""
    frame = pl.DataFrame({"t": series.str.strip_chars()}).with_row_index("row", offset=1)
    frame = frame.with_columns(
        fr=pl.col("t").str.contains(FR_NUMBER),
        iso=pl.col("t").str.contains(ISO_NUMBER),
    )
    chosen = dialect
    if chosen is None:
        fr_only = frame.filter(pl.col("fr") & ~pl.col("iso"))
        iso_only = frame.filter(pl.col("iso") & ~pl.col("fr"))
        either = frame.filter(pl.col("fr") & pl.col("iso") & pl.col("t").str.contains(","))
        if fr_only.height and iso_only.height:
            return series, _located(
                where,
                fr_only.row(0, named=True),
                f"numbers written both with a decimal comma ({fr_only['t'][0]!r}, row "
                f"{fr_only['row'][0]}) and with a decimal point ({iso_only['t'][0]!r}, row "
                f"{iso_only['row'][0]}): set --dialect fr (1 234,56) or --dialect iso (1234.56)",
            )
        if fr_only.height:
            chosen = "fr"
        elif iso_only.height or not either.height:
            chosen = "iso"
        else:
            return series, _located(
                where,
                either.row(0, named=True),
                f"{either['t'][0]!r} could be a decimal comma or a thousands separator: set "
                "--dialect fr (1,234 = 1.234) or --dialect iso (1,234 = 1234)",
            )
    text = pl.col("t")
    if chosen == "fr":
        rewritten = text.str.replace_all(rf"[{_SPACES}.]", "").str.replace(",", ".", literal=True)
        matched = pl.col("fr")
    else:
        rewritten = text.str.replace_all(rf"[,{_SPACES}]", "")
        matched = pl.col("iso")
    out = frame.select(
        pl.when(matched).then(rewritten.str.strip_prefix("+")).otherwise(text).alias(series.name)
    )
    return _keep_nulls(series, out.to_series()), None


def date_text(
    series: pl.Series, dialect: str | None, where: Problem | None = None
) -> tuple[pl.Series, Problem | None]:
    """``series`` (text) with its dates rewritten as ``2026-12-31``; a problem (located like
    ``where``) instead when ``dialect`` is None and day/month/year dates are ambiguous."""
    frame = (
        pl.DataFrame({"t": series.str.strip_chars()})
        .with_row_index("row", offset=1)
        .with_columns(
            iso=pl.col("t").str.extract(ISO_DATE, 1),
            day=pl.col("t").str.extract(DMY_DATE, 1),
            month=pl.col("t").str.extract(DMY_DATE, 2),
            year=pl.col("t").str.extract(DMY_DATE, 3),
        )
    )
    dmy = frame.filter(pl.col("day").is_not_null())
    chosen = dialect
    if chosen is None and dmy.height:
        days = dmy["day"].cast(pl.Int64)
        months = dmy["month"].cast(pl.Int64)
        if (days > 12).any():
            chosen = "fr"
        elif (months > 12).any():
            bad = dmy.filter(months > 12).row(0, named=True)
            return series, _located(
                where,
                bad,
                f"{bad['t']!r} reads as month/day/year, which is not supported: write dates as "
                "YYYY-MM-DD or DD/MM/YYYY (then --dialect fr)",
            )
        else:
            first = dmy.row(0, named=True)
            return series, _located(
                where,
                first,
                f"{first['t']!r} could be day/month/year or month/day/year (no day above 12 "
                "in the column): set --dialect fr (day/month/year) or --dialect iso",
            )
    dmy_text = pl.concat_str(
        [pl.col("year"), pl.col("month").str.zfill(2), pl.col("day").str.zfill(2)], separator="-"
    )
    value = pl.when(pl.col("iso").is_not_null()).then(pl.col("iso"))
    if chosen == "fr":
        value = value.when(pl.col("day").is_not_null()).then(dmy_text)
    out = frame.select(value.otherwise(pl.col("t")).alias(series.name))
    return _keep_nulls(series, out.to_series()), None


def _days_above_12(series: pl.Series) -> bool:
    """True when a day/month/year value of ``series`` has a first part above 12."""
    day = series.str.strip_chars().str.extract(DMY_DATE, 1).cast(pl.Int64)
    return bool((day > 12).any())


def _keep_nulls(original: pl.Series, rewritten: pl.Series) -> pl.Series:
    """``rewritten``, null where ``original`` was null."""
    return pl.select(
        pl.when(original.is_null()).then(None).otherwise(rewritten).alias(original.name)
    ).to_series()


def _located(where: Problem | None, row: dict, message: str) -> Problem:
    where = where or Problem("")
    return Problem(
        message, file=where.file, table=where.table, row=int(row["row"]), column=where.column
    )
