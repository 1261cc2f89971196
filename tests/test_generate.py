"""Tests of the synthetic portfolio generator (workbench.generate).

Every check works from the generated tables alone, as the rest of the workbench sees them, plus
the ground truth for the behaviour checks. Portfolios are small (a few hundred customers).
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from workbench.generate import ARCHETYPES, TABLE_NAMES, generate_portfolio, write_portfolio
from workbench.schema import CONTACT_CHANNELS, CONTACT_STEPS, PREFERRED_CHANNELS, TABLES, TONES

START = date(2024, 1, 1)
END = date(2025, 12, 31)
CUSTOMERS = 200
TOL = 0.005

ID_PATTERNS = {
    "customers": r"C\d{5}",
    "invoices": r"INV-\d{7}",
    "payments": r"P\d{7}",
    "disputes": r"D\d{6}",
    "promises": r"PR\d{6}",
    "contacts": r"K\d{7}",
    "payment_plans": r"PL\d{5}",
    "credit_notes": r"CN\d{6}",
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return generate_portfolio(customers=CUSTOMERS, seed=7, start=START, end=END)


@pytest.fixture(scope="module")
def settled(tables) -> pl.DataFrame:
    """One row per invoice: amount, credited, paid (applied, <= END), settlement_date (date the
    balance reached zero, null while open), days_late, and the customer's archetype."""
    return settlement(tables)


def settlement(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    invoices = tables["invoices"]
    moves = pl.concat(
        [
            tables["payments"]
            .filter(pl.col("invoice_id").is_not_null())
            .select("invoice_id", pl.col("payment_date").alias("date"), "amount"),
            tables["credit_notes"].select("invoice_id", "date", "amount"),
        ]
    )
    cumulated = (
        moves.group_by("invoice_id", "date")
        .agg(pl.col("amount").sum())
        .sort("invoice_id", "date")
        .with_columns(cum=pl.col("amount").cum_sum().over("invoice_id"))
        .join(invoices.select("invoice_id", pl.col("amount").alias("invoice_amount")), on="invoice_id")
    )
    settle = (
        cumulated.filter(pl.col("cum") >= pl.col("invoice_amount") - TOL)
        .group_by("invoice_id")
        .agg(settlement_date=pl.col("date").min())
    )
    paid = (
        tables["payments"]
        .filter(pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(paid=pl.col("amount").sum(), n_payments=pl.len())
    )
    credited = tables["credit_notes"].group_by("invoice_id").agg(credited=pl.col("amount").sum())
    return (
        invoices.join(settle, on="invoice_id", how="left")
        .join(paid, on="invoice_id", how="left")
        .join(credited, on="invoice_id", how="left")
        .with_columns(pl.col("paid", "credited", "n_payments").fill_null(0))
        .with_columns(days_late=(pl.col("settlement_date") - pl.col("due_date")).dt.total_days())
        .join(tables["ground_truth"].select("customer_id", "archetype"), on="customer_id")
    )


def sha256_of(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# --- shape and schema ------------------------------------------------------------------------


def test_tables_have_the_canonical_schema(tables):
    assert set(tables) == set(TABLE_NAMES) | {"ground_truth"}
    for name in TABLE_NAMES:
        assert tables[name].schema == TABLES[name].polars_schema, name
        assert tables[name].height > 0, name


def test_keys_are_unique_well_formed_and_sorted(tables):
    for name in TABLE_NAMES:
        frame, key = tables[name], list(TABLES[name].key)
        assert frame.select(key).is_duplicated().sum() == 0, name
        assert frame.equals(frame.sort(key)), name
        ids = frame.get_column(key[0])
        assert ids.str.contains(f"^{ID_PATTERNS[name]}$").all(), name


def test_required_columns_are_present(tables):
    for name in TABLE_NAMES:
        for column in TABLES[name].required_columns:
            assert tables[name].get_column(column).null_count() == 0, (name, column)


def test_foreign_keys_resolve(tables):
    for name in TABLE_NAMES:
        for fk in TABLES[name].foreign_keys:
            values = tables[name].get_column(fk.column).drop_nulls()
            known = tables[fk.table].get_column(fk.target_column)
            assert values.is_in(known.implode()).all(), (name, fk.column)


def test_customer_and_invoice_ids_match_between_tables(tables):
    """A payment, promise or contact names the customer of its invoice."""
    owner = tables["invoices"].select("invoice_id", pl.col("customer_id").alias("owner"))
    for name in ("payments", "promises", "contacts"):
        joined = tables[name].filter(pl.col("invoice_id").is_not_null()).join(owner, on="invoice_id")
        assert (joined["customer_id"] == joined["owner"]).all(), name


def test_portfolio_passes_validation(tables):
    portfolio_module = pytest.importorskip("workbench.portfolio")
    pytest.importorskip("workbench.validate")
    frames = {name: tables[name] for name in TABLE_NAMES}
    portfolio = portfolio_module.Portfolio.from_frames(frames)
    assert portfolio.invoices.collect().height == tables["invoices"].height


# --- customers -------------------------------------------------------------------------------


def test_customers_look_plausible(tables):
    customers = tables["customers"]
    assert customers.height == CUSTOMERS
    assert 0.7 < (customers["customer_type"] == "B2B").mean() < 0.9
    assert customers["country"].value_counts().sort("count")["country"][-1] == "FR"
    assert set(customers["payment_terms_days"].unique()) <= {30, 45, 60}
    eom = customers.filter(pl.col("end_of_month"))
    assert eom.height > 0 and (eom["payment_terms_days"] == 60).all()
    assert 0.35 < customers["preferred_channel"].null_count() / customers.height < 0.65
    assert set(customers["preferred_channel"].drop_nulls()) <= set(PREFERRED_CHANNELS)
    assert customers["collector"].n_unique() == max(2, math.ceil(CUSTOMERS / 100))
    assert 0.03 <= customers["strategic"].mean() <= 0.07
    assert customers["email"].str.contains(r"^[a-z0-9.\-]+@[a-z0-9.\-]+\.[a-z]+$").all()
    assert customers["phone"].str.contains(r"^\+\d{2}( \d+)+$").all()
    assert (customers["credit_limit"] > 0).all()
    b2b = customers.filter(pl.col("customer_type") == "B2B")
    assert b2b["industry"].null_count() == 0


def test_strategic_customers_are_bigger(tables):
    volume = tables["invoices"].group_by("customer_id").agg(volume=pl.col("amount").sum())
    joined = tables["customers"].join(volume, on="customer_id", how="left").fill_null(0)
    strategic = joined.filter(pl.col("strategic"))["volume"].median()
    others = joined.filter(~pl.col("strategic"))["volume"].median()
    assert strategic > 3 * others


def test_ground_truth_is_not_in_customers(tables):
    truth = tables["ground_truth"]
    assert truth["customer_id"].equals(tables["customers"]["customer_id"])
    assert set(truth["archetype"]) == set(ARCHETYPES)
    hidden = set(truth.columns) - {"customer_id"}
    assert not hidden & set(tables["customers"].columns)
    text = tables["customers"].select(pl.col(pl.String)).unpivot()["value"].drop_nulls()
    assert not text.is_in(list(ARCHETYPES)).any()


def test_new_customers_are_recent_with_few_invoices(tables):
    new = tables["ground_truth"].filter(pl.col("archetype") == "new")["customer_id"]
    customers = tables["customers"].filter(pl.col("customer_id").is_in(new.implode()))
    assert (customers["created_date"] >= END - timedelta(days=120)).all()
    assert (customers["created_date"] <= END).all()
    others = tables["customers"].filter(~pl.col("customer_id").is_in(new.implode()))
    assert (others["created_date"] < END - timedelta(days=120)).all()
    counts = tables["invoices"].group_by("customer_id").len()
    new_counts = counts.filter(pl.col("customer_id").is_in(new.implode()))["len"]
    other_counts = counts.filter(~pl.col("customer_id").is_in(new.implode()))["len"]
    assert new_counts.mean() < other_counts.mean() / 3
    first_issue = tables["invoices"].join(customers, on="customer_id")
    assert (first_issue["issue_date"] >= first_issue["created_date"]).all()


# --- invoices --------------------------------------------------------------------------------


def test_invoices(tables):
    invoices = tables["invoices"]
    assert invoices["issue_date"].min() >= START and invoices["issue_date"].max() <= END
    assert (invoices["due_date"] >= invoices["issue_date"]).all()
    assert (invoices["amount"] > 0).all()
    assert (invoices["currency"] == "EUR").all()
    assert invoices.equals(invoices.sort("issue_date", "invoice_id"))  # numbered in issue order
    months = (END.year - START.year) * 12 + END.month - START.month + 1
    assert 1.5 < invoices.height / CUSTOMERS / months < 2.5


def test_due_dates_follow_the_terms(tables):
    joined = tables["invoices"].join(tables["customers"], on="customer_id")
    plain = joined.filter(~pl.col("end_of_month"))
    assert (
        (plain["due_date"] - plain["issue_date"]).dt.total_days() == plain["payment_terms_days"]
    ).all()
    eom = joined.filter(pl.col("end_of_month"))
    expected = (eom["issue_date"] + timedelta(days=60)).dt.month_end()
    assert (eom["due_date"] == expected).all()


def test_invoicing_is_seasonal(tables):
    """More invoices per working day in the last weeks of a quarter than in other weeks."""
    days = pl.DataFrame({"day": pl.date_range(START, END, eager=True)}).filter(
        pl.col("day").dt.weekday() <= 5
    )
    quarter_end = pl.col("day").dt.month().is_in([3, 6, 9, 12]) & (pl.col("day").dt.day() >= 10)
    counts = tables["invoices"].group_by(pl.col("issue_date").alias("day")).len()
    per_day = days.join(counts, on="day", how="left").fill_null(0).with_columns(q=quarter_end)
    rates = per_day.group_by("q").agg(pl.col("len").mean()).sort("q")["len"]
    assert rates[1] > 1.2 * rates[0]


# --- amounts and dates -----------------------------------------------------------------------


MONEY_COLUMNS = {
    "customers": ["credit_limit"],
    "invoices": ["amount"],
    "payments": ["amount"],
    "disputes": ["amount"],
    "promises": ["amount"],
    "payment_plans": ["amount"],
    "credit_notes": ["amount"],
}


def test_amounts_are_positive_and_in_cents(tables):
    for name, columns in MONEY_COLUMNS.items():
        for column in columns:
            values = tables[name][column]
            assert (values > 0).all(), (name, column)
            assert ((values * 100).round() - values * 100).abs().max() < 1e-6, (name, column)


EVENT_DATES = {
    "invoices": ["issue_date"],
    "payments": ["payment_date"],
    "disputes": ["opened_date", "resolved_date"],
    "promises": ["promise_date"],
    "contacts": ["contact_date"],
    "payment_plans": ["agreed_date"],
    "credit_notes": ["date"],
}


def test_nothing_happens_after_end(tables):
    for name, columns in EVENT_DATES.items():
        for column in columns:
            assert tables[name][column].max() <= END, (name, column)
    # schedule dates after END are commitments made on or before it
    plans = tables["payment_plans"].group_by("plan_id").agg(first=pl.col("instalment_date").min())
    assert (plans["first"] <= END + timedelta(days=30)).all()
    assert tables["customers"]["created_date"].max() <= END


def test_events_follow_their_invoice(tables):
    issue = tables["invoices"].select("invoice_id", "issue_date")
    for name, column in (
        ("payments", "payment_date"),
        ("credit_notes", "date"),
        ("contacts", "contact_date"),
        ("disputes", "opened_date"),
        ("promises", "promise_date"),
    ):
        joined = tables[name].filter(pl.col("invoice_id").is_not_null()).join(issue, on="invoice_id")
        assert (joined[column] >= joined["issue_date"]).all(), name
    credits = tables["credit_notes"].join(issue, on="invoice_id")
    assert (credits["date"] > credits["issue_date"]).all()


def test_payments_never_exceed_what_is_due(settled):
    over = settled.filter(pl.col("paid") + pl.col("credited") > pl.col("amount") + TOL)
    assert over.height == 0
    credited = settled.filter(pl.col("credited") > 0)
    assert (credited["credited"] < credited["amount"]).all()


def test_balance_never_negative_along_the_way(tables):
    """Cumulated payments and credit notes never pass the invoice amount at any date."""
    moves = pl.concat(
        [
            tables["payments"].drop_nulls("invoice_id").select("invoice_id", pl.col("payment_date").alias("date"), "amount"),
            tables["credit_notes"].select("invoice_id", "date", "amount"),
        ]
    ).sort("invoice_id", "date")
    cum = moves.with_columns(cum=pl.col("amount").cum_sum().over("invoice_id")).join(
        tables["invoices"].select("invoice_id", pl.col("amount").alias("total")), on="invoice_id"
    )
    assert (cum["cum"] <= cum["total"] + TOL).all()


def test_payments_at_or_after_settlement_behaviour(settled, tables):
    """Most invoices are settled; partial payments sum exactly to what is due."""
    paid_share = settled["settlement_date"].is_not_null().mean()
    assert 0.8 < paid_share < 0.99
    partial = settled.filter(pl.col("n_payments") >= 2, pl.col("settlement_date").is_not_null())
    assert partial.height > 0
    assert ((partial["paid"] + partial["credited"] - partial["amount"]).abs() < TOL).all()
    assert tables["payments"].drop_nulls("invoice_id").group_by("invoice_id").len()["len"].max() <= 6


def test_unapplied_cash_is_recent_and_rare(tables, settled):
    payments = tables["payments"]
    unapplied = payments.filter(pl.col("invoice_id").is_null())
    assert unapplied.height > 0
    assert (unapplied["payment_date"] > END - timedelta(days=30)).all()
    recent = payments.filter(pl.col("payment_date") > END - timedelta(days=30))
    assert unapplied.height / recent.height < 0.06


# --- disputes, credit notes, plans ---------------------------------------------------------------


def test_disputes(tables, settled):
    disputes = tables["disputes"].join(tables["invoices"].select("invoice_id", "issue_date", pl.col("amount").alias("invoice_amount"), "customer_id"), on="invoice_id")
    opened_after = (disputes["opened_date"] - disputes["issue_date"]).dt.total_days()
    assert opened_after.min() >= 5 and opened_after.max() <= 25
    resolved = disputes.drop_nulls("resolved_date")
    took = (resolved["resolved_date"] - resolved["opened_date"]).dt.total_days()
    assert took.min() >= 10 and took.max() <= 60
    still_open = disputes.filter(pl.col("resolved_date").is_null())
    assert (still_open["opened_date"] >= END - timedelta(days=60)).all()
    assert set(disputes["reason"]) <= {"quality", "billing_error", "delivery", "price", "other"}
    assert (disputes["amount"] <= disputes["invoice_amount"] + TOL).all()
    rate = (
        settled.join(tables["disputes"].select("invoice_id", disputed=pl.lit(True)), on="invoice_id", how="left")
        .group_by(pl.col("archetype") == "disputer")
        .agg(pl.col("disputed").is_not_null().mean())
        .sort("archetype")["disputed"]
    )
    assert rate[1] > 4 * rate[0]


def test_disputed_invoices_are_paid_after_resolution(tables):
    first_payment = tables["payments"].drop_nulls("invoice_id").group_by("invoice_id").agg(pl.col("payment_date").min())
    joined = tables["disputes"].join(first_payment, on="invoice_id", how="left")
    paid = joined.drop_nulls("payment_date")
    assert (paid["resolved_date"].is_not_null()).all()
    assert (paid["payment_date"] > paid["resolved_date"]).all()


def test_billing_errors_lead_to_credit_notes(tables):
    billing = tables["disputes"].filter(pl.col("reason") == "billing_error").drop_nulls("resolved_date")
    credited = billing.join(tables["credit_notes"], on="invoice_id")
    assert credited.height > 0
    assert (credited["date"] == credited["resolved_date"]).all()
    assert (credited["amount_right"] <= credited["amount"] + TOL).all()


def test_payment_plans_belong_to_cash_strapped_and_are_paid(tables):
    plans = tables["payment_plans"]
    sizes = plans.group_by("plan_id").agg(n=pl.len(), customer=pl.col("customer_id").first(), customers=pl.col("customer_id").n_unique())
    assert sizes["n"].min() >= 3 and sizes["n"].max() <= 6
    assert (sizes["customers"] == 1).all()
    truth = tables["ground_truth"].filter(pl.col("customer_id").is_in(sizes["customer"].implode()))
    assert (truth["archetype"] == "cash_strapped").all()
    gaps = plans.sort("plan_id", "instalment_date").with_columns(
        gap=pl.col("instalment_date").diff().dt.total_days().over("plan_id")
    )["gap"].drop_nulls()
    assert gaps.min() >= 28 and gaps.max() <= 31
    # every instalment due well before END has a payment of that amount on or after its date
    due = plans.filter(pl.col("instalment_date") <= END - timedelta(days=40))
    matched = due.join(tables["payments"], on=["customer_id", "amount"]).filter(
        (pl.col("payment_date") >= pl.col("instalment_date"))
        & (pl.col("payment_date") <= pl.col("instalment_date") + timedelta(days=30))
    )
    assert matched.select("plan_id", "instalment_date").n_unique() == due.height


# --- contacts and promises -------------------------------------------------------------------


def test_contacts_follow_the_rules(tables, settled):
    contacts = tables["contacts"]
    assert set(contacts["channel"]) <= set(CONTACT_CHANNELS)
    assert set(contacts["tone"]) <= set(TONES)
    assert contacts["invoice_id"].null_count() == 0
    assert set(contacts["step"]) <= set(CONTACT_STEPS)
    weekly = (
        messages(contact_steps(tables))
        .group_by("customer_id", pl.col("contact_date").dt.iso_year().alias("year"), pl.col("contact_date").dt.week().alias("week"))
        .len()
    )
    assert weekly["len"].max() <= 2
    joined = contacts.join(settled.select("invoice_id", "settlement_date", "due_date"), on="invoice_id")
    assert (joined.drop_nulls("settlement_date").select(pl.col("contact_date") < pl.col("settlement_date")).to_series()).all()
    dunning = joined.filter(pl.col("tone") != "friendly", pl.col("outcome") != "dispute_raised")
    assert (dunning["contact_date"] > dunning["due_date"]).all()
    assert set(contacts["channel"]) >= {"email", "phone", "letter", "registered_letter", "agency"}
    assert (contacts["contact_date"].dt.weekday() <= 5).all()
    agency = contacts.filter(pl.col("channel") == "agency")
    assert (agency["outcome"] == "handed_over").all() and (agency["tone"] == "formal").all()
    phone_outcomes = set(contacts.filter(pl.col("channel") == "phone")["outcome"])
    assert {"reached", "no_answer", "promise_to_pay"} <= phone_outcomes


def test_payments_and_disputes_fall_on_working_days(tables):
    assert (tables["payments"]["payment_date"].dt.weekday() <= 5).all()
    assert (tables["disputes"]["opened_date"].dt.weekday() <= 5).all()


def test_no_contact_while_a_dispute_is_open(tables):
    """Dunning pauses while a dispute is open; the dispute itself is raised in a contact on its
    opening day."""
    joined = tables["contacts"].join(tables["disputes"], on="invoice_id")
    raised = joined.filter(pl.col("outcome") == "dispute_raised")
    assert raised.height > 0 and (raised["contact_date"] == raised["opened_date"]).all()
    during = joined.filter(pl.col("outcome") != "dispute_raised").filter(
        (pl.col("contact_date") >= pl.col("opened_date"))
        & ((pl.col("contact_date") < pl.col("resolved_date")) | pl.col("resolved_date").is_null())
    )
    assert during.height == 0


def test_promises_come_from_phone_calls(tables):
    calls = tables["contacts"].filter(pl.col("outcome") == "promise_to_pay")
    promises = tables["promises"]
    assert promises.height > 0
    assert promises.height == calls.height
    joined = promises.join(calls, left_on=["invoice_id", "promise_date"], right_on=["invoice_id", "contact_date"])
    assert joined.height == promises.height
    assert (joined["channel"] == "phone").all()
    assert (promises["promised_date"] > promises["promise_date"]).all()


def test_promises_are_kept_or_broken_consistently_with_payments(tables, settled):
    promises = tables["promises"].join(settled.select("invoice_id", "settlement_date", "archetype"), on="invoice_id")
    kept = promises["settlement_date"].is_not_null() & (
        promises["settlement_date"] <= promises["promised_date"] + timedelta(days=3)
    )
    broken = promises["settlement_date"].is_null() | (
        promises["settlement_date"] > promises["promised_date"] + timedelta(days=10)
    )
    assert (kept ^ broken).all()
    promises = promises.with_columns(kept=kept)
    rates = promises.group_by("archetype").agg(pl.col("kept").mean())
    rate = dict(zip(rates["archetype"], rates["kept"]))
    assert rate["occasional"] > rate["chronic_late"] + 0.2
    assert rate["occasional"] > rate["cash_strapped"] + 0.2
    defaults = tables["ground_truth"].drop_nulls("default_date").select("customer_id", "default_date")
    after_default = promises.join(defaults, on="customer_id").filter(pl.col("promise_date") >= pl.col("default_date"))
    assert after_default.height > 0 and not after_default["kept"].any()


def test_promise_amount_is_the_open_amount(tables):
    promises = tables["promises"]
    invoices = tables["invoices"].select("invoice_id", pl.col("amount").alias("total"))
    paid = (
        promises.select("invoice_id", "promise_date")
        .join(tables["payments"].drop_nulls("invoice_id"), on="invoice_id")
        .filter(pl.col("payment_date") <= pl.col("promise_date"))
        .group_by("invoice_id")
        .agg(paid=pl.col("amount").sum())
    )
    credited = (
        promises.select("invoice_id", "promise_date")
        .join(tables["credit_notes"], on="invoice_id")
        .filter(pl.col("date") <= pl.col("promise_date"))
        .group_by("invoice_id")
        .agg(credited=pl.col("amount").sum())
    )
    joined = (
        promises.join(invoices, on="invoice_id")
        .join(paid, on="invoice_id", how="left")
        .join(credited, on="invoice_id", how="left")
        .fill_null(0)
    )
    assert ((joined["total"] - joined["paid"] - joined["credited"] - joined["amount"]).abs() < TOL).all()


# --- behaviour by archetype ------------------------------------------------------------------


def behaviour(settled: pl.DataFrame) -> dict[str, dict[str, float]]:
    stats = (
        settled.drop_nulls("settlement_date")
        .group_by("archetype")
        .agg(late=(pl.col("days_late") > 0).mean(), mean_late=pl.col("days_late").mean())
    )
    return {row["archetype"]: row for row in stats.iter_rows(named=True)}


def test_archetypes_pay_differently(settled):
    stats = behaviour(settled)
    assert stats["reliable"]["late"] < 0.25
    assert stats["chronic_late"]["late"] > 0.9
    assert stats["chronic_late"]["late"] > 3 * stats["reliable"]["late"]
    assert stats["chronic_late"]["mean_late"] > 20 > stats["occasional"]["mean_late"]
    assert stats["cash_strapped"]["mean_late"] > 20
    assert stats["reliable"]["mean_late"] < 2


def test_cash_strapped_pay_in_parts(settled):
    parts = settled.group_by("archetype").agg((pl.col("n_payments") >= 2).mean().alias("partial"))
    share = dict(zip(parts["archetype"], parts["partial"]))
    assert share["cash_strapped"] > 0.25 > share["reliable"]


def test_deteriorating_customers_get_later(settled):
    det = settled.filter(pl.col("archetype") == "deteriorating").drop_nulls("settlement_date")
    recent = det.filter(pl.col("settlement_date") > END - timedelta(days=90))["days_late"].mean()
    before = det.filter(
        pl.col("settlement_date").is_between(END - timedelta(days=455), END - timedelta(days=90), closed="left")
    )["days_late"].mean()
    assert recent > before + 10


def test_defaulters_stop_paying(tables, settled):
    truth = tables["ground_truth"].filter(pl.col("archetype") == "defaulter").select("customer_id", "default_date")
    joined = settled.join(truth, on="customer_id")
    after = joined.filter(pl.col("issue_date") >= pl.col("default_date"))
    assert after.height > 0 and (after["paid"] == 0).all()
    payments = tables["payments"].join(truth, on="customer_id")
    assert (payments["payment_date"] < payments["default_date"]).all()
    contacts = tables["contacts"].join(truth, on="customer_id")
    assert {"registered_letter", "agency"} <= set(contacts["channel"])
    others = tables["ground_truth"].filter(pl.col("archetype") != "defaulter")["default_date"]
    assert others.null_count() == others.len()


# --- determinism and writing -----------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    args = dict(customers=80, start=date(2025, 1, 1), end=date(2025, 12, 31))
    first = write_portfolio(generate_portfolio(seed=3, **args), tmp_path / "a")
    second = write_portfolio(generate_portfolio(seed=3, **args), tmp_path / "b")
    other = write_portfolio(generate_portfolio(seed=4, **args), tmp_path / "c")
    assert sha256_of(first) == sha256_of(second)
    differing = {k for k, v in sha256_of(other).items() if sha256_of(first)[k] != v}
    assert differing == {p.name for p in first}


def test_write_portfolio_writes_every_table(tmp_path, tables):
    out = tmp_path / "portfolio"
    paths = write_portfolio(tables, out)
    assert sorted(p.name for p in paths) == sorted(f"{n}.parquet" for n in tables)
    for name in tables:
        assert pl.read_parquet(out / f"{name}.parquet").equals(tables[name])
    assert [p.name for p in tmp_path.iterdir()] == ["portfolio"]  # no temporary folder left


def test_write_portfolio_is_atomic(tmp_path, tables):
    out = tmp_path / "portfolio"
    out.mkdir()
    (out / "invoices.parquet").write_bytes(b"previous")
    broken = dict(tables)
    broken["zzz"] = "not a frame"  # fails after the other tables are written
    with pytest.raises(AttributeError):
        write_portfolio(broken, out)
    assert [p.name for p in out.iterdir()] == ["invoices.parquet"]
    assert (out / "invoices.parquet").read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["portfolio"]


def test_short_windows_and_tiny_portfolios_still_work():
    tables = generate_portfolio(customers=3, seed=1, start=date(2025, 11, 1), end=date(2025, 12, 31))
    for name in TABLE_NAMES:
        assert tables[name].schema == TABLES[name].polars_schema
    assert tables["customers"]["collector"].n_unique() <= 2
    assert tables["invoices"]["issue_date"].max() <= date(2025, 12, 31)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        generate_portfolio(customers=0, seed=1, start=START, end=END)
    with pytest.raises(ValueError):
        generate_portfolio(customers=10, seed=1, start=END, end=START)


def test_ids_use_the_documented_formats(tables):
    assert tables["invoices"]["invoice_id"][0] == "INV-0000001"
    assert tables["customers"]["customer_id"][0] == "C00001"
    assert re.fullmatch(r"P0000001", tables["payments"]["payment_id"][0])


# --- contact governance (the dunning rules H1-H9 of issue 8) -----------------------------------
#
# Everything below is recomputed from the output tables with plain polars. A "message" is a
# distinct (customer, contact_date, channel, step) of the outbound customer-facing contacts
# (channel email, sms, phone, letter or registered_letter and outcome other than
# dispute_raised); it may have several rows, one per invoice it is about.

OUTBOUND_CHANNELS = ["email", "sms", "phone", "letter", "registered_letter"]
CADENCE_RANK = {
    "light_reminder": 1, "personal_contact": 2, "solution_offer": 3, "last_notice": 4,
    "formal_notice": 5, "agency": 6, "legal": 6,
}  # fmt: skip
STEP_CHANNELS = {
    "pre_due": ["email", "sms"],
    "light_reminder": ["email", "sms", "letter"],
    "personal_contact": ["phone"],
    "solution_offer": ["phone", "email"],
    "last_notice": ["letter", "email"],
    "formal_notice": ["registered_letter", "email"],
    "agency": ["agency"],
    "legal": ["legal"],
    "resolve_dispute": ["email", "phone"],
}
CONVERSATION_OUTCOMES = ["reached", "promise_to_pay", "plan_agreed", "dispute_raised"]
MIN_GAP_DAYS, WINDOW_DAYS, MAX_PER_WINDOW, REPEAT_DAYS = 3, 7, 2, 30
NOTICE_SILENCE_DAYS, AFTER_CONVERSATION_DAYS, NOTICE_MIN_DPD = 11, 7, 45
LETTER_MIN, REGISTERED_MIN = 100.0, 500.0


def days_between(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_days()


def contact_steps(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Contacts with ``step`` (as recorded; inferred by the spec's rule where absent, for old
    samples), ``rank`` (cadence rank, null for pre_due and resolve_dispute) and ``outbound``."""
    contacts = tables["contacts"]
    if "step" not in contacts.columns:
        contacts = contacts.with_columns(step=pl.lit(None, pl.String))
    due = tables["invoices"].select("invoice_id", "due_date")
    inferred = (
        pl.when(pl.col("outcome") == "dispute_raised").then(pl.lit("resolve_dispute"))
        .when(pl.col("outcome") == "plan_agreed").then(pl.lit("solution_offer"))
        .when(pl.col("channel") == "registered_letter").then(pl.lit("formal_notice"))
        .when(pl.col("channel").is_in(["agency", "legal"])).then(pl.col("channel"))
        .when(pl.col("channel") == "letter").then(pl.lit("last_notice"))
        .when(pl.col("channel") == "phone").then(pl.lit("personal_contact"))
        .when(pl.col("contact_date") < pl.col("due_date")).then(pl.lit("pre_due"))
        .otherwise(pl.lit("light_reminder"))
    )  # fmt: skip
    return (
        contacts.join(due, on="invoice_id", how="left")
        .with_columns(step=pl.coalesce("step", inferred))
        .with_columns(
            rank=pl.col("step").replace_strict(CADENCE_RANK, default=None, return_dtype=pl.Int64),
            outbound=pl.col("channel").is_in(OUTBOUND_CHANNELS) & (pl.col("outcome") != "dispute_raised"),
        )
        .drop("due_date")
    )


def messages(steps: pl.DataFrame) -> pl.DataFrame:
    """One row per message with the sorted list of its invoices, sorted by customer and date."""
    return (
        steps.filter("outbound")
        .group_by("customer_id", "contact_date", "channel", "step")
        .agg(invoices=pl.col("invoice_id").unique().sort())
        .sort("customer_id", "contact_date", "channel", "step")
    )


def open_amounts(tables: dict[str, pl.DataFrame], rows: pl.DataFrame, day: str) -> pl.DataFrame:
    """``rows`` (with invoice_id and the date column ``day``) with ``open``: the invoice amount
    minus the applied payments and credit notes dated on or before that day."""
    moves = pl.concat(
        [
            tables["payments"].drop_nulls("invoice_id").select("invoice_id", pl.col("payment_date").alias("moved"), "amount"),
            tables["credit_notes"].select("invoice_id", pl.col("date").alias("moved"), "amount"),
        ]
    )
    keys = rows.select("invoice_id", day).unique()
    moved = (
        keys.join(moves, on="invoice_id")
        .filter(pl.col("moved") <= pl.col(day))
        .group_by("invoice_id", day)
        .agg(moved=pl.col("amount").sum())
    )
    amounts = tables["invoices"].select("invoice_id", pl.col("amount").alias("invoice_amount"))
    return (
        rows.join(amounts, on="invoice_id", how="left")
        .join(moved, on=["invoice_id", day], how="left")
        .with_columns(open=pl.col("invoice_amount") - pl.col("moved").fill_null(0.0))
        .drop("invoice_amount", "moved")
    )


def conversations(tables: dict[str, pl.DataFrame], steps: pl.DataFrame) -> pl.DataFrame:
    """customer_id, talk: days of contacts with a conversation outcome, promises made, plans
    agreed."""
    frames = [
        steps.filter(pl.col("outcome").is_in(CONVERSATION_OUTCOMES)).select("customer_id", talk="contact_date"),
        tables["promises"].select("customer_id", talk="promise_date"),
    ]
    if "agreed_date" in tables["payment_plans"].columns:
        frames.append(tables["payment_plans"].drop_nulls("agreed_date").select("customer_id", talk="agreed_date"))
    return pl.concat(frames).unique()


def formal_notices(steps: pl.DataFrame) -> pl.DataFrame:
    """customer_id, notice: the days a customer got a formal notice."""
    return steps.filter(pl.col("outbound") & (pl.col("step") == "formal_notice")).select(
        "customer_id", notice="contact_date"
    ).unique()


def governance_violations(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The violations of each rule H1-H9 (one frame per rule, empty when it holds)."""
    steps = contact_steps(tables)
    msgs = messages(steps)
    by_customer = pl.col("contact_date")
    ordered = msgs.with_columns(
        previous=by_customer.shift(1).over("customer_id"), second=by_customer.shift(2).over("customer_id")
    )
    out: dict[str, pl.DataFrame] = {}
    # H1 consecutive messages at least 3 days apart (two messages the same day are 0 days apart)
    out["H1"] = ordered.filter(days_between("contact_date", "previous") < MIN_GAP_DAYS)
    # H2 at most 2 messages in any 7-day window: the third-last message is 7 days back or more
    out["H2"] = ordered.filter(days_between("contact_date", "second") < WINDOW_DAYS)
    # H3 no identical message (step, channel, invoices) within 30 days
    key = ["customer_id", "step", "channel", "invoices"]
    out["H3"] = (
        msgs.sort(*key, "contact_date", maintain_order=True)
        .with_columns(previous=pl.col("contact_date").shift(1).over(key))
        .filter(days_between("contact_date", "previous") < REPEAT_DAYS)
    )
    # H4 each cadence step (and pre_due) at most once per invoice, ranks going up over time
    per_invoice = steps.filter(pl.col("rank").is_not_null() | (pl.col("step") == "pre_due"))
    repeated = per_invoice.group_by("invoice_id", "step").len().filter(pl.col("len") > 1)
    going_down = (
        steps.filter(pl.col("rank").is_not_null())
        .sort("invoice_id", "contact_date", "rank")
        .with_columns(
            before=pl.col("rank").shift(1).over("invoice_id"), before_date=pl.col("contact_date").shift(1).over("invoice_id")
        )
        .filter((pl.col("rank") <= pl.col("before")) | (pl.col("contact_date") == pl.col("before_date")))
    )
    out["H4"] = pl.concat([repeated.select("invoice_id", "step"), going_down.select("invoice_id", "step")])
    # H5 nothing outbound and no agency in (d, d + 11] after a formal notice on day d
    notices = formal_notices(steps)
    sent = steps.filter(pl.col("outbound") | (pl.col("step") == "agency")).select(
        "customer_id", "contact_date", "step", "channel"
    )
    out["H5"] = notices.join(sent, on="customer_id").filter(
        days_between("contact_date", "notice").is_between(1, NOTICE_SILENCE_DAYS)
    )
    # H6 no formal notice or agency within 7 days after a conversation (same day included)
    formal = steps.filter(pl.col("step").is_in(["formal_notice", "agency"])).select(
        "customer_id", "contact_date", "step"
    ).unique()
    out["H6"] = formal.join(conversations(tables, steps), on="customer_id").filter(
        days_between("contact_date", "talk").is_between(0, AFTER_CONVERSATION_DAYS - 1)
    )
    # H7 letter >= 100 EUR, registered letter >= 500 EUR of open amount on the contact day
    letters = open_amounts(
        tables, steps.filter(pl.col("channel").is_in(["letter", "registered_letter"])), "contact_date"
    )
    minimum = pl.when(pl.col("channel") == "letter").then(LETTER_MIN).otherwise(REGISTERED_MIN)
    out["H7"] = letters.filter(pl.col("open") < minimum - TOL)
    out["H8"] = notice_consolidation_violations(tables, steps, notices)
    # H9 every contact has a step, consistent with its channel
    allowed = pl.DataFrame(
        [(step, channel) for step, channels in STEP_CHANNELS.items() for channel in channels],
        schema=["step", "channel"],
        orient="row",
    ).with_columns(ok=pl.lit(True))
    out["H9"] = (
        tables["contacts"]
        .join(allowed, on=["step", "channel"], how="left")
        .filter(pl.col("step").is_null() | pl.col("ok").is_null())
        if "step" in tables["contacts"].columns
        else tables["contacts"]
    )
    return out


def notice_consolidation_violations(
    tables: dict[str, pl.DataFrame], steps: pl.DataFrame, notices: pl.DataFrame
) -> pl.DataFrame:
    """H8: a formal notice on day d covers every invoice of the customer then open, at least 45
    days past due, not in an open dispute, not under a plan agreed by d, not under a pending
    promise (promise_date <= d <= promised_date + 3) and without an earlier formal notice; and a
    customer gets at most one formal notice per 30 days. Returns the invoices left out and the
    notices less than 30 days after the previous one."""
    invoices = tables["invoices"].select("invoice_id", "customer_id", "due_date")
    candidates = notices.join(invoices, on="customer_id").filter(
        days_between("notice", "due_date") >= NOTICE_MIN_DPD
    )
    candidates = open_amounts(tables, candidates, "notice").filter(pl.col("open") > TOL)
    disputed = (
        candidates.join(tables["disputes"], on="invoice_id")
        .filter((pl.col("opened_date") <= pl.col("notice")) & ~(pl.col("resolved_date") <= pl.col("notice")).fill_null(False))
        .select("invoice_id", "notice")
    )
    plans = tables["payment_plans"]
    planned = (
        candidates.join(plans.drop_nulls("invoice_id").select("invoice_id", "agreed_date").unique(), on="invoice_id")
        .filter(pl.col("agreed_date") <= pl.col("notice"))
        .select("invoice_id", "notice")
        if "invoice_id" in plans.columns
        else candidates.clear().select("invoice_id", "notice")
    )
    promised = (
        candidates.join(tables["promises"].drop_nulls("invoice_id"), on="invoice_id")
        .filter(
            (pl.col("promise_date") <= pl.col("notice"))
            & (pl.col("notice") <= pl.col("promised_date") + timedelta(days=3))
        )
        .select("invoice_id", "notice")
    )
    notice_rows = steps.filter(pl.col("outbound") & (pl.col("step") == "formal_notice")).select(
        "invoice_id", noticed="contact_date"
    )
    noticed_before = (
        candidates.join(notice_rows, on="invoice_id")
        .filter(pl.col("noticed") < pl.col("notice"))
        .select("invoice_id", "notice")
    )
    excused = pl.concat([disputed, planned, promised, noticed_before]).unique()
    required = candidates.join(excused, on=["invoice_id", "notice"], how="anti")
    left_out = required.join(
        notice_rows, left_on=["invoice_id", "notice"], right_on=["invoice_id", "noticed"], how="anti"
    ).select("customer_id", "notice", "invoice_id")
    too_soon = (
        notices.sort("customer_id", "notice")
        .with_columns(previous=pl.col("notice").shift(1).over("customer_id"))
        .filter(days_between("notice", "previous") < 30)
        .select("customer_id", "notice", invoice_id=pl.lit(None, pl.String))
    )
    return pl.concat([left_out, too_soon])


GOVERNED_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def governed() -> dict[int, dict[str, pl.DataFrame]]:
    """Three portfolios of 150 customers over two years (start on a Monday, end on a Sunday)."""
    return {
        seed: generate_portfolio(customers=150, seed=seed, start=date(2024, 1, 1), end=date(2025, 12, 28))
        for seed in GOVERNED_SEEDS
    }


@pytest.fixture(scope="module")
def violations(governed) -> dict[int, dict[str, pl.DataFrame]]:
    return {seed: governance_violations(tables) for seed, tables in governed.items()}


RULES = {
    "H1": "consecutive messages to a customer at least 3 days apart",
    "H2": "at most 2 messages to a customer in any 7 days",
    "H3": "no identical message (step, channel, invoices) within 30 days",
    "H4": "each cadence step (and pre_due) at most once per invoice, ranks going up",
    "H5": "nothing outbound and no agency within 11 days after a formal notice",
    "H6": "no formal notice or agency within 7 days after a conversation",
    "H7": "letters from 100 EUR, registered letters from 500 EUR open on the contact day",
    "H8": "a formal notice covers every chased invoice 45+ days past due; one per 30 days",
    "H9": "every contact has a step consistent with its channel",
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_contact_history_obeys_the_governance(violations, rule):
    for seed, found in violations.items():
        assert found[rule].height == 0, f"{rule} ({RULES[rule]}), seed {seed}:\n{found[rule].head(5)}"


def test_the_governance_rules_are_exercised(governed):
    """The rules above are not met vacuously: the histories hold consolidated messages and
    formal notices, hand-overs, e-mails standing in for letters, conversations and plan calls."""
    for seed, tables in governed.items():
        steps = contact_steps(tables)
        msgs = messages(steps)
        notices = msgs.filter(pl.col("step") == "formal_notice")
        assert notices.height >= 10, seed
        assert (notices["invoices"].list.len() > 1).any(), seed
        assert set(notices["channel"]) == {"registered_letter", "email"}, seed
        assert (msgs.filter(pl.col("step") != "formal_notice")["invoices"].list.len() > 1).any(), seed
        assert {"pre_due", "light_reminder", "personal_contact", "solution_offer", "last_notice", "formal_notice",
                "agency", "resolve_dispute"} <= set(steps["step"]), seed  # fmt: skip
        assert set(steps.filter(pl.col("step") == "last_notice")["channel"]) == {"letter", "email"}, seed
        assert {"reached", "promise_to_pay", "plan_agreed", "dispute_raised"} <= set(steps["outcome"]), seed
        by_customer = msgs.group_by("customer_id").len()["len"]
        assert by_customer.max() >= 10, seed


def test_the_governance_checks_find_violations(governed):
    """Each check flags a history that breaks its rule (the checks are not vacuous either)."""
    tables = dict(governed[1])
    contacts = tables["contacts"]
    notice = contacts.filter(pl.col("step") == "formal_notice", pl.col("channel") == "registered_letter").row(0, named=True)
    small = (
        tables["invoices"]
        .filter(pl.col("amount") < 90, pl.col("customer_id") != notice["customer_id"])
        .row(0, named=True)
    )
    talk = contacts.filter(pl.col("outcome") == "reached").row(0, named=True)
    later = notice["contact_date"] + timedelta(days=2)
    added = pl.DataFrame(
        [
            # the same formal notice 2 days later: H1, H3, H4, H5, H8 (too soon)
            {**notice, "contact_id": "K9999991", "contact_date": later},
            # a letter about a small invoice on its due date: H7; a letter as a pre-due step: H9
            {**notice, "contact_id": "K9999992", "customer_id": small["customer_id"], "invoice_id": small["invoice_id"],
             "contact_date": small["due_date"], "channel": "letter", "step": "pre_due"},
            # a hand-over the day of a conversation: H6
            {**talk, "contact_id": "K9999993", "channel": "agency", "step": "agency", "outcome": "handed_over"},
        ],
        schema=contacts.schema,
    )  # fmt: skip
    tables["contacts"] = pl.concat([contacts, added]).sort("contact_id")
    found = governance_violations(tables)
    for rule in ("H1", "H3", "H4", "H5", "H6", "H7", "H8", "H9"):
        assert found[rule].height > 0, rule
    # two more messages within a week of a message: H2
    first = contacts.filter(pl.col("channel") == "email").row(0, named=True)
    crowded = pl.DataFrame(
        [
            {**first, "contact_id": "K9999994", "contact_date": first["contact_date"] + timedelta(days=3), "step": "pre_due"},
            {**first, "contact_id": "K9999995", "contact_date": first["contact_date"] + timedelta(days=6), "step": "thank_you"},
        ],
        schema=contacts.schema,
    )
    tables["contacts"] = pl.concat([contacts, crowded])
    assert governance_violations(tables)["H2"].height > 0
    # an invoice 45+ days past due left out of a formal notice: H8
    covered = contacts.filter(pl.col("step") == "formal_notice").group_by("customer_id", "contact_date").len()
    multi = covered.filter(pl.col("len") > 1).row(0, named=True)
    dropped = contacts.filter(
        pl.col("customer_id") == multi["customer_id"], pl.col("contact_date") == multi["contact_date"]
    )["contact_id"][0]
    tables["contacts"] = contacts.filter(pl.col("contact_id") != dropped)
    assert governance_violations(tables)["H8"].height > 0


def test_payment_plans_name_their_invoice_and_agreement_day(governed, tables):
    for frames in (*governed.values(), tables):
        plans = frames["payment_plans"]
        assert plans["invoice_id"].null_count() == 0 and plans["agreed_date"].null_count() == 0
        per_plan = plans.group_by("plan_id").agg(
            invoices=pl.col("invoice_id").n_unique(),
            agreed=pl.col("agreed_date").n_unique(),
            agreed_date=pl.col("agreed_date").first(),
            first=pl.col("instalment_date").min(),
            invoice_id=pl.col("invoice_id").first(),
            customer_id=pl.col("customer_id").first(),
            total=pl.col("amount").sum(),
        )
        assert (per_plan["invoices"] == 1).all() and (per_plan["agreed"] == 1).all()
        assert (per_plan["agreed_date"] < per_plan["first"]).all()
        invoices = frames["invoices"].select("invoice_id", "customer_id", "due_date", "amount")
        joined = per_plan.join(invoices, on="invoice_id", suffix="_invoice")
        assert joined.height == per_plan.height
        assert (joined["customer_id"] == joined["customer_id_invoice"]).all()
        assert ((joined["total"] - joined["amount"]).abs() < TOL).all()
        assert (joined["agreed_date"] > joined["due_date"]).all()
        # each plan was agreed in a phone call on its invoice that day
        calls = frames["contacts"].filter(pl.col("outcome") == "plan_agreed")
        agreed = per_plan.join(
            calls, left_on=["invoice_id", "agreed_date"], right_on=["invoice_id", "contact_date"], how="left"
        )
        assert (agreed["channel"] == "phone").all() and (agreed["step"] == "solution_offer").all()
        assert calls.height == per_plan.height
        # nothing chases a plan's invoice once the plan is agreed
        after = frames["contacts"].join(per_plan.select("invoice_id", "agreed_date"), on="invoice_id").filter(
            pl.col("contact_date") > pl.col("agreed_date")
        )
        assert after.height == 0


def test_no_dunning_while_a_promise_is_pending(governed, tables):
    """An invoice with a promise is not contacted from the day after the promise to the pay-by
    date + 3 days."""
    for frames in (*governed.values(), tables):
        during = (
            frames["contacts"]
            .join(frames["promises"].select("invoice_id", "promise_date", "promised_date"), on="invoice_id")
            .filter(
                (pl.col("contact_date") > pl.col("promise_date"))
                & (pl.col("contact_date") <= pl.col("promised_date") + timedelta(days=3))
            )
        )
        assert during.height == 0
