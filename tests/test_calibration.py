"""Calibration by ABC-SMC (sim/calibration): round trips from a known parameter, the targets and priors files,
bad input refused with exit status 2, the held-out targets never reaching the fit, and the shipped posterior."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import run_scenario
from sim.calibration import calibrate as calibrate_module
from sim.calibration import output
from sim.calibration.fit import Method, fit
from sim.calibration.holdout import weighted_quantile
from sim.calibration.priors import load_priors
from sim.calibration.simulate import (Settings, Simulator, _scaled_changes, inherited_changes, named_seed, prepared,
                                     set_changes)
from sim.calibration.targets import Target, load_targets
from sim.measure.collect import run_replication
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.loading import default_roots

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
CONNECT = ROOT / "scenarios" / "connect.yaml"
SHIPPED = ROOT / "scenarios" / "calibration"
ROOTS = default_roots(BASELINE)


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE, ROOTS)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def target(name="admissions", low=50_000.0, high=60_000.0, role="calibration", **kw) -> Target:
    return Target(name=name, role=role, label=name, kpis=kw.pop("kpis", ("acute.admissions",)),
                  denominator=kw.pop("denominator", ()), per=kw.pop("per", "year"), low=low, high=high,
                  source="test", **kw)


PRIORS = """
name: test priors
parameters:
  crises:
    path: demand.crises_per_year
    prior: {dist: uniform, low: 30000, high: 80000}
    source: test
  referral:
    path: routes.crisis.if_true.to.urgent_response
    complement: routes.crisis.if_true.to.acute
    prior: {dist: uniform, low: 0.1, high: 0.6}
    source: test
  suitability:
    scales: [need_groups.mild.traits.ucr_suitable, need_groups.severe.traits.ucr_suitable]
    prior: {dist: normal, mean: 1.0, sd: 0.2, low: 0.5, high: 1.5}
    source: test
"""


# --- what a target measures -----------------------------------------------------------------------------


def test_a_count_is_read_as_a_year_of_the_whole_system_and_a_ratio_is_not_scaled():
    kpis = {"a": 100.0, "b": 50.0, "c": 25.0}
    assert target(kpis=("a",)).measure(kpis, horizon_days=73, scale=0.5) == pytest.approx(100 * 5 / 0.5)
    assert target(kpis=("a", "c"), per=None).measure(kpis, 73, 0.5) == 125.0       # a share: as it is
    ratio = target(kpis=("a",), per="day", denominator=("b",))
    assert ratio.measure(kpis, 73, 0.5) == pytest.approx(100 / 73 / 50)           # scale cancels
    assert math.isnan(target(kpis=("a",), denominator=("zero",)).measure({"a": 1.0, "zero": 0.0}, 1, 1))
    t = target(low=10, high=20)
    assert (t.centre, t.half_width, t.deviation(25), t.within(20), t.within(20.1)) == (15, 5, 2.0, True, False)


def test_weighted_quantile_of_equal_weights_is_the_middle_and_follows_the_weight():
    v = np.array([1.0, 2.0, 3.0])
    assert weighted_quantile(v, np.ones(3), 0.5) == 2.0
    assert weighted_quantile(v, np.array([0.0, 0.0, 1.0]), 0.5) == 3.0


def test_named_seeds_differ_by_step_and_number_and_repeat():
    seeds = {named_seed(1, step, n) for step in (0, 1) for n in range(50)}
    assert len(seeds) == 100
    assert named_seed(1, 0, 3) == named_seed(1, 0, 3) != named_seed(2, 0, 3)


def test_scaling_a_run_scales_demand_and_every_capacity_and_refuses_what_it_cannot(baseline):
    changes = _scaled_changes(baseline, 0.25)
    assert changes["demand.crises_per_year"] == baseline.demand.crises_per_year * 0.25
    assert changes["services.acute.capacity"] == round(baseline.services["acute"].capacity * 0.25) and changes["services.urgent_response.capacity"] == 5
    assert "services.home_care.capacity" not in changes            # unlimited stays unlimited
    for service, state in baseline.active_initial_state().items():  # people already in long-term care too
        assert changes[f"initial_state.{service}.occupied"] == round(state.occupied * 0.25)
    places = load_scenario(ROOT / "scenarios" / "places" / "mse-places.yaml")
    with pytest.raises(ScenarioError, match="places"):
        _scaled_changes(places, 0.5)
    run = prepared(baseline, {"services.acute.capacity": 1500}, Settings(scale=0.5, warmup_days=10, horizon_days=20))
    assert (run.services["acute"].capacity, run.run.warmup_days, run.run.horizon_days) == (750, 10, 20)


# --- priors: parameter sets as scenario changes -------------------------------------------------------


def test_a_parameter_sets_its_field_its_complement_and_scales_a_profile(tmp_path, baseline):
    priors = load_priors(write(tmp_path / "priors.yaml", PRIORS), baseline)
    assert priors.columns == ["demand.crises_per_year", "routes.crisis.if_true.to.urgent_response",
                              "routes.crisis.if_true.to.acute", "need_groups.mild.traits.ucr_suitable",
                              "need_groups.severe.traits.ucr_suitable"]
    changes = priors.changes({"crises": 50_000.4, "referral": 0.3, "suitability": 1.2})
    assert changes["routes.crisis.if_true.to.acute"] == pytest.approx(0.7)
    traits = {g: baseline.need_groups[g].traits["ucr_suitable"] for g in ("mild", "severe")}
    assert changes["need_groups.mild.traits.ucr_suitable"] == pytest.approx(traits["mild"] * 1.2)
    assert changes["need_groups.severe.traits.ucr_suitable"] == pytest.approx(traits["severe"] * 1.2)
    changed = baseline.with_changes(changes)                      # a valid scenario
    assert changed.demand.crises_per_year == pytest.approx(50_000.4)
    suitability = priors.parameters[2]
    assert suitability.value_of(changes) == pytest.approx(1.2)


def test_a_set_run_in_connect_keeps_connects_levers_and_takes_every_inherited_value(baseline):
    connect = load_scenario(CONNECT, ROOTS)
    changes = {"services.acute.capacity": 1500, "services.urgent_response.capacity": 25,
               "routes.crisis.if_true.to.urgent_response": 0.5, "routes.crisis.if_true.to.acute": 0.5,
               "services.reablement.capacity": 300}
    taken = inherited_changes(baseline, connect, changes)
    # Connect sets its own UCR teams (34) and reablement caseload (330): levers, kept
    assert taken == {"services.acute.capacity": 1500, "routes.crisis.if_true.to.urgent_response": 0.5,
                     "routes.crisis.if_true.to.acute": 0.5}
    assert inherited_changes(baseline, baseline, changes) == changes
    assert set_changes(baseline, {"set": "s000", "weight": 0.5, "services.acute.capacity": 1500.0,
                                  "demand.crises_per_year": 52000.0}) == {
        "services.acute.capacity": 1500, "demand.crises_per_year": 52000.0}


def test_whole_numbers_stay_whole(tmp_path, baseline):
    text = PRIORS + """  beds:
    path: services.acute.capacity
    prior: {dist: uniform, low: 1300, high: 1600}
    source: test
"""
    priors = load_priors(write(tmp_path / "priors.yaml", text), baseline)
    value = priors.parameters[3].changes(1444.6)["services.acute.capacity"]
    assert value == 1445 and isinstance(value, int)


# --- the fit: round trips -------------------------------------------------------------------------------


class Toy:
    """A simulator with the fit's interface: admissions are 95% of crises, with noise from a seeded stream."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.calls: list[dict] = []

    def __call__(self, changes: dict) -> dict[str, float]:
        self.calls.append(changes)
        return {"admissions": 0.95 * changes["demand.crises_per_year"] + self.rng.normal(0, 300),
                "referred": changes["routes.crisis.if_true.to.urgent_response"] + self.rng.normal(0, 0.01)}


def test_round_trip_the_posterior_covers_the_true_value_and_repeats_from_its_seed(tmp_path, baseline):
    pytest.importorskip("pyabc")
    priors = load_priors(write(tmp_path / "priors.yaml", PRIORS), baseline)
    true_crises, true_referral = 54_000, 0.4
    observed = Toy(99)({"demand.crises_per_year": true_crises, "routes.crisis.if_true.to.urgent_response": true_referral})
    targets = (target("admissions", observed["admissions"] - 1_000, observed["admissions"] + 1_000),
               target("referred", observed["referred"] - 0.03, observed["referred"] + 0.03, per=None))
    method = Method(population=20, budget=300)
    result = fit(priors, targets, Toy(1), method, seed=7)
    sets, values = result.sets, result.values
    assert list(sets.columns) == ["set", "weight", *priors.columns]
    assert sets["weight"].sum() == pytest.approx(1.0) and (sets["weight"] > 0).all()
    w = values["weight"].to_numpy()
    for name, truth, prior_width in (("crises", true_crises, 50_000), ("referral", true_referral, 0.5)):
        v = values[name].to_numpy()
        low, high = weighted_quantile(v, w, 0.025), weighted_quantile(v, w, 0.975)
        assert low <= truth <= high, (name, low, high)
        assert high - low < 0.2 * prior_width                     # the targets taught it something
    assert result.reached and result.threshold <= 1.0
    # every accepted set meets every target: its admissions are within the tolerance of the observed figure
    assert (0.95 * values["crises"] - observed["admissions"]).abs().max() < 1_000 + 4 * 300
    # the scaled profile was left as the prior says (no target on it), and complements sum to 1
    assert (sets["routes.crisis.if_true.to.urgent_response"] + sets["routes.crisis.if_true.to.acute"]).round(12).eq(1).all()
    small = Method(population=8, budget=40)
    first = fit(priors, targets, Toy(1), small, seed=7)
    pd.testing.assert_frame_equal(fit(priors, targets, Toy(1), small, seed=7).sets, first.sets)
    assert not fit(priors, targets, Toy(1), small, seed=8).sets.equals(first.sets)


def test_a_budget_too_small_to_meet_the_targets_is_reported_not_hidden(tmp_path, baseline):
    pytest.importorskip("pyabc")
    priors = load_priors(write(tmp_path / "priors.yaml", PRIORS), baseline)
    # 95% of 80,000 crises is 76,000: no crises in the prior reach 200,000 admissions
    impossible = (target("admissions", 199_000, 201_000), target("referred", 0.0, 1.0, per=None))
    result = fit(priors, impossible, Toy(1), Method(population=10, budget=40), seed=1)
    assert not result.reached and result.threshold > 100
    assert len(result.sets) == 10


@pytest.mark.slow
def test_round_trip_through_the_runner_on_a_tiny_system(tmp_path, baseline):
    """Targets synthesised from a run at a known demand; ABC-SMC through run_replication finds it again."""
    pytest.importorskip("pyabc")
    priors = load_priors(write(tmp_path / "priors.yaml", """
name: one parameter
parameters:
  crises:
    path: demand.crises_per_year
    prior: {dist: uniform, low: 25000, high: 100000}
    source: test
"""), baseline)
    settings = Settings(scale=0.02, warmup_days=30, horizon_days=120, replications=1, seed=5)
    truth = 54_000
    run = prepared(baseline, {"demand.crises_per_year": truth}, settings)
    # arrivals needing a bed, not admissions: a system this small fills its beds, and admissions stop growing
    arrivals = np.mean([run_replication(run, r, 123).kpis["acute.arrivals"] for r in range(3)])
    observed = arrivals * 365 / 120 / 0.02
    targets = (target("arrivals", observed * 0.92, observed * 1.08, kpis=("acute.arrivals",)),)
    simulator = Simulator(baseline, targets, settings)
    result = fit(priors, targets, simulator, Method(population=10, budget=60), seed=settings.seed)
    v, w = result.values["crises"].to_numpy(), result.values["weight"].to_numpy()
    assert weighted_quantile(v, w, 0.025) <= truth <= weighted_quantile(v, w, 0.975)
    assert v.min() > 40_000 and v.max() < 70_000                # far inside the prior's 25,000-100,000
    assert simulator.evaluations == result.simulations


# --- held-out targets never reach the fit -----------------------------------------------------------------


def test_the_fit_refuses_validation_targets(tmp_path, baseline):
    priors = load_priors(write(tmp_path / "priors.yaml", PRIORS), baseline)
    held_out = target("ucr_2022", 4_000, 5_000, role="validation")
    with pytest.raises(ValueError, match="calibration targets only"):
        fit(priors, (target(), held_out), Toy(1), Method(), seed=1)
    with pytest.raises(ValueError, match="calibration targets only"):
        Simulator(baseline, (held_out,), Settings())


def test_calibrate_hands_the_fit_the_calibration_targets_only(monkeypatch, baseline):
    inputs = calibrate_module.load_inputs(baseline, SHIPPED / "targets.yaml", SHIPPED / "priors.yaml", ROOTS)
    assert inputs.targets.validation, "the shipped targets hold validation targets"
    seen = {}

    class Stop(Exception):
        pass

    def spy(priors, targets, simulate, method, seed):
        seen["targets"], seen["simulator"] = targets, simulate
        raise Stop

    monkeypatch.setattr(calibrate_module.fitting, "fit", spy)
    with pytest.raises(Stop):
        calibrate_module.calibrate(inputs, Method(), Settings())
    assert seen["targets"] is inputs.targets.calibration
    assert {t.role for t in seen["targets"]} == {"calibration"}
    assert seen["simulator"].targets is inputs.targets.calibration
    held_out = {t.name for t in inputs.targets.validation}
    assert held_out and not held_out & {t.name for t in seen["targets"]}


# --- the targets and priors files, and bad input through the command ---------------------------------------


TARGETS = """
name: test targets
targets:
  admissions:
    role: calibration
    label: Emergency admissions
    kpi: acute.admissions
    per: year
    low: 50000
    high: 60000
    source: test
  ucr_2022:
    role: validation
    label: Helped by UCR with Connect
    scenario: {connect}
    kpi: ucr.admissions_avoided
    per: year
    value: 4650
    tolerance: 465
    source: test
  saving:
    role: validation
    label: Saving
    scenario: {connect}
    compare: saving
    kpi: [cost.nhs, cost.council]
    per: year
    low: 26000000
    source: test
"""


def test_the_shipped_targets_keep_calibration_and_validation_apart():
    targets = load_targets(SHIPPED / "targets.yaml", ROOTS)
    assert {t.role for t in targets.calibration} == {"calibration"}
    assert {t.role for t in targets.validation} == {"validation"}
    names = {t.name for t in targets.validation}
    assert {"ucr_helped_2022", "more_independent_2022", "bed_to_home_2022", "saving_2022"} == names
    assert all(t.scenario == CONNECT for t in targets.validation)
    by_name = {t.name: t for t in targets.validation}
    assert (by_name["ucr_helped_2022"].low, by_name["ucr_helped_2022"].high) == (4185, 5115)
    assert by_name["saving_2022"].high == math.inf
    assert by_name["bed_to_home_2022"].input_fed_back and not by_name["ucr_helped_2022"].input_fed_back


def bad(tmp_path, capsys, targets: str | None = None, priors: str | None = None, options=()):
    t = write(tmp_path / "targets.yaml", (targets or TARGETS).format(connect=CONNECT))
    p = write(tmp_path / "priors.yaml", priors or PRIORS)
    out = tmp_path / "out"
    code = run_scenario.main(["calibrate", str(BASELINE), "--targets", str(t), "--priors", str(p),
                              "--out", str(out), *options])
    assert code == 2
    assert not out.exists()
    return capsys.readouterr().err.replace("\n", " ")


@pytest.mark.parametrize("edit, field, problem", [
    (("kpi: acute.admissions", "kpi: acute.admissionz"), "targets.admissions.kpi", "'acute.admissionz' is not a KPI"),
    (("kpi: ucr.admissions_avoided", "kpi: ucr.kept_home"), "targets.ucr_2022.kpi", "'ucr.kept_home' is not a KPI"),
    (("high: 60000", "high: 40000"), "targets.admissions", "low (50000) must be below high (40000)"),
    (("role: calibration", "role: fitting"), "targets.admissions.role", "calibration"),
    (("tolerance: 465", "tolerance: 0"), "targets.ucr_2022.tolerance", "greater than 0"),
    (("    high: 60000\n", ""), "targets.admissions", "needs both low and high"),
    (("    label: Emergency admissions\n", "    label: Emergency admissions\n    compare: change\n"),
     "targets.admissions", "scenario and compare are for validation targets"),
    (("per: year\n    low: 50000", "per: week\n    low: 50000"), "targets.admissions.per", "'year' or 'day'"),
])
def test_a_bad_target_names_the_file_and_field(tmp_path, capsys, edit, field, problem):
    err = bad(tmp_path, capsys, targets=TARGETS.replace(*edit, 1))
    assert "targets.yaml" in err and field in err and problem in err, err


def test_a_file_that_is_not_a_targets_file_says_so(tmp_path, capsys):
    err = bad(tmp_path, capsys, targets="title: my notes\nitems: [1, 2]\n")
    assert "targets.yaml: does not look like a targets file: it needs name: and targets:" in err


@pytest.mark.parametrize("text, problem", [
    ("set,weight,demand.crises_per_year\ns000,0.5,50000\ns001,0.4,51000\n", "weight: weights must be at least 0"),
    ("weight,set,demand.crises_per_year\n1,s000,50000\n", "starts with the columns set, weight"),
    ("set,weight,demand.crises_per_year\ns000,1,many\n", "demand.crises_per_year: every value must be a number"),
])
def test_a_bad_posterior_csv_names_the_file_and_column(tmp_path, text, problem):
    with pytest.raises(ScenarioError, match=problem):
        output.read_posterior(write(tmp_path / "posterior.csv", text))


def test_a_targets_file_with_no_calibration_target_is_refused(tmp_path, capsys):
    only_held_out = TARGETS.split("  admissions:")[0] + "  ucr_2022:" + TARGETS.split("  ucr_2022:")[1]
    err = bad(tmp_path, capsys, targets=only_held_out)
    assert "targets.yaml: targets: no target has role: calibration" in err


@pytest.mark.parametrize("edit, field, problem", [
    (("{dist: uniform, low: 30000, high: 80000}", "{dist: uniform, low: 80000, high: 80000}"),
     "parameters.crises.prior", "the prior has no mass: low (80000) must be below high (80000)"),
    (("{dist: normal, mean: 1.0, sd: 0.2, low: 0.5, high: 1.5}", "{dist: normal, mean: 1.0, sd: 0, low: 0.5, high: 1.5}"),
     "parameters.suitability.prior", "sd must be above 0"),
    (("{dist: normal, mean: 1.0, sd: 0.2, low: 0.5, high: 1.5}", "{dist: normal, mean: 1.0, sd: 0.01, low: 3, high: 4}"),
     "parameters.suitability.prior", "the prior has no mass between low (3) and high (4)"),
    (("path: demand.crises_per_year", "path: demand.crisis_per_year"),
     "parameters.crises.path", "'demand.crisis_per_year' is not a field"),
    (("scales: [need_groups.mild", "scales: [need_groups.frail"), "parameters.suitability.scales.0", "is not a field"),
    (("low: 0.1, high: 0.6}", "low: 0.1, high: 1.6}"), "parameters.referral.prior", "at 1.6 the scenario is not valid"),
    (("path: demand.crises_per_year", "path: name"), "parameters.crises.path", "is not a number"),
    (("    complement: routes.crisis.if_true.to.acute\n", ""), "parameters.referral.prior", "not valid"),
])
def test_a_bad_prior_names_the_file_and_field(tmp_path, capsys, edit, field, problem):
    err = bad(tmp_path, capsys, priors=PRIORS.replace(*edit, 1))
    assert "priors.yaml" in err and field in err and problem in err, err


@pytest.mark.parametrize("options, problem", [
    (("--scale", "2"), "--scale: is the share of the system simulated"),
    (("--budget", "1"), "--budget: must be at least 2"),
    (("--budget", "10", "--population", "20"), "cannot fill one generation"),
    (("--seed", "x"), "--seed: invalid int value"),
    (("--horizon", "40000"), "run.horizon_days"),
])
def test_a_bad_option_is_refused(tmp_path, capsys, options, problem):
    assert problem in bad(tmp_path, capsys, options=options)


def test_a_system_that_cannot_be_scaled_is_refused_before_anything_runs(tmp_path, capsys):
    t = write(tmp_path / "targets.yaml", TARGETS.split("  ucr_2022:")[0])
    p = write(tmp_path / "priors.yaml", PRIORS.split("  referral:")[0])
    places = ROOT / "scenarios" / "places" / "mse-places.yaml"
    code = run_scenario.main(["calibrate", str(places), "--targets", str(t), "--priors", str(p),
                              "--out", str(tmp_path / "out"), "--scale", "0.5"])
    assert code == 2 and "cannot scale places" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_out_folder_that_is_not_a_calibration_is_refused(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.docx").write_text("mine")
    t = write(tmp_path / "targets.yaml", TARGETS.format(connect=CONNECT))
    p = write(tmp_path / "priors.yaml", PRIORS)
    code = run_scenario.main(["calibrate", str(BASELINE), "--targets", str(t), "--priors", str(p),
                              "--out", str(tmp_path / "out")])
    assert code == 2 and "--out" in capsys.readouterr().err
    assert [f.name for f in (tmp_path / "out").iterdir()] == ["thesis.docx"]


def test_a_targets_file_outside_the_scenario_tree_cannot_name_a_scenario_there(tmp_path, capsys):
    outside = write(tmp_path / "elsewhere.yaml", "name: x\n")
    err = bad(tmp_path, capsys, targets=TARGETS.replace("{connect}", str(outside), 1))
    assert "elsewhere.yaml" in err and "is outside the folders scenarios may be read from" in err, err


# --- writing the folder ---------------------------------------------------------------------------------------


def test_a_folder_is_replaced_whole_and_a_failure_leaves_the_old_one(tmp_path, monkeypatch):
    folder = tmp_path / "cal"
    manifest = json.dumps({"program": output.PROGRAM, "kind": output.KIND}).encode()
    output.write_folder(folder, {"posterior.csv": b"old", "manifest.json": manifest})
    output.write_folder(folder, {"posterior.csv": b"new", "summary.csv": b"s", "manifest.json": manifest})
    assert (folder / "posterior.csv").read_bytes() == b"new"

    calls = []

    def fail_on_second(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        Path(path).write_bytes(data)

    monkeypatch.setattr(output, "atomic_write_bytes", fail_on_second)
    with pytest.raises(OSError):
        output.write_folder(folder, {"posterior.csv": b"newer", "summary.csv": b"t", "manifest.json": manifest})
    assert (folder / "posterior.csv").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal"]       # no half-written folder left beside it


# --- the whole command, and the shipped posterior ---------------------------------------------------------------


@pytest.mark.slow
def test_the_command_writes_the_posterior_psa_reads_and_the_held_out_comparison(tmp_path, capsys, baseline):
    pytest.importorskip("pyabc")
    t = write(tmp_path / "targets.yaml", TARGETS.format(connect=CONNECT))
    p = write(tmp_path / "priors.yaml", PRIORS)
    out = tmp_path / "out"
    argv = ["calibrate", str(BASELINE), "--targets", str(t), "--priors", str(p), "--out", str(out),
            "--budget", "12", "--population", "4", "--scale", "0.02", "--warmup", "20", "--horizon", "60"]
    assert run_scenario.main(argv) == 0
    printed = capsys.readouterr().out
    assert "Validation targets" in printed and "Helped by UCR with Connect" in printed
    posterior = output.read_posterior(out / "posterior.csv")
    priors = load_priors(p, baseline)
    assert list(posterior.columns) == ["set", "weight", *priors.columns]
    assert len(posterior) == 4 and posterior["weight"].sum() == pytest.approx(1.0)
    for row in posterior.to_dict("records"):
        baseline.with_changes(set_changes(baseline, row))
    summary = pd.read_csv(out / "summary.csv")
    assert summary.set_index("target")["role"].to_dict() == {
        "admissions": "calibration", "ucr_2022": "validation", "saving": "validation"}
    sets = pd.read_csv(out / "sets.csv")
    assert len(sets) == 4 * 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["targets"]["calibration"] == ["admissions"]
    # the same seed again gives the same sets, and the held-out runs do not depend on the number of workers
    again = tmp_path / "again"
    assert run_scenario.main([*argv[:7], str(again), *argv[8:], "--workers", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again / "posterior.csv"), posterior)
    pd.testing.assert_frame_equal(pd.read_csv(again / "sets.csv"), sets)


def test_the_shipped_posterior_is_a_set_of_valid_baselines_inside_the_priors(baseline):
    folder = SHIPPED / "baseline"
    posterior = output.read_posterior(folder / "posterior.csv")
    priors = load_priors(SHIPPED / "priors.yaml", baseline)
    assert list(posterior.columns) == ["set", "weight", *priors.columns]
    assert len(posterior) >= 10 and posterior["set"].is_unique
    assert posterior["weight"].sum() == pytest.approx(1.0) and (posterior["weight"] > 0).all()
    for row in posterior.to_dict("records"):
        for parameter in priors.parameters:
            low, high = parameter.spec.prior.bounds()
            assert low - 0.5 <= parameter.value_of(row) <= high + 0.5      # a capacity is rounded to whole beds
        baseline.with_changes(set_changes(baseline, row))
    manifest = json.loads((folder / "manifest.json").read_text())
    targets = load_targets(SHIPPED / "targets.yaml", ROOTS)
    assert manifest["targets"]["calibration"] == [t.name for t in targets.calibration]
    assert manifest["targets"]["validation"] == [t.name for t in targets.validation]
    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["target"]) == {t.name for t in (*targets.calibration, *targets.validation)}


def test_the_calibration_page_reports_every_target_and_audits_validation_rows(baseline):
    from sim.studies.connect import calibration as study
    from sim.studies.connect import validation

    inputs = calibrate_module.load_inputs(baseline, SHIPPED / "targets.yaml", SHIPPED / "priors.yaml", ROOTS)
    page = study.render(SHIPPED / "baseline", inputs, {"date": "today"})
    for t in (*inputs.targets.calibration, *inputs.targets.validation):
        assert t.label in page
    for p in inputs.priors.parameters:
        assert f"| {p.name} |" in page
    fed_back = [label for label, (kind, _) in study.AUDIT.items() if kind == "input fed back"]
    assert "People helped by UCR a year (kept at home)" in fed_back and "Community hospital beds released" in fed_back
    assert {p.label for p in validation.PUBLISHED} & set(fed_back)


def test_the_app_does_not_offer_calibration_files_as_scenarios():
    from sim.app.library import library

    offered = list(library(ROOT / "scenarios"))
    assert "baseline.yaml" in offered and not [name for name in offered if name.startswith("calibration/")]


@pytest.mark.slow
def test_the_real_command_refuses_a_prior_with_no_mass_without_a_traceback(tmp_path):
    import subprocess
    import sys

    t = write(tmp_path / "targets.yaml", TARGETS.format(connect=CONNECT))
    p = write(tmp_path / "priors.yaml", PRIORS.replace("low: 30000, high: 80000", "low: 80000, high: 30000"))
    done = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), "calibrate", str(BASELINE), "--targets",
                           str(t), "--priors", str(p), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert "priors.yaml: parameters.crises.prior" in done.stderr and "no mass" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
