"""Speed and memory of the workbench against two peers (DuckDB SQL, pandas): `make benchmark`.

For each size (customers of a generated portfolio, about 50 invoices each: 2,000 ~ 100
thousand invoices, 20,000 ~ 1 million, 200,000 ~ 10 million; generated once with `workbench
generate`, seed 1, 2024-11-01 to 2026-11-20, cached in benchmarks/out/portfolio-<customers>/):

1. the peers' results are checked against the workbench's (benchmarks/peers/check.py: KPIs and
   customer features at the as-of date, the KPI series over 4 weeks); a size whose check fails
   is not timed and the difference is written in the results;
2. every stage runs as its own process, --rounds times, the order rotated each round so the
   workbench and the peers alternate; each run is measured by wall time, CPU time (user + sys
   of the child, os.wait4) and peak resident memory (ru_maxrss of the child);
3. benchmarks/results/performance.json (machine, every measurement) and performance.md (a
   table per size, and the issue's targets computed from the figures, met or missed).

    .venv/bin/python benchmarks/run.py                          # all sizes, 3 rounds
    .venv/bin/python benchmarks/run.py --sizes 20000 --rounds 1
    .venv/bin/python benchmarks/run.py --quick                  # 2,000 customers, 1 round
    .venv/bin/python benchmarks/run.py --stages kpis_features,duckdb_kpis_features

Figures are measurements of this machine, not promises; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
AS_OF = "2026-11-20"
START = "2024-11-01"
SIZES = (2000, 20000, 200000)
LARGE, MEDIUM = 200000, 20000
"""The sizes of the issue's targets: 10 million and 1 million invoices."""
PANDAS_SERIES_MAX = 20000
"""pandas recomputes the balances twice per date: its 52-week series at 10 million invoices
would take far beyond 10 minutes, so it is skipped above this size (said in the results)."""

SNIPPET = """
import sys
from datetime import date, timedelta
from pathlib import Path
DATA, AS_OF = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
from workbench.load import load_portfolio
portfolio = load_portfolio(DATA)
"""

READ = """
import sys
from workbench.load import raw_source
raw_source(sys.argv[1])
"""
"""The ``read`` stage: the files read as they are (no typing, no check), so that validation's
own cost is ``load`` - ``read``."""

SNIPPETS = {
    "load": "",
    "kpis_features": (  # the balances computed once, as the weekly run shares them
        "from workbench.balances import reporting_balances\n"
        "from workbench.kpis import portfolio_kpis\n"
        "from workbench.features import customer_features_from\n"
        "balances = reporting_balances(portfolio, AS_OF).collect()\n"
        "portfolio_kpis(portfolio, AS_OF, balances=balances)\n"
        "customer_features_from(portfolio, balances.lazy(), AS_OF).collect()\n"
    ),
    "series_52": (
        "from workbench.kpis import kpi_series\n"
        "kpi_series(portfolio, AS_OF - timedelta(weeks=51), AS_OF)\n"
    ),
    "training_set": (
        "from workbench.policy import DEFAULT_POLICY as P\n"
        "from workbench.snapshots import history_snapshots, training_set\n"
        "training_set(portfolio, history_snapshots(portfolio, AS_OF, P), P.model.horizon_days, P)\n"
    ),
}
"""Workbench stages run as a Python snippet (after loading the portfolio, as bench_training_set
does); the others are the command line."""


@dataclass(frozen=True)
class Stage:
    """One timed command: ``command(folder, as_of, scratch)`` gives its argv; ``runs(customers)``
    says whether it runs at that size (else ``skip`` says why)."""

    name: str
    command: Callable[[Path, str, Path], list[str]]
    runs: Callable[[int], bool] = lambda customers: True
    skip: str = ""


def _snippet(name: str) -> Callable[[Path, str, Path], list[str]]:
    return lambda folder, as_of, scratch: [
        sys.executable, "-c", SNIPPET + SNIPPETS[name], str(folder), as_of]  # fmt: skip


def _cli(*args: str, out: str | None = None) -> Callable[[Path, str, Path], list[str]]:
    """``workbench <args> --data F --as-of D`` (and ``--out scratch/<out>``)."""

    def command(folder: Path, as_of: str, scratch: Path) -> list[str]:
        tail = ["--out", str(scratch / out)] if out else []
        return [sys.executable, "-m", "workbench.cli", args[0], "--data", str(folder),
                "--as-of", as_of, *args[1:], *tail]  # fmt: skip

    return command


def _peer(peer: str, what: str) -> Callable[[Path, str, Path], list[str]]:
    return lambda folder, as_of, scratch: [
        sys.executable, str(PEERS / f"{peer}_peer.py"), what, str(folder), as_of]  # fmt: skip


def _stages() -> list[Stage]:
    """Every stage, in the base order: each workbench computation beside its peers."""
    stages = []
    for what, workbench in (
        ("kpis", _cli("kpis", "--json")),
        ("features", _cli("features", out="features.parquet")),
        ("kpis_features", _snippet("kpis_features")),
        ("series_52", _snippet("series_52")),
    ):
        stages.append(Stage(what, workbench))
        stages.append(Stage(f"duckdb_{what}", _peer("duckdb", what.replace("_52", ""))))
        if what == "series_52":
            stages.append(Stage("pandas_series_52", _peer("pandas", "series"),
                                lambda c: c <= PANDAS_SERIES_MAX,
                                f"skipped above {PANDAS_SERIES_MAX} customers: a loop of 52 "
                                "one-date computations would exceed ~10 minutes"))  # fmt: skip
        else:
            stages.append(Stage(f"pandas_{what}", _peer("pandas", what)))
    return stages + [
        Stage("read", lambda folder, as_of, scratch: [sys.executable, "-c", READ, str(folder)]),
        Stage("load", _snippet("load")),
        Stage("training_set", _snippet("training_set"), lambda c: c <= MEDIUM,
              f"only up to {MEDIUM} customers (the training targets are at 1 million invoices; "
              "at 10 million the snapshots would not fit in this machine's memory)"),
        Stage("train", _cli("train", "--quiet", out="model.skops"), lambda c: c <= MEDIUM,
              f"only up to {MEDIUM} customers"),
        Stage("worklist", _cli("worklist", out="worklist")),
        Stage("weekly", _cli("weekly", "--quiet", out="reports"), lambda c: c == MEDIUM,
              f"only at {MEDIUM} customers"),
    ]  # fmt: skip


STAGES = {stage.name: stage for stage in _stages()}


def portfolio_folder(customers: int, cache: Path) -> Path:
    """The generated portfolio of ``customers`` customers in ``cache`` (generated when
    missing, into a temporary folder renamed when complete)."""
    folder = cache / f"portfolio-{customers}"
    if not (folder / "invoices.parquet").exists():
        partial = cache / f".portfolio-{customers}.partial"
        subprocess.run(
            [sys.executable, "-m", "workbench.cli", "generate", "--out", str(partial),
             "--customers", str(customers), "--seed", "1", "--start", START, "--end", AS_OF],
            check=True, capture_output=True,
        )  # fmt: skip
        partial.rename(folder)
    return folder


def invoice_count(folder: Path) -> int:
    """Rows of the folder's invoices.parquet (from the Parquet metadata)."""
    import polars as pl

    return pl.scan_parquet(folder / "invoices.parquet").select(pl.len()).collect().item()


def measure(argv: list[str], timeout: float | None = None) -> dict:
    """Run ``argv`` as a child process: wall seconds, CPU seconds (user + sys), peak RSS (MiB),
    exit status and the end of its error output when it failed (killed after ``timeout``
    seconds: exit status -9)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err)
        timer = threading.Timer(timeout, child.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace")[-600:]
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS
    result = {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / scale, 1),
        "returncode": child.returncode,
    }
    if child.returncode:
        result["error"] = tail
    return result


def check_peers(folder: Path, as_of: str, peers: list[str]) -> str | None:
    """None when every peer of ``peers`` agrees with the workbench on ``folder``, else the
    difference (check.py: kpis and features at ``as_of``, the series over 4 weeks)."""
    if not peers:
        return None
    out = subprocess.run(
        [sys.executable, str(PEERS / "check.py"), ",".join(peers), str(folder), as_of, "4"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    return None if out.returncode == 0 else (out.stderr.strip() or out.stdout.strip())[-2000:]


def rotated(names: list[str], round_: int, rounds: int) -> list[str]:
    """``names`` rotated for round ``round_`` (0-based): each round starts further along."""
    if not names:
        return names
    shift = (round_ * max(1, len(names) // max(rounds, 1))) % len(names)
    return names[shift:] + names[:shift]


def summary(runs: list[dict]) -> dict:
    """Median and min of wall and CPU seconds and max peak RSS of successful runs."""
    ok = [run for run in runs if run["returncode"] == 0]
    if not ok:
        return {"failed": True}
    walls, cpus = [r["wall_s"] for r in ok], [r["cpu_s"] for r in ok]
    return {
        "wall_median_s": round(statistics.median(walls), 3), "wall_min_s": min(walls),
        "cpu_median_s": round(statistics.median(cpus), 3), "cpu_min_s": min(cpus),
        "peak_rss_max_mib": max(r["peak_rss_mib"] for r in ok),
    }  # fmt: skip


def bench_size(customers: int, names: list[str], args: argparse.Namespace) -> dict:
    """Check the peers, then time every stage of ``names`` at one size, --rounds times."""
    folder = portfolio_folder(customers, args.cache)
    stages = {name: {"runs": []} for name in names}
    result: dict = {"customers": customers, "invoices": invoice_count(folder),
                    "folder": str(folder), "stages": stages}  # fmt: skip
    peers = sorted({name.split("_")[0] for name in names} & {"duckdb", "pandas"})
    if not args.no_check:
        started = time.perf_counter()
        difference = check_peers(folder, args.as_of, peers)
        result["check"] = {"peers": peers, "seconds": round(time.perf_counter() - started, 1),
                           "agrees": difference is None, "difference": difference}  # fmt: skip
        if difference is not None:
            print(f"{customers} customers: peers disagree, size not timed:\n{difference}")
            result["stages"] = {}
            return result
    active = [name for name in names if STAGES[name].runs(customers)]
    for name in names:
        if name not in active:
            result["stages"][name]["skipped"] = STAGES[name].skip
    for round_ in range(args.rounds):
        # the long stages (minutes each) run in the first round only: --once
        names_now = active if round_ == 0 else [n for n in active if n not in args.once]
        for name in rotated(names_now, round_, args.rounds):
            with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
                run = measure(STAGES[name].command(folder, args.as_of, Path(scratch)),
                              args.timeout)
            run["round"] = round_ + 1
            result["stages"][name]["runs"].append(run)
            print(f"{customers:>7} {name:<22} round {round_ + 1}: {run['wall_s']:8.2f} s wall "
                  f"{run['cpu_s']:8.2f} s CPU {run['peak_rss_mib']:8.0f} MiB"
                  + ("" if run["returncode"] == 0 else f"  FAILED ({run['returncode']})"),
                  flush=True)  # fmt: skip
    for stage in result["stages"].values():
        if stage["runs"]:
            stage.update(summary(stage["runs"]))
    return result


def machine() -> dict:
    """CPU model, cores, RAM, Python and library versions, git commit, date (UTC)."""
    cpu = platform.processor() or platform.machine()
    ram = None
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                   if line.startswith("model name"))  # fmt: skip
        mem = Path("/proc/meminfo").read_text().split()
        ram = round(int(mem[mem.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    git = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True,
                         text=True, cwd=HERE)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], check=False,
                           capture_output=True, text=True, cwd=HERE)  # fmt: skip
    versions = {}
    for package in ("polars", "duckdb", "pandas", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": ram, "os": platform.platform(),
        "python": platform.python_version(), **versions,
        "git_commit": git.stdout.strip() or None,
        "git_dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": _load_average(),
    }  # fmt: skip


def _load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where unknown)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _wall(sizes: dict, customers: int, stage: str) -> float | None:
    return sizes.get(customers, {}).get("stages", {}).get(stage, {}).get("wall_median_s")


def targets(sizes: dict[int, dict]) -> list[dict]:
    """The issue's targets from the figures: at 10 million invoices (200,000 customers), or at
    the largest size measured when that one was not run (said in the row)."""
    timed = [c for c, s in sizes.items() if s.get("stages")]
    big = LARGE if LARGE in timed else max(timed, default=None)
    at = "" if big == LARGE else f" (measured at {big} customers: {LARGE} not run)"
    kf = _wall(sizes, big, "kpis_features")
    peak = sizes.get(big, {}).get("stages", {}).get("kpis_features", {}).get("peak_rss_max_mib")
    duck = _wall(sizes, big, "duckdb_kpis_features")
    pandas = _wall(sizes, big, "pandas_kpis_features")
    rows = [
        ("KPIs + features wall, 10M invoices", kf, "< 10 s", lambda v: v < 10, at),
        ("KPIs + features peak RSS, 10M invoices (GiB)", None if peak is None else peak / 1024,
         "< 6 GiB", lambda v: v < 6, at),
        ("workbench / DuckDB, KPIs + features", _ratio(kf, duck), "<= 1.0", lambda v: v <= 1.0, at),
        ("pandas / workbench, KPIs + features", _ratio(pandas, kf), ">= 5", lambda v: v >= 5, at),
    ]  # fmt: skip
    per_invoice = None
    if _wall(sizes, LARGE, "kpis_features") and _wall(sizes, MEDIUM, "kpis_features"):
        per_invoice = _ratio(
            _wall(sizes, LARGE, "kpis_features") / sizes[LARGE]["invoices"],
            _wall(sizes, MEDIUM, "kpis_features") / sizes[MEDIUM]["invoices"],
        )
    rows.append(("time per invoice, 10M / 1M (KPIs + features)", per_invoice, "<= 1.5",
                 lambda v: v <= 1.5,
                 "" if per_invoice else " (needs 20000 and 200000)"))  # fmt: skip
    series, kpis, load = (_wall(sizes, big, s) for s in ("series_52", "kpis", "load"))
    net = _ratio(series - load, kpis - load) if series and kpis and load else None
    note = at + (f"; net of loading: {net:.2f}" if net is not None else "")
    rows.append(("52-week series / one as-of KPIs", _ratio(series, kpis), "<= 2",
                 lambda v: v <= 2, note))  # fmt: skip
    read = _wall(sizes, big, "read")
    validation = _ratio(load - read, kpis) if load and read and kpis else None
    rows.append(("validation / one `kpis` run ((load - read) / kpis)", validation, "<= 0.2",
                 lambda v: v <= 0.2, at))  # fmt: skip
    return [
        {"target": name, "value": None if value is None else round(value, 3), "threshold": limit,
         "status": _status(value, test, substitute=bool(at) and "10M / 1M" not in name),
         "note": note.strip().removeprefix("; ")}
        for name, value, limit, test, note in rows
    ]  # fmt: skip


def _status(value: float | None, test: Callable[[float], bool], substitute: bool) -> str:
    """met / missed; at a smaller size than the target's, "met at this size" (indicative)."""
    if value is None:
        return "not measured"
    verdict = "met" if test(value) else "missed"
    return f"{verdict} at this size (not at 10M)" if substitute else verdict


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _cell(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def markdown(report: dict) -> str:
    """performance.md: the machine, one table per size, the targets."""
    m = report["machine"]
    lines = [
        "# Performance of the workbench against DuckDB and pandas peers", "",
        (f"Generated by `benchmarks/run.py` ({report['rounds']} round(s), as of "
         f"{report['as_of']}) on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB "
         f"RAM, Python {m['python']}, polars {m['polars']}, DuckDB {m['duckdb']}, pandas "
         f"{m['pandas']}, commit {(m['git_commit'] or '?')[:10]}"
         f"{' (uncommitted changes)' if m['git_dirty'] else ''}; load average (1, 5, 15 min) "
         f"{m.get('load_average')} at the start, {m.get('load_average_end')} at the end "
         "(other processes sharing the cores slow every stage)."),
        "", ("Each stage is its own process (loading the Parquet files included). Wall and CPU "
             f"seconds: median (min) over the rounds ({', '.join(report.get('once', [])) or 'none'}: "
             "the first round only, minutes each, see --once); peak RSS: max over the rounds. The peers "
             "compute fewer features than the workbench (no promises or plans), so the "
             "comparison favours them."),
    ]  # fmt: skip
    for size in report["sizes"].values():
        lines += ["", f"## {size['customers']:,} customers, {size['invoices']:,} invoices", ""]
        if size.get("measured"):
            when = size["measured"]
            commit = (when["git_commit"] or "?")[:10]
            lines += [f"Measured by an earlier run (commit {commit}, {when['date']}), kept.", ""]
        if size.get("note"):
            lines += [size["note"], ""]
        check = size.get("check")
        if check:
            lines.append(f"Peers checked against the workbench ({', '.join(check['peers'])}): "
                         + ("agree." if check["agrees"] else f"DISAGREE: {check['difference']}"))
            lines.append("")
        lines += ["| stage | wall s | CPU s | peak RSS MiB | wall / workbench |",
                  "|---|---:|---:|---:|---:|"]  # fmt: skip
        for name, stage in size["stages"].items():
            if "skipped" in stage:
                lines.append(f"| {name} | skipped: {stage['skipped']} | | | |")
                continue
            if stage.get("failed"):
                lines.append(f"| {name} | failed | | | |")
                continue
            base = name.split("_", 1)[1] if name.startswith(("duckdb_", "pandas_")) else None
            ref = size["stages"].get(base, {}).get("wall_median_s") if base else None
            if stage.get("measured"):  # kept from an earlier run (--merge)
                name = f"{name} (commit {(stage['measured']['git_commit'] or '?')[:7]})"
            lines.append(
                f"| {name} | {_cell(stage['wall_median_s'])} ({_cell(stage['wall_min_s'])}) "
                f"| {_cell(stage['cpu_median_s'])} ({_cell(stage['cpu_min_s'])}) "
                f"| {_cell(stage['peak_rss_max_mib'], 0)} "
                f"| {_cell(_ratio(stage['wall_median_s'], ref))} |"
            )
    lines += ["", "## Targets (issue 12)", "", "| target | value | threshold | status | note |",
              "|---|---:|---|---|---|"]  # fmt: skip
    for row in report["targets"]:
        lines.append(f"| {row['target']} | {_cell(row['value'])} | {row['threshold']} "
                     f"| {row['status']} | {row['note']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="customers per portfolio, comma-separated "
                        f"[default: {','.join(map(str, SIZES))}; --quick: 2000]")  # fmt: skip
    parser.add_argument("--rounds", type=int, help="rounds [default: 3; --quick: 1]")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated stages")
    parser.add_argument("--once", default="train,weekly,training_set,pandas_series_52",
                        help="stages timed in the first round only (minutes each) "
                        "[default: %(default)s]; '' for every round")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2000 customers, 1 round")
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    parser.add_argument("--cache", type=Path, default=HERE / "out", help="portfolios folder")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds after which a stage is killed (recorded as failed)")
    parser.add_argument("--no-check", action="store_true", help="skip the peers' check")
    parser.add_argument("--merge", action="store_true",
                        help="keep the sizes, and the stages of a size, of the results already "
                        "in --out that are not run again (each says the commit it was measured "
                        "at)")
    args = parser.parse_args(argv)
    default = "2000" if args.quick else ",".join(map(str, SIZES))
    args.sizes = [int(s) for s in (args.sizes or default).split(",")]
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.once = {name for name in args.once.split(",") if name}
    unknown = [s for s in args.stages.split(",") if s not in STAGES]
    if unknown:
        parser.error(f"unknown stages {unknown}; known: {', '.join(STAGES)}")
    args.stages = [s for s in STAGES if s in args.stages.split(",")]
    args.cache.mkdir(parents=True, exist_ok=True)
    args.scratch = args.cache
    return args


def previous_sizes(folder: Path) -> dict[int, dict]:
    """The sizes of the results already in ``folder`` (performance.json), each with the commit
    and date it was measured at: kept by --merge for the sizes not run again."""
    path = folder / "performance.json"
    if not path.exists():
        return {}
    report = json.loads(path.read_text(encoding="utf-8"))
    measured = {k: report["machine"].get(k) for k in ("git_commit", "date")}
    return {int(c): {"measured": measured, **s} for c, s in report["sizes"].items()}


def write_report(sizes: dict[int, dict], host: dict, args: argparse.Namespace) -> dict:
    """Write performance.json and performance.md (atomically) for ``sizes``; return the
    report. Called after each size, so that a run stopped half-way keeps what it measured."""
    host["load_average_end"] = _load_average()
    report = {"as_of": args.as_of, "rounds": args.rounds, "once": sorted(args.once),
              "machine": host,
              "sizes": {str(c): s for c, s in sorted(sizes.items())}}  # fmt: skip
    report["targets"] = targets(sizes)
    write_atomic(args.out / "performance.json", json.dumps(report, indent=2) + "\n")
    write_atomic(args.out / "performance.md", markdown(report))
    return report


def with_kept_stages(fresh: dict, earlier: dict | None) -> dict:
    """``fresh`` (a size just run) with the stages of ``earlier`` (the same size in the results
    already written) that were not run again, each marked with the commit and date it was
    measured at (--merge: a peer that did not change need not be timed again)."""
    if not earlier:
        return fresh
    when = earlier.get("measured")
    kept = {
        name: {**stage, "measured": stage.get("measured", when)}
        for name, stage in earlier.get("stages", {}).items()
        if name not in fresh["stages"] and stage.get("runs")
    }
    return {**fresh, "stages": {**fresh["stages"], **kept}}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = previous_sizes(args.out) if args.merge else {}
    host = machine()
    for customers in args.sizes:
        fresh = bench_size(customers, args.stages, args)
        sizes[customers] = with_kept_stages(fresh, sizes.get(customers)) if args.merge else fresh
        report = write_report(sizes, host, args)
    print(markdown(report))
    failed = any(s.get("check", {}).get("agrees") is False for s in sizes.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
