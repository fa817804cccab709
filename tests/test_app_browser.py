"""The web app in a real headless Chromium: start it, change a lever, run, and check the numbers against the command line.

Debian's chromium, launched as the report's browser test launches it; no browser is downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from sim import api
from sim.report import tables
from sim.report.formatting import interval, number
from sim.scenario import load_scenario

from test_app import SMALL, write_library
from test_report_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(tmp_path):
    """The app as a planner starts it (`python -m sim.app`), on a free localhost port, with a small library."""
    pytest.importorskip("streamlit")
    library = write_library(tmp_path / "scenarios")
    # The library's default pick is connect.yaml: here a small what-if compared with the small system.
    (library / "connect.yaml").write_text(SMALL.replace('"Small system"', '"Small system, more urgent response"')
                                          .replace("extends: baseline.yaml", "extends: baseline.yaml\n"
                                                   "comparator: small-baseline.yaml\nroutes: {crisis: {scale: {urgent_response: 1.7}}}"))
    port = _free_port()
    env = {**os.environ, "CARE_PATHWAY_SCENARIOS": str(library)}
    log = (tmp_path / "app.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "sim.app", "--server.port", str(port), "--server.headless", "true"],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the app did not start: {(tmp_path / 'app.log').read_text()}")
        yield url, library
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _settled(page) -> None:
    """Wait until the app's script has finished drawing the page."""
    page.wait_for_function(
        "document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=30_000)


def test_change_a_lever_run_and_match_the_command_line(app, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    url, library = app
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            # A lever made from the scenario's own service, named by its label, in its group (closed at first).
            group = page.get_by_text("Capacity and lengths of stay", exact=True)
            group.wait_for(timeout=30_000)
            group.click()
            ucr = page.get_by_label("Urgent community response: capacity (responses at once)", exact=True)
            ucr.wait_for(timeout=30_000)
            assert ucr.input_value() == "2"
            ucr.fill("4")
            ucr.press("Enter")
            page.get_by_text("Urgent community response: capacity: 2 → 4 responses at once").wait_for(timeout=30_000)
            _settled(page)  # the page is drawn top to bottom: the download button below is new only once it ends
            with page.expect_download() as download:
                page.get_by_role("button", name="Download the edited scenario (YAML)").click()
            edited = tmp_path / "connect-edited.yaml"
            download.value.save_as(edited)
            assert "#   services.urgent_response.capacity: 4" in edited.read_text()

            workers = page.get_by_label("Worker processes", exact=True)
            workers.fill("1")  # one process: a run this small spends longer starting workers than running
            workers.press("Enter")
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_text("Running:").wait_for(timeout=30_000)  # the progress bar, while the page stays live
            assert ucr.is_visible() and ucr.is_editable()
            values = page.locator('[data-testid="stMetricValue"]')
            values.nth(8).wait_for(timeout=60_000)
            shown = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(), values.all_inner_texts()))
            body = page.inner_text("body")
            page.locator(".js-plotly-plot .main-svg").nth(5).wait_for(timeout=30_000)
            assert errors == []
        finally:
            browser.close()

    # The downloaded file, run as the page says to run it from the command line, gives the page's numbers.
    assert load_scenario(edited).services["urgent_response"].capacity == 4
    expected = api.run(edited, library / "small-baseline.yaml", workers=1)
    items = tables.headline(expected)
    assert len(shown) == len(items) == 9  # headlines, other outcomes a year, and net savings by perspective
    for item in items:
        assert shown[item.label].strip() == number(item.estimate.mean, item.unit, signed=True, with_unit=False), \
            item.label
        ci = interval(item.estimate, item.unit, signed=True, with_unit=False)
        assert " to " in ci and f"95% CI: {ci}" in body, item.label
    assert any(i.label == "Admissions avoided" and i.estimate.mean > 0 for i in items)
