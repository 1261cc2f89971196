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
cadence steps and columns, never over customers, invoices or payments.

How the history is made, in order:

1. customers: archetype (exact shares, shuffled), size (typical invoice amount), invoicing rate,
   terms, identity (names, contacts, collector), created date;
2. invoices: issue dates drawn from a seasonal calendar (quarter ends, December busier, August
   quieter, few weekends) over each customer's active window; lognormal amounts;
3. disputes (opened 5-25 days after issue, resolved 10-60 days later); the invoice is paid only
   after resolution; some billing errors are settled by a credit note;
4. a target payment date per invoice: due date plus a delay drawn from the archetype, plus the
   slow-down of August and of the year end, moved to a working day;
5. payment plans for some large overdue invoices of cash-strapped customers;
6. credit notes (billing-error disputes, ~1% random partial returns), always dated on or before
   the invoice's first payment;
7. payments: one, or 2-3 instalments summing exactly to the amount due, or the plan's
   instalments (late when missed); defaulters pay nothing after their default date; payments
   after ``end`` are dropped; ~3% of the last 30 days' payments are left unapplied;
8. contacts: the dunning cadence for every overdue unpaid invoice (dpd 3 email, 10 phone,
   20 phone or email, 35 letter, 50 registered letter, 75 agency for invoices of 1,000 EUR or
   more), friendly pre-due reminders for risky customers, the contact in which a dispute is
   raised and the call agreeing a plan; paused while a dispute is open, a plan runs or a promise
   is pending; capped to one per customer per ISO week (the most advanced step kept). Outcomes:
   ``sent`` (written), ``reached`` / ``no_answer`` / ``left_message`` / ``promise_to_pay``
   (phone), ``handed_over`` (agency), ``dispute_raised``, ``plan_agreed``;
9. promises from phone contacts answered ``promise_to_pay``, kept or broken consistently with
   the payments.
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

from workbench.schema import TABLES

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
AGENCY_MIN_CENTS = 100_000
"""Unpaid invoices of at least this amount (cents) are handed to an agency at dpd 75."""

# Dunning cadence (DESIGN 2.3): rank (higher = more advanced), days past due, channel, tone.
# Rank 0 is the friendly pre-due reminder sent to risky customers.
PRE_DUE = (0, -3, "email", "friendly")
CADENCE = (
    (1, 3, "email", "friendly"),
    (2, 10, "phone", "neutral"),
    (3, 20, "phone", "neutral"),  # payment plan offer; phone or email
    (4, 35, "letter", "firm"),
    (5, 50, "registered_letter", "formal"),
    (6, 75, "agency", "formal"),
)
PHONE_OUTCOMES = ("reached", "no_answer", "left_message", "promise_to_pay")
PHONE_OUTCOME_SHARES = (0.30, 0.30, 0.18, 0.22)

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
    contacts = _contacts(cust, inv, disputes, plans, settled, window, rng["contacts"])
    contacts, promises = _promises(cust, inv, credits, pays, contacts, settled, rng["promises"])

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


def _iso_week(days: np.ndarray) -> np.ndarray:
    """A number identifying the Monday-to-Sunday (ISO) week of each day number."""
    return (days + 3) // 7


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
    agreed: np.ndarray  # day the plan was agreed (a phone contact at dpd ~20)
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
    undisputed invoices that would be paid more than 30 days late: agreed 18-28 days past due
    (on a working day, on or before ``end``), 3-6 monthly instalments (every 30 days) summing to the invoice."""
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
    agreed = agreed_all[invoice]
    order = np.lexsort((invoice, agreed))
    invoice, agreed = invoice[order], agreed[order]
    instalments = rng.integers(3, 7, len(invoice))
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


# --- contacts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contacts:
    """Contacts, one per customer per ISO week at most."""

    customer: np.ndarray
    invoice: np.ndarray
    day: np.ndarray
    rank: np.ndarray  # cadence step (0 = pre-due reminder)
    channel: np.ndarray  # object array of channel names
    tone: np.ndarray  # object array
    outcome: np.ndarray  # object array


def _contacts(
    cust: _Customers,
    inv: _Invoices,
    disputes: _Disputes,
    plans: _Plans,
    settled: np.ndarray,
    window: _Window,
    rng: np.random.Generator,
) -> _Contacts:
    """The dunning history: each cadence step of each overdue invoice still unpaid on the
    contact day (1-2 days of slack, on a working day, on or before ``end``), not while a
    dispute is open nor after a plan was agreed; plus pre-due reminders for 30% of the invoices
    of risky customers, and the phone call agreeing each plan. Then at most one contact per
    customer per ISO week: the most advanced step (then the largest invoice).

    Besides the cadence, 60% of the disputes are raised in a contact on their opening day (the
    customer's email or call, outcome ``dispute_raised``), and each plan is agreed in a phone
    call (outcome ``plan_agreed``)."""
    unpaid_until = settled
    frames = [_pre_due_reminders(cust, inv, disputes, unpaid_until, window, rng)]
    for step in CADENCE:
        frames.append(_cadence_step(step, cust, inv, disputes, plans, unpaid_until, window, rng))
    frames.append(_plan_calls(plans))
    frames.append(_dispute_calls(disputes, rng))
    rows = {key: np.concatenate([f[key] for f in frames]) for key in frames[0]}
    rows = _one_per_week(rows, inv)
    outcome = _outcomes(rows["channel"], rng)
    outcome = np.where(rows["rank"] == -1, "plan_agreed", outcome)
    outcome = np.where(rows["rank"] == -2, "dispute_raised", outcome)
    rank = np.where(rows["rank"] == -1, 3, np.where(rows["rank"] == -2, 0, rows["rank"]))
    return _Contacts(
        customer=inv.customer[rows["invoice"]],
        invoice=rows["invoice"],
        day=rows["day"],
        rank=rank,
        channel=rows["channel"],
        tone=rows["tone"],
        outcome=outcome.astype(object),
    )


def _chaseable(day: np.ndarray, invoice: np.ndarray, disputes: _Disputes, unpaid_until: np.ndarray, window: _Window) -> np.ndarray:
    """Whether contact ``day`` about ``invoice`` falls while the invoice is unpaid, on or before
    ``end`` and outside an open dispute."""
    opened = disputes.opened_by_invoice[invoice]
    resolved = disputes.resolved_by_invoice[invoice]
    in_dispute = (day >= opened) & (day < resolved)
    return (day < unpaid_until[invoice]) & (day <= window.end) & ~in_dispute


def _cadence_step(step, cust, inv, disputes, plans, unpaid_until, window, rng) -> dict[str, np.ndarray]:
    """Candidate contacts of one cadence step (rank, dpd, channel, tone) for every invoice."""
    rank, dpd, channel, tone = step
    day = _next_working_day(inv.due + dpd + rng.integers(0, 3, inv.n))
    ok = _chaseable(day, np.arange(inv.n), disputes, unpaid_until, window)
    ok &= day < plans.agreed_by_invoice
    if channel == "agency":
        ok &= inv.cents >= AGENCY_MIN_CENTS
    invoice = np.flatnonzero(ok)
    channels = np.full(len(invoice), channel, dtype=object)
    if rank == 1:  # the light reminder goes by the customer's written channel of choice
        preferred = cust.preferred[inv.customer[invoice]]
        written = (preferred == "sms") | (preferred == "letter")
        channels = np.where(written, preferred, channels).astype(object)
    if rank == 3:
        channels = np.where(rng.random(len(invoice)) < 0.4, "email", channels).astype(object)
    return {
        "invoice": invoice,
        "day": day[invoice],
        "rank": np.full(len(invoice), rank),
        "channel": channels,
        "tone": np.full(len(invoice), tone, dtype=object),
    }


def _pre_due_reminders(cust, inv, disputes, unpaid_until, window, rng) -> dict[str, np.ndarray]:
    """Friendly emails 3 days before due (on a working day) for 30% of the invoices of chronic
    late, deteriorating, cash-strapped and defaulting customers."""
    rank, dpd, channel, tone = PRE_DUE
    risky = np.isin(cust.archetype[inv.customer], (CHR, DET, CASH, DEF))
    day = _previous_working_day(inv.due + dpd)
    ok = risky & (rng.random(inv.n) < 0.3) & (day > inv.issue)
    ok &= _chaseable(day, np.arange(inv.n), disputes, unpaid_until, window)
    invoice = np.flatnonzero(ok)
    return {
        "invoice": invoice,
        "day": day[invoice],
        "rank": np.full(len(invoice), rank),
        "channel": np.full(len(invoice), channel, dtype=object),
        "tone": np.full(len(invoice), tone, dtype=object),
    }


def _plan_calls(plans: _Plans) -> dict[str, np.ndarray]:
    """The phone call on which each plan was agreed (rank -1 marks it until outcomes are set)."""
    k = len(plans.invoice)
    return {
        "invoice": plans.invoice,
        "day": plans.agreed,
        "rank": np.full(k, -1),
        "channel": np.full(k, "phone", dtype=object),
        "tone": np.full(k, "neutral", dtype=object),
    }


def _dispute_calls(disputes: _Disputes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The contact in which 60% of the disputes were raised: on the opening day, by email (60%)
    or phone, neutral tone (rank -2 marks it until outcomes are set)."""
    raised = rng.random(len(disputes.invoice)) < 0.6
    k = int(raised.sum())
    return {
        "invoice": disputes.invoice[raised],
        "day": disputes.opened[raised],
        "rank": np.full(k, -2),
        "channel": np.where(rng.random(k) < 0.6, "email", "phone").astype(object),
        "tone": np.full(k, "neutral", dtype=object),
    }


def _one_per_week(rows: dict[str, np.ndarray], inv: _Invoices) -> dict[str, np.ndarray]:
    """Keep one contact per customer per ISO week: highest rank (a plan call counts as 3.5, a
    dispute raised as 0.5), then largest invoice, then lowest invoice number; rows returned
    sorted by day, customer."""
    customer = inv.customer[rows["invoice"]]
    week = _iso_week(rows["day"])
    rank = np.where(rows["rank"] == -1, 3.5, np.where(rows["rank"] == -2, 0.5, rows["rank"]))
    order = np.lexsort((rows["invoice"], -inv.cents[rows["invoice"]], -rank, week, customer))
    customer_o, week_o = customer[order], week[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (customer_o[1:] != customer_o[:-1]) | (week_o[1:] != week_o[:-1])
    keep = order[first]
    keep = keep[np.lexsort((customer[keep], rows["day"][keep]))]
    return {key: value[keep] for key, value in rows.items()}


def _outcomes(channel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Outcome of each contact: phone calls are reached, unanswered, left a message or get a
    promise to pay; agency contacts are handed over; written reminders are sent."""
    phone = rng.choice(len(PHONE_OUTCOMES), size=len(channel), p=PHONE_OUTCOME_SHARES)
    return np.where(
        channel == "phone",
        np.array(PHONE_OUTCOMES, dtype=object)[phone],
        np.where(channel == "agency", "handed_over", "sent"),
    ).astype(object)



# --- promises ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Promises:
    """Promises to pay, one per invoice at most, sorted by promise day then invoice."""

    invoice: np.ndarray
    made: np.ndarray  # promise_date (day of the phone call)
    promised: np.ndarray  # promised_date (pay-by day)
    cents: np.ndarray  # open amount of the invoice on the promise day


def _promises(
    cust: _Customers,
    inv: _Invoices,
    credits: _CreditNotes,
    pays: _Payments,
    contacts: _Contacts,
    settled: np.ndarray,
    rng: np.random.Generator,
) -> tuple[_Contacts, _Promises]:
    """Promises from the first phone call of each invoice answered ``promise_to_pay`` (later
    ones become ``reached``), kept or broken consistently with the payments.

    The invoice's settlement day is known, so the pay-by day is set from it: a kept promise has
    the settlement on or before pay-by + 3 days; a broken one is settled more than 10 days after
    pay-by, or not at all. Where the timing allows both, the archetype's keep rate decides.
    Contacts about the invoice between the promise and pay-by + 3 days are dropped (dunning is
    paused while a promise is pending). Returns the updated contacts and the promises.
    """
    outcome = contacts.outcome.copy()
    candidates = np.flatnonzero(outcome == "promise_to_pay")
    _, first = np.unique(contacts.invoice[candidates], return_index=True)
    chosen = candidates[np.sort(first)]
    later = np.setdiff1d(candidates, chosen)
    outcome[later] = "reached"

    invoice, made = contacts.invoice[chosen], contacts.day[chosen]
    k = len(invoice)
    settle = settled[invoice]
    gap = np.where(settle < NEVER, settle - made, NEVER)
    can_keep = gap <= 45
    can_break = gap >= 14
    keep_rate = PROMISE_KEEP[cust.archetype[inv.customer[invoice]]]
    kept = np.where(can_keep & can_break, rng.random(k) < keep_rate, can_keep)
    kept_by = made + np.maximum(1, gap - rng.integers(0, 4, k))
    broken_hi = np.clip(np.where(settle < NEVER, gap - 11, 10), 3, 10)
    broken_by = made + rng.integers(3, broken_hi + 1)
    promised = np.where(kept, kept_by, broken_by)
    cents = _open_cents(inv, credits, pays, invoice, made)

    paused_from = np.full(inv.n, NEVER, dtype=np.int64)
    paused_until = np.full(inv.n, -1, dtype=np.int64)
    paused_from[invoice] = made
    paused_until[invoice] = promised + 3
    day = contacts.day
    keep = ~((day > paused_from[contacts.invoice]) & (day <= paused_until[contacts.invoice]))
    contacts = _Contacts(
        customer=contacts.customer[keep],
        invoice=contacts.invoice[keep],
        day=contacts.day[keep],
        rank=contacts.rank[keep],
        channel=contacts.channel[keep],
        tone=contacts.tone[keep],
        outcome=outcome[keep],
    )
    order = np.lexsort((invoice, made))
    return contacts, _Promises(invoice[order], made[order], promised[order], cents[order])


def _open_cents(inv: _Invoices, credits: _CreditNotes, pays: _Payments, invoice: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Open amount (cents) of each ``invoice`` at the end of ``day``: amount minus credit notes
    and applied payments dated on or before it (``invoice`` holds distinct invoices)."""
    credited = np.where(credits.day_by_invoice[invoice] <= day, credits.cents_by_invoice[invoice], 0)
    on_day = np.full(inv.n, -1, dtype=np.int64)
    on_day[invoice] = day
    mine = pays.applied & (pays.day <= on_day[pays.invoice])
    paid = np.bincount(pays.invoice[mine], weights=pays.cents[mine], minlength=inv.n)
    return inv.cents[invoice] - credited - paid[invoice].astype(np.int64)


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
    )
    return _canonical("customers", frame)


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
    """``frame`` reduced to the columns of table ``name``, in canonical order and types."""
    schema = TABLES[name].polars_schema
    return frame.select(
        [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()]
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
            "channel": pl.Series(contacts.channel.tolist(), dtype=pl.String),
            "outcome": pl.Series(contacts.outcome.tolist(), dtype=pl.String),
            "tone": pl.Series(contacts.tone.tolist(), dtype=pl.String),
            "invoice_id": _invoice_ids(contacts.invoice),
        }
    )
    return _canonical("contacts", frame)


def _plans_frame(inv: _Invoices, plans: _Plans) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "plan_id": _ids("PL", plans.row_plan + 1, 5),
            "customer_id": _customer_ids(inv.customer[plans.invoice[plans.row_plan]]),
            "instalment_date": _dates(plans.row_day),
            "amount": _money(plans.row_cents),
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
