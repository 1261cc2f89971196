"""What shelters an overdue invoice from dunning, invoice by invoice (DESIGN 2.1, 2.6, 2.7, 6b).

Promises, payment plans and unapplied cash shelter only what they cover; what is left is
chased. Applied in this order, each on what the previous ones left (amounts in the reporting
currency, allocated in integer cents):

1. a pending promise on an invoice (:func:`workbench.promises.promise_status`) shelters that
   invoice in full;
2. an active payment plan with no missed instalment (:func:`workbench.plans.plan_status`)
   shelters the invoices named on its rows in full; a plan naming none shelters the customer's
   invoices overdue at its agreed date, oldest first, up to the plan's total;
3. a pending promise without an invoice shelters the customer's overdue invoices oldest first
   up to its amount;
4. customer credit (the ``excess`` of its invoices paid or credited beyond their amount:
   over-payments, credit notes larger than the balance; :func:`workbench.balances.customer_credit`)
   is set against the customer's open invoices oldest first up to its amount: the overdue ones
   first (they are older), then those not yet due, so that the customer is chased for its net
   position and never reminded of an invoice its credit already pays;
5. unapplied cash (payments without an invoice): a payment of exactly the open balance of one
   of the customer's open invoices (not disputed; overdue or not, handed over or not) is taken
   as that invoice's payment and shelters it alone (:mod:`workbench.cashpairs`); the rest
   shelters the customer's overdue invoices oldest first up to what the credit left. An
   unapplied payment that pays an instalment of a plan on track
   (:func:`workbench.plans.plan_payments`) is not counted again: that plan already shelters its
   invoices. The pairing comes first: a payment paired with an invoice a plan does not name
   pays that invoice, not the plan.

Only invoices that could be chased are sheltered: open, overdue, without an open dispute, not
handed over (customer credit also covers open invoices not yet due, without a dispute, not
handed over). Payments applied to *other* invoices shelter nothing: the payment is counted on
the invoice it names; only what it pays beyond that invoice's balance becomes credit.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import cents, cents_of_micros, micros
from workbench.cashpairs import INVOICE_ORDER, unapplied_payments
from workbench.plans import plan_status, unapplied_pairs
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.promises import promise_status


def exact_cents(amount: pl.Expr) -> pl.Expr:
    """Sum of ``amount`` (currency) in cents (Int64): summed exactly, rounded once (three
    unapplied payments of 33.333 are 10000 cents, not 9999)."""
    return cents_of_micros(micros(amount).sum())


ORDER = INVOICE_ORDER
"""Oldest first: the order in which customer-level shelters cover invoices."""


def _allocated(budget: pl.Expr, eligible: pl.Expr, room: pl.Expr) -> pl.Expr:
    """Cents of ``budget`` (one per customer, Int64) given to each eligible invoice oldest first,
    at most its ``room`` (cents left to cover). Needs customer_id, due_date, invoice_id."""
    room = pl.when(eligible).then(room).otherwise(0)
    before = room.cum_sum().over("customer_id", order_by=ORDER) - room
    return pl.min_horizontal(room, (budget.fill_null(0) - before).clip(lower_bound=0))


def _budgets(
    portfolio: Portfolio, as_of: date, policy: Policy, paired: pl.LazyFrame
) -> dict[str, pl.LazyFrame]:
    """The shelters as lazy frames: linked promises (invoice_id), plan invoices (invoice_id),
    plans without invoices (customer_id, plan_cents, plan_agreed), customer promises
    (customer_id, promise_cents), unapplied cash (customer_id, cash_cents) and the part of it
    paired with an invoice (invoice_id, match_cents), from ``paired``
    (:func:`workbench.plans.unapplied_pairs`) less the instalments of plans on track."""
    c = pl.col
    pending = promise_status(portfolio, as_of, policy).filter(c("status") == "pending")
    plans = plan_status(portfolio, as_of, policy, paired).filter(c("on_track"))
    instalments = plans.select(payment_id="payment_ids").explode("payment_id").drop_nulls()
    unapplied = unapplied_payments(portfolio, as_of).join(
        instalments, on="payment_id", how="anti"
    )
    return {
        "linked": pending.filter(c("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(promise_linked=pl.lit(True)),
        "plan_invoices": plans.explode("invoice_ids")
        .filter(c("invoice_ids").is_not_null())
        .group_by(invoice_id="invoice_ids")
        .agg(plan_linked=pl.lit(True)),
        "plan_customers": plans.filter(c("invoice_ids").list.len() == 0)
        .group_by("customer_id")
        .agg(plan_cents=exact_cents(c("total")), plan_agreed=c("agreed").max()),
        "promises": pending.filter(c("invoice_id").is_null())
        .group_by("customer_id")
        .agg(promise_cents=exact_cents(c("amount"))),
        "cash": unapplied.group_by("customer_id").agg(cash_cents=exact_cents(c("amount"))),
        "matched": paired.join(instalments, on="payment_id", how="anti").select(
            "invoice_id", "match_cents"
        ),
    }


def sheltered_invoices(
    invoices: pl.LazyFrame, portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """``invoices`` with their shelters and the amount left to chase.

    ``invoices`` (every invoice of the customers, so that their credit is whole) needs
    invoice_id, customer_id, due_date, days_past_due, is_open, open_reporting and
    excess_reporting (reporting currency), disputed (bool), handed_date. Adds, in cents of the
    reporting currency: promise_cents, plan_cents, credit_cents, cash_cents (sheltered by each),
    chased_cents (open minus shelters, for a chaseable invoice; 0 otherwise); and flags:
    chaseable (open, overdue, no open dispute, not handed over), promised, planned (sheltered in
    part or in full by them), offset (open and wholly covered by the customer's credit),
    cash_matched (an unapplied payment equals its open balance: probably its payment).
    """
    c = pl.col
    paired = unapplied_pairs(portfolio, invoices, as_of, open_amount="open_reporting")
    budgets = _budgets(portfolio, as_of, policy, paired)
    open_cents = pl.when(c("is_open")).then(cents(c("open_reporting"))).otherwise(0)
    frame = (
        invoices.join(budgets["linked"], on="invoice_id", how="left")
        .join(budgets["plan_invoices"], on="invoice_id", how="left")
        .join(budgets["plan_customers"], on="customer_id", how="left")
        .join(budgets["promises"], on="customer_id", how="left")
        .join(budgets["cash"], on="customer_id", how="left")
        .join(budgets["matched"], on="invoice_id", how="left")
        .with_columns(
            # what is left of the cash once the payments matching an invoice are set aside
            cash_cents=c("cash_cents") - c("match_cents").fill_null(0).sum().over("customer_id")
        )
        .with_columns(
            chaseable=c("is_open")
            & (c("days_past_due") > 0)
            & ~c("disputed").fill_null(False)
            & c("handed_date").is_null(),
            open_cents=open_cents,
        )
        .with_columns(
            linked_cents=pl.when(
                c("chaseable") & (c("promise_linked") | c("plan_linked")).fill_null(False)
            )
            .then(c("open_cents"))
            .otherwise(0)
        )
        .with_columns(
            plan_rest=_allocated(
                c("plan_cents"),
                c("chaseable") & (c("due_date") < c("plan_agreed")).fill_null(False),
                c("open_cents") - c("linked_cents"),
            )
        )
    )
    left = c("open_cents") - c("linked_cents") - c("plan_rest")
    offsettable = c("chaseable") | (
        c("is_open")
        & (c("days_past_due") <= 0)
        & ~c("disputed").fill_null(False)
        & c("handed_date").is_null()
    )
    credit = cents(c("excess_reporting").fill_null(0.0)).sum().over("customer_id")
    frame = (
        frame.with_columns(promise_rest=_allocated(c("promise_cents"), c("chaseable"), left))
        .with_columns(credit_cents=_allocated(credit, offsettable, left - c("promise_rest")))
        .with_columns(room=left - c("promise_rest") - c("credit_cents"))
        .with_columns(
            cash_cents=pl.when(c("match_cents").is_not_null())
            .then(
                pl.when(c("chaseable")).then(pl.min_horizontal("match_cents", "room")).otherwise(0)
            )
            .otherwise(
                _allocated(c("cash_cents"), c("chaseable") & c("match_cents").is_null(), c("room"))
            )
        )
    )
    linked_promise = c("promise_linked").fill_null(False)
    return frame.with_columns(
        promise_cents=pl.when(linked_promise).then(c("linked_cents")).otherwise(0)
        + c("promise_rest"),
        plan_cents=pl.when(linked_promise).then(0).otherwise(c("linked_cents")) + c("plan_rest"),
    ).with_columns(
        chased_cents=pl.when(c("chaseable"))
        .then(
            c("open_cents")
            - c("promise_cents")
            - c("plan_cents")
            - c("credit_cents")
            - c("cash_cents")
        )
        .otherwise(0),
        promised=c("promise_cents") > 0,
        cash_matched=c("match_cents").is_not_null(),
        planned=c("plan_cents") > 0,
        offset=(c("open_cents") > 0) & (c("credit_cents") >= c("open_cents")),
    ).drop(
        "promise_linked", "plan_linked", "plan_agreed", "linked_cents", "plan_rest",
        "promise_rest", "open_cents", "match_cents", "room",
    )  # fmt: skip
