"""A mean over replications with its 95% confidence interval, as the report passes it around.

The arithmetic is sim.intervals', the project's one interval rule: a quantity
in a unit that cannot be negative (people, places, days, hours, bed-days, GBP)
gets the log-scale t interval, never below 0, unless some replication was
negative; anything else, and every difference between the scenario and its
comparator (paired replication by replication, common random numbers, before
it gets here, and passed without a unit), gets the symmetric Student-t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.intervals import T, interval_row


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (nan bounds when it cannot be estimated)."""

    mean: float
    low: float
    high: float
    n: int
    method: str = T  # sim.intervals' method: t or log-t


def estimate(values: np.ndarray | pd.Series | list[float], unit: str | None = None) -> Estimate:
    """Mean and 95% CI of independent replication values, by sim.intervals' rule for `unit`.

    Nans (undefined in a replication) are left out. Without a unit (a difference, a change), the t interval.
    """
    row = interval_row(np.asarray(values, dtype=float), unit)
    return Estimate(row["mean"], row["ci_low"], row["ci_high"], row["replications"], row["method"])
