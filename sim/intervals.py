"""Means and 95% confidence intervals across independent replications, and the summary table.

Two methods, named in every table's `method` column:

- `t`: the Student-t interval, mean +/- t * sd / sqrt(n). For quantities that
  can take either sign: differences between a scenario and its comparator,
  changes, shares.
- `log-t`: for quantities that cannot be negative (people, places, days,
  hours, bed-days, pounds: the units in NON_NEGATIVE_UNITS), the same t
  interval on the log of the mean, by the delta method: mean / f to mean * f
  with f = exp(t * sd / (sqrt(n) * mean)). It is never below 0 and, being
  wider above than below, follows the right skew of waits, queues and counts;
  in simulation checks it covers the true mean at least as often as the
  symmetric interval (tests/test_intervals.py). A quantity of such a unit
  that took a negative value in some replication (a net figure) is evidently
  not bounded by 0, and gets `t`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from sim.measure.kpis import describe

ROLES = ("scenario", "comparator")

LEVEL = 0.95

# Units of KPIs that cannot be negative (sim.measure.kpis describe); shares are bounded too, but by 0 and 1,
# and keep the symmetric interval.
NON_NEGATIVE_UNITS = frozenset({"people", "places", "days", "hours", "bed-days", "GBP"})
T, LOG_T = "t", "log-t"


def method_for(unit: str | None, values) -> str:
    """The interval method for a quantity of this unit with these replication values."""
    if unit not in NON_NEGATIVE_UNITS:
        return T
    x = np.asarray(values, dtype=float)
    return LOG_T if np.all(x[~np.isnan(x)] >= 0) else T


def confidence_interval(values, level: float = LEVEL, method: str = T) -> tuple[float, float, float]:
    """Mean and interval (low, high) of independent replication values, by `method` (t or log-t).

    Missing values (NaN) are left out; the bounds are NaN below two values. Identical values
    (a fixed capacity, an unlimited one) have an interval of zero width.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    if n < 2:
        return (float(x[0]), math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]), float(x[0]))
    if not np.all(np.isfinite(x)):
        return (float(np.mean(x)), math.nan, math.nan)
    mean = float(x.mean())
    # Student's t quantile from scipy.special (what stats.t.ppf computes): importing scipy.stats
    # costs each worker about half a second.
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n))
    if method == LOG_T:
        if np.any(x < 0):
            raise ValueError("a log-scale interval needs values that are not negative")
        factor = math.exp(half / mean)  # mean > 0 here: the values are not all equal, none below 0
        return (mean, mean / factor, mean * factor)
    return (mean, mean - half, mean + half)


def interval_row(values, unit: str | None = None) -> dict[str, float | str]:
    """Count, mean, sd and 95% CI of one measure across replications, as a table row.

    `unit` chooses the method (see the module's docstring); without one, the t interval.
    `half_width` is half the interval's width (the log-scale interval is not symmetric).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    method = method_for(unit, x)
    mean, low, high = confidence_interval(x, method=method)
    half = (high - low) / 2 if low != high else 0.0
    finite = len(x) > 1 and np.all(np.isfinite(x))
    return {
        "replications": len(x),
        "mean": mean,
        "sd": float(np.std(x, ddof=1)) if finite else math.nan,
        "ci_low": low,
        "ci_high": high,
        "half_width": half,
        "relative_half_width": relative(half, mean),
        "method": method,
    }


def relative(half_width: float, mean: float) -> float:
    """Half-width as a share of the mean (the precision the sequential rule aims at)."""
    if half_width == 0:
        return 0.0
    return abs(half_width / mean) if mean else math.inf


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Every KPI of every role: label, unit, mean, sd and 95% CI across replications."""
    rows = []
    roles = [r for r in ROLES if r in set(kpis["role"])] + sorted(set(kpis["role"]) - set(ROLES))
    for role in roles:
        table = kpis[kpis["role"] == role].pivot(index="replication", columns="kpi", values="value")
        order = pd.unique(kpis.loc[kpis["role"] == role, "kpi"])
        for kpi in order:
            label, unit, _ = describe(kpi)
            rows.append({"role": role, "kpi": kpi, "label": label, "unit": unit,
                         **interval_row(table[kpi], unit)})
    return pd.DataFrame(rows)
