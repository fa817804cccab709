"""Stress over time: demand surges and capacity events, placed on the calendar.

A surge (winter, heatwave, outbreak) multiplies the crisis rate on every day
from its `start` to its `end` date, both included; overlapping surges
multiply. A capacity event changes one service's capacity from its `start`
date to its `end` date (included; null = for the rest of the run): `set` a
new capacity, `add` places (negative to remove), or `multiply` it (0.7 = a
30% cut). Overlapping events on one service apply in the order written.

Capacity changes happen at the start of the day. When capacity falls below
the number of people inside, nobody is put out: the service drains as people
leave, and new admissions wait until occupancy is below the new capacity.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Protocol


class _Change(Protocol):
    set: float | None
    add: float | None
    multiply: float | None


class _Event(Protocol):
    name: str
    service: str
    start: dt.date
    end: dt.date | None
    change: _Change


class _Surge(Protocol):
    start: dt.date
    end: dt.date
    multiplier: float


def surge_factors(surges: Iterable[_Surge], first_day: dt.date, days: int) -> list[float]:
    """Demand multiplier on each of `days` days from `first_day` (1.0 outside every surge)."""
    factors = [1.0] * days
    for surge in surges:
        lo = max(0, (surge.start - first_day).days)
        hi = min(days, (surge.end - first_day).days + 1)
        for d in range(lo, hi):
            factors[d] *= surge.multiplier
    return factors


def _active(event: _Event, date: dt.date) -> bool:
    return event.start <= date and (event.end is None or date <= event.end)


def _apply(capacity: float, change: _Change, integral: bool) -> float:
    if change.set is not None:
        return change.set
    if capacity == math.inf:
        return capacity
    if change.add is not None:
        return capacity + change.add
    new = capacity * change.multiply
    # Places (beds, slots) are whole; visit-hours need not be.
    return float(round(new)) if integral else new


def capacity_steps(
    base: float | None, events: Sequence[_Event], integral: bool = True
) -> list[tuple[dt.date, float]]:
    """Where one service's capacity changes: (first date of the new value, capacity), in date order.

    `base` is the capacity with no event (None = unlimited). Only the dates at
    which some event starts or ends (the day after its `end`) appear.
    """
    base_value = math.inf if base is None else float(base)
    dates = sorted({e.start for e in events} | {e.end + dt.timedelta(days=1) for e in events if e.end is not None})
    steps = []
    for date in dates:
        capacity = base_value
        for event in events:
            if _active(event, date):
                capacity = _apply(capacity, event.change, integral)
        steps.append((date, capacity))
    return steps
