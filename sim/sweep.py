"""Sweeps: run every point of a scenario's `sweep:` with common random numbers, resumably, into one table.

Each point is the scenario with some fields changed (`Scenario.with_changes`).
Every point runs the same replications with the same seed, so point-to-point
differences come from the change, not from luck. A sweep is an experiment
whose roles are its points (`p000`, `p001`, ...): it runs on any executor
(serial, local processes, Dask), each finished replication of each point is
stored at once in the results folder, and a resumed sweep reruns nothing
already finished.

The results folder holds the usual ResultSet tables (role = point) and:

    sweep.parquet, sweep.csv   one row per point and KPI: the point's parameter
                               values, then label, unit, mean, sd, 95% CI
    points.csv                 point id -> parameter values
    breaking_points/*.csv      service levels, knees and the cost curve (sim/breaking_points.py)
    *.html                     figures (sim/stress_figures.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment import Plan, Progress, run_experiment
from sim.executors import Executor
from sim.results import ResultSet
from sim.scenario import Scenario, ScenarioError
from sim.store import atomic_write_csv, atomic_write_parquet


@dataclass(frozen=True)
class Point:
    id: str
    values: dict[str, Any]  # field path -> value
    scenario: Scenario


def _label(values: dict[str, Any]) -> str:
    return ", ".join(f"{path}={value}" for path, value in values.items())


def points_of(scenario: Scenario) -> list[Point]:
    """The sweep's points as scenarios of their own (without the sweep, so each runs alone as it is)."""
    if scenario.sweep is None:
        raise ScenarioError(scenario.path or "<scenario>", [("sweep", "the scenario has no sweep: section")])
    points = []
    for i, values in enumerate(scenario.sweep.expand()):
        try:
            changed = scenario.with_changes({**values, "sweep": None, "name": f"{scenario.name} [{_label(values)}]"})
        except ScenarioError as exc:
            where = "sweep.grid" if scenario.sweep.grid is not None else f"sweep.points.{i}"
            problems = [(f"{where} ({_label(values)}): {field}", problem) for field, problem in exc.problems]
            raise ScenarioError(exc.file, problems) from None
        points.append(Point(f"p{i:03d}", values, changed))
    return points


def points_table(points: list[Point]) -> pd.DataFrame:
    return pd.DataFrame([{"point": p.id, **p.values} for p in points])


def sweep_table(resultset: ResultSet, points: list[Point]) -> pd.DataFrame:
    """The tidy result: one row per point and KPI, the point's parameters first."""
    summary = resultset.summary.rename(columns={"role": "point"})
    table = points_table(points).merge(summary, on="point", how="right", validate="one_to_many")
    return table.reset_index(drop=True)


@dataclass
class SweepResult:
    points: list[Point]
    resultset: ResultSet
    table: pd.DataFrame
    folder: Path | None


def run_sweep(
    scenario: Scenario,
    folder: Path | None = None,
    *,
    replications: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    figures: bool = True,
) -> SweepResult:
    """Run every point of `scenario.sweep`; write the folder (tables, breaking points, figures) if given."""
    from sim import breaking_points, stress_figures

    points = points_of(scenario)
    plan = Plan(replications=replications or scenario.run.replications)
    resultset = run_experiment(
        {p.id: p.scenario for p in points},
        plan,
        executor=executor,
        folder=folder,
        resume=resume,
        progress=progress,
        manifest_extra={"sweep": {"scenario": scenario.name, "points": {p.id: p.values for p in points}}},
    )
    table = sweep_table(resultset, points)
    result = SweepResult(points, resultset, table, folder)
    if folder is not None:
        folder = Path(folder)
        atomic_write_parquet(folder / "sweep.parquet", table)
        atomic_write_csv(folder / "sweep.csv", table)
        atomic_write_csv(folder / "points.csv", points_table(points))
        breaking_points.write(breaking_points.analyse(scenario, result), folder / "breaking_points")
        if figures:
            stress_figures.write_sweep_figures(scenario, result, folder)
    return result
