"""Reading scenario files safely, and `extends:`: a child file changes only what differs from its parent.

A scenario names other files (`extends:`, `comparator:`, `--compare`). They are
read only from the allowed folders ("roots"): by default the folder of the file
the user named, and below, and the project's `scenarios/` folder. A name that
leads elsewhere is refused before anything is looked up there, with the same
words whether or not it exists. Only regular files are opened, never devices,
pipes or sockets, and never more than MAX_FILE_BYTES of them; a file that does
not look like a scenario is refused without quoting what is in it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Iterable

import yaml

from sim.excel import workbook
from sim.scenario.errors import FileRefused, ScenarioError
from sim.scenario.base import MAX_FILE_BYTES, MAX_NODES
from sim.scenario.schema import Scenario, validate

PROJECT_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# The folder a deployment of the web app keeps its scenario library in (sim/app/library.py).
LIBRARY_ENV = "CARE_PATHWAY_SCENARIOS"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")  # a scenario may be an Excel workbook laid out like the YAML's sections
MAX_LISTED = 20  # problems of one kind listed from one file; the rest are counted

Roots = tuple[Path, ...]


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


# --- where files may be read from ----------------------------------------------------------------------


def default_roots(named: str | Path) -> Roots:
    """The folders a scenario named by the user may read: its own folder (and below) and the scenario library."""
    named = Path(named)
    roots = [named.absolute().parent.resolve(), named.resolve().parent, PROJECT_SCENARIOS]
    if os.environ.get(LIBRARY_ENV):
        roots.append(Path(os.environ[LIBRARY_ENV]).resolve())
    return tuple(dict.fromkeys(roots))


def _inside(path: Path, roots: Roots) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _shown_roots(roots: Roots) -> str:
    shown = []
    for root in roots:
        try:
            shown.append(root.relative_to(Path.cwd().resolve()).as_posix() or ".")
        except ValueError:
            shown.append(str(root))
    return ", ".join(f"{s}/" if s != "." else "./" for s in shown)


def outside_message(roots: Roots) -> str:
    # Depends only on the roots: never on the name, nor on whether anything exists out there.
    return (f"is outside the folders scenarios may be read from ({_shown_roots(roots)}): a scenario may name "
            "only files in its own folder (or below) and in the project's scenarios/ folder")


def confined(name: str | Path, base: Path, roots: Roots) -> Path:
    """`name` (relative to `base`) with symlinks and `..` resolved, or FileRefused if it leaves the roots."""
    path = Path(os.path.realpath(base / name))
    if not _inside(path, roots):
        raise FileRefused(name, [("", outside_message(roots))])
    return path


def _refusal(path: Path) -> str | None:
    """Why `path` cannot be a scenario file (missing, a folder, a device or pipe), or None if it is a regular file."""
    try:
        mode = os.stat(path).st_mode  # follows a symlink: what matters is what would be read
    except (FileNotFoundError, NotADirectoryError):
        return "file not found"
    except OSError as exc:
        return f"cannot read the file ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "is a folder, not a scenario file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, pipe or socket); a scenario is a YAML file"
    return None


def _read_bytes(path: Path) -> bytes:
    refusal = _refusal(path)
    if refusal:
        raise FileRefused(path, [("", refusal)])
    real = os.path.realpath(path)
    try:
        # O_NONBLOCK: if a pipe is swapped in after the check above, opening it cannot wait for a writer;
        # O_NOFOLLOW: nor can a symlink swapped in for the file lead the read elsewhere.
        flags = os.O_RDONLY | os.O_NONBLOCK
        for name in ("O_NOCTTY", "O_CLOEXEC", "O_NOFOLLOW"):
            flags |= getattr(os, name, 0)
        fd = os.open(real, flags)
    except OSError as exc:
        raise FileRefused(path, [("", f"cannot read the file ({exc.strerror})")]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, [("", "is not a regular file (a device, pipe or socket); a scenario is a YAML file")])
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(path, [("", f"file is {info.st_size:,} bytes; a scenario may be at most {MAX_FILE_BYTES:,}")])
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # a file still growing is cut off here, not read to the end
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise ScenarioError(path, [("", f"file is over {MAX_FILE_BYTES:,} bytes; a scenario may be at most {MAX_FILE_BYTES:,}")])
    return b"".join(chunks)


# --- checks on the parsed document, before any value is built ------------------------------------------


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


def _scenario_fields() -> set[str]:
    return {info.alias or name for name, info in Scenario.model_fields.items()}


def _not_a_scenario(node: yaml.Node) -> str | None:
    """Why the document is plainly not a scenario, in words that quote nothing from it; None if it may be one."""
    if not isinstance(node, yaml.MappingNode):
        kind = "list" if isinstance(node, yaml.SequenceNode) else node.tag.rsplit(":", 1)[-1]
        return f"the top level must be a mapping of fields, not {kind}"
    keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    if not keys & _scenario_fields():
        # The file is not echoed: it may be anything readable (a password file, a key).
        return ("does not look like a scenario: none of its top-level keys is a scenario field "
                "(name, extends, run, demand, services, ...)")
    return None


_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_INT_TAG, _FLOAT_TAG, _STR_TAG = (f"tag:yaml.org,2002:{t}" for t in ("int", "float", "str"))
_NOT_TEXT = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null", "timestamp")}


def _number_trap(node: yaml.ScalarNode) -> str | None:
    """YAML 1.1 reads 4:00 as 240 and 0310 as 200: say so, and what to write instead."""
    if node.style is not None or node.tag not in (_INT_TAG, _FLOAT_TAG):
        return None
    text = node.value
    if ":" in text:
        value = yaml.safe_load(text)
        return (f"YAML 1.1 reads {text} as {value:g} (base 60, like a clock);"
                f" write it as a plain number in the field's unit (e.g. 4.5, not 4:30),"
                f" or '{text}' in quotes if it is text")
    if node.tag == _INT_TAG and _OCTAL.fullmatch(text) and text.lstrip("+-") != "0":
        value = yaml.safe_load(text)
        digits = text.lstrip("+-").lstrip("0_") or "0"
        sign = "-" if text.startswith("-") else ""
        return (f"YAML 1.1 reads {text} as {value} (a leading 0 makes it octal); write {sign}{digits}"
                f" without the leading zero, or '{text}' in quotes if it is text")
    return None


def _node_problems(node: yaml.Node, path: tuple[str, ...] = ()) -> Iterable[tuple[str, str]]:
    """Every number YAML would misread and every repeated key, with its field path and line."""
    if isinstance(node, yaml.ScalarNode):
        trap = _number_trap(node)
        if trap:
            yield ".".join(path), f"line {node.start_mark.line + 1}: {trap}"
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            yield from _node_problems(child, (*path, str(i)))
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if isinstance(key, yaml.ScalarNode) and key.tag == _STR_TAG:
                if name in seen:
                    yield ".".join(path), f"line {key.start_mark.line + 1}: the key '{name}' appears twice"
                seen.add(name)
            elif isinstance(key, yaml.ScalarNode) and key.tag in _NOT_TEXT and not _number_trap(key):
                shown = yaml.safe_load(key.value) if key.style is None else key.value
                why = " (YAML reads yes/no/on/off as a truth value): put it in quotes" if isinstance(shown, bool) else ""
                yield ".".join(path), f"line {key.start_mark.line + 1}: every key must be text; found {shown!r}{why}"
            yield from _node_problems(key, path)
            yield from _node_problems(value, (*path, name))


def _capped(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], ("", f"and {len(problems) - MAX_LISTED} more problems like these")]


def _without_quotes(problem: str) -> str:
    # A parser's message may quote a word of the file (an alias or tag); the line and column say where.
    return re.sub(r"'[^']{2,}'", "'...'", problem)


def read_yaml(path: Path) -> dict:
    """Parse one YAML file safely into a mapping, or raise ScenarioError (FileRefused if it cannot be read)."""
    path = Path(path)
    raw = _read_bytes(path)
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
            refusal = _not_a_scenario(node)
            if refusal:
                raise FileRefused(path, [("", refusal)])
            problems = list(_node_problems(node))
            if problems:
                raise ScenarioError(path, _capped(problems))
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "could not determine a constructor" in problem:
            problem = "tags that build objects are not allowed (" + problem + ")"
        elif isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError, yaml.composer.ComposerError)):
            problem = _without_quotes(problem)
        raise ScenarioError(path, [("", f"invalid YAML at {where}{problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, [("", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError(path, [("", "invalid YAML: lists or mappings are nested too deeply")]) from None
    except ValueError as exc:
        # PyYAML builds dates and numbers itself, e.g. 2019-13-45 fails as a date.
        raise ScenarioError(path, [("", f"invalid YAML: a value cannot be read ({exc})")]) from None
    bad_keys = [k for k in _walk_keys(data) if not isinstance(k, str)]
    if bad_keys:
        raise ScenarioError(path, _capped([("", f"every key must be text; found {k!r}") for k in bad_keys]))
    return data


def _walk_keys(data: Any):
    if isinstance(data, dict):
        for k, v in data.items():
            yield k
            yield from _walk_keys(v)
    elif isinstance(data, list):
        for v in data:
            yield from _walk_keys(v)


# --- extends: ----------------------------------------------------------------------------------------------


def _is_table(value: Any) -> bool:
    """Destinations and their probabilities: a child's table is meant whole."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
    )


def _merge(base: dict, over: dict, in_routes: bool = False) -> dict:
    """Child values win; mappings merge key by key; lists and scalars replace.

    A distribution or service of another kind replaces the parent's whole (a lognormal's sd means
    nothing to 'fixed', nor a caseload's capacity to a service counted in visit-hours), and so does a
    route's table of destinations: a child that writes {home: 0.5, reablement: 0.5} means those two,
    not those two added to the parent's others.
    """
    out = dict(base)
    for key, value in over.items():
        previous = out.get(key)
        whole = in_routes and _is_table(value) and key != "scale"
        if not whole and isinstance(value, dict) and isinstance(previous, dict) and all(
            value.get(tag, previous.get(tag)) == previous.get(tag) for tag in ("dist", "kind")
        ):
            out[key] = _merge(previous, value, in_routes or key == "routes")
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


def _parent(path: Path, name: Any, roots: Roots, shown: Path) -> Path:
    """The file `extends: name` in `path` means, once it is known to be an allowed, regular file.

    `shown`: `path` as messages name it (the top file as the user named it).
    """
    try:
        return _parent_of(path, name, roots)
    except ScenarioError as exc:
        raise ScenarioError(shown, exc.problems) from None


def _parent_of(path: Path, name: Any, roots: Roots) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(path, [("extends", "must be the path of another scenario file")])
    try:
        parent = confined(name, path.parent, roots)
    except FileRefused as exc:
        raise ScenarioError(path, [("extends", f"'{name}' {exc.problems[0][1]}")]) from None
    refusal = _refusal(parent)
    if refusal == "file not found":
        raise ScenarioError(path, [("extends", f"'{name}' not found (looked for {parent})")])
    if refusal:
        raise ScenarioError(path, [("extends", f"'{name}' {refusal}" if refusal.startswith("is ") else f"'{name}': {refusal}")])
    return parent


def _resolve(path: Path, chain: tuple[Path, ...], roots: Roots, written: str = "") -> tuple[dict, dict[tuple, Path]]:
    """Merged data for `path` and, for each leaf, the file that set it (`written`: the child's `extends:`)."""
    named, path = path, path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[-1], [("extends", f"circular extends: {cycle}")])
    try:
        data = read_yaml(path)
    except FileRefused as exc:
        if chain:  # a parent that is no scenario: the mistake is the child's extends: line
            raise ScenarioError(chain[-1], [("extends", f"'{written}': {exc.problems[0][1]}")]) from None
        raise FileRefused(named, exc.problems) from None  # as the user named it, not where symlinks lead
    except ScenarioError as exc:
        raise exc if chain else ScenarioError(named, exc.problems) from None
    parent_name = data.get("extends")
    if parent_name is None:
        return data, {leaf: path for leaf in _leaves(data)}
    parent, origins = _resolve(_parent(path, parent_name, roots, path if chain else named), (*chain, path), roots,
                               parent_name)
    merged = _merge(parent, data)
    origins = {k: v for k, v in origins.items() if not any(k[: len(m)] == m for m in _leaves(data))}
    origins.update({leaf: path for leaf in _leaves(data)})
    return merged, origins


def load_scenario(path: str | Path, roots: Iterable[str | Path] | None = None) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file. Raises ScenarioError.

    `roots`: the folders the file and everything it extends must lie in (symlinks
    resolved); by default `default_roots(path)`. The file itself outside them,
    missing, or not a regular file raises FileRefused.
    """
    path = Path(path)
    roots = default_roots(path) if roots is None else tuple(Path(r).resolve() for r in roots)
    if not _inside(Path(os.path.realpath(path)), roots):
        raise FileRefused(path, [("", outside_message(roots))])
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _load_workbook(path, roots)
    data, origins = _resolve(path, (), roots)
    scenario = validate(data, path, origins)
    scenario._path = path.resolve()
    return scenario


def _load_workbook(path: Path, roots: Roots) -> Scenario:
    """A scenario given as an Excel workbook (sim/excel/workbook.py): read as safely as YAML, within the same
    folders and size, and validated with the same messages, each naming the sheet and cell."""
    try:
        data, cells = workbook.scenario_data(_read_bytes(path))
    except workbook.WorkbookProblems as exc:
        raise ScenarioError(path, exc.problems) from None
    except workbook.WorkbookError as exc:
        raise FileRefused(path, [("", str(exc))]) from None
    origins: dict[tuple, Path] = {}
    if data.get("extends") is not None:
        parent, origins = _resolve(_parent(path, data["extends"], roots, path), (path.resolve(),), roots,
                                   data["extends"])
        data = _merge(parent, data)
    try:
        scenario = validate(data, path, origins)
    except ScenarioError as exc:
        raise ScenarioError(path, [(workbook.cell_of(field, cells), problem) for field, problem in exc.problems]) from None
    scenario._path = path.resolve()
    return scenario


def comparator_path(scenario: Scenario, roots: Iterable[str | Path] | None = None) -> Path | None:
    """The file the scenario's `comparator:` names, or ScenarioError if it is outside the roots."""
    if scenario.comparator is None:
        return None
    base = scenario.path.parent if scenario.path else Path.cwd()
    if roots is None:
        roots = default_roots(scenario.path) if scenario.path else default_roots(Path.cwd() / "scenario.yaml")
    roots = tuple(Path(r).resolve() for r in roots)
    try:
        return confined(scenario.comparator, base, roots)
    except FileRefused as exc:
        raise ScenarioError(scenario.path or "<scenario>",
                            [("comparator", f"'{scenario.comparator}' {exc.problems[0][1]}")]) from None


def load_comparator(scenario: Scenario, roots: Iterable[str | Path] | None = None) -> Scenario | None:
    """The scenario `comparator:` names, with a file that cannot be read blamed on that line of the scenario."""
    if roots is None and scenario.path is not None:
        roots = default_roots(scenario.path)
    other = comparator_path(scenario, roots)
    if other is None:
        return None
    try:
        return load_scenario(other, roots)
    except FileRefused as exc:
        problem = exc.problems[0][1]
        problem = "not found" if problem == "file not found" else problem
        if not problem.startswith(("is ", "not ")):
            problem = f": {problem}"
        raise ScenarioError(scenario.path or "<scenario>",
                            [("comparator", f"'{scenario.comparator}' {problem} (looked for {other})")]) from None
