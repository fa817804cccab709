"""Capacity a system adds when it is under pressure, as data: escalation beds and spot-purchased care.

Real systems do not let queues grow without answer. A hospital opens
escalation beds when its occupancy passes a level (OPEL escalation) and
closes them when it falls; home-based services buy extra care from
independent providers when people wait too long. Both cost more than core
capacity, and both are optional, for a service or for one place.

    acute:
      escalation: {open_above: 0.97, close_below: 0.93, beds_share: 0.04, review_hours: 4,
                   gbp_per_day: 100, payer: nhs}
    reablement:
      spot_purchase: {above_wait_days: 2, step_share: 0.035, up_to_share: 0.14, gbp_per_day: 124, payer: council}

Occupancy is the share of the core beds in use (people in escalation beds
count above 100%), so a level of 1 (100%) never opens beds. What is opened is a share
of the core capacity, so it follows the system's size and each place's own.
The mechanics are in sim/pathway/escalation.py.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from sim.scenario.base import MAX_GBP, NonNegative, Strict

REVIEW_HOURS_MAX = 24 * 28


class _Priced(Strict):
    # (lower field, higher field, what is wrong if the lower is above the higher)
    _ordered: ClassVar[tuple[str, str, str]]

    gbp_per_day: NonNegative = Field(le=MAX_GBP, description="cost of a unit of extra capacity (a bed, a place, a"
                                     " visit-hour a day) for each day it is open, above what the core costs")
    payer: Literal["nhs", "council"]

    @model_validator(mode="after")
    def _in_order(self):
        low, high, problem = self._ordered
        if getattr(self, low) > getattr(self, high):
            raise ValueError(f"{problem} ({getattr(self, low):g} > {getattr(self, high):g})")
        return self


class Escalation(_Priced):
    """Escalation beds: opened above an occupancy, closed below another, at a cost per bed-day open."""

    open_above: float = Field(ge=0, le=1, description="share of core beds occupied (0 to 1) above which they open")
    close_below: float = Field(ge=0, le=1, description="share of core beds occupied (0 to 1) below which they close")
    beds_share: float = Field(gt=0, le=10, description="escalation beds opened at once, as a share of the core beds"
                              " (0.04 = 4%; at least one bed)")
    review_hours: float = Field(4.0, gt=0, le=REVIEW_HOURS_MAX, description="how often occupancy is reviewed (bed meetings)")
    _ordered = ("close_below", "open_above", "close_below is above open_above: beds would open and close at once")


class SpotPurchase(_Priced):
    """Care bought from other providers when the expected wait for a new referral passes a threshold."""

    above_wait_days: float = Field(gt=0, le=365, description="expected wait (days) for someone asking now above"
                                   " which more is bought")
    step_share: float = Field(gt=0, le=10, description="capacity bought at a time, as a share of the core capacity"
                              " (places, or visit-hours a day; at least one place)")
    up_to_share: float = Field(gt=0, le=10, description="most capacity bought at once, as a share of the core")
    review_hours: float = Field(24.0, gt=0, le=REVIEW_HOURS_MAX, description="how often waits are reviewed")
    _ordered = ("step_share", "up_to_share", "step_share is more than up_to_share")
