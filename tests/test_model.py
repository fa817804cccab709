"""The pathway model against queueing theory, extreme cases and conservation of people."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.model import Model, ServiceSet, run_replication
from support import UNLIMITED, single_queue, small_system
from queueing import erlang_c, mean_wait


def _interval(values, confidence=0.99):
    values = np.asarray(values, float)
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), half


@pytest.fixture(scope="module")
def mmc_runs():
    """An M/M/c acute ward: 8 arrivals a day, 2-day stays, 19 beds (utilisation 84%)."""
    scenario = single_queue(8.0, 2.0, 19, **{"run.horizon_days": 3000, "run.warmup_days": 100})
    return [run_replication(scenario, rep).kpis for rep in range(6)]


def test_mmc_mean_wait_matches_erlang_c(mmc_runs):
    expected_hours = mean_wait(19, 8.0, 0.5) * 24
    mean, half = _interval([k["ed.wait_hours_mean"] for k in mmc_runs])
    assert abs(mean - expected_hours) <= half, (mean, half, expected_hours)
    assert expected_hours > 1.0  # the test is not trivially satisfied by zero waits


def test_mmc_occupancy_is_the_offered_load(mmc_runs):
    mean, half = _interval([k["acute.occupancy_mean"] for k in mmc_runs])
    assert abs(mean - 16.0) <= half


def test_mmc_share_waiting_matches_erlang_c():
    scenario = single_queue(8.0, 2.0, 19, **{"run.horizon_days": 3000, "run.warmup_days": 100})
    shares = []
    for rep in range(6):
        model = Model(scenario, rep)
        model.run()
        waits = np.asarray(model.services.acute.waits_to_enter)
        shares.append(float((waits > 0).mean()))
    mean, half = _interval(shares)
    assert abs(mean - erlang_c(19, 16.0)) <= half


@pytest.fixture(scope="module")
def long_small_run():
    # Long-term care durations shortened so every service reaches steady state within the run.
    scenario = small_system(**{
        "run.horizon_days": 1500,
        "run.warmup_days": 300,
        "services.home_care.duration_days": {"dist": "lognormal", "mean": 40, "sd": 30},
        "services.residential_care.duration_days": {"dist": "lognormal", "mean": 60, "sd": 40},
        "services.nursing_care.duration_days": {"dist": "lognormal", "mean": 50, "sd": 40},
    })
    return scenario, run_replication(scenario, 0).kpis


@pytest.mark.parametrize("service", ServiceSet.NAMES)
def test_littles_law_holds_for_every_service(long_small_run, service):
    scenario, k = long_small_run
    arrival_rate = k[f"{service}.admissions"] / scenario.run.horizon_days
    occupancy = k[f"{service}.occupancy_mean"]
    assert k[f"{service}.admissions"] > 50
    assert occupancy == pytest.approx(arrival_rate * k[f"{service}.los_mean"], rel=0.05)


def test_infinite_capacity_means_no_waits():
    scenario = small_system(**UNLIMITED, **{
        "services.community_beds.discharge_process_days": None,
        "services.acute.discharge_process_days": None,
    })
    k = run_replication(scenario, 0).kpis
    assert k["acute.admissions"] > 1000
    for service in ServiceSet.NAMES:
        assert k[f"{service}.wait_mean"] == 0.0
        assert k[f"{service}.queue_peak"] == 0.0
        assert k[f"{service}.delayed_bed_days"] == 0.0
    assert k["ed.wait_hours_mean"] == 0.0
    assert k["ucr.no_team_in_time"] == 0.0
    assert k["delayed.bed_days"] == 0.0


def test_tight_capacity_makes_people_wait():
    k = run_replication(small_system(**{"services.reablement.capacity": 10}), 0).kpis
    assert k["reablement.wait_mean"] > 1.0
    assert k["acute.delayed_bed_days.reablement"] > 100


def test_zero_ucr_referrals_avoid_no_admissions():
    scenario = small_system(**{"referral.ucr_share_suitable": 0.0, "referral.ucr_share_unsuitable": 0.0})
    k = run_replication(scenario, 0).kpis
    assert k["ucr.referrals"] == 0
    assert k["ucr.admissions_avoided"] == 0
    assert k["ed.attendances"] >= k["crises"] * 0.99


def test_more_ucr_referrals_avoid_more_admissions():
    base = run_replication(small_system(), 0).kpis
    more = run_replication(small_system(**{"referral.multiplier": 1.7}), 0).kpis
    assert more["ucr.admissions_avoided"] > base["ucr.admissions_avoided"] * 1.3
    assert more["acute.admissions"] < base["acute.admissions"]
    assert more["crises"] == base["crises"]  # the same people arrive (common random numbers)


def test_nobody_is_lost():
    k = run_replication(small_system(), 1).kpis
    assert k["conservation.entered"] == k["conservation.left"] + k["conservation.inside_at_end"]
    assert k["conservation.inside_at_end"] > 0
    assert k["conservation.left"] > 0


def test_same_seed_same_results_and_other_seed_differs():
    scenario = small_system(**{"run.horizon_days": 90})
    a = run_replication(scenario, 2)
    b = run_replication(scenario, 2)
    assert a.kpis == b.kpis
    assert a.daily.equals(b.daily)
    assert a.flows == b.flows
    c = run_replication(scenario, 3)
    assert c.kpis["crises"] != a.kpis["crises"]
    d = run_replication(scenario, 2, seed=scenario.run.seed + 1)
    assert d.kpis["crises"] != a.kpis["crises"]


def test_shorter_reablement_is_the_same_people_with_shorter_stays():
    """Common random numbers: halving a length of stay halves each person's stay, not a fresh draw."""
    scenario = small_system()
    shorter = scenario.with_changes({"services.reablement.los_days": {"dist": "lognormal", "median": 8, "mean": 10.5}})
    a, b = Model(scenario, 0), Model(shorter, 0)
    people_a = [a.people.new("system") for _ in range(500)]
    people_b = [b.people.new("system") for _ in range(500)]
    assert [p.group for p in people_a] == [p.group for p in people_b]
    stays_a = np.array([a.services.reablement.los[p.group].from_z(p.z_reablement_los) for p in people_a])
    stays_b = np.array([b.services.reablement.los[p.group].from_z(p.z_reablement_los) for p in people_b])
    assert np.allclose(stays_b, stays_a / 2)
    assert stays_a.std() > 5  # real variation between people, not a constant


def test_flows_add_up():
    # Without an acute discharge process, a pathway decision and the move it leads to fall in the same period.
    r = run_replication(small_system(**UNLIMITED, **{"services.acute.discharge_process_days": None}), 0)
    flows, k = r.flows, r.kpis
    into_ucr = flows.get(("crisis", "urgent_response"), 0)
    assert into_ucr == k["ucr.referrals"]
    from_acute = sum(n for (s, _), n in flows.items() if s == "acute")
    assert from_acute == k["pathway.P0"] + k["pathway.P1"] + k["pathway.P2"] + k["pathway.P3"] + k["acute.deaths"]


def test_costs_are_activity_times_unit_cost():
    r = run_replication(small_system(), 0)
    frame = r.costs_frame()
    assert np.allclose(frame["cost_gbp"], frame["activity"] * frame["unit_cost_gbp"])
    assert r.kpis["cost.total"] == pytest.approx(frame["cost_gbp"].sum())
    acute = frame[frame["service"] == "acute"]
    assert acute["activity"].sum() == pytest.approx(r.kpis["acute.occupancy_mean"] * 200)
    assert set(frame["payer"]) <= {"nhs", "council", "self_funder"}


def test_self_funders_pay_for_their_own_care_homes():
    everyone_pays = run_replication(small_system(**{"funding.self_funder_share": 1.0, "funding.partial_share": 0.0}), 0)
    nobody_pays = run_replication(small_system(**{"funding.self_funder_share": 0.0, "funding.partial_share": 0.0}), 0)
    assert everyone_pays.kpis["cost.residential_care.council"] == 0.0
    assert everyone_pays.kpis["cost.residential_care.self_funder"] > 0.0
    assert nobody_pays.kpis["cost.residential_care.self_funder"] == 0.0
    # The same people, so the same placements, at the self-funder's higher weekly rate.
    assert everyone_pays.kpis["cost.residential_care.self_funder"] == pytest.approx(
        nobody_pays.kpis["cost.residential_care.council"] * 1278 / 908
    )


def test_daily_census_never_above_capacity():
    r = run_replication(small_system(), 0)
    d = r.daily
    assert (d["occupancy"] <= d["capacity"]).all()
    assert d["day"].min() == -60 and d["day"].max() == 199


def test_long_term_decisions_made_more_independent_count_as_better_outcomes():
    # Long-term care is unlimited here, so the lever changes nothing upstream: the headline
    # count rises by exactly the decisions it turned into more independent outcomes.
    without = run_replication(small_system(), 0).kpis
    lever = {"long_term_decisions.home_care_to_independent": 0.25, "long_term_decisions.care_home_to_home_care": 0.25}
    with_lever = run_replication(small_system(**lever), 0).kpis
    assert with_lever["long_term.more_independent"] > 50
    assert with_lever["people.better_outcomes"] - without["people.better_outcomes"] == with_lever["long_term.more_independent"]
