"""Breaking points found by a sweep agree with queueing theory, and the cost curve has its minimum inside."""

from __future__ import annotations

import math

import pytest

from queueing import erlang_c, mean_wait
from sim.breaking_points import capacity_cost, cost_line_names, service_of
from sim.executors import SerialExecutor
from sim.scenario import ScenarioError
from sim.stress_figures import curves
from sim.sweep import run_sweep
from support import single_queue, small_system

ARRIVALS, STAY = 20.0, 1.0   # a day, days: offered load a = 20 beds
BEDS = [18, 20, 22, 23, 24, 25]
WAIT_LEVEL_HOURS = 2.5
OVER_4H_LEVEL = 0.2


def _analytic_smallest(meets) -> int:
    return next(c for c in range(int(ARRIVALS * STAY) + 1, 100) if meets(c))


def _over_4h(c: int) -> float:
    """P(wait > 4 h) in M/M/c: C(c, a) exp(-(c mu - lambda) t)."""
    return erlang_c(c, ARRIVALS * STAY) * math.exp(-(c / STAY - ARRIVALS) * 4 / 24)


@pytest.fixture(scope="module")
def mmc_sweep(tmp_path_factory):
    scenario = single_queue(ARRIVALS, STAY, 24, **{
        "run.horizon_days": 600, "run.warmup_days": 30, "run.replications": 8,
        "sweep": {"grid": {"services.acute.capacity": BEDS}},
        "service_levels": [
            {"kpi": "ed.wait_hours_mean", "at_most": WAIT_LEVEL_HOURS},
            {"kpi": "ed.waits_over_4h_share", "at_most": OVER_4H_LEVEL},
        ],
    })
    folder = tmp_path_factory.mktemp("mmc") / "sweep"
    return run_sweep(scenario, folder, executor=SerialExecutor()), folder, scenario


def test_the_smallest_capacity_meeting_each_level_is_the_erlang_c_answer(mmc_sweep):
    import pandas as pd

    _, folder, _ = mmc_sweep
    levels = pd.read_csv(folder / "breaking_points" / "service_levels.csv").set_index("level")
    by_wait = _analytic_smallest(lambda c: mean_wait(c, ARRIVALS, 1 / STAY) * 24 <= WAIT_LEVEL_HOURS)
    by_share = _analytic_smallest(lambda c: _over_4h(c) <= OVER_4H_LEVEL)
    assert (by_wait, by_share) == (24, 24)  # the levels sit between c = 23 and c = 24 in theory
    assert levels.loc[f"ed.wait_hours_mean <= {WAIT_LEVEL_HOURS:g}", "smallest_value"] == by_wait
    assert levels.loc[f"ed.waits_over_4h_share <= {OVER_4H_LEVEL:g}", "smallest_value"] == by_share
    points = pd.read_csv(folder / "breaking_points" / "level_points.csv")
    waits = points[points.kpi == "ed.wait_hours_mean"].set_index("services.acute.capacity")
    # Mean waits near saturation vary a lot between runs, and every point shares the same arrivals
    # (common random numbers), so all points err together: a loose check per point.
    for c in (22, 23, 24, 25):
        analytic = mean_wait(c, ARRIVALS, 1 / STAY) * 24
        assert waits.loc[c, "mean"] == pytest.approx(analytic, rel=0.35)
    # Probability of meeting the level: none of the replications at 22 beds, most at 25.
    assert waits.loc[22, "probability_met"] == 0 and waits.loc[25, "probability_met"] >= 0.8


def test_the_knee_is_where_capacity_first_exceeds_the_offered_load(mmc_sweep):
    import pandas as pd

    _, folder, _ = mmc_sweep
    knee = pd.read_csv(folder / "breaking_points" / "knees.csv").iloc[0]
    stable = pd.read_csv(folder / "breaking_points" / "stability.csv").set_index("services.acute.capacity")
    # Stable iff c > a = 20: the first stable value swept is 22; 18 beds is 10% short and the queue grows ~2 a day.
    assert knee["knee"] == 22 and knee["largest_growing"] in (18, 20)
    assert stable.loc[18, "growing"] and stable.loc[18, "queue_growth_per_day"] == pytest.approx(2.0, rel=0.35)
    assert stable.loc[18, "utilisation"] > 0.99 and stable.loc[25, "utilisation"] == pytest.approx(20 / 25, rel=0.05)


def test_figures_are_written_next_to_the_sweep(mmc_sweep):
    sweep, folder, scenario = mmc_sweep
    figures = curves(scenario, sweep)
    wait = next(f for f in figures if "ED wait for a bed against" in f.layout.title.text)
    band, line = wait.data[0], wait.data[1]
    means = sweep.table[sweep.table.kpi == "ed.wait_hours_mean"]["mean"].tolist()
    assert list(line.x) == BEDS and list(line.y) == pytest.approx(means)
    assert len(band.x) == 2 * len(BEDS)  # the 95% CI band goes out along the top and back along the bottom
    assert any(s.y0 == WAIT_LEVEL_HOURS for s in wait.layout.shapes)  # the service level is drawn
    html = (folder / "curves.html").read_text()
    assert html.count("Plotly.newPlot") == len(figures) >= 4
    assert not (folder / "heatmaps.html").exists()  # one parameter: no heatmap


def test_the_cost_curve_prices_capacity_and_finds_an_interior_minimum(tmp_path):
    # Community beds: too few and people wait in acute beds (dearer); too many and empty beds cost.
    scenario = small_system(**{
        "run.horizon_days": 150, "run.warmup_days": 60, "run.replications": 2,
        "demand.crises_per_year": 4500,  # a tenth of the baseline's crises (readmissions come on top)
        "sweep": {"grid": {"services.community_beds.capacity": [10, 25, 40, 80, 120]}},
    })
    result = run_sweep(scenario, tmp_path / "beds", executor=SerialExecutor(), figures=False)
    import pandas as pd

    minima = pd.read_csv(tmp_path / "beds" / "breaking_points" / "cost_minima.csv").iloc[0]
    curve = pd.read_csv(tmp_path / "beds" / "breaking_points" / "cost_curve.csv").set_index("services.community_beds.capacity")
    assert curve.loc[40, "capacity_cost_gbp"] == 40 * 150 * 150  # beds x days x £150 a bed-day
    assert minima["cheapest_value"] not in (10, 120) and not minima["at_edge_of_range"]
    delays = result.table[result.table.kpi == "delayed.acute_bed_days"].set_index("services.community_beds.capacity")["mean"]
    assert delays.loc[10] > delays.loc[120]
    assert delays.loc[120] <= delays.loc[minima["cheapest_value"]]  # the cheapest point keeps some delays
    payers = curve[["system_cost_nhs_gbp", "system_cost_council_gbp", "system_cost_self_funder_gbp"]].sum(axis=1)
    assert payers.to_numpy() == pytest.approx(curve["system_cost_gbp"].to_numpy())


def test_capacity_parameters_and_their_prices():
    assert service_of("services.community_beds.capacity") == "community_beds"
    assert service_of("services.reablement.workforce.visit_hours_per_day") == "reablement"
    assert service_of("routes.crisis.scale.urgent_response") is None
    scenario = small_system()
    assert capacity_cost(scenario, "acute") == (160 * 200 * 346, "nhs")  # the bed-day, not the ED attendance
    assert capacity_cost(scenario, "community_beds") == (40 * 200 * 150, "nhs")
    assert capacity_cost(scenario, "temporary_residential") == (20 * 200 * 1050 / 7, "council")  # priced a week
    assert capacity_cost(scenario, "reablement") is None  # priced per episode, not per day
    assert capacity_cost(scenario, "home_care") is None   # unlimited


def test_the_cost_curve_counts_the_scenarios_own_cost_lines():
    short, long = cost_line_names(small_system())
    assert short == ("urgent_response", "acute", "ed_attendance", "reablement", "community_beds",
                     "temporary_residential")
    assert long == ("home_care", "residential_care", "nursing_care")
    shared = small_system(places={"a": {"demand_share": 0.5}, "b": {"demand_share": 0.5}},
                          sharing={"community_beds": {"mode": "overflow", "out_of_area_cost_gbp": 250}})
    assert "community_beds_out_of_area" in cost_line_names(shared)[0]


def test_a_service_level_gives_one_bound():
    with pytest.raises(ScenarioError, match="exactly one of at_least or at_most"):
        small_system(service_levels=[{"kpi": "ed.wait_hours_mean"}])


def test_a_service_level_must_name_a_kpi():
    with pytest.raises(ScenarioError, match=r"service_levels.0.kpi: 'ed.wait' is not a KPI"):
        small_system(service_levels=[{"kpi": "ed.wait", "at_most": 4}])
    for name in ("ed.wait_hours_mean", "acute.waits_over_4h_share", "route.P2.community_beds", "cost.council",
                 "community_beds.delayed_bed_days.reablement", "delayed.bed_days"):
        small_system(service_levels=[{"kpi": name, "at_most": 4}])  # these are KPIs of the scenario
