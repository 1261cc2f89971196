"""An independent checker of the dunning rules (dunning memory, shelters, governance; issue 8).

Every rule is recomputed here with plain polars from the raw tables of a
:class:`workbench.portfolio.Portfolio` and compared with what the engine returned
(:func:`workbench.recommend.recommendations` and :func:`workbench.worklist.build_worklist`).
Nothing here goes through the package functions being checked: open balances, days past due,
contact steps, reached steps, shelters, promise and plan status, conversations and messages are
all recomputed. From the engine output only the customer's behaviour ``segment`` is taken (for the
segment delay), as the segmentation is not a dunning rule.

Each ``check_*`` function returns the violations of one rule as a DataFrame with the columns
customer_id, rule, detail (one row per violation), empty when the rule holds.
:func:`engine_violations` runs every check on an engine output at one as-of date,
:func:`history_violations` every check (H1-H7) on a contact history.

Readings of the specification where it leaves room (what a demanding credit manager expects):

- A contact is "before the due date" of its invoice when contact_date < due_date (strictly).
- Shelters are applied one after the other on what is still chased, each never more than it
  covers: linked pending promises and active on-track plans naming invoices (in full), then the
  customer's unlinked pending promises (one pool, oldest first), then its active on-track plans
  naming no invoice (one pool of their totals, over the invoices due before the latest agreed
  date), then unapplied cash (a payment of exactly an open invoice's balance pays that invoice,
  the rest oldest first). Checks that depend on amounts partly sheltered by a
  pool (unlinked promise, unnamed plan, unapplied cash) are run, but the "an invoice was left
  out" checks skip those customers, where the allocation order is a reading.
- A plan is visible and active from its agreed date (or, when null, its first instalment) to its
  last instalment + plan grace: the spec says "active while first instalment <= A", but a plan
  agreed and not yet started is on track, and nobody chases an invoice just put on a schedule.
  Missed instalments follow the existing rule of ``features._plans`` (the customer's payments
  dated from the first instalment - plan grace); an unapplied payment equal to the balance of
  an invoice the plan does not name pays that invoice, not the plan.
- Hand-over kind (legal, agency, write-off review): by the customer's chased amount, as the spec
  says (not the amount of the invoices handed over).
- Formal notice pending (governance 1) forbids every customer-facing action and every hand-over
  (agency, legal, write-off review); internal work that sends nothing (resolve_dispute,
  small_balance_review) is not a violation.
- The amount an action covers (proportionality) is the sum of the chased amounts of its overdue
  invoices plus the open amount of its pre-due invoices (a pre-due reminder covers open,
  not-yet-due money).
- Small balance: applies when something is chased (chased amount > tolerance) and the customer's
  chased amount is below amounts.small_balance: no dunning step (cadence or hand-over) then.
- "Within repeat_after_days": a message dated less than repeat_after_days before A.
- A conversation on the same day as a formal step counts as "before" it (the pause applies).
- Short payment: "no contact on the invoice followed its last payment" means no contact with that
  invoice_id dated after the last payment applied to it.
- Broken promises and missed instalments (escalation) only ever allow more (the
  broken_promise_min_step floor waives the dpd gate up to that step), never less.
- H4 (history): a cadence contact on an invoice whose earlier contacts (earlier dates, same
  invoice_id) already reached its rank or more is a repeat; exceptions: a personal_contact after
  a payment on the invoice (the short-payment question), legal after agency (both rank 6), and a
  call whose outcome is plan_agreed (the customer's agreement, not a dunning step).
- H7 (history): the open amount of a letter is that of its invoices at the start of its day
  (movements dated before it); a customer-level letter uses the customer's overdue open amount.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import polars as pl

from workbench.policy import DEFAULT_POLICY

c = pl.col

CUSTOMER_FACING = ("email", "sms", "phone", "letter", "registered_letter")
RANK = {
    "light_reminder": 1,
    "personal_contact": 2,
    "solution_offer": 3,
    "last_notice": 4,
    "formal_notice": 5,
    "agency": 6,
    "legal": 6,
}
CADENCE = ("light_reminder", "personal_contact", "solution_offer", "last_notice", "formal_notice")
STEP_OF_RANK = {i + 1: s for i, s in enumerate(CADENCE)}
HANDOVER = ("agency", "legal", "write_off_review")
FORMAL_STEPS = ("formal_notice", "agency", "legal")
DUNNING = (*CADENCE, "agency", "legal")
AMICABLE = CADENCE[:4]

VIOLATIONS = pl.Schema({"customer_id": pl.String, "rule": pl.String, "detail": pl.String})


def no_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATIONS)


def _found(frame: pl.DataFrame, rule: str, detail: pl.Expr) -> pl.DataFrame:
    """The violation rows of ``frame`` (already filtered to the offending rows)."""
    if frame.height == 0:
        return no_violations()
    return frame.select(
        c("customer_id").cast(pl.String), rule=pl.lit(rule), detail=detail.cast(pl.String)
    )


def _cents(amount: pl.Expr) -> pl.Expr:
    return (amount * 100).round().cast(pl.Int64)


def _days(later: pl.Expr | date, earlier: pl.Expr | date) -> pl.Expr:
    later = pl.lit(later) if isinstance(later, date) else later
    earlier = pl.lit(earlier) if isinstance(earlier, date) else earlier
    return (later - earlier).dt.total_days()


def _plus(day: pl.Expr, days: int | pl.Expr) -> pl.Expr:
    return day + (pl.duration(days=days) if isinstance(days, pl.Expr) else timedelta(days=days))


def _money(cents_expr: pl.Expr) -> pl.Expr:
    return (cents_expr / 100).round(2).cast(pl.String)


# --- contact steps and messages ----------------------------------------------------------------


def contact_steps(portfolio: Any, as_of: date | None = None) -> pl.DataFrame:
    """The contacts dated <= as_of (all when None) with ``step`` (recorded, else inferred by the
    spec's rule), ``rank`` (cadence rank, null for pre_due, thank_you, resolve_dispute),
    ``outbound`` (customer-facing channel and outcome not dispute_raised) and ``conversation``
    is not set here (see :func:`conversations`)."""
    contacts = portfolio.contacts
    if as_of is not None:
        contacts = contacts.filter(c("contact_date") <= as_of)
    dues = portfolio.invoices.select("invoice_id", inv_due="due_date")
    written = c("channel").is_in(["email", "sms"])
    inferred = (
        pl.when(c("outcome") == "dispute_raised")
        .then(pl.lit("resolve_dispute"))
        .when(c("outcome") == "plan_agreed")
        .then(pl.lit("solution_offer"))
        .when(c("channel") == "registered_letter")
        .then(pl.lit("formal_notice"))
        .when(c("channel") == "agency")
        .then(pl.lit("agency"))
        .when(c("channel") == "legal")
        .then(pl.lit("legal"))
        .when(c("channel") == "letter")
        .then(pl.lit("last_notice"))
        .when(c("channel") == "phone")
        .then(pl.lit("personal_contact"))
        .when(written & (c("contact_date") < c("inv_due")).fill_null(False))
        .then(pl.lit("pre_due"))
        .otherwise(pl.lit("light_reminder"))
    )
    return (
        contacts.join(dues, on="invoice_id", how="left")
        .with_columns(step=pl.coalesce(c("step"), inferred))
        .with_columns(
            rank=c("step").replace_strict(RANK, default=None, return_dtype=pl.Int64),
            outbound=c("channel").is_in(CUSTOMER_FACING)
            & c("outcome").ne_missing("dispute_raised"),
        )
        .drop("inv_due")
        .collect()
    )


def messages(steps: pl.DataFrame) -> pl.DataFrame:
    """The messages: distinct (customer_id, contact_date, channel, step) of outbound
    customer-facing contacts, with the sorted list of their invoices (``invoice_key``: the ids
    joined by ``|``, empty for a customer-level message)."""
    return (
        steps.filter(c("outbound"))
        .group_by("customer_id", "contact_date", "channel", "step")
        .agg(invoice_ids=c("invoice_id").drop_nulls().unique().sort())
        .with_columns(invoice_key=c("invoice_ids").list.join("|"))
        .sort("customer_id", "contact_date", "channel", "step")
    )


def conversations(
    portfolio: Any, steps: pl.DataFrame, as_of: date | None, policy: Any
) -> pl.DataFrame:
    """customer_id, conversation_date: contacts with a conversation outcome, promises made
    (promise_date), plans agreed (agreed_date), dated <= as_of."""
    outcomes = list(policy.contact.conversation_outcomes)
    limit = (lambda e: e <= as_of) if as_of is not None else (lambda e: e.is_not_null())
    talked = steps.filter(c("outcome").is_in(outcomes)).select(
        "customer_id", conversation_date="contact_date", contact_id="contact_id"
    )
    promised = (
        portfolio.promises.filter(limit(c("promise_date")))
        .select("customer_id", conversation_date="promise_date", contact_id=pl.lit(None, pl.String))
        .collect()
    )
    agreed = (
        portfolio.payment_plans.filter(c("agreed_date").is_not_null() & limit(c("agreed_date")))
        .select("customer_id", conversation_date="agreed_date", contact_id=pl.lit(None, pl.String))
        .unique()
        .collect()
    )
    return pl.concat([talked, promised, agreed], how="vertical_relaxed")


# --- facts as of A -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Everything recomputed from the raw tables as of ``as_of``.

    - invoices: one row per invoice issued <= as_of: invoice_id, customer_id, due_date,
      amount_c, open_c (cents), is_open, dpd, n_payments, last_payment, disputed, handed_over,
      promised (linked pending promise), planned (active on-track plan naming it), sheltered_c,
      chased_c, chased, short_paid, contact_after_payment, r, d (reached rank and date),
      notice_date, deadline (formal notice + postal + answer days), pre_due_date, ambiguous
      (its customer has a pooled shelter);
    - steps, messages, conversations: see the functions of the same names;
    - promises: one row per promise made <= as_of with paid_c, deadline and status;
    - plans: one row per plan visible at as_of with first, last, start, total_c, invoice_ids,
      missed, active, on_track;
    - customers: customer_id, strategic, open_c, chased_c, credit_c (received beyond the
      invoices' amounts), cash_c (unapplied cash), last_outbound, week_messages,
      last_conversation, notice_deadline (latest over its open invoices), escalated, ambiguous.
    """

    as_of: date
    policy: Any
    invoices: pl.DataFrame
    steps: pl.DataFrame
    messages: pl.DataFrame
    conversations: pl.DataFrame
    promises: pl.DataFrame
    plans: pl.DataFrame
    customers: pl.DataFrame


def promise_facts(portfolio: Any, as_of: date, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """One row per promise made <= as_of: promise_id, customer_id, invoice_id, amount_c,
    promise_date, promised_date, deadline (promised_date + grace), paid_c and status (kept,
    pending, broken) by the spec: a linked promise counts the payments applied to its invoice and
    the customer's unapplied payments, an unlinked one all the customer's payments, dated in
    [promise_date, min(deadline, as_of)]."""
    tol = round(policy.amounts.open_tolerance * 100)
    grace = policy.behaviour.promise_grace_days
    promises = (
        portfolio.promises.filter(c("promise_date") <= as_of)
        .collect()
        .with_columns(deadline=_plus(c("promised_date"), grace), amount_c=_cents(c("amount")))
    )
    pays = (
        portfolio.payments.filter(c("payment_date") <= as_of)
        .select(
            "customer_id", "payment_id", "invoice_id", pay_date="payment_date",
            pay_c=_cents(c("amount")),
        )  # fmt: skip
        .collect()
    )
    # a promise on an invoice counts the payments applied to it and the unapplied ones (maybe
    # the promised payment, not yet matched); a promise without an invoice, every payment. An
    # unapplied payment counts once: for the promise with the earliest deadline (then id) whose
    # window holds it
    counts = (
        c("invoice_id").is_null()
        | c("pay_invoice").is_null()
        | (c("pay_invoice") == c("invoice_id"))
    )
    paid = (
        promises.select("promise_id", "customer_id", "invoice_id", "promise_date", "deadline")
        .join(pays.rename({"invoice_id": "pay_invoice"}), on="customer_id")
        .filter(counts)
        .filter(c("pay_date").is_between(c("promise_date"), c("deadline")))
        .with_columns(
            _order=pl.struct("deadline", "promise_id").rank("ordinal").over("payment_id")
        )
        .filter(c("pay_invoice").is_not_null() | (c("_order") == 1))
        .group_by("promise_id")
        .agg(paid_c=c("pay_c").sum())
    )
    return (
        promises.join(paid, on="promise_id", how="left")
        .with_columns(paid_c=c("paid_c").fill_null(0))
        .with_columns(
            status=pl.when(c("paid_c") >= c("amount_c") - tol)
            .then(pl.lit("kept"))
            .when(pl.lit(as_of) <= c("deadline"))
            .then(pl.lit("pending"))
            .otherwise(pl.lit("broken"))
        )
        .select(
            "promise_id",
            "customer_id",
            "invoice_id",
            "amount_c",
            "promise_date",
            "promised_date",
            "deadline",
            "paid_c",
            "status",
        )
    )


def plan_facts(
    portfolio: Any, as_of: date, pairs: pl.DataFrame, policy: Any = DEFAULT_POLICY
) -> pl.DataFrame:
    """One row per plan visible at as_of (agreed_date, else first instalment, <= as_of).
    ``pairs`` (payment_id, invoice_id): the unapplied payments that pay an invoice to the cent
    (:func:`cash_pairs`)."""
    tol = round(policy.amounts.open_tolerance * 100)
    grace = policy.behaviour.plan_grace_days
    rows = portfolio.payment_plans.collect()
    plans = (
        rows.group_by("plan_id")
        .agg(
            customer_id=c("customer_id").first(),
            first=c("instalment_date").min(),
            last=c("instalment_date").max(),
            agreed=c("agreed_date").drop_nulls().min(),
            total_c=_cents(c("amount")).sum(),
            invoice_ids=c("invoice_id").drop_nulls().unique().sort(),
        )
        .with_columns(start=pl.coalesce("agreed", "first"))
        .filter(c("start") <= as_of)
    )
    pays = (
        portfolio.payments.filter(c("payment_date") <= as_of)
        .select(
            "customer_id", "payment_id", "payment_date", "invoice_id", pay_c=_cents(c("amount"))
        )
        .collect()
    )
    # a payment pays a plan when it falls in its window and is applied to an invoice the plan
    # names, or is unapplied (and pays no other invoice to the cent), or the plan names no
    # invoice; one plan per payment: the latest agreed on or before the payment's date, else
    # the earliest agreed after it, then plan_id
    pays = pays.join(
        pairs.select("payment_id", _paired="invoice_id"), on="payment_id", how="left"
    ).with_columns(invoice_id=pl.coalesce("invoice_id", "_paired"))
    named = plans.select("plan_id", "invoice_ids").explode("invoice_ids").drop_nulls()
    candidates = (
        plans.select(
            "plan_id", "customer_id", "first", "start", n_named=c("invoice_ids").list.len()
        )
        .join(pays, on="customer_id")
        .filter(c("payment_date") >= _plus(c("first"), -grace))
        .join(
            named.rename({"invoice_ids": "invoice_id"}).with_columns(names_it=pl.lit(True)),
            on=["plan_id", "invoice_id"],
            how="left",
        )
        .filter(c("invoice_id").is_null() | (c("n_named") == 0) | c("names_it").fill_null(False))
    )
    before = candidates.filter(c("start") <= c("payment_date"))
    chosen = pl.concat(
        [
            before.sort("start", "plan_id", descending=[True, False])
            .group_by("payment_id")
            .first(),
            candidates.join(before.select("payment_id").unique(), on="payment_id", how="anti")
            .sort("start", "plan_id")
            .group_by("payment_id")
            .first(),
        ]
    )
    paid = chosen.group_by("plan_id").agg(paid_c=c("pay_c").sum(), paid_by=c("payment_id"))
    missed = (
        rows.join(plans.select("plan_id"), on="plan_id")
        .sort("plan_id", "instalment_date")
        .with_columns(due_c=_cents(c("amount")).cum_sum().over("plan_id"))
        .join(paid, on="plan_id", how="left")
        .with_columns(paid_c=c("paid_c").fill_null(0))
        .group_by("plan_id")
        .agg(
            missed=(
                (_plus(c("instalment_date"), grace) < as_of) & (c("due_c") - c("paid_c") > tol)
            ).sum()
        )
    )
    return (
        plans.join(missed, on="plan_id", how="left")
        .join(paid.select("plan_id", "paid_by"), on="plan_id", how="left")
        .with_columns(missed=c("missed").fill_null(0))
        .with_columns(
            # reading: a plan shelters from its agreement (the spec says from its first
            # instalment): nobody chases an invoice the day after agreeing a schedule for it
            active=(c("start") <= as_of) & (pl.lit(as_of) <= _plus(c("last"), grace)),
        )
        .with_columns(on_track=c("active") & (c("missed") == 0))
        .sort("plan_id")
    )


def _allocate(invoices: pl.DataFrame, pools: pl.DataFrame, eligible: pl.Expr) -> pl.DataFrame:
    """Shelter ``remaining_c`` of the eligible invoices oldest first (due_date, invoice_id) up
    to each customer's ``pool_c``; invoices sorted by customer_id, due_date, invoice_id."""
    return (
        invoices.join(pools, on="customer_id", how="left")
        .with_columns(pool_c=c("pool_c").fill_null(0))
        .with_columns(_base=pl.when(eligible).then(c("remaining_c")).otherwise(0))
        .with_columns(_before=c("_base").cum_sum().over("customer_id") - c("_base"))
        .with_columns(
            _take=pl.min_horizontal(c("_base"), (c("pool_c") - c("_before")).clip(lower_bound=0))
        )
        .with_columns(remaining_c=c("remaining_c") - c("_take"))
        .drop("pool_c", "_base", "_before", "_take")
    )


def cash_pairs(
    invoices: pl.DataFrame,
    pays: pl.DataFrame,
    applied: pl.DataFrame,
    credited: pl.DataFrame,
    disputed: pl.DataFrame,
    tol: int,
) -> pl.DataFrame:
    """invoice_id, payment_id, cents: every unapplied payment (of ``pays``, dated <= as_of)
    equal to the open balance of an open invoice of its customer (not disputed; handed over or
    not), in cents: the n-th such payment of an amount (by date, then id) with the n-th oldest
    invoice of that balance (due date, then id). Before any plan takes a payment."""
    nth = ["customer_id", "cents"]
    balances = (
        invoices.join(applied.select("invoice_id", "paid_c"), on="invoice_id", how="left")
        .join(credited, on="invoice_id", how="left")
        .join(disputed, on="invoice_id", how="left")
        .with_columns(c("paid_c", "credited_c").fill_null(0), c("disputed").fill_null(False))
        .with_columns(cents=(c("amount_c") - c("paid_c") - c("credited_c")).clip(lower_bound=0))
        .filter((c("cents") > tol) & ~c("disputed"))
        .sort("customer_id", "due_date", "invoice_id")
        .with_columns(n=c("invoice_id").cum_count().over(nth))
    )
    payments_n = (
        pays.filter(c("invoice_id").is_null())
        .with_columns(cents=_cents(c("amount")))
        .sort("payment_date", "payment_id")
        .with_columns(n=c("payment_id").cum_count().over(nth))
    )
    return balances.join(payments_n, on=[*nth, "n"]).select("invoice_id", "payment_id", "cents")


def build_facts(portfolio: Any, as_of: date, policy: Any = DEFAULT_POLICY) -> Facts:
    """Every fact the checks need, recomputed from the raw tables as of ``as_of``."""
    tol = round(policy.amounts.open_tolerance * 100)
    esc = policy.escalation
    notice_days = esc.notice_postal_days + esc.notice_answer_days
    invoices = (
        portfolio.invoices.filter(c("issue_date") <= as_of)
        .select("invoice_id", "customer_id", "issue_date", "due_date", amount_c=_cents(c("amount")))
        .collect()
    )
    pays = portfolio.payments.filter(c("payment_date") <= as_of).collect()
    applied = (
        pays.filter(c("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(
            paid_c=_cents(c("amount")).sum(),
            n_payments=pl.len(),
            last_payment=c("payment_date").max(),
        )
    )
    credited = (
        portfolio.credit_notes.filter(c("date") <= as_of)
        .group_by("invoice_id")
        .agg(credited_c=_cents(c("amount")).sum())
        .collect()
    )
    disputed = (
        portfolio.disputes.filter(
            c("opened_date") <= as_of, c("resolved_date").is_null() | (c("resolved_date") > as_of)
        )
        .select("invoice_id")
        .unique()
        .with_columns(disputed=pl.lit(True))
        .collect()
    )
    steps = contact_steps(portfolio, as_of)
    # a contact about an invoice dated before its due date is its pre-due reminder, whatever
    # the message's step: it never makes the invoice reach a cadence step
    dues = invoices.select("invoice_id", _due="due_date")
    named = (
        steps.filter(c("invoice_id").is_not_null())
        .join(dues, on="invoice_id", how="left")
        .with_columns(
            _early=(c("contact_date") < c("_due")).fill_null(False),
        )
        .with_columns(rank=pl.when(~c("_early")).then(c("rank")))
    )
    about = pl.concat(
        [
            named.select("invoice_id", "contact_date", "step", "rank"),
            steps.filter(c("invoice_id").is_null())
            .select("customer_id", "contact_date", "step", "rank")
            .join(invoices.select("invoice_id", "customer_id", "due_date"), on="customer_id")
            .filter(c("contact_date") > c("due_date"))
            .select("invoice_id", "contact_date", "step", "rank"),
        ]
    )
    reached = about.group_by("invoice_id").agg(
        r=c("rank").max(),
        d=c("contact_date").filter(c("rank") == c("rank").max()).max(),
        notice_date=c("contact_date").filter(c("step") == "formal_notice").max(),
        handed_over=c("step").is_in(["agency", "legal"]).any(),
        last_about=c("contact_date").max(),
    )
    on_invoice = (
        named.group_by("invoice_id")
        .agg(
            pre_due_date=c("contact_date").filter((c("step") == "pre_due") | c("_early")).max(),
            last_contact_on=c("contact_date").max(),
        )
    )
    promises = promise_facts(portfolio, as_of, policy)
    pending = promises.filter(c("status") == "pending")
    linked = (
        pending.filter(c("invoice_id").is_not_null())
        .select("invoice_id")
        .unique()
        .with_columns(promised=pl.lit(True))
    )
    pairs = cash_pairs(invoices, pays, applied, credited, disputed, tol)
    plans = plan_facts(portfolio, as_of, pairs, policy)
    named = (
        plans.filter(c("on_track"))
        .select("invoice_ids")
        .explode("invoice_ids")
        .drop_nulls()
        .unique()
        .select(invoice_id="invoice_ids", planned=pl.lit(True))
    )
    share = policy.cadence.short_payment_max_share
    frame = (
        invoices.join(applied, on="invoice_id", how="left")
        .join(credited, on="invoice_id", how="left")
        .join(disputed, on="invoice_id", how="left")
        .join(reached, on="invoice_id", how="left")
        .join(on_invoice, on="invoice_id", how="left")
        .join(linked, on="invoice_id", how="left")
        .join(named, on="invoice_id", how="left")
        .with_columns(
            c("paid_c", "credited_c", "n_payments").fill_null(0),
            c("disputed", "handed_over", "promised", "planned").fill_null(False),
        )
        .with_columns(open_c=(c("amount_c") - c("paid_c") - c("credited_c")).clip(lower_bound=0))
        .with_columns(
            is_open=c("open_c") > tol,
            dpd=_days(as_of, c("due_date")),
            deadline=_plus(c("notice_date"), notice_days),
        )
        .with_columns(
            chaseable=c("is_open") & (c("dpd") > 0) & ~c("disputed") & ~c("handed_over"),
            short_paid=c("is_open")
            & (c("n_payments") > 0)
            & (c("open_c") <= share * c("amount_c")),
            contact_after_payment=(c("last_contact_on") > c("last_payment")).fill_null(False),
            # a formal notice answered in part: a payment on the invoice on or after the notice's
            # day, and no contact about it (named, or to the customer after its due date) since
            # the notice: one call about the rest before the hand-over
            answered=(
                (c("r") == RANK["formal_notice"])
                & (c("last_payment") >= c("d"))
                & ~(c("last_about") > c("d")).fill_null(False)
            ).fill_null(False),
        )
        .with_columns(
            remaining_c=pl.when(c("chaseable") & ~c("promised") & ~c("planned"))
            .then(c("open_c"))
            .otherwise(0)
        )
        .sort("customer_id", "due_date", "invoice_id")
    )
    # pooled shelters, one after the other on what is still chased
    unlinked_pool = (
        pending.filter(c("invoice_id").is_null())
        .group_by("customer_id")
        .agg(pool_c=c("amount_c").sum())
    )
    frame = _allocate(frame, unlinked_pool, c("chaseable"))
    unnamed = plans.filter(c("on_track") & (c("invoice_ids").list.len() == 0))
    unnamed_pool = unnamed.group_by("customer_id").agg(
        pool_c=c("total_c").sum(), _agreed=c("start").max()
    )
    frame = frame.join(unnamed_pool.select("customer_id", "_agreed"), on="customer_id", how="left")
    frame = _allocate(
        frame,
        unnamed_pool.select("customer_id", "pool_c"),
        c("chaseable") & (c("due_date") < c("_agreed")),
    ).drop("_agreed")
    # an unapplied payment paying an instalment of a plan on track is that plan's, not cash;
    # one paying an invoice to the cent (and no such plan) shelters that invoice alone
    instalments = plans.filter(c("on_track")).select(payment_id="paid_by").explode("payment_id")
    cash = (
        pays.filter(c("invoice_id").is_null())
        .join(instalments.drop_nulls(), on="payment_id", how="anti")
        .with_columns(cents=_cents(c("amount")))
    )
    unapplied = cash.group_by("customer_id").agg(pool_c=c("cents").sum())
    matched = pairs.join(cash.select("payment_id"), on="payment_id")
    frame = (
        frame.join(matched.select("invoice_id", matched_c="cents"), on="invoice_id", how="left")
        .with_columns(
            remaining_c=pl.when(c("matched_c").is_not_null())
            .then((c("remaining_c") - c("matched_c")).clip(lower_bound=0))
            .otherwise(c("remaining_c"))
        )
        .sort("customer_id", "due_date", "invoice_id")
    )
    pool = (
        cash.join(matched.select("payment_id"), on="payment_id", how="anti")
        .group_by("customer_id")
        .agg(pool_c=c("cents").sum())
    )
    frame = _allocate(frame, pool, c("chaseable") & c("matched_c").is_null()).drop("matched_c")
    ambiguous = pl.concat(
        [
            unlinked_pool.select("customer_id"),
            unnamed_pool.select("customer_id"),
            unapplied.filter(c("pool_c") > 0).select("customer_id"),
        ]
    ).unique()
    frame = (
        frame.with_columns(
            chased_c=pl.when(c("chaseable")).then(c("remaining_c")).otherwise(0),
        )
        .with_columns(
            sheltered_c=pl.when(c("chaseable")).then(c("open_c") - c("chased_c")).otherwise(0),
            chased=c("chaseable") & (c("chased_c") > tol),
        )
        .join(ambiguous.with_columns(ambiguous=pl.lit(True)), on="customer_id", how="left")
        .with_columns(c("ambiguous").fill_null(False))
        .drop("remaining_c")
    )
    msgs = messages(steps)
    talks = conversations(portfolio, steps, as_of, policy)
    window = policy.contact.cap_window_days
    broken_days = esc.broken_promise_days
    # a broken promise replaced by a plan agreed since it was made (naming its invoice or no
    # invoice; any plan, for a promise naming none) does not escalate: the plan is followed
    replaced = (
        promises.filter(c("status") == "broken")
        .join(plans.select("customer_id", "start", "invoice_ids"), on="customer_id")
        .filter(
            (c("start") >= c("promise_date"))
            & (
                (c("invoice_ids").list.len() == 0)
                | c("invoice_id").is_null()
                | c("invoice_ids").list.contains(c("invoice_id"))
            )
        )
        .select("promise_id")
        .unique()
    )
    escalated = pl.concat(
        [
            promises.filter(
                (c("status") == "broken") & (_days(as_of, c("deadline")) <= broken_days)
            )
            .join(replaced, on="promise_id", how="anti")
            .select("customer_id"),
            plans.filter(c("missed") > 0).select("customer_id"),
        ]
    ).unique()
    per_invoice = frame.group_by("customer_id").agg(
        open_c=c("open_c").filter(c("is_open")).sum(),
        chased_total_c=c("chased_c").filter(c("chased")).sum(),
        # what invoices received beyond their amount (over-payments, large credit notes)
        credit_c=(c("paid_c") + c("credited_c") - c("amount_c")).clip(lower_bound=0).sum(),
    )
    per_invoice = per_invoice.join(
        unapplied.rename({"pool_c": "cash_c"}), on="customer_id", how="left"
    )
    # the notice hold is customer-level: a formal notice about an invoice still open, or about
    # none (a notice whose invoice is paid in full holds nothing more)
    still_open = frame.filter(c("is_open")).select("invoice_id")
    notices = (
        steps.filter(
            (c("step") == "formal_notice")
            & (c("invoice_id").is_null() | c("invoice_id").is_in(still_open["invoice_id"].implode()))
        )
        .group_by("customer_id")
        .agg(_notice=c("contact_date").max())
        .select(
            "customer_id",
            notice_deadline=c("_notice")
            + pl.duration(days=esc.notice_postal_days + esc.notice_answer_days),
        )
    )
    per_invoice = per_invoice.join(notices, on="customer_id", how="left")
    customers = (
        portfolio.customers.select("customer_id", "strategic")
        .collect()
        .with_columns(c("strategic").fill_null(False))
        .join(per_invoice, on="customer_id", how="left")
        .join(
            steps.filter(c("outbound"))
            .group_by("customer_id")
            .agg(last_outbound=c("contact_date").max()),
            on="customer_id",
            how="left",
        )
        .join(
            msgs.filter(_days(as_of, c("contact_date")).is_between(0, window - 1))
            .group_by("customer_id")
            .agg(week_messages=pl.len()),
            on="customer_id",
            how="left",
        )
        .join(
            talks.group_by("customer_id").agg(last_conversation=c("conversation_date").max()),
            on="customer_id",
            how="left",
        )
        .join(escalated.with_columns(escalated=pl.lit(True)), on="customer_id", how="left")
        .join(ambiguous.with_columns(ambiguous=pl.lit(True)), on="customer_id", how="left")
        .with_columns(
            c("open_c", "chased_total_c", "week_messages", "credit_c", "cash_c").fill_null(0),
            c("escalated", "ambiguous").fill_null(False),
        )
        .rename({"chased_total_c": "chased_c"})
    )
    return Facts(
        as_of=as_of,
        policy=policy,
        invoices=frame,
        steps=steps,
        messages=msgs,
        conversations=talks,
        promises=promises,
        plans=plans,
        customers=customers,
    )


# --- the engine output -------------------------------------------------------------------------


def engine_rows(recs: pl.DataFrame, detail: pl.DataFrame) -> pl.DataFrame:
    """The recommendation rows with ``final_channel``: the worklist detail's channel (after
    capacity) for actions and thank-you rows, the recommendation's channel otherwise."""
    final = detail.select("customer_id", final_channel="channel")
    # only the decision is read from the engine: its facts (notice dates, amounts it computed,
    # ...) are recomputed by the checker, never taken from the output under test
    allowed = (
        "customer_id", "status", "step", "channel", "tone", "exclusion", "reason", "invoices",
        "open_amount", "next_step", "next_date", "needs_approval", "strategic", "segment",
        "collector",
    )  # fmt: skip
    decision = recs.select([name for name in allowed if name in recs.columns])
    return decision.join(final, on="customer_id", how="left").with_columns(
        final_channel=pl.when(c("status") != "excluded")
        .then(pl.coalesce("final_channel", "channel"))
        .otherwise(c("channel"))
    )


def covered(out: pl.DataFrame, statuses: tuple[str, ...] = ("action",)) -> pl.DataFrame:
    """One row per (action, invoice it covers): customer_id, step, final_channel, segment,
    invoice_id."""
    rows = out.filter(c("status").is_in(list(statuses))).select(
        "customer_id", "step", "final_channel", "segment", "invoices"
    )
    return (
        rows.explode("invoices")
        .filter(c("invoices").is_not_null())
        .with_columns(invoice_id=c("invoices").struct.field("invoice_id"))
        .drop("invoices")
    )


def _delays(policy: Any) -> dict[str, int]:
    return {
        f.name: getattr(policy.cadence.delay_days, f.name)
        for f in fields(policy.cadence.delay_days)
    }


def _delay(policy: Any) -> pl.Expr:
    return (
        c("segment").replace_strict(_delays(policy), default=0, return_dtype=pl.Int64).fill_null(0)
    )


def _thresholds(policy: Any) -> dict[int, int]:
    return {RANK[step]: days for step, days in policy.cadence.step_bounds.items()}


def _waits(policy: Any) -> dict[int, int]:
    waits = policy.cadence.wait_days
    return {RANK[s]: getattr(waits, s) for s in AMICABLE}


def _with_gates(frame: pl.DataFrame, f: Facts) -> pl.DataFrame:
    """``frame`` (with invoice facts and a segment) plus: delay, E (dpd step rank, at least 1),
    next_threshold (dpd threshold of step r + 1), wait_r (wait of step r), waited, gate_ok, ready
    (strict: no escalation waiver), allowed (the highest rank the invoice's own step may have)."""
    policy, as_of = f.policy, f.as_of
    thr = _thresholds(policy)
    late = c("dpd") - c("delay")
    cap = RANK[policy.cadence.first_contact_max_step]
    floor = RANK.get(policy.escalation.broken_promise_min_step, 2)
    e_rank = pl.max_horizontal(
        pl.lit(1), pl.sum_horizontal([(late >= t).cast(pl.Int64) for t in thr.values()])
    )
    never = c("r").is_null()
    pre_wait = policy.cadence.wait_days.pre_due
    frame = frame.with_columns(delay=_delay(policy)).with_columns(
        E=e_rank,
        next_threshold=(c("r") + 1).replace_strict(thr, default=None, return_dtype=pl.Int64),
        wait_r=c("r").replace_strict(_waits(policy), default=None, return_dtype=pl.Int64),
        since_d=_days(as_of, c("d")),
    )
    frame = frame.with_columns(
        waited=pl.when(never)
        .then(c("pre_due_date").is_null() | (_days(as_of, c("pre_due_date")) >= pre_wait))
        .when(c("r").is_between(1, 4))
        .then(c("since_d") >= c("wait_r"))
        .when(c("answered"))
        .then(c("deadline") < as_of)
        .otherwise(pl.lit(False)),
        gate_ok=pl.when(never)
        .then(pl.lit(True))
        .when(c("r").is_between(1, 4))
        .then(late >= c("next_threshold"))
        .otherwise(c("answered")),
    )
    allowed = (
        pl.when(never)
        .then(
            pl.max_horizontal(
                pl.min_horizontal(c("E"), pl.lit(cap)),
                pl.when(c("escalated")).then(floor).otherwise(1),
            )
        )
        .when(c("r").is_between(1, 4))
        .then(c("r") + 1)
        .when(c("answered"))
        .then(pl.lit(RANK["personal_contact"], pl.Int64))
        .otherwise(pl.lit(None, pl.Int64))
    )
    short_cap = c("short_paid") & ~c("contact_after_payment")
    return frame.with_columns(
        ready=c("chased") & c("waited") & c("gate_ok"),
        allowed=pl.when(short_cap)
        .then(pl.min_horizontal(allowed, pl.lit(RANK["personal_contact"])))
        .otherwise(allowed),
        floor_waiver=c("escalated") & ((c("r").fill_null(0) + 1) <= floor),
    )


def _covered_facts(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Covered invoices of the action rows joined with their facts (left: unknown invoices have
    a null customer_of_invoice)."""
    cov = covered(out)
    inv = f.invoices.rename({"customer_id": "customer_of_invoice"})
    return (
        cov.join(inv, on="invoice_id", how="left")
        .join(f.customers.select("customer_id", "escalated"), on="customer_id", how="left")
        .with_columns(
            c("escalated").fill_null(False),
            step_rank=c("step").replace_strict(RANK, default=None, return_dtype=pl.Int64),
        )
    )


# --- checks on the engine output ---------------------------------------------------------------


def _facing(out: pl.DataFrame) -> pl.Expr:
    return c("status").is_in(["action", "thank_you"]) & c("final_channel").is_in(CUSTOMER_FACING)


def check_formal_notice_deadline(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 1: while a formal notice deadline (notice + postal + answer days) of an open
    invoice is >= A, nothing customer-facing and no hand-over; the exclusion "formal notice sent"
    only then, with next_date = latest deadline + 1."""
    rows = out.join(
        f.customers.select("customer_id", "notice_deadline"), on="customer_id", how="left"
    )
    pending = c("notice_deadline") >= f.as_of
    sent = rows.filter(
        pending & (_facing(out) | ((c("status") == "action") & c("step").is_in(HANDOVER)))
    )
    wrong_date = rows.filter(
        (c("exclusion") == "formal notice sent")
        & (~pending.fill_null(False) | c("next_date").ne_missing(_plus(c("notice_deadline"), 1)))
    )
    return pl.concat(
        [
            _found(
                sent,
                "formal notice pending",
                pl.format(
                    "{} by {} while the notice deadline {} is not passed",
                    c("step"),
                    c("final_channel"),
                    c("notice_deadline"),
                ),
            ),
            _found(
                wrong_date,
                "formal notice pending",
                pl.format(
                    "excluded 'formal notice sent' with next_date {}, latest notice deadline {}",
                    c("next_date"),
                    c("notice_deadline"),
                ),
            ),
        ]
    )


def check_min_gap(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 2 (and 7): a customer-facing action needs A - last outbound customer-facing
    contact >= min_gap_days; "contacted recently" means exactly that, next_date >= last + gap."""
    gap = f.policy.contact.min_gap_days
    rows = out.join(
        f.customers.select("customer_id", "last_outbound"), on="customer_id", how="left"
    )
    recent = (_days(f.as_of, c("last_outbound")) < gap).fill_null(False)
    too_soon = rows.filter(_facing(out) & recent)
    wrong = rows.filter(
        (c("exclusion") == "contacted recently")
        # the next date is at least last + gap (later when another rule, e.g. the cap, holds too)
        & (~recent | c("next_date").is_null() | (c("next_date") < _plus(c("last_outbound"), gap)))
    )
    return pl.concat(
        [
            _found(
                too_soon,
                "min gap",
                pl.format(
                    "{} by {} {} days after the contact of {}",
                    c("step"),
                    c("final_channel"),
                    _days(f.as_of, c("last_outbound")),
                    c("last_outbound"),
                ),
            ),
            _found(
                wrong,
                "min gap",
                pl.format(
                    "excluded 'contacted recently' with next_date {}, last outbound contact {}",
                    c("next_date"),
                    c("last_outbound"),
                ),
            ),
        ]
    )


def check_weekly_cap(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 3 (and 7): fewer than max_per_week messages in (A - cap_window_days, A]."""
    cap = f.policy.contact.max_per_week
    rows = out.join(
        f.customers.select("customer_id", "week_messages"), on="customer_id", how="left"
    ).with_columns(c("week_messages").fill_null(0))
    over = rows.filter(_facing(out) & (c("week_messages") >= cap))
    wrong = rows.filter((c("exclusion") == "capped") & (c("week_messages") < cap))
    return pl.concat(
        [
            _found(
                over,
                "weekly cap",
                pl.format(
                    "{} by {} after {} messages in the cap window",
                    c("step"),
                    c("final_channel"),
                    c("week_messages"),
                ),
            ),
            _found(
                wrong,
                "weekly cap",
                pl.format(
                    "excluded 'capped' with only {} messages in the cap window", c("week_messages")
                ),
            ),
        ]
    )


def check_conversation_pause(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 4: no formal_notice, agency or legal while A - last conversation <
    after_conversation_days; "in conversation" then, next_date = conversation + that."""
    days = f.policy.contact.after_conversation_days
    rows = out.join(
        f.customers.select("customer_id", "last_conversation"), on="customer_id", how="left"
    )
    talking = (_days(f.as_of, c("last_conversation")) < days).fill_null(False)
    formal = rows.filter((c("status") == "action") & c("step").is_in(FORMAL_STEPS) & talking)
    wrong = rows.filter(
        (c("exclusion") == "in conversation")
        & (~talking | c("next_date").ne_missing(_plus(c("last_conversation"), days)))
    )
    return pl.concat(
        [
            _found(
                formal,
                "conversation pause",
                pl.format(
                    "{} {} days after the conversation of {}",
                    c("step"),
                    _days(f.as_of, c("last_conversation")),
                    c("last_conversation"),
                ),
            ),
            _found(
                wrong,
                "conversation pause",
                pl.format(
                    "excluded 'in conversation' with next_date {}, last conversation {}",
                    c("next_date"),
                    c("last_conversation"),
                ),
            ),
        ]
    )


def check_identical_message(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 5: no message with the same step, channel and set of invoices within
    repeat_after_days."""
    days = f.policy.cadence.repeat_after_days
    actions = out.filter(_facing(out)).select(
        "customer_id",
        "step",
        channel="final_channel",
        invoice_key=c("invoices")
        .list.eval(pl.element().struct.field("invoice_id"))
        .list.unique()
        .list.sort()
        .list.join("|"),
    )
    recent = f.messages.filter(_days(f.as_of, c("contact_date")) < days)
    same = actions.join(recent, on=["customer_id", "step", "channel", "invoice_key"])
    return _found(
        same,
        "identical message",
        pl.format(
            "{} by {} on [{}] already sent on {}",
            c("step"),
            c("channel"),
            c("invoice_key"),
            c("contact_date"),
        ),
    )


def check_proportionality(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 6 on the final channel: below letter_min_amount no letter, below
    formal_notice_min_amount no registered letter (amount covered: chased amounts of its overdue
    invoices, open amounts of its pre-due ones)."""
    rules = f.policy.escalation
    cov = _covered_facts(f, out).with_columns(
        amount=pl.when(c("dpd") > 0).then(c("chased_c")).otherwise(c("open_c")).fill_null(0)
    )
    amounts = cov.group_by("customer_id", "step", "final_channel").agg(covered_c=c("amount").sum())
    letter = amounts.filter(
        ((c("final_channel") == "letter") & (c("covered_c") < round(rules.letter_min_amount * 100)))
        | (
            (c("final_channel") == "registered_letter")
            & (c("covered_c") < round(rules.formal_notice_min_amount * 100))
        )
    )
    return _found(
        letter,
        "proportionality",
        pl.format("{} by {} for {} EUR", c("step"), c("final_channel"), _money(c("covered_c"))),
    )


def check_small_balance(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Governance 6: a customer whose chased amount is below amounts.small_balance (and above
    the tolerance) gets no dunning step; small_balance_review only for such customers."""
    small = round(f.policy.amounts.small_balance * 100)
    tol = round(f.policy.amounts.open_tolerance * 100)
    rows = out.join(
        f.customers.select("customer_id", chased_total="chased_c"), on="customer_id", how="left"
    ).with_columns(c("chased_total").fill_null(0))
    dunned = rows.filter(
        (c("status") == "action")
        & c("step").is_in(DUNNING)
        & (c("chased_total") > tol)
        & (c("chased_total") < small)
    )
    review = rows.filter((c("step") == "small_balance_review") & (c("chased_total") >= small))
    return pl.concat(
        [
            _found(
                dunned,
                "small balance",
                pl.format("{} for a chased amount of {} EUR", c("step"), _money(c("chased_total"))),
            ),
            _found(
                review,
                "small balance",
                pl.format(
                    "small_balance_review for a chased amount of {} EUR", _money(c("chased_total"))
                ),
            ),
        ]
    )


def check_covered_invoices(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """No action covers an invoice that is not the customer's (or not issued by A), closed,
    disputed (except resolve_dispute), handed over, under a linked pending promise or in an
    active on-track plan naming it."""
    cov = _covered_facts(f, out)
    checks = [
        (
            c("customer_of_invoice").is_null() | (c("customer_of_invoice") != c("customer_id")),
            "unknown, not issued by A or another customer's",
        ),
        (~c("is_open"), "closed"),
        (c("disputed") & (c("step") != "resolve_dispute"), "disputed"),
        (c("handed_over"), "handed over"),
        (c("promised"), "under a pending promise"),
        (c("planned"), "in an active plan on track"),
    ]
    found = [
        _found(
            cov.filter(cond.fill_null(False)),
            "covered invoice",
            pl.format("{} covers {}: {}", c("step"), c("invoice_id"), pl.lit(what)),
        )
        for cond, what in checks
    ]
    return pl.concat(found)


def check_no_step_repeat(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """No cadence step or hand-over on an invoice whose reached rank is already >= the step's
    rank; exceptions: personal_contact on a short-paid invoice that no contact followed since
    its last payment, or on an invoice paid in part since its formal notice (answered)."""
    cov = _covered_facts(f, out).filter(c("step_rank").is_not_null())
    exception = (c("step") == "personal_contact") & (
        (c("short_paid").fill_null(False) & ~c("contact_after_payment").fill_null(False))
        | c("answered").fill_null(False)
    )
    repeat = cov.filter((c("r") >= c("step_rank")).fill_null(False) & ~exception)
    return _found(
        repeat,
        "step repeat",
        pl.format(
            "{} on {} which already reached rank {} on {}",
            c("step"),
            c("invoice_id"),
            c("r"),
            c("d"),
        ),
    )


def check_wait_and_dpd_gate(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Every overdue invoice covered by a cadence step is ready: the wait of its reached step
    (or of its pre-due reminder) has passed and its dpd (less the segment delay) reaches the
    threshold of the next step (waived up to broken_promise_min_step after a broken commitment)."""
    cov = _covered_facts(f, out).filter(c("step").is_in(CADENCE) & (c("dpd") > 0))
    cov = _with_gates(cov, f)
    waits = cov.filter(~c("waited") & (c("r").is_null() | c("r").is_between(1, 4)))
    gates = cov.filter(~c("gate_ok") & c("r").is_between(1, 4) & ~c("floor_waiver"))
    return pl.concat(
        [
            _found(
                waits,
                "wait",
                pl.format(
                    "{} on {}: reached rank {} on {}, pre-due reminder {}, wait not over",
                    c("step"),
                    c("invoice_id"),
                    c("r"),
                    c("d"),
                    c("pre_due_date"),
                ),
            ),
            _found(
                gates,
                "dpd gate",
                pl.format(
                    "{} on {}: dpd {} - delay {} below the threshold {} of the step after rank {}",
                    c("step"),
                    c("invoice_id"),
                    c("dpd"),
                    c("delay"),
                    c("next_threshold"),
                    c("r"),
                ),
            ),
        ]
    )


def check_step_allowed(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """The step of a cadence action is no higher than the highest step its covered invoices
    allow (no step skipped; a never-contacted invoice not beyond first_contact_max_step; a
    short-paid invoice not beyond personal_contact until the reason is asked); a formal notice
    covers only invoices that reached last_notice; a never-contacted invoice is never covered
    by a step beyond first_contact_max_step."""
    cap = RANK[f.policy.cadence.first_contact_max_step]
    cov = _with_gates(_covered_facts(f, out).filter(c("step").is_in(CADENCE) & (c("dpd") > 0)), f)
    best = cov.group_by("customer_id", "step", "step_rank").agg(allowed=c("allowed").max())
    skipped = best.filter((c("step_rank") > c("allowed")).fill_null(True))
    first = cov.filter(c("r").is_null() & (c("step_rank") > cap))
    notice = cov.filter((c("step") == "formal_notice") & c("r").ne_missing(RANK["last_notice"]))
    return pl.concat(
        [
            _found(
                skipped,
                "step allowed",
                pl.format(
                    "{} beyond the highest step its invoices allow (rank {})",
                    c("step"),
                    c("allowed"),
                ),
            ),
            _found(
                first,
                "first contact",
                pl.format(
                    "{} on never-contacted {} beyond {}",
                    c("step"),
                    c("invoice_id"),
                    pl.lit(f.policy.cadence.first_contact_max_step),
                ),
            ),
            _found(
                notice,
                "formal notice scope",
                pl.format(
                    "formal notice covers {} whose reached rank is {}", c("invoice_id"), c("r")
                ),
            ),
        ]
    )


def check_handover(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Hand-over (agency, legal, write_off_review) only on invoices whose formal notice deadline
    has passed unanswered (a payment on the invoice after the notice, with no contact about it
    since the notice, calls for one call first); legal when the invoices handed over owe
    legal_min_amount, agency when they or the customer's chased amount reach agency_min_amount
    or the customer already has open invoices with the agency or legal, else a write-off
    review; needs_approval for strategic customers."""
    rules = f.policy.escalation
    cov = _covered_facts(f, out).filter(c("step").is_in(HANDOVER))
    early = cov.filter(
        ~((c("r") == RANK["formal_notice"]) & (c("deadline") < f.as_of)).fill_null(False)
        | c("answered").fill_null(False)
    )
    rows = out.filter((c("status") == "action") & c("step").is_in(HANDOVER)).join(
        f.customers.select("customer_id", raw_strategic="strategic", chased_total="chased_c"),
        on="customer_id",
        how="left",
    )
    # a customer with open invoices already handed to the agency or legal: the rest joins the
    # agency file whatever its amount (a write-off review beside an open agency file is wrong)
    files = (
        f.invoices.filter(c("is_open") & c("handed_over").fill_null(False))
        .select("customer_id")
        .unique()
        .with_columns(has_file=pl.lit(True))
    )
    rows = rows.join(files, on="customer_id", how="left")
    # legal proceedings are justified by what is handed over (the invoices the action covers);
    # the customer's whole chased amount only keeps a large debtor from a write-off review
    handed = (
        covered(out)
        .join(f.invoices.select("invoice_id", "chased_c"), on="invoice_id", how="left")
        .group_by("customer_id")
        .agg(handed_c=c("chased_c").sum())
    )
    rows = rows.join(handed, on="customer_id", how="left")
    expected = (
        pl.when(c("handed_c") >= round(rules.legal_min_amount * 100))
        .then(pl.lit("legal"))
        .when(
            (c("handed_c") >= round(rules.agency_min_amount * 100))
            | (c("chased_total") >= round(rules.agency_min_amount * 100))
            | c("has_file").fill_null(False)
        )
        .then(pl.lit("agency"))
        .otherwise(pl.lit("write_off_review"))
    )
    kind = rows.with_columns(expected=expected).filter(c("step") != c("expected"))
    approval = rows.filter(
        c("step").is_in(["agency", "legal"])
        & c("raw_strategic")
        & ~c("needs_approval").fill_null(False)
    )
    return pl.concat(
        [
            _found(
                early,
                "hand-over",
                pl.format(
                    "{} on {}: reached rank {}, notice deadline {}",
                    c("step"),
                    c("invoice_id"),
                    c("r"),
                    c("deadline"),
                ),
            ),
            _found(
                kind,
                "hand-over",
                pl.format(
                    "{} for a chased amount of {} EUR, expected {}",
                    c("step"),
                    _money(c("chased_total")),
                    c("expected"),
                ),
            ),
            _found(
                approval,
                "hand-over",
                pl.format("{} of a strategic customer without needs_approval", c("step")),
            ),
        ]
    )


def check_pre_due_scope(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """A covered invoice not yet due is due within pre_due_days and not yet reminded."""
    days = f.policy.cadence.pre_due_days
    cov = _covered_facts(f, out).filter((c("dpd") <= 0) & ~c("step").is_in(["resolve_dispute"]))
    bad = cov.filter((c("dpd") < -days) | c("pre_due_date").is_not_null())
    return _found(
        bad,
        "pre-due",
        pl.format(
            "{} covers {} due in {} days, pre-due reminder {}",
            c("step"),
            c("invoice_id"),
            -c("dpd"),
            c("pre_due_date"),
        ),
    )


def _clearly_ready(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """Chased invoices that are ready by the strict reading (no escalation waiver) of customers
    without a pooled shelter, with their customer's output row (segment, status, step)."""
    inv = f.invoices.filter(
        c("chased") & ~c("ambiguous") & (c("r").is_null() | c("r").is_between(1, 4))
    )
    inv = inv.join(
        out.select("customer_id", "segment", "status", "step", "exclusion", "invoices"),
        on="customer_id",
    )
    inv = inv.with_columns(escalated=pl.lit(False))
    return _with_gates(inv, f).filter(c("ready"))


def check_ready_invoices_covered(f: Facts, out: pl.DataFrame) -> pl.DataFrame:
    """An amicable (or pre-due) action covers every ready chased invoice; a customer with a
    ready chased invoice is not left without action unless governance (notice pending, min gap,
    weekly cap, conversation pause, identical message) or a small balance explains it."""
    ready = _clearly_ready(f, out).with_columns(
        ids=c("invoices").list.eval(pl.element().struct.field("invoice_id"))
    )
    left_out = ready.filter(
        (c("status") == "action")
        & c("step").is_in([*AMICABLE, "pre_due"])
        & ~c("ids").list.contains(c("invoice_id"))
    )
    gap, cap = f.policy.contact.min_gap_days, f.policy.contact.max_per_week
    small = round(f.policy.amounts.small_balance * 100)
    cust = f.customers.with_columns(
        governed=(c("notice_deadline") >= f.as_of).fill_null(False)
        | (_days(f.as_of, c("last_outbound")) < gap).fill_null(False)
        | (c("week_messages") >= cap)
        | (
            _days(f.as_of, c("last_conversation")) < f.policy.contact.after_conversation_days
        ).fill_null(False)
        | (c("chased_c") < small)
    ).select("customer_id", "governed")
    # a short-paid invoice not asked about yet may only get a personal contact again, which the
    # identical-message rule can block: not counted as clearly ready for an excluded customer
    excluded = (
        ready.filter((c("status") == "excluded") & ~(c("short_paid") & ~c("contact_after_payment")))
        .join(cust, on="customer_id", how="left")
        .filter(~c("governed").fill_null(False))
    )
    return pl.concat(
        [
            _found(
                left_out,
                "ready invoice left out",
                pl.format(
                    "{} does not cover ready {} (reached rank {})",
                    c("step"),
                    c("invoice_id"),
                    c("r"),
                ),
            ),
            _found(
                excluded.unique("customer_id"),
                "ready invoice left out",
                pl.format(
                    "excluded '{}' while {} is ready (reached rank {}, dpd {})",
                    c("exclusion"),
                    c("invoice_id"),
                    c("r"),
                    c("dpd"),
                ),
            ),
        ]
    )


def check_conservation(f: Facts, recs: pl.DataFrame, worklist: Any) -> pl.DataFrame:
    """Every customer with an open balance is exactly once in actions or excluded (with its open
    amount right to the cent); thank-you rows only for customers with no open balance; the
    worklist detail holds exactly the actions and thank-you rows, its excluded list exactly the
    excluded customers."""
    owing = f.customers.filter(c("open_c") > 0).select("customer_id", "open_c")
    main = recs.filter(c("status").is_in(["action", "excluded"]))
    counts = main.group_by("customer_id").agg(n=pl.len())
    both = owing.join(counts, on="customer_id", how="full", coalesce=True).with_columns(
        c("n").fill_null(0), c("open_c").fill_null(0)
    )
    wrong_count = both.filter(
        ((c("open_c") > 0) & (c("n") != 1)) | ((c("open_c") == 0) & (c("n") > 0))
    )
    amounts = main.join(owing, on="customer_id").filter(
        _cents(c("open_amount")).ne_missing(c("open_c"))
    )
    thanks = recs.filter(c("status") == "thank_you").join(owing, on="customer_id")
    out = [
        _found(
            wrong_count,
            "conservation",
            pl.format(
                "{} action/excluded rows for an open balance of {} EUR", c("n"), _money(c("open_c"))
            ),
        ),
        _found(
            amounts,
            "conservation",
            pl.format(
                "open_amount {} EUR, recomputed {} EUR", c("open_amount"), _money(c("open_c"))
            ),
        ),
        _found(
            thanks,
            "conservation",
            pl.format("thank-you row while {} EUR is open", _money(c("open_c"))),
        ),
    ]
    expected_detail = (
        recs.filter(c("status") != "excluded").group_by("customer_id").agg(want=pl.len())
    )
    got_detail = worklist.detail.group_by("customer_id").agg(got=pl.len())
    expected_excluded = (
        recs.filter(c("status") == "excluded").group_by("customer_id").agg(want=pl.len())
    )
    got_excluded = worklist.excluded.group_by("customer_id").agg(got=pl.len())
    for want, got, what in (
        (expected_detail, got_detail, "worklist detail"),
        (expected_excluded, got_excluded, "worklist excluded"),
    ):
        diff = want.join(got, on="customer_id", how="full", coalesce=True).filter(
            c("want").ne_missing(c("got"))
        )
        out.append(
            _found(
                diff,
                "conservation",
                pl.format("{}: {} rows expected, {} found", pl.lit(what), c("want"), c("got")),
            )
        )
    return pl.concat(out)


def check_watch(f: Facts, recs: pl.DataFrame, worklist: Any) -> pl.DataFrame:
    """worklist.watch holds the excluded customers whose exposure reaches watch_min_exposure
    and who have something overdue (a not-yet-due balance is not parked), each with a next_date.

    The exposure is net of the customer's credit and unapplied cash, set against its invoices
    by rules this checker does not redo; so it checks bounds: a customer whose open amount LESS
    all its credit and cash still reaches the threshold with something overdue must be listed;
    one whose gross open amount is below it, or with nothing overdue, must not be."""
    limit = round(f.policy.worklist.watch_min_exposure * 100)
    overdue = (
        f.invoices.filter(c("is_open") & (c("dpd") > 0))
        .group_by("customer_id")
        .agg(overdue_c=c("open_c").sum())
    )
    excluded = (
        recs.filter(c("status") == "excluded")
        .select("customer_id")
        .join(
            f.customers.select("customer_id", "open_c", held_c=c("credit_c") + c("cash_c")),
            on="customer_id",
            how="left",
        )
        .join(overdue, on="customer_id", how="left")
        .with_columns(c("overdue_c").fill_null(0))
    )
    surely = (c("open_c") - c("held_c") >= limit) & (c("overdue_c") - c("held_c") > 0)
    maybe = (c("open_c") >= limit) & (c("overdue_c") > 0)
    want = excluded.filter(surely).select("customer_id", want=pl.lit(True))
    allowed = excluded.filter(maybe).select("customer_id", allowed=pl.lit(True))
    watch = worklist.watch
    got = watch.group_by("customer_id").agg(
        got=pl.len(), next_date=c("next_date").drop_nulls().first()
    )
    both = want.join(got, on="customer_id", how="full", coalesce=True).join(
        allowed, on="customer_id", how="left"
    )
    missing = both.filter(c("want").fill_null(False) & c("got").is_null())
    extra = both.filter(c("allowed").is_null() & c("got").is_not_null())
    dup = both.filter(c("got") > 1)
    undated = both.filter(c("got").is_not_null() & c("next_date").is_null())
    return pl.concat(
        [
            _found(
                missing,
                "watch",
                pl.lit("excluded with an open amount >= watch_min_exposure, not in the watch list"),
            ),
            _found(
                extra,
                "watch",
                pl.lit("in the watch list but not an excluded customer >= watch_min_exposure"),
            ),
            _found(dup, "watch", pl.format("{} rows in the watch list", c("got"))),
            _found(undated, "watch", pl.lit("in the watch list without a next_date")),
        ]
    )


def check_promise_status(f: Facts, status: pl.DataFrame) -> pl.DataFrame:
    """``status`` (promise_id, status: e.g. workbench.promises.promise_status) against the
    recomputation: kept only when the payments reach the amount, pending and broken by the
    deadline; every promise made by A present once."""
    mine = f.promises.select("promise_id", "customer_id", "paid_c", "amount_c", expected="status")
    theirs = status.select("promise_id", got="status")
    both = mine.join(theirs, on="promise_id", how="full", coalesce=True)
    wrong = both.filter(c("expected").ne_missing(c("got"))).with_columns(
        customer_id=pl.coalesce("customer_id", pl.lit("?"))
    )
    dup = (
        theirs.group_by("promise_id")
        .agg(n=pl.len())
        .filter(c("n") > 1)
        .join(mine, on="promise_id", how="left")
    )
    return pl.concat(
        [
            _found(
                wrong,
                "promise status",
                pl.format(
                    "{} is {}, recomputed {} (paid {} of {} EUR)",
                    c("promise_id"),
                    c("got"),
                    c("expected"),
                    _money(c("paid_c")),
                    _money(c("amount_c")),
                ),
            ),
            _found(dup, "promise status", pl.format("{} has {} rows", c("promise_id"), c("n"))),
        ]
    )


ENGINE_CHECKS = (
    check_formal_notice_deadline,
    check_min_gap,
    check_weekly_cap,
    check_conversation_pause,
    check_identical_message,
    check_proportionality,
    check_small_balance,
    check_covered_invoices,
    check_no_step_repeat,
    check_wait_and_dpd_gate,
    check_step_allowed,
    check_handover,
    check_pre_due_scope,
    check_ready_invoices_covered,
)
"""The checks on one engine output (facts, rows with final channel)."""


def engine_violations(
    portfolio: Any, as_of: date, recs: pl.DataFrame, worklist: Any, policy: Any = DEFAULT_POLICY
) -> pl.DataFrame:
    """Every violation of the engine output ``recs`` (recommendations) and ``worklist``
    (detail, excluded, watch) as of ``as_of``."""
    f = build_facts(portfolio, as_of, policy)
    out = engine_rows(recs, worklist.detail)
    found = [check(f, out) for check in ENGINE_CHECKS]
    found += [check_conservation(f, recs, worklist), check_watch(f, recs, worklist)]
    return pl.concat(found).sort("rule", "customer_id")


# --- the contact history (H1-H7) ---------------------------------------------------------------


def _history(portfolio: Any, policy: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    steps = contact_steps(portfolio)
    return steps, messages(steps)


def check_history_gap(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H1: at least min_gap_days between two messages to a customer."""
    _, msgs = _history(portfolio, policy)
    gap = policy.contact.min_gap_days
    days = msgs.sort("customer_id", "contact_date").with_columns(
        previous=c("contact_date").shift(1).over("customer_id")
    )
    bad = days.filter(_days(c("contact_date"), c("previous")) < gap)
    return _found(
        bad,
        "H1 min gap",
        pl.format(
            "{} {} by {} {} days after the message of {}",
            c("contact_date"),
            c("step"),
            c("channel"),
            _days(c("contact_date"), c("previous")),
            c("previous"),
        ),
    )


def check_history_weekly_cap(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H2: at most max_per_week messages in any cap_window_days window."""
    _, msgs = _history(portfolio, policy)
    window, cap = policy.contact.cap_window_days, policy.contact.max_per_week
    indexed = msgs.with_row_index("i")
    pairs = (
        indexed.select("i", "customer_id", "contact_date")
        .join(indexed.select("customer_id", other="contact_date"), on="customer_id")
        .filter(_days(c("contact_date"), c("other")).is_between(0, window - 1))
    )
    counts = pairs.group_by("i", "customer_id", "contact_date").agg(n=pl.len())
    bad = (
        counts.filter(c("n") > cap)
        .sort("customer_id", "contact_date")
        .unique(["customer_id", "contact_date"], keep="first", maintain_order=True)
    )
    return _found(
        bad,
        "H2 weekly cap",
        pl.format("{} messages in the {} days to {}", c("n"), pl.lit(window), c("contact_date")),
    )


def check_history_identical(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H3: no identical message (step, channel, invoices) within repeat_after_days."""
    _, msgs = _history(portfolio, policy)
    days = policy.cadence.repeat_after_days
    key = ["customer_id", "step", "channel", "invoice_key"]
    again = (
        msgs.sort(*key, "contact_date")
        .with_columns(previous=c("contact_date").shift(1).over(key))
        .filter(_days(c("contact_date"), c("previous")) < days)
    )
    return _found(
        again,
        "H3 identical message",
        pl.format(
            "{} by {} on [{}] on {} and {}",
            c("step"),
            c("channel"),
            c("invoice_key"),
            c("previous"),
            c("contact_date"),
        ),
    )


def check_history_step_repeat(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H4: no cadence step on an invoice whose earlier contacts reached its rank (see the module
    docstring for the exceptions)."""
    steps, _ = _history(portfolio, policy)
    ranked = steps.filter(c("invoice_id").is_not_null() & c("rank").is_not_null()).select(
        "customer_id", "invoice_id", "contact_date", "step", "rank", "outcome"
    )
    earlier = ranked.select(
        "invoice_id", before="contact_date", before_step="step", before_rank="rank"
    )
    pairs = ranked.join(earlier, on="invoice_id").filter(
        (c("before") < c("contact_date")) & (c("before_rank") >= c("rank"))
    )
    pays = (
        portfolio.payments.filter(c("invoice_id").is_not_null())
        .select("invoice_id", "payment_date")
        .collect()
    )
    paid_between = (
        pairs.select("invoice_id", "before", "contact_date")
        .unique()
        .join(pays, on="invoice_id")
        .filter((c("payment_date") > c("before")) & (c("payment_date") <= c("contact_date")))
        .select("invoice_id", "before", "contact_date")
        .unique()
        .with_columns(paid_between=pl.lit(True))
    )
    pairs = pairs.join(
        paid_between, on=["invoice_id", "before", "contact_date"], how="left"
    ).with_columns(c("paid_between").fill_null(False))
    allowed = (
        ((c("step") == "personal_contact") & c("paid_between"))
        | ((c("step") == "legal") & (c("before_step") == "agency"))
        | (c("outcome") == "plan_agreed")
    )
    bad = (
        pairs.filter(~allowed)
        .sort("customer_id", "invoice_id", "contact_date", "before")
        .unique(["invoice_id", "contact_date", "step"], keep="first", maintain_order=True)
    )
    return _found(
        bad,
        "H4 step repeat",
        pl.format(
            "{} on {} on {} after {} on {}",
            c("step"),
            c("invoice_id"),
            c("contact_date"),
            c("before_step"),
            c("before"),
        ),
    )


def check_history_after_notice(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H5: nothing sent (customer-facing, agency, legal) within notice_postal_days +
    notice_answer_days after a formal notice."""
    steps, _ = _history(portfolio, policy)
    days = policy.escalation.notice_postal_days + policy.escalation.notice_answer_days
    notices = (
        steps.filter(c("outbound") & (c("step") == "formal_notice"))
        .select("customer_id", notice="contact_date")
        .unique()
    )
    sent = steps.filter(c("outbound") | c("channel").is_in(["agency", "legal"])).select(
        "customer_id", "contact_date", "channel", "step"
    )
    bad = notices.join(sent, on="customer_id").filter(
        _days(c("contact_date"), c("notice")).is_between(1, days)
    )
    return _found(
        bad.sort("customer_id", "contact_date"),
        "H5 after formal notice",
        pl.format(
            "{} by {} on {}, {} days after the formal notice of {}",
            c("step"),
            c("channel"),
            c("contact_date"),
            _days(c("contact_date"), c("notice")),
            c("notice"),
        ),
    )


def check_history_after_conversation(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H6: no formal notice, agency or legal within after_conversation_days after a
    conversation (a conversation the same day counts)."""
    steps, _ = _history(portfolio, policy)
    days = policy.contact.after_conversation_days
    talks = conversations(portfolio, steps, None, policy)
    formal = steps.filter(c("step").is_in(FORMAL_STEPS)).select(
        "customer_id", "contact_id", "contact_date", "step"
    )
    bad = (
        formal.join(talks, on="customer_id")
        .filter(
            _days(c("contact_date"), c("conversation_date")).is_between(0, days - 1)
            & c("contact_id_right").ne_missing(c("contact_id"))
        )
        .unique(["contact_id"], keep="first")
    )
    return _found(
        bad.sort("customer_id", "contact_date"),
        "H6 after conversation",
        pl.format(
            "{} on {}, {} days after the conversation of {}",
            c("step"),
            c("contact_date"),
            _days(c("contact_date"), c("conversation_date")),
            c("conversation_date"),
        ),
    )


def check_history_proportionality(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """H7: a letter covers at least letter_min_amount, a registered letter at least
    formal_notice_min_amount, of open amount at the start of its day."""
    _, msgs = _history(portfolio, policy)
    rules = policy.escalation
    letters = msgs.filter(c("channel").is_in(["letter", "registered_letter"])).with_columns(
        minimum=pl.when(c("channel") == "letter")
        .then(pl.lit(round(rules.letter_min_amount * 100)))
        .otherwise(pl.lit(round(rules.formal_notice_min_amount * 100)))
    )
    invoices = portfolio.invoices.select(
        "invoice_id", "customer_id", "issue_date", "due_date", amount_c=_cents(c("amount"))
    ).collect()
    moves = pl.concat(
        [
            portfolio.payments.filter(c("invoice_id").is_not_null())
            .select("invoice_id", day="payment_date", move_c=_cents(c("amount")))
            .collect(),
            portfolio.credit_notes.select(
                "invoice_id", day="date", move_c=_cents(c("amount"))
            ).collect(),
        ]
    )
    linked = (
        letters.filter(c("invoice_ids").list.len() > 0)
        .with_row_index("m")
        .explode("invoice_ids")
        .rename({"invoice_ids": "invoice_id"})
    )
    loose = (
        letters.filter(c("invoice_ids").list.len() == 0)
        .with_row_index("m", offset=10**9)
        .join(invoices.select("invoice_id", "customer_id", "due_date"), on="customer_id")
        .filter(c("due_date") < c("contact_date"))
        .drop("due_date", "invoice_ids")
    )
    rows = pl.concat(
        [
            linked.select(
                "m",
                "customer_id",
                "contact_date",
                "channel",
                "step",
                "invoice_key",
                "minimum",
                "invoice_id",
            ),
            loose.select(
                "m",
                "customer_id",
                "contact_date",
                "channel",
                "step",
                "invoice_key",
                "minimum",
                "invoice_id",
            ),
        ]
    )
    rows = rows.join(
        invoices.select("invoice_id", "issue_date", "amount_c"), on="invoice_id", how="left"
    )
    moved = (
        rows.select("m", "invoice_id", "contact_date")
        .join(moves, on="invoice_id")
        .filter(c("day") < c("contact_date"))
        .group_by("m", "invoice_id")
        .agg(moved_c=c("move_c").sum())
    )
    open_ = (
        rows.join(moved, on=["m", "invoice_id"], how="left")
        .with_columns(open_c=(c("amount_c") - c("moved_c").fill_null(0)).clip(lower_bound=0))
        .group_by("m", "customer_id", "contact_date", "channel", "step", "invoice_key", "minimum")
        .agg(open_c=c("open_c").sum())
    )
    bad = open_.filter(c("open_c") < c("minimum"))
    return _found(
        bad.sort("customer_id", "contact_date"),
        "H7 proportionality",
        pl.format(
            "{} on {} ({}) for {} EUR open",
            c("channel"),
            c("contact_date"),
            c("invoice_key"),
            _money(c("open_c")),
        ),
    )


HISTORY_CHECKS = {
    "H1_min_gap": check_history_gap,
    "H2_weekly_cap": check_history_weekly_cap,
    "H3_identical_message": check_history_identical,
    "H4_step_repeat": check_history_step_repeat,
    "H5_after_formal_notice": check_history_after_notice,
    "H6_after_conversation": check_history_after_conversation,
    "H7_proportionality": check_history_proportionality,
}


def history_violations(portfolio: Any, policy: Any = DEFAULT_POLICY) -> pl.DataFrame:
    """Every violation of H1-H7 in the portfolio's contact history."""
    return pl.concat([check(portfolio, policy) for check in HISTORY_CHECKS.values()])
