"""The pathway core's queueing against theory: Erlang C, Little's law, unlimited capacity, overload."""

import math

import numpy as np
import pytest
from pathway_helpers import one_queue, run
from queueing import mean_wait


@pytest.mark.parametrize("servers, per_day, stay", [(1, 0.7, 1.0), (5, 4.0, 1.0), (40, 36.0, 1.0)])
def test_mmc_wait_matches_erlang_c(servers, per_day, stay):
    waits = [run(one_queue(servers, per_day, stay, days=3000, seed=11), r).kpis["ward.wait_mean"] for r in range(4)]
    expected = mean_wait(servers, per_day, 1 / stay)
    mean, half = np.mean(waits), 2.6 * np.std(waits, ddof=1) / math.sqrt(len(waits)) + 0.02 * expected
    assert abs(mean - expected) <= max(half, 0.15 * expected), (mean, expected, waits)


def test_occupancy_is_the_offered_load_and_littles_law_holds():
    k = run(one_queue(19, 8.0, 2.0, days=3000, seed=3)).kpis
    assert k["ward.occupancy_mean"] == pytest.approx(16.0, rel=0.04)
    # Little's law: occupancy = admissions a day x mean stay
    assert k["ward.occupancy_mean"] == pytest.approx(k["ward.admissions"] / 3000 * k["ward.los_mean"], rel=0.02)


def test_unlimited_capacity_never_makes_anyone_wait():
    k = run(one_queue(None, 30.0, 3.0, days=300)).kpis
    assert k["ward.wait_mean"] == 0 and k["ward.queue_peak"] == 0 and k["ward.delayed_bed_days"] == 0
    assert k["ward.occupancy_mean"] == pytest.approx(90.0, rel=0.05)


def test_an_overloaded_queue_grows_at_arrivals_minus_capacity_over_stay():
    # 10 beds, stays of 2 days: at most 5 leave a day; 8 arrive, so the queue grows by about 3 a day.
    slopes = []
    for r in range(4):
        daily = run(one_queue(10, 8.0, 2.0, days=400, warmup=0), r).daily
        daily = daily[daily.service == "ward"]
        slopes.append(np.polyfit(daily.day[50:], daily.queue[50:], 1)[0])
    assert np.mean(slopes) == pytest.approx(8.0 - 10 / 2.0, abs=0.25), slopes


def test_people_are_conserved_and_the_same_seed_gives_the_same_results():
    a, b = run(one_queue(5, 4.0, 1.0, days=200)), run(one_queue(5, 4.0, 1.0, days=200))
    assert a.kpis == b.kpis
    k = a.kpis
    assert k["conservation.entered"] == k["conservation.left"] + k["conservation.inside_at_end"]
