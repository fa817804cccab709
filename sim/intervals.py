"""Means and 95% confidence intervals across independent replications, and the summary table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from sim.measure.kpis import describe

ROLES = ("scenario", "comparator")

LEVEL = 0.95


def confidence_interval(values, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval (low, high) of independent replication values.

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
    return (mean, mean - half, mean + half)


def interval_row(values) -> dict[str, float]:
    """Count, mean, sd and 95% CI of one measure across replications, as a table row."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    mean, low, high = confidence_interval(x)
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
            rows.append({"role": role, "kpi": kpi, "label": label, "unit": unit, **interval_row(table[kpi])})
    return pd.DataFrame(rows)
