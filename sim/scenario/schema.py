"""The scenario schema: what a YAML file may say, section by section.

A scenario is immutable once loaded. Unknown keys are errors (a typo must not
fall back silently to a default), probabilities that should sum to one must,
and every error names the file, the field path and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.distributions import Distribution
from sim.events import capacity_steps
from sim.scenario import base as _base
from sim.scenario.base import MAX_FILE_BYTES, MAX_NODES, MAX_SWEEP_POINTS, SUM_TOLERANCE, NonNegative, Probability  # noqa: F401
from sim.scenario.errors import ScenarioError
from sim.scenario.messages import problems_from

Capacity = _base.Capacity
Strict = _base.Strict


def _capacity(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"unlimited", "inf", "infinite"}:
        return None
    if isinstance(value, float) and value == float("inf"):
        return None
    return value


class _Split(Strict):
    """Probabilities over named destinations that must sum to one."""

    @model_validator(mode="after")
    def _sums_to_one(self):
        total = sum(getattr(self, name) for name in type(self).model_fields)
        if abs(total - 1.0) > SUM_TOLERANCE:
            parts = ", ".join(f"{name}={getattr(self, name):g}" for name in type(self).model_fields)
            raise ValueError(f"probabilities must sum to 1, they sum to {total:g} ({parts})")
        return self

    def items(self) -> list[tuple[str, float]]:
        return [(name, getattr(self, name)) for name in type(self).model_fields]


# --- run settings and demand -------------------------------------------------


class RunSettings(Strict):
    horizon_days: int = Field(365, ge=1, le=36_500, description="length of the measured period, days")
    warmup_days: int = Field(0, ge=0, le=36_500, description="simulated before measuring starts, days")
    replications: int = Field(10, ge=1, le=10_000)
    seed: int = Field(12345, ge=0)
    start_date: dt.date = Field(dt.date(2019, 4, 1), description="calendar date of the first measured day")


class Surge(Strict):
    """A period of higher (or lower) demand: winter, a heatwave, an outbreak (see sim/events.py)."""

    name: str = Field(min_length=1)
    start: dt.date = Field(description="first day of the surge")
    end: dt.date = Field(description="last day of the surge (included)")
    multiplier: NonNegative = Field(description="multiplies the crisis rate on every day of the surge")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Demand(Strict):
    crises_per_year: NonNegative = Field(
        le=10_000_000, description="crises among people 65+ reaching any service, a year (at most 10m: all of England)"
    )
    weekday_multipliers: list[NonNegative] = Field(
        default_factory=lambda: [1.0] * 7, min_length=7, max_length=7,
        description="Monday..Sunday, relative; rescaled to average 1",
    )
    monthly_multipliers: list[NonNegative] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12,
        description="January..December, relative; rescaled to average 1",
    )
    surges: list[Surge] = Field(default_factory=list, description="periods of higher or lower demand")

    @field_validator("weekday_multipliers", "monthly_multipliers")
    @classmethod
    def _not_all_zero(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("at least one multiplier must be above 0")
        return v


# --- people --------------------------------------------------------------------


class DischargePathway(_Split):
    P0: Probability = Field(description="home, no new support")
    P1: Probability = Field(description="home with support (reablement or a care package)")
    P2: Probability = Field(description="a short-term bed (community hospital or temporary residential)")
    P3: Probability = Field(description="a permanent care home place")


class NeedGroup(Strict):
    share: Probability = Field(description="share of crises in this group")
    ucr_suitable: Probability = Field(description="share whose crisis urgent community response could manage at home")
    avoidable_other: Probability = Field(
        0.0, description="share of admissions avoidable by other alternatives (diagnostic only)"
    )
    los_multiplier: float = Field(1.0, gt=0, description="multiplies every length of stay")
    acute_death: Probability = Field(0.0, description="share who die in the acute stay")
    discharge_pathway: DischargePathway


class Funding(Strict):
    """Means test for long-term care (England, £14,250 / £23,250 thresholds)."""

    self_funder_share: Probability = Field(description="assets above the upper limit: pay in full")
    partial_share: Probability = Field(description="assets between the limits: contribute in part")
    partial_contribution: Probability = Field(description="share of the council rate a partial funder pays")

    @model_validator(mode="after")
    def _shares(self):
        if self.self_funder_share + self.partial_share > 1 + SUM_TOLERANCE:
            raise ValueError(
                f"self_funder_share + partial_share = {self.self_funder_share + self.partial_share:g}, above 1"
            )
        return self


class Referral(Strict):
    ucr_share_suitable: Probability = Field(description="share of UCR-suitable crises referred to UCR")
    ucr_share_unsuitable: Probability = Field(description="share of other crises referred to UCR")
    multiplier: NonNegative = Field(1.0, description="scales both shares (awareness lever); capped at 1")


# --- services --------------------------------------------------------------------


class AfterUcrSuccess(_Split):
    home: Probability
    reablement: Probability
    home_care: Probability


class UrgentResponse(Strict):
    capacity: Capacity = Field(description="responses the team can run at once")
    give_up_hours: float = Field(4.0, gt=0, description="waiting longer than this for a team, the person goes to ED")
    target_hours: float = Field(2.0, gt=0, description="national standard: reached within this time")
    travel_hours: Distribution
    duration_days: Distribution
    success_probability: Probability = Field(description="share of suitable referrals who stay at home")
    unsuitable_assessment_hours: float = Field(2.0, ge=0, description="team time spent before handing over to hospital")
    after_success: AfterUcrSuccess

    _cap = field_validator("capacity", mode="before")(_capacity)


class Acute(Strict):
    beds: Capacity
    los_days: Distribution = Field(description="admission until no criteria to reside")
    discharge_process_days: Distribution | None = Field(
        None, description="assessments and decisions after fit to leave, before a supported discharge (P1-P3)"
    )

    _cap = field_validator("beds", mode="before")(_capacity)


class ReablementOutcomes(_Split):
    independent: Probability
    small_package: Probability
    home_care: Probability
    care_home: Probability
    readmitted: Probability
    died: Probability


class Workforce(Strict):
    """Home-based capacity as staff visit-hours a day; each person's visits taper over their episode."""

    visit_hours_per_day: NonNegative = Field(description="staff hours of visits available each day")
    first_day_hours: float = Field(gt=0, description="visit-hours a person needs on the first day of the episode")
    last_day_hours: NonNegative = Field(description="visit-hours a day at the end of the episode (linear taper)")

    @model_validator(mode="after")
    def _tapers(self):
        if self.last_day_hours > self.first_day_hours:
            raise ValueError(
                f"last_day_hours ({self.last_day_hours:g}) is above first_day_hours ({self.first_day_hours:g});"
                " visits taper, they do not grow"
            )
        return self


def _caseload_or_workforce(service):
    if service.workforce is not None and service.capacity is not None:
        raise ValueError(
            "give either capacity (a caseload) or workforce (visit-hours), not both; set capacity: null"
        )
    return service


class Reablement(Strict):
    capacity: Capacity = Field(description="people on the caseload at once; null with a workforce")
    los_days: Distribution
    outcomes: ReablementOutcomes
    small_package_factor: float = Field(0.5, gt=0, le=1, description="hours of a smaller package, relative")
    workforce: Workforce | None = Field(None, description="capacity as visit-hours instead of a caseload")

    _cap = field_validator("capacity", mode="before")(_capacity)
    _one_limit = model_validator(mode="after")(_caseload_or_workforce)


class BedOutcomes(_Split):
    home: Probability
    reablement: Probability
    home_care: Probability
    care_home: Probability
    readmitted: Probability
    died: Probability


class ShortTermBeds(Strict):
    beds: Capacity
    los_days: Distribution
    outcomes: BedOutcomes
    discharge_process_days: Distribution | None = Field(
        None, description="assessments and decisions once ready to leave, spent in the bed"
    )

    _cap = field_validator("beds", mode="before")(_capacity)


class HomeCare(Strict):
    capacity: Capacity = Field(None, description="packages running at once; null = unlimited")
    hours_per_week: Distribution
    duration_days: Distribution
    workforce: Workforce | None = Field(None, description="capacity as visit-hours instead of packages")

    _cap = field_validator("capacity", mode="before")(_capacity)
    _one_limit = model_validator(mode="after")(_caseload_or_workforce)


class CareHome(Strict):
    capacity: Capacity = Field(None, description="places; null = unlimited")
    duration_days: Distribution

    _cap = field_validator("capacity", mode="before")(_capacity)


class Services(Strict):
    urgent_response: UrgentResponse
    acute: Acute
    reablement: Reablement
    community_beds: ShortTermBeds
    temporary_residential: ShortTermBeds
    home_care: HomeCare
    residential_care: CareHome
    nursing_care: CareHome

    def capacity_of(self, name: str) -> tuple[float | None, bool]:
        """A service's configured capacity (None = unlimited) and whether it counts whole places.

        A service with a workforce has visit-hours a day as its capacity.
        """
        config = getattr(self, name)
        workforce = getattr(config, "workforce", None)
        if workforce is not None:
            return workforce.visit_hours_per_day, False
        return (config.beds if hasattr(config, "beds") else config.capacity), True


class Pathway1(_Split):
    reablement: Probability
    home_care: Probability


class Pathway2(_Split):
    community_beds: Probability
    temporary_residential: Probability


class CareHomeSplit(_Split):
    residential_care: Probability
    nursing_care: Probability


class Discharge(Strict):
    pathway_1: Pathway1
    pathway_2: Pathway2
    care_home: CareHomeSplit = Field(description="residential or nursing, whenever someone moves to a care home")


class LongTermDecisions(Strict):
    """Social care assessment before a long-term placement: the 'supporting independence' lever.

    A better assessment (strengths-based, by a team that knows the person's
    neighbourhood) turns some long-term decisions into more independent ones.
    """

    home_care_to_independent: Probability = Field(
        0.0, description="share of new long-term home care packages replaced by independence at home"
    )
    care_home_to_home_care: Probability = Field(
        0.0, description="share of permanent care home decisions replaced by a home care package"
    )


# --- costs ---------------------------------------------------------------------------

Payer = Literal["nhs", "council", "means_tested"]


class UnitCost(Strict):
    gbp: NonNegative
    per: Literal["attendance", "response", "day", "week", "hour", "episode"]
    payer: Payer
    self_funder_gbp: NonNegative | None = Field(None, description="rate a self-funder is charged, if higher")


_ALLOWED_PER = {
    "ed_attendance": {"attendance"},
    "urgent_response": {"response", "day"},
    "acute": {"day", "week"},
    "community_beds": {"day", "week"},
    "temporary_residential": {"day", "week"},
    "reablement": {"day", "week", "episode"},
    "home_care": {"hour"},
    "residential_care": {"day", "week"},
    "nursing_care": {"day", "week"},
}


class Costs(Strict):
    price_year: str = Field(description="prices are in pounds of this year")
    ed_attendance: UnitCost
    urgent_response: UnitCost
    acute: UnitCost
    community_beds: UnitCost
    temporary_residential: UnitCost
    reablement: UnitCost
    home_care: UnitCost
    residential_care: UnitCost
    nursing_care: UnitCost

    @model_validator(mode="after")
    def _units_fit(self):
        for name, allowed in _ALLOWED_PER.items():
            per = getattr(self, name).per
            if per not in allowed:
                raise ValueError(f"{name}.per is '{per}'; for this service it must be one of {sorted(allowed)}")
        return self


# --- stress: capacity events, sweeps, service levels (see sim/events.py, sim/sweep.py) -----------


class CapacityChange(Strict):
    set: NonNegative | None = Field(None, description="the new capacity")
    add: float | None = Field(None, description="places (or visit-hours) added; negative removes")
    multiply: NonNegative | None = Field(None, description="scales capacity: 0.7 is a 30% cut")

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [k for k in ("set", "add", "multiply") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of set, add or multiply (got {', '.join(given) or 'none'})")
        return self


class CapacityEvent(Strict):
    name: str = Field(min_length=1)
    service: str = Field(description="the service whose capacity changes")
    start: dt.date = Field(description="first day with the changed capacity")
    end: dt.date | None = Field(None, description="last day with the changed capacity (included); null = to the end")
    change: CapacityChange

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class SweepRange(Strict):
    start: float = Field(alias="from")
    to: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.to < self.start:
            raise ValueError(f"to ({self.to:g}) is below from ({self.start:g})")
        if (self.to - self.start) / self.step > MAX_SWEEP_POINTS:
            raise ValueError(f"more than {MAX_SWEEP_POINTS:,} values")
        return self

    def values(self) -> list[float]:
        n = int(math.floor((self.to - self.start) / self.step + 1e-9)) + 1
        values = [self.start + i * self.step for i in range(n)]
        return [int(v) if float(v).is_integer() else round(v, 12) for v in values]


SweepValue = int | float | str | bool | None


class Sweep(Strict):
    """Scenario variants run with common random numbers: a grid of every combination, or listed points."""

    grid: dict[str, SweepRange | list[SweepValue]] | None = Field(None, description="field path -> values")
    points: list[dict[str, SweepValue]] | None = Field(None, description="each point: field path -> value")

    @model_validator(mode="after")
    def _grid_or_points(self):
        if (self.grid is None) == (self.points is None):
            raise ValueError("give either grid or points")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid names no field")
            total = 1
            for values in self.grid.values():
                total *= len(values.values() if isinstance(values, SweepRange) else values)
            if total > MAX_SWEEP_POINTS:
                raise ValueError(f"grid has {total:,} points; at most {MAX_SWEEP_POINTS:,}")
        elif not self.points:
            raise ValueError("points is empty")
        return self

    def parameters(self) -> list[str]:
        if self.grid is not None:
            return list(self.grid)
        return list(dict.fromkeys(k for point in self.points for k in point))

    def expand(self) -> list[dict[str, SweepValue]]:
        """Every point, as field path -> value (the grid varies its last field fastest)."""
        if self.points is not None:
            return [dict(p) for p in self.points]
        axes = [v.values() if isinstance(v, SweepRange) else list(v) for v in self.grid.values()]
        return [dict(zip(self.grid, combo)) for combo in itertools.product(*axes)]


class ServiceLevel(Strict):
    kpi: str = Field(description="a KPI name (docs/outputs.md)")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self):
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least or at_most")
        return self

    def met(self, value: float) -> bool:
        if value != value:  # NaN: nothing measured, so the level cannot be shown to be met
            return False
        return value >= self.at_least if self.at_least is not None else value <= self.at_most

    def __str__(self) -> str:
        return f"{self.kpi} {'>=' if self.at_least is not None else '<='} {self.at_least if self.at_least is not None else self.at_most:g}"


# --- places: localities with their own demand and capacity (sim/places.py, docs/places.md) ---------

PLACE_NAME = r"^[a-z][a-z0-9_]*$"


class PlaceBeds(Strict):
    beds: Capacity

    _cap = field_validator("beds", mode="before")(_capacity)


class PlaceCaseload(Strict):
    capacity: Capacity

    _cap = field_validator("capacity", mode="before")(_capacity)


class PlaceServices(Strict):
    """Capacities a place sets itself; a service left out gets the place's share of the system capacity."""

    urgent_response: PlaceCaseload | None = None
    acute: PlaceBeds | None = None
    reablement: PlaceCaseload | None = None
    community_beds: PlaceBeds | None = None
    temporary_residential: PlaceBeds | None = None
    home_care: PlaceCaseload | None = None
    residential_care: PlaceCaseload | None = None
    nursing_care: PlaceCaseload | None = None


class Place(Strict):
    demand_share: Probability | None = Field(None, description="share of the system's crises arising here")
    crises_per_year: NonNegative | None = Field(None, le=10_000_000, description="this place's crises a year")
    services: PlaceServices = Field(default_factory=PlaceServices)

    @model_validator(mode="after")
    def _one_demand(self):
        if (self.demand_share is None) == (self.crises_per_year is None):
            raise ValueError("give either demand_share or crises_per_year (set the other to null)")
        return self


class Sharing(Strict):
    """How places share one service: each its own (local), one capacity for all (pooled), or overflow."""

    mode: Literal["local", "pooled", "overflow"] = "local"
    out_of_area_cost_gbp: NonNegative = Field(0.0, description="charged for each placement outside the person's place")
    after_hours: NonNegative = Field(
        0.0, description="overflow: hours a person waits for their own place before taking one elsewhere"
    )

    @model_validator(mode="after")
    def _after_only_for_overflow(self):
        if self.after_hours and self.mode != "overflow":
            raise ValueError(f"after_hours applies to mode overflow only (mode is {self.mode})")
        return self


# --- the state at the start (sim/initial_state.py, docs/warm-up.md) -----------------------------


class ServiceState(Strict):
    """People in one service when the simulation starts: in a place, and waiting for one."""

    occupied: int = Field(0, ge=0, description="people holding a place (bed, caseload slot, placement)")
    waiting: int = Field(0, ge=0, description="people waiting for a place (acute: in ED; others: at home)")


# Urgent responses last hours: a run starts with none under way.
NO_INITIAL_STATE = ("urgent_response",)


def _initial_state_problems(scenario: "Scenario") -> list[InitErrorDetails]:
    services = type(scenario.services).model_fields
    problems = []

    def problem(loc: tuple, value: Any, message: str) -> None:
        problems.append(InitErrorDetails(
            type=PydanticCustomError("value_error", message), loc=("initial_state", *loc), input=value,
        ))

    if scenario.initial_state and scenario.places:
        problem((), None, "cannot be combined with places yet: start a run with places empty")
        return problems
    for name, state in scenario.initial_state.items():
        if name in NO_INITIAL_STATE:
            problem((name,), name, f"{name} episodes last hours: a run starts with none under way")
            continue
        if name not in services:
            allowed = ", ".join(n for n in services if n not in NO_INITIAL_STATE)
            problem((name,), name, f"no service named '{name}' (one of {allowed})")
            continue
        config = getattr(scenario.services, name)
        if getattr(config, "workforce", None) is not None:
            problem((name,), name, f"services.{name} has a workforce; an initial state needs places (capacity)")
            continue
        field = "beds" if "beds" in type(config).model_fields else "capacity"
        capacity = getattr(config, field)
        places = "unlimited places" if capacity is None else f"{capacity} places"
        if capacity is not None and state.occupied > capacity:
            problem((name, "occupied"), state.occupied,
                    f"{state.occupied} people is more than the {places} in services.{name}.{field}")
        elif state.waiting and (capacity is None or state.occupied < capacity):
            problem((name, "waiting"), state.waiting,
                    f"people wait only when every place is taken, but {state.occupied} of the {places} in "
                    f"services.{name}.{field} are occupied")
    return problems


# --- the scenario ------------------------------------------------------------------------


class Scenario(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    extends: str | None = Field(None, description="a scenario file this one changes")
    comparator: str | None = Field(None, description="the scenario file to compare against")
    run: RunSettings = Field(default_factory=RunSettings)
    demand: Demand
    need_groups: dict[str, NeedGroup] = Field(min_length=1)
    funding: Funding
    referral: Referral
    services: Services
    discharge: Discharge
    long_term_decisions: LongTermDecisions = Field(default_factory=LongTermDecisions)
    costs: Costs
    capacity_events: list[CapacityEvent] = Field(default_factory=list, description="capacity changes on dates")
    places: dict[str, Place] = Field(default_factory=dict, description="localities, each with its demand and capacity")
    sharing: dict[str, Sharing] = Field(default_factory=dict, description="service -> how places share it")
    sweep: Sweep | None = Field(None, description="run these variants of the scenario (sim/sweep.py)")
    service_levels: list[ServiceLevel] = Field(default_factory=list, description="levels a sweep must meet")
    initial_state: dict[str, ServiceState] = Field(
        default_factory=dict, description="service -> people in it when the simulation starts; empty = start empty"
    )
    sources: dict[str, str] = Field(default_factory=dict, description="field path -> where its value comes from")

    _path: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _initial_state_fits(self):
        problems = _initial_state_problems(self)
        if problems:
            # Raised as a ValidationError so each problem keeps its own field path.
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _groups_share(self):
        total = sum(g.share for g in self.need_groups.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise ValueError(f"need_groups shares must sum to 1, they sum to {total:g}")
        return self

    @model_validator(mode="after")
    def _capacity_events_fit(self):
        services = type(self.services).model_fields
        for i, event in enumerate(self.capacity_events):
            where = f"capacity_events.{i}"
            if event.service not in services:
                raise ValueError(f"{where}.service: no service named '{event.service}' (one of {', '.join(services)})")
            base, integral = self.services.capacity_of(event.service)
            change = event.change
            if base is None and change.set is None:
                raise ValueError(f"{where}.change: {event.service} is unlimited; only 'set' can change it")
            amount = change.set if change.set is not None else change.add
            if integral and amount is not None and not float(amount).is_integer():
                raise ValueError(f"{where}.change: {event.service} counts whole places, got {amount:g}")
            same = [e for e in self.capacity_events if e.service == event.service]
            for date, capacity in capacity_steps(base, same, integral):
                if capacity < 0:
                    raise ValueError(f"{where}.change: {event.service} capacity would be {capacity:g} on {date}")
        return self

    @model_validator(mode="after")
    def _sweep_and_levels_name_fields(self):
        if self.sweep is not None:
            for key in self.sweep.parameters():
                if key.split(".")[0] in {"sweep", "name", "extends", "comparator"} or not _path_exists(self, key.split(".")):
                    raise ValueError(f"sweep: '{key}' is not a field of the scenario that a sweep can vary")
        from sim.kpis import describe  # here, not at the top: sim.kpis needs this module

        for i, level in enumerate(self.service_levels):
            if not describe(level.kpi)[1]:
                raise ValueError(f"service_levels.{i}.kpi: '{level.kpi}' is not a KPI (see docs/outputs.md)")
        return self

    @model_validator(mode="after")
    def _places_fit(self):
        services = type(self.services).model_fields
        for name in self.sharing:
            if name not in services:
                raise ValueError(f"sharing.{name}: no service named '{name}' (one of {', '.join(services)})")
        if not self.places:
            if self.sharing:
                raise ValueError("sharing: needs places (a system of one place has nothing to share)")
            return self
        for name in self.places:
            if not re.fullmatch(PLACE_NAME, name) or name == "system":
                raise ValueError(
                    f"places.{name}: a place name is lower case letters, digits and _ (and not 'system')"
                )
        by_share = [n for n, p in self.places.items() if p.demand_share is not None]
        if by_share and len(by_share) != len(self.places):
            raise ValueError("places: give every place a demand_share, or every place its crises_per_year")
        total = sum(p.demand_share for p in self.places.values()) if by_share else 1.0
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise ValueError(f"places: demand_share must sum to 1, they sum to {total:g}")
        if self.capacity_events:
            raise ValueError("capacity_events: not supported with places yet; change a place's capacity instead")
        for name in services:
            if getattr(getattr(self.services, name), "workforce", None) is not None:
                raise ValueError(f"services.{name}.workforce: not supported with places yet; give a capacity")
        return self

    @model_validator(mode="after")
    def _sources_name_fields(self):
        for key in self.sources:
            if not _path_exists(self, key.split(".")):
                raise ValueError(f"sources names '{key}', which is not a field of the scenario")
        return self

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def resolved(self) -> dict:
        """The scenario after inheritance, as plain data (what was actually run)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"extends"})

    def content_hash(self) -> str:
        text = json.dumps(self.resolved, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_changes(self, changes: dict[str, Any]) -> "Scenario":
        """A copy with dotted-path values changed, validated again (for sweeps, sensitivity, the app)."""
        data = self.resolved
        for dotted, value in changes.items():
            node = data
            parts = dotted.split(".")
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    raise ScenarioError(self._path or "<scenario>", [(dotted, "no such field")])
                node = node[part]
            if not isinstance(node, dict) or parts[-1] not in node:
                raise ScenarioError(self._path or "<scenario>", [(dotted, "no such field")])
            node[parts[-1]] = value
        new = validate(data, self._path or "<scenario>")
        new._path = self._path
        return new


def _path_exists(obj: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(obj, BaseModel):
            names = {n: f for n, f in type(obj).model_fields.items()}
            aliases = {f.alias: n for n, f in names.items() if f.alias}
            name = aliases.get(part, part)
            if name not in names:
                return False
            obj = getattr(obj, name)
        elif isinstance(obj, dict):
            if part not in obj:
                return False
            obj = obj[part]
        elif isinstance(obj, list):
            if not part.isdigit() or int(part) >= len(obj):
                return False
            obj = obj[int(part)]
        else:
            return False
    return True



def validate(data: dict, file: str | Path, origins: dict[tuple, Path] | None = None) -> Scenario:
    """A Scenario from merged data, or ScenarioError with one line per problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(file, problems_from(exc, Scenario, file, origins)) from None
