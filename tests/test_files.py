"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workbench.files import atomic_directory, atomic_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_file_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["out.txt"]
    with atomic_file(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and sorted(os.listdir(tmp_path)) == ["out.txt"]


def test_atomic_outputs_get_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
        with atomic_directory(tmp_path / "d") as folder:
            (folder / "a.txt").write_text("y")
    finally:
        os.umask(old)
    assert mode(tmp_path / "f.txt") == 0o644
    assert mode(tmp_path / "d") == 0o755


def test_atomic_directory_swaps_whole_folders(tmp_path: Path) -> None:
    target = tmp_path / "week"
    with atomic_directory(target) as folder:
        (folder / "a.txt").write_text("1")
    with pytest.raises(RuntimeError), atomic_directory(target) as folder:
        (folder / "b.txt").write_text("2")
        raise RuntimeError("interrupted")
    assert sorted(os.listdir(target)) == ["a.txt"]
    with atomic_directory(target) as folder:
        (folder / "c.txt").write_text("3")
    assert sorted(os.listdir(target)) == ["c.txt"]
    assert sorted(os.listdir(tmp_path)) == ["week"]
