"""MSER-5 and the Welch average on series with known answers, and the warm-up of a model started empty."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.mser import CONSTANT, DRIFTING, SETTLED, SPARSE, mser, suggest, welch
from sim.warmup import diagnostic_scenario, main, run_census
from support import BASELINE, single_queue

DAYS = np.arange(1000)


def noise(seed: int, sd: float = 1.0, n: int = 1000) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, n)


@pytest.mark.parametrize("seed", range(8))
def test_step_is_cut_where_it_happens(seed):
    series = np.where(DAYS < 100, 0.0, 10.0) + noise(seed)
    cut = mser(series)
    assert cut.status == SETTLED
    assert 100 <= cut.days <= 125


@pytest.mark.parametrize("seed", range(8))
def test_exponential_approach_is_cut_once_the_bias_is_below_the_noise(seed):
    # A level of 100 approached with time constant 20 days, noise sd 5 a day (about 2.2 for a 5-day mean).
    series = 100 * (1 - np.exp(-DAYS / 20)) + noise(seed, sd=5.0)
    cut = mser(series)
    assert cut.status == SETTLED
    assert 2 * 20 <= cut.days <= 8 * 20
    assert 100 * np.exp(-cut.days / 20) < 5.0  # what is left of the transient is within a day's noise


def test_stationary_series_needs_almost_no_warm_up():
    cuts = [mser(noise(seed)) for seed in range(20)]
    assert all(c.status == SETTLED for c in cuts)
    assert np.median([c.days for c in cuts]) <= 5
    assert max(c.days for c in cuts) <= 50


def test_autocorrelated_stationary_series_needs_almost_no_warm_up():
    cuts = []
    for seed in range(10):
        e, x = noise(seed, n=730), np.zeros(730)
        for i in range(1, 730):
            x[i] = 0.9 * x[i - 1] + e[i]
        cuts.append(mser(x))
    assert all(c.status == SETTLED for c in cuts)
    assert np.median([c.days for c in cuts]) <= 10


def test_a_trend_is_still_drifting():
    cut = mser(0.01 * DAYS + noise(0))
    assert cut.status == DRIFTING
    assert cut.days >= 450  # at the end of the searched first half


def test_a_constant_series_has_nothing_to_cut():
    assert mser(np.zeros(100)) == mser(np.full(100, 7.0))
    assert mser(np.zeros(100)).status == CONSTANT
    assert mser(np.zeros(100)).days == 0


def test_too_short_a_series_is_refused():
    with pytest.raises(ValueError, match="at least 20 days"):
        mser(np.arange(19.0))


def test_welch_average_by_hand():
    # Law and Kelton: centred means, windows 1, 3, 3, 3 days; the last w days have no centred window.
    assert welch(np.array([1.0, 2.0, 3.0, 10.0, 5.0]), 1).tolist() == [1.0, 2.0, 5.0, 6.0]


def test_welch_average_keeps_a_straight_line():
    line = 3.0 + 0.5 * np.arange(200)
    assert np.allclose(welch(line, 14), line[:-14])


def _census(service_series: dict[tuple[str, str], np.ndarray], replications: int = 2) -> pd.DataFrame:
    frames = []
    days = len(next(iter(service_series.values())))
    services = sorted({s for s, _ in service_series})
    for rep in range(replications):
        for service in services:
            occupancy = service_series.get((service, "occupancy"), np.zeros(days))
            queue = service_series.get((service, "queue"), np.zeros(days))
            frames.append(pd.DataFrame({
                "replication": rep, "day": np.arange(days), "service": service,
                "occupancy": occupancy + noise(rep, 0.5, days), "queue": queue, "capacity": np.inf,
            }))
    return pd.concat(frames, ignore_index=True)


def test_suggestion_is_the_largest_short_term_cut_and_ignores_long_term_care():
    days = np.arange(400)
    daily = _census({
        ("acute", "occupancy"): np.where(days < 60, 0.0, 50.0),
        ("reablement", "occupancy"): np.where(days < 30, 0.0, 20.0),
        ("residential_care", "occupancy"): 2.0 * days,  # years to fill: never settles in the window
    })
    suggestion = suggest(daily, long_term=frozenset({"residential_care"}))
    # MSER-5 may cut a few batches past a step: where the noise that follows happens to stray.
    assert 60 <= suggestion.for_service("acute") <= 100
    assert 30 <= suggestion.for_service("reablement") <= 70
    assert suggestion.days == max(suggestion.for_service("acute"), suggestion.for_service("reablement"))
    assert suggestion.drifting == []
    acute = next(s for s in suggestion.series if (s.service, s.measure) == ("acute", "occupancy"))
    assert abs(acute.mean_after - 50.0) < 0.5
    assert acute.ci_after[0] < acute.mean_after < acute.ci_after[1]
    # Taken as short-term, the care home's census is still drifting at the end of the window.
    assert suggest(daily, long_term=frozenset()).drifting == ["residential_care occupancy"]


def test_long_term_services_are_those_of_kind_long_term():
    from sim.mser import long_term_services, short_term
    from support import baseline

    scenario = baseline()
    assert long_term_services(scenario) == {"home_care", "residential_care", "nursing_care"}
    # By default, the kinds of the scenarios read in this process (trust warnings use it).
    assert not short_term("residential_care") and short_term("reablement")


def test_a_queue_that_is_nearly_always_empty_says_nothing_about_the_warm_up():
    days = np.arange(400)
    bursts = np.where((days % 97 == 0) | (days > 380), 3.0, 0.0)  # a few bursts, one at the very end
    daily = _census({("acute", "occupancy"): np.full(400, 10.0), ("acute", "queue"): bursts})
    suggestion = suggest(daily)
    queue = next(s for s in suggestion.series if (s.service, s.measure) == ("acute", "queue"))
    assert queue.truncation.status == SPARSE
    assert suggestion.drifting == []


def test_a_growing_queue_is_reported_as_drifting():
    days = np.arange(400)
    daily = _census({("acute", "occupancy"): np.full(400, 10.0), ("acute", "queue"): 0.1 * days})
    assert suggest(daily).drifting == ["acute queue"]


# --- a model started empty -------------------------------------------------------------------------

ARRIVALS, MEAN_STAY = 30.0, 8.0  # M/M/infinity: long-run mean occupancy 240


def test_model_started_empty_needs_a_warm_up_and_settles_at_the_steady_state():
    scenario = single_queue(ARRIVALS, MEAN_STAY, None).with_changes({"run.warmup_days": 0, "run.horizon_days": 150})
    daily = run_census(scenario, 4)
    suggestion = suggest(daily)
    acute = next(s for s in suggestion.series if (s.service, s.measure) == ("acute", "occupancy"))
    assert acute.truncation.status == SETTLED
    assert 10 <= acute.truncation.days <= 60   # about 3 mean stays to fill from empty
    assert suggestion.days == acute.truncation.days  # nothing else moves
    assert abs(acute.mean_after - ARRIVALS * MEAN_STAY) < 0.05 * ARRIVALS * MEAN_STAY
    first_week = daily[(daily["service"] == "acute") & (daily["day"] < 7)]["occupancy"].mean()
    assert first_week < 0.7 * ARRIVALS * MEAN_STAY


def test_diagnostic_starts_where_the_scenario_starts_and_measures_every_day():
    scenario = single_queue(ARRIVALS, MEAN_STAY, None).with_changes(
        {"run.warmup_days": 90, "demand.monthly_multipliers": [2.0] + [1.0] * 11}
    )
    run = diagnostic_scenario(scenario, 365)
    assert run.run.warmup_days == 0 and run.run.horizon_days == 365
    assert run.run.start_date == scenario.run.start_date - dt.timedelta(days=90)
    assert run.demand.monthly_multipliers == [1.0] * 12
    assert diagnostic_scenario(scenario, 365, keep_seasons=True).demand.monthly_multipliers[0] == 2.0


def test_diagnostic_starts_empty_in_every_place_unless_asked():
    from support import small_system

    scenario = small_system(**{
        "initial_state": {"acute": {"occupied": 100}},
        "places": {"a": {"demand_share": 0.5, "initial_state": {"reablement": {"occupied": 20}}},
                   "b": {"demand_share": 0.5}},
    })
    run = diagnostic_scenario(scenario, 100)
    assert run.initial_state == {} and all(p.initial_state == {} for p in run.places.values())
    kept = diagnostic_scenario(scenario, 100, keep_initial_state=True)
    assert kept.places["a"].initial_state["reablement"].occupied == 20


def _small_file(tmp_path, extra: str = "") -> str:
    path = tmp_path / "small.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: small\n"
        "demand: {crises_per_year: 3000}\n"
        "services:\n  acute: {capacity: null}\n  reablement: {capacity: null}\n"
        "  community_beds: {capacity: null}\n  temporary_residential: {capacity: null}\n" + extra
    )
    return str(path)


def test_command_writes_the_welch_plot_and_the_table(tmp_path, capsys):
    out = tmp_path / "out"
    status = main([_small_file(tmp_path), "--replications", "2", "--days", "100", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Suggested warm-up" in printed and "acute" in printed
    table = pd.read_csv(out / "warmup.csv")
    assert set(table["service"]) >= {"acute", "reablement", "community_beds"}
    assert (table["warmup_days"] % 5 == 0).all()
    html = (out / "welch.html").read_text()
    assert "Welch moving average" in html and "black: suggested warm-up" in html
    census = pd.read_csv(out / "census_mean.csv")
    assert list(census.columns) == ["day", "service", "occupancy", "queue"] and census["day"].max() == 99
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_command_refuses_a_bad_scenario_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    bad = _small_file(tmp_path, "initial_state: {acute: {occupied: -3}}\n")
    assert main([bad, "--days", "100", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "small.yaml" in error and "initial_state.acute.occupied" in error
    assert not out.exists()
