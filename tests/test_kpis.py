"""KPIs named after the scenario's own services and routes, and the measures a scenario defines."""

import pytest
from pathway_helpers import one_queue, run

from sim.measure.kpis import describe
from sim.scenario import labels


def test_measures_are_sums_and_shares_of_other_kpis():
    data = one_queue(5, 4.0, 1.0, days=200)
    data["services"]["ward"]["then"] = "out"
    data["services"]["ward"]["label"] = "Short-stay ward"
    data["routes"] = {"out": {"to": {"home": 0.75, "died": 0.25}}}
    data["measures"] = {
        "ward.leavers": {"label": "People leaving the ward", "sum": ["route.out.home", "route.out.died"]},
        "ward.home_share": {"label": "Home after the ward", "unit": "share", "sum": ["route.out.home"],
                            "share_of": ["route.out.home", "route.out.died"]},
        "ward.wait_hours": {"label": "Wait", "unit": "hours", "sum": ["ward.wait_mean"], "hours": True},
    }
    k = run(data).kpis
    assert k["ward.leavers"] == k["route.out.home"] + k["route.out.died"]
    assert k["ward.home_share"] == pytest.approx(0.75, abs=0.03)
    assert k["ward.wait_hours"] == pytest.approx(k["ward.wait_mean"] * 24)
    assert describe("ward.home_share") == ("Home after the ward", "share", "")
    assert describe("ward.occupancy_mean")[0] == "Short-stay ward: mean occupancy"
    assert labels.service("ward") == "Short-stay ward"


def test_waits_in_hours_and_the_share_over_four_hours():
    k = run(one_queue(2, 1.9, 1.0, days=1000)).kpis
    assert k["ward.wait_hours_mean"] == pytest.approx(24 * k["ward.wait_mean"])
    assert 0 < k["ward.waits_over_4h_share"] < 1
    assert k["ward.wait_hours_p95"] > k["ward.wait_hours_mean"]


def test_the_names_a_service_level_may_use_are_the_measures_made():
    from sim.measure.kpis import SERVICE_MEASURES
    from sim.scenario import kpi_names

    assert set(kpi_names.SERVICE_MEASURES) == set(SERVICE_MEASURES)
