"""The app's runs: one browser session may have only so many going at once; a run too large is refused with why."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("streamlit")

from experiment_helpers import tiny  # noqa: E402

from sim.app import runs  # noqa: E402


@pytest.fixture
def held(monkeypatch):
    """Runs that stay 'running' until released, so the test controls how many are going."""
    release = threading.Event()

    def waits(*args, **kwargs):
        release.wait(60)
        raise RuntimeError("released")

    monkeypatch.setattr(runs, "run_experiment", waits)
    yield release
    release.set()


def _scenarios(multiplier: float):
    return {"scenario": tiny(**{"routes.crisis.scale": {"urgent_response": multiplier}})}


def test_a_session_may_start_only_max_running_runs_at_once(held):
    first = [runs.start(_scenarios(1.0 + i / 10), 1, session="planner-a") for i in range(runs.MAX_RUNNING)]
    assert [r.state for r in first] == ["running"] * runs.MAX_RUNNING
    refused = runs.start(_scenarios(1.9), 1, session="planner-a")
    assert refused.state == "failed"
    assert refused.error == (f"{runs.MAX_RUNNING} of your runs are still going (at most {runs.MAX_RUNNING} at once): "
                             "wait for one to finish, then press Run again")
    assert runs.find(refused.key) is refused
    # Pressing Run again on settings already running shows that run; another session is not held up.
    assert runs.start(_scenarios(1.0), 1, session="planner-a") is first[0]
    assert runs.start(_scenarios(1.9), 1, session="planner-b").state == "running"
    held.set()
    for run in first:
        for _ in range(600):
            if run.state != "running":
                break
            threading.Event().wait(0.1)
    assert runs.start(_scenarios(1.9), 1, session="planner-a") is not refused


def test_a_run_too_large_says_why_and_how_to_run_it_anyway(tmp_path):
    bomb = {"scenario": tiny(**{"demand.surges": [
        {"name": "bomb", "start": "2019-01-01", "end": "2019-12-31", "multiplier": 10000}]})}
    run = runs.Run("bomb", bomb, tmp_path)
    run.execute(1)
    assert run.state == "failed"
    assert run.error.startswith("this run is too large to start: it would need about")
    assert run.error.endswith("Make the run smaller, or run it from the command line with --allow-large")
    assert not (run.folder / runs.RESULTS).exists()
