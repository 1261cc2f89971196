"""benchmarks/run.py end to end on a tiny portfolio (60 customers, generated into tmp_path): the
peers' check, one round of two stages measured as their own processes, the JSON with every
measurement and the machine, the Markdown with a table per size and the targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_writes_json_and_markdown(tmp_path):
    out, cache = tmp_path / "results", tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--sizes", "60",
         "--stages", "kpis,duckdb_kpis", "--rounds", "1", "--out", str(out), "--cache", str(cache)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "performance.json").read_text())
    assert {"cpu", "cores", "ram_gib", "python", "polars", "duckdb", "pandas", "git_commit",
            "date"} <= set(report["machine"])  # fmt: skip
    size = report["sizes"]["60"]
    assert size["invoices"] > 0 and size["check"]["agrees"] is True
    assert size["check"]["peers"] == ["duckdb"]
    assert set(size["stages"]) == {"kpis", "duckdb_kpis"}
    for stage in size["stages"].values():
        (run,) = stage["runs"]
        assert run["returncode"] == 0 and run["wall_s"] > 0 and run["cpu_s"] > 0
        assert run["peak_rss_mib"] > 10
        assert stage["wall_median_s"] == run["wall_s"]
    assert report["targets"][0]["target"].startswith("KPIs + features wall")
    markdown = (out / "performance.md").read_text()
    assert "## 60 customers" in markdown and "| duckdb_kpis |" in markdown
    assert "## Targets" in markdown and "| status |" in markdown
    assert not list(out.glob("*.tmp"))


def test_merge_keeps_the_stages_not_run_again_with_their_commit(tmp_path):
    """--merge re-running one stage of a size keeps that size's other stages, each saying the
    commit it was measured at; the validation target is (load - read) / kpis."""
    out, cache = tmp_path / "results", tmp_path / "cache"

    def run(stages: str, *more: str) -> dict:
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "60", "--rounds",
             "1", "--no-check", "--stages", stages, "--out", str(out), "--cache", str(cache),
             *more],
            check=False, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads((out / "performance.json").read_text())

    first = run("kpis,read,load")
    second = run("kpis", "--merge")
    stages = second["sizes"]["60"]["stages"]
    assert set(stages) == {"kpis", "read", "load"}
    assert stages["read"]["runs"] == first["sizes"]["60"]["stages"]["read"]["runs"]
    assert stages["read"]["measured"]["git_commit"] == first["machine"]["git_commit"]
    assert "measured" not in stages["kpis"]
    (validation,) = [t for t in second["targets"] if t["target"].startswith("validation")]
    load, read, kpis = (stages[s]["wall_median_s"] for s in ("load", "read", "kpis"))
    assert validation["value"] == round((load - read) / kpis, 3)
    markdown = (out / "performance.md").read_text()
    assert f"| read (commit {first['machine']['git_commit'][:7]}) |" in markdown
