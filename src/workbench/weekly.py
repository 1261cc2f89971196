"""The weekly run (DESIGN section 8): model, worklist exports, the managers' report, a manifest.

``reports/<ISO year>-W<week>/`` receives:

- ``report.html``: ``notebooks/weekly-report.ipynb`` executed by papermill and exported without
  code cells, self-contained (plotly.js embedded once, no request outside the file);
- ``worklist.xlsx``, ``worklist.csv``, ``excluded.csv``: the collectors' exports;
- ``manifest.json``: the inputs with their checksums, as_of, the model used, row counts and the
  outputs with their checksums.

The risk model is reused from ``reports/models/`` when one trained as of a date on or before
``as_of`` and within ``model.retrain_after_days`` of it matches the current features; otherwise a
new one is trained on the data as of ``as_of`` and saved there. Atomic: everything is built in a
temporary folder renamed into place at the end, so a failed or interrupted run leaves the last
good report of that week untouched. Same week, same inputs, same exports.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import InputError, Problem
from workbench.files import atomic_directory, atomic_file, sha256
from workbench.policy import Policy, Team, load_policy
from workbench.portfolio import Portfolio
from workbench.sources import SourceOptions

REPORT_NOTEBOOK = "weekly-report.ipynb"
TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"


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
                f"Weekly run {self.week} (as of {self.manifest['as_of']}) written to {self.folder}/",
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
    before ``as_of`` (never on data from its future) and at most ``model.retrain_after_days``
    before it. None when there is none."""
    from workbench.model import sidecar_path

    best: tuple[date, Path] | None = None
    for path in sorted(folder.glob("model-*.skops")):
        sidecar = sidecar_path(path)
        if not sidecar.exists():
            continue
        trained = date.fromisoformat(json.loads(sidecar.read_text())["as_of"])
        age = (as_of - trained).days
        if 0 <= age <= policy.model.retrain_after_days and (best is None or trained > best[0]):
            best = (trained, path)
    return None if best is None else best[1]


def _model(portfolio: Portfolio, as_of: date, policy: Policy, out: Path) -> tuple[Any, Path, bool]:
    """The risk model for ``as_of``: reused when possible, else trained and saved."""
    from workbench.model import check_features, load_model, save_model, train_model
    from workbench.snapshots import invoice_features

    path = reusable_model(model_folder(out), as_of, policy)
    if path is not None:
        model = load_model(path)
        try:
            check_features(model, invoice_features(portfolio, as_of, policy).head(0).collect())
            return model, path, False
        except InputError:
            pass  # trained on other features: retrain below
    model, _report = train_model(portfolio, as_of, policy)
    path = model_folder(out) / f"model-{as_of.isoformat()}.skops"
    save_model(model, path)
    return model, path, True


def _canonical_copy(portfolio: Portfolio, folder: Path) -> Path:
    """The validated tables of ``portfolio`` written as Parquet into ``folder``: what the report
    notebook reads, whatever the source was (a workbook, a database, a mapped export)."""
    folder.mkdir()
    for table in sorted(portfolio.present):
        portfolio.frames[table].write_parquet(folder / f"{table}.parquet")
    return folder


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
    exporter = HTMLExporter(
        template_name="report", extra_template_basedirs=[str(TEMPLATES)], exclude_input=True
    )
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html = folder / "report.html"
    html.write_text(body, encoding="utf-8")
    executed.unlink()
    shutil.rmtree(folder / ".data", ignore_errors=True)
    return html


def _inputs(data: str, portfolio: Portfolio, policy_file: Path | None) -> dict[str, Any]:
    return {
        "source": data,
        "files": list(portfolio.inputs),
        "policy": None
        if policy_file is None
        else {"path": str(policy_file), "sha256": sha256(Path(policy_file))},
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
    policy file). Raises :class:`InputError` on bad input; any failure leaves the previous
    report untouched.
    """
    from tqdm.auto import tqdm

    from workbench.export import write_worklist_files
    from workbench.kpis import portfolio_kpis
    from workbench.load import load_portfolio
    from workbench.model import score
    from workbench.worklist import build_worklist

    out = Path(out)
    notebook = Path(notebook) if notebook is not None else default_notebook()
    if not notebook.exists():
        raise InputError(Problem("the weekly report notebook is missing", file=str(notebook)))
    week = week_label(as_of)
    steps = tqdm(total=5, desc=f"weekly {week}", disable=not progress, unit="step")

    def step(text: str) -> None:
        steps.set_postfix_str(text)
        if not progress:
            echo(f"- {text}")

    step("loading and validating the data")
    policy = load_policy(policy_file)
    if language is not None:
        policy = dataclasses.replace(policy, team=Team(language=language))
    portfolio = load_portfolio(data, source)
    kpis = portfolio_kpis(portfolio, as_of, policy)
    steps.update()

    step("risk model")
    model, model_path, trained = _model(portfolio, as_of, policy, out)
    steps.update()

    with atomic_directory(out / week) as folder:
        step("worklist")
        worklist = build_worklist(portfolio, as_of, policy, score(model, portfolio, as_of, policy))
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
                "interactive": False,
            },
            progress=False,
        )
        steps.update()

        step("manifest")
        calls = worklist.rows.filter(pl.col("channel") == "phone").height
        manifest = {
            "week": week,
            "as_of": as_of.isoformat(),
            "inputs": _inputs(str(data), portfolio, Path(policy_file) if policy_file else None),
            "model": {
                "path": str(model_path),
                "sha256": sha256(model_path),
                "trained": trained,
                "trained_as_of": model.metadata["as_of"],
                "horizon_days": model.horizon_days,
                "metrics": model.metadata.get("metrics"),
            },
            "row_counts": {
                **{f"{t}_rows": portfolio.frames[t].height for t in sorted(portfolio.present)},
                "open_invoices": kpis["open_invoices"],
                "customers_with_balance": kpis["customers_with_balance"],
                "worklist_actions": worklist.rows.height,
                "worklist_calls": calls,
                "excluded": worklist.excluded.height,
                "watch_list": worklist.watch.height,
            },
            "kpis": {k: v for k, v in kpis.items() if k != "ageing"},
            "outputs": [
                {"path": p.name, "sha256": sha256(p), "bytes": p.stat().st_size}
                for p in sorted([*map(Path, exports), html], key=lambda p: p.name)
            ],
        }
        with atomic_file(folder / "manifest.json") as tmp:
            tmp.write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        steps.update()
    steps.close()
    return WeeklyResult(folder=out / week, week=week, manifest=manifest)
