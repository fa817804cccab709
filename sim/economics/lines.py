"""Each cost line of a run read three ways: cash, capacity or committed.

- cash: money a budget pays in that year and would not pay without the activity: episodes and
  visit-hours bought, placements out of area, and long-term care in that year (people already in care at
  the start included). A saving here is cash-releasing.
- capacity: occupied days of beds, caseloads and response teams that are paid for whether used or not;
  and all the activity of a service whose capacity a programme cost pays for (`service:` of
  economics.programme_costs). Fewer of them frees capacity, never cash, unless the capacity is cut.
- committed: the lifetime cost of the long-term placements started in a year (sim.measure.costs'
  COMMITTED basis): the economic view, never cash, and never added to the cash of a long-term service.

Every amount is in pounds of the scenario's price year (sim.economics.prices). `year` is the 1-based year
of the measured period the cost falls in; results made before costs had years have none, and their
costs all fall in year 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.economics.prices import factors
from sim.measure.costs import COMMITTED

CASH = "cash"
CAPACITY = "capacity"
COMMITTED_VIEW = "committed"
# Activity that is bought, unit by unit: its cost avoided is cash (the rest is capacity: beds and staff).
CASH_UNITS = ("episodes started", "placements out of area", "visit-hours")


def capacity_paid_services(*scenarios) -> set[str]:
    """Services whose capacity a programme cost of any of these scenarios pays for.

    Taken from both runs of a comparison, so that a service is read the same way in each: otherwise
    its activity would be cash in one and capacity in the other.
    """
    return {c.service for s in scenarios for c in s.economics.programme_costs if c.service}


def _kinds(scenario) -> dict[str, str]:
    """Cost line name -> kind of the service it belongs to."""
    out = {}
    for service, spec in scenario.services.items():
        out[service] = spec.kind
        out[f"{service}_out_of_area"] = spec.kind
        for price in spec.costs:
            out[price.name or service] = spec.kind
    return out


def _owner(scenario) -> dict[str, str]:
    out = {}
    for service, spec in scenario.services.items():
        out[service] = service
        out[f"{service}_out_of_area"] = service
        for price in spec.costs:
            out[price.name or service] = service
    return out


def view_of(line: str, basis: str, activity_unit: str, kind: str | None, paid: bool) -> str:
    if basis == COMMITTED:
        return COMMITTED_VIEW
    if paid and not activity_unit.startswith("placements out of area"):
        return CAPACITY
    if kind == "long_term" or any(activity_unit.startswith(u) for u in CASH_UNITS):
        return CASH
    return CAPACITY


def classified(costs: pd.DataFrame, scenario, paid: set[str]) -> pd.DataFrame:
    """One role's cost lines with `view`, `year`, and `gbp` / `discounted_gbp` at the scenario's price year."""
    factor = factors(scenario)
    kinds, owner = _kinds(scenario), _owner(scenario)
    frame = costs.copy()
    if "year" not in frame.columns:
        frame["year"] = 1
    if "discounted_gbp" not in frame.columns:
        frame["discounted_gbp"] = np.nan
    f = frame["service"].map(lambda name: factor.get(name, 1.0)).astype(float)
    frame["gbp"] = frame["cost_gbp"].astype(float) * f
    frame["discounted_gbp"] = frame["discounted_gbp"].astype(float) * f
    frame["view"] = [
        view_of(name, basis, unit, kinds.get(name), owner.get(name) in paid)
        for name, basis, unit in zip(frame["service"], frame["basis"], frame["activity_unit"])
    ]
    frame["year"] = frame["year"].astype(int)
    return frame
