"""The notebooks: thin, parameterized, committed without outputs, and executable by papermill."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
PARAMETER_LINE = re.compile(r"^(\w+): (str|int|float|bool) = .+  # .+$")


def code_cells(name: str) -> list:
    return [c for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells if c.cell_type == "code"]


def test_the_expected_notebooks_exist() -> None:
    assert set(ALL) >= {
        "01-portfolio.ipynb", "02-payment-behaviour.ipynb", "03-risk-model.ipynb",
        "04-actions.ipynb", "weekly-report.ipynb",
    }  # fmt: skip


@pytest.mark.parametrize("name", ALL)
def test_committed_without_outputs(name: str) -> None:
    for cell in code_cells(name):
        assert cell.outputs == [] and cell.execution_count is None, f"{name} has outputs"


@pytest.mark.parametrize("name", ALL)
def test_valid_with_unique_cell_ids(name: str) -> None:
    """JupyterLab and future nbformat versions need an id on every cell."""
    raw = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))  # nbformat.read adds ids
    ids = [cell.get("id") for cell in raw["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{name}: missing or repeated cell ids"
    nbformat.validate(nbformat.from_dict(raw))


@pytest.mark.parametrize("name", ALL)
def test_one_typed_commented_parameters_cell(name: str) -> None:
    tagged = [c for c in code_cells(name) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: exactly one cell tagged parameters"
    lines = [line for line in tagged[0].source.splitlines() if line and not line.startswith("#")]
    for line in lines:
        assert PARAMETER_LINE.match(line), f"{name}: untyped or undocumented parameter: {line}"
    names = {PARAMETER_LINE.match(line).group(1) for line in lines}
    assert {"data", "as_of", "interactive"} <= names
    inferred = papermill.inspect_notebook(str(NOTEBOOKS / name))
    assert set(inferred) == names


@pytest.mark.parametrize("name", ALL)
def test_thin_no_functions_or_classes(name: str) -> None:
    for cell in code_cells(name):
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M), f"{name} defines code"


@pytest.fixture(scope="session")
def small_source(tmp_path_factory) -> tuple[Path, date]:
    """A generated portfolio written as Parquet files, and its last date."""
    from workbench.generate import generate_portfolio, write_portfolio

    end = date(2026, 10, 30)
    folder = tmp_path_factory.mktemp("data") / "portfolio"
    write_portfolio(
        generate_portfolio(customers=90, seed=5, start=date(2025, 5, 1), end=end), folder
    )
    return folder, end


def executed(name: str, out: Path, **parameters) -> nbformat.NotebookNode:
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(out), parameters=parameters, cwd=str(NOTEBOOKS),
        progress_bar=False, kernel_name="python3",
    )  # fmt: skip
    return nbformat.read(out, as_version=4)


def figures(notebook: nbformat.NotebookNode) -> int:
    """Plotly figures rendered in the outputs."""
    return sum(
        "plotly-graph-div" in output.get("data", {}).get("text/html", "")
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )  # fmt: skip


ANALYSTS = ["01-portfolio.ipynb", "02-payment-behaviour.ipynb", "03-risk-model.ipynb",
            "04-actions.ipynb"]  # fmt: skip


@pytest.mark.parametrize("name", ANALYSTS)
def test_starts_with_a_title_and_how_to_use(name: str) -> None:
    """A title, then a "How to use" cell saying what it shows, which parameters to change, how
    to run it and where the logic lives, before the parameters cell."""
    cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    how = cells[1]
    assert how.cell_type == "markdown" and how.source.startswith("## How to use")
    for part in ("What it shows", "What to change", "How to run it", "Where the logic lives"):
        assert part in how.source, f"{name}: how to use misses {part!r}"
    assert "parameters" in cells[2].metadata.get("tags", [])
    assert "papermill" in how.source and "workbench." in how.source


REMOTE_SCRIPT = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""  # <script src="https://...">
    r"""|\bimport\s*\(?\s*["'](?:https?:)?//"""  # import "https://..." (ES modules)
    r"""|cdn\.plot\.ly/plotly-|cdnjs\.cloudflare\.com""",  # plotly.js, MathJax from a CDN
    re.IGNORECASE,
)


def strings(value) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def remote_scripts(notebook: nbformat.NotebookNode) -> list[str]:
    """Scripts the outputs would load from outside the machine (a CDN)."""
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    return [m.group(0) for text in strings(outputs) for m in REMOTE_SCRIPT.finditer(text)]


def texts(notebook: nbformat.NotebookNode) -> str:
    """The Markdown and plain-text outputs of a notebook."""
    return "\n".join(
        o.get("data", {}).get("text/markdown", "") + o.get("text", "")
        for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "extra", "minimum"),
    [
        ("01-portfolio.ipynb", {"trend_weeks": 8}, 9),
        ("02-payment-behaviour.ipynb", {}, 5),
    ],
)
def test_notebook_executes_interactive_with_nothing_remote(
    small_source, tmp_path, name, extra, minimum
) -> None:
    """Executed as in JupyterLab (interactive: widgets, plotly's mimetype): the figures are
    there and no output loads a script from a CDN."""
    folder, end = small_source
    notebook = executed(
        name, tmp_path / name, data=str(folder), as_of=end.isoformat(), interactive=True, **extra
    )
    assert figures(notebook) >= minimum
    assert not remote_scripts(notebook)
    assert any(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )  # fmt: skip


@pytest.mark.slow
def test_risk_model_notebook_then_actions_with_the_weekly_model(small_source, tmp_path) -> None:
    """Notebook 03 (static, as papermill runs it) saves its model where the weekly runs keep
    theirs; notebook 04 (interactive), given only that reports folder, says it uses that model,
    and loads nothing from a CDN."""
    folder, end = small_source
    reports = tmp_path / "reports"
    saved = reports / "models" / f"model-{end.isoformat()}.skops"
    risk = executed(
        "03-risk-model.ipynb", tmp_path / "03.ipynb", data=str(folder), as_of=end.isoformat(),
        interactive=False, model_out=str(saved),
    )  # fmt: skip
    assert figures(risk) >= 8 and saved.exists()
    actions = executed(
        "04-actions.ipynb", tmp_path / "04.ipynb", data=str(folder), as_of=end.isoformat(),
        interactive=True, reports=str(reports),
    )  # fmt: skip
    assert figures(actions) >= 6
    said = texts(actions)
    assert f"Priorities use the risk model `{saved}`" in said and "weekly run" in said
    assert not remote_scripts(actions)
