"""Loading scenarios: extends:, overrides, and readable errors naming file and field."""

import re
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario
from support import BASELINE


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_baseline_loads_and_every_source_names_a_field():
    scenario = load_scenario(BASELINE)
    assert scenario.services.acute.beds > 0
    assert scenario.sources, "the baseline cites its sources"


def test_extends_overrides_only_what_changes(tmp_path):
    child = write(tmp_path, "child.yaml", f"""
extends: {BASELINE}
name: more UCR
referral:
  multiplier: 1.7
services:
  urgent_response:
    capacity: 30
""")
    base, scenario = load_scenario(BASELINE), load_scenario(child)
    assert scenario.referral.multiplier == 1.7
    assert scenario.services.urgent_response.capacity == 30
    assert scenario.referral.ucr_share_suitable == base.referral.ucr_share_suitable
    assert scenario.services.acute == base.services.acute
    assert scenario.content_hash() != base.content_hash()


def test_extends_chain_and_relative_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "mid.yaml", f"extends: {BASELINE}\nname: mid\nrun: {{seed: 5}}\n")
    write(tmp_path / "sub", "down.yaml", "extends: ../mid.yaml\nname: down\n")
    top = write(tmp_path, "top.yaml", "extends: sub/down.yaml\nname: top\n")
    scenario = load_scenario(top)  # sub/down.yaml climbs back to mid.yaml, still inside top.yaml's folder
    assert scenario.name == "top" and scenario.run.seed == 5
    # Named directly, sub/down.yaml may not climb out of its own folder unless the caller allows it.
    with pytest.raises(ScenarioError, match=r"extends: '../mid.yaml' is outside the folders"):
        load_scenario(tmp_path / "sub" / "down.yaml")
    assert load_scenario(tmp_path / "sub" / "down.yaml", roots=[tmp_path, BASELINE.parent]).run.seed == 5


def test_circular_extends_is_named(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.yaml")
    assert "circular extends: a.yaml -> b.yaml -> a.yaml" in str(info.value)


def test_missing_parent_is_named(tmp_path):
    path = write(tmp_path, "a.yaml", "extends: nowhere.yaml\nname: a\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value) and "extends" in str(info.value) and "nowhere.yaml" in str(info.value)


def test_typo_is_an_error_not_a_default(tmp_path):
    path = write(tmp_path, "typo.yaml", f"extends: {BASELINE}\nname: t\nservices:\n  acute:\n    bedz: 10\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"{path}: services.acute.bedz: unknown field" in str(info.value)


def test_value_error_names_field_and_the_file_that_set_it(tmp_path):
    parent = write(tmp_path, "parent.yaml", re.sub(r"(acute:\n +beds: )\d+", r"\g<1>-5", BASELINE.read_text()))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nname: c\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    message = str(info.value)
    assert "services.acute.beds" in message and "greater than or equal to 0" in message
    assert "parent.yaml" in message


def test_probabilities_must_sum_to_one(tmp_path):
    path = write(tmp_path, "p.yaml", f"extends: {BASELINE}\nname: p\ndischarge:\n  pathway_1: {{reablement: 0.5, home_care: 0.4}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "discharge.pathway_1: probabilities must sum to 1, they sum to 0.9" in str(info.value)


def test_with_changes_revalidates():
    scenario = load_scenario(BASELINE)
    assert scenario.with_changes({"services.acute.beds": 10}).services.acute.beds == 10
    with pytest.raises(ScenarioError):
        scenario.with_changes({"services.acute.beds": -1})
    with pytest.raises(ScenarioError):
        scenario.with_changes({"services.acute.bedz": 1})


def test_unlimited_capacity_spellings(tmp_path):
    path = write(tmp_path, "u.yaml", f"extends: {BASELINE}\nname: u\nservices:\n  acute:\n    beds: unlimited\n")
    assert load_scenario(path).services.acute.beds is None
