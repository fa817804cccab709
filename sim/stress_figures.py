"""Pictures of stress: KPI against capacity with 95% bands, heatmaps over two swept parameters, and the
surge timeline (where and when queues build, and how long they take to clear).

Figures are plotly, written as self-contained HTML next to the results they
show. `surge_recovery` is also a table (surge_recovery.csv): for each service,
its queue before the stress, its peak, and the date it came back down.

    python -m sim.stress_figures results/<run>     # the surge timeline of a finished run
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.breaking_points import lines, service_of
from sim.measure.kpis import describe
from sim.scenario import Scenario
from sim.store import StoreError, atomic_write_csv, atomic_write_text, load

if TYPE_CHECKING:
    from sim.sweep import SweepResult

BAND = "rgba(31, 119, 180, 0.18)"
STRESS = "rgba(214, 39, 40, 0.10)"
BEFORE_DAYS = 28   # the queue "before" a stress is its mean over these days
SMOOTH_DAYS = 7    # queues are compared as weekly rolling means, not day by day
CLEAR_MARGIN = 0.1  # cleared: back within this share of the rise above the level before (and within 1 person)


def _axis_title(name: str) -> str:
    label, unit, _ = describe(name)
    return f"{label} ({unit})" if unit else label


def _html(figures: list[go.Figure], title: str) -> str:
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    body = "\n".join(parts) if parts else "<p>Nothing to show.</p>"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>\n{body}\n</body></html>\n"


# --- sweeps -------------------------------------------------------------------------------------


def _curve_kpis(scenario: Scenario, parameter: str) -> list[str]:
    names = [level.kpi for level in scenario.service_levels]
    service = service_of(parameter)
    if service:
        names += [f"{service}.utilisation", f"{service}.queue_mean"]
    return list(dict.fromkeys(names + ["delayed.bed_days", "cost.total"]))


def curves(scenario: Scenario, sweep: "SweepResult") -> list[go.Figure]:
    """Each KPI of interest against each numeric swept parameter: mean and 95% CI band, one line per other setting."""
    table = sweep.table
    figures = []
    numeric = [p for p in scenario.sweep.parameters()
               if all(isinstance(pt.values.get(p), (int, float)) for pt in sweep.points)]
    for parameter in numeric:
        for kpi in _curve_kpis(scenario, parameter):
            rows = table[table["kpi"] == kpi].set_index("point")
            if rows.empty:
                continue
            fig = go.Figure()
            for fixed, line in lines(sweep.points, parameter):
                x = [p.values[parameter] for p in line]
                mean = [rows.loc[p.id, "mean"] for p in line]
                low = [rows.loc[p.id, "ci_low"] for p in line]
                high = [rows.loc[p.id, "ci_high"] for p in line]
                name = ", ".join(f"{k}={v}" for k, v in fixed.items()) or "mean"
                fig.add_trace(go.Scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", fillcolor=BAND,
                                         line={"width": 0}, hoverinfo="skip", showlegend=False))
                fig.add_trace(go.Scatter(x=x, y=mean, mode="lines+markers", name=name))
            for level in scenario.service_levels:
                if level.kpi == kpi:
                    bound = level.at_least if level.at_least is not None else level.at_most
                    fig.add_hline(y=bound, line_dash="dash", annotation_text=f"service level: {level}")
            fig.update_layout(title=f"{describe(kpi)[0]} against {parameter} (mean, 95% CI band)",
                              xaxis_title=parameter, yaxis_title=_axis_title(kpi))
            figures.append(fig)
    return figures


def heatmaps(scenario: Scenario, sweep: "SweepResult") -> list[go.Figure]:
    """Over the first two swept parameters (any others at their first value): each KPI's mean."""
    names = scenario.sweep.parameters()
    if len(names) < 2:
        return []
    x_name, y_name = names[0], names[1]
    first = sweep.points[0].values
    chosen = [p for p in sweep.points if all(p.values[k] == first[k] for k in names[2:])]
    xs = sorted({p.values[x_name] for p in chosen})
    ys = sorted({p.values[y_name] for p in chosen})
    figures = []
    for kpi in dict.fromkeys([lv.kpi for lv in scenario.service_levels] + ["delayed.bed_days", "cost.total"]):
        rows = sweep.table[sweep.table["kpi"] == kpi].set_index("point")
        z = np.full((len(ys), len(xs)), np.nan)
        for p in chosen:
            z[ys.index(p.values[y_name]), xs.index(p.values[x_name])] = rows.loc[p.id, "mean"]
        fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, colorbar={"title": describe(kpi)[1]},
                                   hovertemplate=f"{x_name}=%{{x}}<br>{y_name}=%{{y}}<br>mean=%{{z:.3g}}<extra></extra>"))
        fig.update_layout(title=f"{_axis_title(kpi)}: mean over replications", xaxis_title=x_name, yaxis_title=y_name)
        figures.append(fig)
    return figures


def write_sweep_figures(scenario: Scenario, sweep: "SweepResult", folder: Path) -> list[Path]:
    written = []
    daily = sweep.resultset.daily
    timelines = [surge_timeline(p.scenario, daily[daily["role"] == p.id]).update_layout(title=f"{p.id}: {p.scenario.name}")
                 for p in sweep.points] if stress_periods(scenario) else []
    for name, figures, title in (
        ("curves.html", curves(scenario, sweep), f"{scenario.name}: KPIs against capacity"),
        ("heatmaps.html", heatmaps(scenario, sweep), f"{scenario.name}: heatmaps"),
        ("surge.html", timelines, f"{scenario.name}: queues over time at each point"),
    ):
        if figures:
            atomic_write_text(folder / name, _html(figures, title))
            written.append(folder / name)
    return written


# --- the surge timeline ----------------------------------------------------------------------------


def stress_periods(scenario: Scenario) -> list[tuple[str, dt.date, dt.date | None]]:
    """Surges and capacity events (the system's and each place's) as (what, first day, last day or None = to the end)."""
    out = [(f"surge: {s.name} x{s.multiplier:g}", s.start, s.end) for s in scenario.demand.surges]
    out += [(f"{e.service}: {e.name}", e.start, e.end) for e in scenario.capacity_events]
    out += [(f"{e.service} in {name}: {e.name}", e.start, e.end)
            for name, place in scenario.places.items() for e in place.capacity_events]
    return out


def mean_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Queue, occupancy and capacity per service and day, averaged over replications (measured days)."""
    measured = daily[daily["day"] >= 0]
    return measured.groupby(["service", "day"], as_index=False)[["occupancy", "queue", "capacity"]].mean()


def surge_recovery(scenario: Scenario, daily: pd.DataFrame) -> pd.DataFrame:
    """For each service: its queue before the stress, its peak, and when it cleared after the stress ended."""
    periods = stress_periods(scenario)
    if not periods:
        return pd.DataFrame()
    start_date = scenario.run.start_date
    first = min(p[1] for p in periods)
    ends = [p[2] for p in periods]
    last = None if any(e is None for e in ends) else max(ends)
    begin = (first - start_date).days
    rows = []
    for service, frame in mean_daily(daily).groupby("service", sort=False):
        queue = frame.set_index("day")["queue"].rolling(SMOOTH_DAYS, min_periods=1).mean()
        before = queue[(queue.index < begin) & (queue.index >= begin - BEFORE_DAYS)]
        level = float(before.mean()) if len(before) else float(queue.iloc[0])
        after = queue[queue.index >= begin]
        if after.empty or after.max() <= 0:
            continue  # no queue built here
        peak_day = int(after.idxmax())
        peak = float(after.max())
        cleared = None
        if last is not None:
            tolerance = max(1.0, CLEAR_MARGIN * (peak - level))
            end = (last - start_date).days
            back = after[(after.index > max(end, peak_day)) & (after <= level + tolerance)]
            cleared = int(back.index[0]) if len(back) else None
        rows.append({
            "service": service,
            "queue_before": level,
            "queue_peak": peak,
            "peak_date": start_date + dt.timedelta(days=peak_day),
            "stress_ends": last,
            "cleared_on": start_date + dt.timedelta(days=cleared) if cleared is not None else None,
            "days_to_clear_after_end": cleared - (last - start_date).days if cleared is not None else math.nan,
            "note": "" if cleared is not None or last is None else "not cleared by the end of the run",
        })
    return pd.DataFrame(rows)


def surge_timeline(scenario: Scenario, daily: pd.DataFrame) -> go.Figure:
    """Mean daily queue of every service that ever queues, with the stress periods shaded."""
    start_date = scenario.run.start_date
    table = mean_daily(daily)
    fig = go.Figure()
    for service, frame in table.groupby("service", sort=False):
        if frame["queue"].max() <= 0:
            continue
        dates = [start_date + dt.timedelta(days=int(d)) for d in frame["day"]]
        fig.add_trace(go.Scatter(x=dates, y=frame["queue"], mode="lines", name=f"{service} queue"))
    end_of_run = start_date + dt.timedelta(days=scenario.run.horizon_days)
    for what, start, end in stress_periods(scenario):
        fig.add_vrect(x0=start, x1=(end + dt.timedelta(days=1)) if end else end_of_run, fillcolor=STRESS,
                      line_width=0, annotation_text=what, annotation_position="top left")
    fig.update_layout(title=f"{scenario.name}: people waiting for each service (mean over replications)",
                      xaxis_title="date", yaxis_title="people waiting")
    return fig


def write_surge(scenario: Scenario, daily: pd.DataFrame, folder: Path) -> list[Path]:
    """surge.html and surge_recovery.csv for a run with surges or capacity events; nothing otherwise."""
    if not stress_periods(scenario):
        return []
    recovery = surge_recovery(scenario, daily)
    atomic_write_csv(folder / "surge_recovery.csv", recovery)
    atomic_write_text(folder / "surge.html", _html([surge_timeline(scenario, daily)], f"{scenario.name}: surge"))
    return [folder / "surge.html", folder / "surge_recovery.csv"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sim.stress_figures RESULTS_FOLDER", file=sys.stderr)
        return 2
    try:
        resultset = load(argv[0])
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    role = resultset.roles[0]
    written = write_surge(resultset.scenarios[role], resultset.daily[resultset.daily["role"] == role], Path(argv[0]))
    print("\n".join(map(str, written)) if written else "the scenario has no surges or capacity events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
