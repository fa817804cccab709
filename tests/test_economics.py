"""Economics: discounting against its closed form, the price index both ways, perspectives that add up, budget
impact that conserves the period's cash, what the change costs, and no gain from a comparison not trusted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import tiny

from sim import api
from sim.economics import discounting, lines, programme
from sim.economics.impact import budget_impact, economic_summary, years_measured
from sim.executors import SerialExecutor
from sim.experiment import Plan, run_experiment
from sim.measure.costs import COMMITTED, PERIOD
from sim.results import ResultSet
from sim.scenario import price_index

# --- discounting and prices ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, 0.015, 0.035, 0.2])
def test_discounting_matches_the_annuity_closed_form(rate):
    # £1,000 a year for 5 years paid at mid-year is the year-end annuity brought half a year nearer.
    mid_year = discounting.present_value([1000.0] * 5, rate)
    assert mid_year == pytest.approx(discounting.annuity(1000.0, 5, rate) * (1 + rate) ** 0.5, rel=1e-12)
    # The closed form itself, against the sum it stands for.
    assert discounting.annuity(1000.0, 5, rate) == pytest.approx(sum(1000 / (1 + rate) ** t for t in range(1, 6)))


def test_nice_reference_case_rate_halves_a_pound_in_about_twenty_years():
    assert discounting.factor(20, 0.035) == pytest.approx(0.5026, abs=1e-4)
    assert discounting.mid_day(0, 0.035) == pytest.approx(1.035 ** (-0.5 / 365))


def test_price_index_round_trip_and_a_published_step():
    assert price_index.factor("2017/18", "2023/24") * price_index.factor("2023/24", "2017/18") == pytest.approx(1.0)
    # The published yearly changes from 2017/18 to 2023/24 (PSSRU Unit Costs 2025): 1.60, 2.14, 2.49, 2.58, 7.32, 2.47%.
    expected = 1.016 * 1.0214 * 1.0249 * 1.0258 * 1.0732 * 1.0247
    assert price_index.factor("2017/18", "2023/24") == pytest.approx(expected, rel=1e-12)
    assert price_index.factor("2022/23", "2023/24") == pytest.approx(1.0247)
    assert price_index.year_problem("2009/10") and not price_index.year_problem("2014/15")
    assert price_index.provisional() == ["2024/25"]


# --- a comparison made of given cost lines ----------------------------------------------------------------


def _resultset(lines_: list[tuple], scenario=None, replications: int = 3, warnings=None) -> ResultSet:
    """Cost lines (role, service, payer, basis, activity unit, year, GBP for replication r = gbp + r)."""
    s = scenario or tiny(**{"run.horizon_days": 3 * 365})
    kpis = pd.DataFrame([(role, r, "crises", 100.0) for role in ("scenario", "comparator") for r in range(replications)],
                        columns=["role", "replication", "kpi", "value"])
    rows = [(role, r, service, payer, basis, 1.0, unit, gbp, gbp + r, year, (gbp + r) * 0.9)
            for role, service, payer, basis, unit, year, gbp in lines_ for r in range(replications)]
    costs = pd.DataFrame(rows, columns=["role", "replication", "service", "payer", "basis", "activity", "activity_unit",
                                        "unit_cost_gbp", "cost_gbp", "year", "discounted_gbp"])
    empty = pd.DataFrame(columns=["role", "replication", "day", "service", "occupancy", "queue", "capacity"])
    return ResultSet(scenarios={"scenario": s, "comparator": tiny(**{"run.horizon_days": 3 * 365})}, kpis=kpis,
                     costs=costs, daily=empty, flows=pd.DataFrame(columns=["role", "replication", "source", "target",
                                                                           "people"]),
                     stays=pd.DataFrame(), manifest={"warnings": warnings or []})


# Reablement episodes (council cash), a care home week in care (council cash, long-term), home care's lifetime
# (committed), acute bed-days (NHS capacity), self-funders' care home fees. Prices in the tiny scenario are the
# library's, each at its own price year: only their factor to 2023/24 matters here.
LINES = [
    ("comparator", "reablement", "council", PERIOD, "episodes started", 1, 1000.0),
    ("comparator", "reablement", "council", PERIOD, "episodes started", 2, 1000.0),
    ("comparator", "residential_care", "council", PERIOD, "weeks in care", 2, 5000.0),
    ("comparator", "residential_care", "self_funder", PERIOD, "weeks in care (self-funded)", 2, 700.0),
    ("comparator", "home_care", "council", COMMITTED, "hours", 1, 99_000.0),
    ("comparator", "acute", "nhs", PERIOD, "occupied days", 1, 8000.0),
    ("scenario", "reablement", "council", PERIOD, "episodes started", 1, 1500.0),
    ("scenario", "residential_care", "council", PERIOD, "weeks in care", 2, 3000.0),
    ("scenario", "residential_care", "self_funder", PERIOD, "weeks in care (self-funded)", 2, 200.0),
    ("scenario", "acute", "nhs", PERIOD, "occupied days", 1, 6000.0),
]


def _value(table: pd.DataFrame, year: int, perspective: str, kind: str) -> float:
    row = table[(table["year"] == year) & (table["perspective"] == perspective) & (table["kind"] == kind)]
    assert len(row) == 1, (year, perspective, kind)
    return float(row["mean"].iloc[0])


def test_perspectives_add_up_and_self_funders_are_never_in_a_system_total():
    rs = _resultset(LINES)
    impact = budget_impact(rs)
    f_reab = price_index.factor("2023/24", "2023/24")
    f_home = price_index.factor("2024/25", "2023/24")   # care homes: LaingBuisson 2025, 2024/25 fees
    # Year 1: reablement 1000 -> 1500 episodes' worth (council pays 500 more); acute bed-days are capacity, not cash.
    assert _value(impact, 1, "council", "cash_releasing") == pytest.approx(-500 * f_reab)
    assert _value(impact, 1, "nhs", "cash_releasing") == 0.0
    # Year 2: reablement 1000 saved, care home weeks 2000 saved (council); self-funders 500 saved, apart.
    # (replication r adds r to each line: the comparator's year-2 reablement has no scenario line to cancel it)
    assert _value(impact, 2, "council", "cash_releasing") == pytest.approx(1001 * f_reab + 2000 * f_home)
    assert _value(impact, 2, "self_funders", "cash_releasing") == pytest.approx(500 * f_home)
    for year in (1, 2, 3):
        for kind in ("cash_releasing", "net"):
            assert _value(impact, year, "nhs_pss", kind) == pytest.approx(
                _value(impact, year, "nhs", kind) + _value(impact, year, "council", kind))
    # The lifetime cost of placements (committed) is never cash in any year.
    assert _value(impact, 1, "council", "cash_releasing") > -1000
    summary = economic_summary(rs).set_index(["perspective", "measure"])
    lifetime = summary.loc[("council", "lifetime cost of new placements avoided, undiscounted"), "mean"]
    assert lifetime == pytest.approx(99_001 * price_index.factor("2023/24", "2023/24"))


def test_budget_impact_years_add_up_to_the_cash_of_the_period():
    rs = _resultset(LINES)
    impact = budget_impact(rs)
    summary = economic_summary(rs).set_index(["perspective", "measure"])
    for perspective in ("nhs", "council", "nhs_pss", "self_funders"):
        by_year = impact[(impact["perspective"] == perspective) & (impact["kind"] == "cash_releasing")]["mean"].sum()
        assert by_year == pytest.approx(summary.loc[(perspective, "cash-releasing savings"), "mean"])


def test_what_the_change_costs_is_inflated_paid_every_year_and_netted():
    base = tiny(**{"run.horizon_days": 2 * 365 + 100})
    change = base.with_changes({"economics.programme_costs": [
        {"name": "teams", "label": "2 teams", "kind": "capacity", "payer": "nhs", "gbp": 45625, "units": 2,
         "price_year": "2017/18", "source": "test"},
        {"name": "set_up", "label": "set-up", "kind": "one_off", "payer": "council", "gbp": 10_000, "year": 2,
         "price_year": "2023/24", "source": "test"}]})
    years = years_measured(change)
    assert years == pytest.approx({1: 1.0, 2: 1.0, 3: 100 / 365})
    spent = programme.investment(change, base, 3, years)
    yearly = 2 * 45625 * price_index.factor("2017/18", "2023/24")
    assert spent[("nhs", 1)] == pytest.approx(yearly) and spent[("nhs", 2)] == pytest.approx(yearly)
    assert spent[("nhs", 3)] == pytest.approx(yearly * 100 / 365)   # a year measured in part pays its part
    assert spent[("council", 2)] == pytest.approx(10_000) and spent[("council", 1)] == 0.0
    rs = _resultset(LINES, scenario=change)
    impact = budget_impact(rs)
    assert _value(impact, 1, "nhs", "investment") == pytest.approx(yearly)
    assert _value(impact, 1, "nhs", "net") == pytest.approx(-yearly)
    assert _value(impact, 2, "nhs_pss", "investment") == pytest.approx(yearly + 10_000)
    assert "investment" not in set(impact.loc[impact["perspective"] == "self_funders", "kind"])


def test_a_service_whose_capacity_the_change_pays_for_is_capacity_in_both_runs():
    base = tiny()
    paid = base.with_changes({"economics.programme_costs": [
        {"name": "places", "label": "places", "kind": "capacity", "payer": "council", "gbp": 1, "units": 1,
         "price_year": "2023/24", "source": "test", "service": "reablement"}]})
    services = lines.capacity_paid_services(paid, base)
    assert services == {"reablement"}
    assert lines.view_of("reablement", PERIOD, "episodes started", "caseload", True) == lines.CAPACITY
    assert lines.view_of("reablement", PERIOD, "episodes started", "caseload", False) == lines.CASH
    assert lines.view_of("home_care", COMMITTED, "hours", "long_term", False) == lines.COMMITTED_VIEW


def test_an_untrusted_comparison_shows_no_gain_and_no_money():
    overloaded = [{"kind": "overloaded", "subject": "acute", "role": "scenario",
                   "message": "Acute beds: the queue grows through the whole run, from 3 to 90 people; demand is above"
                              " capacity"}]
    rs = _resultset(LINES, warnings=overloaded)
    assert budget_impact(rs).empty and economic_summary(rs).empty
    table = rs.comparison
    assert len(table) > 0 and table["mean"].isna().all()
    assert table["who"].str.startswith("not valid: This comparison is not valid: in the scenario, Acute beds").all()
    trusted = _resultset(LINES)
    assert trusted.comparison.loc[trusted.comparison["kind"] == "headline", "mean"].notna().all()


# --- a real run -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def surge_runs():
    base = tiny()
    surge = base.with_changes({"demand.crises_per_year": base.demand.crises_per_year * 1.3})
    same = run_experiment({"scenario": base, "comparator": base}, Plan(replications=3), executor=SerialExecutor())
    more = run_experiment({"scenario": surge, "comparator": base}, Plan(replications=3), executor=SerialExecutor())
    return same, more


def test_a_surge_scores_no_more_independent_outcomes_for_having_more_crises(surge_runs):
    _, more = surge_runs
    more.manifest["warnings"] = []   # judged on its numbers here, whatever the queues do
    table = more.comparison.set_index("measure")
    row = table.loc["People with more independent outcomes"]
    crises = more.kpi_table("scenario")["crises"].mean() - more.kpi_table("comparator")["crises"].mean()
    assert crises > 100
    # A count of journeys ending at home rises with the 30% more crises; counted against the same crises,
    # the surge is credited with none of that rise.
    home = more.flows[(more.flows["target"] == "home")].groupby("role")["people"].sum() / 3
    naive = (home["scenario"] - home["comparator"]) * 365 / more.scenarios["scenario"].run.horizon_days
    assert naive > 50
    # Measured: naive +72 a year (+265 before readmissions and deaths after going home were modelled: more of
    # the extra journeys home now come back), the headline below zero: the busier system sends a smaller share home.
    assert row["mean"] < 0.1 * naive and not row["ci_low"] > 0


def test_a_scenario_against_itself_gains_nothing_and_saves_nothing(surge_runs):
    same, _ = surge_runs
    same.manifest["warnings"] = []
    table = same.comparison
    assert (table["mean"].fillna(0) == 0).all()
    impact = same.budget_impact
    assert not impact.empty and (impact["mean"] == 0).all()
    headline = same.comparison[same.comparison["kind"] == "headline"]["measure"].tolist()
    assert headline == ["Admissions avoided", "Bedded placements after acute avoided",
                        "People with more independent outcomes"]


def test_api_comparison_of_an_overloaded_run_is_not_a_gain(tmp_path):
    base = tiny(**{"services.acute.capacity": 20, "run.replications": 3})
    rs = api.run(base, tiny(), replications=3, workers=1)
    assert any(w["kind"] == "overloaded" for w in rs.manifest["warnings"])
    assert rs.comparison["mean"].isna().all()
    assert rs.budget_impact.empty
    assert math.isnan(rs.comparison.set_index("measure").loc["Admissions avoided", "mean"])
    assert np.all(rs.comparison["who"].str.contains("not valid"))


def test_a_two_year_run_books_every_episode_in_one_year_and_the_years_add_up_to_the_period():
    base = tiny(**{"run.horizon_days": 2 * 365})
    more = base.with_changes({"services.reablement.capacity": 25})
    rs = run_experiment({"scenario": more, "comparator": base}, Plan(replications=2), executor=SerialExecutor())
    rs.manifest["warnings"] = []   # the tiny system queues in winter; judged on its sums here
    for role in ("scenario", "comparator"):
        costs = rs.costs[(rs.costs["role"] == role) & (rs.costs["service"] == "reablement")]
        by_year = costs.groupby(["replication", "year"])["activity"].sum().unstack()
        assert list(by_year.columns) == [1, 2]
        # Episodes booked in years 1 and 2 are the period's admissions, replication by replication.
        admissions = rs.kpi_table(role)["reablement.admissions"]
        assert by_year.sum(axis=1).to_numpy() == pytest.approx(admissions.to_numpy())
    impact = rs.budget_impact
    council = impact[(impact["perspective"] == "council") & (impact["kind"] == "cash_releasing")]
    assert list(council["year"]) == [1, 2]
    total = economic_summary(rs).set_index(["perspective", "measure"]).loc[("council", "cash-releasing savings"), "mean"]
    assert council["mean"].sum() == pytest.approx(total)
    # The council's reablement episodes are part of its cash: more places, more episodes bought.
    episodes = {role: rs.kpi_table(role)["reablement.admissions"].mean() for role in ("scenario", "comparator")}
    assert episodes["scenario"] > episodes["comparator"]
