"""Small systems written as data, for the tests of the pathway core."""

from __future__ import annotations

import copy
from pathlib import Path

from sim.measure.collect import run_replication
from sim.scenario.loading import _resolve, default_roots
from sim.scenario.schema import Scenario, validate

ROOT = Path(__file__).resolve().parent.parent

FUNDING = {"self_funder_share": 0.4, "partial_share": 0.1, "partial_contribution": 0.5}


def one_queue(servers: int | None, per_day: float, mean_stay: float, days: int = 400, warmup: int = 50,
              seed: int = 1, **extra) -> dict:
    """An M/M/c queue: Poisson arrivals straight into one bed service with exponential stays."""
    data = {
        "name": "M/M/c",
        "run": {"horizon_days": days, "warmup_days": warmup, "replications": 1, "seed": seed},
        "need_groups": {"all": {"share": 1.0}},
        "funding": FUNDING,
        "services": {"ward": {"kind": "beds", "capacity": servers,
                              "los_days": {"dist": "exponential", "mean": mean_stay}, "then": "home"}},
        "arrivals": {"ward": {"per_day": per_day}},
    }
    data.update(copy.deepcopy(extra))
    return data


def system(data: dict, file: str = "test.yaml") -> Scenario:
    return validate(data, file)


def load(path: str | Path) -> Scenario:
    path = (ROOT / path).resolve()
    data, origins = _resolve(path, (), default_roots(path))
    scenario = validate(data, path, origins)
    scenario._path = path
    return scenario


def run(scenario: Scenario | dict, replication: int = 0):
    if isinstance(scenario, dict):
        scenario = system(scenario)
    return run_replication(scenario, replication)
