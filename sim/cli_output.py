"""What the command line shows: a progress bar, the summary and comparison tables, with units and 95% CIs.

Everything is printed through `say` and `show`: text from a scenario file (its
name, its description, a place's name in a KPI) is printed as text, never as
Rich markup, and control characters are shown escaped (`\\x1b`) instead of
reaching the terminal. Tables written to a file or a pipe are as wide as they
need to be, so a log keeps one row per line.
"""

from __future__ import annotations

import math
import time
import unicodedata

import pandas as pd
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar
from rich.table import Table
from rich.text import Text
from scipy import stats

from sim import trust
from sim.compare import (
    SIGN_CONVENTION,
    key_kpis,
    kpi_label,
    money,
    money_scale,
    no_interval,
    years_of,
)
from sim.economics.headlines import cost_shifts, not_valid_reason
from sim.economics.impact import years_measured
from sim.economics.perspectives import SHORT
from sim.experiment import Progress
from sim.intervals import LEVEL
from sim.results import ResultSet
from sim.scenario import labels

# What the progress bar counts: each scenario's replications, so a comparison of 10 replications is 20 runs.
PROGRESS_LABEL = "Runs"
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\a": "\\a", "\x1b": "\\x1b"}


def terminal_text(value: object, keep: str = "") -> str:
    """Text as it should reach a terminal: control and invisible formatting characters shown escaped.

    An escape sequence in a scenario's name could recolour, move the cursor, rewrite the title or
    hide text; a carriage return or backspace could overwrite what was printed. Right-to-left and
    zero-width characters (Unicode category Cf) could make a name read as something else.
    `keep` lists characters to pass as they are (an HTML page keeps a description's line breaks).
    """
    out = []
    for char in str(value):
        if unicodedata.category(char) in ("Cc", "Cf") and char not in keep:
            code = ord(char)
            out.append(_NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"))
        else:
            out.append(char)
    return "".join(out)


def text(value: object, style: str | None = None) -> Text:
    """A Rich Text of any value: never read as markup, emoji codes or highlighting, controls escaped."""
    return Text(terminal_text(value), style=style or "")


def say(console: Console, *parts: object, style: str | None = None) -> None:
    """Print a line made of parts (ours or from a scenario file alike) as plain text."""
    line = Text.assemble(*(part if isinstance(part, Text) else text(part) for part in parts), style=style or "")
    console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=not console.is_terminal)


def show(console: Console, table: RenderableType) -> None:
    """Print a table; to a file or a pipe at its natural width, so that no row wraps onto a second line."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
    if natural <= console.width:
        console.print(table)
        return
    wide = Console(file=console.file, width=natural, color_system=None, force_terminal=False,
                   highlight=False, emoji=False)
    wide.print(table)


class ProgressBar(Progress):
    """A rich progress bar of runs done (replications of every scenario), silent when output is not a terminal."""

    def __init__(self, console: Console, label: str = PROGRESS_LABEL):
        self._bar = RichBar(
            TextColumn(escape(terminal_text(label))), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(),
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
        return money(value, scale=None if decimals is None else 10.0 ** -decimals)
    if unit == "share":
        return f"{value:.1%}"
    if decimals is None:
        decimals = _decimals(value)
    return f"{value:,.{decimals}f}"


def _decimals(value: float) -> int:
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2


def interval(mean: float, low: float, high: float, unit: str, defined: int | None = None,
             replications: int | None = None, scale: float | None = None) -> str:
    """Mean (low to high), all three at the precision the mean calls for; why there is no interval if none.

    `defined` is the replications with a value, `replications` those run: a KPI missing from all but one
    replication of ten has no interval, and that is not "one replication". `scale` puts money in the unit
    its table uses (£m), so a column of amounts reads alike.
    """
    if isinstance(low, float) and math.isnan(low):
        if isinstance(mean, float) and math.isnan(mean):
            return "n/a"
        shown = money(mean, scale=scale) if unit == "GBP" else number(mean, unit)
        if replications is None:
            return shown
        return f"{shown} ({no_interval(defined if defined is not None else replications, replications)})"
    if low == high:
        return money(mean, scale=scale) if unit == "GBP" else number(mean, unit)
    if unit == "GBP":
        scale = scale or money_scale(mean, low, high)
        return f"{money(mean, scale=scale)} ({money(low, scale=scale)} to {money(high, scale=scale)})"
    decimals = _decimals(mean) if math.isfinite(mean) else 2
    return f"{number(mean, unit, decimals)} ({number(low, unit, decimals)} to {number(high, unit, decimals)})"


def _replications(rs: ResultSet, role: str) -> int:
    return int(rs.kpis.loc[rs.kpis["role"] == role, "replication"].nunique())


def summary_table(rs: ResultSet, kpis: tuple[str, ...] | None = None) -> Table:
    """The KPIs worth a line on screen (by default sim.compare.key_kpis); summary.csv has every one."""
    kpis = tuple(kpis or key_kpis(rs.scenarios["scenario"]))
    summary = rs.summary
    roles = [r for r in rs.roles if r in set(summary["role"])]
    n = _replications(rs, roles[0]) if roles else 0
    count = (f"{n} replications of each scenario ({n * len(roles)} runs)" if len(roles) > 1
             else f"{n} replication" + ("s" if n != 1 else ""))
    table = Table(title=text(f"Key results: mean (95% CI) over {count}"), title_justify="left")
    table.add_column("KPI")
    table.add_column("unit")
    for role in roles:
        table.add_column(text(f"{role}: {rs.scenarios[role].name}"), justify="right")
    indexed = summary.set_index(["role", "kpi"])
    scale = _money_scale(summary[summary["kpi"].isin(kpis)])
    for kpi in kpis:
        if (roles[0], kpi) not in indexed.index:
            continue
        first = indexed.loc[(roles[0], kpi)]
        cells = []
        for role in roles:
            row = indexed.loc[(role, kpi)]
            cells.append(text(interval(row["mean"], row["ci_low"], row["ci_high"], row["unit"],
                                       int(row["replications"]), _replications(rs, role), scale)))
        table.add_row(text(kpi_label(kpi, first["label"])), text(_unit(first["unit"])), *cells)
    return table


def _money_scale(rows: pd.DataFrame) -> float:
    """One unit (£m, £k or £) for every amount of a table: that of its largest mean."""
    money_rows = rows[rows["unit"] == "GBP"]
    return money_scale(*money_rows["mean"].tolist())


def _unit(unit: str) -> str:
    return {"GBP": "£", "share": "%"}.get(unit, unit)


def comparison_table(rs: ResultSet) -> Table:
    """The outcomes gained a year (headlines first), each with its 95% CI: sim.economics' one definition."""
    table_rows = rs.comparison
    table_rows = table_rows[table_rows["kind"].isin(["headline", "outcome"])]
    s, c = rs.scenarios["scenario"].name, rs.scenarios["comparator"].name
    years = years_of(rs.scenarios["scenario"])
    n = _replications(rs, "scenario")
    table = Table(
        title=text(f"{s} against {c}: gains a year (the {years:g} years measured divided by {years:g}), paired "
                   f"difference, mean (95% CI); {SIGN_CONVENTION}"),
        title_justify="left",
    )
    for name, justify in (("measure", "left"), ("unit", "left"), ("gain", "right")):
        table.add_column(name, justify=justify)
    for _, row in table_rows.iterrows():
        style = "bold" if row["kind"] == "headline" else None
        table.add_row(text(row["measure"], style), text(_unit(row["unit"])),
                      text(interval(row["mean"], row["ci_low"], row["ci_high"], row["unit"],
                                    int(row["replications"]), n)))
    return table


def _money_cell(rows: pd.DataFrame, scale: float) -> str:
    if rows.empty:
        return "-"
    r = rows.iloc[0]
    return interval(r["mean"], r["ci_low"], r["ci_high"], "GBP", scale=scale)


def budget_impact_table(rs: ResultSet) -> Table:
    """Year by year, net cash by perspective (self-funders apart), and what the change costs."""
    impact = rs.budget_impact
    price_year = rs.scenarios["scenario"].economics.price_year
    scale = money_scale(*impact["mean"].tolist())
    unit = {1e6: "£m", 1e3: "£k"}.get(scale, "£")
    table = Table(title=text(
        f"Budget impact by year, {unit} at {price_year} prices, cash, undiscounted: net = cash-releasing savings less "
        "what the change costs (investment); positive = a saving; mean (95% CI). Self-funders' fees are private "
        "spending, never in a system's saving"), title_justify="left")
    columns = [("nhs", "net"), ("council", "net"), ("nhs_pss", "net"), ("nhs_pss", "investment"),
               ("self_funders", "net")]
    table.add_column("year")
    for perspective, kind in columns:
        name = SHORT[perspective] + (" net" if kind == "net" else " investment")
        if perspective == "self_funders":
            name = "self-funders (private)"
        table.add_column(text(name), justify="right")
    for year, rows in impact.groupby("year", sort=True):
        cells = [_money_cell(rows[(rows["perspective"] == p) & (rows["kind"] == k)], scale) for p, k in columns]
        table.add_row(text(str(year)), *(text(c) for c in cells))
    return table


def capacity_table(rs: ResultSet) -> Table | None:
    """Places freed a year in each place-based service (beds, caseloads, teams): capacity, not cash."""
    freed = rs.capacity_freed
    places = freed[freed["measure"] == "places freed"]
    if places.empty:
        return None
    years = sorted(places["year"].unique())
    table = Table(title=text("Capacity freed a year: places (beds, caseload places, teams) the scenario needs less than "
                             "the comparator, mean (95% CI); capacity, not cash: money comes back only if it is "
                             "closed" + _valued_note(rs)), title_justify="left")
    table.add_column("service")
    for year in years:
        table.add_column(f"year {year}", justify="right")
    for service, rows in places.groupby("service", sort=True):
        cells = []
        for year in years:
            r = rows[rows["year"] == year].iloc[0]
            cells.append(interval(r["mean"], r["ci_low"], r["ci_high"], "places"))
        table.add_row(text(labels.service(service)), *(text(c) for c in cells))
    return table


def _valued_note(rs: ResultSet) -> str:
    valued = rs.scenarios["scenario"].economics.capacity_value
    if not valued:
        return "; not valued in money (the scenario states no marginal value of a place-day)"
    return "; valued at the scenario's stated marginal value for " + ", ".join(labels.service(s) for s in sorted(valued))


def economics_table(rs: ResultSet) -> Table:
    """Over the horizon measured, by perspective: cash saved, investment, net, discounted net and return on investment."""
    summary = rs.economic_summary
    scen = rs.scenarios["scenario"]
    scale = money_scale(*summary.loc[summary["unit"] == "GBP", "mean"].tolist())
    table = Table(title=text(f"Over the {len(years_measured(scen))} years measured, at {scen.economics.price_year} "
                             "prices: mean (95% CI); discounted to day 0 of the change, mid-year"),
                  title_justify="left")
    table.add_column("measure")
    perspectives = ["nhs", "council", "nhs_pss", "self_funders"]
    for p in perspectives:
        table.add_column(text(SHORT[p] + (" (private)" if p == "self_funders" else "")), justify="right")
    for measure in dict.fromkeys(summary["measure"]):
        cells = []
        for p in perspectives:
            rows = summary[(summary["measure"] == measure) & (summary["perspective"] == p)]
            if rows.empty:
                cells.append("-")
                continue
            r = rows.iloc[0]
            if r["unit"] == "ratio":
                cells.append(f"{r['mean']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f})" if r["ci_low"] == r["ci_low"]
                             else f"{r['mean']:.2f}")
            else:
                cells.append(interval(r["mean"], r["ci_low"], r["ci_high"], "GBP", scale=scale))
        table.add_row(text(measure), *(text(c) for c in cells))
    return table


def horizon_note(rs: ResultSet) -> str:
    """When the run measured fewer years than the scenario's economic horizon, say so and how to measure them."""
    scen = rs.scenarios["scenario"]
    years, horizon = len(years_measured(scen)), scen.economics.horizon_years
    if years >= horizon:
        return ""
    return (f"The run measured {scen.run.horizon_days} days: {years} of the {horizon} years of the economic horizon "
            f"(economics.horizon_years). Long-term care avoided keeps saving in later years; measure them with "
            f"--horizon {horizon * 365}.")


def print_comparison(console: Console, rs: ResultSet) -> None:
    reason = not_valid_reason(rs)
    if reason:
        # Two runs without a steady state: their difference would read as a gain or a saving, and is neither.
        say(console, reason, style="bold red")
        return
    show(console, comparison_table(rs))
    show(console, budget_impact_table(rs))
    capacity = capacity_table(rs)
    if capacity is not None:
        show(console, capacity)
    show(console, economics_table(rs))
    for sentence in cost_shifts(rs):
        say(console, sentence)
    note = horizon_note(rs)
    if note:
        say(console, note, style="yellow")


def print_results(console: Console, rs: ResultSet) -> None:
    show(console, summary_table(rs))
    warnings = trust.of_results(rs)
    if "comparator" in rs.scenarios:
        print_comparison(console, rs)
    result = rs.manifest.get("precision_result")
    if result is not None:
        target = rs.manifest["precision"]["target"]
        if result["achieved"]:
            say(console, f"Precision of ±{target:.0%} reached at {result['achieved_at']} replications "
                         f"(kept for the look-ahead; {result['replications_used']} used).")
        else:
            say(console, f"Precision of ±{target:.0%} not reached within {result['replications_used']} "
                         "replications; widen the cap (--max-replications).", style="yellow")
    for warning in warnings:
        say(console, f"warning: {warning.message}" + (" (comparator)" if warning.role == "comparator" else ""),
            style="yellow")


def _half_width(variance: float, replications: int) -> float:
    """Half-width of the 95% CI of a mean paired difference with this variance over the replications."""
    if replications < 2 or not math.isfinite(variance):
        return math.nan
    return float(stats.t.ppf(0.5 + LEVEL / 2, replications - 1) * math.sqrt(variance / replications))


def _plus_minus(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "share":
        return f"±{value * 100:.2f} pp"
    if unit == "GBP":
        return f"±{money(value)}"
    return f"±{value:,.{_decimals(value)}f} {unit}"


def narrower(variance_crn: float, variance_independent: float) -> str:
    """How much common random numbers narrow a 95% CI, in words: the ratio of half-widths is that of the sds."""
    if not (math.isfinite(variance_crn) and math.isfinite(variance_independent)):
        return "n/a"
    if variance_independent == 0:
        return "no spread either way" if variance_crn == 0 else "wider"
    change = 1 - math.sqrt(variance_crn / variance_independent)
    if change >= 0:
        return f"interval {change:.0%} narrower"
    return f"interval {-change:.0%} wider"


def crn_intervals(frame: pd.DataFrame, replications: int) -> Table:
    table = Table(title=text(f"Common random numbers: 95% CI of the paired difference over {replications} "
                             "replications, with CRN and with independent streams"), title_justify="left")
    for name in ("KPI", "with CRN", "independent", "effect"):
        table.add_column(name, justify="left" if name in ("KPI", "effect") else "right")
    for _, row in frame.iterrows():
        table.add_row(text(kpi_label(row["kpi"], row["label"])),
                      text(_plus_minus(_half_width(row["variance_crn"], replications), row["unit"])),
                      text(_plus_minus(_half_width(row["variance_independent"], replications), row["unit"])),
                      text(narrower(row["variance_crn"], row["variance_independent"])))
    return table


def timed(function, *args, **kwargs):
    """What `function` returns, and the seconds it took (wall clock), for output that says its run time."""
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


def print_crn(console: Console, frame: pd.DataFrame, replications: int, seconds: float) -> None:
    show(console, crn_intervals(frame, replications))
    say(console, f"{replications} replications of each scenario, twice: with the same random numbers (CRN) and "
                 f"with the comparator's seed moved (independent); {4 * replications} runs in {seconds:,.0f} s.")

