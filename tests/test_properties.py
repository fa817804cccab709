"""Property-based: any small mutation of a valid scenario loads, or is refused with a message naming the field.

Hypothesis picks a field of the resolved baseline and a mutation (delete the
key, misspell it, change its type, negate it, push a probability out of
range). Whatever it picks, `load_scenario` either accepts the file or raises
ScenarioError, never anything else; a refusal names the file and a field on
the mutated path; and mutations that cannot be valid are always refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.scenario import Scenario, ScenarioError, load_scenario
from support import BASELINE

BASE = load_scenario(BASELINE).resolved


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in [path + (k,), *_leaves(v, path + (k,))]]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, path + (i,))]
    return []


PATHS = sorted(_leaves(BASE), key=lambda p: tuple(map(str, p)))


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _unwrap(annotation: Any, value: Any) -> tuple[Any, list]:
    """The type under Annotated, Optional and tagged unions (the member the value's kind or dist names), and its bounds."""
    bounds: list = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            bounds += [m for extra in args[1:] for m in getattr(extra, "metadata", [])]
            annotation = args[0]
        elif origin in (Union, UnionType):
            members = [m for m in get_args(annotation) if m is not NoneType]
            tagged = [m for m in members if _tag_of(m) and isinstance(value, dict)
                      and value.get(_tag_of(m)[0]) in _tag_of(m)[1]]
            if len(tagged) != 1 and len(members) != 1:
                return annotation, bounds
            annotation = tagged[0] if len(tagged) == 1 else members[0]
        else:
            return annotation, bounds


def _tag_of(member: Any) -> tuple[str, tuple] | None:
    while get_origin(member) is Annotated:
        member = get_args(member)[0]
    fields = getattr(member, "model_fields", {})
    tag = next((t for t in ("kind", "dist") if t in fields), None)
    return (tag, get_args(fields[tag].annotation)) if tag else None


def _field_info(path: tuple) -> tuple[bool, list] | None:
    """Whether the schema defines the key a data path ends on (not a name the user chose), and the value's
    bounds; None where the schema says nothing (a free-form list item)."""
    holder: Any = Scenario
    data: Any = BASE
    defined, bounds = False, []
    for part in path:
        holder, _ = _unwrap(holder, data)
        if isinstance(holder, type) and issubclass(holder, BaseModel):
            name = next((n for n, f in holder.model_fields.items() if part in (n, f.alias)), None)
            if name is None:
                return None
            info = holder.model_fields[name]
            holder, defined, bounds = info.annotation, True, list(info.metadata)
        elif get_origin(holder) in (dict, list):
            holder, defined, bounds = get_args(holder)[-1], False, []
        else:
            return None
        data = data[part]
    holder, more = _unwrap(holder, data)
    return defined, bounds + more


def _is_probability(path: tuple) -> bool:
    """A share or probability from 0 to 1: by its bounds, or as an entry of a route's table."""
    if path[0] == "routes" and len(path) > 2 and path[-2] == "to":
        return True
    found = _field_info(path)
    bounds = {type(m).__name__: m for m in (found[1] if found else [])}
    return "Le" in bounds and bounds["Le"].le == 1 and "Ge" in bounds


def _is_model_key(path: tuple) -> bool:
    """A key the schema defines (misspelling it must be refused), not a name the user chose."""
    found = _field_info(path)
    return isinstance(path[-1], str) and found is not None and found[0]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


MUTATIONS = ("delete", "misspell", "to_text", "to_list", "negate", "probability_out_of_range")


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(MUTATIONS))
    candidates = {
        "delete": [p for p in PATHS if isinstance(p[-1], str)],
        "misspell": [p for p in PATHS if _is_model_key(p)],
        "to_text": [p for p in PATHS if _is_number(_get(BASE, p))],
        "to_list": [p for p in PATHS if _is_model_key(p) and isinstance(_get(BASE, p), dict) and _get(BASE, p)],
        "negate": [p for p in PATHS if _is_number(_get(BASE, p)) and _get(BASE, p) != 0],
        "probability_out_of_range": [p for p in PATHS if _is_probability(p)],
    }[kind]
    path = draw(st.sampled_from(candidates))
    extra = draw(st.sampled_from(["x", "s", "_", "2"]))
    wild = draw(st.sampled_from([1.0001, 1.5, 2.0, -0.01, -1.0, math.inf]))
    return kind, path, extra, wild


def _mutate(kind: str, path: tuple, extra: str, wild: float) -> tuple[dict, tuple, bool]:
    """The mutated data, the path the message should name, and whether it can never be valid."""
    data = yaml.safe_load(yaml.dump(BASE, Dumper=yaml.CSafeDumper))  # a deep copy
    parent, key = _get(data, path[:-1]), path[-1]
    if kind == "delete":
        del parent[key]
        return data, path, False   # optional fields have defaults
    if kind == "misspell":
        parent[key + extra] = parent.pop(key)
        return data, path[:-1] + (key + extra,), True
    if kind == "to_text":
        parent[key] = "lots"
        return data, path, True
    if kind == "to_list":
        parent[key] = [1, 2, 3]
        return data, path, True
    if kind == "negate":
        parent[key] = -parent[key]
        return data, path, False   # a few numbers (a capacity change's 'add') may be negative
    parent[key] = wild
    return data, path, True


def _names_path(message: str, file: Path, path: tuple) -> bool:
    dotted = [".".join(map(str, path[:n])) for n in range(len(path), 0, -1)]
    lines = message.splitlines()
    return all(line.startswith(str(file)) or file.name in line for line in lines) and any(
        f": {d}" in line for d in dotted for line in lines
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations())
def test_a_mutated_scenario_loads_or_is_refused_naming_the_field(tmp_path_factory, reliability_tally, case):
    kind, path, extra, wild = case
    data, named, always_invalid = _mutate(kind, path, extra, wild)
    file = tmp_path_factory.mktemp("mutant") / "mutant.yaml"
    file.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False))
    try:
        load_scenario(file)
    except ScenarioError as error:
        reliability_tally["bad inputs tried"] += 1
        # A deleted service or route is no field any more: the problem is named where it is still used.
        quoted = kind == "delete" and named[0] in ("services", "routes") and len(named) == 2 and \
            f"'{named[1]}' is not a service, a route or an end" in str(error)
        # A deleted section or entry that sources cite is named where it is cited.
        quoted = quoted or (kind == "delete" and f"sources: '{'.'.join(map(str, named))}." in str(error))
        assert quoted or _names_path(str(error), file, named), f"{kind} {named}: {error}"
        assert "Traceback" not in str(error)
        return
    assert not always_invalid, f"{kind} at {'.'.join(map(str, named))} was accepted"


def test_the_strategies_reach_every_kind_of_field():
    """The mutations are drawn from enough of the schema to mean something."""
    assert len(PATHS) > 150
    assert sum(_is_probability(p) for p in PATHS) > 40
    assert sum(_is_model_key(p) for p in PATHS) > 100


@pytest.mark.parametrize("path", [("services", "acute", "capacity"), ("run", "horizon_days"),
                                  ("services", "acute", "costs", 0, "gbp"), ("routes", "P1", "to", "reablement")])
def test_negating_a_count_or_a_price_is_refused(tmp_path, path):
    data, named, _ = _mutate("negate", path, "", 0.0)
    file = tmp_path / "negative.yaml"
    file.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert _names_path(str(caught.value), file, named)


# --- fuzzing: arbitrary bytes and arbitrary structures never crash the loader ---------------------------

SCHEMA_KEYS = sorted({str(p[-1]) for p in PATHS if isinstance(p[-1], str)})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["unlimited", "lognormal", "fixed", "2019-04-01", "-1", ".inf"]),
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(SCHEMA_KEYS) | st.text(min_size=1, max_size=8), inner, max_size=5),
    max_leaves=25,
)


def _refused_clearly(file: Path, reliability_tally) -> None:
    try:
        load_scenario(file)
    except ScenarioError as error:
        reliability_tally["bad inputs tried"] += 1
        assert all(file.name in line for line in str(error).splitlines()), str(error)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_or_loaded_never_crash(tmp_path_factory, reliability_tally, data):
    file = tmp_path_factory.mktemp("bytes") / "noise.yaml"
    file.write_bytes(data)
    _refused_clearly(file, reliability_tally)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(SCHEMA_KEYS), STRUCTURES, max_size=4))
def test_arbitrary_structures_over_the_baseline_are_refused_or_loaded_never_crash(
    tmp_path_factory, reliability_tally, overlay
):
    """Any keys from the schema (and junk), at any depth, with any values, through `extends:`."""
    file = tmp_path_factory.mktemp("overlay") / "overlay.yaml"
    file.write_text(yaml.dump({"extends": str(BASELINE), **{k: v for k, v in overlay.items() if k != "extends"}},
                              Dumper=yaml.CSafeDumper))
    _refused_clearly(file, reliability_tally)
