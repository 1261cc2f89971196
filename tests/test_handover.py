"""The weekly run hands its worklist and scores to the report notebook: read back equal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from workbench.handover import FRAMES, read_scores, read_worklist, write_handover
from workbench.load import load_portfolio
from workbench.policy import DEFAULT_POLICY
from workbench.worklist import build_worklist

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
AS_OF = date(2026, 11, 20)


def test_worklist_and_scores_read_back_equal_frame_by_frame(tmp_path: Path) -> None:
    portfolio = load_portfolio(SAMPLE)
    customers = portfolio.customers.select("customer_id").collect()
    scores = customers.with_columns(  # any scores: a probability per customer, seeded
        probability=pl.Series([(i * 37 % 100) / 100 for i in range(customers.height)])
    )
    worklist = build_worklist(portfolio, AS_OF, DEFAULT_POLICY)
    folder = write_handover(tmp_path / "handover", worklist, scores)
    back = read_worklist(folder)
    assert (back.as_of, back.currency, back.language) == (AS_OF, worklist.currency, "en")
    for name in FRAMES:
        assert getattr(back, name).equals(getattr(worklist, name)), name
        assert getattr(back, name).schema == getattr(worklist, name).schema, name
    assert read_scores(folder).equals(scores)
    assert worklist.rows.height > 0 and worklist.excluded.height > 0  # a real list, not empty


def test_a_run_without_model_hands_over_no_scores(tmp_path: Path) -> None:
    worklist = build_worklist(load_portfolio(SAMPLE), AS_OF, DEFAULT_POLICY)
    assert read_scores(write_handover(tmp_path, worklist, None)) is None
