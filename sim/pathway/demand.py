"""When crises happen: a Poisson process whose rate varies by day of week, month of year and surges."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.scenario.calendar import surge_factors
from sim.scenario import Scenario


def simulation_start(scenario: Scenario) -> dt.date:
    """Calendar date of simulated day 0 (the warm-up comes before the first measured day)."""
    return scenario.run.start_date - dt.timedelta(days=scenario.run.warmup_days)


def daily_rates(scenario: Scenario, days: int, per_year: float | None = None) -> np.ndarray:
    """Expected crises on each simulated day (day 0 = `simulation_start`); `per_year` overrides the scenario's rate."""
    demand = scenario.demand
    weekday = np.asarray(demand.weekday_multipliers, float)
    month = np.asarray(demand.monthly_multipliers, float)
    weekday = weekday / weekday.mean()
    month = month / month.mean()
    start = simulation_start(scenario)
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    base = (demand.crises_per_year if per_year is None else per_year) / 365.0
    rates = np.array([base * weekday[d.weekday()] * month[d.month - 1] for d in dates])
    return rates * np.asarray(surge_factors(demand.surges, start, days))


def arrival_times(rates: np.ndarray, uniform, end: float):
    """Arrival times of a Poisson process with a constant rate within each day, by inverting its hazard.

    Exact (no thinning), and one uniform draw per arrival, so two scenarios
    with the same demand see the same arrivals.
    """
    # Python floats, not numpy scalars: the same values, but every event time computed
    # from them (and so the whole simulation clock) runs several times faster.
    rates = [float(rate) for rate in rates]
    t = 0.0
    hazard = -math.log(1.0 - uniform())
    while t < end:
        day = int(t)
        rate = rates[day] if day < len(rates) else rates[-1]
        remaining = min(day + 1.0, end) - t
        if rate * remaining > hazard:
            t += hazard / rate
            yield t
            hazard = -math.log(1.0 - uniform())
        else:
            hazard -= rate * remaining
            t = day + 1.0
