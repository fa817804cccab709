"""Loading scenarios: extends:, overrides, and readable errors naming file and field."""

import math
import re
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario
from support import BASELINE, ROOT


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_baseline_loads_and_every_source_names_a_field():
    scenario = load_scenario(BASELINE)
    assert scenario.services["acute"].capacity == 1420
    assert scenario.services["acute"].kind == "beds"  # from the library the baseline extends
    assert scenario.sources, "the baseline cites its sources"


def test_extends_overrides_only_what_changes(tmp_path):
    child = write(tmp_path, "child.yaml", f"""
extends: {BASELINE}
name: more UCR
routes:
  crisis:
    scale: {{urgent_response: 1.7}}
services:
  urgent_response:
    capacity: 30
""")
    base, scenario = load_scenario(BASELINE), load_scenario(child)
    assert scenario.routes["crisis"].scale == {"urgent_response": 1.7}
    assert scenario.services["urgent_response"].capacity == 30
    # What the child does not name is the parent's: the crisis tables, the rest of the service, other services.
    assert scenario.routes["crisis"].if_true == base.routes["crisis"].if_true
    assert scenario.services["urgent_response"].give_up_hours == base.services["urgent_response"].give_up_hours
    assert scenario.services["acute"] == base.services["acute"]
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
    path = write(tmp_path, "typo.yaml", f"extends: {BASELINE}\nname: t\nservices:\n  acute:\n    capacty: 10\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    # The field as written in the file (no 'beds' kind tag in the path), and the likely meaning.
    assert f"{path}: services.acute.capacty: unknown field 'capacty'; did you mean 'capacity'?" in str(info.value)


def test_value_error_names_field_and_the_file_that_set_it(tmp_path):
    text = BASELINE.read_text().replace("extends: library/", f"extends: {BASELINE.parent}/library/")
    parent = write(tmp_path, "parent.yaml", re.sub(r"(acute:\n +capacity: )\d+", r"\g<1>-5", text))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nname: c\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    message = str(info.value)
    assert "services.acute.capacity: Input should be greater than or equal to 0 (got -5)" in message
    assert "(value set in parent.yaml)" in message


def test_probabilities_must_sum_to_one(tmp_path):
    path = write(tmp_path, "p.yaml", f"extends: {BASELINE}\nname: p\nroutes:\n  P1: {{to: {{reablement: 0.5, home_care_decision: 0.4}}}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "routes.P1.to: probabilities must sum to 1, they sum to 0.9" in str(info.value)


def test_with_changes_revalidates():
    scenario = load_scenario(BASELINE)
    assert scenario.with_changes({"services.acute.capacity": 10}).services["acute"].capacity == 10
    with pytest.raises(ScenarioError, match=r"services.acute.capacity: Input should be greater than or equal to 0"):
        scenario.with_changes({"services.acute.capacity": -1})
    with pytest.raises(ScenarioError, match=r"services.acute.capacty: unknown field"):
        scenario.with_changes({"services.acute.capacty": 1})


def test_unlimited_capacity_spellings(tmp_path):
    for spelling in ("unlimited", "inf", ".inf", "null"):
        path = write(tmp_path, "u.yaml", f"extends: {BASELINE}\nname: u\nservices:\n  acute:\n    capacity: {spelling}\n")
        assert load_scenario(path).services["acute"].capacity is None, spelling


# --- values valid alone that a run could not use ---------------------------------------------------------

def test_a_daily_arrival_series_must_cover_the_whole_run():
    """One expected number a day, warm-up first: a shorter series is one for another run (refused, both lengths
    named); a longer one is fine, so a shorter --horizon still runs."""
    scenario = load_scenario(BASELINE).with_changes({"run.warmup_days": 10, "run.horizon_days": 30})
    with pytest.raises(ScenarioError) as info:
        scenario.with_changes({"arrivals.reablement": {"daily": [3.0] * 39}})
    assert "arrivals.reablement.daily: 39 values, but the run simulates 40 days (10 of warm-up and 30 measured)" \
        in str(info.value)
    assert scenario.with_changes({"arrivals.reablement": {"daily": [3.0] * 40}}).arrivals["reablement"].mean_on(39) == 3
    assert scenario.with_changes({"arrivals.reablement": {"daily": [3.0] * 400}}).arrivals["reablement"].daily[-1] == 3


def test_a_place_s_daily_series_is_checked_too():
    scenario = load_scenario(ROOT / "scenarios" / "places" / "mse-places.yaml")
    place = next(iter(scenario.places))
    days = scenario.run.warmup_days + scenario.run.horizon_days
    with pytest.raises(ScenarioError, match=rf"places.{place}.arrivals.reablement.daily: 5 values, but the run simulates {days} days"):
        scenario.with_changes({f"places.{place}.arrivals.reablement": {"daily": [1.0] * 5}})


@pytest.mark.parametrize("field, value, fragment", [
    # A stay of 1e300 days is a valid number, but need-group and place multipliers (up to 100 each) overflow it.
    ("services.acute.los_days", {"dist": "fixed", "value": 1e300}, "a mean stay of 1e+300 days is more than a century"),
    ("services.home_care.duration_days", {"dist": "exponential", "mean": 40_000}, "more than a century (36,500 days)"),
    ("services.acute.discharge_process.days", {"dist": "fixed", "value": 1e200}, "more than a century"),
    # A surge after 2200 lies past any run, and its end plus a day is past the last date Python has (9999-12-31).
    ("demand.surges", [{"name": "far", "start": "9999-12-30", "end": "9999-12-31", "multiplier": 2}],
     "dates after 2200 are out of reach of any run"),
    ("sources", {"services.acute.bedz": "a citation of a typo"}, "'services.acute.bedz' is not a field of the scenario"),
    ("services.acute", 1440, "must be a mapping of fields (name: value lines), not int 1440"),
])
def test_values_valid_alone_that_no_run_can_use_are_refused(field, value, fragment):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE).with_changes({field: value})
    assert f": {field.split('.')[0]}" in str(info.value) and fragment in str(info.value), str(info.value)


def test_a_century_is_allowed_and_a_place_s_own_stay_is_bounded_too():
    scenario = load_scenario(ROOT / "scenarios" / "places" / "mse-places.yaml")
    century = {"dist": "fixed", "value": 36_500}
    assert scenario.with_changes({"services.residential_care.duration_days": century}) is not None
    place = next(iter(scenario.places))
    with pytest.raises(ScenarioError, match=rf"places.{place}.services.acute.los_days: a mean stay of 40000 days"):
        scenario.with_changes({f"places.{place}.services.acute": {"los_days": {"dist": "fixed", "value": 40_000}}})


def test_a_cycle_with_no_way_out_blames_a_route_and_names_everyone_trapped():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE).with_changes({
            "services.community_beds.then": "review",
            "routes.review": {"to": {"community_beds": 0.7, "next_review": 0.3}},
            "routes.next_review": {"to": {"review": 1}},
        })
    assert ("routes.next_review: no way out from community_beds, next_review, review: their routes only lead back"
            " among themselves, never to home, died, left") in str(info.value)


def test_a_system_nobody_enters_blames_its_demand():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE).with_changes({"demand.crises_per_year": 0, "initial_state": {}})
    assert "baseline.yaml: demand.crises_per_year: nobody enters the system: give demand.crises_per_year, arrivals" \
        in str(info.value)


def test_the_largest_values_allowed_together_give_finite_results():
    """Multipliers at their bound (100) times stays at theirs (a century's mean, any spread), the dearest price
    and a large package: every figure of a run stays a number (only an unlimited capacity is infinite)."""
    from pathway_helpers import one_queue, run

    century = {"dist": "lognormal", "mean": 36_500, "sd": 1e12}
    data = one_queue(5, 3.0, 1.0, days=30, warmup=0)
    data["need_groups"] = {"all": {"share": 1.0, "los_multiplier": 100}}
    data["services"]["ward"].update(then="onward", group_multiplier=False,  # one-day stays, so people move on
                                    costs=[{"gbp": 1e9, "per": "day", "payer": "nhs"}])
    data["services"]["care"] = {
        "kind": "long_term", "duration_days": century, "group_multiplier": True,
        "hours_per_week": {"dist": "lognormal", "mean": 1e6, "sd": 1e12},
        "costs": [{"gbp": 1e9, "per": "hour", "payer": "means_tested", "self_funder_gbp": 1e9}],
    }
    data["routes"] = {"onward": {"to": {"care": 1}, "hours_multiplier": 100}}
    data["arrivals"] = {"ward": {"per_day": 3}, "care": {"per_day": 500}}
    k = run(data).kpis
    assert k["cost.total"] > 1e18 and k["care.placements"] > 10_000 and k["route.onward.care"] > 50
    assert [name for name, value in k.items() if math.isinf(value) and name != "care.capacity"] == []
    assert not any(math.isnan(k[name]) for name in ("cost.total", "care.committed_hours", "ward.occupancy_mean"))
