"""A log of every episode people have in services: who, where, when they arrived, were ready and left, and to where.

The records a system keeps (sim/records/) are one row per person per
service; a scenario's simulated people leave the same rows when this
recorder is attached to a model before it runs:

    model = Model(scenario, replication)
    log = record_episodes(model)
    model.run()
    log.rows(model)   # finished and unfinished episodes

Ordinary runs pay nothing for it: it is not part of the model. It wraps,
on this one model only, the three moments an episode is made of: a unit
taking someone in (`entered`), the decision made when they are ready
(`Router.follow` from a service), and the unit letting them go (`left`).
A decision whose destination is named P0..P3 (the national discharge
pathways) gives the episode its pathway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.pathway.model import Model

PATHWAY = re.compile(r"^P([0-3])$")


@dataclass(slots=True)
class Episode:
    person: int
    place: str
    group: str
    service: str
    arrived: float           # days from the start of the simulation (warm-up included)
    ready: float | None      # ready to leave; None: not yet at the end of the run
    left: float | None       # None: still there at the end of the run
    to: str | None           # the next service or end
    pathway: int | None      # 0-3 when the decision passed a discharge pathway
    came_from: str           # the service left before this one, or home


class EpisodeLog:
    def __init__(self, services: frozenset[str] = frozenset()) -> None:
        self._services = services
        self.done: list[Episode] = []
        self._open: dict[tuple[int, str], tuple] = {}   # (person, service) -> (person, arrived, came from)
        self._decided: dict[int, tuple[str, int | None]] = {}  # person -> (next step, pathway)
        self._last: dict[int, str] = {}  # person -> the service they last left
        self._inside: dict[int, int] = {}  # person -> how many episodes they have open

    def _entered(self, unit, person) -> None:
        self._open[(person.id, unit.name)] = (person, unit.env.now, self._last.get(person.id, "home"))
        self._inside[person.id] = self._inside.get(person.id, 0) + 1

    def _followed(self, person, source: str, result: tuple[str, list[str]], services) -> None:
        # `afterwards` ends a long-term placement early (a death, a move to a care home): where it sends the
        # person is where that episode went; for someone at home it starts no episode of its own.
        if source in services or (source == "afterwards" and person.id in self._inside):
            nxt, passed = result
            pathway = None
            for step in (*passed, nxt):
                match = PATHWAY.match(step)
                if match:
                    pathway = int(match[1])
            self._decided[person.id] = (nxt, pathway)

    def _left(self, unit, person) -> None:
        opened = self._open.pop((person.id, unit.name), None)
        if opened is None:
            return
        if self._inside[person.id] == 1:
            del self._inside[person.id]
        else:
            self._inside[person.id] -= 1
        nxt, pathway = self._decided.pop(person.id, (None, None))
        # Someone who went home and comes back later (a readmission, a later placement) comes from home.
        self._last[person.id] = unit.name if nxt is None or nxt in self._services else "home"
        self.done.append(Episode(person.id, person.place, person.group, unit.name, opened[1],
                                 person.ready_at, unit.env.now, nxt, pathway, opened[2]))

    def rows(self, model: Model) -> list[Episode]:
        """Every episode: those finished, then those still open when the run ended (sorted by arrival)."""
        still = [Episode(p.id, p.place, p.group, service, arrived,
                         p.ready_at if p.ready_at >= arrived and p.id in self._decided else None,
                         None, None, None, came_from)
                 for (_, service), (p, arrived, came_from) in self._open.items()]
        return sorted(self.done + still, key=lambda e: (e.arrived, e.person))


def record_episodes(model: Model) -> EpisodeLog:
    """Attach a log of episodes to this model (before it runs)."""
    services = frozenset(model.scenario.services)
    log = EpisodeLog(services)
    router = model.router
    follow = router.follow

    def following(person, step, source):
        result = follow(person, step, source)
        log._followed(person, source, result, services)
        return result

    router.follow = following
    for unit in model.unit_list:
        _wrap_unit(unit, log)
    return log


def _wrap_unit(unit, log: EpisodeLog) -> None:
    entered, left = unit.entered, unit.left

    def entering(person, waited):
        entered(person, waited)
        log._entered(unit, person)

    def leaving(person):
        log._left(unit, person)
        left(person)

    unit.entered, unit.left = entering, leaving
