"""Speed and memory of the pipeline on a large generated portfolio.

Generates (once, cached in benchmarks/out/) a portfolio of --customers customers over two years,
then runs each stage in a fresh process and prints its wall time and peak resident memory:

    .venv/bin/python benchmarks/run.py --customers 20000          # or: make benchmark
    .venv/bin/python benchmarks/run.py --stages kpis,features

Figures are measurements of this machine, not promises; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-20"

STAGES: dict[str, str] = {
    "load": "from workbench.load import load_portfolio\nload_portfolio(DATA)",
    "kpis": (
        "from workbench.load import load_portfolio\nfrom workbench.kpis import portfolio_kpis\n"
        "portfolio_kpis(load_portfolio(DATA), AS_OF)"
    ),
    "features": (
        "from workbench.load import load_portfolio\n"
        "from workbench.features import customer_features\n"
        "customer_features(load_portfolio(DATA), AS_OF).collect()"
    ),
    "kpi_series_13_weeks": (
        "from datetime import timedelta\nfrom workbench.load import load_portfolio\n"
        "from workbench.kpis import kpi_series\n"
        "kpi_series(load_portfolio(DATA), AS_OF - timedelta(weeks=12), AS_OF)"
    ),
}

RUNNER = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
DATA, AS_OF = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
start = time.perf_counter()
exec(sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def portfolio_folder(customers: int) -> Path:
    """The cached generated portfolio for ``customers`` customers (generated when missing)."""
    folder = HERE / "out" / f"portfolio-{customers}"
    if not (folder / "invoices.parquet").exists():
        subprocess.run(
            [sys.executable, "-m", "workbench.cli", "generate", "--out", str(folder),
             "--customers", str(customers), "--seed", "1", "--start", "2024-11-01", "--end", AS_OF],
            check=True, capture_output=True,
        )  # fmt: skip
    return folder


def measured(stage: str, folder: Path) -> dict:
    """Wall seconds and peak RSS (MiB) of one stage run in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, str(folder), AS_OF, STAGES[stage]],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--stages", default=",".join(STAGES))
    args = parser.parse_args()
    started = time.perf_counter()
    folder = portfolio_folder(args.customers)
    print(f"portfolio: {folder} ({args.customers} customers), ready in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    for stage in args.stages.split(","):
        result = measured(stage, folder)
        print(f"{stage:<22} {result['seconds']:8.2f} s   peak RSS {result['peak_rss_mib']:8.0f} MiB")


if __name__ == "__main__":
    main()
