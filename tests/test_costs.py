"""Cost lines: activity times unit cost, by payer, with the means test splitting long-term care."""

import pytest
from pathway_helpers import one_queue, run


def _costed(costs: list, funding: dict | None = None, kind: str = "beds") -> dict:
    data = one_queue(None, 5.0, 2.0, days=200, warmup=0)
    data["services"]["ward"]["costs"] = costs
    if funding:
        data["funding"] = funding
    return run(data).kpis


def test_day_week_episode_and_arrival_costs_follow_their_activity():
    k = _costed([{"gbp": 100, "per": "day", "payer": "nhs"}, {"gbp": 700, "per": "week", "payer": "nhs", "name": "weekly"},
                 {"gbp": 50, "per": "episode", "payer": "council", "name": "admission_fee"},
                 {"gbp": 10, "per": "arrival", "payer": "nhs", "name": "door"}])
    occupied_days = k["ward.occupancy_mean"] * 200
    assert k["cost.ward.nhs"] == pytest.approx(100 * occupied_days, rel=1e-9)
    assert k["cost.weekly.nhs"] == pytest.approx(k["cost.ward.nhs"], rel=1e-9)
    assert k["cost.admission_fee.council"] == pytest.approx(50 * k["ward.admissions"])
    assert k["cost.door.nhs"] == pytest.approx(10 * k["ward.arrivals"])
    assert k["cost.total"] == pytest.approx(k["cost.nhs"] + k["cost.council"] + k["cost.self_funder"])


def test_the_means_test_splits_a_long_term_placement_between_council_and_person():
    data = one_queue(None, 5.0, 2.0, days=100, warmup=0)
    data["services"]["ward"] = {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 70},
                                "costs": [{"gbp": 100, "per": "week", "payer": "means_tested", "self_funder_gbp": 150}]}
    data["funding"] = {"self_funder_share": 0.5, "partial_share": 0.2, "partial_contribution": 0.4}
    k = run(data).kpis
    weeks = k["ward.placements"] * 10
    # council: 30% in full + partial funders' 60%; people: self-funders at 150 + partial funders' 40%
    assert k["cost.ward.council"] == pytest.approx(weeks * 100 * (0.3 + 0.2 * 0.6), rel=0.08)
    assert k["cost.ward.self_funder"] == pytest.approx(weeks * (0.5 * 150 + 0.2 * 0.4 * 100), rel=0.08)
