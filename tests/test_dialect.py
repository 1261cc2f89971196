"""French and ISO numbers and dates rewritten in canonical text (workbench.dialect)."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.dialect import canonical_text, date_text, number_text
from workbench.errors import InputError
from workbench.sources import RawSource


def _numbers(values: list[str | None], dialect: str | None = None) -> list[str | None]:
    series, problem = number_text(pl.Series("amount", values), dialect)
    assert problem is None, problem
    return series.to_list()


def _dates(values: list[str | None], dialect: str | None = None) -> list[str | None]:
    series, problem = date_text(pl.Series("d", values), dialect)
    assert problem is None, problem
    return series.to_list()


def test_french_numbers_with_every_thousands_space():
    values = ["1 234,56", "1\u00a0234,56", "1\u202f234,56", "1.234,56", "-12,5", "7", None]
    assert _numbers(values) == ["1234.56"] * 4 + ["-12.5", "7", None]


def test_iso_and_english_numbers():
    assert _numbers(["1234.56", "1,234.56", "0.915", "+3"]) == ["1234.56", "1234.56", "0.915", "3"]
    # a dot followed by three digits alone is ambiguous (1.234 or 1234): refused, see below;
    # with a decimal comma in the column it is a thousands dot, with a decimal point a decimal
    assert _numbers(["1.234", "2,50"]) == ["1234", "2.50"]
    assert _numbers(["1.234", "2.50"]) == ["1.234", "2.50"]


def test_a_dot_and_three_digits_alone_is_refused_unless_forced_or_settled():
    series = pl.Series("amount", ["1.200", "800", "2.000"])
    _, problem = number_text(series, None)
    assert problem is not None and problem.row == 1 and "--dialect fr" in problem.message
    assert _numbers(["1.200", "800", "2.000"], "iso") == ["1.200", "800", "2.000"]
    assert _numbers(["1.200", "800", "2.000"], "fr") == ["1200", "800", "2000"]
    # another column of the same file settles it: decimal commas -> thousands dots (1.200 = 1200)
    frame = pl.DataFrame({"amount": ["1.200", "800"], "credit_limit": ["12,50", "3"]})
    raw = RawSource(
        frames={"customers": frame.rename({"amount": "payment_terms_days"})},
        origins={"customers": "c.csv"},
    )
    out = canonical_text(raw, None).frames["customers"]
    assert out["payment_terms_days"].to_list() == ["1200", "800"]
    # exchange rates: a dot is a decimal point (1.175 is a rate, not 1175)
    assert number_text(pl.Series("r", ["1.175"]), None, dot_is_decimal=True)[0][0] == "1.175"


def test_forced_fr_is_not_applied_to_the_numbers_of_an_iso_dated_file():
    payments = pl.DataFrame(
        {"payment_date": ["2026-10-11", "2026-10-12"], "amount": ["33.333", "1200.00"]}
    )
    invoices = pl.DataFrame({"issue_date": ["01/08/2026"], "amount": ["1.200"]})
    raw = RawSource(
        frames={"payments": payments, "invoices": invoices},
        origins={"payments": "p.csv", "invoices": "i.csv"},
    )
    out = canonical_text(raw, "fr").frames
    assert out["payments"]["amount"].to_list() == ["33.333", "1200.00"]  # not 33333
    assert out["invoices"]["amount"].to_list() == ["1200"]  # the French file: forced fr
    lone = pl.DataFrame({"payment_date": ["2026-10-11"], "amount": ["1.200"]})
    with pytest.raises(InputError, match="dates are ISO"):
        canonical_text(RawSource(frames={"payments": lone}, origins={"payments": "p.csv"}), "fr")


def test_values_matching_nothing_are_left_for_validation():
    assert _numbers(["12,50 €", "abc", "3,5"]) == ["12,50 €", "abc", "3.5"]


def test_ambiguous_or_mixed_numbers_name_the_option():
    _, problem = number_text(pl.Series("amount", ["800", "1,234"]), None)
    assert problem is not None and problem.row == 2 and "--dialect fr" in problem.message
    _, problem = number_text(pl.Series("amount", ["1,5", "2.5"]), None)
    assert problem is not None and "decimal comma" in problem.message
    assert _numbers(["1,234"], "fr") == ["1.234"]
    assert _numbers(["1,234"], "iso") == ["1234"]


def test_dates_in_every_written_form():
    values = ["31/12/2026", "31.12.2026", "31-12-2026", "1/2/2026", "2026-12-31 00:00:00", None]
    assert _dates(values) == ["2026-12-31"] * 3 + ["2026-02-01", "2026-12-31", None]


def test_ambiguous_dates_are_refused_unless_forced():
    _, problem = date_text(pl.Series("d", ["2026-01-05", "03/04/2026"]), None)
    assert problem is not None and problem.row == 2 and "--dialect fr" in problem.message
    assert _dates(["03/04/2026"], "fr") == ["2026-04-03"]
    assert _dates(["03/04/2026"], "iso") == ["03/04/2026"]  # validation will name it
    _, problem = date_text(pl.Series("d", ["12/31/2026"]), None)
    assert problem is not None and "month/day/year" in problem.message


def test_canonical_text_touches_only_typed_text_columns_and_uses_the_table_evidence():
    invoices = pl.DataFrame(
        {
            "invoice_id": ["1,5"],  # an id: never rewritten
            "issue_date": ["01/02/2026"],  # ambiguous alone; due_date settles day/month
            "due_date": ["28/02/2026"],
            "amount": ["1 200,00"],
        }
    )
    raw = RawSource(frames={"invoices": invoices}, origins={"invoices": "i.csv"})
    out = canonical_text(raw, None).frames["invoices"]
    assert out.row(0) == ("1,5", "2026-02-01", "2026-02-28", "1200.00")


def test_canonical_text_error_names_file_column_row_and_option():
    raw = RawSource(
        frames={"payments": pl.DataFrame({"payment_date": ["2026-01-01", "05/06/2026"]})},
        origins={"payments": "p.csv"},
    )
    with pytest.raises(InputError) as error:
        canonical_text(raw, None)
    text = str(error.value)
    assert "p.csv" in text and "row 2" in text and "payment_date" in text
    assert "--dialect fr" in text and "--dialect iso" in text
