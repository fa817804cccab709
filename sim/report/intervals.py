"""Means over replications with 95% confidence intervals, and paired differences between roles.

Replications of the scenario and its comparator share random numbers
replication by replication, so a difference is estimated from the paired
differences (one per replication), which is far tighter than comparing two
separate means.

Private to the report until the experiment module offers the same; the
formulas are the textbook t-interval, so merging them later changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (nan when it cannot be estimated)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def estimate(values: np.ndarray | pd.Series) -> Estimate:
    """Mean and t-interval of independent replication values; nans (undefined in a replication) are dropped."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1 or not np.isfinite(x).all():
        # One replication has no spread; an unlimited capacity (inf) has no interval.
        return Estimate(mean, math.nan, math.nan, n)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)

