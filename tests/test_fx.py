"""Payments, promises, plans and credit notes in another currency than their invoice (issue 10,
area F): converted with fx_rates at the row's date before any balance; errors located.

Expected amounts are worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import portfolio_of

from workbench.balances import invoice_balances, reporting_balances
from workbench.errors import InputError
from workbench.features import customer_features
from workbench.kpis import portfolio_kpis
from workbench.portfolio import Portfolio

D = date.fromisoformat


def tables(**changes) -> dict:
    """C1 billed in EUR (I1 100.00, I2 200.00), C2 in USD (I3 300.00); rates: EUR 1.0, USD 0.9
    from 01-01 and 0.8 from 02-05 (USD -> base)."""
    base = {
        "customers": {"customer_id": ["C1", "C2"], "name": ["Alpha", "Beta"]},
        "invoices": {
            "invoice_id": ["I1", "I2", "I3"], "customer_id": ["C1", "C1", "C2"],
            "issue_date": ["2026-01-01"] * 3, "due_date": ["2026-01-31"] * 3,
            "amount": [100.0, 200.0, 300.0], "currency": ["EUR", "EUR", "USD"],
        },
        "payments": {
            "payment_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C1", "C2"],
            "payment_date": ["2026-02-10", "2026-02-10", "2026-02-10"],
            "amount": [50.0, 10.0, 46.0], "invoice_id": ["I1", None, "I3"],
            "currency": ["USD", "USD", "EUR"],
        },
        "credit_notes": {
            "credit_note_id": ["N1"], "invoice_id": ["I2"], "date": ["2026-02-01"],
            "amount": [100.0], "currency": ["USD"],
        },
        "fx_rates": {
            "currency": ["USD", "EUR", "USD"], "date": ["2026-01-01", "2026-01-01", "2026-02-05"],
            "rate_to_base": [0.9, 1.0, 0.8],
        },
    }  # fmt: skip
    for table, columns in changes.items():
        base[table] = {**base[table], **columns}
    return base


def test_rows_are_converted_at_their_own_date_through_the_base():
    portfolio = portfolio_of(tables())
    payments = portfolio.frames["payments"]
    # P1 50 USD on 02-10 at 0.8 (02-05 rate) / 1.0 = 40.00 EUR; P2 (no invoice, C1 billed in
    # EUR only) 10 USD = 8.00 EUR; P3 46 EUR on a USD invoice = 46 x 1.0 / 0.8 = 57.50 USD
    assert payments["amount"].to_list() == [40.0, 8.0, 57.5]
    assert payments["currency"].to_list() == ["EUR", "EUR", "USD"]
    # N1 100 USD on 02-01, before the 02-05 rate: at 0.9 = 90.00 EUR
    assert portfolio.frames["credit_notes"].row(0) == ("N1", "I2", D("2026-02-01"), 90.0, "EUR")
    rows = {r["invoice_id"]: r for r in invoice_balances(portfolio, D("2026-03-01")).collect().iter_rows(named=True)}  # fmt: skip
    assert rows["I1"]["open_balance"] == 60.0  # 100 - 40
    assert rows["I2"]["open_balance"] == 110.0  # 200 - 90
    assert rows["I3"]["open_balance"] == 242.5  # 300 - 57.50


def test_a_foreign_payment_settles_its_invoice():
    # I1 92.00 EUR paid 100 USD at 0.92 on 01-20: 92.00 EUR, settled
    t = tables()
    t["invoices"]["amount"] = [92.0, 200.0, 300.0]
    t["payments"] = {"payment_id": ["P1"], "customer_id": ["C1"], "payment_date": ["2026-01-20"],
                     "amount": [100.0], "invoice_id": ["I1"], "currency": ["USD"]}  # fmt: skip
    t["credit_notes"] = {"credit_note_id": [], "invoice_id": [], "date": [], "amount": []}
    t["fx_rates"] = {"currency": ["USD", "EUR"], "date": ["2026-01-15", "2026-01-01"],
                     "rate_to_base": [0.92, 1.0]}  # fmt: skip
    balances = invoice_balances(portfolio_of(t), D("2026-03-01")).collect()
    i1 = balances.filter(balances["invoice_id"] == "I1").row(0, named=True)
    assert (i1["paid"], i1["open_balance"], i1["is_open"]) == (92.0, 0.0, False)
    assert i1["settlement_date"] == D("2026-01-20")


def test_no_rate_or_row_after_the_as_of_date_is_used():
    # a USD rate dated 02-20 (0.5) comes after the payment (02-10) and after the as-of date
    # (02-15): neither the conversion nor the reporting uses it
    later = tables()
    later["fx_rates"] = {
        "currency": ["USD", "EUR", "USD", "USD"],
        "date": ["2026-01-01", "2026-01-01", "2026-02-05", "2026-02-20"],
        "rate_to_base": [0.9, 1.0, 0.8, 0.5],
    }
    later["payments"] = {
        k: [*v, extra]
        for (k, v), extra in zip(
            tables()["payments"].items(),
            ["P9", "C1", "2026-02-20", 999.0, "I1", "USD"],
            strict=True,
        )
    }
    as_of = D("2026-02-15")
    before, after = portfolio_of(tables()), portfolio_of(later)
    assert portfolio_kpis(after, as_of) == portfolio_kpis(before, as_of)
    assert (
        reporting_balances(after, as_of).collect().sort("invoice_id").equals(
            reporting_balances(before, as_of).collect().sort("invoice_id")
        )
    )  # fmt: skip
    # I3 242.50 USD open, reported at the 02-05 rate: 194.00; I1 60.00 + I2 110.00 EUR
    assert portfolio_kpis(after, as_of)["total_ar"] == 364.0


def test_a_missing_rate_names_the_table_row_and_column():
    t = tables(fx_rates={"currency": ["EUR", "USD"], "date": ["2026-01-01", "2026-02-11"],
                         "rate_to_base": [1.0, 0.8]})  # fmt: skip
    with pytest.raises(InputError) as error:
        Portfolio.from_frames(t, sources={"payments": "data/payments.csv"})
    message = str(error.value)
    assert message.startswith(
        "file data/payments.csv, table payments, row 1 (line 2), column currency"
    )
    assert "no fx rate for USD dated on or before 2026-02-10" in message
    assert "its invoice I1 is in EUR" in message


def test_an_undeterminable_target_currency_is_refused():
    # C1 billed in EUR and USD; P2 in GBP names no invoice: EUR or USD?
    t = tables(invoices={"currency": ["EUR", "USD", "USD"]})
    t["payments"]["currency"] = ["EUR", "GBP", "USD"]
    with pytest.raises(InputError) as error:
        portfolio_of(t)
    message = str(error.value)
    assert "table payments, row 2, column currency" in message
    assert "customer C1 has EUR, USD: cannot tell which currency" in message


def test_a_row_in_one_of_its_customers_currencies_is_kept():
    # C1 billed in EUR and USD; P2 10 USD without an invoice stays 10 USD (nothing to convert)
    t = tables(invoices={"currency": ["EUR", "USD", "USD"]})
    t["payments"]["currency"] = ["EUR", "USD", "USD"]
    payments = portfolio_of(t).frames["payments"]
    assert payments["amount"].to_list() == [50.0, 10.0, 46.0]
    assert payments["currency"].to_list() == ["EUR", "USD", "USD"]


def test_rows_without_currency_are_in_their_invoice_currency():
    t = tables()
    t["payments"]["currency"] = [None, None, None]
    t["credit_notes"]["currency"] = [None]
    portfolio = portfolio_of(t)
    assert portfolio.frames["payments"]["amount"].to_list() == [50.0, 10.0, 46.0]
    assert portfolio.frames["payments"]["currency"].to_list() == ["EUR", "EUR", "USD"]


def test_a_reporting_currency_without_rate_names_the_first_invoice_in_it():
    t = tables()
    t["payments"]["currency"] = [None, None, None]
    t["credit_notes"]["currency"] = [None]
    t["fx_rates"] = {"currency": ["EUR"], "date": ["2026-01-01"], "rate_to_base": [1.0]}
    portfolio = Portfolio.from_frames(
        t, sources={"invoices": "data/invoices.csv", "fx_rates": "data/fx_rates.csv"}
    )
    with pytest.raises(InputError) as error:
        reporting_balances(portfolio, D("2026-03-01")).collect()
    message = str(error.value)
    assert message.startswith(
        "file data/invoices.csv, table invoices, row 3 (line 4), column currency"
    )
    assert "no fx rate dated on or before 2026-03-01 for USD (invoice I3" in message
    assert "data/fx_rates.csv" in message


def test_unapplied_cash_is_reported_in_the_reporting_currency():
    # P2 10 USD without invoice from C1 (billed in EUR): 8.00 EUR; P4 100 USD without invoice
    # from C2 (billed in USD): 100 USD, reported at the latest USD rate <= 03-01 (0.8) = 80.00
    t = tables()
    t["payments"] = {k: [*v, x] for (k, v), x in zip(t["payments"].items(), ["P4", "C2", "2026-02-12", 100.0, None, "USD"], strict=True)}  # fmt: skip
    features = customer_features(portfolio_of(t), D("2026-03-01")).collect()
    cash = dict(features.select("customer_id", "unapplied_cash").iter_rows())
    assert cash == {"C1": 8.0, "C2": 80.0}
