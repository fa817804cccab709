"""Probabilistic sensitivity analysis: draws, the runs through the one runner, the intervals, Sobol indices, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from support import ROOT, single_queue

import run_scenario
from sim.psa import gsa
from sim.psa.draws import draw
from sim.psa.emulator import Emulator
from sim.psa.summary import money_measure
from sim.scenario import ScenarioError, validate

RATE_PER_DAY, RATE_SD = 20.0, 2.0      # people a day, and the sd of what we know of it
STAY, COMPARATOR_STAY = 1.0, 2.0       # days
EPISODE_GBP = 100.0                    # bought per episode in the comparator only


def _queue_files(tmp_path, **uncertainty):
    """A scenario (unlimited beds, stays of 1 day) whose only uncertain input is its arrival rate, and a
    comparator with stays of 2 days, as YAML files."""
    run = {"run.horizon_days": 120, "run.warmup_days": 10}
    scenario = single_queue(RATE_PER_DAY, STAY, None, **run).resolved
    scenario["uncertainty"] = uncertainty or {"parameters": {"demand.crises_per_year": {
        "dist": "gamma", "mean": RATE_PER_DAY * 365, "sd": RATE_SD * 365, "source": "test: a known prior"}}}
    comparator = single_queue(RATE_PER_DAY, COMPARATOR_STAY, None, **run).resolved
    # What the longer stays buy on leaving, per episode: cash (sim.economics.lines), unlike the bed-days, which
    # are capacity and never a cash saving.
    comparator["services"]["acute"]["costs"].append({"gbp": EPISODE_GBP, "per": "episode", "payer": "nhs",
                                                     "name": "discharge_package", "label": "Discharge packages"})
    paths = tmp_path / "queue.yaml", tmp_path / "longer-stays.yaml"
    for path, data in zip(paths, (scenario, comparator)):
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return paths


def _gamma_quantiles(scale: float) -> tuple[float, float]:
    shape = (RATE_PER_DAY / RATE_SD) ** 2
    return tuple(stats.gamma(shape, scale=RATE_PER_DAY / shape * scale).ppf([0.025, 0.975]))


@pytest.mark.slow
def test_an_uncertain_arrival_rate_gives_littles_law_interval_for_occupancy(tmp_path):
    scenario, comparator = _queue_files(tmp_path)
    out = tmp_path / "psa"
    status = run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "20",
                                "--workers", "1", "--out", str(out)])
    assert status == 0
    summary = pd.read_csv(out / "psa_summary.csv", keep_default_na=False, na_values=[""])
    level = summary[(summary["kind"] == "scenario") & (summary["kpi"] == "acute.occupancy_mean")].iloc[0]
    # Little's law: occupancy = rate x stay, so its 95% interval is the rate's, times the stay. Simulation noise
    # (an M/M/inf time average over 120 days: sd ~ sqrt(2 x 20 / 120) = 0.6 beds) widens it by ~4%.
    low, high = _gamma_quantiles(STAY)
    assert level["interval_low"] == pytest.approx(low, rel=0.06)
    assert level["interval_high"] == pytest.approx(high, rel=0.06)
    assert level["mean"] == pytest.approx(RATE_PER_DAY * STAY, rel=0.03)
    # The paired difference: rate x (1 - 2) days, an interval of the same width, all below 0.
    diff = summary[(summary["kind"] == "difference") & (summary["kpi"] == "acute.occupancy_mean")].iloc[0]
    d_low, d_high = _gamma_quantiles(COMPARATOR_STAY - STAY)
    assert diff["interval_low"] == pytest.approx(-d_high, rel=0.06)
    assert diff["interval_high"] == pytest.approx(-d_low, rel=0.06)
    assert diff["probability_positive"] == 0
    # The net saving to NHS+PSS is the comparator's episodes bought (rate x 120 days x £100): the rate's interval.
    saving = summary[summary["measure"] == money_measure("nhs_pss")].iloc[0]
    assert saving["kind"] == "net" and saving["probability_positive"] == 1.0
    days = 120 * EPISODE_GBP
    assert saving["mean"] == pytest.approx(RATE_PER_DAY * days, rel=0.03)
    assert saving["interval_low"] == pytest.approx(low / STAY * days, rel=0.06)
    assert saving["interval_high"] == pytest.approx(high / STAY * days, rel=0.06)
    council = summary[summary["measure"] == money_measure("council")].iloc[0]
    assert council["mean"] == 0 and council["probability_positive"] == 0
    # Money by perspective as sim.economics defines it: self-funders apart, no sum over all payers.
    money = summary[summary["kind"].isin(["net", "private"])].set_index("payer")["kind"]
    assert money.to_dict() == {"nhs": "net", "council": "net", "nhs_pss": "net", "self_funders": "private"}
    assert not summary["measure"].str.contains("all payers").any()
    ceac = pd.read_csv(out / "ceac.csv")
    assert list(ceac["perspective"].unique()) == ["NHS+PSS", "NHS", "council"]   # self-funders have no curve
    per_set = pd.read_csv(out / "psa.csv")
    assert len(per_set) == 20 * per_set["kpi"].nunique() and "demand.crises_per_year" in per_set.columns
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"psa.csv", "psa_summary.csv", "ceac.csv", "sensitivity/sobol.csv",
            "sensitivity/sensitivity.html"} <= set(manifest["files"])
    sobol = pd.read_csv(out / "sensitivity" / "sobol.csv")
    only = sobol[sobol["measure"] == money_measure("nhs_pss")].iloc[0]
    assert only["input"] == "demand.crises_per_year" and only["ST"] == pytest.approx(1.0, abs=0.05)
    # Resumed: nothing runs again, and the tables are the same.
    before = (out / "psa_summary.csv").read_bytes()
    assert run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "20",
                              "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert (out / "psa_summary.csv").read_bytes() == before


def test_sobol_indices_of_an_additive_model_match_the_analytic_ones():
    # y = 4 u0 + 2 u1 + u2 + 0 u3 with independent uniform inputs: S_i = a_i^2 / sum a^2, and S1 = ST.
    coefficients = np.array([4.0, 2.0, 1.0, 0.0])
    analytic = coefficients ** 2 / np.sum(coefficients ** 2)
    names = ["a", "b", "c", "d"]

    def model(u):
        return u @ coefficients

    screening = gsa.morris(model, names, seed=1)
    assert list(screening["input"]) == names                # mu* = |a_i|: the order of the coefficients
    assert screening["mu_star"].to_numpy() == pytest.approx(coefficients)
    keep = gsa.important(screening)
    assert keep == ["a", "b", "c"]
    indices = gsa.sobol(model, names, keep, seed=1).set_index("input")
    for name, expected in zip(names[:3], analytic[:3]):
        assert indices.loc[name, "S1"] == pytest.approx(expected, abs=0.03)
        assert indices.loc[name, "ST"] == pytest.approx(expected, abs=0.03)
    # The same through an emulator fitted to 60 noisy Latin hypercube runs, as a PSA computes them.
    u = draw_unit(60, 4)
    y = model(u) + np.random.default_rng(3).normal(0, 0.1, len(u))
    emulator = Emulator(u, y)
    assert emulator.validate().q2 > 0.95
    emulated = gsa.sobol(emulator.predict, names, keep, seed=1).set_index("input")
    for name, expected in zip(names[:3], analytic[:3]):
        assert emulated.loc[name, "ST"] == pytest.approx(expected, abs=0.05)


def draw_unit(n: int, d: int) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.LatinHypercube(d, rng=np.random.default_rng(11)).random(n)


def test_latin_hypercube_draws_are_stratified_reproducible_and_follow_the_prior(tmp_path):
    scenario, _ = _queue_files(tmp_path)
    from sim.scenario import load_scenario

    s = load_scenario(scenario)
    first, again = draw(s, 40), draw(s, 40)
    assert first.values.equals(again.values)
    strata = np.sort(np.floor(first.unit[:, 0] * 40))
    assert list(strata) == list(range(40))                 # one draw in each fortieth of the prior
    from sim.psa.draws import _design

    sobol = _design(16, 3, "sobol", 1)
    assert sobol.shape == (16, 3) and np.allclose(np.sort(np.floor(sobol[:, 0] * 16)), np.arange(16))
    assert _design(10, 3, "sobol", 1).shape == (10, 3)
    rate = first.values["demand.crises_per_year"] / 365
    assert rate.mean() == pytest.approx(RATE_PER_DAY, rel=0.01)
    assert rate.std() == pytest.approx(RATE_SD, rel=0.1)


def test_parameter_sets_are_resampled_by_weight_and_confined_to_the_scenario_tree(tmp_path):
    (tmp_path / "posterior.csv").write_text("set,weight,services.acute.los_days.mean\n0,0,1.5\n1,3,0.5\n2,1,0.75\n")
    scenario, _ = _queue_files(tmp_path, parameter_sets="posterior.csv", parameters={"demand.crises_per_year": {
        "dist": "uniform", "low": 7000, "high": 7600, "source": "test"}})
    from sim.scenario import load_scenario

    draws = draw(load_scenario(scenario), 400)
    picked = draws.values["services.acute.los_days.mean"]
    assert 1.5 not in set(picked)                          # weight 0: never drawn
    assert (picked == 0.5).mean() == pytest.approx(0.75, abs=0.06)
    assert draws.names == ["demand.crises_per_year", "services.acute.los_days.mean"]
    assert draws.unit.shape == (400, 2)
    assert set(draws.values["calibrated_set"]) == {1, 2}
    outside = tmp_path / "inner"
    outside.mkdir()
    text = scenario.read_text().replace("parameter_sets: posterior.csv", "parameter_sets: ../../../etc/passwd")
    (outside / "queue.yaml").write_text(text)
    with pytest.raises(ScenarioError, match="uncertainty.parameter_sets.*outside"):
        draw(load_scenario(outside / "queue.yaml"), 4)


@pytest.mark.parametrize("prior, expected", [
    ({"dist": "uniform", "low": 5, "high": 5}, "no mass"),
    ({"dist": "normal", "mean": 7300, "sd": 100, "min": 9000}, "no mass"),
    ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "sd below"),
    ({"dist": "gamma", "mean": 7300}, "takes mean, sd"),
    ({"dist": "gamma", "mean": 7300, "sd": 10}, "source: required field is missing"),  # no source
])
def test_a_prior_that_cannot_be_drawn_is_refused_on_reading(tmp_path, capsys, prior, expected):
    if "required" not in expected:
        prior = {**prior, "source": "test"}
    scenario, comparator = _queue_files(tmp_path, parameters={"demand.crises_per_year": prior})
    out = tmp_path / "out"
    status = run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "4",
                                "--out", str(out)])
    error = capsys.readouterr().err
    assert status == 2 and not out.exists()
    assert "queue.yaml" in error and "uncertainty.parameters.demand.crises_per_year" in error
    assert expected.lower() in error.lower()


def test_sobol_with_fewer_parameter_sets_than_parameters_is_bad_input(tmp_path, capsys):
    priors = {path: {"dist": "uniform", "low": low, "high": high, "source": "test"} for path, low, high in (
        ("demand.crises_per_year", 6000, 8000), ("services.acute.los_days.mean", 0.8, 1.2),
        ("services.acute.costs.0.gbp", 300, 400))}
    scenario, comparator = _queue_files(tmp_path, parameters=priors)
    out = tmp_path / "out"
    status = run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "3",
                                "--out", str(out)])
    error = capsys.readouterr().err
    assert status == 2 and not out.exists()
    assert "--samples" in error and "3 uncertain inputs need at least 4 parameter sets" in error


def test_an_effect_that_is_not_an_outcome_is_bad_input(tmp_path, capsys):
    scenario, comparator = _queue_files(tmp_path)
    assert run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "4",
                              "--effect", "acute.nonsense", "--out", str(tmp_path / "out")]) == 2
    assert "--effect: 'acute.nonsense' is not an outcome" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_scenario_without_uncertain_inputs_or_a_field_that_is_not_a_number_is_bad_input(tmp_path, capsys):
    scenario, comparator = _queue_files(tmp_path)
    data = yaml.safe_load(scenario.read_text())
    del data["uncertainty"]
    scenario.write_text(yaml.safe_dump(data))
    assert run_scenario.main(["psa", str(scenario), "--compare", str(comparator), "--samples", "4",
                              "--out", str(tmp_path / "out")]) == 2
    assert "no uncertain inputs" in capsys.readouterr().err
    data["uncertainty"] = {"parameters": {"services.acute.label": {"dist": "uniform", "low": 0, "high": 1,
                                                                  "source": "test"}}}
    with pytest.raises(ScenarioError, match="is not a number in the scenario"):
        validate(data, "x.yaml")
    assert not (tmp_path / "out").exists()


def test_the_connect_uncertain_inputs_are_valid_and_sourced():
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "connect-psa.yaml")
    priors = scenario.uncertainty.parameters
    assert len(priors) >= 8 and all(len(p.source) > 10 for p in priors.values())
    draws = draw(scenario, 16)
    assert draws.values.notna().all().all()
    # A shared input (a unit cost) prices both arms; an effect (reablement's stay) changes Connect only.
    from sim.psa.run import set_scenarios
    from sim.scenario.loading import load_comparator

    comparator = load_comparator(scenario)
    roles = set_scenarios(scenario, comparator, draw(scenario, 2))
    set0 = draw(scenario, 2).values.iloc[0]
    for role in ("s000", "c000"):
        assert roles[role].services["acute"].costs[0].gbp == pytest.approx(set0["services.acute.costs.0.gbp"])
    assert roles["s000"].services["reablement"].los_days.mean() == pytest.approx(set0["services.reablement.los_days.mean"])
    assert roles["c000"].services["reablement"].los_days.mean() == comparator.services["reablement"].los_days.mean() == 21
    # The balancing share moves with its partner: the outcomes still sum to one.
    outcome = roles["s000"].routes["reablement_outcome"].to
    assert outcome["home"] == pytest.approx(set0["routes.reablement_outcome.to.home"])
    assert sum(outcome.values()) == pytest.approx(1.0)


def test_the_tornado_gives_each_saving_its_paired_interval():
    from types import SimpleNamespace

    from sim.studies.connect import sensitivity

    costs = {"base": pd.DataFrame({"cost.nhs": [10e6, 12e6, 11e6], "cost.council": [5e6, 5e6, 6e6]}),
             "connect": pd.DataFrame({"cost.nhs": [9e6, 10e6, 10e6], "cost.council": [5e6, 6e6, 5e6]})}
    results = SimpleNamespace(kpi_table=costs.__getitem__)
    mean, low, high = sensitivity._system_saving(results, "base", "connect", per_year=1.0)
    saved = np.array([1.0, 1.0, 2.0])                      # £m, paired replication by replication
    half = stats.t.ppf(0.975, 2) * saved.std(ddof=1) / np.sqrt(3)
    assert (mean, low, high) == pytest.approx((saved.mean(), saved.mean() - half, saved.mean() + half))


@pytest.mark.slow
def test_the_precision_rule_watches_a_measure_the_scenario_defines(tmp_path):
    from support import small_system

    from sim import api
    from sim.experiment import run_experiment

    scenario = small_system(**{"run.horizon_days": 60, "run.warmup_days": 10})
    assert "ucr.referrals" in scenario.measures
    assert run_scenario._check_kpis("ucr.referrals,acute.admissions", scenario) == ("ucr.referrals",
                                                                                   "acute.admissions")
    with pytest.raises(run_scenario.BadInput, match="nonsense"):
        run_scenario._check_kpis("ucr.nonsense", scenario)
    plan = api.make_plan(scenario, 0.2, 12, ("ucr.referrals",), None)
    result = run_experiment({"scenario": scenario}, plan)
    assert list(result.manifest["precision"]["kpis"]) == ["ucr.referrals"]
    row = result.summary.set_index("kpi").loc["ucr.referrals"]
    assert result.manifest["precision_result"]["achieved"]
    assert row["relative_half_width"] <= 0.2 * 1.5         # the rule's t half-width, the table's log-t one


def test_sets_whose_comparator_differs_only_in_prices_share_one_comparator_run_repriced_exactly(tmp_path):
    from sim.experiment import Plan, run_experiment
    from sim.psa.run import run_psa
    from sim.scenario import load_scenario

    scenario, comparator = _queue_files(tmp_path, parameters={"services.acute.costs.0.gbp": {
        "dist": "uniform", "low": 300, "high": 400, "source": "test: a shared price"}})
    scenario, comparator = load_scenario(scenario), load_scenario(comparator)
    result = run_psa(scenario, comparator, 4, sensitivity=False)
    assert sorted(result.resultset.scenarios) == ["c000", "c002", "s000", "s001", "s002", "s003"]
    assert result.simulated[1] == ("s001", "c000") and result.resultset.manifest["seeds"]["s001"] == scenario.run.seed
    # Set 1's comparator, simulated on its own streams at its own price, is exactly the re-priced one.
    own = run_experiment({"comparator": result.scenarios["c001"]}, Plan(replications=1),
                         seeds={"comparator": scenario.run.seed}).kpi_table("comparator").iloc[0]
    rows = result.per_set[result.per_set["set"] == 1].set_index("kpi")
    for kpi in ("cost.total", "cost.nhs", "acute.admissions"):
        assert rows.loc[kpi, "comparator_mean"] == pytest.approx(own[kpi], rel=1e-12)
    set0 = result.per_set[result.per_set["set"] == 0].set_index("kpi")
    assert rows.loc["acute.admissions", "comparator_mean"] == set0.loc["acute.admissions", "comparator_mean"]
    assert rows.loc["cost.total", "comparator_mean"] != set0.loc["cost.total", "comparator_mean"]
    # Its money and gains are the comparison's (sim.economics, sim.compare) of the two runs made on their own.
    from sim import compare
    from sim.economics.impact import economic_summary
    from sim.psa.summary import per_set_tables

    _, headlines = per_set_tables(result.resultset, result.draws, result.scenarios, result.simulated)
    one = headlines[headlines["set"] == 1].set_index("measure")
    pair = run_experiment({"scenario": result.scenarios["s001"], "comparator": result.scenarios["c001"]},
                          Plan(replications=1), seeds={"scenario": scenario.run.seed,
                                                       "comparator": scenario.run.seed})
    net = economic_summary(pair).query("measure == 'net'").set_index("perspective")["mean"]
    for perspective in ("nhs", "council", "nhs_pss", "self_funders"):
        assert one.loc[money_measure(perspective), "value"] == pytest.approx(net[perspective], rel=1e-9, abs=1e-6)
    assert one.loc[money_measure("nhs_pss"), "value"] > 0          # shorter stays cost less
    gains = compare.outcome_gains(pair)
    assert one.loc["Admissions avoided", "value"] == pytest.approx(float(np.mean(gains["Admissions avoided"])))


def test_the_acceptability_curve_runs_from_the_chance_of_saving_to_the_chance_of_gaining():
    from sim.psa.summary import WTP_GBP, acceptability, summarise

    rng = np.random.default_rng(5)
    gain = rng.normal(100, 60, 400)                      # people, per set
    saved = rng.normal(-200_000, 150_000, 400)           # GBP: the scenario mostly costs more
    headlines = pd.DataFrame(
        [{"set": i, "measure": "People helped", "unit": "people", "kind": "outcome", "payer": "", "value": g,
          "within_var": np.nan} for i, g in enumerate(gain)]
        + [{"set": i, "measure": money_measure("nhs_pss"), "unit": "GBP", "kind": "net", "payer": "nhs_pss",
            "value": s, "within_var": np.nan} for i, s in enumerate(saved)])
    ceac = acceptability(headlines, "People helped")
    assert set(ceac["perspective"]) == {"NHS+PSS"}       # a curve only for a perspective with money
    curve = ceac.set_index("wtp_gbp_per_unit")["probability_cost_effective"]
    assert curve[0] == pytest.approx(np.mean(saved > 0))
    assert curve[WTP_GBP[-1]] == pytest.approx(np.mean(saved + WTP_GBP[-1] * gain > 0))
    assert curve[2_500] == pytest.approx(np.mean(saved + 2_500 * gain > 0))
    per_set = pd.DataFrame(columns=["set", "kpi", "label", "unit", "scenario_mean", "difference_mean",
                                    "difference_sd"])
    table = summarise(per_set, headlines, replications=1, samples=400).set_index("measure")
    assert table.loc[money_measure("nhs_pss"), "probability_positive"] == pytest.approx(np.mean(saved > 0))
    assert table.loc[money_measure("nhs_pss"), "interval_low"] == pytest.approx(np.percentile(saved, 2.5), rel=0.05)
    assert table.loc["People helped", "mean"] == pytest.approx(gain.mean())


def test_the_tornado_bars_carry_intervals_and_price_bars_are_monotonic():
    from sim.scenario import load_scenario
    from sim.studies.connect import sensitivity, validation

    small = {name: validation.scaled(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), 0.02).with_changes(
        {"run.horizon_days": 60, "run.warmup_days": 10}) for name in ("baseline", "connect")}
    prices = tuple(i for i in sensitivity.INPUTS if i.reprice)[:3]
    stay = next(i for i in sensitivity.INPUTS if i.label.startswith("Reablement length"))
    table = sensitivity.tornado(small["baseline"], small["connect"], 3, inputs=(*prices, stay))
    low, high = table.attrs["base_interval"]
    assert low < table.attrs["base_saving"] < high
    for side in ("low", "high"):
        assert (table[f"{side}_ci_low"] <= table[f"{side}_saving"]).all()
        assert (table[f"{side}_saving"] <= table[f"{side}_ci_high"]).all()
    # A price is linear in the saving, so the base lies between its two ends.
    assert table.set_index("label").loc[[i.label for i in prices], "monotonic"].all()


def test_the_curve_and_the_emulators_name_a_headline_measure_as_the_comparison_names_its_gain():
    from sim import compare
    from sim.psa import summary
    from sim.scenario import load_scenario

    connect = load_scenario(ROOT / "scenarios" / "connect-psa.yaml")
    gains = {o.measure for o in compare.headline_outcomes(connect)}
    # A count that should fall is a gain when avoided: the curve's effect is that gain, by any of its names.
    assert summary.default_effect(connect) == "Bedded placements after acute avoided" in gains
    for name in ("pathway.bedded_placements", connect.measures["pathway.bedded_placements"].label):
        assert summary.effect_label(connect, name) == "Bedded placements after acute avoided"
    headlines = pd.DataFrame([{"measure": m, "kind": "outcome"} for m in sorted(gains)]
                             + [{"measure": summary.money_measure(p), "kind": k} for p, k in
                                (("nhs_pss", "net"), ("self_funders", "private"))])
    targets = set(summary.sensitivity_targets(connect, headlines)["measure"])
    assert targets == {"Admissions avoided", "Bedded placements after acute avoided", summary.money_measure("nhs_pss")}
