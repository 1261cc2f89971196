"""CSV files as French ERPs write them (workbench.csvread): encodings, separators, structure."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

from workbench.csvread import decoded, detected_separator, read_csv_table
from workbench.errors import InputError, InputWarning

TEXT = 'id;nom;montant\nC1;Société Générale;1 234,56\nC2;"Dupont; fils";12,5\n'


def _write(tmp_path: Path, data: bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8 with BOM"),
        (TEXT.encode("utf-16"), "utf-16 with BOM"),
    ],
)
def test_utf_files_are_read_as_text_without_warning(tmp_path: Path, data: bytes, label: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_csv_table(_write(tmp_path, data), "t")
    assert frame.columns == ["id", "nom", "montant"], label
    assert frame.schema == pl.Schema({c: pl.String for c in frame.columns})
    assert frame["nom"].to_list() == ["Société Générale", "Dupont; fils"]
    assert frame["montant"].to_list() == ["1 234,56", "12,5"]


def test_cp1252_is_read_with_a_warning_naming_the_option(tmp_path: Path):
    path = _write(tmp_path, TEXT.encode("cp1252"))
    with pytest.warns(InputWarning, match="--encoding") as caught:
        frame = read_csv_table(path, "t")
    assert str(path) in str(caught[0].message)
    assert frame["nom"][0] == "Société Générale"  # é is 0xE9 in cp1252


def test_no_lossy_decode_anywhere(tmp_path: Path):
    with pytest.raises(InputError, match="--encoding"):
        decoded(b"a\nb\x81c\n", "f.csv", None)  # 0x81 is undefined in cp1252
    with pytest.raises(InputError, match="line 2"):
        decoded("a\nSociété\n".encode("cp1252"), "f.csv", "utf-8")
    assert decoded(b"\x81", "f.csv", "latin-1") == "\x81"  # a forced encoding is honoured


def test_separator_is_read_from_the_header_outside_quotes():
    assert detected_separator('"a,b";c;d\n1,2;3;4\n') == ";"
    assert detected_separator("a\tb\tc\n") == "\t"
    assert detected_separator("a,b\n1;2;3;4\n") == ","
    assert detected_separator("single\n1\n") == ","


def test_ragged_rows_name_the_line_counting_quoted_newlines(tmp_path: Path):
    # the record of line 2 spans lines 2-3 (a quoted newline): the ragged record starts on line 4
    path = _write(tmp_path, b'a,b\n"x\ny",1\n1,2,3\n')
    with pytest.raises(InputError, match=r"line 4 has 3 field\(s\) where the header has 2"):
        read_csv_table(path, "t")


def test_duplicate_header_names_are_refused_naming_both(tmp_path: Path):
    path = _write(tmp_path, b"id,Amount,amount \n1,2,3\n")
    with pytest.raises(InputError, match="'Amount' and 'amount '"):
        read_csv_table(path, "t")


def test_empty_fields_are_missing_values(tmp_path: Path):
    frame = read_csv_table(_write(tmp_path, b'a;b\n1;\n2;""\n'), "t")
    assert frame["b"].to_list() == [None, None]
    assert frame["a"].to_list() == ["1", "2"]


def test_blank_lines_are_skipped_and_rows_keep_their_file_numbers(tmp_path: Path):
    # line 3 empty, line 4 only separators, line 5 only empty quoted fields: skipped
    frame = read_csv_table(_write(tmp_path, b'a;b\n1;x\n\n;\n"";""\n2;y\n'), "t")
    assert frame.rows() == [(1, "1", "x"), (5, "2", "y")]  # __row__ 5 = line 6 - 1
    assert frame.columns == ["__row__", "a", "b"]


def test_classic_mac_line_ends_and_excel_sep_line(tmp_path: Path):
    frame = read_csv_table(_write(tmp_path, b"a,b\r1,2\r3,4\r"), "t")
    assert frame.rows() == [("1", "2"), ("3", "4")]
    # Excel's "sep=;" first line names the separator (the header has commas inside a name)
    frame = read_csv_table(_write(tmp_path, b"sep=;\na,b;c\n1;2\n"), "t")
    assert frame.columns == ["__row__", "a,b", "c"] and frame.rows() == [(2, "1", "2")]
    with pytest.raises(InputError, match="line 4 has 3 field"):  # the sep line counted
        read_csv_table(_write(tmp_path, b"sep=;\na;c\n1;2\n1;2;3\n"), "t")


def test_mixed_encodings_and_bom_offsets_name_the_right_byte_and_line(tmp_path: Path):
    mixed = "a;b\n1;\u00c9lectricit\u00e9\n".encode() + b"2;L\xe9a\n"
    with pytest.raises(InputError, match=r"mixed encodings.*0xE9 on line 3"):
        read_csv_table(_write(tmp_path, mixed), "t")
    latin = b"\xef\xbb\xbfa;b\n1;x\n2;\xc9lectricit\xe9\n"
    with pytest.raises(InputError, match="byte 0xC9 on line 3"):
        read_csv_table(_write(tmp_path, latin), "t")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_detected(tmp_path: Path, codec: str) -> None:
    """Every other byte NUL: UTF-16 without its mark, read exactly (the accent survives)."""
    from workbench.csvread import decoded

    text = "customer_id;name\nC1;Société Générale\n"
    assert decoded(text.encode(codec), "x.csv", None) == text
    assert decoded("id\nC1\n".encode("utf-8"), "x.csv", None) == "id\nC1\n"  # not mistaken


def test_parquet_row_groups_are_read_into_one_chunk_sharing_later_selects(tmp_path: Path):
    """A Parquet file of several row groups arrives as one chunk per column (polars reads a
    chunk per row group; an eager select of a chunked frame copies all of it), with every
    value in its place."""
    from workbench.csvread import read_parquet_table

    frame = pl.DataFrame({"invoice_id": [f"I{i}" for i in range(10_000)], "amount": range(10_000)})
    path = tmp_path / "invoices.parquet"
    frame.write_parquet(path, row_group_size=1_000)
    assert pl.read_parquet(path).n_chunks() > 1  # the case this guards against
    read = read_parquet_table(path, "invoices")
    assert read.n_chunks("all") == [1, 1]
    assert read.equals(frame)
