"""Workforce capacity: people start when today's visit-hours plus theirs fit, and needs taper over episodes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import simpy

from sim.measure.collect import run_replication
from sim.pathway.visit_hours import VisitHours
from sim.scenario import ScenarioError, validate
from sim.scenario.services import Workforce as WorkforceConfig
from support import small_system

TEAM = WorkforceConfig(visit_hours_per_day=10, first_day_hours=3, last_day_hours=1)


def _person(i: int, days: float = 4.0) -> SimpleNamespace:
    return SimpleNamespace(id=i, days=days)


def _team(env: simpy.Environment) -> VisitHours:
    return VisitHours(env, "reablement", TEAM, lambda p: p.days)


def test_a_person_starts_once_everyones_tapering_hours_leave_room_for_their_first_day():
    env = simpy.Environment()
    team = _team(env)
    started: dict[int, float] = {}

    def ask(person):
        yield team.request(person)
        started[person.id] = env.now

    for i in range(4):
        env.process(ask(_person(i)))
    env.run(until=0.5)
    # 3 x 3 h = 9 h a day committed; a fourth first day (3 h) would need 12 > 10.
    assert sorted(started) == [0, 1, 2] and team.queue and team.hours_committed() == pytest.approx(9 - 3 * 0.25)
    env.run(until=1.5)
    assert 3 not in started  # day 1: 3 x 2.5 h + 3 h = 10.5 h > 10
    env.run(until=2.5)
    assert started[3] == 2.0  # day 2: 3 x 2 h + 3 h = 9 h, re-checked at the start of the day
    env.run(until=4.0)
    team.close()
    # Hours delivered to day 4: each of the first three 3 -> 1 h over 4 days (8 h), the fourth 3 -> 2 h over 2 days (5 h).
    assert team.area_hours == pytest.approx(3 * 8 + 5)
    assert (team.requested, team.granted, team.in_use, team.over_capacity) == (4, 4, 4, 0)


def test_someone_leaving_lets_the_next_person_start_at_once():
    env = simpy.Environment()
    team = _team(env)
    people = [_person(i, days=100) for i in range(4)]
    events = [team.request(p) for p in people]
    assert [e.triggered for e in events] == [True, True, True, False]
    env.run(until=0.25)
    team.release(people[0])
    assert events[3].triggered and env.now == 0.25
    assert (team.granted, team.released, team.in_use) == (4, 1, 3)


def test_a_waiting_request_can_be_withdrawn_but_a_started_episode_must_be_released():
    env = simpy.Environment()
    team = _team(env)
    events = [team.request(_person(i)) for i in range(4)]
    team.cancel(events[3])
    assert (team.cancelled, len(team.queue)) == (1, 0)
    with pytest.raises(ValueError, match="release"):
        team.cancel(events[0])
    with pytest.raises(TypeError, match="who asks"):
        team.request()


def visits(hours: float, first: float = 3.0, last: float = 0.75, **spec) -> dict:
    """Reablement (as the library has it) as staff visit-hours instead of a caseload."""
    return {"kind": "visits", "label": "Reablement", "los_days": {"dist": "lognormal", "median": 16, "mean": 21},
            "then": "reablement_outcome", "costs": [{"gbp": 1900, "per": "episode", "payer": "council"}],
            "workforce": {"visit_hours_per_day": hours, "first_day_hours": first, "last_day_hours": last}, **spec}


def _with_reablement_team(hours: float, **changes):
    return small_system(**{"run.replications": 1, "services.reablement": visits(hours), **changes})


def test_in_the_whole_model_hours_used_stay_within_the_workforce_and_a_shortfall_makes_people_wait():
    ample = run_replication(_with_reablement_team(400)).kpis
    short = run_replication(_with_reablement_team(40)).kpis
    assert ample["reablement.wait_mean"] < 0.01  # nobody waits with ample staff
    assert 0 < ample["reablement.utilisation"] < 0.5
    assert ample["reablement.capacity"] == 400
    assert short["reablement.visit_hours_mean"] <= 40 + 1e-9
    assert short["reablement.utilisation"] > 0.85
    assert short["reablement.wait_mean"] > 1.0
    assert short["delayed.bed_days"] > ample["delayed.bed_days"]


def test_a_staffing_shock_cuts_visit_hours_on_its_dates():
    shock = {"name": "staff absence", "service": "reablement", "start": "2019-06-01", "end": "2019-07-12",
             "change": {"multiply": 0.7}}
    result = run_replication(_with_reablement_team(90, capacity_events=[shock]))
    hours = result.daily[result.daily.service == "reablement"].set_index("day")["capacity"]
    assert hours.loc[60] == 90 and hours.loc[61] == pytest.approx(63) and hours.loc[102] == pytest.approx(63)
    assert hours.loc[103] == 90


def test_home_care_can_have_a_workforce_too():
    home_care = {"kind": "visits", "los_days": {"dist": "lognormal", "median": 400, "mean": 700}, "then": "left",
                 "costs": [{"gbp": 19, "per": "visit_hour", "payer": "means_tested"}],
                 "workforce": {"visit_hours_per_day": 30, "first_day_hours": 2.0, "last_day_hours": 1.5}}
    data = small_system(**{"run.replications": 1, "run.horizon_days": 100}).resolved
    data["services"]["home_care"] = home_care
    # What only long-term care has: people found in it for years, savings that run down while paying, and a
    # package sized by the route.
    del data["initial_state"]["home_care"]
    del data["funding"]["spend_down"]["home_care"]
    del data["sources"]["services.home_care.hours_per_week_after"]
    scenario = validate(data, "home-care-visits.yaml")
    result = run_replication(scenario)
    k = result.kpis
    assert k["home_care.visit_hours_mean"] <= 30 + 1e-9 and k["home_care.queue_mean"] > 0
    cost = next(c for c in result.costs if c.service == "home_care")
    assert cost.activity == pytest.approx(k["home_care.visit_hours_mean"] * 100) and cost.payer == "council"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"services.reablement.workforce": {"visit_hours_per_day": 100, "first_day_hours": 2, "last_day_hours": 1}},
         "workforce: unknown field"),   # a caseload counts people: visit-hours need kind visits
        ({"services.reablement": visits(100, capacity=50)}, "capacity: unknown field"),  # visits count hours only
        ({"services.reablement": visits(100, first=1, last=2)}, "visits taper"),
    ],
)
def test_bad_workforces_are_refused(changes, message):
    with pytest.raises(ScenarioError, match="services.reablement") as caught:
        small_system(**changes)
    assert message in str(caught.value)


def test_the_reablement_staffing_shock_scenario_builds_a_queue_that_outlasts_the_shock():
    from sim.scenario import load_scenario
    from sim.stress_figures import surge_recovery
    from support import ROOT

    shock = load_scenario(ROOT / "scenarios" / "stress" / "reablement-staffing-shock.yaml")
    assert shock.services["reablement"].kind == "visits"
    assert shock.services["reablement"].workforce.visit_hours_per_day == 560
    # The library's reablement, restated whole for its new kind.
    library = load_scenario(ROOT / "scenarios" / "baseline.yaml").services["reablement"]
    for field in ("label", "los_days", "then", "costs"):
        assert getattr(shock.services["reablement"], field) == getattr(library, field), field
    # The same system at a tenth of the scale (support.small_system's capacities), for speed.
    small = shock.with_changes({
        "run.horizon_days": 300, "run.warmup_days": 60, "demand.crises_per_year": 5400,
        "services.urgent_response.capacity": 4, "services.acute.capacity": 160,
        "services.community_beds.capacity": 40, "services.temporary_residential.capacity": 20,
        "services.reablement.workforce": {"visit_hours_per_day": 56, "first_day_hours": 3.0, "last_day_hours": 0.75},
    })
    result = run_replication(small)
    reablement = result.daily[result.daily.service == "reablement"].set_index("day")
    shock_starts, shock_ends = 217, 258  # 4 November and 15 December 2019, days after 1 April
    assert reablement.loc[shock_starts - 1, "capacity"] == 56
    assert reablement.loc[shock_starts, "capacity"] == pytest.approx(56 * 0.7)
    assert reablement.loc[shock_ends + 1, "capacity"] == 56
    before = reablement.loc[shock_starts - 28:shock_starts - 1, "queue"].mean()
    during = reablement.loc[shock_ends - 7:shock_ends, "queue"].mean()
    assert during > before + 5
    assert reablement.loc[shock_ends + 21:shock_ends + 35, "queue"].mean() > before + 5  # it outlasts the shock
    recovery = surge_recovery(small, result.daily).set_index("service")
    row = recovery.loc["reablement"]
    assert str(row["peak_date"]) >= "2019-12-15"  # the queue grows to the last day of the shock (or later)
    # Winter demand leaves little slack to clear it: not back to its level within three weeks of the end.
    assert row["note"] == "not cleared by the end of the run" or row["days_to_clear_after_end"] > 21
