"""The team's own outputs in French (policy ``team.language = "fr"``, ``--lang fr``): reasons,
history, actions, promises, risk reasons, worklist texts and export headers in French, French
numbers and dates; English stays the default (the other test files check it unchanged).

Expected values are written out by hand: 1 234,50 is "1", U+202F (narrow no-break space, the
French group symbol of the CLDR), "234,50"; a no-break space U+00A0 goes before the currency.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from test_cli import run
from test_export import book_of_customers
from test_recommend import AS_OF, Book, day, one
from workbench import labels, phrases
from workbench.export import csv_safe, write_worklist
from workbench.labels import for_display, from_display, header
from workbench.policy import DEFAULT_POLICY, TEAM_LANGUAGES, Team
from workbench.recommend import EXCLUSIONS, recommendations
from workbench.schema import TONES
from workbench.wording import (
    counted,
    day_text,
    money_text,
    month_text,
    number_text,
    percent_text,
)
from workbench.callsheet import HEADERS, SHEET_COLUMNS
from workbench.worklist import EXCLUDED_COLUMNS, WORKLIST_COLUMNS, build_worklist, summary_tables

NNBSP, NBSP = "\u202f", "\u00a0"
FR = dataclasses.replace(DEFAULT_POLICY, team=Team(language="fr"))
LAST_DAY = date(2026, 10, 31)
"""The last day of the ``generated_portfolio`` fixture (tests/conftest.py)."""

ENGLISH_WORDS = (
    "invoice", "invoices", "day", "days", "past due", "sent", "promise", "promised", "promises",
    "overdue", "last", "deadline", "customer", "agency", "the", "by", "on", "of", "and", "due",
    "paid", "reminder", "notice", "dispute", "disputed", "pending", "since", "next", "broken",
    "strategic", "account", "owner", "capacity", "cash", "unapplied", "review", "letter",
    "phone", "instalment", "instalments", "held", "waiting", "capped", "handed", "reason",
    "amount", "threshold", "below", "prefers", "follow", "partly", "received", "still", "short",
    "against", "with", "open", "settled", "late", "average", "history", "thank", "cleared",
    "only", "step", "channel", "tone", "rank", "collector", "probability",
)  # fmt: skip
"""English words that must not appear in a French text (whole words, any case)."""
ENGLISH = re.compile(r"\b(" + "|".join(ENGLISH_WORDS) + r")\b", re.IGNORECASE)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ENGLISH_NUMBER = re.compile(r"\d,\d{3}|\d\.\d{2}\b")
TEXT_COLUMNS = ("reason", "history", "action", "promise")


def french_problems(text: str | None) -> list[str]:
    """What in ``text`` is not French: English words, ISO dates, English numbers, codes."""
    if not text:
        return []
    found = [m.group(0) for m in ENGLISH.finditer(text)]
    found += ISO_DAY.findall(text) + ENGLISH_NUMBER.findall(text)
    return found + (["_"] if "_" in text else [])


def texts(values: dict) -> list[str]:
    """Every string of a (nested) phrase table."""
    out: list[str] = []
    for value in values.values():
        if isinstance(value, dict):
            out += texts(value)
        elif isinstance(value, tuple):
            out += list(value)
        else:
            out.append(value)
    return out


def evaluate(expr: pl.Expr, values: list, dtype: pl.DataType = pl.Float64) -> list:
    return pl.DataFrame({"x": values}, schema={"x": dtype}).select(expr.alias("y"))["y"].to_list()


# --- numbers, counts and dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "french", "english"),
    [
        (1234.5, f"1{NNBSP}234,50", "1,234.50"),
        (-0.5, "-0,50", "-0.50"),
        (0.0, "0,00", "0.00"),
        (1e6, f"1{NNBSP}000{NNBSP}000,00", "1,000,000.00"),
        (999.999, f"1{NNBSP}000,00", "1,000.00"),
        (-1234567.89, f"-1{NNBSP}234{NNBSP}567,89", "-1,234,567.89"),
        (12.3, "12,30", "12.30"),
        (100.0, "100,00", "100.00"),
    ],
)
def test_money_text_french_and_english(amount, french, english):
    assert evaluate(money_text(pl.col("x"), language="fr"), [amount]) == [french]
    assert evaluate(money_text(pl.col("x"), "EUR", "fr"), [amount]) == [f"{french}{NBSP}EUR"]
    assert evaluate(money_text(pl.col("x"), "EUR"), [amount]) == [f"{english} EUR"]


def test_money_text_is_vectorized_and_keeps_nulls():
    frame = pl.DataFrame({"x": [1.0, None, 20000.0], "c": ["EUR", "USD", "GBP"]})
    out = frame.select(money_text(pl.col("x"), pl.col("c"), "fr").alias("y"))["y"].to_list()
    assert out == [f"1,00{NBSP}EUR", None, f"20{NNBSP}000,00{NBSP}GBP"]


def test_number_text_rounds_like_english_in_every_language():
    assert number_text(68.35, 1) == "68.3"  # the binary 68.35 is a little below: 68.3
    assert number_text(68.35, 1, "fr") == "68,3"
    assert number_text(-1234567.891, 2, "fr") == f"-1{NNBSP}234{NNBSP}567,89"
    assert number_text(1773, 0, "fr") == f"1{NNBSP}773"


def test_french_plurals_dates_months_and_percents():
    n = pl.col("x")
    assert evaluate(counted(n, "invoice", "fr"), [0, 1, 2, 3], pl.Int64) == [
        "0 facture", "1 facture", "2 factures", "3 factures",
    ]  # fmt: skip
    assert evaluate(counted(n, "day", "fr"), [1, 36], pl.Int64) == ["1 jour", "36 jours"]
    assert evaluate(counted(n, "invoice"), [0, 1, 2], pl.Int64) == [
        "0 invoices", "1 invoice", "2 invoices",
    ]  # fmt: skip
    days = [date(2026, 4, 14), date(2025, 12, 1), None]
    assert evaluate(day_text(n, "fr"), days, pl.Date) == ["14/04/2026", "01/12/2025", None]
    assert evaluate(month_text(n, date(2026, 6, 30), "fr"), days, pl.Date) == [
        "avril", "décembre 2025", None,
    ]  # fmt: skip
    assert evaluate(month_text(n, date(2026, 6, 30)), days[:2], pl.Date) == [
        "April", "December 2025",
    ]  # fmt: skip
    assert evaluate(percent_text(n, "fr"), [71], pl.Int64) == [f"71{NBSP}%"]
    assert evaluate(percent_text(n, "en"), [71], pl.Int64) == ["71%"]


# --- the phrase tables ---------------------------------------------------------------------------


def test_every_phrase_table_is_complete_in_every_language():
    from workbench.cli import TEAM_LANGUAGES as LANG_CHOICES  # kept light: not imported there

    assert LANG_CHOICES == TEAM_LANGUAGES
    assert set(phrases.SINGULAR) == set(TEAM_LANGUAGES)
    for table in (phrases.NOUNS, phrases.REASONS, phrases.RISK_REASONS, phrases.SUMMARY,
                  phrases.WORKBOOK, phrases.ACTION_LABELS, phrases.SEGMENT_WORDS,
                  phrases.KPI_LABELS):  # fmt: skip
        assert set(table) == set(TEAM_LANGUAGES)
        assert set(table["fr"]) == set(table["en"])
    fields = re.compile(r"\{(\w+)\}")
    for key, template in phrases.REASONS["fr"].items():  # same parts on offer: no typo
        english = set(fields.findall(phrases.REASONS["en"][key]))
        assert set(fields.findall(template)) <= english | {"n_days", "percent", "n"}, key
    assert set(phrases.STEP_WORDS["en"]) <= set(phrases.STEP_WORDS["fr"])
    assert set(phrases.HISTORY["en"]) <= set(phrases.HISTORY["fr"])
    channels = ("email", "sms", "phone", "letter", "registered_letter", "agency", "legal", "none")
    assert set(phrases.CHANNEL_WORDS["fr"]) == set(channels)
    assert set(phrases.TONE_WORDS["fr"]) == set(TONES)
    assert set(phrases.EXCLUSION_WORDS["fr"]) == set(EXCLUSIONS)
    assert set(phrases.SEGMENT_NAMES["fr"]) == set(phrases.SEGMENT_WORDS["fr"])
    assert set(WORKLIST_COLUMNS) | set(EXCLUDED_COLUMNS) <= set(labels.COLUMN_LABELS["fr"])


def test_french_phrases_and_labels_hold_no_english():
    tables = [phrases.NOUNS, phrases.SEGMENT_WORDS, phrases.SEGMENT_NAMES, phrases.STEP_WORDS,
              phrases.CHANNEL_WORDS, phrases.TONE_WORDS, phrases.EXCLUSION_WORDS,
              phrases.OUTCOME_WORDS, phrases.CONVERSATION_WORDS, phrases.DISPUTE_WORDS,
              phrases.PROMISE_STATUS_WORDS, phrases.BAND_WORDS, phrases.ACTION_LABELS,
              phrases.HISTORY, phrases.REASONS, phrases.RISK_REASONS, phrases.SUMMARY,
              phrases.WORKBOOK, phrases.KPI_LABELS, labels.COLUMN_LABELS]  # fmt: skip
    for table in tables:
        for text in texts(table["fr"]):
            assert not french_problems(re.sub(r"\{\w+\}", "", text)), text


def test_labels_are_one_to_one_and_read_back():
    for column, table in labels.VALUE_WORDS.items():
        assert len(set(table["fr"].values())) == len(table["fr"]), column
    assert len(set(labels.COLUMN_LABELS["fr"].values())) == len(labels.COLUMN_LABELS["fr"])
    frame = pl.DataFrame(
        {"customer_id": ["C1", "C2"], "channel": ["registered_letter", "phone"],
         "step": ["formal_notice", None], "next_step": ["hand-over", "review with the agency"],
         "exclusion": ["promise pending", None], "open_amount": [1.5, 2.0]}
    )  # fmt: skip
    shown = for_display(frame, "fr")
    assert shown.columns == ["n° client", "canal", "étape", "prochaine étape", "exclusion",
                             "montant ouvert"]  # fmt: skip
    assert shown.row(0) == ("C1", "lettre recommandée", "mise en demeure", "transmission",
                            "promesse en cours", 1.5)  # fmt: skip
    assert_frame_equal(from_display(shown, "fr"), frame)
    assert for_display(frame, "en") is frame and header("customer_id") == "customer_id"


# --- reasons worked by hand ----------------------------------------------------------------------


def both(book: Book) -> tuple[dict, dict]:
    """The one recommendation row of ``book`` in English and in French."""
    return one(book), one(book, FR)


def test_french_reasons_of_hand_built_cases():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 36, 1200.0)
    book.invoice(cid, 36, 2250.0)
    en, fr = both(book)
    assert en["reason"] == "36 days past due on 2 invoices (3,450.00 EUR), new customer"
    assert (
        fr["reason"]
        == f"36 jours de retard sur 2 factures (3{NNBSP}450,00{NBSP}EUR), nouveau client"
    )
    assert (fr["action"], fr["step"], fr["channel"]) == (
        "dernière relance amiable",
        en["step"],
        en["channel"],
    )
    book = Book()
    cid = book.customer()
    book.invoice(cid, 12, 1200.0)
    book.invoice(cid, 36, 2250.0)  # late by different numbers of days: the range
    fr = one(book, FR)
    assert fr["reason"].startswith(f"12 à 36 jours de retard sur 2 factures (3{NNBSP}450,00"), fr

    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 70, 5000.0)
    book.contact(cid, day(-5), "registered_letter", iid)
    en, fr = both(book)
    assert fr["exclusion"] == en["exclusion"] == "formal notice sent"  # codes stay codes
    assert fr["reason"] == (
        "mise en demeure envoyée : mise en demeure envoyée le 25/06/2026, échéance le 06/07/2026, "
        "puis transmission au cabinet de recouvrement"
    )
    assert fr["history"] == "mise en demeure envoyée le 25/06/2026, échéance le 06/07/2026"

    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 20, 500.0)
    book.promise(cid, day(-5), day(-2), 500.0, iid)
    fr = one(book, FR)
    assert fr["reason"] == (
        f"promesse en cours : 500,00{NBSP}EUR pour le 28/06/2026, couvrant "
        f"500,00{NBSP}EUR"
    )
    assert fr["promise"] == f"500,00{NBSP}EUR pour le 28/06/2026 (en cours)"


def test_french_reasons_of_governance_disputes_and_strategic_accounts():
    book = Book()
    cid = book.customer()
    book.invoice(cid, 10)
    other = book.invoice(cid, -20, 200.0)
    book.contact(cid, day(-6), "email", other)
    book.contact(cid, day(-4), "sms", other)
    assert one(book, FR)["reason"] == (
        "plafond de contacts atteint : 2 messages en 7 jours, dernier message le 26/06/2026 par "
        "SMS, ensuite : contact personnel à partir du 01/07/2026"
    )

    book = Book()
    cid = book.customer()
    disputed = book.invoice(cid, 40, 2000.0)
    book.invoice(cid, -20, 100.0)
    book.dispute(disputed, day(-20), reason="billing_error")
    assert one(book, FR)["reason"] == (
        f"1 facture en litige depuis le 10/06/2026 (2{NNBSP}000,00{NBSP}EUR : erreur de "
        "facturation) : relances suspendues, à transmettre au responsable pour résolution"
    )

    book = Book()
    cid = book.customer(strategic=True)
    iid = book.invoice(cid, 70, 5000.0)
    book.contact(cid, day(-20), "registered_letter", iid)
    fr = one(book, FR)
    assert (
        fr["action"]
        == "transmettre au cabinet de recouvrement (validation requise : compte stratégique)"
    )
    assert "compte stratégique : validation requise avant transmission" in fr["reason"]

    book = Book()
    cid = book.customer(preferred_channel="sms")
    iid = book.invoice(cid, 20, 300.0)
    book.payment(cid, day(-3), 300.0, iid)
    en, fr = both(book)
    assert fr["reason"] == "impayés réglés le 27/06/2026 : remercier le client, canal préféré : SMS"
    assert (fr["action"], fr["status"]) == ("remercier", en["status"])


def test_french_history_and_broken_promise():
    book = Book()
    cid = book.customer()
    iid = book.invoice(cid, 12, 1234.5)
    book.contact(cid, day(-8), "email", iid)
    book.promise(cid, day(-30), day(-20), 100.0, iid)
    fr = one(book, FR)
    assert fr["reason"] == (
        f"12 jours de retard sur 1 facture (1{NNBSP}234,50{NBSP}EUR), relance courtoise envoyée "
        "le 22/06/2026, 1 promesse non tenue depuis juin, nouveau client"
    )
    assert fr["history"] == "relance courtoise envoyée le 22/06/2026"
    assert fr["promise"] == f"100,00{NBSP}EUR pour le 10/06/2026 (non tenue)"


# --- the sample portfolio ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(generated_portfolio):
    """The 120-customer generated portfolio (cheaper than data/sample, same generator)."""
    return generated_portfolio[0]


@pytest.mark.parametrize("as_of", [date(2025, 12, 31), LAST_DAY])
def test_every_reason_of_the_sample_has_a_french_one(sample, as_of):
    en = recommendations(sample, as_of)
    fr = recommendations(sample, as_of, FR)
    codes = ["customer_id", "status", "step", "channel", "tone", "exclusion", "next_step",
             "next_date", "open_amount", "segment"]  # fmt: skip
    assert_frame_equal(fr.select(codes), en.select(codes))
    for column in TEXT_COLUMNS:
        assert (fr[column].is_null() == en[column].is_null()).all(), column
        pairs = zip(en[column].to_list(), fr[column].to_list(), strict=True)
        assert all(e is None or f != e for e, f in pairs), column
        for text in fr[column].drop_nulls():
            assert not french_problems(text), (column, text, french_problems(text))
    assert fr["reason"].is_not_null().all()


@pytest.fixture(scope="module")
def french_worklist(sample):
    return build_worklist(sample, LAST_DAY, FR)


def test_french_worklist_texts(french_worklist):
    rows = french_worklist.rows
    assert french_worklist.language == "fr"
    for column in ("reason", "action", "promise", "risk_reasons", "invoices"):
        for text in rows[column].drop_nulls():
            assert not french_problems(text), (column, text, french_problems(text))
    assert rows["risk_reasons"].str.contains("jours de retard").any()
    invoices = rows["invoices"].str.split(" ; ").explode()
    pattern = r"^\S+ \([\d\u202f]+,\d\d\u00a0[A-Z]{3} (échue|à échéance) le \d\d/\d\d/\d{4}\)$"
    assert invoices.str.contains(pattern).all()
    assert set(rows["channel"]) <= set(phrases.CHANNEL_WORDS["fr"])  # codes in the frames
    tables = summary_tables(french_worklist)
    assert list(tables) == list(
        phrases.SUMMARY["fr"][k]
        for k in (
            "totals",
            "by_channel",
            "by_tone",
            "by_action",
            "by_exclusion",
            "capacity",
            "matrix",
        )
    )
    for table in tables.values():
        for name in table.select(pl.col(pl.String).exclude("collector")).columns:
            for value in table[name].drop_nulls():
                assert not french_problems(value), value


def read_french_csv(path: Path, frame: pl.DataFrame) -> pl.DataFrame:
    """A French CSV export read back (``;``, decimal comma, dd/mm/yyyy) with code headers and
    code values, typed like ``frame``."""
    schema = {header(n, "fr"): pl.String if t == pl.Date else t for n, t in frame.schema.items()}
    back = from_display(pl.read_csv(path, separator=";", decimal_comma=True, schema=schema), "fr")
    dates = [name for name, dtype in frame.schema.items() if dtype == pl.Date]
    return back.with_columns(pl.col(name).str.to_date("%d/%m/%Y") for name in dates)


def test_french_csv_reads_back_to_the_frame(french_worklist, tmp_path):
    write_worklist(french_worklist, tmp_path / "out")
    pairs = {"worklist.csv": french_worklist.rows, "excluded.csv": french_worklist.excluded,
             "watchlist.csv": french_worklist.watch}  # fmt: skip
    for name, frame in pairs.items():
        raw = (tmp_path / "out" / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
        first = raw[3:].decode("utf-8").split("\n", 1)[0]
        assert first.split(";") == [header(c, "fr") for c in frame.columns]
        assert not french_problems(first), first
        expected = csv_safe(frame)
        assert_frame_equal(read_french_csv(tmp_path / "out" / name, frame), expected)
    text = (tmp_path / "out" / "excluded.csv").read_text(encoding="utf-8-sig")
    assert re.search(r";\d+,\d+;", text) and re.search(r";\d\d/\d\d/20\d\d;", text)
    assert "mise en demeure envoyée" in text and ";formal notice sent;" not in text


def test_french_workbook(french_worklist, tmp_path):
    write_worklist(french_worklist, tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out" / "worklist.xlsx")
    names = book.sheetnames
    assert (names[0], names[1]) == ("synthèse", "à surveiller")
    assert names[-3:] == ["exclus", "projets", "_keys"]
    summary = book["synthèse"]
    assert summary["A1"].value == "Liste des actions au 31/10/2026"
    assert summary["A3"].value == "totaux"
    sheet = book[names[2]]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [HEADERS["fr"][c] for c in SHEET_COLUMNS]
    channel = headers.index("Canal")
    assert {row[channel].value for row in sheet.iter_rows(min_row=2) if row[channel].value} <= set(
        phrases.CHANNEL_WORDS["fr"].values()
    )
    excluded = book["exclus"]  # titled blocks: a title row, then the block's header row
    column = [cell.value for cell in excluded[2]].index("À partir du")
    dated = [row[column] for row in excluded.iter_rows(min_row=3) if row[column].is_date]
    assert dated and all(cell.number_format == "dd/mm/yyyy" for cell in dated)


# --- the command line ----------------------------------------------------------------------------


def write_book(folder: Path) -> Path:
    """The export tests' small book as Parquet files (the tables it has)."""
    portfolio = book_of_customers().portfolio()
    folder.mkdir(parents=True)
    for name in portfolio.present:
        portfolio.frames[name].write_parquet(folder / f"{name}.parquet")
    return folder


def test_cli_lang_fr_writes_french_exports_and_english_stays_the_default(tmp_path):
    data = write_book(tmp_path / "data")
    for command in ("worklist", "weekly", "replay"):
        assert "--lang [en|fr]" in run(command, "--help").stdout
    as_of = AS_OF.isoformat()
    result = run("worklist", "--data", str(data), "--as-of", as_of, "--lang", "fr", "--out",
                 str(tmp_path / "fr"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "fr" / "excluded.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("n° client;client;chargé de recouvrement;montant ouvert;")
    assert f"non échu et sans risque : 50,00{NBSP}EUR à échoir" in text
    result = run("worklist", "--data", str(data), "--as-of", as_of, "--out", str(tmp_path / "en"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "en" / "excluded.csv").read_text(encoding="utf-8")
    assert text.startswith("customer_id,customer_name,collector,open_amount,")
    assert run("worklist", "--data", str(data), "--as-of", as_of, "--lang", "de", "--out",
               str(tmp_path / "de")).returncode == 2  # fmt: skip


def test_cli_kpis_lang_fr(tmp_path):
    data = write_book(tmp_path / "data")
    result = run("kpis", "--data", str(data), "--as-of", AS_OF.isoformat(), "--lang", "fr")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Date d'arrêté") and lines[0].endswith("30/06/2026")
    assert lines[1].startswith("Encours clients") and lines[1].endswith(f"{NBSP}EUR")
    assert "balance âgée : non échu" in result.stdout and "jours" in result.stdout
    assert not [p for line in lines for p in french_problems(line.replace("(ADD)", ""))]
    english = run("kpis", "--data", str(data), "--as-of", AS_OF.isoformat()).stdout
    assert english.startswith("As of") and "Total AR" in english


def test_cli_replay_lang_fr(tmp_path):
    data = write_book(tmp_path / "data")
    out = tmp_path / "replay"
    result = run("replay", "--data", str(data), "--from", day(-14).isoformat(), "--to",
                 AS_OF.isoformat(), "--lang", "fr", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    reasons = pl.read_csv(out / "actions.csv", infer_schema=False)["reason"]
    assert reasons.str.contains("jours de retard").any()
    assert not [problem for text in reasons for problem in french_problems(text)]


def test_unassigned_customers_in_a_french_workbook(tmp_path):
    book = Book()
    book.invoice(book.customer("U1", collector=None), 10, 900.0)
    book.invoice(book.customer("A1", collector="Zoé"), 10, 800.0)
    worklist = build_worklist(book.portfolio(), AS_OF, FR)
    assert set(worklist.rows["collector"]) == {"unassigned", "Zoé"}  # codes in the frame
    write_worklist(worklist, tmp_path / "out")
    sheets = openpyxl.load_workbook(tmp_path / "out" / "worklist.xlsx").sheetnames
    assert sheets == [
        "synthèse", "à surveiller", "Zoé", "non attribué", "exclus", "projets", "_keys",
    ]  # fmt: skip
    back = read_french_csv(tmp_path / "out" / "worklist.csv", worklist.rows)
    assert back["collector"].to_list() == worklist.rows["collector"].to_list()
    text = (tmp_path / "out" / "worklist.csv").read_text(encoding="utf-8-sig")
    assert ";non attribué;U1;" in text and "unassigned" not in text


def test_other_invoices_agree_with_their_verb_in_both_languages():
    """"1 other invoice follows its own cadence", "2 other invoices follow their own cadence"
    (a reason once said "1 other invoice follow their own cadence")."""
    from workbench.wording import counted

    n = pl.DataFrame({"n": [1, 2]})
    english = n.select(counted(pl.col("n"), "other_invoice", "en")).to_series().to_list()
    assert english == [
        "1 other invoice follows its own cadence",
        "2 other invoices follow their own cadence",
    ]
    french = n.select(counted(pl.col("n"), "other_invoice", "fr")).to_series().to_list()
    assert french == [
        "1 autre facture suit son propre calendrier de relance",
        "2 autres factures suivent leur propre calendrier de relance",
    ]
