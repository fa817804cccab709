"""Results folders: atomic parts, the COMPLETE marker, resume without recomputing, refusing foreign folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from experiment_helpers import assert_same_tables, tiny

from sim.executors import SerialExecutor
from sim.experiment import Plan, run_experiment
from sim.store import COMPLETE, Store, StoreError, check_writable, load


class Counting(SerialExecutor):
    """Runs replications in this process and counts them; can stop as if killed after `stop_after`."""

    def __init__(self, stop_after: int | None = None):
        self.ran: list[tuple[str, int]] = []
        self.stop_after = stop_after

    def run(self, tasks):
        for task, tables in super().run(tasks):
            if self.stop_after is not None and len(self.ran) == self.stop_after:
                raise KeyboardInterrupt
            self.ran.append(task.key)
            yield task, tables


def _scenarios():
    s = tiny()
    return {"scenario": s.with_changes({"routes.crisis.scale.urgent_response": 1.5}), "comparator": s}


def test_a_finished_folder_reads_back_identical(tmp_path):
    rs = run_experiment(_scenarios(), Plan(replications=3), executor=SerialExecutor(), folder=tmp_path / "out")
    folder = tmp_path / "out"
    assert (folder / COMPLETE).exists() and not (folder / "parts").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]      # no temporary files left
    back = load(folder)
    assert_same_tables(rs, back)
    pd.testing.assert_frame_equal(back.summary, pd.read_csv(folder / "summary.csv"), check_dtype=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["replications"] == 3 and manifest["status"] == "complete"
    assert manifest["seed"] == 20190401
    assert manifest["scenarios"]["comparator"]["hash"] == _scenarios()["comparator"].content_hash()
    assert manifest["packages"]["simpy"] and manifest["packages"]["python"]
    assert "commit" in manifest["git"]
    assert manifest["started_utc"] <= manifest["finished_utc"]
    comparison = pd.read_csv(folder / "comparison.csv")
    assert "Admissions avoided" in set(comparison["measure"])


def test_an_interrupted_run_resumes_without_recomputing_and_ends_identical(tmp_path, reliability_tally):
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_scenarios(), Plan(replications=4), executor=Counting(stop_after=3), folder=folder)
    assert not (folder / COMPLETE).exists()
    with pytest.raises(StoreError, match="did not finish"):
        load(folder)
    finished = Store(folder).finished_parts()
    assert len(finished) == 3
    second = Counting()
    resumed = run_experiment(_scenarios(), Plan(replications=4), executor=second, folder=folder, resume=True)
    assert len(second.ran) == 8 - 3 and not set(second.ran) & finished
    assert resumed.manifest["resumed_replications"] == 3
    assert not [w for w in resumed.manifest["warnings"] if w["kind"] == "resume"]   # same code: nothing to say
    whole = run_experiment(_scenarios(), Plan(replications=4), executor=SerialExecutor())
    assert_same_tables(resumed, whole)
    reliability_tally["kills survived"] += 1


def test_a_half_written_part_is_ignored_on_resume(tmp_path):
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_scenarios(), Plan(replications=2), executor=Counting(stop_after=1), folder=folder)
    # What a kill during a part's write leaves behind: a hidden temporary folder.
    (folder / "parts" / ".scenario-00001.123.abcd.tmp").mkdir()
    assert Store(folder).finished_parts() == {("scenario", 0)}


def test_resume_refuses_a_folder_of_another_run(tmp_path):
    folder = tmp_path / "out"
    run_experiment(_scenarios(), Plan(replications=2), executor=SerialExecutor(), folder=folder)
    other = {"scenario": tiny(**{"routes.crisis.scale.urgent_response": 2.0})}
    with pytest.raises(StoreError, match="different run"):
        run_experiment(other, Plan(replications=2), executor=SerialExecutor(), folder=folder, resume=True)
    assert load(folder).manifest["replications"] == 2      # the earlier results are untouched


def test_resume_of_a_complete_run_recomputes_nothing(tmp_path):
    folder = tmp_path / "out"
    first = run_experiment(_scenarios(), Plan(replications=2), executor=SerialExecutor(), folder=folder)
    again = Counting()
    second = run_experiment(_scenarios(), Plan(replications=2), executor=again, folder=folder, resume=True)
    assert again.ran == []
    assert_same_tables(first, second)


def test_folders_that_cannot_hold_results_are_refused(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        check_writable(a_file)
    with pytest.raises(StoreError, match="not results"):
        check_writable(tmp_path)            # holds file.txt and no manifest
    check_writable(tmp_path / "new" / "deeper")  # can be created


def test_resuming_across_a_change_of_model_code_says_so(tmp_path):
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_scenarios(), Plan(replications=2), executor=Counting(stop_after=2), folder=folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["code_sha256"] = "an older version of sim/"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    resumed = run_experiment(_scenarios(), Plan(replications=2), executor=SerialExecutor(), folder=folder, resume=True)
    warnings = [w for w in resumed.manifest["warnings"] if w["kind"] == "resume"]
    assert len(warnings) == 1 and warnings[0]["message"].startswith("2 replications were reused")
    assert load(folder).manifest["warnings"] == resumed.manifest["warnings"]
