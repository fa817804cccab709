"""Places (localities) as a dimension of the system, and what each place may set for itself.

A system is the sum of its places. Each place has its demand (a share of the
system's crises, or its own rate), and may set its own need-group mix,
capacities and length-of-stay multipliers per service, arrivals straight
into a service (discharge-flow models such as IPACS), the state it starts
from, and capacity events. Routes may differ by place (`by_place`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import (
    MAX_DAYS,
    Capacity,  # noqa: F401  (re-exported for place-level schemas)
    Multiplier,
    NonNegative,
    Probability,
    Strict,
    sum_problem,
    unlimited_to_none,
)
from sim.scenario.escalation import Escalation, SpotPurchase
from sim.scenario.services import Stay

MAX_ARRIVALS_PER_DAY = 100_000


class ServiceState(Strict):
    """People in one service when the simulation starts: holding a place, and waiting for one."""

    occupied: int = Field(0, ge=0, le=1_000_000, description="people holding a place (bed, caseload slot, placement)")
    waiting: int = Field(0, ge=0, le=1_000_000, description="people waiting for a place (acute: in ED; others: at home)")


class Arrivals(Strict):
    """People arriving straight into a service or route: a rate, or a series of expected arrivals a day.

    Each day's number is Poisson with that day's mean; `daily` covers the
    warm-up and the measured period, day by day, warm-up first: a series
    shorter than the run is refused (sim/scenario/schema.py), values past
    its end are not used.
    """

    per_day: NonNegative | None = Field(None, le=MAX_ARRIVALS_PER_DAY)
    daily: list[NonNegative] | None = Field(None, min_length=1, max_length=MAX_DAYS * 2)

    @model_validator(mode="after")
    def _one(self):
        if (self.per_day is None) == (self.daily is None):
            raise ValueError("give either per_day or daily")
        if self.daily is not None and max(self.daily) > MAX_ARRIVALS_PER_DAY:
            raise ValueError(f"daily: at most {MAX_ARRIVALS_PER_DAY:,} a day")
        return self

    def mean_on(self, day: int) -> float:
        if self.per_day is not None:
            return self.per_day
        return self.daily[min(day, len(self.daily) - 1)]


class CapacityChange(Strict):
    set: NonNegative | None = Field(None, le=10_000_000, description="the new capacity")
    add: float | None = Field(None, ge=-10_000_000, le=10_000_000, description="places (or visit-hours) added; negative removes")
    multiply: NonNegative | None = Field(None, le=1000, description="scales capacity: 0.7 is a 30% cut")

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [k for k in ("set", "add", "multiply") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of set, add or multiply (got {', '.join(given) or 'none'})")
        return self


class CapacityEvent(Strict):
    name: str = Field(min_length=1, max_length=80)
    service: str = Field(description="the service whose capacity changes")
    start: dt.date = Field(description="first day with the changed capacity")
    end: dt.date | None = Field(None, description="last day with the changed capacity (included); null = to the end")
    change: CapacityChange

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.start.year > 2200 or (self.end is not None and self.end.year > 2200):
            raise ValueError("dates after 2200 are out of reach of any run")
        return self


class PlaceService(Strict):
    """What a place sets for one service; capacity left out is the place's demand share of the system's."""

    capacity: Annotated[float, Field(ge=0, le=10_000_000)] | None = Field(
        None, description="this place's own capacity: whole places, or visit-hours a day for visits"
    )
    los_multiplier: Multiplier = Field(1.0, description="multiplies stays here for this place's people")
    los_days: Stay | None = Field(None, description="this place's own length of stay here (instead of the service's)")
    escalation: Escalation | None = Field(None, description="this place's own escalation beds (beds services)")
    spot_purchase: SpotPurchase | None = Field(None, description="this place's own spot purchase (caseload, visits)")

    _unlimited = field_validator("capacity", mode="before")(unlimited_to_none)


class Place(Strict):
    demand_share: Probability | None = Field(None, description="share of the system's crises arising here")
    crises_per_year: NonNegative | None = Field(None, le=10_000_000, description="this place's crises a year")
    need_groups: dict[str, Probability] | None = Field(None, description="this place's need-group mix (shares)")
    services: dict[str, PlaceService] = Field(default_factory=dict)
    arrivals: dict[str, Arrivals] = Field(default_factory=dict, description="arrivals straight into a service or route")
    initial_state: dict[str, ServiceState | None] = Field(default_factory=dict)
    capacity_events: list[CapacityEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _demand(self):
        if self.demand_share is not None and self.crises_per_year is not None:
            raise ValueError("give demand_share or crises_per_year, not both (set the other to null)")
        if self.need_groups is not None:
            problem = sum_problem(self.need_groups, "need-group shares")
            if problem:
                raise ValueError(f"need_groups: {problem}")
        return self


class Sharing(Strict):
    """How places share one service: each its own (local), one capacity for all (pooled), or overflow."""

    mode: Literal["local", "pooled", "overflow"] = "local"
    out_of_area_cost_gbp: NonNegative = Field(0.0, le=1e7, description="charged for each placement outside the person's place")
    after_hours: NonNegative = Field(
        0.0, le=24 * 365, description="overflow: hours a person waits for their own place before taking one elsewhere"
    )

    @model_validator(mode="after")
    def _after_only_for_overflow(self):
        if self.after_hours and self.mode != "overflow":
            raise ValueError(f"after_hours applies to mode overflow only (mode is {self.mode})")
        return self
