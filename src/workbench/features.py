"""Payment-behaviour features per customer as of a date (DESIGN section 4).

Nothing dated after ``as_of`` is visible. Features computed from an optional table that is absent
from the portfolio are null (never invented); a present but empty table gives 0 counts. Money is
in the reporting currency (:func:`workbench.balances.reporting_currency`); payments, promises,
plan instalments and credit notes are in their invoice's currency (converted when the source
gives them another one: :func:`workbench.balances.in_invoice_currency`); unapplied cash is
converted to the reporting currency like the invoices.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import (
    cents_of_micros,
    days_between,
    from_cents,
    in_reporting_currency,
    micros,
    reporting_balances,
    within_days,
)
from workbench.disputes import open_disputes
from workbench.plans import plan_status, unapplied_pairs
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status

FEATURES_FROM: dict[str, tuple[str, ...]] = {
    "payments": (
        "invoices_settled", "share_settled_late", "share_settled_severely_late", "mean_days_late",
        "weighted_mean_days_late", "std_days_late", "days_late_trend", "mean_days_to_pay",
        "partial_payment_rate", "promises_kept", "promises_broken", "promises_pending",
        "days_since_last_payment", "unapplied_cash", "plan_instalments_missed",
    ),
    "disputes": ("dispute_rate", "open_disputes"),
    "promises": ("promises_made", "promises_kept", "promises_broken", "promises_pending"),
    "contacts": ("contacts_last_90_days", "last_contact_date"),
    "payment_plans": ("plan_instalments_missed", "on_active_plan"),
}  # fmt: skip
"""The features that are null when the table they come from is absent."""

COUNTS = (
    "invoices_issued", "invoices_settled", "open_invoices", "open_disputes", "promises_made",
    "promises_kept", "promises_broken", "promises_pending", "contacts_last_90_days",
    "plan_instalments_missed",
)  # fmt: skip

FEATURES = (
    "customer_id", "invoices_issued", "invoices_settled", "share_settled_late",
    "share_settled_severely_late", "mean_days_late", "weighted_mean_days_late", "std_days_late",
    "days_late_trend", "mean_days_to_pay", "partial_payment_rate", "dispute_rate", "open_disputes",
    "promises_made", "promises_kept", "promises_broken", "promises_pending",
    "days_since_last_payment", "unapplied_cash", "customer_credit", "open_balance",
    "overdue_balance", "open_invoices", "credit_limit_use", "oldest_dpd", "tenure_days",
    "terms_days",
    "contacts_last_90_days", "last_contact_date", "plan_instalments_missed", "on_active_plan",
)  # fmt: skip
"""The columns of :func:`customer_features`, in order."""


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """``part / whole``, null when ``whole`` is 0."""
    return pl.when(whole > 0).then(part / whole)


def _invoice_behaviour(
    balances: pl.LazyFrame, as_of: date, policy: Policy, median_terms: bool = True
) -> pl.LazyFrame:
    """Per customer, from invoice balances: settlement behaviour, open and overdue balance,
    and (when ``median_terms``, else null) the median days from issue to due of its invoices.

    Each invoice's parts are computed first and the group-by only sums, counts, averages and
    takes extremes of plain columns (a filter or a comparison inside the aggregation is
    evaluated group by group: 2.9 s against 2.3 s at 10 million invoices). The median, the
    dearest aggregation (0.45 s at 10 million invoices), is left out when no customer needs it."""
    rules = policy.behaviour
    settled = pl.col("settlement_date").is_not_null()
    days_late = pl.col("days_late")
    since = days_between(as_of, pl.col("settlement_date"))  # days since settlement
    recent = since.is_between(0, rules.trend_recent_days - 1)
    reference = since.is_between(
        rules.trend_recent_days, rules.trend_recent_days + rules.trend_reference_days - 1
    )
    paid_at_all = pl.col("n_payments") > 0
    is_open, dpd = pl.col("is_open"), pl.col("days_past_due")
    open_micros = micros(pl.col("open_balance"))
    parts = balances.select(
        "customer_id", "days_late", "days_to_pay", "issue_date", "is_open",
        settled=settled,
        late=days_late > rules.late_after_days,
        severely_late=days_late > rules.severe_late_days,
        late_amount=days_late * pl.col("amount"),
        settled_amount=pl.when(settled).then(pl.col("amount")),
        late_recent=pl.when(recent).then(days_late),
        late_reference=pl.when(reference).then(days_late),
        paid_at_all=paid_at_all,
        partial=(pl.col("n_payments") > 1) | (paid_at_all & is_open),
        open_micros=pl.when(is_open).then(open_micros),
        excess_micros=micros(pl.col("excess")),
        overdue_micros=pl.when(is_open & (dpd > 0)).then(open_micros),
        open_dpd=pl.when(is_open).then(dpd),
        terms=days_between(pl.col("due_date"), pl.col("issue_date")),
    )  # fmt: skip
    sums = parts.group_by("customer_id").agg(
        pl.len().alias("invoices_issued"),
        pl.col("settled", "late", "severely_late", "paid_at_all", "partial", "is_open").sum(),
        pl.col("late_amount", "settled_amount").sum(),
        pl.col("open_micros", "excess_micros", "overdue_micros").sum(),
        pl.col("days_late", "days_to_pay", "late_recent", "late_reference").mean(),
        std_days_late=days_late.std(),
        oldest_dpd=pl.col("open_dpd").max(),
        first_issue_date=pl.col("issue_date").min(),
        median_terms_days=pl.col("terms").median() if median_terms else pl.lit(None, pl.Float64),
    )
    settled_count = pl.col("settled")

    def money(column: str) -> pl.Expr:
        return from_cents(cents_of_micros(pl.col(column)))

    return sums.select(
        "customer_id", "invoices_issued",
        invoices_settled=settled_count,
        share_settled_late=_share(pl.col("late"), settled_count),
        share_settled_severely_late=_share(pl.col("severely_late"), settled_count),
        mean_days_late=pl.col("days_late"),
        weighted_mean_days_late=_share(pl.col("late_amount"), pl.col("settled_amount")),
        std_days_late=pl.col("std_days_late"),
        days_late_trend=pl.col("late_recent") - pl.col("late_reference"),
        mean_days_to_pay=pl.col("days_to_pay"),
        partial_payment_rate=_share(pl.col("partial"), pl.col("paid_at_all")),
        open_balance=money("open_micros"),
        customer_credit=money("excess_micros"),
        overdue_balance=money("overdue_micros"),
        open_invoices=pl.col("is_open"),
        oldest_dpd=pl.col("oldest_dpd"),
        first_issue_date=pl.col("first_issue_date"),
        median_terms_days=pl.col("median_terms_days"),
    )  # fmt: skip


def _disputes(portfolio: Portfolio, balances: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per customer: disputed_invoices (a dispute opened <= as_of) and open_disputes (disputes
    opened <= as_of and not resolved by as_of)."""
    customers = balances.select("invoice_id", "customer_id")
    opened = (
        portfolio.disputes.filter(pl.col("opened_date") <= as_of)
        .join(customers, on="invoice_id")
        .group_by("customer_id")
        .agg(disputed_invoices=pl.col("invoice_id").n_unique())
    )
    still_open = (
        open_disputes(portfolio, as_of)
        .join(customers, on="invoice_id")
        .group_by("customer_id")
        .agg(open_disputes=pl.len())
    )
    return opened.join(still_open, on="customer_id", how="left")


def _payments(payments: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per customer: days_since_last_payment (days) and unapplied_cash (currency, summed
    exactly in micro-units). The unapplied amounts are picked before the group-by (a filter
    inside the aggregation runs group by group: 0.8 s against 0.4 s at 10 million payments)."""
    unapplied = pl.when(pl.col("invoice_id").is_null()).then(micros(pl.col("amount")))
    return (
        payments.select("customer_id", "payment_date", unapplied=unapplied)
        .group_by("customer_id")
        .agg(
            days_since_last_payment=days_between(as_of, pl.col("payment_date").max()),
            unapplied_cash=from_cents(cents_of_micros(pl.col("unapplied").sum())),
        )
    )


def _promises(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: promises made <= as_of, kept, broken and pending
    (:func:`workbench.promises.promise_status`)."""
    status = pl.col("status")
    return (
        promise_status(portfolio, as_of, policy)
        .group_by("customer_id")
        .agg(
            promises_made=pl.len(),
            promises_kept=(status == "kept").sum(),
            promises_broken=(status == "broken").sum(),
            promises_pending=(status == "pending").sum(),
        )
    )


def _contacts(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """Per customer: contacts_last_90_days (in (as_of - window, as_of]) and last_contact_date."""
    window = policy.behaviour.contact_window_days
    return (
        portfolio.contacts.filter(pl.col("contact_date") <= as_of)
        .group_by("customer_id")
        .agg(
            contacts_last_90_days=within_days(pl.col("contact_date"), as_of, window).sum(),
            last_contact_date=pl.col("contact_date").max(),
        )
    )


def _plans(
    portfolio: Portfolio, balances: pl.LazyFrame, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """Per customer: plan_instalments_missed and on_active_plan
    (:func:`workbench.plans.plan_status`; ``balances``: the reporting balances as of ``as_of``,
    for the unapplied payments that pay an invoice rather than a plan)."""
    paired = unapplied_pairs(portfolio, balances, as_of)
    return (
        plan_status(portfolio, as_of, policy, paired)
        .group_by("customer_id")
        .agg(plan_instalments_missed=pl.col("missed").sum(), on_active_plan=pl.col("active").any())
    )


def customer_features(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """Payment-behaviour features, one row per customer known as of ``as_of``.

    A customer is known when created on or before ``as_of`` (a null created_date counts as
    known) or when it has an invoice issued on or before ``as_of``. Nothing dated after ``as_of``
    is visible. Columns (:data:`FEATURES`), with days late = settlement - due date (days):

    - invoices_issued, invoices_settled (counts); share_settled_late (days late >
      behaviour.late_after_days) and share_settled_severely_late (> severe_late_days), of settled
      invoices (0-1); mean_days_late, weighted_mean_days_late (by invoice amount), std_days_late
      (sample std), mean_days_to_pay (days, settled invoices);
    - days_late_trend: mean days late of invoices settled in (as_of - trend_recent_days, as_of]
      minus that of those settled in the trend_reference_days before (days; null if either empty);
    - partial_payment_rate: of invoices with at least one payment, the share paid in several
      payments or still open (0-1);
    - dispute_rate: share of issued invoices with a dispute opened <= as_of (0-1); open_disputes
      (count, disputes not resolved by as_of);
    - promises_made, promises_kept, promises_broken, promises_pending (counts; see
      :func:`_promises`);
    - days_since_last_payment (days); unapplied_cash (payments with no invoice, currency);
      customer_credit (over-payments and credit notes beyond their invoice's balance: the
      ``excess`` of :func:`workbench.balances.invoice_balances`, currency; open_balance stays the
      sum of open invoice balances, the customer's net position is open_balance -
      customer_credit - unapplied_cash);
    - open_balance, overdue_balance (dpd > 0) (currency); open_invoices (count); credit_limit_use
      = open_balance / credit_limit (ratio, null without a positive limit); oldest_dpd (days,
      max dpd of open invoices, null if none);
    - tenure_days: as_of - created_date, or - first invoice issue date when created_date is null;
      terms_days: payment_terms_days, else the median due - issue days of its invoices (days);
    - contacts_last_90_days (count in (as_of - behaviour.contact_window_days, as_of]),
      last_contact_date; plan_instalments_missed (count), on_active_plan (see :func:`_plans`).

    Ratios and means over nothing are null. Features from an absent optional table
    (:data:`FEATURES_FROM`) are null.
    """
    return customer_features_from(
        portfolio, reporting_balances(portfolio, as_of, policy), as_of, policy
    )


def customer_features_from(
    portfolio: Portfolio, balances: pl.LazyFrame, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """:func:`customer_features` from ``balances``, which must be
    ``reporting_balances(portfolio, as_of, policy)`` (computed once by a caller that needs them
    too, e.g. the training set; nothing dated after ``as_of`` is then visible either)."""
    payments = in_reporting_currency(
        portfolio.payments.filter(pl.col("payment_date") <= as_of), portfolio, as_of
    )
    created = pl.col("created_date")
    customers = portfolio.customers.select(
        "customer_id", "created_date", "credit_limit", "payment_terms_days"
    )
    without_terms = customers.select(pl.col("payment_terms_days").is_null().any()).collect()
    behaviour = _invoice_behaviour(balances, as_of, policy, median_terms=without_terms.item())
    features = (
        customers.join(behaviour, on="customer_id", how="left")
        .filter(created.is_null() | (created <= as_of) | pl.col("invoices_issued").is_not_null())
        .join(_disputes(portfolio, balances, as_of), on="customer_id", how="left")
        .join(_payments(payments, as_of), on="customer_id", how="left")
        .join(_promises(portfolio, as_of, policy), on="customer_id", how="left")
        .join(_contacts(portfolio, as_of, policy), on="customer_id", how="left")
        .join(_plans(portfolio, balances, as_of, policy), on="customer_id", how="left")
        .with_columns(
            pl.col(COUNTS).fill_null(0).cast(pl.Int64),
            pl.col(
                "open_balance", "overdue_balance", "unapplied_cash", "customer_credit"
            ).fill_null(0.0),
            on_active_plan=pl.col("on_active_plan").fill_null(False),
        )
        .with_columns(
            dispute_rate=_share(
                pl.col("disputed_invoices").fill_null(0), pl.col("invoices_issued")
            ).cast(pl.Float64),
            credit_limit_use=pl.when(pl.col("credit_limit") > 0).then(
                pl.col("open_balance") / pl.col("credit_limit")
            ),
            tenure_days=days_between(as_of, pl.coalesce(created, "first_issue_date")),
            terms_days=pl.coalesce(
                pl.col("payment_terms_days").cast(pl.Float64), "median_terms_days"
            ),
        )
    )
    absent = {f for table, cols in FEATURES_FROM.items() if not portfolio.has(table) for f in cols}
    nulls = [pl.when(pl.lit(False)).then(pl.col(f)).alias(f) for f in sorted(absent)]
    return features.with_columns(nulls).select(FEATURES)
