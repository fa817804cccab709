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
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim import breaking_points, stress_figures
from sim.executors import Executor
from sim.experiment import Plan, Progress, run_experiment
from sim.results import ResultSet
from sim.scenario import Scenario, ScenarioError
from sim.store import Store, atomic_write_csv, atomic_write_parquet

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from sim.breaking_points import Analysis


@dataclass(frozen=True)
class Point:
    id: str
    values: dict[str, Any]  # field path -> value
    scenario: Scenario


def _label(values: dict[str, Any]) -> str:
    return ", ".join(f"{path}={value}" for path, value in values.items())


def points_of(scenario: Scenario) -> list[Point]:
    """The sweep's points as scenarios of their own, each as it would run alone.

    Without the sweep and the service levels: levels only judge results, so a
    sweep resumed with other levels reuses every replication and judges again.
    """
    if scenario.sweep is None:
        raise ScenarioError(scenario.path or "<scenario>", [("sweep", "the scenario has no sweep: section")])
    if "run.replications" in scenario.sweep.parameters():
        # Every point runs the same replications (common random numbers): their number is the run's, not a point's.
        where = "sweep.grid" if scenario.sweep.grid is not None else "sweep.points"
        raise ScenarioError(scenario.path or "<scenario>", [(
            f"{where}.run.replications",
            "the number of replications cannot be swept: every point runs the same replications; "
            "set run.replications or use --replications (and --precision on a scenario without a sweep)")])
    points = []
    for i, values in enumerate(scenario.sweep.expand()):
        try:
            changed = scenario.with_changes({
                **values, "sweep": None, "service_levels": [], "name": f"{scenario.name} [{_label(values)}]",
            })
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
    resultset: ResultSet | None
    table: pd.DataFrame | None
    folder: Path | None
    analysis: "Analysis | None" = None


def run_sweep(
    scenario: Scenario,
    folder: Path | None = None,
    *,
    replications: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    figures: bool = True,
    allow_large: bool = False,
    command: list[str] | None = None,
) -> SweepResult:
    """Run every point of `scenario.sweep`; write the folder (tables, breaking points, figures) if given."""
    if replications is not None:
        scenario = scenario.with_changes({"run.replications": replications})
    points = points_of(scenario)
    plan = Plan(replications=scenario.run.replications)
    result = SweepResult(points, None, None, Path(folder) if folder is not None else None)

    def write_tables(resultset: ResultSet) -> None:
        # Inside the run, before COMPLETE: a folder marked complete always has its sweep tables.
        result.resultset = resultset
        result.table = sweep_table(resultset, points)
        result.analysis = breaking_points.analyse(scenario, result)
        if result.folder is not None:
            atomic_write_parquet(result.folder / "sweep.parquet", result.table)
            atomic_write_csv(result.folder / "sweep.csv", result.table)
            atomic_write_csv(result.folder / "points.csv", points_table(points))
            breaking_points.write(result.analysis, result.folder / "breaking_points")
            if figures:
                stress_figures.write_sweep_figures(scenario, result, result.folder)

    resultset = run_experiment(
        {p.id: p.scenario for p in points},
        plan,
        executor=executor,
        folder=folder,
        resume=resume,
        progress=progress,
        manifest_extra={"sweep": {"scenario": scenario.name, "points": {p.id: p.values for p in points}},
                        **({"command": command} if command else {})},
        allow_large=allow_large,
        before_complete=write_tables,
    )
    if result.resultset is None:
        # A finished folder read back on --resume: judged again (service levels may have changed),
        # its tables rewritten and their checksums recorded, as one more finish of the same run.
        if result.folder is None:
            write_tables(resultset)
        else:
            Store(result.folder).refinish(resultset.manifest, lambda: write_tables(resultset), command)
    return result


def _short(text: str) -> str:
    """Parameter names as people say them: 'rehab_beds.capacity', not 'services.rehab_beds.capacity'."""
    return (text or "-").replace("services.", "")


def _money(gbp: float) -> str:
    return f"£{gbp / 1e6:,.2f}m"


def _table(title: str, columns: tuple[str, ...]) -> "Table":
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def print_sweep(console: "Console", result: SweepResult) -> None:
    """What the command line shows after a sweep: the breaking points, each with its uncertainty."""
    analysis = result.analysis
    reps = result.resultset.manifest.get("replications")
    console.print(f"Sweep: {len(result.points)} points x {reps} replications, common random numbers.")
    if not analysis.service_levels.empty:
        table = _table("Smallest value meeting each service level (from there upwards)",
                       ("service level", "parameter", "others", "smallest value", "KPI mean (95% CI)",
                        "share of replications meeting it"))
        for row in analysis.service_levels.itertuples():
            found = row.smallest_value == row.smallest_value
            table.add_row(row.level, _short(row.parameter), _short(row.others),
                          f"{row.smallest_value:g}" if found else row.note,
                          f"{row.mean:.3g} ({row.ci_low:.3g} to {row.ci_high:.3g})" if found else "-",
                          f"{row.probability_met:.0%}" if found else "-")
        console.print(table)
    if not analysis.knees.empty:
        table = _table("Knee: where queues stop growing without bound",
                       ("parameter", "others", "stable from", "utilisation there", "largest value with a growing queue"))
        for row in analysis.knees.itertuples():
            table.add_row(_short(row.parameter), _short(row.others), f"{row.knee:g}" if row.knee == row.knee else row.note,
                          f"{row.utilisation_at_knee:.1%}" if row.knee == row.knee else "-",
                          f"{row.largest_growing:g}" if row.largest_growing == row.largest_growing else "none")
        console.print(table)
    if not analysis.cost_minima.empty:
        table = _table("Cheapest capacity for the urgent and intermediate care system (measured period)",
                       ("parameter", "others", "cheapest value", "system cost (95% CI)", "note"))
        for row in analysis.cost_minima.itertuples():
            table.add_row(_short(row.parameter), _short(row.others), f"{row.cheapest_value:g}",
                          f"{_money(row.system_cost_gbp)} ({_money(row.ci_low)} to {_money(row.ci_high)})",
                          "at the edge of the range swept: widen it" if row.at_edge_of_range else "")
        console.print(table)
        console.print("Who pays at each point: breaking_points/cost_curve.csv (NHS, council, self-funder columns).")
