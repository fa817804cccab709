"""End-of-replication invariants: quiet on healthy runs, loud and specific on broken bookkeeping.

Each corruption below breaks exactly one rule; the error must name that rule,
so a failure in the field points at the counter that went wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sim.measure import invariants
from sim.measure.collect import collect, run_replication
from sim.measure.invariants import InvariantError
from sim.pathway.kinds import LongTermUnit, Unit
from sim.pathway.model import Model
from sim.pathway.slots import Slots
from support import single_queue, small_system


def _tight(**changes):
    """A small, congested system with a warm-up: queues everywhere, people inside at the end."""
    return small_system(**{
        "run.horizon_days": 90, "run.warmup_days": 30, "demand.crises_per_year": 3000,
        "services.acute.capacity": 70, "services.reablement.capacity": 10, "services.community_beds.capacity": 10,
        "services.temporary_residential.capacity": 4, "services.urgent_response.capacity": 2, **changes,
    })


@pytest.fixture(scope="module")
def healthy():
    model = Model(_tight(), replication=0).run()
    return model, collect(model)


def _acute(model: Model) -> Unit:
    return model.units["acute"]["system"]


def test_a_healthy_congested_run_passes_every_check_and_counts_them(healthy):
    model, result = healthy
    assert _acute(model).slots.peak_queue > 0, "the test system should be congested"
    units = model.unit_list
    assert len(units) == 8 and len(result.costs) > 8
    checked = invariants.check(model, result)
    # people (the system and its one place) + 5 per unit (places, requests, capacity, signs, Little)
    # + care paid by year of each long-term unit + census signs + daily capacity of each unit of places
    # + one per cost line + total
    places_units = sum(type(u.slots) is Slots for u in units)
    long_term = sum(isinstance(u, LongTermUnit) for u in units)
    assert long_term == 3
    assert checked == 2 + 5 * len(units) + long_term + 1 + places_units + len(result.costs) + 1


def test_littles_law_bookkeeping_is_exact_for_fixed_stays():
    """Fixed 2-day stays, no warm-up, unlimited beds: every ended stay is 2 days, and the occupied
    bed-days are those stays plus under 2 days for each person still in a bed at the end."""
    scenario = single_queue(6.0, 2.0, None, **{
        "services.acute.los_days": {"dist": "fixed", "value": 2.0},
        "run.warmup_days": 0, "run.horizon_days": 60,
    })
    model = Model(scenario, replication=0).run()
    acute = _acute(model)
    ended = len(acute.stays)
    assert ended > 250 and all(stay == pytest.approx(2.0) for stay in acute.stays)
    assert ended * 2.0 - 1e-9 <= acute.slots.area_in_use <= (ended + acute.slots.in_use) * 2.0 + 1e-9


def test_a_capacity_cut_that_drains_is_not_reported_as_overfull():
    """Cutting beds below occupancy puts nobody out; the census may show more in use than capacity."""
    start = _tight().run.start_date
    scenario = _tight(capacity_events=[{
        "name": "ward closure", "service": "acute", "start": start + dt.timedelta(days=20),
        "change": {"set": 20},
    }])
    model = Model(scenario, replication=0).run()
    assert invariants.check(model, collect(model)) > 0  # would raise InvariantError on a false alarm
    acute = model.unit_list.index(_acute(model))
    occupancy = model.daily[:, acute, 0]
    capacity = model.daily[:, acute, 2]
    assert (occupancy > capacity).any(), "the cut should leave the ward over its new capacity for a while"


def _corrupt_and_check(healthy, corrupt) -> str:
    model, result = healthy
    snapshot = dataclasses.replace(model.census)
    saved = {u: (u.slots.released, u.slots.requested, u.slots.over_capacity, u.slots.area_in_use, list(u.stays))
             for u in model.unit_list}
    daily = model.daily.copy()
    try:
        changed = corrupt(model, result) or result
        with pytest.raises(InvariantError) as caught:
            invariants.check(model, changed)
        return str(caught.value)
    finally:
        model.census = snapshot
        model.daily = daily
        for u in model.unit_list:
            u.slots.released, u.slots.requested, u.slots.over_capacity, u.slots.area_in_use, u.stays = saved[u]


def _slots(m: Model, service: str) -> Slots:
    return m.units[service]["system"].slots


def _over_capacity_on_day_40(m: Model) -> None:
    acute = m.unit_list.index(_acute(m))
    m.daily[40, acute, 0] = m.daily[40, acute, 2] + 5


CORRUPTIONS = {
    "conservation of people": lambda m, r: setattr(m.census, "entered", m.census.entered + 1),
    "admitted = left + inside": lambda m, r: setattr(_slots(m, "acute"), "released", _slots(m, "acute").released - 1),
    "requests add up": lambda m, r: setattr(_slots(m, "reablement"), "requested", _slots(m, "reablement").requested + 3),
    "never admitted above capacity": lambda m, r: setattr(_slots(m, "community_beds"), "over_capacity", 1),
    "no negative stays or waits": lambda m, r: _acute(m).stays.append(-0.5),
    "occupancy matches stays (Little's law)": lambda m, r: setattr(
        _slots(m, "acute"), "area_in_use", _slots(m, "acute").area_in_use * 2 + 1000),
    "occupancy never above capacity": lambda m, r: _over_capacity_on_day_40(m),
    "census counts are not negative": lambda m, r: m.daily.__setitem__((3, 0, 1), -1),
    "cost = activity x unit cost": lambda m, r: dataclasses.replace(
        r, costs=[dataclasses.replace(r.costs[0], cost_gbp=r.costs[0].cost_gbp * 1.01 + 1), *r.costs[1:]]),
    "total cost = sum of cost lines": lambda m, r: dataclasses.replace(
        r, kpis={**r.kpis, "cost.total": r.kpis["cost.total"] + 1000}),
}


@pytest.mark.parametrize("invariant", sorted(CORRUPTIONS))
def test_corrupted_counters_are_caught_by_name(healthy, invariant):
    message = _corrupt_and_check(healthy, CORRUPTIONS[invariant])
    assert f"invariant '{invariant}' broken in replication 0" in message
    assert healthy[0].scenario.name in message


def test_a_violation_stops_the_run(monkeypatch):
    """A service that counts each stay twice is caught by Little's law before any result is returned."""
    record_once = Unit.left

    def left_counting_twice(self, person):
        record_once(self, person)
        if self.measuring:
            self.stays.append(self.env.now - person.entered_at)

    monkeypatch.setattr(Unit, "left", left_counting_twice)
    with pytest.raises(InvariantError, match=r"invariant 'occupancy matches stays \(Little's law\)' broken"):
        run_replication(_tight(**{"run.warmup_days": 0}), replication=0)
