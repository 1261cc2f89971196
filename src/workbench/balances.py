"""Invoice balances as of a date (DESIGN section 4): what is still owed, and how invoices settled.

Everything is computed **as of** ``as_of``: invoices issued after it do not exist yet, and
payments, credit notes and disputes dated after it are invisible. Amounts are in currency
(Float64).

**Sums are exact, rounded once.** Every amount is read in micro-units (10^-6 of the currency,
Int128: :func:`micros`), summed exactly, and the sum is rounded to the cent once, half away
from zero (:func:`cents_of_micros`). An invoice of 100.00 paid by three payments of 33.333 is
settled (100 - 99.999 = 0.001, which is 0.00), not open for 0.01 as rounding each payment to
the cent would say; three unapplied payments of 33.333 are 100.00 of cash, not 99.99. We sum
exactly rather than round every amount at load because a rounded row is a changed input the
user never sees, while an exact sum keeps what the ERP booked and rounds only the result the
team reads (Int128 micro-units cannot overflow: 1.7 x 10^38).

**Over-payments and excess credit notes are customer credit.** An invoice paid or credited
beyond its amount has an open balance of 0 and an ``excess`` (what it received beyond its
amount); the excess is a credit of the customer (:func:`customer_credit`), set against its
other invoices when deciding whom to chase (:mod:`workbench.shelters`), never lost.

**Many dates, one pass over the movements.** The training set needs the balances at about 90
weekly dates: :class:`BalanceCursor` gives the same frame as :func:`invoice_balances` at each
date from running sums (the movements since the previous date are added), with every invoice's
settlement date found once (:func:`balance_history`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from workbench.disputes import disputed_invoices
from workbench.errors import InputError, Problem
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio
from workbench.runs import first_in_run, key_then_day, run_end, within_run_cum_sum

BASE_CURRENCY = "base"
"""Reporting currency name when fx_rates converts several currencies and none is at rate 1."""


def cents(amount: pl.Expr) -> pl.Expr:
    """``amount`` (currency) as integer cents (Int64)."""
    return (amount * 100).round().cast(pl.Int64)


def from_cents(amount_cents: pl.Expr) -> pl.Expr:
    """Integer cents as currency (Float64), the nearest float to the exact decimal.

    (Plain ``/ 100`` is not enough: polars divides a column by a scalar through its reciprocal,
    which gives 66.57000000000001 for 6657 cents; rounding to 2 decimals restores 66.57.)
    """
    return (amount_cents / 100).round(2)


MICROS = 1_000_000
"""Micro-units per currency unit: amounts are summed exactly in 10^-6 of the currency."""


def micros(amount: pl.Expr) -> pl.Expr:
    """``amount`` (currency) as integer micro-units (Int128, exact for any amount with at most
    6 decimals; finer digits are rounded)."""
    return (amount * MICROS).round().cast(pl.Int128)


def cents_of_micros(amount_micros: pl.Expr) -> pl.Expr:
    """Micro-units rounded once to whole cents (Int64), half away from zero (0.005 -> 0.01,
    -0.005 -> -0.01, as :class:`decimal.Decimal` ``ROUND_HALF_UP``)."""
    per_cent = MICROS // 100
    half = per_cent // 2
    magnitude = ((amount_micros.abs() + half) // per_cent).cast(pl.Int64)
    return pl.when(amount_micros < 0).then(-magnitude).otherwise(magnitude)


def money_sum(amount: pl.Expr) -> pl.Expr:
    """Sum of ``amount`` (currency), summed exactly in micro-units and rounded once to the cent
    (Float64)."""
    return from_cents(cents_of_micros(micros(amount).sum()))


def days_between(later: pl.Expr | date, earlier: pl.Expr | date) -> pl.Expr:
    """``later - earlier`` in whole days (Int64); dates may be expressions or ``date`` values."""
    later = pl.lit(later) if isinstance(later, date) else later
    earlier = pl.lit(earlier) if isinstance(earlier, date) else earlier
    return (later - earlier).dt.total_days()


def within_days(day: pl.Expr, as_of: date, days: int) -> pl.Expr:
    """Whether ``day`` lies in the window ``(as_of - days, as_of]``."""
    return days_between(as_of, day).is_between(0, days - 1)


def movements(portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """Payments applied to an invoice and credit notes, dated <= as_of.

    Columns: invoice_id, date, amount (currency), is_payment.
    """
    payments = portfolio.payments.filter(
        pl.col("payment_date") <= as_of, pl.col("invoice_id").is_not_null()
    ).select("invoice_id", pl.col("payment_date").alias("date"), "amount", is_payment=pl.lit(True))
    credits = portfolio.credit_notes.filter(pl.col("date") <= as_of).select(
        "invoice_id", "date", "amount", is_payment=pl.lit(False)
    )
    return pl.concat([payments, credits])


def invoice_balances(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """One row per invoice issued on or before ``as_of``, with its balance as of that date.

    Needs invoices; uses payments, credit_notes and disputes when present (all dated <= as_of).
    Returns, in the invoice currency:

    - invoice_id, customer_id, issue_date, due_date, amount, currency;
    - paid: payments applied to the invoice (currency); credited: credit notes (currency);
    - open_balance = amount - paid - credited, summed exactly and rounded once to the cent,
      never below 0 (currency); is_open: open_balance > amounts.open_tolerance;
    - excess = paid + credited - amount when above 0, rounded once to the cent (an over-payment
      or a credit note beyond the balance: a credit of the customer, not lost; currency);
    - days_past_due = as_of - due_date (days, negative when not yet due);
    - settlement_date: first date the balance fell to the tolerance or below (payments and credit
      notes cumulated by date); null while open;
    - days_to_pay = settlement_date - issue_date, days_late = settlement_date - due_date (days,
      negative when early; null while open);
    - n_payments: applied payments (null when the payments table is absent);
    - disputed: a dispute opened <= as_of and not resolved by as_of (null when disputes absent).
    """
    invoices = portfolio.invoices.filter(pl.col("issue_date") <= as_of).with_row_index("row")
    sums = movement_sums(movements(portfolio, as_of), invoices, policy)
    open_disputes = disputed_invoices(portfolio, as_of).select("invoice_id").collect()
    disputed = pl.col("invoice_id").is_in(open_disputes["invoice_id"].implode())
    return _balances(
        portfolio,
        invoices.join(sums, on="row", how="left")
        .drop("row")
        .with_columns(disputed=pl.when(disputed).then(True)),
        as_of,
        policy,
    )


def movement_sums(moves: pl.LazyFrame, invoices: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per invoice of ``invoices`` (which carry ``row``, a number per invoice) with a movement in
    ``moves`` (:func:`movements`): row, paid_micros, credited_micros (Int128 micro-units),
    n_payments (count) and settlement_date (first date the balance fell to
    amounts.open_tolerance or below, movements cumulated by date; null if never). Sees exactly
    the movements it is given (the caller filters by date).

    One join of the movements to their invoice (by id), then everything by the invoice's
    number over the movements sorted by it (:mod:`workbench.runs`): no hashing of the ids for a
    window or a group-by. Rows come in ascending ``row``. The running sums are in Int64 when
    no sum can overflow it (:func:`_sums_fit_int64`), else Int128; the result is Int128."""
    tolerance = policy.amounts.open_tolerance
    exact = pl.Int64 if _sums_fit_int64(moves, invoices) else pl.Int128
    moved = micros(pl.col("amount")).cast(exact)  # a movement's amount, or the invoice's
    payment = pl.col("is_payment")
    zero = pl.lit(0, exact)
    remaining = pl.col("invoice_micros") - pl.col("paid_micros") - pl.col("credited_micros")
    return (
        moves.join(invoices.select("invoice_id", "row", invoice_micros=moved), on="invoice_id")
        .sort(key_then_day("row", "date"))
        .with_columns(
            paid_micros=within_run_cum_sum(pl.when(payment).then(moved).otherwise(zero), "row"),
            credited_micros=within_run_cum_sum(pl.when(payment).then(zero).otherwise(moved), "row"),
            n_payments=within_run_cum_sum(payment.cast(pl.Int64), "row"),
        )
        .with_columns(reached=from_cents(cents_of_micros(remaining)) <= tolerance)
        .with_columns(settlement_date=first_in_run("date", "reached", "row"))
        .filter(run_end("row"))
        .select(
            "row",
            pl.col("paid_micros", "credited_micros").cast(pl.Int128),
            "n_payments",
            "settlement_date",
        )
        # one row per invoice, in the order of ``row`` (the sort's first key): a join on it
        # may merge instead of hashing (10 million invoices: 0.45 s against 1.2 s)
        .set_sorted("row")
    )


INT64_HEADROOM = 2**61
"""Micro-unit sums below this fit in Int64 (2^63) with room for the float estimate's error."""


def _sums_fit_int64(moves: pl.LazyFrame, invoices: pl.LazyFrame) -> bool:
    """Whether every sum :func:`movement_sums` forms fits in Int64 micro-units: the running
    sums over all ``moves`` (a cumulative sum, less its value before each invoice's run) stay
    within the sum of the movements' absolute amounts, and an invoice's remaining balance
    within that plus its own amount. (10 million movements of 5,000.00 are 5 x 10^16 micro-units,
    well below; Int64 sums are about 20 % faster than Int128 at that size.)"""
    moved, largest = pl.collect_all(
        [
            moves.select(pl.col("amount").abs().sum()),
            invoices.select(pl.col("amount").abs().max()),
        ]
    )
    bound = (moved.item() or 0.0) + (largest.item() or 0.0)
    return bound * MICROS < INT64_HEADROOM


def _balances(
    portfolio: Portfolio, invoices: pl.LazyFrame, as_of: date, policy: Policy
) -> pl.LazyFrame:
    """The columns of :func:`invoice_balances` as of ``as_of``, from ``invoices``: the invoices
    issued on or before it with the sums of their movements dated on or before it
    (paid_micros, credited_micros, n_payments, settlement_date, as :func:`movement_sums`; null
    for an invoice without movement) and disputed (True when a dispute is open as of
    ``as_of``, else null)."""
    tolerance = policy.amounts.open_tolerance
    net = micros(pl.col("amount")) - pl.col("paid_micros") - pl.col("credited_micros")
    tiny = from_cents(cents_of_micros(micros(pl.col("amount")))) <= tolerance
    balances = (
        invoices.with_columns(
            pl.col("paid_micros", "credited_micros").fill_null(0), pl.col("n_payments").fill_null(0)
        )
        .with_columns(
            paid=from_cents(cents_of_micros(pl.col("paid_micros"))),
            credited=from_cents(cents_of_micros(pl.col("credited_micros"))),
            open_balance=from_cents(cents_of_micros(net.clip(lower_bound=0))),
            excess=from_cents(cents_of_micros(net.clip(upper_bound=0).abs())),
        )
        .with_columns(is_open=pl.col("open_balance") > tolerance)
        .with_columns(
            days_past_due=days_between(as_of, pl.col("due_date")),
            # an invoice whose whole amount is within the tolerance is settled when issued,
            # whatever it receives later (its balance was at the tolerance from the start)
            settlement_date=pl.when(~pl.col("is_open")).then(
                pl.when(tiny).then(pl.col("issue_date")).otherwise(
                    pl.coalesce("settlement_date", "issue_date")
                )
            ),
            n_payments=pl.col("n_payments")
            if portfolio.has("payments")
            else pl.lit(None, pl.Int64),
            disputed=pl.col("disputed").fill_null(False)
            if portfolio.has("disputes")
            else pl.lit(None, pl.Boolean),
        )
        .with_columns(
            days_to_pay=days_between(pl.col("settlement_date"), pl.col("issue_date")),
            days_late=days_between(pl.col("settlement_date"), pl.col("due_date")),
        )
    )
    return balances.select(
        "invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency",
        "paid", "credited", "open_balance", "excess", "is_open", "days_past_due",
        "settlement_date", "days_to_pay", "days_late", "n_payments", "disputed",
    )  # fmt: skip


@dataclass(frozen=True)
class BalanceHistory:
    """The movements of a portfolio's invoices up to ``last``, collected once, to compute
    :func:`invoice_balances` at many dates on or before ``last`` (:class:`BalanceCursor`)
    without cumulating and joining every movement again at each date.

    Payments and credit notes are positive (validated), so an invoice's remaining balance only
    falls with time: its settlement date as of any ``as_of <= last`` is its settlement date as
    of ``last`` when that is on or before ``as_of``, else null (not settled yet).
    """

    last: date
    movements: pl.DataFrame
    """row (the invoice's row in the portfolio's invoices frame, UInt32), date, is_payment,
    micros (amount in Int128 micro-units): the movements dated on or before ``last``
    (:func:`movements`) of invoices issued on or before it, sorted by date."""
    settled: pl.Series
    """Per row of the invoices frame: its settlement date as of ``last`` (first date its
    balance fell to amounts.open_tolerance or below, movements cumulated by date; null if not
    settled through its movements by then)."""


def balance_history(
    portfolio: Portfolio, last: date, policy: Policy = DEFAULT_POLICY
) -> BalanceHistory:
    """The :class:`BalanceHistory` of ``portfolio`` up to ``last`` (one row per movement, one
    date per invoice)."""
    indexed = portfolio.invoices.with_row_index("row")
    issued = indexed.filter(pl.col("issue_date") <= last)
    moves = movements(portfolio, last)
    history, settled = pl.collect_all(
        [
            moves.join(issued.select("invoice_id", "row"), on="invoice_id")
            .select("row", "date", "is_payment", micros=micros(pl.col("amount")))
            .sort("date", maintain_order=True),
            indexed.select("row")
            .join(movement_sums(moves, issued, policy), on="row", how="left")
            .sort("row")
            .select("settlement_date"),
        ]
    )
    return BalanceHistory(last=last, movements=history, settled=settled["settlement_date"])


class BalanceCursor:
    """:func:`invoice_balances` of a portfolio at a series of dates, each computed from the
    previous one: the movements of a :class:`BalanceHistory` dated after the previous date and
    on or before the new one are added to running sums per invoice (Int128 micro-units, exact).

    Cheapest when the dates ascend (a date before the previous one starts again from nothing).
    Dates must not be after ``history.last``; ``portfolio`` must be the history's.
    """

    def __init__(self, portfolio: Portfolio, history: BalanceHistory, policy: Policy) -> None:
        self.portfolio, self.history, self.policy = portfolio, history, policy
        # one currency up to history.last: no conversion at any date, for any set of invoices
        self._one_currency = len(_currencies(portfolio, history.last)) <= 1
        self._start()

    def _start(self) -> None:
        """Running sums of no movement yet."""
        rows = self.history.settled.len()
        self._seen = 0  # movements summed: a prefix of history.movements (sorted by date)
        self._as_of: date | None = None
        self._paid = pl.zeros(rows, pl.Int128, eager=True)
        self._credited = pl.zeros(rows, pl.Int128, eager=True)
        self._n_payments = pl.zeros(rows, pl.Int64, eager=True)

    def _advance(self, as_of: date) -> None:
        """Add the movements dated after the current date and on or before ``as_of``."""
        if as_of > self.history.last:
            raise ValueError(
                f"balances as of {as_of} need a history up to it, not {self.history.last}"
            )
        if self._as_of is not None and as_of < self._as_of:
            self._start()
        moves = self.history.movements
        end = moves["date"].search_sorted(as_of, "right")
        new = (
            moves.slice(self._seen, end - self._seen)
            .group_by("row")
            .agg(
                paid=pl.col("micros").filter("is_payment").sum(),
                credited=pl.col("micros").filter(~pl.col("is_payment")).sum(),
                n_payments=pl.col("is_payment").sum().cast(pl.Int64),
            )
        )
        rows = new["row"]
        self._paid = self._paid.scatter(rows, self._paid.gather(rows) + new["paid"])
        self._credited = self._credited.scatter(rows, self._credited.gather(rows) + new["credited"])
        self._n_payments = self._n_payments.scatter(
            rows, self._n_payments.gather(rows) + new["n_payments"]
        )
        self._seen, self._as_of = end, as_of

    def invoice_balances(self, as_of: date, invoice_ids: pl.Series | None = None) -> pl.LazyFrame:
        """:func:`invoice_balances` of the portfolio as of ``as_of`` (same rows, columns and
        values; rows in the order of the invoices frame); the settlement date is that as of
        ``history.last`` when on or before ``as_of``. With ``invoice_ids``, only those invoices (a balance needs only its
        invoice's movements). The frame is computed from the sums at ``as_of``: collect it
        before the next call."""
        self._advance(as_of)
        settlement = pl.col("settlement_date")
        open_disputes = disputed_invoices(self.portfolio, as_of).select("invoice_id").collect()
        invoices = (
            self.portfolio.frames["invoices"]
            .lazy()
            .with_columns(
                paid_micros=self._paid,
                credited_micros=self._credited,
                n_payments=self._n_payments,
                settlement_date=self.history.settled,
            )
        )
        issued = pl.col("issue_date") <= as_of
        if invoice_ids is not None:
            issued = issued & pl.col("invoice_id").is_in(invoice_ids.implode())
        invoices = invoices.filter(issued).with_columns(
            settlement_date=pl.when(settlement <= as_of).then(settlement),
            disputed=pl.when(
                pl.col("invoice_id").is_in(open_disputes["invoice_id"].implode())
            ).then(True),
        )
        return _balances(self.portfolio, invoices, as_of, self.policy)

    def reporting_balances(self, as_of: date, invoice_ids: pl.Series | None = None) -> pl.LazyFrame:
        """:func:`reporting_balances` of the portfolio as of ``as_of``, from
        :meth:`invoice_balances`. With ``invoice_ids``, :func:`reporting_balances` of the
        portfolio holding only those invoices: the reporting currency is then that of those
        invoices (a single-currency portfolio stays unconverted either way)."""
        balances = self.invoice_balances(as_of, invoice_ids)
        portfolio = self.portfolio
        if self._one_currency:
            return balances
        if invoice_ids is not None:
            frames = dict(portfolio.frames)
            wanted = pl.col("invoice_id").is_in(invoice_ids.implode())
            frames["invoices"] = frames["invoices"].filter(wanted)
            portfolio = replace(portfolio, frames=frames)
        return _reporting(balances, portfolio, as_of)


def _latest_rates(portfolio: Portfolio, as_of: date) -> pl.DataFrame:
    """Latest fx rate dated <= as_of per currency: currency, rate_to_base (small, collected)."""
    return (
        portfolio.fx_rates.filter(pl.col("date") <= as_of)
        .group_by("currency")
        .agg(pl.col("rate_to_base").sort_by("date").last())
        .collect()
    )


def _currencies(portfolio: Portfolio, as_of: date) -> list[str]:
    """Distinct currencies of the invoices issued on or before ``as_of``, sorted."""
    invoices = portfolio.invoices.filter(pl.col("issue_date") <= as_of)
    return sorted(invoices.select(pl.col("currency").unique()).collect()["currency"].to_list())


def single_currency(portfolio: Portfolio, as_of: date) -> bool:
    """Whether the invoices issued on or before ``as_of`` are all in one currency (or none):
    nothing is then converted."""
    return len(_currencies(portfolio, as_of)) <= 1


def reporting_currency(portfolio: Portfolio, as_of: date) -> str | None:
    """The currency portfolio totals are reported in, as of ``as_of``.

    The single currency of the invoices issued on or before ``as_of`` (None when there are none).
    With several currencies an fx_rates table is needed (else :class:`InputError`); totals are then
    in its base currency: the currency whose latest rate is 1, or ``"base"`` when none or several.
    """
    currencies = _currencies(portfolio, as_of)
    if len(currencies) <= 1:
        return currencies[0] if currencies else None
    if not portfolio.has("fx_rates"):
        raise InputError(
            Problem(
                "multi-currency portfolio needs an fx_rates table "
                f"(invoices in {', '.join(currencies)})",
                table="invoices",
                column="currency",
            )
        )
    at_par = _latest_rates(portfolio, as_of).filter(pl.col("rate_to_base") == 1.0)["currency"]
    return at_par[0] if at_par.len() == 1 else BASE_CURRENCY


def reporting_balances(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """:func:`invoice_balances` with its money in the reporting currency.

    Same columns as :func:`invoice_balances`. A single-currency portfolio is returned as is. With
    several currencies, amount, paid, credited, open_balance and excess are converted at the latest
    fx_rates rate dated <= as_of of each invoice currency (rounded to the cent) and ``currency``
    is the reporting currency (:func:`reporting_currency`). Raises :class:`InputError` when the
    portfolio has several currencies and no fx_rates, or a currency has no rate dated <= as_of.
    """
    return _reporting(invoice_balances(portfolio, as_of, policy), portfolio, as_of)


def _reporting(balances: pl.LazyFrame, portfolio: Portfolio, as_of: date) -> pl.LazyFrame:
    """``balances`` (:func:`invoice_balances` of ``portfolio`` as of ``as_of``) in the reporting
    currency, as :func:`reporting_balances` describes (the currencies are those of
    ``portfolio``'s invoices issued on or before ``as_of``)."""
    currencies = _currencies(portfolio, as_of)
    if len(currencies) <= 1:
        return balances
    currency = reporting_currency(portfolio, as_of)
    rates = _latest_rates(portfolio, as_of)
    missing = sorted(set(currencies) - set(rates["currency"].to_list()))
    if missing:
        raise InputError(_missing_rate(portfolio, as_of, missing))
    money = ["amount", "paid", "credited", "open_balance", "excess"]
    return (
        balances.join(rates.lazy(), on="currency", how="left")
        .with_columns(
            from_cents(cents(pl.col(money) * pl.col("rate_to_base"))),
            currency=pl.lit(currency),
        )
        .drop("rate_to_base")
    )


def _missing_rate(portfolio: Portfolio, as_of: date, missing: list[str]) -> Problem:
    """The problem of invoice currencies without an fx rate dated <= as_of, located at the
    first invoice (1-based data row of the invoices table) in the first such currency."""
    first = (
        portfolio.invoices.with_row_index("row", offset=1)
        .filter(pl.col("issue_date") <= as_of, pl.col("currency") == missing[0])
        .select("row", "invoice_id")
        .head(1)
        .collect()
    )
    row, invoice = first.row(0) if first.height else (None, None)
    rates = portfolio.sources.get("fx_rates", "the fx_rates table")
    return Problem(
        f"no fx rate dated on or before {as_of.isoformat()} for {', '.join(missing)} "
        f"(invoice {invoice} is in {missing[0]}; add its rate_to_base to {rates})",
        file=portfolio.sources.get("invoices"),
        table="invoices",
        row=row,
        column="currency",
    )


def in_reporting_currency(
    rows: pl.LazyFrame, portfolio: Portfolio, as_of: date, amount: str = "amount"
) -> pl.LazyFrame:
    """``rows`` (with ``currency``: payments, promises, ... after :func:`in_invoice_currency`)
    with ``amount`` in the reporting currency, at the latest rate dated <= as_of, as
    :func:`reporting_balances` converts the invoices. A single-currency portfolio is returned as
    is; a row whose currency is null (a customer with no invoice) is taken as in the reporting
    currency."""
    if len(_currencies(portfolio, as_of)) <= 1:
        return rows
    rates = _latest_rates(portfolio, as_of).lazy()
    return (
        rows.join(rates, on="currency", how="left")
        .with_columns(pl.col(amount) * pl.col("rate_to_base").fill_null(1.0))
        .drop("rate_to_base")
    )


def customer_credit(
    portfolio: Portfolio, as_of: date, policy: Policy = DEFAULT_POLICY
) -> pl.LazyFrame:
    """Per customer with a credit as of ``as_of``: customer_id, customer_credit (the sum of the
    ``excess`` of its invoices: over-payments and credit notes beyond an invoice's balance,
    reporting currency) and credit_invoices (how many invoices carry an excess). Unapplied cash
    (payments without an invoice) is not in it: it is cash to reconcile, told apart."""
    return (
        reporting_balances(portfolio, as_of, policy)
        .filter(pl.col("excess") > 0)
        .group_by("customer_id")
        .agg(customer_credit=money_sum(pl.col("excess")), credit_invoices=pl.len().cast(pl.Int64))
    )


# --- rows in another currency than their invoice -----------------------------------------------

CONVERTED = {
    "payments": "payment_date",
    "promises": "promise_date",
    "payment_plans": "agreed",
    "credit_notes": "date",
}
"""Tables whose rows may carry their own ``currency``, and the date a row's rate is taken at:
the payment, the promise (when made), the plan (agreed, else its first instalment), the credit
note. Each is on or before the as-of date whenever the row is visible, so no conversion uses a
rate dated after the as-of date."""

ROW_NAMES = {"payments": "payment", "promises": "promise", "payment_plans": "plan instalment",
             "credit_notes": "credit note"}  # fmt: skip


def in_invoice_currency(
    tables: dict[str, pl.DataFrame], sources: dict[str, str] | None = None
) -> dict[str, pl.DataFrame]:
    """``tables`` (validated) with every payment, promise, plan instalment and credit note in
    the currency of its invoice, before any balance is computed.

    A row whose ``currency`` differs from its target currency is converted at the latest
    fx_rates rate of each currency dated on or before the row's date (:data:`CONVERTED`):
    amount x rate_to_base(row currency) / rate_to_base(target) (a cross rate through the base).
    The target is the row's invoice's currency; for a row without an invoice, the customer's
    invoices' single currency, else the portfolio's single currency (a row in one of its
    customer's several currencies is kept as it is). ``currency`` is then the target (null
    rows: the target). Raises :class:`InputError` naming the file, table, row and column when
    the target cannot be determined or a rate is missing.
    """
    sources = sources or {}
    out = dict(tables)
    single = tables["invoices"].get_column("currency").unique()
    for name in CONVERTED:
        frame = tables.get(name)
        if frame is None or "currency" not in frame.columns or frame.height == 0:
            continue
        if (
            single.len() == 1
            and frame.get_column("currency").drop_nulls().is_in(single.implode()).all()
        ):
            # one currency everywhere: every row's target is it, nothing to convert
            out[name] = frame.with_columns(currency=pl.lit(single[0], pl.String))
            continue
        out[name] = _converted(name, frame, tables, sources.get(name))
    return out


def _targets(name: str, frame: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """``frame`` with row (1-based), target (currency) and known (the customer's currencies)."""
    c = pl.col
    invoices = tables["invoices"].select("invoice_id", "customer_id", "currency")
    single = invoices["currency"].unique()
    portfolio = single[0] if single.len() == 1 else None
    by_customer = invoices.group_by("customer_id").agg(known=c("currency").unique().sort())
    frame = frame.with_row_index("row", offset=1).join(
        invoices.select("invoice_id", invoice_currency="currency"), on="invoice_id", how="left"
    )
    if "customer_id" not in frame.columns:  # credit notes: the invoice's customer
        frame = frame.join(
            invoices.select("invoice_id", "customer_id"), on="invoice_id", how="left"
        )
    frame = frame.join(by_customer, on="customer_id", how="left").with_columns(
        customer_currency=pl.when(c("known").list.len() == 1).then(c("known").list.first())
    )
    kept = c("known").list.contains(c("currency")).fill_null(False)
    target = pl.coalesce(
        "invoice_currency",
        "customer_currency",
        pl.when(kept).then(c("currency")),
        pl.lit(portfolio, pl.String),
    )
    if name == "payment_plans":
        first = c("instalment_date").min().over("plan_id")
        agreed = pl.coalesce(c("agreed_date").min().over("plan_id"), first)
        frame = frame.with_columns(agreed=agreed)
    return frame.sort("row").with_columns(target=target)


def _converted(
    name: str, frame: pl.DataFrame, tables: dict[str, pl.DataFrame], file: str | None
) -> pl.DataFrame:
    """:func:`in_invoice_currency` of one table."""
    c = pl.col
    rows = _targets(name, frame, tables)
    differs = (c("currency") != c("target")).fill_null(True)
    foreign = rows.filter(c("currency").is_not_null() & differs)
    if foreign.height == 0:
        return frame.with_columns(currency=rows["target"])
    where = {"file": file, "table": name, "column": "currency"}
    undetermined = foreign.filter(c("target").is_null())
    if undetermined.height:
        row = undetermined.row(0, named=True)
        known = ", ".join(row["known"] or []) or "no invoice"
        raise InputError(Problem(
            f"{ROW_NAMES[name]} in {row['currency']} names no invoice and customer "
            f"{row['customer_id']} has {known}: cannot tell which currency to convert it to "
            "(give the invoice_id, or a row in the customer's invoice currency)",
            row=row["row"], **where))  # fmt: skip
    rates = tables["fx_rates"].select("currency", "date", "rate_to_base").sort("date")
    rates = rates.rename({"date": "rate_date"})
    rated = (
        foreign.select("row", "currency", "target", "invoice_id", day=c(CONVERTED[name]))
        .sort("day")
        .join_asof(
            rates,
            left_on="day",
            right_on="rate_date",
            by="currency",
            strategy="backward",
            check_sortedness=False,
        )  # fmt: skip
        .drop("rate_date", strict=False)
        .rename({"rate_to_base": "rate_from"})
        .join_asof(
            rates.rename({"currency": "target"}),
            left_on="day",
            right_on="rate_date",
            by="target",
            strategy="backward",
            check_sortedness=False,
        )  # fmt: skip
        .drop("rate_date", strict=False)
        .rename({"rate_to_base": "rate_to"})
        .sort("row")
    )
    missing = rated.filter(c("rate_from").is_null() | c("rate_to").is_null())
    if missing.height:
        row = missing.row(0, named=True)
        lacking = row["currency"] if row["rate_from"] is None else row["target"]
        invoice = f"its invoice {row['invoice_id']}" if row["invoice_id"] else "its customer"
        raise InputError(Problem(
            f"{ROW_NAMES[name]} in {row['currency']} where {invoice} is in {row['target']}: "
            f"no fx rate for {lacking} dated on or before {row['day'].isoformat()} "
            "(fx_rates: currency, date, rate_to_base)",
            row=row["row"], **where))  # fmt: skip
    factor = (
        rows.select("row")
        .join(rated.select("row", factor=c("rate_from") / c("rate_to")), on="row", how="left")[
            "factor"
        ]
        .fill_null(1.0)
    )
    return frame.with_columns(amount=c("amount") * factor, currency=rows["target"])
