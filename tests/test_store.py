"""Results folders: atomic parts, the COMPLETE marker, resume without recomputing, refusing foreign folders."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import assert_same_tables, tiny

import sim.store as store_module
from sim import api
from sim.executors import SerialExecutor
from sim.experiment import Plan, run_experiment
from sim.store import (COMPLETE, TABLES, DamagedFolder, FolderInUse, Store, StoreError, check_writable, load)


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


# --- damaged folders: checksums, truncated or missing files, unreadable manifests ------------------


def _flip_a_bit(path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def finished(tmp_path):
    folder = tmp_path / "out"
    run_experiment(_scenarios(), Plan(replications=2), executor=SerialExecutor(), folder=folder)
    return folder


def test_the_manifest_records_a_checksum_of_every_result_file(finished):
    manifest = json.loads((finished / "manifest.json").read_text())
    assert manifest["program"] == "care-pathway-sim"
    expected = {f"{t}.parquet" for t in TABLES} | {"summary.csv", "comparison.csv", "differences.csv",
                                                   "budget_impact.csv", "capacity_freed.csv", "economic_summary.csv"}
    assert set(manifest["files"]) == expected
    assert manifest["files"]["kpis.parquet"] == hashlib.sha256((finished / "kpis.parquet").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["kpis.parquet", "daily.parquet", "summary.csv"])
def test_a_flipped_bit_in_a_finished_file_is_named_by_api_results(finished, name, reliability_tally):
    _flip_a_bit(finished / name)
    with pytest.raises(DamagedFolder) as caught:
        api.results(finished)
    message = str(caught.value)
    assert f"{name} does not match its checksum" in message and "run the same command again" in message
    reliability_tally["kills survived"] += 1


def test_a_missing_or_truncated_table_is_a_project_error_not_a_pyarrow_one(finished, reliability_tally):
    (finished / "flows.parquet").unlink()
    with pytest.raises(DamagedFolder, match="flows.parquet is missing"):
        api.results(finished)
    # Without checksums (a folder from before they were recorded), a cut-short table is still named.
    manifest = json.loads((finished / "manifest.json").read_text())
    del manifest["files"]
    (finished / "manifest.json").write_text(json.dumps(manifest))
    (finished / "flows.parquet").write_bytes((finished / "kpis.parquet").read_bytes()[:100])
    with pytest.raises(DamagedFolder, match=r"flows.parquet cannot be read \(ArrowInvalid"):
        api.results(finished)
    reliability_tally["kills survived"] += 1


@pytest.mark.parametrize("content", [b'{"program": "care-pathway-sim", "scen', b"\xff\xfe\x00garbage", b"[1, 2]"])
def test_an_unreadable_manifest_is_named_by_api_results(finished, content, reliability_tally):
    (finished / "manifest.json").write_bytes(content)
    with pytest.raises(StoreError) as caught:
        api.results(finished)
    assert "manifest.json" in str(caught.value)
    assert "free some space" not in str(caught.value)
    reliability_tally["kills survived"] += 1


def _interrupted(folder, stop_after=3):
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_scenarios(), Plan(replications=3), executor=Counting(stop_after=stop_after), folder=folder)
    return sorted(p for p in (folder / "parts").iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_resume_names_a_damaged_part_and_says_what_to_do_then_redoes_it(tmp_path, damage, reliability_tally):
    folder = tmp_path / "out"
    part = _interrupted(folder)[1]
    table = part / "daily.parquet"
    if damage == "flip":
        _flip_a_bit(table)
    elif damage == "truncate":
        table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    else:
        table.unlink()
    again = Counting()
    with pytest.raises(DamagedFolder) as caught:
        run_experiment(_scenarios(), Plan(replications=3), executor=again, folder=folder, resume=True)
    message = str(caught.value)
    assert str(part) in message and "daily.parquet" in message
    assert "Delete that part folder and run again with --resume" in message
    assert again.ran == []                                   # refused before anything ran
    shutil.rmtree(part)                                      # what the message says to do
    resumed = run_experiment(_scenarios(), Plan(replications=3), executor=again, folder=folder, resume=True)
    assert len(again.ran) == 6 - 2 and resumed.manifest["resumed_replications"] == 2
    assert_same_tables(resumed, run_experiment(_scenarios(), Plan(replications=3), executor=SerialExecutor()))
    reliability_tally["kills survived"] += 1


def test_resume_with_an_unreadable_manifest_says_to_run_without_resume(tmp_path, reliability_tally):
    folder = tmp_path / "out"
    _interrupted(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(DamagedFolder, match="manifest.json is damaged.*run again without --resume"):
        run_experiment(_scenarios(), Plan(replications=3), executor=SerialExecutor(), folder=folder, resume=True)
    # ... and that works: the folder is recognised as ours by its parts, and starts afresh.
    rs = run_experiment(_scenarios(), Plan(replications=3), executor=SerialExecutor(), folder=folder)
    assert_same_tables(load(folder), rs)
    reliability_tally["kills survived"] += 1


# --- whose folder it is, and what a rerun leaves behind ---------------------------------------------


def test_a_folder_with_another_programs_manifest_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my web app", "version": 3}')
    with pytest.raises(StoreError, match="was not written by care-pathway-sim"):
        check_writable(folder)
    with pytest.raises(StoreError, match="was not written by care-pathway-sim"):
        run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]
    assert (folder / "manifest.json").read_text() == '{"name": "my web app", "version": 3}'


def test_a_results_folder_with_unknown_files_is_refused(finished):
    (finished / "notes.docx").write_text("my notes")
    with pytest.raises(StoreError, match=r"not results of this simulator \(notes.docx\)"):
        check_writable(finished)
    with pytest.raises(StoreError, match="notes.docx"):
        run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=finished)
    assert (finished / "notes.docx").read_text() == "my notes" and (finished / COMPLETE).exists()


def test_a_rerun_removes_everything_the_previous_run_wrote(finished):
    # What a previous run's report, sweep and surge outputs leave behind.
    (finished / "report.html").write_text("old report")
    (finished / "report_tables").mkdir()
    (finished / "report_tables" / "headline.csv").write_text("old")
    (finished / "breaking_points").mkdir()
    (finished / "breaking_points" / "knees.csv").write_text("old")
    for name in ("sweep.csv", "sweep.parquet", "points.csv", "curves.html", "surge.html", "surge_recovery.csv"):
        (finished / name).write_text("old")
    single = {"scenario": _scenarios()["scenario"]}
    run_experiment(single, Plan(replications=1), executor=SerialExecutor(), folder=finished)
    assert sorted(p.name for p in finished.iterdir()) == sorted(
        [COMPLETE, "manifest.json", "summary.csv", *(f"{t}.parquet" for t in TABLES)])
    assert load(finished).roles == ["scenario"]


def test_tables_are_on_disk_before_they_are_renamed_and_complete_comes_last(tmp_path, monkeypatch):
    """After a power cut a file under its final name must hold its data: fsync, then rename, then fsync the folder."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(src), str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    folder = tmp_path / "out"
    run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
    renames = [(i, e) for i, e in enumerate(events) if e[0] == "replace"]
    final_names = [Path(e[2]).name for _, e in renames]
    assert final_names[-1] == COMPLETE and final_names[-2] == "manifest.json"
    for i, (_, src, dst) in renames:
        assert ("fsync", src) in events[:i], f"{dst} renamed into place before it was on disk"
        assert ("fsync", str(Path(dst).parent)) in events[i + 1:], f"the rename to {dst} was not forced to disk"
    for table in TABLES:
        assert f"{table}.parquet" in final_names
    # Each part: its tables and checksums forced to disk inside the hidden folder before it is renamed.
    part = next(i for i, e in renames if Path(e[2]).parent.name == "parts")
    hidden = renames[[i for i, _ in renames].index(part)][1][1]
    assert {Path(e[1]).name for e in events[:part] if e[0] == "fsync" and e[1].startswith(hidden + "/")} == \
        {f"{t}.parquet" for t in TABLES} | {"SHA256SUMS"}


# --- one run at a time in a folder ----------------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from sim.store import locked
with locked(Path(sys.argv[1]), ["run_scenario.py", "scenarios/holder.yaml"]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_second_run_into_a_folder_in_use_is_refused_naming_the_holder_until_it_dies(tmp_path, reliability_tally):
    folder = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderInUse) as caught:
            run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
        message = str(caught.value)
        assert f"pid {holder.pid} on {socket.gethostname()}" in message
        assert "run_scenario.py scenarios/holder.yaml" in message and "choose another --out" in message
        assert not (folder / "manifest.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # The holder died holding the lock (its .lock file is still there): the lock is stale, the next run goes ahead.
    assert (folder / ".lock").exists()
    run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
    assert (folder / COMPLETE).exists() and not (folder / ".lock").exists()
    reliability_tally["kills survived"] += 1


def test_a_stale_lock_without_flock_is_taken_over_only_when_its_pid_is_dead(tmp_path, monkeypatch):
    """Where the filesystem has no locks, the pid in the lock file decides (checked on this host)."""
    monkeypatch.setattr(store_module, "_try_flock", lambda fd: None)
    folder = tmp_path / "out"
    folder.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (folder / ".lock").write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                                  "started_utc": "2026-01-01T00:00:00+00:00", "command": ["x"]}))
        with pytest.raises(FolderInUse, match=f"pid {sleeper.pid}"):
            run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
    finally:
        sleeper.kill()
        sleeper.wait()
    run_experiment(_scenarios(), Plan(replications=1), executor=SerialExecutor(), folder=folder)
    assert (folder / COMPLETE).exists()
