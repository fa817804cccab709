"""A person aged 65+ in crisis, and their journey through the pathway as one SimPy process.

Everything random about a person is drawn when they arrive (their "luck"),
each draw from its own named stream. Two scenarios therefore meet the same
people with the same luck: a person whose reablement is shorter in one
scenario is the same person, with the same relative length of stay, as in the
other. Durations are kept as normal scores and turned into days by the
service that uses them.
"""

from __future__ import annotations

from itertools import count
from typing import TYPE_CHECKING

from sim.services.long_term_care import Assessment
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.model import Model
    from sim.services.base import Service

# Decisions (uniform draws) and durations (normal scores) a person carries.
UNIFORM_DRAWS = (
    "group", "funding", "refer", "ucr_suitable", "ucr_success", "ucr_after", "avoidable_other",
    "acute_death", "pathway", "pathway_route", "care_home_type", "reablement_outcome", "bed_outcome",
    "long_term_decision",
)
NORMAL_DRAWS = (
    "ucr_travel", "ucr_duration", "acute_los", "reablement_los", "bed_los",
    "home_care_hours", "long_term_duration", "acute_process", "bed_process",
)
_U = tuple("u_" + n for n in UNIFORM_DRAWS)
_Z = tuple("z_" + n for n in NORMAL_DRAWS)


class Luck:
    """The streams one family of draws comes from (first episodes, or readmissions).

    A person's luck is one row: the next draw of every stream of the family,
    all drawn in one call (see `Streams.rows`), so the k-th person still gets
    the k-th draw of each named stream.
    """

    def __init__(self, streams: Streams, prefix: str):
        self.next_row = streams.rows(
            tuple(prefix + n for n in UNIFORM_DRAWS), tuple(prefix + n for n in NORMAL_DRAWS)
        )

    def give(self, person: "Person") -> None:
        person.luck = self.next_row()


class Person:
    __slots__ = (
        "id", "group", "funding", "place", "ucr_suitable", "ucr_would_succeed", "avoidable_other",
        "pathway", "package_factor", "entered_at", "luck",
    )

    def choose(self, split: list[tuple[str, float]], u: float) -> str:
        """The option whose cumulative probability first exceeds u."""
        cumulative = 0.0
        for name, probability in split:
            cumulative += probability
            if u < cumulative:
                return name
        return split[-1][0]


_COLUMN = {name: column for column, name in enumerate(_U + _Z)}


def replace_draw(person: Person, name: str, value: float) -> None:
    """Change one draw of a person's luck (for a stay already under way at the start, sim.initial_state)."""
    column = _COLUMN[name]
    person.luck = (*person.luck[:column], value, *person.luck[column + 1:])


def _draw(column: int) -> property:
    return property(lambda person: person.luck[column])


# Each draw of a person's luck is read by name (person.u_refer, person.z_acute_los).
for _column, _name in enumerate(_U + _Z):
    setattr(Person, _name, _draw(_column))


class People:
    """Makes people with their luck and what follows from it in this scenario."""

    def __init__(self, model: "Model"):
        scenario = model.scenario
        self.first = Luck(model.streams, "")
        self.again = Luck(model.streams, "readmission.")
        self.groups = [(name, g.share) for name, g in scenario.need_groups.items()]
        self.suitable = {name: g.ucr_suitable for name, g in scenario.need_groups.items()}
        self.other = {name: g.avoidable_other for name, g in scenario.need_groups.items()}
        funding = scenario.funding
        self.funding = [
            ("self", funding.self_funder_share),
            ("partial", funding.partial_share),
            ("council", max(0.0, 1.0 - funding.self_funder_share - funding.partial_share)),
        ]
        self.success = scenario.services.urgent_response.success_probability
        self._ids = count()

    def new(self, place: str, luck: Luck | None = None, groups: list[tuple[str, float]] | None = None) -> Person:
        """Someone in crisis; or, given their own `luck` and `groups`, someone already in a service at the start."""
        person = Person()
        person.id = next(self._ids)
        person.place = place
        (luck or self.first).give(person)
        person.group = person.choose(groups or self.groups, person.u_group)
        person.funding = person.choose(self.funding, person.u_funding)
        self._derive(person)
        return person

    def readmit(self, person: Person) -> None:
        """A readmission is a new episode for the same person: fresh luck, same group and means."""
        self.again.give(person)
        self._derive(person)

    def _derive(self, person: Person) -> None:
        person.ucr_suitable = person.u_ucr_suitable < self.suitable[person.group]
        person.ucr_would_succeed = person.ucr_suitable and person.u_ucr_success < self.success
        person.avoidable_other = person.u_avoidable_other < self.other[person.group]
        person.pathway = None
        person.package_factor = 1.0


def journey(model: "Model", person: Person, where: str = "crisis", holding: "Service | None" = None):
    """From a crisis at home to wherever the person ends up: the story, one step at a time.

    People already in the system when the simulation starts (sim.initial_state)
    join the story at `where`, perhaps `holding` a place: "acute" is the rest
    of an acute stay under way.
    """
    locality = model.places[person.place]
    services = locality.services
    flows = model.flows
    if where == "crisis":
        where = "hospital"
        if model.referred_to_ucr(person):
            flows.count("crisis", "urgent_response")
            where = yield from services.urgent_response.respond(person)
            flows.count("urgent_response", "ED" if where == "hospital" else where)
        else:
            flows.count("crisis", "ED")
    readmission = False
    while True:
        if where == "hospital":
            flows.count("ED", "acute")
            yield from services.acute.arrive(person, readmission)
            holding = services.acute
            where = "acute"
        if where == "acute":
            where = yield from holding.stay(person)
            if where == "care_home":
                where = person.choose(model.care_home_split, person.u_care_home_type)
            flows.count("acute", where if where == "died" else person.pathway)
            if where != "died":
                flows.count(person.pathway, where)
            continue
        if where == "care_home":
            where = person.choose(model.care_home_split, person.u_care_home_type)
        if where in Assessment.PLACEMENTS:
            where = locality.assessment.decide(person, where)
        if where in ("home", "died", "end", "readmitted"):
            if holding is not None:
                holding.left(person)
                if where != "end" and holding.name != "acute":
                    flows.count(holding.name, where)
                holding = None
            if where == "readmitted":
                model.people.readmit(person)
                readmission = True
                where = "hospital"
                continue
            model.leave(person, where)
            return
        service = getattr(services, where)
        place = service.slots.request(person)
        asked = model.env.now
        if not place.triggered:
            if holding is not None:
                holding.start_delay(person, where)
                yield place
                holding.end_delay(person)
            else:
                yield place
        # A place free at once is taken at once: no trip through SimPy's event queue.
        if holding is not None:
            holding.left(person)
            if holding.name != "acute":
                flows.count(holding.name, where)
        service.entered(person, model.env.now - asked)
        holding = service
        where = yield from service.stay(person)
