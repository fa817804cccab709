"""Places: apportioning, sharing a service between places (local, pooled, overflow), per-place outputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pathway_helpers import FUNDING
from queueing import mean_wait
from sim.measure.collect import run_replication
from sim.pathway.arrivals import place_shares
from sim.pathway.capacity import apportion, place_capacity, system_capacity
from sim.pathway.journey import journey
from sim.pathway.model import Model
from sim.scenario import Scenario, ScenarioError, load_scenario, validate
from support import BASELINE, ROOT, single_queue, small_system

PLACES = ROOT / "scenarios" / "places"
SERVICES = (
    "urgent_response", "acute", "reablement", "community_beds", "temporary_residential",
    "home_care", "residential_care", "nursing_care",
)
# Counts that per-place figures must add up to exactly.
ADDITIVE = (
    "crises", "conservation.entered", "conservation.inside_at_end", "ucr.referrals",
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


def capacities(scenario: Scenario) -> dict[str, dict[str, float | None]]:
    return {p: {s: place_capacity(scenario, s, p) for s in scenario.services} for p in scenario.places}


def _interval(values, confidence=0.99):
    values = np.asarray(values, float)
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), half


# --- apportioning demand and capacity ------------------------------------------------------


def test_apportion_rounds_by_largest_remainder_and_keeps_the_total():
    def split(total, shares):
        return list(apportion(total, dict(enumerate(shares)), True).values())

    assert split(1400, [0.37, 0.30, 0.33]) == [518, 420, 462]
    assert split(10, [1 / 3] * 3) == [4, 3, 3]        # a tie goes to the first place
    assert split(20, [0.37, 0.30, 0.33]) == [7, 6, 7]  # 7.4, 6.0, 6.6: the .6 gets the spare one
    assert split(0, [0.5, 0.5]) == [0, 0]
    assert apportion(7.5, {"a": 0.6, "b": 0.4}, False) == pytest.approx({"a": 4.5, "b": 3.0})  # visit-hours
    rng = np.random.default_rng(1)
    for _ in range(200):
        shares = rng.dirichlet(np.ones(rng.integers(1, 6)))
        total = int(rng.integers(0, 3000))
        parts = split(total, list(shares))
        assert sum(parts) == total
        assert all(abs(n - total * s) < 1 for n, s in zip(parts, shares))


def test_mse_places_add_up_to_the_baseline_system():
    baseline = load_scenario(BASELINE)
    split = load_scenario(PLACES / "mse-places.yaml")
    assert math.isclose(sum(place_shares(split).values()), 1.0)
    caps = capacities(split)
    assert set(caps) == {"mid_essex", "basildon_brentwood", "south_east_essex"}
    for service in SERVICES:
        system = system_capacity(baseline, service)
        values = [caps[p][service] for p in caps]
        assert (None in values) if system is None else sum(values) == system, service
    assert all(caps[p]["home_care"] is None for p in caps)  # unlimited stays unlimited in every place


def test_a_place_setting_its_own_capacity_keeps_it_and_changes_no_other_place():
    before = capacities(load_scenario(PLACES / "mse-places-overflow.yaml"))
    after = capacities(load_scenario(PLACES / "mse-places-mid-essex-reablement.yaml"))
    assert after["mid_essex"]["reablement"] == 147 != before["mid_essex"]["reablement"]
    for place in ("basildon_brentwood", "south_east_essex"):
        assert after[place] == before[place]


def test_places_that_set_no_capacity_share_what_the_others_leave():
    scenario = with_places(small_system(), {
        "a": {"demand_share": 0.5, "services": {"community_beds": {"capacity": 30}}},
        "b": {"demand_share": 0.3}, "c": {"demand_share": 0.2}})
    caps = capacities(scenario)
    # 40 beds in the system, 30 of them a's: b and c share 10 as 0.3 : 0.2.
    assert [caps[p]["community_beds"] for p in "abc"] == [30, 6, 4]
    assert [caps[p]["acute"] for p in "abc"] == [80, 48, 32]


def test_places_giving_their_own_crises_set_the_system_demand():
    scenario = with_places(small_system(), {"a": {"crises_per_year": 3000}, "b": {"crises_per_year": 1000}})
    assert place_shares(scenario) == {"a": 0.75, "b": 0.25}
    kpis = run_replication(scenario.with_changes({"run.horizon_days": 100, "run.warmup_days": 0}), 0).kpis
    expected = 4000 * 100 / 365  # seasonal multipliers average one over a year, not over 100 days
    assert abs(kpis["crises"] - expected) < 0.25 * expected
    assert abs(kpis["place.a.crises"] / kpis["crises"] - 0.75) < 0.05


@pytest.mark.parametrize(
    "places, sharing, field",
    [
        ({"a": {"demand_share": 0.6}, "b": {"demand_share": 0.6}}, {}, "sum to 1"),
        ({"a": {"demand_share": 0.5}, "b": {"crises_per_year": 100}}, {}, "every place"),
        ({"a": {"demand_share": 0.5, "crises_per_year": 100}, "b": {"demand_share": 0.5}}, {}, "not both"),
        ({"system": {"demand_share": 1.0}}, {}, "'system' is reserved"),
        ({"a": {"demand_share": 1.0}}, {"beds": {"mode": "pooled"}}, "sharing.beds"),
        ({"a": {"demand_share": 1.0}}, {"acute": {"mode": "pooled", "after_hours": 4}}, "overflow only"),
        ({"a": {"demand_share": 1.0}}, {"acute": {"mode": "shared"}}, "sharing.acute.mode"),
        ({"a": {"demand_share": 1.0, "services": {"acute": {"capacity": 2.5}}}}, {}, "places.a.services.acute"),
        ({"a": {"demand_share": 1.0, "services": {"wards": {"capacity": 3}}}}, {}, "places.a.services.wards"),
        ({"a": {"demand_share": 1.0, "services": {"acute": {"capacity": 3}}}}, {"acute": {"mode": "pooled"}},
         "acute is pooled"),
        ({}, {"acute": {"mode": "pooled"}}, "needs places"),
    ],
)
def test_bad_places_are_refused_naming_the_field(places, sharing, field):
    with pytest.raises(ScenarioError) as error:
        with_places(small_system(), places, sharing)
    assert field in str(error.value)
    assert str(error.value).startswith("<test>")


def test_a_place_name_that_cannot_be_part_of_a_kpi_name_is_refused():
    with pytest.raises(ScenarioError, match="places.Mid Essex"):
        with_places(small_system(), {"Mid Essex": {"demand_share": 1.0}})


# --- sharing a service between two places, step by step ----------------------------------------


def two_places(mode: str | None, after_hours: float = 0.0, beds: int = 1, stay: float = 10.0) -> Model:
    """Two places, each with `beds` beds of one ward (stays of `stay` days), sharing it as `mode`; nobody arrives by chance."""
    data = {
        "name": "two places",
        "run": {"horizon_days": 30, "warmup_days": 0, "replications": 1},
        "need_groups": {"all": {"share": 1.0}},
        "funding": FUNDING,
        "services": {"ward": {"kind": "beds", "capacity": 2 * beds, "los_days": {"dist": "fixed", "value": stay}}},
        "places": {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.5}},
        "arrivals": {"ward": {"per_day": 0.0}},
    }
    if mode:
        data["sharing"] = {"ward": {"mode": mode, "after_hours": after_hours}}
    model = Model(validate(data, "<test>"))
    model.test_stays = {}
    for unit in model.unit_list:
        unit.length_of_stay = lambda person, unit=unit: model.test_stays.get(person.id, stay)
    return model


def arrive(model: Model, place: str, at: float = 0.0, stay: float | None = None):
    """Someone from `place` asking for the ward at time `at` (staying the ward's stay, or `stay` days)."""
    person = model.new_person(model.family("test"), place)
    if stay is not None:
        model.test_stays[person.id] = stay

    def go():
        yield model.env.timeout(max(0.0, at - model.env.now))
        yield from journey(model, person, "ward", "test", decided=True)

    model.env.process(go())
    return person


def slots(model: Model, place: str):
    return model.units["ward"][place].slots


def assert_counts_add_up(model: Model):
    for unit in model.unit_list:
        s = unit.slots
        assert s.granted == s.released + s.in_use
        assert s.requested == s.granted + s.cancelled + len(s.queue)
        assert s.over_capacity == 0


def test_overflow_takes_a_free_place_elsewhere_only_when_home_is_full():
    model = two_places("overflow")
    for _ in range(3):
        arrive(model, "a")
    model.env.run(until=0.5)
    a, b = slots(model, "a"), slots(model, "b")
    # The first had room at home; the second found home full and took b's bed; the third waits at home.
    assert (a.in_use, b.in_use, len(a.queue), len(b.queue)) == (1, 1, 1, 0)
    assert model.units["ward"]["b"].placed_away == 1 and model.units["ward"]["a"].placed_away == 0
    arrive(model, "b", at=1.0)  # b's own resident, with b full of a's: waits at home
    model.env.run(until=1.5)
    assert len(b.queue) == 1
    model.env.run(until=25)  # the beds free at day 10: each queue is served by its own place
    assert model.units["ward"]["b"].placed_away == 1 and model.units["ward"]["b"].admissions == 2
    assert_counts_add_up(model)


def test_local_never_moves_anyone():
    model = two_places(None)
    arrive(model, "a")
    arrive(model, "a")
    model.env.run(until=1)
    a, b = slots(model, "a"), slots(model, "b")
    assert (a.in_use, len(a.queue), b.in_use) == (1, 1, 0)
    assert model.units["ward"]["b"].placed_away == 0


def test_overflow_after_hours_waits_that_long_at_home_first():
    model = two_places("overflow", after_hours=24)
    arrive(model, "a")
    arrive(model, "a")
    model.env.run(until=0.999)
    assert slots(model, "b").in_use == 0 and len(slots(model, "a").queue) == 1
    model.env.run(until=1.001)
    assert slots(model, "b").in_use == 1 and model.units["ward"]["b"].placed_away == 1
    assert not slots(model, "a").queue
    assert_counts_add_up(model)


def test_overflow_after_hours_leaves_alone_someone_served_at_home_meanwhile():
    model = two_places("overflow", after_hours=24, stay=0.5)
    arrive(model, "a")
    arrive(model, "a")
    model.env.run(until=0.75)  # the first left at 0.5: the second took their bed at home
    assert slots(model, "a").in_use == 1
    model.env.run(until=2)
    assert slots(model, "b").granted == 0 and model.units["ward"]["b"].placed_away == 0
    assert_counts_add_up(model)


def test_pooled_is_one_queue_first_come_first_served():
    model = two_places("pooled")
    assert model.units["ward"]["a"] is model.units["ward"]["b"]  # one unit: one capacity, one queue
    arrive(model, "a", at=0.0, stay=5.0)
    arrive(model, "b", at=0.1, stay=20.0)
    arrive(model, "a", at=0.2)   # waiting first
    arrive(model, "b", at=0.3)   # waiting second
    model.env.run(until=5.5)     # a's first resident leaves at 5: the longest waiter, from a, gets the bed
    pool = slots(model, "a")
    assert (pool.in_use, len(pool.queue), pool.capacity) == (2, 1, 2)
    waits = model.units["ward"]["a"].waits
    assert waits == pytest.approx([0.0, 0.0, 4.8])
    assert_counts_add_up(model)


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
    # Nobody arriving waits while a bed is free anywhere, and stays do not depend on the bed: M/M/2c again,
    # within the interval (someone already waiting at home keeps waiting for their own place's bed).
    kpis = _waits({"acute": {"mode": "overflow"}})
    expected = mean_wait(2 * BEDS, 2 * LAMBDA, 1 / STAY) * 24
    mean, half = _interval([k["ed.wait_hours_mean"] for k in kpis])
    assert abs(mean - expected) <= half, (mean, half, expected)
    assert min(k["acute.out_of_area_placements"] for k in kpis) > 0


# --- the whole pathway, place by place -----------------------------------------------------------

# People found in care at the start draw from a family named after their place, so a system and its one
# place would find different people: these comparisons start empty.
SMALL = {"run.horizon_days": 150, "run.warmup_days": 40, "initial_state": {}}


def test_one_place_with_all_the_demand_is_the_system_exactly():
    base = small_system(**SMALL)
    one = with_places(base, {"everywhere": {"demand_share": 1.0}})
    plain, split = run_replication(base, 0).kpis, run_replication(one, 0).kpis
    assert split == pytest.approx(plain, rel=1e-9, abs=1e-9, nan_ok=True)  # one place is the system itself
    # Beside a place with no demand and no capacity, the place's own figures are the system's too.
    two = with_places(base, {"everywhere": {"demand_share": 1.0}, "nowhere": {"demand_share": 0.0}})
    kpis = run_replication(two, 0).kpis
    assert kpis["place.nowhere.crises"] == 0 and kpis["place.nowhere.acute.capacity"] == 0
    for name, value in plain.items():
        if name.endswith("_peak"):
            # The system's peak over several places is read from the daily census, not at every moment.
            assert kpis[name] <= value
            continue
        assert kpis[name] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), name
        if name != "conservation.left":  # people leave the system, not a place
            assert kpis[f"place.everywhere.{name}"] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), name


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
        assert pooled["acute.out_of_area_placements"] == 0  # a pool is one service: nobody is out of area
        assert sum(pooled[f"place.{p}.crises"] for p in split.places) == pooled["crises"]


@pytest.mark.parametrize("sharing", [None, "overflow"])
def test_per_place_outputs_add_up_to_the_system(sharing):
    places = {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.3, "services": {"community_beds": {"capacity": 6}}},
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
        assert kpis["community_beds.out_of_area_placements"] > 0
        assert fees and fees[0].cost_gbp == 250 * kpis["community_beds.out_of_area_placements"]
        assert fees[0].payer == "nhs"
        assert sum(kpis[f"place.{p}.community_beds.out_of_area_placements"] for p in places) == \
            kpis["community_beds.out_of_area_placements"]


def test_with_pooled_services_the_places_own_outputs_add_up_to_the_system():
    # A pooled service belongs to no place: its figures are the system's only, and the places'
    # own figures (crises, people, the local services, decisions) still add up.
    places = {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.3}, "c": {"demand_share": 0.2}}
    config = {n: {"mode": "pooled"} for n in ("community_beds", "reablement")}
    kpis = run_replication(with_places(small_system(**SMALL), places, config), 0).kpis
    assert "place.a.community_beds.admissions" not in kpis
    for name in ("crises", "conservation.entered", "acute.admissions", "pathway.P2", "ucr.referrals"):
        assert sum(kpis[f"place.{p}.{name}"] for p in places) == pytest.approx(kpis[name], rel=1e-9), name


def test_overflow_moves_people_only_out_of_a_full_place():
    places = {"tight": {"demand_share": 0.5, "services": {"community_beds": {"capacity": 3}}},
              "ample": {"demand_share": 0.5, "services": {"community_beds": {"capacity": 200}}}}
    scenario = with_places(small_system(**SMALL), places, {"community_beds": {"mode": "overflow"}})
    kpis = run_replication(scenario, 0).kpis
    # Placements out of area are counted where they happen: tight's residents in ample's beds.
    assert kpis["place.ample.community_beds.out_of_area_placements"] > 10
    assert kpis["place.tight.community_beds.out_of_area_placements"] == 0
    assert kpis["place.ample.community_beds.wait_mean"] == 0  # the ample place always had room
    roomy = with_places(small_system(**SMALL, **{"services.community_beds.capacity": None}),
                        {"tight": {"demand_share": 0.5}, "ample": {"demand_share": 0.5}},
                        {"community_beds": {"mode": "overflow"}})
    assert run_replication(roomy, 0).kpis["community_beds.out_of_area_placements"] == 0


@pytest.fixture(scope="module")
def halves_and_half_system():
    """Two identical local places, and the one-place model at half the demand and capacity."""
    changes = {**SMALL, "demand.crises_per_year": 5400, "services.urgent_response.capacity": 4,
               "services.acute.capacity": 150, "services.reablement.capacity": 40,
               "services.community_beds.capacity": 40, "services.temporary_residential.capacity": 20}
    whole = with_places(small_system(**changes), HALVES)
    half = small_system(**{**changes, "demand.crises_per_year": 2700, "services.urgent_response.capacity": 2,
                           "services.acute.capacity": 75, "services.reablement.capacity": 20,
                           "services.community_beds.capacity": 20, "services.temporary_residential.capacity": 10})
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
    from sim.measure.collect import collect
    from sim.measure.invariants import InvariantError, check

    model = Model(with_places(small_system(**SMALL), HALVES), 0).run()
    result = collect(model)
    a, b = (model.units["acute"][p].slots for p in ("a", "b"))
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
        "total", "1", str(baseline["urgent_response"].capacity), str(baseline["acute"].capacity)
    ]
    assert main([str(PLACES / "mse-places-pooled.yaml")]) == 0
    assert shown.splitlines()[1].split()[:3] == ["mid_essex", "0.37", "7"]
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["mid_essex", "0.37", "pooled"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nplaces: {{a: {{demand_share: 0.5}}}}\n")
    assert main([str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


# --- overflow asks each kind whether it can take a person now, and keeps looking ------------------


def test_overflow_keeps_looking_while_a_person_waits_at_home():
    model = two_places("overflow")
    arrive(model, "a", stay=30.0)
    arrive(model, "b", stay=5.0)
    arrive(model, "a", at=0.1)   # both places full: waits at home
    model.env.run(until=4.9)
    assert len(slots(model, "a").queue) == 1 and model.units["ward"]["b"].placed_away == 0
    model.env.run(until=5.1)     # b's bed frees at day 5 with nobody waiting in b: lent to a's person
    assert (slots(model, "a").in_use, slots(model, "b").in_use, len(slots(model, "a").queue)) == (1, 1, 0)
    assert model.units["ward"]["b"].placed_away == 1
    assert model.units["ward"]["b"].waits == pytest.approx([0.0, 4.9])
    assert_counts_add_up(model)


def test_overflow_after_hours_looks_elsewhere_only_after_the_wait():
    model = two_places("overflow", after_hours=48)
    arrive(model, "a", stay=30.0)
    arrive(model, "b", stay=1.0)
    arrive(model, "a", at=0.1)
    model.env.run(until=2.05)    # b's bed free since day 1, but a's person has waited under 48 hours
    assert slots(model, "b").in_use == 0 and len(slots(model, "a").queue) == 1
    model.env.run(until=2.2)     # at 2.1 days they look, and take it
    assert slots(model, "b").in_use == 1 and model.units["ward"]["b"].placed_away == 1
    assert_counts_add_up(model)


def test_a_place_elsewhere_is_lent_only_when_nobody_waits_there():
    model = two_places("overflow")
    arrive(model, "a", stay=30.0)
    arrive(model, "b", stay=5.0)
    arrive(model, "a", at=0.1)   # a's person waits at home
    arrive(model, "b", at=0.2)   # b's own person waits in b
    model.env.run(until=6)       # b's bed frees at day 5: b's own person takes it
    assert len(slots(model, "a").queue) == 1 and model.units["ward"]["b"].placed_away == 0
    assert_counts_add_up(model)


def _visits_in_two_places() -> Model:
    """Two places of a visits service, 10 visit-hours a day each; everyone needs 4 hours a day: two fit in a place."""
    data = {
        "name": "two places, visits",
        "run": {"horizon_days": 30, "warmup_days": 0, "replications": 1},
        "need_groups": {"all": {"share": 1.0}},
        "funding": FUNDING,
        "services": {"ward": {"kind": "visits", "los_days": {"dist": "fixed", "value": 10.0},
                              "workforce": {"visit_hours_per_day": 20, "first_day_hours": 4, "last_day_hours": 4}}},
        "places": {"a": {"demand_share": 0.5}, "b": {"demand_share": 0.5}},
        "arrivals": {"ward": {"per_day": 0.0}},
        "sharing": {"ward": {"mode": "overflow"}},
    }
    model = Model(validate(data, "<test>"))
    model.test_stays = {}
    return model


def test_overflow_of_visits_asks_for_visit_hours_not_people():
    model = _visits_in_two_places()
    assert slots(model, "b").capacity == 10
    for place in ("b", "b", "a", "a", "a"):
        arrive(model, place)
    model.env.run(until=1)
    a, b = slots(model, "a"), slots(model, "b")
    # b holds 2 people (8 of its 10 hours): fewer people than its capacity, but no room for 4 more hours
    assert (b.in_use, a.in_use, len(a.queue)) == (2, 2, 1)
    assert model.units["ward"]["b"].placed_away == 0
    assert_counts_add_up(model)
