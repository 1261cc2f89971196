"""The weekly run end to end: exports, manifest, idempotence, atomicity, and the managers' HTML
report loaded in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
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
    html = (folder / "report.html").read_text(encoding="utf-8")
    # the managers' report: the summary first, not the analysts' "how to use" cell
    assert "How to use" not in html and html.index("Summary") < html.index("Cash")


def test_same_week_same_inputs_same_exports_and_model_reused(first_run, source) -> None:
    result, out = first_run
    before = {o["path"]: o["sha256"] for o in result.manifest["outputs"]}
    folder = out / week_label(AS_OF)
    (folder / "notes.txt").write_text("the user's notes")
    (folder / "calls").mkdir()
    (folder / "calls" / "monday.txt").write_text("called C1")
    again = run_weekly(source, AS_OF, out=out, progress=False, echo=lambda _: None)
    assert (folder / "notes.txt").read_text() == "the user's notes", "a user's file was lost"
    assert (folder / "calls" / "monday.txt").read_text() == "called C1"
    assert {o["path"] for o in again.manifest["outputs"]} == {
        p.name for p in folder.iterdir() if p.name not in ("manifest.json", "notes.txt", "calls")
    }
    (folder / "notes.txt").unlink()
    (folder / "calls" / "monday.txt").unlink()
    (folder / "calls").rmdir()
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


def test_a_second_run_on_the_same_week_is_refused_at_once(first_run, source) -> None:
    import fcntl

    from workbench.errors import InputError
    from workbench.files import lock_path

    _, out = first_run
    folder = out / week_label(AS_OF)
    before = {p.name: sha256(p) for p in folder.iterdir()}
    fd = os.open(lock_path(folder), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242")
        start = time.monotonic()
        with pytest.raises(InputError, match=r"another workbench run \(process 4242\)"):
            run_weekly(source, AS_OF, out=out, progress=False, echo=lambda _: None)
        assert time.monotonic() - start < 5, "refused before loading or training anything"
    finally:
        os.close(fd)
        lock_path(folder).unlink()
    assert {p.name: sha256(p) for p in folder.iterdir()} == before


RUNNER = """
import sys
from datetime import date
from workbench.weekly import run_weekly
data, out, notebook = sys.argv[1:4]
run_weekly(data, date.fromisoformat(sys.argv[4]), out=out, notebook=notebook, progress=False,
           echo=lambda _: None)
"""


def _stalling_notebook(path: Path, marker: Path) -> Path:
    """A report notebook that records its kernel (process id, connection file) in ``marker``,
    then waits: the run is then in its report step with a live kernel."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(
        'data = ""\nas_of = ""\npolicy_file = ""\nmodel_path = ""\ninteractive = False'
    )
    parameters.metadata["tags"] = ["parameters"]
    stall = nbformat.v4.new_code_cell(
        "import json, os, pathlib, time\n"
        "from ipykernel import get_connection_file\n"
        f"pathlib.Path({str(marker)!r}).write_text(json.dumps("
        "{'pid': os.getpid(), 'connection': get_connection_file()}))\n"
        "time.sleep(600)"
    )
    notebook.cells = [parameters, stall]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata["kernelspec"]["language"] = "python"
    nbformat.write(notebook, path)
    return path


def _processes_with(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _gone_within(text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _processes_with(text):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc (Linux)")
def test_a_killed_run_takes_its_kernel_with_it(first_run, source, tmp_path) -> None:
    """SIGTERM during the report step: the run stops (exit 143), its kernel is shut down, its
    temporary folder and lock are removed. SIGKILL (no clean-up possible): the kernel's parent
    poller sees its parent gone and exits; the next run removes the temporary folder. Both runs
    at once, to keep the test short."""
    from workbench.files import lock_path, output_lock

    _, reports = first_run
    runs = {}
    for name in ("TERM", "KILL"):
        out = tmp_path / name
        shutil.copytree(reports / "models", out / "models")  # reused: no training
        marker = tmp_path / f"{name}.json"
        notebook = _stalling_notebook(tmp_path / f"{name}.ipynb", marker)
        args = [sys.executable, "-c", RUNNER, str(source), str(out), str(notebook), str(AS_OF)]
        process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        runs[name] = (process, out, marker)
    try:
        deadline = time.monotonic() + 400  # the machine may be busy
        while not all(marker.exists() for _, _, marker in runs.values()):
            assert time.monotonic() < deadline, "the report step never started"
            ended = [p for p, _, _ in runs.values() if p.poll() is not None]
            assert not ended, f"a run ended early: {ended[0].stderr.read()[-2000:]}"
            time.sleep(0.2)
        time.sleep(0.3)  # the marker is written; let its cell reach the sleep
        kernels = {name: json.loads(marker.read_text()) for name, (_, _, marker) in runs.items()}
        for name, (process, _, _) in runs.items():
            assert _processes_with(kernels[name]["connection"]), "the kernel is not running"
            process.send_signal(getattr(signal, f"SIG{name}"))
        codes = {name: process.wait(timeout=60) for name, (process, _, _) in runs.items()}
    finally:
        for process, _, _ in runs.values():
            if process.poll() is None:
                process.kill()
    for name, kernel in kernels.items():
        assert _gone_within(kernel["connection"], 10), f"SIG{name}: the kernel survived"
    term_err = runs["TERM"][0].stderr.read()
    assert codes == {"TERM": 128 + signal.SIGTERM, "KILL": -signal.SIGKILL}, term_err
    assert "stopped by SIGTERM" in term_err
    week = week_label(AS_OF)
    assert sorted(os.listdir(runs["TERM"][1])) == ["models"], "SIGTERM left files behind"
    killed = runs["KILL"][1]
    left = sorted(p.name for p in killed.iterdir() if p.name.startswith(f".{week}."))
    assert len(left) == 2 and lock_path(killed / week).name in left  # a temp folder, the lock
    with output_lock(killed / week):  # the next run on that week
        pass
    assert sorted(os.listdir(killed)) == ["models"]


def test_sighup_and_sigterm_raise_stopped_then_the_handlers_come_back() -> None:
    from workbench.weekly import Stopped, stopped_by_signals

    before = signal.getsignal(signal.SIGHUP)
    for signum in (signal.SIGHUP, signal.SIGTERM):
        with pytest.raises(Stopped) as stopped, stopped_by_signals():
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler runs before this ends
        assert stopped.value.code == 128 + signum
    assert signal.getsignal(signal.SIGHUP) == before


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
