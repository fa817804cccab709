"""Sweeps: the points, common random numbers, one tidy table, and resuming after an interruption."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.executors import SerialExecutor
from sim.measure.collect import run_replication
from sim.scenario import ScenarioError
from sim.scenario.study import Sweep
from sim.store import load
from sim.stress_figures import heatmaps
from sim.sweep import points_of, run_sweep
from support import ROOT, small_system

GRID = {"grid": {"services.community_beds.capacity": [20, 60], "services.urgent_response.capacity": [2, 6]}}


def _tiny(**changes):
    return small_system(**{
        "run.horizon_days": 60, "run.warmup_days": 20, "run.replications": 2,
        "demand.crises_per_year": 3000, "sweep": GRID, **changes,
    })


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The tiny sweep run once, uninterrupted: what every other way of running it must equal."""
    folder = tmp_path_factory.mktemp("sweep") / "whole"
    return run_sweep(_tiny(), folder, executor=SerialExecutor(), figures=False)


class Counting(SerialExecutor):
    """Runs tasks in this process, counting them, and can stop (like a kill) after a number of them."""

    def __init__(self, stop_after: int | None = None):
        self.ran = 0
        self.stop_after = stop_after

    def run(self, tasks):
        for task, tables in super().run(tasks):
            if self.stop_after is not None and self.ran == self.stop_after:
                raise KeyboardInterrupt
            self.ran += 1
            yield task, tables


def test_a_grid_is_every_combination_and_ranges_include_their_end():
    sweep = Sweep.model_validate({"grid": {"a.b": {"from": 80, "to": 100, "step": 10}, "c": [1, 2]}})
    assert sweep.expand() == [
        {"a.b": 80, "c": 1}, {"a.b": 80, "c": 2}, {"a.b": 90, "c": 1},
        {"a.b": 90, "c": 2}, {"a.b": 100, "c": 1}, {"a.b": 100, "c": 2},
    ]
    assert Sweep.model_validate({"grid": {"x": {"from": 0.5, "to": 1.0, "step": 0.25}}}).expand() == [
        {"x": 0.5}, {"x": 0.75}, {"x": 1.0}]
    listed = Sweep.model_validate({"points": [{"x": 1}, {"x": 3, "y": 2}]})
    assert listed.expand() == [{"x": 1}, {"x": 3, "y": 2}] and listed.parameters() == ["x", "y"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"grid": {"services.acute.capacity": {"from": 10, "to": 5, "step": 1}}}, "to (5) is below from (10)"),
        ({"grid": {"services.acute.capacity": {"from": 1, "to": 5, "step": 0}}}, "sweep.grid"),
        ({"grid": {}, "points": [{"services.acute.capacity": 1}]}, "give either grid or points"),
    ],
)
def test_bad_sweeps_are_refused_at_load(sweep, message):
    with pytest.raises(ScenarioError) as caught:
        small_system(sweep=sweep)
    assert message in str(caught.value)


def test_a_sweep_over_a_field_that_does_not_exist_is_refused_before_anything_runs():
    # The old schema refused it at load; now the points are validated (points_of, before any run).
    scenario = small_system(sweep={"grid": {"services.acute.bedz": [1, 2]}})
    with pytest.raises(ScenarioError, match=r"sweep.grid \(services.acute.bedz=1\): services.acute.bedz"):
        points_of(scenario)
    scenario = small_system(sweep={"grid": {"services.wards.capacity": [1, 2]}})
    with pytest.raises(ScenarioError, match="services.wards.capacity"):
        points_of(scenario)


def test_a_point_that_is_not_a_valid_scenario_is_named():
    scenario = small_system(sweep={"points": [{"services.acute.capacity": 10}, {"services.acute.capacity": -3}]})
    with pytest.raises(ScenarioError, match=r"sweep.points.1 \(services.acute.capacity=-3\): services.acute.capacity"):
        points_of(scenario)


def test_a_sweep_point_equals_the_same_scenario_run_alone(whole):
    result = whole
    assert [p.values for p in result.points] == Sweep.model_validate(GRID).expand()
    point = result.points[3]
    alone = _tiny(**{"sweep": None, **point.values})
    kpis = result.resultset.kpis
    for rep in range(2):
        expected = run_replication(alone, rep).kpis
        got = kpis[(kpis.role == point.id) & (kpis.replication == rep)].set_index("kpi")["value"]
        assert got.to_dict() == pytest.approx(expected, nan_ok=True, rel=0, abs=0)


def test_every_point_meets_the_same_crises(whole):
    assert [p.values for p in whole.points] == Sweep.model_validate(GRID).expand()
    # Common random numbers: every point meets the same crises.
    kpis = whole.resultset.kpis
    crises = kpis[kpis.kpi == "crises"].pivot(index="replication", columns="role", values="value")
    assert len(crises.columns) == 4 and (crises.nunique(axis=1) == 1).all()
    # More UCR teams, fewer people sent to hospital for want of a team (same beds).
    table = whole.table.set_index(["point", "kpi"])
    assert table.loc[("p001", "ucr.no_team_in_time"), "mean"] < table.loc[("p000", "ucr.no_team_in_time"), "mean"]


def test_the_tidy_table_has_the_parameters_and_a_confidence_interval_per_kpi(whole):
    folder, scenario, result = whole.folder, _tiny(), whole
    # Two parameters: a heatmap of each KPI over them, cell by cell the table's means.
    delayed = next(f for f in heatmaps(scenario, result) if "Delayed bed-days" in f.layout.title.text).data[0]
    means = result.table[result.table.kpi == "delayed.bed_days"].set_index("point")["mean"]
    assert list(delayed.x) == [20, 60] and list(delayed.y) == [2, 6]
    assert [list(row) for row in delayed.z] == [[means["p000"], means["p002"]], [means["p001"], means["p003"]]]
    table = pd.read_parquet(folder / "sweep.parquet")
    assert list(table.columns[:3]) == ["point", "services.community_beds.capacity", "services.urgent_response.capacity"]
    assert {"kpi", "label", "unit", "mean", "ci_low", "ci_high", "replications"} <= set(table.columns)
    # every KPI at every point, bar delays by reason, which exist only where someone waited for that reason
    always = table[~table.kpi.str.contains("delayed_bed_days.", regex=False)]
    assert len(always) == 4 * always["kpi"].nunique()
    beds = table[table.kpi == "community_beds.capacity"].set_index("point")["mean"]
    assert beds.to_dict() == {"p000": 20, "p001": 20, "p002": 60, "p003": 60}
    pd.testing.assert_frame_equal(pd.read_csv(folder / "sweep.csv")[["point", "kpi"]], table[["point", "kpi"]])
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_a_sweep_resumed_after_an_interruption_recomputes_nothing_finished_and_equals_an_uninterrupted_one(
    tmp_path, whole
):
    scenario = _tiny()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, tmp_path / "cut", executor=Counting(stop_after=3), figures=False)
    assert not (tmp_path / "cut" / "sweep.parquet").exists()
    again = Counting()
    resumed = run_sweep(scenario, tmp_path / "cut", executor=again, resume=True, figures=False)
    assert again.ran == 4 * 2 - 3
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cut" / "sweep.parquet"),
                                  pd.read_parquet(whole.folder / "sweep.parquet"))
    # Other service levels only judge the same results again: nothing is recomputed.
    judged = Counting()
    levels = [{"kpi": "ucr.no_team_in_time", "at_most": 1e9}]
    again = run_sweep(_tiny(service_levels=levels), tmp_path / "cut", executor=judged, resume=True, figures=False)
    assert judged.ran == 0 and list(again.analysis.service_levels["smallest_value"]) == [20, 20, 2, 2]


KILLED_RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from support import small_system
    from sim.executors import SerialExecutor
    from sim.sweep import run_sweep
    scenario = small_system(**{changes!r})
    run_sweep(scenario, Path({folder!r}), executor=SerialExecutor(), resume=True, figures=False)
""")


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_table(tmp_path, whole):
    changes = {"run.horizon_days": 60, "run.warmup_days": 20, "run.replications": 2,
               "demand.crises_per_year": 3000, "sweep": GRID}
    folder = tmp_path / "killed"
    script = KILLED_RUN.format(tests=str(ROOT / "tests"), changes=changes, folder=str(folder))
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    parts = folder / "parts"
    while child.poll() is None and not (parts.is_dir() and len(list(parts.glob("p*"))) >= 2):
        time.sleep(0.05)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL, "the sweep finished before it could be killed"
    finished_before = {p.name for p in parts.glob("p*")} if parts.is_dir() else set()
    resumed = Counting()
    result = run_sweep(small_system(**changes), folder, executor=resumed, resume=True, figures=False)
    assert resumed.ran == 8 - len(finished_before)
    pd.testing.assert_frame_equal(result.table, whole.table)


# --- the main command ----------------------------------------------------------------------------

_spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
run_scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_scenario)

SMALL = {
    "run": {"horizon_days": 60, "warmup_days": 20, "replications": 2},
    "demand": {"crises_per_year": 3000},
    "services": {"urgent_response": {"capacity": 4}, "acute": {"capacity": 160}, "reablement": {"capacity": 40},
                 "community_beds": {"capacity": 40}, "temporary_residential": {"capacity": 20}},
}


def _write(folder: Path, name: str, extra: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": name,
                                    **SMALL, **extra}))
    return path


def test_the_main_command_runs_a_sweep_and_prints_its_breaking_points(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    scenario = _write(tmp_path, "sweep.yaml", {
        "sweep": {"grid": {"services.community_beds.capacity": [10, 40]}},
        "service_levels": [{"kpi": "community_beds.wait_mean", "at_most": 1.0}],
        "demand": {"crises_per_year": 3000,
                   "surges": [{"name": "heatwave", "start": "2019-04-10", "end": "2019-04-24", "multiplier": 1.3}]},
    })
    out = tmp_path / "out"
    assert run_scenario.main([str(scenario), "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Smallest value meeting each service level" in printed and "community_beds.wait_mean <= 1" in printed
    assert "Cheapest capacity" in printed
    for name in ("sweep.csv", "sweep.parquet", "points.csv", "curves.html", "breaking_points/service_levels.csv"):
        assert (out / name).exists(), name
    levels = pd.read_csv(out / "breaking_points" / "service_levels.csv")
    assert levels.loc[0, "smallest_value"] == 40
    assert (out / "surge.html").read_text().count("Plotly.newPlot") == 2  # the surge's queues at each point


def test_a_sweep_with_a_bad_point_exits_2_and_writes_nothing(tmp_path, capsys):
    scenario = _write(tmp_path, "bad.yaml", {"sweep": {"points": [{"services.acute.capacity": 10},
                                                                  {"services.acute.capacity": "many"}]}})
    out = tmp_path / "out"
    assert run_scenario.main([str(scenario), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "bad.yaml" in error and "sweep.points.1" in error and "services.acute.capacity" in error
    assert not out.exists()
    assert run_scenario.main([str(_write(tmp_path, "ok.yaml", {"sweep": {"points": [{"run.seed": 1}]}})),
                              "--compare", str(scenario), "--out", str(out)]) == 2
    assert "a sweep compares its points with each other" in capsys.readouterr().err and not out.exists()


def test_a_run_with_a_surge_writes_the_surge_timeline_and_when_queues_cleared(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    scenario = _write(tmp_path, "surge.yaml", {
        "run": {"horizon_days": 120, "warmup_days": 30, "replications": 2},
        "demand": {"crises_per_year": 2500,  # readmissions included, ~90% occupied before the outbreak
                   "surges": [{"name": "outbreak", "start": "2019-05-01", "end": "2019-05-21", "multiplier": 1.6}]},
        "services": {**SMALL["services"], "acute": {"capacity": 80, "escalation": None}},  # no escalation beds
    })
    out = tmp_path / "out"
    assert run_scenario.main([str(scenario), "--workers", "1", "--out", str(out), "--no-report"]) == 0
    assert f"Surge: {out / 'surge.html'}" in capsys.readouterr().out
    recovery = pd.read_csv(out / "surge_recovery.csv").set_index("service")
    acute = recovery.loc["acute"]
    assert acute["queue_peak"] > acute["queue_before"] + 1
    assert "2019-05-01" <= acute["peak_date"] <= "2019-06-30"
    assert acute["stress_ends"] == "2019-05-21" and acute["peak_date"] < acute["cleared_on"]
    assert acute["days_to_clear_after_end"] > 0  # queues outlast the surge that built them
    assert "urgent_response" not in recovery.index or recovery.loc["urgent_response", "queue_peak"] > 0
    assert "outbreak" in (out / "surge.html").read_text()


def test_sweeping_the_number_of_replications_is_refused_pointing_to_the_option(tmp_path, capsys):
    with pytest.raises(ScenarioError, match=r"sweep.grid.run.replications: the number of replications cannot be "
                                            r"swept.*--replications"):
        points_of(_tiny(sweep={"grid": {"run.replications": [2, 20]}}))
    scenario = _write(tmp_path, "reps.yaml", {"sweep": {"points": [{"run.replications": 2}, {"run.replications": 5}]}})
    out = tmp_path / "out"
    assert run_scenario.main([str(scenario), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "reps.yaml" in error and "sweep.points.run.replications" in error and "--replications" in error
    assert not out.exists()


def test_a_sweep_is_complete_only_once_its_sweep_tables_and_breaking_points_are_written(tmp_path, monkeypatch):
    from sim import breaking_points

    def fails(analysis, folder):
        raise OSError(28, "No space left on device", str(folder))

    monkeypatch.setattr(breaking_points, "write", fails)
    folder = tmp_path / "sweep"
    with pytest.raises(OSError):
        run_sweep(_tiny(), folder, executor=SerialExecutor(), figures=False)
    assert (folder / "sweep.csv").exists() and not (folder / "COMPLETE").exists()
    monkeypatch.undo()
    resumed = Counting()
    result = run_sweep(_tiny(), folder, executor=resumed, resume=True, figures=False)
    assert resumed.ran == 0 and (folder / "COMPLETE").exists()
    files = json.loads((folder / "manifest.json").read_text())["files"]
    assert {"sweep.csv", "sweep.parquet", "points.csv", "breaking_points/cost_curve.csv"} <= set(files)
    assert load(folder).manifest["replications"] == 2
    pd.testing.assert_frame_equal(result.table, pd.read_parquet(folder / "sweep.parquet"))


def test_judging_a_finished_sweep_again_keeps_its_checksums_true(tmp_path):
    folder = tmp_path / "judged"
    run_sweep(_tiny(), folder, executor=SerialExecutor(), figures=False)
    levels = [{"kpi": "ucr.no_team_in_time", "at_most": 1e9}]
    run_sweep(_tiny(service_levels=levels), folder, executor=Counting(), resume=True, figures=False)
    assert list(pd.read_csv(folder / "breaking_points" / "service_levels.csv")["smallest_value"]) == [20, 20, 2, 2]
    load(folder)   # every file, rewritten or not, matches the checksums the manifest now holds
