"""Writing outputs atomically: nothing half-written is ever left at the destination.

- :func:`atomic_file`: one file, written beside its target and renamed onto it.
- :func:`atomic_outputs`: the files of a run (weekly, worklist, replay) written into a temporary
  folder beside the output folder, then renamed into it one by one, the manifest (or summary)
  last; every other file of the output folder (a user's notes) is kept. The run holds the
  folder's lock (:func:`output_lock`) meanwhile, and removes what killed runs left behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import InputError, Problem

_HELD: dict[tuple[int, Path], int] = {}
"""The output locks held, by (thread, lock file): their depth, so that a run can take the lock
early and still write through :func:`atomic_outputs`. Another thread of the process is refused
like another process (its ``flock`` is on another open file)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block succeeds.

    On error the temporary file is removed and ``target`` keeps its previous content.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); the output gets the usual permissions
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def lock_path(target: str | Path) -> Path:
    """The lock file of output folder ``target``: ``<parent>/.<name>.lock``."""
    target = Path(target).absolute()
    return target.with_name(f".{target.name}.lock")


def _unwritable(target: Path, exc: OSError) -> InputError:
    reason = exc.strerror or type(exc).__name__
    return InputError(Problem(f"cannot write the output folder here ({reason})", file=str(target)))


def _acquire(lock: Path, target: Path) -> int:
    """Open and ``flock`` ``lock`` without waiting; the descriptor. Raises InputError when
    another process holds it. Retries when the file was removed under us by its holder."""
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise _unwritable(target, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise InputError(
                Problem(
                    f"another workbench run (process {holder}) is writing this folder: "
                    "wait for it to finish, then run again",
                    file=str(target),
                )
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)  # the previous holder removed the file between our open and flock


@contextmanager
def output_lock(target: str | Path) -> Iterator[None]:
    """Hold the lock of output folder ``target`` (``flock`` on :func:`lock_path`) for the block.

    A second run on the same folder is refused at once (:class:`InputError`, exit 2) rather
    than made to wait: a weekly run takes minutes, a bounded wait would rarely be long enough
    and an unbounded one would hang a scheduler silently; the refused run can simply be run
    again. The kernel releases the lock when the process dies, however it dies; the lock file
    is removed when the block ends (re-entrant within a process). On entry, what killed runs
    left beside ``target`` is removed (:func:`remove_stale_temporaries`).
    """
    target = Path(target).absolute()
    lock = lock_path(target)
    key = (threading.get_ident(), lock)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fd = _acquire(lock, target)
    _HELD[key] = 1
    try:
        _check_replaceable(target, ())
        remove_stale_temporaries(target)
        yield
    finally:
        del _HELD[key]
        lock.unlink(missing_ok=True)  # before unlocking: a waiter then retries on a new file
        os.close(fd)


def _temporary_pattern(target: Path) -> re.Pattern[str]:
    """Names of the temporary folders of ``target`` (``mkdtemp``'s 8 random characters) and of
    the ``.old-PID`` folders earlier versions could leave."""
    return re.compile(rf"\.{re.escape(target.name)}\.([a-z0-9_]{{8}}\.tmp|old-\d+)")


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove the temporary folders killed runs left beside output folder ``target``; the
    removed paths. Only call it holding ``target``'s lock: a live run's temporary folder is
    then impossible (every writer of ``target`` holds that lock while its folder exists)."""
    target = Path(target).absolute()
    if not target.parent.is_dir():
        return []
    pattern = _temporary_pattern(target)
    stale = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _check_replaceable(target: Path, names: Iterable[str]) -> None:
    """Refuse (:class:`InputError`) an output folder that is a file, or that holds a folder
    where the run writes one of its files."""
    if target.exists() and not target.is_dir():
        raise InputError(Problem("the output must be a folder, not a file", file=str(target)))
    for name in names:
        if (target / name).is_dir():
            raise InputError(
                Problem(
                    "is a folder where the run writes its output file: move or rename it",
                    file=str(target / name),
                )
            )


def _commit(tmp: Path, target: Path, last: tuple[str, ...]) -> None:
    """Move the files of ``tmp`` into ``target``: a new ``target`` is ``tmp`` renamed; in an
    existing one each file replaces its namesake, ``last`` removed first and moved last."""
    names = sorted(p.name for p in tmp.iterdir())
    _check_replaceable(target, names)
    if not target.exists():
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes the folder private (0700)
        os.replace(tmp, target)
        return
    for name in (n for n in last if n in names):
        (target / name).unlink(missing_ok=True)  # no manifest describes a mixed set
    for name in [n for n in names if n not in last] + [n for n in last if n in names]:
        os.replace(tmp / name, target / name)


@contextmanager
def atomic_outputs(target: str | Path, last: tuple[str, ...] = ()) -> Iterator[Path]:
    """A temporary folder beside output folder ``target`` whose files are moved into ``target``
    when the block succeeds (see the module docstring). Holds ``target``'s lock.

    ``last``: file names moved last, in this order (a manifest, a summary), and removed from
    ``target`` before the other files move, so a manifest never describes a mixed set. Files of
    ``target`` the run does not write are kept. On error the temporary folder is removed and
    ``target`` is untouched. A folder named like an output file is refused before anything
    moves.
    """
    target = Path(target).absolute()
    with output_lock(target):
        try:
            tmp = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            )
        except OSError as exc:
            raise _unwritable(target, exc) from exc
        try:
            yield tmp
            _commit(tmp, target, last)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
