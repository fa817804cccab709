"""Service kinds: how a service holds people. A unit is one service in one place (or pooled for all).

Every kind offers the journey the same story: `wait` for a slot (a bed, a
caseload slot, a team; perhaps while holding a slot elsewhere), `stay`
(returns where the person goes next), and `left`. What differs is the
mechanics: slots held for a stay (beds, caseload, unlimited), visit-hours
that taper (visits), a team that
must be free within a give-up time (response team), or a placement lasting
years, paid year by year as means run down (long term).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.random.distributions import Sampler
from sim.pathway import long_term
from sim.pathway.person import Person
from sim.scenario.services import Beds, Caseload, LongTerm, ResponseTeam, Unlimited, Visits, stay_of
from sim.pathway.slots import Slots
from sim.pathway.visit_hours import VisitHours

if TYPE_CHECKING:
    from sim.pathway.model import Model

HOURS = 1 / 24
READMISSION_DAYS = 30  # a readmission counted "within 30 days" (NHS Digital's emergency readmissions indicator)
FUNDING = long_term.FUNDING


class Unit:
    """One service in one place: its capacity, and counts of its activity in the measured period."""

    # Whether a person keeps their slot here while they wait for the next service (blocking).
    holds_while_waiting = True

    def __init__(self, model: "Model", name: str, spec, place: str, capacity: float | None, los_multiplier: float):
        self.model = model
        self.env = model.env
        self.name = name
        self.spec = spec
        self.kind = spec.kind
        self.place = place
        self.measure_from = model.measure_from
        self.then = spec.then
        self.slots = self._make_slots(capacity)
        groups = model.scenario.need_groups
        stay = stay_of(spec)
        own = model.scenario.places.get(place)
        if own is not None and name in own.services and own.services[name].los_days is not None:
            stay = own.services[name].los_days
        self.samplers = {
            g: Sampler(stay, (group.los_multiplier if spec.group_multiplier else 1.0) * los_multiplier)
            for g, group in groups.items()
        }
        process = getattr(spec, "discharge_process", None)
        self.process = Sampler(process.days) if process is not None else None
        self.process_skips = frozenset(process.skip_for) if process is not None else frozenset()
        self.stream_stay = name + ".stay"
        self.stream_process = name + ".process"
        # counted in the measured period
        self.arrivals = 0
        self.admissions = 0
        self.readmissions = 0
        self.readmissions_30d = 0      # admissions within READMISSION_DAYS of the person last leaving here
        self.escalation = None         # extra capacity opened under pressure (sim/pathway/escalation.py)
        self.trait_sets: dict[frozenset[str], int] = {}
        self.stays: list[float] = []
        self.ready_days = 0.0          # of the stays ended: days until ready to leave
        self.waits: list[float] = []
        self.delayed_days: dict[str, float] = {}
        self.delayed_people: dict[str, int] = {}
        self.days_before_start = 0.0
        self.occupied_at_start = 0       # people found holding a slot when the run starts
        self.placed_away = 0           # people from another place given a place here (sharing)
        self._delayed_now: dict[int, tuple[float, str]] = {}

    def _make_slots(self, capacity: float | None) -> Slots:
        return Slots(self.env, self.name, None if capacity is None else int(capacity), self.measure_from)

    @property
    def measuring(self) -> bool:
        return self.env.now >= self.measure_from

    # --- the story -----------------------------------------------------------------

    def length_of_stay(self, person: Person) -> float:
        k = person.seen.get(self.name, 0)
        stream = self.stream_stay if k == 0 else f"{self.stream_stay}#{k}"
        return self.samplers[person.group].from_z(person.family.normal(stream, person.index))

    def with_trait(self, trait: str) -> int:
        """Admissions in the measured period of people with this trait."""
        return sum(n for traits, n in self.trait_sets.items() if trait in traits)

    def wait(self, person: Person, request):
        """Wait until the requested slot is free. Returns True once in."""
        yield request
        return True

    def entered(self, person: Person, waited: float) -> None:
        now = person.entered_at = self.env.now
        if now >= self.measure_from:
            self.admissions += 1
            self.waits.append(waited)
            if self.name in person.seen:
                self.readmissions += 1
                if now - person.left_at.get(self.name, -READMISSION_DAYS) <= READMISSION_DAYS:
                    self.readmissions_30d += 1
            # counted by the set of traits a person has (few sets), expanded per trait when measured
            self.trait_sets[person.traits] = self.trait_sets.get(person.traits, 0) + 1

    def stay(self, person: Person):
        """The stay, then any discharge process; returns the service or end the person goes to next."""
        env = self.env
        ready_after = self.length_of_stay(person)
        yield env.timeout(max(0.0, ready_after - (env.now - person.entered_at)))
        person.ready_at = env.now
        nxt, passed = self.model.router.follow(person, self.then, self.name)
        if self.process is not None and nxt not in self.process_skips and not self.process_skips.intersection(passed):
            days = self.process.from_z(person.normal(self.stream_process, self.name))
            if days > 0:
                self.start_delay(person, "discharge_process")
                yield self.env.timeout(days)
                self.end_delay(person)
        return nxt

    def left(self, person: Person) -> None:
        self.slots.release(person)
        now = self.env.now
        if now >= self.measure_from:
            self.stays.append(now - person.entered_at)
            self.ready_days += person.ready_at - person.entered_at
        person.met(self.name)
        person.left_at[self.name] = now

    # --- delays: days here waiting to move on ---------------------------------------------

    def start_delay(self, person: Person, reason: str) -> None:
        self._delayed_now[person.id] = (self.env.now, reason)

    def end_delay(self, person: Person) -> None:
        start, reason = self._delayed_now.pop(person.id)
        self._count_delay(start, reason)

    def _count_delay(self, start: float, reason: str) -> None:
        days = self.env.now - max(start, self.measure_from)
        if days > 0:
            self.delayed_days[reason] = self.delayed_days.get(reason, 0.0) + days
            self.delayed_people[reason] = self.delayed_people.get(reason, 0) + 1

    def close(self) -> None:
        """Count delays still running at the end, then close the time-weighted counts."""
        for start, reason in self._delayed_now.values():
            self._count_delay(start, reason)
        self._delayed_now.clear()
        self.slots.close()
        if self.escalation is not None:
            self.escalation.close()


class StayUnit(Unit):
    """Beds, a caseload, or a service with no limit: a slot held for a length of stay."""


class VisitsUnit(Unit):
    """Visit-hours a day that taper over each person's episode (sim/services/workforce.py)."""

    def _make_slots(self, capacity: float | None) -> Slots:
        workforce = self.spec.workforce
        if capacity is not None and capacity != workforce.visit_hours_per_day:
            workforce = workforce.model_copy(update={"visit_hours_per_day": capacity})
        return VisitHours(self.env, self.name, workforce, self.length_of_stay, self.measure_from)

    @property
    def visit_hours(self) -> float:
        return self.slots.area_hours


class ResponseUnit(Unit):
    """A response team: a team must be free within the give-up time, or the person goes elsewhere.

    The team leaves when its response ends: people it keeps at home wait at home for what comes next.
    """

    holds_while_waiting = False

    def __init__(self, model, name, spec, place, capacity, los_multiplier):
        super().__init__(model, name, spec, place, capacity, los_multiplier)
        self.give_up = spec.give_up_hours * HOURS
        self.target = spec.target_hours * HOURS
        self.travel = Sampler(spec.travel_hours)
        self.handover = spec.handover_hours * HOURS
        self.handover_to = frozenset(spec.handover_to)
        self.no_team_in_time = 0
        self.responses = 0
        self.within_target = 0
        self.response_hours: list[float] = []
        self.kept = 0
        self.handed_over = 0

    def wait(self, person: Person, request):
        yield request | self.env.timeout(self.give_up)
        if request.triggered:
            return True
        self.slots.cancel(request)
        if self.measuring:
            self.no_team_in_time += 1
        return False

    def stay(self, person: Person):
        env = self.env
        asked = person.asked_at
        yield env.timeout(self.travel.from_z(person.normal(self.name + ".travel", self.name)) * HOURS)
        if env.now >= self.measure_from:
            self.responses += 1
            response = env.now - asked
            self.response_hours.append(response * 24)
            if response <= self.target:
                self.within_target += 1
        person.ready_at = env.now
        nxt, passed = self.model.router.follow(person, self.then, self.name)
        if nxt in self.handover_to or self.handover_to.intersection(passed):
            yield env.timeout(self.handover)
            if env.now >= self.measure_from:
                self.handed_over += 1
        else:
            yield env.timeout(self.length_of_stay(person))
            if env.now >= self.measure_from:
                self.kept += 1
        return nxt


class LongTermUnit(Unit):
    """A long-term placement: lasts years, paid year by year by whoever pays as means run down.

    Its care is booked in sim/pathway/long_term.py: occupancy in each year of
    the measured period (people in care at the start included), and the whole
    stay a new placement commits, in the year it starts. The stay drawn is the
    person's survival in care.
    """

    def __init__(self, model, name, spec, place, capacity, los_multiplier):
        super().__init__(model, name, spec, place, capacity, los_multiplier)
        self.hours_per_week = Sampler(spec.hours_per_week) if spec.hours_per_week is not None else None
        self.hours_after = {route: Sampler(d) for route, d in spec.hours_per_week_after.items()}
        means = model.scenario.funding.spend_down.get(name)
        self.spend_down = long_term.SpendDown(name, means) if means is not None else None
        self.care = long_term.CareLedger(model.years)

    # Counts over the whole measured period, by means at entry (placements) or as paid (care committed).
    @property
    def placements(self) -> dict[str, float]:
        return self.care.placements.totals()

    @property
    def committed_days(self) -> dict[str, float]:
        return self.care.committed_days.totals()

    @property
    def committed_hours(self) -> dict[str, float]:
        return self.care.committed_hours.totals()

    def hours_a_day(self, person: Person) -> float:
        """Hours of care a day: a package sized by the route that sent the person, or the usual one."""
        sampler = self.hours_after.get(person.came_by, self.hours_per_week)
        if sampler is None:
            return 0.0
        return sampler.from_z(person.normal(self.name + ".hours", self.name)) * person.hours_multiplier / 7

    def stay(self, person: Person):
        days = self.length_of_stay(person)
        entered = person.entered_at
        hours = self.hours_a_day(person)
        path = self.spend_down.path(person, entered) if self.spend_down is not None else [(entered, person.funding)]
        self.care.start(person, entered, hours, path)
        if self.measuring and entered == self.env.now:
            self.care.commit(person, entered, days, hours, path)
        yield self.env.timeout(max(0.0, days - (self.env.now - entered)))
        person.ready_at = self.env.now
        nxt, _ = self.model.router.follow(person, self.then, self.name)
        return nxt

    def left(self, person: Person) -> None:
        self.care.left(person, self.env.now)
        super().left(person)

    def close(self) -> None:
        self.care.close(self.env.now)
        super().close()


KIND_UNITS = {
    Beds: StayUnit, Caseload: StayUnit, Unlimited: StayUnit,
    Visits: VisitsUnit, ResponseTeam: ResponseUnit, LongTerm: LongTermUnit,
}


def unit_for(model: "Model", name: str, spec, place: str, capacity: float | None, los_multiplier: float) -> Unit:
    return KIND_UNITS[type(spec)](model, name, spec, place, capacity, los_multiplier)
