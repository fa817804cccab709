"""MSER-5 on the daily census: where each series has settled, and how much warm-up a run needs.

How long to simulate before measuring: MSER-5 on the daily census, and a Welch plot to check it by eye.

A model started empty shows an initial transient: beds fill, queues form,
and only after a while does the census fluctuate around its long-run level.
Measuring from the start would bias every KPI towards an emptier system.

MSER-5 (White 1997; White, Cobb and Spratt 2000) picks the truncation point
d that minimises the standard error of the mean of what is left: batch the
series into means of 5 days, Z_1..Z_k, and choose d minimising

    MSER(d) = sum_{j>d} (Z_j - mean(Z_{d+1..k}))^2 / (k - d)^2.

Cutting more removes bias but leaves fewer days to average; the minimum
balances the two. As Hoad, Robinson and Davies (2010) advise, only the first
half of the series is searched: the last few batches alone can look perfectly
steady by chance, all the more when the census is strongly autocorrelated (a
service run near full). A cut at the end of that half means the series is
still drifting (too short a run, or a queue that grows without limit), and
the suggestion is then a lower bound, not an answer.

The series are averaged across replications first (Welch's method, and the
practice Hoad et al. recommend), so a replication's noise does not move the
suggestion.

The diagnostic that runs a scenario for this, draws the Welch plot and prints
the table is `sim.warmup`; trust warnings (`sim.trust`) use this module alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.scenario import Scenario, labels

BATCH_DAYS = 5
# A cut this far into the searched half (or further) means the series has not settled.
DRIFT_FROM = 0.9
MEASURES = ("occupancy", "queue")
# Services whose stays last days or weeks: their census settles within a run.
# Long-term care stays last years; see docs/warm-up.md for why no warm-up is needed for them.


def short_term(service: str) -> bool:
    """Not a long-term placement, by the kinds of the scenarios read in this process (sim.scenario.labels)."""
    return not labels.long_term(service)


def long_term_services(scenario: Scenario) -> frozenset[str]:
    """The scenario's services of kind long_term: their census takes years to settle."""
    return frozenset(name for name, spec in scenario.services.items() if spec.kind == "long_term")


SETTLED = "settled"
DRIFTING = "still drifting"
CONSTANT = "constant"
SPARSE = "too sparse"
# People: a series averaging fewer has no level to settle to, only rare bursts (a queue that is
# nearly always empty), and MSER-5 would read a late burst as drift.
MIN_LEVEL = 1.0


@dataclass(frozen=True)
class Truncation:
    """Where MSER-5 would cut one series."""

    days: int       # days to discard from the start of the series
    status: str     # SETTLED, DRIFTING (a lower bound only), CONSTANT or SPARSE (nothing to learn)


def mser(series: np.ndarray, batch: int = BATCH_DAYS) -> Truncation:
    """MSER-`batch` truncation of a series of daily values (days from the start of the series)."""
    values = np.asarray(series, dtype=float)
    k = len(values) // batch
    if k < 4:
        raise ValueError(f"MSER-{batch} needs at least {4 * batch} days; the series has {len(values)}")
    z = values[: k * batch].reshape(k, batch).mean(axis=1)
    if np.ptp(z) <= 1e-9 * max(1.0, np.abs(z).max()):
        return Truncation(0, CONSTANT)
    z = z - z.mean()  # centred, so the sums of squares below lose no precision on large counts
    # Sums over the tail j > d for every d, from reversed cumulative sums.
    tail_sum = np.cumsum(z[::-1])[::-1]
    tail_squares = np.cumsum((z * z)[::-1])[::-1]
    last = k // 2
    n = k - np.arange(last + 1)
    sse = tail_squares[: last + 1] - tail_sum[: last + 1] ** 2 / n
    d = int(np.argmin(np.maximum(sse, 0.0) / n**2))
    return Truncation(d * batch, DRIFTING if d >= DRIFT_FROM * last else SETTLED)


def welch(series: np.ndarray, window: int) -> np.ndarray:
    """Welch's moving average (Law and Kelton): centred means of 2w+1 days, shorter near the start.

    Element i is the mean of days i-w..i+w (or i-i..i+i for the first w days);
    the last w days have no centred window and are left out.
    """
    values = np.asarray(series, dtype=float)
    m = len(values)
    if window < 1 or m <= window:
        raise ValueError(f"the Welch window must be at least 1 day and shorter than the series ({m} days)")
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(m - window)
    half = np.minimum(i, window)
    return (cumulative[i + half + 1] - cumulative[i - half]) / (2 * half + 1)


# --- the census of a run ----------------------------------------------------------------


def mean_census(daily: pd.DataFrame, role: str = "scenario") -> pd.DataFrame:
    """Occupancy and queue per day and service, averaged across replications.

    Takes ResultSet.daily (filtered to `role`) or ReplicationResult.daily frames
    stacked with a `replication` column. Columns: (measure, service); index: day.
    """
    if "role" in daily.columns:
        daily = daily[daily["role"] == role]
    if daily.empty:
        raise ValueError(f"no daily census rows{' for role ' + role if 'role' in daily.columns else ''}")
    return daily.pivot_table(index="day", columns="service", values=list(MEASURES), aggfunc="mean").sort_index()


@dataclass(frozen=True)
class SeriesSuggestion:
    service: str
    measure: str
    truncation: Truncation
    per_replication: tuple[int, int]          # smallest and largest MSER-5 cut of single replications, days
    mean_after: float                         # mean of the series after the cut (across replications)
    ci_after: tuple[float, float]             # 95% CI of that mean (t-interval over replications)


@dataclass(frozen=True)
class Suggestion:
    """MSER-5 warm-up per service and measure, and one warm-up for the run."""

    series: list[SeriesSuggestion]
    days: int                     # the largest settled cut over the short-term services
    drifting: list[str]           # short-term series still drifting at the end of the window
    first_day: int                # the day (in the census's numbering) the series start from
    long_term: frozenset[str] | None = None  # services left out of the suggestion (None: by their kinds)

    def for_service(self, service: str) -> int:
        return max((s.truncation.days for s in self.series if s.service == service), default=0)

    def short_term(self, service: str) -> bool:
        return short_term(service) if self.long_term is None else service not in self.long_term


def suggest(daily: pd.DataFrame, role: str = "scenario", batch: int = BATCH_DAYS,
            long_term: frozenset[str] | None = None) -> Suggestion:
    """MSER-5 on every service's occupancy and queue; days are counted from the first day of the census.

    `long_term` names the services whose stays last years (left out of the suggestion); by default,
    the services of kind long_term in the scenarios read in this process.
    """
    is_short = (lambda service: service not in long_term) if long_term is not None else short_term
    if "role" in daily.columns:
        daily = daily[daily["role"] == role]
    mean = mean_census(daily)
    first_day = int(mean.index[0])
    series: list[SeriesSuggestion] = []
    for measure in MEASURES:
        for service in mean[measure].columns:
            values = mean[measure][service].to_numpy()
            cut = mser(values, batch)
            if cut.status != CONSTANT and values.mean() < MIN_LEVEL:
                cut = Truncation(cut.days, SPARSE)
            per_rep = _per_replication(daily, service, measure, batch)
            after = _mean_after(daily, service, measure, first_day + cut.days)
            series.append(SeriesSuggestion(service, measure, cut, per_rep, *after))
    short = [s for s in series if is_short(s.service) and s.truncation.status in (SETTLED, DRIFTING)]
    days = max((s.truncation.days for s in short if s.truncation.status == SETTLED), default=0)
    drifting = [f"{s.service} {s.measure}" for s in short if s.truncation.status == DRIFTING]
    return Suggestion(series, days, drifting, first_day, long_term)


def _per_replication(daily: pd.DataFrame, service: str, measure: str, batch: int) -> tuple[int, int]:
    rows = daily[daily["service"] == service].sort_values("day")
    cuts = [mser(group[measure].to_numpy(), batch).days for _, group in rows.groupby("replication")]
    return min(cuts), max(cuts)


def _mean_after(daily: pd.DataFrame, service: str, measure: str, from_day: int) -> tuple[float, tuple[float, float]]:
    rows = daily[(daily["service"] == service) & (daily["day"] >= from_day)]
    means = rows.groupby("replication")[measure].mean().to_numpy()
    centre = float(means.mean())
    if len(means) < 2:
        return centre, (math.nan, math.nan)
    half = float(stats.t.ppf(0.975, len(means) - 1) * means.std(ddof=1) / math.sqrt(len(means)))
    return centre, (max(0.0, centre - half), centre + half)  # a count of people is never negative


# --- running a scenario for the diagnostic --------------------------------------------------


