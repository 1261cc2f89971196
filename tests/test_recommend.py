"""Next action per customer (workbench.recommend): one test per rule and override of DESIGN
sections 2 and 6, on small hand-built portfolios, asserting channel, tone and reason words.

As of 2026-06-30 (a Tuesday). Unless a test says otherwise a customer is "new" (no settled
history: the segment delay is 0 and the default channel table applies), has no preferred
channel and is not strategic; the default policy applies.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import random_portfolios
from workbench.policy import DEFAULT_POLICY, Contact, Policy, StepChannels
from workbench.portfolio import Portfolio
from workbench.recommend import ACTIONS, EXCLUSIONS, money_text, promise_status, recommendations

AS_OF = date(2026, 6, 30)


def day(offset: int) -> date:
    """AS_OF + offset days."""
    return AS_OF + timedelta(days=offset)


class Book:
    """A tiny portfolio built row by row (tables absent until a row is added, except payments
    and contacts, always present so that features are counts, not nulls)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {"payments": [], "contacts": []}
        self._n = 0

    def _add(self, table: str, **row) -> dict:
        self.tables.setdefault(table, []).append(row)
        return row

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def customer(self, cid: str = "C1", **extra) -> str:
        row = {"customer_id": cid, "name": f"Customer {cid}", "contact_name": "Ann Smith",
               "email": "ann@example.com", "phone": "+44 20 1234 5678", "country": "GB",
               "collector": "Zoe", "created_date": date(2026, 6, 1)}  # fmt: skip
        row.update(extra)
        self._add("customers", **row)
        return cid

    def invoice(self, cid: str, dpd: int, amount: float = 1000.0, terms: int = 30, iid: str | None = None) -> str:
        due = day(-dpd)
        iid = iid or self._id("I")
        self._add("invoices", invoice_id=iid, customer_id=cid, issue_date=due - timedelta(days=terms),
                  due_date=due, amount=amount, currency="EUR")  # fmt: skip
        return iid

    def move(self, iid: str, dpd: int) -> None:
        """Give invoice ``iid`` ``dpd`` days past due (its terms unchanged)."""
        row = next(r for r in self.tables["invoices"] if r["invoice_id"] == iid)
        terms = row["due_date"] - row["issue_date"]
        row["due_date"] = day(-dpd)
        row["issue_date"] = row["due_date"] - terms

    def payment(self, cid: str, on: date, amount: float, iid: str | None) -> None:
        self._add("payments", payment_id=self._id("P"), customer_id=cid, payment_date=on,
                  amount=amount, invoice_id=iid)  # fmt: skip

    def paid_invoice(self, cid: str, due: date, days_late: int, amount: float = 500.0) -> str:
        iid = self._id("H")
        self._add("invoices", invoice_id=iid, customer_id=cid, issue_date=due - timedelta(days=30),
                  due_date=due, amount=amount, currency="EUR")  # fmt: skip
        self.payment(cid, due + timedelta(days=days_late), amount, iid)
        return iid

    def history(self, cid: str, days_late: int, n: int = 6, first_due: date = date(2026, 1, 1)) -> None:
        """n settled invoices, one a month from first_due, each paid days_late after due."""
        for k in range(n):
            self.paid_invoice(cid, first_due + timedelta(days=30 * k), days_late)

    def dispute(self, iid: str, opened: date, resolved: date | None = None, reason: str = "quality",
                amount: float | None = None) -> None:
        self._add("disputes", dispute_id=self._id("D"), invoice_id=iid, opened_date=opened,
                  resolved_date=resolved, reason=reason, amount=amount)  # fmt: skip

    def promise(self, cid: str, made: date, by: date, amount: float, iid: str | None = None) -> None:
        self._add("promises", promise_id=self._id("PR"), customer_id=cid, promise_date=made,
                  promised_date=by, amount=amount, invoice_id=iid)  # fmt: skip

    def contact(self, cid: str, on: date, channel: str = "email", iid: str | None = None, outcome: str = "sent") -> None:
        self._add("contacts", contact_id=self._id("K"), customer_id=cid, contact_date=on,
                  channel=channel, outcome=outcome, invoice_id=iid)  # fmt: skip

    def plan(self, cid: str, dates: list[date], amount: float) -> None:
        plan_id = self._id("PL")
        for on in dates:
            self._add("payment_plans", plan_id=plan_id, customer_id=cid, instalment_date=on, amount=amount)

    def portfolio(self) -> Portfolio:
        frames = {}
        for name, rows in self.tables.items():
            if rows:
                frames[name] = pl.DataFrame(rows, infer_schema_length=None)
            else:
                frames[name] = {"payments": {"payment_id": [], "customer_id": [], "payment_date": [], "amount": []},
                                "contacts": {"contact_id": [], "customer_id": [], "contact_date": [], "channel": []}}[name]  # fmt: skip
        return Portfolio.from_frames(frames)

    def recommend(self, policy: Policy = DEFAULT_POLICY, scores: pl.DataFrame | None = None) -> dict[str, dict]:
        frame = recommendations(self.portfolio(), AS_OF, policy, scores)
        return {row["customer_id"]: row for row in frame.to_dicts()}


def one(book: Book, policy: Policy = DEFAULT_POLICY, scores: pl.DataFrame | None = None) -> dict:
    rows = book.recommend(policy, scores)
    assert len(rows) == 1, rows
    return next(iter(rows.values()))


def covered(row: dict) -> list[str]:
    return [i["invoice_id"] for i in row["invoices"]]


def with_policy(**sections) -> Policy:
    return dataclasses.replace(DEFAULT_POLICY, **sections)


# --- the cadence (DESIGN 2.3) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "step", "channel", "tone"),
    [
        (1, "light_reminder", "email", "friendly"),
        (6, "light_reminder", "email", "friendly"),
        (7, "personal_contact", "phone", "neutral"),
        (13, "personal_contact", "phone", "neutral"),
        (14, "solution_offer", "phone", "neutral"),
        (29, "solution_offer", "phone", "neutral"),
        (30, "last_notice", "letter", "firm"),
        (44, "last_notice", "letter", "firm"),
        # never dunned: no further than cadence.first_contact_max_step (a formal notice always
        # follows an amicable contact)
        (45, "last_notice", "letter", "firm"),
        (90, "last_notice", "letter", "firm"),
    ],
)
def test_cadence_step_by_days_past_due(dpd, step, channel, tone):
    book = Book()
    book.invoice(book.customer(), dpd, 1234.5)
    row = one(book)
    assert (row["status"], row["step"], row["channel"], row["tone"]) == ("action", step, channel, tone)
    assert row["action"] == ACTIONS[step]
    days = "day" if dpd == 1 else "days"
    assert row["reason"].startswith(f"{dpd} {days} past due on 1 invoice (1,234.50 EUR)")
    assert "new customer" in row["reason"]


def test_one_action_covers_all_overdue_invoices_step_of_the_most_overdue():
    book = Book()
    cid = book.customer()
    ids = [book.invoice(cid, dpd, 1000.0) for dpd in (3, 40, 12)]
    book.invoice(cid, -10, 500.0)  # not yet due: in the open amount, not in the action
    row = one(book)
    assert row["step"] == "last_notice"
    assert sorted(covered(row)) == sorted(ids)
    # the range of days late, not the worst for every invoice (a fresh-seed check's C00046)
    assert row["reason"].startswith("3 to 40 days past due on 3 invoices (3,000.00 EUR)")
    assert (row["open_amount"], row["overdue_amount"], row["oldest_dpd"]) == (3500.0, 3000.0, 40)


def test_policy_changes_the_cadence_without_code():
    book = Book()
    book.invoice(book.customer(), 5)
    default = one(book)
    assert default["step"] == "light_reminder"
    policy = with_policy(
        cadence=dataclasses.replace(DEFAULT_POLICY.cadence, personal_contact_dpd=5),
        channels=dataclasses.replace(
            DEFAULT_POLICY.channels,
            default=dataclasses.replace(DEFAULT_POLICY.channels.default, personal_contact=("sms", "firm")),
        ),
    )
    row = one(book, policy)
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "sms", "firm")


# --- pre-due reminder (DESIGN 2.2) ---------------------------------------------------------------


def test_preventive_reminder_for_a_risky_invoice_due_within_7_days():
    book = Book()
    iid = book.invoice(book.customer(), -5, 800.0)
    scores = pl.DataFrame({"invoice_id": [iid], "probability": [0.8]})
    row = one(book, scores=scores)
    assert (row["step"], row["channel"], row["tone"]) == ("pre_due", "email", "friendly")
    assert covered(row) == [iid]
    assert row["reason"].startswith(f"1 invoice (800.00 EUR) due on {day(5)}, 80% risk")
    assert row["probability"] == pytest.approx(0.8)


def test_a_formal_notice_answered_in_part_is_told_beside_another_invoice_action():
    """An invoice paid in part since its formal notice, beside an action about another invoice:
    the reason says its rest is to be asked for in a call before any hand-over, not only that
    it "follows its own cadence" (a fresh-seed check's C00085)."""
    book = Book()
    cid = book.customer()
    noticed, other = book.invoice(cid, 60, 1000.0), book.invoice(cid, 20, 3000.0)
    book.contact(cid, day(-30), "registered_letter", noticed)
    book.payment(cid, day(-5), 400.0, noticed)
    row = one(book)
    assert (row["step"], covered(row)) == ("solution_offer", [other]), row
    assert (
        f"{noticed} paid in part since its formal notice: call about the rest before any hand-over"
        in row["reason"]
    ), row["reason"]


def test_a_pre_due_reminder_tells_the_unapplied_payment_of_an_overdue_invoice():
    """A pre-due reminder beside an overdue invoice that an unapplied payment pays to the cent
    tells that payment (a fresh-seed check's C00106: 2,335.72 received without reference, the
    balance of an invoice 33 days late, was never said; the row still showed it overdue)."""
    book = Book()
    cid = book.customer()
    late = book.invoice(cid, 33, 2335.72)
    soon = book.invoice(cid, -5, 844.65)
    book.payment(cid, day(-7), 2335.72, None)
    scores = pl.DataFrame({"invoice_id": [late, soon], "probability": [0.7, 0.7]})
    row = one(book, scores=scores)
    assert (row["step"], covered(row)) == ("pre_due", [soon]), row
    assert f"including a payment equal to the balance of {late} to the cent" in row["reason"], (
        row["reason"]
    )


def test_a_call_covering_an_invoice_not_yet_due_does_not_count_it_as_past_due():
    """An overdue invoice and a risky one due in 3 days go in the same contact: the reason's
    first words count the past-due invoice only (days, number, amount), then name the one not
    yet due with its own amount (a reason once said "35 days past due on 2 invoices" there)."""
    book = Book()
    cid = book.customer()
    late = book.invoice(cid, 35, 1200.0)
    soon = book.invoice(cid, -3, 800.0)
    scores = pl.DataFrame({"invoice_id": [late, soon], "probability": [0.8, 0.8]})
    row = one(book, scores=scores)
    assert sorted(covered(row)) == sorted([late, soon])
    assert row["reason"].startswith(
        "35 days past due on 1 invoice (1,200.00 EUR), "
        "and 1 invoice not yet due (800.00 EUR) in the same contact"
    ), row["reason"]
    assert row["covered_amount"] == pytest.approx(2000.0)


def test_no_reminder_when_not_yet_due_and_no_risk_or_beyond_the_window():
    book = Book()
    soon = book.invoice(book.customer(), -5, 800.0)
    low = one(book, scores=pl.DataFrame({"invoice_id": [soon], "probability": [0.2]}))
    assert (low["status"], low["exclusion"]) == ("excluded", "not yet due and no risk")
    assert low["reason"] == f"not yet due and no risk: 800.00 EUR due from {day(5)}"
    book = Book()
    later = book.invoice(book.customer(), -8, 800.0)
    far = one(book, scores=pl.DataFrame({"invoice_id": [later], "probability": [0.9]}))
    assert far["exclusion"] == "not yet due and no risk"


def test_pre_due_risk_from_the_fallback_without_a_model():
    # a chronic late payer (every invoice settled 40 days late): fallback risk
    # 0.1 + 0.3 * 1 + 0.3 * 1 = 0.7 >= 0.5 for an invoice not yet due
    book = Book()
    cid = book.customer(created_date=date(2025, 1, 1))
    book.history(cid, days_late=40, first_due=date(2025, 12, 1))
    book.invoice(cid, -3, 600.0)
    row = one(book)
    assert row["step"] == "pre_due"
    assert "70% risk" in row["reason"]


# --- profile (DESIGN 2.8) ------------------------------------------------------------------------


def test_reliable_payer_softer_and_slower():
    book = Book()
    cid = book.customer(created_date=date(2025, 1, 1))
    book.history(cid, days_late=-2)
    book.invoice(cid, 10)  # personal contact for a new customer; reliable: delay 7 days
    row = one(book)
    assert row["segment"] == "reliable"
    assert (row["step"], row["channel"], row["tone"]) == ("light_reminder", "email", "friendly")
    assert "usually pays on time: probably an oversight" in row["reason"]
    book.move(book.tables["invoices"][-1]["invoice_id"], 16)  # dpd 16: personal contact by email
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "email", "friendly")


def test_chronic_late_payer_firmer_and_earlier():
    book = Book()
    cid = book.customer(created_date=date(2025, 1, 1))
    book.history(cid, days_late=25)
    book.invoice(cid, 5)  # light reminder for a new customer; chronic: 3 days earlier
    row = one(book)
    assert row["segment"] == "chronic_late"
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "phone", "firm")
    assert "pays late habitually (on average 25 days late)" in row["reason"]


def test_deteriorating_payer_watched_closely():
    book = Book()
    cid = book.customer(created_date=date(2025, 1, 1))
    for k in range(4):  # settled on time 7 to 10 months ago
        book.paid_invoice(cid, date(2025, 9, 1) + timedelta(days=30 * k), 0)
    for k in range(2):  # settled 30 days late in the last 90 days
        book.paid_invoice(cid, date(2026, 4, 1) + timedelta(days=15 * k), 30)
    book.invoice(cid, 2)
    row = one(book)
    assert row["segment"] == "deteriorating"
    assert (row["step"], row["channel"], row["tone"]) == ("light_reminder", "phone", "neutral")
    assert "paying later lately: watch closely (+30 days late)" in row["reason"]


def test_strategic_customer_diplomacy_and_account_owner():
    book = Book()
    book.invoice(book.customer(strategic=True), 35)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("last_notice", "letter", "neutral")
    assert row["action"] == "last amicable notice (account owner in the loop)"
    assert "strategic account: account owner in the loop" in row["reason"]
    iid = book.tables["invoices"][-1]["invoice_id"]
    book.move(iid, 50)  # after the last notice, the formal notice stays formal
    book.contact("C1", day(-15), "letter", iid)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("formal_notice", "registered_letter", "formal")


# --- channel preference (DESIGN 2.9) ---------------------------------------------------------------


def test_preferred_channel_unless_the_step_is_formal():
    book = Book()
    book.invoice(book.customer(preferred_channel="sms"), 10)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "sms", "neutral")
    assert "prefers sms" in row["reason"]
    iid = book.tables["invoices"][-1]["invoice_id"]
    book.move(iid, 50)
    book.contact("C1", day(-15), "letter", iid)
    row = one(book)
    assert (row["step"], row["channel"]) == ("formal_notice", "registered_letter")
    assert "prefers sms but this step needs a registered letter" in row["reason"]


def test_preference_can_be_switched_off_in_the_policy():
    book = Book()
    book.invoice(book.customer(preferred_channel="sms"), 10)
    policy = with_policy(contact=Contact(respect_preference=False))
    assert one(book, policy)["channel"] == "phone"


# --- disputes (DESIGN 2.4, 2.5) ----------------------------------------------------------------


def test_open_dispute_pauses_its_invoice_others_follow_the_cadence():
    book = Book()
    cid = book.customer()
    disputed = book.invoice(cid, 40, 2000.0)
    other = book.invoice(cid, 10, 300.0)
    book.dispute(disputed, day(-20), reason="billing_error")
    row = one(book)
    assert (row["step"], row["channel"]) == ("personal_contact", "phone")  # from dpd 10, not 40
    assert covered(row) == [other]
    assert "1 invoice disputed (2,000.00 EUR): dunning paused, dispute to route to its owner" in row["reason"]


def test_only_disputed_invoices_route_to_resolution():
    book = Book()
    cid = book.customer()
    disputed = book.invoice(cid, 40, 2000.0)
    book.invoice(cid, -20, 100.0)
    book.dispute(disputed, day(-20), reason="billing_error")
    row = one(book)
    assert (row["status"], row["step"], row["channel"], row["tone"]) == ("action", "resolve_dispute", "none", "neutral")
    assert row["action"] == "resolve dispute"
    assert covered(row) == [disputed]
    assert row["reason"] == (
        f"1 invoice disputed since {day(-20)} (2,000.00 EUR: billing error): "
        "dunning paused, route to the owner to resolve"
    )


def test_a_dispute_action_tells_the_overdue_invoices_left_to_their_cadence():
    """A customer whose only ready step is its dispute: the reason also tells the overdue
    invoices waiting for their own next step (a fresh-seed check's C00021: 5,507.35 EUR overdue
    on 3 invoices, unsaid beside its dispute)."""
    book = Book()
    cid = book.customer()
    disputed, waiting = book.invoice(cid, -20, 960.47), book.invoice(cid, 20, 5507.35)
    book.dispute(disputed, day(-25), reason="billing_error")
    book.contact(cid, day(-1), "phone", waiting, outcome="reached")
    row = one(book)
    assert row["step"] == "resolve_dispute", row
    assert "1 other invoice follows its own cadence (5,507.35 EUR)" in row["reason"], row["reason"]


def test_a_partial_dispute_tells_what_it_contests():
    """A dispute of 4,365.18 on an invoice of 12,719.36 shows both (a fresh-seed check's C00043
    showed the invoice's 12,719.36 as disputed); two open disputes on one invoice add up; one
    without an amount contests the whole; an amount beyond the open balance (paid in part
    since) is capped at it. The whole invoice stays paused (DESIGN 2.5)."""
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 40, 12719.36)
    book.dispute(iid, day(-20), reason="billing_error", amount=4365.18)
    row = one(book)
    assert (row["step"], covered(row)) == ("resolve_dispute", [iid])
    assert f"disputed since {day(-20)} (4,365.18 EUR contested of 12,719.36 EUR: billing error)" in row["reason"], row["reason"]
    book.dispute(iid, day(-10), reason="quality", amount=1000.01)
    assert "(5,365.19 EUR contested of 12,719.36 EUR: billing error)" in one(book)["reason"]
    book.payment(cid, day(-5), 8000.0, iid)  # 4,719.36 open: the 5,365.19 contested cap at it
    assert f"disputed since {day(-20)} (4,719.36 EUR: billing error)" in one(book)["reason"]
    book.tables["disputes"][1]["amount"] = None  # the second contests the whole invoice
    book.tables["payments"].clear()
    assert f"disputed since {day(-20)} (12,719.36 EUR: billing error)" in one(book)["reason"]


def test_a_resolved_dispute_no_longer_pauses():
    book = Book()
    iid = book.invoice(book.customer(), 20)
    book.dispute(iid, day(-15), resolved=day(-2))
    assert one(book)["step"] == "solution_offer"


# --- promises (DESIGN 2.6) ------------------------------------------------------------------------


def test_pending_promise_waits_for_the_promised_amount():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 20, 500.0)
    book.promise(cid, day(-5), day(-2), 500.0, iid)  # grace 3 days: pending until day(1)
    row = one(book)
    assert (row["status"], row["exclusion"], row["step"]) == ("excluded", "promise pending", None)
    assert row["reason"] == f"promise pending: 500.00 EUR by {day(-2)}, covering 500.00 EUR"
    assert row["next_date"] == day(2)  # the day after promised date + 3 days of grace


def test_two_pending_promises_are_each_told_with_their_own_amount_and_date():
    """Two promises are two commitments: the reason names each, earliest first, never their
    sum at the later date (which gave the first promise days it does not have)."""
    book = Book()
    cid = book.customer()
    first, second = book.invoice(cid, 20, 2924.55), book.invoice(cid, 15, 3291.70)
    book.promise(cid, day(-4), day(5), 3291.70, second)
    book.promise(cid, day(-6), day(-1), 2924.55, first)
    row = one(book)
    assert row["exclusion"] == "promise pending"
    assert row["reason"] == (
        f"promise pending: 2,924.55 EUR by {day(-1)} and 3,291.70 EUR by {day(5)}, "
        "covering 6,216.25 EUR"
    )


def test_two_promises_due_the_same_day_are_told_as_one_amount():
    """Two promises due the same day are one commitment by that day (as the drafts say them):
    "1,632.81 EUR by ... , 4,540.20 EUR by <same day>" read as two deadlines (seed-5150 check,
    C00041); a third, later, keeps its own date."""
    book = Book()
    cid = book.customer()
    a, b = book.invoice(cid, 20, 1632.81), book.invoice(cid, 18, 4540.20)
    later = book.invoice(cid, 15, 0.33)
    book.promise(cid, day(-6), day(2), 1632.81, a)
    book.promise(cid, day(-5), day(2), 4540.20, b)
    book.promise(cid, day(-4), day(4), 0.33, later)
    row = one(book)
    assert row["reason"].startswith(
        f"promise pending: 6,173.01 EUR by {day(2)} and 0.33 EUR by {day(4)}"
    ), row["reason"]


def test_the_latest_promise_sums_the_promises_of_one_call_due_the_same_day():
    """The promise column shows the whole latest commitment: two invoices promised in one call
    for the same day, both broken (a fresh-seed check's C00068 showed 475.35 of 1,698.17); a
    promise of that call for another day, or kept, is not added."""
    book = Book()
    cid = book.customer()
    a, b, c = (book.invoice(cid, dpd, amount) for dpd, amount in ((30, 1222.82), (25, 475.35), (20, 90.0)))
    book.promise(cid, day(-20), day(-14), 1222.82, a)
    book.promise(cid, day(-20), day(-14), 475.35, b)
    book.promise(cid, day(-20), day(-12), 90.0, c)  # another pay-by date: its own commitment
    book.promise(cid, day(-30), day(-14), 500.0, a)  # an older call
    row = one(book)
    assert (row["promise_amount"], row["promise_date"], row["promise_status"]) == (90.0, day(-12), "broken")
    book.tables["promises"][2]["promised_date"] = day(-14)
    book.tables["promises"][2]["promise_id"] = "PR0"  # not the last by id: still summed
    row = one(book)
    assert (row["promise_amount"], row["promise_date"], row["promise_status"]) == (1788.17, day(-14), "broken")
    book.payment(cid, day(-15), 90.0, c)  # kept: the broken ones only
    row = one(book)
    assert row["promise_amount"] == 1698.17, row["promise_amount"]


def test_promise_without_invoice_covers_the_oldest_overdue_invoices():
    book = Book()
    cid = book.customer()
    oldest = book.invoice(cid, 20, 200.0)
    newer = book.invoice(cid, 8, 500.0)
    book.promise(cid, day(-3), day(5), 300.0)  # covers the 200.00, then 100.00 of the 500.00
    row = one(book)
    assert (row["status"], row["step"]) == ("action", "personal_contact")
    assert covered(row) == [newer] and oldest not in covered(row)
    assert row["covered_amount"] == 400.0  # only what the promise does not cover is chased
    assert f"300.00 EUR under a promise of 300.00 EUR by {day(5)}" in row["reason"]  # unchanged
    book.tables["promises"][0]["amount"] = 700.0
    assert one(book)["exclusion"] == "promise pending"


def test_broken_promise_escalates_earlier_phone_firmer_tone():
    book = Book()
    cid = book.customer(preferred_channel="email")
    iid = book.invoice(cid, 3, 500.0)  # a light reminder by email otherwise
    book.promise(cid, day(-20), day(-10), 500.0, iid)
    book.promise(cid, day(-40), day(-30), 500.0, iid)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "phone", "firm")
    assert "2 promises broken since May" in row["reason"]
    assert "prefers email but the broken commitment calls for contact by phone" in row["reason"]


def test_reason_words_a_collector_can_say():
    book = Book()
    cid = book.customer(preferred_channel="phone")
    for dpd in (40, 20, 10):
        book.invoice(cid, dpd, 1000.0)
    book.promise(cid, day(-25), day(-20), 1000.0)
    book.promise(cid, day(-15), day(-10), 1000.0)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("last_notice", "phone", "firm")
    assert row["reason"].startswith(
        "10 to 40 days past due on 3 invoices (3,000.00 EUR), 2 promises broken since June"
    )
    assert row["reason"].endswith("prefers phone")


def test_promise_status_matches_the_features_definition(hand_portfolio, as_of):
    from workbench.features import customer_features

    status = promise_status(hand_portfolio, as_of).collect()
    assert dict(zip(status["promise_id"], status["status"])) == {
        "PR1": "kept", "PR2": "broken", "PR3": "pending",
    }  # fmt: skip
    features = customer_features(hand_portfolio, as_of).collect()
    counts = status.group_by("customer_id").agg(
        kept=(pl.col("status") == "kept").sum(), broken=(pl.col("status") == "broken").sum()
    )
    joined = counts.join(features, on="customer_id")
    assert (joined["kept"] == joined["promises_kept"]).all()
    assert (joined["broken"] == joined["promises_broken"]).all()


# --- payment plans (DESIGN 2.7) -----------------------------------------------------------------


def test_plan_on_track_is_not_chased():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 40, 900.0)
    book.plan(cid, [day(-20), day(10), day(40)], 300.0)
    book.payment(cid, day(-20), 300.0, book.tables["invoices"][0]["invoice_id"])
    row = one(book)
    assert (row["status"], row["exclusion"]) == ("excluded", "plan on track")
    assert row["reason"] == f"plan on track: payment plan instalments paid as agreed, next instalment {day(10)}"
    assert row["next_date"] == day(10)


def test_a_plan_shelters_only_its_invoices():
    book = Book()
    cid = book.customer()
    planned = book.invoice(cid, 40, 900.0)
    other = book.invoice(cid, 20, 400.0)
    book.plan(cid, [day(-20), day(10), day(40)], 300.0)
    for row in book.tables["payment_plans"]:
        row.update(invoice_id=planned, agreed_date=day(-25))
    book.payment(cid, day(-20), 300.0, planned)
    row = one(book)
    assert (row["status"], row["step"]) == ("action", "solution_offer")  # dpd 20, never dunned
    assert covered(row) == [other]
    assert "600.00 EUR in a payment plan on track" in row["reason"]


def test_missed_instalment_escalates_like_a_broken_promise():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 3, 900.0)
    book.plan(cid, [day(-20), day(10), day(40)], 300.0)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == ("personal_contact", "phone", "firm")
    # since when, and how much behind: the 300.00 due on day -20, nothing paid
    assert (
        f"1 instalment of the payment plan missed (since {day(-20)}, 300.00 EUR behind the plan)"
        in row["reason"]
    ), row["reason"]
    book.payment(cid, day(-15), 100.0, None)  # paid in part (unapplied, matching no invoice)
    assert "(since" in one(book)["reason"] and "200.00 EUR behind" in one(book)["reason"]


# --- never chase a customer who has paid (DESIGN 2.1) ----------------------------------------------


def test_recent_payment_covering_the_overdue_amount_is_not_chased():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10, 300.0)
    upcoming = book.invoice(cid, -20, 1000.0)
    book.payment(cid, day(-2), 400.0, upcoming)  # applied to another invoice: excuses nothing
    row = one(book)
    assert (row["status"], row["step"]) == ("action", "personal_contact")
    assert (
        f"paid 400.00 EUR in the last 7 days (last on {day(-2)}) against other invoices, which does "
        "not settle this one"  # one invoice past due
    ) in row["reason"]
    book.invoice(cid, 12, 200.0)  # two past due: "these"
    row = one(book)
    assert "against other invoices, which does not settle these" in row["reason"], row["reason"]


def test_unapplied_cash_suppresses_chasing_and_is_flagged():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 60, 300.0)
    book.payment(cid, day(-40), 50.0, None)
    row = one(book)  # 50.00 of unapplied cash shelters 50.00: the other 250.00 is chased
    assert (row["status"], row["covered_amount"], row["unapplied_cash"]) == ("action", 250.0, 50.0)
    assert "50.00 EUR set against 50.00 EUR of unapplied cash to reconcile" in row["reason"]
    book.tables["payments"][0]["amount"] = 300.0
    row = one(book)
    assert (row["status"], row["exclusion"]) == ("excluded", "unapplied cash to reconcile")
    assert row["reason"].startswith("unapplied cash to reconcile: 300.00 EUR received without an invoice")


def test_a_customer_who_paid_everything_is_not_in_the_list():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 10, 300.0)
    book.payment(cid, day(-20), 300.0, iid)  # paid before the due date
    assert book.recommend() == {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_portfolios())
def test_never_chase_a_customer_who_has_paid(case):
    portfolio, as_of = case
    rows = recommendations(portfolio, as_of)
    actions = rows.filter(pl.col("status") == "action", pl.col("step") != "resolve_dispute")
    assert (actions["open_amount"] > 0).all()
    for row in actions.to_dicts():  # every invoice an action covers is open and not disputed
        for invoice in row["invoices"]:
            assert invoice["open_balance"] > DEFAULT_POLICY.amounts.open_tolerance
    thanks = rows.filter(pl.col("status") == "thank_you")
    assert (thanks["open_amount"] == 0).all() if thanks.height else True


# --- contact cap (DESIGN 2.10) -------------------------------------------------------------------


def test_contact_cap_reached_waits():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10)
    other = book.invoice(cid, -20, 200.0)  # the messages are about another invoice
    book.contact(cid, day(-6), "email", other)
    row = one(book)
    assert row["status"] == "action"  # 1 contact in the last 7 days: below the cap of 2
    book.contact(cid, day(-4), "sms", other)
    row = one(book)
    assert (row["status"], row["exclusion"], row["channel"]) == ("excluded", "capped", None)
    assert row["reason"] == (
        f"capped: 2 messages in the last 7 days, last message on {day(-4)} by sms, "
        f"next: personal contact from {day(1)}"
    )
    book.tables["contacts"][0]["contact_date"] = day(-7)  # outside (as_of - 7, as_of]
    assert one(book)["status"] == "action"


def test_minimum_gap_between_two_contacts_whatever_the_channel():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10)
    book.contact(cid, day(-2), "sms", book.invoice(cid, -20, 200.0))
    row = one(book)
    assert (row["status"], row["exclusion"], row["next_date"]) == ("excluded", "contacted recently", day(1))
    book.tables["contacts"][0]["outcome"] = "dispute_raised"  # the customer's own message
    assert one(book)["status"] == "action"


def test_cap_applies_to_customer_contacts_not_to_internal_actions():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 10)
    book.dispute(iid, day(-5))
    book.contact(cid, day(-2), "phone")
    book.contact(cid, day(-1), "email")
    assert one(book)["step"] == "resolve_dispute"


def test_cap_is_a_policy_value():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10)
    book.contact(cid, day(-3), "email", book.invoice(cid, -20, 200.0))
    assert one(book, with_policy(contact=Contact(max_per_week=1)))["exclusion"] == "capped"
    assert one(book, with_policy(contact=Contact(min_gap_days=4)))["exclusion"] == "contacted recently"


# --- thank you (DESIGN 2.12) ------------------------------------------------------------------


def test_thank_you_after_an_overdue_balance_is_cleared():
    book = Book()
    cid = book.customer(preferred_channel="sms")
    iid = book.invoice(cid, 20, 300.0)
    book.payment(cid, day(-3), 300.0, iid)  # 17 days late, 3 days ago
    row = one(book)
    assert (row["status"], row["step"], row["channel"], row["tone"]) == ("thank_you", "thank_you", "sms", "friendly")
    assert row["open_amount"] == 0.0
    assert row["reason"] == f"overdue balance cleared on {day(-3)}: thank the customer, prefers sms"
    assert covered(row) == [iid]


def test_no_thank_you_when_paid_on_time_long_ago_or_still_owing():
    on_time = Book()
    cid = on_time.customer()
    iid = on_time.invoice(cid, 2, 300.0)
    on_time.payment(cid, day(-3), 300.0, iid)  # paid before its due date
    assert on_time.recommend() == {}
    long_ago = Book()
    cid = long_ago.customer()
    iid = long_ago.invoice(cid, 30, 300.0)
    long_ago.payment(cid, day(-8), 300.0, iid)
    assert long_ago.recommend() == {}
    owing = Book()
    cid = owing.customer()
    iid = owing.invoice(cid, 30, 300.0)
    owing.payment(cid, day(-2), 300.0, iid)
    owing.invoice(cid, -10, 100.0)
    assert one(owing)["status"] == "excluded"


# --- formal notice, agency, legal, write-off (DESIGN 2.3) --------------------------------------------


@pytest.mark.parametrize(
    ("amount", "step", "channel", "tone"),
    [
        (20000.0, "legal", "legal", "formal"),
        (5000.0, "agency", "agency", "formal"),
        (300.0, "write_off_review", "none", "neutral"),
    ],
)
def test_unanswered_formal_notice_hands_over_by_amount(amount, step, channel, tone):
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 70, amount)
    book.contact(cid, day(-20), "registered_letter", iid)
    row = one(book)
    assert (row["step"], row["channel"], row["tone"]) == (step, channel, tone)
    assert f"formal notice of {day(-20)} unanswered at its deadline {day(-9)}" in row["reason"]
    assert row["needs_approval"] is False
    if step == "write_off_review":
        assert "below the 1,000.00 EUR threshold for an agency" in row["reason"]


def test_formal_notice_awaits_its_answer_then_one_call_after_a_payment():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 70, 5000.0)
    book.contact(cid, day(-5), "registered_letter", iid)
    row = one(book)
    assert (row["status"], row["exclusion"]) == ("excluded", "formal notice sent")
    # deadline: notice date + 3 days of post + 8 days to answer
    assert row["reason"] == f"formal notice sent: formal notice sent {day(-5)}, deadline {day(6)}, then agency"
    assert (row["next_step"], row["next_date"]) == ("hand-over", day(7))
    book.tables["contacts"][0]["contact_date"] = day(-30)
    book.payment(cid, day(-10), 100.0, iid)  # paid in part after the notice: one call first
    row = one(book)
    assert (row["step"], row["channel"]) == ("personal_contact", "phone")
    assert "partly paid (100.00 EUR received" in row["reason"]
    assert "paid in part since its formal notice: call about the rest" in row["reason"]
    book.contact(cid, day(-4), "phone", iid, outcome="no_answer")  # the call: no restart
    row = one(book)
    assert (row["step"], row["channel"]) == ("agency", "agency")
    assert "partly paid (100.00 EUR received" in row["reason"]


def test_a_notice_awaiting_its_deadline_tells_its_answer_and_the_approval():
    """While a formal notice's deadline runs, the exclusion says which invoice was paid in part
    since (it gets a call, not the hand-over) and that a strategic account's hand-over needs
    approval (a fresh-seed check's C00006: 'puis procédure judiciaire' said neither)."""
    book = Book()
    cid = book.customer(strategic=True)
    paid, unpaid = book.invoice(cid, 70, 5000.0), book.invoice(cid, 60, 3000.0)
    book.contact(cid, day(-5), "registered_letter", paid)
    book.contact(cid, day(-5), "registered_letter", unpaid)
    book.payment(cid, day(-2), 1000.0, paid)
    row = one(book)
    assert (row["status"], row["exclusion"]) == ("excluded", "formal notice sent")
    assert row["reason"] == (
        f"formal notice sent: formal notice sent {day(-5)}, deadline {day(6)}, then personal "
        f"contact, {paid} paid in part since its formal notice: call about the rest before any "
        "hand-over"
    ), row["reason"]
    book.tables["payments"].clear()
    row = one(book)
    assert row["reason"] == (
        f"formal notice sent: formal notice sent {day(-5)}, deadline {day(6)}, then agency "
        "(needs approval: strategic account)"
    ), row["reason"]


def test_waiting_for_the_next_step_tells_the_last_message_and_the_broken_promises():
    """The reason of a customer waiting for its next step tells the highest step reached, the
    last message when it came after it, and the promises broken (a fresh-seed check's C00102
    was 'waiting' with a message sent that day and a broken promise of 15,742.90 unsaid)."""
    book = Book()
    cid = book.customer()
    a, b = book.invoice(cid, 40, 1000.0), book.invoice(cid, 6, 500.0)
    book.contact(cid, day(-5), "letter", a)
    book.contact(cid, day(-4), "email", b)
    book.promise(cid, day(-20), day(-12), 1000.0, a)
    row = one(book)
    assert row["reason"] == (
        f"waiting for the next step: last notice sent {day(-5)}, last message on {day(-4)} by "
        f"email, 1 promise broken since June, next: personal contact from {day(3)}"
    ), row["reason"]


def test_a_step_reached_by_an_unanswered_call_is_said_so():
    """The history tells a step reached by a call nobody answered (a fresh-seed check's C00026
    and C00085: "proposition d'échéancier le 05/11/2026" about a call without answer)."""
    for outcome, said in (("no_answer", " (call unanswered)"), ("reached", "")):
        book = Book()
        cid = book.customer()
        iid = book.invoice(cid, 30, 1000.0)
        book.contact(cid, day(-12), "email", iid)
        book.contact(cid, day(-3), "phone", iid, outcome=outcome)
        row = one(book)
        assert row["reason"].startswith(
            f"waiting for the next step: personal contact sent {day(-3)}{said}, next: "
        ), row["reason"]


def test_a_held_or_waiting_customer_is_told_its_missed_instalment():
    """A plan instalment missed is said while the next step waits (a fresh-seed check's C00017,
    on the watch list, was 'contacted recently' with a missed instalment of 3,213.08 unsaid)."""
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 40, 3000.0)
    book.plan(cid, [day(-20), day(10)], 1000.0)
    book.contact(cid, day(-1), "email", iid)
    row = one(book)
    assert row["reason"] == (
        f"waiting for the next step: light reminder sent {day(-1)}, 1 instalment of the payment "
        f"plan missed (since {day(-20)}, 1,000.00 EUR behind the plan), next: personal contact "
        f"from {day(6)}"
    ), row["reason"]


def test_unapplied_cash_is_told_once_beside_a_credit_or_a_hand_over():
    """The unapplied cash of a customer excluded for its credit, or with every invoice handed
    over, is told once (the exclusion's detail and the shelters both told it)."""
    book = Book()
    cid = book.customer()
    paid = book.invoice(cid, 60, 1000.0)
    book.invoice(cid, 20, 500.0)
    matched = book.invoice(cid, 10, 300.0)
    book.payment(cid, day(-30), 1600.0, paid)  # 600.00 of credit
    book.payment(cid, day(-5), 300.0, None)
    row = one(book)
    assert row["exclusion"] == "customer credit to offset", row
    assert row["reason"].count("of unapplied cash to reconcile") == 1, row["reason"]
    assert row["reason"].count(f"equal to the balance of {matched}") == 1, row["reason"]
    book = Book()
    cid = book.customer()
    handed = book.invoice(cid, 60, 1000.0)
    book.payment(cid, day(-30), 1000.0, None)
    book.contact(cid, day(-20), "agency", handed, outcome="handed_over")
    row = one(book)
    assert row["exclusion"] == "handed over", row
    assert row["reason"].count(f"equal to the balance of {handed}") == 1, row["reason"]


def test_a_strategic_hand_over_needs_approval():
    book = Book()
    cid = book.customer(strategic=True)
    iid = book.invoice(cid, 70, 5000.0)
    book.contact(cid, day(-20), "registered_letter", iid)
    row = one(book)
    assert (row["step"], row["needs_approval"]) == ("agency", True)
    assert row["action"] == "hand over to a collection agency (needs approval: strategic account)"


def test_a_strategic_hand_over_announced_by_an_exclusion_needs_approval():
    """The hand-over a held strategic account waits for is announced with its approval, in
    every exclusion that announces it (C00022 of the seed-3319 review: 'in conversation',
    then the agency, said without it; only 'formal notice sent' said it)."""
    for strategic, suffix in ((True, 1), (False, 0)):
        book = Book()
        cid = book.customer(strategic=strategic)
        iid = book.invoice(cid, 70, 5000.0)
        book.contact(cid, day(-20), "registered_letter", iid)
        book.contact(cid, day(-1), "phone", iid, outcome="reached")
        row = one(book)
        assert row["exclusion"] == "in conversation" and "next: agency" in row["reason"], row
        assert row["reason"].count("(needs approval: strategic account)") == suffix, row["reason"]


def test_handed_over_invoices_are_left_to_the_agency():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 90, 5000.0)
    book.contact(cid, day(-10), "agency", iid, outcome="handed_over")
    row = one(book)
    assert (row["status"], row["exclusion"]) == ("excluded", "handed over")
    assert row["reason"] == f"handed over: 1 invoice with the agency or legal since {day(-10)}"


# --- shape ----------------------------------------------------------------------------------


def test_one_row_per_customer_with_a_status_and_a_known_exclusion(hand_portfolio, as_of):
    rows = recommendations(hand_portfolio, as_of)
    assert rows["customer_id"].is_unique().all()
    assert set(rows["status"]) <= {"action", "thank_you", "excluded"}
    excluded = rows.filter(pl.col("status") == "excluded")
    assert set(excluded["exclusion"]) <= set(EXCLUSIONS)
    assert excluded["step"].is_null().all() and excluded["channel"].is_null().all()
    assert rows.filter(pl.col("status") != "excluded")["exclusion"].is_null().all()
    assert rows["reason"].is_not_null().all()


def test_money_text():
    frame = pl.DataFrame({"x": [0.0, 5.5, 1234.5, 1234567.891, -20.0]})
    text = frame.select(money_text(pl.col("x"), "EUR").alias("x"))["x"].to_list()
    assert text == ["0.00 EUR", "5.50 EUR", "1,234.50 EUR", "1,234,567.89 EUR", "-20.00 EUR"]


def test_policy_tables_reach_the_recommendation():
    book = Book()
    cid = book.customer(created_date=date(2025, 1, 1))
    book.history(cid, days_late=-2)
    book.invoice(cid, 25)  # reliable: 7 days later, a solution offer at dpd 21
    policy = with_policy(
        channels=dataclasses.replace(
            DEFAULT_POLICY.channels, reliable=StepChannels(solution_offer=("letter", "neutral"))
        )
    )
    row = one(book, policy)
    assert (row["segment"], row["step"], row["channel"], row["tone"]) == ("reliable", "solution_offer", "letter", "neutral")
