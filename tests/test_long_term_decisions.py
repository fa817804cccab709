"""The supporting-independence lever: long-term decisions turned into more independent ones.

The lever is two routes of the library (scenarios/library/older-people-pathway.yaml):
`home_care_decision` (a new package, or independence at home) and `care_home_decision`
(a care home place, or a package instead).
"""

from __future__ import annotations

import pytest
from scipy import stats

from sim.measure.collect import run_replication
from support import small_system


def _run(home_care_to_independent: float, care_home_to_home_care: float):
    scenario = small_system(**{
        "routes.home_care_decision.to": {"home_care": 1 - home_care_to_independent, "home": home_care_to_independent},
        "routes.care_home_decision.to": {"care_home": 1 - care_home_to_home_care, "home_care": care_home_to_home_care},
    })
    return run_replication(scenario, 0).kpis


@pytest.fixture(scope="module")
def untouched():
    return _run(0.0, 0.0)


def test_no_lever_means_every_decision_is_a_placement(untouched):
    assert untouched["long_term.more_independent"] == 0
    placements = untouched["home_care.packages"] + untouched["care_home.permanent_admissions"]
    assert untouched["long_term.decisions"] >= placements > 100


def test_all_home_care_to_independence_leaves_no_new_package():
    k = _run(1.0, 0.0)
    # the only new packages are of people sent home whose independence did not last (afterwards.package_later)
    assert k["home_care.packages"] == k["later.package_later"]
    assert k["long_term.more_independent"] > 100
    # Care home decisions are untouched, so every other decision was a home care one made independent.
    assert k["long_term.more_independent"] + k["care_home.permanent_admissions"] == pytest.approx(
        k["long_term.decisions"], abs=30)  # placements still waiting for a place at the end


def test_all_care_homes_to_home_care_leaves_no_care_home_admission(untouched):
    k = _run(0.0, 1.0)
    # the only care home admissions are of people whose package did not last (afterwards.care_home_later)
    assert k["care_home.permanent_admissions"] == k["later.care_home_later"]
    # The same people, with the same luck, now get a package instead (common random numbers).
    assert k["home_care.packages"] == pytest.approx(
        untouched["home_care.packages"] + untouched["care_home.permanent_admissions"], rel=0.03)


def test_a_quarter_of_decisions_made_more_independent():
    k = _run(0.25, 0.25)
    n = k["long_term.decisions"]
    low, high = stats.binom.interval(0.999, int(n), 0.25)
    assert low <= k["long_term.more_independent"] <= high
