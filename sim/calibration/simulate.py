"""One parameter set through the project's runner, measured as the targets measure.

Every evaluation runs through `sim.experiment.run_experiment` with a seed named by what it is
(the calibration's seed, the step, the evaluation's number), so a calibration is reproducible
from its seed. A run may be scaled down for speed: demand and every capacity times `scale`,
counts read back for the whole system (a smaller system queues more for the same occupancy, so
a scaled calibration is a quick one, not the full one; docs/calibration.md gives both settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.priors import value_at
from sim.calibration.targets import Target
from sim.executors import Executor
from sim.experiment import Plan, run_experiment
from sim.measure.collect import run_replication
from sim.scenario import Scenario, ScenarioError

FIT, HOLDOUT = 0, 1  # the steps a seed is named by


def named_seed(seed: int, step: int, number: int) -> int:
    """The run seed of evaluation `number` of a step of the calibration started with `seed`."""
    return int(np.random.SeedSequence([seed, step, number]).generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class Settings:
    """How each parameter set is simulated."""

    scale: float = 1.0           # share of the real system simulated (demand and capacities)
    warmup_days: int = 300
    horizon_days: int = 365
    replications: int = 1        # per parameter set; their mean is what is compared
    seed: int = 20190401

    def describe(self) -> dict:
        return {"scale": self.scale, "warmup_days": self.warmup_days, "horizon_days": self.horizon_days,
                "replications": self.replications, "seed": self.seed}


def _scaled_changes(scenario: Scenario, scale: float) -> dict:
    if scale == 1.0:
        return {}
    data = scenario.resolved
    where = scenario.path or "<scenario>"
    refused = [name for name in ("places", "arrivals", "capacity_events") if data.get(name)]
    refused += [f"services.{n}.workforce" for n, s in data["services"].items() if s.get("workforce")]
    if refused:
        raise ScenarioError(where, [("", f"a run scaled to {scale:g} of the system cannot scale "
                                         f"{', '.join(refused)}; calibrate it at --scale 1")])
    changes: dict = {"demand.crises_per_year": data["demand"]["crises_per_year"] * scale}
    for name, service in data["services"].items():
        capacity = service.get("capacity")
        if isinstance(capacity, int) and not isinstance(capacity, bool):
            changes[f"services.{name}.capacity"] = max(1, round(capacity * scale))
    for service, state in scenario.active_initial_state().items():  # people already in care, as many fewer
        changes[f"initial_state.{service}.occupied"] = round(state.occupied * scale)
        changes[f"initial_state.{service}.waiting"] = round(state.waiting * scale)
    return changes


def prepared(scenario: Scenario, changes: dict, settings: Settings) -> Scenario:
    """The scenario with a parameter set's values, scaled and with the calibration's run settings."""
    changed = scenario.with_changes(changes) if changes else scenario
    return changed.with_changes({
        **_scaled_changes(changed, settings.scale),
        "run.warmup_days": settings.warmup_days, "run.horizon_days": settings.horizon_days,
        "run.replications": settings.replications, "sweep": None, "service_levels": [],
    })


def kpi_means(results, role: str) -> dict[str, float]:
    return results.kpi_table(role).mean(numeric_only=True).to_dict()


def measured(targets: tuple[Target, ...], kpis_of: dict, settings: Settings, base: str) -> dict[str, float]:
    """Each target's quantity, from the mean KPIs of the runs it reads (role -> KPIs; `base` the calibrated one)."""
    out = {}
    for target in targets:
        role = base if target.scenario is None else str(target.scenario)
        value = target.measure(kpis_of[role], settings.horizon_days, settings.scale)
        if target.compare != "level":
            reference = target.measure(kpis_of[base], settings.horizon_days, settings.scale)
            value = {"change": value - reference, "saving": reference - value,
                     "pct_change": 100 * (value - reference) / reference if reference else np.nan}[target.compare]
        out[target.name] = float(value)
    return out


class Simulator:
    """Parameter set -> each calibration target's simulated quantity. One evaluation at a time (the fit's
    order is fixed), each replication through the project's runner for one replication
    (sim.measure.collect.run_replication, invariants checked) with its named seed."""

    def __init__(self, scenario: Scenario, targets: tuple[Target, ...], settings: Settings):
        if any(t.role != "calibration" for t in targets):
            raise ValueError("the fit may read calibration targets only")
        self.scenario, self.targets, self.settings = scenario, targets, settings
        self.evaluations = 0

    def __call__(self, changes: dict) -> dict[str, float]:
        seed = named_seed(self.settings.seed, FIT, self.evaluations)
        self.evaluations += 1
        run = prepared(self.scenario, changes, self.settings)
        kpis = pd.DataFrame([run_replication(run, r, seed).kpis for r in range(self.settings.replications)])
        return measured(self.targets, {"scenario": kpis.mean().to_dict()}, self.settings, "scenario")


def run_sets(scenario: Scenario, others: dict, sets: pd.DataFrame, targets: tuple[Target, ...],
             settings: Settings, executor: Executor) -> pd.DataFrame:
    """Every parameter set (a row of field values) in the calibrated scenario and in each other scenario the
    targets measure, on common random numbers within a set; a row per set and target."""
    columns = [c for c in sets.columns if c not in ("set", "weight")]
    scenarios: dict[str, Scenario] = {}
    seeds: dict[str, int] = {}
    for i, row in sets.reset_index(drop=True).iterrows():
        changes = set_changes(scenario, {c: row[c] for c in columns})
        seed = named_seed(settings.seed, HOLDOUT, int(i))
        for key, other in {"base": scenario, **{str(k): v for k, v in others.items()}}.items():
            role = f"{row['set']}|{key}"
            scenarios[role] = prepared(other, inherited_changes(scenario, other, changes), settings)
            seeds[role] = seed
    results = run_experiment(scenarios, Plan(replications=settings.replications), seeds=seeds, executor=executor)
    rows = []
    for set_id in sets["set"]:
        kpis = {role.split("|", 1)[1]: kpi_means(results, role) for role in scenarios if role.startswith(f"{set_id}|")}
        for name, value in measured(targets, kpis, settings, "base").items():
            rows.append({"set": set_id, "target": name, "simulated": value})
    return pd.DataFrame(rows)


def set_changes(scenario: Scenario, row: dict) -> dict:
    """A posterior row's field values as scenario changes, whole numbers where the scenario holds them."""
    data = scenario.resolved
    out = {}
    for path, value in row.items():
        if path in ("set", "weight"):
            continue
        base = value_at(data, path)
        out[path] = int(round(float(value))) if isinstance(base, int) and not isinstance(base, bool) else float(value)
    return out


def inherited_changes(calibrated: Scenario, other: Scenario, changes: dict) -> dict:
    """The changes another scenario takes: those of fields it inherits unchanged from the calibrated one.

    A field the other scenario sets itself (a lever of the change it describes) keeps its own value.
    Use it to run a posterior set of the baseline in a scenario that changes the baseline (PSA does).
    """
    if other is calibrated:
        return changes
    mine, theirs = calibrated.resolved, other.resolved
    kept = {}
    for path, value in changes.items():
        try:
            if value_at(theirs, path) == value_at(mine, path):
                kept[path] = value
        except KeyError:
            continue
    return kept
