"""Outcomes read back from a filled call sheet (issue 13): the reader, the CLI, loading the
outcomes with the source data, the follow-up rule and the weekly pick-up.

The call sheets are built here per the contract of :mod:`workbench.callsheet` (openpyxl), not
with the exporter; the expected records are worked out by hand."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from workbench.callsheet import HEADERS, KEY_COLUMNS, KEYS_SHEET, LAYOUT_VERSION, SHEET_COLUMNS
from workbench.errors import InputError
from workbench.outcomes import read_outcomes, write_outcomes

AS_OF = date(2026, 11, 20)
TODAY = date(2026, 11, 24)


def key(sheet: str, customer: str, collector: str, invoices: str = "", overdue: float = 100.0):
    """A keys row; ``invoices`` ;-separated here, written as the JSON array the sheet holds."""
    ids = [i for i in invoices.split(";") if i]
    return {
        "sheet": sheet, "customer_id": customer, "collector": collector,
        "as_of": AS_OF.isoformat(), "currency": "EUR", "invoices": json.dumps(ids),
        "overdue_amount": overdue,
    }  # fmt: skip


def call_sheet(
    path: Path,
    sheets: dict[str, list[dict]],
    keys: list[dict],
    language: str = "en",
    version: str = LAYOUT_VERSION,
) -> Path:
    """A workbook laid out like the contract: a summary sheet, a sheet per collector (header,
    rows, a blank row, a totals row), the hidden keys sheet."""
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["nothing to read here", 1, 2])
    for sheet, rows in sheets.items():
        ws = book.create_sheet(sheet)
        ws.append([HEADERS[language][c] for c in SHEET_COLUMNS])
        for row in rows:
            ws.append([row.get(c) for c in SHEET_COLUMNS])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, as a collector types it (not a formula)
        ws.append([])
        ws.append(["Total" if c == "rank" else None for c in SHEET_COLUMNS])
    ws = book.create_sheet(KEYS_SHEET)
    ws.append([version])
    ws.append(list(KEY_COLUMNS))
    for k in keys:
        ws.append([k[c] for c in KEY_COLUMNS])
    ws.sheet_state = "hidden"
    book.save(path)
    return path


def row(customer: str, **cells) -> dict:
    return {"rank": 1, "customer_name": f"name {customer}", "customer_id": customer,
            "action": "personal contact", "channel": "phone", **cells}  # fmt: skip


@pytest.fixture
def english(tmp_path) -> Path:
    sheets = {
        "Alice": [
            row("C1", done="yes", outcome="promise to pay", promised_date=datetime(2026, 11, 30),
                promised_amount=500.0, next_contact_date=datetime(2026, 12, 2)),
            row("C2"),  # not filled: nothing
            row("C3", done="yes", outcome="no answer", contact_date=datetime(2026, 11, 22),
                action="light reminder", channel="email"),
            row("C4", done="no", next_contact_date="2026-12-01", comment="on holiday"),
        ],
        "Bob": [
            row("C5", done="yes", outcome="dispute raised", comment="=HYPERLINK(1) wrong price"),
            row("C6", outcome="reached"),
            row("C7", done="yes", outcome="reached"),  # its keys name no invoice
        ],
    }  # fmt: skip
    keys = [
        key("Alice", "C1", "alice", "I1"), key("Alice", "C2", "alice", "I2;I3"),
        key("Alice", "C3", "alice", "I4"), key("Alice", "C4", "alice", "I5"),
        key("Bob", "C5", "bob", "I6;I7"), key("Bob", "C6", "bob", "I8"), key("Bob", "C7", "bob"),
    ]  # fmt: skip
    return call_sheet(tmp_path / "worklist.xlsx", sheets, keys)


def test_filled_rows_give_the_expected_records(english) -> None:
    result = read_outcomes(english, today=TODAY)
    assert result.rows_read == 6  # C2 is empty
    contacts = result.contacts.sort("contact_id")
    day_after = date(2026, 11, 21)
    # one contact per invoice of the row's action (C5's covers I6 and I7); C7's keys name no
    # invoice: one customer-level contact
    expected = pl.DataFrame(
        {
            "contact_id": ["WB-2026-11-20-C1-I1", "WB-2026-11-20-C3-I4", "WB-2026-11-20-C5-I6",
                           "WB-2026-11-20-C5-I7", "WB-2026-11-20-C6-I8", "WB-2026-11-20-C7"],
            "customer_id": ["C1", "C3", "C5", "C5", "C6", "C7"],
            "invoice_id": ["I1", "I4", "I6", "I7", "I8", None],
            "contact_date": [day_after, date(2026, 11, 22), day_after, day_after, day_after,
                             day_after],
            "channel": ["phone", "email", "phone", "phone", "phone", "phone"],
            "step": ["personal_contact", "light_reminder", "personal_contact",
                     "personal_contact", "personal_contact", "personal_contact"],
            "outcome": ["promise_to_pay", "no_answer", "dispute_raised", "dispute_raised",
                        "reached", "reached"],
            "collector": ["alice", "alice", "bob", "bob", "bob", "bob"],
            "recorded_from": ["worklist.xlsx / Alice / row 2", "worklist.xlsx / Alice / row 4",
                              "worklist.xlsx / Bob / row 2", "worklist.xlsx / Bob / row 2",
                              "worklist.xlsx / Bob / row 3", "worklist.xlsx / Bob / row 4"],
        }
    )  # fmt: skip
    assert contacts.select(expected.columns).equals(expected)
    assert contacts["tone"].is_null().all()
    assert result.counts() == {"rows_read": 6, "contact_rows": 5, "contacts": 6, "promises": 1,
                               "disputes": 2, "follow_ups": 2}  # fmt: skip
    promises = result.promises.to_dicts()
    assert promises == [
        {"promise_id": "WB-2026-11-20-C1-P", "customer_id": "C1", "promise_date": day_after,
         "promised_date": date(2026, 11, 30), "amount": 500.0, "invoice_id": "I1",
         "currency": "EUR"}
    ]  # fmt: skip
    disputes = result.disputes.sort("invoice_id")
    assert disputes["dispute_id"].to_list() == ["WB-2026-11-20-C5-I6", "WB-2026-11-20-C5-I7"]
    assert disputes["opened_date"].to_list() == [day_after, day_after]
    assert disputes["reason"].to_list() == ["=HYPERLINK(1) wrong price"] * 2
    follow = result.follow_ups.sort("customer_id").to_dicts()
    assert follow == [
        {"customer_id": "C1", "follow_up_date": date(2026, 12, 2), "collector": "alice",
         "set_on": day_after, "comment": None},
        {"customer_id": "C4", "follow_up_date": date(2026, 12, 1), "collector": "alice",
         "set_on": day_after, "comment": "on holiday"},
    ]  # fmt: skip


def test_unfilled_rows_and_sorting_change_nothing(tmp_path, english) -> None:
    first = read_outcomes(english, today=TODAY)
    book = openpyxl.load_workbook(english)
    ws = book["Alice"]
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=5)]
    for offset, values in enumerate(reversed(body)):  # sorted the other way round
        for column, value in enumerate(values, start=1):
            ws.cell(row=2 + offset, column=column).value = value  # (value=None would not clear)
    book.save(tmp_path / "sorted.xlsx")
    second = read_outcomes(tmp_path / "sorted.xlsx", today=TODAY)
    for name in ("promises", "disputes", "follow_ups"):
        assert getattr(second, name).sort(pl.all()).equals(getattr(first, name).sort(pl.all()))
    rows = second.contacts.sort("customer_id")["recorded_from"].to_list()
    assert rows[:2] == ["sorted.xlsx / Alice / row 5", "sorted.xlsx / Alice / row 3"]
    assert (
        second.contacts.drop("recorded_from")
        .sort("contact_id")
        .equals(first.contacts.drop("recorded_from").sort("contact_id"))
    )
    empty = call_sheet(
        tmp_path / "empty.xlsx", {"Alice": [row("C1")]}, [key("Alice", "C1", "alice")]
    )
    nothing = read_outcomes(empty, today=TODAY)
    assert nothing.rows_read == 0 and all(f.height == 0 for f in nothing.frames().values())


BAD_CELLS = [
    ({"done": "yes", "contact_date": "next tuesday"}, "Contact date", "'next tuesday'"),
    ({"outcome": "promise to pay", "promised_date": datetime(2026, 12, 1),
      "promised_amount": -20.0}, "Promised amount", "not above 0"),
    ({"outcome": "called twice"}, "Outcome", "'called twice'"),
    ({"outcome": "promise to pay", "promised_amount": 100.0}, "Promised date",
     "needs the promised date"),
    ({"done": "yes", "promised_date": datetime(2026, 11, 20), "outcome": "promise to pay",
      "promised_amount": 5.0, "contact_date": datetime(2026, 11, 23)}, "Promised date",
     "before the contact date"),
    ({"done": "yes", "contact_date": datetime(2026, 11, 28)}, "Contact date", "after today"),
    ({"next_contact_date": datetime(2029, 1, 1)}, "Next contact", "outside the dates"),
    ({"done": "maybe"}, "Done?", "'maybe'"),
    ({"outcome": "payment plan agreed", "promised_date": datetime(2026, 12, 1),
      "promised_amount": "inf"}, "Promised amount", "not an amount"),
    ({"done": "no", "outcome": "promise to pay", "promised_date": datetime(2026, 12, 1),
      "promised_amount": 100.0}, "Done?", "'no' with the outcome 'promise to pay'"),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "column", "text"), BAD_CELLS)
def test_bad_cells_name_sheet_row_and_column(tmp_path, cells, column, text) -> None:
    sheets = {"Alice": [row("C1", done="yes"), row("C2", **cells)]}
    path = call_sheet(
        tmp_path / "w.xlsx", sheets, [key("Alice", "C1", "alice"), key("Alice", "C2", "alice")]
    )
    with pytest.raises(InputError) as caught:
        read_outcomes(path, today=TODAY)
    problem = caught.value.problems[0]
    assert problem.file.endswith("w.xlsx, sheet Alice") and problem.row == 3
    assert problem.column == column and text in problem.message, str(caught.value)


def test_unknown_customer_and_layout_version(tmp_path) -> None:
    sheets = {"Alice": [row("C1", done="yes"), row("C9", done="yes")]}
    path = call_sheet(tmp_path / "w.xlsx", sheets, [key("Alice", "C1", "alice")])
    with pytest.raises(InputError) as caught:
        read_outcomes(path, today=TODAY)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (3, "Customer no.") and "C9" in problem.message
    path = call_sheet(
        tmp_path / "v.xlsx", {"Alice": [row("C1", done="yes")]}, [key("Alice", "C1", "alice")],
        version="workbench call sheet 0",
    )  # fmt: skip
    with pytest.raises(InputError, match="layout version 'workbench call sheet 0'"):
        read_outcomes(path, today=TODAY)


def test_a_customer_filled_twice_is_refused(tmp_path) -> None:
    sheets = {"Alice": [row("C1", done="yes"), row("C2", done="no"), row("C1", done="no")]}
    path = call_sheet(
        tmp_path / "w.xlsx", sheets, [key("Alice", "C1", "alice"), key("Alice", "C2", "alice")]
    )
    with pytest.raises(InputError) as caught:
        read_outcomes(path, today=TODAY)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (4, "Customer no.") and "row 2" in problem.message


def test_several_problems_reported_at_once(tmp_path) -> None:
    sheets = {"Alice": [row("C1", done="perhaps"), row("C2", promised_amount="abc")]}
    path = call_sheet(
        tmp_path / "w.xlsx", sheets, [key("Alice", "C1", "alice"), key("Alice", "C2", "alice")]
    )
    with pytest.raises(InputError) as caught:
        read_outcomes(path, today=TODAY)
    located = [(p.row, p.column) for p in caught.value.problems]
    assert located == [(2, "Done?"), (3, "Promised amount")]


def test_not_done_with_an_outcome_is_refused(tmp_path) -> None:
    """'non' + an outcome contradicts itself: refused on the Done column, with the other
    problems of the sheet; 'non' alone (a follow-up planned) and 'oui' + outcome are fine."""
    sheets = {"Chloé": [
        row("C1", done="non", outcome="promesse de paiement", promised_date="30/11/2026",
            promised_amount="100"),
        row("C2", done="non", next_contact_date="02/12/2026"),
        row("C3", done="oui", outcome="joint"),
        row("C4", done="Non", outcome="pas de réponse", contact_date="31/12/2026"),
    ]}  # fmt: skip
    keys = [key("Chloé", c, "chloe", f"I{c}") for c in ("C1", "C2", "C3", "C4")]
    path = call_sheet(tmp_path / "w.xlsx", sheets, keys, language="fr")
    with pytest.raises(InputError) as caught:
        read_outcomes(path, today=TODAY)
    problems = caught.value.problems
    located = [(p.file, p.row, p.column) for p in problems]
    where = f"{path}, sheet Chloé"
    assert located == [(where, 2, "Fait ?"), (where, 5, "Fait ?"), (where, 5, "Date du contact")]
    assert "'non' with the outcome 'promesse de paiement'" in problems[0].message
    assert "'Non' with the outcome 'pas de réponse'" in problems[1].message


def test_french_sheet(tmp_path) -> None:
    fr = {"action": "contact personnel", "channel": "téléphone"}
    sheets = {
        "Chloé": [
            row("C1", **fr, done="oui", outcome="promesse de paiement",
                promised_date="25/11/2026", promised_amount="1 234,50",
                contact_date="21/11/2026"),
            row("C2", **fr, done="Non", next_contact_date="02/12/2026"),
            row("C3", action="relance courtoise", channel="e-mail", done="oui",
                outcome="litige signalé", promised_amount=None, comment="prix faux"),
        ]
    }  # fmt: skip
    keys = [key("Chloé", c, "chloe", f"I{c}") for c in ("C1", "C2", "C3")]
    path = call_sheet(tmp_path / "w.xlsx", sheets, keys, language="fr")
    result = read_outcomes(path, today=TODAY)
    (promise,) = result.promises.to_dicts()
    assert promise["promised_date"] == date(2026, 11, 25) and promise["amount"] == 1234.5
    assert promise["promise_date"] == date(2026, 11, 21) and promise["invoice_id"] == "IC1"
    contacts = result.contacts.sort("customer_id")
    assert contacts["customer_id"].to_list() == ["C1", "C3"]
    assert contacts["channel"].to_list() == ["phone", "email"]
    assert contacts["step"].to_list() == ["personal_contact", "light_reminder"]
    assert result.disputes["invoice_id"].to_list() == ["IC3"]
    assert result.follow_ups["follow_up_date"].to_list() == [date(2026, 12, 2)]
    bad = call_sheet(
        tmp_path / "b.xlsx", {"Chloé": [row("C1", **fr, outcome="promesse de paiement",
                                            promised_date="2026/11/25", promised_amount="12,5")]},
        keys, language="fr",
    )  # fmt: skip
    with pytest.raises(InputError) as caught:
        read_outcomes(bad, today=TODAY)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "Date promise")]


def test_cli_writes_four_files_or_nothing(tmp_path, english) -> None:
    from workbench.cli import main

    out = tmp_path / "out"
    assert main(["outcomes", "--worklist", str(english), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "contacts.csv", "disputes.csv", "follow_ups.csv", "promises.csv"
    ]  # fmt: skip
    disputes = pl.read_csv(out / "disputes.csv", infer_schema=False)
    assert disputes["reason"].to_list() == ["'=HYPERLINK(1) wrong price"] * 2  # escaped
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = call_sheet(
        tmp_path / "bad.xlsx", {"Alice": [row("C1", done="yes", contact_date="soon")]},
        [key("Alice", "C1", "alice")],
    )  # fmt: skip
    assert main(["outcomes", "--worklist", str(bad), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    fresh = tmp_path / "fresh"
    assert main(["outcomes", "--worklist", str(bad), "--out", str(fresh)]) == 2
    assert not fresh.exists()


# --- loading the outcomes with the source data ------------------------------------------------

NOW = date(2026, 6, 29)
"""As of the next worklist: the call sheet of 2026-06-26 was worked on 2026-06-27."""
SHEET_AS_OF = date(2026, 6, 26)


def tiny_source(folder: Path) -> Path:
    """Five customers, each with one invoice 20 days overdue as of NOW (C5's fell due on
    2026-06-28, after the follow-up was set); no contact yet."""
    folder.mkdir()
    ids = ["C1", "C2", "C3", "C4", "C5"]
    pl.DataFrame(
        {"customer_id": ids, "name": [f"Customer {c}" for c in ids], "collector": ["zoe"] * 5,
         "phone": ["+33 1 23 45 67 89"] * 5, "email": ["a@example.com"] * 5,
         "country": ["FR"] * 5, "created_date": ["2025-01-01"] * 5}
    ).write_csv(folder / "customers.csv")  # fmt: skip
    due = ["2026-06-09"] * 4 + ["2026-06-09"]
    pl.DataFrame(
        {"invoice_id": [f"I{c}" for c in ids] + ["IC5b"], "customer_id": ids + ["C5"],
         "issue_date": ["2026-05-01"] * 6, "due_date": due + ["2026-06-28"],
         "amount": [1000.0] * 6, "currency": ["EUR"] * 6}
    ).write_csv(folder / "invoices.csv")  # fmt: skip
    return folder


def sheet_keys(customer: str) -> dict:
    return key("Zoe", customer, "zoe", f"I{customer}") | {"as_of": SHEET_AS_OF.isoformat()}


def test_loaded_outcomes_inform_the_next_worklist(tmp_path) -> None:
    import dataclasses

    from workbench.load import load_portfolio
    from workbench.policy import DEFAULT_POLICY, Team
    from workbench.recommend import recommendations

    source = tiny_source(tmp_path / "data")
    before = recommendations(load_portfolio(source), NOW).sort("customer_id")
    assert before["status"].to_list() == ["action"] * 5  # everyone is chased without outcomes
    sheets = {"Zoe": [
        row("C1", done="yes", outcome="reached"),
        row("C2", done="yes", outcome="promise to pay", promised_date=datetime(2026, 7, 3),
            promised_amount=1000.0),
        row("C3", done="no", next_contact_date=datetime(2026, 7, 6)),
        row("C5", done="no", next_contact_date=datetime(2026, 7, 6)),
    ]}  # fmt: skip
    path = call_sheet(
        tmp_path / "w.xlsx", sheets, [sheet_keys(c) for c in ("C1", "C2", "C3", "C5")]
    )
    write_outcomes(read_outcomes(path, today=NOW), tmp_path / "outcomes")
    portfolio = load_portfolio(source, outcomes=[tmp_path / "outcomes"])
    assert portfolio.has("contacts") and portfolio.has("promises")
    assert portfolio.frames["contacts"]["contact_date"].to_list() == [date(2026, 6, 27)] * 2
    after = {r["customer_id"]: r for r in recommendations(portfolio, NOW).to_dicts()}
    # called on 06-27 (personal contact): not called again within contact.min_gap_days (3)
    assert after["C1"]["status"] == "excluded", after["C1"]["reason"]
    assert after["C1"]["exclusion"] in ("contacted recently", "waiting for the next step")
    assert after["C1"]["next_date"] >= date(2026, 6, 30)
    assert after["C1"]["last_contact"] == date(2026, 6, 27)
    assert after["C1"]["last_outcome"] == "reached"
    # the promise covers the whole overdue amount
    assert after["C2"]["exclusion"] == "promise pending"
    # the planned follow-up holds the action until its date, keeping the step
    assert after["C3"]["exclusion"] == "next contact planned"
    assert after["C3"]["next_date"] == date(2026, 7, 6)
    assert after["C3"]["next_step"] == before["step"][2]
    assert after["C3"]["reason"].startswith(
        "next contact planned: zoe plans the next contact on 2026-07-06"
    )
    french = dataclasses.replace(DEFAULT_POLICY, team=Team(language="fr"))
    in_french = recommendations(portfolio, NOW, french).filter(pl.col("customer_id") == "C3")
    assert in_french["reason"][0].startswith(
        "prochain contact prévu : zoe prévoit le prochain contact le 06/07/2026"
    )
    # ... unless an invoice fell due since it was set (C5's second invoice, due 06-28)
    assert after["C5"]["status"] == "action"
    assert after["C4"]["status"] == "action"


def test_bad_outcomes_files_are_refused(tmp_path) -> None:
    from workbench.cli import main
    from workbench.load import load_portfolio

    source = tiny_source(tmp_path / "data")
    sheets = {"Zoe": [row("C1", done="yes", outcome="reached", next_contact_date="2026-07-06")]}
    path = call_sheet(tmp_path / "w.xlsx", sheets, [sheet_keys("C1")])
    folder = tmp_path / "outcomes"
    write_outcomes(read_outcomes(path, today=NOW), folder)
    with pytest.raises(InputError) as caught:  # the same folder twice: the same ids
        load_portfolio(source, outcomes=[folder, folder])
    assert "WB-2026-06-26-C1" in str(caught.value) and str(folder / "contacts.csv") in str(
        caught.value
    )
    contacts = (folder / "contacts.csv").read_text()
    (folder / "contacts.csv").write_text(contacts.replace(",C1,", ",C42,"))
    out = tmp_path / "out"
    args = ["worklist", "--data", str(source), "--as-of", "2026-06-29", "--out", str(out)]
    assert main([*args, "--outcomes", str(folder)]) == 2
    with pytest.raises(InputError) as caught:
        load_portfolio(source, outcomes=[folder])
    (problem,) = caught.value.problems
    assert problem.file == str(folder / "contacts.csv") and problem.row == 1
    assert problem.column == "customer_id" and not out.exists()
    (folder / "contacts.csv").write_text(contacts)
    follow = (folder / "follow_ups.csv").read_text()
    (folder / "follow_ups.csv").write_text(follow.replace("2026-07-06", "6 July"))
    with pytest.raises(InputError) as caught:
        load_portfolio(source, outcomes=[folder])
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, "follow_up_date") and "6 July" in problem.message
    (folder / "follow_ups.csv").write_text(follow)
    assert main([*args, "--outcomes", str(folder)]) == 0
    listed = pl.read_csv(out / "worklist.csv", infer_schema=False)["customer_id"].to_list()
    assert "C1" not in listed and "C2" in listed  # C1 was called on 2026-06-27


def test_a_contact_counts_for_the_invoices_of_its_action_only(tmp_path) -> None:
    """A formal notice about one invoice, answered by a dispute: the dunning memory credits the
    notice to that invoice only, not to the customer's two other overdue invoices (which never
    got one, so no hand-over may follow on them)."""
    from workbench.dunning import contact_log, invoice_memory
    from workbench.load import load_portfolio

    source = tiny_source(tmp_path / "data")
    extra = pl.DataFrame(
        {"invoice_id": ["IC1b", "IC1c"], "customer_id": ["C1", "C1"],
         "issue_date": ["2026-04-01"] * 2, "due_date": ["2026-05-01"] * 2,
         "amount": ["700.0", "300.0"], "currency": ["EUR"] * 2}
    )  # fmt: skip
    invoices = pl.read_csv(source / "invoices.csv", infer_schema=False)
    pl.concat([invoices, extra]).write_csv(source / "invoices.csv")
    sheets = {"Zoe": [
        row("C1", action="formal notice", channel="registered letter", done="yes",
            outcome="dispute raised", comment="price"),
        row("C2", done="yes", outcome="reached"),
    ]}  # fmt: skip
    keys = [sheet_keys("C1"), sheet_keys("C2")]  # the notice is about IC1 only
    path = call_sheet(tmp_path / "w.xlsx", sheets, keys)
    write_outcomes(read_outcomes(path, today=NOW), tmp_path / "outcomes")
    portfolio = load_portfolio(source, outcomes=[tmp_path / "outcomes"])
    memory = (
        invoice_memory(contact_log(portfolio, NOW), portfolio.invoices)
        .collect()
        .filter(pl.col("notice_date").is_not_null())
    )
    assert memory.select("invoice_id", "notice_date").rows() == [("IC1", date(2026, 6, 27))]
    contacts = portfolio.frames["contacts"].sort("contact_id")
    assert contacts.select("contact_id", "invoice_id", "step").rows() == [
        ("WB-2026-06-26-C1-IC1", "IC1", "formal_notice"),
        ("WB-2026-06-26-C2-IC2", "IC2", "personal_contact"),
    ]
    (dispute,) = portfolio.frames["disputes"].to_dicts()
    assert (dispute["invoice_id"], dispute["reason"]) == ("IC1", "price")


def test_csv_guard_undone_when_loading(tmp_path) -> None:
    """The outcome files keep the CSV guard (a leading ' before = + - @); loading them gives
    back the text as the collector typed it, ids included (a customer id starting with -)."""
    from workbench.load import load_portfolio

    source = tiny_source(tmp_path / "data")
    for name, column in (("customers", "customer_id"), ("invoices", "customer_id")):
        frame = pl.read_csv(source / f"{name}.csv", infer_schema=False)
        frame.with_columns(pl.col(column).replace({"C4": "-C4"})).write_csv(source / f"{name}.csv")
    hyperlink = '=HYPERLINK("http://x.example","price")'
    sheets = {"Zoe": [
        row("C1", done="yes", outcome="dispute raised", comment=hyperlink),
        row("C2", done="yes", outcome="dispute raised", comment="@boss: +10% off"),
        row("C3", done="yes", outcome="dispute raised", comment="'quoted' price"),
        row("-C4", done="yes", outcome="reached", next_contact_date="2026-07-06"),
    ]}  # fmt: skip
    keys = [sheet_keys(c) for c in ("C1", "C2", "C3")]
    keys.append(key("Zoe", "-C4", "zoe", "IC4") | {"as_of": SHEET_AS_OF.isoformat()})
    path = call_sheet(tmp_path / "w.xlsx", sheets, keys)
    folder = tmp_path / "outcomes"
    write_outcomes(read_outcomes(path, today=NOW), folder)
    written = pl.read_csv(folder / "disputes.csv", infer_schema=False).sort("invoice_id")
    assert written["reason"].to_list() == ["'" + hyperlink, "'@boss: +10% off", "'quoted' price"]
    contacts = pl.read_csv(folder / "contacts.csv", infer_schema=False)
    assert "'-C4" in contacts["customer_id"].to_list()  # the guard is in the file
    portfolio = load_portfolio(source, outcomes=[folder])
    reasons = portfolio.frames["disputes"].sort("invoice_id")["reason"].to_list()
    assert reasons == [hyperlink, "@boss: +10% off", "'quoted' price"]
    assert "-C4" in portfolio.frames["contacts"]["customer_id"].to_list()
    assert portfolio.frames["follow_ups"]["customer_id"].to_list() == ["-C4"]
    # every character the guard escapes, and text it leaves alone
    from workbench.export import csv_unescaped

    guarded = ["'=1+1", "'+33 1", "'-5", "'@sum", "'\tTAB", "'\rCR", "'=kept?", "a=b",
               "'plain", None]  # fmt: skip
    frame = pl.DataFrame({"text": guarded, "n": list(range(10))})
    expected = ["=1+1", "+33 1", "-5", "@sum", "\tTAB", "\rCR", "=kept?", "a=b", "'plain", None]
    assert csv_unescaped(frame).equals(pl.DataFrame({"text": expected, "n": list(range(10))}))


# --- the weekly run picks up last week's filled sheet -----------------------------------------

WEEK_AS_OF = date(2026, 10, 30)  # 2026-W44; last week's worklist: 2026-W43, as of 2026-10-23


def quick_notebook(path: Path) -> Path:
    """A report notebook that only shows the parameters it was given (the real one takes a
    minute; the report is not what is tested here)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'data = ""\nas_of = ""\npolicy_file = ""\nmodel_path = ""\nprevious_worklist = ""\n'
        "interactive = False"
    )
    params.metadata["tags"] = ["parameters"]
    show = nbformat.v4.new_code_cell(
        "from pathlib import Path\n"
        "print('previous:', '/'.join(Path(previous_worklist).parts[-2:]) or 'none')\n"
        "import polars as pl\n"
        "print('contacts:', pl.read_parquet(Path(data) / 'contacts.parquet').height)"
    )
    nb.cells = [params, show]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def weekly_source(tmp_path_factory):
    from workbench.generate import generate_portfolio, write_portfolio
    from workbench.load import load_portfolio
    from workbench.recommend import recommendations

    tables = generate_portfolio(customers=80, seed=11, start=date(2025, 6, 1), end=WEEK_AS_OF)
    folder = tmp_path_factory.mktemp("weekly") / "data"
    write_portfolio(tables, folder)
    before = recommendations(load_portfolio(folder), WEEK_AS_OF)
    chased = before.filter(
        (pl.col("status") == "action") & (pl.col("oldest_dpd") > 0)
        & pl.col("channel").is_in(["phone", "email", "sms", "letter"])
    ).sort("customer_id")  # fmt: skip
    fell_due = (
        tables["invoices"]
        .filter(pl.col("due_date").is_between(date(2026, 10, 24), WEEK_AS_OF))
        .get_column("customer_id")
        .implode()
    )
    # called; next contact planned; next contact planned but an invoice fell due since
    called = chased.filter(~pl.col("customer_id").is_in(fell_due))["customer_id"][:2]
    grown = chased.filter(pl.col("customer_id").is_in(fell_due))["customer_id"][0]
    return folder, [*called, grown]


def last_week_sheet(out: Path, chased: list[str], **cells) -> Path:
    """A filled call sheet in last week's folder: the first chased customer called on
    2026-10-29, the next two ones' follow-ups planned on 2026-11-05."""
    first, second, third = chased
    (out / "2026-W43").mkdir(parents=True, exist_ok=True)
    sheets = {"Team": [
        row(first, done="yes", outcome="reached", contact_date=datetime(2026, 10, 29), **cells),
        row(second, done="no", next_contact_date=datetime(2026, 11, 5)),
        row(third, next_contact_date=datetime(2026, 11, 5)),
    ]}  # fmt: skip
    keys = [key("Team", c, "team") | {"as_of": "2026-10-23"} for c in chased]
    path = call_sheet(out / "2026-W43" / "worklist.xlsx", sheets, keys)
    (out / "2026-W43" / "worklist.csv").write_text("customer_id\n")
    return path


class FallbackModel:
    """Stands for a trained model (training one takes a minute on this machine): the worklist
    then uses the documented fallback probabilities (``score`` patched to None)."""

    metadata = {"as_of": "2026-10-23", "metrics": None}
    horizon_days = 30


def test_weekly_reads_last_weeks_sheet(tmp_path, weekly_source, monkeypatch) -> None:
    import json

    import workbench.model
    import workbench.weekly
    from workbench.weekly import run_weekly

    folder, chased = weekly_source
    out = tmp_path / "reports"
    sheet = last_week_sheet(out, chased)
    notebook = quick_notebook(tmp_path / "quick.ipynb")
    stub = tmp_path / "model.skops"
    stub.write_bytes(b"stub")
    monkeypatch.setattr(workbench.weekly, "_model", lambda *a: (FallbackModel(), stub, False))
    monkeypatch.setattr(workbench.model, "score", lambda *a: None)

    def run():
        return run_weekly(folder, WEEK_AS_OF, out=out, notebook=notebook, progress=False,
                          echo=lambda _: None)  # fmt: skip

    first = run()
    week = out / "2026-W44"
    written = sorted(p.name for p in (week / "outcomes").iterdir())
    assert written == ["contacts.csv", "disputes.csv", "follow_ups.csv", "promises.csv"]
    contacts = pl.read_csv(week / "outcomes" / "contacts.csv")
    assert contacts["contact_id"].to_list() == [f"WB-2026-10-23-{chased[0]}"]
    entry = first.manifest["outcomes"]
    from workbench.files import sha256

    assert entry["worklist_read"] == {"path": "2026-W43/worklist.xlsx", "sha256": sha256(sheet)}
    # the keys name no invoice: one customer-level contact for the one row that records one
    assert entry["counts"] == {"rows_read": 3, "contact_rows": 1, "contacts": 1, "promises": 0,
                               "disputes": 0, "follow_ups": 2}  # fmt: skip
    assert entry["folders_loaded"] == ["2026-W44/outcomes"]
    # this week's worklist knows: the customer called yesterday and the one whose next contact
    # is planned are not on it (all three were chased before the outcomes); the third is, an
    # invoice having fallen due since its follow-up was set
    worklist = pl.read_csv(week / "worklist.csv", infer_schema=False)
    listed = set(worklist.get_column("customer_id"))
    assert not listed & set(chased[:2]) and chased[2] in listed
    report = (week / "report.html").read_text()
    assert "previous: 2026-W43/worklist.csv" in report
    source_contacts = pl.read_parquet(folder / "contacts.parquet").height
    assert f"contacts: {source_contacts + 1}" in report  # the canonical copy has the outcome
    # a re-run of the week: the same bytes
    saved = {p.relative_to(week): p.read_bytes() for p in week.rglob("*.csv")}
    again = run()
    assert {p.relative_to(week): p.read_bytes() for p in week.rglob("*.csv")} == saved
    assert json.dumps(again.manifest["outcomes"]) == json.dumps(entry)


def test_weekly_refuses_a_bad_filled_sheet(tmp_path, weekly_source) -> None:
    from workbench.weekly import run_weekly

    folder, chased = weekly_source
    out = tmp_path / "reports"
    last_week_sheet(out, chased, promised_amount="lots")
    with pytest.raises(InputError) as caught:
        run_weekly(folder, WEEK_AS_OF, out=out, notebook=quick_notebook(tmp_path / "q.ipynb"),
                   progress=False, echo=lambda _: None)  # fmt: skip
    (problem,) = caught.value.problems
    assert problem.file.endswith("2026-W43/worklist.xlsx, sheet Team")
    assert (problem.row, problem.column) == (2, "Promised amount")
    assert not (out / "2026-W44").exists()


class WentOn(Exception):
    """Raised by a stub of the weekly run's first step: the run went past its checks."""


def test_weekly_keeps_a_filled_sheet_of_the_same_week(tmp_path, weekly_source, monkeypatch):
    """Re-running a week whose worklist.xlsx the collectors have started filling is refused
    before any work (exit 2), naming the file and its filled rows (a bad cell counts: it is
    their work too); an unfilled sheet, or one that is not a call sheet (an older layout), is
    replaced as before (the run goes on)."""
    import workbench.weekly
    from workbench.cli import main
    from workbench.weekly import run_weekly

    folder, _ = weekly_source
    out = tmp_path / "reports"
    week = out / "2026-W44"
    week.mkdir(parents=True)
    keys = [key("Team", c, "team") for c in ("C1", "C2", "C3")]
    sheets = {"Team": [row("C1", done="yes", outcome="reached"), row("C2"),
                       row("C3", done="maybe")]}  # fmt: skip
    sheet = call_sheet(week / "worklist.xlsx", sheets, keys)
    before = sheet.read_bytes()

    def went_on(*_args):
        raise WentOn

    monkeypatch.setattr(workbench.weekly, "_read_previous", went_on)
    notebook = quick_notebook(tmp_path / "q.ipynb")

    def run():
        return run_weekly(folder, WEEK_AS_OF, out=out, notebook=notebook, progress=False,
                          echo=lambda _: None)  # fmt: skip

    with pytest.raises(InputError) as caught:
        run()
    (problem,) = caught.value.problems
    assert problem.file == str(sheet) and "2 filled rows" in problem.message
    assert "move or rename" in problem.message.lower()
    assert sheet.read_bytes() == before and [p.name for p in week.iterdir()] == ["worklist.xlsx"]
    cli = ["weekly", "--data", str(folder), "--as-of", WEEK_AS_OF.isoformat(), "--out", str(out),
           "--quiet"]  # fmt: skip
    assert main(cli) == 2 and sheet.read_bytes() == before
    call_sheet(sheet, {"Team": [row("C1"), row("C2")]}, keys)  # nothing filled
    with pytest.raises(WentOn):
        run()
    old = openpyxl.Workbook()  # an older call sheet: no keys sheet
    old.active.append(["Customer no.", "Done?"])
    old.active.append(["C1", "yes"])
    old.save(sheet)
    with pytest.raises(WentOn):
        run()


def test_round_trip_through_the_exported_call_sheet(tmp_path) -> None:
    """The exporter's worklist.xlsx, filled with openpyxl, reads back (skipped before the
    exporter writes the keys sheet)."""
    from workbench import export
    from workbench.generate import generate_portfolio
    from workbench.portfolio import Portfolio
    from workbench.worklist import build_worklist

    if not hasattr(export, "KEYS_SHEET"):
        pytest.skip("the exporter does not write call sheets yet")
    tables = generate_portfolio(customers=40, seed=3, start=date(2025, 6, 1), end=AS_OF)
    tables.pop("ground_truth", None)
    worklist = build_worklist(Portfolio.from_frames(tables), AS_OF)
    path = tmp_path / "worklist.xlsx"
    export.write_xlsx(worklist, path)
    book = openpyxl.load_workbook(path)
    keys = list(book[KEYS_SHEET].iter_rows(min_row=3, values_only=True))
    sheet = book[keys[0][0]]
    header = [c.value for c in sheet[1]]
    labels = HEADERS["en"]
    customer = sheet.cell(row=2, column=header.index(labels["customer_id"]) + 1).value
    for name, value in {"done": "yes", "outcome": "promise to pay", "promised_amount": 99.5,
                        "promised_date": datetime(2026, 12, 1)}.items():  # fmt: skip
        sheet.cell(row=2, column=header.index(labels[name]) + 1).value = value
    book.save(path)
    result = read_outcomes(path, today=TODAY)
    action = worklist.rows.filter(pl.col("customer_id") == customer).row(0, named=True)
    # the invoices the action covers (from the worklist's detail): a contact for each
    covered = (
        worklist.detail.filter(pl.col("customer_id") == customer)
        .select(pl.col("invoices").list.eval(pl.element().struct.field("invoice_id")))
        .item()
        .to_list()
    )
    contacts = result.contacts.to_dicts()
    assert [c["invoice_id"] for c in contacts] == (covered or [None])
    for contact in contacts:
        assert contact["customer_id"] == customer and contact["outcome"] == "promise_to_pay"
        assert contact["step"] == action["step"] and contact["contact_date"] == date(2026, 11, 21)
        assert contact["channel"] == (action["channel"] if action["channel"] != "none" else "phone")
    (promise,) = result.promises.to_dicts()
    assert (promise["amount"], promise["promised_date"]) == (99.5, date(2026, 12, 1))
    # the invoice of a promise: the action's only invoice, else none
    assert promise["invoice_id"] == (covered[0] if len(covered) == 1 else None)
    assert promise["currency"] == worklist.currency
