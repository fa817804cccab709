"""Routes as data: tables by group, trait and place, the scale lever, and draws keyed by decision."""

import pytest
from pathway_helpers import FUNDING, run, system

from sim.scenario.routes import Route, scaled


def _two_step(route: dict, extra_services: dict | None = None, **extra) -> dict:
    services = {
        "triage": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 0.1}, "then": "split"},
        "a": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}},
        "b": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}},
        **(extra_services or {}),
    }
    data = {
        "name": "routes",
        "run": {"horizon_days": 300, "warmup_days": 0, "seed": 5},
        "need_groups": {"young": {"share": 0.5, "traits": {"frail": 0.2}}, "old": {"share": 0.5, "traits": {"frail": 0.8}}},
        "funding": FUNDING,
        "services": services,
        "routes": {"split": route},
        "arrivals": {"triage": {"per_day": 40}},
    }
    data.update(extra)
    return data


def test_a_table_by_group_sends_each_group_its_own_way():
    k = run(_two_step({"by_group": {"young": {"a": 1.0, "b": 0.0}, "old": {"a": 0.0, "b": 1.0}}})).kpis
    total = k["route.split.a"] + k["route.split.b"]
    assert k["route.split.a"] / total == pytest.approx(0.5, abs=0.02)
    assert k["a.admissions"] == k["route.split.a"]


def test_a_table_by_trait_follows_who_has_it():
    k = run(_two_step({"by_trait": "frail", "if_true": {"b": 1}, "if_false": {"a": 1}})).kpis
    share_b = k["route.split.b"] / (k["route.split.a"] + k["route.split.b"])
    assert share_b == pytest.approx(0.5 * 0.2 + 0.5 * 0.8, abs=0.02)
    assert k["b.trait_share.frail"] == 1.0 and k["a.trait_share.frail"] == 0.0


def test_scale_raises_one_destination_capped_at_one_and_the_rest_shrink_in_proportion():
    assert scaled({"ucr": 0.365, "acute": 0.635}, {"ucr": 1.7}) == pytest.approx({"ucr": 0.6205, "acute": 0.3795})
    assert scaled({"ucr": 0.8, "acute": 0.2}, {"ucr": 2}) == {"ucr": 1.0, "acute": 0.0}
    route = Route.model_validate({"to": {"a": 0.2, "b": 0.3, "c": 0.5}, "scale": {"a": 2}})
    assert route.tables()[0][1] == pytest.approx({"a": 0.4, "b": 0.3 * 0.6 / 0.8, "c": 0.5 * 0.6 / 0.8})


def test_adding_a_route_and_a_service_changes_no_other_decision():
    """Common random numbers survive a new service: each decision reads its own stream."""
    base = _two_step({"to": {"a": 0.5, "b": 0.5}})
    more = _two_step(
        {"to": {"a": 0.5, "b": 0.5}},
        extra_services={"c": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}, "then": "after_c"}},
        arrivals={"triage": {"per_day": 40}, "c": {"per_day": 5}},
        routes={"split": {"to": {"a": 0.5, "b": 0.5}}, "after_c": {"to": {"home": 0.5, "died": 0.5}}},
    )
    one, two = run(base).kpis, run(more).kpis
    assert one["route.split.a"] == two["route.split.a"] and one["a.los_mean"] == two["a.los_mean"]
    assert two["c.admissions"] > 0


def test_by_place_gives_each_place_its_own_table():
    data = _two_step(
        {"by_place": {"north": {"a": 1}, "south": {"b": 1}}},
        places={"north": {"arrivals": {"triage": {"per_day": 30}}}, "south": {"arrivals": {"triage": {"per_day": 10}}}},
    )
    del data["arrivals"]
    k = run(data).kpis
    assert k["place.north.route.split.a"] == k["route.split.a"] > 0
    assert k["place.south.route.split.b"] == k["route.split.b"] > 0
    assert k["place.north.route.split.b"] == 0


@pytest.mark.parametrize("change, message", [
    ({"services": {"a": {"kind": "bedz"}}}, "'kind' must be one of beds, caseload"),
    ({"routes": {"split": {"to": {"a": 0.5, "nowhere": 0.5}}}}, "'nowhere' is not a service, a route or an end"),
    ({"routes": {"split": {"to": {"a": 0.5, "b": 0.4}}}}, "must sum to 1, they sum to 0.9"),
    ({"routes": {"split": {"to": {"a": 0.5, "b": 0.49999}}}}, "they sum to 0.99999"),
    ({"routes": {"split": {"to": {"a": 1.0}}}}, "services.b: nobody can reach it"),
    ({"routes": {"split": {"to": {"a": 1.0}}, "loop": {"to": {"b": 1}}},
      "services": {"b": {"kind": "unlimited", "los_days": {"dist": "fixed", "value": 1}, "then": "loop"}},
      "arrivals": {"triage": {"per_day": 4}, "b": {"per_day": 1}}}, "no way out from b, loop"),
    ({"routes": {"split": {"by_group": {"young": {"a": 1}}}}}, "by_group: no table for old"),
    ({"routes": {"split": {"by_trait": "fit", "if_true": {"a": 1}, "if_false": {"b": 1}}}}, "'fit' is not a trait"),
    ({"places": {"n": {"demand_share": 0.5}, "s": {"demand_share": 0.4}}}, "demand shares must sum to 1"),
])
def test_a_system_that_does_not_hang_together_is_refused_with_the_field(change, message):
    from sim.scenario.errors import ScenarioError

    data = _two_step({"to": {"a": 0.5, "b": 0.5}})
    for key, value in change.items():
        if isinstance(value, dict) and key in ("services", "routes"):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    with pytest.raises(ScenarioError) as caught:
        system(data, "mine.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("mine.yaml: ")


def test_the_order_tables_are_written_in_does_not_change_any_draw():
    """A copy of the scenario with its keys in another order (as sent to a worker) gives the same people."""
    forward = _two_step({"to": {"a": 0.3, "b": 0.7}})
    backward = _two_step({"to": {"b": 0.7, "a": 0.3}})
    backward["need_groups"] = dict(reversed(list(backward["need_groups"].items())))
    assert run(forward).kpis == run(backward).kpis


def test_a_destination_turned_down_to_nothing_is_a_what_if_not_a_mistake():
    k = run(_two_step({"to": {"a": 1.0, "b": 0.0}})).kpis
    assert k["b.admissions"] == 0 and k["route.split.a"] > 0


def test_a_child_writes_a_route_table_whole(tmp_path):
    import yaml
    from pathway_helpers import load

    from sim.scenario.errors import ScenarioError

    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(_two_step({"to": {"a": 0.5, "b": 0.5}})))
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: child\nroutes:\n  split: {to: {a: 1.0}}\n")
    # merged key by key, the parent's b would still be in the table; written whole, b is reached by nobody
    with pytest.raises(ScenarioError, match="services.b: nobody can reach it"):
        load(tmp_path / "child.yaml")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: child\nroutes:\n  split: {to: {b: 1.0, a: 0}}\n")
    assert load(tmp_path / "child.yaml").routes["split"].to == {"b": 1.0, "a": 0}
