"""Behaviour real systems show: escalation beds, spot-purchased care, and what happens after going home."""

import math

import pytest
from pathway_helpers import FUNDING, one_queue, run, system

from sim.measure.collect import collect
from sim.pathway.model import Model


def _ward(escalation: dict, days: int = 40) -> dict:
    return {
        "name": "escalation", "run": {"horizon_days": days, "warmup_days": 0, "seed": 3},
        "need_groups": {"all": {"share": 1.0}}, "funding": FUNDING,
        "services": {"ward": {"kind": "beds", "capacity": 10, "los_days": {"dist": "fixed", "value": 1000},
                              "escalation": escalation}},
        "arrivals": {"ward": {"per_day": 0}},
    }


def test_escalation_beds_open_at_the_first_review_after_occupancy_passes_the_level_and_close_below_the_other():
    escalation = {"open_above": 0.75, "close_below": 0.5, "beds_share": 0.5, "review_hours": 24, "gbp_per_day": 80,
                  "payer": "nhs"}
    model = Model(system(_ward(escalation)))
    slots = model.units["ward"]["system"].slots
    seen: dict[float, float] = {}

    def people():  # one in each half day 0.5 .. 9.5; one out each day from 20.5
        for day in range(10):
            yield model.env.timeout(day + 0.5 - model.env.now)
            slots.request()
        for day in range(20, 30):
            yield model.env.timeout(day + 0.5 - model.env.now)
            slots.release()

    def look():
        for t in (7.9, 8.1, 25.9, 26.1):
            yield model.env.timeout(t - model.env.now)
            seen[t] = slots.capacity

    model.env.process(people())
    model.env.process(look())
    model.run()
    # 8 of 10 (80%) from day 7.5: open at the review of day 8, not day 7 (7 of 10 is 70%)
    assert (seen[7.9], seen[8.1]) == (10, 15)
    # 4 of 10 (40%) from day 25.5: closed at the review of day 26 (at day 25, 5 of 10 is not below 50%)
    assert (seen[25.9], seen[26.1]) == (15, 10)
    result = collect(model)
    k = result.kpis
    assert k["ward.escalation_days"] == pytest.approx(18)
    assert k["ward.escalation_capacity_days"] == pytest.approx(90)
    assert k["ward.escalation_opened"] == 1
    assert k["ward.capacity"] == 10  # the core, not what was open
    line = next(c for c in result.costs if c.service == "ward_escalation")
    assert (line.payer, line.cost_gbp) == ("nhs", pytest.approx(90 * 80))


def test_a_level_of_100_percent_never_opens_beds_however_long_the_queue():
    never = one_queue(5, per_day=10, mean_stay=1, days=200, warmup=0)
    never["services"]["ward"]["escalation"] = {"open_above": 1.0, "close_below": 0.9, "beds_share": 1, "gbp_per_day": 1, "payer": "nhs"}
    k = run(never).kpis
    assert k["ward.queue_mean"] > 100  # twice the work the beds can do: the queue grows all run
    assert (k["ward.escalation_days"], k["ward.escalation_opened"], k["ward.capacity"]) == (0, 0, 5)
    assert k["cost.ward_escalation.nhs"] == 0
    # just below 100%, the same system opens them at once and keeps them open
    opens = one_queue(5, per_day=10, mean_stay=1, days=200, warmup=0)
    opens["services"]["ward"]["escalation"] = {"open_above": 0.99, "close_below": 0.9, "beds_share": 1, "gbp_per_day": 1, "payer": "nhs"}
    k = run(opens).kpis
    assert k["ward.escalation_days"] > 195  # from the first review with the beds full, bar a lull or two
    assert k["ward.escalation_capacity_days"] == pytest.approx(5 * k["ward.escalation_days"])


def test_spot_purchase_buys_steps_up_to_its_limit_while_waits_are_long():
    data = {
        "name": "spot", "run": {"horizon_days": 300, "warmup_days": 0, "seed": 5},
        "need_groups": {"all": {"share": 1.0}}, "funding": FUNDING,
        "services": {"team": {"kind": "caseload", "capacity": 5, "los_days": {"dist": "fixed", "value": 10},
                              "spot_purchase": {"above_wait_days": 2, "step_share": 0.4, "up_to_share": 1.2, "gbp_per_day": 50,
                                                "payer": "council"}}},
        "arrivals": {"team": {"per_day": 1}},
    }
    model = Model(system(data)).run()
    k = collect(model).kpis
    capacity = model.daily[:, 0, 2]
    # 1 a day for 10 days needs 10 places: 5 + 6 bought is the most, reached and never passed
    assert capacity.max() == 11 and capacity.min() >= 5
    assert set(capacity) <= {5, 7, 9, 11}
    assert k["team.escalation_capacity_days"] > 0.5 * 6 * 300
    assert k["cost.team_escalation.council"] == pytest.approx(50 * k["team.escalation_capacity_days"])


def _afterwards(groups: dict, afterwards: dict, per_day: float = 50, days: int = 2000) -> dict:
    return {
        "name": "afterwards", "run": {"horizon_days": days, "warmup_days": 0, "seed": 11},
        "need_groups": groups, "funding": FUNDING,
        "services": {"ward": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 2}, "then": "home"}},
        "arrivals": {"ward": {"per_day": per_day}},
        "afterwards": afterwards,
    }


def test_readmissions_within_30_days_match_the_stated_chance_by_need_group():
    groups = {"fit": {"share": 0.5}, "frail": {"share": 0.5}}
    later = {"readmitted": {"after": ["ward"], "to": "ward", "chance": {"fit": 0.1, "frail": 0.3},
                            "after_days": {"dist": "fixed", "value": 10}}}
    k = run(_afterwards(groups, later, days=1000)).kpis
    # each discharge is readmitted with chance p, so a group's admissions are its first ones / (1 - p):
    # readmissions / admissions = (0.1/0.9 + 0.3/0.7) / (1/0.9 + 1/0.7)
    expected = (0.1 / 0.9 + 0.3 / 0.7) / (1 / 0.9 + 1 / 0.7)
    share = k["ward.readmissions_30d"] / k["ward.admissions"]
    half_width = 4 * math.sqrt(expected * (1 - expected) / k["ward.admissions"])
    assert abs(share - expected) < half_width
    # every readmission came 10 days after a discharge: all within 30 days, each one counted once
    assert k["ward.readmissions_30d"] == k["ward.readmissions"] == k["later.readmitted"]


def test_readmissions_after_30_days_are_readmissions_but_not_within_30_days():
    later = {"readmitted": {"after": ["ward"], "to": "ward", "chance": 0.2,
                            "after_days": {"dist": "fixed", "value": 45}}}
    k = run(_afterwards({"all": {"share": 1.0}}, later, days=500)).kpis
    assert k["ward.readmissions"] > 1000
    assert k["ward.readmissions_30d"] == 0


def test_deaths_after_going_home_keep_everyone_in_the_census():
    later = {
        "died_later": {"after": ["ward"], "to": "died", "chance": 0.05, "after_days": {"dist": "fixed", "value": 20}},
        "readmitted": {"after": ["ward"], "to": "ward", "chance": 0.1, "after_days": {"dist": "fixed", "value": 10}},
    }
    scenario = system(_afterwards({"all": {"share": 1.0}}, later, per_day=20, days=1000))
    model = Model(scenario).run()
    k = collect(model).kpis
    census = model.census
    assert census.entered == census.home + census.died + census.left + census.inside
    # nobody dies any other way; people readmitted first are not the ones who die (the earliest happens)
    assert census.died == k["later.died_later"] > 0
    assert k["later.died_later"] / k["ward.admissions"] == pytest.approx(0.05 * 0.9, rel=0.1)
    # at the end, only people in the ward or waiting at home for what happens next are inside
    assert census.inside <= 20 * 20


def test_a_placement_given_instead_of_a_care_home_can_end_in_one_later():
    data = {
        "name": "later care home", "run": {"horizon_days": 400, "warmup_days": 0, "seed": 13},
        "need_groups": {"all": {"share": 1.0}}, "funding": FUNDING,
        "services": {
            "ward": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}, "then": "decide"},
            "package": {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 1000}},
            "care": {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 1000}},
        },
        "routes": {"decide": {"to": {"package": 0.5, "care": 0.5}}},
        "arrivals": {"ward": {"per_day": 5}},
        "afterwards": {"care_later": {"after": ["decide.package"], "to": "care", "chance": 0.4,
                                      "after_days": {"dist": "fixed", "value": 30}, "ends_placement": True}},
    }
    k = run(data).kpis
    assert k["care.placements"] == k["route.decide.care"] + k["later.care_later"]
    # those sent to a package with 30 days of the run left: 40% move to the care home
    assert k["later.care_later"] / k["route.decide.package"] == pytest.approx(0.4 * 370 / 400, rel=0.1)
    assert k["package.los_mean"] == pytest.approx(30)  # the only packages that ended are those that gave way
    data["afterwards"]["care_later"]["ends_placement"] = False
    assert run(data).kpis["later.care_later"] == 0  # without it, nothing happens to people in a placement
