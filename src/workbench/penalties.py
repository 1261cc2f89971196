"""Late-payment penalties and the fixed recovery indemnity owed on overdue invoices, as of a date.

French B2B law (Code de commerce, article L441-10): penalties are due by law ("de plein droit")
from the day after the due date, at the rate of the seller's terms (``[penalties]
rate_percent``, a yearly rate), on the amount still due day by day; and a fixed indemnity for
recovery costs of 40 EUR per invoice paid late (article D441-5). Consumers (B2C) owe neither
(``[penalties] customer_types``).

The penalty of an invoice is ``rate / 100 / day_count`` times the sum, over the days ``d`` from
the day after the due date to ``as_of`` included, of the balance still due on day ``d``
before that day's payments: interest runs up to and including the day of payment, so a
payment or credit note dated ``p`` stops it on its amount from the day after ``p``. In closed
form, with ``B`` the balance at the end of the due date::

    penalty = rate / 100 / day_count * (B * (as_of - due) - sum over p in (due, as_of] of
                                        amount_p * (as_of - p))

Nothing dated after ``as_of`` is seen. Amounts are in the invoice currency, rounded half up to
the cent at the end.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from workbench.balances import cents, days_between, from_cents, movements
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


UNTYPED = "B2B"
"""The customer type of a customer without one (the workbench's default audience)."""


def owes_penalties(customer_type: str | None, policy: Policy = DEFAULT_POLICY) -> bool:
    """Whether a customer of ``customer_type`` owes penalties and the indemnity
    (``penalties.customer_types``; no type counts as :data:`UNTYPED`)."""
    return (customer_type or UNTYPED) in policy.penalties.customer_types


def invoice_penalties(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """One row per invoice issued on or before ``as_of``: invoice_id, penalty (currency of the
    invoice, to the cent, accrued to ``as_of``), indemnity (``penalties.indemnity`` in
    ``penalties.indemnity_currency`` for an invoice paid late or still unpaid after its due
    date); both 0 when the invoice was paid on time or its customer type does not owe them.

    Owed by the customers of :func:`owes_penalties`.
    """
    rules = policy.penalties
    c = pl.col
    invoices = portfolio.invoices.filter(c("issue_date") <= as_of).select(
        "invoice_id", "customer_id", "due_date", amount_cents=cents(c("amount"))
    )
    # what each reduction really took off the balance: an overpayment stops at zero
    reduced = pl.min_horizontal(cents(c("amount")).cum_sum().over("invoice_id", order_by="date"),
                                c("amount_cents"))  # fmt: skip
    moves = (
        movements(portfolio, as_of)
        .join(invoices.select("invoice_id", "due_date", "amount_cents"), on="invoice_id")
        .with_columns(
            taken=(reduced - reduced.shift(1).over("invoice_id", order_by="date").fill_null(0))
        )
    )
    per_invoice = moves.group_by("invoice_id").agg(
        before_cents=c("taken").filter(c("date") <= c("due_date")).sum(),
        # cent-days: a reduction after the due date stops the interest on its amount
        stopped=(c("taken") * days_between(pl.lit(as_of), c("date")))
        .filter(c("date") > c("due_date"))
        .sum(),
        reduced_cents=cents(c("amount")).sum(),
        last_move=c("date").max(),
    )
    owes = portfolio.customers.select(
        "customer_id",
        # the rule of owes_penalties, for every customer at once
        owes=c("customer_type").fill_null(UNTYPED).is_in(list(rules.customer_types)),
    )
    late_days = days_between(pl.lit(as_of), c("due_date")).clip(lower_bound=0)
    due_cents = (c("amount_cents") - c("before_cents").fill_null(0)).clip(lower_bound=0)
    cent_days = (due_cents * late_days - c("stopped").fill_null(0)).clip(lower_bound=0)
    rate = rules.rate_percent / 100 / rules.day_count
    unpaid = c("amount_cents") - c("reduced_cents").fill_null(0) > 0
    # paid late, or still unpaid after the due date
    overdue = (late_days > 0) & (unpaid | (c("last_move") > c("due_date")))
    return (
        invoices.join(per_invoice, on="invoice_id", how="left")
        .join(owes, on="customer_id", how="left")
        .with_columns(c("owes").fill_null(True))
        .select(
            "invoice_id",
            penalty=pl.when(c("owes") & overdue)
            .then(from_cents((cent_days * rate).round(0, mode="half_away_from_zero")))
            .otherwise(0.0),
            indemnity=pl.when(c("owes") & overdue).then(pl.lit(rules.indemnity)).otherwise(0.0),
        )
    )
