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
only kind of comma; ``1.200``, a dot and three digits, as the only kind of dot) is settled by the
other number columns of the same table (one program wrote the file: decimal commas elsewhere make
``1.200`` 1200, decimal points elsewhere make it 1.2), else refused naming the file, the column,
the first such row and the option to set. Exchange rates (``rate_to_base``) read ``1.175`` as a
decimal. ``--dialect fr`` is not applied to the numbers of a file whose dates are all ISO (an ISO
export next to French ones: its ``33.333`` is not 33333): they are detected, with a warning.
A value that matches no form is left as it is: validation reports it with its row. Currency
symbols are not removed (validation refuses ``12,50 €``).
"""

from __future__ import annotations

import dataclasses

import polars as pl

from workbench.errors import InputError, Problem, warn_input
from workbench.schema import TABLES
from workbench.sources import RawSource

DIALECTS = ("fr", "iso")
ROW = "__row__"
"""A row-number column set by the reader or the mapping (:data:`workbench.validate.ROW`)."""

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
    numbers = [c for c, target in targets.items() if target in (pl.Float64, pl.Int64)]
    # one program wrote the file: a date column with a day above 12 settles the others
    date_dialect = dialect or ("fr" if any(_days_above_12(frame[c]) for c in dates) else None)
    number_dialect = dialect
    if dialect == "fr" and _iso_dates_only(frame, dates):
        number_dialect = None  # --dialect fr is meant for the files written the French way
        _warn_iso_file(frame, numbers, file, table)
    # one program wrote the file: a column with unambiguous numbers settles ambiguous ones
    settled = {
        number_choice(frame.get_column(c), _dot_is_decimal(c))[0]
        for c in numbers
        if number_dialect is None
    } - {None, "default"}
    fallback = settled.pop() if len(settled) == 1 else None
    changed = []
    for column in [*dates, *numbers]:
        where = Problem("", file=file, table=table, column=column)
        if column in dates:
            series, problem = date_text(frame.get_column(column), date_dialect, where)
        else:
            series, problem = number_text(
                frame.get_column(column),
                number_dialect,
                where,
                dot_is_decimal=_dot_is_decimal(column),
                fallback=fallback,
            )
        if problem is not None:
            if problem.row is not None and ROW in frame.columns:  # rows as the reader numbered
                problem = dataclasses.replace(
                    problem, row=int(frame.get_column(ROW)[problem.row - 1])
                )
            if number_dialect != dialect and column in numbers:
                problem = dataclasses.replace(
                    problem,
                    message=f"{problem.message} (--dialect fr is not applied to the numbers of "
                    "this file: its dates are ISO, YYYY-MM-DD)",
                )
            problems.append(problem)
        else:
            changed.append(series)
    return frame.with_columns(changed) if changed else frame


def _dot_is_decimal(column: str) -> bool:
    """True for exchange rates (``1.175``), never written with thousands separators."""
    return column.strip().lstrip("\ufeff").strip() == "rate_to_base"


def _iso_dates_only(frame: pl.DataFrame, dates: list[str]) -> bool:
    """True when the date columns hold ISO dates and no day/month/year date."""
    text = [frame.get_column(c).str.strip_chars() for c in dates]
    return any(t.str.contains(ISO_DATE).any() for t in text) and not any(
        t.str.contains(DMY_DATE).any() for t in text
    )


def _warn_iso_file(frame: pl.DataFrame, numbers: list[str], file: str | None, table: str) -> None:
    """Say that ``--dialect fr`` is not applied to the numbers of an ISO-dated file."""
    text = {c: frame.get_column(c).str.strip_chars() for c in numbers}
    dotted = [
        c for c, t in text.items() if (t.str.contains(r"\.") & t.str.contains(FR_NUMBER)).any()
    ]
    if dotted:
        warn_input(
            Problem(
                "--dialect fr is not applied to the numbers of this file: its dates are ISO "
                f"(YYYY-MM-DD), so its numbers ({', '.join(dotted)}) are read by their own form "
                "(33.333 = 33.333, not 33333)",
                file=file,
                table=table,
            )
        )


AMBIGUOUS_DOT = r"^[+-]?[1-9]\d{0,2}\.\d{3}$"
"""``1.200``: a decimal point followed by three digits or a thousands dot."""


def number_choice(
    series: pl.Series, dot_is_decimal: bool = False
) -> tuple[str | None, pl.DataFrame]:
    """How the numbers of ``series`` (text) are written: ``("fr" | "iso", evidence rows)`` when
    some value says so, ``("default", ...)`` when no value needs a dialect, ``(None, rows)``
    when ambiguous or mixed (``rows``: the frame with ``t``, ``row``, ``fr``, ``iso``,
    ``either`` columns)."""
    frame = pl.DataFrame({"t": series.str.strip_chars()}).with_row_index("row", offset=1)
    frame = frame.with_columns(
        fr=pl.col("t").str.contains(FR_NUMBER),
        iso=pl.col("t").str.contains(ISO_NUMBER),
    ).with_columns(
        either=pl.col("fr")
        & pl.col("iso")
        & (
            pl.col("t").str.contains(",", literal=True)
            | (pl.lit(not dot_is_decimal) & pl.col("t").str.contains(AMBIGUOUS_DOT))
        )
    )
    if dot_is_decimal:
        frame = frame.with_columns(fr=pl.col("fr") & ~pl.col("t").str.contains(AMBIGUOUS_DOT))
    fr_only = frame.filter(pl.col("fr") & ~pl.col("iso")).height
    iso_only = frame.filter(pl.col("iso") & ~pl.col("fr")).height
    if fr_only and iso_only:
        return None, frame
    if fr_only or iso_only:
        return ("fr" if fr_only else "iso"), frame
    return ("default" if not frame["either"].any() else None), frame


def number_text(
    series: pl.Series,
    dialect: str | None,
    where: Problem | None = None,
    dot_is_decimal: bool = False,
    fallback: str | None = None,
) -> tuple[pl.Series, Problem | None]:
    """``series`` (text) with its numbers rewritten as ``1234.56``; a problem (located like
    ``where``) instead when ``dialect`` is None and the column is ambiguous (``1,234``,
    ``1.200``: unless ``fallback``, the dialect other columns of the file show, settles it) or
    mixed. ``dot_is_decimal``: a rate column, whose ``1.200`` is 1.2."""
    chosen = dialect
    frame = None
    if chosen is None:
        choice, frame = number_choice(series, dot_is_decimal)
        fr_only = frame.filter(pl.col("fr") & ~pl.col("iso"))
        iso_only = frame.filter(pl.col("iso") & ~pl.col("fr"))
        either = frame.filter(pl.col("either"))
        if fr_only.height and iso_only.height:
            return series, _located(
                where,
                fr_only.row(0, named=True),
                f"numbers written both with a decimal comma ({fr_only['t'][0]!r}, row "
                f"{fr_only['row'][0]}) and with a decimal point ({iso_only['t'][0]!r}, row "
                f"{iso_only['row'][0]}): set --dialect fr (1 234,56) or --dialect iso (1234.56)",
            )
        if choice in ("fr", "iso"):
            chosen = choice
        elif choice == "default":
            chosen = "iso"
        elif fallback is not None:
            chosen = fallback
        else:
            value = either["t"][0]
            if "," in value:
                meaning = "--dialect fr (1,234 = 1.234) or --dialect iso (1,234 = 1234)"
                what = "a decimal comma or a thousands separator"
            else:
                meaning = "--dialect fr (1.200 = 1200) or --dialect iso (1.200 = 1.2)"
                what = "a decimal point or a thousands separator"
            return series, _located(
                where,
                either.row(0, named=True),
                f"{value!r} could be {what} (no other value of the file settles it): set {meaning}",
            )
    if frame is None:
        frame = pl.DataFrame({"t": series.str.strip_chars()}).with_columns(
            fr=pl.col("t").str.contains(FR_NUMBER), iso=pl.col("t").str.contains(ISO_NUMBER)
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
        # only a real calendar day is rewritten: 31/02/2026 stays as written, so validation
        # quotes the user's own text
        real = dmy_text.str.to_date("%Y-%m-%d", strict=False).is_not_null()
        value = value.when(pl.col("day").is_not_null() & real).then(dmy_text)
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
