"""The weekly cash forecast (workbench.forecast) and its backtest (workbench.forecastcheck).

The hand-worked portfolio (as of Monday 2026-03-02, 2 weeks ahead, 3 weeks of history, 4 weeks
of sales, every timing cell too small so the per-week share of all invoices is used):

- history: H1 (customer A, issued 02-01, due 02-15, 1000) paid 400 on 02-20 and 600 on 02-27.
  Weekly dates t = 02-23, 02-16, 02-09 (week k after t: t + 7(k-1) + 1 .. t + 7k):
  t=02-09: balance 1000, week 1 (02-10..02-16) 0, week 2 (02-17..02-23) 400;
  t=02-16: balance 1000, week 1 400, week 2 (02-24..03-02) 600;
  t=02-23: balance 600, week 1 600 (week 2 ends after the as-of date: unknown).
  share week 1 = (0 + 400 + 600) / (1000 + 1000 + 600) = 1000/2600; week 2 = 1000/2000 = 0.5.
- open at 03-02: I1 (A, issued 02-24, due 03-20, 2000), I2 (B, issued 02-25, due 02-27, 500,
  paid 100 on 02-28: balance 400).
- promises: A kept one (PR1, 400 on H1 paid 02-20), B broke one (PR2, no invoice), so the
  portfolio's kept rate is 1/2 and A's is (1 + 5 x 0.5) / (1 + 5) = 3.5/6; A's pending PR3 of 500
  on I1, due 03-05 (week 1): 500 x 3.5/6 = 291.67 in week 1, taken off I1's balance.
- plan: B's instalment of 200 on I2 on 03-12 (week 2); no instalment past yet: kept rate 0.5
  ([forecast] default_keep_rate): 100 in week 2, taken off I2's balance; its 04-30 instalment
  is outside the window.
- open invoices: (2000 - 291.67) + (400 - 100) = 2008.33 x share of the week.
- new sales: sales at t = invoices issued in (t - 28, t] / 4 = 250 at each t (H1 only); cash of
  invoices issued after t: t=02-09: 0, 0; t=02-16: week 1 0, week 2 100 (I2, 02-28);
  t=02-23: week 1 100. Ratio week 1 = 100 / 750, week 2 = 100 / 500. Sales at 03-02: (2000 +
  500) / 4 = 625: 83.33 in week 1, 125 in week 2.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

from workbench.forecast import PARTS, cash_forecast, expected_cash
from workbench.forecastcheck import backtest_summary, forecast_backtest
from workbench.policy import DEFAULT_POLICY
from workbench.portfolio import Portfolio

S = date(2026, 3, 2)
POLICY = replace(
    DEFAULT_POLICY,
    forecast=replace(DEFAULT_POLICY.forecast, weeks=2, history_weeks=3, sales_weeks=4,
                     min_cell_rows=10**6),
)  # fmt: skip


def d(text: str) -> date:
    return date.fromisoformat(text)


def hand_tables(usd: bool = False) -> dict[str, dict[str, list]]:
    """The hand-worked portfolio; with ``usd``, customer B's invoice, payment and plan are in
    USD (0.9 EUR as of the as-of date; a later rate of 0.5 must not be used)."""
    b = "USD" if usd else "EUR"
    tables = {
        "customers": {"customer_id": ["A", "B"], "name": ["Alpha", "Beta"]},
        "invoices": {
            "invoice_id": ["H1", "I1", "I2"],
            "customer_id": ["A", "A", "B"],
            "issue_date": [d("2026-02-01"), d("2026-02-24"), d("2026-02-25")],
            "due_date": [d("2026-02-15"), d("2026-03-20"), d("2026-02-27")],
            "amount": [1000.0, 2000.0, 500.0],
            "currency": ["EUR", "EUR", b],
        },
        "payments": {
            "payment_id": ["P1", "P2", "P3"],
            "customer_id": ["A", "A", "B"],
            "payment_date": [d("2026-02-20"), d("2026-02-27"), d("2026-02-28")],
            "amount": [400.0, 600.0, 100.0],
            "invoice_id": ["H1", "H1", "I2"],
            "currency": ["EUR", "EUR", b],
        },
        "promises": {
            "promise_id": ["PR1", "PR2", "PR3"],
            "customer_id": ["A", "B", "A"],
            "promise_date": [d("2026-02-18"), d("2026-02-01"), d("2026-02-27")],
            "promised_date": [d("2026-02-20"), d("2026-02-05"), d("2026-03-05")],
            "amount": [400.0, 300.0, 500.0],
            "invoice_id": ["H1", None, "I1"],
        },
        "payment_plans": {
            "plan_id": ["PL1", "PL1"],
            "customer_id": ["B", "B"],
            "instalment_date": [d("2026-03-12"), d("2026-04-30")],
            "amount": [200.0, 200.0],
            "invoice_id": ["I2", "I2"],
            "agreed_date": [d("2026-02-26"), d("2026-02-26")],
        },
    }
    if usd:
        tables["fx_rates"] = {
            "currency": ["EUR", "USD", "USD"],
            "date": [d("2026-01-01"), d("2026-01-01"), d("2026-03-03")],
            "rate_to_base": [1.0, 0.9, 0.5],
        }
    return tables


AFTER = {
    "invoices": {"invoice_id": ["F1"], "customer_id": ["A"], "issue_date": [d("2026-03-03")],
                 "due_date": [d("2026-03-10")], "amount": [9000.0], "currency": ["EUR"]},
    "payments": {"payment_id": ["P4", "P5", "P6"], "customer_id": ["A", "B", "B"],
                 "payment_date": [d("2026-03-04"), d("2026-03-11"), d("2026-03-20")],
                 "amount": [700.0, 50.0, 300.0], "invoice_id": ["I1", None, "I2"],
                 "currency": ["EUR", "EUR", "EUR"]},
    "promises": {"promise_id": ["PR4"], "customer_id": ["B"], "promise_date": [d("2026-03-03")],
                 "promised_date": [d("2026-03-06")], "amount": [400.0], "invoice_id": ["I2"]},
    "payment_plans": {"plan_id": ["PL2"], "customer_id": ["A"],
                      "instalment_date": [d("2026-03-09")], "amount": [800.0],
                      "invoice_id": ["I1"], "agreed_date": [d("2026-03-05")]},
    "credit_notes": {"credit_note_id": ["CN1"], "invoice_id": ["I1"], "date": [d("2026-03-03")],
                     "amount": [1000.0]},
    "disputes": {"dispute_id": ["D1"], "invoice_id": ["I2"], "opened_date": [d("2026-03-03")]},
}  # fmt: skip
"""Rows dated after the as-of date: a new invoice, payments (applied and unapplied), a promise,
a plan, a credit note, a dispute. The payments are the backtest's actual cash: 700 in week 1
(03-03..03-09), 50 in week 2, 300 in week 3."""


def with_after(tables: dict[str, dict[str, list]]) -> Portfolio:
    frames = {name: pl.DataFrame(cols, strict=False) for name, cols in tables.items()}
    for name, cols in AFTER.items():
        extra = pl.DataFrame(cols, strict=False)
        frames[name] = (
            pl.concat([frames[name], extra], how="diagonal_relaxed") if name in frames else extra
        )
    return Portfolio.from_frames(frames)


def hand_expected(rate_b: float = 1.0) -> list[float]:
    """Expected cash of weeks 1 and 2, worked out as in the module docstring; ``rate_b`` is the
    EUR value of one unit of customer B's currency."""
    keep_a = (1 + 5 * 0.5) / 6
    share = [1000 / 2600, 1000 / 2000]
    promise = 500 * keep_a
    plan = 200 * rate_b * 0.5
    rest = (2000 - promise) + (400 * rate_b - plan)
    sales = (2000 + 500 * rate_b) / 4
    ratio = [100 * rate_b / 750, 100 * rate_b / 500]
    week1 = promise + rest * share[0] + ratio[0] * sales
    week2 = plan + rest * share[1] + ratio[1] * sales
    return [week1, week2]


def test_hand_worked_expected_cash_per_week() -> None:
    frame = cash_forecast(Portfolio.from_frames(hand_tables()), S, POLICY)
    assert frame["week"].to_list() == [1, 2]
    assert frame["start"].to_list() == [d("2026-03-03"), d("2026-03-10")]
    assert frame["end"].to_list() == [d("2026-03-09"), d("2026-03-16")]
    assert frame["expected"].to_list() == pytest.approx(hand_expected(), abs=1e-6)
    assert frame["from_promises"].to_list() == pytest.approx([500 * 3.5 / 6, 0.0])
    assert frame["from_plans"].to_list() == pytest.approx([0.0, 100.0])
    assert frame["from_future_invoices"].to_list() == pytest.approx([625 * 100 / 750, 125.0])
    total = frame.select(pl.sum_horizontal(PARTS))
    assert total.to_series().to_list() == pytest.approx(frame["expected"].to_list())


def test_rows_dated_after_as_of_change_nothing() -> None:
    plain = cash_forecast(Portfolio.from_frames(hand_tables()), S, POLICY)
    future = cash_forecast(with_after(hand_tables()), S, POLICY)
    assert future.equals(plain)


def test_multi_currency_converts_at_the_rates_as_of() -> None:
    frame = expected_cash(Portfolio.from_frames(hand_tables(usd=True)), S, POLICY)
    assert frame["expected"].to_list() == pytest.approx(hand_expected(0.9), abs=1e-6)
    assert frame["from_plans"].to_list() == pytest.approx([0.0, 200 * 0.9 * 0.5])


def test_backtest_actual_and_naive_forecasts_by_hand() -> None:
    policy = replace(POLICY, forecast=replace(POLICY.forecast, weeks=3))
    frame = forecast_backtest(with_after(hand_tables()), [S], policy)
    assert frame["week"].to_list() == [1, 2, 3]
    # payments after 03-02: 700 on 03-04 (week 1), 50 unapplied on 03-11, 300 on 03-20 (week 3)
    assert frame["actual"].to_list() == pytest.approx([700.0, 50.0, 300.0])
    # open at 03-02: I2 400 already due (week 1), I1 2000 due 03-20 (week 3)
    assert frame["naive_due"].to_list() == pytest.approx([400.0, 0.0, 2000.0])
    # cash of 02-03..03-02: 400 + 600 + 100, over 4 weeks
    assert frame["naive_average"].to_list() == pytest.approx([275.0] * 3)
    summary = backtest_summary(frame)
    errors = [abs(f - a) / a for f, a in zip(frame["naive_average"], frame["actual"], strict=True)]
    assert summary["overall"]["last_4_weeks"]["mape"] == pytest.approx(100 * sum(errors) / 3)
    bias = (3 * 275.0 - 1050.0) / 3 / (1050.0 / 3) * 100
    assert summary["overall"]["last_4_weeks"]["bias"] == pytest.approx(bias)


@pytest.fixture(scope="module")
def small() -> tuple[Portfolio, date]:
    from workbench.generate import generate_portfolio

    end = date(2026, 6, 30)
    tables = generate_portfolio(customers=50, seed=5, start=date(2025, 3, 1), end=end)
    tables.pop("ground_truth")
    return Portfolio.from_frames(tables), end


def test_backtest_actual_is_the_cash_received_each_week(small: tuple[Portfolio, date]) -> None:
    portfolio, end = small
    origins = [end - timedelta(days=70), end - timedelta(days=63)]
    frame = forecast_backtest(portfolio, origins, DEFAULT_POLICY)
    assert frame.height == 16
    payments = portfolio.frames["payments"]
    for row in frame.iter_rows(named=True):  # 16 rows: a check, not the package
        received = payments.filter(pl.col("payment_date").is_between(row["start"], row["end"]))
        assert row["actual"] == pytest.approx(received["amount"].sum())
    summary = backtest_summary(frame)
    assert set(summary["overall"]) == {"forecast", "by_due_dates", "last_4_weeks"}
    assert 0 <= summary["coverage"] <= 100


def test_range_is_ordered_and_parts_add_up(small: tuple[Portfolio, date]) -> None:
    portfolio, end = small
    frame = cash_forecast(portfolio, end - timedelta(days=60))
    assert frame.columns == ["week", "start", "end", "expected", "low", "high", *PARTS]
    assert frame.height == 8
    assert (frame["low"] <= frame["expected"]).all()
    assert (frame["expected"] <= frame["high"]).all()
    assert (frame["low"] >= 0).all()
    parts = frame.select(pl.sum_horizontal(PARTS)).to_series()
    assert all(
        math.isclose(a, b, rel_tol=1e-9) for a, b in zip(parts, frame["expected"], strict=True)
    )
    assert (frame["expected"] > 0).all()


def test_this_and_last_weeks_forecasts_together_equal_each_alone(
    small: tuple[Portfolio, date],
) -> None:
    """The report makes both forecasts in one call (their calibration forecasts are shared):
    each equals the forecast made alone, last week's equals the one made on the data cut at its
    date (it reads nothing after it), and the backtest's row of that origin agrees."""
    from workbench.forecast import as_of_view, cash_forecasts

    portfolio, end = small
    day = end - timedelta(days=60)
    last = day - timedelta(days=7)
    both = cash_forecasts(portfolio, [last, day])
    alone = cash_forecast(portfolio, day)
    cut = cash_forecast(as_of_view(portfolio, last), last)
    backtest = forecast_backtest(portfolio, [last], DEFAULT_POLICY).sort("week")
    # floating sums in parallel group-bys differ in the last bits from run to run: 1e-9
    for column in ("expected", "low", "high", *PARTS):
        assert both[day][column].to_list() == pytest.approx(alone[column].to_list(), rel=1e-9)
        assert both[last][column].to_list() == pytest.approx(cut[column].to_list(), rel=1e-9)
    for column in ("expected", "low", "high"):
        assert backtest[column].to_list() == pytest.approx(both[last][column].to_list(), rel=1e-9)
    assert both[day]["start"].to_list() == alone["start"].to_list()


def test_range_ratios_are_conformal_ranks_of_earlier_errors() -> None:
    from workbench.forecastcheck import range_ratios

    # week 1: ratios 0.1 .. 3.0 (30 origins): ranks floor(31 x 0.1) = 3 and ceil(31 x 0.9) = 28
    # week 2: 3 ratios, fewer than min_calibration_origins (4): 1 -/+ fallback_spread (0.3)
    # week 3: 12 ratios all above 1: the smallest (1.5) is above 1, so low is 1 (low <= expected)
    errors = pl.DataFrame(
        {
            "week": [1] * 30 + [2] * 3 + [3] * 12,
            "expected": [10.0] * 45,
            "actual": [float(x) for x in range(1, 31)] + [5.0, 10.0, 20.0]
            + [15.0 + x for x in range(12)],
        },
        schema_overrides={"week": pl.Int32},
    )  # fmt: skip
    ratios = range_ratios(errors, DEFAULT_POLICY, 3)
    assert ratios["low_ratio"].to_list() == pytest.approx([0.3, 0.7, 1.0])
    assert ratios["high_ratio"].to_list() == pytest.approx([2.8, 1.3, 2.6])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[forecast]\nweeks = 0\n", "[forecast] weeks must be between 1 and 52"),
        ("[forecast]\ndpd_bands = [10, 0]\n", "[forecast] dpd_bands must be a non-empty list"),
        ("[forecast]\nhigh_quantile = 0.4\n", "0 < low_quantile < 0.5 < high_quantile < 1"),
        ("[forecast]\nhistory_weeks = 0\n", "[forecast] history_weeks must be between 1"),
        ("[forecast]\nweek = 8\n", "unknown policy key [forecast] week (did you mean weeks?)"),
        ("[forecast]\nseasonal_bounds = [1.2, 1.5]\n", "[forecast] seasonal_bounds must be two"),
        ("[forecast]\ndefault_keep_rate = 2\n", "[forecast] default_keep_rate is a share"),
    ],
)
def test_bad_forecast_policy_is_an_input_error(tmp_path, text: str, message: str) -> None:
    import re

    from workbench.errors import InputError
    from workbench.policy import load_policy

    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)):
        load_policy(path)


def test_seasonal_factor_scales_the_invoice_parts(small: tuple[Portfolio, date]) -> None:
    from workbench.forecast import _invoices, as_of_view, seasonal_factors

    portfolio, end = small
    s = end - timedelta(days=70)  # more than a year of history before it
    view = as_of_view(portfolio, s)
    invoices = _invoices(view, s, DEFAULT_POLICY).collect().lazy()
    factors = seasonal_factors(view, invoices, s, DEFAULT_POLICY, 8).sort("k")["factor"]
    assert factors.is_between(*DEFAULT_POLICY.forecast.seasonal_bounds).all()
    assert (factors != 1.0).any()  # a year of history: a factor is measured
    off = replace(DEFAULT_POLICY, forecast=replace(DEFAULT_POLICY.forecast, seasonal_window=0))
    plain = expected_cash(portfolio, s, off)
    seasonal = expected_cash(portfolio, s)
    for part in ("from_open_invoices", "from_future_invoices"):
        assert seasonal[part].to_list() == pytest.approx((plain[part] * factors).to_list())
    for part in ("from_promises", "from_plans"):
        assert seasonal[part].to_list() == pytest.approx(plain[part].to_list())
