"""The late-payment training set (DESIGN section 5): open invoices at weekly snapshot dates.

Unit: an invoice open at a snapshot date ``s``. Features are computed **as of** ``s`` (nothing
dated after ``s`` is visible: they reuse :func:`workbench.balances.reporting_balances` and
:func:`workbench.features.customer_features`, both as of ``s``). Label: the invoice still has an
open balance at ``s + H`` (H = ``horizon_days``), i.e. ``invoice_balances(portfolio, s + H)
.is_open``; ``open_at_horizon`` is that balance (currency).

:func:`invoice_features` serves both training (one call per snapshot date) and scoring (one call
at the scoring date, labels unknown). Model features are listed in :data:`MODEL_FEATURES`:
categorical ones (strings) in :data:`CATEGORICAL_FEATURES`, the others (:data:`NUMERIC_FEATURES`)
are ``Float32`` (booleans as 0/1; null when unknown or when their table is absent): the trees bin
them anyway, and it halves the memory of a large training set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from workbench.balances import days_between, invoice_balances, reporting_balances
from workbench.errors import InputError, Problem
from workbench.features import FEATURES, customer_features
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

CATEGORICAL_FEATURES = (
    "customer_type", "country", "industry", "customer_strategic", "customer_terms",
)  # fmt: skip
"""Customer attributes used as categories (strings; null when unknown)."""

INVOICE_FEATURES = (
    "amount_log",             # log(amount), amount in the reporting currency
    "open_share",             # open balance / amount at s (0-1)
    "terms_days",             # due - issue date (days)
    "days_past_due",          # s - due date (days, negative when not yet due)
    "issued_month_end",       # issued in the last 3 days of a month (0/1)
    "issued_quarter_end",     # issued in the last 3 days of March, June, September, December (0/1)
    "due_month_end",          # due in the last 3 days of a month (0/1)
    "disputed",               # a dispute open at s (0/1; null without a disputes table)
    "partially_paid",         # payments or credit notes applied by s (0/1)
    "invoice_payments",       # payments applied by s (count; null without a payments table)
    "invoice_contacts",       # contacts about this invoice dated <= s (count)
    "days_since_invoice_contact",  # s - last such contact (days; null if none)
    "invoice_promises",       # promises to pay this invoice made <= s (count)
    "share_of_customer_balance",   # open balance / the customer's open balance (0-1)
)  # fmt: skip
"""Invoice-level features at ``s``. Invoice age (s - issue = days_past_due + terms_days) and
days to due (max(-days_past_due, 0)) are not features: exact functions of the features above,
they would add nothing the trees can use and split the permutation importance between copies."""

CUSTOMER_FEATURES = tuple(f for f in FEATURES if f not in ("customer_id", "last_contact_date"))
"""Columns of :func:`workbench.features.customer_features` used, each prefixed ``customer_``:
every feature but the key and the last contact date (a date, not a number)."""

CONTEXT_FEATURES = (
    "customer_recent_due_invoices",    # invoices due in [s - 90, s - 1] (count; 90 =
                                       # behaviour.trend_recent_days)
    "customer_recent_late_share",      # of those, the share not settled by their due date
                                       # (+ behaviour.late_after_days): paid late, or open (0-1)
    "customer_recent_days_late",       # of those, mean days late: settlement - due, or dpd at
                                       # s while open (a lower bound) (days)
    "expected_days_to_payment",        # due date - s + customer_recent_days_late: when this
                                       # invoice would be paid if the customer keeps its recent
                                       # lateness (days from s; null without recent invoices)
    "customer_overdue_share",          # overdue balance / open balance of the customer (0-1)
    "customer_contacts",               # contacts with the customer dated <= s (count)
    "customer_days_since_last_contact",  # s - last contact date (days; null if none)
    "snapshot_month",                  # month of s (1-12): seasonality of payments
)  # fmt: skip
"""Features computed here rather than in workbench.features: the customer's lateness on its
recently due invoices (seen before they are paid), contacts so far, the season."""

NUMERIC_FEATURES = (
    INVOICE_FEATURES + tuple(f"customer_{name}" for name in CUSTOMER_FEATURES) + CONTEXT_FEATURES
)
MODEL_FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
"""Every model feature, categorical ones first (the model relies on this order)."""

KEY_COLUMNS = ("invoice_id", "customer_id", "snapshot_date", "open_balance")
"""Columns of :func:`invoice_features` besides the model features."""

LABEL_COLUMNS = ("label", "open_at_horizon")
"""Columns :func:`training_set` adds; never model features."""

MONTH_END_DAYS = 3
"""An invoice issued (due) in the last this many days of a month counts as month end."""


def snapshot_dates(first: date, last: date, every_days: int) -> list[date]:
    """Snapshot dates ``last, last - every_days, ...`` not before ``first``, in ascending order.

    Anchored on ``last`` (normally the last date whose label is known, as_of - horizon), so the
    most recent labelled week is always a snapshot. Empty when ``first > last``.
    """
    if every_days <= 0:
        raise ValueError(f"every_days must be > 0, got {every_days}")
    dates = []
    day = last
    while day >= first:
        dates.append(day)
        day -= timedelta(days=every_days)
    return dates[::-1]


def history_snapshots(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY, horizon_days: int | None = None
) -> list[date]:
    """Weekly snapshot dates whose label is known at ``as_of`` (``s + horizon <= as_of``).

    From ``as_of - horizon_days`` back every ``model.snapshot_every_days``, over at most
    ``model.history_days``, and not before the first invoice issue date + ``model.warmup_days``.
    ``horizon_days`` defaults to ``model.horizon_days``.
    """
    rules = policy.model
    horizon = rules.horizon_days if horizon_days is None else horizon_days
    first_issue = portfolio.invoices.select(pl.col("issue_date").min()).collect().item()
    if first_issue is None:
        return []
    last = as_of - timedelta(days=horizon)
    first = max(
        first_issue + timedelta(days=rules.warmup_days), last - timedelta(days=rules.history_days)
    )
    return snapshot_dates(first, last, rules.snapshot_every_days)


def _month_end(day: pl.Expr) -> pl.Expr:
    """Whether ``day`` is in the last :data:`MONTH_END_DAYS` days of its month (Boolean)."""
    return days_between(day.dt.month_end(), day) < MONTH_END_DAYS


def _flag(expr: pl.Expr) -> pl.Expr:
    """A boolean as a 0/1 Float32 feature (null stays null)."""
    return expr.cast(pl.Float32)


def _customer_attributes(portfolio: Portfolio) -> pl.LazyFrame:
    """customer_id and the categorical customer attributes (:data:`CATEGORICAL_FEATURES`)."""
    terms = pl.col("payment_terms_days")
    return portfolio.customers.select(
        "customer_id",
        "customer_type",
        "country",
        "industry",
        customer_strategic=pl.col("strategic").cast(pl.String),
        customer_terms=pl.when(terms.is_not_null()).then(
            terms.cast(pl.String)
            + pl.when(pl.col("end_of_month").fill_null(False)).then(pl.lit(" EOM")).otherwise(pl.lit(""))
        ),
    )


def _contacts(portfolio: Portfolio, s: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Contacts dated <= s: per invoice (invoice_contacts, days_since_invoice_contact) and per
    customer (customer_contacts, customer_days_since_last_contact)."""
    contacts = portfolio.contacts.filter(pl.col("contact_date") <= s)
    per_invoice = (
        contacts.filter(pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(
            invoice_contacts=pl.len(),
            days_since_invoice_contact=days_between(s, pl.col("contact_date").max()),
        )
    )
    per_customer = contacts.group_by("customer_id").agg(
        customer_contacts=pl.len(),
        customer_days_since_last_contact=days_between(s, pl.col("contact_date").max()),
    )
    return per_invoice, per_customer


def _recent_lateness(balances: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per customer, over its invoices due in the last ``behaviour.trend_recent_days`` days
    before s (dpd 1 to trend_recent_days): customer_recent_due_invoices (count),
    customer_recent_late_share (0-1), the share paid late or still open, and
    customer_recent_days_late (days late, or dpd at s while open). Unlike the settled-invoice
    features, they see a customer turning late before its late invoices are paid."""
    rules = policy.behaviour
    recent = pl.col("days_past_due").is_between(1, rules.trend_recent_days)
    late = pl.col("is_open") | (pl.col("days_late") > rules.late_after_days)
    return (
        balances.filter(recent)
        .group_by("customer_id")
        .agg(
            customer_recent_due_invoices=pl.len(),
            customer_recent_late_share=late.mean(),
            customer_recent_days_late=pl.coalesce("days_late", "days_past_due").mean(),
        )
    )


def _promises(portfolio: Portfolio, s: date) -> pl.LazyFrame:
    """Per invoice: invoice_promises, promises to pay it made <= s (count)."""
    return (
        portfolio.promises.filter(pl.col("promise_date") <= s, pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(invoice_promises=pl.len())
    )


def invoice_features(portfolio: Portfolio, s: date, policy: Policy = DEFAULT_POLICY) -> pl.LazyFrame:
    """The model features of every invoice open at ``s``, computed as of ``s``.

    Needs invoices and customers; uses every other table when present. Nothing dated after ``s``
    is visible. One row per invoice open at ``s`` (open balance above amounts.open_tolerance),
    sorted by invoice_id, with:

    - invoice_id, customer_id, snapshot_date (= s), open_balance (reporting currency, Float64);
    - the features of :data:`MODEL_FEATURES` (see :data:`INVOICE_FEATURES`,
      :data:`CUSTOMER_FEATURES` = :func:`workbench.features.customer_features` as of ``s``,
      prefixed ``customer_``, :data:`CONTEXT_FEATURES` and :data:`CATEGORICAL_FEATURES`).

    Counts from an absent optional table are null, never 0 (the model sees them as missing).
    Usable at scoring time: it needs no label.
    """
    return _invoice_features(portfolio, s, policy, None)


def _invoice_features(
    portfolio: Portfolio, s: date, policy: Policy, candidates: pl.Series | None
) -> pl.LazyFrame:
    """:func:`invoice_features`; with ``candidates``, the invoice-level balances are computed
    only for those invoice ids, which must include every invoice open at ``s`` and every invoice
    due in the ``behaviour.trend_recent_days`` days before ``s`` (see :func:`_candidates`).
    Customer features always see the whole portfolio."""
    invoices = portfolio if candidates is None else _restricted(portfolio, candidates)
    every_invoice = reporting_balances(invoices, s, policy)
    balances = every_invoice.filter(pl.col("is_open"))
    customers = customer_features(portfolio, s, policy).select(
        "customer_id",
        *[pl.col(name).alias(f"customer_{name}") for name in CUSTOMER_FEATURES],
    )
    per_invoice_contacts, per_customer_contacts = _contacts(portfolio, s)
    counts = []
    if portfolio.has("contacts"):
        counts += ["invoice_contacts", "customer_contacts"]
    if portfolio.has("promises"):
        counts.append("invoice_promises")
    due, issue = pl.col("due_date"), pl.col("issue_date")
    paid = pl.col("paid") + pl.col("credited")
    features = (
        balances.join(customers, on="customer_id", how="left")
        .join(_customer_attributes(portfolio), on="customer_id", how="left")
        .join(per_invoice_contacts, on="invoice_id", how="left")
        .join(per_customer_contacts, on="customer_id", how="left")
        .join(_promises(portfolio, s), on="invoice_id", how="left")
        .join(_recent_lateness(every_invoice, policy), on="customer_id", how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .with_columns(
            snapshot_date=pl.lit(s),
            amount_log=pl.col("amount").log(),
            open_share=pl.col("open_balance") / pl.col("amount"),
            terms_days=days_between(due, issue),
            issued_month_end=_flag(_month_end(issue)),
            issued_quarter_end=_flag(_month_end(issue) & (issue.dt.month() % 3 == 0)),
            due_month_end=_flag(_month_end(due)),
            disputed=_flag(pl.col("disputed")),
            partially_paid=_flag(paid > 0),
            invoice_payments=pl.col("n_payments"),
            share_of_customer_balance=pl.when(pl.col("customer_open_balance") > 0).then(
                pl.col("open_balance") / pl.col("customer_open_balance")
            ),
            customer_on_active_plan=_flag(pl.col("customer_on_active_plan")),
            customer_recent_due_invoices=pl.col("customer_recent_due_invoices").fill_null(0),
            expected_days_to_payment=days_between(due, s) + pl.col("customer_recent_days_late"),
            customer_overdue_share=pl.when(pl.col("customer_open_balance") > 0).then(
                pl.col("customer_overdue_balance") / pl.col("customer_open_balance")
            ),
            snapshot_month=pl.lit(s.month),
        )
        .with_columns(
            # an absent table gives null features (customer_features does the same)
            *[
                pl.lit(None, pl.Float32).alias(name)
                for name, table in (
                    ("invoice_contacts", "contacts"),
                    ("days_since_invoice_contact", "contacts"),
                    ("customer_contacts", "contacts"),
                    ("customer_days_since_last_contact", "contacts"),
                    ("invoice_promises", "promises"),
                )
                if not portfolio.has(table)
            ]
        )
        .select(
            *KEY_COLUMNS,
            *[pl.col(name).cast(pl.String) for name in CATEGORICAL_FEATURES],
            *[pl.col(name).cast(pl.Float32) for name in NUMERIC_FEATURES],
        )
        .sort("invoice_id")
    )
    return features


def _restricted(portfolio: Portfolio, invoice_ids: pl.Series) -> Portfolio:
    """``portfolio`` with only the invoices ``invoice_ids`` (a label needs only its invoice's
    payments and credit notes, so balances of those invoices are unchanged and cheaper)."""
    frames = dict(portfolio.frames)
    frames["invoices"] = frames["invoices"].filter(pl.col("invoice_id").is_in(invoice_ids.implode()))
    return replace(portfolio, frames=frames)


def labels(
    portfolio: Portfolio, invoice_ids: pl.Series, horizon_date: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """invoice_id, label (still open at ``horizon_date``, Boolean) and open_at_horizon (open
    balance at ``horizon_date``, reporting currency) of the invoices ``invoice_ids``."""
    balances = reporting_balances(_restricted(portfolio, invoice_ids), horizon_date, policy)
    return balances.select("invoice_id", label="is_open", open_at_horizon="open_balance")


def _settlements(portfolio: Portfolio, last: date, policy: Policy) -> pl.DataFrame | None:
    """invoice_id, issue_date, due_date, settlement_date (as of ``last``) of every invoice, to
    find the invoices open at each earlier snapshot without computing every balance again.

    Payments and credit notes are positive, so an invoice's cumulated movements only grow: it is
    open at ``s <= last`` exactly when issued by ``s`` and not settled by ``s`` (settlement_date
    as of ``last`` null or after ``s``). None for a multi-currency portfolio, whose reporting
    currency depends on the whole set of invoices (no shortcut then)."""
    currencies = portfolio.invoices.select(pl.col("currency").n_unique()).collect().item()
    if currencies > 1:
        return None
    return (
        invoice_balances(portfolio, last, policy)
        .select("invoice_id", "issue_date", "due_date", "settlement_date")
        .collect()
    )


def _candidates(settlements: pl.DataFrame, s: date, policy: Policy) -> pl.Series:
    """Ids of the invoices open at ``s`` and of those due in the trend_recent_days before it
    (the invoices :func:`_invoice_features` needs balances of)."""
    recent = days_between(s, pl.col("due_date")).is_between(1, policy.behaviour.trend_recent_days)
    open_at_s = pl.col("settlement_date").is_null() | (pl.col("settlement_date") > s)
    return settlements.filter((pl.col("issue_date") <= s) & (open_at_s | recent))["invoice_id"]


def training_set(
    portfolio: Portfolio,
    snapshots: list[date],
    horizon_days: int,
    policy: Policy = DEFAULT_POLICY,
) -> pl.DataFrame:
    """One row per (snapshot date s, invoice open at s): :func:`invoice_features` at s, plus
    ``label`` (Boolean: still open at s + horizon_days) and ``open_at_horizon`` (its open balance
    then, reporting currency, 0 when settled).

    The caller passes only snapshots whose label is known: ``s + horizon_days`` must not be after
    the data's as-of date (this function cannot know it). Rows are sorted by snapshot_date then
    invoice_id. One polars query per snapshot date (features, then labels of its open invoices);
    nothing loops over rows. Invoice balances at each snapshot are computed only for the invoices
    that can matter there (open at s, or due in the recent window), found from one pass over the
    settlement dates; customer features see the whole history. The rows are those of
    :func:`invoice_features` at each date.
    """
    if horizon_days <= 0:
        raise InputError(Problem(f"the horizon must be > 0 days, got {horizon_days}"))
    dates = sorted(set(snapshots))
    if not dates:
        return empty_training_set()
    settlements = _settlements(portfolio, dates[-1], policy)
    parts = []
    for s in dates:
        candidates = None if settlements is None else _candidates(settlements, s, policy)
        features = _invoice_features(portfolio, s, policy, candidates).collect()
        if features.height == 0:
            continue
        outcome = labels(portfolio, features["invoice_id"], s + timedelta(days=horizon_days), policy)
        parts.append(
            features.lazy()
            .join(outcome, on="invoice_id", how="left")
            .sort("invoice_id")
            .collect()
        )
    if not parts:
        return empty_training_set()
    return pl.concat(parts)


def empty_training_set() -> pl.DataFrame:
    """A training set with no rows and the columns of :func:`training_set`."""
    schema = {
        "invoice_id": pl.String, "customer_id": pl.String, "snapshot_date": pl.Date,
        "open_balance": pl.Float64,
        **{name: pl.String for name in CATEGORICAL_FEATURES},
        **{name: pl.Float32 for name in NUMERIC_FEATURES},
        "label": pl.Boolean, "open_at_horizon": pl.Float64,
    }  # fmt: skip
    return pl.DataFrame(schema=schema)
