"""Out-of-time quality of the late-payment risk model against its baselines and a plain reference.

For generated portfolios (``--sizes`` customers, ``--seeds``), each in two variants:

- ``full``: every table ``workbench.generate.generate_portfolio`` writes;
- ``invoices_payments``: the same portfolio reduced to customers, invoices and payments, with
  exactly one payment per invoice settled by the end date (the invoice amount, dated at the
  invoice's settlement date in the full portfolio), no unapplied cash, no contacts, promises,
  disputes, plans or credit notes: the shape of a plain accounting export;

the training set (weekly snapshots, 30-day horizon, default policy) is evaluated out of time at 3
rolling cut-offs by ``workbench.model.walk_forward`` (train on s + 30 days <= cutoff, test on the
12 weeks after it). On each test period four scorers are compared:

- ``model``: the workbench risk model (``walk_forward``'s probabilities);
- ``baseline_dpd`` and ``baseline_customer_late_rate``: the model's two one-feature baselines;
- ``reference``: what a competent analyst writes in 60 lines, independent of the package: 8 as-of
  features computed with plain polars from the raw invoices and payments
  (:func:`reference_features`) and a plain ``HistGradientBoostingClassifier`` (no calibration).

Metrics: ROC AUC, average precision, Brier score (sklearn.metrics), expected calibration error
(``workbench.model.calibration_table``), each with a paired customer-cluster bootstrap interval
(``workbench.bootstrap.cluster_bootstrap``, reference scorer "model"). A difference is "better"
when its whole interval is on the model's better side of 0 (higher AUC / AP, lower Brier), "worse"
when on the other side, "tie" when it straddles 0.

The exit status makes it a check: 1, listing the failing rows, when the model is "worse" than the
reference on AUC anywhere or not "better" than both baselines on AUC everywhere; 0 otherwise.

Writes ``<out>/model_quality.md`` (machine, command, per-row table, summary, chosen
hyper-parameters, seconds per portfolio) and ``<out>/model_quality.json`` (the raw numbers).
Generated tables are cached as Parquet in ``benchmarks/.cache/`` (keyed by a hash of
``generate.py``; delete the folder to regenerate). One progress line per portfolio on stderr.

Threads: ``--threads`` (default 2, the machine's cores) limits the numeric libraries
(threadpoolctl). ``workbench`` sets ``OMP_WAIT_POLICY=PASSIVE``; before it did, on this 2-core
machine shared with other processes (load average 9), a HistGradientBoostingClassifier fit of
20,000 rows x 40 features, 100 iterations, took 10 s on 1 thread and 75 s on 2 (spinning OpenMP
threads); ``--threads 1`` is the fallback if that comes back.

    .venv/bin/python benchmarks/model_quality.py                 # the whole run
    .venv/bin/python benchmarks/model_quality.py --quick         # smoke run: 60, 100, seed 1
    .venv/bin/python benchmarks/model_quality.py --sizes 400 --seeds 1 --variants full
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
START, END = date(2024, 11, 1), date(2026, 11, 20)
HORIZON_DAYS = 30
CUTOFF_STEPS = (2, 1, 0)
"""Cut-offs: the default cutoff minus 12 weeks times each of these (oldest first)."""

VARIANTS = ("full", "invoices_payments")
SCORERS = ("model", "baseline_dpd", "baseline_customer_late_rate", "reference")
BASELINES = ("baseline_dpd", "baseline_customer_late_rate")
METRICS = ("roc_auc", "average_precision", "brier")
METRIC_LABELS = {"roc_auc": "AUC", "average_precision": "AP", "brier": "Brier"}
HIGHER_IS_BETTER = {"roc_auc": True, "average_precision": True, "brier": False}

REFERENCE_FEATURES = (
    "days_past_due",          # s - due date (days; negative when not yet due)
    "terms_days",             # due - issue date (days)
    "amount_log",             # log(invoice amount)
    "paid_share",             # payments applied to the invoice dated <= s / amount (0-1)
    "customer_settled",       # the customer's invoices settled by s (count)
    "customer_late_share",    # of those, the share settled after their due date (0-1; null if none)
    "customer_mean_days_late",  # of those, mean settlement - due (days; null if none)
    "customer_open_overdue",  # the customer's open balance past due at s (currency)
)  # fmt: skip
"""The reference model's features, all as of the snapshot date s (only rows dated <= s)."""

REFERENCE_PARAMETERS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_depth": 3,
    "min_samples_leaf": 50,
    "random_state": 0,
}

SETTLED_TOLERANCE = 0.005
"""An invoice is settled once its applied payments reach its amount less this (currency)."""


# --- data ------------------------------------------------------------------------------------


def generator_version() -> str:
    """First 10 hex digits of the SHA-256 of ``workbench/generate.py``: the cache key."""
    import workbench.generate

    return hashlib.sha256(Path(workbench.generate.__file__).read_bytes()).hexdigest()[:10]


def generated_tables(customers: int, seed: int) -> dict[str, pl.DataFrame]:
    """The generated portfolio (without ``ground_truth``) of ``customers`` customers and ``seed``
    over START..END, read from ``benchmarks/.cache/`` or generated and cached there."""
    from workbench.generate import TABLE_NAMES, generate_portfolio

    folder = CACHE / f"generated-{generator_version()}-c{customers}-s{seed}"
    if all((folder / f"{name}.parquet").exists() for name in TABLE_NAMES):
        return {name: pl.read_parquet(folder / f"{name}.parquet") for name in TABLE_NAMES}
    tables = generate_portfolio(customers=customers, seed=seed, start=START, end=END)
    tables.pop("ground_truth")
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        tmp = folder / f"{name}.parquet.tmp"
        frame.write_parquet(tmp)
        tmp.replace(folder / f"{name}.parquet")
    return tables


def invoices_payments_variant(full: Any, end: date) -> dict[str, pl.DataFrame]:
    """customers, invoices and payments of the Portfolio ``full``, with one payment per invoice
    settled by ``end``: its amount (currency), dated at its settlement date as of ``end``
    (``workbench.balances.invoice_balances``; it may come from a credit note in ``full``). Open
    invoices get no payment; no unapplied cash, no other table."""
    from workbench.balances import invoice_balances

    invoices = full.frames["invoices"]
    settled = (
        invoice_balances(full, end)
        .select("invoice_id", "settlement_date")
        .filter(pl.col("settlement_date").is_not_null())
        .collect()
    )
    payments = (
        invoices.join(settled, on="invoice_id", how="inner")
        .sort("invoice_id")
        .select(
            payment_id=pl.lit("PV-") + pl.col("invoice_id"),
            customer_id="customer_id",
            payment_date="settlement_date",
            amount="amount",
            invoice_id="invoice_id",
            currency="currency",
        )
    )
    # checks: one payment per settled invoice, for its amount, never after the end date
    assert payments["invoice_id"].n_unique() == payments.height == settled.height
    assert payments["payment_id"].is_unique().all()
    assert payments["payment_date"].max() is None or payments["payment_date"].max() <= end
    paid = payments.group_by("invoice_id").agg(paid=pl.col("amount").sum())
    check = invoices.join(paid, on="invoice_id", how="inner")
    assert check.height == settled.height
    assert (check["paid"] - check["amount"]).abs().max() in (None, 0.0)
    return {
        "customers": full.frames["customers"],
        "invoices": invoices,
        "payments": payments,
    }


def check_variant(variant: Any, full: Any, end: date) -> None:
    """The variant Portfolio settles each invoice on the date the full one does (asserts)."""
    from workbench.balances import invoice_balances

    def settlement(p: Any) -> pl.DataFrame:
        return invoice_balances(p, end).select("invoice_id", "settlement_date").collect()

    both = settlement(full).join(settlement(variant), on="invoice_id", suffix="_variant")
    assert both.height == full.frames["invoices"].height
    differ = both.filter(pl.col("settlement_date").ne_missing(pl.col("settlement_date_variant")))
    assert differ.height == 0, differ.head()
    for table in ("contacts", "promises", "disputes", "payment_plans", "credit_notes"):
        assert not variant.has(table) and variant.frames[table].height == 0
    assert variant.frames["payments"]["invoice_id"].null_count() == 0


# --- reference model -------------------------------------------------------------------------


def _settlement_dates(invoices: pl.DataFrame, applied: pl.DataFrame) -> pl.DataFrame:
    """invoice_id, settlement_date: the first payment date at which the invoice's applied
    payments add up to its amount (less SETTLED_TOLERANCE). An invoice never settled has no row.
    Depends only on payments dated <= that date, so "settled by s" is as of s."""
    return (
        applied.join(invoices.select("invoice_id", invoice_amount="amount"), on="invoice_id")
        .sort("invoice_id", "payment_date")
        .with_columns(paid_so_far=pl.col("amount").cum_sum().over("invoice_id"))
        .filter(pl.col("paid_so_far") >= pl.col("invoice_amount") - SETTLED_TOLERANCE)
        .group_by("invoice_id")
        .agg(settlement_date=pl.col("payment_date").min())
    )


def reference_features(
    invoices: pl.DataFrame, payments: pl.DataFrame, keys: pl.DataFrame
) -> pl.DataFrame:
    """:data:`REFERENCE_FEATURES` for each (invoice_id, snapshot_date) row of ``keys``, in the
    order of ``keys``: invoice_id, snapshot_date, then the features (Float64).

    Plain polars on the raw tables only: ``invoices`` (invoice_id, customer_id, issue_date,
    due_date, amount) and ``payments`` (payment_date, amount, invoice_id; unapplied cash, with a
    null invoice_id, is ignored). At a snapshot s only invoices issued <= s and payments dated <= s
    are used. Amounts are taken as they are (one currency assumed)."""
    applied = payments.filter(pl.col("invoice_id").is_not_null()).select(
        "invoice_id", "payment_date", "amount"
    )
    settlement = _settlement_dates(invoices, applied)
    keyed = keys.select("invoice_id", "snapshot_date").with_row_index("_row")
    parts = []
    for s in keyed["snapshot_date"].unique().sort().to_list():
        paid = (
            applied.filter(pl.col("payment_date") <= s)
            .group_by("invoice_id")
            .agg(paid=pl.col("amount").sum())
        )
        known = (
            invoices.filter(pl.col("issue_date") <= s)
            .join(paid, on="invoice_id", how="left")
            .join(settlement, on="invoice_id", how="left")
            .with_columns(
                paid=pl.col("paid").fill_null(0.0),
                settled=pl.col("settlement_date").is_not_null() & (pl.col("settlement_date") <= s),
            )
        )
        history = (
            known.filter("settled")
            .with_columns(
                days_late=(pl.col("settlement_date") - pl.col("due_date")).dt.total_days()
            )
            .group_by("customer_id")
            .agg(
                customer_settled=pl.len(),
                customer_late_share=(pl.col("days_late") > 0).mean(),
                customer_mean_days_late=pl.col("days_late").mean(),
            )
        )
        overdue = (
            known.filter(~pl.col("settled") & (pl.col("due_date") < s))
            .group_by("customer_id")
            .agg(customer_open_overdue=(pl.col("amount") - pl.col("paid")).clip(0.0).sum())
        )
        parts.append(
            keyed.filter(pl.col("snapshot_date") == s)
            .join(known, on="invoice_id", how="left")
            .join(history, on="customer_id", how="left")
            .join(overdue, on="customer_id", how="left")
            .select(
                "_row",
                "invoice_id",
                "snapshot_date",
                days_past_due=(pl.lit(s) - pl.col("due_date")).dt.total_days(),
                terms_days=(pl.col("due_date") - pl.col("issue_date")).dt.total_days(),
                amount_log=pl.col("amount").log(),
                paid_share=pl.col("paid") / pl.col("amount"),
                customer_settled=pl.col("customer_settled").fill_null(0),
                customer_late_share="customer_late_share",
                customer_mean_days_late="customer_mean_days_late",
                customer_open_overdue=pl.col("customer_open_overdue").fill_null(0.0),
            )
        )
    if not parts:
        schema = {"invoice_id": pl.String, "snapshot_date": pl.Date}
        return pl.DataFrame(schema=schema | dict.fromkeys(REFERENCE_FEATURES, pl.Float64))
    return (
        pl.concat(parts)
        .sort("_row")
        .drop("_row")
        .with_columns(pl.col(REFERENCE_FEATURES).cast(pl.Float64))
    )


def reference_probabilities(
    features: pl.DataFrame, train: pl.DataFrame, test: pl.DataFrame
) -> np.ndarray:
    """The reference model (plain HistGradientBoostingClassifier, no calibration) fitted on the
    ``train`` rows and applied to the ``test`` rows; ``features`` is :func:`reference_features`
    of every row, joined on (invoice_id, snapshot_date). Probability (0-1) per test row."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def matrix(rows: pl.DataFrame) -> np.ndarray:
        joined = rows.select("invoice_id", "snapshot_date").join(
            features, on=["invoice_id", "snapshot_date"], how="left", maintain_order="left"
        )
        assert joined.height == rows.height
        return joined.select(REFERENCE_FEATURES).to_numpy()

    trees = HistGradientBoostingClassifier(**REFERENCE_PARAMETERS)
    trees.fit(matrix(train), train["label"].cast(pl.Int8).to_numpy())
    return trees.predict_proba(matrix(test))[:, 1]


# --- the model side ---------------------------------------------------------------------------


def _walk_forward() -> Any:
    """``workbench.model.walk_forward`` (the lead's public name), else the function it re-exports
    from ``workbench.riskfit``."""
    try:
        from workbench.model import walk_forward
    except ImportError:
        from workbench.riskfit import walk_forward
    return walk_forward


def selection_of(result: Any) -> dict[str, Any]:
    """The JSON-ready hyper-parameter selection of a walk_forward result (with ``chosen``)."""
    if hasattr(result, "selection_report"):
        return result.selection_report()
    if isinstance(result.selection, dict):
        return result.selection
    return {"chosen": repr(result.selection)}


# --- evaluations -----------------------------------------------------------------------------


def cutoffs(end: date, policy: Any) -> list[date]:
    """The 3 rolling cut-offs, oldest first, 12 weeks apart, the last the default cutoff."""
    from workbench.model import default_cutoff

    last = default_cutoff(end, HORIZON_DAYS, policy)
    return [last - timedelta(weeks=12 * k) for k in CUTOFF_STEPS]


def verdict(difference: dict[str, Any] | None, metric: str) -> str:
    """ "better" when the interval of model - other lies wholly on the model's better side of 0
    (above for AUC and AP, below for Brier), "worse" when wholly on the other side, "tie" when it
    straddles (or touches) 0; "n/a" when undefined."""
    if not difference or difference.get("low") is None or difference.get("high") is None:
        return "n/a"
    low, high = difference["low"], difference["high"]
    if not HIGHER_IS_BETTER[metric]:
        low, high = -high, -low
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "tie"


def point_metrics(label: np.ndarray, probability: np.ndarray) -> dict[str, float | None]:
    """roc_auc, average_precision, brier (sklearn.metrics) and ece
    (``workbench.model.calibration_table``); ranking metrics None with a single class."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from workbench.model import calibration_table

    both = len(np.unique(label)) == 2
    return {
        "roc_auc": float(roc_auc_score(label, probability)) if both else None,
        "average_precision": float(average_precision_score(label, probability)) if both else None,
        "brier": float(brier_score_loss(label, probability, labels=[0, 1])),
        "ece": calibration_table(label, probability)["expected_calibration_error"],
    }


@dataclass
class Timer:
    """Seconds spent per stage (accumulated)."""

    seconds: dict[str, float]

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now


def evaluate_portfolio(
    customers: int, seed: int, variant: str, resamples: int, policy: Any
) -> dict[str, Any]:
    """Every row (one per cutoff) of one portfolio, its chosen hyper-parameters and timings."""
    from workbench.bootstrap import cluster_bootstrap
    from workbench.portfolio import Portfolio
    from workbench.snapshots import history_snapshots, training_set

    timer = Timer({})
    t = time.perf_counter()
    tables = generated_tables(customers, seed)
    portfolio = Portfolio.from_frames(tables)
    if variant == "invoices_payments":
        full = portfolio
        tables = invoices_payments_variant(full, END)
        portfolio = Portfolio.from_frames(tables)
        check_variant(portfolio, full, END)
        del full
    t = timer.add("data", t)

    rows = training_set(portfolio, history_snapshots(portfolio, END, policy), HORIZON_DAYS, policy)
    assert rows.select("invoice_id", "snapshot_date").is_unique().all()
    t = timer.add("training_set", t)

    result = _walk_forward()(rows, END, HORIZON_DAYS, cutoffs(END, policy), policy)
    t = timer.add("walk_forward", t)

    features = reference_features(tables["invoices"], tables["payments"], rows)
    t = timer.add("reference", t)

    entries = []
    for ev in result.evaluations:
        t = time.perf_counter()
        probabilities = {name: np.asarray(ev.probabilities[name]) for name in SCORERS[:3]}
        train = ev.train
        probabilities["reference"] = reference_probabilities(features, train, ev.test)
        label = ev.test["label"].cast(pl.Int8).to_numpy()
        for name, p in probabilities.items():
            assert len(p) == ev.test.height, (name, len(p), ev.test.height)
        t = timer.add("reference", t)
        intervals = cluster_bootstrap(
            label,
            probabilities,
            ev.test["customer_id"].to_numpy(),
            reference="model",
            resamples=resamples,
            seed=0,
        )
        t = timer.add("bootstrap", t)
        differences = intervals["differences"]
        entries.append(
            {
                "size": customers,
                "seed": seed,
                "variant": variant,
                "cutoff": ev.cutoff.isoformat(),
                "n_train": train.height,
                # rows the model's trees were fitted on (a seeded sample above its cap)
                "n_train_model": getattr(ev, "n_train", None),
                "n_test": ev.test.height,
                "test_customers": ev.test["customer_id"].n_unique(),
                "test_first_snapshot": _iso(ev.test["snapshot_date"].min()),
                "test_last_snapshot": _iso(ev.test["snapshot_date"].max()),
                "base_rate": float(label.mean()) if len(label) else None,
                "metrics": {n: point_metrics(label, p) for n, p in probabilities.items()},
                "intervals": intervals["metrics"],
                "differences": differences,
                "verdicts": {
                    other: {m: verdict(differences.get(other, {}).get(m), m) for m in METRICS}
                    for other in SCORERS[1:]
                },
            }
        )
        timer.add("metrics", t)
    return {
        "size": customers,
        "seed": seed,
        "variant": variant,
        "invoices": portfolio.frames["invoices"].height,
        "training_rows": rows.height,
        "selection": selection_of(result),
        "seconds": {k: round(v, 2) for k, v in timer.seconds.items()},
        "rows": entries,
    }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def failures(entries: list[dict[str, Any]]) -> list[str]:
    """One line per row where the model is "worse" than the reference on AUC or not "better"
    than a baseline on AUC."""
    lines = []
    for e in entries:
        where = f"{e['size']} customers, seed {e['seed']}, {e['variant']}, cutoff {e['cutoff']}"
        v = e["verdicts"]
        if v["reference"]["roc_auc"] == "worse":
            lines.append(f"{where}: model worse than the reference on AUC "
                         f"({_diff(e, 'reference', 'roc_auc')})")  # fmt: skip
        for name in BASELINES:
            if v[name]["roc_auc"] != "better":
                lines.append(f"{where}: model {v[name]['roc_auc']} vs {name} on AUC "
                             f"({_diff(e, name, 'roc_auc')})")  # fmt: skip
    return lines


# --- report ----------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _interval(cell: dict[str, Any] | None, digits: int = 3, sign: bool = False) -> str:
    if not cell:
        return "n/a"
    return (f"{_num(cell.get('estimate'), digits, sign)} "
            f"[{_num(cell.get('low'), digits, sign)}, {_num(cell.get('high'), digits, sign)}]")  # fmt: skip


def _diff(entry: dict[str, Any], other: str, metric: str) -> str:
    return _interval(entry["differences"].get(other, {}).get(metric), sign=True)


def machine(threads: int) -> dict[str, Any]:
    """Cores, CPU model, Python and library versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for package in ("workbench", "scikit-learn", "polars", "numpy"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return {"cores": os.cpu_count(), "threads_used": threads, "cpu": cpu, "versions": versions}


def markdown(report: dict[str, Any]) -> str:
    """The Markdown report of :func:`main`'s JSON ``report``."""
    m = report["machine"]
    v = m["versions"]
    entries = [e for p in report["portfolios"] for e in p["rows"]]
    out = [
        "# Risk model: out-of-time quality vs baselines and a plain reference",
        "",
        (
            f"- Date: {report['date']}; total {report['total_seconds']:.0f} s; load average "
            f"(1, 5, 15 min) at the start {report['load_average']['start']}, at the end "
            f"{report['load_average']['end']} (other processes sharing the cores slow every stage)"
        ),
        (
            f"- Machine: {m['cores']} cores ({m['threads_used']} threads used), {m['cpu']}; "
            f"Python {v['python']}, scikit-learn {v['scikit-learn']}, polars {v['polars']}, "
            f"numpy {v['numpy']}, workbench {v['workbench']}"
        ),
        f"- Command: `{report['command']}`",
        (
            f"- Portfolios generated over {START} to {END}; horizon {HORIZON_DAYS} days; cut-offs "
            "12 weeks apart, each tested on the 12 weeks of snapshots after it; "
            f"{report['resamples']} customer-cluster bootstrap resamples (95 % intervals, paired)."
        ),
        (
            "- Scorers: model = workbench risk model (walk_forward); reference = plain "
            "HistGradientBoostingClassifier on 8 as-of features from the raw invoices and payments "
            "(benchmarks/model_quality.py); baselines = days past due alone, customer's late rate "
            "alone."
        ),
        (
            "- Differences are model - other: positive is better for AUC and AP, negative for Brier. "
            "Verdict: better / tie / worse when the interval is wholly on the model's better side, "
            "straddles 0, wholly on the other side."
        ),
        "",
        *(
            []
            if report.get("complete", True)
            else [
                (
                    f"**Partial results: {report['portfolios_done']} of {report['portfolios_planned']} "
                    "portfolios done** (the run was stopped or is still running)."
                ),
                "",
            ]
        ),
        (
            "Check (the model not worse than the reference on AUC anywhere, and better than both "
            f"baselines on AUC everywhere): **{'FAILED' if report['failures'] else 'passed'}**."
        ),
        "",
    ]
    if report["failures"]:
        out += ["Failing rows:", ""] + [f"- {line}" for line in report["failures"]] + [""]

    out += ["## Summary per size and variant (seeds and cut-offs pooled)", ""]
    out += [
        (
            "| size | variant | rows | mean Δ AUC | AUC b/t/w | mean Δ AP | AP b/t/w | mean Δ Brier "
            "| Brier b/t/w | model AUC (mean) | reference AUC (mean) | AUC > dpd | AUC > late rate |"
        ),
        "|---:|---|---:|---:|---|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for row in summary(entries):
        out.append(
            f"| {row['size']} | {row['variant']} | {row['rows']} | "
            + " | ".join(
                f"{_num(row['mean_difference'][metric], 3, True)} | "
                f"{row['counts'][metric]['better']}/{row['counts'][metric]['tie']}/"
                f"{row['counts'][metric]['worse']}"
                for metric in METRICS
            )
            + f" | {_num(row['mean_auc']['model'])} | {_num(row['mean_auc']['reference'])} | "
            f"{row['baselines_better']['baseline_dpd']}/{row['rows']} | "
            f"{row['baselines_better']['baseline_customer_late_rate']}/{row['rows']} |"
        )
    out += ["", "b/t/w: rows where the model is better / tie / worse than the reference.", ""]

    out += ["## Every portfolio and cut-off", ""]
    out += [
        (
            "| size | seed | variant | cutoff | n_train | n_test | customers | base rate "
            "| model AUC | reference AUC | Δ AUC | verdict "
            "| model AP | reference AP | Δ AP | verdict "
            "| model Brier | reference Brier | Δ Brier | verdict "
            "| ECE model | ECE reference | AUC vs dpd | AUC vs late rate |"
        ),
        "|---:|---:|---|---|---:|---:|---:|---:|"
        + "---:|---:|---:|---|" * 3
        + "---:|---:|---|---|",
    ]
    for e in entries:
        cells = [str(e["size"]), str(e["seed"]), e["variant"], e["cutoff"], f"{e['n_train']:,}",
                 f"{e['n_test']:,}", str(e["test_customers"]), _num(e["base_rate"])]  # fmt: skip
        for metric in METRICS:
            cells += [
                _interval(e["intervals"]["model"][metric]),
                _num(e["metrics"]["reference"][metric]),
                _diff(e, "reference", metric),
                e["verdicts"]["reference"][metric],
            ]
        cells += [
            _num(e["metrics"]["model"]["ece"]),
            _num(e["metrics"]["reference"]["ece"]),
            f"{e['verdicts']['baseline_dpd']['roc_auc']} ({_num(e['metrics']['baseline_dpd']['roc_auc'])})",
            (
                f"{e['verdicts']['baseline_customer_late_rate']['roc_auc']} "
                f"({_num(e['metrics']['baseline_customer_late_rate']['roc_auc'])})"
            ),
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", ("Model metric: estimate [95 % interval]; Δ = model - reference [interval]; "
            "AUC vs a baseline: verdict (the baseline's AUC)."), ""]  # fmt: skip

    out += ["## Hyper-parameters chosen (walk_forward selection)", ""]
    out += ["| size | seed | variant | chosen |", "|---:|---:|---|---|"]
    for p in report["portfolios"]:
        chosen = (p["selection"] or {}).get("chosen")
        out.append(f"| {p['size']} | {p['seed']} | {p['variant']} | "
                   f"`{json.dumps(chosen, sort_keys=True, default=str)}` |")  # fmt: skip
    out += [""]

    out += ["## Seconds per portfolio", ""]
    stages = ("data", "training_set", "walk_forward", "reference", "bootstrap", "metrics")
    out += ["| size | seed | variant | invoices | training rows | " + " | ".join(stages)
            + " | total |", "|---:|---:|---|---:|---:|" + "---:|" * (len(stages) + 1)]  # fmt: skip
    for p in report["portfolios"]:
        s = p["seconds"]
        out.append(
            f"| {p['size']} | {p['seed']} | {p['variant']} | {p['invoices']:,} | "
            f"{p['training_rows']:,} | "
            + " | ".join(f"{s.get(k, 0.0):.1f}" for k in stages)
            + f" | {sum(s.values()):.1f} |"
        )
    out += [
        "",
        (
            "data: generate or read the cache, validate (and build the variant); reference: its "
            "features for every row and its fits; metrics: sklearn metrics and ECE."
        ),
        "",
    ]
    return "\n".join(out)


def summary(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (size, variant), pooling seeds and cut-offs: mean difference model - reference per
    metric, counts of better / tie / worse, mean AUC of model and reference, and the number of
    rows where the model is better than each baseline on AUC."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for e in entries:
        groups.setdefault((e["size"], e["variant"]), []).append(e)
    rows = []
    for (size, variant), group in sorted(groups.items()):

        def mean(values: list[float | None]) -> float | None:
            known = [x for x in values if x is not None]
            return float(np.mean(known)) if known else None

        rows.append(
            {
                "size": size,
                "variant": variant,
                "rows": len(group),
                "mean_difference": {
                    m: mean([e["differences"]["reference"][m]["estimate"] for e in group])
                    for m in METRICS
                },
                "counts": {
                    m: {
                        k: sum(e["verdicts"]["reference"][m] == k for e in group)
                        for k in ("better", "tie", "worse")
                    }
                    for m in METRICS
                },
                "mean_auc": {n: mean([e["metrics"][n]["roc_auc"] for e in group]) for n in SCORERS},
                "baselines_better": {
                    b: sum(e["verdicts"][b]["roc_auc"] == "better" for e in group)
                    for b in BASELINES
                },
            }
        )
    return rows


# --- main ------------------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_ints, default=[60, 100, 400, 2000])
    parser.add_argument("--seeds", type=_ints, default=[1, 2])
    parser.add_argument(
        "--variants", type=lambda t: [x for x in t.split(",") if x], default=list(VARIANTS)
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--threads", type=int, default=2,
        help="threads of the numeric libraries (threadpoolctl; default 2, the machine's cores)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: sizes 60,100, seed 1, 200 resamples"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.seeds, args.resamples = [60, 100], [1], 200
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    from workbench.policy import DEFAULT_POLICY

    args = parse_args(argv)
    command = " ".join(
        [".venv/bin/python", "benchmarks/model_quality.py"]
        + [shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)]
    )
    started = time.perf_counter()
    load_before = os.getloadavg()
    planned = [(z, s, v) for z in args.sizes for s in args.seeds for v in args.variants]
    portfolios: list[dict[str, Any]] = []

    def write(complete: bool) -> dict[str, Any]:
        """The report so far, written to --out (after every portfolio: a run stopped early
        leaves its finished portfolios, marked partial)."""
        entries = [e for p in portfolios for e in p["rows"]]
        report = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command,
            "complete": complete,
            "portfolios_done": len(portfolios),
            "portfolios_planned": len(planned),
            "machine": machine(args.threads),
            "sizes": args.sizes,
            "seeds": args.seeds,
            "variants": args.variants,
            "resamples": args.resamples,
            "horizon_days": HORIZON_DAYS,
            "start": START.isoformat(),
            "end": END.isoformat(),
            "reference_features": list(REFERENCE_FEATURES),
            "reference_parameters": REFERENCE_PARAMETERS,
            "total_seconds": round(time.perf_counter() - started, 1),
            "load_average": {
                "start": [round(x, 2) for x in load_before],
                "end": [round(x, 2) for x in os.getloadavg()],
            },
            "failures": failures(entries),
            "summary": summary(entries),
            "portfolios": portfolios,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("model_quality.json", json.dumps(report, indent=1, default=str) + "\n"),
            ("model_quality.md", markdown(report)),
        ):
            tmp = args.out / f"{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(args.out / name)
        return report

    with threadpool_limits(args.threads):
        for size, seed, variant in planned:
            t = time.perf_counter()
            result = evaluate_portfolio(size, seed, variant, args.resamples, DEFAULT_POLICY)
            portfolios.append(result)
            aucs = ", ".join(
                f"{e['cutoff']}: model {_num(e['metrics']['model']['roc_auc'])} / "
                f"reference {_num(e['metrics']['reference']['roc_auc'])}"
                for e in result["rows"]
            )
            print(f"[{time.perf_counter() - started:7.1f} s] {len(portfolios)}/{len(planned)} "
                  f"{size} customers, seed {seed}, {variant}: {result['training_rows']:,} rows, "
                  f"{time.perf_counter() - t:.1f} s; AUC {aucs}",
                  file=sys.stderr, flush=True)  # fmt: skip
            write(complete=len(portfolios) == len(planned))
    report = write(complete=True)
    print(f"wrote {args.out / 'model_quality.md'} and model_quality.json "
          f"({report['total_seconds']:.0f} s)", file=sys.stderr)  # fmt: skip
    if report["failures"]:
        print("FAILED rows:", *report["failures"], sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
