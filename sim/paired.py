"""Several scenarios run on the same replications (common random numbers), for paired comparison.

Replication i of every scenario uses the streams (seed, i), so scenario A and
scenario B meet the same people with the same luck, and A - B is computed
replication by replication (sim.validation, with sim.intervals): the interval
is much narrower than comparing two independent samples. Results depend only
on (scenario, seed, replication), never on the number of workers.

A run can also re-price its activity under other unit costs ("pricings")
without simulating again: costs are activity times price, and changing a
price changes no one's journey.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace
from typing import Any

import pandas as pd

from sim.costs import cost_lines
from sim.model import Model
from sim.scenario import Scenario, validate

Pricings = dict[str, dict[str, Any]]  # name -> dotted cost changes, e.g. {"costs.acute.gbp": 395}


def _replicate(scenario_text: str, replication: int, pricings: Pricings) -> dict[str, float]:
    scenario = validate(json.loads(scenario_text), "<scenario sent to worker>")
    model = Model(scenario, replication)
    out = dict(model.run().kpis)
    for name, changes in pricings.items():
        repriced = SimpleNamespace(scenario=scenario.with_changes(changes), services=model.services)
        totals = {f"{name}|cost.{payer}": 0.0 for payer in ("nhs", "council", "self_funder")}
        for line in cost_lines(repriced):
            totals[f"{name}|cost.{line.payer}"] += line.cost_gbp
        out.update(totals)
    return out


def run(scenarios: dict[str, Scenario], replications: int, workers: int = 1,
        pricings: dict[str, Pricings] | None = None) -> dict[str, pd.DataFrame]:
    """KPIs of replications 0..replications-1 of each scenario: a table per scenario, a row per replication."""
    pricings = pricings or {}
    jobs = [(name, json.dumps(s.resolved, sort_keys=True), rep, pricings.get(name, {}))
            for name, s in scenarios.items() for rep in range(replications)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outputs = list(pool.map(_replicate, *zip(*[job[1:] for job in jobs])))
    else:
        outputs = [_replicate(*job[1:]) for job in jobs]
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in scenarios}
    for (name, _, _, _), out in zip(jobs, outputs):
        rows[name].append(out)
    return {name: pd.DataFrame(r) for name, r in rows.items()}
