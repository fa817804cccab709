"""The Sutton scenarios: they load, the alliance changes only its own levers, the assumptions table says what
the files say, and (slow) the baseline and the alliance stay inside the bands docs/sutton.md documents.

The bands are those of docs/sutton.md widened for three replications. A change that moves a headline out of
its band moves the document too: re-run `python -m sim.studies.sutton.validation`, look at why, and update the
band here only with a reason in the commit message.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.measure.collect import run_replication
from sim.scenario import load_scenario
from sim.studies.sutton import inputs, sensitivity, validation
from support import ROOT

SUTTON = ROOT / "scenarios" / "sutton"
FILES = ("baseline", "alliance", "alliance-at-home-95", "neighbourhoods")
# What the alliance may change: its three levers, and its own name, description and sources.
ALLIANCE_CHANGES = {
    "name", "description", "comparator", "sources",
    "services.urgent_response.capacity", "services.urgent_response.label",
    "services.acute.discharge_process.skip_for",
    "services.reablement.label", "services.reablement.workforce.visit_hours_per_day",
    "services.reablement.workforce.first_day_hours", "services.reablement.los_days.median",
    "services.reablement.los_days.mean", "routes.crisis.scale.urgent_response",
}


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    else:
        yield ".".join(path), node


def _changed(a: dict, b: dict) -> set[str]:
    left, right = dict(_leaves(a)), dict(_leaves(b))
    return {k for k in left.keys() | right.keys() if left.get(k) != right.get(k)}


def _top(changed: set[str]) -> set[str]:
    return {k.split(".")[0] if k.split(".")[0] in ("name", "description", "comparator", "sources") else k
            for k in changed}


@pytest.mark.parametrize("name", FILES)
def test_the_sutton_scenarios_load(name):
    scenario = load_scenario(SUTTON / f"{name}.yaml")
    assert scenario.services["reablement"].kind == "visits"           # START as visit-hours, not the library's caseload
    assert scenario.services["reablement"].then == "reablement_outcome"
    assert scenario.sources, "every Sutton scenario cites what it rests on"


def test_the_alliance_changes_only_its_levers():
    base, alliance = (load_scenario(SUTTON / f).resolved for f in ("baseline.yaml", "alliance.yaml"))
    changed = _top(_changed(base, alliance))
    assert changed <= ALLIANCE_CHANGES, changed - ALLIANCE_CHANGES
    # and each lever really moved
    assert {"routes.crisis.scale.urgent_response", "services.acute.discharge_process.skip_for",
            "services.reablement.workforce.visit_hours_per_day"} <= changed


def test_the_ceiling_what_if_changes_only_reablement_outcomes():
    alliance, ceiling = (load_scenario(SUTTON / f).resolved for f in ("alliance.yaml", "alliance-at-home-95.yaml"))
    changed = {k for k in _top(_changed(alliance, ceiling)) if k not in ("name", "description", "sources")}
    assert changed and all(k.startswith("routes.reablement_outcome.") for k in changed), changed
    # deaths are as they were: only readmissions and care homes became packages at home
    assert not any(k.endswith(".died") for k in changed)


@pytest.mark.parametrize("assumption", inputs.ASSUMPTIONS, ids=lambda a: a.field)
def test_the_assumptions_table_says_what_the_scenarios_say(assumption):
    scenario = load_scenario(SUTTON / f"{assumption.scenario}.yaml")
    node = scenario.resolved
    for part in assumption.field.split("."):
        node = node[part]
    assert node == pytest.approx(assumption.value)
    assert assumption.low <= assumption.value <= assumption.high
    # each end of the range is a valid scenario (a sensitivity analysis can move it there)
    for end in (assumption.low, assumption.high):
        value = int(end) if float(node).is_integer() and float(end).is_integer() and "capacity" in assumption.field else end
        scenario.with_changes({assumption.field: value})


def test_budget_impact_is_read_when_there_and_said_missing_when_not(tmp_path):
    assert validation.read_budget_impact(None) is None
    assert validation.read_budget_impact(tmp_path) is None
    assert "not available" in " ".join(validation.budget_lines(None))
    pd.DataFrame({"year": [1, 1], "perspective": ["nhs", "council"], "kind": ["cash", "cash"],
                  "mean": [1.5e6, -2e5], "ci_low": [1e6, -4e5], "ci_high": [2e6, 0.0]}).to_csv(
        tmp_path / validation.BUDGET_FILE, index=False)
    lines = "\n".join(validation.budget_lines(validation.read_budget_impact(tmp_path)))
    assert "| 1 | nhs | cash | £1.50m | £1.00m to £2.00m |" in lines
    assert "| 1 | council | cash | -£0.20m |" in lines
    # a file without the expected columns is not shown as if it were one
    pd.DataFrame({"year": [1]}).to_csv(tmp_path / validation.BUDGET_FILE, index=False)
    assert validation.read_budget_impact(tmp_path) is None


def test_a_short_run_of_the_alliance_discharges_pathway_1_without_the_assessment_wait():
    scenarios = validation.shortened(validation.load_all(ROOT / "scenarios"), horizon=90, warmup=60)
    pair = {role: scenarios[role] for role in ("comparator", "scenario")}
    _, runs = validation.simulate(pair, replications=2, workers=1)
    process = "acute.delayed_bed_days.discharge_process"
    assert runs.level("scenario", process).mean < 0.6 * runs.level("baseline", process).mean
    # same crises on the same streams (common random numbers)
    assert runs.level("scenario", "crises").mean == runs.level("baseline", "crises").mean
    # more referrals to rapid response in every replication (x1.3 of the suitable)
    assert (runs.values("scenario", "ucr.referrals") > runs.values("baseline", "ucr.referrals")).all()


# --- slow: the headline within its documented band ---------------------------------------------------------

REPLICATIONS = 3
# measure: (low, high) for the baseline's mean over the replications (docs/sutton.md §1)
BASELINE_BANDS = {
    "acute.admissions": (7_000, 8_800),               # about 7,800 (derived)
    "acute.utilisation": (0.84, 0.94),                # ~90%
    "reablement.admissions": (1_150, 1_450),          # about 1,300 START episodes
    "reablement.at_home_91d_share": (0.78, 0.86),     # ~82% (ASCOF 2B(1) England)
    "care_home.council_supported": (85, 125),         # 107 (2019/20)
}
# measure, how, (low, high): the alliance and the ceiling what-if against the baseline (docs/sutton.md §2, §4)
EFFECT_BANDS = (
    ("scenario", "acute.admissions", "pct_change", (-3.0, -0.3)),     # reported -1%
    ("scenario", "acute.los_mean", "pct_change", (-12.0, -2.0)),      # reported -6%
    ("ceiling", "reablement.at_home_91d_share", "level", (0.93, 0.98)),
    ("ceiling", "acute.admissions", "pct_change", (-5.0, -1.0)),
)


@pytest.fixture(scope="module")
def runs():
    scenarios = validation.load_all(ROOT / "scenarios")
    return validation.simulate(scenarios, REPLICATIONS, workers=1)[1]


@pytest.mark.slow
@pytest.mark.parametrize("measure", sorted(BASELINE_BANDS))
def test_the_baseline_stays_calibrated(runs, measure):
    low, high = BASELINE_BANDS[measure]
    assert low <= runs.level("baseline", measure).mean <= high


@pytest.mark.slow
@pytest.mark.parametrize("role,measure,how,band", [pytest.param(*b, id=f"{b[0]}-{b[1]}") for b in EFFECT_BANDS])
def test_the_alliance_effect_stays_in_its_band(runs, role, measure, how, band):
    value = getattr(runs, how)(role, measure).mean
    assert band[0] <= value <= band[1]


def test_the_sensitivity_moves_one_assumption_at_a_time_in_the_right_scenarios():
    scenarios = validation.load_all(ROOT / "scenarios")
    pair = {role: scenarios[role] for role in ("comparator", "scenario")}
    cases = sensitivity.roles(pair)
    assert len(cases) == 4 * len(inputs.ASSUMPTIONS)
    base, alliance = pair["comparator"].resolved, pair["scenario"].resolved
    for i, a in enumerate(inputs.ASSUMPTIONS):
        low_base, low_alliance = cases[f"a{i}_low_base"], cases[f"a{i}_low_alliance"]
        # the baseline moves only for baseline assumptions; the alliance moves unless it sets the field itself
        assert sensitivity._at(low_base, a.field) == (pytest.approx(a.low) if a.scenario == "baseline"
                                                      else sensitivity._at(pair["comparator"], a.field))
        own = sensitivity._at(pair["scenario"], a.field) != sensitivity._at(pair["comparator"], a.field)
        expected = sensitivity._at(pair["scenario"], a.field) if a.scenario == "baseline" and own else a.low
        assert sensitivity._at(low_alliance, a.field) == pytest.approx(expected)
        # nothing else changed: one assumption at a time
        changed = _top(_changed(base, low_base.resolved)) | _top(_changed(alliance, low_alliance.resolved))
        assert changed <= {a.field}, changed


def test_the_sensitivity_table_marks_ends_whose_queues_grow():
    tables = {}
    base = pd.DataFrame({"acute.admissions": [100.0, 100.0], "acute.los_mean": [10.0, 10.0], "cost.nhs": [2e6, 2e6],
                         "ed.wait_hours_mean": [1.0, 2.0]})
    alliance = pd.DataFrame({"acute.admissions": [99.0, 99.0], "acute.los_mean": [9.4, 9.4], "cost.nhs": [1e6, 1e6],
                             "ed.wait_hours_mean": [0.5, 0.5]})
    full = alliance.assign(**{"ed.wait_hours_mean": [30.0, 40.0]})   # a hospital that fills: ED waits of days
    for i, _ in enumerate(inputs.ASSUMPTIONS):
        for side in sensitivity.SIDES:
            tables[f"a{i}_{side}_base"], tables[f"a{i}_{side}_alliance"] = base, alliance
    tables["a4_low_alliance"] = full
    result = sensitivity.table(tables, frozenset({"a2_high_alliance"}))
    assert result["admissions_low"].tolist() == pytest.approx([-1.0] * len(inputs.ASSUMPTIONS))
    assert result["length_of_stay_high"].tolist() == pytest.approx([-6.0] * len(inputs.ASSUMPTIONS))
    assert result["nhs_saving_low"].tolist() == pytest.approx([1e6] * len(inputs.ASSUMPTIONS))
    marked = result[result["overloaded_high"]]
    assert marked["label"].tolist() == [inputs.ASSUMPTIONS[2].label] and not result["overloaded_low"].any()
    assert result.set_index("label").loc[inputs.ASSUMPTIONS[4].label, "ed_wait_low"] == pytest.approx(35.0)
    text = "\n".join(validation.sensitivity_section(result, 3))
    assert "-1.0% / -1.0% ‡" in text and "-1.0% † / -1.0%" in text
    flagged = text.split("Ends that overload")[1]
    assert inputs.ASSUMPTIONS[2].label in flagged and inputs.ASSUMPTIONS[4].label in flagged
    assert inputs.ASSUMPTIONS[0].label not in flagged


def test_the_document_is_written_whole_with_budget_impact_when_given(tmp_path):
    folder = tmp_path / "economics"
    folder.mkdir()
    pd.DataFrame({"year": [2018, 2019], "perspective": ["nhs", "nhs"], "kind": ["cash", "cash"],
                  "mean": [1e6, 2e6], "ci_low": [5e5, 1e6], "ci_high": [1.5e6, 3e6]}).to_csv(
        folder / validation.BUDGET_FILE, index=False)
    out = tmp_path / "sutton.md"
    code = validation.main(["--replications", "2", "--sensitivity-replications", "0", "--horizon", "60",
                            "--warmup", "30", "--output", str(out), "--budget-impact", str(folder)])
    assert code == 0
    text = out.read_text()
    for heading in ("## 1. Calibration", "## 2. Validation", "## 3. Economics", "## 4. Can", "## 5. What", "## 6."):
        assert heading in text
    assert "| 2019 | nhs | cash | £2.00m | £1.00m to £3.00m |" in text
    assert "not reachable by this model version" in text and "**Short run**" in text
    assert not list(tmp_path.glob(".sutton.md.*"))      # written atomically: no temporary file left behind


def test_a_bad_scenario_folder_is_refused_with_status_2(tmp_path, capsys):
    (tmp_path / "sutton").mkdir()
    (tmp_path / "sutton" / "baseline.yaml").write_text("name: x\nservices: {}\n")
    out = tmp_path / "sutton.md"
    assert validation.main(["--scenarios", str(tmp_path), "--output", str(out)]) == 2
    assert not out.exists()
    assert "baseline.yaml" in capsys.readouterr().err


def test_the_neighbourhoods_add_up_to_the_borough():
    scenario = load_scenario(SUTTON / "neighbourhoods.yaml").with_changes({"run.horizon_days": 60, "run.warmup_days": 30})
    kpis = run_replication(scenario, 0).kpis
    # services not pooled (long-term care) are counted per locality and add up to the borough
    for kpi in ("home_care.admissions", "care_home.permanent_admissions"):
        assert sum(kpis[f"place.{p}.{kpi}"] for p in scenario.places) == pytest.approx(kpis[kpi])
    # equal shares (an assumption), START's community referrals included: no locality has most of the packages
    packages = [kpis[f"place.{p}.home_care.admissions"] for p in scenario.places]
    assert min(packages) > 0 and max(packages) < 0.4 * sum(packages)


def test_the_economics_tables_read_whatever_the_comparison_gives():
    comparison = pd.DataFrame({
        "measure": ["Admissions avoided", "Saving: NHS", "Saving: all payers"], "unit": ["people", "GBP", "GBP"],
        "kind": ["outcome", "all", "all"], "payer": ["", "nhs", "all"], "mean": [10.0, 1e6, 5e5],
        "ci_low": [5.0, 5e5, -1e5], "ci_high": [15.0, 1.5e6, 1.1e6], "who": ["", "NHS saves", "no clear change"]})
    rows = validation.comparison_rows(comparison, per_year=2.0)     # half a year measured: a year's worth is twice
    assert rows[0][:4] == ["Admissions avoided", "people", "20.0", "10.0 to 30.0"]
    assert rows[1][2:] == ["£2.00m", "£1.00m to £3.00m", "NHS saves"]
    payers = validation.payer_rows(comparison, comparison.assign(mean=comparison["mean"] * 1.2), per_year=1.0)
    assert payers[0] == ["nhs", "£1.00m (£0.50m to £1.50m)", "£1.20m (£0.50m to £1.50m)"]
    assert [r[0] for r in payers] == ["nhs", "all"]
    # a comparison laid out another way (say, by perspective) still gives its rows, and no payer table
    other = comparison.drop(columns=["kind", "payer"]).assign(perspective="NHS and social care")
    assert len(validation.comparison_rows(other, 1.0)) == 3
    assert validation.payer_rows(other, other, 1.0) == []
