"""Resource bombs: a run's size is estimated before it starts, and one too large is refused (exit 2, nothing
written) unless the user raises the limit with --allow-large."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from sim import api, budget
from sim.budget import BudgetError
from sim.pathway.demand import daily_rates
from sim.executors import SerialExecutor
from sim.experiment import Plan, run_experiment
from support import ROOT, baseline, small_system

_spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
run_scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_scenario)


def test_people_are_the_expected_crises_plus_the_initial_state():
    scenario = baseline()
    days = scenario.run.warmup_days + scenario.run.horizon_days
    crises = daily_rates(scenario, days).sum()
    size = budget.estimate(scenario, 10)
    found = sum(s.occupied + s.waiting for s in scenario.active_initial_state().values())  # in long-term care
    assert found > 10_000
    assert size.people == pytest.approx(crises + found)
    assert size.events == pytest.approx((crises + found) * budget.EVENTS_PER_PERSON)
    assert size.cpu_seconds == pytest.approx(10 * (crises + found) * budget.SECONDS_PER_PERSON)
    assert size.tasks == 10
    started = scenario.with_changes({"initial_state": {"acute": {"occupied": 1300}}})
    assert budget.estimate(started, 10).people == pytest.approx(crises + 1300)
    # A run and its comparator: twice the work, the same largest replication.
    both = budget.estimate([scenario, scenario], 10)
    assert both.cpu_seconds == pytest.approx(2 * size.cpu_seconds) and both.people == size.people
    assert both.tasks == 20


def test_a_surge_counts_its_extra_crises():
    scenario = small_system(**{"run.warmup_days": 0, "run.horizon_days": 100, "run.start_date": "2019-04-01"})
    surged = scenario.with_changes({"demand.surges": [
        {"name": "outbreak", "start": "2019-04-01", "end": "2019-04-10", "multiplier": 101}]})
    extra = budget.estimate(surged, 1).people - budget.estimate(scenario, 1).people
    assert extra == pytest.approx(100 * daily_rates(scenario, 10).sum())


def test_ordinary_runs_pass_and_the_connect_evaluation_at_500_replications_does_too():
    budget.check([baseline(), baseline()], 500)
    budget.check(baseline(), baseline().run.replications)


def test_a_surge_bomb_is_refused_naming_the_flag_and_allowed_with_it():
    bomb = baseline().with_changes({"demand.surges": [
        {"name": "bomb", "start": "2019-04-01", "end": "2020-03-31", "multiplier": 250}]})
    with pytest.raises(BudgetError) as caught:
        budget.check(bomb, 10)
    message = str(caught.value)
    assert message.startswith("this run is too large to start: it would need about")
    assert "GB of memory per replication (limit 8.0 GB)" in message and "--allow-large" in message
    assert budget.check(bomb, 10, allow_large=True).people > 1e7
    with pytest.raises(BudgetError):
        api.run(bomb, replications=10, workers=1)


class MustNotRun(SerialExecutor):
    def run(self, tasks):
        raise AssertionError("a run over the limits started")


def test_thousands_of_replications_of_a_long_run_are_refused_for_their_cpu_time(tmp_path):
    long = baseline().with_changes({"run.horizon_days": 3650})
    with pytest.raises(BudgetError, match=r"CPU-hours \(limit 24.0 CPU-hours\)"):
        run_experiment({"scenario": long}, Plan(replications=5000), executor=MustNotRun(), folder=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _write(folder, name, extra):
    path = folder / name
    path.write_text(yaml.safe_dump({"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": name, **extra}))
    return path


@pytest.mark.parametrize("extra", [
    {"demand": {"surges": [{"name": "bomb", "start": "2019-04-01", "end": "2020-03-31", "multiplier": 500}]}},
    {"run": {"replications": 5000, "horizon_days": 3650}},
    {"run": {"replications": 500}, "sweep": {"grid": {"services.acute.capacity": {"from": 100, "to": 1000, "step": 20}}}},
])
def test_the_command_refuses_a_bomb_with_exit_2_and_writes_nothing(tmp_path, capsys, extra, reliability_tally):
    scenario = _write(tmp_path, "bomb.yaml", extra)
    out = tmp_path / "out"
    assert run_scenario.main([str(scenario), "--no-compare", "--workers", "1", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: this run is too large to start") and "--allow-large" in error
    assert "Traceback" not in error
    assert not out.exists()
    reliability_tally["bad inputs tried"] += 1
