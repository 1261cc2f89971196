"""The KPIs at many dates in one pass over the movements (DESIGN section 4).

A balance changes only when an invoice is issued and on the days its payments and credit notes
are dated. So each invoice's open balance is a step function of the date, known once its
movements are cumulated; every KPI of :func:`workbench.kpis.kpi_frame` is a sum of such steps
(or a ratio of sums), which a sorted list of **events** (date, change) and a cumulative sum give
at every date at once. The series of 52 weekly dates then costs about one as-of computation, not
52 (:func:`one_pass_series`).

The events, per invoice (amounts in exact Int128 micro-units, each balance rounded once to the
cent as :func:`workbench.balances.invoice_balances` rounds it):

- its issue date, and each day it has movements (a movement dated before the issue date takes
  effect on the issue date: the invoice does not exist before): the change of its open AR
  (``open_balance`` when open, else 0), of its excess (customer credit) and of its open count;
- the day after its due date: its open AR moves from current to overdue;
- its settlement date S (the first date its cumulated movements brought it to the tolerance or
  below; balances only fall, so S as of any later date is the same): its amount x days to pay
  (and x days late) enters the settled window, which it leaves N days later;
- its amount enters the credit sales window when issued and leaves it N days later.

Every event is dated on or after the day the fact it records is visible (issue, movement,
settlement), so the value at ``t`` sees nothing dated after ``t``. A customer has a balance
while its count of open invoices is above 0 (customer-level events from the per-customer
running count). The countback DSO needs each date's AR against the monthly sales before it: a
small frame of (date, month) pairs.

Single-currency portfolios only: several currencies are converted at each date's rates, invoice
by invoice, which :func:`workbench.kpis.kpi_series` then computes date by date.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from workbench.balances import cents, cents_of_micros, from_cents, micros, movements
from workbench.kpis import with_ratio_kpis
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.runs import first_in_run, key_then_day, run_start, within_run_cum_sum

STEPS = ("current_cents", "overdue_cents", "excess_cents", "open_count")
"""Step quantities of an invoice's balance: open AR not yet due / overdue (cents, 0 when not
open), excess (cents) and open (1 or 0)."""

WINDOWS = ("sales_micros", "paid_weight", "paid_days", "late_days")
"""Quantities summed over a sliding window of N days: amounts issued (micro-units) and, for
invoices settled, amount (micro-units), amount x days to pay and amount x days late."""


def _invoices(portfolio: Portfolio, end: date) -> pl.LazyFrame:
    """Invoices issued on or before ``end``: invoice_id, invoice (its row, UInt32), customer
    (its customer's row in the customers table, UInt32: validation makes every invoice's
    customer a row of it), issue_date, due_date, amount_micros. Sorting and grouping by the
    numbers is cheaper than by the text ids, and numbering the customers by a join to their
    table cheaper than ranking the invoices' text ids (10 million invoices: 0.2 s against
    2 s)."""
    customers = portfolio.customers.select("customer_id").with_row_index("customer")
    return (
        portfolio.invoices.filter(pl.col("issue_date") <= end)
        .with_row_index("invoice")
        .join(customers, on="customer_id", how="left")
        .select(
            "invoice_id",
            "invoice",
            "issue_date",
            "due_date",
            "customer",
            amount_micros=micros(pl.col("amount")),
        )
    )


def balance_steps(portfolio: Portfolio, end: date, policy: Policy = DEFAULT_POLICY) -> pl.LazyFrame:
    """Per invoice issued on or before ``end``, its balance after each of its movements dated on
    or before ``end``: one row for its issue (nothing moved) and one per movement.

    Columns: invoice, customer (numbers: :func:`_invoices`), issue_date, due_date, amount_micros,
    day (the date the
    row takes effect: the issue date, or the movement's date when later), moved (the
    movement, Int128 micro-units; 0 on the issue row), remaining (amount less the movements
    up to this row, Int128 micro-units), settled (the invoice's settlement date by the
    movements' own dates, as :func:`workbench.balances.invoice_balances` dates it: the first
    date the cumulated movements brought it to the tolerance or below; null if never by
    ``end``; an invoice of at most the tolerance: its issue date, whatever it receives later).
    Rows are sorted by invoice, day, the issue row first, then movement date.
    """
    invoices = _invoices(portfolio, end)
    moves = (
        movements(portfolio, end)
        .join(invoices, on="invoice_id")
        .select(pl.exclude("amount", "is_payment"), moved=micros(pl.col("amount")), kind=pl.lit(1))
        .drop("invoice_id")
    )
    invoices = invoices.drop("invoice_id")
    issued = invoices.with_columns(
        date="issue_date", moved=pl.lit(0, pl.Int128), kind=pl.lit(0)
    ).select(moves.collect_schema().names())
    tolerance = policy.amounts.open_tolerance
    steps = (
        pl.concat([issued, moves])
        .with_columns(day=pl.max_horizontal("date", "issue_date"))
        .sort(key_then_day("invoice", "day"), key_then_day("kind", "date"))
        .with_columns(remaining=pl.col("amount_micros") - within_run_cum_sum("moved", "invoice"))
    )
    reached = (from_cents(cents_of_micros(pl.col("remaining"))) <= tolerance) & (
        pl.col("kind") == 1
    )
    # an invoice of at most the tolerance is settled when issued, whatever it receives later
    tiny = from_cents(cents_of_micros(pl.col("amount_micros"))) <= tolerance
    return (
        steps.with_columns(reached=reached)
        .with_columns(settled=first_in_run("date", "reached", "invoice"))
        .with_columns(settled=pl.when(tiny).then(pl.col("issue_date")).otherwise("settled"))
        .drop("kind", "reached")
    )


def _step_values(policy: Policy) -> dict[str, pl.Expr]:
    """The :data:`STEPS` of a balance ``remaining`` (Int128 micro-units), as
    :func:`workbench.balances.invoice_balances` rounds and tests it (open: the balance rounded
    once to the cent is above the tolerance)."""
    remaining = pl.col("remaining")
    open_cents = cents_of_micros(remaining.clip(lower_bound=0))
    is_open = from_cents(open_cents) > policy.amounts.open_tolerance
    return {
        "ar_cents": pl.when(is_open).then(open_cents).otherwise(0),
        "excess_cents": cents_of_micros(remaining.clip(upper_bound=0).abs()),
        "open_count": is_open.cast(pl.Int64),
    }


def _changes(steps: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per row of :func:`balance_steps`: how much it changes the invoice's open AR, excess and
    open count (the first row of an invoice changes them from 0)."""
    values = _step_values(policy)
    first = run_start("invoice")
    return steps.with_columns(**values).with_columns(
        (pl.col(name) - pl.when(first).then(0).otherwise(pl.col(name).shift(1))).alias(name)
        for name in values
    )


def _step_events(changes: pl.LazyFrame) -> pl.LazyFrame:
    """Dated changes of :data:`STEPS` (date, one column each): a change on or before the due
    date is current AR, moved to overdue the day after the due date; a later one is overdue."""
    due_after = pl.col("due_date") + timedelta(days=1)
    early = pl.col("day") < due_after
    zero = pl.lit(0, pl.Int64)
    at_change = changes.select(
        date="day",
        current_cents=pl.when(early).then("ar_cents").otherwise(zero),
        overdue_cents=pl.when(early).then(zero).otherwise("ar_cents"),
        excess_cents="excess_cents",
        open_count="open_count",
    )
    falling_due = changes.filter(early).select(
        date=due_after,
        current_cents=-pl.col("ar_cents"),
        overdue_cents="ar_cents",
        excess_cents=zero,
        open_count=zero,
    )
    return pl.concat([at_change, falling_due])


def _customer_events(changes: pl.LazyFrame) -> pl.LazyFrame:
    """Dated changes of the number of customers with an open invoice (date, customers): a
    customer counts while its running count of open invoices is above 0."""
    count = within_run_cum_sum("open_count", "customer")
    has = (count > 0).cast(pl.Int64)
    return (
        changes.filter(pl.col("open_count") != 0)
        .select("customer", "day", "open_count")
        .sort(key_then_day("customer", "day"))  # one integer key: 2 s against 3.5 s at 10M
        .with_columns(has=has)
        .select(
            date="day",
            customers=pl.col("has")
            - pl.when(run_start("customer")).then(0).otherwise(pl.col("has").shift(1)),
        )
    )


def _window_events(steps: pl.LazyFrame, n: int) -> pl.LazyFrame:
    """Dated changes of :data:`WINDOWS` over the window (t - n, t]: an invoice's amount from its
    issue date to n days later; a settled invoice's amount, amount x days to pay and amount x
    days late from its settlement (not before its issue) to n days after its settlement."""
    invoices = steps.filter(run_start("invoice"))
    amount = pl.col("amount_micros")
    zero = pl.lit(0, pl.Int128)
    sales = [
        invoices.select(
            date=pl.col("issue_date") + timedelta(days=offset), sales_micros=sign * amount
        )
        for offset, sign in ((0, 1), (n, -1))
    ]
    settled = (
        invoices.filter(pl.col("settled").is_not_null())
        .with_columns(
            start=pl.max_horizontal("settled", "issue_date"),
            stop=pl.col("settled") + timedelta(days=n),
            to_pay=(pl.col("settled") - pl.col("issue_date")).dt.total_days(),
            late=(pl.col("settled") - pl.col("due_date")).dt.total_days(),
        )
        .filter(pl.col("stop") > pl.col("start"))
    )
    paid = [
        settled.select(
            date=when,
            paid_weight=sign * amount,
            paid_days=sign * amount * pl.col("to_pay"),
            late_days=sign * amount * pl.col("late"),
        )
        for when, sign in ((pl.col("start"), 1), (pl.col("stop"), -1))
    ]
    return pl.concat(
        [frame.with_columns(**{w: zero for w in WINDOWS if w not in frame.collect_schema()})
         .select("date", *WINDOWS) for frame in (*sales, *paid)]
    )  # fmt: skip


def _totals_at(
    events: pl.LazyFrame, dates: pl.LazyFrame, columns: list[str], on: str
) -> pl.LazyFrame:
    """Per as_of of ``dates``, for each of ``columns``, the sum of the ``events`` dated on or
    before the date in its column ``on`` (0 when none): daily sums, cumulated, looked up
    backwards."""
    cumulated = (
        events.group_by("date")
        .agg(pl.col(columns).sum())
        .sort("date")
        .select("date", pl.col(columns).cum_sum())
    )
    return (
        dates.sort(on)
        .join_asof(cumulated, left_on=on, right_on="date", strategy="backward")
        .select("as_of", pl.col(columns).fill_null(0))
    )


def _issued_cents(portfolio: Portfolio, end: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Credit sales of the invoices issued on or before ``end``, in whole cents per invoice
    (as :func:`workbench.kpis.countback_months` counts them): cumulated by issue date (day,
    issued_cents) and per month from the first invoice's month to ``end``'s, months without
    invoices included (month, full_cents)."""
    invoices = portfolio.invoices.filter(pl.col("issue_date") <= end).select(
        "issue_date", sales_cents=cents(pl.col("amount"))
    )
    daily = (
        invoices.group_by(day="issue_date")
        .agg(pl.col("sales_cents").sum())
        .sort("day")
        .select("day", issued_cents=pl.col("sales_cents").cum_sum())
    )
    months = invoices.select(
        month=pl.date_range(
            # no invoice: only end's month, whose sales are 0
            pl.coalesce(pl.col("issue_date").min(), pl.lit(end)).dt.month_start(),
            pl.lit(end).dt.month_start(),
            "1mo",
        )
    )
    monthly = invoices.group_by(month=pl.col("issue_date").dt.month_start()).agg(
        full_cents=pl.col("sales_cents").sum()
    )
    full = months.join(monthly, on="month", how="left").with_columns(
        pl.col("full_cents").fill_null(0)
    )
    return daily, full.drop_nulls("month")


def _countback(ar: pl.LazyFrame, portfolio: Portfolio, end: date) -> pl.LazyFrame:
    """Per as_of of ``ar`` (as_of, ar_cents: total AR, cents): dso_countback (days), as
    :func:`workbench.kpis.countback_months` counts it: the AR is consumed against each month's
    credit sales from the as-of month back (the as-of month's sales are those issued up to the
    as-of date, its days the days elapsed); a month whose sales are used up counts all its days,
    the month where the AR runs out the share left; 0 before the first invoice."""
    daily, full = _issued_cents(portfolio, end)
    this_month = pl.col("as_of").dt.month_start()
    per_date = ar.with_columns(this_month=this_month, month_before=this_month - timedelta(days=1))
    for on, name in (("as_of", "to_date"), ("month_before", "before_month")):
        per_date = (
            per_date.sort(on)
            .join_asof(daily, left_on=on, right_on="day", strategy="backward")
            .with_columns(pl.col("issued_cents").fill_null(0).alias(name))
            .drop("issued_cents", "day", strict=False)
        )
    current = per_date.select(
        "as_of", "ar_cents", month="this_month",
        sales=pl.col("to_date") - pl.col("before_month"), days=pl.col("as_of").dt.day().cast(pl.Int64),
    )  # fmt: skip
    earlier = (
        per_date.join(full, how="cross")
        .filter(pl.col("month") < pl.col("this_month"))
        .select(
            "as_of",
            "ar_cents",
            "month",
            sales="full_cents",
            days=pl.col("month").dt.month_end().dt.day().cast(pl.Int64),
        )
    )
    after = pl.col("sales").cum_sum().over("as_of")
    before, sales, ar_cents = pl.col("before"), pl.col("sales"), pl.col("ar_cents")
    return (
        pl.concat([current, earlier])
        .sort("as_of", "month", descending=[False, True])
        .with_columns(after=after, before=after - sales)
        .with_columns(
            days_counted=pl.when(before >= ar_cents)
            .then(0.0)
            .when(pl.col("after") <= ar_cents)
            .then(pl.col("days").cast(pl.Float64))
            .otherwise((ar_cents - before) / sales * pl.col("days"))
        )
        .group_by("as_of")
        .agg(dso_countback=pl.col("days_counted").sum())
    )


def _ratio(numerator: str, weight: str) -> pl.Expr:
    """``numerator / weight`` (float), null when the weight is 0."""
    return pl.when(pl.col(weight) > 0).then(
        pl.col(numerator).cast(pl.Float64) / pl.col(weight).cast(pl.Float64)
    )


def one_pass_series(
    portfolio: Portfolio, dates: pl.Series, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """The unrounded columns of :func:`workbench.kpis.kpi_frame` at every date of ``dates``
    (Date, ascending), in one pass over the movements (see the module's docstring), plus
    as_of and invoices (how many invoices are issued by then). Single-currency portfolios."""
    n = policy.kpis.period_days
    end = dates.max()
    steps = balance_steps(portfolio, end, policy).collect().lazy()
    changes = _changes(steps, policy)
    as_of = pl.LazyFrame({"as_of": dates}).with_columns(opening=pl.col("as_of") - timedelta(days=n))
    events = _step_events(changes)
    at = _totals_at(events, as_of, list(STEPS), on="as_of")
    opening = _totals_at(events, as_of, ["current_cents", "overdue_cents"], "opening")
    customers = _totals_at(_customer_events(changes), as_of, ["customers"], "as_of")
    windows = _totals_at(_window_events(steps, n), as_of, list(WINDOWS), "as_of")
    issued = _totals_at(
        steps.filter(run_start("invoice")).select(date="issue_date", invoices=pl.lit(1, pl.Int64)),
        as_of, ["invoices"], "as_of",
    )  # fmt: skip
    frame = (
        at.join(opening.select("as_of", opening_cents=pl.col("current_cents") + pl.col("overdue_cents")), on="as_of")
        .join(customers, on="as_of")
        .join(windows, on="as_of")
        .join(issued.select("as_of", "invoices"), on="as_of")
        .with_columns(ar_cents=pl.col("current_cents") + pl.col("overdue_cents"))
    )  # fmt: skip
    frame = frame.join(_countback(frame.select("as_of", "ar_cents"), portfolio, end), on="as_of")
    totals = frame.select(
        "as_of",
        "invoices",
        total_ar=from_cents(pl.col("ar_cents")),
        overdue_ar=from_cents(pl.col("overdue_cents")),
        current_ar=from_cents(pl.col("current_cents")),
        customer_credit=from_cents(pl.col("excess_cents")),
        credit_sales=from_cents(cents_of_micros(pl.col("sales_micros"))),
        open_invoices=pl.col("open_count").cast(pl.Int64),
        customers_with_balance=pl.col("customers").cast(pl.Int64),
        weighted_days_to_pay=_ratio("paid_days", "paid_weight"),
        weighted_days_late=_ratio("late_days", "paid_weight"),
        opening_ar=from_cents(pl.col("opening_cents")),
        dso_countback="dso_countback",
    )
    return with_ratio_kpis(totals, n).sort("as_of")
