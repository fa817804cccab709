"""Each unit's activity day by day in the measured period, so a cost falls in the year it happens.

At the end of every measured day one process notes each unit's running counts
(occupied days, admissions, arrivals, responses, visit-hours delivered,
placements away), read without disturbing them; the counts after the run
closes are the last note. A
day's activity is the difference of two notes, so the days add up exactly to
the period's counts. Counting starts at day 0 of the measured period, so the
note at day 0 is nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.pathway.kinds import Unit
    from sim.pathway.model import Model

COUNTS = ("occupied", "admissions", "arrivals", "responses", "visit_hours", "placed_away", "extra_capacity")
COLUMN = {name: i for i, name in enumerate(COUNTS)}


def _so_far(unit: "Unit", closed: bool) -> tuple[float, ...]:
    slots = unit.slots
    occupied = slots.area_in_use if closed else slots.area_so_far()
    hours = getattr(slots, "area_hours", 0.0) if closed else getattr(slots, "hours_so_far", lambda: 0.0)()
    extra = unit.escalation  # escalation beds or bought care, paid by the day they are open
    extra_days = 0.0 if extra is None else extra.capacity_days_so_far()
    return occupied, unit.admissions, unit.arrivals, getattr(unit, "responses", 0), hours, unit.placed_away, extra_days


def new_ledger(model: "Model") -> np.ndarray:
    """Notes at the end of each measured day (row k: days 0..k-1 done), for every unit."""
    return np.zeros((model.measured_days + 1, len(model.unit_list), len(COUNTS)))


def keep(model: "Model"):
    """The process that notes every unit's counts at the end of each measured day."""
    env, units, ledger = model.env, model.unit_list, model.ledger
    for k in range(1, model.measured_days):
        yield env.timeout(model.measure_from + k - env.now)
        ledger[k] = [_so_far(unit, False) for unit in units]


def close(model: "Model") -> None:
    """The last note: every unit's counts once the run has closed them."""
    model.ledger[-1] = [_so_far(unit, True) for unit in model.unit_list]


def by_day(model: "Model", unit_index: int, count: str) -> np.ndarray:
    """One unit's activity on each measured day (day 0 first)."""
    return np.diff(model.ledger[:, unit_index, COLUMN[count]])
