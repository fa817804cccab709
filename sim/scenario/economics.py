"""The `economics:` section: how a run's money is read (price year, discounting, horizon) and what a change costs.

- `price_year`: every cost is inflated (or deflated) to pounds of this financial year with the published
  index shipped beside the scenario code (sim/scenario/price_index.csv); a year outside it is refused.
- `discount_rate`: the yearly rate that discounts the economic (lifetime) view to day 0 of the measured
  period; 3.5% is the NICE reference case, `discount_rate_sensitivity` (1.5%) its sensitivity analysis.
  The budget impact, year by year, is cash and is never discounted (ISPOR budget-impact good practice).
- `horizon_years`: the years the budget impact covers; the change starts on day 0 of the measured period,
  so the run must measure at least this many years (run.horizon_days).
- `programme_costs`: what the change itself costs, each with its payer, price year and source: capacity
  (a team, a carer's hours, a bed), paid for every year whether used or not; running costs a year; and
  one-off costs in the year they fall. A programme cost that pays for a service's capacity names it
  (`service:`): that service's activity costs are then capacity used, not cash, in both runs of a
  comparison, so the money is counted once.
- `capacity_value`: the marginal value of a bed-day (or place-day) freed in a service, with its source;
  a service not named here frees capacity that is counted (bed-days, beds) but not valued. Capacity is
  never added into cash.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario import price_index
from sim.scenario.base import MAX_GBP, NAME, NonNegative, Strict

DEFAULT_PRICE_YEAR = "2023/24"
MAX_DISCOUNT_RATE = 0.20


def _known_year(year: str) -> str:
    problem = price_index.year_problem(year)
    if problem:
        raise ValueError(problem)
    return year


class ProgrammeCost(Strict):
    """Something the change pays for: capacity, a running cost, or a one-off investment."""

    name: str = Field(pattern=NAME, description="short name, used in tables")
    label: str = Field(min_length=1, max_length=120, description="what it is, as people read it")
    kind: Literal["capacity", "running", "one_off"] = Field(
        description="capacity: units x gbp a unit a year, paid whether used or not; running: gbp a year;"
        " one_off: gbp once, in `year`"
    )
    payer: Literal["nhs", "council"] = Field(description="who pays: nhs or council")
    gbp: NonNegative = Field(le=MAX_GBP, description="pounds, at `price_year`: a unit a year (capacity), a year"
                             " (running) or once (one_off)")
    units: NonNegative = Field(1.0, le=10_000_000, description="capacity: how many (teams, places, beds)")
    unit: str = Field("", max_length=60, description="capacity: what one unit is (a response slot, a caseload place)")
    year: int = Field(1, ge=1, le=50, description="one_off: the year it is paid; capacity and running: the first year")
    price_year: str = Field(description="the financial year of `gbp` (e.g. 2017/18)")
    source: str = Field(min_length=1, max_length=500, description="where the figure comes from")
    service: str | None = Field(None, pattern=NAME, description="the service whose capacity this pays for: its "
                                "activity costs become capacity used, not cash")

    _year = field_validator("price_year")(_known_year)

    @model_validator(mode="before")
    @classmethod
    def _has_payer(cls, data):
        # A cost nobody pays cannot be netted against anyone's savings: the commonest omission, said plainly.
        if isinstance(data, dict) and data.get("payer") is None:
            raise ValueError("payer: a programme cost needs a payer (nhs or council): who pays for it")
        return data

    def per_year(self) -> float:
        """Pounds a year (capacity, running) or once (one_off), at its own price year."""
        return self.gbp * self.units if self.kind == "capacity" else self.gbp


class CapacityValue(Strict):
    """The marginal value of a day of a place freed (a bed-day, a caseload-day), as the scenario states it."""

    gbp_per_day: NonNegative = Field(le=MAX_GBP, description="pounds a place-day freed is worth, at `price_year`")
    price_year: str
    source: str = Field(min_length=1, max_length=500)

    _year = field_validator("price_year")(_known_year)


class Economics(Strict):
    price_year: str = Field(DEFAULT_PRICE_YEAR, description="every cost in pounds of this financial year")
    discount_rate: float = Field(0.035, ge=0, le=MAX_DISCOUNT_RATE,
                                 description="a year, for the discounted (economic) view; 3.5% is NICE's reference case")
    discount_rate_sensitivity: float = Field(0.015, ge=0, le=MAX_DISCOUNT_RATE,
                                             description="the rate of the sensitivity analysis (1.5%)")
    horizon_years: int = Field(5, ge=1, le=50, description="years of the budget impact, from the change on day 0")
    programme_costs: list[ProgrammeCost] = Field(default_factory=list, description="what the change costs, by payer")
    capacity_value: dict[str, CapacityValue] = Field(
        default_factory=dict, description="service -> marginal value of a place-day freed; unnamed: not valued"
    )

    _year = field_validator("price_year")(_known_year)

    @field_validator("horizon_years", mode="before")
    @classmethod
    def _some_years(cls, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
            raise ValueError("a horizon of zero years has no budget impact; give 1 or more (default 5)")
        return value

    @field_validator("discount_rate", "discount_rate_sensitivity", mode="before")
    @classmethod
    def _a_rate(cls, value):
        # A rate written as a percentage (3.5 for 3.5%) is the likeliest slip: say so.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > MAX_DISCOUNT_RATE:
            raise ValueError(f"{value:g} is above {MAX_DISCOUNT_RATE:.0%} a year; write a rate as a fraction"
                             " (0.035 for 3.5%)")
        return value

    @model_validator(mode="after")
    def _unique_names(self):
        names = [c.name for c in self.programme_costs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"programme_costs: the name {', '.join(twice)} is used twice; give each its own")
        return self


def economics_problems(s) -> list[str]:
    """What the economics section says that the rest of the scenario contradicts."""
    problems = []
    e = s.economics
    for i, cost in enumerate(e.programme_costs):
        if cost.service is not None and cost.service not in s.services:
            problems.append(f"economics.programme_costs.{i}.service: '{cost.service}' is not a service")
        if cost.year > e.horizon_years:
            problems.append(f"economics.programme_costs.{i}.year: year {cost.year} is after the horizon"
                            f" ({e.horizon_years} years)")
    for name in e.capacity_value:
        if name not in s.services:
            problems.append(f"economics.capacity_value.{name}: not a service")
    for name, spec in s.services.items():
        for j, cost in enumerate(spec.costs):
            year = getattr(cost, "price_year", None)
            if year is not None and price_index.year_problem(year):
                problems.append(f"services.{name}.costs.{j}.price_year: {price_index.year_problem(year)}")
    return problems
