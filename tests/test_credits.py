"""Customer credit netted per customer, and sub-cent amounts summed exactly (issue 10, area F).

Every expected value is worked out by hand in the comments, or recomputed independently from the
raw tables (plain polars, or exact :class:`decimal.Decimal`), never read back from the code under
test.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from conftest import portfolio_of, random_portfolios, typed_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.balances import customer_credit, invoice_balances, money_sum
from workbench.features import customer_features
from workbench.kpis import portfolio_kpis
from workbench.policy import DEFAULT_POLICY, Policy, Team
from workbench.recommend import invoice_states, recommendations

AS_OF = date(2026, 6, 30)
D = date.fromisoformat

TABLES = {
    "customers": {"customer_id": ["C1", "C2", "C3"], "name": ["Alpha", "Beta", "Gamma"]},
    "invoices": {
        "invoice_id": ["A1", "A2", "A3", "B1", "B2", "G1", "G2"],
        "customer_id": ["C1", "C1", "C1", "C2", "C2", "C3", "C3"],
        "issue_date": ["2026-03-01", "2026-04-01", "2026-05-01", "2026-04-01", "2026-04-15",
                       "2026-05-01", "2026-06-01"],
        "due_date": ["2026-03-31", "2026-04-30", "2026-05-31", "2026-05-01", "2026-05-15",
                     "2026-05-31", "2026-06-15"],
        "amount": [1000.0, 500.0, 300.0, 400.0, 200.0, 100.0, 0.004],
        "currency": ["EUR"] * 7,
    },
    "payments": {
        "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"],
        "customer_id": ["C1", "C2", "C3", "C3", "C3", "C3", "C3", "C3", "C1"],
        "payment_date": ["2026-05-10", "2026-05-20", "2026-06-01", "2026-06-05", "2026-06-10",
                         "2026-06-11", "2026-06-12", "2026-06-13", "2026-07-05"],
        "amount": [700.0, 800.0, 33.333, 33.333, 33.333, 33.333, 33.333, 33.333, 5000.0],
        "invoice_id": ["A2", "B2", "G1", "G1", "G1", None, None, None, "A1"],
    },
    "credit_notes": {
        "credit_note_id": ["N1", "N2"],
        "invoice_id": ["A3", "A1"],
        "date": ["2026-06-01", "2026-07-02"],
        "amount": [400.0, 1000.0],
    },
}  # fmt: skip
"""C1: A1 1,000.00 unpaid (due 03-31: 91 days past due); A2 500.00 paid 700.00 (200.00 beyond
its amount); A3 300.00 credited 400.00 by N1 (100.00 beyond it): 300.00 of credit, so C1 is
chased for 1,000.00 - 300.00 = 700.00. C2: B1 400.00 unpaid (60 days past due); B2 200.00 paid
800.00 (600.00 beyond it): its credit covers B1, C2 is not chased. C3: G1 100.00 paid 3 x
33.333 = 99.999 (0.001 short: 0.00, settled on 06-10); G2 0.004 (0.00 open); three unapplied
payments of 33.333 = 99.999 = 100.00 of unapplied cash. P9 and N2 are dated after the as-of
date: invisible."""


def rows_by_customer(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["customer_id"]: row for row in frame.iter_rows(named=True)}


def test_hand_worked_balances_keep_the_excess():
    balances = invoice_balances(portfolio_of(TABLES), AS_OF).collect()
    got = {r["invoice_id"]: (r["open_balance"], r["excess"], r["is_open"]) for r in balances.iter_rows(named=True)}  # fmt: skip
    assert got == {
        "A1": (1000.0, 0.0, True), "A2": (0.0, 200.0, False), "A3": (0.0, 100.0, False),
        "B1": (400.0, 0.0, True), "B2": (0.0, 600.0, False),
        "G1": (0.0, 0.0, False), "G2": (0.0, 0.0, False),
    }  # fmt: skip
    # G1 settles with its third payment (100 - 99.999 = 0.001, 0.00 to the cent), on 06-10
    g1 = balances.filter(pl.col("invoice_id") == "G1").row(0, named=True)
    assert (g1["paid"], g1["settlement_date"]) == (100.0, D("2026-06-10"))


def test_credit_is_reported_per_customer_and_in_the_kpis():
    portfolio = portfolio_of(TABLES)
    credit = customer_credit(portfolio, AS_OF).collect().sort("customer_id")
    assert credit.rows() == [("C1", 300.0, 2), ("C2", 600.0, 1)]
    kpis = portfolio_kpis(portfolio, AS_OF)
    # AR stays invoice-based: A1 1,000.00 + B1 400.00; the credit is told apart
    assert (kpis["total_ar"], kpis["customer_credit"]) == (1400.0, 900.0)
    features = rows_by_customer(customer_features(portfolio, AS_OF).collect())
    assert features["C1"]["customer_credit"] == 300.0 and features["C1"]["open_balance"] == 1000.0
    # 3 x 33.333 unapplied = 99.999 -> 100.00 (rounding each payment first would say 99.99)
    assert features["C3"]["unapplied_cash"] == 100.0


def test_the_net_position_is_chased_and_the_reason_does_the_sum():
    rows = rows_by_customer(recommendations(portfolio_of(TABLES), AS_OF))
    c1 = rows["C1"]
    assert c1["status"] == "action" and c1["chased_amount"] == 700.0
    assert c1["open_amount"] == 1000.0 and c1["customer_credit"] == 300.0
    assert "300.00 EUR set against 300.00 EUR of customer credit" in c1["reason"]
    assert (
        "A2 invoiced 500.00 EUR, paid 700.00 EUR, credited 0.00 EUR: 200.00 EUR beyond its amount"
        in c1["reason"]
    )
    assert "A3 invoiced 300.00 EUR, paid 0.00 EUR, credited 400.00 EUR" in c1["reason"]
    c2 = rows["C2"]
    assert (c2["status"], c2["exclusion"], c2["chased_amount"]) == (
        "excluded", "customer credit to offset", 0.0
    )  # fmt: skip
    assert c2["next_step"] == "offset the customer credit" and c2["next_date"] == AS_OF
    assert "600.00 EUR of customer credit (B2 invoiced 200.00 EUR, paid 800.00 EUR" in c2["reason"]
    assert "covers the 400.00 EUR overdue: offset it against them, do not chase" in c2["reason"]


def test_the_reason_in_french():
    policy = Policy(team=Team(language="fr"))
    rows = rows_by_customer(recommendations(portfolio_of(TABLES), AS_OF, policy))
    assert rows["C2"]["reason"].startswith("crédit client à imputer : le crédit client de 600,00")
    assert "B2 facturée 200,00\u00a0EUR, réglée 800,00\u00a0EUR" in rows["C2"]["reason"]
    assert "compensés par le crédit client de 300,00" in rows["C1"]["reason"]


def test_credit_covers_invoices_not_yet_due_so_no_reminder_is_sent_for_them():
    # D1 1,000.00 due 07-05 (in 5 days, not yet due); D2 500.00 paid 1,200.00 (700.00 credit,
    # covers 700.00 of D1) or 1,500.00 (1,000.00 credit, covers D1 in full: no pre-due reminder)
    tables = {
        "customers": {"customer_id": ["C1"], "name": ["Delta"]},
        "invoices": {
            "invoice_id": ["D1", "D2"], "customer_id": ["C1", "C1"],
            "issue_date": ["2026-06-05", "2026-01-01"], "due_date": ["2026-07-05", "2026-01-31"],
            "amount": [1000.0, 500.0], "currency": ["EUR", "EUR"],
        },
        "payments": {
            "payment_id": ["P1"], "customer_id": ["C1"], "payment_date": ["2026-01-20"],
            "amount": [1200.0], "invoice_id": ["D2"],
        },
    }  # fmt: skip
    for paid, covered, offset in ((1200.0, 70_000, False), (1500.0, 100_000, True)):
        tables["payments"]["amount"] = [paid]
        states = invoice_states(portfolio_of(tables), AS_OF)
        d1 = states.filter(pl.col("invoice_id") == "D1").row(0, named=True)
        assert (d1["credit_cents"], d1["offset"], d1["chased_cents"]) == (covered, offset, 0)
    row = recommendations(portfolio_of(tables), AS_OF).row(0, named=True)
    assert row["customer_credit"] == 1000.0 and row["status"] == "excluded"
    assert "nothing overdue to set it against; it covers the next invoices" in row["reason"]


# --- an independent recomputation from the raw tables ------------------------------------------


def exact(value: float) -> Decimal:
    """The decimal the user wrote (the shortest repr of the float)."""
    return Decimal(repr(value))


def cent(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_invoices(tables: dict, as_of: date) -> dict[str, dict]:
    """Per invoice issued <= as_of, in exact decimals: open and excess (rounded once), customer,
    overdue; from the raw dicts of columns, with no code of the workbench."""
    out = {}
    inv = tables["invoices"]
    for i, invoice in enumerate(inv["invoice_id"]):
        if inv["issue_date"][i] > as_of:
            continue
        net = exact(inv["amount"][i])
        pays, notes = tables["payments"], tables["credit_notes"]
        for j, target in enumerate(pays["invoice_id"]):
            if target == invoice and pays["payment_date"][j] <= as_of:
                net -= exact(pays["amount"][j])
        for j, target in enumerate(notes["invoice_id"]):
            if target == invoice and notes["date"][j] <= as_of:
                net -= exact(notes["amount"][j])
        out[invoice] = {
            "customer": inv["customer_id"][i],
            "open": cent(max(net, Decimal(0))),
            "excess": cent(max(-net, Decimal(0))),
            "overdue": inv["due_date"][i] < as_of,
        }
    return out


@st.composite
def sub_cent_portfolios(draw: st.DrawFn) -> tuple[dict, date]:
    """Raw tables with amounts of 3 decimals (0.001 to 5,000.000), invoices paid in thirds, in
    full, over-paid or credited beyond their amount, and unapplied cash."""
    start = date(2026, 1, 1)
    customers = [f"C{i}" for i in range(draw(st.integers(1, 3)))]
    n = draw(st.integers(1, 7))
    issued = [start + timedelta(days=draw(st.integers(0, 200))) for _ in range(n)]
    tables = {
        "customers": {"customer_id": customers, "name": customers},
        "invoices": {
            "invoice_id": [f"I{i}" for i in range(n)],
            "customer_id": [draw(st.sampled_from(customers)) for _ in range(n)],
            "issue_date": issued,
            "due_date": [day + timedelta(days=draw(st.integers(0, 60))) for day in issued],
            "amount": [draw(st.integers(1, 5_000_000)) / 1000 for _ in range(n)],
            "currency": ["EUR"] * n,
        },
        "payments": {k: [] for k in ("payment_id", "customer_id", "payment_date", "amount", "invoice_id")},
        "credit_notes": {k: [] for k in ("credit_note_id", "invoice_id", "date", "amount")},
    }  # fmt: skip
    pays, notes = tables["payments"], tables["credit_notes"]
    for i in range(n):
        milli = round(tables["invoices"]["amount"][i] * 1000)
        kind = draw(st.sampled_from(["none", "thirds", "over", "credit_over", "random"]))
        parts = {"none": [], "thirds": [round(milli / 3)] * 3, "over": [milli * 2],
                 "random": [draw(st.integers(1, 6_000_000))]}.get(kind, [])  # fmt: skip
        for part in parts:
            pays["payment_id"].append(f"P{len(pays['payment_id'])}")
            pays["customer_id"].append(tables["invoices"]["customer_id"][i])
            pays["payment_date"].append(issued[i] + timedelta(days=draw(st.integers(0, 90))))
            pays["amount"].append(max(part, 1) / 1000)
            pays["invoice_id"].append(f"I{i}")
        if kind == "credit_over":
            notes["credit_note_id"].append(f"N{i}")
            notes["invoice_id"].append(f"I{i}")
            notes["date"].append(issued[i] + timedelta(days=draw(st.integers(0, 30))))
            notes["amount"].append(draw(st.integers(milli, milli * 3)) / 1000)
    for k in range(draw(st.integers(0, 3))):  # unapplied cash
        pays["payment_id"].append(f"U{k}")
        pays["customer_id"].append(draw(st.sampled_from(customers)))
        pays["payment_date"].append(start + timedelta(days=draw(st.integers(0, 200))))
        pays["amount"].append(draw(st.integers(1, 500_000)) / 1000)
        pays["invoice_id"].append(None)
    return tables, start + timedelta(days=draw(st.integers(30, 300)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sub_cent_portfolios())
def test_exact_decimal_recomputation_and_nobody_vanishes(case):
    tables, as_of = case
    portfolio = typed_portfolio(tables)
    expected = expected_invoices(tables, as_of)
    tolerance = Decimal(repr(DEFAULT_POLICY.amounts.open_tolerance))
    balances = invoice_balances(portfolio, as_of).collect()
    for row in balances.iter_rows(named=True):
        want = expected[row["invoice_id"]]
        assert exact(row["open_balance"]) == want["open"], (row, want)
        assert exact(row["excess"]) == want["excess"], (row, want)
        assert row["is_open"] == (want["open"] > tolerance)
    assert set(balances["invoice_id"]) == set(expected)

    # every customer with an invoice open beyond the tolerance is in the worklist or excluded
    owing = {e["customer"] for e in expected.values() if e["open"] > tolerance}
    worklist = recommendations(portfolio, as_of)
    listed = rows_by_customer(worklist)
    assert owing <= set(listed), owing - set(listed)

    # the customer's credit is the sum of its excesses; the amount chased is at most the net
    # of its overdue balance and its credit (promises, cash and disputes may shelter more)
    for customer, row in listed.items():
        mine = [e for e in expected.values() if e["customer"] == customer]
        credit = sum((e["excess"] for e in mine), Decimal(0))
        overdue = sum((e["open"] for e in mine if e["overdue"]), Decimal(0))
        assert exact(row["customer_credit"]) == credit
        assert exact(row["chased_amount"]) <= max(overdue - credit, Decimal(0))
        if credit >= overdue:
            assert row["step"] not in {"light_reminder", "personal_contact", "solution_offer",
                                       "last_notice", "formal_notice", "agency", "legal"}  # fmt: skip
    kpis = portfolio_kpis(portfolio, as_of)
    assert exact(kpis["customer_credit"]) == sum(
        (e["excess"] for e in expected.values()), Decimal(0)
    )
    assert exact(kpis["total_ar"]) == sum(
        (e["open"] for e in expected.values() if e["open"] > tolerance), Decimal(0)
    )


def test_money_sum_rounds_once():
    frame = pl.DataFrame({"amount": [33.333, 33.333, 33.333, 0.004, 0.004]})
    # 99.999 + 0.008 = 100.007 -> 100.01
    assert frame.select(money_sum(pl.col("amount"))).item() == 100.01
    assert pl.DataFrame({"amount": [-0.005]}).select(money_sum(pl.col("amount"))).item() == -0.01


def test_sub_cent_unapplied_cash_shelters_exactly():
    # E1 100.00 overdue; three unapplied payments of 33.333 = 99.999 = 100.00 (10,000 cents):
    # E1 is covered in full (rounding each payment would leave 1 cent to chase)
    tables = {
        "customers": {"customer_id": ["C1"], "name": ["Epsilon"]},
        "invoices": {
            "invoice_id": ["E1"], "customer_id": ["C1"], "issue_date": ["2026-04-01"],
            "due_date": ["2026-05-01"], "amount": [100.0], "currency": ["EUR"],
        },
        "payments": {
            "payment_id": ["U1", "U2", "U3"], "customer_id": ["C1"] * 3,
            "payment_date": ["2026-06-01", "2026-06-02", "2026-06-03"],
            "amount": [33.333] * 3, "invoice_id": [None] * 3,
        },
    }  # fmt: skip
    e1 = invoice_states(portfolio_of(tables), AS_OF).row(0, named=True)
    assert (e1["cash_cents"], e1["chased_cents"]) == (10_000, 0)
    row = recommendations(portfolio_of(tables), AS_OF).row(0, named=True)
    assert (row["status"], row["exclusion"]) == ("excluded", "unapplied cash to reconcile")


def plain_polars_credit(portfolio, as_of: date) -> dict[str, float]:
    """Customer credit recomputed in plain polars from the raw tables: per invoice issued <=
    as_of, what its payments and credit notes dated <= as_of bring beyond its amount."""
    frames = portfolio.frames
    moves = pl.concat(
        [
            frames["payments"]
            .filter(pl.col("payment_date") <= as_of)
            .select("invoice_id", "amount"),
            frames["credit_notes"].filter(pl.col("date") <= as_of).select("invoice_id", "amount"),
        ]
    ).filter(pl.col("invoice_id").is_not_null())
    received = moves.group_by("invoice_id").agg(received=pl.col("amount").sum())
    excess = (
        frames["invoices"]
        .filter(pl.col("issue_date") <= as_of)
        .join(received, on="invoice_id", how="inner")
        .with_columns(excess=(pl.col("received") - pl.col("amount")).round(2))
        .filter(pl.col("excess") > 0)
        .group_by("customer_id")
        .agg(pl.col("excess").sum().round(2))
    )
    return dict(excess.iter_rows())


@settings(max_examples=40, deadline=None)
@given(random_portfolios())
def test_customer_credit_matches_a_plain_polars_recomputation(case):
    portfolio, as_of = case
    expected = plain_polars_credit(portfolio, as_of)
    features = customer_features(portfolio, as_of).collect()
    got = {c: v for c, v in features.select("customer_id", "customer_credit").iter_rows() if v}
    assert got == expected
    assert portfolio_kpis(portfolio, as_of)["customer_credit"] == round(sum(expected.values()), 2)


def test_the_credit_sources_are_in_the_recommendation_for_the_drafts():
    rows = rows_by_customer(recommendations(portfolio_of(TABLES), AS_OF))
    assert rows["C1"]["credit_sources"] == [
        {"invoice_id": "A2", "amount": 500.0, "paid": 700.0, "credited": 0.0, "excess": 200.0,
         "currency": "EUR"},
        {"invoice_id": "A3", "amount": 300.0, "paid": 0.0, "credited": 400.0, "excess": 100.0,
         "currency": "EUR"},
    ]  # fmt: skip


def test_the_draft_deducts_the_credit_and_asks_for_the_net():
    """C1's letter lists A1 (1,000.00 overdue), deducts the 300.00 of credit from A2 (200.00)
    and A3 (100.00) and asks for 700.00; its statement shows the whole credit. In French too."""
    from workbench.worklist import build_worklist

    for language, lines in {
        "en": ["Total: 1,000.00\u00a0EUR",
               "Less your credit (paid or credited beyond invoices A2, A3): 300.00\u00a0EUR",
               "Remaining due: 700.00\u00a0EUR",
               "Credit in your favour (paid or credited beyond invoices A2, A3): 300.00\u00a0EUR."],
        "fr": ["Total : 1\u202f000,00\u00a0EUR",
               "Déduction faite de votre crédit (excédent réglé ou crédité sur les factures "
               "A2, A3) : 300,00\u00a0EUR",
               "Reste à régler : 700,00\u00a0EUR",
               "Crédit en votre faveur (excédent réglé ou crédité sur les factures A2, A3) : "
               "300,00\u00a0EUR."],
    }.items():  # fmt: skip
        customers = {**TABLES["customers"], "language": [language] * 3}
        result = build_worklist(
            portfolio_of({**TABLES, "customers": customers}), AS_OF, Policy(team=Team(language))
        )
        row = result.rows.filter(pl.col("customer_id") == "C1").row(0, named=True)
        text = row["draft_message"]
        for line in lines:
            assert line in text, (line, text)
