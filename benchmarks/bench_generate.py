"""Benchmark of the synthetic portfolio generator.

Times ``generate_portfolio`` and ``write_portfolio`` for a number of customers and prints the
seconds taken, the row count of every table and the peak resident memory of the process
(``resource.getrusage``). With ``--summary`` it also prints, per archetype, the share of settled
invoices that were settled late and their mean days late, computed from the tables alone.

    .venv/bin/python benchmarks/bench_generate.py --customers 20000
    .venv/bin/python benchmarks/bench_generate.py --customers 2000 --summary
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from workbench.generate import ARCHETYPES, generate_portfolio, write_portfolio


def settlement_by_invoice(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per invoice: settlement_date (the date applied payments plus credit notes reached the
    amount, to 0.005 EUR; null while open), days_late (days, settlement - due), n_payments,
    archetype."""
    moves = pl.concat(
        [
            tables["payments"]
            .drop_nulls("invoice_id")
            .select("invoice_id", pl.col("payment_date").alias("date"), "amount"),
            tables["credit_notes"].select("invoice_id", "date", "amount"),
        ]
    )
    settled = (
        moves.sort("invoice_id", "date")
        .with_columns(cum=pl.col("amount").cum_sum().over("invoice_id"))
        .join(tables["invoices"].select("invoice_id", pl.col("amount").alias("total")), on="invoice_id")
        .filter(pl.col("cum") >= pl.col("total") - 0.005)
        .group_by("invoice_id")
        .agg(settlement_date=pl.col("date").min())
    )
    n_payments = tables["payments"].drop_nulls("invoice_id").group_by("invoice_id").agg(n_payments=pl.len())
    return (
        tables["invoices"]
        .join(settled, on="invoice_id", how="left")
        .join(n_payments, on="invoice_id", how="left")
        .with_columns(
            days_late=(pl.col("settlement_date") - pl.col("due_date")).dt.total_days(),
            n_payments=pl.col("n_payments").fill_null(0),
        )
        .join(tables["ground_truth"].select("customer_id", "archetype"), on="customer_id")
    )


def archetype_summary(tables: dict[str, pl.DataFrame], end: date) -> pl.DataFrame:
    """Per archetype: customers, invoices, share open at end, share of settled invoices settled
    late, mean days late of settled invoices, share paid in several payments, promises kept."""
    by_invoice = settlement_by_invoice(tables)
    promises = tables["promises"].join(
        by_invoice.select("invoice_id", "settlement_date", "archetype"), on="invoice_id"
    ).with_columns(
        kept=pl.col("settlement_date").is_not_null()
        & (pl.col("settlement_date") <= pl.col("promised_date") + pl.duration(days=3))
    )
    customers = tables["ground_truth"].group_by("archetype").agg(customers=pl.len())
    invoices = by_invoice.group_by("archetype").agg(
        invoices=pl.len(),
        open_at_end=pl.col("settlement_date").is_null().mean().round(3),
        settled_late=(pl.col("days_late") > 0).sum() / pl.col("settlement_date").is_not_null().sum(),
        mean_days_late=pl.col("days_late").mean().round(1),
        late_over_30=(pl.col("days_late") > 30).sum() / pl.col("settlement_date").is_not_null().sum(),
        several_payments=(pl.col("n_payments") >= 2).mean().round(3),
    )
    kept = promises.group_by("archetype").agg(promises=pl.len(), promises_kept=pl.col("kept").mean().round(3))
    order = pl.DataFrame({"archetype": list(ARCHETYPES), "rank": range(len(ARCHETYPES))})
    return (
        order.join(customers, on="archetype", how="left")
        .join(invoices, on="archetype", how="left")
        .join(kept, on="archetype", how="left")
        .sort("rank")
        .drop("rank")
        .with_columns(pl.col("settled_late", "late_over_30").round(3))
    )


def peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--out", type=Path, help="folder to write to (default: a temporary one)")
    parser.add_argument("--summary", action="store_true", help="print behaviour by archetype")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tables = generate_portfolio(customers=args.customers, seed=args.seed, start=args.start, end=args.end)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "portfolio"
        paths = write_portfolio(tables, out)
        t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in paths)

    print(f"customers={args.customers} seed={args.seed} period={args.start}..{args.end}")
    print(f"generate: {t1 - t0:.2f} s   write: {t2 - t1:.2f} s   total: {t2 - t0:.2f} s")
    print(f"parquet: {size / 2**20:.1f} MiB   peak RSS: {peak_rss_mib():.0f} MiB")
    for name, frame in tables.items():
        print(f"  {name:<14} {frame.height:>10,} rows")
    if args.summary:
        with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200):
            print(archetype_summary(tables, args.end))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
