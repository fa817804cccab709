"""Long-term care over years: occupancy paid year by year, placements committed, means that run down.

Analytic answers: a population found in care with exponential survival runs
down as exp(-t/mean); every day of care falls in exactly one year; a
placement commits its drawn stay, discounted in closed form; spending down
moves days of care from the person to the council at the stated times and
never changes how much care there is; someone diverted from a care home gets
the package the scenario sizes for them.
"""

from __future__ import annotations

import math

import pytest
from pathway_helpers import FUNDING, system

from sim.measure.costs import COMMITTED, PERIOD, cost_lines, in_totals
from sim.measure import invariants
from sim.measure.collect import collect
from sim.measure.invariants import InvariantError
from sim.pathway.initial_state import states
from sim.pathway.model import Model
from sim.scenario import load_scenario
from sim.scenario.errors import ScenarioError
from sim.studies.connect import sensitivity
from support import ROOT

YEAR = 365


def _care(days: int, warmup: int = 0, **extra) -> dict:
    data = {
        "name": "care",
        "run": {"horizon_days": days, "warmup_days": warmup, "replications": 1, "seed": 7},
        "need_groups": {"all": {"share": 1.0}},
        "funding": {"self_funder_share": 0.0, "partial_share": 0.0, "partial_contribution": 0.5},
        "services": {"care": {"kind": "long_term", "duration_days": {"dist": "exponential", "mean": 500},
                              "costs": [{"gbp": 100, "per": "day", "payer": "council"}]}},
    }
    data.update(extra)
    return data


def _run(data: dict) -> Model:
    return Model(system(data)).run()


def _sum(lines, **where) -> float:
    return sum(line.activity for line in lines if all(getattr(line, k) == v for k, v in where.items()))


def _in_year(lines, year: int, basis: str = PERIOD, field: str = "activity") -> float:
    return sum(getattr(line, field) for line in lines if line.year == year and line.basis == basis)


# --- people already in care at the start ---------------------------------------------------------

def _overlap_moments(mean: float, a: float, b: float) -> tuple[float, float]:
    """E[X], Var[X] of the days an exponential stay from 0 spends in [a, b)."""
    width = b - a
    first = mean * (math.exp(-a / mean) - math.exp(-b / mean))
    second = 2 * mean ** 2 * math.exp(-a / mean) * (1 - math.exp(-width / mean) * (1 + width / mean))
    return first, second - first ** 2


def test_people_found_in_care_run_down_as_their_survival_says():
    n, mean = 3000, 500.0
    model = _run(_care(5 * YEAR, initial_state={"care": {"occupied": n}}))
    lines = cost_lines(model)
    assert {line.year for line in lines} == {1, 2, 3, 4, 5}
    for year in range(1, 6):
        # The rest of an exponential stay found under way is exponential with the same mean (length bias).
        expected, var = _overlap_moments(mean, (year - 1) * YEAR, year * YEAR)
        days = _in_year(lines, year)
        assert abs(days - n * expected) < 4 * math.sqrt(n * var), year
        cash = _in_year(lines, year, field="cost_gbp")
        assert cash == pytest.approx(100 * days)
    # Nobody new arrived: nothing is committed, and year 5 costs about e^-4 of year 1.
    assert _in_year(lines, 1, COMMITTED, "cost_gbp") == 0
    assert _in_year(lines, 5) / _in_year(lines, 1) == pytest.approx(math.exp(-4 * YEAR / mean), rel=0.25)


def test_every_day_of_care_and_of_short_term_activity_falls_in_one_year():
    ward = {"kind": "beds", "capacity": 30, "los_days": {"dist": "exponential", "mean": 6.0}, "then": "care",
            "costs": [{"gbp": 300, "per": "day", "payer": "nhs"}, {"gbp": 50, "per": "episode", "payer": "nhs",
                                                                  "name": "admission"},
                      {"gbp": 20, "per": "arrival", "payer": "nhs", "name": "door"}]}
    data = _care(3 * YEAR - 100, warmup=100, arrivals={"ward": {"per_day": 4.0}},
                 initial_state={"care": {"occupied": 400}})
    data["services"]["ward"] = ward
    data["funding"] = FUNDING
    data["services"]["care"]["costs"] = [{"gbp": 100, "per": "day", "payer": "means_tested", "self_funder_gbp": 140}]
    model = _run(data)
    lines = cost_lines(model)
    ward_unit, care_unit = model.units["ward"]["system"], model.units["care"]["system"]
    assert {line.year for line in lines} == {1, 2, 3}  # the last year is part of one
    assert _sum(lines, service="ward") == pytest.approx(ward_unit.slots.area_in_use, rel=1e-12)
    assert _sum(lines, service="admission") == ward_unit.admissions
    assert _sum(lines, service="door") == ward_unit.arrivals
    in_care = [line for line in lines if line.service == "care" and line.basis == PERIOD]
    # Each partly funded day shows twice (the council's share and the person's): count it once.
    days = sum(line.activity for line in in_care if not (line.payer == "self_funder" and "partly" in line.activity_unit))
    assert days == pytest.approx(care_unit.slots.area_in_use, rel=1e-12)
    # Short-term activity is discounted at the middle of each day: within its year's factors.
    for line in lines:
        if line.basis == PERIOD and line.cost_gbp:
            ratio = line.discounted_gbp / line.cost_gbp
            assert 1.035 ** -line.year <= ratio <= 1.035 ** -(line.year - 1), line


def test_the_cost_kpis_count_long_term_care_once_at_the_cost_new_placements_commit():
    data = _care(2 * YEAR, arrivals={"care": {"per_day": 2.0}}, initial_state={"care": {"occupied": 300}})
    model = _run(data)
    result = collect(model)
    committed = sum(line.cost_gbp for line in result.costs if line.basis == COMMITTED)
    assert result.kpis["cost.total"] == pytest.approx(committed)
    assert sum(line.cost_gbp for line in result.costs if in_totals(line)) == pytest.approx(committed)


# --- what new placements commit ------------------------------------------------------------------

def test_placements_commit_their_drawn_stays():
    # Arrivals in the first 100 days only, stays of at most 150 days: every stay ends inside the run.
    data = _care(600, arrivals={"care": {"daily": [3.0] * 100 + [0.0] * 500}})
    data["services"]["care"]["duration_days"] = {"dist": "empirical", "values": [20, 50, 150]}
    model = _run(data)
    lines = cost_lines(model)
    stays = model.units["care"]["system"].stays
    assert len(stays) > 200
    assert _sum(lines, basis=COMMITTED, year=1) == pytest.approx(sum(stays), rel=1e-12)
    assert _sum(lines, basis=COMMITTED, year=2) == 0  # nobody started in year 2
    # Cash falls in the years the care is given: the same days, all of them inside the run.
    assert _sum(lines, basis=PERIOD) == pytest.approx(sum(stays), rel=1e-12)


@pytest.mark.parametrize("rate", [0.035, 0.015, 0.0])
def test_discounted_commitment_of_a_fixed_stay_has_its_closed_form(rate):
    stay = 730.0
    data = _care(2 * YEAR, arrivals={"care": {"per_day": 1.5}}, economics={"discount_rate": rate})
    data["services"]["care"]["duration_days"] = {"dist": "fixed", "value": stay}
    data["services"]["care"]["costs"] = [{"gbp": 100, "per": "day", "payer": "council"},
                                         {"gbp": 1000, "per": "episode", "payer": "council", "name": "fee"}]
    lines = cost_lines(_run(data))
    for year in (1, 2):
        placements = _sum(lines, service="fee", basis=COMMITTED, year=year)
        days = [line for line in lines if line.service == "care" and line.basis == COMMITTED and line.year == year]
        assert sum(line.activity for line in days) == pytest.approx(placements * stay, rel=1e-12)
        # A placement from s to s + D is worth 100 x integral of v^(t/365) over it, and its fee 1000 v^(s/365):
        # the ratio is the same whatever s, 0.1 x 365 (1 - v^(D/365)) / ln(1 + r).
        fee_pv = sum(line.discounted_gbp for line in lines if line.service == "fee" and line.basis == COMMITTED
                     and line.year == year)
        care_pv = sum(line.discounted_gbp for line in days)
        closed = stay if rate == 0 else YEAR * (1 - (1 + rate) ** (-stay / YEAR)) / math.log1p(rate)
        assert care_pv / fee_pv == pytest.approx(0.1 * closed, rel=1e-9)
        if rate == 0:
            assert care_pv == pytest.approx(sum(line.cost_gbp for line in days), rel=1e-12)


# --- means that change --------------------------------------------------------------------------

def _spending(spend_down: dict | None, self_rate: float = 100.0) -> list:
    data = _care(3 * YEAR, arrivals={"care": {"per_day": 1.0}})
    data["services"]["care"]["duration_days"] = {"dist": "fixed", "value": 1000}
    data["services"]["care"]["costs"] = [{"gbp": 100, "per": "day", "payer": "means_tested",
                                          "self_funder_gbp": self_rate}]
    data["funding"] = {"self_funder_share": 1.0, "partial_share": 0.0, "partial_contribution": 0.4}
    if spend_down:
        data["funding"]["spend_down"] = {"care": spend_down}
    return cost_lines(_run(data))


def test_spending_down_moves_care_from_the_person_to_the_council_after_the_stated_times():
    fixed = {"to_upper_days": {"dist": "fixed", "value": 200}, "to_lower_days": {"dist": "fixed", "value": 300}}
    never, spends = _spending(None), _spending(fixed)

    def paid(lines, payer, year, basis=PERIOD):
        return sum(line.cost_gbp for line in lines if line.payer == payer and line.year == year and line.basis == basis)

    for year in (1, 2, 3):
        # The same care, the same total cost (at equal rates): only who pays moves.
        assert paid(spends, "council", year) + paid(spends, "self_funder", year) == pytest.approx(
            paid(never, "self_funder", year), rel=1e-12)
        assert paid(never, "council", year) == 0
    # Council-funded only 500 days into a stay: none in year 1; the partly funded from day 200 on.
    assert _sum(spends, basis=PERIOD, year=1, activity_unit="days in care") == 0
    assert _sum(spends, basis=PERIOD, year=1, payer="council") > 0
    assert paid(spends, "council", 2) > paid(spends, "council", 1) > 0
    # Each placement commits 200 self-funded days, 300 partly funded and 500 council-funded.
    committed = {unit: _sum(spends, basis=COMMITTED, payer="council" if unit != "days (self-funded)" else "self_funder",
                            activity_unit=unit)
                 for unit in ("days", "days (partly funded)", "days (self-funded)")}
    placements = committed["days (self-funded)"] / 200
    assert placements == pytest.approx(round(placements)) and placements > 600
    assert committed["days (partly funded)"] == pytest.approx(300 * placements)
    assert committed["days"] == pytest.approx(500 * placements)


def test_spending_down_at_a_higher_self_funder_fee_changes_the_money_not_the_care():
    fixed = {"to_upper_days": {"dist": "fixed", "value": 200}}
    never, spends = _spending(None, 150.0), _spending(fixed, 150.0)
    days = lambda lines: sum(line.activity for line in lines if line.basis == PERIOD  # noqa: E731
                             and not (line.payer == "council" and "partly" in line.activity_unit))
    assert days(spends) == pytest.approx(days(never), rel=1e-12)
    cost = lambda lines: sum(line.cost_gbp for line in lines if line.basis == PERIOD)  # noqa: E731
    assert cost(spends) < cost(never)  # councils pay less a day than self-funders are charged


# --- a package sized for someone diverted from a care home -------------------------------------

def test_someone_diverted_from_a_care_home_gets_the_package_sized_for_them():
    data = _care(YEAR, arrivals={"care_home_decision": {"per_day": 2.0}, "home_care_decision": {"per_day": 3.0}})
    data["services"] = {
        "care_home": {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 70}},
        "home_care": {"kind": "long_term", "duration_days": {"dist": "fixed", "value": 70},
                      "hours_per_week": {"dist": "fixed", "value": 11},
                      "hours_per_week_after": {"care_home_decision": {"dist": "fixed", "value": 24}},
                      "costs": [{"gbp": 20, "per": "hour", "payer": "council"}]},
    }
    data["routes"] = {"care_home_decision": {"to": {"care_home": 0.5, "home_care": 0.5}},
                      "home_care_decision": {"to": {"home_care": 1.0}}}
    model = _run(data)
    decisions = model.router.system_decisions()
    diverted, ordinary = decisions[("care_home_decision", "home_care")], decisions[("home_care_decision", "home_care")]
    assert diverted > 200 and ordinary > 400
    hours = _sum(cost_lines(model), basis=COMMITTED)
    assert hours == pytest.approx((24 * diverted + 11 * ordinary) * 70 / 7, rel=1e-12)


def test_spend_down_and_package_sizes_must_name_what_exists():
    data = _care(YEAR, arrivals={"care": {"per_day": 1.0}})
    data["funding"]["spend_down"] = {"nowhere": {"to_upper_days": {"dist": "fixed", "value": 10}}}
    data["services"]["care"]["hours_per_week_after"] = {"no_route": {"dist": "fixed", "value": 10}}
    with pytest.raises(ScenarioError) as info:
        system(data)
    assert "funding.spend_down.nowhere: not a long_term service" in str(info.value)
    assert "services.care.hours_per_week_after.no_route: not a route" in str(info.value)


def test_people_in_long_term_care_at_the_start_live_where_its_people_come_from():
    # Care has no limit in any place, so the system's people found in it are shared as demand is.
    scenario = load_scenario(ROOT / "scenarios" / "places" / "mse-places.yaml")
    found = {(service, place): n for service, place, n, _ in states(Model(scenario))}
    shares = {name: place.demand_share for name, place in scenario.places.items()}
    for service in ("residential_care", "nursing_care", "home_care"):
        total = scenario.initial_state[service].occupied
        assert sum(found[(service, p)] for p in shares) == total
        for place, share in shares.items():
            assert abs(found[(service, place)] - share * total) < 1, (service, place)


def test_package_size_and_spend_down_enter_the_sensitivity_analysis():
    connect = load_scenario(ROOT / "scenarios" / "connect.yaml")
    inputs = {i.label: i for i in sensitivity.INPUTS}
    package = inputs["Package for someone kept out of a care home"]
    assert not package.reprice  # who is diverted and their package are drawn in the run
    small = connect.with_changes(package.changes(connect, package.low))
    assert small.services["home_care"].hours_per_week_after["care_home_decision"].mean() == pytest.approx(15)
    spend = inputs["Time until a self-funder's savings run down (×)"]
    slow = connect.with_changes(spend.changes(connect, spend.high))
    for service, means in connect.funding.spend_down.items():
        assert slow.funding.spend_down[service].to_upper_days.mean() == pytest.approx(2 * means.to_upper_days.mean())


def test_a_day_of_care_lost_from_the_years_breaks_an_invariant():
    model = _run(_care(2 * YEAR, arrivals={"care": {"per_day": 2.0}}, initial_state={"care": {"occupied": 100}}))
    assert invariants.check(model) > 0
    model.units["care"]["system"].care.days.amount["council"][1] -= 1.0
    with pytest.raises(InvariantError, match="care paid by year = occupancy"):
        invariants.check(model)
