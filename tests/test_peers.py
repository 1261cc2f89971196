"""The benchmark's peers (benchmarks/peers/: DuckDB SQL and pandas) compute the workbench's KPIs,
ageing, customer features and KPI series: checked on the sample portfolio at two dates, on a
small generated portfolio, and on the hand-worked portfolio of conftest.py (partial payments,
credit notes, disputes, unapplied cash, a customer without created date), so the benchmark's race
is fair (benchmarks/peers/check.py)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from workbench.generate import generate_portfolio, write_portfolio
from workbench.load import load_portfolio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))

import check  # benchmarks/peers/check.py

SAMPLE = ROOT / "data" / "sample"
PEERS = ("duckdb", "pandas")


@pytest.fixture(scope="module")
def sample():
    return load_portfolio(SAMPLE)


@pytest.mark.parametrize("name", PEERS)
@pytest.mark.parametrize("as_of", [date(2026, 11, 20), date(2025, 6, 30)])
def test_peer_agrees_on_the_sample(sample, name, as_of):
    peer = check.peer(name)
    check.check_kpis(peer, sample, SAMPLE, as_of)
    check.check_features(peer, sample, SAMPLE, as_of)


@pytest.mark.parametrize("name", PEERS)
def test_peer_series_agrees_on_the_sample(sample, name):
    check.check_series(check.peer(name), sample, SAMPLE, date(2026, 11, 20), weeks=8)


@pytest.mark.parametrize("name", PEERS)
def test_peer_agrees_on_a_generated_portfolio(tmp_path, name):
    end = date(2026, 6, 30)
    tables = generate_portfolio(customers=60, seed=3, start=date(2025, 1, 1), end=end)
    write_portfolio(tables, tmp_path)
    for as_of in (end, date(2025, 4, 15)):
        check.assert_peer_agrees(check.peer(name), tmp_path, as_of, series_weeks=3)


@pytest.mark.parametrize("name", PEERS)
def test_peer_agrees_on_the_hand_portfolio(tmp_path, hand_portfolio, as_of, name):
    for table, frame in hand_portfolio.frames.items():
        frame.write_parquet(tmp_path / f"{table}.parquet")
    check.assert_peer_agrees(check.peer(name), tmp_path, as_of, series_weeks=3)


def test_check_names_the_first_difference(sample):
    """A peer one cent off is caught, with the key and both values."""

    class OffByOneCent:
        __name__ = "off_by_one_cent"

        @staticmethod
        def kpis(folder, as_of):
            out = check.peer("duckdb").kpis(folder, as_of)
            return {**out, "overdue_ar": round(out["overdue_ar"] + 0.01, 2)}

    with pytest.raises(check.PeerDisagrees, match="overdue_ar"):
        check.check_kpis(OffByOneCent, sample, SAMPLE, date(2026, 11, 20))


def test_peers_refuse_several_currencies(tmp_path):
    import polars as pl

    tables = generate_portfolio(customers=10, seed=3, start=date(2025, 1, 1), end=date(2025, 6, 30))
    invoices = tables["invoices"]
    tables["invoices"] = invoices.with_columns(
        currency=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("USD")).otherwise("currency")
    )
    write_portfolio(tables, tmp_path)
    for name in PEERS:
        with pytest.raises(ValueError, match="one currency"):
            check.peer(name).kpis(tmp_path, date(2025, 6, 30))
