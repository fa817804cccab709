"""Discounting: a pound paid t years after day 0 of the measured period is worth (1 + r)^-t today.

Cash in year y of a budget impact is taken to fall at mid-year (t = y - 1/2); a cost on a day at mid-day
(t = (day + 1/2) / 365), the convention sim.measure.costs uses for its discounted lines.
"""

from __future__ import annotations

import numpy as np

DAYS_A_YEAR = 365  # the measured period is read in years of 365 days (sim.measure.costs does the same)


def factor(years: float | np.ndarray, rate: float) -> float | np.ndarray:
    """What a pound paid `years` after day 0 is worth at day 0."""
    return (1.0 + rate) ** -np.asarray(years, dtype=float) if isinstance(years, np.ndarray) else (1.0 + rate) ** -years


def mid_year(year: int, rate: float) -> float:
    """The discount factor of cash in year `year` (1-based), paid evenly through it (mid-year convention)."""
    return factor(year - 0.5, rate)


def mid_day(day: int | np.ndarray, rate: float) -> float | np.ndarray:
    """The discount factor of a cost on day `day` (0 = the first measured day), at mid-day."""
    return factor((np.asarray(day, dtype=float) + 0.5) / DAYS_A_YEAR, rate)


def present_value(by_year: dict[int, float] | list[float], rate: float) -> float:
    """The value at day 0 of amounts a year (year 1 first, or {year: amount}), mid-year convention."""
    items = by_year.items() if isinstance(by_year, dict) else enumerate(by_year, start=1)
    return float(sum(amount * mid_year(year, rate) for year, amount in items))


def annuity(amount: float, years: int, rate: float) -> float:
    """Closed form of `amount` a year for `years` years paid at year ends: amount x (1 - (1 + r)^-n) / r."""
    if rate == 0:
        return amount * years
    return amount * (1 - (1 + rate) ** -years) / rate
