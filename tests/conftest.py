"""Shared fixtures: a small hand-worked portfolio whose KPIs and features are worked out by hand in
test_kpis.py and test_features.py.

The story, as of 2026-06-30 (a Tuesday; N = 90 days, so the period is (2026-04-01, 2026-06-30]):

- C1 Alpha (created 2025-01-01, 30 days terms, limit 10000): a reliable payer.
  I1 1000.00 issued 01-10 due 02-09, paid 02-05 (P1, 4 days early);
  I2 2000.00 issued 04-15 due 05-15, promised on 05-16 for 05-22 (PR1), paid 05-20 (P2): kept;
  I3 1500.00 issued 06-10 due 07-10: open, not yet due.
- C2 Beta (created 2025-06-01, no terms, no limit): a late payer on a payment plan.
  I4 3000.00 issued 02-01 due 03-03, paid 1000 on 03-20 (P3) and 2000 on 04-20 (P4);
  I5 2500.00 issued 03-15 due 04-14, partly paid 500.25 on 05-10 (P5) and 500 on 06-02 (P6),
  promised 1000 on 05-01 for 05-15 (PR2): broken;
  I6 1200.00 issued 05-05 due 06-19 (45 days): open;
  300.00 of unapplied cash on 06-25 (P7);
  plan PL1: 500 on 06-01, 500 on 06-15, 500 on 07-01; contacted 04-20 and 06-10.
- C3 Gamma (no created date, 60 days terms, limit 5000): disputes, credit notes.
  I7 4000.00 issued 2025-12-01 due 01-30, disputed from 02-10 (D1, open), credit note 400 on 02-15
  (CN1), paid 1000 on 03-10 (P8); promised 1000 on 06-20 for 06-28 (PR3): pending as of 06-30
  (grace runs to 07-01);
  I8 1800.00 issued 04-01 due 05-31, disputed 05-10 to 06-05 (D2, resolved);
  I9 900.00 issued 06-20 due 08-19, fully credited on 06-25 (CN2);
  contacted 03-15 and 06-22.
- C4 Delta (created 2026-05-01, 30 days terms, limit 2000): new, all paid.
  I10 600.00 issued 06-05 due 07-05, paid 06-15 (P9).

``after_as_of`` adds, for the leakage tests, rows dated after the as-of date that must change
nothing as of 2026-06-30.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import strategies as st

from workbench.portfolio import Portfolio
from workbench.schema import TABLES, empty_frame

AS_OF = date(2026, 6, 30)


def d(text: str) -> date:
    return date.fromisoformat(text)


HAND_TABLES: dict[str, dict[str, list]] = {
    "customers": {
        "customer_id": ["C1", "C2", "C3", "C4"],
        "name": ["Alpha", "Beta", "Gamma", "Delta"],
        "credit_limit": [10000.0, None, 5000.0, 2000.0],
        "payment_terms_days": [30, None, 60, 30],
        "created_date": [d("2025-01-01"), d("2025-06-01"), None, d("2026-05-01")],
    },
    "invoices": {
        "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10"],
        "customer_id": ["C1", "C1", "C1", "C2", "C2", "C2", "C3", "C3", "C3", "C4"],
        "issue_date": [
            d("2026-01-10"), d("2026-04-15"), d("2026-06-10"),
            d("2026-02-01"), d("2026-03-15"), d("2026-05-05"),
            d("2025-12-01"), d("2026-04-01"), d("2026-06-20"),
            d("2026-06-05"),
        ],
        "due_date": [
            d("2026-02-09"), d("2026-05-15"), d("2026-07-10"),
            d("2026-03-03"), d("2026-04-14"), d("2026-06-19"),
            d("2026-01-30"), d("2026-05-31"), d("2026-08-19"),
            d("2026-07-05"),
        ],
        "amount": [1000.0, 2000.0, 1500.0, 3000.0, 2500.0, 1200.0, 4000.0, 1800.0, 900.0, 600.0],
        "currency": ["EUR"] * 10,
    },
    "payments": {
        "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"],
        "customer_id": ["C1", "C1", "C2", "C2", "C2", "C2", "C2", "C3", "C4"],
        "payment_date": [
            d("2026-02-05"), d("2026-05-20"), d("2026-03-20"), d("2026-04-20"), d("2026-05-10"),
            d("2026-06-02"), d("2026-06-25"), d("2026-03-10"), d("2026-06-15"),
        ],
        "amount": [1000.0, 2000.0, 1000.0, 2000.0, 500.25, 500.0, 300.0, 1000.0, 600.0],
        "invoice_id": ["I1", "I2", "I4", "I4", "I5", "I5", None, "I7", "I10"],
    },
    "credit_notes": {
        "credit_note_id": ["CN1", "CN2"],
        "invoice_id": ["I7", "I9"],
        "date": [d("2026-02-15"), d("2026-06-25")],
        "amount": [400.0, 900.0],
    },
    "disputes": {
        "dispute_id": ["D1", "D2"],
        "invoice_id": ["I7", "I8"],
        "opened_date": [d("2026-02-10"), d("2026-05-10")],
        "resolved_date": [None, d("2026-06-05")],
        "reason": ["quality", "billing error"],
    },
    "promises": {
        "promise_id": ["PR1", "PR2", "PR3"],
        "customer_id": ["C1", "C2", "C3"],
        "promise_date": [d("2026-05-16"), d("2026-05-01"), d("2026-06-20")],
        "promised_date": [d("2026-05-22"), d("2026-05-15"), d("2026-06-28")],
        "amount": [2000.0, 1000.0, 1000.0],
        "invoice_id": ["I2", "I5", "I7"],
    },
    "contacts": {
        "contact_id": ["K1", "K2", "K3", "K4"],
        "customer_id": ["C2", "C2", "C3", "C3"],
        "contact_date": [d("2026-04-20"), d("2026-06-10"), d("2026-03-15"), d("2026-06-22")],
        "channel": ["phone", "email", "phone", "email"],
    },
    "payment_plans": {
        "plan_id": ["PL1", "PL1", "PL1"],
        "customer_id": ["C2", "C2", "C2"],
        "instalment_date": [d("2026-06-01"), d("2026-06-15"), d("2026-07-01")],
        "amount": [500.0, 500.0, 500.0],
    },
}  # fmt: skip

AFTER_AS_OF: dict[str, dict[str, list]] = {
    # a customer created after as_of, with a plan starting after it
    "customers": {
        "customer_id": ["C5"],
        "name": ["Epsilon"],
        "created_date": [d("2026-07-10")],
    },
    "invoices": {
        "invoice_id": ["I11", "I12"],
        "customer_id": ["C1", "C5"],
        "issue_date": [d("2026-07-01"), d("2026-07-12")],
        "due_date": [d("2026-07-31"), d("2026-08-11")],
        "amount": [700.0, 800.0],
        "currency": ["EUR", "EUR"],
    },
    # P10 would keep PR3 and reduce I7; P11 is unapplied cash
    "payments": {
        "payment_id": ["P10", "P11"],
        "customer_id": ["C3", "C2"],
        "payment_date": [d("2026-07-01"), d("2026-07-02")],
        "amount": [1000.0, 2000.0],
        "invoice_id": ["I7", None],
    },
    "credit_notes": {
        "credit_note_id": ["CN3"],
        "invoice_id": ["I8"],
        "date": [d("2026-07-02")],
        "amount": [1800.0],
    },
    "disputes": {
        "dispute_id": ["D3"],
        "invoice_id": ["I3"],
        "opened_date": [d("2026-07-03")],
        "resolved_date": [None],
        "reason": ["quality"],
    },
    "promises": {
        "promise_id": ["PR4"],
        "customer_id": ["C2"],
        "promise_date": [d("2026-07-01")],
        "promised_date": [d("2026-07-05")],
        "amount": [1200.0],
        "invoice_id": ["I6"],
    },
    "contacts": {
        "contact_id": ["K5"],
        "customer_id": ["C1"],
        "contact_date": [d("2026-07-01")],
        "channel": ["email"],
    },
    "payment_plans": {
        "plan_id": ["PL2", "PL2"],
        "customer_id": ["C1", "C1"],
        "instalment_date": [d("2026-07-15"), d("2026-08-15")],
        "amount": [350.0, 350.0],
    },
}


def portfolio_of(tables: dict[str, dict[str, list] | pl.DataFrame]) -> Portfolio:
    """A validated portfolio from tables given as dicts of columns (optional columns omitted)."""
    return Portfolio.from_frames(tables)


def with_rows(
    tables: dict[str, dict[str, list]], extra: dict[str, dict[str, list]]
) -> dict[str, pl.DataFrame]:
    """``tables`` with the rows of ``extra`` appended (missing columns null)."""
    out: dict[str, pl.DataFrame] = {}
    for name, columns in tables.items():
        frame = pl.DataFrame(columns, strict=False)
        if name in extra:
            frame = pl.concat([frame, pl.DataFrame(extra[name], strict=False)], how="diagonal_relaxed")
        out[name] = frame
    return out


@pytest.fixture(scope="session")
def as_of() -> date:
    """The as-of date of the hand-worked portfolio: 2026-06-30."""
    return AS_OF


@pytest.fixture(scope="session")
def hand_portfolio() -> Portfolio:
    """The hand-worked portfolio described in this module's docstring (every table present)."""
    return portfolio_of(HAND_TABLES)


@pytest.fixture(scope="session")
def hand_portfolio_with_future() -> Portfolio:
    """The hand-worked portfolio plus rows dated after 2026-06-30 (:data:`AFTER_AS_OF`);
    D1 is resolved on 2026-07-05, after the as-of date."""
    tables = with_rows(HAND_TABLES, AFTER_AS_OF)
    tables["disputes"] = tables["disputes"].with_columns(
        pl.when(pl.col("dispute_id") == "D1")
        .then(pl.lit(d("2026-07-05")))
        .otherwise(pl.col("resolved_date"))
        .alias("resolved_date")
    )
    return portfolio_of(tables)


@pytest.fixture(scope="session")
def minimal_portfolio() -> Portfolio:
    """The hand-worked portfolio with only its mandatory tables (customers, invoices)."""
    return portfolio_of({t: HAND_TABLES[t] for t in ("customers", "invoices")})


def typed_portfolio(tables: dict[str, dict[str, list]]) -> Portfolio:
    """A portfolio built directly in the canonical schema, without validation (fast, for
    property tests whose generated data is valid by construction). Missing columns are null."""
    frames = {}
    for name in TABLES:
        frame = empty_frame(name)
        if name in tables:
            given = pl.DataFrame(tables[name], schema_overrides=frame.schema, strict=False)
            frame = pl.concat([frame, given], how="diagonal_relaxed").select(frame.columns)
            frame = frame.cast(dict(empty_frame(name).schema))
        frames[name] = frame
    return Portfolio(frames=frames, present=frozenset(tables))


START = date(2026, 1, 1)


@st.composite
def random_portfolios(draw: st.DrawFn) -> tuple[Portfolio, date]:
    """A small random single-currency portfolio (with payments, some unapplied, partial and
    over-payments, credit notes, disputes) and an as-of date; amounts have cents."""
    n_customers = draw(st.integers(1, 3))
    customers = [f"C{i}" for i in range(n_customers)]
    n_invoices = draw(st.integers(0, 8))
    issued = [draw(st.integers(0, 240)) for _ in range(n_invoices)]
    invoices = {
        "invoice_id": [f"I{i}" for i in range(n_invoices)],
        "customer_id": [draw(st.sampled_from(customers)) for _ in range(n_invoices)],
        "issue_date": [START + timedelta(days=i) for i in issued],
        "due_date": [START + timedelta(days=i + draw(st.integers(0, 90))) for i in issued],
        "amount": [draw(st.integers(1, 500_000)) / 100 for _ in range(n_invoices)],
        "currency": ["EUR"] * n_invoices,
    }
    payments: dict[str, list] = {k: [] for k in ("payment_id", "customer_id", "payment_date", "amount", "invoice_id")}
    credits: dict[str, list] = {k: [] for k in ("credit_note_id", "invoice_id", "date", "amount")}
    disputes: dict[str, list] = {k: [] for k in ("dispute_id", "invoice_id", "opened_date", "resolved_date")}
    for i in range(n_invoices):
        amount_cents = round(invoices["amount"][i] * 100)
        for _ in range(draw(st.integers(0, 3))):
            share = draw(st.sampled_from([0.25, 0.5, 1.0, 1.2, None]))
            cents = draw(st.integers(1, 600_000)) if share is None else max(1, round(amount_cents * share))
            payments["payment_id"].append(f"P{len(payments['payment_id'])}")
            payments["customer_id"].append(invoices["customer_id"][i])
            payments["payment_date"].append(START + timedelta(days=issued[i] + draw(st.integers(0, 150))))
            payments["amount"].append(cents / 100)
            payments["invoice_id"].append(invoices["invoice_id"][i] if draw(st.booleans()) or share else None)
        if draw(st.integers(0, 4)) == 0:
            credits["credit_note_id"].append(f"CN{i}")
            credits["invoice_id"].append(invoices["invoice_id"][i])
            credits["date"].append(START + timedelta(days=issued[i] + draw(st.integers(0, 60))))
            credits["amount"].append(draw(st.integers(1, amount_cents)) / 100)
        if draw(st.integers(0, 4)) == 0:
            opened = START + timedelta(days=issued[i] + draw(st.integers(0, 60)))
            disputes["dispute_id"].append(f"D{i}")
            disputes["invoice_id"].append(invoices["invoice_id"][i])
            disputes["opened_date"].append(opened)
            disputes["resolved_date"].append(draw(st.sampled_from([None, opened + timedelta(days=20)])))
    as_of = START + timedelta(days=draw(st.integers(0, 420)))
    tables = {
        "customers": {"customer_id": customers, "name": customers},
        "invoices": invoices,
        "payments": payments,
        "credit_notes": credits,
        "disputes": disputes,
    }
    return typed_portfolio(tables), as_of


@pytest.fixture(scope="session")
def generated_portfolio() -> tuple[Portfolio, date]:
    """A small generated portfolio (120 customers over 14 months) and its last date."""
    from workbench.generate import generate_portfolio

    start, end = date(2025, 9, 1), date(2026, 10, 31)
    tables = generate_portfolio(customers=120, seed=11, start=start, end=end)
    tables.pop("ground_truth")
    return Portfolio.from_frames(tables), end


# --- A. Databases and workbooks: a real PostgreSQL server for the source tests -----------------


@pytest.fixture(scope="session")
def source_tables() -> tuple[dict[str, pl.DataFrame], date]:
    """A small generated portfolio (40 customers over 8 months) as canonical tables, and its
    last date: what the source tests write as CSV, Parquet, XLSX, DuckDB, SQLite, PostgreSQL."""
    from workbench.generate import generate_portfolio

    end = date(2026, 6, 30)
    tables = generate_portfolio(customers=40, seed=3, start=date(2025, 11, 1), end=end)
    tables.pop("ground_truth")
    return tables, end


@pytest.fixture(scope="session")
def postgres_uri(source_tables: tuple[dict[str, pl.DataFrame], date]):
    """The URI (with its password) of a throw-away PostgreSQL server on 127.0.0.1 holding
    :func:`source_tables` (the customers table created as "Customers", to be matched
    case-insensitively); stopped at the end of the session (tests/postgres.py). Skipped with the
    reason when PostgreSQL is not installed and we are not root (as root it must run)."""
    import postgres

    reason = postgres.skip_reason()
    if reason and postgres.must_run():
        pytest.fail(f"{reason} (as root, the PostgreSQL tests must run)")
    if reason:
        pytest.skip(reason)
    tables, _ = source_tables
    with postgres.cluster() as server:
        named = {("Customers" if n == "customers" else n): frame for n, frame in tables.items()}
        postgres.load_tables(server.uri(), named)
        yield server.uri()
