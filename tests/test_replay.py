"""Replay (workbench.replay) and the governance check of a contact log (workbench.governance).

The governance check is tested on hand-made logs where each rule is broken once (so it cannot
pass vacuously); the replay on a small generated portfolio: its own contacts obey every rule,
each week sees the contacts of the weeks before, and the command writes its files atomically.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest

from workbench.cli import main
from workbench.dunning import contact_log, conversations
from workbench.generate import generate_portfolio, write_portfolio
from workbench.governance import violations
from workbench.policy import DEFAULT_POLICY
from workbench.portfolio import Portfolio
from workbench.replay import REPLAY_OUTPUTS, replay

A = date(2026, 6, 30)


def log_of(rows: list[tuple], promises: list[tuple] = ()) -> Portfolio:
    """A portfolio of one customer C1 with invoices I1 (due 2026-05-01, 5,000.00) and I2 (due
    2026-06-01), and the contacts ``rows``: (date, channel, step, invoice_id, outcome)."""
    contacts = {
        "contact_id": [f"K{i}" for i in range(len(rows))],
        "customer_id": ["C1"] * len(rows),
        "contact_date": [r[0] for r in rows],
        "channel": [r[1] for r in rows],
        "step": [r[2] for r in rows],
        "invoice_id": [r[3] for r in rows],
        "outcome": [r[4] if len(r) > 4 else "sent" for r in rows],
    }
    frames = {
        "customers": {"customer_id": ["C1"], "name": ["One"]},
        "invoices": {
            "invoice_id": ["I1", "I2"],
            "customer_id": ["C1", "C1"],
            "issue_date": [date(2026, 4, 1), date(2026, 5, 1)],
            "due_date": [date(2026, 5, 1), date(2026, 6, 1)],
            "amount": [5000.0, 800.0],
            "currency": ["EUR", "EUR"],
        },  # fmt: skip
        "contacts": contacts,
        "payments": {"payment_id": [], "customer_id": [], "payment_date": [], "amount": []},
    }
    if promises:
        frames["promises"] = {
            "promise_id": [f"P{i}" for i in range(len(promises))],
            "customer_id": ["C1"] * len(promises),
            "promise_date": [p[0] for p in promises],
            "promised_date": [p[1] for p in promises],
            "amount": [100.0] * len(promises),
        }
    return Portfolio.from_frames(frames)


def rules_broken(portfolio: Portfolio, since: date = date(2026, 5, 1)) -> list[str]:
    found = violations(
        contact_log(portfolio, A),
        conversations(portfolio, A, DEFAULT_POLICY),
        portfolio.payments,
        since,
        DEFAULT_POLICY,
    )
    return sorted(found["rule"].to_list())


def d(offset: int) -> date:
    return date(2026, 6, 1) + timedelta(days=offset)


def test_a_governed_log_has_no_violation():
    rows = [
        (d(0), "email", "light_reminder", "I1"),
        (d(7), "phone", "personal_contact", "I1"),
        (d(14), "email", "solution_offer", "I1"),
        (d(24), "letter", "last_notice", "I1"),
    ]
    assert rules_broken(log_of(rows)) == []


@pytest.mark.parametrize(
    ("rows", "promises", "rule"),
    [
        ([(d(0), "email", "light_reminder", "I1"), (d(2), "sms", "light_reminder", "I2")], (), "gap"),
        ([(d(0), "email", "light_reminder", "I1"), (d(3), "phone", "personal_contact", "I1"),
          (d(6), "letter", "last_notice", "I1")], (), "cap"),
        ([(d(0), "email", "pre_due", "I2"), (d(-20), "email", "pre_due", "I2")], (), "repeat"),
        ([(d(0), "phone", "personal_contact", "I1"), (d(10), "phone", "personal_contact", "I1")], (),
         "step repeated"),
        ([(d(0), "registered_letter", "formal_notice", "I1"), (d(5), "email", "light_reminder", "I2")], (),
         "notice deadline"),
        ([(d(0), "phone", "personal_contact", "I1", "reached"), (d(4), "registered_letter", "formal_notice", "I1")],
         (), "conversation"),
        ([(d(4), "registered_letter", "formal_notice", "I1")], [(d(0), d(2))], "conversation"),
    ],
)  # fmt: skip
def test_each_rule_broken_once_is_found(rows, promises, rule):
    assert rule in rules_broken(log_of(rows, list(promises)))


def test_a_notice_whose_invoice_was_paid_in_full_holds_nothing_more():
    """The notice on I1 holds the reminder on I2 five days later, unless I1 was paid in full
    before that reminder (the engine lifts the hold then: a notice's deadline protects the
    debtor's answer about its invoice)."""
    portfolio = log_of(
        [(d(0), "registered_letter", "formal_notice", "I1"), (d(5), "email", "light_reminder", "I2")]
    )

    def broken(settled_on: date | None) -> list[str]:
        settled = pl.LazyFrame(
            {"invoice_id": ["I1"], "settlement_date": [settled_on]},
            schema={"invoice_id": pl.String, "settlement_date": pl.Date},
        )
        found = violations(contact_log(portfolio, A), conversations(portfolio, A, DEFAULT_POLICY),
                           portfolio.payments, date(2026, 5, 1), DEFAULT_POLICY, settled)  # fmt: skip
        return found["rule"].to_list()

    assert broken(d(3)) == []
    assert broken(d(5)) == []  # paid the day of the reminder, before it was sent
    assert broken(d(6)) == ["notice deadline"]
    assert broken(None) == ["notice deadline"]


def test_the_customers_own_message_is_not_an_outbound_contact():
    rows = [
        (d(0), "email", "resolve_dispute", "I1", "dispute_raised"),
        (d(1), "email", "light_reminder", "I2"),
    ]
    assert "gap" not in rules_broken(log_of(rows))


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    tables = generate_portfolio(customers=60, seed=5, start=date(2025, 1, 1), end=date(2026, 6, 30))
    folder = tmp_path_factory.mktemp("book")
    write_portfolio(tables, folder)
    return folder, Portfolio.from_frames({k: v for k, v in tables.items() if k != "ground_truth"})


def test_replay_sends_what_it_decides_and_obeys_every_rule(small_book):
    _, portfolio = small_book
    start, end = date(2026, 5, 8), date(2026, 6, 26)
    result = replay(portfolio, start, end, DEFAULT_POLICY)
    assert result.weeks["week"].to_list() == [start + timedelta(days=7 * k) for k in range(8)]
    assert result.actions.height > 0 and result.contacts.height > 0
    assert result.violations.height == 0, result.violations
    # every customer-facing action and hand-over became contacts of its week, one per invoice
    sent = result.actions.filter(
        pl.col("channel").is_in(
            ["email", "sms", "phone", "letter", "registered_letter", "agency", "legal"]
        )
    )
    assert result.contacts.height == sent["invoice_ids"].list.len().clip(lower_bound=1).sum()
    # the memory: no invoice gets the same cadence step twice once due (a contact before its due
    # date is its pre-due reminder, whatever the letter's step)
    due = portfolio.invoices.select("invoice_id", "due_date").collect()
    cadence = result.contacts.join(due, on="invoice_id").filter(
        pl.col("step").is_in(["light_reminder", "solution_offer", "last_notice", "formal_notice"]),
        pl.col("contact_date") >= pl.col("due_date"),
    )
    assert cadence.group_by("invoice_id", "step").len()["len"].max() == 1
    # only the replay's contacts exist from the start date on
    assert result.contacts["contact_date"].min() >= start


def test_replay_command_writes_its_files_and_refuses_bad_input(small_book, tmp_path):
    folder, _ = small_book
    out = tmp_path / "replay"

    def run(start: str, end: str) -> int:
        return main(["replay", "--data", str(folder), "--from", start, "--to", end, "--out", str(out)])

    assert run("2026-06-05", "2026-06-19") == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(REPLAY_OUTPUTS)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["weeks"], summary["violations"]) == (3, 0)
    assert run("2026-06-19", "2026-06-05") == 2
    (out / "mine.txt").write_text("keep me")
    assert run("2026-06-05", "2026-06-12") == 0  # the run's files are replaced, not the user's
    assert (out / "mine.txt").read_text() == "keep me"
