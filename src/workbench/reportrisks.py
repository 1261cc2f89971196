"""The risk lists of the managers' weekly report (issue 13, "Top risks").

Every list is as of ``as_of``: nothing dated after it is read. Money is in the reporting
currency (:func:`workbench.balances.reporting_currency`), durations in days.

- :func:`over_credit_limit`: customers whose open AR exceeds their credit limit, and whether
  they were already over it 7 days earlier;
- :func:`unapplied_cash`: payments without an invoice (cash to allocate), per customer;
- :func:`disputes_by_age`: open disputes in age bands (:data:`DISPUTE_AGE_BANDS`);
- :func:`handover_pipeline`: customers at the agency / legal steps;
- :func:`waiting_exposures`: the largest excluded exposures with their reason and next step.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import in_reporting_currency, money_sum, reporting_balances
from workbench.disputes import open_disputes
from workbench.dunning import contact_log
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

# Policy entries wanted (issue 13): [report] dispute_age_bands, top_n. Until then, here.
DISPUTE_AGE_BANDS = (30, 60, 90)
"""Upper bounds (days open, inclusive) of the dispute age bands: 0-30, 31-60, 61-90, over 90."""

HANDOVER_STEPS = ("agency", "legal")
"""The steps of the agency and legal pipeline."""


def _open_ar(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """customer_id, open_amount: the open AR of each customer with one (currency)."""
    return (
        reporting_balances(portfolio, as_of, policy)
        .filter(pl.col("is_open"))
        .group_by("customer_id")
        .agg(open_amount=money_sum(pl.col("open_balance")))
    )


def over_credit_limit(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Customers whose open AR exceeds their credit limit as of ``as_of`` (limit not null).

    Columns: customer_id, name, collector, credit_limit, open_amount, over_by (open_amount -
    credit_limit) (currency), new_this_week (not over the limit as of ``as_of - 7``); largest
    over_by first.
    """
    c = pl.col
    limits = portfolio.customers.filter(c("credit_limit").is_not_null()).select(
        "customer_id", "name", "collector", "credit_limit"
    )
    before = (
        _open_ar(portfolio, as_of - timedelta(days=7), policy)
        .join(limits.select("customer_id", "credit_limit"), on="customer_id")
        .filter(c("open_amount") > c("credit_limit"))
        .select("customer_id", was_over=pl.lit(True))
    )
    return (
        _open_ar(portfolio, as_of, policy)
        .join(limits, on="customer_id")
        .filter(c("open_amount") > c("credit_limit"))
        .join(before, on="customer_id", how="left")
        .select(
            "customer_id",
            "name",
            "collector",
            "credit_limit",
            "open_amount",
            over_by=(c("open_amount") - c("credit_limit")).round(2),
            new_this_week=c("was_over").is_null(),
        )
        .sort(["over_by", "customer_id"], descending=[True, False])
        .collect()
    )


def unapplied_cash(portfolio: Portfolio, as_of: date) -> pl.DataFrame:
    """Payments without an invoice dated on or before ``as_of``, per customer: customer_id,
    name, collector, unapplied (currency), payments (count), oldest (date of the oldest);
    largest first. These are the shelters' unapplied cash (:mod:`workbench.shelters`)."""
    c = pl.col
    rows = portfolio.payments.filter(c("payment_date") <= as_of, c("invoice_id").is_null())
    return (
        in_reporting_currency(rows, portfolio, as_of)
        .group_by("customer_id")
        .agg(
            unapplied=money_sum(c("amount")),
            payments=pl.len().cast(pl.Int64),
            oldest=c("payment_date").min(),
        )
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select("customer_id", "name", "collector", "unapplied", "payments", "oldest")
        .sort(["unapplied", "customer_id"], descending=[True, False])
        .collect()
    )


def band_labels(bounds: tuple[int, ...] = DISPUTE_AGE_BANDS) -> list[str]:
    """The age band names of ``bounds``: ``0-30 days``, ``31-60 days``, ..., ``over N days``."""
    lowers = (0, *[upper + 1 for upper in bounds[:-1]])
    return [f"{lo}-{hi} days" for lo, hi in zip(lowers, bounds, strict=True)] + [
        f"over {bounds[-1]} days"
    ]


def age_band(days: pl.Expr, bounds: tuple[int, ...] = DISPUTE_AGE_BANDS) -> pl.Expr:
    """The age band (:func:`band_labels`) of ``days`` (a whole number of days, >= 0)."""
    labels = band_labels(bounds)
    band = pl.lit(labels[-1])
    for upper, label in reversed(list(zip(bounds, labels, strict=False))):
        band = pl.when(days <= upper).then(pl.lit(label)).otherwise(band)
    return band


def open_disputed_amounts(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """One row per dispute open as of ``as_of`` (:func:`workbench.disputes.open_disputes`):
    dispute_id, invoice_id, customer_id, days_open (days), disputed (the dispute's amount, else
    its invoice's open balance; reporting currency)."""
    c = pl.col
    invoices = portfolio.invoices.select("invoice_id", "customer_id", "currency")
    balances = reporting_balances(portfolio, as_of, policy).select("invoice_id", "open_balance")
    disputes = open_disputes(portfolio, as_of).join(invoices, on="invoice_id")
    return (
        in_reporting_currency(disputes, portfolio, as_of)
        .join(balances, on="invoice_id", how="left")
        .select(
            "dispute_id",
            "invoice_id",
            "customer_id",
            days_open=(pl.lit(as_of) - c("opened_date")).dt.total_days(),
            disputed=pl.coalesce(c("amount"), c("open_balance"), pl.lit(0.0)),
        )
    )


def disputes_by_age(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Open disputes as of ``as_of`` by age band (:data:`DISPUTE_AGE_BANDS`, days since
    opened): band, disputes (count), disputed (currency; the dispute amount, else the invoice's
    open balance), oldest_days (days). Every band is listed, youngest first; the amounts sum to the
    open disputed amount."""
    c = pl.col
    bands = band_labels()
    order = pl.DataFrame({"band": bands, "order": range(len(bands))}).lazy()
    counted = (
        open_disputed_amounts(portfolio, as_of, policy)
        .group_by(band=age_band(c("days_open")))
        .agg(
            disputes=pl.len().cast(pl.Int64),
            disputed=money_sum(c("disputed")),
            oldest_days=c("days_open").max(),
        )
    )
    return (
        order.join(counted, on="band", how="left")
        .with_columns(c("disputes").fill_null(0), c("disputed").fill_null(0.0))
        .sort("order")
        .select("band", "disputes", "disputed", "oldest_days")
        .collect()
    )


def handover_pipeline(
    portfolio: Portfolio, as_of: date, worklist_rows: pl.DataFrame, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Customers with an open balance at the agency or legal step as of ``as_of``: their last
    contact's step (:func:`workbench.dunning.contact_log`) is one of :data:`HANDOVER_STEPS`, or
    this week's worklist proposes it (``worklist_rows``: step, customer_id).

    Columns: customer_id, name, collector, step (agency, legal), since (date of the last such
    contact; null when only proposed), proposed (this week's worklist proposes it),
    open_amount, overdue_amount (currency); largest open amount first.
    """
    c = pl.col
    last = (
        contact_log(portfolio, as_of)
        .sort("contact_date", "contact_id")
        .group_by("customer_id")
        .agg(c("step").last(), since=c("contact_date").last())
        .filter(c("step").is_in(HANDOVER_STEPS))
    )
    proposed = (
        worklist_rows.lazy()
        .filter(c("step").is_in(HANDOVER_STEPS))
        .select("customer_id", proposed_step="step", proposed=pl.lit(True))
    )
    balances = reporting_balances(portfolio, as_of, policy).filter(c("is_open"))
    amounts = balances.group_by("customer_id").agg(
        open_amount=money_sum(c("open_balance")),
        overdue_amount=money_sum(c("open_balance").filter(c("days_past_due") > 0)),
    )
    return (
        last.join(proposed, on="customer_id", how="full", coalesce=True)
        .join(amounts, on="customer_id")
        .join(portfolio.customers.select("customer_id", "name", "collector"), on="customer_id")
        .select(
            "customer_id",
            "name",
            "collector",
            step=pl.coalesce(c("proposed_step"), c("step")),
            since=c("since"),
            proposed=c("proposed").fill_null(False),
            open_amount=c("open_amount"),
            overdue_amount=c("overdue_amount"),
        )
        .sort(["open_amount", "customer_id"], descending=[True, False])
        .collect()
    )


def waiting_exposures(watch: pl.DataFrame, excluded: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """The largest excluded exposures: the worklist's watch list (excluded customers with
    something overdue, net open amount at least ``worklist.watch_min_exposure``), else the
    excluded customers with something overdue; ``n`` largest overdue amounts first.

    Columns of :data:`workbench.worklist.EXCLUDED_COLUMNS`.
    """
    source = watch if watch.height else excluded.filter(pl.col("overdue_amount") > 0)
    return source.sort(["overdue_amount", "customer_id"], descending=[True, False]).head(n)
