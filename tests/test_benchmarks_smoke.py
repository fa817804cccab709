"""`python -m benchmarks --quick` runs every measurement end to end (tiny workloads; no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("1 engine overhead", "2 peer", "3 whole system", "4 scaling", "5 user's question")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    results_before = sorted((ROOT / "results").glob("*")) if (ROOT / "results").exists() else []
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results_after = sorted((ROOT / "results").glob("*")) if (ROOT / "results").exists() else []
    assert results_after == results_before, "the benchmark must not write into results/"
    return json.loads(out.read_text()), done.stdout


def test_every_section_reports_its_rows(report):
    data, stdout = report
    rows = data["rows"]
    assert [s for s in SECTIONS if s not in {r["section"] for r in rows}] == []
    for row in rows:
        if row["section"] != "5 user's question":
            assert row["value"] is not None and row["value"] > 0, row
        assert row["met"] is None, "quick mode measures nothing, so it must judge no target"
    targets = {r["measure"]: r["target"] for r in rows if r["target"]}
    assert targets["model time / SimPy time"] == "<= 1.25"
    assert targets["Ciw time / model time"] == ">= 2"
    assert targets["baseline, one core"] == "<= 1"
    assert targets["parallel efficiency"] == ">= 0.85"
    assert "Simulator performance" in stdout


def test_the_three_engines_ran_the_same_queue(report):
    data, _ = report
    detail = data["details"]["engine_and_peer"]
    queue = detail["queue"]
    expected = queue["arrivals_per_day"] * queue["days"]
    for engine in ("model", "simpy", "ciw"):
        run = detail["runs"][engine]
        # Poisson arrivals: within 5 standard deviations of the mean.
        assert abs(run["patients"] - expected) < 5 * expected**0.5, engine
        assert run["mean_wait_days"] >= 0


def test_whole_system_counts_and_scaling_determinism(report):
    data, _ = report
    year = data["details"]["whole_system"]
    assert year["events"] > 2 * year["patients"] > 0  # every patient arrives, is admitted and leaves
    assert year["peak_rss_mb"] >= year["rss_before_run_mb"] > 0 and year["model_peak_mb"] > 0
    scaling = data["details"]["scaling"]
    assert scaling["identical"] is True
    assert scaling["cores"] >= 1 and scaling["replications"] >= 2
    assert scaling["machine_efficiency"] > 0
    job = data["details"]["user_job"]
    assert job["command"].startswith("python run_scenario.py")
    assert job["available"] is False or job["exit_status"] == 0, job["note"]


def test_profile_puts_all_time_in_named_groups(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is run from the repository, not installed
    from benchmarks.profile import GROUPS, profile, shares

    split = shares(profile(days=3))
    assert sum(split.values()) == pytest.approx(1.0)
    assert split[GROUPS[0][0]] > 0 and split[GROUPS[1][0]] > 0  # SimPy's engine and the model both ran
