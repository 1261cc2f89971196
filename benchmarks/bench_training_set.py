"""Benchmark of the late-payment training set (workbench.snapshots.training_set).

Generates a portfolio (``--customers`` over ``--start`` to ``--end``, about 50 invoices per
customer over two years), validates it into a Portfolio, then builds the training set of every
weekly snapshot labelled by the end date (``history_snapshots``, default policy: 30-day horizon).
Prints the seconds of each stage, the rows and size of the training set, the seconds per
snapshot, and the peak resident memory of the process (``resource.getrusage`` ru_maxrss).

    .venv/bin/python benchmarks/bench_training_set.py --customers 20000
    .venv/bin/python benchmarks/bench_training_set.py --customers 400 --snapshots 10
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date

from workbench.generate import generate_portfolio
from workbench.policy import DEFAULT_POLICY
from workbench.portfolio import Portfolio
from workbench.snapshots import history_snapshots, training_set


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB; ru_maxrss is in KiB on Linux)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 11, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument(
        "--snapshots", type=int, default=None, help="only the last N snapshot dates (default: all)"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tables = generate_portfolio(customers=args.customers, seed=args.seed, start=args.start, end=args.end)
    tables.pop("ground_truth")
    t1 = time.perf_counter()
    portfolio = Portfolio.from_frames(tables)
    del tables
    t2 = time.perf_counter()
    snapshots = history_snapshots(portfolio, args.end, DEFAULT_POLICY)
    if args.snapshots is not None:
        snapshots = snapshots[-args.snapshots :]
    rows = training_set(portfolio, snapshots, DEFAULT_POLICY.model.horizon_days, DEFAULT_POLICY)
    t3 = time.perf_counter()

    invoices = portfolio.frames["invoices"].height
    print(f"customers            {args.customers:>12,}")
    print(f"invoices             {invoices:>12,}")
    print(f"snapshot dates       {len(snapshots):>12,}  ({snapshots[0]} to {snapshots[-1]})")
    print(f"training rows        {rows.height:>12,}  x {rows.width} columns, "
          f"{rows.estimated_size() / 2**20:,.0f} MiB, label rate {rows['label'].mean():.3f}")  # fmt: skip
    print(f"generate             {t1 - t0:>12.1f} s")
    print(f"validate             {t2 - t1:>12.1f} s")
    print(f"training set         {t3 - t2:>12.1f} s  ({(t3 - t2) / len(snapshots):.2f} s per snapshot)")
    print(f"peak RSS             {peak_rss_mib():>12,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
