"""When people arrive: crises for the whole system (shared among places), and arrivals straight into a service.

Crises are a Poisson process whose rate varies by weekday, month and surges
(`sim.pathway.demand`); each crisis's place is drawn from the places' shares. A
place's arrivals straight into a service or route (a discharge-flow model
such as IPACS) are a Poisson process of their own, a day's mean at a time.
The system's own arrivals (the scenario's top-level `arrivals:`) are shared
out over the places as crises are: one Poisson process for the system, and
each arrival's place drawn from the places' shares (`place_shares`), so a
place with share s gets on average s of them and the total is the system's.
"""

from __future__ import annotations

import numpy as np

from sim.pathway.demand import daily_rates
from sim.scenario.schema import Scenario


def place_shares(scenario: Scenario) -> dict[str, float]:
    """Each place's share of the system's crises (by demand_share, or by its own crises a year)."""
    places = scenario.places
    if not places:
        return {"system": 1.0}
    if any(p.demand_share is not None for p in places.values()):
        return {n: p.demand_share or 0.0 for n, p in places.items()}
    own = {n: p.crises_per_year or 0.0 for n, p in places.items()}
    total = sum(own.values())
    if total == 0:  # no crises at all (arrivals only): capacity is split evenly
        return {n: 1.0 / len(places) for n in places}
    return {n: v / total for n, v in own.items()}


def crises_per_year(scenario: Scenario) -> float:
    places = scenario.places
    if places and not any(p.demand_share is not None for p in places.values()):
        return sum(p.crises_per_year or 0.0 for p in places.values())
    return scenario.demand.crises_per_year


def crisis_rates(scenario: Scenario, days: int) -> np.ndarray:
    """Expected crises on each simulated day, for the whole system."""
    return daily_rates(scenario, days, crises_per_year(scenario))


def place_table(scenario: Scenario) -> list[tuple[str, float]]:
    shares = place_shares(scenario)
    total, running, table = sum(shares.values()), 0.0, []
    for name, share in sorted(shares.items()):  # by name: the same draw means the same place in any copy
        running += share
        table.append((name, running / total if total else 1.0))
    return table


def direct(scenario: Scenario, days: int) -> list[tuple[str | None, str, np.ndarray]]:
    """(place, target, expected arrivals each simulated day) for every arrival stream of the scenario.

    The place is None for the system's arrivals when there are several places:
    each arrival's place is drawn from the places' shares, as a crisis's is.
    A system of one place (or none) keeps them in that place.
    """
    out = []
    names = scenario.place_names
    system_place = names[0] if len(names) == 1 else None
    for target, arrivals in scenario.arrivals.items():
        out.append((system_place, target, np.array([arrivals.mean_on(d) for d in range(days)], float)))
    for place, spec in scenario.places.items():
        for target, arrivals in spec.arrivals.items():
            out.append((place, target, np.array([arrivals.mean_on(d) for d in range(days)], float)))
    return out


def direct_by_place(scenario: Scenario, days: int) -> list[tuple[str, str, np.ndarray]]:
    """Like `direct`, with the system's arrivals split by the places' shares: their expected numbers, place by place."""
    shares = place_shares(scenario)
    total = sum(shares.values()) or 1.0
    out = []
    for place, target, rates in direct(scenario, days):
        if place is not None:
            out.append((place, target, rates))
            continue
        for name in scenario.place_names:
            out.append((name, target, rates * shares.get(name, 0.0) / total))
    return out
