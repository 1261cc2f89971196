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
    write_portfolio(generate_portfolio(customers=90, seed=5, start=date(2025, 5, 1), end=end), folder)
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "extra", "minimum"),
    [
        ("01-portfolio.ipynb", {"trend_weeks": 8}, 9),
        ("02-payment-behaviour.ipynb", {}, 5),
        ("03-risk-model.ipynb", {}, 8),
        ("04-actions.ipynb", {}, 6),
    ],
)
def test_notebook_executes_under_papermill(small_source, tmp_path, name, extra, minimum) -> None:
    folder, end = small_source
    notebook = executed(
        name, tmp_path / name, data=str(folder), as_of=end.isoformat(), interactive=False, **extra
    )
    assert figures(notebook) >= minimum
