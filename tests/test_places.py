"""Places: apportioning, sharing a service between places (local, pooled, overflow), per-place outputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import simpy
from scipy import stats

from queueing import mean_wait
from sim.model import run_replication
from sim.places import PlaceSlots, Sharing, Totals, apportion, capacities, demand_shares
from sim.scenario import Scenario, ScenarioError, load_scenario, validate
from support import BASELINE, ROOT, single_queue, small_system

PLACES = ROOT / "scenarios" / "places"
SERVICES = (
    "urgent_response", "acute", "reablement", "community_beds", "temporary_residential",
    "home_care", "residential_care", "nursing_care",
)
# Counts that per-place figures must add up to exactly.
ADDITIVE = (
    "crises", "conservation.entered", "conservation.left", "conservation.inside_at_end", "ucr.referrals",
    "ucr.admissions_avoided", "ed.attendances", "acute.admissions", "acute.deaths", "pathway.P2",
    "reablement.admissions", "community_beds.admissions", "home_care.packages", "long_term.decisions",
    "delayed.bed_days", "acute.occupancy_mean", "community_beds.occupancy_mean", "cost.nhs", "cost.council",
    "cost.self_funder", "cost.total",
)


def with_places(scenario: Scenario, places: dict, sharing: dict | None = None) -> Scenario:
    data = scenario.resolved
    data["places"] = places
    data["sharing"] = sharing or {}
    return validate(data, "<test>")


def _interval(values, confidence=0.99):
    values = np.asarray(values, float)
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), half


# --- apportioning demand and capacity ------------------------------------------------------


def test_apportion_rounds_by_largest_remainder_and_keeps_the_total():
    assert apportion(1400, [0.37, 0.30, 0.33]) == [518, 420, 462]
    assert apportion(10, [1 / 3] * 3) == [4, 3, 3]        # a tie goes to the first place
    assert apportion(20, [0.37, 0.30, 0.33]) == [7, 6, 7]  # 7.4, 6.0, 6.6: the .6 gets the spare one
    assert apportion(0, [0.5, 0.5]) == [0, 0]
    assert apportion(None, [0.5, 0.5]) == [None, None]
    rng = np.random.default_rng(1)
    for _ in range(200):
        shares = rng.dirichlet(np.ones(rng.integers(1, 6)))
        total = int(rng.integers(0, 3000))
        split = apportion(total, list(shares))
        assert sum(split) == total
        assert all(abs(n - total * s) < 1 for n, s in zip(split, shares))


def test_mse_places_add_up_to_the_baseline_system():
    baseline = load_scenario(BASELINE)
    split = load_scenario(PLACES / "mse-places.yaml")
    assert math.isclose(sum(demand_shares(split).values()), 1.0)
    caps = capacities(split)
    assert set(caps) == {"mid_essex", "basildon_brentwood", "south_east_essex"}
    for service in SERVICES:
        system, _ = baseline.services.capacity_of(service)
        values = [caps[p][service] for p in caps]
        assert (None in values) if system is None else sum(values) == system, service


def test_a_place_setting_its_own_capacity_keeps_it_and_changes_no_other_place():
    before = capacities(load_scenario(PLACES / "mse-places-overflow.yaml"))
    after = capacities(load_scenario(PLACES / "mse-places-mid-essex-reablement.yaml"))
    assert after["mid_essex"]["reablement"] == 147 != before["mid_essex"]["reablement"]
    for place in ("basildon_brentwood", "south_east_essex"):
        assert after[place] == before[place]


def test_places_giving_their_own_crises_set_the_system_demand():
    scenario = with_places(small_system(), {"a": {"crises_per_year": 3000}, "b": {"crises_per_year": 1000}})
    assert demand_shares(scenario) == {"a": 0.75, "b": 0.25}
    kpis = run_replication(scenario.with_changes({"run.horizon_days": 100, "run.warmup_days": 0}), 0).kpis
    expected = 4000 * 100 / 365  # seasonal multipliers average one over a year, not over 100 days
    assert abs(kpis["crises"] - expected) < 0.25 * expected
    assert abs(kpis["place.a.crises"] / kpis["crises"] - 0.75) < 0.05


@pytest.mark.parametrize(
    "places, sharing, field",
    [
        ({"a": {"demand_share": 0.6}, "b": {"demand_share": 0.6}}, {}, "sum to 1"),
        ({"a": {"demand_share": 0.5}, "b": {"crises_per_year": 100}}, {}, "every place"),
        ({"a": {"demand_share": 0.5, "crises_per_year": 100}, "b": {"demand_share": 0.5}}, {}, "either demand_share"),
        ({"Mid Essex": {"demand_share": 1.0}}, {}, "places.Mid Essex"),
        ({"system": {"demand_share": 1.0}}, {}, "not 'system'"),
        ({"a": {"demand_share": 1.0}}, {"beds": {"mode": "pooled"}}, "sharing.beds"),
        ({"a": {"demand_share": 1.0}}, {"acute": {"mode": "pooled", "after_hours": 4}}, "overflow only"),
        ({"a": {"demand_share": 1.0}}, {"acute": {"mode": "shared"}}, "sharing.acute.mode"),
        ({"a": {"demand_share": 1.0, "services": {"acute": {"capacity": 3}}}}, {}, "places.a.services.acute"),
        ({}, {"acute": {"mode": "pooled"}}, "needs places"),
    ],
)
def test_bad_places_are_refused_naming_the_field(places, sharing, field):
    with pytest.raises(ScenarioError) as error:
        with_places(small_system(), places, sharing)
    assert field in str(error.value)
    assert str(error.value).startswith("<test>")


# --- the shared capacity object, step by step --------------------------------------------------


class Someone:
    def __init__(self, id: int):
        self.id = id


def two_places(mode: str | None, after_hours: float = 0.0, beds: int = 1):
    env = simpy.Environment()
    totals = Totals(env, 0.0)
    sharing = Sharing(env, mode, after_hours, 0.0) if mode else None
    a = PlaceSlots(env, "beds", beds, 0.0, "a", totals, sharing)
    b = PlaceSlots(env, "beds", beds, 0.0, "b", totals, sharing)
    return env, a, b


def assert_counts_add_up(*slots):
    for s in slots:
        assert s.granted == s.released + s.in_use
        assert s.requested == s.granted + s.cancelled + len(s.queue)
        assert s.over_capacity == 0


def test_overflow_takes_a_free_place_elsewhere_only_when_home_is_full():
    env, a, b = two_places("overflow")
    p1, p2, p3 = Someone(1), Someone(2), Someone(3)
    first = a.request(p1)
    assert first.triggered and (a.in_use, b.in_use, a.placed_away) == (1, 0, 0)  # home had room
    second = a.request(p2)
    assert second.triggered and (a.in_use, b.in_use, a.placed_away) == (1, 1, 1)  # home full: b's bed
    third = a.request(p3)
    assert not third.triggered and len(a.queue) == 1  # every place full: waits at home
    a.release(p2)  # p2 leaves the bed they actually got, in b: p3 takes it
    assert third.triggered and (a.in_use, b.in_use, len(a.queue), a.placed_away) == (1, 1, 0, 2)
    b_own = b.request(Someone(4))
    assert not b_own.triggered  # b is full of a's people now; b's own resident waits at home
    a.release(p1)  # a's own bed frees: a's queue is empty, so b's waiting resident takes it
    assert b_own.triggered and b.placed_away == 1
    assert_counts_add_up(a, b)


def test_local_never_moves_anyone():
    env, a, b = two_places(None)
    a.request(Someone(1))
    waiting = a.request(Someone(2))
    assert not waiting.triggered and b.in_use == 0 and a.placed_away == 0


def test_overflow_after_hours_waits_that_long_at_home_first():
    env, a, b = two_places("overflow", after_hours=24)
    a.request(Someone(1))
    waiting = a.request(Someone(2))
    env.run(until=0.999)
    assert not waiting.triggered and b.in_use == 0
    env.run(until=1.001)
    assert waiting.triggered and b.in_use == 1 and a.placed_away == 1
    assert_counts_add_up(a, b)


def test_overflow_after_hours_leaves_alone_someone_served_at_home_meanwhile():
    env, a, b = two_places("overflow", after_hours=24)
    p1, p2 = Someone(1), Someone(2)
    a.request(p1)
    waiting = a.request(p2)
    env.run(until=0.5)
    a.release(p1)
    assert waiting.triggered and a.in_use == 1
    env.run(until=2)
    assert b.in_use == 0 and a.placed_away == 0
    assert_counts_add_up(a, b)


def test_pooled_is_one_queue_first_come_first_served():
    env, a, b = two_places("pooled")
    p1, p2, p3, p4 = (Someone(i) for i in range(4))
    a.request(p1)
    b.request(p2)
    from_a = a.request(p3)   # waiting first
    from_b = b.request(p4)   # waiting second
    b.release(p2)            # b's bed goes to the longest waiter, from a, not to b's own
    assert from_a.triggered and not from_b.triggered
    a.release(p1)
    assert from_b.triggered
    assert_counts_add_up(a, b)


def test_cancelled_request_is_not_placed_elsewhere_later():
    env, a, b = two_places("overflow", after_hours=1)
    a.request(Someone(1))
    gave_up = a.request(Someone(2))
    a.cancel(gave_up)
    env.run(until=1)
    assert b.in_use == 0 and not gave_up.triggered
    assert_counts_add_up(a, b)


# --- queueing theory: separate and pooled M/M/c --------------------------------------------------

LAMBDA, STAY, BEDS = 3.0, 1.0, 4  # per place: 3 arrivals a day, 1-day stays, 4 beds (75% busy)
LONG = {"run.horizon_days": 2500, "run.warmup_days": 100}
HALVES = {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.5}}


def _waits(sharing: dict | None, reps: int = 5) -> list[dict]:
    scenario = with_places(single_queue(2 * LAMBDA, STAY, 2 * BEDS, **LONG), HALVES, sharing)
    return [run_replication(scenario, rep).kpis for rep in range(reps)]


@pytest.fixture(scope="module")
def separate():
    return _waits(None)


@pytest.fixture(scope="module")
def pooled():
    return _waits({"acute": {"mode": "pooled"}})


def test_two_separate_places_each_wait_as_their_own_mmc(separate):
    expected = mean_wait(BEDS, LAMBDA, 1 / STAY) * 24
    for place in ("a", "b"):
        mean, half = _interval([k[f"place.{place}.ed.wait_hours_mean"] for k in separate])
        assert abs(mean - expected) <= half, (place, mean, half, expected)


def test_pooling_two_mmc_gives_the_mm2c_wait(pooled, separate):
    expected = mean_wait(2 * BEDS, 2 * LAMBDA, 1 / STAY) * 24
    mean, half = _interval([k["ed.wait_hours_mean"] for k in pooled])
    assert abs(mean - expected) <= half, (mean, half, expected)
    # Erlang C: pooling cuts the mean wait from about 12.2 hours to about 4.3.
    saving = mean_wait(BEDS, LAMBDA, 1 / STAY) * 24 - expected
    assert saving > 7.9
    paired = [s["ed.wait_hours_mean"] - p["ed.wait_hours_mean"] for s, p in zip(separate, pooled)]
    mean, half = _interval(paired)
    assert abs(mean - saving) <= half, (mean, half, saving)


def test_overflow_at_once_is_as_good_as_pooling_for_mmc():
    # Nobody waits while a bed is free anywhere, and stays do not depend on the bed: M/M/2c again.
    kpis = _waits({"acute": {"mode": "overflow"}})
    expected = mean_wait(2 * BEDS, 2 * LAMBDA, 1 / STAY) * 24
    mean, half = _interval([k["ed.wait_hours_mean"] for k in kpis])
    assert abs(mean - expected) <= half, (mean, half, expected)
    assert min(k["acute.out_of_area_placements"] for k in kpis) > 0


# --- the whole pathway, place by place -----------------------------------------------------------

SMALL = {"run.horizon_days": 150, "run.warmup_days": 40}


def test_one_place_with_all_the_demand_is_the_system_exactly():
    base = small_system(**SMALL)
    one = with_places(base, {"everywhere": {"demand_share": 1.0}})
    plain, split = run_replication(base, 0).kpis, run_replication(one, 0).kpis
    for name, value in plain.items():
        assert split[name] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), name
        assert split[f"place.everywhere.{name}"] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), name


def test_pooling_every_service_reproduces_the_one_place_system():
    # One pool with one first-come-first-served queue admits the same people at the same
    # times as the single system: the place draw moves no other stream's draws.
    base = small_system(**SMALL)
    split = with_places(
        base,
        {"mid_essex": {"demand_share": 0.37}, "basildon_brentwood": {"demand_share": 0.30},
         "south_east_essex": {"demand_share": 0.33}},
        {name: {"mode": "pooled"} for name in SERVICES},
    )
    for rep in range(2):
        plain, pooled = run_replication(base, rep).kpis, run_replication(split, rep).kpis
        for name, value in plain.items():
            assert pooled[name] == pytest.approx(value, rel=1e-9, abs=1e-6, nan_ok=True), name
        assert pooled["acute.out_of_area_placements"] > 0  # people did use other places' beds


@pytest.mark.parametrize("sharing", [None, "overflow", "pooled"])
def test_per_place_outputs_add_up_to_the_system(sharing):
    places = {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.3, "services": {"community_beds": {"beds": 6}}},
              "c": {"demand_share": 0.2}}
    config = {}
    if sharing:
        config = {n: {"mode": sharing, "out_of_area_cost_gbp": 250} for n in ("community_beds", "reablement")}
    result = run_replication(with_places(small_system(**SMALL), places, config), 0)
    kpis = result.kpis
    for name in ADDITIVE:
        assert sum(kpis[f"place.{p}.{name}"] for p in places) == pytest.approx(kpis[name], rel=1e-9), name
    daily = result.daily_by_place.groupby(["day", "service"])[["occupancy", "queue", "capacity"]].sum()
    system = result.daily.set_index(["day", "service"])[["occupancy", "queue", "capacity"]]
    assert np.array_equal(daily.loc[system.index].to_numpy(), system.to_numpy())
    if sharing == "overflow":
        fees = [c for c in result.costs if c.service == "community_beds_out_of_area"]
        assert fees and fees[0].cost_gbp == 250 * kpis["community_beds.out_of_area_placements"]
        assert fees[0].payer == "nhs"


def test_overflow_moves_people_only_out_of_a_full_place():
    places = {"tight": {"demand_share": 0.5, "services": {"community_beds": {"beds": 3}}},
              "ample": {"demand_share": 0.5, "services": {"community_beds": {"beds": 200}}}}
    scenario = with_places(small_system(**SMALL), places, {"community_beds": {"mode": "overflow"}})
    kpis = run_replication(scenario, 0).kpis
    assert kpis["place.tight.community_beds.out_of_area_placements"] > 10
    assert kpis["place.ample.community_beds.out_of_area_placements"] == 0
    assert kpis["place.tight.community_beds.wait_mean"] == 0  # the ample place always had room
    roomy = with_places(small_system(**SMALL, **{"services.community_beds.beds": None}), places | {
        "tight": {"demand_share": 0.5}, "ample": {"demand_share": 0.5}}, {"community_beds": {"mode": "overflow"}})
    assert run_replication(roomy, 0).kpis["community_beds.out_of_area_placements"] == 0


@pytest.fixture(scope="module")
def halves_and_half_system():
    """Two identical local places, and the one-place model at half the demand and capacity."""
    changes = {**SMALL, "demand.crises_per_year": 5400, "services.urgent_response.capacity": 4,
               "services.acute.beds": 150, "services.reablement.capacity": 40, "services.community_beds.beds": 40,
               "services.temporary_residential.beds": 20}
    whole = with_places(small_system(**changes), HALVES)
    half = small_system(**{**changes, "demand.crises_per_year": 2700, "services.urgent_response.capacity": 2,
                           "services.acute.beds": 75, "services.reablement.capacity": 20,
                           "services.community_beds.beds": 20, "services.temporary_residential.beds": 10})
    reps = range(6)
    return [run_replication(whole, r).kpis for r in reps], [run_replication(half, r + 100).kpis for r in reps]


@pytest.mark.parametrize("kpi", [
    "crises", "acute.admissions", "acute.occupancy_mean", "ed.wait_hours_mean", "reablement.occupancy_mean",
    "community_beds.occupancy_mean", "community_beds.wait_mean", "cost.total",
])
def test_two_separate_places_behave_like_two_independent_half_systems(halves_and_half_system, kpi):
    whole, half = halves_and_half_system
    reference = [k[kpi] for k in half]
    for place in ("a", "b"):
        values = [k[f"place.{place}.{kpi}"] for k in whole]
        # Welch's two-sample t-test at 1%: the place is indistinguishable from a half-size system.
        assert stats.ttest_ind(values, reference, equal_var=False).pvalue > 0.01, (place, values, reference)


def test_extra_capacity_in_one_place_helps_the_others_through_overflow():
    places = {"a": {"demand_share": 0.5, "services": {"reablement": {"capacity": 14}}},
              "b": {"demand_share": 0.5, "services": {"reablement": {"capacity": 14}}}}
    more = dict(places, a={"demand_share": 0.5, "services": {"reablement": {"capacity": 40}}})
    sharing = {"reablement": {"mode": "overflow"}}
    base = small_system(**SMALL)
    before = [run_replication(with_places(base, places, sharing), r).kpis for r in range(4)]
    after = [run_replication(with_places(base, more, sharing), r).kpis for r in range(4)]
    waits = [(x["place.b.reablement.wait_mean"], y["place.b.reablement.wait_mean"]) for x, y in zip(before, after)]
    assert all(y < x for x, y in waits), waits  # b's own residents wait less, with common random numbers
    assert all(y["place.b.reablement.capacity"] == 14 for y in after)  # though b changed nothing


def test_same_scenario_and_seed_give_identical_place_results():
    scenario = with_places(small_system(**SMALL), HALVES, {"community_beds": {"mode": "overflow", "after_hours": 12}})
    assert run_replication(scenario, 3).kpis == run_replication(scenario, 3).kpis


@pytest.mark.parametrize("name", ["mse-places", "mse-places-pooled", "mse-places-overflow",
                                  "mse-places-mid-essex-reablement"])
def test_place_scenarios_run_at_reduced_size(name):
    scenario = load_scenario(PLACES / f"{name}.yaml").with_changes(
        {"run.horizon_days": 40, "run.warmup_days": 10, "demand.crises_per_year": 3000}
    )
    kpis = run_replication(scenario, 0).kpis
    assert sum(kpis[f"place.{p}.crises"] for p in scenario.places) == kpis["crises"] > 0
    assert Path(scenario.path).parent == PLACES


def test_results_folder_keeps_the_daily_census_per_place(tmp_path):
    from sim.experiment import Plan, run_experiment
    from sim.store import load

    scenario = with_places(small_system(**{"run.horizon_days": 30, "run.warmup_days": 5}), HALVES)
    written = run_experiment({"scenario": scenario}, Plan(replications=2), folder=tmp_path / "out")
    again = load(tmp_path / "out")
    per_place = again.daily_places
    assert set(per_place["place"]) == {"a", "b"} and set(per_place["replication"]) == {0, 1}
    summed = per_place.groupby(["replication", "day", "service"])["occupancy"].sum()
    system = again.daily.set_index(["replication", "day", "service"])["occupancy"]
    assert np.array_equal(summed.loc[system.index].to_numpy(), system.to_numpy())
    assert len(written.daily_places) == len(per_place) == 2 * 2 * 35 * len(SERVICES)


def test_each_place_is_checked_on_its_own_not_only_in_the_sum():
    from sim.invariants import InvariantError, check
    from sim.model import Model

    model = Model(with_places(small_system(**SMALL), HALVES), 0)
    result = model.run()
    a, b = (model.places[p].services.acute.slots for p in ("a", "b"))
    a.granted += 1  # an admission counted in the wrong place: the system's sums still agree
    b.granted -= 1
    with pytest.raises(InvariantError, match="admitted = left \\+ inside"):
        check(model, result)


def test_places_command_shows_the_split_or_refuses_a_bad_file(capsys, tmp_path):
    from sim.places import main

    assert main([str(PLACES / "mse-places.yaml")]) == 0
    shown = capsys.readouterr().out
    baseline = load_scenario(BASELINE).services
    assert "mid_essex" in shown
    assert shown.splitlines()[-1].split()[:4] == [
        "total", "1", str(baseline.urgent_response.capacity), str(baseline.acute.beds)
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nplaces: {{a: {{demand_share: 0.5}}}}\n")
    assert main([str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
