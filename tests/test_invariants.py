"""End-of-replication invariants: quiet on healthy runs, loud and specific on broken bookkeeping.

Each corruption below breaks exactly one rule; the error must name that rule,
so a failure in the field points at the counter that went wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sim import invariants
from sim.invariants import InvariantError
from sim.model import Model, run_replication
from sim.services.base import Service
from support import single_queue, small_system


def _tight(**changes):
    """A small, congested system with a warm-up: queues everywhere, people inside at the end."""
    return small_system(**{
        "run.horizon_days": 90, "run.warmup_days": 30, "demand.crises_per_year": 3000,
        "services.acute.beds": 70, "services.reablement.capacity": 10, "services.community_beds.beds": 10,
        "services.temporary_residential.beds": 4, "services.urgent_response.capacity": 2, **changes,
    })


@pytest.fixture(scope="module")
def healthy():
    model = Model(_tight(), replication=0)
    result = model.run()
    return model, result


def test_a_healthy_congested_run_passes_every_check_and_counts_them(healthy):
    model, result = healthy
    acute = model.services.acute.slots
    assert acute.peak_queue > 0, "the test system should be congested"
    services = len(list(model.services))
    checked = invariants.check(model, result)
    # people + 5 per service (places, requests, capacity, signs, Little) + census signs + places-only
    # services' daily capacity + one per cost line + 4 counted activities + partial shares + total
    assert checked >= 1 + 5 * services + 1 + len(result.costs) + 4 + 1


def test_littles_law_bookkeeping_is_exact_for_fixed_stays():
    """Fixed 2-day stays, no warm-up, unlimited beds: every ended stay is 2 days, and the occupied
    bed-days are those stays plus under 2 days for each person still in a bed at the end."""
    scenario = single_queue(6.0, 2.0, None, **{
        "services.acute.los_days": {"dist": "fixed", "value": 2.0},
        "run.warmup_days": 0, "run.horizon_days": 60,
    })
    model = Model(scenario, replication=0)
    model.run()
    acute = model.services.acute
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
    model = Model(scenario, replication=0)
    model.run()  # would raise InvariantError on a false alarm
    occupancy = model.daily[:, 1, 0]
    capacity = model.daily[:, 1, 2]
    assert (occupancy > capacity).any(), "the cut should leave the ward over its new capacity for a while"


def _corrupt_and_check(healthy, corrupt) -> str:
    model, result = healthy
    snapshot = dataclasses.replace(model.census)
    saved = {s.name: (s.slots.released, s.slots.requested, s.slots.over_capacity, s.slots.area_in_use,
                      list(s.stays)) for s in model.services}
    daily = model.daily.copy()
    try:
        changed = corrupt(model, result) or result
        with pytest.raises(InvariantError) as caught:
            invariants.check(model, changed)
        return str(caught.value)
    finally:
        model.census = snapshot
        model.daily = daily
        for s in model.services:
            s.slots.released, s.slots.requested, s.slots.over_capacity, s.slots.area_in_use, s.stays = saved[s.name]


CORRUPTIONS = {
    "conservation of people": lambda m, r: setattr(m.census, "entered", m.census.entered + 1),
    "admitted = left + inside": lambda m, r: setattr(m.services.acute.slots, "released",
                                                     m.services.acute.slots.released - 1),
    "requests add up": lambda m, r: setattr(m.services.reablement.slots, "requested",
                                            m.services.reablement.slots.requested + 3),
    "never admitted above capacity": lambda m, r: setattr(m.services.community_beds.slots, "over_capacity", 1),
    "no negative stays or waits": lambda m, r: m.services.acute.stays.append(-0.5),
    "occupancy matches stays (Little's law)": lambda m, r: setattr(
        m.services.acute.slots, "area_in_use", m.services.acute.slots.area_in_use * 2 + 1000),
    "occupancy never above capacity": lambda m, r: m.daily.__setitem__((40, 1, 0), m.daily[40, 1, 2] + 5),
    "census counts are not negative": lambda m, r: m.daily.__setitem__((3, 0, 1), -1),
    "cost = activity x unit cost": lambda m, r: dataclasses.replace(
        r, costs=[dataclasses.replace(r.costs[0], cost_gbp=r.costs[0].cost_gbp * 1.01 + 1), *r.costs[1:]]),
    "costed activity = counted activity": lambda m, r: dataclasses.replace(
        r, costs=[dataclasses.replace(c, activity=c.activity + 1, cost_gbp=(c.activity + 1) * c.unit_cost_gbp)
                  if c.service == "acute" else c for c in r.costs]),
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
    record_once = Service.left

    def left_counting_twice(self, person):
        record_once(self, person)
        if self.measuring:
            self.stays.append(self.env.now - person.entered_at)

    monkeypatch.setattr(Service, "left", left_counting_twice)
    with pytest.raises(InvariantError, match=r"invariant 'occupancy matches stays \(Little's law\)' broken"):
        run_replication(_tight(**{"run.warmup_days": 0}), replication=0)
