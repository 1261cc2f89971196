"""The managers' weekly report (issue 13): every section's numbers recomputed with plain polars
from the raw tables of a small generated portfolio, the summary's rules, the as-of rule, and one
papermill execution of the report notebook."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import nbformat
import papermill
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench import report, reportplots, reportrisks, reportwords
from workbench.generate import generate_portfolio, write_portfolio
from workbench.phrases import CHANNEL_WORDS, STEP_WORDS
from workbench.policy import DEFAULT_POLICY
from workbench.portfolio import Portfolio
from workbench.reportfacts import broken_this_week, week_facts
from workbench.worklist import build_worklist

START, END = date(2025, 10, 1), date(2026, 10, 30)
AS_OF = END
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly-report.ipynb"
HOSTILE = "<b>Bold</b> & <script>x()</script>"
c = pl.col


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    """The raw tables of a generated portfolio (one currency: EUR), one customer with a
    hostile name and a hostile collector (the collector view lists every collector)."""
    raw = generate_portfolio(customers=60, seed=11, start=START, end=END)
    raw.pop("ground_truth")
    first = raw["customers"]["customer_id"][0]
    raw["customers"] = raw["customers"].with_columns(
        name=pl.when(c("customer_id") == first).then(pl.lit(HOSTILE)).otherwise("name"),
        collector=pl.when(c("customer_id") == first).then(pl.lit(HOSTILE)).otherwise("collector"),
    )
    assert raw["invoices"]["currency"].unique().to_list() == ["EUR"]
    return raw


@pytest.fixture(scope="module")
def portfolio(tables) -> Portfolio:
    return Portfolio.from_frames(tables)


@pytest.fixture(scope="module")
def worklist(portfolio):
    return build_worklist(portfolio, AS_OF)


def last_week(day: pl.Expr, as_of: date = AS_OF) -> pl.Expr:
    return (day > as_of - timedelta(days=7)) & (day <= as_of)


def open_invoices(tables: dict[str, pl.DataFrame], day: date) -> pl.DataFrame:
    """Open invoices as of ``day``, from the raw tables: invoice_id, customer_id, due_date,
    open (amount - applied payments - credit notes dated <= day, above 0.01)."""
    paid = (
        tables["payments"]
        .filter(c("payment_date") <= day, c("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(paid=c("amount").sum())
    )
    credited = (
        tables["credit_notes"]
        .filter(c("date") <= day)
        .group_by("invoice_id")
        .agg(credited=c("amount").sum())
    )
    return (
        tables["invoices"]
        .filter(c("issue_date") <= day)
        .join(paid, on="invoice_id", how="left")
        .join(credited, on="invoice_id", how="left")
        .with_columns(
            open=(c("amount") - c("paid").fill_null(0) - c("credited").fill_null(0)).clip(0)
        )
        .filter(c("open") > 0.01)
        .select("invoice_id", "customer_id", "due_date", "open")
    )


# --- cash ---------------------------------------------------------------------------------


def test_cash_collected_is_the_payments_of_the_last_7_days(tables, portfolio) -> None:
    expected = tables["payments"].filter(last_week(c("payment_date")))["amount"].sum()
    assert expected > 0
    assert report.cash_collected(portfolio, AS_OF) == pytest.approx(expected, abs=0.01)


def test_cash_against_a_hand_made_forecast() -> None:
    forecast = pl.DataFrame(
        {"week": [2, 1], "expected": [50.0, 100.0], "low": [40.0, 80.0], "high": [70.0, 130.0]}
    )
    within = report.cash_against_forecast(90.0, forecast)
    assert within == {"collected": 90.0, "expected": 100.0, "low": 80.0, "high": 130.0,
                      "difference": -10.0, "verdict": "within"}  # fmt: skip
    assert report.cash_against_forecast(131.0, forecast)["verdict"] == "above"
    assert report.cash_against_forecast(79.99, forecast)["verdict"] == "below"
    assert report.cash_against_forecast(5.0, None)["verdict"] == "no forecast"
    words = reportwords.cash_sentence(within, "EUR")
    assert "90.00 EUR" in words and "100.00 EUR" in words and "within" in words


def test_forecast_table_and_chart_from_a_hand_made_frame() -> None:
    weeks = [2, 1]
    frame = pl.DataFrame({
        "week": weeks, "start": [date(2026, 11, 7), date(2026, 10, 31)],
        "end": [date(2026, 11, 13), date(2026, 11, 6)], "expected": [60.0, 100.0],
        "low": [40.0, 80.0], "high": [90.0, 130.0], "from_promises": [0.0, 10.0],
        "from_plans": [5.0, 0.0], "from_open_invoices": [50.0, 90.0],
        "from_future_invoices": [5.0, 0.0], "extra": [1, 2],
    })  # fmt: skip
    table = report.forecast_table(frame)
    assert table["week"].to_list() == [1, 2] and "extra" not in table.columns
    parts = ["from_promises", "from_plans", "from_open_invoices", "from_future_invoices"]
    assert (table.select(pl.sum_horizontal(parts)).to_series() == table["expected"]).all()
    figure = reportplots.forecast_chart(frame, "EUR")
    bars = [trace for trace in figure.data if trace.type == "bar"]
    assert [list(trace.y) for trace in bars] == [[10.0, 0.0], [0.0, 5.0], [90.0, 50.0],
                                                 [0.0, 5.0]]  # fmt: skip
    assert "_" not in "".join(trace.name for trace in figure.data)
    html = reportplots.html_table(table, "Cash forecast by week", currency="EUR")
    assert "Low (10 %) (EUR)" in html and "100.00" in html and "2026-10-31" in html


# --- collector view -----------------------------------------------------------------------


def test_collector_view_counts_and_cash(tables, portfolio, worklist) -> None:
    previous = pl.DataFrame({"collector": ["Zoe New", *worklist.rows["collector"].to_list()[:3]]})
    view = report.collector_view(portfolio, AS_OF, worklist.rows, previous)
    owner = tables["customers"].select("customer_id", "collector")
    done = (
        tables["contacts"]
        .filter(last_week(c("contact_date")))
        .unique(["customer_id", "contact_date", "channel"])
        .join(owner, on="customer_id")
        .group_by("collector")
        .agg(done_expected=pl.len())
    )
    cash = (
        tables["payments"]
        .filter(last_week(c("payment_date")))
        .join(owner, on="customer_id")
        .group_by("collector")
        .agg(cash_expected=c("amount").sum())
    )
    obtained = (
        tables["promises"]
        .filter(last_week(c("promise_date")))
        .join(owner, on="customer_id")
        .group_by("collector")
        .agg(obtained_expected=pl.len())
    )
    grace = timedelta(days=DEFAULT_POLICY.behaviour.promise_grace_days)
    due = (
        tables["promises"]
        .filter(c("promise_date") <= AS_OF)
        .with_columns(deadline=c("promised_date") + grace)
        .filter(c("deadline") >= AS_OF - timedelta(days=7), c("deadline") < AS_OF)
        .join(owner, on="customer_id")
        .group_by("collector")
        .agg(due_expected=pl.len())
    )
    planned = worklist.rows.group_by("collector").agg(planned_expected=pl.len())
    before = previous.group_by("collector").agg(before_expected=pl.len())
    joined = view
    for frame in (done, cash, obtained, due, planned, before):
        joined = joined.join(frame, on="collector", how="left")
    joined = joined.fill_null(0)
    assert set(view["collector"]) == {*owner["collector"], "Zoe New"}
    assert joined["done"].to_list() == joined["done_expected"].to_list()
    assert joined["planned"].to_list() == joined["planned_expected"].to_list()
    assert joined["planned_last_week"].to_list() == joined["before_expected"].to_list()
    assert joined["promises_obtained"].to_list() == joined["obtained_expected"].to_list()
    assert joined["promises_due"].to_list() == joined["due_expected"].to_list()
    assert (joined["promises_kept"] + joined["promises_broken"]).to_list() == joined[
        "promises_due"
    ].to_list()
    for got, want in zip(joined["cash_collected"], joined["cash_expected"], strict=True):
        assert got == pytest.approx(want, abs=0.01)
    assert view["done"].sum() > 0 and view["cash_collected"].sum() > 0
    no_previous = report.collector_view(portfolio, AS_OF, worklist.rows)
    assert no_previous["planned_last_week"].null_count() == no_previous.height
    assert (view["reported_done"] == 0).all()  # no call sheet was read back


def test_collector_view_counts_the_rows_reported_done_on_the_call_sheet(tables) -> None:
    """Contacts read back from a call sheet (ids WB-...) count once per customer in
    reported_done; the source's own contacts and those outside the week do not."""
    contacts = tables["contacts"]
    owner = tables["customers"].select("customer_id", "collector")
    picked = owner.head(3)["customer_id"].to_list()
    sheet = pl.DataFrame(
        {
            "contact_id": [f"WB-2026-06-12-{picked[0]}-I1", f"WB-2026-06-12-{picked[0]}-I2",
                           f"WB-2026-06-12-{picked[1]}", f"WB-2026-06-01-{picked[2]}"],
            "customer_id": [picked[0], picked[0], picked[1], picked[2]],
            "contact_date": [AS_OF - timedelta(days=6)] * 3 + [AS_OF - timedelta(days=20)],
            "channel": ["phone"] * 4,
        }
    )  # fmt: skip
    both = pl.concat([contacts, sheet], how="diagonal_relaxed")
    view = report.collector_view(
        Portfolio.from_frames({**tables, "contacts": both}), AS_OF, pl.DataFrame({"collector": []})
    )
    expected = (
        owner.filter(pl.col("customer_id").is_in(picked[:2]))
        .group_by("collector")
        .agg(n=pl.len())
    )
    got = view.join(expected, on="collector", how="left").with_columns(pl.col("n").fill_null(0))
    assert got["reported_done"].to_list() == got["n"].to_list()
    assert got["reported_done"].sum() == 2


def test_previous_worklist_read_in_english_or_french(tmp_path, worklist) -> None:
    from workbench.export import write_csv
    from workbench.worklist import WORKLIST_COLUMNS

    for language in ("en", "fr"):
        path = tmp_path / f"worklist-{language}.csv"
        write_csv(worklist.rows.select(WORKLIST_COLUMNS), path, language)
        rows = report.read_previous_worklist(path)
        assert rows["collector"].to_list() == worklist.rows["collector"].to_list()
    from workbench.errors import InputError

    with pytest.raises(InputError):
        report.read_previous_worklist(tmp_path / "missing.csv")


# --- effect of the actions ------------------------------------------------------------------


def _paid_within(first: pl.DataFrame, payments: pl.DataFrame) -> pl.DataFrame:
    """first (customer_id, first) with paid: a payment in (first, first + 14]."""
    hits = (
        first.join(payments, on="customer_id")
        .filter(
            c("payment_date") > c("first"),
            c("payment_date") <= c("first") + pl.duration(days=14),
        )
        .select("customer_id", "first")
        .unique()
        .with_columns(paid=pl.lit(True))
    )
    return first.join(hits, on=["customer_id", "first"], how="left").with_columns(
        c("paid").fill_null(False)
    )


def test_contact_effect_shares_and_counts(tables, portfolio) -> None:
    effect = report.contact_effect(portfolio, AS_OF)
    start, end = AS_OF - timedelta(days=28), AS_OF - timedelta(days=14)
    assert report.effect_window(AS_OF) == (start, end)
    payments = tables["payments"].filter(c("payment_date") <= AS_OF)
    window = tables["contacts"].filter(c("contact_date") > start, c("contact_date") <= end)
    outbound = window.filter(c("outcome").fill_null("") != "dispute_raised")
    for key, group in (("channel", "by channel"), ("step", "by step")):
        for value, rows in outbound.group_by(key):
            first = rows.group_by("customer_id").agg(first=c("contact_date").min())
            paid = _paid_within(first, payments)
            words = STEP_WORDS["en"] if key == "step" else CHANNEL_WORDS["en"]
            shown = words.get(value[0], value[0]).replace("_", " ")
            row = effect.filter(c("group") == group, c("value") == shown)
            assert row["customers"].to_list() == [first.height], (key, value)
            assert row["customers_paid"].to_list() == [paid["paid"].sum()], (key, value)
            assert row["share"][0] == pytest.approx(paid["paid"].mean())
    everyone = _paid_within(outbound.group_by("customer_id").agg(first=c("contact_date").min()),
                            payments)  # fmt: skip
    row = effect.filter(c("group") == "all contacted").row(0, named=True)
    assert (row["customers"], row["customers_paid"]) == (everyone.height, everyone["paid"].sum())
    overdue = (
        open_invoices(tables, start)
        .filter(c("due_date") < start)
        .select("customer_id")
        .unique()
        .join(window.select("customer_id").unique(), on="customer_id", how="anti")
        .with_columns(first=pl.lit(start))
    )
    other = _paid_within(overdue, payments)
    row = effect.filter(c("group") == "not contacted").row(0, named=True)
    assert (row["customers"], row["customers_paid"]) == (other.height, other["paid"].sum())
    assert row["customers"] > 0 and everyone.height > 0
    words = reportwords.effect_sentence(effect, start, end)
    assert "observational" in words and "not the effect of the contact" in words


# --- risks ----------------------------------------------------------------------------------


def test_over_credit_limit(tables, portfolio) -> None:
    def over(day: date) -> pl.DataFrame:
        return (
            open_invoices(tables, day)
            .group_by("customer_id")
            .agg(open_amount=c("open").sum())
            .join(tables["customers"].select("customer_id", "credit_limit"), on="customer_id")
            .filter(c("credit_limit").is_not_null(), c("open_amount") > c("credit_limit"))
        )

    now, before = over(AS_OF), over(AS_OF - timedelta(days=7))
    got = reportrisks.over_credit_limit(portfolio, AS_OF)
    assert now.height > 0
    assert sorted(got["customer_id"]) == sorted(now["customer_id"])
    expected = dict(zip(now["customer_id"], now["open_amount"] - now["credit_limit"], strict=True))
    for customer, over_by in zip(got["customer_id"], got["over_by"], strict=True):
        assert over_by == pytest.approx(expected[customer], abs=0.02)
    new = set(now["customer_id"]) - set(before["customer_id"])
    assert set(got.filter(c("new_this_week"))["customer_id"]) == new


def test_unapplied_cash_total(tables, portfolio) -> None:
    raw = tables["payments"].filter(c("payment_date") <= AS_OF, c("invoice_id").is_null())
    got = reportrisks.unapplied_cash(portfolio, AS_OF)
    assert raw.height > 0
    assert got["unapplied"].sum() == pytest.approx(raw["amount"].sum(), abs=0.01)
    assert got["payments"].sum() == raw.height


def test_disputes_by_age_bands_sum_to_the_open_disputed_amount(tables, portfolio) -> None:
    disputes = tables["disputes"].filter(
        c("opened_date") <= AS_OF,
        c("resolved_date").is_null() | (c("resolved_date") > AS_OF),
    )
    got = reportrisks.disputes_by_age(portfolio, AS_OF)
    assert got["band"].to_list() == ["0-30 days", "31-60 days", "61-90 days", "over 90 days"]
    assert disputes.height > 0 and disputes["amount"].null_count() == 0
    assert got["disputes"].sum() == disputes.height
    assert got["disputed"].sum() == pytest.approx(disputes["amount"].sum(), abs=0.01)
    age = (pl.lit(AS_OF) - c("opened_date")).dt.total_days()
    young = disputes.filter(age <= 30)
    assert got["disputes"][0] == young.height
    assert got["disputed"][0] == pytest.approx(young["amount"].sum(), abs=0.01)


def test_handover_pipeline_and_waiting_exposures(tables, portfolio, worklist) -> None:
    pipeline = reportrisks.handover_pipeline(portfolio, AS_OF, worklist.rows)
    proposed = worklist.rows.filter(c("step").is_in(["agency", "legal"]))["customer_id"]
    last = (
        tables["contacts"]
        .filter(c("contact_date") <= AS_OF)
        .sort("contact_date", "contact_id")
        .group_by("customer_id")
        .agg(c("step").last())
        .filter(c("step").is_in(["agency", "legal"]))
    )
    open_customers = set(open_invoices(tables, AS_OF)["customer_id"])
    expected = ({*proposed, *last["customer_id"]}) & open_customers
    assert set(pipeline["customer_id"]) == expected
    waiting = reportrisks.waiting_exposures(worklist.watch, worklist.excluded)
    assert waiting["overdue_amount"].to_list() == sorted(waiting["overdue_amount"], reverse=True)
    assert set(waiting["customer_id"]) <= set(worklist.excluded["customer_id"])


# --- amount at risk -------------------------------------------------------------------------


def test_amount_at_risk_split_with_given_probabilities(tables, portfolio) -> None:
    invoices = open_invoices(tables, AS_OF)
    scores = tables["invoices"].select("invoice_id", probability=pl.lit(0.25))
    split = report.amount_at_risk_split(portfolio, AS_OF, scores=scores)
    overdue = invoices.filter(c("due_date") < AS_OF)["open"].sum() * 0.25
    not_due = invoices.filter(c("due_date") >= AS_OF)["open"].sum() * 0.25
    assert split["overdue"] == pytest.approx(overdue, abs=0.5)
    assert split["not_yet_due"] == pytest.approx(not_due, abs=0.5)
    assert split["overdue"] + split["not_yet_due"] == pytest.approx(split["total"], abs=0.005)
    words = reportwords.risk_split_sentence(split, "EUR")
    assert f"{split['overdue']:,.2f} EUR" in words and f"{split['not_yet_due']:,.2f} EUR" in words


# --- summary --------------------------------------------------------------------------------


def test_kpi_sentences_say_the_figure_and_the_direction() -> None:
    assert (
        reportwords.kpi_sentence("Overdue AR", "money", 1234567.0, 1102292.0, "EUR")
        == "Overdue AR rose 12.0 % to 1,234,567.00 EUR (last week 1,102,292.00 EUR)."
    )
    assert reportwords.kpi_sentence("DSO", "days", 40.0, 42.5, None) == (
        "DSO fell 2.5 days to 40.0 days (last week 42.5 days)."
    )
    assert reportwords.kpi_sentence("CEI", "percent", 80.0, 80.0, None) == (
        "CEI was unchanged at 80.0 %."
    )


def _facts(**overrides) -> dict:
    """Facts where every rule of the things to look at applies."""
    facts = {
        "broken": pl.DataFrame({"customer_id": ["A"], "name": ["<A&Co>"], "amount": [500.0]}),
        "over_limit": pl.DataFrame(
            {
                "customer_id": ["B"],
                "name": ["Bee"],
                "credit_limit": [1.0],
                "open_amount": [3.0],
                "over_by": [2.0],
                "new_this_week": [True],
            }
        ),  # fmt: skip
        "waiting": pl.DataFrame(
            {
                "customer_id": ["C"],
                "customer_name": ["Cee"],
                "overdue_amount": [900.0],
                "exclusion": ["promise pending"],
                "next_step": [None],
                "next_date": [None],
            }
        ),  # fmt: skip
        "old_now": 200.0,
        "old_before": 100.0,
        "collectors": pl.DataFrame(
            {"collector": ["Ann", "Bob"], "planned_last_week": [5, 9], "done": [5, 2]}
        ),  # fmt: skip
        "unapplied": pl.DataFrame({"unapplied": [10.0]}),
        "disputes": pl.DataFrame({"band": ["over 90 days"], "disputes": [1], "disputed": [5.0]}),
    }
    return facts | overrides


def test_the_three_points_follow_the_rules_in_order() -> None:
    points = reportwords.things_to_look_at(_facts(), "EUR")  # no forecast: no cash rule
    assert [rule for rule, _ in points] == ["broken_promises", "new_over_limit",
                                            "waiting_exposure"]  # fmt: skip
    assert "&lt;A&amp;Co&gt;" in points[0][1] and "500.00 EUR" in points[0][1]
    none = {"broken": _facts()["broken"].clear(), "over_limit": _facts()["over_limit"].clear()}
    points = reportwords.things_to_look_at(_facts(**none, old_now=100.0), "EUR")
    assert [rule for rule, _ in points] == ["waiting_exposure", "collector_behind",
                                            "unapplied_cash"]  # fmt: skip
    assert "Bob" in points[1][1] and "2 contacts" in points[1][1]
    assert "no next step" in points[0][1]
    quiet = _facts(
        broken=_facts()["broken"].clear(),
        over_limit=_facts()["over_limit"].with_columns(new_this_week=pl.lit(False)),
        waiting=_facts()["waiting"].clear(),
        old_now=50.0,
        collectors=_facts()["collectors"].with_columns(planned_last_week=pl.lit(None, pl.Int64)),
        unapplied=_facts()["unapplied"].clear(),
        disputes=_facts()["disputes"].with_columns(disputes=pl.lit(0)),
    )
    assert reportwords.things_to_look_at(quiet, "EUR") == []
    assert "Nothing stands out" in reportwords.summary_html({}, {}, [])


SAMPLE_CASH = {
    "collected": 383_675.56, "expected": 643_302.61, "low": 408_268.56, "high": 1_119_340.46,
    "difference": -259_627.05, "verdict": "below",
}  # fmt: skip
"""The review's sample: last week's cash below the range of the forecast made a week ago."""


def test_cash_outside_its_forecast_range_is_always_among_the_three_points() -> None:
    # below the range: the first thing to look at, before everything else that applies
    points = reportwords.things_to_look_at(_facts(cash_vs_forecast=SAMPLE_CASH), "EUR")
    assert [rule for rule, _ in points] == ["cash_below_forecast", "broken_promises",
                                            "new_over_limit"]  # fmt: skip
    assert points[0][1] == (
        "Cash collected last week, 383,675.56 EUR, was below the forecast made a week ago: "
        "643,302.61 EUR expected, 259,627.05 EUR short, under the 10 %-90 % range "
        "408,268.56 EUR to 1,119,340.46 EUR."
    )
    # above the range: still shown when every other rule applies (third, after two at most)
    above = {"collected": 1_200_000.0, "expected": 643_302.61, "low": 408_268.56,
             "high": 1_119_340.46, "difference": 556_697.39, "verdict": "above"}  # fmt: skip
    points = reportwords.things_to_look_at(_facts(cash_vs_forecast=above), "EUR")
    assert [rule for rule, _ in points] == ["broken_promises", "new_over_limit",
                                            "cash_above_forecast"]  # fmt: skip
    assert "1,200,000.00 EUR, was above" in points[2][1]
    assert "556,697.39 EUR more, over the 10 %-90 % range" in points[2][1]
    # within the range or no forecast a week ago: no cash point
    for cash in (SAMPLE_CASH | {"collected": 500_000.0, "verdict": "within"},
                 {"collected": 5.0, "verdict": "no forecast"}, None):  # fmt: skip
        points = reportwords.things_to_look_at(_facts(cash_vs_forecast=cash), "EUR")
        assert not {"cash_below_forecast", "cash_above_forecast"} & {r for r, _ in points}
    assert set(reportwords.RULES) >= {"cash_below_forecast", "cash_above_forecast"}
    assert "``cash_below_forecast``" in reportwords.__doc__


def test_week_facts_summary_figures_and_points(tables, portfolio, worklist) -> None:
    facts = week_facts(portfolio, AS_OF, DEFAULT_POLICY, worklist)
    open_now = open_invoices(tables, AS_OF)
    assert facts["current"]["total_ar"] == pytest.approx(open_now["open"].sum(), abs=0.01)
    html = reportwords.summary_html(facts["current"], facts["previous_kpis"], facts["points"])
    assert f"{facts['current']['total_ar']:,.2f} EUR" in html
    assert f"{facts['current']['overdue_ar']:,.2f} EUR" in html
    assert len(facts["points"]) == 3
    broken = broken_this_week(portfolio, AS_OF)
    expected_first = "broken_promises" if broken.height else "new_over_limit"
    cash = facts["cash_vs_forecast"]
    expected_first = "cash_below_forecast" if cash["verdict"] == "below" else expected_first
    assert facts["points"][0][0] == expected_first
    assert html.count("<li>") == 3 and "<script>" not in html
    # last week's cash against week 1 of the forecast made 7 days before, read back by hand
    assert cash["collected"] == pytest.approx(report.cash_collected(portfolio, AS_OF), abs=0.01)
    assert facts["forecast"]["week"].min() == 1
    if cash["verdict"] != "no forecast":
        low, high = cash["low"], cash["high"]
        verdict = (
            "below" if cash["collected"] < low else "above" if cash["collected"] > high else ""
        )
        shown = {rule for rule, _ in facts["points"]}
        assert (
            (f"cash_{verdict}_forecast" in shown)
            if verdict
            else not any(rule.startswith("cash_") for rule in shown)
        )


# --- as-of rule -----------------------------------------------------------------------------


def _cut(tables: dict[str, pl.DataFrame], day: date) -> dict[str, pl.DataFrame]:
    """The raw tables without anything dated after ``day``."""
    dated = {"invoices": "issue_date", "payments": "payment_date", "contacts": "contact_date",
             "promises": "promise_date", "disputes": "opened_date",
             "credit_notes": "date"}  # fmt: skip
    out = {name: frame.filter(c(dated[name]) <= day) if name in dated else frame
           for name, frame in tables.items()}  # fmt: skip
    out["disputes"] = out["disputes"].with_columns(
        resolved_date=pl.when(c("resolved_date") <= day).then(c("resolved_date"))
    )
    out["payment_plans"] = out["payment_plans"].filter(
        c("agreed_date").is_null() | (c("agreed_date") <= day)
    )
    return out


def test_nothing_dated_after_as_of_changes_any_section(tables, portfolio) -> None:
    day = AS_OF - timedelta(days=14)
    cut = Portfolio.from_frames(_cut(tables, day))
    assert cut.payments.collect().height < portfolio.payments.collect().height
    results = []
    for each in (portfolio, cut):
        worklist = build_worklist(each, day)
        facts = week_facts(each, day, DEFAULT_POLICY, worklist, worklist.rows.head(5))
        results.append(facts | {"cash": report.cash_collected(each, day)})
    full, past = results
    for key, value in full.items():
        if key == "forecast":  # sums of floats in another order: equal to 1e-9
            assert_frame_equal(value, past[key], check_exact=False, rel_tol=1e-9)
        elif isinstance(value, pl.DataFrame):
            assert value.equals(past[key]), key
        else:
            assert value == past[key], key


# --- tables ---------------------------------------------------------------------------------


def test_html_table_escapes_rounds_and_says_when_rows_are_cut() -> None:
    frame = pl.DataFrame({"name": [HOSTILE, "B"], "open_amount": [1234.5678, 2.0],
                          "step": ["formal_notice", "agency"], "share": [0.456, 1.0]})  # fmt: skip
    html = reportplots.html_table(frame, "T <1>", max_rows=1, currency="EUR")
    assert "<script>" not in html and "&lt;script&gt;" in html and "T &lt;1&gt;" in html
    assert "1,234.57" in html and "formal notice" in html and "46 %" in html
    assert "Open amount (EUR)" in html and "The first 1 of 2 rows are shown" in html
    assert "open_amount" not in html


# --- the notebook ---------------------------------------------------------------------------

HEADINGS = [
    "How to use",
    "Summary",
    "Cash",
    "Collector view",
    "Effect of the collection actions",
    "Top risks",
    "Amount at risk: overdue and not yet due",
    "Ageing and DSO trend",
    "Appendix: model health",
]


@pytest.mark.slow
def test_report_notebook_executes_with_sections_in_order(tables, worklist, tmp_path) -> None:
    from workbench.export import write_csv
    from workbench.worklist import WORKLIST_COLUMNS

    folder = tmp_path / "data"
    write_portfolio(tables, folder)
    previous = tmp_path / "worklist.csv"
    write_csv(worklist.rows.select(WORKLIST_COLUMNS), previous)
    out = tmp_path / "report.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), cwd=str(NOTEBOOK.parent), progress_bar=False,
        kernel_name="python3", parameters={"data": str(folder), "as_of": AS_OF.isoformat(),
        "previous_worklist": str(previous), "interactive": False, "trend_weeks": 8},
    )  # fmt: skip
    notebook = nbformat.read(out, as_version=4)
    headings = [
        line[3:].strip()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    assert headings == HEADINGS
    html = "".join(
        output.get("data", {}).get("text/html", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "To look at this week" in html and "Cash collected last week" in html
    assert "<script>x()" not in html and "&lt;script&gt;x()" in html
    assert not re.search(r"<th>[a-z]+_[a-z_]+", html), "a snake_case header is shown"
