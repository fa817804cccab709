"""Reported against simulated: the Sutton Health and Care at Home alliance, written to docs/sutton.md.

    python -m sim.studies.sutton.validation                       # writes docs/sutton.md (about 5 minutes on a free core)
    python -m sim.studies.sutton.validation --replications 5 --workers 1 --output /tmp/sutton.md
    python -m sim.studies.sutton.validation --results runs/sutton  # keep the replications; reads budget_impact.csv there
    python -m sim.studies.sutton.validation --budget-impact results/alliance-vs-baseline   # its budget_impact.csv by year

It runs the 2017/18 baseline, the alliance, the alliance with reablement at its ceiling (the 95%
what-if) and the alliance with fewer and more START visit-hours, on the same replications (common
random numbers), through the one runner (sim.experiment.run_experiment), and writes:

1. calibration: the baseline against the figures it was tuned to (never the alliance's);
2. validation: the alliance's four reported figures against the simulated change, each marked input
   or output, with the ones this model version cannot produce said so;
3. economics: the comparison's headline table and savings by payer as sim.compare gives them, national
   and London-weighted prices, and budget impact by year when the results folder has budget_impact.csv;
4. whether -1% admissions and -6% length of stay can sit beside 95% at home, and which capacity binds;
5. what the scenarios rest on: figures found, figures not found, assumptions and their ranges;
6. one assumption at a time across its range: which of them the comparison hangs on.

Every number in the document comes from these runs, except the reported and sourced figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import trust
from sim.executors import make_executor
from sim.experiment import Plan, reprice, run_experiment
from sim.results import ResultSet
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.studies.connect.validation import (
    INTENSIVE,
    STOCKS,
    Calibration,
    Runs,
    fmt,
    table,
    verdict,
    write_atomically,
)
from sim.studies.sutton import inputs, sensitivity

ROOT = Path(__file__).resolve().parents[3]
COMMAND = "python -m sim.studies.sutton.validation"
# Roles of the one experiment: `scenario` and `comparator` are what sim.compare pairs for the headline table.
SCENARIO_FILES = {"comparator": "baseline.yaml", "scenario": "alliance.yaml", "ceiling": "alliance-at-home-95.yaml"}
SHORT = {"comparator": "Baseline 2017/18", "scenario": "Alliance", "ceiling": "Alliance, reablement at its ceiling"}
START_HOURS = "services.reablement.workforce.visit_hours_per_day"
START_MORE = 20.0                      # the alliance also probed with this many more START visit-hours a day
LONDON_WEIGHT = 1.2                    # NHS prices x1.2 (assumption): the London weighting sensitivity
BUDGET_FILE = "budget_impact.csv"
ED_WAIT_BOUND = 12.0                   # hours: above it the ED queue is not clearing (calibration, §1)
BUDGET_COLUMNS = ("year", "perspective", "kind", "mean", "ci_low", "ci_high")


def probe_role(hours: float) -> str:
    return f"start_{hours:g}"


# --- the runs ------------------------------------------------------------------------------------


def load_all(folder: Path) -> dict[str, Scenario]:
    return {role: load_scenario(folder / "sutton" / file) for role, file in SCENARIO_FILES.items()}


def start_hours(scenario: Scenario) -> float:
    return scenario.services["reablement"].workforce.visit_hours_per_day


def probes(scenarios: dict[str, Scenario]) -> tuple[float, float]:
    """START visit-hours to try the alliance with: the baseline's, and START_MORE above the alliance's."""
    return start_hours(scenarios["comparator"]), start_hours(scenarios["scenario"]) + START_MORE


def with_probes(scenarios: dict[str, Scenario]) -> dict[str, Scenario]:
    """The alliance again with other START visit-hours: where admissions and stays go as START fills or frees."""
    alliance = scenarios["scenario"]
    return {**scenarios, **{probe_role(h): alliance.with_changes({START_HOURS: h}) for h in probes(scenarios)}}


def shortened(scenarios: dict[str, Scenario], horizon: int | None, warmup: int | None) -> dict[str, Scenario]:
    changes = {k: v for k, v in (("run.horizon_days", horizon), ("run.warmup_days", warmup)) if v is not None}
    return {role: s.with_changes(changes) if changes else s for role, s in scenarios.items()}


def derive(t: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Yearly counts, and the measures the study needs that are not KPIs themselves, per replication."""
    t = t.copy()
    flows = [c for c in t.columns if not c.endswith(STOCKS + INTENSIVE) and not c.startswith("conservation.")]
    t[flows] = t[flows] * (365.0 / scenario.run.horizon_days)
    new = {
        "cost.system": t["cost.nhs"] + t["cost.council"],
        "start.hours_a_day": t["reablement.visit_hours_mean"],
        "fit_to_leave_share": t["delayed.acute_bed_days"] / 365.0 / t["acute.occupancy_mean"],
        "care_home.council_supported": t["care_home.permanent_admissions"] * (1 - scenario.funding.self_funder_share),
    }
    return pd.concat([t, pd.DataFrame(new)], axis=1)


def simulate(scenarios: dict[str, Scenario], replications: int, workers: int = 1,
             folder: Path | None = None, resume: bool = False) -> tuple[ResultSet, Runs]:
    """Replications 0..n-1 of every role on the same streams (common random numbers)."""
    executor = make_executor(workers, tasks=replications * len(scenarios))
    try:
        rs = run_experiment(scenarios, Plan(replications=replications), executor=executor, folder=folder,
                            resume=resume)
    finally:
        executor.close()
    # Runs compares against a role called "baseline": the comparator.
    tables = {("baseline" if role == "comparator" else role): derive(rs.kpi_table(role), s)
              for role, s in scenarios.items()}
    return rs, Runs(tables)


# --- 1. calibration ------------------------------------------------------------------------------------


CALIBRATION = (
    Calibration("Non-elective admissions of people 65+ a year", "about 7,800 (derived from 2012/13; 6,500-9,000)",
                6_500, 9_000, "acute.admissions", "a year", 1, 0, "demand.crises_per_year"),
    Calibration("Acute bed occupancy (65+ emergencies)", "85-93% (assumption: KH03 not found)", 85, 93,
                "acute.utilisation", "%", 100, 1, "services.acute.capacity"),
    Calibration("Mean wait in ED for an acute bed", "hours, not days (the ED queue must clear)", 0, 12,
                "ed.wait_hours_mean", "hours", 1, 1, "services.acute.capacity"),
    Calibration("START episodes of people 65+ a year", "about 1,300 (1,522 referrals 2019/20 x 85%)", 1_150, 1_450,
                "reablement.admissions", "a year", 1, 0, "arrivals.reablement, routes.P1"),
    Calibration("START visit-hours delivered a day (65+)", "about 116 (50,000 hours 2019/20 x 85% / 365)", 100, 130,
                "start.hours_a_day", "hours", 1, 0, "services.reablement.workforce"),
    Calibration("At home at the end of reablement (proxy for 91 days)", "about 82% (ASCOF 2B(1) England)", 80, 84,
                "reablement.at_home_91d_share", "%", 100, 1, "routes.reablement_outcome"),
    Calibration("Permanent care home admissions, council-supported", "107 (2019/20), 96 (2020/21)", 90, 120,
                "care_home.council_supported", "a year", 1, 0, "routes.care_home_decision (with 35% self-funders)"),
    Calibration("Rapid response reached within 2 hours", "at least 70% (national standard)", 70, 100,
                "ucr.within_target_share", "%", 100, 1, "services.urgent_response.capacity"),
)


def calibration_section(runs: Runs) -> list[str]:
    rows = []
    for c in CALIBRATION:
        e = runs.level("baseline", c.measure, c.factor)
        rows.append([c.label, c.figure, fmt(e, c.unit, c.digits), verdict(e, c.low, c.high), c.set_by])
    return [
        "## 1. Calibration: the baseline against what it was tuned to",
        "",
        "The 2017/18 baseline, mean and 95% interval over replications. These figures set inputs (the last "
        "column), so agreeing with them is a check of the tuning, not evidence about the alliance. None of the "
        "alliance's reported figures is among them.",
        "",
        *table(["calibration target", "figure", "simulated", "verdict", "set by"], rows),
    ]


# --- 2. validation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    label: str
    figure: str
    low: float           # the reported figure's band on the model's scale (% change)
    high: float
    measure: str | None  # None: this model version cannot produce it
    kind: str
    note: str


REPORTED = (
    Reported("Non-elective admissions, people over 65", "down 1% (first year, against comparator areas)", -1.5, -0.5,
             "acute.admissions", "output",
             "No lever was set from it: referrals to rapid response (x1.3) and its capacity (+1) are assumptions."),
    Reported("Length of stay, people over 65", "down 6%", -7, -5, "acute.los_mean", "output",
             "Mean acute stay including delays; discharge to assess (no in-bed assessment for pathway 1) is the "
             "lever, its size not set from this figure."),
    Reported("Average length of stay in hospital (all ages)", "down 5%", -6, -4, None, "not reachable by this model version",
             "The model holds only people 65+; the 65+ change above is the nearest it can give."),
    Reported("Still at home 91 days after reablement", "rising year on year; target 95%", 95, 100, None,
             "not reachable by this model version",
             "The pathway has no deaths or readmissions after a service ends, so nobody can be followed for 91 days. "
             "The proxy below is the share at home when the START episode ends (input-driven: its split by frailty "
             "is an input, only the mix of who is reabled is an output)."),
)


def validation_section(runs: Runs, rs: ResultSet) -> list[str]:
    # A comparison the simulator does not trust (a queue growing all run) is never shown as agreeing.
    jammed = sorted({s for role in ("scenario", "comparator") for s in overloaded(rs, role)})
    rows = []
    for r in REPORTED:
        if r.measure is None:
            rows.append([r.label, r.figure, "—", r.kind, "—", r.note])
            continue
        e = runs.pct_change("scenario", r.measure)
        shown = f"not trusted: the queue for {', '.join(jammed)} grows all run" if jammed else verdict(e, r.low, r.high)
        rows.append([r.label, r.figure, fmt(e, "%", 1), r.kind, shown, r.note])
    proxy = "reablement.at_home_91d_share"
    base, alliance, ceiling = (runs.level(n, proxy, 100) for n in ("baseline", "scenario", "ceiling"))
    change = runs.change("scenario", proxy, 100)
    los = runs.change("scenario", "acute.los_mean")
    process = runs.saving("scenario", "acute.delayed_bed_days.discharge_process")
    return [
        "## 2. Validation: the alliance's reported figures against the simulation",
        "",
        "The alliance scenario against the baseline on the same replications (paired), % change with its 95% "
        "interval. *Output*: no input was set from the figure. *Within*: the interval overlaps the reported "
        "figure ±0.5 percentage points (±1 for length of stay).",
        "",
        *table(["reported figure", "reported", "simulated change", "input or output", "verdict", "note"], rows),
        f"Proxy for the fourth figure, at home when START ends: baseline {fmt(base, '%', 1)}, alliance "
        f"{fmt(alliance, '%', 1)} (change {fmt(change, 'percentage points', 1)}). It barely moves because the alliance "
        f"changes who waits where, not how well START reables; the 'rising year on year' the alliance reported "
        f"would need a lever on START's effectiveness, which no public figure sizes. With reablement at its "
        f"ceiling (no readmissions or care homes from START, deaths unchanged) the proxy is "
        f"{fmt(ceiling, '%', 1)}: see §4.",
        "",
        f"Where the shorter stay comes from: {fmt(process, 'bed-days a year')} fewer acute days waiting for an "
        f"assessment in the bed; the mean stay changes by {fmt(los, 'days', 2)}.",
        "",
    ]


# --- 3. economics ------------------------------------------------------------------------------------------


def _money(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{'-' if x < 0 else ''}£{abs(x) / 1e6:,.2f}m"


def comparison_rows(comparison: pd.DataFrame, per_year: float) -> list[list[str]]:
    """Whatever rows the comparison gives (outcomes, savings by payer and kind, perspectives), money per year."""
    rows = []
    for _, r in comparison.iterrows():
        unit = str(r.get("unit", ""))
        is_money, is_share = unit == "GBP", unit == "share"
        scale = 100.0 if is_share else per_year if is_money or unit in ("people", "bed-days") else 1.0
        show = _money if is_money else (lambda x: "n/a" if pd.isna(x) else f"{x:,.1f}")
        rows.append([r.get("measure", ""), "percentage points" if is_share else unit, show(r.get("mean", np.nan) * scale),
                     f"{show(r.get('ci_low', np.nan) * scale)} to {show(r.get('ci_high', np.nan) * scale)}",
                     r.get("who", "") or ""])
    return rows


def read_budget_impact(folder: Path | None) -> pd.DataFrame | None:
    """budget_impact.csv from the results folder if it is there and has the expected columns, else None."""
    if folder is None or not (folder / BUDGET_FILE).is_file():
        return None
    frame = pd.read_csv(folder / BUDGET_FILE)
    missing = [c for c in BUDGET_COLUMNS if c not in frame.columns]
    return None if missing else frame


def budget_lines(frame: pd.DataFrame | None) -> list[str]:
    if frame is None:
        return [f"Budget impact by year: not available (no `{BUDGET_FILE}` in the results folder; this model "
                "version's comparison does not write one). When it does, this section lists it by year, "
                "perspective and kind.", ""]
    rows = [[r.year, r.perspective, r.kind, _money(r.mean), f"{_money(r.ci_low)} to {_money(r.ci_high)}"]
            for r in frame.itertuples()]
    return ["Budget impact by year, as the comparison wrote it (`budget_impact.csv`):", "",
            *table(["year", "perspective", "kind", "mean", "95% interval"], rows)]


def payer_rows(national: pd.DataFrame, weighted: pd.DataFrame, per_year: float) -> list[list[str]]:
    """Total saving by payer at both prices; none when the comparison no longer gives totals by payer."""
    if not {"kind", "payer", "mean", "ci_low", "ci_high"} <= set(national.columns) & set(weighted.columns):
        return []
    rows = []
    for payer in ("nhs", "council", "self_funder", "all"):
        a, b = (c[(c["kind"] == "all") & (c["payer"] == payer)] for c in (national, weighted))
        if a.empty or b.empty:
            continue
        rows.append([payer.replace("_", "-"), *(f"{_money(x.iloc[0]['mean'] * per_year)} "
                                                f"({_money(x.iloc[0]['ci_low'] * per_year)} to "
                                                f"{_money(x.iloc[0]['ci_high'] * per_year)})" for x in (a, b))])
    return rows


def economics_section(rs: ResultSet, london: ResultSet, budget: pd.DataFrame | None) -> list[str]:
    scenario = rs.scenarios["scenario"]
    per_year = 365.0 / scenario.run.horizon_days
    national = rs.comparison
    weighted = london.comparison
    payers = payer_rows(national, weighted, per_year)
    return [
        "## 3. Economics: who saves and who pays",
        "",
        f"The alliance against the baseline as `sim.compare` gives it (the same table as `run_scenario.py "
        f"scenarios/sutton/alliance.yaml`), a year's worth at {scenario.economics.price_year} national prices; "
        "positive = better for the alliance (a saving, or fewer admissions, bed-days and placements). "
        "*Cash-releasing* savings are placements, packages and episodes not bought; *capacity freed* is bed-days "
        "and attendances, cash only if beds close. Long-term placements count their whole committed cost in the "
        "year they start.",
        "",
        *table(["measure", "unit", "mean a year", "95% interval", "who"], comparison_rows(national, per_year)),
        f"Saving by payer at national prices and with NHS prices x{LONDON_WEIGHT:g} (London weighting: an "
        "assumption, no London unit costs were found), re-priced from the same runs:",
        "",
        *(table(["payer", "national prices", f"NHS prices x{LONDON_WEIGHT:g}"], payers) if payers
          else ["(The comparison gives no totals by payer to re-price.)", ""]),
        *budget_lines(budget),
    ]


def london_weighted(rs: ResultSet) -> ResultSet:
    """The same runs with every NHS price raised by the London weighting (no one's journey changes)."""
    def weighted(s: Scenario) -> Scenario:
        changes = {f"services.{name}.costs.{i}.gbp": cost.gbp * LONDON_WEIGHT
                   for name, spec in s.services.items() for i, cost in enumerate(spec.costs) if cost.payer == "nhs"}
        return s.with_changes(changes)
    pair = {role: weighted(rs.scenarios[role]) for role in ("scenario", "comparator")}
    return reprice(rs, pair)


# --- 4. can the figures coexist, and what binds ---------------------------------------------------------


CAPACITY_SERVICES = ("acute", "urgent_response", "reablement", "community_beds", "temporary_residential")
DELAY_REASONS = ("reablement", "community_beds", "temporary_residential", "discharge_process")


def binding(runs: Runs, role: str) -> tuple[str, float]:
    """The capacity-limited service running fullest in a role, and its mean utilisation."""
    t = runs.tables[role]
    use = {s: float(t[f"{s}.utilisation"].mean()) for s in CAPACITY_SERVICES if f"{s}.utilisation" in t}
    name = max(use, key=use.get)
    return name, use[name]


def longest_wait(runs: Runs, role: str) -> tuple[str, float]:
    """The next step people in acute beds wait longest for (capacity, not the assessment), bed-days a year."""
    t = runs.tables[role]
    days = {r: float(t[f"acute.delayed_bed_days.{r}"].mean()) for r in DELAY_REASONS[:3]
            if f"acute.delayed_bed_days.{r}" in t}
    if not days:  # nobody waited in an acute bed for a next step in the period measured
        return "no next step", 0.0
    name = max(days, key=days.get)
    return name, days[name]


def overloaded(rs: ResultSet, role: str) -> list[str]:
    """Services whose queue grows through the run in this role (sim.trust's rule): no steady state to read."""
    return [w.subject.split(" (")[0] for w in trust.growing_queues(rs.daily, role)]


def _role_in_runs(role: str) -> str:
    return "baseline" if role == "comparator" else role


def coexistence_section(runs: Runs, rs: ResultSet) -> list[str]:
    low_hours, high_hours = probes(rs.scenarios)
    roles = ["comparator", "scenario", "ceiling", probe_role(low_hours), probe_role(high_hours)]
    names = {**SHORT, **{probe_role(h): f"Alliance, START {h:g} visit-hours a day" for h in (low_hours, high_hours)}}
    rows, jammed = [], {}
    for role in roles:
        key = _role_in_runs(role)
        t = runs.tables[key]
        adm = "—" if key == "baseline" else fmt(runs.pct_change(key, "acute.admissions"), "%", 1)
        los = "—" if key == "baseline" else fmt(runs.pct_change(key, "acute.los_mean"), "%", 1)
        waits = t.get("acute.delayed_bed_days.reablement", pd.Series([0.0])).mean()
        grows = overloaded(rs, role)
        if grows:
            jammed[names[role]] = grows
        rows.append([names[role], adm, los, fmt(runs.level(key, "reablement.at_home_91d_share", 100), "%", 1),
                     f"{t['reablement.utilisation'].mean() * 100:.0f}%", f"{t['reablement.wait_mean'].mean():.1f}",
                     f"{waits:,.0f}", f"{t['ed.wait_hours_mean'].mean():,.1f}", ", ".join(grows) or "none"])
    alliance_adm, alliance_los = runs.pct_change("scenario", "acute.admissions"), runs.pct_change("scenario", "acute.los_mean")
    ceiling_adm, ceiling_los = runs.pct_change("ceiling", "acute.admissions"), runs.pct_change("ceiling", "acute.los_mean")
    ceiling_home = runs.level("ceiling", "reablement.at_home_91d_share", 100)
    fullest, use = binding(runs, "scenario")
    waited, waited_days = longest_wait(runs, "scenario")
    los_low = runs.pct_change(probe_role(low_hours), "acute.los_mean")
    los_high = runs.pct_change(probe_role(high_hours), "acute.los_mean")
    reaches = "reaches" if ceiling_home.high >= 95 else "does not reach"
    same_way = ceiling_adm.mean <= alliance_adm.mean and ceiling_los.mean <= alliance_los.mean
    together = (
        "better reablement does not undo the other two figures: in the model the three pull the same way, because "
        "fewer readmissions from START mean fewer admissions, and START's outcomes by frailty are inputs the "
        "alliance's levers do not touch. What could make them conflict is not in this model version: sending "
        "frailer people home earlier under discharge to assess would lower the share at home only if their "
        "outcomes worsened, which no public figure sizes."
        if same_way else
        "here the three pull against each other: reaching the ceiling costs admissions or length of stay."
    )
    lines = [
        "## 4. Can -1% admissions, -6% length of stay and 95% at home coexist? Which capacity binds?",
        "",
        "Each row against the baseline on the same replications: % change in non-elective admissions 65+ and "
        "in acute length of stay (95% intervals), the share at home when START ends, START's use of its "
        "visit-hours and mean wait (days), acute bed-days a year spent waiting for START, the mean ED wait for "
        "a bed (hours), and any service whose queue grows through the whole run (sim/trust.py's rule).",
        "",
        *table(["scenario", "admissions", "length of stay", "at home after START", "START visit-hours used",
                "START wait", "acute days waiting for START", "ED wait", "queue grows all run"], rows),
        f"- **95% at home.** With nobody from START readmitted or placed in a care home, and deaths as before, the "
        f"proxy {reaches} 95% ({fmt(ceiling_home, '%', 1)}): deaths during or at the end of reablement alone "
        f"take {100 - ceiling_home.mean:.1f} points, so 95% leaves almost no room for readmissions or care homes. "
        f"The ASCOF measure also counts deaths and readmissions in the 91 days after, which this model version "
        f"does not simulate, so the real ceiling is lower still.",
        f"- **Together.** At that ceiling admissions change by {fmt(ceiling_adm, '%', 1)} and length of stay by "
        f"{fmt(ceiling_los, '%', 1)} (alliance alone: {fmt(alliance_adm, '%', 1)} and {fmt(alliance_los, '%', 1)}): "
        f"{together}",
        f"- **What binds.** In the alliance acute beds wait longest for {waited.replace('_', ' ')} "
        f"({waited_days:,.0f} bed-days a year); the fullest capacity-limited service is {fullest.replace('_', ' ')} "
        f"({use * 100:.0f}% used). START's visit-hours decide the length-of-stay gain: with the baseline's "
        f"{low_hours:g} hours a day the alliance's stay changes by {fmt(los_low, '%', 1)}, with {high_hours:g} by "
        f"{fmt(los_high, '%', 1)}. Discharge to assess moves the assessment from the ward to the first days at "
        "home; if START has no hours for it, people wait in the acute bed for START instead of for the assessment.",
    ]
    for name, services in jammed.items():
        lines.append(f"- **{name}: not a steady state.** The queue for {', '.join(services)} grows through the whole "
                     "run, so its admissions fall only because people are still waiting (in ED for an acute bed) "
                     "when the run ends: not admissions avoided, and not a gain.")
    return lines + [""]


# --- 5. what the scenarios rest on ------------------------------------------------------------------------


def sources_section() -> list[str]:
    found = [[f.figure, f.value, f.source, f.used_for] for f in inputs.FOUND]
    assumed = [[a.label, a.scenario, f"`{a.field}`", f"{a.value:g}", f"{a.low:g} to {a.high:g}", a.why]
               for a in inputs.ASSUMPTIONS]
    return [
        "## 5. What the scenarios rest on",
        "",
        "Figures found, each with its source and year:",
        "",
        *table(["figure", "value", "source", "used for"], found),
        "Figures looked for and not found (the scenarios use a stated assumption instead):",
        "",
        *(f"- {line}" for line in inputs.NOT_FOUND),
        "",
        "Assumptions and the ranges a sensitivity analysis should cover (`sim/studies/sutton/inputs.py`; each "
        "field is a dotted path of the scenario named):",
        "",
        *table(["assumption", "scenario", "field", "value", "range", "why"], assumed),
        "**Neighbourhoods.** `scenarios/sutton/neighbourhoods.yaml` splits the baseline into the four localities "
        "(Wallington, Carshalton, Sutton, Cheam) with equal shares of the crises and of START's community "
        "referrals, every service pooled; it reports long-term care and the measures per locality. The figures above use "
        "the borough as one place because no public figure found gives the 65+ population, admissions or any "
        "capacity by locality: equal shares would only divide the borough's results by four.",
        "",
    ]


# --- 6. sensitivity ----------------------------------------------------------------------------------------------


def run_sensitivity(scenarios: dict[str, Scenario], replications: int, workers: int) -> pd.DataFrame:
    pair = {role: scenarios[role] for role in ("comparator", "scenario")}
    cases = sensitivity.roles(pair)
    rs, _ = simulate(cases, replications, workers)
    jammed = frozenset(role for role in cases if overloaded(rs, role))
    return sensitivity.table({role: derive(rs.kpi_table(role), s) for role, s in cases.items()}, jammed)


def sensitivity_section(result: pd.DataFrame | None, replications: int) -> list[str]:
    title = "## 6. Sensitivity: which assumptions the comparison hangs on"
    if result is None or result.empty:
        return [title, "", "Not run (--sensitivity-replications 0).", ""]
    def marks(r, side: str) -> str:
        full = getattr(r, f"ed_wait_{side}") > ED_WAIT_BOUND
        return (" ‡" if getattr(r, f"overloaded_{side}") else "") + (" †" if full else "")

    def pair(r, name: str, show) -> str:
        return " / ".join(show(getattr(r, f"{name}_{side}")) + marks(r, side) for side in sensitivity.SIDES)

    rows = [[r.label, r.scenario, f"{r.value:g} ({r.low:g} to {r.high:g})",
             pair(r, "admissions", lambda x: f"{x:+.1f}%"), pair(r, "length_of_stay", lambda x: f"{x:+.1f}%"),
             pair(r, "nhs_saving", _money)] for r in result.itertuples()]
    top = result.iloc[0]
    flagged = (result["overloaded_low"] | result["overloaded_high"] | (result["ed_wait_low"] > ED_WAIT_BOUND)
               | (result["ed_wait_high"] > ED_WAIT_BOUND))
    jams = result[flagged]["label"].tolist()
    return [
        title,
        "",
        f"Each assumption of §5 at the low and then the high end of its range, the baseline and the alliance "
        f"simulated again on replications 0 to {replications - 1} (means; largest swing first). An assumption "
        "about the baseline applies to the alliance too unless the alliance sets the field itself. Compare the "
        "columns with the reported -1% admissions and -6% length of stay.",
        "",
        *table(["assumption", "in", "value (range)", "admissions change, low / high",
                "length of stay change, low / high", "saving to the NHS a year, low / high"], rows),
        "‡ a queue grows through the whole run at this end (sim/trust.py's rule); † the mean wait in ED for a bed "
        f"is above {ED_WAIT_BOUND:g} hours at this end (the bound of §1): acute beds are full, so fewer admissions "
        "there mean people still waiting in ED, not admissions avoided, and the changes are not steady-state figures.",
        "",
        f"The comparison hangs most on *{top.label}*: across its range the alliance's length of stay changes by "
        f"{top.length_of_stay_low:+.1f}% to {top.length_of_stay_high:+.1f}% and its admissions by "
        f"{top.admissions_low:+.1f}% to {top.admissions_high:+.1f}%."
        + (f" Ends that overload a service (‡, †): {', '.join(jams)}; public figures for these inputs would narrow "
           "the comparison most." if jams else ""),
        "",
    ]


# --- writing ---------------------------------------------------------------------------------------------------


def render(rs: ResultSet, runs: Runs, london: ResultSet, budget: pd.DataFrame | None, meta: dict,
           sens: pd.DataFrame | None = None) -> str:
    base = rs.scenarios["comparator"].run
    lines = [
        "# Sutton Health and Care at Home: the alliance's first year, reported against simulated",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} in {meta['minutes']:.1f} minutes. Do not edit by hand: "
        "change the scenarios or `sim/studies/sutton/` and run it again.",
        "",
        "- Scenarios: `scenarios/sutton/baseline.yaml` (2017/18, before the alliance), `scenarios/sutton/alliance.yaml` "
        "(its first year), `scenarios/sutton/alliance-at-home-95.yaml` (a what-if: reablement at its ceiling), and the "
        "alliance with other START visit-hours.",
        f"- {runs.replications} replications of each, seed {base.seed}, replication i of every scenario on the same "
        f"random streams (common random numbers); {base.warmup_days} days of warm-up, then {base.horizon_days} days "
        "measured. Counts are a year's worth; intervals are 95% Student-t across replications (paired for changes).",
        "- The alliance (jointly commissioned in 2018: NHS providers, the council and the GP federation) reported, in "
        "its first year against comparator areas: non-elective admissions 65+ down 1%, length of stay 65+ down 6%, "
        "average length of stay down 5%, and the share at home 91 days after reablement rising, target 95% "
        "(figures as quoted in the project's seed documents; the alliance's own report was not found).",
        "- People 65+ of one London borough (about 209,600 residents, about 31,000 aged 65+): a *place* of the "
        "south west London system (about 1.5 million).",
    ]
    lines += [
        "",
        "How the alliance is modelled. Sutton's services where they differ from Connect's: *rapid response* is the "
        "library's response team with Sutton's own (assumed) size; *START*, the council's reablement, is staff "
        "visit-hours tapering over each episode (`kind: visits`), sized from the hours it delivered, not Connect's "
        "caseload; *discharge to assess* lets people going home with support (pathway 1) leave the acute bed once "
        "ready, their assessment moving into the first days at home. The *integrated at-home team* is represented "
        "by what it changes in those services (more rapid response referrals and capacity, more START hours from "
        "community nursing and therapy, a longer and heavier first START episode), not as a service of its own: "
        "no public figure found gives its size, caseload, stays or outcomes.",
    ]
    if meta.get("short"):
        lines.append(f"- **Short run** ({meta['short']}): not for comparison with the reported figures.")
    lines.append("")
    lines += calibration_section(runs)
    lines += validation_section(runs, rs)
    lines += economics_section(rs, london, budget)
    lines += coexistence_section(runs, rs)
    lines += sources_section()
    lines += sensitivity_section(sens, meta.get("sensitivity_replications", 0))
    return "\n".join(lines).rstrip("\n") + "\n"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", type=int, default=10, help="replications of each scenario (default 10)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--scenarios", type=Path, default=ROOT / "scenarios", help="folder holding sutton/")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "sutton.md")
    p.add_argument("--results", type=Path, default=None,
                   help="keep the replications in this results folder; budget_impact.csv there is reported")
    p.add_argument("--resume", action="store_true", help="with --results: reuse the replications a stopped run finished")
    p.add_argument("--budget-impact", type=Path, default=None,
                   help=f"a results folder (e.g. of run_scenario.py scenarios/sutton/alliance.yaml) whose {BUDGET_FILE}"
                        " to report by year; default: the --results folder")
    p.add_argument("--sensitivity-replications", type=int, default=3,
                   help="replications of each one-at-a-time sensitivity run; 0 skips it (default 3)")
    p.add_argument("--horizon", type=int, default=None, help="measured days (default: the scenarios'; smoke runs only)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up days (default: the scenarios'; smoke runs only)")
    args = p.parse_args(argv)
    if args.resume and args.results is None:
        p.error("--resume needs --results (the folder to resume)")
    if args.replications < 2:
        p.error("--replications must be at least 2 (an interval needs two)")
    if args.workers < 1 or args.sensitivity_replications < 0:
        p.error("--workers must be at least 1 and --sensitivity-replications at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.monotonic()
    try:
        scenarios = shortened(with_probes(load_all(args.scenarios)), args.horizon, args.warmup)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    rs, runs = simulate(scenarios, args.replications, args.workers, args.results, args.resume)
    n = min(args.sensitivity_replications, args.replications)
    sens = run_sensitivity(scenarios, n, args.workers) if n else None
    short = ", ".join(f"{k} {v} days" for k, v in (("horizon", args.horizon), ("warm-up", args.warmup)) if v is not None)
    meta = {
        "command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
        "date": dt.date.today().isoformat(), "minutes": (time.monotonic() - started) / 60, "short": short,
        "sensitivity_replications": n,
    }
    budget = read_budget_impact(args.budget_impact or args.results)
    text = render(rs, runs, london_weighted(rs), budget, meta, sens)
    write_atomically(args.output, text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
