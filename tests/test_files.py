"""Atomic writes: all or nothing, with ordinary permissions; output folders locked, re-runs
keeping the user's files, stale temporary folders of killed runs removed."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from workbench import files
from workbench.errors import InputError
from workbench.files import (
    atomic_file,
    atomic_outputs,
    lock_path,
    output_lock,
    remove_stale_temporaries,
)


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
        with atomic_outputs(tmp_path / "d") as folder:
            (folder / "a.txt").write_text("y")
    finally:
        os.umask(old)
    assert mode(tmp_path / "f.txt") == 0o644
    assert mode(tmp_path / "d") == 0o755


def test_a_rerun_replaces_its_files_and_keeps_the_users(tmp_path: Path) -> None:
    target = tmp_path / "week"
    with atomic_outputs(target, last=("manifest.json",)) as folder:
        (folder / "a.txt").write_text("1")
        (folder / "manifest.json").write_text("m1")
    (target / "notes.txt").write_text("mine")
    (target / "drafts").mkdir()
    (target / "drafts" / "d.txt").write_text("mine too")
    with pytest.raises(RuntimeError), atomic_outputs(target) as folder:
        (folder / "a.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "1"
    with atomic_outputs(target, last=("manifest.json",)) as folder:
        (folder / "a.txt").write_text("2")
        (folder / "b.txt").write_text("3")
        (folder / "manifest.json").write_text("m2")
    contents = {p.name: p.read_text() for p in target.iterdir() if p.is_file()}
    assert contents == {"a.txt": "2", "b.txt": "3", "manifest.json": "m2", "notes.txt": "mine"}
    assert (target / "drafts" / "d.txt").read_text() == "mine too"
    assert sorted(os.listdir(tmp_path)) == ["week"], "temporary folder or lock file left"


def test_the_manifest_goes_last_and_the_old_one_first(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "week"
    with atomic_outputs(target) as folder:
        (folder / "manifest.json").write_text("old")
        (folder / "z.txt").write_text("old")
    moves: list[tuple[str, bool]] = []
    replace = os.replace

    def recording(src, dst) -> None:
        moves.append((Path(dst).name, (target / "manifest.json").exists()))
        replace(src, dst)

    monkeypatch.setattr(files.os, "replace", recording)
    with atomic_outputs(target, last=("manifest.json",)) as folder:
        for name in ("manifest.json", "a.txt", "z.txt"):
            (folder / name).write_text("new")
    # the old manifest is gone while the other files move; the new one arrives last
    assert moves == [("a.txt", False), ("z.txt", False), ("manifest.json", False)]
    assert (target / "manifest.json").read_text() == "new"


def test_refused_targets_move_nothing(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("a file")
    with pytest.raises(InputError, match="must be a folder"), atomic_outputs(plain):
        pass
    target = tmp_path / "week"
    (target / "a.txt").mkdir(parents=True)
    with pytest.raises(InputError, match="is a folder where"), atomic_outputs(target) as folder:
        (folder / "b.txt").write_text("b")
        (folder / "a.txt").write_text("a")
    assert sorted(os.listdir(target)) == ["a.txt"] and (target / "a.txt").is_dir()
    assert sorted(os.listdir(tmp_path)) == ["plain", "week"]


def _hold(lock: Path, pid: str = "4242") -> int:
    """Lock ``lock`` on a descriptor of its own, as another run would."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, pid.encode())
    return fd


def test_a_second_run_on_a_locked_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "week"
    assert lock_path(target) == tmp_path / ".week.lock"
    fd = _hold(lock_path(target))
    try:
        with pytest.raises(InputError, match=r"another workbench run \(process 4242\)"):
            with atomic_outputs(target) as folder:
                (folder / "a.txt").write_text("a")
        assert not target.exists()
    finally:
        os.close(fd)
    with atomic_outputs(target) as folder:  # free again
        (folder / "a.txt").write_text("a")
    assert sorted(os.listdir(tmp_path)) == ["week"]


def test_the_lock_is_reentrant_in_a_thread_not_across_threads(tmp_path: Path) -> None:
    target = tmp_path / "week"
    refused: list[BaseException] = []

    def other_thread() -> None:
        try:
            with output_lock(target):
                pass
        except InputError as exc:
            refused.append(exc)

    with output_lock(target), atomic_outputs(target) as folder:
        (folder / "a.txt").write_text("a")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert len(refused) == 1 and (target / "a.txt").exists()
    assert not lock_path(target).exists()


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    """A run killed by SIGKILL runs no clean-up: the kernel drops its flock all the same."""
    target = tmp_path / "week"
    code = (
        "import sys, time\n"
        "from workbench.files import output_lock\n"
        "with output_lock(sys.argv[1]):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=f"process {holder.pid}"), output_lock(target):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert lock_path(target).exists()  # left by the killed run, unlocked
    with output_lock(target):
        pass
    assert not lock_path(target).exists()


def test_stale_temporary_folders_are_removed_by_the_next_run(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    stale = [".2026-W47.k3x_9a2q.tmp", ".2026-W47.old-1234"]
    kept = [".2026-W47.notes", ".2026-W48.k3x_9a2q.tmp", ".2026-W47.abc.tmp", "2026-W47.bak"]
    for name in stale + kept:
        (tmp_path / name).mkdir()
        (tmp_path / name / "worklist.csv").write_text("x")
    (tmp_path / ".2026-W47.abcdefgh.tmp").write_text("a file, not a run's folder")
    kept.append(".2026-W47.abcdefgh.tmp")
    with atomic_outputs(target) as folder:
        (folder / "a.txt").write_text("a")
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, "2026-W47"])
    assert remove_stale_temporaries(target) == []


def test_an_unwritable_parent_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write the output folder here"):
        with output_lock(blocker / "week"):
            pass


def test_lock_contention_between_processes_leaves_one_writer(tmp_path: Path) -> None:
    """Four processes writing the same folder at once: every one either writes a complete set
    or is refused; no .old-PID or temporary folder is left (the folder swap of earlier versions
    failed with 'Directory not empty')."""
    target = tmp_path / "week"
    code = (
        "import sys, time\n"
        "from workbench.errors import InputError\n"
        "from workbench.files import atomic_outputs\n"
        "try:\n"
        "    with atomic_outputs(sys.argv[1], last=('manifest.json',)) as f:\n"
        "        for n in range(20): (f / f'{n}.txt').write_text(sys.argv[2])\n"
        "        time.sleep(0.5)\n"
        "        (f / 'manifest.json').write_text(sys.argv[2])\n"
        "except InputError:\n"
        "    sys.exit(2)\n"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(target), str(k)]) for k in range(4)
    ]
    codes = [run.wait(timeout=60) for run in runs]
    assert set(codes) <= {0, 2} and 0 in codes, codes
    writer = (target / "manifest.json").read_text()
    assert {(target / f"{n}.txt").read_text() for n in range(20)} == {writer}
    assert sorted(os.listdir(tmp_path)) == ["week"]
