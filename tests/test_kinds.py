"""Each service kind's mechanics: response teams give up, discharge processes, visits, long-term commitments."""

import pytest
from pathway_helpers import FUNDING, run


def _system(services: dict, arrivals: dict, routes: dict | None = None, days: int = 300, **extra) -> dict:
    data = {"name": "kinds", "run": {"horizon_days": days, "warmup_days": 0, "seed": 9},
            "need_groups": {"all": {"share": 1.0}}, "funding": FUNDING, "services": services,
            "routes": routes or {}, "arrivals": arrivals}
    data.update(extra)
    return data


def test_a_response_team_sends_people_on_when_no_team_is_free_in_time():
    services = {
        "team": {"kind": "response_team", "capacity": 1, "give_up_hours": 1, "give_up_to": "ward",
                 "travel_hours": {"dist": "fixed", "value": 0.5}, "duration_days": {"dist": "fixed", "value": 1}},
        "ward": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}},
    }
    k = run(_system(services, {"team": {"per_day": 5}})).kpis
    # one team busy a day at a time: most of 5 a day give up after an hour and go to the ward
    assert k["team.no_team_in_time"] == pytest.approx(k["ward.admissions"], abs=3)
    assert k["team.responses"] + k["team.no_team_in_time"] == pytest.approx(k["team.arrivals"], abs=2)
    assert k["team.response_hours_mean"] >= 0.5
    # Little's law: the team is busy for travel plus the time with each person it reaches
    assert k["team.occupancy_mean"] == pytest.approx(k["team.responses"] * (1 + 0.5 / 24) / 300, rel=0.01)


def test_a_discharge_process_is_spent_in_the_bed_and_skipped_where_said():
    services = {
        "ward": {"kind": "beds", "capacity": None, "los_days": {"dist": "fixed", "value": 2},
                 "discharge_process": {"days": {"dist": "fixed", "value": 3}, "skip_for": ["home"]}, "then": "out"},
        "care": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}},
    }
    k = run(_system(services, {"ward": {"per_day": 10}}, {"out": {"to": {"home": 0.5, "care": 0.5}}})).kpis
    assert k["ward.ready_los_mean"] == pytest.approx(2.0)
    # half wait 3 days for their process: mean stay 2 + 1.5
    assert k["ward.los_mean"] == pytest.approx(3.5, abs=0.15)
    assert k["ward.delayed_bed_days.discharge_process"] == pytest.approx(3 * k["route.out.care"], rel=0.02)


def test_blocking_counts_delays_by_what_people_wait_for():
    services = {
        "ward": {"kind": "beds", "capacity": None, "los_days": {"dist": "fixed", "value": 1}, "then": "rehab"},
        "rehab": {"kind": "beds", "capacity": 5, "los_days": {"dist": "fixed", "value": 10}},
    }
    k = run(_system(services, {"ward": {"per_day": 1}})).kpis
    # rehab discharges 0.5 a day against 1 arriving: the rest wait in the ward, counted as waiting for rehab
    assert k["ward.delayed_bed_days.rehab"] > 1000
    assert k["rehab.wait_mean"] > 10


def test_visits_are_capacity_in_visit_hours_that_taper():
    services = {"at_home": {"kind": "visits", "los_days": {"dist": "fixed", "value": 10},
                         "workforce": {"visit_hours_per_day": 25, "first_day_hours": 4, "last_day_hours": 1}}}
    k = run(_system(services, {"at_home": {"per_day": 1}}, days=400)).kpis
    # each person needs 2.5 hours a day on average over 10 days: 1 a day uses 25 visit-hours
    assert k["at_home.visit_hours_mean"] == pytest.approx(25 * k["at_home.utilisation"], rel=1e-9)
    assert 0.8 < k["at_home.utilisation"] <= 1.0
    assert k["at_home.occupancy_mean"] == pytest.approx(10, rel=0.2)


def test_a_long_term_placement_commits_its_whole_cost_when_it_starts():
    services = {"care": {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 700},
                         "costs": [{"gbp": 7, "per": "week", "payer": "council"}]}}
    k = run(_system(services, {"care": {"per_day": 2}}, days=100, funding={"self_funder_share": 0,
                                                                          "partial_share": 0,
                                                                          "partial_contribution": 0})).kpis
    assert k["cost.care.council"] == pytest.approx(k["care.placements"] * 700, rel=1e-9)


def test_a_response_team_leaves_when_its_response_ends_and_acute_is_waited_for_apart():
    """Nobody holds a team while waiting for what comes next (the team goes), nor a slot while waiting
    for a service whose people wait apart (in ED for an acute bed)."""
    services = {
        "team": {"kind": "response_team", "capacity": 1, "give_up_hours": 1, "give_up_to": "ward",
                 "travel_hours": {"dist": "fixed", "value": 0.1}, "duration_days": {"dist": "fixed", "value": 0.05},
                 "then": "full"},
        "full": {"kind": "caseload", "capacity": 0, "los_days": {"dist": "fixed", "value": 1}},
        "ward": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}},
    }
    k = run(_system(services, {"team": {"per_day": 2}}, days=200)).kpis
    # the caseload never has room, yet the team keeps responding: it is not held by the people waiting
    assert k["full.queue_peak"] > 300 and k["team.no_team_in_time"] < 0.05 * k["team.arrivals"]
    rehab = {"rehab": {"kind": "beds", "capacity": 1, "los_days": {"dist": "fixed", "value": 30}, "then": "acute"},
             "acute": {"kind": "beds", "capacity": 0, "los_days": {"dist": "fixed", "value": 1}, "waiting": "apart"}}
    k = run(_system(rehab, {"rehab": {"per_day": 1}}, days=200)).kpis
    # people waiting for an acute bed wait apart, so rehab's bed frees every 30 days and nobody is delayed in it
    assert k["rehab.delayed_bed_days"] == 0 and k["rehab.admissions"] >= 6
