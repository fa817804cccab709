"""Demand surges and capacity events: on the right dates, with the right effect, and refused when wrong."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.pathway.demand import daily_rates, simulation_start
from sim.scenario.calendar import capacity_steps, surge_factors
from sim.measure.collect import run_replication
from sim.scenario import ScenarioError
from sim.scenario.places import CapacityEvent
from support import small_system

START = dt.date(2019, 4, 1)  # baseline run.start_date


def _event(service="community_beds", start="2019-05-01", end=None, **change) -> CapacityEvent:
    return CapacityEvent(name="x", service=service, start=start, end=end, change=change)


def test_surges_multiply_the_rate_on_their_days_only_and_overlaps_multiply():
    plain = small_system()
    surged = plain.with_changes({"demand.surges": [
        {"name": "winter", "start": "2019-12-01", "end": "2020-01-31", "multiplier": 1.2},
        {"name": "flu", "start": "2020-01-10", "end": "2020-01-20", "multiplier": 1.5},
    ]})
    days = 400
    ratio = daily_rates(surged, days) / daily_rates(plain, days)
    day0 = simulation_start(plain)
    dates = [day0 + dt.timedelta(days=d) for d in range(days)]
    expected = [
        (1.2 if dt.date(2019, 12, 1) <= d <= dt.date(2020, 1, 31) else 1.0)
        * (1.5 if dt.date(2020, 1, 10) <= d <= dt.date(2020, 1, 20) else 1.0)
        for d in dates
    ]
    np.testing.assert_allclose(ratio, expected)
    assert surge_factors([], day0, 3) == [1.0, 1.0, 1.0]


def test_a_surge_brings_that_many_more_crises():
    base = small_system(**{"run.warmup_days": 0, "run.horizon_days": 120, "demand.crises_per_year": 3650})
    whole = {"name": "outbreak", "start": str(START), "end": str(START + dt.timedelta(days=119)), "multiplier": 2.0}
    surged = base.with_changes({"demand.surges": [whole]})
    plain, doubled = run_replication(base).kpis["crises"], run_replication(surged).kpis["crises"]
    # ~1,200 crises a run; twice the rate gives twice the crises (Poisson sd ~3%).
    assert 1.85 < doubled / plain < 2.15


def test_capacity_steps_compose_in_order_and_restore_after_the_end():
    events = [
        _event(start="2019-05-01", end="2019-05-31", multiply=0.5),
        _event(start="2019-05-10", end="2019-06-15", add=-3),
        _event(start="2019-07-01", set=50),
    ]
    assert capacity_steps(40, events) == [
        (dt.date(2019, 5, 1), 20.0),
        (dt.date(2019, 5, 10), 17.0),
        (dt.date(2019, 6, 1), 37.0),
        (dt.date(2019, 6, 16), 40.0),
        (dt.date(2019, 7, 1), 50.0),
    ]
    assert capacity_steps(None, [_event(set=5)]) == [(dt.date(2019, 5, 1), 5.0)]
    assert capacity_steps(7.5, [_event(multiply=0.5)], integral=False) == [(dt.date(2019, 5, 1), 3.75)]


def test_a_ward_closure_shows_on_its_day_and_nobody_is_admitted_above_the_new_capacity():
    drop, reopen = dt.date(2019, 6, 1), dt.date(2019, 8, 15)  # long enough for stays of a month or more to drain
    scenario = small_system(**{
        "run.horizon_days": 150, "run.warmup_days": 60, "run.replications": 1,
        "capacity_events": [{"name": "ward closes", "service": "community_beds", "start": str(drop),
                             "end": str(reopen - dt.timedelta(days=1)), "change": {"set": 12}}],
    })
    daily = run_replication(scenario).daily
    beds = daily[daily.service == "community_beds"].set_index("day")
    first, back = (drop - START).days, (reopen - START).days
    assert beds.loc[first - 1, "capacity"] == 40
    assert (beds.loc[first:back - 1, "capacity"] == 12).all()
    assert beds.loc[back, "capacity"] == 40
    occupied = beds.loc[first - 1:back - 1, "occupancy"].to_numpy()
    assert occupied[1] > 12, "the closure should catch people inside (else draining is not tested)"
    # Above capacity, occupancy can only fall (people leave, nobody new comes in); below, it stays below.
    for before, after in zip(occupied[1:-1], occupied[2:]):
        assert after <= max(before, 12)
    assert occupied[-1] <= 12
    assert beds.loc[first:back - 1, "queue"].max() > beds.loc[first - 30:first - 1, "queue"].max()


def test_a_staff_absence_cuts_ucr_for_six_weeks_then_restores_it():
    absence = {"name": "staff absence", "service": "urgent_response", "start": "2019-05-01",
               "end": "2019-06-11", "change": {"multiply": 0.5}}
    scenario = small_system(**{"run.horizon_days": 120, "run.replications": 1, "capacity_events": [absence]})
    result = run_replication(scenario)
    ucr = result.daily[result.daily.service == "urgent_response"].set_index("day")["capacity"]
    assert ucr.loc[29] == 4 and ucr.loc[30] == 2 and ucr.loc[71] == 2 and ucr.loc[72] == 4
    calm = run_replication(small_system(**{"run.horizon_days": 120, "run.replications": 1}))
    assert result.kpis["ucr.no_team_in_time"] > calm.kpis["ucr.no_team_in_time"]




@pytest.mark.parametrize(
    ("event", "where", "what"),
    [
        ({"service": "wards"}, "capacity_events.0.service", "'wards' is not a service"),
        ({"end": "2019-04-01"}, "capacity_events.0", "before start"),
        ({"change": {"add": -50}}, "capacity_events.0.change", "would be -10"),
        ({"change": {"set": 2.5}}, "capacity_events.0.change", "whole places"),
        ({"service": "home_care", "change": {"add": 5}}, "capacity_events.0.change", "unlimited"),
        ({"change": {"set": 5, "add": 1}}, "capacity_events.0.change", "exactly one of set, add or multiply"),
    ],
)
def test_bad_capacity_events_are_refused_naming_the_field(event, where, what):
    good = {"name": "x", "service": "community_beds", "start": "2019-05-01", "change": {"set": 10}}
    with pytest.raises(ScenarioError) as caught:
        small_system(capacity_events=[{**good, **event}])
    assert where in str(caught.value) and what in str(caught.value)


def test_a_surge_ending_before_it_starts_is_refused():
    with pytest.raises(ScenarioError, match=r"demand.surges.0: end 2019-01-01 is before start 2019-12-01"):
        small_system(**{"demand.surges": [{"name": "w", "start": "2019-12-01", "end": "2019-01-01", "multiplier": 2}]})


def test_the_stress_scenarios_extend_the_baseline_and_load():
    from sim.scenario import load_scenario
    from support import ROOT

    folder = ROOT / "scenarios" / "stress"
    names = {p.stem for p in folder.glob("*.yaml")}
    assert {"winter-surge", "reablement-staffing-shock", "community-beds-sweep"} <= names
    for path in folder.glob("*.yaml"):
        text = path.read_text()
        assert "extends: ../baseline.yaml" in text, path.name
        load_scenario(path)
    winter = load_scenario(folder / "winter-surge.yaml")
    assert [s.name for s in winter.demand.surges] == ["hard winter", "flu outbreak"]
    sweep = load_scenario(folder / "community-beds-sweep.yaml")
    assert len(sweep.sweep.expand()) == 15 and len(sweep.service_levels) == 3


def test_capacity_events_with_places_split_the_systems_and_keep_each_places_own():
    from sim.stress_figures import stress_periods

    closure = {"name": "ward closes", "service": "community_beds", "start": "2019-06-01", "end": "2019-06-30",
               "change": {"add": -10}}
    own = {"name": "a's ward closes", "service": "community_beds", "start": "2019-07-01", "change": {"set": 5}}
    scenario = small_system(**{
        "run.horizon_days": 150, "run.warmup_days": 60, "run.replications": 1, "capacity_events": [closure],
        "places": {"a": {"demand_share": 0.6, "capacity_events": [own]}, "b": {"demand_share": 0.4}},
    })
    result = run_replication(scenario)
    beds = result.daily_by_place[result.daily_by_place.service == "community_beds"].set_index(["place", "day"])
    june, july = (dt.date(2019, 6, 1) - START).days, (dt.date(2019, 7, 1) - START).days
    # 40 beds as 24 and 16; the system's 10 fewer in June as 6 and 4; from July a has 5 of its own.
    assert [beds.loc[(p, june - 1), "capacity"] for p in "ab"] == [24, 16]
    assert [beds.loc[(p, june), "capacity"] for p in "ab"] == [18, 12]
    assert [beds.loc[(p, july), "capacity"] for p in "ab"] == [5, 16]
    occupied = beds.loc["a"].loc[july - 1:, "occupancy"].to_numpy()
    assert occupied[1] > 5, "the closure should catch people inside (else draining is not tested)"
    for before, after in zip(occupied[1:-1], occupied[2:]):  # a drains: nobody new while above capacity
        assert after <= max(before, 5)
    assert [what for what, _, _ in stress_periods(scenario)] == [
        "community_beds: ward closes", "community_beds in a: a's ward closes"]
