"""Every backend gives the same results bit for bit: serial, 2 processes, Dask on loopback, shards merged."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from experiment_helpers import assert_same_tables, tiny

from sim.executors import DaskExecutor, ProcessExecutor, SerialExecutor, Task, make_executor, run_one, scenario_json
from sim.experiment import Plan, merge_shards, run_experiment
from sim.store import StoreError, load
from support import ROOT

# Runs processes, a browser or whole studies: left out of the quick loop (pytest -m "not slow").
pytestmark = pytest.mark.slow


REPLICATIONS = 5


def _scenarios():
    s = tiny()
    return {"scenario": s.with_changes({"routes.crisis.scale.urgent_response": 1.5}), "comparator": s}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial")
    run_experiment(_scenarios(), Plan(replications=REPLICATIONS), executor=SerialExecutor(), folder=folder)
    return folder


def _same_folder(a, b) -> None:
    assert_same_tables(load(a), load(b))
    for name in ("summary.csv", "comparison.csv", "differences.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_run_one_is_picklable_and_repeatable():
    task = Task(scenario_json(tiny()), "scenario", 2, 7)
    assert pickle.loads(pickle.dumps(run_one)) is run_one
    first, again = run_one(*task.__dict__.values()), run_one(*task.__dict__.values())
    for name in first:
        assert first[name].equals(again[name])
    assert set(first["kpis"]["replication"]) == {2}


def test_two_processes_give_identical_results(serial, tmp_path):
    executor = ProcessExecutor(2)
    try:
        run_experiment(_scenarios(), Plan(replications=REPLICATIONS), executor=executor, folder=tmp_path)
    finally:
        executor.close()
    _same_folder(serial, tmp_path)


def test_dask_local_cluster_gives_identical_results(serial, tmp_path):
    pytest.importorskip("distributed")
    executor = DaskExecutor("local", 2)
    try:
        assert executor.workers == 2
        run_experiment(_scenarios(), Plan(replications=REPLICATIONS), executor=executor, folder=tmp_path)
    finally:
        executor.close()
    _same_folder(serial, tmp_path)


def test_shards_merged_give_identical_results(serial, tmp_path):
    shards = []
    for index in range(3):
        folder = tmp_path / f"shard-{index}"
        run_experiment(_scenarios(), Plan(replications=REPLICATIONS, shard=(index, 3)), executor=SerialExecutor(),
                       folder=folder)
        shards.append(folder)
    assert load(shards[0]).manifest["replication_numbers"] == [0, 3]
    merged = merge_shards(shards, tmp_path / "merged")
    assert merged.manifest["replication_numbers"] == list(range(REPLICATIONS))
    _same_folder(serial, tmp_path / "merged")
    with pytest.raises(StoreError, match="missing \\[1, 4\\]"):
        merge_shards([shards[0], shards[2]], tmp_path / "incomplete")
    assert not (tmp_path / "incomplete").exists()


def test_executor_choice():
    assert isinstance(make_executor(workers=4, tasks=1), SerialExecutor)
    assert isinstance(make_executor(workers=1, tasks=10), SerialExecutor)
    pool = make_executor(workers=2, tasks=10)
    try:
        assert isinstance(pool, ProcessExecutor) and pool.workers == 2
    finally:
        pool.close()


# --- workers never re-import the user's main module -------------------------------------------------

PASTED_FROM_THE_README = """\
import sys
sys.path.insert(0, {tests!r})
with open({marker!r}, "a") as f:        # one line each time this file is imported
    f.write("imported\\n")
from experiment_helpers import tiny
from sim import api

rs = api.run(tiny(), replications=2, workers=2, use_comparator=False)
print("replications:", rs.manifest["replications"], "workers:", rs.manifest["executor"]["workers"])
"""


@pytest.mark.parametrize("how", ["script", "module"])
def test_api_run_at_the_top_level_of_a_script_runs_once_on_worker_processes(tmp_path, how):
    """No `if __name__ == "__main__":`: neither the script (`python x.py`) nor a module run with -m is imported again
    by the workers (multiprocessing's bootstrapping error; streamlit's "missing ScriptRunContext")."""
    marker = tmp_path / "imports.log"
    (tmp_path / "pasted.py").write_text(PASTED_FROM_THE_README.format(tests=str(ROOT / "tests"), marker=str(marker)))
    command = [sys.executable, "pasted.py"] if how == "script" else [sys.executable, "-m", "pasted"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "replications: 2 workers: 2" in done.stdout
    assert marker.read_text() == "imported\n"
    assert "bootstrapping" not in done.stderr and "Traceback" not in done.stderr
