"""The whole pathway against queueing theory, extreme cases, conservation of people, common random numbers and costs.

The M/M/c mean wait, occupancy, unlimited capacity and overload of a single
queue are checked in test_queueing.py; here, what only a whole system (or
the share of people who wait) shows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pathway_helpers import one_queue, system
from queueing import erlang_c
from sim.measure.collect import run_replication
from sim.measure.costs import in_totals
from sim.pathway.model import Model
from support import UNLIMITED, baseline, small_system

SERVICES = list(baseline().services)


def _interval(values, confidence=0.99):
    values = np.asarray(values, float)
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), half


def test_mmc_share_waiting_matches_erlang_c():
    """An M/M/19 ward at 84% (8 arrivals a day, 2-day stays): the share of admissions that wait at all."""
    scenario = system(one_queue(19, 8.0, 2.0, days=3000, warmup=100, seed=5))
    shares = []
    for rep in range(6):
        ward = Model(scenario, rep).run().units["ward"]["system"]
        assert len(ward.waits) > 20_000
        shares.append(float((np.asarray(ward.waits) > 0).mean()))
    mean, half = _interval(shares)
    assert abs(mean - erlang_c(19, 16.0)) <= half, (mean, half, erlang_c(19, 16.0))
    assert erlang_c(19, 16.0) > 0.3  # not trivially satisfied by nobody waiting


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


@pytest.mark.parametrize("service", SERVICES)
def test_littles_law_holds_for_every_service(long_small_run, service):
    scenario, k = long_small_run
    arrival_rate = k[f"{service}.admissions"] / scenario.run.horizon_days
    occupancy = k[f"{service}.occupancy_mean"]
    assert k[f"{service}.admissions"] > 50
    assert occupancy == pytest.approx(arrival_rate * k[f"{service}.los_mean"], rel=0.05)


def test_infinite_capacity_means_no_waits():
    scenario = small_system(**UNLIMITED, **{
        "services.community_beds.discharge_process": None,
        "services.acute.discharge_process": None,
    })
    k = run_replication(scenario, 0).kpis
    assert k["acute.admissions"] > 1000
    for service in SERVICES:
        assert k[f"{service}.admissions"] > 0, service
        assert k[f"{service}.wait_mean"] == 0.0, service
        assert k[f"{service}.queue_peak"] == 0.0, service
        assert k[f"{service}.delayed_bed_days"] == 0.0, service
    assert k["ed.wait_hours_mean"] == 0.0
    assert k["ucr.no_team_in_time"] == 0.0
    assert k["delayed.bed_days"] == 0.0


def test_tight_capacity_makes_people_wait():
    k = run_replication(small_system(**{"services.reablement.capacity": 10}), 0).kpis
    assert k["reablement.wait_mean"] > 1.0
    assert k["acute.delayed_bed_days.reablement"] > 100


def test_no_ucr_referrals_avoid_no_admissions():
    """Without urgent response (a route with probability 0 to a service leaves it unreachable, which is
    refused, so the service is taken out and every crisis goes to acute)."""
    data = small_system().resolved
    del data["services"]["urgent_response"]
    data["routes"]["crisis"] = {"to": {"acute": 1.0}}
    del data["routes"]["ucr_outcome"]
    data["sources"].pop("routes.ucr_outcome")
    for entry in data["afterwards"].values():
        entry["after"] = [origin for origin in entry["after"] if origin != "urgent_response"]
    k = run_replication(system(data), 0).kpis
    assert k["ucr.referrals"] == 0
    assert k["ucr.admissions_avoided"] == 0
    assert k["crises"] > 2000
    assert k["ed.attendances"] >= k["crises"] * 0.99


def test_more_ucr_referrals_avoid_more_admissions():
    base = run_replication(small_system(), 0).kpis
    more = run_replication(small_system(**{"routes.crisis.scale": {"urgent_response": 1.7}}), 0).kpis
    assert more["ucr.referrals"] > base["ucr.referrals"] * 1.5
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
    people_a = [a.new_person(a.family("crisis")) for _ in range(500)]
    people_b = [b.new_person(b.family("crisis")) for _ in range(500)]
    assert [p.group for p in people_a] == [p.group for p in people_b]
    assert [p.traits for p in people_a] == [p.traits for p in people_b]
    stays_a = np.array([a.units["reablement"]["system"].length_of_stay(p) for p in people_a])
    stays_b = np.array([b.units["reablement"]["system"].length_of_stay(p) for p in people_b])
    assert np.allclose(stays_b, stays_a / 2)
    assert stays_a.std() > 5  # real variation between people, not a constant


def test_flows_add_up():
    # Every decision is counted once, when it is made: into the system, into UCR, and out of acute.
    r = run_replication(small_system(**UNLIMITED, **{"services.acute.discharge_process": None}), 0)
    flows, k = r.flows, r.kpis
    assert flows[("crises", "crisis")] == k["crises"] > 2000
    assert k["route.crisis.urgent_response"] == k["ucr.referrals"] > 100
    from_acute = sum(n for (s, _), n in flows.items() if s == "acute")
    assert from_acute == k["pathway.P0"] + k["pathway.P1"] + k["pathway.P2"] + k["pathway.P3"] + k["acute.deaths"]
    assert from_acute == k["route.acute_outcome.died"] + k["route.acute_outcome.discharge_pathway"] > 1000


def test_costs_are_activity_times_unit_cost():
    r = run_replication(small_system(), 0)
    frame = r.costs_frame()
    assert np.allclose(frame["cost_gbp"], frame["activity"] * frame["unit_cost_gbp"])
    # Long-term care counts once in the KPIs: at the cost new placements commit (its cash in the period aside).
    assert r.kpis["cost.total"] == pytest.approx(frame[frame.apply(in_totals, axis=1)]["cost_gbp"].sum())
    acute = frame[frame["service"] == "acute"]
    assert acute["activity"].sum() == pytest.approx(r.kpis["acute.occupancy_mean"] * 200)
    assert acute["unit_cost_gbp"].tolist() == [346]
    ed = frame[frame["service"] == "ed_attendance"]
    assert ed["activity"].sum() == r.kpis["ed.attendances"] > 0 and ed["unit_cost_gbp"].tolist() == [280]
    assert set(frame["payer"]) <= {"nhs", "council", "self_funder"}


def test_self_funders_pay_for_their_own_care_homes():
    # Means that never change (no spending down: tests/test_long_term.py moves cost with it).
    same = {"funding.partial_share": 0.0, "funding.spend_down": {}}
    everyone_pays = run_replication(small_system(**{"funding.self_funder_share": 1.0, **same}), 0)
    nobody_pays = run_replication(small_system(**{"funding.self_funder_share": 0.0, **same}), 0)
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
    assert (d[d["service"] == "acute"]["occupancy"] > 100).any()  # the census counts, it is not all zeros
    assert d["day"].min() == -60 and d["day"].max() == 199


def test_long_term_decisions_made_more_independent_count_as_better_outcomes():
    # Long-term care is unlimited here, so the lever changes nothing upstream: the headline
    # count rises by exactly the decisions it turned into more independent outcomes (with nothing
    # happening later: people sent home instead would otherwise be readmitted, as people in packages are not).
    data = small_system().resolved
    data["afterwards"] = {}
    data["sources"] = {k: v for k, v in data["sources"].items() if not k.startswith("afterwards.")}
    nothing_later = system(data)
    without = run_replication(nothing_later, 0).kpis
    lever = {"routes.home_care_decision.to": {"home_care": 0.75, "home": 0.25},
             "routes.care_home_decision.to": {"care_home": 0.75, "home_care": 0.25}}
    with_lever = run_replication(nothing_later.with_changes(lever), 0).kpis
    assert without["long_term.more_independent"] == 0
    assert with_lever["long_term.more_independent"] > 50
    assert with_lever["people.better_outcomes"] - without["people.better_outcomes"] == with_lever["long_term.more_independent"]
