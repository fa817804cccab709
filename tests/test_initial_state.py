"""Starting from a given state: validation, length-biased remaining stays, no transient from the steady state."""

from __future__ import annotations

import numpy as np
import pytest

from sim.measure.collect import collect, run_replication
from sim.pathway import expected_flows
from sim.pathway.initial_state import _groups, length_biased_z
from sim.pathway.model import Model
from sim.random.distributions import Empirical, Exponential, Fixed, Gamma, Lognormal, Sampler
from sim.scenario import ScenarioError, load_scenario
from sim.mser import SETTLED, mser, suggest
from sim.warmup import run_census
from pathway_helpers import FUNDING, system
from support import BASELINE, UNLIMITED, baseline, single_queue, small_system

# --- validation -------------------------------------------------------------------------------------


def problems(state: dict, **changes) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as caught:
        baseline().with_changes({**changes, "initial_state": state})
    return caught.value.problems


def test_a_valid_state_is_kept():
    scenario = baseline().with_changes({"initial_state": {"acute": {"occupied": 1000}, "home_care": {"occupied": 7000}}})
    assert scenario.initial_state["acute"].occupied == 1000
    assert scenario.initial_state["acute"].waiting == 0
    # The baseline starts with people already in long-term care (scenarios/baseline.yaml), no one else.
    assert set(baseline().active_initial_state()) == {"residential_care", "nursing_care", "home_care"}


@pytest.mark.parametrize("state, field, words", [
    ({"acutee": {"occupied": 1}}, "initial_state.acutee", "'acutee' is not a service"),
    ({"urgent_response": {"occupied": 1}}, "initial_state.urgent_response.occupied", "last hours"),
    ({"acute": {"occupied": -1}}, "initial_state.acute.occupied", "greater than or equal to 0"),
    ({"acute": {"occupied": 2.5}}, "initial_state.acute.occupied", ""),
    ({"acute": {"beds_occupied": 3}}, "initial_state.acute.beds_occupied", "unknown field"),
])
def test_an_impossible_state_names_the_field(state, field, words):
    found = problems(state)
    assert [f for f, _ in found] == [field]
    assert words in found[0][1]


def test_every_problem_is_reported_at_once():
    found = problems({"acutee": {"occupied": 1}, "urgent_response": {"occupied": 1}})
    assert {f for f, _ in found} == {"initial_state.acutee", "initial_state.urgent_response.occupied"}


def test_a_state_as_found_is_allowed_more_people_than_places_and_people_waiting_by_free_places():
    # Both are real at the start of a day: the service drains, and free places serve the waiting at once.
    scenario = small_system(**{"run.warmup_days": 0, "run.horizon_days": 30, "initial_state": {
        "acute": {"occupied": 200}, "reablement": {"occupied": 10, "waiting": 5}, "home_care": {"waiting": 2}}})
    result = run_replication(scenario)
    acute = result.daily[result.daily["service"] == "acute"].set_index("day")
    assert acute.loc[0, "occupancy"] == 200 > acute.loc[0, "capacity"] == 160
    assert acute["occupancy"].is_monotonic_decreasing or acute["occupancy"].iloc[-1] <= 160
    reablement = result.daily[result.daily["service"] == "reablement"].set_index("day")
    assert reablement.loc[0, "occupancy"] >= 15 and reablement.loc[0, "queue"] == 0


def test_a_file_with_a_bad_state_names_the_file(tmp_path):
    path = tmp_path / "today.yaml"
    path.write_text(f"extends: {BASELINE}\nname: today\ninitial_state:\n  acute: {{occupied: -5}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: initial_state.acute.occupied: ")


# --- remaining stays -----------------------------------------------------------------------------------

# A fine grid of uniforms gives the expectation of a draw almost exactly (no sampling noise).
GRID = (np.arange(50_000) + 0.5) / 50_000


@pytest.mark.parametrize("spec, biased_mean", [
    (Exponential(dist="exponential", mean=8.0), 2 * 8.0),
    (Lognormal(dist="lognormal", mean=8.0, sd=10.0), (10.0**2 + 8.0**2) / 8.0),
    (Lognormal(dist="lognormal", median=30.0, mean=36.0), 36.0 * (36.0 / 30.0) ** 2),  # mean * exp(sigma^2)
    (Gamma(dist="gamma", mean=8.0, sd=4.0), (4.0**2 + 8.0**2) / 8.0),
    (Empirical(dist="empirical", values=[2.0, 10.0], weights=[3.0, 1.0]), ((3 * 4 + 100) / 4) / ((3 * 2 + 10) / 4)),
    (Fixed(dist="fixed", value=6.0), 6.0),
], ids=lambda p: getattr(p, "dist", ""))
def test_full_stays_found_in_service_are_length_biased(spec, biased_mean):
    # A stay found under way is drawn from the length-biased distribution, mean E[S^2] / E[S]; the
    # remaining stay, a uniform fraction of it, then has the renewal-theory mean E[S^2] / (2 E[S]).
    sampler = Sampler(spec)
    full = np.array([sampler.from_z(length_biased_z(spec, u)) for u in GRID])
    assert full.mean() == pytest.approx(biased_mean, rel=0.005)


def _mix(model: Model, service: str) -> dict[str, float]:
    """The need-group mix of the people found in a service at the start."""
    table, below, mix = _groups(model, model.units[service][model.places[0]]), 0.0, {}
    for group, cumulative in table:
        mix[group], below = cumulative - below, cumulative
    return mix


def test_group_mix_follows_entries_and_length_of_stay():
    scenario = baseline()
    model = Model(scenario)
    groups = scenario.need_groups
    # Nearly every crisis reaches an acute bed (UCR keeps about one in fourteen at home), so the
    # mix found there is close to the crisis mix weighted by stay.
    weights = {g: groups[g].share * groups[g].los_multiplier for g in groups}
    assert _mix(model, "acute") == pytest.approx({g: w / sum(weights.values()) for g, w in weights.items()}, abs=0.02)
    # Long-term placements take no need group's multiplier: their mix is the mix that reaches them.
    reaching = expected_flows.visits(model)["system"]
    total = sum(reaching[g]["residential_care"] for g in groups)
    assert _mix(model, "residential_care") == pytest.approx({g: reaching[g]["residential_care"] / total for g in groups})


def test_the_group_mix_found_in_a_service_follows_who_is_routed_there():
    model = Model(baseline())
    # Severe frailty is far likelier to be discharged to a bed (P2).
    assert _mix(model, "community_beds")["severe"] > _mix(model, "acute")["severe"]


def _split_by_group_and_trait(**changes):
    """Triage sends each group its own way (a by group, b by trait): the mix found in each is known exactly."""
    data = {
        "name": "mix",
        "run": {"horizon_days": 10, "warmup_days": 0, "seed": 3},
        "need_groups": {"young": {"share": 0.6, "los_multiplier": 1.0, "traits": {"frail": 0.25}},
                        "old": {"share": 0.4, "los_multiplier": 2.0, "traits": {"frail": 0.75}}},
        "funding": FUNDING,
        "services": {
            "triage": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 0.1}, "then": "split"},
            "a": {"kind": "beds", "capacity": 50, "los_days": {"dist": "exponential", "mean": 5}},
            "b": {"kind": "beds", "capacity": 50, "los_days": {"dist": "exponential", "mean": 5}, "then": "back"},
        },
        "routes": {
            "split": {"by_group": {"young": {"a": 0.8, "b": 0.2},
                                   "old": {"by_trait": "frail", "if_true": {"b": 1.0}, "if_false": {"a": 1.0}}}},
            "back": {"to": {"a": 0.5, "home": 0.5}},  # half of b's people go on to a: counted in a's mix too
        },
        "arrivals": {"triage": {"per_day": 20}},
        **changes,
    }
    return Model(system(data))


def test_the_group_mix_found_in_a_service_is_the_routes_mix_weighted_by_stay():
    model = _split_by_group_and_trait()
    # a day, of 20: young 12 -> a 9.6, b 2.4; old 8 -> b 6 (frail, 3 in 4), a 2; then half of b goes on to a
    young_a, old_a = 12 * 0.8 + 12 * 0.2 * 0.5, 8 * 0.25 + 8 * 0.75 * 0.5
    young_b, old_b = 12 * 0.2, 8 * 0.75
    # found in a service: arrivals times mean stay (old stay twice as long)
    assert _mix(model, "a")["young"] == pytest.approx(young_a / (young_a + 2 * old_a))
    assert _mix(model, "b")["young"] == pytest.approx(young_b / (young_b + 2 * old_b))
    assert _mix(model, "triage")["young"] == pytest.approx(0.6 * 1 / (0.6 * 1 + 0.4 * 2))


def test_each_place_finds_the_mix_its_own_people_and_routes_send():
    places = {"north": {"arrivals": {"triage": {"per_day": 30}}, "need_groups": {"young": 1.0, "old": 0.0}},
              "south": {"arrivals": {"triage": {"per_day": 10}}, "need_groups": {"young": 0.0, "old": 1.0}}}
    model = _split_by_group_and_trait(arrivals={}, places=places)
    north, south = model.units["b"]["north"], model.units["b"]["south"]
    assert _groups(model, north)[0] == ("old", 0.0)    # only the young live in the north
    assert _groups(model, south)[0] == ("old", 1.0)    # only the old in the south


def _draining(los: dict, occupied: int, waiting: int = 0, horizon: int = 3000, **changes):
    """No new crises: only the people present at the start, in acute beds, then home."""
    return single_queue(1.0, 8.0, None).with_changes({
        "demand.crises_per_year": 0.0, "services.acute.los_days": los, "run.warmup_days": 0,
        "run.horizon_days": horizon, "initial_state": {"acute": {"occupied": occupied, "waiting": waiting}}, **changes,
    })


@pytest.mark.parametrize("los, mean_remaining", [
    ({"dist": "exponential", "mean": 8.0}, 8.0),
    ({"dist": "lognormal", "mean": 8.0, "sd": 10.0}, (100 + 64) / 16),
])
def test_people_present_at_the_start_have_the_mean_remaining_stay_of_a_renewal_process(los, mean_remaining):
    people = 20_000
    model = Model(_draining(los, people)).run()
    kpis = collect(model).kpis
    assert kpis["conservation.entered"] == people
    acute = model.units["acute"]["system"]
    assert acute.slots.in_use == 0  # everyone has left
    remaining = kpis["acute.occupancy_mean"] * model.scenario.run.horizon_days / people
    assert remaining == pytest.approx(mean_remaining, rel=0.04)
    assert kpis["acute.admissions"] == 0  # already admitted before the run: not counted again
    full = acute.stays
    assert len(full) == people and min(full) > 0
    assert np.mean(full) == pytest.approx(2 * mean_remaining, rel=0.04)  # full stays, length-biased


def test_people_waiting_at_the_start_are_admitted_in_order_as_places_free():
    scenario = _draining({"dist": "exponential", "mean": 8.0}, 50, 10, horizon=300, **{"services.acute.capacity": 50})
    result = run_replication(scenario)
    acute = result.daily[result.daily["service"] == "acute"].set_index("day")
    assert acute.loc[0, "occupancy"] == 50 and acute.loc[0, "queue"] == 10
    assert result.kpis["acute.admissions"] == 10
    assert result.kpis["conservation.entered"] == 60
    assert acute["queue"].iloc[-1] == 0 and acute["occupancy"].iloc[-1] == 0


def test_long_term_residents_at_the_start_are_not_new_placements():
    scenario = small_system(**UNLIMITED, **{"run.warmup_days": 0, "run.horizon_days": 60})
    scenario = scenario.with_changes({"initial_state": {"residential_care": {"occupied": 2000}}})
    result = run_replication(scenario)
    empty = run_replication(scenario.with_changes({"initial_state": {}}))
    home = result.daily[result.daily["service"] == "residential_care"].set_index("day")["occupancy"]
    home_empty = empty.daily[empty.daily["service"] == "residential_care"].set_index("day")["occupancy"]
    assert home.loc[0] == 2000
    # New placements, and so committed costs, are the same as from an empty start.
    assert result.kpis["residential_care.admissions"] == empty.kpis["residential_care.admissions"]
    assert result.kpis["cost.total"] == pytest.approx(empty.kpis["cost.total"])
    # Residents found there stay on for years (mean remaining ~1,000 days): few leave in 60 days.
    left = 2000 - (home.iloc[-1] - home_empty.iloc[-1])
    assert 0 < left < 2000 * 60 / 500


def test_people_present_at_the_start_shift_no_draw_of_the_crises():
    scenario = small_system(**UNLIMITED, **{"run.warmup_days": 0, "run.horizon_days": 60})
    started = scenario.with_changes({"initial_state": {"acute": {"occupied": 150}, "reablement": {"occupied": 40}}})
    scenario = scenario.with_changes({"initial_state": {}})
    empty, full = run_replication(scenario), run_replication(started)
    for kpi in ("crises", "ucr.referrals", "ucr.admissions_avoided"):
        assert full.kpis[kpi] == empty.kpis[kpi]
    assert full.kpis["conservation.entered"] == empty.kpis["conservation.entered"] + 190
    again = run_replication(started)
    assert again.kpis == full.kpis


# --- steady state: no transient -------------------------------------------------------------------------

ARRIVALS, MEAN_STAY = 30.0, 8.0
STEADY = ARRIVALS * MEAN_STAY  # M/G/infinity: mean occupancy = arrivals x mean stay


def _acute_series(scenario, replications: int = 4):
    daily = run_census(scenario, replications)
    return daily, daily[daily["service"] == "acute"].groupby("day")["occupancy"].mean()


def test_a_start_from_the_steady_state_has_no_initial_transient():
    # Heavy-tailed stays and need groups with different lengths of stay: both must be length-biased.
    changes = {"services.acute.los_days": {"dist": "lognormal", "mean": MEAN_STAY, "sd": 10.0},
               "run.warmup_days": 0, "run.horizon_days": 150}
    for group, multiplier in {"mild": 0.7, "moderate": 1.1, "severe": 1.5}.items():
        changes[f"need_groups.{group}.los_multiplier"] = multiplier
    empty = single_queue(ARRIVALS, MEAN_STAY, None, **changes)
    assert sum(g.share * g.los_multiplier for g in empty.need_groups.values()) == pytest.approx(1.0)
    steady = empty.with_changes({"initial_state": {"acute": {"occupied": int(STEADY)}}})

    # Eight replications: MSER-5 on a stationary series still cuts where noise happens to stray (up to
    # 50 days in tests/test_warmup.py); the mean of more replications strays less.
    daily, from_steady = _acute_series(steady, 8)
    _, from_empty = _acute_series(empty, 8)
    assert from_steady.iloc[:28].mean() == pytest.approx(STEADY, rel=0.04)
    assert from_steady.iloc[:150].mean() == pytest.approx(STEADY, rel=0.04)
    assert from_empty.iloc[:28].mean() < 0.8 * STEADY
    cut_steady, cut_empty = mser(from_steady.to_numpy()), mser(from_empty.to_numpy())
    assert cut_steady.status == SETTLED and cut_steady.days <= 10
    assert cut_empty.days >= 20
    assert suggest(daily).days <= 10


def test_the_documented_example_is_a_valid_scenario(tmp_path):
    text = (BASELINE.parent.parent / "docs" / "warm-up.md").read_text()
    example = text.split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "full-care-homes.yaml"
    path.write_text(example.replace("extends: baseline.yaml", f"extends: {BASELINE}"))
    scenario = load_scenario(path).with_changes({"run.horizon_days": 5})
    result = run_replication(scenario)
    nursing = result.daily[(result.daily["service"] == "nursing_care") & (result.daily["day"] == 0)]
    assert nursing["occupancy"].item() == 1900 and nursing["queue"].item() == 30
