"""Validation errors in words a planner understands: the field, what is wrong, and what is allowed."""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError


_TAGS = ("dist", "kind")  # fields whose value names the member of a tagged union (distributions, services)


def _tagged_member(annotation: Any, part: Any) -> Any:
    """The member of a tagged union that the tag `part` names (a service's kind, a distribution), or None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in (Union, UnionType):
        return None
    for member in get_args(annotation):
        while get_origin(member) is Annotated:
            member = get_args(member)[0]
        fields = getattr(member, "model_fields", {})
        if any(tag in fields and part in get_args(fields[tag].annotation) for tag in _TAGS):
            return member
    return None


# How pydantic names the member of a union it tried, e.g. 'function-after[_ordered(), SweepRange]',
# 'list[nullable[union[int,float,str,bool]]]', 'int': never a key of the file.
_INTERNAL = re.compile(r"^(function-(after|before|wrap|plain)\[.*\]|(list|dict|set|tuple|nullable|union|tagged-union|"
                       r"constrained-\w+|lax-or-strict|json-or-python|chain|default)\[.*\]|int|float|str|bool|none|"
                       r"is-instance\[.*\]|literal\[.*\])$")


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _member(members: list, tag: str) -> Any:
    """The union member pydantic's tag names (a distribution's 'dist', a class or container named in it)."""
    tagged = _tagged_member(Union[tuple(members)], tag) if members else None
    if tagged is not None:
        return tagged
    for member in members:
        name = getattr(_unwrap(member), "__name__", "")
        if name and re.search(rf"\b{re.escape(name)}\b", tag):
            return member
    containers = {"list": list, "dict": dict}
    head = tag.split("[", 1)[0]
    return next((m for m in members if get_origin(_unwrap(m)) is containers.get(head, object)), None)


def _clean_loc(loc: tuple, root: type[BaseModel]) -> tuple[tuple, int | None]:
    """The location as the file's own keys, and where (how many keys deep) a union's member tag was dropped."""
    holder: Any = root
    parts: list = []
    union_at = None
    for part in loc:
        unwrapped = _unwrap(holder)
        members = [m for m in get_args(unwrapped) if m is not NoneType] if get_origin(unwrapped) in (Union, UnionType) else []
        if len(members) == 1:
            unwrapped = _unwrap(members[0])
            members = [m for m in get_args(unwrapped) if m is not NoneType] if get_origin(unwrapped) in (Union, UnionType) else []
        if len(members) > 1 and isinstance(part, str):
            member = _member(members, part)
            if member is not None:  # pydantic's tag for the member it tried; a plain field otherwise
                holder = member
                union_at = len(parts) if union_at is None else union_at
                continue
        if isinstance(part, str) and _INTERNAL.match(part) and not (isinstance(unwrapped, type) and issubclass(unwrapped, BaseModel)):
            union_at = len(parts) if union_at is None else union_at
            continue
        parts.append(part)
        holder = _step(unwrapped, part) if unwrapped is not None else None
    return tuple(parts), union_at


def _format_loc(loc: tuple, root: type[BaseModel] | None = None) -> str:
    if root is None:
        return ".".join(str(p) for p in loc if not (isinstance(p, str) and _INTERNAL.match(p)))
    return ".".join(str(p) for p in _clean_loc(loc, root)[0])


def _step(annotation: Any, part: Any) -> Any:
    """The type found one step down a validation error's location."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _step(get_args(annotation)[0], part)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    if origin in (Union, UnionType):
        members = [m for m in get_args(annotation) if m is not NoneType]
        member = _tagged_member(annotation, part)  # a distribution's 'dist', a service's 'kind'
        if member is not None:
            return member
        return _step(members[0], part) if len(members) == 1 else None
    if origin is dict:
        return get_args(annotation)[1]
    if origin is list:
        return get_args(annotation)[0]
    return None


def _unknown_field(loc: tuple, root: type[BaseModel]) -> str:
    """Name the misspelt field, the likeliest intended one, and every field allowed there."""
    holder: Any = root
    for part in loc[:-1]:
        holder = _step(holder, part)
    members = [m for m in get_args(holder) if m is not NoneType] if get_origin(holder) in (Union, UnionType) else [holder]
    if len(members) != 1 or not (isinstance(members[0], type) and issubclass(members[0], BaseModel)):
        return f"unknown field '{loc[-1]}' (is it misspelled?)"
    allowed = [info.alias or name for name, info in members[0].model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field '{loc[-1]}'; {guess}allowed here: {', '.join(allowed)}"


def _describe(error: dict, root: type[BaseModel]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_field(error["loc"], root)
    if kind == "missing":
        return "required field is missing"
    if kind in ("model_type", "dict_type", "model_attributes_type") or (kind == "unknown_kind" and not isinstance(value, dict)):
        return f"must be a mapping of fields (name: value lines), not {type(value).__name__} {_shown(value)}"
    if kind == "union_tag_not_found":
        return "'dist' is missing: give one of fixed, exponential, lognormal, gamma, weibull, empirical"
    if kind == "union_tag_invalid":
        return f"unknown distribution {error['ctx']['tag']!r}: 'dist' must be one of fixed, exponential, lognormal, gamma, weibull, empirical"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if isinstance(value, (dict, list)) or kind == "value_error":
        return message
    return f"{message} (got {_shown(value)})"


# What each kind of type error asks for, in words: for a value that fits none of a union's members.
_WANTED = {"model_type": "a mapping of fields", "dict_type": "a mapping of fields",
           "model_attributes_type": "a mapping of fields", "list_type": "a list", "int_type": "a whole number",
           "int_parsing": "a whole number", "float_type": "a number", "float_parsing": "a number",
           "string_type": "text", "bool_type": "true or false", "bool_parsing": "true or false",
           "date_type": "a date (YYYY-MM-DD)", "date_parsing": "a date (YYYY-MM-DD)", "literal_error": "one of the names allowed"}


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."



def _files_under(prefix: tuple, origins: dict[tuple, Path]) -> set[Path]:
    """The files that set this field or anything inside it."""
    return {Path(f).resolve() for leaf, f in origins.items() if leaf[: len(prefix)] == prefix or prefix[: len(leaf)] == leaf}


def _origin_of(loc: tuple, origins: dict[tuple, Path]) -> Path | None:
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return None



def _within_unions(errors: list[dict], root: type[BaseModel]) -> list[tuple[tuple, dict]]:
    """Errors at their file locations; a value no member of a union accepts is one error, not one per member.

    When some member got further (the value had its shape, a field inside was wrong), that
    member's errors are the ones that say what to fix; the others' "not a list" is noise.
    """
    spots: dict[tuple, list[tuple[tuple, dict]]] = {}
    plain: list[tuple[tuple, dict] | tuple] = []
    for error in errors:
        loc, union_at = _clean_loc(error["loc"], root)
        if union_at is None:
            plain.append((loc, error))
            continue
        spot = loc[:union_at]
        if spot not in spots:
            plain.append(("union", spot))
            spots[spot] = []
        spots[spot].append((loc, error))
    out: list[tuple[tuple, dict]] = []
    for item in plain:
        if item[0] != "union":
            out.append(item)
            continue
        members = spots[item[1]]
        specific = [(loc, e) for loc, e in members if len(loc) > len(item[1]) or e["type"] not in _WANTED]
        if specific:
            out.extend(specific)
            continue
        wanted = list(dict.fromkeys(_WANTED[e["type"]] for _, e in members))
        value = members[0][1].get("input")
        merged = dict(members[0][1], type="union_wanted",
                      msg=f"must be {' or '.join(wanted)}, not {type(value).__name__} {_shown(value)}")
        out.append((item[1], merged))
    return out


def exact(total: float) -> str:
    """A sum shown with as many digits as it takes to see it is not 1."""
    for digits in range(6, 18):
        shown = f"{total:.{digits}g}"
        if shown != "1":
            return shown
    return repr(total)


def _sum_shown(problem: str, value: Any) -> str:
    """'they sum to 1' for a sum that is not 1 (six digits hid the difference): show the digits that differ."""
    match = re.search(r"must sum to 1, they sum to 1\b(?!\.)", problem)
    if match is None or not isinstance(value, dict):
        return problem
    numbers = list(value.values())
    if problem.startswith("need_groups"):
        numbers = [g.get("share") for g in value.get("need_groups", {}).values() if isinstance(g, dict)]
    numbers = [n for n in numbers if isinstance(n, (int, float)) and not isinstance(n, bool)]
    if not numbers:
        return problem
    problem = problem[:match.end() - 1] + exact(math.fsum(numbers)) + problem[match.end():]
    if problem.endswith(")") and all(isinstance(v, (int, float)) for v in value.values()):
        parts = ", ".join(f"{k}={v:.15g}" for k, v in value.items())
        problem = re.sub(r"\([^()]*\)$", f"({parts})", problem)
    return problem


def _accepts(raw_loc: tuple, root: type[BaseModel], value: dict) -> bool:
    """Whether the part of the schema at this error's location takes `value`."""
    holder: Any = root
    for part in raw_loc:
        holder = _step(holder, part)
        if holder is None:
            return False
    try:
        TypeAdapter(holder).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    except Exception:  # a schema part that cannot stand alone: no advice rather than a wrong one
        return False
    return True


def _inherited_hint(raw_loc: tuple, loc: tuple, value: Any, problem: str, file: str | Path,
                    origins: dict[tuple, Path], root: type[BaseModel]) -> str:
    """For two fields that conflict, the one a parent file set and, if dropping it would fix it, how."""
    if not loc or not isinstance(value, dict):
        return problem
    here = Path(file).resolve()
    mentioned = [k for k, v in value.items()
                 if v is not None and isinstance(k, str) and re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", problem)]
    where = {k: _files_under((*map(str, loc), k), origins) for k in mentioned}
    inherited = [k for k in mentioned if where[k] and here not in where[k]]
    if not inherited or not any(here in where[k] for k in mentioned):
        return problem
    # Advice to drop a field only where dropping it is checked to clear the problem.
    fixes = [k for k in inherited if _accepts(raw_loc, root, {**value, k: None})]
    hints = [f"'{k}' is inherited from {', '.join(sorted(f.name for f in where[k]))}"
             + (f"; to drop it write '{k}: null'" if k in fixes else "")
             for k in (fixes or inherited)]
    return f"{problem} ({'; '.join(hints)})"


def problems_from(
    exc: ValidationError, root: type[BaseModel], file: str | Path, origins: dict[tuple, Path] | None = None
) -> list[tuple[str, str]]:
    """One (field, problem) per distinct error, naming the file an inherited value came from."""
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for loc, error in _within_unions(exc.errors(), root):
        field = ".".join(str(p) for p in loc)
        problem = error["msg"] if error["type"] == "union_wanted" else _describe(error, root)
        problem = _sum_shown(problem, error.get("input"))
        if origins:
            hinted = _inherited_hint(error["loc"], loc, error.get("input"), problem, file, origins, root)
            origin = _origin_of(tuple(str(p) for p in loc), origins)
            if hinted != problem:
                problem = hinted
            elif origin is not None and Path(origin) != Path(file).resolve():
                problem += f" (value set in {origin.name})"
        if (field, problem) not in seen:
            seen.add((field, problem))
            problems.append((field, problem))
    return problems
