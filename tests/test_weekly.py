"""The weekly run end to end: exports, manifest, idempotence, atomicity, and the managers' HTML
report loaded in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import nbformat
import polars as pl
import pytest

from workbench.weekly import run_weekly, sha256, week_label

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly-report.ipynb"
AS_OF = date(2026, 10, 30)
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A generated portfolio whose largest customer has a hostile name."""
    from workbench.generate import generate_portfolio, write_portfolio

    tables = generate_portfolio(customers=90, seed=5, start=date(2025, 3, 1), end=AS_OF)
    invoices = tables["invoices"]
    biggest = invoices.group_by("customer_id").agg(pl.col("amount").sum()).sort("amount")[-1, 0]
    tables["customers"] = tables["customers"].with_columns(
        name=pl.when(pl.col("customer_id") == biggest).then(pl.lit(HOSTILE_NAME)).otherwise("name")
    )
    folder = tmp_path_factory.mktemp("weekly") / "data"
    write_portfolio(tables, folder)
    return folder


@pytest.fixture(scope="module")
def first_run(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return run_weekly(source, AS_OF, out=out, progress=False, echo=lambda _: None), out


def test_week_label_uses_the_iso_year() -> None:
    assert week_label(date(2026, 11, 20)) == "2026-W47"
    assert week_label(date(2027, 1, 1)) == "2026-W53"  # a Friday in the last ISO week of 2026
    assert week_label(date(2025, 12, 29)) == "2026-W01"


def test_outputs_and_manifest(first_run, source) -> None:
    result, out = first_run
    folder = out / week_label(AS_OF)
    assert result.folder == folder
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["excluded.csv", "manifest.json", "report.html", "watchlist.csv", "worklist.csv", "worklist.xlsx"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["as_of"] == AS_OF.isoformat() and manifest["week"] == week_label(AS_OF)
    inputs = {f["table"]: f for f in manifest["inputs"]["files"]}
    assert inputs["invoices"]["sha256"] == sha256(source / "invoices.parquet")
    outputs = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert set(outputs) == set(names) - {"manifest.json"}
    for name, digest in outputs.items():
        assert sha256(folder / name) == digest
    worklist = pl.read_csv(folder / "worklist.csv")
    excluded = pl.read_csv(folder / "excluded.csv")
    assert manifest["row_counts"]["worklist_actions"] == worklist.height
    assert manifest["row_counts"]["excluded"] == excluded.height
    assert Path(manifest["model"]["path"]).exists() and manifest["model"]["trained"]
    assert manifest["model"]["trained_as_of"] <= AS_OF.isoformat()


def test_same_week_same_inputs_same_exports_and_model_reused(first_run, source) -> None:
    result, out = first_run
    before = {o["path"]: o["sha256"] for o in result.manifest["outputs"]}
    again = run_weekly(source, AS_OF, out=out, progress=False, echo=lambda _: None)
    after = {o["path"]: o["sha256"] for o in again.manifest["outputs"]}
    for name in ("worklist.csv", "worklist.xlsx", "excluded.csv"):
        assert after[name] == before[name], name
    assert not again.manifest["model"]["trained"], "a fresh model must be reused"
    assert again.manifest["model"]["sha256"] == result.manifest["model"]["sha256"]


def test_a_failing_run_leaves_the_previous_report_untouched(first_run, source, tmp_path) -> None:
    _, out = first_run
    folder = out / week_label(AS_OF)
    before = {p.name: sha256(p) for p in folder.iterdir()}
    broken = tmp_path / "weekly-report.ipynb"
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('injected failure')"))
    nbformat.write(notebook, broken)
    with pytest.raises(Exception, match="injected failure"):
        run_weekly(source, AS_OF, out=out, notebook=broken, progress=False, echo=lambda _: None)
    assert {p.name: sha256(p) for p in folder.iterdir()} == before
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"temporary folders left behind: {leftovers}"


def test_report_has_no_contact_details(first_run, source) -> None:
    _, out = first_run
    html = (out / week_label(AS_OF) / "report.html").read_text()
    customers = pl.read_parquet(source / "customers.parquet")
    for column in ("email", "phone"):
        leaked = [v for v in customers.get_column(column).drop_nulls().to_list() if v in html]
        assert not leaked, f"{column} found in the report: {leaked[:3]}"


def test_cli_weekly_exit_codes(source, tmp_path) -> None:
    workbench = Path(sys.executable).with_name("workbench")
    bad = subprocess.run(
        [str(workbench), "weekly", "--data", str(tmp_path / "missing"), "--as-of", "2026-10-30",
         "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "data source not found" in bad.stderr
    assert not (tmp_path / "out" / week_label(AS_OF)).exists()


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )  # fmt: skip


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (make test installs it when run as root)",
)
def test_report_in_headless_chromium(first_run) -> None:
    from playwright.sync_api import sync_playwright

    _, out = first_run
    report = out / week_label(AS_OF) / "report.html"
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        plots = page.locator(".js-plotly-plot")
        count = plots.count()
        rendered = page.locator(".js-plotly-plot .main-svg").count()
        with_svg = page.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')]"
            ".filter(d => d.querySelector('svg.main-svg')).length"
        )
        pwned = page.evaluate("window.__pwned === undefined ? null : window.__pwned")
        injected = page.locator('img[src="x"]').count()
        text = page.inner_text("body")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "weekly-report.png"), full_page=True)
        browser.close()
    assert errors == [], errors
    assert [u for u in requests if not u.startswith("file://")] == [], "requests outside the file"
    assert count >= 9, f"expected every chart of the report, found {count}"
    assert with_svg == count and rendered >= count, "a chart did not render its SVG"
    assert pwned is None and dialogs == [], "input data was executed as HTML"
    assert injected == 0, "a customer name became an HTML element"
    for heading in ("Key figures", "Ageing", "DSO trend", "priority matrix", "Open disputes",
                    "Model health"):  # fmt: skip
        assert heading.lower() in text.lower(), heading
