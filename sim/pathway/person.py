"""A person on the pathway: who they are (need group, means, traits, place) and the luck they carry."""

from __future__ import annotations

from sim.random.draws import Family


class Person:
    __slots__ = (
        "id", "family", "index", "place", "group", "funding", "traits", "seen", "hours_multiplier",
        "entered_at", "ready_at", "asked_at", "path", "left_at", "came_by",
    )

    def __init__(self, pid: int, family: Family, place: str):
        self.id = pid
        self.family = family
        self.index = family.next_index()
        self.place = place
        self.traits: frozenset[str] = frozenset()
        # decision or service -> times met before (the k-th meeting reads stream "name#k")
        self.seen: dict[str, int] = {}
        self.hours_multiplier = 1.0
        self.entered_at = 0.0
        self.ready_at = 0.0
        self.asked_at = 0.0
        self.path: list[str] = []            # the routes passed on the last way from one step to the next
        self.left_at: dict[str, float] = {}  # service -> when the person last left it
        self.came_by: str | None = None  # the last route that sent them on (the decision behind their next service)

    def stream(self, name: str) -> str:
        k = self.seen.get(name, 0)
        return name if k == 0 else f"{name}#{k}"

    def uniform(self, name: str) -> float:
        return self.family.uniform(self.stream(name), self.index)

    def normal(self, name: str, key: str | None = None) -> float:
        """A normal score for `name`, numbered by how often the person has met `key` (default: `name`)."""
        k = self.seen.get(key or name, 0)
        return self.family.normal(name if k == 0 else f"{name}#{k}", self.index)

    def met(self, name: str) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1


def choose(table: list[tuple[str, float]], u: float) -> str:
    """The destination whose cumulative probability first exceeds u."""
    for name, cumulative in table:
        if u < cumulative:
            return name
    return table[-1][0]
