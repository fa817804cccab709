"""A ResultSet: every replication of every scenario in one run, as tidy tables.

This is the contract between the model and everything after it (summary
tables, comparisons, the report, the app). Roles name the scenarios of a run:
"scenario" for the one asked for and "comparator" for what it is compared
with; the manifest maps each role to its scenario's name, file and hash.

Tables (all long format, one row per observation):
- kpis:  role, replication, kpi, value
- daily: role, replication, day, service, occupancy, queue, capacity
         (day 0 is the first measured day; warm-up days are negative)
- flows: role, replication, source, target, people
- costs: role, replication, service, payer, basis, activity, activity_unit, unit_cost_gbp, cost_gbp, year,
  discounted_gbp
- stays: role, replication, service, stay_days   (completed stays, for distributions)
- daily_places: role, replication, day, place, service, occupancy, queue, capacity
         (scenarios with places only: `daily` per place; `daily` holds the system's sums)

Derived tables (computed from the above on first use; see sim.intervals and sim.compare):
- summary:     role, kpi, label, unit, replications, mean, sd, ci_low, ci_high, half_width,
               relative_half_width, method   (95% CI across replications: t, or log-t for
               quantities that cannot be negative; see sim.intervals)
- comparison:  measure, unit, kind, payer, mean, ci_low, ci_high, replications, who, definition
               (only with a comparator; positive = better for the scenario: gains a year and savings
               over the horizon measured; kind is headline, outcome or a money measure; payer a
               perspective: nhs, council, nhs_pss, self_funders; no values when not valid: sim.economics)
- budget_impact: year, perspective, kind, mean, ci_low, ci_high (sim.economics.impact)
- capacity_freed: year, service, perspective, measure, unit, mean, ci_low, ci_high
- economic_summary: perspective, measure, unit, mean, ci_low, ci_high (over the horizon, discounted view, ROI)
- differences: kpi, label, unit, scenario_mean, comparator_mean, difference_mean, ci_low,
               ci_high, replications   (paired, scenario - comparator)
sim.store writes a ResultSet to a results folder and reads it back (`sim.store.load`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim import compare, economics
from sim.intervals import ROLES, summarise
from sim.measure.collect import ReplicationResult
from sim.scenario import Scenario

DAILY_PLACES_COLUMNS = ["role", "replication", "day", "place", "service", "occupancy", "queue", "capacity"]


@dataclass
class ResultSet:
    scenarios: dict[str, Scenario]
    kpis: pd.DataFrame
    daily: pd.DataFrame
    flows: pd.DataFrame
    costs: pd.DataFrame
    stays: pd.DataFrame
    daily_places: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DAILY_PLACES_COLUMNS))
    manifest: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def roles(self) -> list[str]:
        return [r for r in ROLES if r in self.scenarios] + [r for r in self.scenarios if r not in ROLES]

    @property
    def summary(self) -> pd.DataFrame:
        return self._derived("summary", lambda: summarise(self.kpis))

    @property
    def comparison(self) -> pd.DataFrame:
        return self._derived("comparison", lambda: economics.comparison(self))

    @property
    def budget_impact(self) -> pd.DataFrame:
        return self._derived("budget_impact", lambda: economics.budget_impact(self))

    @property
    def capacity_freed(self) -> pd.DataFrame:
        return self._derived("capacity_freed", lambda: economics.capacity_freed(self))

    @property
    def economic_summary(self) -> pd.DataFrame:
        return self._derived("economic_summary", lambda: economics.economic_summary(self))

    @property
    def differences(self) -> pd.DataFrame:
        return self._derived("differences", lambda: compare.differences(self))

    def _derived(self, name: str, build) -> pd.DataFrame:
        cache = self.__dict__.setdefault("_derived_tables", {})
        if name not in cache:
            cache[name] = build()
        return cache[name]

    def kpi_table(self, role: str = "scenario") -> pd.DataFrame:
        """One row per replication, one column per KPI."""
        k = self.kpis[self.kpis["role"] == role]
        return k.pivot(index="replication", columns="kpi", values="value").sort_index()


def replication_tables(role: str, result: ReplicationResult, max_stays: int = 2000) -> dict[str, pd.DataFrame]:
    """The rows one replication adds to each table of a ResultSet."""
    rep = result.replication
    kpis = pd.DataFrame({"role": role, "replication": rep, "kpi": list(result.kpis), "value": list(result.kpis.values())})
    daily = result.daily.copy()
    daily.insert(0, "replication", rep)
    daily.insert(0, "role", role)
    flows = pd.DataFrame(
        [(role, rep, s, t, n) for (s, t), n in sorted(result.flows.items())],
        columns=["role", "replication", "source", "target", "people"],
    )
    costs = result.costs_frame()
    costs.insert(0, "replication", rep)
    costs.insert(0, "role", role)
    stay_rows = []
    for service, stays in result.stays.items():
        if len(stays) > max_stays:
            # A fixed, evenly spaced subsample of the sorted stays keeps the distribution's shape cheaply.
            stays = np.sort(stays)[np.linspace(0, len(stays) - 1, max_stays).astype(int)]
        stay_rows.append(pd.DataFrame({"role": role, "replication": rep, "service": service, "stay_days": stays}))
    stays_df = pd.concat(stay_rows, ignore_index=True) if stay_rows else pd.DataFrame(
        columns=["role", "replication", "service", "stay_days"]
    )
    if result.daily_by_place is None:
        daily_places = pd.DataFrame(columns=DAILY_PLACES_COLUMNS)
    else:
        daily_places = result.daily_by_place.copy()
        daily_places.insert(0, "replication", rep)
        daily_places.insert(0, "role", role)
    return {"kpis": kpis, "daily": daily, "flows": flows, "costs": costs, "stays": stays_df,
            "daily_places": daily_places}


def from_replications(
    results: dict[str, list[ReplicationResult]], scenarios: dict[str, Scenario], manifest: dict | None = None
) -> ResultSet:
    """Assemble a ResultSet from replications held in memory (role -> results)."""
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in ("kpis", "daily", "flows", "costs", "stays", "daily_places")}
    for role, reps in results.items():
        for result in sorted(reps, key=lambda r: r.replication):
            for name, frame in replication_tables(role, result).items():
                parts[name].append(frame)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    return ResultSet(scenarios=scenarios, manifest=manifest or {}, **tables)
