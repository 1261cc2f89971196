"""Backtest of the weekly cash forecast (workbench.forecast) against two naive forecasts.

On ``data/sample`` and on generated portfolios (``--sizes`` customers x ``--seeds``, over
2024-11-01..2026-11-20, cached like benchmarks/model_quality.py), the forecast is made at
``--origins`` weekly origins, the last one 8 weeks before the data's end (so every forecast is
compared with 8 full weeks of cash received, all before the end), and compared with:

- ``by_due_dates``: the open balances as of the origin falling due in the week (balances already
  overdue counted in week 1);
- ``last_4_weeks``: the average weekly cash of the 4 weeks before the origin.

Metrics (workbench.forecastcheck.backtest_summary): MAPE (%) and bias (mean signed error / mean
actual, %) per method, overall and per horizon week, and the coverage of the forecast's
10 %-90 % range (calibrated on earlier origins only). The check passes when the forecast's
overall MAPE is below both naive forecasts' on every portfolio; the exit status is 1 otherwise.

Writes ``<out>/forecast.md`` and ``<out>/forecast.json``.

    .venv/bin/python benchmarks/forecast_backtest.py
    .venv/bin/python benchmarks/forecast_backtest.py --sizes 200 --seeds 1 --origins 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

METHODS = ("forecast", "by_due_dates", "last_4_weeks")

VARIANTS = {
    "history_26_weeks": {"history_weeks": 26},
    "history_52_weeks": {"history_weeks": 52},
    "no_seasonal_factor": {"seasonal_window": 0},
}
"""Alternatives to the default ``[forecast]`` policy, measured on the same origins (the forecast's
MAPE and range coverage only): what the defaults were chosen against."""


def portfolios(sizes: list[int], seeds: list[int], sample: bool):
    """(name, Portfolio, data end date) of each portfolio to backtest."""
    from model_quality import END, generated_tables

    from workbench.load import load_portfolio
    from workbench.portfolio import Portfolio

    if sample:
        portfolio = load_portfolio(ROOT / "data" / "sample")
        end = portfolio.frames["invoices"]["issue_date"].max()
        yield "data/sample", portfolio, end
    for size in sizes:
        for seed in seeds:
            yield (
                f"generated {size} customers, seed {seed}",
                Portfolio.from_frames(generated_tables(size, seed)),
                END,
            )


def run_one(
    portfolio, end: date, count: int, changes: dict | None = None
) -> tuple[dict, float, list[date]]:
    """The summary of the backtest of ``portfolio`` at ``count`` weekly origins ending 8 weeks
    before ``end`` (default policy, with the ``[forecast]`` ``changes``), its seconds, and the
    origins."""
    from dataclasses import replace

    from workbench.forecastcheck import backtest_summary, forecast_backtest
    from workbench.policy import DEFAULT_POLICY

    policy = replace(DEFAULT_POLICY, forecast=replace(DEFAULT_POLICY.forecast, **(changes or {})))
    weeks = policy.forecast.weeks
    last = end - timedelta(days=7 * weeks)
    origins = [last - timedelta(days=7 * j) for j in range(count)][::-1]
    started = time.perf_counter()
    frame = forecast_backtest(portfolio, origins, policy)
    return backtest_summary(frame), time.perf_counter() - started, origins


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown(results: list[dict], command: str, seconds: float) -> str:
    """The report: summary per portfolio, then per horizon week."""
    from importlib import metadata

    lines = [
        "# Cash forecast: backtest against two naive forecasts",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; total {seconds:.0f} s; load average "
        f"at the end {[round(x, 2) for x in os.getloadavg()]}",
        f"- Python {sys.version.split()[0]}, polars {metadata.version('polars')}, "
        f"workbench {metadata.version('workbench')}",
        f"- Command: `{command}`",
        "- Each forecast (workbench.forecast.cash_forecast) is made at a weekly origin s from the "
        "data as of s only, and compared with the cash received (every payment, applied or not) "
        "in each of the 8 weeks after s. Naive forecasts: by due dates (open balances as of s "
        "falling due in the week; already overdue: week 1) and the last 4 weeks' average weekly "
        "cash. MAPE = mean |forecast - actual| / actual (%); bias = mean (forecast - actual) / "
        "mean actual (%). Coverage: share of weeks whose cash fell in the forecast's "
        "10 %-90 % range, calibrated on earlier origins only (target 80 %).",
        "",
    ]
    beaten = all(
        r["summary"]["overall"]["forecast"]["mape"]
        < min(r["summary"]["overall"][m]["mape"] for m in METHODS[1:])
        for r in results
    )
    verdict = "passed" if beaten else "**FAILED**"
    lines += [
        f"Check (forecast MAPE below both naive forecasts overall on every portfolio): {verdict}.",
        "",
        "## Overall",
        "",
        "| portfolio | origins | weeks | MAPE forecast | MAPE by due dates | MAPE last 4 weeks "
        "| bias forecast | bias by due dates | bias last 4 weeks | range coverage | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        o = r["summary"]["overall"]
        lines.append(
            f"| {r['portfolio']} | {r['summary']['origins']} | {r['summary']['rows']} | "
            + " | ".join(_f(o[m]["mape"]) for m in METHODS)
            + " | "
            + " | ".join(_f(o[m]["bias"]) for m in METHODS)
            + f" | {_f(r['summary']['coverage'])} % | {r['seconds']:.0f} |"
        )
    if any(r.get("variants") for r in results):
        names = list(results[0]["variants"])
        lines += [
            "",
            "## Variants of the forecast (MAPE % / range coverage %, same origins)",
            "",
            "| portfolio | default | " + " | ".join(n.replace("_", " ") for n in names) + " |",
            "|---|---:|" + "---:|" * len(names),
        ]
        for r in results:
            cells = [r["summary"]] + [r["variants"][n] for n in names]
            lines.append(
                f"| {r['portfolio']} | "
                + " | ".join(
                    f"{_f(x['overall']['forecast']['mape'])} / {_f(x['coverage'])}" for x in cells
                )
                + " |"
            )
    lines += ["", "## Per horizon week (MAPE % / bias %)", ""]
    for r in results:
        lines += [
            f"### {r['portfolio']} (origins {r['origins'][0]} to {r['origins'][-1]})",
            "",
            "| week | forecast | by due dates | last 4 weeks | range coverage |",
            "|---:|---:|---:|---:|---:|",
        ]
        for week, errors in r["summary"]["by_week"].items():
            cells = " | ".join(
                f"{_f(errors[m]['mape'])} / {_f(errors[m]['bias'])}" for m in METHODS
            )
            coverage = r["summary"]["coverage_by_week"][week]
            lines.append(f"| {week} | {cells} | {_f(coverage)} % |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[200, 800])
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--origins", type=int, default=16)
    parser.add_argument("--no-sample", action="store_true", help="skip data/sample")
    parser.add_argument("--no-variants", action="store_true", help="skip the policy variants")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    results = []
    with threadpool_limits(1):
        for name, portfolio, end in portfolios(args.sizes, args.seeds, not args.no_sample):
            summary, seconds, origins = run_one(portfolio, end, args.origins)
            variants = {} if args.no_variants else {
                label: run_one(portfolio, end, args.origins, changes)[0]
                for label, changes in VARIANTS.items()
            }  # fmt: skip
            results.append({"portfolio": name, "summary": summary, "seconds": seconds,
                            "origins": [o.isoformat() for o in origins],
                            "variants": variants})  # fmt: skip
            o = summary["overall"]
            print(f"{name}: MAPE " + ", ".join(f"{m} {o[m]['mape']:.1f}" for m in METHODS)
                  + f"; coverage {summary['coverage']:.1f} %; {seconds:.0f} s",
                  file=sys.stderr)  # fmt: skip
    total = time.perf_counter() - started
    command = "python benchmarks/forecast_backtest.py " + " ".join(argv or sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "forecast.md").write_text(markdown(results, command.strip(), total) + "\n")
    (args.out / "forecast.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    beaten = [
        r["summary"]["overall"]["forecast"]["mape"]
        < min(r["summary"]["overall"][m]["mape"] for m in METHODS[1:])
        for r in results
    ]
    return 0 if all(beaten) else 1


if __name__ == "__main__":
    pl.Config.set_tbl_rows(50)
    sys.exit(main())
