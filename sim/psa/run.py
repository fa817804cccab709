"""Run a probabilistic sensitivity analysis: every parameter set against its comparator, through the one runner.

Set i is the scenario and its comparator with the set's values, two roles
(`s<i>`, `c<i>`) of one experiment (sim.experiment.run_experiment), so the
sets run on any executor (local processes, Dask), each replication is
stored as it finishes, and a resumed PSA reruns nothing already finished.
Both roles of a set run on one seed: the scenario and its comparator meet
the same luck (common random numbers), while sets on different seeds meet
independent luck, so the spread of the sets' results holds both the
parameters' uncertainty and the simulation's (O'Hagan, Stevenson and Madan
2007). Set i runs on `run.seed + i`, or, when the comparator differs between
sets only in unit costs, pairs of sets share a seed and one comparator run
(`sets_per_comparator`).

An input the scenario and its comparator share (the same value in both, a
unit cost for instance) is drawn once and given to both; an input in which
they differ (a capacity the scenario raises, a route scale only it has) is
the scenario's change, and only the scenario's value is drawn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.executors import Executor
from sim.experiment import Plan, Progress, run_experiment
from sim.psa import figures, gsa, summary
from sim.psa.draws import Draws, changes_for, draw
from sim.psa.emulator import Emulator
from sim.psa.summary import role_names
from sim.results import ResultSet
from sim.scenario import Scenario, ScenarioError
from sim.scenario.schema import MISSING, value_at
from sim.store import Store, atomic_write_csv, atomic_write_text

PRICE = re.compile(r"services\.\w+\.costs\.\d+\.(gbp|self_funder_gbp)")
PAIRED_SETS = 2
FILES = ("psa.csv", "psa_summary.csv", "psa_sets.csv", "ceac.csv", "sensitivity")


@dataclass
class PsaResult:
    draws: Draws
    replications: int
    per_set: pd.DataFrame          # psa.csv
    summary: pd.DataFrame          # psa_summary.csv
    ceac: pd.DataFrame             # ceac.csv
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)  # morris, sobol, emulator
    resultset: ResultSet | None = None
    folder: Path | None = None
    title: str = ""
    scenarios: dict[str, Scenario] = field(default_factory=dict)     # every set's roles
    simulated: dict[int, tuple[str, str]] = field(default_factory=dict)  # set -> the roles run for it


def _shared(scenario: Scenario, comparator: Scenario, path: str) -> bool:
    """Whether the comparator has this input with the scenario's value (then a draw applies to both)."""
    theirs = value_at(comparator, path.split("."))
    return theirs is not MISSING and theirs == value_at(scenario, path.split("."))


def set_scenarios(scenario: Scenario, comparator: Scenario, draws: Draws) -> dict[str, Scenario]:
    """Each set's scenario and comparator, by role; a set that is not a valid scenario is bad input."""
    return _set_scenarios(scenario, comparator, draws)[0]


def _set_scenarios(scenario: Scenario, comparator: Scenario, draws: Draws) -> tuple[dict[str, Scenario], list[str]]:
    """The roles, and the field paths whose draws the comparator takes too."""
    roles: dict[str, Scenario] = {}
    shared: dict[str, bool] = {}  # field path -> whether the comparator takes its draws too
    for i, (s_role, c_role) in enumerate(role_names(len(draws))):
        changes = changes_for(scenario, draws.values.iloc[i])
        own = {"uncertainty": None, "sweep": None, "service_levels": [], "name": f"{scenario.name} [set {i}]"}
        theirs = {"uncertainty": None, "sweep": None, "service_levels": [], "name": f"{comparator.name} [set {i}]"}
        for path, value in changes.items():
            if path not in shared:
                shared[path] = _shared(scenario, comparator, path)
            if shared[path]:
                theirs[path] = value
        try:
            roles[s_role] = scenario.with_changes({**changes, **own})
            roles[c_role] = comparator.with_changes(theirs)
        except ScenarioError as exc:
            values = ", ".join(f"{k}={v:.4g}" for k, v in changes.items())
            raise ScenarioError(scenario.path or "<scenario>", [
                (f"uncertainty (set {i}: {values}): {where}", problem) for where, problem in exc.problems]) from None
    return roles, [path for path, both in shared.items() if both]


def sets_per_comparator(comparator: Scenario, shared: list[str]) -> int:
    """Consecutive sets that share their streams and one comparator run.

    When the comparator differs between sets only in unit costs, its journeys are the same in
    every set on the same streams, so PAIRED_SETS sets share one simulated comparator, each
    re-priced at its own costs (sim.experiment.reprice, exact): fewer runs, and the luck is still
    independent between the pairs. Otherwise (or with several places, which re-pricing does not
    handle) every set runs its own comparator.
    """
    if len(comparator.place_names) > 1 or not all(PRICE.fullmatch(path) for path in shared):
        return 1
    return PAIRED_SETS


class TooFewSets(ValueError):
    """Global sensitivity asked of fewer parameter sets than it needs."""


def check_sensitivity(sets: int, inputs: int) -> str | None:
    """Why global sensitivity cannot be estimated from this many sets, or None."""
    if sets < inputs + 1:
        return (f"Sobol indices of {inputs} uncertain inputs need at least {inputs + 1} parameter sets "
                f"(the emulator they are computed on needs more sets than inputs), not {sets}")
    return None


def run_psa(
    scenario: Scenario,
    comparator: Scenario,
    samples: int,
    folder: Path | None = None,
    *,
    replications: int = 1,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    sensitivity: bool = True,
    effect: str | None = None,
    allow_large: bool = False,
    command: list[str] | None = None,
) -> PsaResult:
    """Draw `samples` parameter sets, run each against the comparator, and summarise (see sim.psa).

    The comparator runs with the scenario's run settings (horizon, warm-up, seed), as in any comparison.
    """
    folder = Path(folder) if folder is not None else None
    if comparator.resolved["run"] != scenario.resolved["run"]:
        comparator = comparator.with_changes({"run": scenario.resolved["run"]})
    draws = draw(scenario, samples)
    if sensitivity:
        problem = check_sensitivity(len(draws), len(draws.names))
        if problem:
            raise TooFewSets(problem)
    roles, shared = _set_scenarios(scenario, comparator, draws)
    seed = scenario.run.seed
    group = sets_per_comparator(comparator, shared)
    pairs = role_names(samples)
    runs = {i: (s_role, pairs[i - i % group][1]) for i, (s_role, _) in enumerate(pairs)}  # set -> roles simulated
    run_roles = {role: roles[role] for i in runs for role in runs[i]}
    seeds = {role: seed + i // group for i in runs for role in runs[i]}
    result = PsaResult(draws, replications, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                       folder=folder,
                       title=f"{scenario.name} against {comparator.name}", scenarios=roles, simulated=runs)

    def write_tables(resultset: ResultSet) -> None:
        # Inside the run, before COMPLETE: a folder marked complete always has its PSA tables.
        result.resultset = resultset
        per_set, headlines = summary.per_set_tables(resultset, draws, roles, runs)
        result.per_set = per_set
        result.summary = summary.summarise(per_set, headlines, replications, samples)
        result.ceac = summary.acceptability(headlines, effect or summary.default_effect(scenario))
        if sensitivity:
            result.sensitivity = global_sensitivity(draws, summary.sensitivity_targets(scenario, headlines), seed)
            result.summary = summary.with_emulator_noise(result.summary, result.sensitivity["emulator"])
        if result.folder is not None:
            write(result)

    resultset = run_experiment(
        run_roles, Plan(replications=replications), seeds=seeds, executor=executor, folder=folder, resume=resume,
        progress=progress, allow_large=allow_large, before_complete=write_tables,
        manifest_extra={"psa": {"scenario": scenario.name, "comparator": comparator.name, "samples": samples,
                                "replications_per_set": replications, "sampling": scenario.uncertainty.sampling,
                                "sets_per_comparator_run": group,
                                "inputs": draws.sources},
                        **({"command": command} if command else {})},
    )
    if result.resultset is None:
        # A finished folder read back on --resume: its tables made again and their checksums recorded.
        if result.folder is None:
            write_tables(resultset)
        else:
            Store(result.folder).refinish(resultset.manifest, lambda: write_tables(resultset), command)
    return result


def global_sensitivity(draws: Draws, headlines: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Morris, then Sobol, on an emulator of each headline given, fitted to the sets; the emulators' validation."""
    morris_rows, sobol_rows, emulator_rows = [], [], []
    names = draws.names
    for measure, rows in headlines.groupby("measure", sort=False):
        y = rows.sort_values("set")["value"].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)) or float(np.std(y)) == 0.0:
            continue
        emulator = Emulator(draws.unit, y)
        check = emulator.validate()
        emulator_rows.append({"measure": measure, "sets": len(y), "q2": check.q2, "coverage_95": check.coverage,
                              "noise_share": check.noise_share, "adequate": check.adequate})
        screening = gsa.morris(emulator.predict, names, seed)
        morris_rows.append(screening.assign(measure=measure, emulator_adequate=check.adequate))
        indices = gsa.sobol(emulator.predict, names, gsa.important(screening), seed)
        sobol_rows.append(indices.assign(measure=measure, emulator_adequate=check.adequate))
    first = ["measure"]
    return {
        "morris": _front(pd.concat(morris_rows, ignore_index=True) if morris_rows else pd.DataFrame(), first),
        "sobol": _front(pd.concat(sobol_rows, ignore_index=True) if sobol_rows else pd.DataFrame(), first),
        "emulator": pd.DataFrame(emulator_rows, columns=["measure", "sets", "q2", "coverage_95", "noise_share",
                                                         "adequate"]),
    }


def _front(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[columns + [c for c in frame.columns if c not in columns]]


def write(result: PsaResult) -> None:
    """The PSA's tables into its results folder, each written atomically."""
    folder = result.folder
    atomic_write_csv(folder / "psa.csv", result.per_set)
    atomic_write_csv(folder / "psa_summary.csv", result.summary)
    sets = result.draws.values.reset_index()
    atomic_write_csv(folder / "psa_sets.csv", sets)
    atomic_write_csv(folder / "ceac.csv", result.ceac)
    if result.sensitivity:
        (folder / "sensitivity").mkdir(exist_ok=True)
        for name, table in result.sensitivity.items():
            atomic_write_csv(folder / "sensitivity" / f"{name}.csv", table)
        atomic_write_text(folder / "sensitivity" / "sensitivity.html",
                          figures.page(result.sensitivity, result.ceac, f"PSA: {result.title}"))
