"""Validation errors in words a planner understands: the field, what is wrong, and what is allowed."""

from __future__ import annotations

import difflib
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


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


def _format_loc(loc: tuple, root: Any = None) -> str:
    # Drop pydantic's union tags (e.g. 'lognormal', 'beds') that are not keys of the file.
    parts, holder = [], root
    for part in loc:
        member = _tagged_member(holder, part)
        if member is not None:
            holder = member
            continue
        if part in {"fixed", "exponential", "lognormal", "gamma", "empirical",
                    "function-after[_capacity(), int]", "int", "none"}:
            continue
        parts.append(str(part))
        holder = _step(holder, part) if holder is not None else None
    return ".".join(parts)


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
        return "'dist' is missing: give one of fixed, exponential, lognormal, gamma, empirical"
    if kind == "union_tag_invalid":
        return f"unknown distribution {error['ctx']['tag']!r}: 'dist' must be one of fixed, exponential, lognormal, gamma, empirical"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if isinstance(value, (dict, list)) or kind == "value_error":
        return message
    return f"{message} (got {_shown(value)})"


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."



def _origin_of(loc: tuple, origins: dict[tuple, Path]) -> Path | None:
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return None



def problems_from(
    exc: ValidationError, root: type[BaseModel], file: str | Path, origins: dict[tuple, Path] | None = None
) -> list[tuple[str, str]]:
    """One (field, problem) per distinct error, naming the file an inherited value came from."""
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors():
        field = _format_loc(error["loc"], root)
        problem = _describe(error, root)
        if origins:
            origin = _origin_of(tuple(field.split(".")), origins)
            if origin is not None and Path(origin) != Path(file).resolve():
                problem += f" (value set in {origin.name})"
        if (field, problem) not in seen:
            seen.add((field, problem))
            problems.append((field, problem))
    return problems
