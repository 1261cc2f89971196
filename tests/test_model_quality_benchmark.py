"""The pieces of benchmarks/model_quality.py that decide its figures: the reference model's as-of
features (hand-worked), the invoices-and-payments variant, and the verdicts of an interval.

The story of the hand tables (EUR, 2026):

- C1: I1 1000.00 issued 01-01 due 01-31, paid 400 on 01-20 and 600 on 02-10 (settled 10 days
  late); I2 500.00 issued 02-01 due 03-03, paid 02-25 (6 days early); I3 2000.00 issued 03-01 due
  03-31, paid 04-20 (20 days late).
- C2: I4 300.00 issued 01-15 due 02-14, paid 03-16 (30 days late); I5 800.00 issued 02-20 due
  03-22, never paid; 100.00 of unapplied cash on 03-01 (ignored by the reference).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.balances import invoice_balances
from workbench.portfolio import Portfolio

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "model_quality", ROOT / "benchmarks" / "model_quality.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["model_quality"] = module
    spec.loader.exec_module(module)
    return module


mq = _load_benchmark()


def d(text: str) -> date:
    return date.fromisoformat(f"2026-{text}")


INVOICES = pl.DataFrame(
    {
        "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
        "customer_id": ["C1", "C1", "C1", "C2", "C2"],
        "issue_date": [d("01-01"), d("02-01"), d("03-01"), d("01-15"), d("02-20")],
        "due_date": [d("01-31"), d("03-03"), d("03-31"), d("02-14"), d("03-22")],
        "amount": [1000.0, 500.0, 2000.0, 300.0, 800.0],
        "currency": ["EUR"] * 5,
    }
)
PAYMENTS = pl.DataFrame(
    {
        "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "customer_id": ["C1", "C1", "C1", "C1", "C2", "C2"],
        "payment_date": [d("01-20"), d("02-10"), d("02-25"), d("04-20"), d("03-16"), d("03-01")],
        "amount": [400.0, 600.0, 500.0, 2000.0, 300.0, 100.0],
        "invoice_id": ["I1", "I1", "I2", "I3", "I4", None],
    }
)
KEYS = pl.DataFrame(  # deliberately not sorted: the output keeps this order
    {
        "invoice_id": ["I5", "I2", "I1", "I3", "I4"],
        "snapshot_date": [d("04-10"), d("02-15"), d("01-25"), d("04-10"), d("02-15")],
    }
)

NULL = None
EXPECTED = {  # (invoice, snapshot) -> the 8 features, worked out by hand from the story above
    # I1 on 01-25: 6 days before due, 400 of 1000 paid; C1 has nothing settled nor overdue yet
    ("I1", d("01-25")): (-6, 30, math.log(1000), 0.4, 0, NULL, NULL, 0.0),
    # I2 on 02-15: C1 has settled I1 (10 days late); nothing of C1 overdue (I2 not due)
    ("I2", d("02-15")): (-16, 30, math.log(500), 0.0, 1, 1.0, 10.0, 0.0),
    # I4 on 02-15: one day past due; C2 has settled nothing, I4 (300) is overdue
    ("I4", d("02-15")): (1, 30, math.log(300), 0.0, 0, NULL, NULL, 300.0),
    # I3 on 04-10: C1 settled I1 (+10) and I2 (-6): late share 1/2, mean 2; I3 overdue
    ("I3", d("04-10")): (10, 30, math.log(2000), 0.0, 2, 0.5, 2.0, 2000.0),
    # I5 on 04-10: C2 settled I4 (+30); I5 (800) overdue; the unapplied 100 changes nothing
    ("I5", d("04-10")): (19, 30, math.log(800), 0.0, 1, 1.0, 30.0, 800.0),
}


def test_reference_features_by_hand():
    features = mq.reference_features(INVOICES, PAYMENTS, KEYS)
    assert features.columns == ["invoice_id", "snapshot_date", *mq.REFERENCE_FEATURES]
    assert_frame_equal(features.select("invoice_id", "snapshot_date"), KEYS)
    for row in features.iter_rows(named=True):
        expected = EXPECTED[(row["invoice_id"], row["snapshot_date"])]
        got = tuple(row[name] for name in mq.REFERENCE_FEATURES)
        for name, want, value in zip(mq.REFERENCE_FEATURES, expected, got, strict=True):
            if want is None:
                assert value is None, (row["invoice_id"], name, value)
            else:
                assert value == pytest.approx(want, abs=1e-12), (row["invoice_id"], name, value)


def test_later_payments_and_invoices_change_nothing_at_s():
    for s in KEYS["snapshot_date"].unique().sort().to_list():
        keys = KEYS.filter(pl.col("snapshot_date") == s)
        the_day_after = s + timedelta(days=1)
        # the day after s: every invoice paid in full (would settle the open ones, early or
        # late, if it leaked), unapplied cash, and an overdue-looking invoice of 5000 issued
        later_payments = pl.concat(
            [
                PAYMENTS,
                INVOICES.select(
                    payment_id=pl.lit("L-") + pl.col("invoice_id"),
                    customer_id="customer_id",
                    payment_date=pl.lit(the_day_after),
                    amount="amount",
                    invoice_id="invoice_id",
                ),
                pl.DataFrame(
                    {
                        "payment_id": ["L-cash"],
                        "customer_id": ["C1"],
                        "payment_date": [the_day_after],
                        "amount": [999.0],
                        "invoice_id": [None],
                    }
                ),
            ],
            how="vertical_relaxed",
        )
        later_invoices = pl.concat(
            [
                INVOICES,
                pl.DataFrame(
                    {
                        "invoice_id": ["I6"],
                        "customer_id": ["C2"],
                        "issue_date": [the_day_after],
                        "due_date": [d("01-01")],
                        "amount": [5000.0],
                        "currency": ["EUR"],
                    }
                ),
            ]
        )
        before = mq.reference_features(INVOICES, PAYMENTS, keys)
        after = mq.reference_features(later_invoices, later_payments, keys)
        assert_frame_equal(before, after)
        # the same payments dated s do change the features at s (the check can fail)
        on_s = later_payments.with_columns(
            payment_date=pl.col("payment_date").clip(upper_bound=pl.lit(s))
        )
        assert not mq.reference_features(INVOICES, on_s, keys).equals(before)


def test_reference_features_ignore_other_columns_and_order_of_payments():
    shuffled = PAYMENTS.reverse().with_columns(currency=pl.lit("EUR"))
    assert_frame_equal(
        mq.reference_features(INVOICES, shuffled, KEYS),
        mq.reference_features(INVOICES, PAYMENTS, KEYS),
    )


def test_invoices_payments_variant_of_the_hand_portfolio(hand_portfolio, as_of):
    tables = mq.invoices_payments_variant(hand_portfolio, as_of)
    assert sorted(tables) == ["customers", "invoices", "payments"]
    payments = tables["payments"]
    settled = (
        invoice_balances(hand_portfolio, as_of)
        .filter(pl.col("settlement_date").is_not_null())
        .select("invoice_id", "settlement_date", "amount")
        .collect()
        .sort("invoice_id")
    )
    # one payment per settled invoice: its amount, on its settlement date; nothing else
    assert_frame_equal(
        payments.select("invoice_id", settlement_date="payment_date", amount="amount").sort(
            "invoice_id"
        ),
        settled,
    )
    variant = Portfolio.from_frames(tables)
    mq.check_variant(variant, hand_portfolio, as_of)


def test_verdicts():
    def cell(low, high):
        return {"estimate": (low + high) / 2, "low": low, "high": high}

    assert mq.verdict(cell(0.01, 0.05), "roc_auc") == "better"
    assert mq.verdict(cell(-0.01, 0.05), "roc_auc") == "tie"
    assert mq.verdict(cell(0.0, 0.05), "average_precision") == "tie"
    assert mq.verdict(cell(-0.05, -0.01), "average_precision") == "worse"
    assert mq.verdict(cell(-0.05, -0.01), "brier") == "better"  # lower Brier is better
    assert mq.verdict(cell(0.01, 0.05), "brier") == "worse"
    assert mq.verdict(cell(-0.01, 0.01), "brier") == "tie"
    assert mq.verdict({"estimate": None, "low": None, "high": None}, "roc_auc") == "n/a"


def test_failures_name_the_rows_that_fail_the_check():
    def row(reference, dpd, late):
        verdicts = {
            "reference": {"roc_auc": reference},
            "baseline_dpd": {"roc_auc": dpd},
            "baseline_customer_late_rate": {"roc_auc": late},
        }
        differences = {n: {"roc_auc": {"estimate": 0.0, "low": 0.0, "high": 0.0}} for n in verdicts}
        return {"size": 60, "seed": 1, "variant": "full", "cutoff": "2026-07-29",
                "verdicts": verdicts, "differences": differences}  # fmt: skip

    assert mq.failures([row("tie", "better", "better"), row("better", "better", "better")]) == []
    lines = mq.failures([row("worse", "better", "tie")])
    assert len(lines) == 2
    assert "worse than the reference" in lines[0]
    assert "baseline_customer_late_rate" in lines[1]
