"""The canonical tables (DESIGN section 3), declared once.

Every loader maps its source to these names and types; every other module refers to columns by
these canonical names. Amounts are ``Float64`` in the invoice currency, dates are ``Date``, ids are
``String``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ID = pl.String
DATE = pl.Date
MONEY = pl.Float64

CUSTOMER_TYPES = ("B2B", "B2C")
PREFERRED_CHANNELS = ("email", "sms", "phone", "letter")
CONTACT_CHANNELS = ("email", "sms", "phone", "letter", "registered_letter", "agency", "legal")
TONES = ("friendly", "neutral", "firm", "formal")
CONTACT_STEPS = (
    "pre_due", "light_reminder", "personal_contact", "solution_offer", "last_notice",
    "formal_notice", "agency", "legal", "thank_you", "resolve_dispute",
)  # fmt: skip
"""Step names a contact may record (``contacts.step``): the dunning step the contact carried
out. When a source has no step, :mod:`workbench.dunning` infers it from channel and tone."""


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    dtype: pl.DataType
    required: bool = False
    allowed: tuple[str, ...] | None = None  # closed set of values (nulls allowed unless required)
    positive: bool = False  # value must be > 0 where present
    description: str = ""


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must exist in ``table.target_column`` (nulls are allowed)."""

    column: str
    table: str
    target_column: str


@dataclass(frozen=True)
class Table:
    """A canonical table: its key, its columns and its references."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    mandatory: bool = False
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


CUSTOMERS = Table(
    "customers",
    key=("customer_id",),
    mandatory=True,
    description="One row per customer (debtor).",
    columns=(
        Column("customer_id", ID, required=True),
        Column("name", pl.String, required=True),
        Column("customer_type", pl.String, allowed=CUSTOMER_TYPES),
        Column("country", pl.String, description="ISO 3166 alpha-2"),
        Column("language", pl.String, description="ISO 639-1 language of the drafts (fr, nl...)"),
        Column("industry", pl.String),
        Column("credit_limit", MONEY, description="currency"),
        Column("payment_terms_days", pl.Int64, description="days"),
        Column(
            "end_of_month",
            pl.Boolean,
            description="terms run to the end of the month ('60 days end of month')",
        ),
        Column("preferred_channel", pl.String, allowed=PREFERRED_CHANNELS),
        Column(
            "contact_title",
            pl.String,
            description="courtesy title of the contact: Madame, Monsieur, Mr, Ms, Frau, Herr...",
        ),
        Column("contact_name", pl.String, description="given name(s) then surname"),
        Column("email", pl.String),
        Column("phone", pl.String),
        Column("collector", pl.String),
        Column("strategic", pl.Boolean),
        Column("created_date", DATE),
    ),
)

INVOICES = Table(
    "invoices",
    key=("invoice_id",),
    mandatory=True,
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
    columns=(
        Column("invoice_id", ID, required=True),
        Column("customer_id", ID, required=True),
        Column("issue_date", DATE, required=True),
        Column("due_date", DATE, required=True),
        Column("amount", MONEY, required=True, positive=True, description="currency"),
        Column("currency", pl.String, required=True),
    ),
)

PAYMENTS = Table(
    "payments",
    key=("payment_id",),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("invoice_id", "invoices", "invoice_id"),
    ),
    columns=(
        Column("payment_id", ID, required=True),
        Column("customer_id", ID, required=True),
        Column("payment_date", DATE, required=True),
        Column("amount", MONEY, required=True, positive=True, description="currency"),
        Column("invoice_id", ID, description="null = unapplied cash"),
        Column(
            "currency",
            pl.String,
            description="currency of the amount; null = its invoice's (converted to it with "
            "fx_rates when it differs: workbench.balances.in_invoice_currency)",
        ),
    ),
)

DISPUTES = Table(
    "disputes",
    key=("dispute_id",),
    foreign_keys=(ForeignKey("invoice_id", "invoices", "invoice_id"),),
    columns=(
        Column("dispute_id", ID, required=True),
        Column("invoice_id", ID, required=True),
        Column("opened_date", DATE, required=True),
        Column("resolved_date", DATE, description="null = still open"),
        Column("reason", pl.String),
        Column("amount", MONEY, description="disputed amount, currency"),
    ),
)

PROMISES = Table(
    "promises",
    key=("promise_id",),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("invoice_id", "invoices", "invoice_id"),
    ),
    columns=(
        Column("promise_id", ID, required=True),
        Column("customer_id", ID, required=True),
        Column("promise_date", DATE, required=True, description="when the promise was made"),
        Column("promised_date", DATE, required=True, description="pay-by date"),
        Column("amount", MONEY, required=True, positive=True, description="currency"),
        Column("invoice_id", ID),
        Column(
            "currency",
            pl.String,
            description="currency of the amount; null = its invoice's (converted to it with "
            "fx_rates when it differs: workbench.balances.in_invoice_currency)",
        ),
    ),
)

CONTACTS = Table(
    "contacts",
    key=("contact_id",),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("invoice_id", "invoices", "invoice_id"),
    ),
    columns=(
        Column("contact_id", ID, required=True),
        Column("customer_id", ID, required=True),
        Column("contact_date", DATE, required=True),
        Column("channel", pl.String, required=True, allowed=CONTACT_CHANNELS),
        Column(
            "step",
            pl.String,
            allowed=CONTACT_STEPS,
            description="dunning step carried out; null = inferred from channel and tone",
        ),
        Column("outcome", pl.String),
        Column("tone", pl.String, allowed=TONES),
        Column("invoice_id", ID),
    ),
)

PAYMENT_PLANS = Table(
    "payment_plans",
    key=("plan_id", "instalment_date"),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("invoice_id", "invoices", "invoice_id"),
    ),
    description="One row per instalment of a plan.",
    columns=(
        Column("plan_id", ID, required=True),
        Column("customer_id", ID, required=True),
        Column("instalment_date", DATE, required=True),
        Column("amount", MONEY, required=True, positive=True, description="currency"),
        Column(
            "invoice_id",
            ID,
            description="the invoice this instalment pays; a plan covers every invoice named "
            "on its rows; a plan naming none covers the customer's overdue amount at its agreed "
            "date",
        ),
        Column("agreed_date", DATE, description="when the plan was agreed; null = unknown"),
        Column(
            "currency",
            pl.String,
            description="currency of the amount; null = its invoice's (converted to it with "
            "fx_rates when it differs: workbench.balances.in_invoice_currency)",
        ),
    ),
)

CREDIT_NOTES = Table(
    "credit_notes",
    key=("credit_note_id",),
    foreign_keys=(ForeignKey("invoice_id", "invoices", "invoice_id"),),
    columns=(
        Column("credit_note_id", ID, required=True),
        Column("invoice_id", ID, required=True),
        Column("date", DATE, required=True),
        Column("amount", MONEY, required=True, positive=True, description="currency"),
        Column(
            "currency",
            pl.String,
            description="currency of the amount; null = its invoice's (converted to it with "
            "fx_rates when it differs: workbench.balances.in_invoice_currency)",
        ),
    ),
)

FX_RATES = Table(
    "fx_rates",
    key=("currency", "date"),
    description="Rate to the reporting currency; needed only for multi-currency portfolios.",
    columns=(
        Column("currency", pl.String, required=True),
        Column("date", DATE, required=True),
        Column("rate_to_base", pl.Float64, required=True, positive=True),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CUSTOMERS,
        INVOICES,
        PAYMENTS,
        DISPUTES,
        PROMISES,
        CONTACTS,
        PAYMENT_PLANS,
        CREDIT_NOTES,
        FX_RATES,
    )
}
"""Every canonical table by name, in dependency order (referenced tables first)."""


def empty_frame(table: str) -> pl.DataFrame:
    """An empty frame with the canonical schema of ``table``."""
    return pl.DataFrame(schema=TABLES[table].polars_schema)
