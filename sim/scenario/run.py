"""When and how long a run is, and the demand surges on its calendar; the means test."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from sim.random.distributions import Distribution
from sim.scenario.base import NonNegative, Probability, Strict, SUM_TOLERANCE


class RunSettings(Strict):
    horizon_days: int = Field(365, ge=1, le=36_500, description="length of the measured period, days")
    warmup_days: int = Field(0, ge=0, le=36_500, description="simulated before measuring starts, days")
    replications: int = Field(10, ge=1, le=10_000)
    seed: int = Field(12345, ge=0, le=2**63 - 1)
    start_date: dt.date = Field(dt.date(2019, 4, 1), description="calendar date of the first measured day")

    @model_validator(mode="after")
    def _calendar(self):
        # A run's last day must be a date: years past 9999 have none.
        if self.start_date.year > 2200 or self.start_date.year < 1900:
            raise ValueError(f"start_date {self.start_date} is outside 1900-2200")
        return self


class Surge(Strict):
    """A period of higher (or lower) demand: winter, a heatwave, an outbreak (see sim/events.py)."""

    name: str = Field(min_length=1)
    start: dt.date = Field(description="first day of the surge")
    end: dt.date = Field(description="last day of the surge (included)")
    multiplier: NonNegative = Field(le=10_000, description="multiplies the crisis rate on every day of the surge (sim/budget.py refuses a run too large)")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.end.year > 2200:
            raise ValueError("dates after 2200 are out of reach of any run")
        return self


class SpendDown(Strict):
    """Savings that run down while a person pays for long-term care (the means test, Care Act 2014).

    A self-funder pays until their savings reach the upper limit (£23,250), then
    contributes in part; a partial funder pays in part until the lower limit
    (£14,250), then the council pays. Each time is drawn per person from the
    start of their care; a person who leaves care first never changes.
    """

    to_upper_days: Distribution = Field(
        description="days in care until a self-funder's savings reach the upper limit: then partly funded")
    to_lower_days: Distribution | None = Field(
        None, description="days partly funded until savings reach the lower limit: then council-funded;"
        " null = partly funded until care ends")


class Funding(Strict):
    """Means test for long-term care (England, £14,250 / £23,250 thresholds)."""

    self_funder_share: Probability = Field(description="assets above the upper limit: pay in full")
    partial_share: Probability = Field(description="assets between the limits: contribute in part")
    partial_contribution: Probability = Field(description="share of the council rate a partial funder pays")
    spend_down: dict[str, SpendDown] = Field(
        default_factory=dict, description="long-term service -> how its payers' savings run down;"
        " a service not named: means never change")

    @model_validator(mode="after")
    def _shares(self):
        if self.self_funder_share + self.partial_share > 1 + SUM_TOLERANCE:
            raise ValueError(
                f"self_funder_share + partial_share = {self.self_funder_share + self.partial_share:g}, above 1"
            )
        return self
