"""Checks every replication must pass before its numbers are used (see docs/reliability.md).

Each check is exact bookkeeping, not statistics: a failure means a bug in the
model (or corrupted counters), never bad luck. They cost a few sums at the end
of a replication, so they always run.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from sim.measure.costs import in_totals
from sim.pathway.kinds import LongTermUnit
from sim.pathway.slots import Slots

if TYPE_CHECKING:
    from sim.measure.collect import ReplicationResult
    from sim.pathway.model import Census, Model

# Sums of many floating-point terms agree to about this relative precision.
RELATIVE_TOLERANCE = 1e-9

#: Checks run in this process so far (the test suite prints it).
TALLY: Counter = Counter()


class InvariantError(RuntimeError):
    """A replication broke a rule the model must keep: its numbers cannot be trusted."""


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-6)


class _Checker:
    def __init__(self, model: "Model"):
        self.model = model
        self.checked = 0

    def require(self, holds: bool, invariant: str, detail: str) -> None:
        self.checked += 1
        if not holds:
            model = self.model
            raise InvariantError(
                f"invariant '{invariant}' broken in replication {model.replication} of "
                f"'{model.scenario.name}': {detail}"
            )


def check(model: "Model", result: "ReplicationResult | None" = None) -> int:
    """Raise InvariantError naming the first broken invariant; return how many were checked."""
    checker = _Checker(model)
    _people(checker, model.census, "the system")
    for place, census in model.place_census.items():
        _people(checker, census, place)
    for unit in model.unit_list:
        stays = np.asarray(unit.stays, dtype=float)  # once per unit, for both checks
        _places(checker, unit, stays)
        _little(checker, model, unit, stays)
        if isinstance(unit, LongTermUnit):
            _care_in_years(checker, unit)
    _daily_census(checker, model)
    if result is not None:
        _costs(checker, result)
    TALLY["replications"] += 1
    TALLY["invariants"] += checker.checked
    return checker.checked


def _people(checker: _Checker, census: "Census", where: str) -> None:
    left = census.home + census.died + census.left
    checker.require(
        census.entered == left + census.inside, "conservation of people",
        f"{where}: {census.entered} entered but {left} left and {census.inside} are inside",
    )


def _places(checker: _Checker, unit, stays: np.ndarray) -> None:
    slots, name = unit.slots, f"{unit.name} ({unit.place})"
    checker.require(
        slots.granted == slots.released + slots.in_use, "admitted = left + inside",
        f"{name}: {slots.granted} admitted but {slots.released} left and {slots.in_use} inside",
    )
    checker.require(
        slots.requested == slots.granted + slots.cancelled + len(slots.queue), "requests add up",
        f"{name}: {slots.requested} requests but {slots.granted} admitted, {slots.cancelled} withdrawn "
        f"and {len(slots.queue)} waiting",
    )
    checker.require(
        slots.over_capacity == 0, "never admitted above capacity",
        f"{name}: {slots.over_capacity} people admitted above capacity",
    )
    checker.require(
        bool((stays >= 0).all()) and bool((np.asarray(unit.waits, dtype=float) >= 0).all()),
        "no negative stays or waits", f"{name}: a negative length of stay or wait",
    )


def _little(checker: _Checker, model: "Model", unit, stays: np.ndarray) -> None:
    """Time-weighted occupancy against the stays that make it up (Little's law bookkeeping).

    Over the measured period [T0, T0 + H], a stay that ended in the period adds
    between (stay - T0) and min(stay, H) to the occupied place-days, and each
    person still inside at the end adds at most H. With no warm-up and nobody
    inside at the end, the two bounds meet: place-days = sum of stays, exactly.
    """
    slots = unit.slots
    warmup = model.measure_from
    horizon = model.end - model.measure_from
    # Stays under way at the start (sim.initial_state) had part of their length before it.
    low = float(np.clip(stays - warmup, 0, None).sum()) - unit.days_before_start
    high = float(np.minimum(stays, horizon).sum()) + slots.in_use * horizon
    slack = RELATIVE_TOLERANCE * max(1.0, high) + 1e-6
    checker.require(
        low - slack <= slots.area_in_use <= high + slack, "occupancy matches stays (Little's law)",
        f"{unit.name}: {slots.area_in_use:.6g} occupied place-days, but the stays allow "
        f"{low:.6g} to {high:.6g}",
    )


def _care_in_years(checker: _Checker, unit: LongTermUnit) -> None:
    """Every day of long-term care in the period falls in one year and is paid by one payer."""
    booked = sum(sum(days) for days in unit.care.days.amount.values())
    checker.require(_close(booked, unit.slots.area_in_use), "care paid by year = occupancy",
                    f"{unit.name} ({unit.place}): {booked:,.3f} days of care booked in the years, "
                    f"{unit.slots.area_in_use:,.3f} days occupied")


def _daily_census(checker: _Checker, model: "Model") -> None:
    """Nobody is counted above capacity, except while draining (after a cut, or from a full start)."""
    daily = model.daily
    checker.require(bool((daily[:, :, :2] >= 0).all()), "census counts are not negative",
                    "a negative occupancy or queue in the daily census")
    for i, unit in enumerate(model.unit_list):
        if type(unit.slots) is not Slots:
            continue  # capacity in other units (visit-hours), not places
        occupancy, capacity = daily[:, i, 0], daily[:, i, 2]
        # With at most one capacity change a day, occupancy can only exceed today's capacity
        # by keeping people admitted under yesterday's (larger) one.
        allowed = capacity.copy()
        allowed[1:] = np.maximum.reduce([capacity[1:], capacity[:-1], occupancy[:-1]])
        # People found above capacity at the start are let in as found; they drain from there.
        allowed[0] = max(allowed[0], unit.occupied_at_start)
        over = np.flatnonzero(occupancy > allowed)
        checker.require(
            over.size == 0, "occupancy never above capacity",
            f"{unit.name}: {occupancy[over[0]]:g} in use on census day {over[0]} with capacity "
            f"{capacity[over[0]]:g}" if over.size else "",
        )


def _costs(checker: _Checker, result: "ReplicationResult") -> None:
    """Every cost line is its activity times its unit cost, and the total is their sum."""
    for line in result.costs:
        checker.require(
            _close(line.cost_gbp, line.activity * line.unit_cost_gbp), "cost = activity x unit cost",
            f"{line.service} ({line.payer}): £{line.cost_gbp:,.2f} is not {line.activity:g} "
            f"{line.activity_unit} x £{line.unit_cost_gbp:,.2f}",
        )
    total = sum(line.cost_gbp for line in result.costs if in_totals(line))
    kpi = result.kpis.get("cost.total", math.nan)
    checker.require(_close(kpi, total), "total cost = sum of cost lines",
                    f"cost.total is £{kpi:,.2f} but the cost lines add up to £{total:,.2f}")
