"""The tutorial's new service (docs/add-a-service.md): added by YAML alone, it takes people and costs money."""

import pytest

from sim.measure.collect import run_replication
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def runs():
    ward = load_scenario("scenarios/examples/virtual-ward.yaml").with_changes({"run.warmup_days": 120})
    base = load_scenario("scenarios/baseline.yaml").with_changes({"run.warmup_days": 120})
    return run_replication(ward, 0), run_replication(base, 0)


def test_the_virtual_ward_takes_three_in_ten_handovers(runs):
    ward, _ = runs
    k = ward.kpis
    handovers = k["route.ucr_outcome.acute"] + k["route.ucr_outcome.virtual_ward"]
    assert k["route.ucr_outcome.virtual_ward"] / handovers == pytest.approx(0.3, abs=0.05)
    assert k["virtual_ward.admissions"] == pytest.approx(k["route.ucr_outcome.virtual_ward"], abs=12)
    assert 0 < k["virtual_ward.occupancy_mean"] <= 10


def test_its_cost_is_its_occupied_days_at_its_day_rate(runs):
    ward, _ = runs
    k = ward.kpis
    assert k["cost.virtual_ward.nhs"] == pytest.approx(160 * k["virtual_ward.occupancy_mean"] * 365, rel=1e-9)


def test_its_outcomes_follow_its_own_route(runs):
    ward, base = runs
    k = ward.kpis
    outcomes = sum(v for name, v in k.items() if name.startswith("route.virtual_ward_outcome."))
    assert k["route.virtual_ward_outcome.readmitted"] / outcomes == pytest.approx(0.12, abs=0.08)
    assert "virtual_ward.admissions" not in base.kpis
