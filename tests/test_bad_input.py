"""Bad scenario files end with a clear message naming the file and the field, exit status 2 and nothing written.

The corpus in tests/bad_inputs/ holds one small file per kind of mistake
(most change one thing in the baseline through `extends:`); EXPECTED says what
the message must name. Files too big or too strange to commit are generated
here. Every case goes through `load_scenario` and through the command's own
entry point (`run_scenario.main`, in this process, so the whole corpus stays
fast); a sample of each kind also runs as a real `python run_scenario.py`
process to check its exit status and that no traceback ever reaches the user.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from sim.scenario import MAX_FILE_BYTES, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
PYTHON_PAYLOAD_MARK = Path("/tmp/pwned")

# file (without .yaml) -> (field path the message names, fragment of the problem it states)
EXPECTED: dict[str, tuple[str, str]] = {
    "syntax_unclosed_bracket": ("", "invalid YAML at line 3"),
    "syntax_bad_indent": ("", "invalid YAML at line 4"),
    "syntax_tab_indent": ("", "invalid YAML at line 3, column 1"),
    "wrong_type_beds_text": ("services.acute.capacity", "valid integer"),
    "wrong_type_section_scalar": ("services.acute", "must be a mapping of fields"),
    "wrong_type_list_for_mapping": ("routes.discharge_pathway.by_group.mild", "must be a mapping of fields (name: value lines), not list"),
    "wrong_type_yes_for_number": ("services.acute.capacity", "yes/no/on/off/true/false"),
    "wrong_type_fractional_beds": ("services.acute.capacity", "fractional part"),
    "wrong_type_multipliers_length": ("demand.weekday_multipliers", "at least 7 items"),
    "unknown_key_typo_beds": ("services.acute.capacty", "did you mean 'capacity'?"),
    "unknown_key_top_level": ("demmand", "did you mean 'demand'?"),
    "unknown_key_in_distribution": ("services.reablement.los_days.sdd", "did you mean 'sd'?"),
    "unknown_capacity_word": ("services.home_care.capacity", "'unlimitted'"),
    "out_of_range_probability": ("need_groups.mild.traits.ucr_manageable", "less than or equal to 1"),
    "out_of_range_negative_probability": ("routes.crisis.if_true", "urgent_response: a probability must be a number from 0 to 1 (got -0.2)"),
    "out_of_range_horizon_zero": ("run.horizon_days", "greater than or equal to 1"),
    "out_of_range_replications_zero": ("run.replications", "greater than or equal to 1"),
    "out_of_range_demand_huge": ("demand.crises_per_year", "less than or equal to 10000000"),
    "out_of_range_demand_infinite": ("demand.crises_per_year", "finite number"),
    "out_of_range_not_a_number": ("services.urgent_response.give_up_hours", "finite number"),
    "negative_capacity": ("services.community_beds.capacity", "greater than or equal to 0 (got -10)"),
    "negative_duration_fixed": ("services.acute.los_days.value", "greater than or equal to 0 (got -3)"),
    "negative_give_up_hours": ("services.urgent_response.give_up_hours", "greater than 0 (got -4)"),
    "negative_unit_cost": ("services.acute.costs.0.gbp", "greater than or equal to 0"),
    "probabilities_pathway_sum": ("routes.P1", "to: probabilities must sum to 1, they sum to 0.9"),
    "probabilities_outcomes_sum": ("routes.reablement_outcome", "to: probabilities must sum to 1, they sum to 1.15"),
    "probabilities_group_shares_sum": ("need_groups", "shares must sum to 1"),
    "probabilities_funding_above_one": ("funding", "above 1"),
    "lognormal_median_above_mean": ("services.reablement.los_days", "median (25.0) must be below mean (21.0)"),
    "lognormal_sd_zero": ("services.acute.los_days.sd", "greater than 0"),
    "lognormal_sd_and_median": ("services.reablement.los_days", "exactly one of 'sd' or 'median'"),
    "lognormal_overflow": ("services.acute.los_days", "finite, non-negative durations"),
    "gamma_sd_negative": ("services.acute.los_days.sd", "greater than 0"),
    "exponential_mean_zero": ("services.acute.los_days.mean", "greater than 0"),
    "empirical_weights_mismatch": ("services.acute.los_days", "'weights' has 2 entries but 'values' has 3"),
    "empirical_no_values": ("services.acute.los_days.values", "at least 1 item"),
    "unknown_distribution": ("services.acute.los_days", "unknown distribution 'pareto'"),
    "distribution_dist_null": ("services.acute.los_days", "'dist' must be one of"),
    "escalation_threshold_above_one": ("services.acute.escalation.open_above", "less than or equal to 1 (got 1.2)"),
    "escalation_threshold_negative": ("services.acute.escalation.close_below", "greater than or equal to 0 (got -0.1)"),
    "spot_purchase_step_above_most": ("services.reablement.spot_purchase", "step_share is more than up_to_share (0.5 > 0.1)"),
    "readmission_chance_above_one": ("afterwards.admitted_later.chance.mild", "less than or equal to 1 (got 1.5)"),
    "afterwards_unknown_origin": ("afterwards.admitted_later.after.1", "'P9' is not a destination of route discharge_pathway"),
    "cost_unit_not_allowed": ("services.acute", "costs.0.per is 'hour'; a beds service is costed per one of"),
    "cost_unknown_payer": ("services.acute.costs.0.payer", "'treasury'"),
    "unit_cost_price_year_outside_index": ("services.acute.costs.0.price_year", "'1999/00' is not in the price index"),
    "economics_price_year_outside_index": ("economics.price_year", "'2009/10' is not in the price index"),
    "economics_discount_rate_negative": ("economics.discount_rate", "greater than or equal to 0"),
    "economics_discount_rate_percent": ("economics.discount_rate", "above 20% a year"),
    "economics_horizon_zero_years": ("economics.horizon_years", "zero years"),
    "economics_programme_cost_no_payer": ("economics.programme_costs.0", "needs a payer"),
    "invalid_date": ("", "month must be in 1..12"),
    "sources_unknown_field": ("sources", "'services.acute.bedz' is not a field of the scenario"),
    "name_empty": ("name", "at least 1 character"),
    "missing_sections": ("services", "required field is missing"),
    "missing_field_in_group": ("need_groups.frail.share", "required field is missing"),
    "extends_missing_file": ("extends", "'no_such_parent.yaml' not found"),
    "extends_circular_a": ("extends", "circular extends"),
    "extends_circular_b": ("extends", "circular extends"),
    "extends_self": ("extends", "circular extends: extends_self.yaml -> extends_self.yaml"),
    "extends_not_text": ("extends", "must be the path of another scenario file"),
    "extends_folder": ("extends", "'../bad_inputs' is a folder, not a scenario file"),
    "inherited_bad_parent": ("services.acute.capacity", "(got -1)"),
    "inherited_bad_child": ("services.acute.capacity", "value set in inherited_bad_parent.yaml"),
    "empty_file": ("", "the file is empty"),
    "comments_only": ("", "the file is empty"),
    "top_level_list": ("", "top level must be a mapping of fields, not list"),
    "top_level_scalar": ("", "top level must be a mapping of fields, not str"),
    "non_text_key": ("", "every key must be text; found 1"),
    "duplicate_keys": ("", "the key 'capacity' appears twice"),
    "duplicate_top_level": ("", "the key 'name' appears twice"),
    "python_object_apply": ("", "tags that build objects are not allowed"),
    "python_object_new": ("", "tags that build objects are not allowed"),
    "python_name": ("", "tags that build objects are not allowed"),
    "unknown_local_tag": ("", "tags that build objects are not allowed"),
    "yaml_bomb_aliases": ("", "expands to more than 200,000 values"),
    # The system as one graph (issue 14): kinds, routes, places, arrivals.
    "unknown_kind": ("services.virtual_ward", "'kind' must be one of beds, caseload, visits"),
    "route_to_unknown_service": ("routes.community_outcome_2023", "'reablment' is not a service, a route or an end"),
    "service_then_unknown": ("services.community_beds.then", "'community_outcomes' is not a service, a route or an end"),
    "service_unreachable": ("services.virtual_ward", "nobody can reach it"),
    "routes_cycle_no_way_out": ("routes.next_review", "no way out from community_beds, next_review, review"),
    "probabilities_by_group_sum": ("routes.discharge_pathway.by_group.severe", "must sum to 1, they sum to 1.1"),
    "places_demand_share_sum": ("places", "demand shares must sum to 1, they sum to 0.8"),
    "places_need_groups_sum": ("places.south_east", "need-group shares must sum to 1, they sum to 1.05"),
    "arrivals_daily_too_short": ("arrivals.reablement.daily", "7 values, but the run simulates 40 days"),
    "name_not_fit_for_kpi": ("places.Mid Essex", "a name becomes part of KPI names"),
    "capacity_event_negative": ("capacity_events.0.change", "capacity of community_beds would be -90 from 2019-12-01"),
    "capacity_event_fractional": ("capacity_events.0.change", "acute counts whole places, not 0.5"),
    "capacity_event_on_unlimited": ("capacity_events.0.change", "home_care is unlimited"),
    # Values valid alone that overflow together, and dates past any run.
    "overflow_los_multiplier": ("need_groups.severe.los_multiplier", "less than or equal to 100"),
    "overflow_place_los_multiplier": ("places.south_east.services.community_beds.los_multiplier", "less than or equal to 100"),
    "overflow_weekday_multipliers": ("demand.weekday_multipliers.0", "less than or equal to 100"),
    "overflow_hours_multiplier": ("routes.small_package.hours_multiplier", "less than or equal to 100"),
    "overflow_stay_days": ("services.acute.los_days", "a mean stay of 1e+300 days is more than a century"),
    "date_start_past_2200": ("run", "start_date 2201-04-01 is outside 1900-2200"),
    "date_capacity_event_past_2200": ("capacity_events.0", "dates after 2200 are out of reach of any run"),
    "date_surge_past_2200": ("demand.surges.0", "dates after 2200 are out of reach of any run"),
    "yaml_sexagesimal_hours": ("services.urgent_response.give_up_hours",
                               "line 5: YAML 1.1 reads 4:00 as 240 (base 60, like a clock)"),
    "yaml_octal_beds": ("services.acute.capacity", "YAML 1.1 reads 0310 as 200 (a leading 0 makes it octal); write 310"),
    "yaml_number_traps_many": ("run.seed", "YAML 1.1 reads 0123 as 83"),
    "extends_outside_absolute": ("extends", "'/etc/passwd' is outside the folders scenarios may be read from"),
    "extends_outside_dotdot": ("extends", "'../../../../../../../../../../etc/passwd' is outside the folders"),
    "extends_not_a_scenario": ("extends", "'not_a_scenario.txt': does not look like a scenario"),
    "inherited_conflict_sd": ("services.acute.los_days",
                              "'sd' is inherited from older-people-pathway.yaml; to drop it write 'sd: null'"),
    "probabilities_pathway_near_one": ("routes.P1.to", "they sum to 1.0000011 (reablement=0.5, home_care_decision=0.5000011)"),
    "sweep_grid_wrong_type": ("sweep.grid.services.acute.capacity", "must be a mapping of fields or a list, not int 5"),
    "sweep_range_bad_bound": ("sweep.grid.services.acute.capacity.to", "valid number"),
}
# Words of pydantic's own that mean nothing to a planner.
INTERNALS = ("function-after", "function-before", "union[", "tagged-union", "nullable[", "union_tag", "Value error,")
# Text of tests/bad_inputs/not_a_scenario.txt, which no message may quote.
SECRET = "hunter2"

# One of each kind, run as a real process (each costs a Python start-up).
AS_PROCESS = (
    "syntax_unclosed_bracket", "unknown_key_typo_beds", "probabilities_pathway_sum", "inherited_bad_child",
    "python_object_apply", "routes_cycle_no_way_out",
)


def _generated(folder: Path) -> dict[str, tuple[Path, str, str]]:
    """Cases made on the fly: name -> (file, field, fragment)."""
    cases: dict[str, tuple[Path, str, str]] = {}

    def make(name: str, data: bytes, field: str, fragment: str) -> None:
        path = folder / f"{name}.yaml"
        path.write_bytes(data)
        cases[name] = (path, field, fragment)

    make("binary_png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "", "not a text file")
    make("latin1_text", "name: Southend caf\xe9\n".encode("latin-1"), "", "not UTF-8 text")
    make("utf16_text", "name: utf16\n".encode("utf-16"), "", "not a text file")
    make("huge_file", b"# padding\n" * (MAX_FILE_BYTES // 10 + 1), "", f"a scenario may be at most {MAX_FILE_BYTES:,}")
    make("deep_nesting", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "", "nested too deeply")
    make("wide_alias_bomb", b"a: &a [" + b"x," * 999 + b"x]\nb: [" + b"*a," * 999 + b"*a]\n", "", "alias bomb")
    cases["missing_file"] = (folder / "no_such_scenario.yaml", "", "file not found")
    (folder / "a_folder.yaml").mkdir()
    cases["folder_not_file"] = (folder / "a_folder.yaml", "", "is a folder")
    return cases


def _run_main(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status and stderr of the command's entry point, run in this process."""
    spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    capsys.readouterr()
    status = cli.main(argv)
    return status, capsys.readouterr().err


def _assert_clear(message: str, file: Path, field: str, fragment: str) -> None:
    assert file.name in message, f"the message does not name the file {file.name}: {message}"
    assert f": {field}" in message, f"the message does not name the field {field}: {message}"
    assert fragment in message, f"expected '{fragment}' in: {message}"
    assert "Traceback" not in message
    assert not [word for word in INTERNALS if word in message], message
    assert SECRET not in message and "root:x:" not in message


def test_every_corpus_file_has_an_expected_message():
    on_disk = {p.stem for p in CORPUS.glob("*.yaml")}
    assert on_disk == set(EXPECTED), f"unlisted: {on_disk - set(EXPECTED)}; missing: {set(EXPECTED) - on_disk}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_refused_by_the_loader_with_a_clear_message(name, reliability_tally):
    field, fragment = EXPECTED[name]
    path = CORPUS / f"{name}.yaml"
    PYTHON_PAYLOAD_MARK.unlink(missing_ok=True)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    reliability_tally["bad inputs tried"] += 1
    _assert_clear(str(caught.value), path, field, fragment)
    assert not PYTHON_PAYLOAD_MARK.exists(), "a YAML tag ran code"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_makes_the_command_exit_2_and_write_nothing(name, tmp_path, capsys, reliability_tally):
    field, fragment = EXPECTED[name]
    path = CORPUS / f"{name}.yaml"
    out = tmp_path / "out"
    status, stderr = _run_main([str(path), "--out", str(out)], capsys)
    reliability_tally["bad inputs tried"] += 1
    assert status == 2
    assert stderr.startswith("error: ")
    _assert_clear(stderr, path, field, fragment)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_generated_bad_files_are_refused_by_the_loader_and_the_command(tmp_path, capsys, reliability_tally):
    (tmp_path / "inputs").mkdir()
    cases = _generated(tmp_path / "inputs")
    for name, (path, field, fragment) in cases.items():
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        _assert_clear(str(caught.value), path, field, fragment)
        out = tmp_path / f"out-{name}"
        status, stderr = _run_main([str(path), "--out", str(out)], capsys)
        assert status == 2, name
        _assert_clear(stderr, path, field, fragment)
        assert not out.exists(), name
        reliability_tally["bad inputs tried"] += 2


@pytest.mark.parametrize("name", AS_PROCESS)
def test_real_command_exits_2_without_a_traceback(name, tmp_path, reliability_tally):
    field, fragment = EXPECTED[name]
    path = CORPUS / f"{name}.yaml"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_scenario.py"), str(path), "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    reliability_tally["bad inputs tried"] += 1
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    _assert_clear(done.stderr, path, field, fragment)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# --- scenario files are data, never code or paths ------------------------------------------------------

HOSTILE_NAME = "</title><script>alert(1)</script> ../../../../escaped/x"
HOSTILE_DESCRIPTION = "<img src=x onerror=alert(2)>"


def test_scenario_text_is_escaped_in_every_page_and_paths_stay_inside_out(tmp_path, capsys):
    """A name made of markup and ../ runs, shows as text in every HTML page, and writes only under --out."""
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
        f"name: '{HOSTILE_NAME}'\n"
        f"description: '{HOSTILE_DESCRIPTION}'\n"
        "run: {horizon_days: 40, warmup_days: 10, replications: 2}\n"
        "demand:\n"
        "  crises_per_year: 2000\n"
        "  surges: [{name: '<b onmouseover=alert(3)>flu</b>', start: 2019-04-10, end: 2019-04-20, multiplier: 1.5}]\n"
        "services: {urgent_response: {capacity: 2}, acute: {capacity: 60}, reablement: {capacity: 12},\n"
        "           community_beds: {capacity: 12}, temporary_residential: {capacity: 5}}\n"
    )
    before = set(tmp_path.parent.rglob("*"))
    out = tmp_path / "out"
    status, stderr = _run_main([str(scenario), "--out", str(out), "--workers", "1", "--no-compare"], capsys)
    assert status == 0, stderr
    # Two replications cannot pin the headline KPIs to ±5%: the run says so, and keeps it in the manifest.
    warnings = json.loads((out / "manifest.json").read_text())["warnings"]
    assert "replications" in {w["kind"] for w in warnings}
    written = set(tmp_path.parent.rglob("*")) - before
    assert written and all(path == out or out in path.parents for path in written), sorted(map(str, written))
    for base in (Path.cwd(), out, out / "report_tables"):
        assert not any((folder / "escaped").exists() for folder in [base, *base.parents])
    pages = list(out.rglob("*.html"))
    assert {p.name for p in pages} >= {"report.html", "surge.html"}
    for page in pages:
        text = page.read_text()
        for raw in ("<script>alert(1)", "</title><script>", "<img src=x", "<b onmouseover"):
            assert raw not in text, f"{page.name} shows scenario text as markup: {raw}"
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in (out / "report.html").read_text()


FORBIDDEN = ("eval(", "exec(", "pickle", "marshal", "yaml.load(", "unsafe_load", "yaml.Loader", "FullLoader",
             "shelve", "__import__(")


def _unsafe_words(source: str) -> list[str]:
    """Forbidden words in the code and its strings; comments are left out, since they never run."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    code = " ".join(token.string for token in tokens if token.type != tokenize.COMMENT)
    code = code.replace(" . ", ".").replace(" (", "(")
    return [word for word in FORBIDDEN if word in code]


def test_the_unsafe_code_scan_sees_code_and_strings_not_comments():
    assert _unsafe_words("import pickle\nx = yaml.load(f)\n") == ["pickle", "yaml.load("]
    assert _unsafe_words("m = __import__('marshal')\n") == ["marshal", "__import__("]
    assert _unsafe_words("# the forkserver can unpickle what it is sent\nx = 1\n") == []


def test_no_code_runs_from_data_files():
    """Scenario and results files are read with safe parsers only: no eval, exec, pickle or unsafe YAML."""
    sources = [*(ROOT / "sim").rglob("*.py"), ROOT / "run_scenario.py"]
    found = [f"{path.relative_to(ROOT)}: {word}" for path in sources for word in _unsafe_words(path.read_text())]
    assert found == []


# --- every problem at once, and options blamed rather than the file ---------------------------------------


def test_every_misread_number_in_a_file_is_reported_at_once(reliability_tally):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(CORPUS / "yaml_number_traps_many.yaml")
    reliability_tally["bad inputs tried"] += 1
    shown = {field: problem.split(";")[0] for field, problem in caught.value.problems}
    assert shown == {
        "run.seed": "line 4: YAML 1.1 reads 0123 as 83 (a leading 0 makes it octal)",
        "run.horizon_days": "line 5: YAML 1.1 reads 1:00:00 as 3600 (base 60, like a clock)",
        "services.urgent_response.target_hours": "line 8: YAML 1.1 reads 2:00 as 120 (base 60, like a clock)",
        "services.acute.capacity": "line 10: YAML 1.1 reads 01440 as 800 (a leading 0 makes it octal)",
    }


def test_quoted_or_plain_numbers_are_read_as_written(tmp_path):
    path = tmp_path / "fine.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: '4:00 and 0310'\n"
                    "description: meets at 10:30\nservices: {acute: {capacity: 310}}\n")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.description, scenario.services["acute"].capacity) == ("4:00 and 0310", "meets at 10:30", 310)


def test_problems_in_different_sections_are_all_reported(tmp_path, reliability_tally):
    path = tmp_path / "three.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: three\n"
                    "run: {replications: many}\nservices: {acute: {bedz: 4}, community_beds: {beds: -2}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    reliability_tally["bad inputs tried"] += 1
    assert [field for field, _ in caught.value.problems] == [
        "run.replications", "services.acute.bedz", "services.community_beds.beds"]


def test_a_conflict_set_in_one_file_is_not_blamed_on_a_parent(tmp_path):
    path = tmp_path / "both.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: both\n"
                    "services: {acute: {los_days: {dist: lognormal, mean: 8, sd: 3, median: 5}}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [("services.acute.los_days", "give exactly one of 'sd' or 'median' with 'mean'")]


BAD_OPTIONS = [
    (["--horizon", "-5"], "error: --horizon: must be at least 1, not -5"),
    (["--seed", "x"], "error: --seed: must be a whole number, not 'x'"),
    (["--horizon", "100000"], "error: --horizon: Input should be less than or equal to 36500 (got 100000)"),
    (["-r", "20000"], "error: --replications: Input should be less than or equal to 10000 (got 20000)"),
    (["--compare", "missing.yaml"], "error: --compare: missing.yaml: file not found"),
    (["--compare", "/etc/passwd"], "error: --compare: /etc/passwd: is outside the folders scenarios may be read from"),
    (["--bogus"], "error: unrecognized arguments: --bogus (see run_scenario.py --help)"),
]


@pytest.mark.parametrize(("options", "first_line"), BAD_OPTIONS)
def test_a_wrong_option_is_blamed_not_the_file(tmp_path, monkeypatch, capsys, options, first_line, reliability_tally):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: mine\n")
    status, stderr = _run_main(["mine.yaml", *options, "--out", "out"], capsys)
    reliability_tally["bad inputs tried"] += 1
    assert status == 2
    assert stderr.splitlines()[0].startswith(first_line), stderr
    assert "mine.yaml" not in stderr and "usage:" not in stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "mine.yaml"]


def test_a_wrong_option_in_a_real_process_exits_2_and_writes_nothing(tmp_path, reliability_tally):
    (tmp_path / "mine.yaml").write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: mine\n")
    for options in (["--horizon", "-5"], ["--compare", "missing.yaml"]):
        done = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), "mine.yaml", *options,
                               "--out", str(tmp_path / "out")],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        reliability_tally["bad inputs tried"] += 1
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.startswith(f"error: {options[0]}: ") and "Traceback" not in done.stderr
        assert not (tmp_path / "out").exists()


def test_problems_found_while_reading_are_reported_together(tmp_path, reliability_tally):
    path = tmp_path / "many.yaml"
    path.write_text("name: x\n1: a\nyes: b\nname: c\nrun: {seed: 012}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    reliability_tally["bad inputs tried"] += 1
    assert [(field, problem.split(";")[0]) for field, problem in caught.value.problems] == [
        ("", "line 2: every key must be text"),
        ("", "line 3: every key must be text"),
        ("", "line 4: the key 'name' appears twice"),
        ("run.seed", "line 5: YAML 1.1 reads 012 as 10 (a leading 0 makes it octal)"),
    ]
    assert "found True (YAML reads yes/no/on/off as a truth value)" in str(caught.value)
