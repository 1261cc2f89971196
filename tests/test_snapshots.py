"""The training set: snapshot dates, hand-worked rows and labels, and leakage (nothing after the
snapshot date reaches a feature; labels never do)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.generate import generate_portfolio
from workbench.portfolio import Portfolio
from workbench.snapshots import (
    CATEGORICAL_FEATURES,
    KEY_COLUMNS,
    LABEL_COLUMNS,
    MODEL_FEATURES,
    NUMERIC_FEATURES,
    history_snapshots,
    invoice_features,
    labels,
    snapshot_dates,
    training_set,
)


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- snapshot dates ----------------------------------------------------------------------------


def test_snapshot_dates_are_anchored_on_the_last_date():
    assert snapshot_dates(d("2026-01-01"), d("2026-01-29"), 7) == [
        d("2026-01-01"), d("2026-01-08"), d("2026-01-15"), d("2026-01-22"), d("2026-01-29"),
    ]  # fmt: skip
    # going back from the last date, none before the first
    assert snapshot_dates(d("2026-01-02"), d("2026-01-29"), 7) == [
        d("2026-01-08"), d("2026-01-15"), d("2026-01-22"), d("2026-01-29"),
    ]  # fmt: skip
    assert snapshot_dates(d("2026-02-01"), d("2026-01-29"), 7) == []


def test_history_snapshots_are_all_labelled_by_as_of(generated):
    portfolio, as_of = generated
    snapshots = history_snapshots(portfolio, as_of, horizon_days=30)
    assert snapshots, "a 15-month history gives weekly snapshots"
    assert snapshots[-1] == as_of - timedelta(days=30)
    assert all(s + timedelta(days=30) <= as_of for s in snapshots)
    assert all((b - a).days == 7 for a, b in zip(snapshots, snapshots[1:]))
    # warm-up: 90 days after the first invoice
    assert snapshots[0] >= d("2025-01-01") + timedelta(days=90)


# --- a hand-worked training set ----------------------------------------------------------------

HAND = {
    "customers": {
        "customer_id": ["C1", "C2"],
        "name": ["One", "Two"],
        "payment_terms_days": [30, 30],
    },
    "invoices": {
        "invoice_id": ["A", "B", "C", "D"],
        "customer_id": ["C1", "C1", "C2", "C2"],
        "issue_date": [d("2026-01-05"), d("2026-01-20"), d("2026-02-01"), d("2026-02-15")],
        "due_date": [d("2026-02-04"), d("2026-02-19"), d("2026-03-03"), d("2026-03-17")],
        "amount": [1000.0, 500.0, 800.0, 400.0],
        "currency": ["EUR"] * 4,
    },
    "payments": {
        "payment_id": ["P1", "P2", "P3", "P4"],
        "customer_id": ["C1", "C1", "C1", "C2"],
        "payment_date": [d("2026-02-20"), d("2026-02-10"), d("2026-03-25"), d("2026-02-28")],
        "amount": [1000.0, 300.0, 200.0, 400.0],
        "invoice_id": ["A", "B", "B", "D"],
    },
}
"""A paid in full on 02-20; B paid 300 on 02-10 and the last 200 on 03-25; C never paid; D issued
02-15 and paid in full on 02-28."""

HAND_SNAPSHOTS = [d("2026-02-01"), d("2026-02-15"), d("2026-03-01")]


@pytest.fixture(scope="module")
def hand_rows() -> pl.DataFrame:
    return training_set(Portfolio.from_frames(HAND), HAND_SNAPSHOTS, horizon_days=30)


def test_hand_worked_rows_and_labels(hand_rows):
    # s = 02-01, horizon 03-03: A, B, C are issued and open (D is not issued yet).
    #   A was paid on 02-20 -> settled by 03-03: label False, nothing open.
    #   B had 300 of 500 by 03-03 -> 200 still open: label True.
    #   C was never paid -> True, 800 open.
    # s = 02-15, horizon 03-17: A (paid 02-20), B (200 open since 02-10), C, D (issued 02-15)
    #   are open.  A settled -> False; B still 200 open (last payment 03-25) -> True; C -> True;
    #   D paid 02-28 -> False.
    # s = 03-01, horizon 03-31: A (settled 02-20) and D (settled 02-28) are no longer rows.
    #   B is paid off on 03-25 -> False; C -> True.
    expected = pl.DataFrame(
        {
            "snapshot_date": [d("2026-02-01")] * 3 + [d("2026-02-15")] * 4 + [d("2026-03-01")] * 2,
            "invoice_id": ["A", "B", "C", "A", "B", "C", "D", "B", "C"],
            "open_balance": [1000.0, 500.0, 800.0, 1000.0, 200.0, 800.0, 400.0, 200.0, 800.0],
            "label": [False, True, True, False, True, True, False, False, True],
            "open_at_horizon": [0.0, 200.0, 800.0, 0.0, 200.0, 800.0, 0.0, 0.0, 800.0],
        }
    )
    assert_frame_equal(hand_rows.select(expected.columns), expected)


def test_hand_worked_invoice_features(hand_rows):
    row = {
        (r["snapshot_date"], r["invoice_id"]): r for r in hand_rows.iter_rows(named=True)
    }
    a = row[(d("2026-02-15"), "A")]
    assert a["days_past_due"] == 11  # 02-15 - 02-04
    assert a["terms_days"] == 30  # issued 01-05, due 02-04; its age 41 days = dpd + terms
    assert a["partially_paid"] == 0 and a["open_share"] == 1.0
    b = row[(d("2026-02-15"), "B")]
    assert b["partially_paid"] == 1 and b["open_share"] == pytest.approx(0.4)  # 200 / 500
    assert b["invoice_payments"] == 1
    # C1's open balance at 02-15: A 1000 + B 200
    assert b["share_of_customer_balance"] == pytest.approx(200 / 1200)
    c = row[(d("2026-02-01"), "C")]
    assert c["days_past_due"] == -30  # due 03-03
    # no disputes, contacts or promises table: their features are unknown, not 0
    assert c["disputed"] is None and c["invoice_contacts"] is None and c["invoice_promises"] is None
    # C1 at 03-01: A settled 02-20, 16 days late; B (due 02-19) still open, 10 days past due;
    # both due in the last 90 days, both late
    b3 = row[(d("2026-03-01"), "B")]
    assert b3["customer_invoices_settled"] == 1 and b3["customer_share_settled_late"] == 1.0
    assert b3["customer_recent_due_invoices"] == 2 and b3["customer_recent_late_share"] == 1.0
    assert b3["customer_recent_days_late"] == pytest.approx((16 + 10) / 2)
    assert b3["snapshot_month"] == 3 and b3["customer_terms"] == "30"


def test_training_set_columns_and_types(hand_rows):
    assert hand_rows.columns == [*KEY_COLUMNS, *MODEL_FEATURES, *LABEL_COLUMNS]
    assert all(hand_rows.schema[name] == pl.String for name in CATEGORICAL_FEATURES)
    assert all(hand_rows.schema[name] == pl.Float32 for name in NUMERIC_FEATURES)
    assert hand_rows.schema["label"] == pl.Boolean


def test_labels_never_are_features():
    assert not set(LABEL_COLUMNS) & set(MODEL_FEATURES)
    assert not set(KEY_COLUMNS) & set(MODEL_FEATURES)
    frame = invoice_features(Portfolio.from_frames(HAND), d("2026-02-15")).collect()
    assert not set(LABEL_COLUMNS) & set(frame.columns)


def test_no_snapshot_no_row():
    rows = training_set(Portfolio.from_frames(HAND), [d("2025-12-01")], horizon_days=30)
    assert rows.height == 0 and "label" in rows.columns


def test_on_snapshot_is_called_once_per_distinct_date():
    calls = []
    # 2025-12-01: no invoice issued yet, no row; 02-15 is given twice
    snapshots = [d("2026-02-15"), d("2025-12-01"), d("2026-02-01"), d("2026-02-15")]
    rows = training_set(
        Portfolio.from_frames(HAND), snapshots, 30, on_snapshot=lambda: calls.append(1)
    )
    assert len(calls) == 3
    assert sorted(set(rows["snapshot_date"])) == [d("2026-02-01"), d("2026-02-15")]
    training_set(Portfolio.from_frames(HAND), [d("2025-12-01")], 30, on_snapshot=lambda: calls.append(1))
    assert len(calls) == 4


def oracle_rows(portfolio: Portfolio, snapshots: list[date], horizon_days: int) -> pl.DataFrame:
    """The training set recomputed with the public functions, snapshot by snapshot."""
    parts = []
    for s in sorted(set(snapshots)):
        features = invoice_features(portfolio, s).collect()
        outcome = labels(portfolio, features["invoice_id"], s + timedelta(days=horizon_days))
        parts.append(features.join(outcome.collect(), on="invoice_id", how="left"))
    return pl.concat(parts)


TWO_CURRENCIES = {
    "customers": {"customer_id": ["C1", "C2"], "name": ["One", "Two"]},
    "invoices": {
        "invoice_id": ["A", "B", "U", "V"],
        "customer_id": ["C1", "C1", "C2", "C2"],
        "issue_date": [d("2026-01-05"), d("2026-01-20"), d("2026-01-10"), d("2026-02-10")],
        "due_date": [d("2026-02-04"), d("2026-02-19"), d("2026-02-09"), d("2026-03-12")],
        "amount": [1000.0, 600.0, 500.0, 800.0],
        "currency": ["EUR", "EUR", "USD", "USD"],
    },
    "payments": {
        "payment_id": ["P1", "P2", "P3", "P4"],
        "customer_id": ["C1", "C1", "C2", "C2"],
        "payment_date": [d("2026-02-20"), d("2026-02-10"), d("2026-01-25"), d("2026-03-20")],
        "amount": [1000.0, 300.0, 500.0, 800.0],
        "invoice_id": ["A", "B", "U", "V"],
    },
    "fx_rates": {
        "currency": ["EUR", "USD", "EUR"],
        "date": [d("2026-01-01"), d("2026-01-01"), d("2026-02-15")],
        "rate_to_base": [0.9, 1.0, 0.95],
    },
}
"""EUR and USD invoices, reported in USD (rate 1). U (USD) is paid off on 01-25: on 02-01 the
open invoices (A, B) are all in EUR; on 02-15 V (USD) is open too."""


def test_training_set_in_two_currencies_is_features_and_labels_at_each_snapshot():
    portfolio = Portfolio.from_frames(TWO_CURRENCIES)
    snapshots = [d("2026-02-01"), d("2026-02-15"), d("2026-03-01")]
    rows = training_set(portfolio, snapshots, 30)
    assert_frame_equal(rows, oracle_rows(portfolio, snapshots, 30), check_exact=True)
    # features are in the reporting currency: A's 1000 EUR at 0.95 on 02-15
    a = rows.filter(pl.col("invoice_id") == "A", pl.col("snapshot_date") == d("2026-02-15"))
    assert a["open_balance"].to_list() == [950.0]


# --- leakage on a generated portfolio ----------------------------------------------------------

AS_OF = d("2026-04-15")


@pytest.fixture(scope="module")
def generated_tables() -> dict[str, pl.DataFrame]:
    tables = generate_portfolio(customers=80, seed=3, start=d("2025-01-01"), end=AS_OF)
    tables.pop("ground_truth")
    return tables


@pytest.fixture(scope="module")
def generated(generated_tables) -> tuple[Portfolio, date]:
    return Portfolio.from_frames(generated_tables), AS_OF


EVENT_DATES = {
    "payments": ["payment_date"],
    "contacts": ["contact_date"],
    "disputes": ["opened_date", "resolved_date"],
    "credit_notes": ["date"],
}
"""Dates of events; promises are handled apart (their pay-by date is known when made)."""


def moved_after(tables: dict[str, pl.DataFrame], s: date, new_date) -> dict[str, pl.DataFrame]:
    """``tables`` with every event dated after ``s`` moved to ``new_date(old)`` (> s, and
    monotone, so that resolved >= opened and promised >= promise date still hold)."""
    out = dict(tables)
    for table, columns in EVENT_DATES.items():
        out[table] = tables[table].with_columns(
            pl.when(pl.col(c) > s).then(new_date(pl.col(c))).otherwise(pl.col(c)).alias(c)
            for c in columns
        )
    # a promise made after s moves with its pay-by date (a promise made by s keeps it: it was
    # known at s)
    made_after = pl.col("promise_date") > s
    shift = new_date(pl.col("promise_date")) - pl.col("promise_date")
    out["promises"] = tables["promises"].with_columns(
        promised_date=pl.when(made_after)
        .then(pl.col("promised_date") + shift)
        .otherwise(pl.col("promised_date")),
        promise_date=pl.when(made_after)
        .then(new_date(pl.col("promise_date")))
        .otherwise(pl.col("promise_date")),
    )
    return out


def dropped_after(tables: dict[str, pl.DataFrame], s: date) -> dict[str, pl.DataFrame]:
    """``tables`` without the events dated after ``s`` (a dispute resolved after s is open)."""
    out = dict(tables)
    out["payments"] = tables["payments"].filter(pl.col("payment_date") <= s)
    out["contacts"] = tables["contacts"].filter(pl.col("contact_date") <= s)
    out["credit_notes"] = tables["credit_notes"].filter(pl.col("date") <= s)
    out["promises"] = tables["promises"].filter(pl.col("promise_date") <= s)
    resolved = pl.col("resolved_date")
    out["disputes"] = (
        tables["disputes"]
        .filter(pl.col("opened_date") <= s)
        .with_columns(resolved=pl.when(resolved <= s).then(resolved))
        .with_columns(resolved_date=pl.col("resolved"))
        .drop("resolved")
    )
    return out


def pulled_to_next_day(s: date):
    # every event after s happens on s + 1 .. (halving the distance keeps the order)
    first = s + timedelta(days=1)
    return lambda col: pl.lit(first) + pl.duration(days=(col - pl.lit(first)).dt.total_days() // 2)


def pushed_later(col):
    return col + timedelta(days=45)


@pytest.mark.parametrize("s", [d("2025-08-06"), d("2025-12-10")])
@pytest.mark.parametrize("move", ["pulled", "pushed", "dropped"])
def test_events_after_the_snapshot_never_change_its_features(generated_tables, s, move):
    original = Portfolio.from_frames(generated_tables)
    if move == "dropped":
        moved_tables = dropped_after(generated_tables, s)
    else:
        new_date = pulled_to_next_day(s) if move == "pulled" else pushed_later
        moved_tables = moved_after(generated_tables, s, new_date)
    moved = Portfolio.from_frames(moved_tables)
    # the test is not vacuous: events after s exist and were moved
    assert not moved_tables["payments"].equals(generated_tables["payments"])
    assert not moved_tables["contacts"].equals(generated_tables["contacts"])
    assert not moved_tables["promises"].equals(generated_tables["promises"])
    assert not moved_tables["disputes"].equals(generated_tables["disputes"])
    before = invoice_features(original, s).collect()
    after = invoice_features(moved, s).collect()
    assert before.height > 100
    assert_frame_equal(before, after)


def test_events_after_the_snapshot_change_only_labels(generated_tables):
    s = d("2025-10-01")
    moved = Portfolio.from_frames(moved_after(generated_tables, s, pulled_to_next_day(s)))
    before = training_set(Portfolio.from_frames(generated_tables), [s], 30)
    after = training_set(moved, [s], 30)
    features = [*KEY_COLUMNS, *MODEL_FEATURES]
    assert_frame_equal(before.select(features), after.select(features))
    # payments pulled closer to s settle more invoices by s + 30: labels do change
    assert (before["label"] != after["label"]).sum() > 0
    assert after["label"].sum() < before["label"].sum()


def test_invoices_issued_after_the_snapshot_are_invisible(generated_tables):
    s = d("2025-10-01")
    tables = dict(generated_tables)
    tables["invoices"] = tables["invoices"].filter(pl.col("issue_date") <= s)
    kept = set(tables["invoices"]["invoice_id"])
    for name in ("payments", "disputes", "promises", "contacts", "credit_notes", "payment_plans"):
        tables[name] = tables[name].filter(
            pl.col("invoice_id").is_null() | pl.col("invoice_id").is_in(list(kept))
        )
    assert_frame_equal(
        invoice_features(Portfolio.from_frames(generated_tables), s).collect(),
        invoice_features(Portfolio.from_frames(tables), s).collect(),
    )


def test_only_open_invoices_are_rows(generated):
    portfolio, _ = generated
    from workbench.balances import invoice_balances

    s = d("2025-11-05")
    rows = invoice_features(portfolio, s).collect()
    open_ids = (
        invoice_balances(portfolio, s).filter(pl.col("is_open")).select("invoice_id").collect()
    )
    assert sorted(rows["invoice_id"]) == sorted(open_ids["invoice_id"])
    assert rows["invoice_id"].is_unique().all()
    assert (rows["snapshot_date"] == s).all()


def test_training_set_rows_are_invoice_features_at_each_snapshot(generated):
    # training_set computes balances only for the invoices that can be open: same rows
    portfolio, _ = generated
    snapshots = [d("2025-06-04"), d("2025-11-05"), d("2026-03-11")]
    rows = training_set(portfolio, snapshots, 30)
    expected = pl.concat([invoice_features(portfolio, s).collect() for s in snapshots])
    assert_frame_equal(rows.select(expected.columns), expected)
