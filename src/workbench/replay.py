"""Replay: the recommendation engine run week after week on history (DESIGN 6b).

From ``start`` to ``end``, every 7 days: the worklist as of that day (recommendations, ranking,
collectors' capacity) is computed on the real invoices, payments, promises, disputes and plans,
and on a contact history made of the real contacts dated before ``start`` plus the contacts the
replay itself sent in the previous weeks. Each week's customer-facing actions and hand-overs
become contacts of that day, one row per invoice they cover (step, channel and tone of the
action, outcome unknown), fed to the next week. The customers' real payments are unchanged, so
the replay shows what the engine would have sent, not what customers would have done.

This is the proof that the memory works (governance violations must be zero) and the base of
policy what-ifs on history. The loop is over weeks, each depending on the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from workbench.balances import invoice_balances
from workbench.dunning import CUSTOMER_FACING, contact_log, conversations
from workbench.governance import violations
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.recommend import recommendations
from workbench.schema import TABLES
from workbench.worklist import assign_capacity, ranked

SENT_CHANNELS = (*CUSTOMER_FACING, "agency", "legal")
"""Channels whose actions the replay records as contacts."""

ACTION_COLUMNS = (
    "week", "customer_id", "collector", "step", "channel", "tone", "covered_amount",
    "invoice_ids", "reason",
)  # fmt: skip


@dataclass(frozen=True)
class Replay:
    """What a replay produced.

    - weeks: one row per week: week, actions, customer_facing (actions sent to customers),
      handovers, excluded, amount_chased (covered amount of the dunning actions, currency),
      customers_contacted, plus one column per step (actions at that step);
    - actions: every action of every week (:data:`ACTION_COLUMNS`);
    - contacts: the contacts the replay sent (canonical contacts columns);
    - violations: governance violations of those contacts (:mod:`workbench.governance`) and
      proportionality violations of the actions; must be empty;
    - per_customer: contacts per customer over the replay (customer_id, contacts, messages).
    """

    weeks: pl.DataFrame
    actions: pl.DataFrame
    contacts: pl.DataFrame
    violations: pl.DataFrame
    per_customer: pl.DataFrame


def _with_contacts(portfolio: Portfolio, contacts: pl.DataFrame) -> Portfolio:
    """``portfolio`` with its contacts table replaced (already validated rows)."""
    frames = dict(portfolio.frames) | {"contacts": contacts}
    return Portfolio(
        frames=frames, present=portfolio.present | {"contacts"}, sources=portfolio.sources
    )


def _week_actions(
    portfolio: Portfolio, day: date, policy: Policy, scores
) -> tuple[pl.DataFrame, int]:
    """The week's actions after ranking and capacity (:data:`ACTION_COLUMNS`), and the number
    of excluded customers."""
    recs = recommendations(portfolio, day, policy, scores(portfolio, day) if scores else None)
    actions = assign_capacity(ranked(recs.filter(pl.col("status") != "excluded")), policy)
    ids = pl.col("invoices").list.eval(pl.element().struct.field("invoice_id"))
    out = actions.with_columns(week=pl.lit(day), invoice_ids=ids).select(ACTION_COLUMNS)
    return out, recs.filter(pl.col("status") == "excluded").height


def _as_contacts(actions: pl.DataFrame, week_number: int) -> pl.DataFrame:
    """The sent actions as canonical contacts, one row per invoice covered."""
    sent = actions.filter(pl.col("channel").is_in(SENT_CHANNELS)).with_row_index("_n", offset=1)
    rows = sent.explode("invoice_ids").with_columns(
        contact_id=pl.format("RP{}-{}-{}", pl.lit(week_number), pl.col("_n"),
                             pl.int_range(pl.len()).over("_n")),
        contact_date=pl.col("week"),
        outcome=pl.lit(None, pl.String),
        invoice_id=pl.col("invoice_ids"),
    )  # fmt: skip
    schema = TABLES["contacts"].polars_schema
    return rows.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _proportionality(actions: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Letters and registered letters below their minimum amounts (violations)."""
    rules = policy.escalation
    c = pl.col
    small = ((c("channel") == "letter") & (c("covered_amount") < rules.letter_min_amount)) | (
        (c("channel") == "registered_letter")
        & (c("covered_amount") < rules.formal_notice_min_amount)
    )
    return actions.filter(small).select(
        rule=pl.lit("proportionality"), customer_id="customer_id", contact_date="week",
        detail=pl.format("{} for {}", c("channel"), c("covered_amount")),
    )  # fmt: skip


def _weekly_figures(actions: pl.DataFrame, excluded: dict[date, int]) -> pl.DataFrame:
    c = pl.col
    dunning = ~c("step").is_in(
        ["resolve_dispute", "thank_you", "write_off_review", "small_balance_review"]
    )
    weeks = actions.group_by("week").agg(
        actions=pl.len(),
        customer_facing=c("channel").is_in(CUSTOMER_FACING).sum(),
        handovers=c("channel").is_in(["agency", "legal"]).sum(),
        amount_chased=c("covered_amount").filter(dunning).sum().round(2),
        customers_contacted=c("customer_id").filter(c("channel").is_in(CUSTOMER_FACING)).n_unique(),
    )
    steps = actions.pivot(on="step", index="week", values="customer_id", aggregate_function="len")
    days = pl.DataFrame({"week": list(excluded), "excluded": list(excluded.values())})
    return (
        days.join(weeks, on="week", how="left")
        .join(steps, on="week", how="left")
        .fill_null(0)
        .sort("week")
    )


def replay(
    portfolio: Portfolio,
    start: date,
    end: date,
    policy: Policy = DEFAULT_POLICY,
    scores: Callable[[Portfolio, date], pl.DataFrame] | None = None,
    progress: Callable[[date], None] | None = None,
) -> Replay:
    """Run the engine every 7 days from ``start`` to ``end`` (see the module docstring).

    ``scores(portfolio, day)``: the model's probabilities as of ``day`` (else the fallback).
    """
    history = portfolio.frames["contacts"].filter(pl.col("contact_date") < start)
    sent: list[pl.DataFrame] = []
    weekly: list[pl.DataFrame] = []
    excluded: dict[date, int] = {}
    day, n = start, 0
    while day <= end:
        current = _with_contacts(portfolio, pl.concat([history, *sent]))
        actions, excluded[day] = _week_actions(current, day, policy, scores)
        weekly.append(actions)
        sent.append(_as_contacts(actions, n))
        if progress:
            progress(day)
        day, n = day + timedelta(days=7), n + 1
    actions = pl.concat(weekly)
    contacts = pl.concat(sent)
    final = _with_contacts(portfolio, pl.concat([history, contacts]))
    log = contact_log(final, end).collect().lazy()
    settled = invoice_balances(final, end, policy).select("invoice_id", "settlement_date")
    found = violations(
        log, conversations(final, end, policy), final.payments, start, policy, settled
    )
    found = pl.concat([found, _proportionality(actions, policy)]).sort(
        "contact_date", "customer_id"
    )
    per_customer = (
        log.filter(pl.col("contact_date") >= start, pl.col("outbound"))
        .group_by("customer_id")
        .agg(contacts=pl.len(), messages=pl.struct("contact_date", "channel", "step").n_unique())
        .sort("customer_id")
        .collect()
    )
    return Replay(_weekly_figures(actions, excluded), actions, contacts, found, per_customer)


REPLAY_OUTPUTS = (
    "weeks.csv", "actions.csv", "contacts.csv", "violations.csv", "per_customer.csv", "summary.json",
)  # fmt: skip


def replay_summary(result: Replay, start: date, end: date) -> dict:
    """The replay's headline figures (JSON-ready)."""
    weeks = result.weeks
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "weeks": weeks.height,
        "actions": result.actions.height,
        "contacts_sent": result.contacts.height,
        "customer_facing_actions": int(weeks["customer_facing"].sum()) if weeks.height else 0,
        "handovers": int(weeks["handovers"].sum()) if weeks.height else 0,
        "amount_chased": round(float(weeks["amount_chased"].sum()), 2) if weeks.height else 0.0,
        "max_messages_per_customer": int(result.per_customer["messages"].max() or 0),
        "violations": result.violations.height,
        "violations_by_rule": dict(
            result.violations.group_by("rule").len().sort("rule").iter_rows()
        ),
    }


def write_replay(
    portfolio: Portfolio,
    start: date,
    end: date,
    policy: Policy,
    out: str | Path,
    echo: Callable[[str], None] | None = None,
) -> dict:
    """Run :func:`replay` and write :data:`REPLAY_OUTPUTS` into ``out`` atomically
    (:func:`workbench.files.atomic_outputs`: each file renamed into ``out`` when all are
    written, ``summary.json`` last; other files of ``out`` are kept; a concurrent run on ``out``
    is refused). Returns the summary."""
    import json

    from workbench.export import csv_safe
    from workbench.files import atomic_outputs, output_lock

    out = Path(out).absolute()
    with output_lock(out):  # refuse a concurrent run before the weeks of work
        progress = (lambda d: echo(f"week of {d}")) if echo else None
        result = replay(portfolio, start, end, policy, progress=progress)
        summary = replay_summary(result, start, end)
        with atomic_outputs(out, last=("summary.json",)) as tmp:
            result.weeks.write_csv(tmp / "weeks.csv")
            actions = result.actions.with_columns(pl.col("invoice_ids").list.join(" "))
            csv_safe(actions).write_csv(tmp / "actions.csv")
            csv_safe(result.contacts).write_csv(tmp / "contacts.csv")
            csv_safe(result.violations).write_csv(tmp / "violations.csv")
            result.per_customer.write_csv(tmp / "per_customer.csv")
            text = json.dumps(summary, indent=2) + "\n"
            (tmp / "summary.json").write_text(text, encoding="utf-8")
    return summary
