"""The weekly run (DESIGN section 8): model, worklist exports, the managers' report, a manifest.

``reports/<ISO year>-W<week>/`` receives:

- ``report.html``: ``notebooks/weekly-report.ipynb`` executed by papermill and exported without
  code cells, self-contained (plotly.js embedded once, no request outside the file);
- ``worklist.xlsx``, ``worklist.csv``, ``excluded.csv``: the collectors' exports;
- ``outcomes/``: what the collectors filled in the latest earlier week's ``worklist.xlsx``
  (:mod:`workbench.outcomes`: contacts, promises, disputes, follow-ups), when it has a filled
  row;
- ``manifest.json``: the inputs with their checksums, as_of, the model used, row counts, the
  outcomes read and loaded (``counts``: rows_read, the filled rows; contact_rows, those that
  recorded a contact; contacts, the contact records written, one per invoice of such a row;
  promises, disputes, follow_ups), and the outputs with their checksums.

Last week's calls inform this week's worklist: the run loads the source data plus the
``outcomes/`` folder of every earlier week up to the one whose worklist it read, plus the one it
just wrote (an ``outcomes/`` folder of a week between them came from that same worklist and is
not loaded twice). A filled sheet with a bad cell stops the run (exit 2) before anything of the
week is written.

The risk model is reused from ``reports/models/`` when one trained as of a date on or before
``as_of`` and within ``model.retrain_after_days`` of it matches the current features; otherwise a
new one is trained on the data as of ``as_of`` and saved there. Same week, same inputs, same
exports.

Re-runs, concurrent runs and kills (:mod:`workbench.files`):

- a re-run never replaces a call sheet the collectors have started filling: when the week's
  ``worklist.xlsx`` has a filled row (:func:`workbench.outcomes.filled_rows`, valid or not),
  the run is refused at once (InputError, exit 2) naming the file and the number of filled
  rows; moving or renaming it lets the week run again (nothing is deleted). A sheet without a
  filled row, or one that cannot be read as a call sheet (an older layout), is replaced;
- atomic: everything is built in a temporary folder beside the week's folder, then each file is
  renamed into it, ``manifest.json`` last (the old manifest is removed first, so a manifest
  always describes a complete set); a failed or interrupted run leaves the last good report of
  that week untouched. Files a user put in the week's folder are kept;
- the week's folder is locked for the whole run (``flock`` on ``<out>/.<week>.lock``): a second
  run on the same week is refused at once with exit 2; the next run removes the temporary
  folders a killed run left;
- SIGTERM and SIGHUP raise :class:`Stopped` (like SIGINT raises KeyboardInterrupt), so the
  temporary folder is removed, the lock released and the report's Jupyter kernel shut down
  (nbclient's exit handler). After a SIGKILL nothing of this runs: the kernel's own parent
  poller (ipykernel, ``JPY_PARENT_PID``) sees its parent gone and exits within a second or two;
  the lock goes with the process and the next run removes the temporary folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import atomic_file, atomic_outputs, output_lock, sha256
from workbench.policy import Policy, Team, load_policy
from workbench.portfolio import Portfolio
from workbench.sources import SourceOptions

REPORT_NOTEBOOK = "weekly-report.ipynb"
TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that stop a weekly run cleanly (:class:`Stopped`); SIGINT already raises
KeyboardInterrupt."""


class Stopped(SystemExit):
    """A weekly run stopped by a signal; exits with status 128 + the signal's number, as a
    shell reports a process killed by it."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


@contextmanager
def stopped_by_signals(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, ``signals`` raise :class:`Stopped` in the main thread, so that
    ``finally`` blocks and exit handlers run (the temporary folder removed, the report's kernel
    shut down) instead of the process vanishing. The previous handlers come back after. Does
    nothing outside the main thread (where Python cannot set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        sys.stderr.write(f"\nweekly run stopped by {name}: the week's last report is kept\n")
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@dataclass(frozen=True)
class WeeklyResult:
    """What a weekly run wrote: its folder, the week label and the manifest."""

    folder: Path
    week: str
    manifest: dict[str, Any]

    def summary(self) -> str:
        """A few lines for the person who ran it: where the report is, how many actions."""
        counts = self.manifest["row_counts"]
        model = self.manifest["model"]
        return "\n".join(
            [
                f"Weekly run {self.week} (as of {self.manifest['as_of']}) written to "
                f"{self.folder}/",
                f"  report:    {self.folder / 'report.html'}",
                f"  worklist:  {counts['worklist_actions']} actions "
                f"({counts['worklist_calls']} calls), {counts['excluded']} customers excluded, "
                f"{counts['watch_list']} on the watch list",
                f"  open AR:   {counts['open_invoices']} open invoices, "
                f"{counts['customers_with_balance']} customers with a balance",
                f"  model:     {model['path']} ({'trained now' if model['trained'] else 'reused'}"
                f", trained as of {model['trained_as_of']})",
            ]
        )


def week_label(as_of: date) -> str:
    """The ISO week of ``as_of`` as ``YYYY-Www`` (the ISO year, which can differ from the
    calendar year in the first and last days of January and December)."""
    year, week, _ = as_of.isocalendar()
    return f"{year}-W{week:02d}"


def default_notebook() -> Path:
    """``notebooks/weekly-report.ipynb`` of the source checkout the package runs from."""
    return Path(__file__).resolve().parents[2] / "notebooks" / REPORT_NOTEBOOK


def model_folder(out: Path) -> Path:
    """Where weekly runs keep their trained models: ``<out>/models``."""
    return out / "models"


def reusable_model(folder: Path, as_of: date, policy: Policy) -> Path | None:
    """The newest saved model in ``folder`` usable as of ``as_of``: trained as of a date on or
    before ``as_of`` (never on data from its future: :func:`workbench.model.check_trained_by`)
    and at most ``model.retrain_after_days`` before it. None when there is none.

    A model whose sidecar (``MODEL.json``) is unreadable, not JSON or lacks a key is skipped with
    a warning naming it: one damaged file must not block every later weekly run."""
    from workbench.errors import warn_input
    from workbench.model import (
        check_trained_by,
        read_sidecar,
        sidecar_path,
        trained_as_of,
    )

    best: tuple[date, Path] | None = None
    for path in sorted(folder.glob("model-*.skops")):
        sidecar = sidecar_path(path)
        if not sidecar.exists():
            continue
        try:
            metadata = read_sidecar(sidecar)
        except InputError as exc:
            warn_input(f"{exc}; the model {path.name} is skipped")
            continue
        try:
            check_trained_by(metadata, as_of, str(path))
        except InputError:
            continue  # trained on data after as_of: not for this week
        trained = trained_as_of(metadata)
        age = (as_of - trained).days
        if age <= policy.model.retrain_after_days and (best is None or trained > best[0]):
            best = (trained, path)
    return None if best is None else best[1]


def _model(portfolio: Portfolio, as_of: date, policy: Policy, out: Path) -> tuple[Any, Path, bool]:
    """The risk model for ``as_of``: reused when possible, else trained and saved. A saved model
    that does not load (damaged file) is skipped with a warning and a new one trained."""
    from workbench.errors import warn_input
    from workbench.model import check_features, load_model, save_model, train_model
    from workbench.snapshots import invoice_features

    path = reusable_model(model_folder(out), as_of, policy)
    model = None
    if path is not None:
        try:
            model = load_model(path)
        except InputError as exc:
            warn_input(f"{exc}; the weekly run trains a new model")
    if model is not None:
        try:
            check_features(model, invoice_features(portfolio, as_of, policy).head(0).collect())
            return model, path, False
        except InputError:
            pass  # trained on other features: retrain below
    # the weekly report shows the main out-of-time test only: no rolling-origin backtest and
    # no permutation importance (`workbench train` and notebook 03 compute them)
    weekly_policy = dataclasses.replace(
        policy, model=dataclasses.replace(policy.model, backtest_origins=0)
    )
    model, _report = train_model(portfolio, as_of, weekly_policy, importance=False)
    path = model_folder(out) / f"model-{as_of.isoformat()}.skops"
    save_model(model, path)
    return model, path, True


WEEK_FOLDER = re.compile(r"\d{4}-W\d{2}")
"""The name of a week's folder under the output folder (:func:`week_label`)."""


def previous_worklist(out: Path, week: str) -> tuple[str, Path] | None:
    """The latest week before ``week`` whose folder under ``out`` holds a ``worklist.xlsx``:
    (its week label, the workbook); None when there is none."""
    weeks = sorted(
        p.name
        for p in out.glob("*-W*")  # a folder per week: a few dozen a year
        if WEEK_FOLDER.fullmatch(p.name) and p.name < week and (p / "worklist.xlsx").is_file()
    )
    return (weeks[-1], out / weeks[-1] / "worklist.xlsx") if weeks else None


def outcome_folders(out: Path, through: str) -> list[Path]:
    """The ``outcomes/`` folders of the weeks up to ``through`` (included), oldest first."""
    return [
        p / "outcomes"
        for p in sorted(out.glob("*-W*"))
        if WEEK_FOLDER.fullmatch(p.name) and p.name <= through and (p / "outcomes").is_dir()
    ]


def _read_previous(out: Path, week: str, as_of: date) -> tuple[Any, str | None]:
    """The outcomes of the latest earlier worklist (None when there is none, or when it was
    written without the keys sheet, by an earlier version: a warning) and its week."""
    from workbench.callsheet import KEYS_SHEET
    from workbench.errors import warn_input
    from workbench.outcomes import read_outcomes, sheet_names

    found = previous_worklist(out, week)
    if found is None:
        return None, None
    prev_week, path = found
    if KEYS_SHEET not in sheet_names(path):
        warn_input(
            Problem(
                "no call sheet keys (written by an earlier version): nothing read back",
                file=str(path),
            )
        )
        return None, prev_week
    # a contact may be recorded up to the day of the run (a replay as of a later date: as_of)
    read = read_outcomes(path, today=max(date.today(), as_of))
    for text in read.warnings:
        warn_input(text)
    return read, prev_week


@contextmanager
def _old_outcomes_set_aside(week_folder: Path) -> Iterator[None]:
    """Move the week's previous ``outcomes/`` folder aside for the block (the run writes its
    own, and :func:`workbench.files.atomic_outputs` replaces files, not folders); put back if
    the block fails, removed if it succeeds. The aside folder is named like the temporary
    folders of ``week_folder``, so a killed run's is removed by the next run."""
    old = week_folder / "outcomes"
    if not old.is_dir():
        yield
        return
    aside = Path(
        tempfile.mkdtemp(prefix=f".{week_folder.name}.", suffix=".tmp", dir=week_folder.parent)
    )
    os.replace(old, aside / "outcomes")
    try:
        yield
    except BaseException:
        if not old.exists():
            os.replace(aside / "outcomes", old)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def refuse_filled_sheet(out: Path, week: str) -> None:
    """Refuse (InputError) to re-run ``week`` when its ``worklist.xlsx`` under ``out`` has
    filled rows (:func:`workbench.outcomes.filled_rows`): the run would replace the
    collectors' work. Nothing happens when there is no such file, when it has no filled row
    or cannot be read as a call sheet (an older layout: replaced as before)."""
    from workbench.outcomes import filled_rows

    path = out / week / "worklist.xlsx"
    count = filled_rows(path) if path.is_file() else None
    if count:
        rows = "row" if count == 1 else "rows"
        raise InputError(
            Problem(
                f"the call sheet of {week} has {count} filled {rows}: a re-run would replace "
                "it. Move or rename the file to re-run the week (nothing was deleted; "
                "'workbench outcomes --worklist <file>' reads a moved sheet back)",
                file=str(path),
            )
        )


def _outcomes_entry(
    out: Path, week: str, prev_week: str | None, read: Any, earlier: list[Path]
) -> dict[str, Any]:
    """The manifest's description of the outcomes read back and loaded (paths relative to the
    output folder, so a re-run writes the same bytes)."""
    worklist = out / prev_week / "worklist.xlsx" if prev_week else None
    written = read is not None and read.rows_read > 0
    return {
        "worklist_read": None
        if worklist is None
        else {"path": str(worklist.relative_to(out)), "sha256": sha256(worklist)},
        "counts": None if read is None else read.counts(),
        "written": f"{week}/outcomes" if written else None,
        "folders_loaded": [str(f.relative_to(out)) for f in earlier]
        + ([f"{week}/outcomes"] if written else []),
    }


def _previous_csv(out: Path, prev_week: str | None) -> str:
    """The report notebook's ``previous_worklist``: the previous week's ``worklist.csv``
    (absolute), or "" when there is none."""
    path = out / prev_week / "worklist.csv" if prev_week else None
    return str(path.resolve()) if path is not None and path.is_file() else ""


def _canonical_copy(portfolio: Portfolio, folder: Path) -> Path:
    """The validated tables of ``portfolio`` written as Parquet into ``folder``: what the report
    notebook reads, whatever the source was (a workbook, a database, a mapped export)."""
    folder.mkdir()
    for table in sorted(portfolio.present):
        portfolio.frames[table].write_parquet(folder / f"{table}.parquet")
    return folder


ANALYSTS_ONLY = "analysts-only"
"""A report notebook cell with this tag (its "how to use" cell) is left out of the HTML report."""


def _execute_report(
    notebook: Path, folder: Path, parameters: dict[str, Any], progress: bool
) -> Path:
    """Execute the report notebook with papermill into ``folder`` and export it to HTML with no
    code cells. Returns the HTML path. A failing cell raises (papermill's execution error)."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    executed = folder / ".report.ipynb"
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters=parameters,
        cwd=str(notebook.parent),
        progress_bar=progress,
        kernel_name="python3",
    )
    from traitlets.config import Config

    config = Config()  # cells tagged for the analysts (how to use the notebook) are left out
    config.TagRemovePreprocessor.remove_cell_tags = {ANALYSTS_ONLY}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=config,
        template_name="report",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html = folder / "report.html"
    html.write_text(body, encoding="utf-8")
    executed.unlink()
    shutil.rmtree(folder / ".data", ignore_errors=True)
    shutil.rmtree(folder / ".handover", ignore_errors=True)
    return html


def masked(source: str) -> str:
    """``source`` with the password of a database URI replaced by ``***``."""
    from workbench.databases import masked as masked_uri

    return masked_uri(source) if "://" in source else source


def _inputs(data: str, portfolio: Portfolio, policy_file: Path | None) -> dict[str, Any]:
    return {
        "source": masked(data),  # a database URI without its password
        "files": list(portfolio.inputs),
        "policy": None
        if policy_file is None
        else {"path": str(policy_file), "sha256": sha256(Path(policy_file))},
    }


def _model_entry(model: Any, path: Path, trained: bool) -> dict[str, Any]:
    """The manifest's description of the model used."""
    return {
        "path": str(path),
        "sha256": sha256(path),
        "trained": trained,
        "trained_as_of": model.metadata["as_of"],
        "horizon_days": model.horizon_days,
        "metrics": model.metadata.get("metrics"),
    }


def _row_counts(portfolio: Portfolio, kpis: dict[str, Any], worklist: Any) -> dict[str, int]:
    """The manifest's row counts: input tables, open items, worklist actions and lists."""
    return {
        **{f"{t}_rows": portfolio.frames[t].height for t in sorted(portfolio.present)},
        "open_invoices": kpis["open_invoices"],
        "customers_with_balance": kpis["customers_with_balance"],
        "worklist_actions": worklist.rows.height,
        "worklist_calls": worklist.rows.filter(pl.col("channel") == "phone").height,
        "excluded": worklist.excluded.height,
        "watch_list": worklist.watch.height,
    }


def run_weekly(
    data: str | Path,
    as_of: date,
    out: str | Path = "reports",
    policy_file: str | Path | None = None,
    notebook: str | Path | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    language: str | None = None,
    source: SourceOptions | None = None,
) -> WeeklyResult:
    """Run the weekly job on ``data`` as of ``as_of`` into ``<out>/<ISO week>/`` (see module).

    ``language``: the team's language of the worklist exports (en, fr), overriding the
    policy's ``team.language``; the report notebook is not translated (it is run with the
    policy file). Raises :class:`InputError` on bad input and when another run is writing the
    same week; any failure leaves the previous report untouched; SIGTERM and SIGHUP raise
    :class:`Stopped`.
    """
    notebook = Path(notebook) if notebook is not None else default_notebook()
    if not notebook.exists():
        raise InputError(Problem("the weekly report notebook is missing", file=str(notebook)))
    with stopped_by_signals(), output_lock(Path(out) / week_label(as_of)):
        return _run_weekly(
            data, as_of, Path(out), policy_file, notebook, progress, echo, language, source
        )


def _run_weekly(
    data: str | Path,
    as_of: date,
    out: Path,
    policy_file: str | Path | None,
    notebook: Path,
    progress: bool,
    echo: Callable[[str], None],
    language: str | None,
    source: SourceOptions | None,
) -> WeeklyResult:
    """:func:`run_weekly` once the week's folder is locked."""
    from tqdm.auto import tqdm

    from workbench.export import write_worklist_files
    from workbench.handover import write_handover
    from workbench.kpis import portfolio_kpis
    from workbench.load import load_portfolio
    from workbench.model import score
    from workbench.outcomes import write_files
    from workbench.worklist import build_worklist

    week = week_label(as_of)
    refuse_filled_sheet(out, week)  # before any work: the collectors' sheet is kept
    steps = tqdm(total=5, desc=f"weekly {week}", disable=not progress, unit="step")

    def step(text: str) -> None:
        steps.set_postfix_str(text)
        if not progress:
            echo(f"- {text}")

    step("loading and validating the data")
    policy = load_policy(policy_file)
    if language is not None:
        policy = dataclasses.replace(policy, team=Team(language=language))
    read, prev_week = _read_previous(out, week, as_of)  # a bad filled sheet stops here
    earlier = outcome_folders(out, prev_week) if prev_week else []

    with (
        _old_outcomes_set_aside(out / week),
        atomic_outputs(out / week, last=("manifest.json",)) as folder,
    ):
        loaded = list(earlier)
        outcome_files: list[Path] = []
        if read is not None and read.rows_read:
            outcome_files = write_files(read, folder / "outcomes")
            loaded.append(folder / "outcomes")
        portfolio = load_portfolio(data, source, outcomes=loaded)
        kpis = portfolio_kpis(portfolio, as_of, policy)
        steps.update()

        step("risk model")
        model, model_path, trained = _model(portfolio, as_of, policy, out)
        steps.update()

        step("worklist")
        scores = score(model, portfolio, as_of, policy)
        worklist = build_worklist(portfolio, as_of, policy, scores)
        exports = write_worklist_files(worklist, folder)
        steps.update()

        step("report")
        html = _execute_report(
            notebook,
            folder,
            {
                "data": str(_canonical_copy(portfolio, folder / ".data").resolve()),
                "as_of": as_of.isoformat(),
                "policy_file": str(Path(policy_file).resolve()) if policy_file else "",
                "model_path": str(model_path.resolve()),
                "handover": str(write_handover(folder / ".handover", worklist, scores).resolve()),
                "previous_worklist": _previous_csv(out, prev_week),
                "interactive": False,
            },
            progress=False,
        )
        steps.update()

        step("manifest")
        manifest = {
            "week": week,
            "as_of": as_of.isoformat(),
            "inputs": _inputs(str(data), portfolio, Path(policy_file) if policy_file else None),
            "model": _model_entry(model, model_path, trained),
            "row_counts": _row_counts(portfolio, kpis, worklist),
            "outcomes": _outcomes_entry(out, week, prev_week, read, earlier),
            "kpis": {k: v for k, v in kpis.items() if k != "ageing"},
            "outputs": [
                {"path": p.name, "sha256": sha256(p), "bytes": p.stat().st_size}
                for p in sorted([*map(Path, exports), html], key=lambda p: p.name)
            ]
            + [
                {"path": f"outcomes/{p.name}", "sha256": sha256(p), "bytes": p.stat().st_size}
                for p in outcome_files
            ],
        }
        with atomic_file(folder / "manifest.json") as tmp:
            tmp.write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        steps.update()
    steps.close()
    return WeeklyResult(folder=out / week, week=week, manifest=manifest)
