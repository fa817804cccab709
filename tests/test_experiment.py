"""Replications, confidence intervals and the sequential choice of how many replications to run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import tiny

from sim.executors import SerialExecutor
from sim.experiment import Plan, Precision, run_experiment
from sim.intervals import confidence_interval, interval_row, summarise


def test_interval_is_the_student_t_interval():
    mean, low, high = confidence_interval([1, 2, 3, 4, 5])
    # sd = sqrt(2.5), t(0.975, 4) = 2.776445
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert mean == 3
    assert low == pytest.approx(3 - half, rel=1e-6)
    assert high == pytest.approx(3 + half, rel=1e-6)


def test_interval_edge_cases():
    assert confidence_interval([7.0])[0] == 7.0 and math.isnan(confidence_interval([7.0])[1])
    assert confidence_interval([4.0, 4.0, 4.0]) == (4.0, 4.0, 4.0)      # a fixed capacity
    assert confidence_interval([math.inf, math.inf]) == (math.inf, math.inf, math.inf)  # unlimited
    assert confidence_interval([1.0, math.nan, 3.0])[0] == 2.0          # a share with no denominator
    row = interval_row([2.0, 2.0])
    assert row["half_width"] == 0 and row["relative_half_width"] == 0


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    samples = rng.exponential(10.0, size=(4000, 8))
    covered = sum(low <= 10.0 <= high for _, low, high in map(confidence_interval, samples))
    # Skewed data with n=8 under-covers a little; the t interval should still be close to 95%.
    assert 0.89 < covered / 4000 < 0.96


def test_ci_half_widths_shrink_as_replications_grow():
    rs = run_experiment({"scenario": tiny()}, Plan(replications=16), executor=SerialExecutor())
    few = summarise(rs.kpis[rs.kpis["replication"] < 4]).set_index("kpi")
    many = rs.summary.set_index("kpi")
    kpis = ["crises", "acute.admissions", "acute.occupancy_mean", "delayed.bed_days", "cost.total"]
    ratios = many.loc[kpis, "half_width"] / few.loc[kpis, "half_width"]
    assert (many.loc[kpis, "replications"] == 16).all()
    assert (ratios < 1).all(), ratios
    # Expected about t(15)/t(3) * sqrt(4/16) = 0.33 times the ratio of the two sd estimates.
    assert ratios.mean() < 0.6, ratios
    for kpi in kpis:
        # and the 4-replication interval contains the 16-replication mean for these stable KPIs
        assert few.loc[kpi, "ci_low"] - 1e-9 <= many.loc[kpi, "mean"] <= few.loc[kpi, "ci_high"] + 1e-9, kpi


def _table(columns: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_sequential_rule_stops_once_precision_holds_through_the_look_ahead():
    # Values 100 +- 1: precision 5% holds from n=3 on, so 3 + look-ahead 2 replications are used.
    values = [99.0, 101.0, 100.0, 99.0, 101.0, 100.0, 99.0, 101.0]
    rule = Precision(target=0.05, kpis=("x",), min_replications=3, look_ahead=2, max_replications=20)
    assert rule.decide([_table({"x": values[:4]})]) is None        # look-ahead not yet seen
    assert rule.decide([_table({"x": values[:5]})]) == (5, 3)
    assert rule.decide([_table({"x": values})]) == (5, 3)          # extra replications do not change the choice


def test_sequential_rule_restarts_when_precision_is_lost_in_the_look_ahead():
    values = [100.0, 100.5, 99.5, 110.0, 90.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    rule = Precision(target=0.05, kpis=("x",), min_replications=3, look_ahead=2, max_replications=30)
    used, first = rule.decide([_table({"x": values})])
    assert (used, first) == (10, 8)   # achieved at 3, lost at 4, regained for good at 8
    for n in range(first, used + 1):
        assert rule.achieved([_table({"x": values})], n)


def test_sequential_rule_stops_at_the_cap_when_precision_is_out_of_reach():
    rule = Precision(target=0.001, kpis=("x",), min_replications=3, look_ahead=2, max_replications=6)
    noisy = [_table({"x": [10.0, 20.0, 30.0, 10.0, 20.0, 30.0]})]
    assert rule.decide(noisy) == (6, 0)
    assert rule.decide([noisy[0].iloc[:5]]) is None


def test_precision_run_chooses_replications_and_reports_them():
    rule = Precision(target=0.05, kpis=("crises", "acute.admissions"), min_replications=3, look_ahead=2,
                     max_replications=12)
    rs = run_experiment({"scenario": tiny()}, Plan(precision=rule), executor=SerialExecutor())
    result = rs.manifest["precision_result"]
    assert result["achieved"]
    used = result["replications_used"]
    assert used == result["achieved_at"] + 2
    assert sorted(rs.kpis["replication"].unique()) == list(range(used))
    summary = rs.summary.set_index("kpi")
    assert summary.loc["crises", "relative_half_width"] <= 0.05
    assert summary.loc["acute.admissions", "relative_half_width"] <= 0.05


def test_precision_needs_the_same_answer_whatever_the_batch_size():
    rule = Precision(target=0.02, kpis=("acute.admissions",), min_replications=3, look_ahead=2, max_replications=10)

    class Batched(SerialExecutor):
        workers = 4   # the experiment runs 4 replications between checks

    one = run_experiment({"scenario": tiny()}, Plan(precision=rule), executor=SerialExecutor())
    four = run_experiment({"scenario": tiny()}, Plan(precision=rule), executor=Batched())
    assert one.manifest["precision_result"] == four.manifest["precision_result"]
    pd.testing.assert_frame_equal(one.kpis, four.kpis, check_exact=True)


def test_shards_split_replications_without_overlap():
    plans = [Plan(replications=10, shard=(i, 3)) for i in range(3)]
    mine = [p.mine(range(10)) for p in plans]
    assert sorted(sum(mine, [])) == list(range(10))
    assert mine[0] == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="precision"):
        Plan(precision=Precision(), shard=(0, 2))
    with pytest.raises(ValueError, match="index"):
        Plan(replications=4, shard=(2, 2))
