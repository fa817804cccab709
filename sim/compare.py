"""A scenario against its comparator: paired differences and the outcomes gained, each defined once.

Replication *i* of both scenarios meets the same crises and the same luck
(common random numbers), so the difference is taken replication by
replication and its 95% CI comes from the spread of those paired differences.

The outcomes (`outcomes`) are yearly gains: admissions avoided (people), bed-days
saved, new placements avoided, people with more independent outcomes, and the
scenario's own measures that say which way is better. Money (who saves, who pays,
cash against capacity, year by year) is sim.economics'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.intervals import interval_row
from sim.measure.costs import PAYERS
from sim.measure.kpis import describe
from sim.scenario import labels

if TYPE_CHECKING:
    from sim.results import ResultSet

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


# The gains a comparison shows, each defined once and used by the command line, the report, the app and the
# validation document. Every one is a yearly figure: the measured period's difference divided by the years
# it lasts (a five-year run shows the mean year of the five; sim.economics shows each year's money).
# Made from the scenario's own services by kind: the main service's first admissions, every bed-based
# service's bed-days, delays, every long-term service's new placements; then the scenario's own measures
# that say which way is better (`better: higher|lower`); and the people whose journey ends at home.
HOME = "home"  # the end of a journey at home, with no long-term care (sim.scenario.routes.ENDS)
INDEPENDENT = "People with more independent outcomes"
ADMISSIONS_AVOIDED = "Admissions avoided"


@dataclass(frozen=True)
class Outcome:
    measure: str
    unit: str                     # what is counted, a year
    add: tuple[str, ...]          # KPIs added together...
    sign: int                     # +1: more in the scenario is the gain; -1: less is (something avoided)
    less: tuple[str, ...] = ()    # ...less these (readmissions, so that admissions count people)
    per_crisis: bool = False      # counted against the comparator's crises (a surge scores no gain for more)
    ends_at: str | None = None    # people whose journey ends here (from the flows), instead of KPIs
    headline: bool = False
    definition: str = ""

    @property
    def kpis(self) -> tuple[str, ...]:
        return self.add + self.less


def outcomes(scenario) -> list[Outcome]:
    """The gains shown for a scenario, headlines first, services in order of name: a results folder's manifest
    keeps a scenario's sections sorted, so that a comparison read back from it (or merged from shards) is the
    same, row for row."""
    main = main_service(scenario)
    label = labels.service(main).lower()
    rows = [Outcome(ADMISSIONS_AVOIDED, "people a year", (f"{main}.admissions",), -1, (f"{main}.readmissions",),
                    headline=True, definition=f"people admitted to {label} (admissions less readmissions), "
                    "comparator less scenario, a year")]
    for name, m in sorted(scenario.measures.items(), key=lambda item: item[0]):
        if m.headline and m.better:
            rows.append(_measure_outcome(name, m, headline=True))
    rows.append(Outcome(INDEPENDENT, "people a year", (), 1, per_crisis=True, ends_at=HOME, headline=True,
                        definition="people whose journey ends at home (not in long-term care, not dead): the change "
                        "in the share of crises that end so, times the comparator's crises, a year"))
    rows += [Outcome(f"{labels.service(name)}: bed-days saved", "bed-days a year", (f"{name}.occupancy_mean",), -1)
             for name in sorted(bed_services(scenario))]
    rows.append(Outcome("Delayed bed-days saved", "bed-days a year", ("delayed.bed_days",), -1))
    rows += [Outcome(f"{labels.service(name)}: new placements avoided", "people a year", (f"{name}.placements",), -1)
             for name in sorted(scenario.services) if scenario.services[name].kind == "long_term"]
    rows += [_measure_outcome(name, m) for name, m in sorted(scenario.measures.items())
             if m.better and not m.headline]
    return rows


def _measure_outcome(name: str, m, headline: bool = False) -> Outcome:
    share = m.unit == "share" or bool(m.share_of)
    higher = m.better == "higher"
    # A count that should fall is shown as what was avoided ("Bedded placements after acute avoided").
    label = m.label if share or higher else f"{m.label} avoided"
    return Outcome(label, m.unit if share else f"{m.unit} a year", (name,), 1 if higher else -1,
                   per_crisis=higher and not share, headline=headline,
                   definition=(m.description or m.label) + ("; counted against the comparator's crises"
                                                           if higher and not share else ""))


def headline_outcomes(scenario) -> list[Outcome]:
    return [o for o in outcomes(scenario) if o.headline]


def _per_day(kpi: str) -> bool:
    return kpi.endswith(".occupancy_mean")   # occupancy x days = bed-days


def years_of(scenario) -> float:
    """The measured period in years (of 365 days): a difference over it, divided by this, is a year's."""
    return scenario.run.horizon_days / 365


def ends(rs: ResultSet, role: str, end: str) -> pd.Series:
    """People whose journey ended at `end` in the measured period, per replication."""
    flows = rs.flows[(rs.flows["role"] == role) & (rs.flows["target"] == end)]
    reps = sorted(rs.kpis.loc[rs.kpis["role"] == role, "replication"].unique())
    return flows.groupby("replication")["people"].sum().reindex(reps, fill_value=0).astype(float)


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
    """Per replication, each outcome as a yearly gain of the scenario over the comparator (sim.compare.outcomes)."""
    scen, comp = _paired(rs)
    scenario = rs.scenarios["scenario"]
    horizon, years = scenario.run.horizon_days, years_of(scenario)
    zero = pd.Series(0.0, index=scen.index)
    out = {}
    for o in outcomes(scenario):
        if o.ends_at is not None:
            s_value, c_value = ends(rs, "scenario", o.ends_at), ends(rs, "comparator", o.ends_at)
        else:
            scale = horizon if _per_day(o.add[0]) else 1.0
            # A service only one of the two has counts nothing in the other.
            s_value = (sum(scen.get(k, zero) for k in o.add) - sum((scen.get(k, zero) for k in o.less), zero)) * scale
            c_value = (sum(comp.get(k, zero) for k in o.add) - sum((comp.get(k, zero) for k in o.less), zero)) * scale
        if o.per_crisis:
            # The scenario's count as if it had met the comparator's crises: more crises (a surge) is no gain.
            crises_s, crises_c = scen.get("crises", zero), comp.get("crises", zero)
            ratio = (crises_c / crises_s.where(crises_s > 0)).fillna(1.0)
            s_value = s_value * ratio
        share = o.unit == "share"
        out[o.measure] = (o.sign * (s_value - c_value) / (1.0 if share else years)).to_numpy(dtype=float)
    return out


def verdict(row: dict, who: str, plural: bool, replications: int) -> str:
    """Who saves or pays more, clear of the 95% CI, in words."""
    saves, pays = ("save", "pay") if plural else ("saves", "pays")
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
    """The outcomes gained, a year (positive = better), each with a 95% CI; headlines first.

    sim.economics.comparison adds the money and says when the comparison is not valid: use that one
    (ResultSet.comparison) for anything shown.
    """
    rows = []
    defined = {o.measure: o for o in outcomes(rs.scenarios["scenario"])}
    for measure, gains in outcome_gains(rs).items():
        r = interval_row(gains)
        o = defined[measure]
        rows.append({"measure": measure, "unit": o.unit, "kind": "headline" if o.headline else "outcome",
                     "payer": "", "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "replications": r["replications"], "who": "", "definition": o.definition})
    return pd.DataFrame(rows)
