"""Reading scenario files safely, and `extends:`: a child file changes only what differs from its parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import MAX_FILE_BYTES, MAX_NODES, Scenario, validate


class _NoDuplicatesLoader(yaml.SafeLoader):
    """Safe loading only (no Python objects), and a repeated key is an error, not a silent overwrite."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_NoDuplicatesLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _count_nodes(node: yaml.Node, budget: list[int]) -> None:
    # Aliases are counted each time they are used, so a "billion laughs" file is
    # refused before anything is built from it.
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("too many nodes")
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _count_nodes(child, budget)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _count_nodes(key, budget)
            _count_nodes(value, budget)


def read_yaml(path: Path) -> dict:
    """Parse one YAML file safely into a mapping, or raise ScenarioError."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ScenarioError(path, [("", "file not found")]) from None
    except OSError as exc:
        raise ScenarioError(path, [("", f"cannot read the file ({exc.strerror})")]) from None
    if path.is_dir():
        raise ScenarioError(path, [("", "is a folder, not a scenario file")])
    if size > MAX_FILE_BYTES:
        raise ScenarioError(path, [("", f"file is {size:,} bytes; a scenario may be at most {MAX_FILE_BYTES:,}")])
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ScenarioError(path, [("", "not a text file (it contains NUL bytes)")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, [("", f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        loader = _NoDuplicatesLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioError(path, [("", "the file is empty")])
            try:
                _count_nodes(node, [MAX_NODES])
            except (ValueError, RecursionError):
                raise ScenarioError(
                    path, [("", f"the document expands to more than {MAX_NODES:,} values (alias bomb?)")]
                ) from None
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "could not determine a constructor" in problem:
            problem = "tags that build objects are not allowed (" + problem + ")"
        raise ScenarioError(path, [("", f"invalid YAML at {where}{problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, [("", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError(path, [("", "invalid YAML: lists or mappings are nested too deeply")]) from None
    except ValueError as exc:
        # PyYAML builds dates and numbers itself, e.g. 2019-13-45 fails as a date.
        raise ScenarioError(path, [("", f"invalid YAML: a value cannot be read ({exc})")]) from None
    if not isinstance(data, dict):
        raise ScenarioError(path, [("", f"the top level must be a mapping of fields, not {type(data).__name__}")])
    bad_keys = [k for k in _walk_keys(data) if not isinstance(k, str)]
    if bad_keys:
        raise ScenarioError(path, [("", f"every key must be text; found {bad_keys[0]!r}")])
    return data


def _walk_keys(data: Any):
    if isinstance(data, dict):
        for k, v in data.items():
            yield k
            yield from _walk_keys(v)
    elif isinstance(data, list):
        for v in data:
            yield from _walk_keys(v)


def _merge(base: dict, over: dict) -> dict:
    """Child values win; mappings merge key by key; lists and scalars replace."""
    out = dict(base)
    for key, value in over.items():
        previous = out.get(key)
        # A distribution of another kind replaces the parent's whole: a lognormal's sd means nothing to 'fixed'.
        if isinstance(value, dict) and isinstance(previous, dict) and value.get("dist", previous.get("dist")) == previous.get("dist"):
            out[key] = _merge(previous, value)
        else:
            out[key] = value
    return out


def _leaves(data: Any, prefix: tuple = ()) -> set[tuple]:
    if isinstance(data, dict) and data:
        out: set[tuple] = set()
        for k, v in data.items():
            out |= _leaves(v, prefix + (k,))
        return out
    return {prefix}


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict[tuple, Path]]:
    """Merged data for `path` and, for each leaf, the file that set it."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[-1], [("extends", f"circular extends: {cycle}")])
    data = read_yaml(path)
    parent_name = data.get("extends")
    if parent_name is None:
        return data, {leaf: path for leaf in _leaves(data)}
    if not isinstance(parent_name, str) or not parent_name.strip():
        raise ScenarioError(path, [("extends", "must be the path of another scenario file")])
    parent_path = (path.parent / parent_name).resolve()
    if not parent_path.exists():
        raise ScenarioError(path, [("extends", f"'{parent_name}' not found (looked for {parent_path})")])
    if parent_path.is_dir():
        raise ScenarioError(path, [("extends", f"'{parent_name}' is a folder, not a scenario file")])
    parent, origins = _resolve(parent_path, (*chain, path))
    merged = _merge(parent, data)
    origins = {k: v for k, v in origins.items() if not any(k[: len(m)] == m for m in _leaves(data))}
    origins.update({leaf: path for leaf in _leaves(data)})
    return merged, origins



def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file. Raises ScenarioError."""
    path = Path(path)
    data, origins = _resolve(path, ())
    scenario = validate(data, path, origins)
    scenario._path = path.resolve()
    return scenario


def comparator_path(scenario: Scenario) -> Path | None:
    if scenario.comparator is None:
        return None
    base = scenario.path.parent if scenario.path else Path.cwd()
    return (base / scenario.comparator).resolve()
