"""Benchmark of ``workbench train`` at scale: generate a portfolio (``--customers``, about 50
invoices each over two years), validate it, then train the risk model as the command does
(training set, hyper-parameter search, out-of-time evaluation at each cut-off, intervals,
importance, production refit). Prints wall and CPU seconds of each stage and of the whole
training, and the peak resident memory.

    .venv/bin/python benchmarks/bench_train.py --customers 20000   # about 1 million invoices
    .venv/bin/python benchmarks/bench_train.py --customers 400

CPU seconds are steadier than wall time on a shared machine; both are printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from bench_training_set import peak_rss_mib

from workbench.generate import generate_portfolio
from workbench.model import train_model
from workbench.policy import DEFAULT_POLICY
from workbench.portfolio import Portfolio
from workbench.progress import Steps


class TimedSteps(Steps):
    """A progress bar that also records wall and CPU seconds per stage."""

    def __init__(self) -> None:
        super().__init__("train", enabled=True)
        self.stages: list[tuple[str, float, float]] = []
        self._current = ("start", time.perf_counter(), time.process_time())

    def stage(self, name: str) -> None:
        label, wall, cpu = self._current
        self.stages.append((label, time.perf_counter() - wall, time.process_time() - cpu))
        self._current = (name, time.perf_counter(), time.process_time())
        super().stage(name)

    def close(self) -> None:
        self.stage("end")
        super().close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 11, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tables = generate_portfolio(
        customers=args.customers, seed=args.seed, start=args.start, end=args.end
    )
    tables.pop("ground_truth")
    portfolio = Portfolio.from_frames(tables)
    del tables
    t1, c1 = time.perf_counter(), time.process_time()
    steps = TimedSteps()
    with steps:
        _model, report = train_model(portfolio, args.end, DEFAULT_POLICY, progress=steps)
    t2, c2 = time.perf_counter(), time.process_time()

    print(f"customers            {args.customers:>12,}")
    print(f"invoices             {portfolio.frames['invoices'].height:>12,}")
    print(f"training rows        {report['production']['trees']['rows']:>12,}")
    print(f"generate + validate  {t1 - t0:>12.1f} s wall")
    for name, wall, cpu in steps.stages[1:]:
        print(f"  {name:<50} {wall:>7.1f} s wall {cpu:>7.1f} s CPU")
    print(f"train                {t2 - t1:>12.1f} s wall {c2 - c1:>7.1f} s CPU")
    print(f"peak RSS             {peak_rss_mib():>12,.0f} MiB")
    print(
        f"chosen               {report['selection']['chosen']}, {report['calibration']['method']}"
    )
    print(f"test ROC AUC         {report['metrics']['model']['roc_auc']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
