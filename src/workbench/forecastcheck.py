"""The cash forecast checked against what came in: actual cash, naive forecasts, range, backtest.

- :func:`actual_cash`: the cash received in each week after an origin (every payment dated in the
  week, applied to an invoice or not), reporting currency at the rates as of the origin (so that
  a forecast and its outcome are compared at the same rates).
- Naive forecasts made at an origin s: :func:`naive_by_due_dates` (the open balances as of s
  falling due in week k; balances already overdue at s are counted in week 1) and
  :func:`naive_recent_average` (the average weekly cash of the 4 weeks before s, every week).
- :func:`calibrated_range`: the 10 %-90 % range of :func:`workbench.forecast.cash_forecast`,
  from the errors of the forecasts made at earlier origins whose weeks are known at s.
- :func:`forecast_backtest` and :func:`backtest_summary`: forecasts at several origins against
  the cash received, MAPE and bias per method, coverage of the range.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import polars as pl

from workbench.balances import reporting_balances
from workbench.forecast import PARTS, expected_cash, week_frame, week_of, with_rate
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio

NAIVE_AVERAGE_WEEKS = 4
"""Weeks of cash averaged by the naive recent-average forecast (the issue's definition)."""

METHODS = {"forecast": "expected", "by_due_dates": "naive_due", "last_4_weeks": "naive_average"}
"""Methods compared by :func:`backtest_summary`, and their column in the backtest frame."""


def actual_cash(portfolio: Portfolio, origin: date, weeks: int) -> pl.DataFrame:
    """week (1..weeks), actual: the payments dated in week k after ``origin`` (applied or not),
    reporting currency at the rates as of ``origin`` (reads payments after ``origin``: an
    outcome, never a forecast input)."""
    c = pl.col
    paid = portfolio.payments.with_columns(week=week_of(c("payment_date"), origin)).filter(
        c("week").is_between(1, weeks)
    )
    sums = (
        with_rate(paid, portfolio, origin)
        .group_by("week")
        .agg(actual=(c("amount") * c("rate")).sum())
    )
    frame = week_frame(origin, weeks).lazy().join(sums, on="week", how="left")
    return frame.select("week", c("actual").fill_null(0.0)).sort("week").collect()


def naive_by_due_dates(
    portfolio: Portfolio, origin: date, weeks: int, policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """week, naive_due: the open balances as of ``origin`` (reporting currency) whose due date
    falls in week k; balances already due on or before ``origin`` are all counted in week 1."""
    c = pl.col
    due = (
        reporting_balances(portfolio, origin, policy)
        .filter(c("is_open"))
        .with_columns(week=week_of(c("due_date"), origin).clip(lower_bound=1))
        .filter(c("week") <= weeks)
        .group_by("week")
        .agg(naive_due=c("open_balance").sum())
    )
    frame = week_frame(origin, weeks).lazy().join(due, on="week", how="left")
    return frame.select("week", c("naive_due").fill_null(0.0)).sort("week").collect()


def naive_recent_average(portfolio: Portfolio, origin: date, weeks: int) -> pl.DataFrame:
    """week, naive_average: the cash received in the 4 weeks (origin - 28, origin], divided by
    4 (reporting currency at the rates as of ``origin``), the same for every week."""
    c = pl.col
    days = (pl.lit(origin) - c("payment_date")).dt.total_days()
    recent = portfolio.payments.filter(days.is_between(0, 7 * NAIVE_AVERAGE_WEEKS - 1))
    total = with_rate(recent, portfolio, origin).select((c("amount") * c("rate")).sum()).collect()
    average = float(total.item() or 0.0) / NAIVE_AVERAGE_WEEKS
    return week_frame(origin, weeks).select("week", naive_average=pl.lit(average))


def calibration_origins(as_of: date, policy: Policy, weeks: int) -> list[date]:
    """The earlier weekly origins whose ``weeks`` weeks are all known at ``as_of``:
    as_of - 7 weeks, then one week earlier each, ``forecast.calibration_origins`` of them."""
    first = as_of - timedelta(days=7 * weeks)
    count = policy.forecast.calibration_origins
    return [first - timedelta(days=7 * j) for j in range(count)]


def _outcome(portfolio: Portfolio, origin: date, policy: Policy, weeks: int) -> pl.DataFrame:
    """origin, week, expected (and its parts), actual: one forecast and what came in."""
    point = expected_cash(portfolio, origin, policy, weeks)
    return point.join(actual_cash(portfolio, origin, weeks), on="week").with_columns(
        origin=pl.lit(origin)
    )


def range_ratios(errors: pl.DataFrame, policy: Policy, weeks: int) -> pl.DataFrame:
    """week, low_ratio, high_ratio from ``errors`` (week, expected, actual of earlier forecasts):
    per week, the ratios actual / expected (rows with expected > 0) sorted, r(1) <= ... <= r(n),
    and low = r(floor((n + 1) x low_quantile)), high = r(ceil((n + 1) x high_quantile)) (ranks
    clipped to 1..n): split-conformal quantiles, which hold the next ratio with probability at
    least high_quantile - low_quantile when the ratios are exchangeable (with 12 origins and
    10 %-90 %: the smallest and the largest ratio). Widened to include 1 (low <= expected <=
    high); with fewer than ``forecast.min_calibration_origins`` ratios for a week, 1 -/+
    ``forecast.fallback_spread``."""
    rules = policy.forecast
    c = pl.col
    n = pl.len()
    low_rank = ((n + 1) * rules.low_quantile).floor().clip(1, n).cast(pl.Int64) - 1
    high_rank = ((n + 1) * rules.high_quantile).ceil().clip(1, n).cast(pl.Int64) - 1
    ratio = (c("actual") / c("expected")).sort()
    ratios = (
        errors.lazy()
        .filter(c("expected") > 0)
        .group_by("week")
        .agg(low=ratio.get(low_rank), high=ratio.get(high_rank), n=n)
    )
    enough = c("n").fill_null(0) >= rules.min_calibration_origins
    weeks_frame = pl.LazyFrame({"week": list(range(1, weeks + 1))}, schema={"week": pl.Int32})
    return (
        weeks_frame.join(ratios, on="week", how="left")
        .select(
            "week",
            low_ratio=pl.when(enough)
            .then(c("low").clip(upper_bound=1.0))
            .otherwise(1 - rules.fallback_spread),
            high_ratio=pl.when(enough)
            .then(c("high").clip(lower_bound=1.0))
            .otherwise(1 + rules.fallback_spread),
        )  # fmt: skip
        .sort("week")
        .collect()
    )


def calibrated_range(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY, weeks: int | None = None
) -> pl.DataFrame:
    """week, low_ratio, high_ratio of the forecast made at ``as_of`` (:func:`range_ratios` of
    the forecasts made at :func:`calibration_origins`, all of whose weeks ended by ``as_of``:
    nothing after ``as_of`` is read)."""
    return calibrated_ranges(portfolio, [as_of], policy, weeks)[as_of]


OUTCOME_WORKERS = 4
"""The calibration forecasts (one per earlier origin, each a few small polars queries) run this
many at a time in threads: on the sample, 13 origins in 3.3-3.9 s one after the other, 2.4-2.7 s
four at a time on 2 cores (polars releases the GIL while it computes)."""


def calibrated_ranges(
    portfolio: Portfolio,
    dates: list[date],
    policy: Policy = DEFAULT_POLICY,
    weeks: int | None = None,
) -> dict[date, pl.DataFrame]:
    """:func:`calibrated_range` at each of ``dates``; a forecast made at an origin that several
    dates calibrate on (consecutive weeks share all but one) is computed once."""
    weeks = policy.forecast.weeks if weeks is None else weeks
    needed = sorted({t for d in dates for t in calibration_origins(d, policy, weeks)})
    with ThreadPoolExecutor(OUTCOME_WORKERS) as pool:  # polars works outside the GIL
        frames = list(pool.map(lambda t: _outcome(portfolio, t, policy, weeks), needed))
    outcomes = pl.concat(frames) if frames else pl.DataFrame(
        schema={"origin": pl.Date, "week": pl.Int32, "expected": pl.Float64, "actual": pl.Float64}
    )  # fmt: skip
    return _ratios_at(outcomes, dates, policy, weeks)


def _ratios_at(
    outcomes: pl.DataFrame, dates: list[date], policy: Policy, weeks: int
) -> dict[date, pl.DataFrame]:
    """Per date: :func:`range_ratios` of the forecasts of ``outcomes`` (origin, week, expected,
    actual) made at its :func:`calibration_origins`."""
    return {
        d: range_ratios(
            outcomes.filter(pl.col("origin").is_in(calibration_origins(d, policy, weeks))),
            policy,
            weeks,
        )
        for d in dates
    }


def with_range(forecast: pl.DataFrame) -> pl.DataFrame:
    """``forecast`` (expected, low_ratio, high_ratio) with its range: low and high, the
    expected cash times each ratio (currency)."""
    c = pl.col
    return forecast.with_columns(
        low=c("expected") * c("low_ratio"), high=c("expected") * c("high_ratio")
    )


def forecast_backtest(
    portfolio: Portfolio, origins: list[date], policy: Policy = DEFAULT_POLICY
) -> pl.DataFrame:
    """Per origin s and week k: the forecast made at s (expected, low, high and the parts, as
    :func:`workbench.forecast.cash_forecast` gives them), actual (:func:`actual_cash`), and the
    naive forecasts naive_due (:func:`naive_by_due_dates`) and naive_average
    (:func:`naive_recent_average`). Each forecast made at an origin is computed once and serves
    both as a backtest row and as a calibration point of later origins."""
    weeks = policy.forecast.weeks
    needed = sorted({t for s in origins for t in (s, *calibration_origins(s, policy, weeks))})
    outcomes = pl.concat([_outcome(portfolio, t, policy, weeks) for t in needed])
    ratios = _ratios_at(outcomes, sorted(origins), policy, weeks)
    rows = []
    for s in sorted(origins):  # a handful of origins
        rows.append(
            outcomes.filter(pl.col("origin") == s)
            .join(ratios[s], on="week")
            .join(naive_by_due_dates(portfolio, s, weeks, policy), on="week")
            .join(naive_recent_average(portfolio, s, weeks), on="week")
        )
    return (
        with_range(pl.concat(rows))
        .select(
            "origin",
            "week",
            "start",
            "end",
            "expected",
            "low",
            "high",
            "actual",
            "naive_due",
            "naive_average",
            *PARTS,
        )
        .sort("origin", "week")
    )


def _errors(frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    """MAPE (%, mean of |forecast - actual| / actual over rows with actual > 0) and bias (%,
    mean signed error / mean actual) of each method of :data:`METHODS` in ``frame``."""
    c = pl.col
    rows = frame.filter(c("actual") > 0)
    out = {}
    for method, column in METHODS.items():
        error = c(column) - c("actual")
        stats = rows.select(
            mape=(error.abs() / c("actual")).mean() * 100,
            bias=error.mean() / c("actual").mean() * 100,
        )
        mape, bias = stats.row(0) if rows.height else (None, None)
        out[method] = {"mape": mape, "bias": bias}
    return out


def backtest_summary(frame: pl.DataFrame) -> dict:
    """Errors of a :func:`forecast_backtest` frame: ``overall`` and ``by_week`` (week -> ...)
    MAPE and bias (%) per method (:data:`METHODS`), ``coverage`` (%, share of rows with low <=
    actual <= high) overall and ``coverage_by_week``, and ``rows``, ``origins``."""
    c = pl.col
    inside = (c("low") <= c("actual")) & (c("actual") <= c("high"))
    by_week = {}
    coverage_by_week = {}
    for week in sorted(frame["week"].unique().to_list()):  # at most a few weeks
        part = frame.filter(c("week") == week)
        by_week[int(week)] = _errors(part)
        coverage_by_week[int(week)] = float(part.select(inside.mean() * 100).item())
    return {
        "rows": frame.height,
        "origins": frame["origin"].n_unique(),
        "overall": _errors(frame),
        "by_week": by_week,
        "coverage": float(frame.select(inside.mean() * 100).item()) if frame.height else None,
        "coverage_by_week": coverage_by_week,
    }
