"""Trust warnings: raised on overloaded queues, imprecise KPIs, partly undefined KPIs and short warm-ups; quiet otherwise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.measure.collect import run_replication
from sim.results import ResultSet, from_replications
from sim.trust import assess, growing_queues, short_warm_up, too_few_replications, undefined_kpis
from support import single_queue


def _daily(queue_of_day, replications=5, days=200, first_day=0, service="acute", occupancy_of_day=None, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(replications):
        for day in range(first_day, days):
            queue = max(0.0, queue_of_day(day) + rng.normal(0, 2))
            occupancy = occupancy_of_day(day) + rng.normal(0, 2) if occupancy_of_day else 50.0
            rows.append(("scenario", rep, day, service, occupancy, round(queue), 60.0))
    return pd.DataFrame(rows, columns=["role", "replication", "day", "service", "occupancy", "queue", "capacity"])


def _kpis(values: dict[str, list[float]], role: str = "scenario") -> pd.DataFrame:
    return pd.DataFrame([(role, rep, name, v) for name, vs in values.items() for rep, v in enumerate(vs)],
                        columns=["role", "replication", "kpi", "value"])


# --- overloaded services ------------------------------------------------------------------


def test_a_queue_growing_through_the_run_is_flagged_with_its_start_and_end():
    warnings = growing_queues(_daily(lambda d: 0.5 * d))
    assert [w.kind for w in warnings] == ["overloaded"]
    assert warnings[0].subject == "acute"
    # about 0.5 a day: ~5 people over the first 20 days, ~95 over the last 20
    assert "from 5 to 95 people" in warnings[0].message
    assert "+0.50 a day" in warnings[0].message


@pytest.mark.parametrize("queue", [lambda d: 10.0, lambda d: 10 + 8 * math.sin(d / 7), lambda d: 0.01 * d])
def test_steady_cycling_or_barely_rising_queues_are_not_flagged(queue):
    assert growing_queues(_daily(queue)) == []


def test_a_seasonal_queue_that_empties_mid_run_and_builds_again_at_the_end_is_not_flagged():
    # The baseline's acute queue: empty through summer, building from day 270 to the end of March.
    winter_at_end = _daily(lambda d: 0.0 if d < 140 else 1.2 * (d - 140))
    assert growing_queues(winter_at_end) == []
    # The same end without the empty middle is a queue demand outruns.
    assert [w.kind for w in growing_queues(_daily(lambda d: 0.4 * d))] == ["overloaded"]


def test_a_real_overloaded_ward_is_flagged_and_an_unlimited_one_is_not():
    def results(beds):
        scenario = single_queue(10.0, 5.0, beds, **{"run.horizon_days": 120, "run.warmup_days": 20})
        reps = [run_replication(scenario, r) for r in range(3)]
        return from_replications({"scenario": reps}, {"scenario": scenario})

    # 10 arrivals a day staying 5 days need 50 beds; 40 cannot keep up (a queue of ~+2 a day)
    overloaded = [w for w in assess(results(40)) if w.kind == "overloaded"]
    assert [w.subject for w in overloaded] == ["acute"]
    assert [w for w in assess(results(None)) if w.kind == "overloaded"] == []


# --- replications ---------------------------------------------------------------------------


def test_too_wide_an_interval_says_how_many_replications_would_do():
    # mean 100, sd 10, n=3: half-width t(0.975, 2) * 10 / sqrt(3) = 24.84, 24.8% of the mean
    warnings = too_few_replications(_kpis({"cost.total": [100.0, 110.0, 90.0]}), names=["cost.total"])
    assert len(warnings) == 1
    assert "±24.8% of the mean" in warnings[0].message
    assert "wider than the ±5% asked" in warnings[0].message
    assert "about 75 are needed" in warnings[0].message   # ceil(3 * (0.2484 / 0.05)^2)


def test_a_precise_enough_kpi_and_an_asked_looser_precision_give_no_warning():
    tight = _kpis({"cost.total": [1000.0, 1001.0, 999.0, 1000.5]})
    assert too_few_replications(tight, names=["cost.total"]) == []
    loose = _kpis({"cost.total": [100.0, 110.0, 90.0]})
    assert too_few_replications(loose, precision=0.3, names=["cost.total"]) == []


def test_one_replication_has_no_interval():
    warnings = too_few_replications(_kpis({"acute.admissions": [812.0]}), names=["acute.admissions"])
    assert "one replication gives no confidence interval" in warnings[0].message


def test_assess_uses_the_precision_the_run_asked_for():
    kpis = _kpis({"cost.total": [100.0, 110.0, 90.0]})
    daily = _daily(lambda d: 10.0, replications=3, days=30)
    results = ResultSet(scenarios={"scenario": None}, kpis=kpis, daily=daily, flows=None, costs=None, stays=None,
                        manifest={"precision": {"target": 0.3, "kpis": ["cost.total"]}})
    assert [w for w in assess(results) if w.kind == "replications"] == []
    results.manifest = {}
    assert [w.subject for w in assess(results) if w.kind == "replications"] == ["cost.total"]


def test_the_precision_checked_by_default_is_of_the_main_service_delays_and_cost():
    from sim.trust import precision_kpis
    from support import baseline

    # The first bed-based service people meet in the Connect baseline is acute: the KPIs the old default named.
    assert precision_kpis(baseline()) == ("acute.admissions", "acute.occupancy_mean", "delayed.bed_days", "cost.total")
    # Another system's services are its own: read from the scenario, not assumed.
    renamed = single_queue(10.0, 5.0, 60).resolved
    renamed["services"] = {"ward": renamed["services"]["acute"]}
    renamed["demand"]["enters"] = "ward"
    renamed["routes"] = {}
    from sim.scenario import validate
    assert precision_kpis(validate(renamed, "ward.yaml"))[:2] == ("ward.admissions", "ward.occupancy_mean")


# --- undefined KPIs --------------------------------------------------------------------------


def test_a_kpi_missing_in_some_replications_is_flagged_but_one_never_defined_is_not():
    kpis = _kpis({"ucr.within_target_share": [0.7, math.nan, 0.8], "home_care.utilisation": [math.nan] * 3})
    warnings = undefined_kpis(kpis)
    assert [(w.kind, w.subject) for w in warnings] == [("undefined", "KPIs")]
    assert warnings[0].message.endswith(": ucr.within_target_share (1 of 3)")


# --- warm-up ----------------------------------------------------------------------------------


def _filling_ward(warmup_days):
    # Occupancy rises from empty to 50 with a time constant of 20 days: settled after ~100 days.
    return _daily(lambda d: 0.0, replications=5, days=300, first_day=-warmup_days,
                  occupancy_of_day=lambda d: 50 * (1 - math.exp(-(d + warmup_days) / 20)))


def test_a_warm_up_shorter_than_mser5_suggests_is_flagged():
    warnings = short_warm_up(_filling_ward(10))
    assert len(warnings) == 1 and warnings[0].kind == "warm-up"
    suggested = int(warnings[0].message.split("warm-up of ")[1].split(" days")[0])
    assert 40 <= suggested <= 150
    assert "longer than the 10 used" in warnings[0].message


def test_a_long_enough_warm_up_is_not_flagged():
    assert short_warm_up(_filling_ward(150)) == []


# --- what a finished run's warnings mean for its comparison ---------------------------------------


def test_only_an_overloaded_run_makes_a_comparison_not_valid_and_the_reason_names_it():
    from sim.trust import TrustWarning, comparison_not_valid, not_valid_reason

    imprecise = TrustWarning("replications", "cost.total", "Total cost: the 95% CI is ±9% of the mean")
    assert comparison_not_valid([imprecise]) == [] and not_valid_reason([imprecise]) == ""
    # Read back from a manifest written before warnings kept their role: the subject names it.
    jammed = TrustWarning.from_dict({"kind": "overloaded", "subject": "acute (comparator)",
                                     "message": "Acute beds: the queue grows through the whole run, from 5 to 95 "
                                                "people (+0.50 a day); demand is above capacity"})
    assert jammed.role == "comparator"
    reason = not_valid_reason([imprecise, jammed])
    assert reason.startswith("This comparison is not valid: in the comparator, Acute beds: the queue grows through "
                             "the whole run, from 5 to 95 people (+0.50 a day). ")
    assert "demand is above capacity" not in reason  # the first clause says what; the rest says why, once


def test_warnings_keep_their_role_through_the_manifest():
    from sim.trust import TrustWarning

    daily = pd.concat([_daily(lambda d: 0.5 * d), _daily(lambda d: 0.5 * d).assign(role="comparator")])
    found = growing_queues(daily, "comparator")
    assert [(w.subject, w.role) for w in found] == [("acute (comparator)", "comparator")]
    assert [TrustWarning.from_dict(w.as_dict()) for w in found] == found
    money = too_few_replications(_kpis({"cost.total": [1e6, 3e6, 5e6]}))
    assert "(£3.0m)" in money[0].message  # money as everywhere else
