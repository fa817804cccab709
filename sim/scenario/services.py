"""Services as data: a name the user chooses and a kind that says how the service holds people.

Kinds and their mechanics (sim/pathway/kinds.py):

- `beds`: places held for a length of stay; with none free, people queue (in
  ED for acute beds, at home or in the bed they hold for others). Leaving may
  take a discharge process first, spent in the bed.
- `caseload`: the same mechanics for people looked after at home (a caseload
  of reablement or a virtual ward); costed per episode or per day.
- `visits`: home-based capacity as staff visit-hours a day, each person's
  visits tapering over their episode (IPACS's model of pathway 1).
- `response_team`: an urgent response with a give-up time: with no team free
  in time, people go elsewhere (`give_up_to`).
- `long_term`: a placement that lasts years (home care, a care home); costed
  as occupancy year by year (cash) and as the whole cost it commits when it
  starts (the economic view), split by a means test whose payers may change.
- `unlimited`: never makes anyone wait (a stay with no capacity limit).

Name, capacity, lengths of stay, where people go next, costs and payer are values.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from sim.random.distributions import Distribution
from sim.scenario.escalation import Escalation, SpotPurchase
from sim.scenario.base import MAX_DAYS, MAX_GBP, NAME, Capacity, NonNegative, Strict, unlimited_to_none

KINDS = ("beds", "caseload", "visits", "response_team", "long_term", "unlimited")
Payer = Literal["nhs", "council", "means_tested"]

# What a unit cost may be counted per, by kind.
PER = {
    "beds": {"day", "week", "episode", "arrival"},
    "caseload": {"day", "week", "episode", "arrival"},
    "unlimited": {"day", "week", "episode", "arrival"},
    "visits": {"day", "week", "episode", "arrival", "visit_hour"},
    "response_team": {"day", "response", "episode"},
    "long_term": {"day", "week", "episode", "hour"},
}


def _within_a_century(spec):
    # Valid alone, a stay of 1e300 days overflows once need-group and place multipliers scale it.
    if spec.mean() > MAX_DAYS:
        raise ValueError(f"a mean stay of {spec.mean():g} days is more than a century ({MAX_DAYS:,} days)")
    return spec


#: A length of stay (or of a process): a distribution whose mean is at most a century.
Stay = Annotated[Distribution, AfterValidator(_within_a_century)]


class UnitCost(Strict):
    gbp: NonNegative = Field(le=MAX_GBP, description="pounds per unit, at `price_year`")
    per: Literal["day", "week", "hour", "visit_hour", "episode", "arrival", "response"] = Field(
        description="day/week: occupied (or committed) days; episode: admissions; arrival: people arriving to ask;"
        " response: responses reached; hour: hours of care committed; visit_hour: visit-hours delivered"
    )
    payer: Payer
    self_funder_gbp: NonNegative | None = Field(
        None, le=MAX_GBP, description="rate a self-funder is charged, if higher (means-tested services)"
    )
    name: str | None = Field(None, pattern=NAME, description="the cost line's name (default: the service's)")
    label: str | None = Field(None, max_length=80, description="the cost line's name as shown")
    price_year: str | None = Field(None, max_length=20, description="the financial year of its source's prices"
                                   " (e.g. 2017/18); inflated to economics.price_year. None: already at it")


class DischargeProcess(Strict):
    """Assessments and decisions once ready to leave, spent in the place the person holds."""

    days: Stay
    skip_for: list[str] = Field(
        default_factory=list, description="routes or destinations that need no process (e.g. died, P0)"
    )


class Workforce(Strict):
    """Home-based capacity as staff visit-hours a day; each person's visits taper over their episode."""

    visit_hours_per_day: NonNegative = Field(le=10_000_000, description="staff hours of visits available each day")
    first_day_hours: float = Field(gt=0, le=24, description="visit-hours a person needs on the first day of the episode")
    last_day_hours: NonNegative = Field(le=24, description="visit-hours a day at the end of the episode (linear taper)")

    @model_validator(mode="after")
    def _tapers(self):
        if self.last_day_hours > self.first_day_hours:
            raise ValueError(
                f"last_day_hours ({self.last_day_hours:g}) is above first_day_hours ({self.first_day_hours:g});"
                " visits taper, they do not grow"
            )
        return self


class _Service(Strict):
    label: str | None = Field(None, max_length=80, description="shown in tables and figures")
    then: str = Field("home", description="where people go when their stay ends: a route, a service or an end")
    costs: list[UnitCost] = Field(default_factory=list)
    group_multiplier: bool = Field(True, description="need groups' los_multiplier applies to stays here")
    waiting: Literal["blocking", "apart"] = Field(
        "blocking", description="blocking: people wait for a slot here in the slot they hold elsewhere (a delayed"
        " discharge); apart: they leave it and wait apart (in ED for an acute bed)"
    )

    _unlimited = field_validator("capacity", mode="before", check_fields=False)(unlimited_to_none)

    @model_validator(mode="after")
    def _costs_fit(self):
        kind = self.kind  # type: ignore[attr-defined]
        for i, cost in enumerate(self.costs):
            if cost.per not in PER[kind]:
                raise ValueError(
                    f"costs.{i}.per is '{cost.per}'; a {kind} service is costed per one of {', '.join(sorted(PER[kind]))}"
                )
        return self


class Beds(_Service):
    kind: Literal["beds"]
    capacity: Capacity = Field(description="beds; null or unlimited = never full")
    los_days: Stay = Field(description="arrival until ready to leave")
    discharge_process: DischargeProcess | None = None
    escalation: Escalation | None = Field(None, description="beds opened when occupancy is high (sim/scenario/escalation.py)")


class Caseload(_Service):
    kind: Literal["caseload"]
    capacity: Capacity = Field(description="people looked after at once")
    los_days: Stay
    discharge_process: DischargeProcess | None = None
    spot_purchase: SpotPurchase | None = Field(None, description="care bought when waits are long (sim/scenario/escalation.py)")


class Unlimited(_Service):
    kind: Literal["unlimited"]
    los_days: Stay
    discharge_process: DischargeProcess | None = None


class Visits(_Service):
    kind: Literal["visits"]
    workforce: Workforce
    los_days: Stay
    spot_purchase: SpotPurchase | None = Field(None, description="visit-hours bought when waits are long (sim/scenario/escalation.py)")


class ResponseTeam(_Service):
    kind: Literal["response_team"]
    capacity: Capacity = Field(description="responses the team can run at once")
    give_up_hours: float = Field(gt=0, le=24 * 365, description="waiting longer than this for a team, people go to give_up_to")
    give_up_to: str = Field(description="where people go when no team is free in time")
    target_hours: float = Field(2.0, gt=0, le=24 * 365, description="reached within this time counts as on target")
    travel_hours: Distribution = Field(description="from the team being free to arriving")
    duration_days: Stay = Field(description="time with a person the team keeps at home")
    handover_to: list[str] = Field(default_factory=list, description="destinations that end the response early")
    handover_hours: float = Field(2.0, ge=0, le=24 * 365, description="time spent before a handover")


class LongTerm(_Service):
    kind: Literal["long_term"]
    capacity: Capacity = Field(None, description="places or packages at once; null = unlimited")
    duration_days: Stay
    hours_per_week: Distribution | None = Field(None, description="hours of care a week (home care packages)")
    hours_per_week_after: dict[str, Distribution] = Field(
        default_factory=dict, description="route -> hours of care a week for people that route sends here"
        " (someone diverted from a care home needs a larger package than usual)")
    then: str = "left"
    group_multiplier: bool = False


def _kind(value: Any) -> str | None:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


ServiceSpec = Annotated[
    Union[
        Annotated[Beds, Tag("beds")], Annotated[Caseload, Tag("caseload")], Annotated[Unlimited, Tag("unlimited")],
        Annotated[Visits, Tag("visits")], Annotated[ResponseTeam, Tag("response_team")],
        Annotated[LongTerm, Tag("long_term")],
    ],
    Discriminator(_kind, custom_error_type="unknown_kind",
                  custom_error_message=f"'kind' must be one of {', '.join(KINDS)}"),
]


def capacity_of(service: Any) -> tuple[float | None, bool]:
    """A service's configured capacity (None = unlimited) and whether it counts whole places."""
    if isinstance(service, Visits):
        return service.workforce.visit_hours_per_day, False
    return getattr(service, "capacity", None), True


def stay_of(service: Any):
    """The distribution of a stay in this service."""
    return service.duration_days if isinstance(service, (LongTerm, ResponseTeam)) else service.los_days
