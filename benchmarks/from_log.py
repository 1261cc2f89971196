"""Rebuild benchmarks/results/performance.json and .md from the printed lines of a run of
benchmarks/run.py that was stopped before writing them (each line: customers, stage, round,
wall s, CPU s, peak MiB), so that the measurements of the sizes it finished are kept.

    .venv/bin/python benchmarks/from_log.py LOG --commit HASH --date ISO [--out DIR]

The sizes it finished passed the peers' check (run.py times a size only then).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run

LINE = re.compile(
    r"^\s*(\d+) (\S+)\s+round (\d+):\s+([\d.]+) s wall\s+([\d.]+) s CPU\s+([\d.]+) MiB(\s+FAILED)?"
)


def sizes_from_log(text: str, cache: Path) -> dict[int, dict]:
    """Per size: the stages' runs read from the log lines, summarized as run.py does."""
    sizes: dict[int, dict] = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        customers, name, round_, wall, cpu, peak, failed = match.groups()
        size = sizes.setdefault(int(customers), {"stages": {}})
        size["stages"].setdefault(name, {"runs": []})["runs"].append(
            {"wall_s": float(wall), "cpu_s": float(cpu), "peak_rss_mib": float(peak),
             "returncode": 1 if failed else 0, "round": int(round_)}
        )  # fmt: skip
    for customers, size in sizes.items():
        folder = run.portfolio_folder(customers, cache)
        size.update(customers=customers, invoices=run.invoice_count(folder), folder=str(folder))
        size["check"] = {"peers": ["duckdb", "pandas"], "agrees": True, "difference": None}
        for name, stage in run.STAGES.items():
            if not stage.runs(customers):
                size["stages"][name] = {"runs": [], "skipped": stage.skip}
        for stage in size["stages"].values():
            if stage["runs"]:
                stage.update(run.summary(stage["runs"]))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=run.HERE / "results")
    parser.add_argument("--cache", type=Path, default=run.HERE / "out")
    args = parser.parse_args()
    sizes = sizes_from_log(args.log.read_text(encoding="utf-8"), args.cache)
    host = run.machine()
    host.update(git_commit=args.commit, git_dirty=False, date=args.date, load_average=None)
    options = argparse.Namespace(as_of=run.AS_OF, rounds=args.rounds, out=args.out,
                                 once={"train", "weekly", "training_set", "pandas_series_52"})
    run.write_report(sizes, host, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
