"""Paired comparisons: zero against itself, CRN narrowing differences, savings by payer and kind."""

from __future__ import annotations

import pytest
from experiment_helpers import tiny

from sim.compare import comparison, differences, key_kpis, main_service, outcomes
from sim.executors import SerialExecutor
from sim.experiment import Plan, crn_effect, run_experiment


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    s = tiny()
    rs = run_experiment({"scenario": s, "comparator": s}, Plan(replications=3), executor=SerialExecutor())
    diff = differences(rs).dropna(subset=["difference_mean"])
    assert len(diff) > 100
    assert (diff["difference_mean"] == 0).all()
    with_ci = diff.dropna(subset=["ci_low"])     # a share defined in only one replication has no CI
    assert len(with_ci) > 100
    assert ((with_ci["ci_low"] == 0) & (with_ci["ci_high"] == 0)).all()
    table = comparison(rs)
    assert (table["mean"] == 0).all() and (table["ci_low"] == 0).all() and (table["ci_high"] == 0).all()


def test_common_random_numbers_shrink_the_variance_of_a_small_change():
    base = tiny()
    change = base.with_changes({"routes.crisis.scale.urgent_response": 1.3})
    effect = crn_effect(change, base, replications=8, executor=SerialExecutor()).set_index("kpi")
    # Measured on this scenario: ratios of about 25 to 160. Independent streams add the
    # whole replication-to-replication noise of both runs to every difference.
    assert (effect["ratio"] > 10).all(), effect
    assert (effect["variance_crn"] > 0).all()   # the change does change something


def test_outcomes_are_gains_of_the_scenario_with_bed_days_from_occupancy():
    s = tiny()
    change = s.with_changes({"services.acute.los_days": {"dist": "lognormal", "mean": 5.0, "sd": 6.0}})
    rs = run_experiment({"scenario": change, "comparator": s}, Plan(replications=3), executor=SerialExecutor())
    table = comparison(rs).set_index("measure")
    scen, comp = rs.kpi_table("scenario"), rs.kpi_table("comparator")
    horizon = s.run.horizon_days
    years = horizon / 365   # every outcome is a yearly figure
    expected = ((comp["acute.occupancy_mean"] - scen["acute.occupancy_mean"]) * horizon).mean() / years
    assert table.loc["Acute beds: bed-days saved", "mean"] == pytest.approx(expected)
    assert table.loc["Acute beds: bed-days saved", "mean"] > 0          # shorter stays use fewer bed-days
    # Admissions avoided counts people: readmissions are left out.
    people = (comp["acute.admissions"] - comp["acute.readmissions"]) - (scen["acute.admissions"] - scen["acute.readmissions"])
    assert table.loc["Admissions avoided", "mean"] == pytest.approx(people.mean() / years)
    assert table.loc["Residential care homes: new placements avoided", "mean"] == pytest.approx(
        (comp["residential_care.placements"] - scen["residential_care.placements"]).mean() / years)
    assert table.loc["Admissions avoided", "unit"] == "people a year"
    # One row per bed-based service and per long-term service, all made from the scenario's own services.
    assert [m for m in table.index if m.endswith("bed-days saved")] == [
        "Acute beds: bed-days saved", "Community hospital beds: bed-days saved",
        "Temporary residential placements: bed-days saved", "Delayed bed-days saved"]
    assert sum(m.endswith("new placements avoided") for m in table.index) == 3


def test_key_kpis_are_the_scenarios_own_measures_then_its_main_service_and_money():
    s = tiny()
    key = key_kpis(s)
    assert key[0] == "crises" and key[1:1 + len(s.measures)] == list(s.measures)
    assert key[1 + len(s.measures):] == ["acute.admissions", "acute.occupancy_mean", "acute.utilisation",
                                         "acute.los_mean", "delayed.bed_days", "cost.nhs", "cost.council",
                                         "cost.self_funder", "cost.total"]
    # Without measures of its own, a system shows every service's admissions and occupancy.
    bare = s.with_changes({"measures": {}})
    assert "reablement.admissions" in key_kpis(bare) and "reablement.admissions" not in key
    # The main service is the first bed-based one people meet: the pathway's shape, never its capacities.
    assert main_service(s) == "acute"
    assert main_service(s.with_changes({"services.acute.capacity": 5})) == "acute"
    ward_first = s.with_changes({"routes.crisis": {"to": {"community_beds": 0.5, "urgent_response": 0.5}}})
    assert main_service(ward_first) == "community_beds"
