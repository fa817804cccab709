"""How much capacity each unit has: a place's own, or its share of the system's; and changes on dates.

A place that sets no capacity for a local service gets its demand share of
the system's, whole places apportioned by largest remainder (visit-hours
need not be whole). A capacity event with no place changes every unit of its
service: `multiply` each, `set` and `add` each in proportion to its share.
Capacity that falls below the people inside puts nobody out: it drains.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.pathway.demand import simulation_start
from sim.scenario.calendar import capacity_steps
from sim.pathway.arrivals import place_shares
from sim.scenario.places import CapacityChange, CapacityEvent
from sim.scenario.services import capacity_of
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.pathway.model import Model


def system_capacity(scenario: Scenario, service: str) -> float | None:
    return capacity_of(scenario.services[service])[0]


def apportion(total: float, shares: dict[str, float], integral: bool) -> dict[str, float]:
    weight = sum(shares.values()) or 1.0
    exact = {n: total * s / weight for n, s in shares.items()}
    if not integral:
        return exact
    out = {n: math.floor(v) for n, v in exact.items()}
    left = int(round(total - sum(out.values())))
    for n in sorted(exact, key=lambda n: exact[n] - out[n], reverse=True)[:left]:
        out[n] += 1
    return out


def place_capacity(scenario: Scenario, service: str, place: str) -> float | None:
    """The capacity of a service's unit in one place (None = unlimited)."""
    base, integral = capacity_of(scenario.services[service])
    spec = scenario.places.get(place)
    if spec is not None and service in spec.services and "capacity" in spec.services[service].model_fields_set:
        return spec.services[service].capacity
    if base is None or not scenario.places:
        return base
    # Places that set their own take theirs; the rest share what is left by demand.
    shares = place_shares(scenario)
    own = {n: p.services[service].capacity for n, p in scenario.places.items()
           if service in p.services and "capacity" in p.services[service].model_fields_set}
    rest = {n: s for n, s in shares.items() if n not in own}
    remaining = max(0.0, base - sum(v for v in own.values() if v is not None))
    return apportion(remaining, rest, integral)[place]


def los_multiplier(scenario: Scenario, service: str, place: str) -> float:
    spec = scenario.places.get(place)
    if spec is None or service not in spec.services:
        return 1.0
    return spec.services[service].los_multiplier


def _share_of(scenario: Scenario, service: str, place: str) -> float:
    base = system_capacity(scenario, service)
    own = place_capacity(scenario, service, place)
    if base and own is not None and base != math.inf:
        return own / base
    return place_shares(scenario).get(place, 1.0)


def _for_unit(event: CapacityEvent, share: float) -> CapacityEvent:
    change = event.change
    if change.multiply is not None or share == 1.0:
        return event
    if change.set is not None:
        scaled = CapacityChange(set=change.set * share)
    else:
        scaled = CapacityChange(add=change.add * share)
    return event.model_copy(update={"change": scaled})


def unit_events(scenario: Scenario, service: str, place: str, pooled: bool) -> list[CapacityEvent]:
    """The capacity events that apply to one unit, in the order written (system's first, then the place's)."""
    events = [e for e in scenario.capacity_events if e.service == service]
    if scenario.places and not pooled:
        share = _share_of(scenario, service, place)
        events = [_for_unit(e, share) for e in events]
    if place in scenario.places:
        events += [e for e in scenario.places[place].capacity_events if e.service == service]
    return events


def apply_events(model: "Model"):
    """A SimPy process that changes units' capacities on their event dates (day 0 included)."""
    scenario = model.scenario
    day0 = simulation_start(scenario)
    changes: list[tuple[int, int, float]] = []
    for i, unit in enumerate(model.unit_list):
        pooled = model.sharing.get(unit.name) == "pooled"
        events = unit_events(scenario, unit.name, unit.place, pooled)
        if pooled:
            events += [e for p in scenario.places.values() for e in p.capacity_events if e.service == unit.name]
        if not events:
            continue
        _, integral = capacity_of(unit.spec)
        base = unit.slots.capacity
        for date, capacity in capacity_steps(None if base == math.inf else base, events, integral):
            changes.append((max(0, (date - day0).days), i, capacity))
    changes.sort(key=lambda c: (c[0], c[1]))
    env = model.env
    for day, i, capacity in changes:
        if day >= model.end:
            break
        if day > env.now:
            yield env.timeout(day - env.now)
        model.unit_list[i].slots.set_capacity(None if capacity == math.inf else capacity)
