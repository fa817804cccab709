"""What one replication returns: KPIs, the daily census, flows, costs and stays, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.costs import CostLine, cost_lines
from sim.kpis import compute

if TYPE_CHECKING:
    from sim.model import Model


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


def collect(model: "Model") -> ReplicationResult:
    from sim.model import ServiceSet

    lines = cost_lines(model)
    kpis = compute(model, lines)
    kpis.update(model.places.kpis())
    days, services, _ = model.daily.shape
    daily = pd.DataFrame(
        {
            "day": np.repeat(np.arange(days) - int(model.measure_from), services),
            "service": np.tile(np.array(ServiceSet.NAMES, dtype=object), days),
            "occupancy": model.daily[:, :, 0].ravel(),
            "queue": model.daily[:, :, 1].ravel(),
            "capacity": model.daily[:, :, 2].ravel(),
        }
    )
    return ReplicationResult(
        scenario=model.scenario.name,
        replication=model.replication,
        seed=model.seed,
        kpis=kpis,
        daily=daily,
        flows=dict(model.flows.counts),
        costs=lines,
        stays={svc.name: np.asarray(svc.stays) for svc in model.services},
        daily_by_place=model.places.daily_frame(int(model.measure_from)),
    )
