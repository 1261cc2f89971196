"""A throw-away PostgreSQL cluster for the tests (Debian's ``postgresql`` binaries).

:func:`cluster` starts one on 127.0.0.1 on a free port in a temporary folder, with a password
(scram-sha-256) so the tests can also try a wrong one, and stops it and removes the folder at the
end. As root, initdb and the server run as the ``postgres`` OS user (PostgreSQL refuses to run as
root), the folder being owned by it. :func:`load_tables` writes canonical tables into it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

USER = "workbench"
PASSWORD = "s3cret-pw"
DATABASE = "workbench"


def bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


def skip_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    if bin_dir() is None:
        return (
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "`make test` as root installs Debian's postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no `postgres` OS user to run the server"
    return None


def must_run() -> bool:
    """As root the tests must not be skipped: ``make test`` installs PostgreSQL then."""
    return os.geteuid() == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its port and the URI of its database (with the password)."""

    port: int

    def uri(self, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{DATABASE}"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60, **kwargs)


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A fresh cluster with an empty database ``workbench`` owned by user ``workbench``."""
    binaries = bin_dir()
    assert binaries is not None, skip_reason()
    # as root, under /tmp: the postgres user must reach the folder (TMPDIR may be private)
    root = Path(tempfile.mkdtemp(prefix="workbench-pg-", dir="/tmp" if must_run() else None))
    data = root / "data"
    (root / "pwfile").write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (root, root / "pwfile"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-U", USER, "-A", "scram-sha-256",
              f"--pwfile={root / 'pwfile'}", "--no-sync", "-E", "UTF8", "--locale=C"])  # fmt: skip
        options = f"-h 127.0.0.1 -p {port} -k {root} -F -c fsync=off"
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
              "-w", "-t", "60", "start"])  # fmt: skip
        try:
            _run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                  DATABASE], env={**os.environ, "PGPASSWORD": PASSWORD})  # fmt: skip
            yield Cluster(port)
        finally:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


PG_TYPES = {
    pl.String: "text",
    pl.Float64: "double precision",
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.Boolean: "boolean",
    pl.Date: "date",
}


def load_tables(uri: str, tables: dict[str, pl.DataFrame]) -> None:
    """Create each of ``tables`` (typed as stored: text, double precision, bigint, boolean, date)
    in the database at ``uri`` and copy its rows in."""
    import psycopg

    with psycopg.connect(uri) as conn, conn.cursor() as cur:
        for name, frame in tables.items():
            columns = ", ".join(
                f'"{column}" {PG_TYPES.get(dtype.base_type(), "text")}'
                for column, dtype in frame.schema.items()
            )
            cur.execute(f'CREATE TABLE "{name}" ({columns})')
            with cur.copy(f'COPY "{name}" FROM STDIN') as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
