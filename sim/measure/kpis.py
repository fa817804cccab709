"""The KPIs of one replication, named after the scenario's own services and routes.

Every KPI is a number for the measured period. Names are dotted:
`<service>.<measure>` for each service, `route.<route>.<destination>` for
each decision, `cost.<payer>` and `cost.<service>.<payer>` for money,
`place.<place>.<kpi>` for a place's own figures when there are several, and
the scenario's own `measures:` (sums and shares of the others, such as a
programme's headline figures). `describe(name, scenario)` gives a KPI's
label and unit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from sim.measure.costs import PAYERS, CostLine, in_totals
from sim.pathway.afterwards import happened
from sim.scenario import labels
from sim.pathway.kinds import LongTermUnit, ResponseUnit, Unit, VisitsUnit

if TYPE_CHECKING:
    from sim.pathway.model import Model
    from sim.scenario.schema import Scenario

# measure -> (label, unit, description)
SERVICE_MEASURES = {
    "arrivals": ("arrivals", "people", "people asking for a place in the period"),
    "admissions": ("admissions", "people", "people given a place in the period"),
    "readmissions": ("readmissions", "people", "admissions of people who had been here before"),
    "readmissions_30d": ("readmissions within 30 days", "people", "admissions within 30 days of the person last leaving"),
    "occupancy_mean": ("mean occupancy", "places", "time-averaged places in use"),
    "occupancy_peak": ("peak occupancy", "places", ""),
    "utilisation": ("utilisation", "share", "mean occupancy / capacity (visit-hours used / available)"),
    "queue_mean": ("mean queue", "people", "time-averaged people waiting for a place"),
    "queue_peak": ("peak queue", "people", ""),
    "wait_mean": ("mean wait for a place", "days", "for people admitted in the period"),
    "wait_hours_mean": ("mean wait for a place", "hours", "for people admitted in the period"),
    "wait_hours_p95": ("95th centile wait for a place", "hours", ""),
    "waits_over_4h_share": ("waits over 4 hours", "share", "admissions that waited more than 4 hours"),
    "waits_over_12h": ("waits over 12 hours", "people", "admissions that waited more than 12 hours"),
    "waits_over_12h_share": ("waits over 12 hours", "share", "admissions that waited more than 12 hours"),
    "los_mean": ("mean length of stay", "days", "stays ended in the period, delays included"),
    "los_p50": ("median length of stay", "days", ""),
    "los_p90": ("90th centile length of stay", "days", ""),
    "ready_los_mean": ("mean stay until ready to leave", "days", "stays ended in the period"),
    "delayed_bed_days": ("delayed days", "days", "days here waiting to move on"),
    "capacity": ("capacity", "places", "at the end of the run; inf = unlimited; visit-hours a day for visits"),
    "out_of_area_placements": ("placements out of area", "people", "people from another place given a place here"),
    "visit_hours_mean": ("visit-hours delivered a day", "hours", ""),
    "no_team_in_time": ("no team in time", "people", "sent on because no team was free within the give-up time"),
    "responses": ("responses", "people", "referrals a team reached"),
    "within_target_share": ("reached within target", "share", "responses reached within the target time"),
    "response_hours_mean": ("response time", "hours", "mean time from referral to arrival"),
    "kept": ("kept at home", "people", "responses that did not hand over"),
    "handed_over": ("handed over", "people", "responses that ended in a handover"),
    "placements": ("new placements", "people", "long-term placements started in the period"),
    "committed_hours": ("hours of care committed", "hours", "over the whole of the new placements"),
    "escalation_days": ("days with extra capacity open", "days", "escalation beds or bought care open (summed over places)"),
    "escalation_capacity_days": ("extra capacity open", "place-days", "escalation beds or bought places (visit-hours"
                                 " for visits) times days open"),
    "escalation_opened": ("times extra capacity opened", "times", ""),
}
KPIS = {
    "crises": ("Crises", "people", "crises in the period"),
    "delayed.bed_days": ("Delayed bed-days", "bed-days", "days in a place waiting to move on, all services"),
    "cost.total": ("Total cost", "GBP", "all payers, including self-funders"),
    "conservation.entered": ("People entered (whole run)", "people", ""),
    "conservation.inside_at_end": ("People still inside at the end", "people", ""),
    "conservation.left": ("People who left (whole run)", "people", ""),
}
for _payer in PAYERS:
    KPIS[f"cost.{_payer}"] = (f"Cost to {_payer.replace('_', ' ')}", "GBP", "")


def label_of(scenario: "Scenario | None", service: str) -> str:
    if scenario is not None and service in scenario.services and scenario.services[service].label:
        return scenario.services[service].label
    return labels.service(service)


def describe(name: str, scenario: "Scenario | None" = None) -> tuple[str, str, str]:
    """Label, unit and description of a KPI name."""
    if scenario is not None and name in scenario.measures:
        m = scenario.measures[name]
        return m.label, m.unit, m.description
    if name in labels.MEASURES:
        return labels.MEASURES[name]
    if name in KPIS:
        return KPIS[name]
    if name.startswith("place."):
        place, _, kpi = name[len("place."):].partition(".")
        label, unit, desc = describe(kpi, scenario)
        return (f"{place.replace('_', ' ').title()}: {label}", unit, desc) if unit else (name, "", "")
    if name.startswith("route."):
        _, route, dest = name.split(".", 2)
        return (f"{route.replace('_', ' ')} → {dest.replace('_', ' ')}", "people", "decisions in the period")
    if name.startswith("cost.") and name.count(".") == 2:
        _, service, payer = name.split(".")
        return (f"Cost of {labels.cost_line(service).lower()} to {payer.replace('_', ' ')}", "GBP", "")
    service, _, measure = name.partition(".")
    if measure.startswith("delayed_bed_days."):
        reason = measure.split(".", 1)[1]
        return (f"{label_of(scenario, service)}: days waiting for {reason.replace('_', ' ')}", "days", "")
    if measure.startswith("trait_share."):
        trait = measure.split(".", 1)[1]
        return (f"{label_of(scenario, service)}: admissions {trait.replace('_', ' ')}", "share", "")
    if measure in SERVICE_MEASURES:
        label, unit, desc = SERVICE_MEASURES[measure]
        return (f"{label_of(scenario, service)}: {label}", unit, desc)
    return (name, "", "")


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def service_kpis(name: str, units: list[Unit], horizon: float, peak_in_use: float, peak_queue: float,
                 traits: list[str]) -> dict[str, float]:
    """One service's KPIs from its units (one per place, or one pooled)."""
    k: dict[str, float] = {}
    slots = [u.slots for u in units]
    stays = np.concatenate([np.asarray(u.stays) for u in units]) if units else np.array([])
    waits = np.concatenate([np.asarray(u.waits) for u in units]) * 24
    admissions = sum(u.admissions for u in units)
    # the core capacity: escalation beds or bought care open at the end do not count (utilisation can pass 1)
    capacity = sum(u.slots.capacity - (u.escalation.extra if u.escalation is not None else 0) for u in units)
    area = sum(s.area_in_use for s in slots)
    k[f"{name}.arrivals"] = sum(u.arrivals for u in units)
    k[f"{name}.admissions"] = admissions
    k[f"{name}.readmissions"] = sum(u.readmissions for u in units)
    k[f"{name}.readmissions_30d"] = sum(u.readmissions_30d for u in units)
    k[f"{name}.occupancy_mean"] = area / horizon
    k[f"{name}.occupancy_peak"] = peak_in_use
    k[f"{name}.utilisation"] = area / horizon / capacity if capacity and capacity != math.inf else math.nan
    k[f"{name}.queue_mean"] = sum(s.area_queue for s in slots) / horizon
    k[f"{name}.queue_peak"] = peak_queue
    k[f"{name}.wait_mean"] = _mean(waits) / 24
    k[f"{name}.wait_hours_mean"] = _mean(waits)
    k[f"{name}.wait_hours_p95"] = _pct(waits, 95)
    k[f"{name}.waits_over_4h_share"] = _share(float((waits > 4).sum()), len(waits))
    k[f"{name}.waits_over_12h"] = float((waits > 12).sum())
    k[f"{name}.waits_over_12h_share"] = _share(k[f"{name}.waits_over_12h"], len(waits))
    k[f"{name}.los_mean"] = _mean(stays)
    k[f"{name}.los_p50"] = _pct(stays, 50)
    k[f"{name}.los_p90"] = _pct(stays, 90)
    k[f"{name}.ready_los_mean"] = _share(sum(u.ready_days for u in units), len(stays))
    k[f"{name}.capacity"] = float(capacity)
    delayed: dict[str, float] = defaultdict(float)
    for u in units:
        for reason, days in u.delayed_days.items():
            delayed[reason] += days
    k[f"{name}.delayed_bed_days"] = sum(delayed.values())
    for reason in sorted(delayed):
        k[f"{name}.delayed_bed_days.{reason}"] = delayed[reason]
    for trait in traits:
        k[f"{name}.trait_share.{trait}"] = _share(sum(u.with_trait(trait) for u in units), admissions)
    extra = [u.escalation for u in units if u.escalation is not None]
    # reported whenever the service can open extra capacity, even if no unit could (unlimited), so every
    # run of a sweep has the same KPIs
    if extra or getattr(units[0].spec, "escalation", None) or getattr(units[0].spec, "spot_purchase", None):
        k[f"{name}.escalation_days"] = sum(e.days_open for e in extra)
        k[f"{name}.escalation_capacity_days"] = sum(e.capacity_days for e in extra)
        k[f"{name}.escalation_opened"] = sum(e.opened for e in extra)
    first = units[0]
    if any(u.placed_away for u in units) or first.model.sharing.get(name) in ("pooled", "overflow"):
        k[f"{name}.out_of_area_placements"] = sum(u.placed_away for u in units)
    if isinstance(first, VisitsUnit):
        hours = sum(u.visit_hours for u in units)
        k[f"{name}.visit_hours_mean"] = hours / horizon
        k[f"{name}.utilisation"] = hours / horizon / capacity if capacity else math.nan
    if isinstance(first, ResponseUnit):
        responses = sum(u.responses for u in units)
        k[f"{name}.no_team_in_time"] = sum(u.no_team_in_time for u in units)
        k[f"{name}.responses"] = responses
        k[f"{name}.within_target_share"] = _share(sum(u.within_target for u in units), responses)
        k[f"{name}.response_hours_mean"] = _mean(np.concatenate([np.asarray(u.response_hours) for u in units]))
        k[f"{name}.kept"] = sum(u.kept for u in units)
        k[f"{name}.handed_over"] = sum(u.handed_over for u in units)
    if isinstance(first, LongTermUnit):
        k[f"{name}.placements"] = sum(sum(u.placements.values()) for u in units)
        k[f"{name}.committed_hours"] = sum(sum(u.committed_hours.values()) for u in units)
    return k


def _cost_kpis(lines: list[CostLine]) -> dict[str, float]:
    by_payer = dict.fromkeys(PAYERS, 0.0)
    k: dict[str, float] = {}
    for line in filter(in_totals, lines):  # long-term care counted once: at the cost new placements commit
        by_payer[line.payer] += line.cost_gbp
        key = f"cost.{line.service}.{line.payer}"
        k[key] = k.get(key, 0.0) + line.cost_gbp
    out = {f"cost.{payer}": total for payer, total in by_payer.items()}
    out["cost.total"] = sum(by_payer.values())
    out.update(k)
    return out


def _route_kpis(scenario: "Scenario", decisions: dict, prefix: str = "") -> dict[str, float]:
    k = {}
    for route_name, route in scenario.routes.items():
        for dest in sorted(route.destinations()):
            k[f"{prefix}route.{route_name}.{dest}"] = float(decisions.get((route_name, dest), 0))
    return k


def apply_measures(scenario: "Scenario", k: dict[str, float], prefix: str = "") -> None:
    """The scenario's own measures; one that uses another is made after it, whatever order they are read in."""
    pending = dict(scenario.measures)
    while pending:
        ready = [name for name, m in pending.items()
                 if not any(term in pending for term in (*m.sum, *(m.share_of or ())))]
        if not ready:  # measures made of each other: the schema refuses them, so this cannot loop
            raise ValueError(f"measures that use each other: {', '.join(sorted(pending))}")
        for name in ready:
            m = pending.pop(name)
            top = sum(k.get(prefix + term, 0.0) for term in m.sum)
            value = _share(top, sum(k.get(prefix + term, 0.0) for term in m.share_of)) if m.share_of else top
            k[prefix + name] = value * 24 if m.hours else value


def compute(model: "Model", lines: list[CostLine], place_lines: dict[str, list[CostLine]]) -> dict[str, float]:
    scenario = model.scenario
    horizon = scenario.run.horizon_days
    traits = sorted({t for g in scenario.need_groups.values() for t in g.traits} | set(scenario.traits))
    k: dict[str, float] = {"crises": model.crises}
    start = int(model.measure_from)
    daily = model.daily[start:]
    for name in scenario.services:
        units = list(dict.fromkeys(model.units[name].values()))
        columns = [model.unit_list.index(u) for u in units]
        if len(units) == 1:
            peak_in_use, peak_queue = units[0].slots.peak_in_use, units[0].slots.peak_queue
        else:  # the system's peak is the peak of the sum, read from the daily census
            peak_in_use = float(daily[:, columns, 0].sum(axis=1).max()) if len(daily) else 0.0
            peak_queue = float(daily[:, columns, 1].sum(axis=1).max()) if len(daily) else 0.0
        k.update(service_kpis(name, units, horizon, peak_in_use, peak_queue, traits))
    k["delayed.bed_days"] = sum(k[f"{name}.delayed_bed_days"] for name in sorted(scenario.services))
    k.update(_route_kpis(scenario, model.router.system_decisions()))
    k.update({f"later.{name}": n for name, n in happened(model).items()})
    k.update(_cost_kpis(lines))
    census = model.census
    k["conservation.entered"] = census.entered
    k["conservation.inside_at_end"] = census.inside
    k["conservation.left"] = census.home + census.died + census.left
    apply_measures(scenario, k)
    if model.many_places:
        k.update(place_kpis(model, horizon, traits, place_lines))
    return {name: float(value) for name, value in k.items()}


def place_kpis(model: "Model", horizon: float, traits: list[str], place_lines: dict[str, list[CostLine]]) -> dict[str, float]:
    """Each place's own figures, for its local (and overflowing) services, as place.<place>.<kpi>."""
    scenario = model.scenario
    k: dict[str, float] = {}
    for place in model.places:
        prefix = f"place.{place}."
        own: dict[str, float] = {"crises": model.place_crises[place]}
        for name in scenario.services:
            unit = model.units[name][place]
            if model.sharing.get(name) == "pooled":
                continue
            own.update(service_kpis(name, [unit], horizon, unit.slots.peak_in_use, unit.slots.peak_queue, traits))
        own["delayed.bed_days"] = sum(v for key, v in sorted(own.items()) if key.endswith(".delayed_bed_days"))
        own.update(_route_kpis(scenario, model.router.place_decisions(place)))
        own.update({f"later.{name}": n for name, n in happened(model, place).items()})
        own.update(_cost_kpis(place_lines.get(place, [])))
        census = model.place_census[place]
        own["conservation.entered"] = census.entered
        own["conservation.inside_at_end"] = census.inside
        apply_measures(scenario, own)
        k.update({prefix + key: value for key, value in own.items()})
    return k
