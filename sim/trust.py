"""When a result should not be trusted as printed: warnings for the CLI, the manifest and the report.

Three things make a simulation's numbers mislead even when the model is right:

- an overloaded service, whose queue grows for the whole run: there is no
  steady state, so waits, delays and costs grow with the run length and mean
  nothing as "a year's" figures;
- too few replications for the precision asked (95% CI half-width as a share
  of the mean), so differences smaller than the noise look real;
- a warm-up shorter than the MSER-5 diagnostic (sim/mser.py) suggests, so the
  measured period still carries the empty start.

`assess(resultset)` runs every check and returns a list of TrustWarning; an
empty list means none of these problems was found, not that the model is valid.
`of_results(resultset)` gives the warnings a finished run recorded in its
manifest, and `comparison_not_valid` those that make a scenario's differences
from its comparator meaningless: the command line, the report and the app show
no gain or saving when there are any.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim import mser
from sim.compare import main_service, money
from sim.intervals import LEVEL, confidence_interval, relative
from sim.measure.kpis import describe
from sim.scenario import labels

if TYPE_CHECKING:  # sim.results reads comparisons through sim.economics, which asks this module if they are valid
    from sim.results import ResultSet

#: KPIs of the whole system whose precision is checked unless the run asked for others (run_scenario.py
#: --precision-kpis); `precision_kpis` adds the main service's admissions and occupancy.
HEADLINE_KPIS = ("delayed.bed_days", "cost.total")
DEFAULT_PRECISION = 0.05
# A queue "grows through the run" when its end is at least this much above its start, in people...
GROWTH_FACTOR = 2.0
GROWTH_PEOPLE = 5.0
# ...comparing the means of this share of the measured days at either end.
END_SHARE = 0.1


@dataclass(frozen=True)
class TrustWarning:
    kind: str      # "overloaded", "replications", "warm-up", "undefined" (and "resume", from sim.experiment)
    subject: str   # the service or KPI it is about, with the role when a run has several
    message: str
    role: str = "scenario"  # the run it is about: "scenario" or "comparator"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrustWarning":
        """A warning as a manifest keeps it; manifests written before `role` was kept name it in the subject."""
        subject = str(data.get("subject", ""))
        role = data.get("role") or ("comparator" if subject.endswith(" (comparator)") else "scenario")
        return cls(str(data.get("kind", "")), subject, str(data.get("message", "")), str(role))

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


def precision_kpis(scenario) -> tuple[str, ...]:
    """The KPIs whose precision is checked unless a run asks for others: the admissions and mean occupancy of
    the scenario's main service (sim.compare.main_service: the first bed-based one people meet), delays and
    total cost."""
    if scenario is None:
        return HEADLINE_KPIS
    main = main_service(scenario)
    return (f"{main}.admissions", f"{main}.occupancy_mean", *HEADLINE_KPIS)


def assess(results: ResultSet, precision: float | None = None, kpis: Sequence[str] | None = None) -> list[TrustWarning]:
    """Every warning for a ResultSet. `precision` and `kpis` default to what the run asked for, if anything."""
    asked = (results.manifest or {}).get("precision") or {}
    precision = precision or asked.get("target") or DEFAULT_PRECISION
    kpis = tuple(kpis or asked.get("kpis") or precision_kpis(results.scenarios.get("scenario")))
    found: list[TrustWarning] = []
    for role in results.roles:
        found += growing_queues(results.daily, role)
        found += too_few_replications(results.kpis, role, precision, kpis)
        found += undefined_kpis(results.kpis, role)
        scenario = results.scenarios.get(role)
        seasonal = scenario is not None and len(set(scenario.demand.monthly_multipliers)) > 1
        found += short_warm_up(results.daily, role, seasonal)
    return found


def of_results(results: ResultSet) -> list[TrustWarning]:
    """The warnings a finished run recorded in its manifest; assessed afresh for results that never had one."""
    manifest = results.manifest or {}
    if "warnings" in manifest:
        return [TrustWarning.from_dict(w) for w in manifest["warnings"]]
    return assess(results)


def comparison_not_valid(warnings: Sequence[TrustWarning]) -> list[TrustWarning]:
    """Warnings that make differences between the scenario and its comparator meaningless.

    A queue that grows all run in either run means no steady state: its admissions, bed-days, delays
    and costs depend on how long the run was, so their difference is no gain or saving.
    """
    return [w for w in warnings if w.kind == "overloaded"]


def not_valid_reason(warnings: Sequence[TrustWarning]) -> str:
    """Why a comparison is not valid, in a sentence or two for the headline; empty when it is."""
    problems = comparison_not_valid(warnings)
    if not problems:
        return ""
    where = "; ".join(f"in the {w.role}, {w.message.split(';')[0]}" for w in problems)
    return (f"This comparison is not valid: {where}. Without a steady state, differences in admissions, "
            "bed-days, delays and costs depend on how long the run is, so none is shown as a gain or a saving. "
            "Add capacity or reduce demand until every queue levels off, then compare again.")


def _subject(name: str, role: str, roles: int) -> str:
    return name if role == "scenario" or roles <= 1 else f"{name} ({role})"


def _quantity(value: float, unit: str) -> str:
    if unit == "GBP":
        return money(value)
    number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{number} {unit}"


def _label(service: str) -> str:
    return labels.service(service)


def growing_queues(daily: pd.DataFrame, role: str = "scenario") -> list[TrustWarning]:
    """Services whose queue rises through the measured period in every sense that matters.

    The slope of the daily queue is fitted in each replication; replications are
    independent, so their slopes give a t-interval that does not depend on the
    (strong) day-to-day correlation of one queue. A queue is flagged when that
    interval is above zero (with one replication: when the slope is) and the
    queue at the end is much larger than at the start. A queue that empties
    again in the second half of the run is seasonal (a winter building up at
    the end of the measured year), not one that demand outruns: it is not
    flagged.
    """
    measured = daily[(daily["role"] == role) & (daily["day"] >= 0)]
    roles = daily["role"].nunique()
    found = []
    for service, rows in measured.groupby("service", sort=False):
        table = rows.pivot(index="day", columns="replication", values="queue").sort_index()
        days = len(table)
        if days < 20 or not table.to_numpy().any():
            continue
        edge = max(1, int(days * END_SHARE))
        start, end = table.iloc[:edge].to_numpy().mean(), table.iloc[-edge:].to_numpy().mean()
        slopes = np.polyfit(table.index.to_numpy(dtype=float), table.to_numpy(), 1)[0]
        slope = float(np.mean(slopes))
        if len(slopes) >= 2 and np.std(slopes, ddof=1) > 0:
            half = stats.t.ppf(0.5 + LEVEL / 2, len(slopes) - 1) * np.std(slopes, ddof=1) / math.sqrt(len(slopes))
            rising = slope - half > 0
        else:
            rising = slope > 0
        mean_queue = table.to_numpy().mean(axis=1)
        clears_later = mean_queue[days // 2:].min() <= start + GROWTH_PEOPLE
        if rising and end >= GROWTH_FACTOR * start + GROWTH_PEOPLE and not clears_later:
            found.append(TrustWarning(
                "overloaded", _subject(service, role, roles),
                f"{_label(service)}: the queue grows through the whole run, from {start:.0f} to {end:.0f} "
                f"people (+{slope:.2f} a day); demand is above capacity, so waits, delays and their costs "
                "grow with the run length and are not steady-state figures", role,
            ))
    return found


def too_few_replications(
    kpis: pd.DataFrame, role: str = "scenario", precision: float = DEFAULT_PRECISION,
    names: Sequence[str] = HEADLINE_KPIS,
) -> list[TrustWarning]:
    """KPIs whose 95% CI is wider than `precision` of their mean, with the replications likely needed."""
    rows, roles = kpis[kpis["role"] == role], kpis["role"].nunique()
    found = []
    for name in names:
        values = rows.loc[rows["kpi"] == name, "value"].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        if len(values) == 0:
            continue
        label, unit, _ = describe(name)
        if len(values) < 2:
            found.append(TrustWarning(
                "replications", _subject(name, role, roles),
                f"{label}: one replication gives no confidence interval; run at least 3", role,
            ))
            continue
        mean, low, high = confidence_interval(values)
        achieved = relative((high - low) / 2, mean)
        if achieved > precision:
            needed = math.ceil(len(values) * (achieved / precision) ** 2) if math.isfinite(achieved) else None
            advice = f"about {needed} are needed" if needed else "the mean is zero, so no count is enough"
            found.append(TrustWarning(
                "replications", _subject(name, role, roles),
                f"{label}: the 95% CI is ±{achieved:.1%} of the mean ({_quantity(mean, unit)}) with "
                f"{len(values)} replications, wider than the ±{precision:.0%} asked; {advice}", role,
            ))
    return found


def undefined_kpis(kpis: pd.DataFrame, role: str = "scenario") -> list[TrustWarning]:
    """KPIs with no value in some replications (a share of nobody): their mean rests on fewer runs."""
    rows, roles = kpis[kpis["role"] == role], kpis["role"].nunique()
    missing = rows.assign(nan=rows["value"].isna()).groupby("kpi", sort=False)["nan"].agg(["sum", "size"])
    partly = missing[(missing["sum"] > 0) & (missing["sum"] < missing["size"])]
    if partly.empty:
        return []
    listed = ", ".join(f"{name} ({int(row['sum'])} of {int(row['size'])})" for name, row in partly.iterrows())
    return [TrustWarning(
        "undefined", _subject("KPIs", role, roles),
        f"not defined in some replications (nobody to measure), so their means and CIs use the others only: {listed}",
        role,
    )]


def short_warm_up(daily: pd.DataFrame, role: str = "scenario", seasonal: bool = False) -> list[TrustWarning]:
    """The MSER-5 warm-up the census suggests, against the warm-up the run used."""
    rows, roles = daily[daily["role"] == role], daily["role"].nunique()
    try:
        suggestion = mser.suggest(rows)
    except ValueError:
        return []  # too short a run for the diagnostic
    used = -suggestion.first_day
    if suggestion.days <= used:
        return []
    worst = max(
        (s for s in suggestion.series if mser.short_term(s.service) and s.truncation.status == mser.SETTLED),
        key=lambda s: s.truncation.days,
    )
    return [TrustWarning(
        "warm-up", _subject("warm-up", role, roles),
        f"MSER-5 on the daily census suggests a warm-up of {suggestion.days} days "
        f"({_label(worst.service)} {worst.measure}), longer than the {used} used: the first measured "
        "days still carry the empty start; set run.warmup_days (see python -m sim.warmup"
        + (", which flattens the seasons that can also look like a start-up" if seasonal else "") + ")", role,
    )]
