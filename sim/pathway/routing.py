"""Decisions as data: each route compiled to a function from a person to a table of destinations.

Every route draws from its own stream, named after it (`route.<name>`), so
adding a route or a service moves no other decision's draws. A route with a
single destination draws nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import accumulate

from sim.pathway.person import Person
from sim.scenario.routes import ENDS, Route, scaled

Table = list[tuple[str, float, int]]  # (destination, cumulative probability, its decision counter)
Choice = Table | Callable[[Person], Table]  # one table for everyone, or the table for this person


def _cumulative(table: dict[str, float], cell: Callable[[str], int]) -> Table:
    # In order of name, not as written: a draw means the same destination however the file (or a
    # copy of it sent to a worker) orders its keys.
    names = sorted(d for d, p in table.items() if p > 0)
    if not names:  # every probability zero after scaling: keep one, so the route still leads on
        return [(min(table), 1.0, cell(min(table)))]
    values = list(accumulate(table[d] for d in names))
    total = values[-1]
    return [(d, v / total, cell(d)) for d, v in zip(names, values)]


def _compile(route: Route, scale: dict[str, float], cell: Callable[[str], int]) -> Choice:
    if route.to is not None:
        return _cumulative(scaled(route.to, scale), cell)
    if route.by_group is not None:
        by_group = {g: _compile(sub, scale, cell) for g, sub in route.by_group.items()}
        return lambda person: _table(by_group[person.group], person)
    if route.by_place is not None:
        by_place = {p: _compile(sub, scale, cell) for p, sub in route.by_place.items()}
        return lambda person: _table(by_place[person.place], person)
    trait = route.by_trait
    yes, no = _compile(route.if_true, scale, cell), _compile(route.if_false, scale, cell)
    return lambda person: _table(yes if trait in person.traits else no, person)


def _table(choice: Choice, person: Person) -> Table:
    return choice if type(choice) is list else choice(person)


class Router:
    """Takes a person from a route to a service or an end, counting each decision in the measured period."""

    def __init__(self, routes: dict[str, Route], env, measure_from: float):
        self.env = env
        self.measure_from = measure_from
        # Each (route, destination) has a numbered counter, so a decision is counted by list index,
        # not by building and hashing a key: counts[place][cell] (see `decisions`).
        self._cells: dict[tuple[str, str], int] = {}
        self.tables = {name: _compile(route, route.scale, self._cell_maker(name)) for name, route in routes.items()}
        self._counts: dict[str, list[int]] = {}
        self.streams = {name: "route." + name for name in routes}
        self.hours = {name: route.hours_multiplier for name, route in routes.items() if route.hours_multiplier != 1.0}
        self.flows: Counter = Counter()      # (from, to) -> people, in the measured period

    def _cell_maker(self, route: str) -> Callable[[str], int]:
        return lambda destination: self._cells.setdefault((route, destination), len(self._cells))

    @property
    def decisions(self) -> Counter:
        """(place, route, destination) -> people, in the measured period."""
        out: Counter = Counter()
        for place, counts in self._counts.items():
            for (route, dest), cell in self._cells.items():
                if counts[cell]:
                    out[(place, route, dest)] += counts[cell]
        return out

    def system_decisions(self) -> Counter:
        out: Counter = Counter()
        for (_, route, dest), n in self.decisions.items():
            out[(route, dest)] += n
        return out

    def place_decisions(self, place: str) -> Counter:
        return Counter({(route, dest): n for (p, route, dest), n in self.decisions.items() if p == place})

    def follow(self, person: Person, step: str, source: str) -> tuple[str, list[str]]:
        """The service or end that `step` leads this person to, and the routes passed on the way.

        Only the first step is counted as a flow here; each route's own decisions are the flows out
        of it (see `all_flows`), so a hop costs one count, not two.
        """
        tables = self.tables
        counts = None
        if self.env.now >= self.measure_from:
            self.flows[(source, step)] += 1
            if step in tables:
                counts = self._counts.get(person.place) or self._counts.setdefault(person.place, [0] * len(self._cells))
        if step not in tables:
            person.path = []
            person.came_by = None
            return step, []
        passed = person.path = []
        streams, seen, hours = self.streams, person.seen, self.hours
        while step in tables:
            table = _table(tables[step], person)
            if len(table) == 1:
                nxt, _, cell = table[0]  # no choice, no draw
            else:
                # the k-th time this person meets this route reads draw `index` of stream "route.<name>#k"
                stream = streams[step]
                k = seen.get(stream, 0)
                u = person.family.uniform(stream if k == 0 else f"{stream}#{k}", person.index)
                seen[stream] = k + 1
                for nxt, cumulative, cell in table:  # the first whose cumulative probability exceeds u
                    if u < cumulative:
                        break
            if step in hours:
                person.hours_multiplier = hours[step]
            if counts is not None:
                counts[cell] += 1
            passed.append(step)
            step = nxt
        person.came_by = passed[-1]
        return step, passed

    def all_flows(self) -> Counter:
        """People moving from one step to the next in the measured period: into the first step, and out of routes."""
        flows = Counter(self.flows)
        for (route, dest), n in self.system_decisions().items():
            flows[(route, dest)] += n
        return flows


def is_end(step: str) -> bool:
    return step in ENDS
