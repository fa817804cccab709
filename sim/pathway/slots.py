"""Places a service can offer at once (beds, teams, caseload slots), first come first served.

Leaner than simpy.Resource, and it keeps time-weighted counts as it goes so
nothing needs an event log: occupancy and queue areas, peaks, and how many
asked, got in and left. Capacity may change while the model runs; when it
drops below the number in use, nobody is put out: it drains as people leave.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import simpy


class Slots:
    __slots__ = (
        "env", "name", "capacity", "in_use", "queue", "measure_from",
        "_last", "area_in_use", "area_queue", "peak_in_use", "peak_queue",
        "requested", "granted", "released", "cancelled", "over_capacity", "_granted_at_once", "on_free",
    )

    def __init__(self, env: simpy.Environment, name: str, capacity: int | None, measure_from: float = 0.0):
        self.env = env
        self.name = name
        self.capacity = math.inf if capacity is None else capacity
        self.in_use = 0
        self.queue: deque[simpy.Event] = deque()
        self.measure_from = measure_from
        self._last = 0.0
        self.area_in_use = 0.0
        self.area_queue = 0.0
        self.peak_in_use = 0
        self.peak_queue = 0
        self.requested = self.granted = self.released = self.cancelled = 0
        # People admitted while in_use was above capacity: must stay zero.
        self.over_capacity = 0
        # The answer to every request granted at once: one event, processed at the start of the
        # run, so a process carries on without a trip through SimPy's event queue (most requests).
        self._granted_at_once = simpy.Event(env).succeed()
        # Called when a place is free here and nobody here waits for it (overflow lends it elsewhere).
        self.on_free: Callable[[], None] | None = None

    @property
    def unlimited(self) -> bool:
        return self.capacity == math.inf

    def _advance(self) -> None:
        now = self.env.now
        last = self._last
        start = last if last > self.measure_from else self.measure_from
        if now > start:
            self.area_in_use += self.in_use * (now - start)
            self.area_queue += len(self.queue) * (now - start)
        self._last = now

    def _note_peaks(self) -> None:
        if self.env.now >= self.measure_from:
            if self.in_use > self.peak_in_use:
                self.peak_in_use = self.in_use
            if len(self.queue) > self.peak_queue:
                self.peak_queue = len(self.queue)

    def request(self, person: object = None) -> simpy.Event:
        """An event that fires when a place is free for this person.

        `person` does not matter to a place; capacities that depend on who
        asks (sim/services/workforce.py) take the same arguments.
        """
        self._advance()
        self.requested += 1
        if not self.queue and self.in_use < self.capacity:
            self._count_in()
            return self._granted_at_once
        event = simpy.Event(self.env)
        self.queue.append(event)
        self._note_peaks()
        return event

    def can_take_now(self) -> bool:
        """Whether a request made now would be granted at once (nobody waiting, room for one more)."""
        return not self.queue and self._has_room()

    def grant_now(self, event: simpy.Event, person: object = None) -> None:
        """Grant a request made elsewhere (`event`, not yet triggered) here, now: the caller checked `can_take_now`."""
        self._advance()
        self.requested += 1
        self._grant(event)

    def _offer(self) -> None:
        if self.on_free is not None and self.can_take_now():
            self.on_free()

    def occupy_at_start(self, person: object = None) -> None:
        """Someone found holding a place when the run starts: in, even above capacity (it drains)."""
        self._advance()
        self.requested += 1
        self.in_use += 1
        self.granted += 1
        self._note_peaks()

    def _has_room(self) -> bool:
        return self.in_use < self.capacity

    def _count_in(self) -> None:
        if not self._has_room():
            self.over_capacity += 1
        self.in_use += 1
        self.granted += 1
        self._note_peaks()

    def _grant(self, event: simpy.Event) -> None:
        self._count_in()
        event.succeed()

    def cancel(self, event: simpy.Event) -> None:
        """Withdraw a request that has not been granted (the person went elsewhere)."""
        if event.triggered:
            self.release()
            return
        self._advance()
        self.queue.remove(event)
        self.cancelled += 1

    def release(self, person: object = None) -> None:
        self._advance()
        self.in_use -= 1
        self.released += 1
        self._serve_queue()
        if self.on_free is not None:
            self._offer()

    def set_capacity(self, capacity: int | None) -> None:
        self._advance()
        self.capacity = math.inf if capacity is None else capacity
        self._serve_queue()
        self._offer()

    def _serve_queue(self) -> None:
        queue = self.queue
        while queue and self.in_use < self.capacity:
            self._grant(queue.popleft())

    def area_so_far(self) -> float:
        """Occupied days in the measured period up to now, read without disturbing the running count."""
        start = self._last if self._last > self.measure_from else self.measure_from
        now = self.env.now
        return self.area_in_use + (self.in_use * (now - start) if now > start else 0.0)

    def close(self) -> None:
        """Bring the time-weighted counts up to now (call once at the end of a run)."""
        self._advance()
