"""Extra capacity a unit opens under pressure: escalation beds, and care bought from other providers.

Both are reviewed at fixed intervals (a hospital's bed meetings, a council's
brokerage each day), as real decisions are, not at every admission:

- escalation beds open when more than `open_above` of the core beds are
  occupied (people in escalation beds count above 100%), and close once
  fewer than `close_below` are; closing puts nobody out, the beds drain;
- spot purchase buys a step more capacity (up to its limit) when the expected
  wait of someone asking now (the queue, times the mean stay, over the
  places on offer: Little's law) is above `above_wait_days`, and gives a
  step back when nobody waits and a step lies idle.

A capacity event (sim/pathway/capacity.py) sets the core capacity; what is
open on top of it is added again at the next review. Counted in the
measured period: days with anything open, capacity-days open (which the
unit's cost line charges) and how often it opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.scenario.escalation import Escalation, SpotPurchase

if TYPE_CHECKING:
    from sim.pathway.kinds import Unit
    from sim.pathway.model import Model

HOURS = 1 / 24


class ExtraCapacity:
    """Capacity opened above a unit's core, reviewed every `review_hours`."""

    def __init__(self, unit: "Unit", spec: Escalation | SpotPurchase):
        self.unit = unit
        self.spec = spec
        self.env = unit.env
        self.measure_from = unit.measure_from
        self.extra = 0.0          # open now, above the core
        self._expected = unit.slots.capacity
        self._last = 0.0
        self.days_open = 0.0      # measured: days with anything open
        self.capacity_days = 0.0  # measured: extra capacity times days open
        self.opened = 0           # measured: times it opened from nothing

    @property
    def core(self) -> float:
        return self.unit.slots.capacity - self.extra

    def _advance(self) -> None:
        now = self.env.now
        start = max(self._last, self.measure_from)
        if now > start and self.extra > 0:
            self.days_open += now - start
            self.capacity_days += self.extra * (now - start)
        self._last = now

    def _set_extra(self, extra: float) -> None:
        self._advance()
        if extra > 0 and self.extra == 0 and self.env.now >= self.measure_from:
            self.opened += 1
        core = self.core
        self.extra = extra
        self._expected = core + extra
        self.unit.slots.set_capacity(self._expected)

    def _sync(self) -> None:
        """A capacity event set the core since the last review: what was open is added on top again."""
        slots = self.unit.slots
        if slots.capacity != self._expected:
            self._advance()
            opened, self.extra = self.extra, 0.0
            self._expected = slots.capacity
            if opened:
                self._set_extra(opened)

    def wanted(self) -> float:  # pragma: no cover - each kind decides
        raise NotImplementedError

    def run(self):
        interval = self.spec.review_hours * HOURS
        while True:
            self._sync()
            want = self.wanted()
            if want != self.extra:
                self._set_extra(want)
            yield self.env.timeout(interval)

    def capacity_days_so_far(self) -> float:
        """Extra capacity-days open in the measured period up to now, without closing the current stretch."""
        start = max(self._last, self.measure_from)
        running = self.extra * (self.env.now - start) if self.env.now > start and self.extra > 0 else 0.0
        return self.capacity_days + running

    def close(self) -> None:
        self._advance()


class EscalationBeds(ExtraCapacity):
    def wanted(self) -> float:
        core = self.core
        if core <= 0:
            return self.extra
        occupancy = self.unit.slots.in_use / core
        if occupancy > self.spec.open_above:
            return float(max(1, round(core * self.spec.beds_share)))
        if occupancy < self.spec.close_below:
            return 0.0
        return self.extra


class SpotPurchased(ExtraCapacity):
    def __init__(self, unit: "Unit", spec: SpotPurchase, per_person: float | None, mean_stay: float):
        super().__init__(unit, spec)
        self.whole = per_person is None  # places, not visit-hours
        self.per_person = per_person or 1.0   # capacity one person takes (1 place, or visit-hours a day)
        self.mean_stay = mean_stay

    def _amount(self, share: float) -> float:
        amount = self.core * share
        return float(max(1, round(amount))) if self.whole else max(self.per_person, amount)

    def expected_wait_days(self) -> float:
        slots = self.unit.slots
        places = slots.capacity / self.per_person
        return len(slots.queue) * self.mean_stay / places if places > 0 else float("inf")

    def wanted(self) -> float:
        spec, slots = self.spec, self.unit.slots
        step = self._amount(spec.step_share)
        if self.expected_wait_days() > spec.above_wait_days:
            return min(max(step, self._amount(spec.up_to_share)), self.extra + step)
        idle = slots.capacity - slots.in_use * self.per_person
        if not slots.queue and self.extra > 0 and idle >= step:
            return max(0.0, self.extra - step)
        return self.extra


def _own(model: "Model", unit: "Unit", field: str):
    place = model.scenario.places.get(unit.place)
    if place is not None and unit.name in place.services:
        own = getattr(place.services[unit.name], field)
        if own is not None:
            return own
    return getattr(unit.spec, field, None)


def attach(model: "Model") -> None:
    """Give each unit whose service (or place) asks for it its extra capacity (unit.escalation)."""
    for unit in model.unit_list:
        escalation = _own(model, unit, "escalation")
        if escalation is not None and not unit.slots.unlimited:
            unit.escalation = EscalationBeds(unit, escalation)
            continue
        spot = _own(model, unit, "spot_purchase")
        if spot is not None and not unit.slots.unlimited:
            workforce = getattr(unit.spec, "workforce", None)
            per_person = (workforce.first_day_hours + workforce.last_day_hours) / 2 if workforce else None
            groups = model.scenario.need_groups
            mean_stay = sum(groups[g].share * s.mean for g, s in unit.samplers.items())
            unit.escalation = SpotPurchased(unit, spot, per_person, mean_stay)


def start(model: "Model") -> None:
    for unit in model.unit_list:
        if unit.escalation is not None:
            model.env.process(unit.escalation.run())
