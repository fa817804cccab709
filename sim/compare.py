"""A scenario against its comparator: paired differences, savings by payer, cash against capacity.

Replication *i* of both scenarios meets the same crises and the same luck
(common random numbers), so the difference is taken replication by
replication and its 95% CI comes from the spread of those paired differences.

Savings are split two ways:
- by payer (NHS, council, self-funders), so a saving to one that is a cost to
  another shows as costs moved between payers, not as a saving;
- into cash-releasing savings (fewer new long-term placements and packages,
  whose whole committed cost is avoided, and fewer episodes) and
  capacity freed (bed-days and attendances in services whose staff and beds
  are paid for anyway: the money only comes back if capacity is closed).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.intervals import interval_row
from sim.measure.costs import COMMITTED, PAYERS, in_totals
from sim.measure.kpis import describe
from sim.scenario import labels

if TYPE_CHECKING:
    from sim.results import ResultSet

CASH_RELEASING = "cash-releasing"
CAPACITY_FREED = "capacity freed"
# Whether a cost avoided is cash (a placement, a package, an episode or an out-of-area fee not bought)
# or capacity (bed-days, response-days and attendances: cash only if the capacity itself is cut).
CASH_UNITS = ("episodes started", "placements out of area", "visit-hours")


def saving_kind(line: pd.Series) -> str:
    if line["basis"] == COMMITTED or any(line["activity_unit"].startswith(u) for u in CASH_UNITS):
        return CASH_RELEASING
    return CAPACITY_FREED


PAYER_NAMES = {"nhs": "NHS", "council": "council", "self_funder": "self-funders", "all": "all payers"}
# Said once wherever differences are shown (cards, tables, figures, the command line), so a sign means one thing.
SIGN_CONVENTION = "positive = better for the scenario: a saving, or fewer admissions, bed-days and placements"
# The KPIs' own labels spell payers as identifiers ("Cost to self funder"); people read them as elsewhere.
PAYER_KPI_LABELS = {f"cost.{payer}": f"Cost to {'the ' if payer != 'self_funder' else ''}{PAYER_NAMES[payer]}"
                    for payer in PAYERS}


def kpi_label(kpi: str, label: str) -> str:
    """A KPI's label as shown, with payers named as everywhere else (NHS, council, self-funders)."""
    return PAYER_KPI_LABELS.get(kpi, label)


def money(value: float, signed: bool = False, scale: float | None = None) -> str:
    """Pounds as people read them: £7.0m, £26.8k, £346; `scale` (1e6, 1e3 or 1) sets the unit for a group.

    The one money format of the command line, the report and the app, tables and sentences alike.
    """
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "unlimited" if value > 0 else "-unlimited"
    size = abs(value)
    if scale is None:
        scale = 1e6 if size >= 1e6 else 1e3 if size >= 1e3 else 1.0
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    if scale == 1.0:
        return f"{sign}£{size:,.0f}"
    # One decimal in the scale's own range, two below it, so that £0.35m in a £m interval is not "£0.3m".
    digits = 1 if size >= scale else 2
    return f"{sign}£{size / scale:,.{digits}f}{'m' if scale == 1e6 else 'k'}"


def money_scale(*values: float) -> float:
    """The unit (1e6, 1e3 or 1) a group of amounts shares: that of the largest."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    size = max(finite, default=0.0)
    return 1e6 if size >= 1e6 else 1e3 if size >= 1e3 else 1.0


def no_interval(defined: int, replications: int) -> str:
    """Why a mean has no 95% CI: one replication only when there was one."""
    if replications == 1:
        return "no CI: one replication"
    if defined == 0:
        return "not defined in any replication"
    if defined == 1:
        return f"no CI: defined in 1 of {replications} replications"
    return "no CI: some replications are unlimited"

def main_service(scenario) -> str:
    """The service a system's headline figures are about: the first bed-based service people meet, following
    routes from where they come in (crises, arrivals); else the first service that holds people.

    It depends on the pathway's shape, never on capacities, so a scenario and its comparator share it.
    """
    services, routes = scenario.services, scenario.routes
    starts = ([scenario.demand.enters] if scenario.demand.crises_per_year > 0 else []) + list(scenario.arrivals)
    starts += [target for place in scenario.places.values() for target in place.arrivals]
    seen: list[str] = []
    queue = list(dict.fromkeys(starts))
    while queue:  # breadth first: the nearest service to where people come in
        node = queue.pop(0)
        if node in seen:
            continue
        seen.append(node)
        if node in routes:  # likeliest first, then by name: the same whatever order the tables were written in
            chance: dict[str, float] = {}
            for _, table in routes[node].tables():
                for dest, p in table.items():
                    chance[dest] = max(chance.get(dest, 0.0), p)
            queue += sorted((d for d, p in chance.items() if p > 0), key=lambda d: (-chance[d], d))
        elif node in services:
            spec = services[node]
            queue += [spec.then, *(getattr(spec, "handover_to", []) or []), *([spec.give_up_to]
                                                                              if hasattr(spec, "give_up_to") else [])]
    reached = [n for n in seen if n in services] + sorted(n for n in services if n not in seen)
    for kinds in (("beds",), ("caseload", "visits", "unlimited")):
        for name in reached:
            if services[name].kind in kinds:
                return name
    return reached[0]


def key_kpis(scenario) -> list[str]:
    """The KPIs shown first (the command line's summary, the report's and the app's comparison tables).

    Crises; the scenario's own measures, in the order written (its headline figures); its main service's
    admissions, occupancy, utilisation and stay; without measures, every other service's admissions and
    occupancy too; delays; and cost by payer.
    """
    main = main_service(scenario)
    names = ["crises", *scenario.measures,
             *(f"{main}.{m}" for m in ("admissions", "occupancy_mean", "utilisation", "los_mean"))]
    if not scenario.measures:
        names += [f"{name}.{m}" for name in scenario.services if name != main for m in ("admissions", "occupancy_mean")]
    names += ["delayed.bed_days", *(f"cost.{payer}" for payer in PAYERS), "cost.total"]
    return list(dict.fromkeys(names))


def bed_services(scenario) -> list[str]:
    """Services whose places are beds: their occupancy over the period is bed-days."""
    return [name for name, spec in scenario.services.items() if spec.kind == "beds"]


# (measure, unit, KPIs added together, sign): sign +1 when more in the scenario is the gain,
# -1 when less in the scenario is the gain (something avoided or saved). Made from the scenario's own
# services by kind: the main service's admissions, every bed-based service's bed-days, delays, and every
# long-term service's new placements; then the scenario's own measures that say which way is better
# (`better: higher|lower`). Measures with no direction are shown as differences in words (report, app).
Outcome = tuple[str, str, tuple[str, ...], int]


def outcomes(scenario) -> list[Outcome]:
    """The gains shown for a scenario, services in order of name: a results folder's manifest keeps a scenario's
    sections sorted, so that a comparison read back from it (or merged from shards) is the same, row for row."""
    main = main_service(scenario)
    rows: list[Outcome] = [("Admissions avoided", "people", (f"{main}.admissions",), -1)]
    rows += [(f"{labels.service(name)}: bed-days saved", "bed-days", (f"{name}.occupancy_mean",), -1)
             for name in sorted(bed_services(scenario))]
    rows.append(("Delayed bed-days saved", "bed-days", ("delayed.bed_days",), -1))
    rows += [(f"{labels.service(name)}: new placements avoided", "people", (f"{name}.placements",), -1)
             for name in sorted(scenario.services) if scenario.services[name].kind == "long_term"]
    # The scenario's own measures that say which way is better (`better:`), headline ones first.
    measures = sorted((not m.headline, name) for name, m in scenario.measures.items() if m.better)
    rows += [(scenario.measures[name].label, scenario.measures[name].unit, (name,),
              1 if scenario.measures[name].better == "higher" else -1) for _, name in measures]
    return rows


def _per_day(kpi: str) -> bool:
    return kpi.endswith(".occupancy_mean")   # occupancy x days = bed-days


def _paired(rs: ResultSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    scen, comp = rs.kpi_table("scenario"), rs.kpi_table("comparator")
    if list(scen.index) != list(comp.index):
        raise ValueError("the scenario and its comparator must have the same replications to be paired")
    return scen, comp


def differences(rs: ResultSet) -> pd.DataFrame:
    """Every KPI: scenario mean, comparator mean and the paired difference (scenario - comparator)."""
    scen, comp = _paired(rs)
    rows = []
    for kpi in scen.columns:
        if kpi not in comp.columns:
            continue
        label, unit, _ = describe(kpi)
        diff = interval_row(scen[kpi] - comp[kpi])
        rows.append({
            "kpi": kpi, "label": label, "unit": unit,
            "scenario_mean": float(scen[kpi].mean()), "comparator_mean": float(comp[kpi].mean()),
            "difference_mean": diff["mean"], "ci_low": diff["ci_low"], "ci_high": diff["ci_high"],
            "replications": diff["replications"],
        })
    return pd.DataFrame(rows)


def outcome_gains(rs: ResultSet) -> dict[str, np.ndarray]:
    """Per replication, each headline outcome as a gain of the scenario over the comparator."""
    scen, comp = _paired(rs)
    horizon = rs.scenarios["scenario"].run.horizon_days
    out = {}
    for measure, _, kpis, sign in outcomes(rs.scenarios["scenario"]):
        scale = horizon if _per_day(kpis[0]) else 1.0
        # A service only one of the two has counts nothing in the other.
        zero = pd.Series(0.0, index=scen.index)
        diff = sum(scen.get(k, zero) - comp.get(k, zero) for k in kpis) * scale
        out[measure] = (sign * diff).to_numpy(dtype=float)
    return out


def cost_matrix(rs: ResultSet, role: str) -> pd.DataFrame:
    """Cost per replication (rows) by (kind, payer) (columns), GBP, zeros included."""
    costs = rs.costs[rs.costs["role"] == role]
    if len(costs):  # long-term care counted once, at the cost new placements commit, as the cost KPIs count it
        costs = costs[costs.apply(in_totals, axis=1)]
    costs = costs.assign(kind=costs.apply(saving_kind, axis=1) if len(costs) else [])
    table = costs.pivot_table(index="replication", columns=["kind", "payer"], values="cost_gbp",
                              aggfunc="sum", fill_value=0.0)
    columns = pd.MultiIndex.from_product([[CASH_RELEASING, CAPACITY_FREED], list(PAYERS)])
    reps = sorted(rs.kpis.loc[rs.kpis["role"] == role, "replication"].unique())
    return table.reindex(index=reps, columns=columns, fill_value=0.0)


def _columns(kind: str, payer: str) -> list[tuple[str, str]]:
    kinds = [CASH_RELEASING, CAPACITY_FREED] if kind == "all" else [kind]
    payers = list(PAYERS) if payer == "all" else [payer]
    return [(k, p) for k in kinds for p in payers]


def savings(rs: ResultSet) -> dict[tuple[str, str], np.ndarray]:
    """Per replication, comparator cost - scenario cost by (kind or 'all', payer or 'all'), GBP.

    Only (kind, payer) pairs with some cost in either scenario are kept: the NHS, for
    instance, pays for no long-term care, so it has no cash-releasing line of zeros.
    """
    scen, comp = cost_matrix(rs, "scenario"), cost_matrix(rs, "comparator")
    out = {}
    for kind in (CASH_RELEASING, CAPACITY_FREED, "all"):
        for payer in (*PAYERS, "all"):
            cols = _columns(kind, payer)
            if kind != "all" and not (scen[cols].to_numpy().any() or comp[cols].to_numpy().any()):
                continue
            out[(kind, payer)] = (comp[cols].sum(axis=1) - scen[cols].sum(axis=1)).to_numpy(dtype=float)
    return out


def _verbs(payer: str) -> tuple[str, str]:
    """'saves' and 'pays' agreeing with the payer's name (self-funders and all payers are plural)."""
    return ("save", "pay") if payer in ("self_funder", "all") else ("saves", "pays")


def _verdict(row: dict, payer: str, replications: int) -> str:
    who = PAYER_NAMES[payer]
    saves, pays = _verbs(payer)
    low, high = row["ci_low"], row["ci_high"]
    if math.isnan(low):
        verdict = saves if row["mean"] > 0 else f"{pays} more" if row["mean"] < 0 else "no change"
        return f"{who}: {verdict} ({no_interval(row['replications'], replications)})"
    if low > 0:
        return f"{who} {saves}"
    if high < 0:
        return f"{who} {pays} more"
    return "no clear change"


def comparison(rs: ResultSet) -> pd.DataFrame:
    """Headline table: outcomes gained and money saved (positive = better), each with a 95% CI."""
    rows = []
    units = {m: u for m, u, _, _ in outcomes(rs.scenarios["scenario"])}
    replications = len(_paired(rs)[0])
    for measure, gains in outcome_gains(rs).items():
        r = interval_row(gains)
        rows.append({"measure": measure, "unit": units[measure], "kind": "outcome", "payer": "",
                     "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "replications": r["replications"], "who": ""})
    for (kind, payer), saved in savings(rs).items():
        r = interval_row(saved)
        label = "Saving" if kind == "all" else f"Saving, {kind}"
        rows.append({"measure": f"{label}: {PAYER_NAMES[payer]}", "unit": "GBP", "kind": kind, "payer": payer,
                     "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "replications": r["replications"], "who": _verdict(r, payer, replications)})
    return pd.DataFrame(rows)


def cost_shifts(table: pd.DataFrame) -> list[str]:
    """Sentences naming costs moved: a payer that clearly pays more while another clearly saves."""
    totals = table[(table["kind"] == "all") & (table["payer"].isin(PAYERS))]
    savers = totals[totals["ci_low"] > 0]
    payers = totals[totals["ci_high"] < 0]
    return [
        f"Costs move from {PAYER_NAMES[s.payer]} to {PAYER_NAMES[p.payer]}: {PAYER_NAMES[s.payer]} "
        f"{_verbs(s.payer)[0]} {money(s['mean'])} while {PAYER_NAMES[p.payer]} {_verbs(p.payer)[1]} "
        f"{money(-p['mean'])} more"
        for _, s in savers.iterrows() for _, p in payers.iterrows()
    ]
