"""The numbers of the managers' weekly report (issue 13): cash, collector view, effect of the
actions, amount at risk. The words are :mod:`workbench.reportwords`, the risk lists
:mod:`workbench.reportrisks`, the figures and HTML tables :mod:`workbench.reportplots`.

**As-of rule.** Everything is computed as of ``as_of``: nothing dated after it is read. "Last
week" is the 7 days ``(as_of - 7, as_of]``. Money is in the reporting currency
(:func:`workbench.balances.reporting_currency`), durations in days, shares 0-1.

**Definitions.**

- cash collected: the payments (applied or not) dated in the window;
- a contact done: a distinct (customer, date, channel) of the contacts table (a letter logged
  once per invoice is one contact);
- promises obtained: made (promise_date) in the window; promises due: their deadline
  (promised date + grace, :func:`workbench.promises.promise_status`) fell in
  ``[as_of - 7, as_of)``, so their verdict became final this week: each is kept or broken;
- effect of the actions: see :func:`contact_effect`.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from workbench.balances import in_reporting_currency, money_sum, reporting_balances
from workbench.dunning import contact_log
from workbench.errors import InputError, Problem
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status

# Policy entries wanted (issue 13): [report] effect_days, week_days. Until then, here.
WEEK_DAYS = 7
"""Length of the report's week (days): last week is ``(as_of - 7, as_of]``."""

EFFECT_DAYS = 14
"""A contacted customer "paid" when it paid something within this many days after the
contact; the contacts looked at are those of ``(as_of - 2 x 14, as_of - 14]``."""

UNASSIGNED = "unassigned"
"""The collector of customers without one (as in :func:`workbench.recommend.recommendations`)."""


def in_window(day: pl.Expr, start: date, end: date) -> pl.Expr:
    """``start < day <= end`` (dates)."""
    return (day > start) & (day <= end)


def in_words(code: pl.Expr, column: str) -> pl.Expr:
    """A code column (``step``, ``channel``, ``next_step``) in English words for the managers:
    the words of :mod:`workbench.phrases` (``registered letter``, ``formal notice``), else the
    code with spaces for underscores."""
    from workbench.phrases import CHANNEL_WORDS, STEP_WORDS

    words = {"step": STEP_WORDS, "next_step": STEP_WORDS, "channel": CHANNEL_WORDS}[column]["en"]
    return code.replace(words).str.replace_all("_", " ", literal=True)


def _collector() -> pl.Expr:
    return pl.col("collector").fill_null(UNASSIGNED)


def payments_between(portfolio: Portfolio, start: date, end: date) -> pl.LazyFrame:
    """The payments dated in ``(start, end]`` (applied or not), amount in the reporting
    currency as of ``end``: customer_id, payment_date, amount."""
    rows = portfolio.payments.filter(in_window(pl.col("payment_date"), start, end))
    return in_reporting_currency(rows, portfolio, end).select(
        "customer_id", "payment_date", "amount"
    )


def cash_collected(portfolio: Portfolio, as_of: date) -> float:
    """Cash collected last week: the payments dated in ``(as_of - 7, as_of]`` (currency)."""
    frame = payments_between(portfolio, as_of - timedelta(days=WEEK_DAYS), as_of)
    return float(frame.select(money_sum(pl.col("amount"))).collect().item() or 0.0)


def cash_against_forecast(collected: float, last_forecast: pl.DataFrame | None) -> dict:
    """Cash collected last week against week 1 of the forecast made a week ago.

    ``last_forecast``: :func:`workbench.forecast.cash_forecast` as of ``as_of - 7`` (columns
    week, expected, low, high; currency), or None. Returns collected, expected, low, high,
    difference (collected - expected), verdict (``above``, ``below``, ``within`` the 10-90 %
    range, or ``no forecast``).
    """
    out = {"collected": round(collected, 2), "expected": None, "low": None, "high": None}
    if last_forecast is None or last_forecast.height == 0:
        return out | {"difference": None, "verdict": "no forecast"}
    first = last_forecast.sort("week").row(0, named=True)
    low, high = first["low"], first["high"]
    verdict = "above" if collected > high else "below" if collected < low else "within"
    return out | {
        "expected": round(first["expected"], 2),
        "low": round(low, 2),
        "high": round(high, 2),
        "difference": round(collected - first["expected"], 2),
        "verdict": verdict,
    }


def forecast_table(forecast: pl.DataFrame) -> pl.DataFrame:
    """The next weeks of a :func:`workbench.forecast.cash_forecast` frame for the report:
    week, start, end, expected, low, high (currency), from_promises, from_plans,
    from_open_invoices, from_future_invoices (currency), in week order."""
    return forecast.sort("week").select(
        "week",
        "start",
        "end",
        "expected",
        "low",
        "high",
        "from_promises",
        "from_plans",
        "from_open_invoices",
        "from_future_invoices",
    )


def read_previous_worklist(path: str | Path) -> pl.DataFrame:
    """Last week's ``worklist.csv`` (path), its rows with at least ``collector``.

    Headers may be the codes (English) or a team language's labels
    (:func:`workbench.labels.from_display`); the encoding and separator are detected as for any
    CSV input (:mod:`workbench.csvread`). Raises :class:`InputError` when the file is
    missing or has no collector column.
    """
    from workbench.csvread import decoded, detected_separator
    from workbench.labels import COLUMN_LABELS, from_display

    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("last week's worklist is missing", file=str(path)))
    text = decoded(path.read_bytes(), str(path), None)
    frame = pl.read_csv(io.StringIO(text), separator=detected_separator(text), infer_schema=False)
    for language in COLUMN_LABELS:
        decoded = from_display(frame, language)
        if "collector" in decoded.columns:
            return decoded
    raise InputError(
        Problem("last week's worklist has no collector column", file=str(path), column="collector")
    )


def _per_collector(frame: pl.LazyFrame, customers: pl.LazyFrame, **aggs: pl.Expr) -> pl.LazyFrame:
    """``aggs`` of ``frame`` (with customer_id) per collector of its customers."""
    return frame.join(customers, on="customer_id").group_by("collector").agg(**aggs)


def promises_due(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """The promises whose deadline (promised date + grace) fell in ``[as_of - 7, as_of)``: their
    verdict became final this week (:func:`workbench.promises.promise_status` as of ``as_of``,
    status ``kept`` or ``broken``)."""
    deadline = pl.col("deadline")
    return promise_status(portfolio, as_of, policy).filter(
        deadline >= as_of - timedelta(days=WEEK_DAYS), deadline < as_of
    )


def contacts_done(portfolio: Portfolio, start: date, end: date) -> pl.LazyFrame:
    """The contacts done in ``(start, end]``: distinct customer_id, contact_date, channel."""
    return (
        portfolio.contacts.filter(in_window(pl.col("contact_date"), start, end))
        .select("customer_id", "contact_date", "channel")
        .unique()
    )


COLLECTOR_COLUMNS = (
    "collector", "planned", "planned_last_week", "reported_done", "done", "done_by_channel",
    "cash_collected",
    "promises_obtained", "promises_due", "promises_kept", "promises_broken",
)  # fmt: skip
"""The columns of :func:`collector_view`, in order."""


def _done_by_collector(portfolio: Portfolio, as_of: date, customers: pl.LazyFrame) -> pl.LazyFrame:
    """collector, done (contacts of last week), done_by_channel (``email 3, phone 2``)."""
    c = pl.col
    start = as_of - timedelta(days=WEEK_DAYS)
    return (
        contacts_done(portfolio, start, as_of)
        .join(customers, on="customer_id")
        .group_by("collector", "channel")
        .agg(n=pl.len())
        .sort("collector", "n", "channel", descending=[False, True, False])
        .group_by("collector", maintain_order=True)
        .agg(
            done=c("n").sum().cast(pl.Int64),
            done_by_channel=pl.format("{} {}", in_words(c("channel"), "channel"), c("n")).str.join(
                ", "
            ),
        )
    )


def _reported_by_collector(
    portfolio: Portfolio, as_of: date, customers: pl.LazyFrame
) -> pl.LazyFrame:
    """collector, reported_done: the customers whose call-sheet row a collector reported done
    (contacts read back from the call sheets, ids starting with
    :data:`workbench.outcomes.RECORD_PREFIX`, dated in ``(as_of - 7, as_of]``)."""
    from workbench.outcomes import RECORD_PREFIX

    c = pl.col
    start = as_of - timedelta(days=WEEK_DAYS)
    return (
        portfolio.contacts.filter(
            c("contact_id").str.starts_with(RECORD_PREFIX)
            & in_window(c("contact_date"), start, as_of)
        )
        .join(customers, on="customer_id")
        .group_by("collector")
        .agg(reported_done=c("customer_id").n_unique().cast(pl.Int64))
    )


def _collector_pieces(
    portfolio: Portfolio, as_of: date, rows: pl.DataFrame, policy: Policy
) -> list[pl.LazyFrame]:
    """The per-collector frames of :func:`collector_view` (without planned_last_week)."""
    c = pl.col
    start = as_of - timedelta(days=WEEK_DAYS)
    customers = portfolio.customers.select("customer_id", collector=_collector())
    obtained = promise_status(portfolio, as_of, policy).filter(
        in_window(c("promise_date"), start, as_of)
    )
    return [
        rows.lazy().group_by(_collector()).agg(planned=pl.len().cast(pl.Int64)),
        _done_by_collector(portfolio, as_of, customers),
        _reported_by_collector(portfolio, as_of, customers),
        _per_collector(
            payments_between(portfolio, start, as_of),
            customers,
            cash_collected=money_sum(c("amount")),
        ),
        _per_collector(obtained, customers, promises_obtained=pl.len().cast(pl.Int64)),
        _per_collector(
            promises_due(portfolio, as_of, policy),
            customers,
            promises_due=pl.len().cast(pl.Int64),
            promises_kept=(c("status") == "kept").sum().cast(pl.Int64),
            promises_broken=(c("status") == "broken").sum().cast(pl.Int64),
        ),
    ]


def collector_view(
    portfolio: Portfolio,
    as_of: date,
    rows: pl.DataFrame,
    previous: pl.DataFrame | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> pl.DataFrame:
    """One row per collector: what was planned, done and obtained (see the module definitions).

    ``rows``: this week's worklist rows (collector); ``previous``: last week's
    (:func:`read_previous_worklist`) or None. Columns (:data:`COLLECTOR_COLUMNS`): collector,
    planned (this week's actions), planned_last_week (null without ``previous``),
    reported_done (customers whose call-sheet row the collector reported done, read back from
    last week's sheet), done (contacts in ``(as_of - 7, as_of]`` on the collector's customers,
    from every source: the call sheets and the source's own contact log), done_by_channel (text,
    e.g. ``email 3, phone 2``), cash_collected (currency), promises_obtained, promises_due,
    promises_kept, promises_broken (counts). Every collector of a customer, of ``rows`` or of
    ``previous`` has a row; sorted by collector.
    """
    c = pl.col
    pieces = _collector_pieces(portfolio, as_of, rows, policy)
    names = [portfolio.customers.select(_collector()), rows.lazy().select(_collector())]
    if previous is not None:
        last = previous.lazy().select(_collector())
        names.append(last)
        pieces.append(last.group_by("collector").agg(planned_last_week=pl.len().cast(pl.Int64)))
    frame = pl.concat(names).unique()
    for piece in pieces:
        frame = frame.join(piece, on="collector", how="left")
    if previous is None:
        frame = frame.with_columns(planned_last_week=pl.lit(None, pl.Int64))
    counts = ["planned", "reported_done", "done", "promises_obtained", "promises_due",
              "promises_kept", "promises_broken"]  # fmt: skip
    return (
        frame.with_columns(
            c(counts).fill_null(0),
            c("cash_collected").fill_null(0.0),
            c("done_by_channel").fill_null(""),
        )
        .select(COLLECTOR_COLUMNS)
        .sort("collector")
        .collect()
    )


def _paid_after(first: pl.LazyFrame, payments: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """``first`` (keys, customer_id, first: a date) with paid: a payment of the customer dated
    in ``(first, first + EFFECT_DAYS]``."""
    c = pl.col
    window = (c("payment_date") > c("first")) & (
        c("payment_date") <= c("first") + pl.duration(days=EFFECT_DAYS)
    )
    return (
        first.join(payments, on="customer_id", how="left")
        .group_by(*keys, "customer_id")
        .agg(paid=window.fill_null(False).any())
    )


def _shares(frame: pl.LazyFrame, group: str, value: pl.Expr) -> pl.LazyFrame:
    """group, value, customers, customers_paid (counts), share (customers_paid / customers,
    0-1) of ``frame`` (one row per customer and value, with paid)."""
    return (
        frame.group_by(value=value)
        .agg(
            customers=pl.len().cast(pl.Int64),
            customers_paid=pl.col("paid").sum().cast(pl.Int64),
        )
        .with_columns(group=pl.lit(group), share=pl.col("customers_paid") / pl.col("customers"))
        .select("group", "value", "customers", "customers_paid", "share")
        .sort(["customers", "value"], descending=[True, False])
    )


def effect_window(as_of: date) -> tuple[date, date]:
    """The window of :func:`contact_effect`: ``(as_of - 2 x EFFECT_DAYS, as_of - EFFECT_DAYS]``
    (start exclusive, end inclusive): its contacts' 14 following days have all passed."""
    end = as_of - timedelta(days=EFFECT_DAYS)
    return end - timedelta(days=EFFECT_DAYS), end


def contact_effect(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Share of the customers contacted in :func:`effect_window` who paid within
    ``EFFECT_DAYS`` of the contact, against comparable customers not contacted. Observational:
    the customers contacted were chosen, so the difference is not the effect of the contact.

    - contacted: the outbound contacts of the window (not the customer's own messages: outcome
      ``dispute_raised``), by step (given or inferred, :func:`workbench.dunning.contact_log`),
      by channel, and all together; a customer counts once per step (channel) at its first
      contact of that step (channel) in the window and paid when a payment of it is dated in
      ``(contact, contact + EFFECT_DAYS]``;
    - comparison: customers with an overdue balance at the window start and no contact of any
      kind in the window, paid when a payment is dated in ``(start, start + EFFECT_DAYS]``.

    Columns: group (``by step``, ``by channel``, ``all contacted``, ``not contacted``), value
    (the step or channel in words; ``all``), customers, customers_paid (counts), share (0-1).
    """
    c = pl.col
    start, end = effect_window(as_of)
    payments = portfolio.payments.filter(c("payment_date") <= as_of).select(
        "customer_id", "payment_date"
    )
    window = contact_log(portfolio, as_of).filter(in_window(c("contact_date"), start, end))
    outbound = window.filter(~c("outcome").is_in(["dispute_raised"]).fill_null(False))
    parts = []
    for key, group in (("step", "by step"), ("channel", "by channel"), (None, "all contacted")):
        keys = [key] if key else []
        first = outbound.group_by(*keys, "customer_id").agg(first=c("contact_date").min())
        label = in_words(c(key), key) if key else pl.lit("all")
        parts.append(_shares(_paid_after(first, payments, keys), group, label))
    overdue = (
        reporting_balances(portfolio, start, policy)
        .filter(c("is_open"), c("days_past_due") > 0)
        .select("customer_id")
        .unique()
        .join(window.select("customer_id").unique(), on="customer_id", how="anti")
        .with_columns(first=pl.lit(start))
    )
    parts.append(_shares(_paid_after(overdue, payments, []), "not contacted", pl.lit("all")))
    return pl.concat(parts).collect()


def amount_at_risk_split(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
) -> dict[str, float]:
    """The amount at risk (sum over open invoices of open balance x probability of still being
    open at the horizon: the model's ``scores``, else the fallback; before customer credit and
    unapplied cash are set against it), split by the invoice's state as of ``as_of``.

    Returns overdue, not_yet_due, total (currency, overdue + not_yet_due = total) and
    not_yet_due_share (0-1, None when the total is 0).
    """
    from workbench.recommend import invoice_states

    c = pl.col
    states = invoice_states(portfolio, as_of, policy, scores).lazy().filter(c("is_open"))
    at_risk = c("open_reporting") * c("probability").fill_null(0.0)
    row = (
        states.select(
            overdue=money_sum(at_risk.filter(c("days_past_due") > 0)),
            not_yet_due=money_sum(at_risk.filter(c("days_past_due") <= 0)),
        )
        .collect()
        .row(0, named=True)
    )
    overdue, not_due = float(row["overdue"] or 0.0), float(row["not_yet_due"] or 0.0)
    total = round(overdue + not_due, 2)
    return {
        "overdue": overdue,
        "not_yet_due": not_due,
        "total": total,
        "not_yet_due_share": not_due / total if total else None,
    }
