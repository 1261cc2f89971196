"""What the weekly run hands to its report notebook: the worklist and the scores it already
computed, as Parquet files in the run's temporary data folder, so the notebook reads them
instead of computing them a second time (about 2 seconds on the sample).

The files are the run's own, written and read within one run (never user input); the notebook
computes both itself when it is given no folder (run by hand in JupyterLab).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from workbench.worklist import Worklist

FRAMES = ("rows", "excluded", "watch", "capacity", "matrix", "detail")
"""The frames of a :class:`workbench.worklist.Worklist`, one Parquet file each."""
FACTS = "worklist.json"
SCORES = "scores.parquet"


def write_handover(folder: Path, worklist: Worklist, scores: pl.DataFrame | None) -> Path:
    """Write ``worklist`` and ``scores`` (None: no model) into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FRAMES:
        getattr(worklist, name).write_parquet(folder / f"worklist-{name}.parquet")
    facts = {
        "as_of": worklist.as_of.isoformat(),
        "currency": worklist.currency,
        "language": worklist.language,
        "scores": scores is not None,
    }
    (folder / FACTS).write_text(json.dumps(facts), encoding="utf-8")
    if scores is not None:
        scores.write_parquet(folder / SCORES)
    return folder


def read_worklist(folder: Path) -> Worklist:
    """The :class:`workbench.worklist.Worklist` written by :func:`write_handover`."""
    facts = json.loads((Path(folder) / FACTS).read_text(encoding="utf-8"))
    frames = {name: pl.read_parquet(Path(folder) / f"worklist-{name}.parquet") for name in FRAMES}
    return Worklist(
        as_of=date.fromisoformat(facts["as_of"]),
        currency=facts["currency"],
        language=facts["language"],
        **frames,
    )


def read_scores(folder: Path) -> pl.DataFrame | None:
    """The scores written by :func:`write_handover` (None when the run had no model)."""
    facts = json.loads((Path(folder) / FACTS).read_text(encoding="utf-8"))
    return pl.read_parquet(Path(folder) / SCORES) if facts["scores"] else None
