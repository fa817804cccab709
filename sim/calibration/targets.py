"""The targets file: figures a model is fitted to (calibration) and figures kept back to test it (validation).

A target names what to measure in a run (one KPI, or several summed, perhaps divided by
another), how to read it (`per: year` turns a count over the measured period into a year's
worth, for the whole system when the run is scaled down), and the published figure with its
tolerance: `value` and `tolerance` (the half-width of what counts as agreeing), or a range
`low`-`high`. Its `role` says which step may read it: the fit reads `calibration` targets only
(`TargetFile.calibration`); `validation` targets are compared afterwards, and may measure
another scenario (the system after a change) against the calibrated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from sim.scenario import Scenario, ScenarioError
from sim.scenario.base import Strict
from sim.scenario.errors import FileRefused
from sim.scenario.kpi_names import is_kpi
from sim.scenario.loading import Roots, confined, load_scenario, read_yaml
from sim.scenario.messages import problems_from

CALIBRATION, VALIDATION = "calibration", "validation"
DAYS_PER = {"year": 365.0, "day": 1.0}


class TargetSpec(Strict):
    role: Literal["calibration", "validation"]
    label: str = Field(min_length=1)
    kpi: str | list[str] = Field(description="a KPI name, or several summed")
    divided_by: str | list[str] | None = Field(None, description="KPIs summed into the denominator of a ratio")
    per: Literal["year", "day"] | None = Field(
        None, description="a count over the measured period, read as so much a year (or a day); "
                          "leave out for shares, waits and other quantities that do not grow with the period")
    value: float | None = None
    tolerance: float | None = Field(None, gt=0)
    low: float | None = None
    high: float | None = None
    source: str = Field(min_length=1)
    scenario: str | None = Field(None, description="validation only: the scenario measured (a file next to this one)")
    compare: Literal["level", "change", "saving", "pct_change"] = Field(
        "level", description="validation only: the KPI itself, or against the calibrated scenario on the same "
                             "parameter set and random numbers (change = scenario - calibrated, saving = "
                             "calibrated - scenario, pct_change = 100 x change / calibrated)")
    input_fed_back: str | None = Field(
        None, description="when an input of a scenario was set from this figure: which, so it is not read as a test")

    @model_validator(mode="after")
    def _one_form(self):
        if (self.value is None) != (self.tolerance is None):
            raise ValueError("give value with tolerance, or a range low to high")
        if self.value is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either value and tolerance, or low and high, not both")
        if self.value is None and self.low is None and self.high is None:
            raise ValueError("give value and tolerance, or low and high")
        if self.role == CALIBRATION and self.value is None and (self.low is None or self.high is None):
            raise ValueError("a calibration target needs both low and high: the fit measures how far off a run is "
                             "in units of the range")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.role == CALIBRATION and (self.scenario is not None or self.compare != "level"):
            raise ValueError("a calibration target measures the calibrated scenario itself: "
                             "scenario and compare are for validation targets")
        if self.compare != "level" and self.scenario is None:
            raise ValueError(f"compare: {self.compare} needs the scenario it compares with the calibrated one")
        return self


class TargetsFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    targets: dict[str, TargetSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Target:
    name: str
    role: str
    label: str
    kpis: tuple[str, ...]
    denominator: tuple[str, ...]
    per: str | None
    low: float
    high: float
    source: str
    scenario: Path | None = None       # validation: the scenario measured, else the calibrated one
    compare: str = "level"
    input_fed_back: str | None = None

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def within(self, value: float) -> bool:
        return self.low <= value <= self.high

    def deviation(self, value: float) -> float:
        """Distance from the centre in half-widths: within the tolerance while at most 1."""
        return (value - self.centre) / self.half_width

    def measure(self, kpis: dict[str, float], horizon_days: float, scale: float) -> float:
        """The target's quantity from one replication's KPIs; counts read for the whole system a year (or day)."""
        top = sum(kpis[k] for k in self.kpis)
        if self.per is not None:
            top = top * DAYS_PER[self.per] / horizon_days
        if self.denominator:
            bottom = sum(kpis[k] for k in self.denominator)
            return top / bottom if bottom else math.nan
        return top / scale if self.per is not None else top


@dataclass(frozen=True)
class TargetFile:
    path: Path
    name: str
    calibration: tuple[Target, ...]
    validation: tuple[Target, ...]

    def check_against(self, scenarios: dict[Path | None, Scenario]) -> None:
        """ScenarioError (this file, the target's field) for a KPI the scenario it measures does not produce."""
        problems = []
        for target in (*self.calibration, *self.validation):
            scenario = scenarios[target.scenario]
            for field, names in (("kpi", target.kpis), ("divided_by", target.denominator)):
                for name in names:
                    if not is_kpi(scenario, name):
                        problems.append((f"targets.{target.name}.{field}",
                                         f"'{name}' is not a KPI that {scenario.path or 'the scenario'} produces "
                                         "(see docs/outputs.md)"))
        if problems:
            raise ScenarioError(self.path, problems)


def read_spec(path: Path, model: type[Strict], what: str, needs: str) -> Strict:
    """A YAML file read as safely as a scenario (sim.scenario.loading) and checked against `model`; a file that
    is not one is refused in its own words, a bad field as file: field: problem."""
    try:
        data = read_yaml(path)
    except FileRefused as exc:
        if any("does not look like a scenario" in p for _, p in exc.problems):
            raise ScenarioError(path, [("", f"does not look like a {what}: it needs {needs}")]) from None
        raise
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(path, problems_from(exc, model, path)) from None


def load_targets(path: str | Path, roots: Roots) -> TargetFile:
    """Read and check a targets file; the scenarios its validation targets name are read from `roots` only."""
    path = Path(path)
    spec = read_spec(path, TargetsFile, "targets file", "name: and targets:")
    targets: dict[str, list[Target]] = {CALIBRATION: [], VALIDATION: []}
    for name, t in spec.targets.items():
        where = confined(t.scenario, path.resolve().parent, roots) if t.scenario else None
        if t.value is None:  # a validation target may be open at one end ("over £26m")
            low = -math.inf if t.low is None else t.low
            high = math.inf if t.high is None else t.high
        else:
            low, high = t.value - t.tolerance, t.value + t.tolerance
        kpis = (t.kpi,) if isinstance(t.kpi, str) else tuple(t.kpi)
        denominator = () if t.divided_by is None else ((t.divided_by,) if isinstance(t.divided_by, str)
                                                       else tuple(t.divided_by))
        targets[t.role].append(Target(name, t.role, t.label, kpis, denominator, t.per, low, high, t.source,
                                      where, t.compare, t.input_fed_back))
    if not targets[CALIBRATION]:
        raise ScenarioError(path, [("targets", "no target has role: calibration; there is nothing to fit to")])
    return TargetFile(path, spec.name, tuple(targets[CALIBRATION]), tuple(targets[VALIDATION]))


def load_validation_scenarios(targets: TargetFile, roots: Roots) -> dict[Path, Scenario]:
    """The scenarios the validation targets measure, each read once."""
    return {where: load_scenario(where, roots) for where in dict.fromkeys(t.scenario for t in targets.validation)
            if where is not None}
