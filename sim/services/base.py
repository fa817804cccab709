"""What every service has: a capacity, and counters of its activity in the measured period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.services.slots import Slots

if TYPE_CHECKING:
    from sim.model import Model
    from sim.patient import Person


class Service:
    """A service that holds a person in one of its places for a while, then sends them on."""

    def __init__(self, model: "Model", name: str, capacity: int | None):
        self.model = model
        self.env = model.env
        self.name = name
        self.measure_from = model.measure_from
        self.slots = Slots(model.env, name, capacity, model.measure_from)
        self.admissions = 0              # people given a place in the measured period
        self.stays: list[float] = []     # total time holding a place, for stays ended in the period, days
        self.waits_to_enter: list[float] = []  # days waited for a place, for people admitted in the period
        self.delayed_days: dict[str, float] = {}  # days spent here waiting to move on, by where they waited to go
        self.delayed_people: dict[str, int] = {}
        self.days_before_start = 0.0     # spent before the run by people here at its start (sim.initial_state)
        self._delayed_now: dict[int, tuple[float, str]] = {}

    # --- counting -------------------------------------------------------------

    @property
    def measuring(self) -> bool:
        return self.env.now >= self.measure_from

    def entered(self, person: "Person", waited: float) -> None:
        now = person.entered_at = self.env.now
        if now >= self.measure_from:
            self.admissions += 1
            self.waits_to_enter.append(waited)

    def stayed_so_far(self, person: "Person") -> float:
        """Days of the current stay already spent: none on arrival, some for people there at the start."""
        return self.env.now - person.entered_at

    def left(self, person: "Person") -> None:
        self.slots.release(person)
        now = self.env.now
        if now >= self.measure_from:
            self.stays.append(now - person.entered_at)

    def start_delay(self, person: "Person", reason: str) -> None:
        self._delayed_now[person.id] = (self.env.now, reason)

    def end_delay(self, person: "Person") -> None:
        start, reason = self._delayed_now.pop(person.id)
        self._count_delay(start, reason)

    def _count_delay(self, start: float, reason: str) -> None:
        days = self.env.now - max(start, self.model.measure_from)
        if days > 0:
            self.delayed_days[reason] = self.delayed_days.get(reason, 0.0) + days
            self.delayed_people[reason] = self.delayed_people.get(reason, 0) + 1

    def close(self) -> None:
        """Count delays still running at the end of the run, then close the time-weighted counts."""
        for start, reason in self._delayed_now.values():
            self._count_delay(start, reason)
        self._delayed_now.clear()
        self.slots.close()

    def process_delay(self, person: "Person", days: float):
        """Time in the bed after the person is ready to leave, spent on assessments and decisions."""
        if days > 0:
            self.start_delay(person, "discharge_process")
            yield self.env.timeout(days)
            self.end_delay(person)

    # --- the stay -------------------------------------------------------------

    def stay(self, person: "Person"):
        """A SimPy generator: the person's time here. Returns where they go next."""
        raise NotImplementedError
