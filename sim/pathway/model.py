"""One replication: the system's services in each place, fed by crises and arrivals, run to the end.

Places are a dimension of every service: a local service has a unit in each
place, a pooled one a single unit for all, and an overflowing one a unit in
each place that lends free places to the others. A system with no places is
one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy

from sim.pathway.collector import collecting_less
from sim.pathway.demand import arrival_times
from sim.pathway import arrivals as arrivals_
from sim.pathway import capacity as capacity_
from sim.pathway import escalation as escalation_
from sim.pathway.afterwards import Later
from sim.pathway import ledger, long_term
from sim.random.draws import Family
from sim.pathway.initial_state import place_initial_state
from sim.pathway.journey import journey
from sim.pathway.kinds import Unit, unit_for
from sim.pathway.person import Person, choose
from sim.pathway.routing import Router
from sim.pathway.unawaited import start
from sim.scenario.schema import SYSTEM, Scenario
from sim.random.streams import Streams

HOURS = 1 / 24


@dataclass
class Census:
    """Everyone who entered the model, and how they left (conservation of people)."""

    entered: int = 0
    inside: int = 0
    home: int = 0
    died: int = 0
    left: int = 0

    def leave(self, how: str) -> None:
        self.inside -= 1
        setattr(self, how, getattr(self, how) + 1)


class Model:
    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None):
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.run.seed if seed is None else seed
        self.env = simpy.Environment()
        self.measure_from = float(scenario.run.warmup_days)
        self.end = self.measure_from + scenario.run.horizon_days
        self.measured_days = scenario.run.horizon_days
        self.years = long_term.Years(self.measure_from, self.measured_days, long_term.discount_rate(scenario))
        self.days = int(math.ceil(self.end))
        self.streams = Streams(self.seed, replication)
        self.router = Router(scenario.routes, self.env, self.measure_from)
        self.places = scenario.place_names
        self.many_places = len(self.places) > 1
        self._place_table = arrivals_.place_table(scenario)  # where crises and the system's arrivals live
        self.census = Census()
        self.place_census = {p: Census() for p in self.places}
        self.crises = 0
        self.place_crises = dict.fromkeys(self.places, 0)
        self._ids = 0
        self._families: dict[str, Family] = {}
        self._traits = _trait_order(scenario)
        self._traits_of_group: dict[str, list] = {}
        self._groups = {p: _group_table(scenario, p) for p in self.places}
        self._funding = _funding_table(scenario)
        self.units: dict[str, dict[str, Unit]] = {}
        self.unit_list: list[Unit] = []
        self.sharing = {name: s.mode for name, s in scenario.sharing.items()}
        self.waits_apart = {name: spec.waiting == "apart" for name, spec in scenario.services.items()}
        self.overflow_after = {name: s.after_hours * HOURS for name, s in scenario.sharing.items() if s.mode == "overflow"}
        for name, spec in scenario.services.items():
            self.units[name] = {}
            if self.sharing.get(name) == "pooled":
                unit = unit_for(self, name, spec, SYSTEM, capacity_.system_capacity(scenario, name), 1.0)
                self.unit_list.append(unit)
                for place in self.places:
                    self.units[name][place] = unit
                continue
            for place in self.places:
                cap = capacity_.place_capacity(scenario, name, place)
                unit = unit_for(self, name, spec, place, cap, capacity_.los_multiplier(scenario, name, place))
                self.units[name][place] = unit
                self.unit_list.append(unit)
        # Overflow: people who have waited long enough at home to take a place elsewhere, in the order
        # they began to look; and the requests granted in another place than they were made in.
        self._looking: dict[str, list] = {name: [] for name in self.overflow_after}
        self._lent: dict = {}
        for name in self.overflow_after:
            for unit in dict.fromkeys(self.units[name].values()):
                unit.slots.on_free = partial(self._lend, name, unit)
        self.daily = np.zeros((self.days, len(self.unit_list), 3))
        escalation_.attach(self)
        self.later = Later(self) if scenario.afterwards else None
        self.ledger = ledger.new_ledger(self)

    # --- people ------------------------------------------------------------------------

    def family(self, name: str) -> Family:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = Family(self.seed, self.replication, name)
        return family

    def new_person(self, family: Family, place: str | None = None, groups=None) -> Person:
        """Someone new, with their place (drawn, if not given), need group, means and traits."""
        self._ids += 1
        if place is None:
            place = self.places[0]
            if self.many_places:
                place = choose(self._place_table, family.uniform("place", family.size))
        person = Person(self._ids, family, place)
        index = person.index  # a new person has met nothing yet: the first draw of each stream
        person.group = choose(groups or self._groups[place], family.uniform("group", index))
        person.funding = choose(self._funding, family.uniform("funding", index))
        person.traits = self._draw_traits(person) if self._traits else frozenset()
        self.census.entered += 1
        self.census.inside += 1
        self.place_census[place].entered += 1
        self.place_census[place].inside += 1
        return person

    def _draw_traits(self, person: Person) -> frozenset[str]:
        traits = self._traits_of_group.get(person.group)
        if traits is None:
            # Only the traits this group can have, in dependency order: one with no share in the group
            # and no trait that implies it is never drawn (and draws nothing).
            traits = self._traits_of_group[person.group] = [
                (name, stream, shares.get(person.group, 0.0), given, also_if)
                for name, stream, shares, given, also_if in self._traits
                if shares.get(person.group, 0.0) > 0 or also_if]
        has: set[str] = set()
        family, index = person.family, person.index
        for name, stream, share, given, also_if in traits:
            drawn = share > 0 and (given is None or given in has) and family.uniform(stream, index) < share
            if drawn or (also_if and not has.isdisjoint(also_if)):
                has.add(name)
        return frozenset(has)

    def leave(self, person: Person, how: str) -> None:
        self.census.leave(how)
        self.place_census[person.place].leave(how)

    # --- places in services ----------------------------------------------------------------

    def request_slot(self, service: str, person: Person):
        """The unit that will take this person for `service`, and the request for a place there."""
        unit = self.units[service][person.place]
        if self.env.now >= self.measure_from:
            unit.arrivals += 1
        request = unit.slots.request(person)
        if request.triggered or service not in self.overflow_after:
            return unit, request
        if self.overflow_after[service] == 0:
            other = self._free_elsewhere(service, person.place)
            if other is not None:
                unit.slots.cancel(request)
                return self._away(other, person)
        return unit, request

    def wait_for_slot(self, unit: Unit, person: Person, holding: Unit | None, request):
        """Wait for the requested place (holding another, perhaps); returns the unit that took the person, or None.

        Overflow: once a person has waited `after_hours` for their own place, they take a place in
        another place that can take them now (one with room and nobody waiting), or else keep
        waiting at home while any place that comes free elsewhere with nobody waiting there is lent
        to them (`_lend`), whichever comes first.
        """
        if holding is not None:
            holding.start_delay(person, unit.name)
        admitted = unit
        after = self.overflow_after.get(unit.name)
        looking = None
        if after is not None:
            if after > 0:
                yield request | self.env.timeout(after)
            if not request.triggered:
                other = self._free_elsewhere(unit.name, person.place)
                if other is not None:  # waited long enough for their own place: one elsewhere
                    unit.slots.cancel(request)
                    admitted, request = self._away(other, person)
                else:
                    looking = (person, unit, request)
                    self._looking[unit.name].append(looking)
        if not request.triggered:
            got = yield from admitted.wait(person, request)
            if not got:
                admitted = None
        if looking is not None:
            if looking in self._looking[unit.name]:
                self._looking[unit.name].remove(looking)
            admitted = self._lent.pop(request, admitted)
        if holding is not None:
            holding.end_delay(person)
        return admitted

    def _lend(self, service: str, lender: Unit) -> None:
        """A place is free in `lender` with nobody waiting there: the longest-looking person from elsewhere takes it."""
        looking = self._looking[service]
        for entry in list(looking):
            if not lender.slots.can_take_now():
                return
            person, own, request = entry
            if own is lender or request.triggered:
                continue
            looking.remove(entry)
            own.slots.cancel(request)
            lender.slots.grant_now(request, person)  # the request they wait on is granted, here
            self._lent[request] = lender
            if self.env.now >= self.measure_from:
                lender.placed_away += 1

    def _free_elsewhere(self, service: str, home: str) -> Unit | None:
        for place, unit in self.units[service].items():
            if place != home and unit.slots.can_take_now():
                return unit
        return None

    def _away(self, unit: Unit, person: Person):
        if self.env.now >= self.measure_from:
            unit.placed_away += 1
        return unit, unit.slots.request(person)

    # --- processes -------------------------------------------------------------------------

    def _census_each_day(self):
        units = self.unit_list
        for day in range(self.days):
            yield self.env.timeout(day - self.env.now)
            row = self.daily[day]
            for i, unit in enumerate(units):
                slots = unit.slots
                row[i, 0] = slots.in_use
                row[i, 1] = len(slots.queue)
                row[i, 2] = slots.capacity

    def _crises(self):
        env = self.env
        family = self.family("crisis")
        enters = self.scenario.demand.enters
        rates = arrivals_.crisis_rates(self.scenario, self.days + 1)
        if not rates.any():
            return
        for t in arrival_times(rates, self.streams.uniform("arrivals"), self.end):
            yield env.timeout(t - env.now)
            person = self.new_person(family)
            if t >= self.measure_from:
                self.crises += 1
                self.place_crises[person.place] += 1
            start(journey(self, person, enters, "crises"))

    def _arrivals(self, place: str | None, target: str, rates: np.ndarray):
        """Arrivals straight into `target`: in `place`, or (None) each in a place drawn from the shares, as crises."""
        env = self.env
        name = f"arrivals.{target}" if place is None else f"arrivals.{place}.{target}"
        family = self.family(name)
        for t in arrival_times(rates, self.streams.uniform(name), self.end):
            yield env.timeout(t - env.now)
            person = self.new_person(family, place)
            start(journey(self, person, target, "arrivals"))

    def run(self):
        place_initial_state(self)
        self.env.process(capacity_.apply_events(self))
        escalation_.start(self)
        self.env.process(self._crises())
        for place, target, rates in arrivals_.direct(self.scenario, self.days + 1):
            self.env.process(self._arrivals(place, target, rates))
        self.env.process(self._census_each_day())
        self.env.process(ledger.keep(self))
        with collecting_less():
            self.env.run(until=self.end)
        for unit in self.unit_list:
            unit.close()
        ledger.close(self)
        return self


def _trait_order(scenario: Scenario) -> list[tuple[str, str, dict[str, float], str | None, frozenset[str]]]:
    """Traits in an order where each comes after the traits it depends on."""
    names = sorted({t for g in scenario.need_groups.values() for t in g.traits} | set(scenario.traits))
    order, placed = [], set()
    while len(order) < len(names):
        for name in names:
            spec = scenario.traits.get(name)
            needs = {spec.given, *spec.also_if} - {None} if spec else set()
            if name not in placed and needs <= placed:
                shares = {g: grp.traits.get(name, 0.0) for g, grp in scenario.need_groups.items()}
                order.append((name, "trait." + name, shares, spec.given if spec else None,
                              frozenset(spec.also_if if spec else ())))
                placed.add(name)
                break
        else:
            raise ValueError(f"traits depend on each other in a circle: {', '.join(sorted(set(names) - placed))}")
    return order


def _group_table(scenario: Scenario, place: str) -> list[tuple[str, float]]:
    mix = {g: grp.share for g, grp in scenario.need_groups.items()}
    if place in scenario.places and scenario.places[place].need_groups is not None:
        mix = {g: scenario.places[place].need_groups.get(g, 0.0) for g in scenario.need_groups}
    total, running, table = sum(mix.values()), 0.0, []
    for g, share in sorted(mix.items()):  # by name: the same draw means the same group in any copy
        running += share
        table.append((g, running / total))
    return table


def _funding_table(scenario: Scenario) -> list[tuple[str, float]]:
    f = scenario.funding
    return [("self", f.self_funder_share), ("partial", f.self_funder_share + f.partial_share), ("council", 1.0)]


def run_replication(scenario: Scenario, replication: int = 0, seed: int | None = None) -> Model:
    """Run one replication and return the finished model (sim.measure turns it into results)."""
    return Model(scenario, replication, seed).run()
