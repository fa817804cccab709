"""The command line as Python functions, for notebooks: same arguments, same results, DataFrames back.

    from sim import api
    rs = api.run("scenarios/connect.yaml", compare="scenarios/baseline.yaml", replications=10)
    rs.summary        # every KPI: mean and 95% CI
    rs.comparison     # headline gains a year and money by perspective, 95% CIs (no values if not valid)
    rs.budget_impact  # year, perspective, kind (cash_releasing, capacity_freed, investment, net), 95% CI
    rs.economic_summary, rs.capacity_freed   # discounted net and ROI; places freed a year
    rs.kpis, rs.daily # per-replication tables (see sim.results)
    api.to_excel(rs, "results.xlsx")                  # the results as one workbook

    api.fit("records.csv", "my-system.yaml", census="census.csv")   # a scenario from records (docs/records.md)
    episodes, census = api.synthesize("scenarios/baseline.yaml")    # the records a scenario's people leave
    api.template("my-system.xlsx")                                  # a scenario as a workbook (docs/excel.md)

Worker processes never import the calling script, so these work at the top level
of a plain script as well as under `if __name__ == "__main__":`. Problems with a
results folder (in use by another run, damaged, not ours) raise sim.store.StoreError;
a run too large to start raises sim.budget.BudgetError unless `allow_large=True`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import budget, trust
from sim.excel.commands import write_template
from sim.excel.results import results_workbook
from sim.executors import make_executor
from sim.experiment import (
    Plan,
    Precision,
    Progress,
    crn_effect,
    merge_shards,
    planned_replications,
    run_experiment,
)
from sim.records.commands import LIBRARY, fit_files
from sim.records.fit import Fitted
from sim.records.synthesize import synthesize as _synthesize
from sim.results import ResultSet
from sim.scenario import Scenario, comparator_path, load_scenario
from sim.store import atomic_write_bytes, load

ScenarioLike = Scenario | str | Path


def scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (raises sim.scenario.ScenarioError)."""
    return load_scenario(path)


def _as_scenario(value: ScenarioLike) -> Scenario:
    return value if isinstance(value, Scenario) else load_scenario(value)


def prepare(
    main: ScenarioLike,
    compare: ScenarioLike | None = None,
    *,
    use_comparator: bool = True,
    seed: int | None = None,
    horizon: int | None = None,
    warmup: int | None = None,
    replications: int | None = None,
) -> dict[str, Scenario]:
    """The scenarios of a run by role, with run settings overridden and shared.

    The comparator is `compare`, or the scenario's own `comparator:` unless `use_comparator`
    is False. It runs with the scenario's run settings (horizon, warm-up, seed, start date),
    so that the two are paired replication by replication.
    """
    scen = _as_scenario(main)
    changes = {key: value for key, value in (
        ("run.seed", seed), ("run.horizon_days", horizon), ("run.warmup_days", warmup),
        ("run.replications", replications)) if value is not None}
    if changes:
        scen = scen.with_changes(changes)
    roles = {"scenario": scen}
    if compare is None and use_comparator and scen.comparator is not None:
        compare = comparator_path(scen)
    if compare is not None:
        roles["comparator"] = _as_scenario(compare).with_changes({"run": scen.resolved["run"]})
    return roles


def run(
    main: ScenarioLike,
    compare: ScenarioLike | None = None,
    *,
    use_comparator: bool = True,
    replications: int | None = None,
    precision: float | None = None,
    max_replications: int = 50,
    precision_kpis: tuple[str, ...] | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    warmup: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    shard: tuple[int, int] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    allow_large: bool = False,
) -> ResultSet:
    """Run an experiment (and comparison); write a results folder if `out` is given."""
    scenarios = prepare(main, compare, use_comparator=use_comparator, seed=seed, horizon=horizon, warmup=warmup,
                        replications=replications)
    plan = make_plan(scenarios["scenario"], precision, max_replications, precision_kpis, shard)
    budget.check(list(scenarios.values()), planned_replications(plan), allow_large=allow_large)
    executor = make_executor(workers, dask, tasks=task_estimate(plan) * len(scenarios))
    try:
        return run_experiment(scenarios, plan, executor=executor, folder=Path(out) if out else None,
                              resume=resume, progress=progress, allow_large=allow_large)
    finally:
        executor.close()


def make_plan(scen: Scenario, precision: float | None, max_replications: int,
              precision_kpis: tuple[str, ...] | None, shard: tuple[int, int] | None) -> Plan:
    if precision is None:
        return Plan(replications=scen.run.replications, shard=shard)
    kpis = tuple(precision_kpis or trust.precision_kpis(scen))  # by default, the scenario's main service's
    rule = Precision(target=precision, max_replications=max_replications, kpis=kpis)
    return Plan(precision=rule, shard=shard)


def task_estimate(plan: Plan) -> int:
    return planned_replications(plan)


def results(folder: str | Path) -> ResultSet:
    """Open a complete results folder written by the command line or by `run`.

    Every file is checked against the checksum the run recorded: a folder that is incomplete,
    damaged (a file missing, cut short or changed) or not a results folder raises
    sim.store.StoreError (DamagedFolder for damage) saying what is wrong and what to do.
    """
    return load(folder)


def merge(folders: list[str | Path], out: str | Path) -> ResultSet:
    """Join shards' results folders into one (as `run_scenario.py merge`)."""
    return merge_shards([Path(f) for f in folders], Path(out))


def crn(main: ScenarioLike, compare: ScenarioLike, replications: int = 20, workers: int | None = None) -> pd.DataFrame:
    """How much common random numbers narrow a comparison: variance of paired differences, CRN vs independent."""
    scenarios = prepare(main, compare)
    executor = make_executor(workers, tasks=replications * 2)
    try:
        return crn_effect(scenarios["scenario"], scenarios["comparator"], replications, executor=executor)
    finally:
        executor.close()


def to_excel(results_or_folder: ResultSet | str | Path, path: str | Path | None = None) -> Path:
    """Write results as one workbook (summary with intervals, comparison, budget impact where present, daily
    census, costs by payer); by default results.xlsx in the results folder. Returns its path."""
    rs = results_or_folder if isinstance(results_or_folder, ResultSet) else load(results_or_folder)
    if path is None:
        if rs.folder is None:
            raise ValueError("these results have no folder: give the path of the workbook to write")
        path = Path(rs.folder) / "results.xlsx"
    atomic_write_bytes(Path(path), results_workbook(rs, rs.folder))
    return Path(path)


def fit(records: str | Path, out: str | Path, census: str | Path | None = None, library: str | Path = LIBRARY,
        name: str | None = None) -> Fitted:
    """Fit a scenario from records (as `run_scenario.py fit`): writes OUT, its .uncertainty.yaml and .fit.html.

    Bad records raise sim.records.read.RecordsError listing every problem (file, row, column); nothing is written.
    """
    return fit_files(Path(records), Path(out), Path(census) if census else None, Path(library), name)


def synthesize(scenario: ScenarioLike, replication: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records (episodes, daily census) one replication of a scenario leaves, in the record format."""
    return _synthesize(_as_scenario(scenario), replication)


def template(out: str | Path, source: str | Path | None = None) -> Path:
    """Write a scenario (default: the baseline) as an Excel workbook to fill in (as `run_scenario.py template`)."""
    from_file = Path(source) if source is not None else Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    return write_template(from_file, Path(out))
