"""Synthetic receivables portfolio: realistic, vectorized and deterministic.

:func:`generate_portfolio` builds every canonical table of :mod:`workbench.schema` (customers,
invoices, payments, disputes, promises, contacts, payment_plans, credit_notes) for a fictitious
company invoicing in EUR, plus a ``ground_truth`` table holding each customer's latent behaviour
(its *archetype* and the parameters drawn for it). The archetype is never written into the
customers table: models and segmentations must rediscover it from the history.

Conventions used throughout:

- dates are handled internally as whole days since 1970-01-01 (``int64``), converted to
  ``pl.Date`` at the end; every delay or offset is a number of **days**;
- amounts are handled internally in integer **cents** (EUR) so that instalments, credit notes
  and payments add up exactly to the cent; they are written as ``Float64`` currency rounded to
  2 decimals;
- every random draw comes from ``numpy.random.default_rng`` streams derived from ``seed`` in a
  fixed order, and every table is sorted by its id, so the same arguments give the same bytes
  on disk;
- event dates (issue, payment, contact, dispute opened and resolved, credit note, promise made)
  are never after ``end``. Schedule dates may lie after ``end`` when the commitment was made on
  or before it: an invoice's due date, a pending promise's pay-by date, the remaining
  instalments of a payment plan agreed on or before ``end``.

The generator works on whole arrays (numpy, polars): it loops only over archetypes, countries,
cadence steps, columns and, for the contact history, over the working days of the window (each
day's dunning decisions depend on the contacts of the days before, as in the recommendation
engine); never over customers, invoices, payments or contacts.

How the history is made, in order:

1. customers: archetype (exact shares, shuffled), size (typical invoice amount), invoicing rate,
   terms, identity (names, contacts, collector), created date;
2. invoices: issue dates drawn from a seasonal calendar (quarter ends, December busier, August
   quieter, few weekends) over each customer's active window; lognormal amounts;
3. disputes (opened 5-25 days after issue, resolved 10-60 days later); the invoice is paid only
   after resolution; some billing errors are settled by a credit note;
4. a target payment date per invoice: due date plus a delay drawn from the archetype, plus the
   slow-down of August and of the year end, moved to a working day;
5. payment plans for some large overdue invoices of cash-strapped customers, agreed in a phone
   call 2-5 weeks past due (on the customer's call weekday, so that its plan calls are on the
   same day or a week apart); each instalment row names its invoice and the agreement day;
6. credit notes (billing-error disputes, ~1% random partial returns), always dated on or before
   the invoice's first payment;
7. payments: one, or 2-3 instalments summing exactly to the amount due, or the plan's
   instalments (late when missed); defaulters pay nothing after their default date; payments
   after ``end`` are dropped; ~3% of the last 30 days' payments are left unapplied;
8. contacts: the dunning history, made working day after working day under the contact
   governance of the recommendation engine (:mod:`workbench.recommend`, policy defaults), each
   contact recording the ``step`` it carried out:

   - each overdue invoice is ready for the cadence step after the one it reached: light
     reminder (from 3 days past due, by e-mail or the customer's written channel of choice),
     personal contact (10, phone), solution offer (20, phone or e-mail), last notice (35,
     letter), formal notice (50, registered letter), each threshold 0-2 days later per invoice,
     and never before 7 days (10 after a solution offer or last notice) after the invoice's
     previous step; days past due never make a step repeat; an invoice first chased late starts
     at its days-past-due step, at most the last notice; friendly pre-due e-mails 3 days before
     due for 30% of the invoices of risky customers (one per invoice);
   - an invoice is not chased while disputed or under a pending promise (until pay-by + 3
     days), nor once on a plan (before it, no further than the personal contact: the call
     agreeing the plan is its solution offer);
   - one action per customer per day, the highest step governance allows: an amicable message
     covers every invoice ready for its step or a lower one (one row per invoice); a formal
     notice covers every invoice of the customer unpaid, at least 45 days past due, not disputed,
     not under a plan or a pending promise and not yet noticed; once a notice's deadline (11
     days) has passed, its unpaid invoices are handed to an agency if they add up to 1,000 EUR
     or more, else left to a write-off review (nothing sent);
   - governance: at least 3 days between messages to a customer and at most 2 in any 7 days;
     nothing sent and no hand-over for 11 days after a formal notice; at most one formal notice
     per 30 days; no formal notice nor hand-over within 7 days after a conversation; no other
     message within 6 days of a plan call; a letter only when every invoice it covers has 100
     EUR open or more (500 EUR for a registered letter), else an e-mail;
   - besides, 60% of the disputes are raised in the customer's e-mail or call on their opening
     day (outcome ``dispute_raised``, step ``resolve_dispute``) and each plan is agreed in a phone
     call (``plan_agreed``, step ``solution_offer``);
   - outcomes: ``sent`` (written), ``reached`` / ``no_answer`` / ``left_message`` /
     ``promise_to_pay`` (phone, one per call), ``handed_over`` (agency);
9. promises from the phone calls answered ``promise_to_pay`` (one per invoice, later calls are
   ``reached``), for the open amount, kept or broken consistently with the payments.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from workbench.policy import DEFAULT_POLICY
from workbench.schema import CONTACT_CHANNELS, CONTACT_STEPS, TABLES

__all__ = ["ARCHETYPES", "ARCHETYPE_SHARES", "TABLE_NAMES", "generate_portfolio", "write_portfolio"]

# --- latent behaviour --------------------------------------------------------------------------

ARCHETYPES = (
    "reliable",
    "occasional",
    "chronic_late",
    "deteriorating",
    "cash_strapped",
    "disputer",
    "defaulter",
    "new",
)
"""Customer archetypes, written only to ``ground_truth``."""

ARCHETYPE_SHARES = (0.35, 0.20, 0.12, 0.08, 0.08, 0.07, 0.04, 0.06)
"""Share of customers per archetype (same order as :data:`ARCHETYPES`)."""

REL, OCC, CHR, DET, CASH, DISP, DEF, NEW = range(len(ARCHETYPES))

TABLE_NAMES = (
    "customers",
    "invoices",
    "payments",
    "disputes",
    "promises",
    "contacts",
    "payment_plans",
    "credit_notes",
)
"""Canonical tables produced, in the order they are written."""

# Per-archetype parameters, indexed by archetype code.
PARTIAL_RATE = np.array([0.02, 0.03, 0.12, 0.06, 0.45, 0.05, 0.10, 0.05])
"""Share of invoices paid in 2-3 instalments."""
DISPUTE_RATE = np.array([0.02, 0.02, 0.02, 0.02, 0.02, 0.20, 0.02, 0.02])
"""Share of invoices disputed."""
PROMISE_KEEP = np.array([0.92, 0.85, 0.40, 0.55, 0.35, 0.75, 0.05, 0.70])
"""Probability that a promise to pay is kept, when the payment timing allows either."""

TERMS = ((30, False), (45, False), (60, False), (60, True))
"""Payment terms: (days, end of month); code i of TERMS_CODES."""
TERMS_CODES = ("30", "45", "60", "60EOM")
TERMS_SHARES_B2B = (0.40, 0.25, 0.15, 0.20)
TERMS_SHARES_B2C = (0.90, 0.10, 0.0, 0.0)

NEVER = 2**40
"""Sentinel day number for "not (yet) happened"."""

UNAPPLIED_SHARE = 0.03
"""Share of the last 30 days' payments left unapplied (invoice_id null)."""

# Dunning steps: code = index into schema.CONTACT_STEPS; for 0-6 the code is also the cadence
# rank (0 = the friendly pre-due reminder sent to risky customers).
S_PRE, S_LIGHT, S_PERSONAL, S_SOLUTION, S_LAST, S_FORMAL, S_AGENCY = range(7)
S_RESOLVE = CONTACT_STEPS.index("resolve_dispute")
STEP_DPD = (-3, 3, 10, 20, 35, 50)
"""Days past due from which each step 0-5 may be sent (each invoice draws 0-2 days more for
steps 1-5; the pre-due reminder goes on the working day on or before)."""
STEP_WAIT = (0, 7, 7, 10, 10)
"""Days to wait after step r (1-4) of an invoice before its step r + 1 (policy cadence.wait_days)."""
STEP_TONE = ("friendly", "friendly", "neutral", "neutral", "firm", "formal", "formal", "formal", "friendly", "neutral")
"""Tone of each step (same order as schema.CONTACT_STEPS)."""
SOLUTION_BY_EMAIL = 0.4
"""Share of the solution offers made by email rather than phone."""

# Contact governance of the recommendation engine (policy defaults), obeyed by the history.
MIN_GAP_DAYS = 3
"""At least this many days between two outbound customer-facing messages to a customer."""
CAP_WINDOW_DAYS = 7
"""At most two such messages in any window of this many days."""
NOTICE_SILENCE_DAYS = 11
"""A formal notice's deadline (postal 3 + answer 8 days): nothing sent to the customer, no
hand-over, until it has passed."""
AFTER_CONVERSATION_DAYS = 7
"""No formal notice nor hand-over within this many days after a conversation."""
NOTICE_EVERY_DAYS = 30
"""At most one formal notice per customer in this many days."""
NOTICE_MIN_DPD = 45
"""A formal notice covers every chased invoice of the customer at least this many days past due."""
PLAN_QUIET_DAYS = 6
"""No other message to a customer within this many days of the call agreeing a plan."""
LETTER_MIN_CENTS = 10_000
"""A letter only when every invoice it covers has at least this open amount (cents); else email."""
REGISTERED_MIN_CENTS = 50_000
"""A registered letter only when every invoice it covers has at least this open amount (cents)."""
AGENCY_MIN_CENTS = 100_000
"""Invoices unpaid after their formal notice's deadline are handed to an agency when they add up
to at least this (cents); below it they are left to a write-off review (no contact)."""

CHANNELS = CONTACT_CHANNELS
"""Contact channels; a channel code is an index into this tuple."""
EMAIL, SMS, PHONE, LETTER, REGISTERED, AGENCY = range(6)
OUTCOMES = (
    "sent", "reached", "no_answer", "left_message", "promise_to_pay", "handed_over", "plan_agreed",
    "dispute_raised",
)  # fmt: skip
"""Contact outcomes; an outcome code is an index into this tuple."""
SENT, REACHED, NO_ANSWER, LEFT_MESSAGE, PROMISE, HANDED_OVER, PLAN_AGREED, DISPUTE_RAISED = range(8)
PHONE_OUTCOME_SHARES = (0.30, 0.30, 0.18, 0.22)
"""Shares of the phone outcomes reached, no_answer, left_message, promise_to_pay."""

# --- word lists for fake identities ------------------------------------------------------------

COUNTRIES = ("FR", "BE", "DE", "ES", "IT", "GB", "NL")
COUNTRY_SHARES = (0.74, 0.07, 0.05, 0.04, 0.04, 0.03, 0.03)

SURNAMES = {
    "FR": ("Dupont", "Martin", "Bernard", "Durand", "Dubois", "Moreau", "Laurent", "Simon",
           "Michel", "Lefebvre", "Leroy", "Roux", "Bertrand", "Morel", "Fournier", "Girard",
           "Bonnet", "Lambert", "Fontaine", "Rousseau", "Vincent", "Faure", "Mercier", "Blanc",
           "Guérin", "Boyer", "Garnier", "Chevalier", "Legrand", "Gauthier", "Perrin", "Robin",
           "Clément", "Morin", "Henry", "Roussel", "Mathieu", "Masson", "Marchand", "Duval"),
    "BE": ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
           "Wouters", "Dubois", "Lambert", "Dumont", "Leclercq", "Renard", "Hermans"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann"),
    "ES": ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz",
           "Díaz", "Moreno", "Álvarez", "Romero", "Navarro", "Torres", "Vidal"),
    "IT": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "Costa", "Fontana"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
           "Roberts", "Walker", "Wright", "Robinson", "Hughes", "Green", "Hall"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit",
           "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks"),
}
FIRST_NAMES = {
    "FR": ("Marie", "Jean", "Pierre", "Sophie", "Nicolas", "Camille", "Julien", "Isabelle",
           "Thomas", "Nathalie", "Laurent", "Céline", "François", "Claire", "Éric", "Sandrine",
           "Olivier", "Julie", "Philippe", "Hélène", "Antoine", "Aurélie", "Stéphane", "Émilie"),
    "BE": ("Lucas", "Emma", "Louis", "Léa", "Arthur", "Chloé", "Maxime", "Laura", "Koen",
           "Sarah", "Wim", "An"),
    "DE": ("Thomas", "Anna", "Michael", "Julia", "Andreas", "Katrin", "Stefan", "Sabine",
           "Jürgen", "Claudia", "Markus", "Petra"),
    "ES": ("Carlos", "María", "Javier", "Lucía", "David", "Carmen", "Sergio", "Laura", "Pablo",
           "Elena", "Jorge", "Marta"),
    "IT": ("Marco", "Giulia", "Luca", "Francesca", "Andrea", "Chiara", "Matteo", "Sara",
           "Alessandro", "Valentina", "Giuseppe", "Elena"),
    "GB": ("James", "Emma", "Oliver", "Sophie", "Harry", "Charlotte", "George", "Emily",
           "Jack", "Olivia", "William", "Lucy"),
    "NL": ("Jan", "Anne", "Pieter", "Sanne", "Daan", "Lotte", "Bram", "Eva", "Sander",
           "Femke", "Thijs", "Lisa"),
}
# industry, then the activity word by country (BE uses the French word).
ACTIVITIES = (
    ("logistics", "Logistique", "Logistik", "Logística", "Logistica", "Logistics", "Logistiek"),
    ("transport", "Transports", "Spedition", "Transportes", "Trasporti", "Haulage", "Transport"),
    ("construction", "Bâtiment", "Bau", "Construcciones", "Costruzioni", "Building", "Bouw"),
    ("wholesale", "Distribution", "Handel", "Distribuciones", "Distribuzione", "Trading",
     "Groothandel"),
    ("manufacturing", "Industrie", "Maschinenbau", "Industrias", "Industria", "Engineering",
     "Techniek"),
    ("food", "Alimentaire", "Lebensmittel", "Alimentación", "Alimentari", "Foods", "Voeding"),
    ("it_services", "Informatique", "IT-Systeme", "Informática", "Informatica", "IT Solutions",
     "ICT"),
    ("business_services", "Conseil", "Beratung", "Consultoría", "Consulenza", "Consulting",
     "Advies"),
    ("printing", "Imprimerie", "Druckerei", "Artes Gráficas", "Tipografia", "Print",
     "Drukkerij"),
    ("electrical", "Électricité", "Elektrotechnik", "Electricidad", "Impianti Elettrici",
     "Electrical", "Elektrotechniek"),
    ("healthcare", "Médical", "Medizintechnik", "Sanitarios", "Medicale", "Healthcare", "Zorg"),
    ("retail", "Commerce", "Einzelhandel", "Comercial", "Commerciale", "Retail", "Winkels"),
)
LEGAL_FORMS = {
    "FR": ("SARL", "SAS", "SA", "EURL"),
    "BE": ("SRL", "SA", "BV"),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "ES": ("SL", "SA"),
    "IT": ("Srl", "SpA"),
    "GB": ("Ltd", "PLC"),
    "NL": ("BV", "NV"),
}
FEMALE_FIRST_NAMES = frozenset((
    "Marie", "Sophie", "Camille", "Isabelle", "Nathalie", "Céline", "Claire", "Sandrine", "Julie",
    "Hélène", "Aurélie", "Émilie", "Emma", "Léa", "Chloé", "Laura", "Sarah", "An", "Anna", "Julia",
    "Katrin", "Sabine", "Claudia", "Petra", "María", "Lucía", "Carmen", "Elena", "Marta", "Giulia",
    "Francesca", "Chiara", "Sara", "Valentina", "Charlotte", "Emily", "Olivia", "Lucy", "Anne",
    "Sanne", "Lotte", "Eva", "Femke", "Lisa",
))  # fmt: skip
"""The first names of FIRST_NAMES that are women's (the contact's courtesy title follows)."""
# courtesy titles (woman, man) as an ERP of each language stores them
TITLES = {
    "fr": ("Madame", "Monsieur"), "nl": ("Mevrouw", "De heer"), "de": ("Frau", "Herr"),
    "es": ("Sra.", "Sr."), "it": ("Sig.ra", "Sig."), "en": ("Ms", "Mr"),
}  # fmt: skip
TLDS = {"FR": "fr", "BE": "be", "DE": "de", "ES": "es", "IT": "it", "GB": "co.uk", "NL": "nl"}
PERSONAL_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "outlook.com", "yahoo.fr", "laposte.net")
# international prefix and digit groups of a national number
PHONE_FORMATS = {
    "FR": ("+33", (1, 2, 2, 2, 2)),
    "BE": ("+32", (1, 3, 2, 2)),
    "DE": ("+49", (2, 8)),
    "ES": ("+34", (3, 3, 3)),
    "IT": ("+39", (2, 4, 4)),
    "GB": ("+44", (2, 4, 4)),
    "NL": ("+31", (2, 3, 4)),
}
PREFERRED = ("email", "phone", "sms", "letter")
PREFERRED_SHARES = (0.50, 0.25, 0.10, 0.15)
DISPUTE_REASONS = ("quality", "billing_error", "delivery", "price", "other")
DISPUTE_REASON_SHARES = (0.25, 0.30, 0.20, 0.15, 0.10)
BILLING_ERROR = DISPUTE_REASONS.index("billing_error")


# --- public API --------------------------------------------------------------------------------


def generate_portfolio(*, customers: int, seed: int, start: date, end: date) -> dict[str, pl.DataFrame]:
    """A synthetic portfolio: every canonical table plus ``ground_truth``.

    ``customers`` is the number of customers (at least 1); invoices are issued in
    ``[start, end]`` (about 2 per customer per month). Returns a dict with the keys of
    :data:`TABLE_NAMES`, each a frame in the exact canonical schema (``TABLES[name]
    .polars_schema``) sorted by its id, and ``ground_truth`` (one row per customer: customer_id,
    archetype, terms_code, typical_invoice_amount in EUR, invoices_per_month, default_date,
    deterioration_start, partial_payment_rate, dispute_rate, promise_keep_rate).

    Deterministic: the same arguments always give the same frames.
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    rng = _streams(seed)
    window = _Window(_day(start), _day(end))
    cust = _customer_latents(customers, window, rng["customers"])
    inv = _invoices(cust, window, rng["invoices"])
    disputes = _disputes(cust, inv, window, rng["disputes"])
    target = _target_payment_days(cust, inv, disputes, window, rng["delays"])
    plans = _payment_plans(cust, inv, disputes, target, window, rng["plans"])
    credits = _credit_notes(inv, disputes, plans, target, window, rng["credits"])
    pays = _payments(cust, inv, plans, credits, target, window, rng["payments"])
    settled = _settlement_days(inv, credits, pays)
    contacts, promises = _contacts(
        cust, inv, disputes, plans, credits, pays, settled, window, rng["contacts"], rng["promises"]
    )

    tables = {
        "customers": _customers_frame(cust, rng["identity"]),
        "invoices": _invoices_frame(inv),
        "payments": _payments_frame(inv, pays),
        "disputes": _disputes_frame(disputes, window),
        "promises": _promises_frame(inv, promises),
        "contacts": _contacts_frame(contacts),
        "payment_plans": _plans_frame(inv, plans),
        "credit_notes": _credit_notes_frame(credits),
        "ground_truth": _ground_truth_frame(cust),
    }
    for name in TABLE_NAMES:
        _check_schema(name, tables[name])
    return tables


def write_portfolio(tables: dict[str, pl.DataFrame], out_dir: Path) -> list[Path]:
    """Write each table as ``<out_dir>/<table>.parquet``; return the written paths.

    Every file is first written into a temporary folder next to ``out_dir`` and moved into
    place only once all are written, so a failure leaves ``out_dir`` as it was. Files are
    written in sorted table order with fixed options, so equal frames give equal bytes.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        names = sorted(tables)
        for name in names:
            tables[name].write_parquet(tmp / f"{name}.parquet", compression="zstd", statistics=True)
        out_dir.mkdir(exist_ok=True)
        written = []
        for name in names:
            target = out_dir / f"{name}.parquet"
            os.replace(tmp / f"{name}.parquet", target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- random streams, calendar ------------------------------------------------------------------

_STAGES = (
    "customers", "identity", "invoices", "disputes", "delays", "plans", "credits", "payments",
    "contacts", "promises",
)


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per stage, derived from ``seed`` in a fixed order."""
    children = np.random.SeedSequence(seed).spawn(len(_STAGES))
    return {name: np.random.default_rng(child) for name, child in zip(_STAGES, children)}


@dataclass(frozen=True)
class _Window:
    """The generated period, as day numbers (days since 1970-01-01), both ends included."""

    start: int
    end: int

    @property
    def days(self) -> int:
        return self.end - self.start + 1


_EPOCH = date(1970, 1, 1)


def _day(d: date) -> int:
    """``d`` as a day number (days since 1970-01-01)."""
    return (d - _EPOCH).days


def _weekday(days: np.ndarray) -> np.ndarray:
    """Day of week of day numbers: 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _next_working_day(days: np.ndarray) -> np.ndarray:
    """Saturdays and Sundays moved to the following Monday."""
    wd = _weekday(days)
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def _previous_working_day(days: np.ndarray) -> np.ndarray:
    """Saturdays and Sundays moved to the preceding Friday."""
    wd = _weekday(days)
    return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


def _month(days: np.ndarray) -> np.ndarray:
    """Calendar month (1-12) of day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def _day_of_month(days: np.ndarray) -> np.ndarray:
    """Day of month (1-31) of day numbers."""
    first = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
    return days - first.astype(np.int64) + 1


def _end_of_month(days: np.ndarray) -> np.ndarray:
    """Day number of the last day of the month of each day number."""
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    return (month + 1).astype("datetime64[D]").astype(np.int64) - 1


def _calendar_weights(window: _Window) -> np.ndarray:
    """Relative invoicing intensity of each day of the window (mean 1).

    Weekdays 1, Saturdays 0.15, Sundays 0.05; x1.35 from the 10th of the last month of each
    quarter, x1.15 in December, x0.7 in August.
    """
    days = np.arange(window.start, window.end + 1)
    wd, month, dom = _weekday(days), _month(days), _day_of_month(days)
    w = np.where(wd < 5, 1.0, np.where(wd == 5, 0.15, 0.05))
    w *= np.where(np.isin(month, (3, 6, 9, 12)) & (dom >= 10), 1.35, 1.0)
    w *= np.where(month == 12, 1.15, 1.0)
    w *= np.where(month == 8, 0.7, 1.0)
    return w / w.mean()


def _exact_counts(shares: tuple[float, ...], n: int) -> np.ndarray:
    """``n`` split in proportion to ``shares`` (largest remainders; ties by position)."""
    raw = np.asarray(shares) / sum(shares) * n
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _group_positions(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: group index and position in group."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return group, np.arange(len(group)) - first


# --- customers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Customers:
    """Latent and observable customer attributes, one array element per customer."""

    archetype: np.ndarray  # archetype code
    b2b: np.ndarray  # bool
    country: np.ndarray  # index into COUNTRIES
    size: np.ndarray  # median invoice amount, EUR
    sigma: np.ndarray  # lognormal spread of invoice amounts
    rate: np.ndarray  # invoices per month
    terms: np.ndarray  # index into TERMS
    created: np.ndarray  # day number
    active_from: np.ndarray  # first possible issue day
    active_to: np.ndarray  # last possible issue day
    default_day: np.ndarray  # day from which a defaulter pays nothing (NEVER otherwise)
    deterioration_day: np.ndarray  # start of the deterioration ramp (NEVER otherwise)
    deterioration_days: np.ndarray  # extra days late reached at `end` by deteriorating customers
    strategic: np.ndarray  # bool
    preferred: np.ndarray  # object array: preferred channel or None

    @property
    def n(self) -> int:
        return len(self.archetype)


def _customer_latents(n: int, window: _Window, rng: np.random.Generator) -> _Customers:
    """Archetypes, sizes, rates, terms and life dates of ``n`` customers."""
    archetype = rng.permutation(np.repeat(np.arange(len(ARCHETYPES)), _exact_counts(ARCHETYPE_SHARES, n)))
    b2b = rng.random(n) < 0.8
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARES)
    log_size = np.where(b2b, rng.normal(np.log(1500), 0.9, n), rng.normal(np.log(120), 0.5, n))
    sigma = np.where(b2b, 0.7, 0.5)
    z = (log_size - np.log(1500)) / 0.9
    rate = np.where(
        b2b,
        np.exp(rng.normal(np.log(2.3), 0.45, n) + 0.25 * z),
        np.exp(rng.normal(np.log(0.7), 0.5, n)),
    )
    terms = np.where(
        b2b,
        rng.choice(len(TERMS), size=n, p=TERMS_SHARES_B2B),
        rng.choice(len(TERMS), size=n, p=TERMS_SHARES_B2C),
    )
    created, active_from = _life_start(archetype, window, rng)
    default_day, active_to = _default_days(archetype, window, rng)
    deterioration_day = np.where(
        archetype == DET, window.end - rng.integers(150, 211, n), NEVER
    )
    deterioration_days = np.where(archetype == DET, rng.uniform(35, 60, n), 0.0)
    volume = np.log(np.exp(log_size) * rate) + rng.normal(0, 0.3, n)
    strategic = np.zeros(n, dtype=bool)
    n_strategic = int(round(0.05 * n))
    if n_strategic:
        strategic[np.argsort(-volume, kind="stable")[:n_strategic]] = True
    preferred = np.array(PREFERRED, dtype=object)[rng.choice(len(PREFERRED), size=n, p=PREFERRED_SHARES)]
    preferred[rng.random(n) < 0.5] = None
    return _Customers(
        archetype=archetype,
        b2b=b2b,
        country=country,
        size=np.exp(log_size),
        sigma=sigma,
        rate=rate,
        terms=terms,
        created=created,
        active_from=active_from,
        active_to=active_to,
        default_day=default_day,
        deterioration_day=deterioration_day,
        deterioration_days=deterioration_days,
        strategic=strategic,
        preferred=preferred,
    )


def _life_start(archetype: np.ndarray, window: _Window, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Created day and first possible issue day of each customer.

    New customers are created within the last 120 days before ``end``; 10% of the steady
    archetypes joined during the window; the rest were created 1 month to 8 years before start.
    """
    n = len(archetype)
    created = window.start - rng.integers(30, 8 * 365, n)
    joined_late = np.isin(archetype, (REL, OCC, CHR, CASH, DISP)) & (rng.random(n) < 0.10)
    late_span = max(window.days - 150, 1)
    created = np.where(joined_late, window.start + rng.integers(0, late_span, n), created)
    created = np.where(archetype == NEW, window.end - rng.integers(5, 121, n), created)
    return created, np.maximum(created, window.start)


def _default_days(archetype: np.ndarray, window: _Window, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Default day (defaulters only, else NEVER) and last possible issue day of each customer.

    A defaulter stops paying on a day between 35% and 85% of the window (at least 60 days
    before ``end`` when the window allows); deliveries, hence invoices, go on 15-60 days more.
    """
    n = len(archetype)
    lo = window.start + int(0.35 * window.days)
    hi = max(lo + 1, min(window.start + int(0.85 * window.days), window.end - 60))
    default_day = np.where(archetype == DEF, rng.integers(lo, hi, n), NEVER)
    active_to = np.where(
        archetype == DEF, np.minimum(default_day + rng.integers(15, 61, n), window.end), window.end
    )
    return default_day, active_to


# --- invoices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Invoices:
    """Invoices sorted by issue day (the row index is the invoice number minus 1)."""

    customer: np.ndarray  # customer index
    issue: np.ndarray  # day number
    due: np.ndarray  # day number
    cents: np.ndarray  # amount, EUR cents

    @property
    def n(self) -> int:
        return len(self.customer)


def _invoices(cust: _Customers, window: _Window, rng: np.random.Generator) -> _Invoices:
    """Invoices of every customer over its active window, numbered in issue order."""
    weights = _calendar_weights(window)
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    lo = cust.active_from - window.start
    hi = np.maximum(cust.active_to - window.start, lo)
    mass = cum[hi + 1] - cum[lo]
    counts = rng.poisson(cust.rate * 12 / 365.25 * mass)
    customer = np.repeat(np.arange(cust.n), counts)
    u = cum[lo[customer]] + rng.random(len(customer)) * mass[customer]
    offset = np.clip(np.searchsorted(cum, u, side="right") - 1, lo[customer], hi[customer])
    issue = window.start + offset
    log_amount = rng.normal(np.log(cust.size[customer]), cust.sigma[customer])
    cents = np.maximum(np.round(np.exp(log_amount) * 100), 500).astype(np.int64)
    order = np.lexsort((customer, issue))
    customer, issue, cents = customer[order], issue[order], cents[order]
    return _Invoices(customer=customer, issue=issue, due=_due_days(cust, customer, issue), cents=cents)


def _due_days(cust: _Customers, customer: np.ndarray, issue: np.ndarray) -> np.ndarray:
    """Due day: issue + terms days, or for "60 days end of month" the last day of the month of
    issue + 60 days."""
    terms = cust.terms[customer]
    days = np.array([t[0] for t in TERMS])[terms]
    eom = np.array([t[1] for t in TERMS])[terms]
    return np.where(eom, _end_of_month(issue + days), issue + days)


# --- disputes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Disputes:
    """Disputes (one at most per invoice) and, per invoice, the day its dispute is resolved."""

    invoice: np.ndarray  # invoice index, sorted by opened day then invoice
    opened: np.ndarray  # day number
    resolved: np.ndarray  # day number, may be after `end` (then still open at `end`)
    reason: np.ndarray  # index into DISPUTE_REASONS
    cents: np.ndarray  # disputed amount, cents
    resolved_by_invoice: np.ndarray  # per invoice: resolution day, or -1 when not disputed
    opened_by_invoice: np.ndarray  # per invoice: opening day, or NEVER when not disputed


def _disputes(cust: _Customers, inv: _Invoices, window: _Window, rng: np.random.Generator) -> _Disputes:
    """Disputes opened 5-25 days after issue on a working day (never after ``end``), resolved
    10-60 days later.

    Disputers dispute ~20% of their invoices, others ~2%; 60% dispute the whole invoice, the
    rest 20-90% of it.
    """
    drawn = inv.issue + rng.integers(5, 26, inv.n)
    opened_all = np.where(_next_working_day(drawn) <= inv.issue + 25, _next_working_day(drawn), _previous_working_day(drawn))
    chosen = (rng.random(inv.n) < DISPUTE_RATE[cust.archetype[inv.customer]]) & (opened_all <= window.end)
    invoice = np.flatnonzero(chosen)
    k = len(invoice)
    opened = opened_all[invoice]
    resolved = opened + rng.integers(10, 61, k)
    reason = rng.choice(len(DISPUTE_REASONS), size=k, p=DISPUTE_REASON_SHARES)
    whole = rng.random(k) < 0.6
    share = np.where(whole, 1.0, rng.uniform(0.2, 0.9, k))
    cents = np.maximum(np.round(inv.cents[invoice] * share), 1).astype(np.int64)
    order = np.lexsort((invoice, opened))
    resolved_by_invoice = np.full(inv.n, -1, dtype=np.int64)
    resolved_by_invoice[invoice] = resolved
    opened_by_invoice = np.full(inv.n, NEVER, dtype=np.int64)
    opened_by_invoice[invoice] = opened
    return _Disputes(
        invoice=invoice[order],
        opened=opened[order],
        resolved=resolved[order],
        reason=reason[order],
        cents=cents[order],
        resolved_by_invoice=resolved_by_invoice,
        opened_by_invoice=opened_by_invoice,
    )


# --- when each invoice would be paid ---------------------------------------------------------


def _on_time_delays(rng: np.random.Generator, k: int) -> np.ndarray:
    """Days relative to due (<= 0) for invoices paid on time: mostly on the due day or a few
    days before, rarely up to 15 days before."""
    return -np.minimum(rng.geometric(0.35, k) - 1, 15)


def _mixed_delays(rng: np.random.Generator, k: int, p_late: float, lo: int, hi: int) -> np.ndarray:
    """On time, except a share ``p_late`` paid ``lo``-``hi`` days late (uniform)."""
    delay = _on_time_delays(rng, k)
    late = rng.random(k) < p_late
    delay[late] = rng.integers(lo, hi + 1, late.sum())
    return delay


def _archetype_delays(code: int, rng: np.random.Generator, k: int) -> np.ndarray:
    """Base payment delays (days after due; negative = early) of ``k`` invoices of one archetype."""
    if code == CHR:
        delay = rng.integers(20, 61, k)
        milder = rng.random(k) < 0.15
        delay[milder] = rng.integers(5, 20, milder.sum())
        return delay
    if code == CASH:
        return 5 + np.round(rng.gamma(2.2, 15.0, k)).astype(np.int64)
    p_late, lo, hi = {
        REL: (0.05, 1, 7),
        OCC: (0.15, 1, 15),
        DET: (0.08, 1, 10),
        DISP: (0.12, 1, 12),
        DEF: (0.40, 1, 25),
        NEW: (0.30, 1, 30),
    }[code]
    return _mixed_delays(rng, k, p_late, lo, hi)


def _target_payment_days(
    cust: _Customers, inv: _Invoices, disputes: _Disputes, window: _Window, rng: np.random.Generator
) -> np.ndarray:
    """The day each invoice would be (first) paid if nothing stopped it.

    due + archetype delay; deteriorating customers get later and later after their
    deterioration start (up to 35-60 extra days at ``end``); half of the payments falling in
    August slip 5-15 days, half of those falling between 20 December and 5 January slip 3-10
    days; disputed invoices are paid 1-15 days after resolution; never before issue; moved to
    a working day (the Friday before when on time, the Monday after when late).
    """
    arche = cust.archetype[inv.customer]
    delay = np.zeros(inv.n, dtype=np.int64)
    for code in range(len(ARCHETYPES)):
        mask = arche == code
        delay[mask] = _archetype_delays(code, rng, int(mask.sum()))
    delay = delay + _deterioration(cust, inv, window, rng)
    day = inv.due + delay
    month, dom = _month(day), _day_of_month(day)
    august = (month == 8) & (rng.random(inv.n) < 0.5)
    day = day + np.where(august, rng.integers(5, 16, inv.n), 0)
    year_end = ((month == 12) & (dom >= 20)) | ((month == 1) & (dom <= 5))
    day = day + np.where(year_end & (rng.random(inv.n) < 0.5), rng.integers(3, 11, inv.n), 0)
    disputed = disputes.resolved_by_invoice >= 0
    day = np.where(disputed, np.maximum(day, disputes.resolved_by_invoice + rng.integers(1, 16, inv.n)), day)
    day = np.maximum(day, inv.issue)
    before = _previous_working_day(day)
    on_time = (day <= inv.due) & (before >= inv.issue) & (before > disputes.resolved_by_invoice)
    return np.where(on_time, before, _next_working_day(day))


def _deterioration(cust: _Customers, inv: _Invoices, window: _Window, rng: np.random.Generator) -> np.ndarray:
    """Extra days late of deteriorating customers: 0 before their deterioration start, then
    rising linearly with the due date to their ``deterioration_days`` at ``end`` (+/- 5 days)."""
    onset = cust.deterioration_day[inv.customer]
    ramp_days = np.maximum(window.end - onset, 1)
    progress = np.clip((inv.due - onset) / ramp_days, 0.0, 1.2)
    extra = progress * cust.deterioration_days[inv.customer] + rng.normal(0, 5, inv.n)
    return np.where(inv.due > onset, np.maximum(np.round(extra), 0), 0).astype(np.int64)


# --- payment plans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plans:
    """Payment plans: one per covered invoice, with its instalments laid end to end."""

    invoice: np.ndarray  # invoice index per plan, sorted by agreement day then invoice
    agreed: np.ndarray  # day the plan was agreed (a phone call 2-5 weeks past due)
    instalments: np.ndarray  # number of instalments per plan
    row_plan: np.ndarray  # per instalment: plan index
    row_day: np.ndarray  # per instalment: instalment day
    row_cents: np.ndarray  # per instalment: amount, cents
    agreed_by_invoice: np.ndarray  # per invoice: agreement day, or NEVER


def _payment_plans(
    cust: _Customers,
    inv: _Invoices,
    disputes: _Disputes,
    target: np.ndarray,
    window: _Window,
    rng: np.random.Generator,
) -> _Plans:
    """Plans for 30% of the cash-strapped customers' large (at or above their typical amount),
    undisputed invoices that would be paid more than 30 days late, agreed in a phone call 18-28
    days past due (on or before ``end``), 3-6 monthly instalments (every 30 days) summing to the
    invoice.

    The call is moved to the customer's call weekday (Monday-Friday, drawn per customer) of the
    same week (a week earlier if that is after ``end``): the plan calls of a customer are on the
    same day or at least a week apart."""
    agreed_all = _next_working_day(inv.due + rng.integers(18, 29, inv.n))
    chosen = (
        (cust.archetype[inv.customer] == CASH)
        & (inv.cents >= cust.size[inv.customer] * 100)
        & (target - inv.due > 30)
        & (disputes.resolved_by_invoice < 0)
        & (agreed_all <= window.end)
        & (rng.random(inv.n) < 0.3)
    )
    invoice = np.flatnonzero(chosen)
    instalments = rng.integers(3, 7, len(invoice))
    call_weekday = rng.integers(0, 5, cust.n)
    agreed = agreed_all[invoice]
    agreed = agreed - _weekday(agreed) + call_weekday[inv.customer[invoice]]
    agreed = np.where(agreed > window.end, agreed - 7, agreed)
    order = np.lexsort((invoice, agreed))
    invoice, agreed, instalments = invoice[order], agreed[order], instalments[order]
    row_plan, position = _group_positions(instalments)
    row_day = agreed[row_plan] + 30 * (position + 1)
    total = inv.cents[invoice]
    base = total // instalments
    row_cents = base[row_plan].copy()
    last = np.cumsum(instalments) - 1
    row_cents[last] += total - base * instalments
    agreed_by_invoice = np.full(inv.n, NEVER, dtype=np.int64)
    agreed_by_invoice[invoice] = agreed
    return _Plans(invoice, agreed, instalments, row_plan, row_day, row_cents, agreed_by_invoice)


# --- credit notes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CreditNotes:
    """Credit notes (at most one per invoice), sorted by day then invoice."""

    invoice: np.ndarray
    day: np.ndarray
    cents: np.ndarray
    cents_by_invoice: np.ndarray  # per invoice: credited cents (0 when none)
    day_by_invoice: np.ndarray  # per invoice: credit note day, or NEVER


def _credit_notes(
    inv: _Invoices,
    disputes: _Disputes,
    plans: _Plans,
    target: np.ndarray,
    window: _Window,
    rng: np.random.Generator,
) -> _CreditNotes:
    """Credit notes, always dated on or before the invoice's first payment.

    Half of the billing-error disputes resolved by ``end`` end with a credit note on the
    resolution day for 30-100% of the disputed amount (leaving at least 1 EUR to pay); ~1% of the
    other invoices (not disputed, not on a plan) get a partial return of 5-40% of their amount,
    dated 1-30 days after issue.
    """
    k = len(disputes.invoice)
    billing = (
        (disputes.reason == BILLING_ERROR)
        & (disputes.resolved <= window.end)
        & (rng.random(k) < 0.5)
    )
    b_invoice = disputes.invoice[billing]
    b_cents = np.round(disputes.cents[billing] * rng.uniform(0.3, 1.0, int(billing.sum())))
    b_cents = np.clip(b_cents, 1, inv.cents[b_invoice] - 100).astype(np.int64)
    b_day = disputes.resolved[billing]
    keep = b_cents > 0
    b_invoice, b_cents, b_day = b_invoice[keep], b_cents[keep], b_day[keep]

    room = target - inv.issue
    r_chosen = (
        (rng.random(inv.n) < 0.01)
        & (disputes.resolved_by_invoice < 0)
        & (plans.agreed_by_invoice == NEVER)
        & (room >= 1)
    )
    r_day_all = inv.issue + np.minimum(rng.integers(1, 31, inv.n), np.maximum(room, 1))
    r_cents_all = np.round(inv.cents * rng.uniform(0.05, 0.4, inv.n)).astype(np.int64)
    r_chosen &= (r_day_all <= window.end) & (r_cents_all >= 1)
    r_invoice = np.flatnonzero(r_chosen)

    invoice = np.concatenate((b_invoice, r_invoice))
    day = np.concatenate((b_day, r_day_all[r_invoice]))
    cents = np.concatenate((b_cents, r_cents_all[r_invoice]))
    order = np.lexsort((invoice, day))
    invoice, day, cents = invoice[order], day[order], cents[order]
    cents_by_invoice = np.zeros(inv.n, dtype=np.int64)
    cents_by_invoice[invoice] = cents
    day_by_invoice = np.full(inv.n, NEVER, dtype=np.int64)
    day_by_invoice[invoice] = day
    return _CreditNotes(invoice, day, cents, cents_by_invoice, day_by_invoice)


# --- payments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Payments:
    """Payments dated on or before ``end``, sorted by day, invoice and instalment."""

    invoice: np.ndarray  # invoice settled (applied or not)
    day: np.ndarray
    cents: np.ndarray
    applied: np.ndarray  # False = unapplied cash (invoice_id null)


def _payments(
    cust: _Customers,
    inv: _Invoices,
    plans: _Plans,
    credits: _CreditNotes,
    target: np.ndarray,
    window: _Window,
    rng: np.random.Generator,
) -> _Payments:
    """Every payment: regular (1 to 3 instalments) and plan instalments, then the cut at
    ``end`` (and at the default day of defaulters) and the unapplied cash of the last 30 days."""
    inv_r, day_r, cents_r, seq_r = _regular_payments(cust, inv, plans, credits, target, rng)
    inv_p, day_p, cents_p, seq_p = _plan_payments(plans, rng)
    invoice = np.concatenate((inv_r, inv_p))
    day = np.concatenate((day_r, day_p))
    cents = np.concatenate((cents_r, cents_p))
    seq = np.concatenate((seq_r, seq_p))
    kept = (day <= window.end) & (day < cust.default_day[inv.customer[invoice]])
    invoice, day, cents, seq = invoice[kept], day[kept], cents[kept], seq[kept]
    order = np.lexsort((seq, invoice, day))
    invoice, day, cents = invoice[order], day[order], cents[order]
    return _Payments(invoice, day, cents, _applied(day, window, rng))


def _regular_payments(
    cust: _Customers,
    inv: _Invoices,
    plans: _Plans,
    credits: _CreditNotes,
    target: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Payments of invoices not on a plan: (invoice, day, cents, instalment number).

    The amount due (invoice minus credit notes) is paid on the target day, or for a share of
    invoices depending on the archetype (and at least 20 EUR due) in 2-3 instalments 7-30 days
    apart, the first on the target day; instalment amounts sum exactly to the amount due.
    """
    invoice = np.flatnonzero(plans.agreed_by_invoice == NEVER)
    due_cents = inv.cents[invoice] - credits.cents_by_invoice[invoice]
    partial = (rng.random(len(invoice)) < PARTIAL_RATE[cust.archetype[inv.customer[invoice]]]) & (due_cents >= 2000)
    count = np.where(partial, rng.choice((2, 3), size=len(invoice), p=(0.6, 0.4)), 1)
    group, position = _group_positions(count)
    gaps = np.where(position == 0, 0, rng.integers(7, 31, len(group)))
    cum = np.cumsum(gaps)
    first = np.cumsum(count) - count
    offset = cum - cum[first][group]
    day = target[invoice][group] + offset
    day = np.where(position == 0, day, _next_working_day(day))
    weights = rng.uniform(1.0, 3.0, len(group))
    share = weights / np.bincount(group, weights=weights)[group]
    cents = np.floor(share * due_cents[group]).astype(np.int64)
    last = first + count - 1
    cents[last] += due_cents - np.bincount(group, weights=cents, minlength=len(invoice)).astype(np.int64)
    return invoice[group], day, cents, position


def _plan_payments(plans: _Plans, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Payments of plan instalments: (invoice, day, cents, instalment number); three quarters
    are paid on the instalment day (or the next working day), the others 5-25 days late."""
    k = len(plans.row_day)
    missed = rng.random(k) < 0.25
    day = _next_working_day(plans.row_day + np.where(missed, rng.integers(5, 26, k), 0))
    _, position = _group_positions(plans.instalments)
    return plans.invoice[plans.row_plan], day, plans.row_cents, position


def _applied(day: np.ndarray, window: _Window, rng: np.random.Generator) -> np.ndarray:
    """Whether each payment is applied: 3% (at least one) of the payments of the last 30 days
    are unapplied cash."""
    applied = np.ones(len(day), dtype=bool)
    recent = np.flatnonzero(day > window.end - 30)
    if len(recent):
        k = max(1, int(round(UNAPPLIED_SHARE * len(recent))))
        applied[np.sort(rng.choice(recent, size=k, replace=False))] = False
    return applied


def _settlement_days(inv: _Invoices, credits: _CreditNotes, pays: _Payments) -> np.ndarray:
    """Per invoice, the day its applied payments reached the amount due (invoice minus credit
    notes), or NEVER while it is open at ``end``."""
    applied = pays.applied
    paid = np.bincount(pays.invoice[applied], weights=pays.cents[applied], minlength=inv.n)
    last = np.full(inv.n, -1, dtype=np.int64)
    np.maximum.at(last, pays.invoice[applied], pays.day[applied])
    full = paid.astype(np.int64) >= inv.cents - credits.cents_by_invoice
    return np.where(full, last, NEVER)


# --- contacts and promises ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Contacts:
    """Contacts sorted by day, customer, invoice and step: one row per invoice a message covers."""

    customer: np.ndarray
    invoice: np.ndarray
    day: np.ndarray
    step: np.ndarray  # index into CONTACT_STEPS
    channel: np.ndarray  # index into CHANNELS
    outcome: np.ndarray  # index into OUTCOMES


@dataclass(frozen=True)
class _Promises:
    """Promises to pay, one per invoice at most, sorted by promise day then invoice."""

    invoice: np.ndarray
    made: np.ndarray  # promise_date (day of the phone call)
    promised: np.ndarray  # promised_date (pay-by day)
    cents: np.ndarray  # open amount of the invoice on the promise day


_KEY = 1 << 32
"""Multiplier of a customer index in the keys customer * _KEY + day."""


def _contacts(
    cust: _Customers,
    inv: _Invoices,
    disputes: _Disputes,
    plans: _Plans,
    credits: _CreditNotes,
    pays: _Payments,
    settled: np.ndarray,
    window: _Window,
    rng: np.random.Generator,
    rng_promises: np.random.Generator,
) -> tuple[_Contacts, _Promises]:
    """The dunning history and the promises made in it (see :class:`_Dunning`)."""
    return _Dunning(cust, inv, disputes, plans, credits, pays, settled, window, rng, rng_promises).run()


def _stack(parts: list[tuple[np.ndarray, ...]], width: int) -> list[np.ndarray]:
    """The ``width`` columns of ``parts`` (tuples of equal-length arrays) laid end to end."""
    return [np.concatenate([part[i] for part in parts] + [np.zeros(0, dtype=np.int64)]) for i in range(width)]


def _segments(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``keys``: the start of each run of equal keys and the run index of each key."""
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(new), np.cumsum(new) - 1


class _Dunning:
    """The contact history, made working day after working day as the recommendation engine
    would have made it, each day vectorized over every customer and invoice in play.

    Each day: the money received up to that day is booked; the fixed events happen (the calls
    agreeing plans, the disputes raised by customers); the invoices whose next step has come get
    that step (unless disputed or under a pending promise); each customer gets the highest step
    governance allows; the message covers its invoices (one row each), gets its channel
    (proportionality) and outcome, and phone calls may bring promises. The state remembers, per
    invoice, the cadence rank reached and its day, the day its next step comes, the formal notice,
    the pre-due reminder and the promise; per customer, its last two messages, last formal
    notice, last conversation and last action.

    Invoice arrays are kept in "candidate order": the invoices that may ever be in play (from
    their pre-due reminder, else the day after due, to the day before they are settled or put on a
    plan), sorted by customer, so that every subset taken is sorted by customer too.
    """

    def __init__(
        self,
        cust: _Customers,
        inv: _Invoices,
        disputes: _Disputes,
        plans: _Plans,
        credits: _CreditNotes,
        pays: _Payments,
        settled: np.ndarray,
        window: _Window,
        rng: np.random.Generator,
        rng_promises: np.random.Generator,
    ) -> None:
        self.cust, self.inv, self.plans, self.credits, self.pays = cust, inv, plans, credits, pays
        self.window, self.rng = window, rng
        n = inv.n
        # draws, per invoice (then per dispute), in a fixed order
        sched = np.empty((S_FORMAL + 1, n), dtype=np.int64)  # day from which step 0-5 may come
        sched[S_PRE] = _previous_working_day(inv.due + STEP_DPD[S_PRE])
        sched[S_LIGHT:] = inv.due + np.array(STEP_DPD[S_LIGHT:])[:, None] + rng.integers(0, 3, (S_FORMAL, n))
        risky = np.isin(cust.archetype[inv.customer], (CHR, DET, CASH, DEF))
        pre_due = risky & (rng.random(n) < 0.3) & (sched[S_PRE] > inv.issue)
        raised = rng.random(len(disputes.invoice)) < 0.6
        self.raised_invoice, self.raised_day = disputes.invoice[raised], disputes.opened[raised]
        self.raised_channel = np.where(rng.random(int(raised.sum())) < 0.6, EMAIL, PHONE)
        keep_draw = rng_promises.random(n)
        kept_slack = rng_promises.integers(0, 4, n)
        broken_draw = rng_promises.random(n)

        active_from = np.where(pre_due, sched[S_PRE], inv.due + 1)
        active_to = np.minimum(np.minimum(settled, plans.agreed_by_invoice) - 1, window.end)
        candidates = np.flatnonzero(active_from <= active_to)
        c = candidates[np.argsort(inv.customer[candidates], kind="stable")]
        self.invoice = c
        self.position = np.full(n, -1, dtype=np.int64)
        self.position[c] = np.arange(len(c))
        self.customer, self.due, self.cents = inv.customer[c], inv.due[c], inv.cents[c]
        self.sched, self.pre_due = sched[:, c], pre_due[c]
        self.active_from, self.active_to = active_from[c], active_to[c]
        self.opened, self.resolved = disputes.opened_by_invoice[c], disputes.resolved_by_invoice[c]
        self.agreed = plans.agreed_by_invoice[c]
        self.cap = np.where(self.agreed < NEVER, S_PERSONAL, S_LAST)  # plan: the call is the offer
        self.settled = settled[c]
        self.keep_draw, self.kept_slack, self.broken_draw = keep_draw[c], kept_slack[c], broken_draw[c]
        self.plan_keys = np.unique(inv.customer[plans.invoice] * _KEY + plans.agreed)
        self.first_of = np.searchsorted(self.customer, np.arange(cust.n + 1))  # customer's range
        self.preferred = np.select(
            [cust.preferred == "sms", cust.preferred == "letter"], [SMS, LETTER], EMAIL
        )  # written channel of choice
        # state per candidate invoice
        m = len(c)
        long_ago = window.start - 10_000
        self.rank = np.zeros(m, dtype=np.int64)  # cadence rank reached (0 = none)
        self.rank_day = np.full(m, long_ago, dtype=np.int64)
        self.next_ready = np.where(self.pre_due, self.sched[S_PRE], self.sched[S_LIGHT])  # >= active_from
        self.notice_day = np.full(m, NEVER, dtype=np.int64)
        self.pre_sent = np.zeros(m, dtype=bool)
        self.promised = np.zeros(m, dtype=bool)
        self.pending_until = np.full(m, -1, dtype=np.int64)
        self.paid = np.zeros(m, dtype=np.int64)
        self.credited = np.zeros(m, dtype=np.int64)
        self.pays_booked = self.credits_booked = 0
        # state per customer
        self.last = np.full(cust.n, long_ago, dtype=np.int64)  # last outbound message
        self.before_last = np.full(cust.n, long_ago, dtype=np.int64)
        self.last_notice = np.full(cust.n, long_ago, dtype=np.int64)
        self.last_talk = np.full(cust.n, long_ago, dtype=np.int64)  # last conversation
        self.busy = np.full(cust.n, long_ago, dtype=np.int64)  # day of the last action
        self.rows: list[tuple[np.ndarray, ...]] = []
        self.promise_rows: list[tuple[np.ndarray, ...]] = []

    def run(self) -> tuple[_Contacts, _Promises]:
        """Every working day of the window, week by week (the invoices in play are narrowed to
        those of the week first)."""
        start, end = self.window.start, self.window.end
        monday = start - int(_weekday(start))
        while monday <= end:
            week = np.flatnonzero((self.active_from <= monday + 4) & (self.active_to >= monday))
            week_to = self.active_to[week]
            for day in range(max(monday, start), min(monday + 4, end) + 1):
                self._day(day, week, week_to)
            monday += 7
        return self._contacts(), self._promises()

    # --- one day ---

    def _day(self, day: int, week: np.ndarray, week_to: np.ndarray) -> None:
        self._book_money(day)
        self._plan_calls(day)
        self._disputes_raised(day)
        x = week[(self.next_ready[week] <= day) & (week_to >= day)]  # next_ready: NEVER once done
        # sheltered: not before the dispute is resolved or the promise's grace has passed
        disputed = (self.opened[x] <= day) & (day < self.resolved[x])
        pending = self.pending_until[x] >= day
        self.next_ready[x[disputed]] = self.resolved[x[disputed]]
        self.next_ready[x[pending]] = np.maximum(self.next_ready[x[pending]], self.pending_until[x[pending]] + 1)
        x = x[~(disputed | pending)]
        if len(x) == 0:
            return
        # the step each invoice is ready for (-1: none): the next one; never contacted: its
        # days-past-due step (at most the last notice), or the pre-due reminder
        r = self.rank[x]
        pre = (r == 0) & self.pre_due[x] & ~self.pre_sent[x] & (day < self.due[x])
        first = np.minimum((self.sched[S_LIGHT:S_FORMAL, x] <= day).sum(axis=0), self.cap[x])
        own = np.where(r > 0, r + 1, np.where(pre, S_PRE, np.where(first >= S_LIGHT, first, -1)))
        open_cents = self.cents[x] - self.credited[x] - self.paid[x]

        # the customer's step: the highest one governance allows
        customer = self.customer[x]
        starts, seg = _segments(customer)
        cs = customer[starts]
        amicable = np.maximum.reduceat(np.where((own >= S_LIGHT) & (own <= S_LAST), own, -1), starts)
        has_pre = np.maximum.reduceat(own == S_PRE, starts)
        has_notice = np.maximum.reduceat(own == S_FORMAL, starts)
        handing = own == S_AGENCY
        has_handover = np.maximum.reduceat(handing, starts)
        handover_cents = np.add.reduceat(np.where(handing, open_cents, 0), starts)
        idle = self.busy[cs] != day
        writable = (
            idle
            & (day - self.last[cs] >= MIN_GAP_DAYS)
            & (day - self.before_last[cs] >= CAP_WINDOW_DAYS)
            & (day > self.last_notice[cs] + NOTICE_SILENCE_DAYS)
            & ~self._plan_call_within(cs, day - PLAN_QUIET_DAYS, day + PLAN_QUIET_DAYS)
        )
        calm = day - self.last_talk[cs] >= AFTER_CONVERSATION_DAYS
        can_notice = (
            writable
            & calm
            & (day - self.last_notice[cs] >= NOTICE_EVERY_DAYS)
            & ~self._plan_call_within(cs, day, day + NOTICE_SILENCE_DAYS)
        )
        can_hand_over = idle & calm & (day > self.last_notice[cs] + NOTICE_SILENCE_DAYS)
        small = has_handover & (handover_cents < AGENCY_MIN_CENTS)
        self._finish(x[handing & small[seg]])  # write-off review: nothing sent
        step = np.select(
            [
                has_handover & ~small & can_hand_over,
                has_notice & can_notice,
                (amicable >= S_LIGHT) & writable,
                has_pre & writable,
            ],
            [S_AGENCY, S_FORMAL, amicable, S_PRE],
            -1,
        )

        # the invoices each message covers: an amicable step every invoice ready for it or a
        # lower one, the hand-over every invoice ready for it, a formal notice every invoice of
        # the customer chased and at least 45 days past due
        s = step[seg]
        cover = np.select(
            [s == S_AGENCY, s == S_FORMAL, s >= S_LIGHT, s == S_PRE],
            [handing, False, (own >= S_LIGHT) & (own <= s) & (self.cap[x] >= s), own == S_PRE],
            False,
        )
        rows, row_step = x[cover], s[cover]
        noticed = cs[step == S_FORMAL]
        if len(noticed):
            lo, hi = self.first_of[noticed], self.first_of[noticed + 1]
            group, position = _group_positions(hi - lo)
            near = lo[group] + position  # every candidate invoice of the customers noticed
            scope = (
                (self.active_from[near] <= day)
                & (self.active_to[near] >= day)
                & (day - self.due[near] >= NOTICE_MIN_DPD)
                & (self.rank[near] < S_FORMAL)
                & ~((self.opened[near] <= day) & (day < self.resolved[near]))
                & (self.pending_until[near] < day)
            )
            rows = np.concatenate((rows, near[scope]))
            row_step = np.concatenate((row_step, np.full(int(scope.sum()), S_FORMAL)))
            order = np.argsort(rows, kind="stable")
            rows, row_step = rows[order], row_step[order]
        if len(rows) == 0:
            return
        self._messages(day, rows, row_step)

    def _messages(self, day: int, rows: np.ndarray, row_step: np.ndarray) -> None:
        """Channel, outcome and promises of the day's messages (``rows`` sorted by customer, one
        message per customer), recorded; the state moves on."""
        row_customer = self.customer[rows]
        row_open = self.cents[rows] - self.credited[rows] - self.paid[rows]
        mstarts, mseg = _segments(row_customer)
        mcustomer, mstep = row_customer[mstarts], row_step[mstarts]
        smallest = np.minimum.reduceat(row_open, mstarts)
        by_email = self.rng.random(len(mstarts)) < SOLUTION_BY_EMAIL
        answer = np.searchsorted(np.cumsum(PHONE_OUTCOME_SHARES), self.rng.random(len(mstarts)), side="right")
        channel = self._channels(mcustomer, mstep, smallest, by_email)
        answered = REACHED + np.minimum(answer, 3)  # reached, no_answer, left_message, promise_to_pay
        outcome = np.where(channel == PHONE, answered, np.where(channel == AGENCY, HANDED_OVER, SENT))
        row_outcome = outcome[mseg]
        # one promise per invoice (later calls are just reached), over before a plan call
        asked = row_outcome == PROMISE
        made = asked & ~self.promised[rows] & (self.agreed[rows] - day >= 7)
        row_outcome = np.where(asked & ~made, REACHED, row_outcome)
        if made.any():
            self._promise(rows[made], day, row_open[made])
        self._record(row_customer, self.invoice[rows], day, row_step, channel[mseg], row_outcome)

        self._advance(rows, row_step, day)
        self._sent(mcustomer[mstep != S_AGENCY], day)
        self.busy[mcustomer] = day
        self.last_notice[mcustomer[mstep == S_FORMAL]] = day
        self.last_talk[mcustomer[(outcome == REACHED) | (outcome == PROMISE)]] = day

    def _advance(self, rows: np.ndarray, step: np.ndarray, day: int) -> None:
        """Invoices ``rows`` got ``step`` on ``day``: their rank and the day their next step may
        come (its days-past-due threshold and the wait after this one; the formal notice's
        deadline; never beyond a plan invoice's personal contact)."""
        pre = step == S_PRE
        self.pre_sent[rows[pre]] = True
        self.next_ready[rows[pre]] = self.sched[S_LIGHT, rows[pre]]
        cadence = rows[~pre]
        step = step[~pre]
        self.rank[cadence] = step
        self.rank_day[cadence] = day
        following = np.minimum(step + 1, S_FORMAL)
        wait = np.array(STEP_WAIT + (0, 0))[step]
        next_ready = np.maximum(self.sched[following, cadence], day + wait)
        cap = self.cap[cadence]
        next_ready = np.where((cap < S_LAST) & (step >= cap), NEVER, next_ready)
        next_ready = np.where(step == S_FORMAL, day + NOTICE_SILENCE_DAYS + 1, next_ready)
        self.next_ready[cadence] = next_ready
        self.notice_day[cadence[step == S_FORMAL]] = day
        self._finish(cadence[step == S_AGENCY])

    def _finish(self, rows: np.ndarray) -> None:
        """Invoices handed over or left to a write-off review: never dunned again."""
        self.next_ready[rows] = NEVER

    def _channels(
        self, customer: np.ndarray, step: np.ndarray, smallest: np.ndarray, by_email: np.ndarray
    ) -> np.ndarray:
        """Channel of each message: light reminder by the customer's written channel of choice,
        personal contact by phone, solution offer by phone or email, last notice by letter,
        formal notice by registered letter; e-mail instead of a letter (registered letter) when an
        invoice covered has less than 100 (500) EUR open."""
        preferred = self.preferred[customer]
        letter_ok = smallest >= LETTER_MIN_CENTS
        light = np.where((preferred == LETTER) & ~letter_ok, EMAIL, preferred)
        return np.select(
            [step == code for code in (S_LIGHT, S_PERSONAL, S_SOLUTION, S_LAST, S_FORMAL, S_AGENCY)],
            [
                light,
                PHONE,
                np.where(by_email, EMAIL, PHONE),
                np.where(letter_ok, LETTER, EMAIL),
                np.where(smallest >= REGISTERED_MIN_CENTS, REGISTERED, EMAIL),
                AGENCY,
            ],
            EMAIL,
        )

    def _book_money(self, day: int) -> None:
        """Add the applied payments and the credit notes dated up to ``day``."""
        pays, credits = self.pays, self.credits
        hi = int(np.searchsorted(pays.day, day, side="right"))
        if hi > self.pays_booked:
            part = slice(self.pays_booked, hi)
            at = self.position[pays.invoice[part]]
            mine = pays.applied[part] & (at >= 0)
            np.add.at(self.paid, at[mine], pays.cents[part][mine])
            self.pays_booked = hi
        hi = int(np.searchsorted(credits.day, day, side="right"))
        if hi > self.credits_booked:
            part = slice(self.credits_booked, hi)
            at = self.position[credits.invoice[part]]
            self.credited[at[at >= 0]] += credits.cents[part][at >= 0]
            self.credits_booked = hi

    def _plan_calls(self, day: int) -> None:
        """The phone calls agreeing the plans of the day: the solution offer of their invoices
        (which are then paid by the plan, never dunned again)."""
        lo, hi = np.searchsorted(self.plans.agreed, [day, day + 1])
        if hi == lo:
            return
        invoice = self.plans.invoice[lo:hi]
        customer = self.inv.customer[invoice]
        self._record(customer, invoice, day, S_SOLUTION, PHONE, PLAN_AGREED)
        called = np.unique(customer)
        self._sent(called, day)
        self.busy[called] = day
        self.last_talk[called] = day

    def _disputes_raised(self, day: int) -> None:
        """The customers' e-mails and calls raising the disputes opened that day."""
        lo, hi = np.searchsorted(self.raised_day, [day, day + 1])
        if hi == lo:
            return
        invoice = self.raised_invoice[lo:hi]
        customer = self.inv.customer[invoice]
        self._record(customer, invoice, day, S_RESOLVE, self.raised_channel[lo:hi], DISPUTE_RAISED)
        self.last_talk[customer] = day

    def _plan_call_within(self, customer: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Whether each customer has a plan call dated in [lo, hi]."""
        keys = self.plan_keys
        if len(keys) == 0:
            return np.zeros(len(customer), dtype=bool)
        at = np.searchsorted(keys, customer * _KEY + lo)
        return (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] <= customer * _KEY + hi)

    def _sent(self, customer: np.ndarray, day: int) -> None:
        """Remember an outbound message to each (distinct) customer."""
        self.before_last[customer] = self.last[customer]
        self.last[customer] = day

    def _promise(self, rows: np.ndarray, day: int, cents: np.ndarray) -> None:
        """Promises made on ``day`` for the invoices ``rows``, kept or broken consistently with
        the payments.

        The invoice's settlement day is known, so the pay-by day is set from it: a kept promise
        has the settlement on or before pay-by + 3 days; a broken one is settled more than 10 days
        after pay-by, or not at all. Where the timing allows both, the archetype's keep rate
        decides. The invoice is not dunned until pay-by + 3 days, which is before the call agreeing
        its plan if it has one (a plan invoice's promise is always broken)."""
        settle = self.settled[rows]
        gap = np.where(settle < NEVER, settle - day, NEVER)
        can_keep, can_break = gap <= 45, gap >= 14
        keep_rate = PROMISE_KEEP[self.cust.archetype[self.customer[rows]]]
        kept = np.where(can_keep & can_break, self.keep_draw[rows] < keep_rate, can_keep)
        kept_by = day + np.maximum(1, gap - self.kept_slack[rows])
        broken_hi = np.clip(np.minimum(np.where(settle < NEVER, gap - 11, 10), self.agreed[rows] - day - 4), 3, 10)
        broken_by = day + 3 + np.floor(self.broken_draw[rows] * (broken_hi - 2)).astype(np.int64)
        promised = np.where(kept, kept_by, broken_by)
        self.promised[rows] = True
        self.pending_until[rows] = promised + 3
        self.promise_rows.append((self.invoice[rows], np.full(len(rows), day, dtype=np.int64), promised, cents))

    def _record(self, customer, invoice, day, step, channel, outcome) -> None:
        k = len(invoice)
        columns = (customer, invoice, day, step, channel, outcome)
        self.rows.append(tuple(np.broadcast_to(np.asarray(c, dtype=np.int64), (k,)) for c in columns))

    # --- results ---

    def _contacts(self) -> _Contacts:
        customer, invoice, day, step, channel, outcome = _stack(self.rows, 6)
        order = np.lexsort((step, invoice, customer, day))
        return _Contacts(customer[order], invoice[order], day[order], step[order], channel[order], outcome[order])

    def _promises(self) -> _Promises:
        invoice, made, promised, cents = _stack(self.promise_rows, 4)
        order = np.lexsort((invoice, made))
        return _Promises(invoice[order], made[order], promised[order], cents[order])


# --- identities --------------------------------------------------------------------------------


def _pick(words_by_country: dict[str, tuple[str, ...]], country: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """One word per element, drawn uniformly from the list of its country."""
    lists = [words_by_country[c] for c in COUNTRIES]
    sizes = np.array([len(w) for w in lists])
    offsets = np.cumsum(sizes) - sizes
    index = offsets[country] + np.floor(rng.random(len(country)) * sizes[country]).astype(np.int64)
    return pl.Series([w for words in lists for w in words]).gather(index)


def _activity_words(activity: np.ndarray, country: np.ndarray) -> pl.Series:
    """The activity word of each company in its country's language (Belgium: French)."""
    column = np.array([1, 1, 2, 3, 4, 5, 6])[country]  # COUNTRIES order -> ACTIVITIES column
    width = len(ACTIVITIES[0])
    return pl.Series([w for row in ACTIVITIES for w in row]).gather(activity * width + column)


def _slug(text: pl.Expr) -> pl.Expr:
    """``text`` as lowercase ASCII words joined by hyphens (accents dropped)."""
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"[^\x00-\x7F]", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", "-")
        .str.strip_chars("-")
    )


def _phone_numbers(country: np.ndarray, b2b: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Fake phone numbers in each country's international format (French consumers get 06/07
    mobiles, French companies 01-05 lines)."""
    n = len(country)
    lengths = np.array([sum(PHONE_FORMATS[c][1]) for c in COUNTRIES])[country]
    lead = rng.integers(1, 10, n)
    lead = np.where((country == 0) & b2b, rng.integers(1, 6, n), lead)
    lead = np.where((country == 0) & ~b2b, rng.integers(6, 8, n), lead)
    rest = np.floor(rng.random(n) * 10.0 ** (lengths - 1)).astype(np.int64)
    digits = pl.Series("digits", lead * 10 ** (lengths - 1) + rest).cast(pl.String)
    frame = pl.DataFrame({"digits": digits, "country": np.asarray(country)})
    expr = pl.lit(None, dtype=pl.String)
    for code, name in reversed(list(enumerate(COUNTRIES))):
        prefix, groups = PHONE_FORMATS[name]
        parts, at = [pl.lit(prefix)], 0
        for size in groups:
            parts += [pl.lit(" "), pl.col("digits").str.slice(at, size)]
            at += size
        expr = pl.when(pl.col("country") == code).then(pl.concat_str(parts)).otherwise(expr)
    return frame.select(expr.alias("phone")).to_series()


def _collector_names(n: int, rng: np.random.Generator) -> pl.Series:
    """``max(2, ceil(n / 100))`` distinct collector names (French first name and surname)."""
    k = max(2, math.ceil(n / 100))
    firsts = [f for c in COUNTRIES for f in FIRST_NAMES[c]]
    lasts = [s for c in COUNTRIES for s in SURNAMES[c]]
    combos = len(firsts) * len(lasts)
    pick = rng.choice(combos, size=min(k, combos), replace=False)
    pick = np.concatenate([pick] * math.ceil(k / len(pick)))[:k]
    names = pl.concat_str(
        [pl.Series(firsts).gather(pick // len(lasts)), pl.lit(" "), pl.Series(lasts).gather(pick % len(lasts))]
    )
    round_number = np.arange(k) // combos
    names = pl.select(
        pl.when(pl.Series(round_number) > 0)
        .then(pl.concat_str([names, pl.lit(" "), pl.Series(round_number + 1).cast(pl.String)]))
        .otherwise(names)
    ).to_series()
    return names


def _credit_limits(cust: _Customers, rng: np.random.Generator) -> np.ndarray:
    """Credit limit (EUR): 1.2-2.5 times the monthly invoicing times (terms in months + 1),
    rounded up to 1,000 EUR (500 EUR for consumers)."""
    monthly = cust.size * np.exp(cust.sigma**2 / 2) * cust.rate
    terms_days = np.array([t[0] for t in TERMS])[cust.terms]
    raw = monthly * (terms_days / 30 + 1) * rng.uniform(1.2, 2.5, cust.n)
    step = np.where(cust.b2b, 1000.0, 500.0)
    return np.maximum(np.ceil(raw / step), 1) * step


def _customers_frame(cust: _Customers, rng: np.random.Generator) -> pl.DataFrame:
    """The customers table: ids, fake identities, terms, channel, collector, created date."""
    n, country = cust.n, cust.country
    activity = rng.integers(0, len(ACTIVITIES), n)
    words = pl.DataFrame(
        {
            "surname": _pick(SURNAMES, country, rng),
            "first": _pick(FIRST_NAMES, country, rng),
            "contact_first": _pick(FIRST_NAMES, country, rng),
            "contact_last": _pick(SURNAMES, country, rng),
            "activity": _activity_words(activity, country),
            "industry": pl.Series([row[0] for row in ACTIVITIES]).gather(activity),
            "legal": _pick(LEGAL_FORMS, country, rng),
            "tld": pl.Series([TLDS[c] for c in COUNTRIES]).gather(country),
            "personal_domain": pl.Series(PERSONAL_DOMAINS).gather(rng.integers(0, len(PERSONAL_DOMAINS), n)),
            "email_number": rng.integers(1, 100, n),
            "numbered_email": rng.random(n) < 0.4,
            "surname_first": rng.random(n) < 0.5,
            "b2b": cust.b2b,
        }
    )
    return _identity_columns(words, cust, rng)


def _identity_columns(words: pl.DataFrame, cust: _Customers, rng: np.random.Generator) -> pl.DataFrame:
    """Names, contacts and account columns in the canonical order of the customers table."""
    b2b = pl.col("b2b")
    company = pl.when(pl.col("surname_first")).then(
        pl.concat_str(["surname", "activity", "legal"], separator=" ")
    ).otherwise(pl.concat_str(["activity", "surname", "legal"], separator=" "))
    person = pl.concat_str(["first", "surname"], separator=" ")
    company_mail = pl.concat_str(
        [
            _slug(pl.col("contact_first")).str.slice(0, 1),
            pl.lit("."),
            _slug(pl.col("contact_last")),
            pl.lit("@"),
            _slug(pl.concat_str(["surname", "activity"], separator=" ")),
            pl.lit("."),
            pl.col("tld"),
        ]
    )
    personal_mail = pl.concat_str(
        [
            _slug(pl.col("first")),
            pl.lit("."),
            _slug(pl.col("surname")),
            pl.when(pl.col("numbered_email")).then(pl.col("email_number").cast(pl.String)).otherwise(pl.lit("")),
            pl.lit("@"),
            pl.col("personal_domain"),
        ]
    )
    terms = np.array([t[0] for t in TERMS])[cust.terms]
    eom = np.array([t[1] for t in TERMS])[cust.terms]
    collectors = _collector_names(cust.n, rng)
    frame = words.with_columns(
        customer_id=_ids("C", np.arange(1, cust.n + 1), 5),
        name=pl.when(b2b).then(company).otherwise(person),
        customer_type=pl.when(b2b).then(pl.lit("B2B")).otherwise(pl.lit("B2C")),
        country=pl.Series([COUNTRIES[i] for i in range(len(COUNTRIES))]).gather(cust.country),
        industry=pl.when(b2b).then(pl.col("industry")),
        credit_limit=pl.Series(_credit_limits(cust, rng)),
        payment_terms_days=pl.Series(terms, dtype=pl.Int64),
        end_of_month=pl.Series(eom, dtype=pl.Boolean),
        preferred_channel=pl.Series(cust.preferred.tolist(), dtype=pl.String),
        contact_name=pl.when(b2b).then(pl.concat_str(["contact_first", "contact_last"], separator=" ")).otherwise(person),
        email=pl.when(b2b).then(company_mail).otherwise(personal_mail),
        phone=_phone_numbers(cust.country, cust.b2b, rng),
        collector=collectors.gather(rng.integers(0, len(collectors), cust.n)),
        strategic=pl.Series(cust.strategic, dtype=pl.Boolean),
        created_date=_dates(cust.created),
    ).with_columns(**_language_and_title(cust.n))
    return _canonical("customers", frame)


def _language_and_title(n: int) -> dict[str, pl.Expr]:
    """language (set for Belgian customers: two in five Dutch-speaking, the rest French; null
    elsewhere, where the country gives it) and contact_title (from the contact's first name, in
    the customer's language; none for one customer in seven). Derived from the customer number,
    not drawn, so that adding them left the other columns of a seed unchanged."""
    number = pl.Series(np.arange(1, n + 1))
    belgian_nl = (pl.col("country") == "BE") & (number % 5 < 2)
    language = (
        pl.when(belgian_nl).then(pl.lit("nl")).when(pl.col("country") == "BE").then(pl.lit("fr"))
    )
    by_country = DEFAULT_POLICY.drafts.country_languages  # the drafts' own default
    spoken = language.fill_null(pl.col("country").replace_strict(by_country, default=None))
    first = pl.when(pl.col("b2b")).then(pl.col("contact_first")).otherwise(pl.col("first"))
    woman = first.is_in(list(FEMALE_FIRST_NAMES))
    title = pl.lit(None, pl.String)
    for code, (madam, sir) in TITLES.items():
        title = (
            pl.when(spoken == code)
            .then(pl.when(woman).then(pl.lit(madam)).otherwise(pl.lit(sir)))
            .otherwise(title)
        )
    return {"language": language, "contact_title": pl.when(number % 7 != 0).then(title)}


# --- frames ------------------------------------------------------------------------------------


def _ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pl.Series:
    """Ids ``prefix`` + zero-padded ``numbers`` (null where ``valid`` is False)."""
    digits = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    ids = pl.select(pl.concat_str([pl.lit(prefix), digits])).to_series()
    if valid is not None:
        ids = pl.select(pl.when(pl.Series(valid)).then(ids)).to_series()
    return ids


def _invoice_ids(invoice: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Invoice ids ``INV-0000001`` of invoice indices (invoice number = index + 1)."""
    return _ids("INV-", invoice + 1, 7, valid)


def _customer_ids(customer: np.ndarray) -> pl.Series:
    """Customer ids ``C00001`` of customer indices."""
    return _ids("C", customer + 1, 5)


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Day numbers as a ``pl.Date`` series (null where ``valid`` is False)."""
    series = pl.Series(np.asarray(days, dtype=np.int64)).cast(pl.Int32).cast(pl.Date)
    if valid is not None:
        series = pl.select(pl.when(pl.Series(valid)).then(series)).to_series()
    return series


def _money(cents: np.ndarray) -> pl.Series:
    """Integer cents as currency (Float64 rounded to 2 decimals)."""
    return pl.Series(np.round(np.asarray(cents, dtype=np.int64) / 100, 2), dtype=pl.Float64)


def _canonical(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` reduced to the columns of table ``name``, in canonical order and types (an
    optional column the generator does not make, like a payment's own currency, is null)."""
    schema = TABLES[name].polars_schema
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items()
    )


def _check_schema(name: str, frame: pl.DataFrame) -> None:
    """Raise AssertionError if ``frame`` is not exactly in the canonical schema of ``name``."""
    expected = TABLES[name].polars_schema
    if frame.schema != expected:
        raise AssertionError(f"generated {name} has schema {frame.schema}, expected {expected}")


def _invoices_frame(inv: _Invoices) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "invoice_id": _invoice_ids(np.arange(inv.n)),
            "customer_id": _customer_ids(inv.customer),
            "issue_date": _dates(inv.issue),
            "due_date": _dates(inv.due),
            "amount": _money(inv.cents),
            "currency": pl.Series(["EUR"]).gather(np.zeros(inv.n, dtype=np.int64)),
        }
    )
    return _canonical("invoices", frame)


def _payments_frame(inv: _Invoices, pays: _Payments) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "payment_id": _ids("P", np.arange(1, len(pays.day) + 1), 7),
            "customer_id": _customer_ids(inv.customer[pays.invoice]),
            "payment_date": _dates(pays.day),
            "amount": _money(pays.cents),
            "invoice_id": _invoice_ids(pays.invoice, pays.applied),
        }
    )
    return _canonical("payments", frame)


def _disputes_frame(disputes: _Disputes, window: _Window) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "dispute_id": _ids("D", np.arange(1, len(disputes.invoice) + 1), 6),
            "invoice_id": _invoice_ids(disputes.invoice),
            "opened_date": _dates(disputes.opened),
            "resolved_date": _dates(disputes.resolved, disputes.resolved <= window.end),
            "reason": pl.Series(DISPUTE_REASONS).gather(disputes.reason),
            "amount": _money(disputes.cents),
        }
    )
    return _canonical("disputes", frame)


def _promises_frame(inv: _Invoices, promises: _Promises) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "promise_id": _ids("PR", np.arange(1, len(promises.invoice) + 1), 6),
            "customer_id": _customer_ids(inv.customer[promises.invoice]),
            "promise_date": _dates(promises.made),
            "promised_date": _dates(promises.promised),
            "amount": _money(promises.cents),
            "invoice_id": _invoice_ids(promises.invoice),
        }
    )
    return _canonical("promises", frame)


def _contacts_frame(contacts: _Contacts) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "contact_id": _ids("K", np.arange(1, len(contacts.day) + 1), 7),
            "customer_id": _customer_ids(contacts.customer),
            "contact_date": _dates(contacts.day),
            "channel": pl.Series(CHANNELS, dtype=pl.String).gather(contacts.channel),
            "step": pl.Series(CONTACT_STEPS, dtype=pl.String).gather(contacts.step),
            "outcome": pl.Series(OUTCOMES, dtype=pl.String).gather(contacts.outcome),
            "tone": pl.Series(STEP_TONE, dtype=pl.String).gather(contacts.step),
            "invoice_id": _invoice_ids(contacts.invoice),
        }
    )
    return _canonical("contacts", frame)


def _plans_frame(inv: _Invoices, plans: _Plans) -> pl.DataFrame:
    invoice = plans.invoice[plans.row_plan]
    frame = pl.DataFrame(
        {
            "plan_id": _ids("PL", plans.row_plan + 1, 5),
            "customer_id": _customer_ids(inv.customer[invoice]),
            "instalment_date": _dates(plans.row_day),
            "amount": _money(plans.row_cents),
            "invoice_id": _invoice_ids(invoice),
            "agreed_date": _dates(plans.agreed[plans.row_plan]),
        }
    )
    return _canonical("payment_plans", frame)


def _credit_notes_frame(credits: _CreditNotes) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "credit_note_id": _ids("CN", np.arange(1, len(credits.invoice) + 1), 6),
            "invoice_id": _invoice_ids(credits.invoice),
            "date": _dates(credits.day),
            "amount": _money(credits.cents),
        }
    )
    return _canonical("credit_notes", frame)


def _ground_truth_frame(cust: _Customers) -> pl.DataFrame:
    """Latent parameters per customer: archetype, terms code, typical invoice amount (EUR,
    median of the lognormal), invoices per month, default day, deterioration start, and the
    archetype's partial-payment, dispute and promise-keeping rates."""
    arche = cust.archetype
    return pl.DataFrame(
        {
            "customer_id": _customer_ids(np.arange(cust.n)),
            "archetype": pl.Series(ARCHETYPES).gather(arche),
            "terms_code": pl.Series(TERMS_CODES).gather(cust.terms),
            "typical_invoice_amount": pl.Series(np.round(cust.size, 2)),
            "invoices_per_month": pl.Series(np.round(cust.rate, 3)),
            "default_date": _dates(np.where(arche == DEF, cust.default_day, 0), arche == DEF),
            "deterioration_start": _dates(np.where(arche == DET, cust.deterioration_day, 0), arche == DET),
            "partial_payment_rate": pl.Series(PARTIAL_RATE[arche]),
            "dispute_rate": pl.Series(DISPUTE_RATE[arche]),
            "promise_keep_rate": pl.Series(PROMISE_KEEP[arche]),
        }
    )
