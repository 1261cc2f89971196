"""The late-payment training set (DESIGN section 5): open invoices at weekly snapshot dates.

Unit: an invoice open at a snapshot date ``s``. Features are computed **as of** ``s`` (nothing
dated after ``s`` is visible: they reuse :func:`workbench.balances.reporting_balances` and
:func:`workbench.features.customer_features`, both as of ``s``; the training set gets the same
balances from running sums over the snapshot dates, :class:`workbench.balances.BalanceCursor`).
Label: the invoice still has an open balance at ``s + H`` (H = ``horizon_days``), i.e.
``invoice_balances(portfolio, s + H).is_open``; ``open_at_horizon`` is that balance (currency).

:func:`invoice_features` serves both training (one call per snapshot date) and scoring (one call
at the scoring date, labels unknown). Model features are listed in :data:`MODEL_FEATURES`:
categorical ones (strings) in :data:`CATEGORICAL_FEATURES`, the others (:data:`NUMERIC_FEATURES`)
are ``Float32`` (booleans as 0/1; null when unknown or when their table is absent): the trees bin
them anyway, and it halves the memory of a large training set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from workbench.balances import (
    BalanceCursor,
    balance_history,
    days_between,
    reporting_balances,
)
from workbench.errors import InputError, Problem
from workbench.features import FEATURES, customer_features_from
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

SNAPSHOT_ENGINE = "in-memory"
"""Polars engine of the per-snapshot queries of :func:`training_set` (balances as of s,
features, labels): many mid-sized queries, for which the in-memory engine spends less CPU than
the streaming one (about 60 % on the 400-customer sample, measured with polars 2.1)."""

STREAMING_FEATURES_FROM = 250_000
"""From this many invoices, the features query of each snapshot runs on the streaming engine
instead: in memory, the promises joined with every payment of their customer
(:func:`workbench.promises.promise_status`) grow with the portfolio and would raise the peak
memory of a large training set (measured at 20,000 customers, 1 million invoices)."""


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
    return _invoice_features(portfolio, s, policy, reporting_balances(portfolio, s, policy))


def _invoice_features(
    portfolio: Portfolio, s: date, policy: Policy, every_invoice: pl.LazyFrame
) -> pl.LazyFrame:
    """:func:`invoice_features` from ``every_invoice``, which must be
    ``reporting_balances(portfolio, s, policy)`` (the training set computes it once per
    snapshot with a :class:`workbench.balances.BalanceCursor`, and collects it: the invoice rows
    and the customer features both read it)."""
    balances = every_invoice.filter(pl.col("is_open"))
    customers = customer_features_from(portfolio, every_invoice, s, policy).select(
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


def _snapshot_rows(
    at_s: BalanceCursor, at_horizon: BalanceCursor, s: date, horizon_days: int
) -> pl.DataFrame:
    """The training rows of snapshot ``s`` (sorted by invoice_id; possibly none): the
    :func:`invoice_features` at ``s`` (the balances as of ``s`` from ``at_s``, computed once for
    both the invoice rows and the customer features) joined with their :func:`labels` at
    ``s + horizon_days`` (balances of those invoices only, from ``at_horizon``)."""
    portfolio, policy = at_s.portfolio, at_s.policy
    every_invoice = at_s.reporting_balances(s).collect(engine=SNAPSHOT_ENGINE)
    features = _invoice_features(portfolio, s, policy, every_invoice.lazy())
    large = portfolio.frames["invoices"].height >= STREAMING_FEATURES_FROM
    features = features.collect(engine="streaming" if large else SNAPSHOT_ENGINE)
    if features.height == 0:
        return features
    horizon = at_horizon.reporting_balances(s + timedelta(days=horizon_days), features["invoice_id"])
    outcome = horizon.select("invoice_id", label="is_open", open_at_horizon="open_balance")
    rows = features.lazy().join(outcome, on="invoice_id", how="left").sort("invoice_id")
    return rows.collect(engine=SNAPSHOT_ENGINE)


def training_set(
    portfolio: Portfolio,
    snapshots: list[date],
    horizon_days: int,
    policy: Policy = DEFAULT_POLICY,
    *,
    on_snapshot: Callable[[], None] | None = None,
) -> pl.DataFrame:
    """One row per (snapshot date s, invoice open at s): :func:`invoice_features` at s, plus
    ``label`` (Boolean: still open at s + horizon_days) and ``open_at_horizon`` (its open balance
    then, reporting currency, 0 when settled).

    The caller passes only snapshots whose label is known: ``s + horizon_days`` must not be after
    the data's as-of date (this function cannot know it). Rows are sorted by snapshot_date then
    invoice_id. ``on_snapshot`` is called once after each distinct snapshot date is done (rows
    or not), e.g. to advance a progress bar.

    The payments and credit notes are collected once, with each invoice's settlement date
    (:func:`workbench.balances.balance_history`, up to the last s + horizon_days). Then, per
    snapshot date (ascending): the balances as of s, from running sums per invoice of the
    movements dated <= s (:class:`workbench.balances.BalanceCursor`: each date adds the
    movements since the previous one), collected once and read by both the invoice rows and
    the customer features; then the labels of the open invoices, from a second cursor at
    s + horizon_days. Nothing loops over rows, nothing dated after s reaches the features. The
    rows are those of :func:`invoice_features` at each date joined with :func:`labels`.
    """
    if horizon_days <= 0:
        raise InputError(Problem(f"the horizon must be > 0 days, got {horizon_days}"))
    dates = sorted(set(snapshots))
    if not dates:
        return empty_training_set()
    history = balance_history(portfolio, dates[-1] + timedelta(days=horizon_days), policy)
    at_s, at_horizon = (BalanceCursor(portfolio, history, policy) for _ in range(2))
    parts = []
    for s in dates:
        rows = _snapshot_rows(at_s, at_horizon, s, horizon_days)
        if rows.height:
            parts.append(rows)
        if on_snapshot is not None:
            on_snapshot()
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
