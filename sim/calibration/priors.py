"""The priors file: each uncertain parameter, the scenario fields it sets, its prior and where that comes from.

A parameter either sets one field (`path`, the dotted path a sweep uses), perhaps with a
`complement` field set to 1 minus it (the other branch of a two-way route, so it still sums to
1), or multiplies several fields by a common factor (`scales`: a profile kept, its level
uncertain). A value drawn for a field that holds a whole number (a capacity) is rounded.

A parameter set, as written to the posterior CSV and read by PSA, is one value per field path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from scipy import stats

from sim.calibration.targets import read_spec
from sim.scenario import Scenario, ScenarioError
from sim.scenario.base import Strict

MIN_MASS = 1e-9  # a truncated prior with less probability than this between its bounds has, in effect, none


class UniformPrior(Strict):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _mass(self):
        if not self.low < self.high:
            raise ValueError(f"the prior has no mass: low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def scipy(self) -> tuple[str, dict[str, float]]:
        return "uniform", {"loc": self.low, "scale": self.high - self.low}


class NormalPrior(Strict):
    """A normal prior, truncated to [low, high] when given (a share between 0 and 1, a positive capacity)."""

    dist: Literal["normal"]
    mean: float
    sd: float
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _mass(self):
        if not self.sd > 0:
            raise ValueError(f"the prior has no mass: sd must be above 0, not {self.sd:g}")
        low, high = self._cut()
        if not low < high:
            raise ValueError(f"the prior has no mass: low ({low:g}) must be below high ({high:g})")
        mass = stats.norm.cdf(high, self.mean, self.sd) - stats.norm.cdf(low, self.mean, self.sd)
        if not mass > MIN_MASS:
            raise ValueError(f"the prior has no mass between low ({low:g}) and high ({high:g}): they lie "
                             f"{min(abs(low - self.mean), abs(high - self.mean)) / self.sd:.0f} sd from the mean")
        return self

    def _cut(self) -> tuple[float, float]:
        return (-math.inf if self.low is None else self.low), (math.inf if self.high is None else self.high)

    def bounds(self) -> tuple[float, float]:
        """The range where the prior has its mass: its truncation, or 4 sd either side of the mean."""
        low, high = self._cut()
        return max(low, self.mean - 4 * self.sd), min(high, self.mean + 4 * self.sd)

    def scipy(self) -> tuple[str, dict[str, float]]:
        low, high = self._cut()
        return "truncnorm", {"a": (low - self.mean) / self.sd, "b": (high - self.mean) / self.sd,
                             "loc": self.mean, "scale": self.sd}


Prior = UniformPrior | NormalPrior


class ParameterSpec(Strict):
    path: str | None = Field(None, description="the field this parameter sets (a dotted path, as in a sweep)")
    complement: str | None = Field(None, description="a field set to 1 minus the parameter")
    scales: list[str] | None = Field(None, description="fields multiplied by the parameter")
    prior: Prior
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_way(self):
        if (self.path is None) == (self.scales is None):
            raise ValueError("give either path (the field it sets) or scales (the fields it multiplies)")
        if self.scales is not None and not self.scales:
            raise ValueError("scales names no field")
        if self.complement is not None and self.path is None:
            raise ValueError("complement goes with path")
        return self


class PriorsFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(min_length=1)


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted field path of a scenario's resolved data (KeyError if there is none)."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


@dataclass(frozen=True)
class Parameter:
    name: str
    spec: ParameterSpec
    base: dict[str, Any]   # the scenario's own value of every field the parameter sets

    @property
    def paths(self) -> list[str]:
        if self.spec.path is not None:
            return [self.spec.path] + ([self.spec.complement] if self.spec.complement else [])
        return list(self.spec.scales)

    def changes(self, value: float) -> dict[str, float | int]:
        """Field path -> value for the scenario, with whole numbers kept whole."""
        if self.spec.path is not None:
            out = {self.spec.path: value}
            if self.spec.complement:
                out[self.spec.complement] = 1.0 - value
        else:
            out = {path: self.base[path] * value for path in self.spec.scales}
        return {path: round(v) if isinstance(self.base[path], int) else float(v) for path, v in out.items()}

    def value_of(self, row: dict[str, float]) -> float:
        """The parameter's own value back from a parameter set's field values (a scale's factor)."""
        if self.spec.path is not None:
            return float(row[self.spec.path])
        first = self.spec.scales[0]
        return float(row[first]) / self.base[first]


@dataclass(frozen=True)
class Priors:
    path: Path
    name: str
    parameters: tuple[Parameter, ...]

    @property
    def columns(self) -> list[str]:
        """Every field path a parameter set holds, in the order of the posterior CSV."""
        return [p for parameter in self.parameters for p in parameter.paths]

    def changes(self, values: dict[str, float]) -> dict[str, float | int]:
        out: dict[str, float | int] = {}
        for parameter in self.parameters:
            out.update(parameter.changes(values[parameter.name]))
        return out


def load_priors(path: str | Path, scenario: Scenario) -> Priors:
    """Read a priors file and check it against the scenario it calibrates: every field exists, and every
    value in each prior's range makes a valid scenario (checked at both ends)."""
    path = Path(path)
    spec = read_spec(path, PriorsFile, "priors file", "name: and parameters:")
    resolved = scenario.resolved
    problems: list[tuple[str, str]] = []
    parameters = []
    seen: dict[str, str] = {}
    for name, p in spec.parameters.items():
        fields = [("path", p.path), ("complement", p.complement)] if p.path else [
            (f"scales.{i}", s) for i, s in enumerate(p.scales)]
        base = {}
        for field, dotted in fields:
            if dotted is None:
                continue
            if dotted in seen:
                problems.append((f"parameters.{name}.{field}", f"'{dotted}' is also set by parameter {seen[dotted]}"))
            seen[dotted] = name
            try:
                value = value_at(resolved, dotted)
            except KeyError:
                problems.append((f"parameters.{name}.{field}",
                                 f"'{dotted}' is not a field of {scenario.path or 'the scenario'}"))
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append((f"parameters.{name}.{field}", f"'{dotted}' is not a number in the scenario"))
                continue
            base[dotted] = value
        if len(base) == len([f for f in fields if f[1] is not None]):
            parameters.append(Parameter(name, p, base))
    if problems:
        raise ScenarioError(path, problems)
    for parameter in parameters:
        for end in parameter.spec.prior.bounds():
            try:
                scenario.with_changes(parameter.changes(end))
            except ScenarioError as exc:
                why = "; ".join(f"{f}: {m}" for f, m in exc.problems)
                problems.append((f"parameters.{parameter.name}.prior",
                                 f"at {end:g} the scenario is not valid ({why})"))
    if problems:
        raise ScenarioError(path, problems)
    return Priors(path, spec.name, tuple(parameters))
