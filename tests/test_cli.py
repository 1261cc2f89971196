"""The command line through its real entry point (the installed ``workbench`` script)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from test_validate import INVOICES, write_source

WORKBENCH = Path(sys.executable).with_name("workbench")

PAYMENTS = (
    "payment_id,customer_id,payment_date,amount,invoice_id\n"
    "P1,C1,2026-02-10,100.00,I1\n"
    "P2,C2,2026-02-20,50.50,I2\n"
)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(WORKBENCH), *args], capture_output=True, text=True, timeout=300)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_entry_point_is_installed() -> None:
    assert WORKBENCH.exists(), "the console script 'workbench' is not installed in the venv"
    result = run("--help")
    assert result.returncode == 0
    for command in ("generate", "kpis", "features"):
        assert command in result.stdout


def test_kpis_json_has_the_contract_keys(tmp_path: Path) -> None:
    folder = write_source(tmp_path / "src", payments=PAYMENTS)
    result = run("kpis", "--data", str(folder), "--as-of", "2026-03-01", "--json")
    assert result.returncode == 0, result.stderr
    kpis = json.loads(result.stdout)
    for key in (
        "as_of", "currency", "total_ar", "overdue_ar", "ageing", "dso_standard", "dso_countback",
        "best_possible_dso", "add", "cei", "open_invoices", "customers_with_balance",
    ):
        assert key in kpis, key
    # I1 (100.00) is paid in full; I2 (250.50) has 50.50 paid, so 200.00 is open, due 2026-02-04:
    # 25 days past due on 2026-03-01, in the 1-30 bucket.
    assert kpis["as_of"] == "2026-03-01"
    assert kpis["currency"] == "EUR"
    assert kpis["total_ar"] == pytest.approx(200.0)
    assert kpis["overdue_ar"] == pytest.approx(200.0)
    assert kpis["ageing"]["1-30"] == pytest.approx(200.0)
    assert sum(kpis["ageing"].values()) == pytest.approx(kpis["total_ar"], abs=0.001)
    assert kpis["open_invoices"] == 1 and kpis["customers_with_balance"] == 1


def test_kpis_readable_table(tmp_path: Path) -> None:
    folder = write_source(tmp_path / "src", payments=PAYMENTS)
    result = run("kpis", "--data", str(folder), "--as-of", "2026-03-01")
    assert result.returncode == 0, result.stderr
    assert "Total AR" in result.stdout and "200.00 EUR" in result.stdout
    assert "DSO (countback)" in result.stdout


def test_bad_input_exits_2_naming_file_row_and_column(tmp_path: Path) -> None:
    folder = write_source(tmp_path / "src", invoices=INVOICES.replace("250.50", "two hundred"))
    result = run("kpis", "--data", str(folder), "--as-of", "2026-03-01", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "invoices.csv" in result.stderr and "row 2 (line 3)" in result.stderr
    assert "column amount" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_date_argument_exits_2(tmp_path: Path) -> None:
    folder = write_source(tmp_path / "src")
    result = run("kpis", "--data", str(folder), "--as-of", "20/11/2026")
    assert result.returncode == 2
    assert "--as-of" in result.stderr


def test_missing_source_exits_2(tmp_path: Path) -> None:
    result = run("kpis", "--data", str(tmp_path / "nowhere"), "--as-of", "2026-03-01")
    assert result.returncode == 2
    assert "data source not found" in result.stderr


def test_features_writes_parquet_and_nothing_on_bad_input(tmp_path: Path) -> None:
    good = write_source(tmp_path / "good", payments=PAYMENTS)
    out = tmp_path / "out" / "features.parquet"
    result = run("features", "--data", str(good), "--as-of", "2026-03-01", "--out", str(out))
    assert result.returncode == 0, result.stderr
    frame = pl.read_parquet(out)
    assert sorted(frame.get_column("customer_id").to_list()) == ["C1", "C2"]
    before = out.read_bytes()

    bad = write_source(tmp_path / "bad", invoices=INVOICES.replace("I2,C2", "I2,C404"))
    result = run("features", "--data", str(bad), "--as-of", "2026-03-01", "--out", str(out))
    assert result.returncode == 2
    assert "C404" in result.stderr
    assert out.read_bytes() == before, "a failed run must leave the previous output untouched"
    assert [p.name for p in out.parent.iterdir()] == ["features.parquet"], "no temporary file left"


def test_generate_is_deterministic_and_loadable(tmp_path: Path) -> None:
    args = ["--customers", "40", "--seed", "3", "--start", "2025-01-01", "--end", "2025-12-31"]
    assert run("generate", "--out", str(tmp_path / "a"), *args).returncode == 0
    assert run("generate", "--out", str(tmp_path / "b"), *args).returncode == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    other = run("generate", "--out", str(tmp_path / "c"), *args[:2], "--seed", "4", *args[4:])
    assert other.returncode == 0
    assert digest(tmp_path / "a") != digest(tmp_path / "c")
    result = run("kpis", "--data", str(tmp_path / "a"), "--as-of", "2025-12-31", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["open_invoices"] > 0


# --- issue 10: usage errors, dates out of range, unwritable --out --------------------------------


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (["kpis", "--data", "x"], "error: Missing option '--as-of'."),
        (["kpis", "--data", "x", "--as-of", "20/11/2026"],
         ("error: Invalid value for '--as-of': '20/11/2026' is not a date written YYYY-MM-DD "
          "(e.g. 2026-11-20)")),
        (["kpis", "--data", "x", "--as-of", "0001-01-01"],
         ("error: Invalid value for '--as-of': '0001-01-01' is outside the dates the workbench "
          "handles (1900-01-01 to 2200-12-31)")),
        ([], "error: no command given: one of generate, kpis, features, worklist, train, weekly, outcomes, replay"),
    ],
)  # fmt: skip
def test_usage_errors_state_the_problem_first(args: list[str], first_line: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == first_line
    assert lines[1].startswith("Usage: workbench")
    assert lines[2].startswith("Try 'workbench") and lines[2].endswith("--help' for help.")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [("1900-01-01", True), ("2200-12-31", True), ("1899-12-31", False), ("2201-01-01", False),
     ("0001-01-01", False), ("9999-12-31", False), ("2026-02-30", False), ("2026-1-5", True)],
)  # fmt: skip
def test_dates_of_the_command_line(text: str, accepted: bool) -> None:
    from datetime import date

    import click

    from workbench.cli import ISO_DATE

    if accepted:
        year, month, day = (int(part) for part in text.split("-"))
        assert ISO_DATE.convert(text, None, None).date() == date(year, month, day)
    else:
        with pytest.raises(click.BadParameter):
            ISO_DATE.convert(text, None, None)


def test_output_errors_turn_only_errors_about_the_output_into_input_errors(tmp_path: Path) -> None:
    import errno

    from workbench.cli import output_errors
    from workbench.errors import InputError

    out = tmp_path / "out"
    about_out = [
        out,  # the path itself
        out / "week" / "worklist.xlsx",  # inside it
        tmp_path / ".out.k3j2.tmp",  # a temporary sibling of the atomic writers
        tmp_path,  # a folder above it
    ]
    for path in about_out:
        with pytest.raises(InputError) as error, output_errors(out):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        assert str(error.value) == f"cannot write --out {out}: Permission denied ({path})"
    with pytest.raises(InputError, match="No space left on device"), output_errors(out):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".out.x.tmp"), None, str(out))
    # an error reading an input beside it, or without a path, is not the output's
    for unrelated in (OSError(errno.EACCES, "Permission denied", str(tmp_path / "data" / "a.csv")),
                      OSError(errno.EIO, "Input/output error"), ValueError("not an OSError")):  # fmt: skip
        with pytest.raises(type(unrelated)) as error, output_errors(out):
            raise unrelated
        assert error.value is unrelated


def test_check_output_refuses_before_any_work(tmp_path: Path) -> None:
    from workbench.cli import check_output
    from workbench.errors import InputError

    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="is a directory; give a file name"):
        check_output(tmp_path, folder=False)
    with pytest.raises(InputError, match="is a file; give a folder"):
        check_output(tmp_path / "afile", folder=True)
    with pytest.raises(InputError, match=f"{tmp_path / 'afile'} is a file, not a folder"):
        check_output(tmp_path / "afile" / "deeper" / "f.parquet", folder=False)
    check_output(tmp_path / "new" / "deeper" / "f.parquet", folder=False)  # created when written
    check_output(tmp_path / "new-folder", folder=True)
    assert not (tmp_path / "new").exists() and not (tmp_path / "new-folder").exists()


def _without_privileges() -> list[str]:
    """A command prefix that runs without root's right to write anywhere (setpriv dropping every
    capability) when running as root; nothing otherwise."""
    import os
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be tested")
    return ["setpriv", "--bounding-set=-all"]


@pytest.mark.parametrize("command", ["features", "generate", "worklist"])
def test_read_only_out_exits_2_naming_the_path(tmp_path: Path, command: str) -> None:
    folder = write_source(tmp_path / "src", payments=PAYMENTS)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    out = locked / ("f.parquet" if command == "features" else "out")
    args = {
        "features": ["--data", str(folder), "--as-of", "2026-03-01"],
        "worklist": ["--data", str(folder), "--as-of", "2026-03-01"],
        "generate": ["--customers", "3"],
    }[command]
    result = subprocess.run(
        [*_without_privileges(), str(WORKBENCH), command, *args, "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"--out {out}: cannot write in {locked} (permission denied or read-only)" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(locked.iterdir()) == []
