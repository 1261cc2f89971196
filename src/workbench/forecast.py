"""Weekly cash forecast (issue 13): expected cash received in each of the next weeks, with a range.

Week k (1..``forecast.weeks``) after ``as_of`` runs from ``as_of + 1 + 7(k-1)`` to ``as_of +
7k`` (both included). Money is in the reporting currency
(:func:`workbench.balances.reporting_currency`), converted at the latest fx rate dated on or
before ``as_of``.

**As of.** Everything is computed from :func:`as_of_view`: the portfolio cut at ``as_of``
(invoices issued, payments received, credit notes, disputes opened, promises made, plans agreed,
fx rates dated on or before it). Nothing dated after ``as_of`` is read; the models are measured
only on weeks that ended by ``as_of``.

Expected cash of week k is the sum of four parts:

- ``from_open_invoices``: each invoice open at ``as_of``, less what promises and plans are
  expected to bring on it, times the share of such a balance paid in week k after a date,
  measured on the invoices open at the weekly dates of the last ``forecast.history_weeks``
  weeks (an empirical table by week k x whether the week holds a month end x band of days past
  due x band of the customer's mean days late, :func:`timing_table`; a sparse cell falls back
  to coarser ones);
- ``from_promises``: pending promises whose promised date falls in week k (a date already
  passed, within its grace, counts in week 1), their amount still unpaid times the customer's
  kept rate (shrunk towards the portfolio's rate);
- ``from_plans``: plan instalments dated in week k, times the portfolio's share of instalments
  kept;
- ``from_future_invoices``: invoices not yet issued: the average weekly sales of the last
  ``forecast.sales_weeks`` weeks times the ratio, measured at earlier weekly dates, of the cash
  brought in week k by invoices issued after the date to the weekly sales at that date.

Seasons: the open-invoice and new-sales parts of week k are multiplied by a seasonal factor,
how much more (or less) was paid in week k after the same weekly dates a year earlier than the
timing table of that time expected (:func:`seasonal_factors`; 1 without a year of history).

Promises and plans cover part of a balance; what they are expected to bring is taken off the
balance the timing table is applied to, so nothing is counted twice (a commitment beyond the
open balance is cut to it). Unapplied cash (payments without an invoice) is added in proportion:
the invoice parts are multiplied by total / applied cash of the last ``sales_weeks`` weeks.

The range (``low``, ``high``) is calibrated on the errors of the same forecast made at
``forecast.calibration_origins`` earlier weekly dates whose weeks are all known at ``as_of``:
the split-conformal ``low_quantile`` and ``high_quantile`` of actual / expected per week k,
widened when needed so that low <= expected <= high
(:func:`workbench.forecastcheck.range_ratios`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from workbench.balances import (
    cents_of_micros,
    from_cents,
    in_reporting_currency,
    invoice_balances,
    micros,
    movements,
)
from workbench.plans import plan_status
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status

PARTS = ("from_promises", "from_plans", "from_open_invoices", "from_future_invoices")
"""The columns splitting the expected cash by source (reporting currency)."""

NO_HISTORY_BAND = -1
"""Late band of a customer with no invoice settled in the behaviour window."""

YEAR_DAYS = 364
"""A year back, in whole weeks (52), so that weekdays line up."""


def week_frame(as_of: date, weeks: int) -> pl.DataFrame:
    """week (1..weeks), start = as_of + 1 + 7(week - 1), end = start + 6 (dates)."""
    week = pl.int_range(1, weeks + 1, eager=True, dtype=pl.Int32).alias("week")
    start = pl.lit(as_of) + pl.duration(days=7 * (pl.col("week") - 1) + 1)
    return (
        pl.DataFrame(week)
        .with_columns(start=start.cast(pl.Date))
        .with_columns(end=(pl.col("start") + pl.duration(days=6)).cast(pl.Date))
    )


def week_of(day: pl.Expr, as_of: date) -> pl.Expr:
    """Week k after ``as_of`` holding ``day`` (1 for as_of + 1 .. as_of + 7; 0 or less for a
    day on or before ``as_of``), Int32."""
    return ((day - pl.lit(as_of)).dt.total_days() + 6).floordiv(7).cast(pl.Int32)


def as_of_view(portfolio: Portfolio, as_of: date) -> Portfolio:
    """``portfolio`` cut at ``as_of``: only rows dated on or before it (invoices by issue date,
    payments, credit notes, disputes opened, promises made, contacts, fx rates; plans by their
    agreement, else first instalment, date: their later instalments are the agreed schedule).
    A dispute resolved after ``as_of`` is open in the view."""
    c = pl.col
    cut = {
        "invoices": c("issue_date") <= as_of,
        "payments": c("payment_date") <= as_of,
        "credit_notes": c("date") <= as_of,
        "promises": c("promise_date") <= as_of,
        "contacts": c("contact_date") <= as_of,
        "fx_rates": c("date") <= as_of,
        "disputes": c("opened_date") <= as_of,
        "payment_plans": pl.coalesce(c("agreed_date").min().over("plan_id"),
                                     c("instalment_date").min().over("plan_id")) <= as_of,
    }  # fmt: skip
    frames = {name: frame.filter(cut[name]) if name in cut else frame
              for name, frame in portfolio.frames.items()}  # fmt: skip
    resolved = pl.when(c("resolved_date") <= as_of).then(c("resolved_date"))
    frames["disputes"] = frames["disputes"].with_columns(resolved_date=resolved)
    return replace(portfolio, frames=frames)


def with_rate(rows: pl.LazyFrame, view: Portfolio, as_of: date) -> pl.LazyFrame:
    """``rows`` (with ``currency``) with ``rate``: the factor to the reporting currency at the
    latest fx rate dated <= as_of (1.0 for a single-currency portfolio), as
    :func:`workbench.balances.in_reporting_currency` converts."""
    return in_reporting_currency(rows.with_columns(rate=pl.lit(1.0)), view, as_of, amount="rate")


def _band(value: pl.Expr, bounds: tuple[int, ...]) -> pl.Expr:
    """Index of the band of ``value``: the number of ``bounds`` it exceeds (Int32)."""
    return pl.sum_horizontal([(value > b).cast(pl.Int32) for b in bounds]).cast(pl.Int32)


def _invoices(view: Portfolio, as_of: date, policy: Policy) -> pl.LazyFrame:
    """The view's invoices with rate (to reporting currency) and settlement_date as of
    ``as_of`` (:func:`workbench.balances.invoice_balances`; null while open)."""
    balances = invoice_balances(view, as_of, policy).select(
        "invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency",
        "settlement_date",
    )  # fmt: skip
    return with_rate(balances, view, as_of)


def _late_bands(invoices: pl.LazyFrame, dates: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per customer and date t of ``dates`` (column t): late_band, the band
    (``forecast.late_bands``) of the mean days late of its invoices settled in
    (t - behaviour_days, t] (:data:`NO_HISTORY_BAND` when none: added by the caller's join)."""
    rules = policy.forecast
    settled = invoices.filter(pl.col("settlement_date").is_not_null()).select(
        "customer_id",
        "settlement_date",
        days_late=(pl.col("settlement_date") - pl.col("due_date")).dt.total_days(),
    )
    window = pl.col("t") - pl.col("settlement_date")
    return (
        settled.join(dates, how="cross")
        .filter(window.dt.total_days().is_between(0, rules.behaviour_days - 1))
        .group_by("customer_id", "t")
        .agg(late_band=_band(pl.col("days_late").mean(), rules.late_bands))
    )


def open_rows(
    view: Portfolio, invoices: pl.LazyFrame, dates: list[date], policy: Policy
) -> pl.LazyFrame:
    """One row per invoice open at each date t of ``dates`` (all <= the view's as-of date):
    invoice_id, customer_id, t, balance (open balance at t, reporting currency: amount - applied
    payments - credit notes dated <= t, as :func:`workbench.balances.invoice_balances`),
    dpd_band (``forecast.dpd_bands`` of t - due date), late_band (:func:`_late_bands`) and rate
    (to the reporting currency). Balances are summed exactly in micro-units and rounded once to
    the cent, as :func:`workbench.balances.invoice_balances` does."""
    c = pl.col
    last = max(dates)
    tolerance = policy.amounts.open_tolerance
    when = pl.DataFrame({"t": dates}, schema={"t": pl.Date}).lazy()
    pairs = (
        invoices.join(when, how="cross")
        .filter(c("issue_date") <= c("t"))
        .filter(c("settlement_date").is_null() | (c("settlement_date") > c("t")))
    )
    moves = movements(view, last).select("invoice_id", "date", "amount", "is_payment")
    before = (
        pairs.select("invoice_id", "t")
        .join(moves, on="invoice_id")
        .filter(c("date") <= c("t"))
        .group_by("invoice_id", "t")
        .agg(moved=micros(c("amount")).sum())
    )
    rows = (
        pairs.join(before, on=["invoice_id", "t"], how="left")
        .with_columns(
            balance=from_cents(cents_of_micros(micros(c("amount")) - c("moved").fill_null(0)))
        )
        .filter(c("balance") > tolerance)
        .with_columns(
            balance=c("balance") * c("rate"),
            dpd_band=_band((c("t") - c("due_date")).dt.total_days(), policy.forecast.dpd_bands),
        )
    )
    lates = _late_bands(invoices, when, policy)
    return rows.join(lates, on=["customer_id", "t"], how="left").select(
        "invoice_id", "customer_id", "t", "balance", "dpd_band", "rate",
        late_band=c("late_band").fill_null(NO_HISTORY_BAND),
    )  # fmt: skip


def _past_dates(as_of: date, weeks: int) -> list[date]:
    """as_of - 7, as_of - 14, ..., as_of - 7 weeks (a handful of weekly dates)."""
    return [as_of - timedelta(days=7 * j) for j in range(1, weeks + 1)]


def _week_cash(rows: pl.LazyFrame, cash: pl.LazyFrame, as_of: date, weeks: int) -> pl.LazyFrame:
    """``rows`` (invoice_id, t, ...) crossed with week k = 1..weeks whose end t + 7k <= as_of,
    with paid: the ``cash`` (invoice_id, date, cash) of the invoice dated in week k after t."""
    c = pl.col
    ks = pl.LazyFrame({"k": list(range(1, weeks + 1))}, schema={"k": pl.Int32})
    known = rows.join(ks, how="cross").filter(
        c("t") + pl.duration(days=7 * c("k")) <= pl.lit(as_of)
    )
    in_week = (c("date") - c("t")).dt.total_days().is_between(7 * (c("k") - 1) + 1, 7 * c("k"))
    paid = (
        known.select("invoice_id", "t", "k")
        .join(cash, on="invoice_id")
        .filter(in_week)
        .group_by("invoice_id", "t", "k")
        .agg(paid=c("cash").sum())
    )
    return known.join(paid, on=["invoice_id", "t", "k"], how="left").with_columns(
        c("paid").fill_null(0.0)
    )


def applied_cash(view: Portfolio, invoices: pl.LazyFrame) -> pl.LazyFrame:
    """Payments applied to an invoice: invoice_id, date, cash (reporting currency, at the
    invoice's rate)."""
    return (
        view.payments.filter(pl.col("invoice_id").is_not_null())
        .join(invoices.select("invoice_id", "rate"), on="invoice_id")
        .select("invoice_id", date="payment_date", cash=pl.col("amount") * pl.col("rate"))
    )


def month_end_week(origin: pl.Expr, k: pl.Expr) -> pl.Expr:
    """Whether week ``k`` after ``origin`` (days origin + 7(k-1) + 1 .. origin + 7k) holds the
    last day of a month (Boolean): month-end payment runs bring more cash."""
    start = origin + pl.duration(days=7 * (k - 1) + 1)
    return start.dt.month() != (start + pl.duration(days=7)).dt.month()


def timing_table(
    view: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy, weeks: int
) -> pl.DataFrame:
    """Share of an open balance paid in week k after a date, measured at the weekly dates of the
    last ``forecast.history_weeks`` weeks (pairs date + week ending by ``as_of`` only).

    Columns: k, month_end (:func:`month_end_week`), dpd_band, late_band, share (paid / balance,
    amount-weighted), from the invoice-weeks of that cell when they are at least
    ``forecast.min_cell_rows``, else of its (k, month_end, dpd_band), else of its (k,
    month_end), else of its k (0 without history)."""
    rules = policy.forecast
    c = pl.col
    rows = open_rows(view, invoices, _past_dates(as_of, rules.history_weeks), policy)
    labelled = _week_cash(rows, applied_cash(view, invoices), as_of, weeks).with_columns(
        month_end=month_end_week(c("t"), c("k"))
    )
    share = c("paid").sum() / c("balance").sum()
    levels = (["k", "month_end", "dpd_band", "late_band"], ["k", "month_end", "dpd_band"],
              ["k", "month_end"], ["k"])  # fmt: skip
    table = _grid(weeks, rules.dpd_bands, rules.late_bands)
    for i, keys in enumerate(levels):  # four levels of detail, finest first
        level = labelled.group_by(keys).agg(share.alias(f"share{i}"), pl.len().alias(f"n{i}"))
        table = table.join(level, on=keys, how="left")
    enough = rules.min_cell_rows
    chosen = pl.coalesce(
        *(pl.when(c(f"n{i}") >= enough).then(c(f"share{i}")) for i in range(len(levels) - 1)),
        c(f"share{len(levels) - 1}"),
    )
    return table.select(
        "k", "month_end", "dpd_band", "late_band", share=chosen.fill_null(0.0).fill_nan(0.0)
    ).collect()


def _grid(weeks: int, dpd_bands: tuple[int, ...], late_bands: tuple[int, ...]) -> pl.LazyFrame:
    """Every (k, dpd_band, late_band, month_end) of the table."""
    return (
        pl.LazyFrame({"k": list(range(1, weeks + 1))}, schema={"k": pl.Int32})
        .join(pl.LazyFrame({"dpd_band": list(range(len(dpd_bands) + 1))},
                           schema={"dpd_band": pl.Int32}), how="cross")
        .join(pl.LazyFrame({"late_band": list(range(NO_HISTORY_BAND, len(late_bands) + 1))},
                           schema={"late_band": pl.Int32}), how="cross")
        .join(pl.LazyFrame({"month_end": [False, True]}), how="cross")
    )  # fmt: skip


def _promise_rows(view: Portfolio, as_of: date, policy: Policy, weeks: int) -> pl.LazyFrame:
    """Pending promises due in the window: source, customer_id, invoice_id, week, amount (still
    unpaid, reporting currency), keep (the customer's kept rate, shrunk towards the
    portfolio's; ``forecast.default_keep_rate`` when no promise is kept or broken yet)."""
    c = pl.col
    status = promise_status(view, as_of, policy).collect()
    closed = status.filter(c("status") != "pending")
    total, default = closed.height, policy.forecast.default_keep_rate
    base = closed.filter(c("status") == "kept").height / total if total else default
    prior = policy.forecast.keep_prior_promises
    rates = closed.group_by("customer_id").agg(kept=(c("status") == "kept").sum(), n=pl.len())
    currency = view.frames["promises"].select("promise_id", "currency")
    pending = (
        status.lazy()
        .filter(c("status") == "pending")
        .join(currency.lazy(), on="promise_id", how="left")
        .join(rates.lazy(), on="customer_id", how="left")
        .with_columns(week=week_of(c("promised_date"), as_of).clip(lower_bound=1))
        .filter(c("week") <= weeks)
    )
    keep = (c("kept").fill_null(0) + prior * base) / (c("n").fill_null(0) + prior)
    return with_rate(pending, view, as_of).select(
        "customer_id", "invoice_id", "week",
        source=pl.lit("from_promises"),
        amount=(c("amount") - c("paid")).clip(lower_bound=0) * c("rate"),
        keep=keep.fill_nan(base),
    )  # fmt: skip


def _plan_rows(view: Portfolio, as_of: date, policy: Policy, weeks: int) -> pl.LazyFrame:
    """Plan instalments dated in the window: the columns of :func:`_promise_rows`; keep is the
    portfolio's share of instalments kept (1 - missed / instalments past their grace)."""
    c = pl.col
    grace = timedelta(days=policy.behaviour.plan_grace_days)
    status = plan_status(view, as_of, policy).select("plan_id", "missed").collect()
    rows = view.frames["payment_plans"]
    past = rows.filter(c("instalment_date") + grace < as_of).height
    keep = 1 - status["missed"].sum() / past if past else policy.forecast.default_keep_rate
    coming = (
        rows.lazy()
        .with_columns(week=week_of(c("instalment_date"), as_of))
        .filter(c("week").is_between(1, weeks))
    )
    return with_rate(coming, view, as_of).select(
        "customer_id", "invoice_id", "week",
        source=pl.lit("from_plans"), amount=c("amount") * c("rate"), keep=pl.lit(float(keep)),
    )  # fmt: skip


def commitments(
    view: Portfolio, current: pl.LazyFrame, as_of: date, policy: Policy, weeks: int
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Promises and plan instalments of the window, cut to the open balance they cover.

    ``current``: invoice_id, customer_id, balance (open at ``as_of``, reporting currency).
    Returns (rows: source, k (the week), expected = amount x cut x keep), and (per open invoice:
    invoice_id, covered, the expected commitment cash taken off its balance). A commitment on
    an invoice is cut to that invoice's balance (to 0 when it is settled); one naming no invoice
    to what its customer owes beyond the invoice commitments, spread over its invoices in
    proportion to that rest."""
    c = pl.col
    rows = pl.concat([_promise_rows(view, as_of, policy, weeks),
                      _plan_rows(view, as_of, policy, weeks)])  # fmt: skip
    on_invoice = rows.filter(c("invoice_id").is_not_null()).join(
        current.select("invoice_id", "balance"), on="invoice_id", how="left"
    )
    committed = c("amount").sum().over("invoice_id")
    on_invoice = on_invoice.with_columns(
        cut=pl.min_horizontal(pl.lit(1.0), c("balance").fill_null(0.0) / committed).fill_nan(0.0)
    )
    per_invoice = on_invoice.group_by("invoice_id").agg(
        held=(c("amount") * c("cut")).sum(), expected=(c("amount") * c("cut") * c("keep")).sum()
    )
    rest = current.join(per_invoice, on="invoice_id", how="left").with_columns(
        rest=c("balance") - c("held").fill_null(0.0)
    )
    owed = rest.group_by("customer_id").agg(rest_total=c("rest").sum())
    on_customer = (
        rows.filter(c("invoice_id").is_null())
        .join(owed, on="customer_id", how="left")
        .with_columns(committed=c("amount").sum().over("customer_id"))
        .with_columns(
            cut=pl.min_horizontal(
                pl.lit(1.0), c("rest_total").fill_null(0.0) / c("committed")
            ).fill_nan(0.0)
        )
    )
    spread = on_customer.group_by("customer_id").agg(
        spread=(c("amount") * c("cut") * c("keep")).sum()
    )
    covered = (
        rest.join(owed, on="customer_id", how="left")
        .join(spread, on="customer_id", how="left")
        .select(
            "invoice_id",
            covered=c("expected").fill_null(0.0)
            + (c("rest") / c("rest_total") * c("spread")).fill_null(0.0).fill_nan(0.0),
        )
    )
    cash = pl.concat([on_invoice.select("source", "week", "amount", "cut", "keep"),
                      on_customer.select("source", "week", "amount", "cut", "keep")])  # fmt: skip
    expected = c("amount") * c("cut") * c("keep")
    return cash.select("source", k="week", expected=expected), covered


def _sales(invoices: pl.LazyFrame, dates: pl.LazyFrame, weeks: int) -> pl.LazyFrame:
    """Per date t of ``dates``: sales, the average weekly amount invoiced (reporting currency)
    over the ``weeks`` weeks (t - 7 weeks, t]."""
    age = (pl.col("t") - pl.col("issue_date")).dt.total_days()
    return (
        dates.join(
            invoices.select("issue_date", value=pl.col("amount") * pl.col("rate")), how="cross"
        )
        .filter(age.is_between(0, 7 * weeks - 1))
        .group_by("t")
        .agg(sales=pl.col("value").sum() / weeks)
    )


def future_ratio(
    view: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy, weeks: int
) -> pl.DataFrame:
    """Per week k: ratio, the cash brought in week k after a date t by invoices issued after t,
    over the weekly sales at t (:func:`_sales`), summed over the weekly dates t of the last
    ``forecast.history_weeks`` weeks with t + 7k <= ``as_of``."""
    c = pl.col
    rules = policy.forecast
    when = pl.LazyFrame({"t": _past_dates(as_of, rules.history_weeks)}, schema={"t": pl.Date})
    later = (
        invoices.join(when, how="cross")
        .filter(c("issue_date") > c("t"), c("issue_date") <= c("t") + timedelta(days=7 * weeks))
        .select("invoice_id", "t")
    )
    labelled = _week_cash(later, applied_cash(view, invoices), as_of, weeks)
    cash = labelled.group_by("t", "k").agg(cash=c("paid").sum())
    ks = pl.LazyFrame({"k": list(range(1, weeks + 1))}, schema={"k": pl.Int32})
    base = (
        _sales(invoices, when, rules.sales_weeks)
        .join(ks, how="cross")
        .filter(c("t") + pl.duration(days=7 * c("k")) <= pl.lit(as_of))
        .join(cash, on=["t", "k"], how="left")
    )
    ratio = base.group_by("k").agg(ratio=c("cash").fill_null(0.0).sum() / c("sales").sum())
    return (
        ks.join(ratio, on="k", how="left")
        .with_columns(c("ratio").fill_null(0.0).fill_nan(0.0))
        .sort("k")
        .collect()
    )


def unapplied_uplift(view: Portfolio, as_of: date, policy: Policy) -> float:
    """All cash / cash applied to invoices over the last ``forecast.sales_weeks`` weeks (1.0
    without payments): what unapplied payments add to the invoice parts."""
    c = pl.col
    days = 7 * policy.forecast.sales_weeks
    recent = view.payments.filter((pl.lit(as_of) - c("payment_date")).dt.total_days() < days)
    sums = (
        with_rate(recent, view, as_of)
        .select(
            total=(c("amount") * c("rate")).sum(),
            applied=(c("amount") * c("rate")).filter(c("invoice_id").is_not_null()).sum(),
        )
        .collect()
    )
    total, applied = sums.row(0)
    return total / applied if applied else 1.0


def seasonal_factors(
    view: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy, weeks: int
) -> pl.DataFrame:
    """Per week k: factor, how much more (or less) of the open balances was paid a year earlier
    than the timing table of that time said: at the ``forecast.seasonal_window`` weekly dates
    around ``as_of`` - 364 days, the cash paid in week k after each (known at ``as_of``) over
    the cash its :func:`timing_table` (made as of the first of those dates) expected. Clipped to
    ``forecast.seasonal_bounds``; 1.0 when the window is 0 or there is no such history."""
    c = pl.col
    window = policy.forecast.seasonal_window
    factors = pl.DataFrame({"k": list(range(1, weeks + 1))}, schema={"k": pl.Int32})
    if window == 0:
        return factors.with_columns(factor=pl.lit(1.0))
    centre = as_of - timedelta(days=YEAR_DAYS)
    near = [centre + timedelta(days=7 * j) for j in range(-(window // 2), window - window // 2)]
    table = timing_table(view, invoices, near[0], policy, weeks).lazy()
    rows = open_rows(view, invoices, near, policy)
    labelled = _week_cash(rows, applied_cash(view, invoices), as_of, weeks).with_columns(
        month_end=month_end_week(c("t"), c("k"))
    )
    ratio = (
        labelled.join(table, on=["k", "month_end", "dpd_band", "late_band"])
        .group_by("k")
        .agg(ratio=c("paid").sum() / (c("balance") * c("share")).sum())
    )
    low, high = policy.forecast.seasonal_bounds
    return (
        factors.lazy()
        .join(ratio, on="k", how="left")
        .select("k", factor=c("ratio").fill_nan(None).fill_null(1.0).clip(low, high))
        .sort("k")
        .collect()
    )


def expected_cash(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY, weeks: int | None = None
) -> pl.DataFrame:
    """The point forecast: week, start, end, expected and its parts (:data:`PARTS`), reporting
    currency, from the portfolio as of ``as_of`` only (:func:`as_of_view`). No range."""
    c = pl.col
    weeks = policy.forecast.weeks if weeks is None else weeks
    view = as_of_view(portfolio, as_of)
    invoices = _invoices(view, as_of, policy).collect().lazy()
    current = open_rows(view, invoices, [as_of], policy).collect().lazy()
    promised, covered = commitments(view, current, as_of, policy, weeks)
    uplift = unapplied_uplift(view, as_of, policy)
    season = seasonal_factors(view, invoices, as_of, policy, weeks).lazy()
    table = timing_table(view, invoices, as_of, policy, weeks).lazy()
    from_open = (
        current.join(covered, on="invoice_id", how="left")
        .with_columns(rest=(c("balance") - c("covered").fill_null(0.0)).clip(lower_bound=0))
        .join(table, on=["dpd_band", "late_band"])
        .filter(c("month_end") == month_end_week(pl.lit(as_of), c("k")))
        .group_by("k")
        .agg(from_open_invoices=(c("rest") * c("share")).sum() * uplift)
    )
    by_source = promised.group_by("k").agg(
        c("expected").filter(c("source") == name).sum().alias(name)
        for name in ("from_promises", "from_plans")
    )
    future = _future_part(view, invoices, as_of, policy, weeks).with_columns(
        c("from_future_invoices") * uplift
    )
    frame = (
        week_frame(as_of, weeks)
        .lazy()
        .rename({"week": "k"})
        .join(season, on="k", how="left")
        .join(by_source, on="k", how="left")
        .join(from_open, on="k", how="left")
        .join(future, on="k", how="left")
        .with_columns(c(PARTS).fill_null(0.0))
        .with_columns(c("from_open_invoices", "from_future_invoices") * c("factor"))
        .with_columns(expected=pl.sum_horizontal(PARTS))
        .select(pl.col("k").alias("week"), "start", "end", "expected", *PARTS)
        .sort("week")
    )
    return frame.collect()


def _future_part(
    view: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy, weeks: int
) -> pl.LazyFrame:
    """k, from_future_invoices: the weekly sales as of ``as_of`` (:func:`_sales`) times
    :func:`future_ratio` (before the unapplied uplift and the seasonal factor)."""
    when = pl.LazyFrame({"t": [as_of]}, schema={"t": pl.Date})
    sales = _sales(invoices, when, policy.forecast.sales_weeks).select("sales")
    return (
        future_ratio(view, invoices, as_of, policy, weeks)
        .lazy()
        .join(sales, how="cross")
        .select("k", from_future_invoices=pl.col("ratio") * pl.col("sales"))
    )


def cash_forecast(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY, weeks: int | None = None
) -> pl.DataFrame:
    """Expected cash received in each of the next ``weeks`` weeks (``forecast.weeks`` by
    default) after ``as_of``, with its 10 %-90 % range; nothing dated after ``as_of`` is read.

    One row per week: week (1..weeks), start (as_of + 1 + 7(week - 1)), end (start + 6),
    expected, low, high, and the expected split into from_promises, from_plans,
    from_open_invoices, from_future_invoices; money in the reporting currency. The range is
    calibrated on the forecasts made at earlier dates whose weeks are known at ``as_of``
    (:func:`workbench.forecastcheck.calibrated_range`)."""
    return cash_forecasts(portfolio, [as_of], policy, weeks)[as_of]


def cash_forecasts(
    portfolio: Portfolio,
    dates: list[date],
    policy: Policy = DEFAULT_POLICY,
    weeks: int | None = None,
) -> dict[date, pl.DataFrame]:
    """:func:`cash_forecast` made at each of ``dates`` (each reading nothing after its own
    date); the calibration forecasts the dates share (this week's and last week's share all but
    one) are computed once."""
    from workbench.forecastcheck import calibrated_ranges, with_range

    weeks = policy.forecast.weeks if weeks is None else weeks
    bounds = calibrated_ranges(portfolio, list(dates), policy, weeks)
    return {
        d: with_range(
            expected_cash(portfolio, d, policy, weeks).join(bounds[d], on="week", how="left")
        )
        .select("week", "start", "end", "expected", "low", "high", *PARTS)
        .sort("week")
        for d in dates
    }
