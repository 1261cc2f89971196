"""The prioritized worklist (workbench.worklist): priority, capacity, conservation, and the
``workbench worklist`` command through its real entry point."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_recommend import AS_OF, Book, day
from workbench.balances import invoice_balances
from workbench.generate import generate_portfolio, write_portfolio
from workbench.policy import DEFAULT_POLICY, Capacity, Policy
from workbench.portfolio import Portfolio
from workbench.worklist import (
    EXCLUDED_COLUMNS,
    WORKLIST_COLUMNS,
    assign_capacity,
    build_worklist,
    ranked,
    summary_tables,
)

WORKBENCH = Path(sys.executable).with_name("workbench")
END = date(2026, 11, 20)


@pytest.fixture(scope="module")
def generated() -> dict[str, pl.DataFrame]:
    """200 generated customers over two years (ground truth dropped)."""
    tables = generate_portfolio(customers=200, seed=5, start=date(2024, 11, 1), end=END)
    tables.pop("ground_truth")
    return tables


@pytest.fixture(scope="module")
def generated_portfolio(generated) -> Portfolio:
    return Portfolio.from_frames(generated)


def customers_with_open_balance(portfolio: Portfolio, as_of: date) -> set[str]:
    balances = invoice_balances(portfolio, as_of).filter(pl.col("is_open")).collect()
    return set(balances["customer_id"])


def assert_conserved(portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY) -> None:
    """Every customer with an open balance is exactly once in the rows or the excluded list."""
    worklist = build_worklist(portfolio, as_of, policy)
    owing = customers_with_open_balance(portfolio, as_of)
    actions = worklist.rows.filter(pl.col("action") != "thank you")["customer_id"].to_list()
    thanks = worklist.rows.filter(pl.col("action") == "thank you")["customer_id"].to_list()
    excluded = worklist.excluded["customer_id"].to_list()
    assert len(actions) == len(set(actions)) and len(excluded) == len(set(excluded))
    assert not set(actions) & set(excluded)
    assert set(actions) | set(excluded) == owing
    assert not set(thanks) & owing  # thank-you rows are extra: customers owing nothing
    assert worklist.excluded["reason"].is_not_null().all()
    assert (worklist.excluded["reason"].str.len_chars() > 0).all()


@pytest.mark.parametrize("as_of", [END, END - timedelta(days=45), date(2025, 6, 30)])
def test_conservation_on_generated_data(generated_portfolio, as_of):
    assert_conserved(generated_portfolio, as_of)


def test_conservation_on_the_hand_worked_portfolio(hand_portfolio, as_of):
    assert_conserved(hand_portfolio, as_of)
    worklist = build_worklist(hand_portfolio, as_of)
    # C1: open I3 not yet due (low risk); C2: 300.00 unapplied cash shelters 300.00 of its
    # 2,699.75 overdue, the rest is chased; C3: overdue I8 (dpd 30); C4: paid, owes nothing
    assert dict(zip(worklist.excluded["customer_id"], worklist.excluded["exclusion"])) == {
        "C1": "not yet due and no risk",
    }  # fmt: skip
    assert sorted(worklist.rows["customer_id"].to_list()) == ["C2", "C3"]


def test_conservation_on_hand_built_cases_of_every_kind():
    book = Book()
    cid = book.customer("A")  # cadence
    book.invoice(cid, 10)
    cid = book.customer("B")  # dispute only
    book.dispute(book.invoice(cid, 40), day(-10))
    cid = book.customer("C")  # promise pending
    book.promise(cid, day(-2), day(3), 1000.0, book.invoice(cid, 20))
    cid = book.customer("D")  # capped: 2 messages in 7 days (about another invoice)
    book.invoice(cid, 15)
    other = book.invoice(cid, -20)
    book.contact(cid, day(-3), "phone", other)
    book.contact(cid, day(-6), "email", other)
    cid = book.customer("E")  # unapplied cash covering the overdue amount
    book.invoice(cid, 15)
    book.payment(cid, day(-30), 1000.0, None)
    cid = book.customer("K")  # contacted 1 day ago about another invoice
    book.invoice(cid, 12)
    book.contact(cid, day(-1), "email", book.invoice(cid, -10))
    cid = book.customer("L")  # waiting: a light reminder 2 days ago (wait 7)
    iid = book.invoice(cid, 4)
    book.contact(cid, day(-2), "email", iid)
    book.contact(cid, day(-6), "sms", book.invoice(cid, -40))
    cid = book.customer("F")  # thank you
    book.payment(cid, day(-1), 1000.0, book.invoice(cid, 10))
    cid = book.customer("G")  # not yet due
    book.invoice(cid, -30)
    cid = book.customer("H")  # formal notice sent
    book.contact(cid, day(-3), "registered_letter", book.invoice(cid, 60))
    cid = book.customer("I")  # handed over
    book.contact(cid, day(-3), "agency", book.invoice(cid, 90))
    cid = book.customer("J")  # paid everything: in neither list
    book.payment(cid, day(-40), 1000.0, book.invoice(cid, 10))
    portfolio = book.portfolio()
    assert_conserved(portfolio, AS_OF)
    worklist = build_worklist(portfolio, AS_OF)
    stories = dict(zip(worklist.rows["customer_id"], worklist.rows["action"]))
    assert stories == {
        "A": "personal contact", "B": "resolve dispute", "F": "thank you",
    }  # fmt: skip
    reasons = dict(zip(worklist.excluded["customer_id"], worklist.excluded["reason"].str.split(":").list.first()))
    assert reasons == {
        "C": "promise pending", "D": "capped", "E": "unapplied cash to reconcile",
        "G": "not yet due and no risk", "H": "formal notice sent", "I": "handed over",
        "K": "contacted recently", "L": "waiting for the next step",
    }  # fmt: skip
    assert dict(zip(worklist.excluded["customer_id"], worklist.excluded["exclusion"])) == reasons


def test_rows_and_columns(generated_portfolio):
    worklist = build_worklist(generated_portfolio, END)
    assert worklist.rows.columns == list(WORKLIST_COLUMNS)
    assert worklist.excluded.columns == list(EXCLUDED_COLUMNS)
    rows = worklist.rows
    assert rows["rank"].to_list() == list(range(1, rows.height + 1))
    assert rows["draft_message"].str.len_chars().min() > 0
    assert rows["reason"].is_not_null().all() and rows["channel"].is_not_null().all()
    assert set(rows["channel"]) <= {"email", "sms", "phone", "letter", "registered_letter", "agency", "legal", "none"}
    assert set(rows["tone"]) <= {"friendly", "neutral", "firm", "formal"}
    # priority: amount at risk, highest first (thank-you rows last)
    actions = rows.filter(pl.col("action") != "thank you")
    assert actions["amount_at_risk"].to_list() == sorted(actions["amount_at_risk"], reverse=True)
    tables = summary_tables(worklist)
    assert tables["priority matrix"]["customers"].sum() == actions.height + worklist.excluded.height


def test_ties_by_oldest_dpd_then_customer_id():
    actions = pl.DataFrame(
        {
            "customer_id": ["C3", "C1", "C2", "C4", "C5"],
            "status": ["action", "action", "action", "thank_you", "action"],
            "amount_at_risk": [100.0, 100.0, 100.0, 0.0, 50.0],
            "oldest_dpd": [10, 10, 30, None, None],
        }
    )
    assert ranked(actions)["customer_id"].to_list() == ["C2", "C1", "C3", "C5", "C4"]
    assert ranked(actions)["rank"].to_list() == [1, 2, 3, 4, 5]


def capped_policy(default: int, **overrides: int) -> Policy:
    return dataclasses.replace(
        DEFAULT_POLICY,
        capacity=Capacity(default_calls_per_week=default, calls_per_week=dict(overrides)),
    )


def test_capacity_never_exceeded_on_generated_data(generated_portfolio):
    unlimited = build_worklist(generated_portfolio, END)
    demand = unlimited.rows.filter(pl.col("channel") == "phone").group_by("collector").len()
    assert demand["len"].max() >= 3, "the portfolio should need calls"
    busiest = demand.sort("len", descending=True)["collector"][0]
    policy = capped_policy(2, **{busiest: 1})
    worklist = build_worklist(generated_portfolio, END, policy)
    calls = worklist.rows.filter(pl.col("channel") == "phone").group_by("collector").len()
    for collector, n in calls.iter_rows():
        assert n <= (1 if collector == busiest else 2)
    moved = worklist.rows.filter(pl.col("reason").str.contains("phone capacity reached"))
    assert moved.height == unlimited.rows.filter(pl.col("channel") == "phone").height - calls["len"].sum()
    assert moved["reason"].str.contains(r"; phone capacity reached: sent by (email|letter|registered letter)$").all()
    assert (moved["channel"] != "phone").all()
    # the calls kept are the collector's highest-priority phone actions
    before = unlimited.rows.filter(pl.col("channel") == "phone").select("collector", "customer_id", "rank")
    kept = worklist.rows.filter(pl.col("channel") == "phone")
    for collector, group in before.group_by("collector"):
        top = group.sort("rank")["customer_id"].head(1 if collector[0] == busiest else 2).to_list()
        assert kept.filter(pl.col("collector") == collector[0])["customer_id"].to_list() == top
    usage = worklist.capacity
    assert (usage["calls"] <= usage["calls_per_week"]).all()
    assert (usage["calls"] + usage["automated"] == usage["phone_actions"]).all()
    # the drafts follow the final channel: no call script for a row moved to email
    assert not moved["draft_message"].str.starts_with("Call script").any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["Ann", "Bob", "Cy"]), st.sampled_from(["phone", "email", "letter"]),
                  st.sampled_from(["light_reminder", "personal_contact", "last_notice", "resolve_dispute"])),
        max_size=40,
    ),
    st.integers(0, 5),
    st.integers(0, 5),
)  # fmt: skip
def test_capacity_property(actions, default, ann):
    frame = pl.DataFrame(
        {
            "rank": list(range(1, len(actions) + 1)),
            "collector": [a[0] for a in actions],
            "channel": [a[1] for a in actions],
            "step": [a[2] for a in actions],
            "reason": ["r"] * len(actions),
            "covered_amount": [5000.0] * len(actions),
        },
        schema={"rank": pl.Int64, "collector": pl.String, "channel": pl.String, "step": pl.String,
                "reason": pl.String, "covered_amount": pl.Float64},
    )
    out = assign_capacity(frame, capped_policy(default, Ann=ann))
    for collector in ("Ann", "Bob", "Cy"):
        mine = out.filter(pl.col("collector") == collector)
        capacity = ann if collector == "Ann" else default
        demand = frame.filter(pl.col("collector") == collector, pl.col("channel") == "phone").height
        assert mine.filter(pl.col("channel") == "phone").height == min(capacity, demand)
    assert out.height == frame.height and out["rank"].to_list() == frame["rank"].to_list()
    fallback = DEFAULT_POLICY.capacity.fallback
    for row in out.filter(pl.col("capacity_fallback")).iter_rows(named=True):
        assert row["channel"] == getattr(fallback, row["step"])


# --- the command line ----------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(WORKBENCH), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def source(generated, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source") / "data"
    write_portfolio(generated, folder)
    return folder


def test_cli_worklist_writes_the_three_files(source, tmp_path):
    out = tmp_path / "week"
    result = run("worklist", "--data", str(source), "--as-of", END.isoformat(), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["excluded.csv", "watchlist.csv", "worklist.csv", "worklist.xlsx"]
    rows = pl.read_csv(out / "worklist.csv", infer_schema=False)
    excluded = pl.read_csv(out / "excluded.csv", infer_schema=False)
    assert rows.columns == list(WORKLIST_COLUMNS) and excluded.columns == list(EXCLUDED_COLUMNS)
    assert "fallback probabilities" in result.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_cli_policy_file_sets_capacities(source, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[capacity]\ndefault_calls_per_week = 1\n\n[capacity.calls_per_week]\n"Nobody" = 5\n')
    out = tmp_path / "week"
    result = run("worklist", "--data", str(source), "--as-of", END.isoformat(), "--policy", str(policy), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = pl.read_csv(out / "worklist.csv", infer_schema=False)
    calls = rows.filter(pl.col("channel") == "phone").group_by("collector").len()
    assert calls["len"].max() <= 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no data", "data source not found"),
        ("bad invoices", "table invoices"),
        ("bad policy", "capacity.default_calls_per_week"),
        ("missing model", "model file not found"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(source, tmp_path, case, message):
    out = tmp_path / "week"
    data = source
    extra: list[str] = []
    if case == "no data":
        data = tmp_path / "missing"
    elif case == "bad invoices":
        data = tmp_path / "bad"
        data.mkdir()
        (data / "customers.csv").write_text("customer_id,name\nC1,Alpha\n")
        (data / "invoices.csv").write_text(
            "invoice_id,customer_id,issue_date,due_date,amount,currency\nI1,C1,2026-01-01,not a date,10,EUR\n"
        )
    elif case == "bad policy":
        policy = tmp_path / "policy.toml"
        policy.write_text("[capacity]\ndefault_calls_per_week = -1\n")
        extra = ["--policy", str(policy)]
    elif case == "missing model":
        extra = ["--model", str(tmp_path / "nothing.skops")]
    result = run("worklist", "--data", str(data), "--as-of", END.isoformat(), *extra, "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".week")]


def test_cli_model_scores_drive_the_priority(source, generated, tmp_path, monkeypatch, capsys):
    """The --model path, in process with a stand-in for workbench.model (its score() columns):
    the CLI imports the model module only then, and the worklist uses its probabilities."""
    import types

    from workbench.cli import main

    calls = {}

    def load_model(path):
        calls["path"] = Path(path)
        return "model"

    def score(model, portfolio, as_of, policy):
        calls["as_of"] = as_of
        balances = invoice_balances(portfolio, as_of, policy).filter(pl.col("is_open")).collect()
        return balances.select(
            "invoice_id", "customer_id", "open_balance", "days_past_due", probability=pl.lit(0.5)
        )

    fake = types.ModuleType("workbench.model")
    fake.load_model, fake.score = load_model, score
    fake.check_trained_by = lambda model, as_of, file: None
    monkeypatch.setitem(sys.modules, "workbench.model", fake)
    out = tmp_path / "week"
    args = ["worklist", "--data", str(source), "--as-of", END.isoformat(), "--model", "m.skops", "--out", str(out)]
    assert main(args) == 0
    assert calls == {"path": Path("m.skops"), "as_of": END}
    assert "model probabilities" in capsys.readouterr().out
    rows = pl.read_csv(out / "worklist.csv")
    actions = rows.filter(pl.col("action") != "thank you")
    assert (actions["probability"] == 0.5).all()
    # the amount at risk is of the net position: the open balances less the customer credit
    # and unapplied cash set against them; a customer with neither is at risk for half its
    # open amount (each invoice rounded to the cent: within half a cent per invoice)
    risk = actions["amount_at_risk"] - actions["open_amount"] * 0.5
    assert risk.max() <= 0.25
    cash = generated["payments"].filter(pl.col("invoice_id").is_null())["customer_id"]
    plain = actions.filter(pl.col("customer_credit") == 0, ~pl.col("customer_id").is_in(cash.to_list()))
    assert plain.height > 10
    assert (plain["amount_at_risk"] - plain["open_amount"] * 0.5).abs().max() <= 0.25
    netted = actions.filter(pl.col("customer_credit") > 0, ~pl.col("customer_id").is_in(cash.to_list()))
    # credit set against everything open (when nothing is disputed or handed over): at most
    assert (netted["amount_at_risk"] >= (netted["open_amount"] - netted["customer_credit"])
            .clip(lower_bound=0) * 0.5 - 0.25).all()  # fmt: skip


# --- the policy sections of the worklist ------------------------------------------------------


def test_shipped_policy_file_mirrors_the_defaults():
    from workbench.policy import load_policy

    policy = load_policy()
    assert policy == DEFAULT_POLICY
    assert hash(policy) == hash(DEFAULT_POLICY)  # the mappings do not make it unhashable
    assert policy.channels.style("reliable", "personal_contact") == ("email", "friendly")
    assert policy.channels.style("new", "personal_contact") == ("phone", "neutral")  # the default
    assert policy.capacity.calls_of("anyone") == 40


def test_an_analyst_edits_the_policy_file(tmp_path):
    from workbench.policy import load_policy

    path = tmp_path / "policy.toml"
    path.write_text(
        '[capacity.calls_per_week]\n"Marie Dupont" = 25\n\n'
        '[channels.new]\nlight_reminder = ["sms", "neutral"]\n\n'
        "[cadence.delay_days]\nreliable = 14\n"
    )
    policy = load_policy(path)
    assert policy.capacity.calls_of("Marie Dupont") == 25 and policy.capacity.calls_of("X") == 40
    assert policy.channels.style("new", "light_reminder") == ("sms", "neutral")
    assert policy.cadence.delay_days.reliable == 14 and policy.cadence.delay_days.chronic_late == -3


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[channels.reliable]\npersonal_contact = ["fax", "friendly"]\n', "channels.reliable.personal_contact"),
        ('[channels.vip]\nlight_reminder = ["email", "friendly"]\n', "unknown policy section"),
        ('[capacity.calls_per_week]\n"Ann" = -1\n', "calls_per_week of 'Ann'"),
        ('[capacity.fallback]\npersonal_contact = "phone"\n', "capacity.fallback.personal_contact"),
        ("[cadence]\nsolution_offer_dpd = 5\n", "strictly increasing"),
        ("[segments]\nrisk_band_cuts = [0.6, 0.3]\n", "segments.risk_band_cuts"),
        ('[escalation]\nbroken_promise_min_step = "agency"\n', "escalation.broken_promise_min_step"),
        ("[escalation]\nagency_min_amount = 50000.0\n", "agency_min_amount <= legal_min_amount"),
        ('[drafts]\ndefault_language = "pt"\n', "drafts languages"),
    ],
)
def test_bad_policy_values_are_input_errors(tmp_path, text, key):
    from workbench.errors import InputError
    from workbench.policy import load_policy

    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=key.replace("(", r"\(").replace(".", r"\.")):
        load_policy(path)


def test_risk_reasons_in_words_reach_the_worklist(hand_portfolio, as_of):
    from workbench.explain import customer_reasons
    from workbench.features import customer_features

    worklist = build_worklist(hand_portfolio, as_of)
    expected = dict(
        customer_reasons(customer_features(hand_portfolio, as_of).collect()).iter_rows()
    )
    for customer, reasons in worklist.rows.select("customer_id", "risk_reasons").iter_rows():
        assert reasons == expected.get(customer)
    # C2 broke a promise (PR2): its risk reasons say so.
    c2 = worklist.rows.filter(pl.col("customer_id") == "C2")
    if c2.height:
        assert "promise" in (c2["risk_reasons"][0] or "")


# --- over-payments: every amount column agrees with the reason and the draft (issue 10 review) --

BASE = Path(__file__).parent / "bad_inputs" / "base"


def _base_with_payment(tmp_path: Path, line: str, invoices: str | None = None) -> Portfolio:
    """The catalogue's base portfolio with one more payment row (and invoices.csv replaced)."""
    import shutil

    from workbench.load import load_portfolio
    from workbench.sources import SourceOptions

    folder = tmp_path / "data"
    shutil.copytree(BASE, folder)
    with (folder / "payments.csv").open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    if invoices is not None:
        (folder / "invoices.csv").write_text(invoices, encoding="utf-8")
    return load_portfolio(str(folder), SourceOptions(None, None, None))


def test_overpayment_amounts_are_net_in_the_worklist(tmp_path):
    # C1: I1 1,200.00 paid 1,200.00 (P1) + 500.00 (P3) -> 500.00 of customer credit;
    # I2 800.00 due 2026-10-31, 20 days overdue: 800.00 - 500.00 = 300.00 chased.
    portfolio = _base_with_payment(tmp_path, "P3,C1,2026-11-01,500.00,I1")
    worklist = build_worklist(portfolio, AS_OF_BASE)
    c1 = worklist.rows.filter(pl.col("customer_id") == "C1").row(0, named=True)
    assert (c1["open_amount"], c1["overdue_amount"], c1["customer_credit"]) == (800.0, 800.0, 500.0)
    assert "(300.00 EUR)" in c1["reason"]
    due = [line for line in c1["draft_message"].splitlines() if line.startswith("Reste à régler")]
    assert len(due) == 1 and due[0].endswith("300,00\u00a0EUR")  # no-break space
    # at risk: the net 300.00 x the probability, not 800.00 x it
    assert c1["amount_at_risk"] == pytest.approx(300.0 * c1["probability"], abs=0.005)
    assert c1["amount_at_risk"] <= 300.0
    # the summary's amount at risk is the sum of the rows' (net) amounts at risk
    totals = next(iter(summary_tables(worklist).values()))
    at_risk = worklist.rows["amount_at_risk"].sum()
    assert totals["value"][-1] == f"{at_risk:,.2f}"
    # the matrix bands the net open position: C1 is there for 300.00, C2 5,500.00, C3 350.00
    assert worklist.matrix["open_amount"].sum() == pytest.approx(300.0 + 5500.0 + 350.0)


def test_credit_covering_the_overdue_is_not_on_the_watch_list(tmp_path):
    # C2: I3 54,000.00 paid 2,000.00 (P2): 52,000.00 overdue; I4 2,100.00 paid 54,100.00:
    # 52,000.00 of credit covers the 52,000.00 overdue exactly: excluded, nothing on the watch
    # list although 52,000.00 is above watch_min_exposure.
    invoices = (BASE / "invoices.csv").read_text(encoding="utf-8").replace(
        "I3,C2,2026-07-15,2026-08-29,5400.00", "I3,C2,2026-07-15,2026-08-29,54000.00"
    )
    portfolio = _base_with_payment(tmp_path, "P3,C2,2026-11-10,54100.00,I4", invoices)
    worklist = build_worklist(portfolio, AS_OF_BASE)
    assert DEFAULT_POLICY.worklist.watch_min_exposure <= 52_000
    c2 = worklist.excluded.filter(pl.col("customer_id") == "C2").row(0, named=True)
    assert (c2["open_amount"], c2["overdue_amount"], c2["customer_credit"]) == (
        52000.0, 52000.0, 52000.0,
    )  # fmt: skip
    assert c2["exclusion"] == "customer credit to offset"
    assert worklist.watch.height == 0
    # and the matrix holds nothing for it (net open 0.00): C1 800.00 + C3 350.00 only
    assert worklist.matrix["open_amount"].sum() == pytest.approx(800.0 + 350.0)
    assert worklist.matrix["customers"].sum() == 2


AS_OF_BASE = date(2026, 11, 20)
