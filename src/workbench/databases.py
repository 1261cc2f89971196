"""Reading the tables of a database: DuckDB, SQLite or PostgreSQL (``--data URI``).

URIs: ``duckdb:///file.duckdb``, ``sqlite:///file.db`` (as in SQLAlchemy, three slashes and a
relative path, four for an absolute one: ``sqlite:////srv/erp.db``; ``sqlite:///srv/erp.db`` is
also read as absolute when ``srv/erp.db`` does not exist in the current folder) and
``postgresql://user:password@host:port/database`` (or ``postgres://``; the password may also come
from ``PGPASSWORD`` or ``~/.pgpass``, as with psql).

Tables are those of the database's default schema (``main`` for DuckDB, the ``search_path``'s
current schema for PostgreSQL, usually ``public``), views included, matched to the tables wanted
by name, trimmed and case-insensitive. A matched name is quoted as an identifier; no SQL is ever
built from the user's text otherwise. Connections are read-only: DuckDB's ``read_only``, SQLite's
``mode=ro``, and a PostgreSQL session whose transactions are ``READ ONLY``.

Drivers, chosen to install from PyPI with no system library:

- DuckDB: the ``duckdb`` package; results go to polars through the Arrow C stream interface
  (no pyarrow). Extension auto-install is switched off: a run never downloads anything.
- SQLite: the standard library's ``sqlite3``. SQLite columns have no fixed type, so each
  column's storage classes are counted first: a column mixing text and numbers is read as text
  (validation then reports the cells that are not numbers, with their row), integers and reals
  together as reals; a column declared ``BOOLEAN`` holding only 0 and 1 is read as Boolean, and
  dates (SQLite has no date type) come as the text stored.
- PostgreSQL: ``psycopg`` 3 with its binary wheel (``psycopg[binary]``, which bundles libpq).
  The ADBC driver and connectorx also ship their own libpq but both hand their results to polars
  through pyarrow (a further ~40 MB dependency the project does not otherwise need); psycopg is
  small, gives ``connect_timeout`` (a server that does not answer fails within
  :data:`CONNECT_TIMEOUT` seconds) and read-only sessions, and its error messages never contain
  the password. Types come from the server: ``numeric`` as Decimal, ``date`` as Date, and so on.

Every error (a missing file, a file that is not a database, a wrong password, an unreachable
server, a table that cannot be read) is an :class:`InputError` naming the URI with its password
masked (``***``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import sha256

CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL server before giving up (libpq's connect_timeout)."""

SQLITE_MAGIC = b"SQLite format 3\x00"

Tables = tuple[dict[str, pl.DataFrame], dict[str, str], list[dict[str, Any]]]


def masked(uri: str) -> str:
    """``uri`` with its password (in the user part or a ``password=`` parameter) as ``***``."""
    try:
        parts = urlsplit(uri)
        if parts.password is not None:
            userinfo, host = parts.netloc.rsplit("@", 1)
            parts = parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}")
            uri = urlunsplit(parts)
    except ValueError:
        uri = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", uri)
    return re.sub(r"(password=)[^&\s]*", r"\1***", uri, flags=re.IGNORECASE)


def _secrets(uri: str) -> list[str]:
    """The password of ``uri`` as written and decoded, to scrub from messages."""
    found = re.findall(r"password=([^&\s]+)", uri, flags=re.IGNORECASE)
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    return [s for text in found for s in {text, unquote(text)} if s]


def _failure(uri: str, message: str, exc: BaseException, table: str | None = None) -> InputError:
    """An InputError ``message: <driver's first line>`` naming ``uri`` masked."""
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    detail = re.sub(r"^connection failed: ", "", detail)
    for secret in _secrets(uri):
        detail = detail.replace(secret, "***")
    return InputError(Problem(f"{message}: {detail}", file=masked(uri), table=table))


def read_database(uri: str, kind: str, tables: Sequence[str]) -> Tables:
    """The ``tables`` found in the database at ``uri`` (``kind``: duckdb, sqlite or
    postgresql): (frames by wanted name, origins, inputs for the manifest)."""
    if kind == "postgresql":
        return _postgresql(uri, tables)
    path = database_path(uri)
    reader = _duckdb if kind == "duckdb" else _sqlite
    frames, origins, inputs = reader(uri, path, tables)
    digest = sha256(path)
    return frames, origins, [{**entry, "sha256": digest} for entry in inputs]


def database_path(uri: str) -> Path:
    """The file of a ``duckdb://`` or ``sqlite://`` URI (see the module docstring); it must
    exist and be a file."""
    rest = uri.split("://", 1)[1]
    if rest.startswith("//"):
        path = Path(rest[1:])
    elif rest.startswith("/"):
        path = Path(rest[1:]) if Path(rest[1:]).exists() or not Path(rest).exists() else Path(rest)
    else:
        path = Path(rest)
    if not rest.strip("/"):
        raise InputError(Problem("no database file in the URI", file=masked(uri)))
    if not path.is_file():
        what = "is a folder, not a database file" if path.is_dir() else "not found"
        raise InputError(
            Problem(
                f"database file {what}: {path} (three slashes for a path relative to the current "
                "folder, four for an absolute path: sqlite:////srv/erp.db)",
                file=masked(uri),
            )
        )
    return path


def _listing(uri: str, names: Sequence[str], tables: Sequence[str]) -> dict[str, str]:
    from workbench.sources import match_names

    return match_names(names, tables, file=masked(uri), kind="table")


def _described(uri: str, frames: dict[str, pl.DataFrame], real: dict[str, str]) -> Tables:
    origins = {t: f"{masked(uri)}, table {real[t]}" for t in frames}
    inputs = [{"source": masked(uri), "table": t, "rows": frames[t].height} for t in sorted(frames)]
    return frames, origins, inputs


def quoted(name: str) -> str:
    """``name`` as a SQL identifier in double quotes (for names read from the database's own
    catalogue only)."""
    return '"' + name.replace('"', '""') + '"'


# --- DuckDB ---------------------------------------------------------------------------------


def _duckdb(uri: str, path: Path, tables: Sequence[str]) -> Tables:
    import duckdb

    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        connection = duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as exc:
        raise _failure(uri, "cannot open the file as a DuckDB database", exc) from None
    with connection:
        try:
            names = connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_catalog = current_database()"
            ).fetchall()
        except duckdb.Error as exc:
            raise _failure(uri, "cannot list the tables of the DuckDB database", exc) from None
        real = _listing(uri, [row[0] for row in names], tables)
        frames = {}
        for table, name in real.items():
            try:
                frames[table] = pl.DataFrame(connection.sql(f"SELECT * FROM {quoted(name)}"))
            except duckdb.Error as exc:
                raise _failure(uri, f"cannot read table {name}", exc, table) from None
    return _described(uri, frames, real)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite(uri: str, path: Path, tables: Sequence[str]) -> Tables:
    import sqlite3

    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise InputError(
            Problem(
                f"{path} is not a SQLite database (its first bytes are not 'SQLite format 3')",
                file=masked(uri),
            )
        )
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _failure(uri, "cannot open the SQLite database", exc) from None
    try:
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        real = _listing(uri, [row[0] for row in names], tables)
        frames = {}
        for table, name in real.items():
            try:
                frames[table] = _sqlite_table(connection, name)
            except sqlite3.Error as exc:
                raise _failure(uri, f"cannot read table {name}", exc, table) from None
    except sqlite3.Error as exc:
        raise _failure(uri, "cannot read the SQLite database", exc) from None
    finally:
        connection.close()
    return _described(uri, frames, real)


def _sqlite_table(connection, name: str) -> pl.DataFrame:
    """One SQLite table, each column read in the one type its values allow (module docstring)."""
    columns = connection.execute(f"PRAGMA table_info({quoted(name)})").fetchall()
    if not columns:
        return pl.DataFrame()
    names = [column[1] for column in columns]
    declared = {column[1]: (column[2] or "").upper() for column in columns}
    classes_sql = ", ".join(f"group_concat(DISTINCT typeof({quoted(c)}))" for c in names)
    found = connection.execute(f"SELECT {classes_sql} FROM {quoted(name)}").fetchone()
    selects, schema, booleans = [], {}, []
    for column, classes in zip(names, found):
        kinds = set((classes or "").split(",")) - {"null", ""}
        dtype, cast = _sqlite_type(kinds, declared[column])
        selects.append(
            f"CAST({quoted(column)} AS {cast}) AS {quoted(column)}" if cast else quoted(column)
        )
        schema[column] = dtype
        if "BOOL" in declared[column] and kinds == {"integer"}:
            booleans.append(column)
    query = f"SELECT {', '.join(selects)} FROM {quoted(name)}"
    frame = pl.read_database(query, connection=connection, schema_overrides=schema)
    if booleans:
        only_01 = frame.select(pl.col(booleans).is_in([0, 1]).or_(pl.col(booleans).is_null()).all())
        frame = frame.with_columns(
            pl.col(c).cast(pl.Boolean) for c, ok in zip(booleans, only_01.row(0)) if ok
        )
    return frame


def _sqlite_type(kinds: set[str], declared: str) -> tuple[pl.DataType, str | None]:
    """The polars type of a SQLite column holding values of storage ``kinds``, and the SQL type
    to cast it to first (None: as stored)."""
    if kinds == {"integer"}:
        return pl.Int64(), None
    if kinds in ({"real"}, {"integer", "real"}):
        return pl.Float64(), "REAL"
    if kinds == {"blob"}:
        return pl.Binary(), None
    if not kinds:  # no value: the declared type decides
        if "INT" in declared:
            return pl.Int64(), None
        if any(word in declared for word in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
            return pl.Float64(), None
    return pl.String(), (None if kinds <= {"text"} else "TEXT")


# --- PostgreSQL -----------------------------------------------------------------------------

PG_TYPES: dict[str, pl.DataType] = {
    "text": pl.String(), "character varying": pl.String(), "character": pl.String(),
    "date": pl.Date(), "boolean": pl.Boolean(), "bigint": pl.Int64(), "integer": pl.Int64(),
    "smallint": pl.Int64(), "double precision": pl.Float64(), "real": pl.Float64(),
    "numeric": pl.Float64(),
}  # fmt: skip
"""Types given to the columns with no value at all (which the driver cannot type)."""


def _postgresql(uri: str, tables: Sequence[str]) -> Tables:
    import psycopg
    from psycopg import sql

    try:
        connection = psycopg.connect(uri, connect_timeout=CONNECT_TIMEOUT)
    except (psycopg.Error, ValueError) as exc:
        raise _failure(uri, "cannot connect to the PostgreSQL database", exc) from None
    with connection:
        connection.read_only = True
        try:
            schema, names, types = _pg_catalogue(connection)
        except psycopg.Error as exc:
            raise _failure(uri, "cannot list the tables of the PostgreSQL database", exc) from None
        real = _listing(uri, names, tables)
        frames = {}
        for table, name in real.items():
            query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, name))
            try:
                frame = pl.read_database(query.as_string(connection), connection=connection)
            except psycopg.Error as exc:
                raise _failure(uri, f"cannot read table {name}", exc, table) from None
            empty = [c for c, t in frame.schema.items() if t == pl.Null and (name, c) in types]
            frames[table] = frame.with_columns(pl.col(c).cast(types[name, c]) for c in empty)
    return _described(uri, frames, real)


def _pg_catalogue(connection) -> tuple[str, list[str], dict[tuple[str, str], pl.DataType]]:
    """The current schema, its tables and views, and the polars type of their columns whose
    SQL type is one of :data:`PG_TYPES`."""
    schema = connection.execute("SELECT current_schema()").fetchone()[0] or "public"
    names = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
    ).fetchall()
    columns = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s",
        [schema],
    ).fetchall()
    types = {(t, c): PG_TYPES[d] for t, c, d in columns if d in PG_TYPES}
    return schema, [row[0] for row in names], types
