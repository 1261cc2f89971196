"""The bad-input catalogue (tests/bad_inputs/, see its README): one case per file, each run
in-process through the command line's entry point, checking the exit status and the message."""

from __future__ import annotations

import importlib.util
import shutil
import tomllib
from pathlib import Path

import pytest

from workbench.cli import main

CATALOGUE = Path(__file__).parent / "bad_inputs"
CASES = sorted(CATALOGUE.glob("*.toml"))


def _builders():
    spec = importlib.util.spec_from_file_location("bad_input_builders", CATALOGUE / "builders.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _filled(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace("{" + key + "}", value)
    return text


def _prepared(case: dict, tmp: Path) -> dict[str, str]:
    """Set up ``{tmp}`` for ``case``; the placeholders' values."""
    shutil.copytree(CATALOGUE / "base", tmp / "data")
    for name in case.get("delete", []):
        (tmp / name).unlink()
    for name, text in case.get("files", {}).items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    if "build" in case:
        getattr(_builders(), case["build"])(tmp)
    return {"data": str(tmp / "data"), "tmp": str(tmp), "out": str(tmp / "out")}


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 60, f"{len(CASES)} cases; the catalogue promises at least 60"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_input(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tomllib.loads(path.read_text(encoding="utf-8"))
    places = _prepared(case, tmp_path)
    status = main([_filled(arg, places) for arg in case["args"]])
    err = capsys.readouterr().err
    assert status == case["exit"], f"{case['what']}: exit {status}, stderr:\n{err}"
    assert "internal error" not in err, err
    for fragment in case.get("message", []):
        assert _filled(fragment, places).lower() in err.lower(), f"{fragment!r} not in:\n{err}"
    if "first_line" in case:
        assert case["first_line"].lower() in err.strip().splitlines()[0].lower(), err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    for fragment in case.get("warning", []):
        assert any(fragment.lower() in w.lower() for w in warnings), f"{fragment!r}: {warnings}"
    for name in case.get("absent", []):
        assert not Path(_filled(name, places)).exists(), f"{name} was written"
