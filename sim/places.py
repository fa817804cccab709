"""Places: the localities a system is delivered in, each with its own demand and capacity.

A scenario without `places:` is one place, "system", and runs exactly as it
always did. With places, every crisis is given a place (drawn from its own
stream, "place", so no other stream's draws move), and the person's journey
uses their place's services. How places share a service is set per service:

- local: each place has its own capacity and queue;
- pooled: the places' capacities form one pool with one first-come-first-served
  queue (people may get a bed in another place's share of the pool);
- overflow: a person waits for their own place's service first, but takes a
  free place elsewhere straight away, or after waiting `after_hours`.

Every place keeps its own counters (the service objects of a place count its
residents: admissions, waits, stays, outcomes; its slots count the places it
physically has: occupancy, queue at its door). The system's figures are the
sums over places, so per-place outputs add up to the system by construction.
See docs/places.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import simpy

from sim.costs import CostLine, cost_lines
from sim.pathway.demand import daily_rates
from sim.pathway.slots import Slots

if TYPE_CHECKING:
    from sim.model import Model, ServiceSet
    from sim.patient import Person
    from sim.scenario import Scenario

SYSTEM = "system"
HOURS = 1 / 24


# --- how much of the system each place has -----------------------------------------------


def demand_shares(scenario: "Scenario") -> dict[str, float]:
    """Each place's share of the system's crises (one place, "system", with share 1 without places)."""
    places = scenario.places
    if not places:
        return {SYSTEM: 1.0}
    if all(p.crises_per_year is not None for p in places.values()):
        total = sum(p.crises_per_year for p in places.values())
        return {name: (p.crises_per_year / total if total else 1 / len(places)) for name, p in places.items()}
    return {name: p.demand_share for name, p in places.items()}


def crises_per_year(scenario: "Scenario") -> float:
    """The system's crises a year: the places' own figures summed when they give them."""
    places = scenario.places
    if places and all(p.crises_per_year is not None for p in places.values()):
        return sum(p.crises_per_year for p in places.values())
    return scenario.demand.crises_per_year


def apportion(total: int | None, shares: list[float]) -> list[int | None]:
    """Whole places split by share, summing exactly to `total` (largest remainder; ties go to the first).

    Unlimited (None) stays unlimited in every place.
    """
    if total is None:
        return [None] * len(shares)
    exact = [total * s for s in shares]
    whole = [math.floor(x + 1e-9) for x in exact]
    left = total - sum(whole)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in by_remainder[:left]:
        whole[i] += 1
    return whole


def capacities(scenario: "Scenario") -> dict[str, dict[str, int | None]]:
    """place -> service -> capacity: what the place sets, else its apportioned share of the system's."""
    shares = demand_shares(scenario)
    out: dict[str, dict[str, int | None]] = {name: {} for name in shares}
    for service in type(scenario.services).model_fields:
        system, _ = scenario.services.capacity_of(service)
        for name, share in zip(shares, apportion(system, list(shares.values()))):
            own = getattr(scenario.places[name].services, service) if scenario.places else None
            if own is not None:
                share = own.beds if hasattr(own, "beds") else own.capacity
            out[name][service] = share
    return out


# --- capacity shared between places --------------------------------------------------------


class Totals:
    """The system's peaks of one service: the most in use and waiting at once, over all places."""

    __slots__ = ("env", "members", "measure_from", "peak_in_use", "peak_queue")

    def __init__(self, env: simpy.Environment, measure_from: float):
        self.env = env
        self.members: list[PlaceSlots] = []
        self.measure_from = measure_from
        self.peak_in_use = 0
        self.peak_queue = 0

    def note(self) -> None:
        if self.env.now >= self.measure_from:
            in_use = sum(m.in_use for m in self.members)
            waiting = sum(len(m.queue) for m in self.members)
            if in_use > self.peak_in_use:
                self.peak_in_use = in_use
            if waiting > self.peak_queue:
                self.peak_queue = waiting


class Sharing:
    """One service shared between places, pooled or with overflow: who may take which free place."""

    def __init__(self, env: simpy.Environment, mode: str, after_hours: float, measure_from: float):
        self.env = env
        self.pooled = mode == "pooled"
        self.after = after_hours * HOURS
        self.measure_from = measure_from
        self.members: list[PlaceSlots] = []
        # People who may take a free place anywhere, oldest first: request -> (home slots, person).
        self.eligible: dict[simpy.Event, tuple[PlaceSlots, "Person"]] = {}
        # Where each person placed outside their own place is (person id -> slots), to release it.
        self.away: dict[int, PlaceSlots] = {}

    def waiting(self, home: "PlaceSlots", event: simpy.Event, person: "Person") -> None:
        """A person has joined their own place's queue."""
        if self.pooled or self.after <= 0:
            self._eligible(home, event, person)
        else:
            self.env.timeout(self.after).callbacks.append(lambda _: self._waited(home, event, person))

    def _waited(self, home: "PlaceSlots", event: simpy.Event, person: "Person") -> None:
        if not event.triggered and event in home.queue:
            self._eligible(home, event, person)
            home.totals.note()

    def _eligible(self, home: "PlaceSlots", event: simpy.Event, person: "Person") -> None:
        self.eligible[event] = (home, person)
        for other in self.members:
            if other is not home and other.in_use < other.capacity and not other.queue:
                self.offer(other)

    def offer(self, slots: "PlaceSlots") -> None:
        """Fill `slots`'s free places with the longest-waiting eligible people, wherever they live."""
        eligible = self.eligible
        while eligible and slots.in_use < slots.capacity:
            event = next(iter(eligible))
            home, person = eligible.pop(event)
            if home is slots:
                slots.serve(event)
            else:
                home.cancel(event)
                slots.take(event)
                self.away[person.id] = slots
                if self.env.now >= self.measure_from:
                    home.placed_away += 1


class PlaceSlots(Slots):
    """The places one locality has for one service, which may be shared with other localities."""

    __slots__ = ("place", "totals", "sharing", "placed_away")

    def __init__(self, env, name, capacity, measure_from, place: str, totals: Totals, sharing: Sharing | None):
        super().__init__(env, name, capacity, measure_from)
        self.place = place
        self.totals = totals
        self.sharing = sharing
        self.placed_away = 0  # this place's residents given a place elsewhere, in the measured period
        totals.members.append(self)
        if sharing is not None:
            sharing.members.append(self)

    def request(self, person: "Person | None" = None) -> simpy.Event:
        event = super().request(person)
        if self.sharing is not None and not event.triggered:
            self.sharing.waiting(self, event, person)
        self.totals.note()
        return event

    def serve(self, event: simpy.Event) -> None:
        """Give a free place here to someone waiting in this place's own queue, out of turn (a pool's)."""
        self._advance()
        self.queue.remove(event)
        self._grant(event)

    def take(self, event: simpy.Event) -> None:
        """Give a free place here to someone from another place."""
        self._advance()
        self.requested += 1
        self._grant(event)

    def _grant(self, event: simpy.Event) -> None:
        if self.sharing is not None:
            self.sharing.eligible.pop(event, None)
        super()._grant(event)

    def cancel(self, event: simpy.Event) -> None:
        if self.sharing is not None:
            self.sharing.eligible.pop(event, None)
        super().cancel(event)
        self.totals.note()

    def release(self, person: "Person | None" = None) -> None:
        """The person leaves the place they actually got, which may be in another locality."""
        if self.sharing is not None and person is not None:
            away = self.sharing.away.pop(person.id, None)
            if away is not None:
                away.release(person)
                return
        super().release(person)
        self.totals.note()

    def set_capacity(self, capacity: int | None) -> None:
        super().set_capacity(capacity)
        self.totals.note()

    def _serve_queue(self) -> None:
        sharing = self.sharing
        if sharing is not None and sharing.pooled:
            sharing.offer(self)  # one queue for the whole pool, first come first served
            return
        super()._serve_queue()
        if sharing is not None and not self.queue:
            sharing.offer(self)


class SlotsTotal:
    """One service's slots summed over places: what the system's census, KPIs and costs read."""

    def __init__(self, name: str, totals: Totals):
        self.name = name
        self.totals = totals

    def _sum(self, attr: str):
        return sum(getattr(m, attr) for m in self.totals.members)

    in_use = property(lambda self: self._sum("in_use"))
    area_in_use = property(lambda self: self._sum("area_in_use"))
    area_queue = property(lambda self: self._sum("area_queue"))
    requested = property(lambda self: self._sum("requested"))
    granted = property(lambda self: self._sum("granted"))
    released = property(lambda self: self._sum("released"))
    cancelled = property(lambda self: self._sum("cancelled"))
    over_capacity = property(lambda self: self._sum("over_capacity"))
    placed_away = property(lambda self: self._sum("placed_away"))
    capacity = property(lambda self: self._sum("capacity"))
    peak_in_use = property(lambda self: self.totals.peak_in_use)
    peak_queue = property(lambda self: self.totals.peak_queue)

    @property
    def queue(self) -> list[simpy.Event]:
        return [event for m in self.totals.members for event in m.queue]

    @property
    def unlimited(self) -> bool:
        return self.capacity == math.inf

    def close(self) -> None:
        for member in self.totals.members:
            member.close()


# --- the system's figures as sums over places ------------------------------------------------


def _zero(value) -> bool:
    """A counter at the start of a run: 0, an empty list, or a mapping of zeros."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, list):
        return not value
    if isinstance(value, dict):
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0 for v in value.values())
    return False


def _sum(values: list):
    first = values[0]
    if isinstance(first, list):
        return [x for v in values for x in v]
    if isinstance(first, dict):
        out: dict = {}
        for v in values:
            for key, x in v.items():
                out[key] = out.get(key, 0) + x
        return out
    return sum(values)


def counters(obj) -> tuple[str, ...]:
    """Attributes of a freshly built service (or assessment) that count activity.

    Anything that starts at zero is summed over places: a counter sums to the
    system's count, and a setting that is zero stays zero.
    """
    return tuple(k for k, v in vars(obj).items() if _zero(v))


def summed(parts: list, names: tuple[str, ...], slots: SlotsTotal | None = None):
    """An object like `parts[0]` whose counters are the sums over `parts` (the system's view)."""
    total = object.__new__(type(parts[0]))
    total.__dict__.update(vars(parts[0]))
    for name in names:
        setattr(total, name, _sum([getattr(p, name) for p in parts]))
    if slots is not None:
        total.slots = slots
    return total


# --- the places of one replication ----------------------------------------------------------


class Place:
    """One locality: its services, its long-term care assessment and its own counts."""

    def __init__(self, name: str, services: "ServiceSet", assessment, census, scenario: "Scenario"):
        self.name = name
        self.services = services
        self.assessment = assessment
        self.census = census
        self.scenario = scenario
        self.crises = 0  # in the measured period


class Places:
    """The places of one replication's system; with no `places:` one place, the model's own services."""

    def __init__(self, model: "Model"):
        from sim.model import Census, ServiceSet  # here: sim.model builds Places

        self.model = model
        scenario = model.scenario
        self.many = bool(scenario.places)
        if not self.many:  # the model's own services, untouched: the one-place hot path stays as it was
            self.by_name = {SYSTEM: Place(SYSTEM, model.services, model.assessment, model.census, scenario)}
            return
        from sim.services.long_term_care import Assessment

        env, start = model.env, model.measure_from
        total = crises_per_year(scenario)
        if total != scenario.demand.crises_per_year:
            demand = scenario.demand.model_copy(update={"crises_per_year": total})
            model.rates = daily_rates(scenario.model_copy(update={"demand": demand}), model.days + 1)
        self.names = list(scenario.places)
        self.cumulative = np.cumsum(list(demand_shares(scenario).values())).tolist()
        self.draw = model.streams.uniform("place")
        own = capacities(scenario)
        self.totals = {name: Totals(env, start) for name in ServiceSet.NAMES}
        sharing = {}
        for name, config in scenario.sharing.items():
            if config.mode != "local":
                sharing[name] = Sharing(env, config.mode, config.after_hours, start)
        self.by_name = {}
        for place in self.names:  # each place its own services (the model's first set is not used)
            services = ServiceSet(model, scenario)
            for service in services:
                service.slots = PlaceSlots(
                    env, service.name, own[place][service.name], start, place,
                    self.totals[service.name], sharing.get(service.name),
                )
            assessment = Assessment(model, scenario.long_term_decisions)
            self.by_name[place] = Place(place, services, assessment, Census(), scenario)
        first = self.by_name[self.names[0]]
        self._counters = {service.name: counters(service) for service in first.services}
        self._assessment_counters = counters(first.assessment)
        self.daily = np.zeros((model.days, len(self.names), len(ServiceSet.NAMES), 3))
        # While the run goes on, the system's services are only their slots summed (for the daily census).
        live = object.__new__(ServiceSet)
        for name in ServiceSet.NAMES:
            setattr(live, name, _Live(name, SlotsTotal(name, self.totals[name])))
        model.services = live

    def __getitem__(self, name: str) -> Place:
        return self.by_name[name]

    def __iter__(self) -> Iterator[Place]:
        return iter(self.by_name.values()) if self.many else iter(())

    def arrive(self) -> str:
        """The place of a person in crisis now, counted in."""
        if not self.many:
            return SYSTEM
        u = self.draw()
        cumulative = self.cumulative
        i = 0
        while i < len(cumulative) - 1 and u >= cumulative[i]:
            i += 1
        place = self.by_name[self.names[i]]
        place.census.entered += 1
        place.census.inside += 1
        if self.model.env.now >= self.model.measure_from:
            place.crises += 1
        return place.name

    def left(self, person: "Person", how: str) -> None:
        if self.many:
            self.by_name[person.place].census.leave(how)

    def census_each_day(self):
        """Per place, like the model's daily census (which holds the system's totals)."""
        env = self.model.env
        for day in range(self.model.days):
            yield env.timeout(day - env.now)
            for p, place in enumerate(self.by_name.values()):
                row = self.daily[day, p]
                for i, service in enumerate(place.services):
                    slots = service.slots
                    row[i, 0] = slots.in_use
                    row[i, 1] = len(slots.queue)
                    row[i, 2] = slots.capacity

    def close(self) -> None:
        """End of the run: close every count; with places, make the model's services the system's sums."""
        model = self.model
        if not self.many:
            for service in model.services:
                service.close()
            return
        from sim.model import ServiceSet

        for place in self:
            for service in place.services:
                service.close()
        system = object.__new__(ServiceSet)
        for name in ServiceSet.NAMES:
            parts = [getattr(place.services, name) for place in self]
            setattr(system, name, summed(parts, self._counters[name], SlotsTotal(name, self.totals[name])))
        model.services = system
        model.assessment = summed([p.assessment for p in self], self._assessment_counters)

    # --- outputs per place --------------------------------------------------------------------

    def kpis(self) -> dict[str, float]:
        """Every KPI of every place, named `place.<name>.<kpi>` (none for a system of one place)."""
        from sim.kpis import compute

        out: dict[str, float] = {}
        for place in self:
            for kpi, value in compute(place, cost_lines(place)).items():
                out[f"place.{place.name}.{kpi}"] = value
        return out

    def daily_frame(self, measure_from: int) -> pd.DataFrame | None:
        """The daily census per place: day, place, service, occupancy, queue, capacity."""
        if not self.many:
            return None
        from sim.model import ServiceSet

        days, places, services, _ = self.daily.shape
        return pd.DataFrame(
            {
                "day": np.repeat(np.arange(days) - measure_from, places * services),
                "place": np.tile(np.repeat(np.array(self.names, dtype=object), services), days),
                "service": np.tile(np.array(ServiceSet.NAMES, dtype=object), days * places),
                "occupancy": self.daily[..., 0].ravel(),
                "queue": self.daily[..., 1].ravel(),
                "capacity": self.daily[..., 2].ravel(),
            }
        )


class _Live:
    """A service of the system while the run goes on: its name and its slots summed over places."""

    def __init__(self, name: str, slots: SlotsTotal):
        self.name = name
        self.slots = slots


def out_of_area_lines(model) -> list[CostLine]:
    """The fee for each placement outside the person's own place, paid by whoever pays for the service."""
    lines: list[CostLine] = []
    costs = model.scenario.costs
    for name, config in model.scenario.sharing.items():
        placements = getattr(getattr(model.services, name).slots, "placed_away", 0)
        if not config.out_of_area_cost_gbp or not placements:
            continue
        price = getattr(costs, name, None)
        payer = "council" if price is None or price.payer == "means_tested" else price.payer
        fee = config.out_of_area_cost_gbp
        lines.append(CostLine(f"{name}_out_of_area", payer, "activity in period", placements,
                              "placements out of area", fee, placements * fee))
    return lines


def table(scenario: "Scenario") -> pd.DataFrame:
    """Demand share and capacity of every place, and the system's total (what a scenario's places get)."""
    shares = demand_shares(scenario)
    caps = capacities(scenario)
    rows = {name: {"demand_share": f"{share:.4g}", **caps[name]} for name, share in shares.items()}
    total: dict = {"demand_share": f"{sum(shares.values()):.4g}"}
    for service in type(scenario.services).model_fields:
        values = [caps[name][service] for name in shares]
        total[service] = None if None in values else sum(values)
    rows["total"] = total
    return pd.DataFrame(rows, dtype=object).T.map(lambda v: "unlimited" if v is None else v)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from sim.scenario import ScenarioError, load_scenario

    parser = argparse.ArgumentParser(description="Show how a scenario's demand and capacity are split by place.")
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
