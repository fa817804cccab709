"""How long to simulate before measuring: MSER-5 on the daily census, and a Welch plot to check it by eye.

A model started empty shows an initial transient: beds fill, queues form, and
only after a while does the census fluctuate around its long-run level. This
diagnostic runs a scenario long, without seasons, and reports where MSER-5
(sim/mser.py, which explains the method) would cut each service's daily census,
with a Welch plot to check the cut by eye.

Run it:  python -m sim.warmup SCENARIO.yaml [--replications N] [--days D]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from rich.console import Console
from rich.table import Table

from sim.executors import Executor, SerialExecutor
from sim.experiment import Plan, Progress, run_experiment
from sim.mser import (
    BATCH_DAYS,
    CONSTANT,
    DRIFTING,
    MEASURES,
    SETTLED,
    Suggestion,
    long_term_services,
    mean_census,
    suggest,
    welch,
)
from sim.pathway.demand import simulation_start
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.store import atomic_write_text


def diagnostic_scenario(scenario: Scenario, days: int, keep_seasons: bool = False,
                        keep_initial_state: bool = False) -> Scenario:
    """The scenario as the diagnostic runs it: from its simulation start, every day measured, `days` long.

    Unless asked, the monthly demand pattern is flattened (MSER-5 assumes the
    series settles to a steady level; winter would read as a transient), and
    the run starts empty even if the scenario gives an initial state.
    """
    changes = {
        "run.start_date": simulation_start(scenario),
        "run.warmup_days": 0,
        "run.horizon_days": days,
    }
    if not keep_seasons:
        changes["demand.monthly_multipliers"] = [1.0] * 12
    if not keep_initial_state:
        changes["initial_state"] = {}
        for place in scenario.places:
            changes[f"places.{place}.initial_state"] = {}
    return scenario.with_changes(changes)


class _Ticks(Progress):
    def __init__(self, tick):
        self.tick = tick

    def advance(self) -> None:
        if self.tick is not None:
            self.tick()


def run_census(scenario: Scenario, replications: int, progress=None, executor: Executor | None = None) -> pd.DataFrame:
    """The daily census of `replications` replications, stacked: replication, day, service, occupancy, queue, capacity.

    Run by the runner every study uses (sim.experiment), on `executor` (default: in this process,
    as this is a one-off diagnostic); `progress` is called after each replication.
    """
    resultset = run_experiment({"scenario": scenario}, Plan(replications=replications),
                               executor=executor or SerialExecutor(), progress=_Ticks(progress))
    daily = resultset.daily
    return daily.drop(columns="role").sort_values(["replication", "day"], kind="stable").reset_index(drop=True)


# --- the Welch plot --------------------------------------------------------------------------


def welch_figure(daily: pd.DataFrame, suggestion: Suggestion, window: int, title: str) -> go.Figure:
    """One panel per informative short-term series: the mean census, its Welch average and the cuts."""
    mean = mean_census(daily)
    informative = {(s.service, s.measure): s.truncation for s in suggestion.series
                   if suggestion.short_term(s.service) and s.truncation.status in (SETTLED, DRIFTING)}
    panels = [(svc, m) for svc in dict.fromkeys(svc for svc, _ in informative) for m in MEASURES if (svc, m) in informative]
    if not panels:
        raise ValueError("no short-term series has a level to settle to: nothing to plot")
    fig = make_subplots(
        rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.04,
        subplot_titles=[f"{svc.replace('_', ' ')}: {m} (people)" for svc, m in panels],
    )
    days = mean.index.to_numpy() - mean.index[0]
    for row, (svc, m) in enumerate(panels, start=1):
        values = mean[m][svc].to_numpy()
        fig.add_trace(go.Scatter(x=days, y=values, name="mean of replications", line={"color": "#bbbbbb"},
                                 showlegend=row == 1, legendgroup="raw"), row=row, col=1)
        if len(values) > window:
            fig.add_trace(go.Scatter(x=days[: len(values) - window], y=welch(values, window),
                                     name=f"Welch moving average (w = {window} days)", line={"color": "#1f77b4"},
                                     showlegend=row == 1, legendgroup="welch"), row=row, col=1)
        cut = informative[(svc, m)]
        fig.add_vline(x=cut.days, line_dash="dot" if cut.status == DRIFTING else "dash", line_color="#d62728",
                      row=row, col=1)
        fig.add_vline(x=suggestion.days, line_color="#000000", line_width=2, row=row, col=1)
    fig.update_xaxes(title_text="days since the start of the simulation", row=len(panels), col=1)
    fig.update_layout(
        title={"text": f"{title}<br><sup>black: suggested warm-up, {suggestion.days} days; red: MSER-5 cut of "
                       "each series (dotted: still drifting, a lower bound)</sup>"},
        height=220 * len(panels) + 140, template="plotly_white",
    )
    return fig


def suggestion_table(suggestion: Suggestion) -> pd.DataFrame:
    rows = []
    for s in suggestion.series:
        rows.append({
            "service": s.service, "measure": s.measure, "warmup_days": s.truncation.days,
            "status": s.truncation.status, "replications_min_days": s.per_replication[0],
            "replications_max_days": s.per_replication[1], "mean_after_people": s.mean_after,
            "ci95_low_people": s.ci_after[0], "ci95_high_people": s.ci_after[1],
            "short_term": suggestion.short_term(s.service),
        })
    return pd.DataFrame(rows)


# --- command line -----------------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim.warmup",
        description="Suggest a warm-up length: run the scenario from empty and apply MSER-5 to the daily census.",
    )
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--replications", type=_positive, default=5, help="replications to average (default 5)")
    parser.add_argument("--days", type=_positive, default=730, help="days simulated from empty (default 730)")
    parser.add_argument("--window", type=_positive, default=14, help="Welch moving-average half-window, days (default 14)")
    parser.add_argument("--keep-seasons", action="store_true",
                        help="keep the monthly demand pattern (default: flattened, so winter is not read as a transient)")
    parser.add_argument("--with-initial-state", action="store_true",
                        help="start from the scenario's initial_state instead of empty (to check it)")
    parser.add_argument("--out", help="folder for welch.html, warmup.csv and census_mean.csv "
                                      "(default: results/warmup/<scenario>-<time>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 120)  # a log or pipe gets the whole table
    errors = Console(stderr=True)
    try:
        scenario = load_scenario(args.scenario)
        run = diagnostic_scenario(scenario, args.days, args.keep_seasons, args.with_initial_state)
    except ScenarioError as exc:
        errors.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return 2
    if args.days < 4 * BATCH_DAYS or args.window >= args.days:
        errors.print(f"error: --days must be at least {4 * BATCH_DAYS} and above --window", highlight=False)
        return 2
    starts_with = scenario.active_initial_state() or any(
        state for place in scenario.places.values() for state in place.initial_state.values())
    start = "its initial state" if args.with_initial_state and starts_with else "empty"
    console.print(f"Running {scenario.name!r} from {start} for {args.days} days, {args.replications} replications"
                  + ("" if args.keep_seasons else " (monthly demand pattern flattened)"))
    with console.status("simulating...") as status:
        done = [0]

        def tick() -> None:
            done[0] += 1
            status.update(f"simulating... {done[0]}/{args.replications} replications")

        daily = run_census(run, args.replications, tick)
    suggestion = suggest(daily, long_term=long_term_services(scenario))
    console.print(_rich_table(suggestion, "an empty" if start == "empty" else "the initial state's"))
    console.print(f"Suggested warm-up: [bold]{suggestion.days} days[/bold] (largest settled MSER-5 cut over the "
                  "short-term services). Set run.warmup_days to at least this.")
    if suggestion.drifting:
        console.print("[yellow]Still drifting at the end of the window:[/yellow] " + ", ".join(suggestion.drifting)
                      + ". The suggestion is a lower bound: run longer (--days), or the service is overloaded "
                      "and its queue grows without limit (no warm-up can fix that).")
    folder = Path(args.out) if args.out else _default_folder(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    title = f"Welch plot: {scenario.name}, {args.replications} replications from {start}"
    atomic_write_text(folder / "welch.html",
                  welch_figure(daily, suggestion, args.window, title).to_html(include_plotlyjs=True, full_html=True))
    census = mean_census(daily).stack("service", future_stack=True).reset_index()
    atomic_write_text(folder / "census_mean.csv", census.to_csv(index=False))
    atomic_write_text(folder / "warmup.csv", suggestion_table(suggestion).to_csv(index=False))
    console.print(f"Welch plot: {folder / 'welch.html'}\nTables: {folder / 'warmup.csv'}, "
                  f"{folder / 'census_mean.csv'} (mean census by day)")
    return 0


def _default_folder(scenario: Scenario) -> Path:
    stem = scenario.path.stem if scenario.path else "scenario"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("results") / "warmup" / f"{stem}-{stamp}"


def _rich_table(suggestion: Suggestion, start: str) -> Table:
    table = Table(title=f"MSER-5 warm-up by service, days from {start} start")
    for column in ("service", "measure", "warm-up, days", "status", "single reps, days", "mean after, people (95% CI)"):
        table.add_column(column, justify="left" if column in ("service", "measure", "status") else "right")
    for s in sorted(suggestion.series, key=lambda s: (not suggestion.short_term(s.service), s.measure)):
        if s.truncation.status == CONSTANT:
            continue
        low, high = s.ci_after
        ci = f"{s.mean_after:,.1f} ({low:,.1f} to {high:,.1f})" if not math.isnan(low) else f"{s.mean_after:,.1f}"
        status = s.truncation.status if suggestion.short_term(s.service) else "long-term: not used"
        table.add_row(s.service, s.measure, str(s.truncation.days), status,
                      f"{s.per_replication[0]}-{s.per_replication[1]}", ci)
    return table


if __name__ == "__main__":
    sys.exit(main())
