"""What the command line shows: a progress bar, the summary and comparison tables, with units and 95% CIs."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichBar
from rich.table import Table

from sim.compare import cost_shifts
from sim.experiment import Progress
from sim.results import ResultSet

# The KPIs worth a line on screen; summary.csv has every one.
HEADLINE_KPIS = (
    "crises", "ucr.referrals", "ucr.within_target_share", "ucr.admissions_avoided", "acute.admissions",
    "acute.occupancy_mean", "acute.utilisation", "ed.wait_hours_mean", "ed.waits_over_4h_share",
    "delayed.bed_days", "delayed.acute_bed_days", "pathway.home_share", "pathway.bedded_placements",
    "reablement.admissions", "reablement.at_home_91d_share", "community_beds.admissions",
    "community_beds.los_mean", "care_home.permanent_admissions", "home_care.packages",
    "people.better_outcomes", "cost.nhs", "cost.council", "cost.self_funder", "cost.total",
)


class ProgressBar(Progress):
    """A rich progress bar of replications done, silent when output is not a terminal."""

    def __init__(self, console: Console, label: str = "Replications"):
        self._bar = RichBar(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, disable=not console.is_terminal, transient=True,
        )
        self._task = None

    def __enter__(self) -> "ProgressBar":
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def begin(self, total: int, done: int) -> None:
        if self._task is None:
            self._task = self._bar.add_task("run", total=total, completed=done)
        else:
            self._bar.update(self._task, total=total, completed=done)

    def advance(self) -> None:
        self._bar.advance(self._task)


def number(value: float, unit: str, decimals: int | None = None) -> str:
    """A value as people read it: £ for money, % for shares, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "unlimited" if value > 0 else "-unlimited"
    if unit == "GBP":
        sign = "-" if value < 0 else ""
        v = abs(value)
        return f"{sign}£{v / 1e6:,.2f}m" if decimals == -6 or (decimals is None and v >= 1e6) else f"{sign}£{v:,.0f}"
    if unit == "share":
        return f"{value:.1%}"
    if decimals is None:
        decimals = _decimals(value)
    return f"{value:,.{decimals}f}"


def _decimals(value: float) -> int:
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2


def interval(mean: float, low: float, high: float, unit: str) -> str:
    """Mean (low to high), all three at the precision the mean calls for."""
    if isinstance(low, float) and math.isnan(low):
        return f"{number(mean, unit)} (no CI: one replication)"
    if low == high:
        return number(mean, unit)
    if unit == "GBP":
        decimals = -6 if max(abs(mean), abs(low), abs(high)) >= 1e6 else 0
    else:
        decimals = _decimals(mean) if math.isfinite(mean) else 2
    return f"{number(mean, unit, decimals)} ({number(low, unit, decimals)} to {number(high, unit, decimals)})"


def summary_table(rs: ResultSet, kpis: tuple[str, ...] = HEADLINE_KPIS) -> Table:
    summary = rs.summary
    roles = [r for r in rs.roles if r in set(summary["role"])]
    n = int(summary["replications"].max()) if len(summary) else 0
    table = Table(title=f"Key results: mean (95% CI) over {n} replications", title_justify="left")
    table.add_column("KPI")
    table.add_column("unit")
    for role in roles:
        table.add_column(f"{role}: {rs.scenarios[role].name}", justify="right")
    indexed = summary.set_index(["role", "kpi"])
    for kpi in kpis:
        if (roles[0], kpi) not in indexed.index:
            continue
        first = indexed.loc[(roles[0], kpi)]
        cells = []
        for role in roles:
            row = indexed.loc[(role, kpi)]
            cells.append(interval(row["mean"], row["ci_low"], row["ci_high"], row["unit"]))
        table.add_row(first["label"], _unit(first["unit"]), *cells)
    return table


def _unit(unit: str) -> str:
    return {"GBP": "£", "share": "%"}.get(unit, unit)


# Said under every comparison: long-term care savings dwarf the rest, and a reader comparing them
# with a published yearly figure must know they are lifetime costs of a year's placements.
COST_BASIS_NOTE = (
    "Savings on long-term care (home care, care homes) are the whole lifetime cost committed by the "
    "placements made in the period: for a steady system, the yearly saving once the change has run for "
    "years. Only cash-releasing savings are cash; capacity freed is cash only if beds or staff are cut. "
    "See docs/validation.md for a first-year basis."
)


def comparison_table(rs: ResultSet) -> Table:
    comparison = rs.comparison
    s, c = rs.scenarios["scenario"].name, rs.scenarios["comparator"].name
    days = rs.scenarios["scenario"].run.horizon_days
    table = Table(
        title=f"{s} against {c}, over the {days} days measured: paired difference, mean (95% CI); "
              "positive = better for the scenario",
        title_justify="left",
    )
    for name, justify in (("measure", "left"), ("unit", "left"), ("difference", "right"), ("who saves / pays", "left")):
        table.add_column(name, justify=justify)
    for _, row in comparison.iterrows():
        table.add_row(row["measure"], _unit(row["unit"]), interval(row["mean"], row["ci_low"], row["ci_high"], row["unit"]),
                      row["who"])
    return table


def print_results(console: Console, rs: ResultSet) -> None:
    console.print(summary_table(rs))
    if "comparator" in rs.scenarios:
        console.print(comparison_table(rs))
        for sentence in cost_shifts(rs.comparison):
            console.print(sentence)
        console.print(COST_BASIS_NOTE, markup=False, highlight=False)
    result = rs.manifest.get("precision_result")
    if result is not None:
        target = rs.manifest["precision"]["target"]
        if result["achieved"]:
            console.print(f"Precision of ±{target:.0%} reached at {result['achieved_at']} replications "
                          f"(kept for the look-ahead; {result['replications_used']} used).")
        else:
            console.print(f"[yellow]Precision of ±{target:.0%} not reached within "
                          f"{result['replications_used']} replications; widen the cap (--max-replications).[/]")
    # Scenario text (service and KPI names are ours, but a message may quote user input): never markup.
    for warning in rs.manifest.get("warnings", []):
        console.print(f"warning: {warning['message']}", style="yellow", markup=False,
                      highlight=False)


def crn_table(frame: pd.DataFrame) -> Table:
    table = Table(title="Common random numbers: variance of the paired difference", title_justify="left")
    for name in ("KPI", "unit", "variance with CRN", "variance, independent", "reduction (x)"):
        table.add_column(name, justify="left" if name in ("KPI", "unit") else "right")
    for _, row in frame.iterrows():
        table.add_row(row["label"], _unit(row["unit"]), f"{row['variance_crn']:,.4g}",
                      f"{row['variance_independent']:,.4g}", f"{row['ratio']:,.1f}")
    return table
