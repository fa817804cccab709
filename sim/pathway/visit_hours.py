"""Home-based capacity as staff visit-hours a day, with each person's visits tapering over their episode.

A caseload counts people; real reablement and home care teams run out of
staff hours. Here a person needs `first_day_hours` of visits a day when their
episode starts, falling linearly to `last_day_hours` at the end of their
episode (and staying there if they wait at home to move on). A person can
start when the hours everyone already inside needs now, plus their own
first-day hours, fit within `visit_hours_per_day`. Since everyone's needs fall
as their episodes go on, waiting people are looked at again at the start of
every day, as well as whenever someone leaves, first come first served.

It offers the journey the same interface as `Slots`: `in_use`, `queue`,
`peak_*` and the admission counters still count people; `capacity` is the
visit-hours a day (what the daily census records for this service), and
`area_hours` counts the visit-hours delivered in the measured period.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy

from sim.pathway.slots import Slots

if TYPE_CHECKING:
    from sim.pathway.person import Person
    from sim.scenario.services import Workforce as WorkforceConfig

# Hours are summed in floating point; a person who fits exactly must not be refused for rounding.
_EPSILON = 1e-9


class VisitHours(Slots):
    __slots__ = ("first_day_hours", "last_day_hours", "episode_days", "_plans", "_waiting", "area_hours")

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        config: "WorkforceConfig",
        episode_days: Callable[["Person"], float],
        measure_from: float = 0.0,
    ):
        super().__init__(env, name, None, measure_from)
        self.capacity = config.visit_hours_per_day
        self.first_day_hours = config.first_day_hours
        self.last_day_hours = config.last_day_hours
        self.episode_days = episode_days
        self._plans: dict[int, tuple[float, float]] = {}  # person id -> (start, episode days)
        self._waiting: dict[simpy.Event, "Person"] = {}
        self.area_hours = 0.0  # visit-hours delivered in the measured period
        env.process(self._each_day())

    # --- hours ------------------------------------------------------------------------

    def _hours(self, start: float, days: float, t: float) -> float:
        """Hours a day a person needs at time t of an episode that began at `start`."""
        if days <= 0 or t - start >= days:
            return self.last_day_hours
        return self.first_day_hours + (self.last_day_hours - self.first_day_hours) * (t - start) / days

    def _hours_between(self, start: float, days: float, a: float, b: float) -> float:
        """Visit-hours a person receives between times a and b (the taper is linear, then flat)."""
        end_of_taper = start + max(days, 0.0)
        total = 0.0
        if a < end_of_taper:
            top = min(b, end_of_taper)
            total += (self._hours(start, days, a) + self._hours(start, days, top)) / 2 * (top - a)
        if b > end_of_taper:
            total += self.last_day_hours * (b - max(a, end_of_taper))
        return total

    def hours_committed(self) -> float:
        """Visit-hours a day that the people inside need now."""
        now = self.env.now
        return sum(self._hours(start, days, now) for start, days in self._plans.values())

    def hours_so_far(self) -> float:
        """Visit-hours delivered in the measured period up to now, read without disturbing the count."""
        now = self.env.now
        start = self._last if self._last > self.measure_from else self.measure_from
        if now <= start:
            return self.area_hours
        return self.area_hours + sum(self._hours_between(s, d, start, now) for s, d in self._plans.values())

    def _has_room(self) -> bool:
        """Room for one more person's first day, given what the people inside need now."""
        return self.hours_committed() + self.first_day_hours <= self.capacity + _EPSILON

    # --- the Slots interface ----------------------------------------------------------

    def _advance(self) -> None:
        now = self.env.now
        start = self._last if self._last > self.measure_from else self.measure_from
        if now > start:
            self.area_hours += sum(self._hours_between(s, d, start, now) for s, d in self._plans.values())
        super()._advance()

    def request(self, person: "Person | None" = None) -> simpy.Event:
        if person is None:
            raise TypeError(f"{self.name}: a workforce needs to know who asks (their episode sets their visits)")
        self._advance()
        self.requested += 1
        event = self.env.event()
        if not self.queue and self._has_room():
            self._admit(event, person)
        else:
            self.queue.append(event)
            self._waiting[event] = person
            self._note_peaks()
        return event

    def grant_now(self, event: simpy.Event, person: "Person | None" = None) -> None:
        self._advance()
        self.requested += 1
        self._admit(event, person)

    def _admit(self, event: simpy.Event, person: "Person") -> None:
        self._grant(event)  # checks the room before this person's visits count
        self._plans[person.id] = (self.env.now, self.episode_days(person))

    def occupy_at_start(self, person: "Person | None" = None) -> None:
        super().occupy_at_start(person)
        self._plans[person.id] = (person.entered_at, self.episode_days(person))

    def cancel(self, event: simpy.Event) -> None:
        if event.triggered:
            raise ValueError(f"{self.name}: a started episode ends with release(person), not cancel")
        del self._waiting[event]
        super().cancel(event)

    def release(self, person: "Person | None" = None) -> None:
        if person is None:
            raise TypeError(f"{self.name}: a workforce needs to know whose visits end")
        self._advance()
        del self._plans[person.id]
        self.in_use -= 1
        self.released += 1
        self._serve_queue()
        self._offer()

    def _serve_queue(self) -> None:
        queue = self.queue
        while queue and self._has_room():
            event = queue.popleft()
            self._admit(event, self._waiting.pop(event))

    def _each_day(self):
        while True:
            yield self.env.timeout(1.0)
            self._advance()
            self._serve_queue()
            self._offer()  # needs fall as episodes go on: room may have come free
