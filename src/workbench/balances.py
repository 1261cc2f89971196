"""Invoice balances as of a date (DESIGN section 4): what is still owed, and how invoices settled.

Everything is computed **as of** ``as_of``: invoices issued after it do not exist yet, and
payments, credit notes and disputes dated after it are invisible. Amounts are in currency
(Float64), totals are summed in integer cents so they are exact to the cent.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.disputes import disputed_invoices
from workbench.errors import InputError, Problem
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

BASE_CURRENCY = "base"
"""Reporting currency name when fx_rates converts several currencies and none is at rate 1."""


def cents(amount: pl.Expr) -> pl.Expr:
    """``amount`` (currency) as integer cents (Int64)."""
    return (amount * 100).round().cast(pl.Int64)


def from_cents(amount_cents: pl.Expr) -> pl.Expr:
    """Integer cents as currency (Float64), the nearest float to the exact decimal.

    (Plain ``/ 100`` is not enough: polars divides a column by a scalar through its reciprocal,
    which gives 66.57000000000001 for 6657 cents; rounding to 2 decimals restores 66.57.)
    """
    return (amount_cents / 100).round(2)


def money_sum(amount: pl.Expr) -> pl.Expr:
    """Sum of ``amount`` (currency), summed in integer cents: exact to the cent (Float64)."""
    return from_cents(cents(amount).sum())


def days_between(later: pl.Expr | date, earlier: pl.Expr | date) -> pl.Expr:
    """``later - earlier`` in whole days (Int64); dates may be expressions or ``date`` values."""
    later = pl.lit(later) if isinstance(later, date) else later
    earlier = pl.lit(earlier) if isinstance(earlier, date) else earlier
    return (later - earlier).dt.total_days()


def within_days(day: pl.Expr, as_of: date, days: int) -> pl.Expr:
    """Whether ``day`` lies in the window ``(as_of - days, as_of]``."""
    return days_between(as_of, day).is_between(0, days - 1)


def movements(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """Payments applied to an invoice and credit notes, dated <= as_of.

    Columns: invoice_id, date, amount (currency), is_payment.
    """
    payments = portfolio.payments.filter(
        pl.col("payment_date") <= as_of, pl.col("invoice_id").is_not_null()
    ).select("invoice_id", pl.col("payment_date").alias("date"), "amount", is_payment=pl.lit(True))
    credits = portfolio.credit_notes.filter(pl.col("date") <= as_of).select(
        "invoice_id", "date", "amount", is_payment=pl.lit(False)
    )
    return pl.concat([payments, credits])


def invoice_balances(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """One row per invoice issued on or before ``as_of``, with its balance as of that date.

    Needs invoices; uses payments, credit_notes and disputes when present (all dated <= as_of).
    Returns, in the invoice currency:

    - invoice_id, customer_id, issue_date, due_date, amount, currency;
    - paid: payments applied to the invoice (currency); credited: credit notes (currency);
    - open_balance = amount - paid - credited, rounded to the cent and never below 0 (an
      overpayment is not receivable; currency); is_open: open_balance > amounts.open_tolerance;
    - days_past_due = as_of - due_date (days, negative when not yet due);
    - settlement_date: first date the balance fell to the tolerance or below (payments and credit
      notes cumulated by date); null while open;
    - days_to_pay = settlement_date - issue_date, days_late = settlement_date - due_date (days,
      negative when early; null while open);
    - n_payments: applied payments (null when the payments table is absent);
    - disputed: a dispute opened <= as_of and not resolved by as_of (null when disputes absent).
    """
    tolerance = policy.amounts.open_tolerance
    invoices = portfolio.invoices.filter(pl.col("issue_date") <= as_of)
    settled_by = (
        movements(portfolio, as_of)
        .join(invoices.select("invoice_id", invoice_cents=cents(pl.col("amount"))), on="invoice_id")
        .with_columns(
            remaining=pl.col("invoice_cents")
            - cents(pl.col("amount")).cum_sum().over("invoice_id", order_by="date")
        )
        .group_by("invoice_id")
        .agg(
            paid_cents=cents(pl.col("amount")).filter("is_payment").sum(),
            credited_cents=cents(pl.col("amount")).filter(~pl.col("is_payment")).sum(),
            n_payments=pl.col("is_payment").sum().cast(pl.Int64),
            settlement_date=pl.col("date")
            .filter(from_cents(pl.col("remaining")) <= tolerance)
            .min(),
        )
    )
    disputed = disputed_invoices(portfolio, as_of).select("invoice_id", disputed=pl.lit(True))
    open_cents = (cents(pl.col("amount")) - pl.col("paid_cents") - pl.col("credited_cents")).clip(
        lower_bound=0
    )
    balances = (
        invoices.join(settled_by, on="invoice_id", how="left")
        .join(disputed, on="invoice_id", how="left")
        .with_columns(pl.col("paid_cents", "credited_cents", "n_payments").fill_null(0))
        .with_columns(
            paid=from_cents(pl.col("paid_cents")),
            credited=from_cents(pl.col("credited_cents")),
            open_balance=from_cents(open_cents),
        )
        .with_columns(is_open=pl.col("open_balance") > tolerance)
        .with_columns(
            days_past_due=days_between(as_of, pl.col("due_date")),
            # an invoice whose whole amount is within the tolerance is settled when issued
            settlement_date=pl.when(~pl.col("is_open")).then(
                pl.coalesce("settlement_date", "issue_date")
            ),
            n_payments=pl.col("n_payments")
            if portfolio.has("payments")
            else pl.lit(None, pl.Int64),
            disputed=pl.col("disputed").fill_null(False)
            if portfolio.has("disputes")
            else pl.lit(None, pl.Boolean),
        )
        .with_columns(
            days_to_pay=days_between(pl.col("settlement_date"), pl.col("issue_date")),
            days_late=days_between(pl.col("settlement_date"), pl.col("due_date")),
        )
    )
    return balances.select(
        "invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency",
        "paid", "credited", "open_balance", "is_open", "days_past_due", "settlement_date",
        "days_to_pay", "days_late", "n_payments", "disputed",
    )  # fmt: skip


def _latest_rates(portfolio: Portfolio, as_of: date) -> pl.DataFrame:
    """Latest fx rate dated <= as_of per currency: currency, rate_to_base (small, collected)."""
    return (
        portfolio.fx_rates.filter(pl.col("date") <= as_of)
        .group_by("currency")
        .agg(pl.col("rate_to_base").sort_by("date").last())
        .collect()
    )


def _currencies(portfolio: Portfolio, as_of: date) -> list[str]:
    """Distinct currencies of the invoices issued on or before ``as_of``, sorted."""
    invoices = portfolio.invoices.filter(pl.col("issue_date") <= as_of)
    return sorted(invoices.select(pl.col("currency").unique()).collect()["currency"].to_list())


def reporting_currency(portfolio: Portfolio, as_of: date) -> str | None:
    """The currency portfolio totals are reported in, as of ``as_of``.

    The single currency of the invoices issued on or before ``as_of`` (None when there are none).
    With several currencies an fx_rates table is needed (else :class:`InputError`); totals are then
    in its base currency: the currency whose latest rate is 1, or ``"base"`` when none or several.
    """
    currencies = _currencies(portfolio, as_of)
    if len(currencies) <= 1:
        return currencies[0] if currencies else None
    if not portfolio.has("fx_rates"):
        raise InputError(
            Problem(
                "multi-currency portfolio needs an fx_rates table "
                f"(invoices in {', '.join(currencies)})",
                table="invoices",
                column="currency",
            )
        )
    at_par = _latest_rates(portfolio, as_of).filter(pl.col("rate_to_base") == 1.0)["currency"]
    return at_par[0] if at_par.len() == 1 else BASE_CURRENCY


def reporting_balances(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """:func:`invoice_balances` with its money in the reporting currency.

    Same columns as :func:`invoice_balances`. A single-currency portfolio is returned as is. With
    several currencies, amount, paid, credited and open_balance are converted at the latest
    fx_rates rate dated <= as_of of each invoice currency (rounded to the cent) and ``currency``
    is the reporting currency (:func:`reporting_currency`). Raises :class:`InputError` when the
    portfolio has several currencies and no fx_rates, or a currency has no rate dated <= as_of.
    """
    balances = invoice_balances(portfolio, as_of, policy)
    currencies = _currencies(portfolio, as_of)
    if len(currencies) <= 1:
        return balances
    currency = reporting_currency(portfolio, as_of)
    rates = _latest_rates(portfolio, as_of)
    missing = sorted(set(currencies) - set(rates["currency"].to_list()))
    if missing:
        raise InputError(
            Problem(
                f"no fx rate dated on or before {as_of.isoformat()} for {', '.join(missing)}",
                table="fx_rates",
                column="rate_to_base",
            )
        )
    money = ["amount", "paid", "credited", "open_balance"]
    return (
        balances.join(rates.lazy(), on="currency", how="left")
        .with_columns(
            from_cents(cents(pl.col(money) * pl.col("rate_to_base"))),
            currency=pl.lit(currency),
        )
        .drop("rate_to_base")
    )
