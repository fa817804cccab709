"""Pinned results: the engine must give these exact figures for a fixed scenario and seed.

The values were computed before the performance work (issue 9), so they prove
the optimisations changed nothing a user can see. If a deliberate change to
the model's behaviour moves them, update the pins in the same commit and say
why in its message.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from sim.collector import RUN_THRESHOLDS, collecting_less
from sim.model import Model, run_replication
from sim.patient import NORMAL_DRAWS, UNIFORM_DRAWS
from sim.scenario import load_scenario
from sim.streams import Streams

PINNED = Path(__file__).parent / "data" / "determinism_pinned.yaml"

# Counts must match exactly; continuous figures to 1e-12 relative, which only
# the last bits of a platform's libm could move (a different draw moves them
# by far more).
KPIS = {
    0: {
        "crises": 2341, "conservation.entered": 3040, "conservation.inside_at_end": 809,
        "ucr.referrals": 316, "ucr.no_team_in_time": 82, "ucr.admissions_avoided": 177,
        "acute.admissions": 2097, "acute.readmissions": 24, "acute.deaths": 96,
        "pathway.P0": 1444, "pathway.P1": 441, "pathway.P2": 123, "pathway.P3": 34,
        "reablement.queue_peak": 28, "home_care.queue_peak": 73,
        "ed.wait_hours_mean": 8.368020924727169,
        "delayed.bed_days": 2881.2800174413474,
        "community_beds.los_mean": 44.75170120787662,
        "acute.occupancy_mean": 126.55174669094828,
        "home_care.committed_hours": 441507.6808323733,
        "cost.total": 30760920.08192548,
        "cost.nhs": 7799395.00941719,
        "cost.council": 9874528.281393986,
    },
    1: {
        "crises": 2408, "conservation.entered": 3056, "conservation.inside_at_end": 837,
        "ucr.referrals": 338, "ucr.no_team_in_time": 104, "ucr.admissions_avoided": 168,
        "acute.admissions": 2125, "acute.readmissions": 31, "acute.deaths": 85,
        "pathway.P0": 1475, "pathway.P1": 455, "pathway.P2": 118, "pathway.P3": 28,
        "reablement.queue_peak": 27, "home_care.queue_peak": 68,
        "ed.wait_hours_mean": 11.26640573810526,
        "delayed.bed_days": 1706.3257281929534,
        "community_beds.los_mean": 45.18204146934685,
        "acute.occupancy_mean": 128.7130880332483,
        "home_care.committed_hours": 431232.14051714516,
        "cost.total": 24382281.905550636,
        "cost.nhs": 7906742.120674126,
        "cost.council": 7859190.5330250105,
    },
}
# Sum over the daily census of (occupancy, queue), by service.
DAILY = {
    0: {"acute": (22855, 962), "reablement": (4864, 1342), "home_care": (44031, 1505)},
    1: {"acute": (22689, 1685), "reablement": (4615, 610), "home_care": (43906, 982)},
}
FLOWS = {0: (9289, 123), 1: (9530, 118)}  # all moves counted, and acute -> P2


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(PINNED)


@pytest.fixture(scope="module")
def results(scenario):
    return {rep: run_replication(scenario, rep) for rep in KPIS}


@pytest.mark.parametrize("rep", sorted(KPIS))
def test_kpis_match_the_pins(results, rep):
    kpis = results[rep].kpis
    for name, pinned in KPIS[rep].items():
        if float(pinned).is_integer():
            assert kpis[name] == pinned, name
        else:
            assert kpis[name] == pytest.approx(pinned, rel=1e-12, abs=0), name


@pytest.mark.parametrize("rep", sorted(KPIS))
def test_daily_census_and_flows_match_the_pins(results, rep):
    daily = results[rep].daily
    for service, (occupancy, queue) in DAILY[rep].items():
        rows = daily[daily.service == service]
        assert (rows.occupancy.sum(), rows.queue.sum()) == (occupancy, queue), service
    flows = results[rep].flows
    assert (sum(flows.values()), flows[("acute", "P2")]) == FLOWS[rep]


def test_a_rerun_is_identical_to_the_last_bit(scenario, results):
    again = run_replication(scenario, 0)
    assert again.kpis.keys() == results[0].kpis.keys()
    for name, value in results[0].kpis.items():
        assert again.kpis[name] == value or (np.isnan(value) and np.isnan(again.kpis[name])), name
    assert again.daily.equals(results[0].daily)
    assert again.flows == results[0].flows
    for service, stays in results[0].stays.items():
        assert np.array_equal(again.stays[service], stays), service


def test_each_named_stream_gives_its_kth_draw_to_the_kth_person(scenario):
    """Common random numbers rest on this: however luck is drawn, person k gets draw k of every stream."""
    model = Model(scenario, replication=3, seed=11)
    people = [model.people.new("system") for _ in range(5000)]  # more than one batch of every stream
    readmitted = people[:4500]
    for person in readmitted:
        model.people.readmit(person)
    reference = Streams(11, 3)
    for name in UNIFORM_DRAWS:
        first = [reference.uniform(name)() for _ in people]
        again = [reference.uniform("readmission." + name)() for _ in readmitted]
        assert [getattr(p, "u_" + name) for p in readmitted] == again, name
        assert [getattr(p, "u_" + name) for p in people[4500:]] == first[4500:], name
    for name in NORMAL_DRAWS:
        first = [reference.normal(name)() for _ in people]
        again = [reference.normal("readmission." + name)() for _ in readmitted]
        assert [getattr(p, "z_" + name) for p in readmitted] == again, name
        assert [getattr(p, "z_" + name) for p in people[4500:]] == first[4500:], name


def test_a_stream_drawn_in_rows_cannot_be_drawn_again_elsewhere():
    streams = Streams(1, 0)
    streams.rows(("group",), ("acute_los",))
    with pytest.raises(ValueError, match="group"):
        streams.uniform("group")
    with pytest.raises(ValueError, match="acute_los"):
        streams.rows(("other",), ("acute_los",))
    streams.uniform("arrivals")
    with pytest.raises(ValueError, match="arrivals"):
        streams.rows(("arrivals",), ())


def test_rows_hold_the_same_numbers_as_the_streams_drawn_one_by_one():
    rows = Streams(5, 2).rows(("a", "b"), ("c",))
    drawn = [rows() for _ in range(2 * 4096 + 3)]  # across a refill
    single = Streams(5, 2)
    a, b, c = single.uniform("a"), single.uniform("b"), single.normal("c")
    assert drawn == [(a(), b(), c()) for _ in drawn]


def test_a_run_asks_the_garbage_collector_to_run_less_and_restores_it(scenario):
    model = Model(scenario.with_changes({"run.horizon_days": 3, "run.warmup_days": 0}), 0)
    during = []

    def look():
        during.append(gc.get_threshold())
        yield model.env.timeout(1)

    model.env.process(look())
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)  # Python's defaults
        model.run()
        assert during == [RUN_THRESHOLDS]
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(500_000, 5, 50)  # someone's own, higher setting is never lowered
        with collecting_less():
            assert gc.get_threshold() == (500_000, 20, 50)
        assert gc.get_threshold() == (500_000, 5, 50)
    finally:
        gc.set_threshold(*before)
