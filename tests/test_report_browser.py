"""The report in a real headless Chromium: every figure draws, and the page asks the network for nothing.

Uses Debian's chromium (/usr/bin/chromium; CI installs it). No browser is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.measure.collect import run_replication
from sim.report import FIGURES_DIR, export, write_report
from sim.results import from_replications
from sim.scenario import load_scenario

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    small = {"demand.crises_per_year": 2000, "run.horizon_days": 60, "run.warmup_days": 15,
             "services.acute.capacity": 55, "services.reablement.capacity": 12,
             "services.community_beds.capacity": 12, "services.temporary_residential.capacity": 6,
             "services.urgent_response.capacity": 2}
    comparator = base.with_changes(small)
    scenario = base.with_changes({**small, "name": "More urgent response",
                                   "routes.crisis.scale.urgent_response": 1.7})
    runs = {"scenario": [run_replication(scenario, r) for r in range(2)],
            "comparator": [run_replication(comparator, r) for r in range(2)]}
    rs = from_replications(runs, {"scenario": scenario, "comparator": comparator})
    return write_report(rs, tmp_path_factory.mktemp("run"))


def _expected_marks(spec: dict) -> tuple[str, int]:
    """What a drawn figure must contain: a node per Sankey node, else a trace group per trace."""
    if spec["data"][0]["type"] == "sankey":
        return ".sankey-node", sum(len(t["node"]["label"]) for t in spec["data"])
    return "g.trace", len(spec["data"])


def test_every_figure_draws_and_nothing_is_fetched(report):
    playwright = pytest.importorskip("playwright.sync_api")
    specs = {p.stem: json.loads(p.read_text()) for p in (report.parent / FIGURES_DIR).glob("*.json")}
    assert len(specs) >= 6  # delays draw only when a run has any
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(specs)}", timeout=30_000)
            for name, spec in specs.items():
                selector, expected = _expected_marks(spec)
                drawn = page.evaluate(
                    """([id, sel]) => { const d = document.getElementById(id);
                        return { marks: d.querySelectorAll(sel).length,
                                 paths: [...d.querySelectorAll('g.trace path, .sankey-link')]
                                        .filter(p => (p.getAttribute('d') || '').length > 4).length,
                                 width: d.getBoundingClientRect().width }; }""",
                    [f"fig-{name}", selector])
                assert drawn["marks"] == expected, (name, drawn)
                assert drawn["paths"] > 0, (name, drawn)
                assert drawn["width"] > 600, (name, drawn)
            assert errors == []
            assert requests == [report.as_uri()]
        finally:
            browser.close()


def test_png_export_writes_every_figure(report, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(CHROMIUM))
    paths = export.export_pngs(report.parent, scale=1)
    assert sorted(p.stem for p in paths) == sorted(p.stem for p in (report.parent / FIGURES_DIR).glob("*.json"))
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(data[16:20], "big")
        assert width == export.PNG_WIDTH
