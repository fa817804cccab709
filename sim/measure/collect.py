"""What one replication returns: KPIs, the daily census, flows, costs and stays, as plain data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.measure import invariants
from sim.measure.costs import CostLine, cost_lines, sort_key, unit_cost_lines
from sim.measure.kpis import compute
from sim.pathway.model import Model
from sim.scenario.schema import Scenario


@dataclass
class ReplicationResult:
    scenario: str
    replication: int
    seed: int
    kpis: dict[str, float]
    daily: pd.DataFrame               # day (0 = first measured day), service, occupancy, queue, capacity
    flows: dict[tuple[str, str], int]
    costs: list[CostLine]
    stays: dict[str, np.ndarray] = field(default_factory=dict)  # completed stays per service, days
    # With places: day, place, service, occupancy, queue, capacity (`daily` holds the system's sums)
    daily_by_place: pd.DataFrame | None = None

    def costs_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.costs])


def _daily(model: Model) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    days = model.days
    start = int(model.measure_from)
    services = list(model.scenario.services)
    system = np.zeros((days, len(services), 3))
    for i, unit in enumerate(model.unit_list):
        system[:, services.index(unit.name), :] += model.daily[:, i, :]
    frame = pd.DataFrame({
        "day": np.repeat(np.arange(days) - start, len(services)),
        "service": np.tile(np.array(services, dtype=object), days),
        "occupancy": system[:, :, 0].ravel(),
        "queue": system[:, :, 1].ravel(),
        "capacity": system[:, :, 2].ravel(),
    })
    if not model.many_places:
        return frame, None
    units = model.unit_list
    by_place = pd.DataFrame({
        "day": np.repeat(np.arange(days) - start, len(units)),
        "place": np.tile(np.array([u.place for u in units], dtype=object), days),
        "service": np.tile(np.array([u.name for u in units], dtype=object), days),
        "occupancy": model.daily[:, :, 0].ravel(),
        "queue": model.daily[:, :, 1].ravel(),
        "capacity": model.daily[:, :, 2].ravel(),
    })
    return frame, by_place


def collect(model: Model) -> ReplicationResult:
    lines = cost_lines(model)
    place_lines: dict[str, list[CostLine]] = defaultdict(list)
    if model.many_places:
        for unit, line in unit_cost_lines(model):
            place_lines[unit.place].append(line)
        for lines_of_place in place_lines.values():  # a fixed order, as for the system's lines
            lines_of_place.sort(key=sort_key)
    kpis = compute(model, lines, place_lines)
    daily, by_place = _daily(model)
    stays: dict[str, list] = defaultdict(list)
    for unit in model.unit_list:
        stays[unit.name].extend(unit.stays)
    return ReplicationResult(
        scenario=model.scenario.name,
        replication=model.replication,
        seed=model.seed,
        kpis=kpis,
        daily=daily,
        flows=dict(model.router.all_flows()),
        costs=lines,
        stays={name: np.asarray(values) for name, values in stays.items()},
        daily_by_place=by_place,
    )


def run_replication(scenario: Scenario, replication: int = 0, seed: int | None = None) -> ReplicationResult:
    """Run one replication of a scenario, check its invariants, and return its results."""
    model = Model(scenario, replication, seed).run()
    result = collect(model)
    invariants.check(model, result)
    return result
