"""The system's own arrivals (top-level `arrivals:`) are shared out over the places by their demand shares.

They used to land all in the first place. Now each arrival's place is drawn
from the places' shares, as a crisis's is, so thinning a Poisson process:
a place with share s receives a Poisson process of s times the rate, and
the places' arrivals add up to the system's exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pathway_helpers import FUNDING
from sim.measure.collect import run_replication
from sim.pathway import arrivals as arrivals_
from sim.pathway.model import Model
from sim.scenario import validate

RATE, DAYS = 40.0, 2000
SHARES = {"a": 0.25, "b": 0.75}
Z = 3.29  # two-sided 99.9%


def scenario(places: dict | None = None):
    data = {
        "name": "system arrivals by place",
        "run": {"horizon_days": DAYS, "warmup_days": 0, "replications": 1},
        "need_groups": {"all": {"share": 1.0}},
        "funding": FUNDING,
        "services": {"ward": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1.0}}},
        "arrivals": {"ward": {"per_day": RATE}},
    }
    if places is not None:
        data["places"] = places
    return validate(data, "<test>")


@pytest.fixture(scope="module")
def run():
    return Model(scenario({p: {"demand_share": s} for p, s in SHARES.items()}), 0).run()


def test_each_place_gets_its_share_of_the_system_arrivals(run):
    total = sum(run.units["ward"][p].arrivals for p in SHARES)
    for place, share in SHARES.items():
        count = run.units["ward"][place].arrivals
        expected = share * RATE  # a Poisson process of share x rate a day
        half = Z * math.sqrt(expected / DAYS)
        per_day = count / DAYS
        print(f"{place}: {per_day:.3f} a day into its ward (expected {expected:.0f} +/- {half:.3f}, 99.9%)")
        assert abs(per_day - expected) <= half, (place, per_day, expected, half)
    print(f"total: {total / DAYS:.3f} a day (expected {RATE:.0f} +/- {Z * math.sqrt(RATE / DAYS):.3f})")
    assert abs(total / DAYS - RATE) <= Z * math.sqrt(RATE / DAYS)


def test_the_system_arrivals_are_conserved_over_the_places(run):
    entered = {p: run.place_census[p].entered for p in SHARES}
    assert sum(entered.values()) == run.census.entered
    # everyone arrived straight into the ward of their own place (unlimited: nobody moved elsewhere)
    assert {p: run.units["ward"][p].arrivals for p in SHARES} == entered
    assert min(entered.values()) > 0


def test_the_expected_flows_split_the_system_arrivals_by_share():
    split = arrivals_.direct_by_place(scenario({p: {"demand_share": s} for p, s in SHARES.items()}), 10)
    means = {place: float(np.mean(rates)) for place, _, rates in split}
    assert means == pytest.approx({"a": 10.0, "b": 30.0})


def test_own_crises_a_year_give_the_shares_too():
    # places that give their own crises a year (1:3) share the system's arrivals 1:3 as well
    split = arrivals_.direct_by_place(scenario({"a": {"crises_per_year": 100}, "b": {"crises_per_year": 300}}), 5)
    assert {p: float(r.mean()) for p, _, r in split} == pytest.approx({"a": 10.0, "b": 30.0})


def test_one_place_or_none_keeps_them_all():
    one = Model(scenario({"only": {"demand_share": 1.0}}), 0).run()
    assert one.units["ward"]["only"].arrivals == one.census.entered > 0
    assert arrivals_.direct(scenario(), 3)[0][0] == "system"


def test_a_place_own_arrivals_draw_from_their_own_stream_not_the_system_one():
    # The system's stream used to be named after the first place and so shared that place's own stream
    # (Streams caches by name): a system rate of 0 took its first draw and moved all of the place's arrivals.
    def entered(system_rate: float | None) -> tuple[int, float]:
        """Arrivals into a's ward, and its mean occupancy (which moves with every arrival's time)."""
        data = scenario({"a": {"demand_share": 0.5, "arrivals": {"ward": {"per_day": 5.0}}},
                         "b": {"demand_share": 0.5}}).resolved
        data["run"]["horizon_days"] = 60
        if system_rate is None:
            del data["arrivals"]
        else:
            data["arrivals"]["ward"]["per_day"] = system_rate
        kpis = run_replication(validate(data, "<test>"), 0).kpis
        return kpis["place.a.ward.admissions"], kpis["place.a.ward.occupancy_mean"]

    assert entered(0.0) == entered(None)
    assert entered(0.0)[0] > 0
