"""Decisions as data: each route compiled to a function from a person to a table of destinations.

Every route draws from its own stream, named after it (`route.<name>`), so
adding a route or a service moves no other decision's draws. A route with a
single destination draws nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import accumulate

from sim.pathway.person import Person, choose
from sim.scenario.routes import ENDS, Route, scaled

Table = list[tuple[str, float]]  # (destination, cumulative probability)


def _cumulative(table: dict[str, float]) -> Table:
    # In order of name, not as written: a draw means the same destination however the file (or a
    # copy of it sent to a worker) orders its keys.
    names = sorted(d for d, p in table.items() if p > 0)
    if not names:  # every probability zero after scaling: keep one, so the route still leads on
        return [(min(table), 1.0)]
    values = list(accumulate(table[d] for d in names))
    total = values[-1]
    return [(d, v / total) for d, v in zip(names, values)]


def _compile(route: Route, scale: dict[str, float]) -> Callable[[Person], Table]:
    if route.to is not None:
        table = _cumulative(scaled(route.to, scale))
        return lambda person: table
    if route.by_group is not None:
        by_group = {g: _compile(sub, scale) for g, sub in route.by_group.items()}
        return lambda person: by_group[person.group](person)
    if route.by_place is not None:
        by_place = {p: _compile(sub, scale) for p, sub in route.by_place.items()}
        return lambda person: by_place[person.place](person)
    trait = route.by_trait
    yes, no = _compile(route.if_true, scale), _compile(route.if_false, scale)
    return lambda person: yes(person) if trait in person.traits else no(person)


class Router:
    """Takes a person from a route to a service or an end, counting each decision in the measured period."""

    def __init__(self, routes: dict[str, Route], env, measure_from: float):
        self.env = env
        self.measure_from = measure_from
        self.tables = {name: _compile(route, route.scale) for name, route in routes.items()}
        self.streams = {name: "route." + name for name in routes}
        self.hours = {name: route.hours_multiplier for name, route in routes.items() if route.hours_multiplier != 1.0}
        self.decisions: Counter = Counter()  # (place, route, destination) -> people, in the measured period
        self.flows: Counter = Counter()      # (from, to) -> people, in the measured period

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
        measuring = self.env.now >= self.measure_from
        if measuring:
            self.flows[(source, step)] += 1
        tables = self.tables
        if step not in tables:
            person.came_by = None
            return step, []
        passed = []
        streams, seen, decisions, hours = self.streams, person.seen, self.decisions, self.hours
        while step in tables:
            table = tables[step](person)
            if len(table) == 1:
                nxt = table[0][0]  # no choice, no draw
            else:
                # the k-th time this person meets this route reads draw `index` of stream "route.<name>#k"
                stream = streams[step]
                k = seen.get(stream, 0)
                u = person.family.uniform(stream if k == 0 else f"{stream}#{k}", person.index)
                seen[stream] = k + 1
                nxt = choose(table, u)
            if step in hours:
                person.hours_multiplier = hours[step]
            if measuring:
                decisions[(person.place, step, nxt)] += 1
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
