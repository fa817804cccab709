"""What happens later to people who went home: readmission, death, later entry to long-term care.

When someone reaches home (the end `home`), every entry of the scenario's
`afterwards:` that names where they came from (the service they left, a
route they passed, or the destination a route gave them) is drawn for them:
whether it happens (stream `later.<entry>`) and after how long (stream
`later.<entry>.days`), each numbered by how often the person met the entry,
so the draws are common to a scenario and its comparator and shift no other
stream. The earliest entry that happens is the one that does: the person
waits at home (counted inside the system, holding nothing) and then goes on
to the entry's destination; if none happens they end at home as before.

An entry with `ends_placement` also applies to people going from there into
a long-term placement: the placement ends when the entry happens, and the
person goes on to its destination (a package that gives way to a care home).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.pathway.person import Person
from sim.random.distributions import Sampler

if TYPE_CHECKING:
    from sim.pathway.kinds import Unit
    from sim.pathway.model import Model
    from sim.scenario.afterwards import Afterwards


class _Entry:
    __slots__ = ("name", "to", "chance", "days", "stream", "stream_days", "ends_placement", "happened")

    happened: dict[str, int]

    def __init__(self, name: str, spec: "Afterwards", groups):
        self.name = name
        self.to = spec.to
        self.chance = {g: spec.chance_for(g) for g in groups}
        self.days = Sampler(spec.after_days)
        self.stream = "later." + name
        self.stream_days = self.stream + ".days"
        self.ends_placement = spec.ends_placement
        self.happened = {}  # place -> people it happened to in the measured period


class Later:
    """The scenario's afterwards entries, and who is waiting at home for one."""

    def __init__(self, model: "Model"):
        self.model = model
        self.env = model.env
        groups = model.scenario.need_groups
        self.entries = {name: _Entry(name, spec, groups) for name, spec in sorted(model.scenario.afterwards.items())}
        # origin (service, route, or route.destination) -> entries, in name order
        self.by_origin: dict[str, list[_Entry]] = {}
        for name, spec in sorted(model.scenario.afterwards.items()):
            for origin in spec.after:
                self.by_origin.setdefault(origin, []).append(self.entries[name])

    def _applying(self, person: Person, came_from: str | None, final: str, placement: bool) -> list[_Entry]:
        origins = [came_from] if came_from else []
        path = person.path
        for i, route in enumerate(path):
            origins.append(route)
            origins.append(f"{route}.{path[i + 1] if i + 1 < len(path) else final}")
        found: dict[str, _Entry] = {}
        for origin in origins:
            for entry in self.by_origin.get(origin, ()):
                if not placement or entry.ends_placement:
                    found[entry.name] = entry
        return [found[name] for name in sorted(found)]

    def draw(self, person: Person, came_from: str | None, final: str, placement: bool = False):
        """The entry that will happen to this person, and after how many days; (None, 0) if none."""
        first, when = None, 0.0
        for entry in self._applying(person, came_from, final, placement):
            u = person.uniform(entry.stream)
            z = person.normal(entry.stream_days, entry.stream)
            person.met(entry.stream)
            if u < entry.chance[person.group]:
                days = entry.days.from_z(z)
                if first is None or days < when:
                    first, when = entry, days
        return first, when

    def _happens(self, entry: _Entry, person: Person) -> str:
        if self.env.now >= self.model.measure_from:
            entry.happened[person.place] = entry.happened.get(person.place, 0) + 1
        step, _ = self.model.router.follow(person, entry.to, "afterwards")
        return step

    def at_home(self, person: Person, came_from: str | None):
        """Someone who went home: wait for what happens to them later; returns where they go next, or None."""
        entry, days = self.draw(person, came_from, "home")
        if entry is None:
            return None
        yield self.env.timeout(days)
        return self._happens(entry, person)

    def placement(self, unit: "Unit", person: Person, came_from: str | None):
        """A long-term placement that an entry may end early; returns where the person goes next."""
        entry, days = self.draw(person, came_from, unit.name, placement=True)
        if entry is None:
            return (yield from unit.stay(person))
        env = self.env
        stay = env.process(unit.stay(person))
        cut = env.timeout(days)
        yield stay | cut
        if stay.triggered:
            return stay.value
        # the placement ends now: its process is stopped, the person goes on
        stay.callbacks.append(_defuse)
        stay.interrupt("afterwards")
        person.ready_at = env.now
        return self._happens(entry, person)


def _defuse(event) -> None:
    event.defused = True


def happened(model: "Model", place: str | None = None) -> dict[str, int]:
    """People each entry happened to in the measured period (in one place, or all), by entry name."""
    later = model.later
    if later is None:
        return {}
    return {name: (e.happened.get(place, 0) if place is not None else sum(e.happened.values()))
            for name, e in later.entries.items()}
