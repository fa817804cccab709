"""A mean over replications with its 95% confidence interval, as the report passes it around.

The arithmetic is sim.intervals' (Student t over replications); differences
between the scenario and its comparator are paired replication by replication
(common random numbers) before they get here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.intervals import confidence_interval


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (nan bounds when it cannot be estimated)."""

    mean: float
    low: float
    high: float
    n: int


def estimate(values: np.ndarray | pd.Series | list[float]) -> Estimate:
    """Mean and 95% CI of independent replication values; nans (undefined in a replication) are left out."""
    x = np.asarray(values, dtype=float)
    mean, low, high = confidence_interval(x)
    return Estimate(mean, low, high, int((~np.isnan(x)).sum()))
