"""How a scenario's demand and capacity are split by place: a table, and the command that prints it.

    python -m sim.places SCENARIO.yaml

One row per place (its share of the system's crises and the capacity of
each service there), and a total. A place that sets no capacity for a
service gets its demand share of what the places that set their own leave
(sim.pathway.capacity.place_capacity); a pooled service is one capacity for
every place, shown in the total only. Nothing is simulated. See docs/places.md.
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

from sim.pathway.arrivals import place_shares
from sim.pathway.capacity import place_capacity, system_capacity
from sim.scenario import Scenario, ScenarioError, load_scenario

POOLED = "pooled"
UNLIMITED = "unlimited"


def _shown(value: float | None) -> object:
    if value is None or value == math.inf:
        return UNLIMITED
    return int(value) if float(value).is_integer() else round(float(value), 2)


def table(scenario: Scenario) -> pd.DataFrame:
    """Demand share and capacity of every place, and the system's total (what a scenario's places get)."""
    shares = place_shares(scenario)
    pooled = {name for name, s in scenario.sharing.items() if s.mode == "pooled"}
    rows: dict[str, dict[str, object]] = {place: {"demand_share": f"{share:.4g}"} for place, share in shares.items()}
    total: dict[str, object] = {"demand_share": f"{sum(shares.values()):.4g}"}
    for service in scenario.services:
        if service in pooled:
            for place in shares:
                rows[place][service] = POOLED
            total[service] = _shown(system_capacity(scenario, service))
            continue
        values = [place_capacity(scenario, service, place) if scenario.places else system_capacity(scenario, service)
                  for place in shares]
        for place, value in zip(shares, values):
            rows[place][service] = _shown(value)
        total[service] = UNLIMITED if None in values else _shown(sum(values))
    rows["total"] = total
    return pd.DataFrame(rows, dtype=object).T


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.places", description="Show how a scenario's demand and capacity are split by place."
    )
    parser.add_argument("scenario", help="a scenario YAML file")
    args = parser.parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(table(scenario).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
