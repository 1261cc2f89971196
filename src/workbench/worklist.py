"""The collectors' prioritized worklist (DESIGN section 7), as of a date.

- **Priority**: the expected amount at risk of a customer, the sum over its open invoices of net
  open balance (less the customer credit and unapplied cash set against it: what is really
  owed) x probability of still being open at the horizon (the risk model's scores, else
  :func:`workbench.segments.fallback_probability`); ties by oldest days past due, then
  customer_id. Thank-you rows come after every action.
- **Amounts**: open_amount and overdue_amount are the gross open invoices (the statement, as
  in the KPIs); customer_credit is the customer's whole credit (over-payments and credit notes
  beyond their invoices); the reason and the draft say what is chased net of it; the priority
  matrix bands the net open position.
- **Capacity**: phone actions go to the customer's collector in priority order, up to its calls
  per week (``[capacity]``); the rest go by the step's automated channel
  (``[capacity.fallback]``) and say so in their reason.
- **Nothing is lost**: every customer with an open balance is exactly once either in ``rows``
  (with an action) or in ``excluded`` (with its reason and, where there is one, the next step
  and its date); thank-you rows are extra. The **watch list** repeats every excluded customer
  with something overdue net of its credit and unapplied cash whose net open amount reaches
  ``worklist.watch_min_exposure``: a large exposure is never parked silently, and a customer
  whose credit covers its overdue balance is not an exposure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from workbench.balances import money_sum
from workbench.drafts import draft_messages
from workbench.labels import shown
from workbench.phrases import ACTION_LABELS, REASONS, SUMMARY
from workbench.policy import DEFAULT_POLICY, MESSAGE_STEPS, Policy
from workbench.portfolio import Portfolio
from workbench.recommend import money_text, proportionate_channel, recommendations
from workbench.segments import priority_matrix
from workbench.wording import channel_words, day_text, number_text, phrase

WORKLIST_COLUMNS = (
    "rank", "collector", "customer_id", "customer_name", "contact", "phone", "email", "channel",
    "tone", "action", "step", "reason", "risk_reasons", "open_amount", "overdue_amount",
    "customer_credit", "oldest_dpd", "amount_at_risk", "probability", "segment", "invoices",
    "last_contact", "last_outcome", "promise", "draft_message", "draft_language", "draft_note",
)  # fmt: skip
"""The columns of the worklist (XLSX sheets and CSV), in order."""

EXCLUDED_COLUMNS = (
    "customer_id", "customer_name", "collector", "open_amount", "overdue_amount",
    "customer_credit", "exclusion", "next_step", "next_date", "reason",
)  # fmt: skip
"""The columns of the excluded list (and of the watch list)."""

MONEY_COLUMNS = ("open_amount", "overdue_amount", "customer_credit", "amount_at_risk")


@dataclass(frozen=True)
class Worklist:
    """The worklist of one as-of date.

    - rows: :data:`WORKLIST_COLUMNS`, one per action (rank order; thank-you rows last);
    - excluded: :data:`EXCLUDED_COLUMNS`, one per customer with an open balance and no action
      (largest open amount first);
    - capacity: per collector: calls_per_week, phone_actions (phone actions before capacity),
      calls (kept by phone), automated (moved to the automated channel), actions (rows);
    - watch: the excluded rows whose net open amount reaches ``worklist.watch_min_exposure``
      and that have something overdue net of their credit (largest first);
    - matrix: :func:`workbench.segments.priority_matrix` of the customers with an open balance;
    - detail: the :func:`workbench.recommend.recommendations` rows after ranking and capacity
      (rank, capacity_fallback, draft_message added), for analysis;
    - language: the team's language of its texts (policy ``team.language``: reasons, actions,
      invoices, exports).
    """

    as_of: date
    currency: str
    rows: pl.DataFrame
    excluded: pl.DataFrame
    watch: pl.DataFrame
    capacity: pl.DataFrame
    matrix: pl.DataFrame
    detail: pl.DataFrame
    language: str = "en"


def ranked(actions: pl.DataFrame) -> pl.DataFrame:
    """``actions`` (recommendation rows) in priority order with ``rank`` (1, 2, ...): actions
    before thank-you rows, then amount_at_risk (highest first), oldest_dpd (highest first,
    nulls last), customer_id."""
    return (
        actions.with_columns(_thanks=pl.col("status") == "thank_you")
        .sort(
            ["_thanks", "amount_at_risk", "oldest_dpd", "customer_id"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
        .drop("_thanks")
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def calls_per_week(policy: Policy = DEFAULT_POLICY) -> pl.Expr:
    """The weekly phone capacity of the row's ``collector`` (Int64, ``[capacity]``)."""
    capacity = policy.capacity
    return pl.col("collector").replace_strict(
        capacity.calls_per_week,
        default=capacity.default_calls_per_week,
        return_dtype=pl.Int64,
    )


def assign_capacity(actions: pl.DataFrame, policy: Policy = DEFAULT_POLICY) -> pl.DataFrame:
    """Phone actions kept up to each collector's calls per week, in rank order.

    ``actions`` needs rank, collector, step, channel, reason, covered_amount. A phone action
    beyond its collector's capacity takes the step's ``[capacity.fallback]`` channel (made
    proportionate: :func:`workbench.recommend.proportionate_channel`), ``capacity_fallback`` is
    true and its reason ends with ``phone capacity reached: sent by <channel>`` (in the team's
    language).
    """
    c = pl.col
    language = policy.team.language
    fallback = {step: getattr(policy.capacity.fallback, step) for step in MESSAGE_STEPS}
    phone = c("channel") == "phone"
    position = phone.cast(pl.Int64).cum_sum().over("collector", order_by="rank")
    automated = c("step").replace_strict(fallback, default="email", return_dtype=pl.String)
    automated = proportionate_channel(automated, c("covered_amount"), policy)
    return (
        actions.with_columns(capacity_fallback=phone & (position > calls_per_week(policy)))
        .with_columns(
            channel=pl.when(c("capacity_fallback")).then(automated).otherwise(c("channel")),
        )
        .with_columns(
            reason=pl.when(c("capacity_fallback"))
            .then(
                phrase(
                    REASONS[language]["capacity"],
                    reason=c("reason"),
                    channel=channel_words(c("channel"), language),
                )
            )
            .otherwise(c("reason"))
        )
        .sort("rank")
    )


def capacity_usage(actions: pl.DataFrame, policy: Policy = DEFAULT_POLICY) -> pl.DataFrame:
    """Per collector of ``actions`` (after :func:`assign_capacity`): calls_per_week,
    phone_actions (phone before capacity), calls (kept by phone), automated (moved), actions
    (rows). Sorted by collector."""
    c = pl.col
    return (
        actions.group_by("collector")
        .agg(
            phone_actions=((c("channel") == "phone") | c("capacity_fallback")).sum().cast(pl.Int64),
            calls=(c("channel") == "phone").sum().cast(pl.Int64),
            automated=c("capacity_fallback").sum().cast(pl.Int64),
            actions=pl.len().cast(pl.Int64),
        )
        .with_columns(calls_per_week=calls_per_week(policy))
        .select("collector", "calls_per_week", "phone_actions", "calls", "automated", "actions")
        .sort("collector")
    )


def _invoice_text(language: str = "en") -> pl.Expr:
    """The invoices of a row as text: ``I5 (1,999.75 EUR due 2026-04-14); ...``,
    ``I5 (1 999,75 EUR échue le 14/04/2026) ; ...``."""
    element = pl.element().struct
    say = REASONS[language]
    parts = {
        "invoice": element.field("invoice_id"),
        "amount": money_text(element.field("open_balance"), element.field("currency"), language),
        "date": day_text(element.field("due_date"), language),
    }
    one = (
        pl.when(element.field("days_past_due") > 0)
        .then(phrase(say["invoice_overdue"], **parts))
        .otherwise(phrase(say["invoice_not_due"], **parts))
    )
    return pl.col("invoices").list.eval(one).list.join(say["list_separator"])


def _risk_reasons(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.DataFrame:
    """customer_id, risk_reasons: why the customer is at risk, in words a collector can say
    (:func:`workbench.explain.customer_reasons`, from the behaviour features as of ``as_of``)."""
    from workbench.explain import customer_reasons
    from workbench.features import customer_features

    return customer_reasons(customer_features(portfolio, as_of, policy).collect(), policy=policy)


def build_worklist(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
) -> Worklist:
    """The worklist of ``portfolio`` as of ``as_of`` (see the module docstring).

    ``scores``: the risk model's probabilities (invoice_id, probability of still being open at
    the horizon), e.g. :func:`workbench.model.score`; without it, the fallback probability.
    """
    recs = recommendations(portfolio, as_of, policy, scores)
    currency = recs["currency"][0] if recs.height else ""
    actions = assign_capacity(ranked(recs.filter(pl.col("status") != "excluded")), policy)
    actions = actions.hstack(draft_messages(actions, as_of, policy)).join(
        _risk_reasons(portfolio, as_of, policy), on="customer_id", how="left", maintain_order="left"
    )
    c = pl.col
    rows = actions.with_columns(
        contact=c("contact_name"), invoices=_invoice_text(policy.team.language)
    ).select(WORKLIST_COLUMNS)
    excluded = (
        recs.filter(c("status") == "excluded")
        .sort(["open_amount", "customer_id"], descending=[True, False])
        .select(EXCLUDED_COLUMNS)
    )
    # net of the credit and unapplied cash the customer holds: a customer whose credit covers
    # its overdue balance is not on the watch list
    watch = (
        recs.filter(c("status") == "excluded")
        .filter(
            c("net_open") >= policy.worklist.watch_min_exposure,
            c("net_overdue") > 0,
        )
        .sort(["open_amount", "customer_id"], descending=[True, False])
        .select(EXCLUDED_COLUMNS)
    )
    # the matrix bands the net position (the amount at risk is net already)
    matrix = priority_matrix(
        recs.filter(c("status") != "thank_you").with_columns(open_amount=c("net_open")), policy
    )
    return Worklist(
        as_of=as_of,
        currency=currency,
        rows=rows,
        excluded=excluded,
        watch=watch,
        capacity=capacity_usage(actions, policy),
        matrix=matrix,
        detail=actions,
        language=policy.team.language,
    )


def _totals(worklist: Worklist, thanks: int) -> pl.DataFrame:
    """The totals table of :func:`summary_tables` (item, value), in the worklist's language."""
    language = worklist.language
    say = SUMMARY[language]
    rows, excluded = worklist.rows, worklist.excluded
    as_of = worklist.as_of.isoformat() if language == "en" else worklist.as_of.strftime("%d/%m/%Y")
    items = ("as_of", "currency", "customers", "actions", "thanks", "excluded", "open_amount",
             "at_risk")  # fmt: skip
    values = [
        as_of,
        worklist.currency,
        str(rows.height - thanks + excluded.height),
        str(rows.height - thanks),
        str(thanks),
        str(excluded.height),
        number_text(rows["open_amount"].sum() + excluded["open_amount"].sum(), 2, language),
        number_text(rows["amount_at_risk"].sum(), 2, language),
    ]
    return pl.DataFrame({"item": [say[item] for item in items], "value": values})


def summary_tables(worklist: Worklist) -> dict[str, pl.DataFrame]:
    """Small tables describing the worklist, by title: totals, actions by channel, by tone, by
    action, excluded by reason, capacity per collector, priority matrix. Titles, items and the
    codes in the cells (channels, tones, exclusions, bands) are in the worklist's language; the
    column names are codes (:mod:`workbench.labels` names them in the exports)."""
    c = pl.col
    language = worklist.language
    say = SUMMARY[language]
    rows, excluded = worklist.rows, worklist.excluded
    thanks = rows.filter(c("action") == ACTION_LABELS[language]["thank_you"]).height

    def counts(frame: pl.DataFrame, by: pl.Expr, name: str) -> pl.DataFrame:
        return (
            frame.group_by(by.alias(name))
            .agg(customers=pl.len().cast(pl.Int64), open_amount=money_sum(c("open_amount")))
            .sort(["customers", name], descending=[True, False])
        )

    bands = [shown(c(band), band, language) for band in ("risk_band", "value_band")]
    return {
        say["totals"]: _totals(worklist, thanks),
        say["by_channel"]: counts(rows, shown(c("channel"), "channel", language), "channel"),
        say["by_tone"]: counts(rows, shown(c("tone"), "tone", language), "tone"),
        say["by_action"]: counts(rows, c("action"), "action"),
        say["by_exclusion"]: counts(
            excluded, shown(c("exclusion"), "exclusion", language), "reason"
        ),
        say["capacity"]: worklist.capacity,
        say["matrix"]: worklist.matrix.with_columns(bands),
    }
