"""Breaking points of a sweep: how much capacity meets each service level, where queues stop being
stable, and which capacity costs the whole system least.

A *line* is the points of a sweep along one numeric parameter with every other
parameter held fixed (a one-parameter sweep has one line; a grid has one per
combination of the others).

- Service levels: along each line, the smallest value at which the mean of the
  level's KPI meets the level there and at every larger value on the line, with
  the probability of meeting it (the share of replications that meet it).
- Knee: where a service's queue stops growing without bound. At a point the
  queue "grows" when the slope of its daily queue over the measured period is
  above MIN_GROWTH people a day and its 95% CI excludes zero (utilisation near
  or above 1 shows the same). The knee is the smallest value from which no
  point on the line grows.
- Cost curve: the cost of the urgent and intermediate care system in the
  measured period (every cost line of the services that are not long-term
  placements: in the Connect library ED, UCR, acute, community and temporary
  beds, home-based care), with the swept service paid for by its capacity (every
  place, used or not, at its unit cost a day) instead of by its occupied
  days: more capacity costs more, fewer delays cost less, and the minimum is
  often short of removing every delay. Long-term care committed by new
  placements (services of kind `long_term`) is reported beside it, not in it:
  in a finite run, delays postpone placements, which would look like a saving.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.measure.costs import PAYERS, PER_DAYS
from sim.intervals import confidence_interval
from sim.scenario import Scenario
from sim.scenario.services import LongTerm, UnitCost, capacity_of
from sim.scenario.study import ServiceLevel
from sim.store import atomic_write_csv

if TYPE_CHECKING:
    from sim.sweep import Point, SweepResult

MIN_GROWTH = 0.05  # people a day: below this a trend in the queue is not a queue growing without bound
_CAPACITY_PATH = re.compile(r"services\.(\w+)\.(capacity|workforce\.visit_hours_per_day)$")


def cost_line_names(scenario: Scenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scenario's cost lines: of the measured period (the cost curve), and committed by new long-term
    placements (reported beside it: within a finite run, delays postpone placements, which would look
    like a saving). Out-of-area fees of shared services are of the period."""
    short, long = [], []
    for name, spec in scenario.services.items():
        lines = [cost.name or name for cost in spec.costs]
        (long if isinstance(spec, LongTerm) else short).extend(lines)
        if name in scenario.sharing and not isinstance(spec, LongTerm):
            short.append(f"{name}_out_of_area")
    return tuple(dict.fromkeys(short)), tuple(dict.fromkeys(long))


def service_of(parameter: str) -> str | None:
    """The service whose capacity a sweep parameter is, if it is one."""
    match = _CAPACITY_PATH.fullmatch(parameter)
    return match[1] if match else None


def _numeric(points: list["Point"], parameter: str) -> bool:
    values = [p.values.get(parameter) for p in points]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def lines(points: list["Point"], parameter: str) -> list[tuple[dict, list["Point"]]]:
    """Points grouped by the values of every other parameter, each group in ascending order of `parameter`."""
    groups: dict[tuple, list["Point"]] = {}
    for point in points:
        others = tuple(sorted((k, repr(v)) for k, v in point.values.items() if k != parameter))
        groups.setdefault(others, []).append(point)
    out = []
    for group in groups.values():
        fixed = {k: v for k, v in group[0].values.items() if k != parameter}
        out.append((fixed, sorted(group, key=lambda p: p.values[parameter])))
    return out


def _values(kpis: pd.DataFrame, point: str, kpi: str) -> np.ndarray:
    rows = kpis[(kpis["role"] == point) & (kpis["kpi"] == kpi)].sort_values("replication")
    return rows["value"].to_numpy(dtype=float)


def _fixed_text(fixed: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in fixed.items())


# --- service levels --------------------------------------------------------------------


def level_points(kpis: pd.DataFrame, points: list["Point"], levels: list[ServiceLevel]) -> pd.DataFrame:
    """Every point against every level: the KPI's mean and 95% CI, and the share of replications meeting it."""
    rows = []
    for level in levels:
        for point in points:
            values = _values(kpis, point.id, level.kpi)
            mean, low, high = confidence_interval(values)
            rows.append({
                "point": point.id, **point.values, "level": str(level), "kpi": level.kpi,
                "mean": mean, "ci_low": low, "ci_high": high,
                "mean_meets": level.met(mean),
                "probability_met": float(np.mean([level.met(v) for v in values])) if len(values) else math.nan,
            })
    return pd.DataFrame(rows)


def smallest_meeting(table: pd.DataFrame, points: list["Point"], levels: list[ServiceLevel]) -> pd.DataFrame:
    """Along each numeric parameter's lines: the smallest value meeting each level from there upwards."""
    rows = []
    for parameter in _parameters(points):
        for fixed, line in lines(points, parameter):
            for level in levels:
                met = table[(table["level"] == str(level))].set_index("point")
                ok = [bool(met.loc[p.id, "mean_meets"]) for p in line]
                first = next((i for i in range(len(line)) if all(ok[i:])), None)
                row = {"level": str(level), "parameter": parameter, "others": _fixed_text(fixed)}
                if first is None:
                    row.update(smallest_value=math.nan, probability_met=math.nan, mean=math.nan,
                               note="not met within the swept range")
                else:
                    at = met.loc[line[first].id]
                    row.update(smallest_value=line[first].values[parameter], probability_met=at["probability_met"],
                               mean=at["mean"], ci_low=at["ci_low"], ci_high=at["ci_high"],
                               note="met from the smallest value swept" if first == 0 else "")
                rows.append(row)
    return pd.DataFrame(rows)


def _parameters(points: list["Point"]) -> list[str]:
    names = list(dict.fromkeys(k for p in points for k in p.values))
    return [n for n in names if _numeric(points, n)]


# --- knees: where queues stop growing without bound --------------------------------------------


def _queue_slopes(daily: pd.DataFrame, point: str, service: str) -> np.ndarray:
    rows = daily[(daily["role"] == point) & (daily["service"] == service) & (daily["day"] >= 0)]
    slopes = []
    for _, rep in rows.groupby("replication", sort=True):
        days, queue = rep["day"].to_numpy(float), rep["queue"].to_numpy(float)
        slopes.append(np.polyfit(days, queue, 1)[0] if len(days) > 1 else math.nan)
    return np.asarray(slopes)


def stability(resultset, points: list["Point"]) -> pd.DataFrame:
    """For each point and each swept capacity's service: utilisation, mean queue and the queue's daily growth."""
    rows = []
    services = [s for s in (service_of(p) for p in _parameters(points)) if s]
    for point in points:
        for service in services:
            slope, low, high = confidence_interval(_queue_slopes(resultset.daily, point.id, service))
            utilisation = confidence_interval(_values(resultset.kpis, point.id, f"{service}.utilisation"))[0]
            rows.append({
                "point": point.id, **point.values, "service": service,
                "utilisation": utilisation,
                "queue_mean": confidence_interval(_values(resultset.kpis, point.id, f"{service}.queue_mean"))[0],
                "queue_growth_per_day": slope, "growth_ci_low": low, "growth_ci_high": high,
                "growing": bool(slope > MIN_GROWTH and low > 0),
            })
    return pd.DataFrame(rows)


def knees(stable: pd.DataFrame, points: list["Point"]) -> pd.DataFrame:
    rows = []
    for parameter in _parameters(points):
        service = service_of(parameter)
        if service is None:
            continue
        table = stable[stable["service"] == service].set_index("point")
        for fixed, line in lines(points, parameter):
            growing = [bool(table.loc[p.id, "growing"]) for p in line]
            first = next((i for i in range(len(line)) if not any(growing[i:])), None)
            last_growing = max((i for i, g in enumerate(growing) if g), default=None)
            rows.append({
                "parameter": parameter, "service": service, "others": _fixed_text(fixed),
                "knee": line[first].values[parameter] if first is not None else math.nan,
                "utilisation_at_knee": table.loc[line[first].id, "utilisation"] if first is not None else math.nan,
                "largest_growing": line[last_growing].values[parameter] if last_growing is not None else math.nan,
                "note": "" if first is not None and last_growing is not None else (
                    "queues grow at every value swept" if first is None else "no value swept makes queues grow"),
            })
    return pd.DataFrame(rows)


# --- the cost curve --------------------------------------------------------------------------


def _price_a_day(scenario: Scenario, service: str) -> UnitCost | None:
    """The service's own unit cost by time (a day or a week), if it has one."""
    return next((c for c in scenario.services[service].costs if c.per in PER_DAYS and (c.name or service) == service),
                None)


def capacity_cost(scenario: Scenario, service: str) -> tuple[float, str] | None:
    """Cost of providing a service's whole capacity for the measured period, and its payer; None if not priced by time."""
    price = _price_a_day(scenario, service)
    capacity, whole_places = capacity_of(scenario.services[service])
    if price is None or capacity is None or not whole_places:
        return None
    payer = "council" if price.payer == "means_tested" else price.payer
    return capacity * scenario.run.horizon_days * price.gbp / PER_DAYS[price.per], payer


def _service_cost(kpis: pd.DataFrame, point: str, services: tuple[str, ...], replications: int,
                  payers: tuple[str, ...] = PAYERS) -> np.ndarray:
    """What some services cost each replication, to the payers given."""
    names = [f"cost.{service}.{payer}" for service in services for payer in payers]
    rows = kpis[(kpis["role"] == point) & kpis["kpi"].isin(names)]
    by_rep = rows.groupby("replication")["value"].sum()
    return by_rep.reindex(range(replications), fill_value=0.0).to_numpy(dtype=float)


def cost_curve(kpis: pd.DataFrame, points: list["Point"]) -> pd.DataFrame:
    rows = []
    for parameter in _parameters(points):
        service = service_of(parameter)
        if service is None:
            continue
        for point in points:
            priced = capacity_cost(point.scenario, service)
            if priced is None:
                break  # capacity with no price a day (per episode, per hour, unlimited): no cost of capacity to weigh
            n = point.scenario.run.replications
            capacity_gbp, capacity_payer = priced
            short_term, long_term_lines = cost_line_names(point.scenario)
            # Who pays: the swept service's activity is replaced by its capacity, paid by its payer.
            by_payer = {}
            for payer in PAYERS:
                cost = _service_cost(kpis, point.id, short_term, n, (payer,))
                if service in short_term:
                    cost = cost - _service_cost(kpis, point.id, (service,), n, (payer,))
                by_payer[payer] = cost + (capacity_gbp if payer == capacity_payer else 0.0)
            mean, low, high = confidence_interval(sum(by_payer.values()))
            basis = f"{service} paid by capacity ({capacity_payer})"
            long_term = confidence_interval(_service_cost(kpis, point.id, long_term_lines, n))
            rows.append({"point": point.id, **point.values, "parameter": parameter, "service": service,
                         "basis": basis, "capacity_cost_gbp": capacity_gbp,
                         "system_cost_gbp": mean, "ci_low": low, "ci_high": high,
                         **{f"system_cost_{payer}_gbp": float(np.mean(c)) for payer, c in by_payer.items()},
                         "long_term_committed_gbp": long_term[0], "long_term_ci_low": long_term[1],
                         "long_term_ci_high": long_term[2]})
    return pd.DataFrame(rows)


def cost_minima(curve: pd.DataFrame, points: list["Point"]) -> pd.DataFrame:
    rows = []
    if curve.empty:
        return pd.DataFrame(rows)
    for parameter in curve["parameter"].unique():
        table = curve[curve["parameter"] == parameter].set_index("point")
        for fixed, line in lines(points, parameter):
            costs = [table.loc[p.id, "system_cost_gbp"] for p in line]
            best = int(np.nanargmin(costs))
            rows.append({"parameter": parameter, "others": _fixed_text(fixed),
                         "cheapest_value": line[best].values[parameter],
                         "system_cost_gbp": costs[best],
                         "ci_low": table.loc[line[best].id, "ci_low"], "ci_high": table.loc[line[best].id, "ci_high"],
                         "at_edge_of_range": best in (0, len(line) - 1)})
    return pd.DataFrame(rows)


# --- all of it -------------------------------------------------------------------------------------


@dataclass
class Analysis:
    level_points: pd.DataFrame
    service_levels: pd.DataFrame
    stability: pd.DataFrame
    knees: pd.DataFrame
    cost_curve: pd.DataFrame
    cost_minima: pd.DataFrame


def analyse(scenario: Scenario, sweep: "SweepResult") -> Analysis:
    points, resultset = sweep.points, sweep.resultset
    levels = list(scenario.service_levels)
    at_points = level_points(resultset.kpis, points, levels) if levels else pd.DataFrame()
    stable = stability(resultset, points)
    curve = cost_curve(resultset.kpis, points)
    return Analysis(
        level_points=at_points,
        service_levels=smallest_meeting(at_points, points, levels) if levels else pd.DataFrame(),
        stability=stable,
        knees=knees(stable, points) if not stable.empty else pd.DataFrame(),
        cost_curve=curve,
        cost_minima=cost_minima(curve, points),
    )


def write(analysis: Analysis, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in analysis.__dict__.items():
        atomic_write_csv(folder / f"{name}.csv", frame)
