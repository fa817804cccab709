"""The key performance indicators of one replication: names, units and how each is computed.

Every KPI is a number for the measured period (after the warm-up). Names are
dotted: `<service or topic>.<measure>`. `describe(name)` gives the label and
unit shown to users; the data dictionary in docs/outputs.md lists them all.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.costs import PAYERS, CostLine
from sim.services.workforce import Workforce

if TYPE_CHECKING:
    from sim.model import Model

SERVICE_LABELS = {
    "urgent_response": "Urgent community response",
    "acute": "Acute beds",
    "reablement": "Reablement",
    "community_beds": "Community hospital beds",
    "temporary_residential": "Temporary residential placements",
    "home_care": "Long-term home care",
    "residential_care": "Residential care homes",
    "nursing_care": "Nursing care homes",
}

# name -> (label, unit, description); per-service measures are added below.
KPIS: dict[str, tuple[str, str, str]] = {
    "crises": ("Crises", "people", "crises among people 65+ in the period"),
    "ucr.referrals": ("UCR referrals", "people", "crises referred to urgent community response"),
    "ucr.responses": ("UCR responses", "people", "referrals a team reached"),
    "ucr.within_target_share": ("UCR reached within 2 hours", "share", "responses reached within the target time"),
    "ucr.no_team_in_time": ("UCR: no team in time", "people", "referrals sent to hospital because no team was free in time"),
    "ucr.admissions_avoided": ("Admissions avoided by UCR", "people", "referrals kept at home by UCR"),
    "ucr.handed_over": ("UCR handovers to hospital", "people", "responses that ended in a transfer to hospital"),
    "ucr.response_hours_mean": ("UCR response time", "hours", "mean time from referral to arrival"),
    "ed.attendances": ("ED attendances", "people", "arrivals at the emergency department needing admission"),
    "ed.wait_hours_mean": ("ED wait for a bed", "hours", "mean wait from arrival to an acute bed"),
    "ed.wait_hours_p95": ("ED wait for a bed, 95th centile", "hours", ""),
    "ed.waits_over_4h_share": ("ED waits over 4 hours", "share", "admissions waiting more than 4 hours for a bed"),
    "ed.waits_over_12h": ("ED waits over 12 hours", "people", "admissions waiting more than 12 hours for a bed"),
    "acute.readmissions": ("Readmissions", "people", "admissions of people returning from a later step"),
    "acute.deaths": ("Deaths in acute", "people", ""),
    "acute.avoidable_share": ("Admissions avoidable", "share", "admissions UCR or another alternative could have avoided"),
    "acute.avoidable_by_ucr_share": ("Admissions avoidable by UCR", "share", "admissions of people UCR would have kept at home"),
    "acute.fit_los_mean": ("Acute stay until fit to leave", "days", "mean stay until no criteria to reside"),
    "acute.delay_per_discharge": ("Acute discharge delay", "days", "delayed bed-days per acute stay ended"),
    "pathway.P0": ("Discharged on pathway 0", "people", "home, no new support"),
    "pathway.P1": ("Discharged on pathway 1", "people", "home with support"),
    "pathway.P2": ("Discharged on pathway 2", "people", "to a short-term bed"),
    "pathway.P3": ("Discharged on pathway 3", "people", "to a care home"),
    "pathway.bedded_placements": ("Bedded placements after acute", "people", "pathway 2 and 3 discharges"),
    "pathway.home_share": ("Discharged home", "share", "pathway 0 and 1 discharges among all pathway discharges"),
    "reablement.at_home_91d_share": ("At home 91 days after reablement", "share",
                                      "reablement episodes ending independent or with a package at home"),
    "reablement.independent": ("Independent after reablement", "people", ""),
    "community_beds.home_share": ("Home after community hospital", "share", ""),
    "temporary_residential.home_share": ("Home after temporary residential", "share", ""),
    "care_home.permanent_admissions": ("Permanent care home admissions", "people", "residential and nursing"),
    "home_care.packages": ("New long-term home care packages", "people", ""),
    "long_term.decisions": ("Long-term care decisions", "people",
                            "new home care packages and permanent care home places assessed"),
    "long_term.more_independent": ("Long-term decisions made more independent", "people",
                                   "home care replaced by independence, or a care home by home care"),
    "home_care.committed_hours": ("Home care hours committed", "hours", "over the whole of the new packages"),
    "delayed.bed_days": ("Delayed bed-days", "bed-days", "days in an acute or short-term bed waiting to move on"),
    "delayed.acute_bed_days": ("Delayed acute bed-days", "bed-days", ""),
    "people.better_outcomes": ("People with more independent outcomes", "people",
                                "kept home by UCR, home after acute (P0/P1), independent after reablement, "
                                "long-term decisions made more independent"),
    "cost.total": ("Total cost", "GBP", "all payers"),
    "conservation.entered": ("People entered (whole run)", "people", ""),
    "conservation.inside_at_end": ("People still inside at the end", "people", ""),
    "conservation.left": ("People who left (whole run)", "people", ""),
}
for _payer in PAYERS:
    KPIS[f"cost.{_payer}"] = (f"Cost to {_payer.replace('_', ' ')}", "GBP", "")
SERVICE_MEASURES = {
    "admissions": ("admissions", "people", "people given a place in the period"),
    "occupancy_mean": ("mean occupancy", "places", "time-averaged places in use"),
    "occupancy_peak": ("peak occupancy", "places", ""),
    "utilisation": ("utilisation", "share", "mean occupancy / capacity"),
    "queue_mean": ("mean queue", "people", "time-averaged people waiting for a place"),
    "queue_peak": ("peak queue", "people", ""),
    "wait_mean": ("mean wait for a place", "days", "for people admitted in the period"),
    "los_mean": ("mean length of stay", "days", "stays ended in the period, delays included"),
    "los_p50": ("median length of stay", "days", ""),
    "los_p90": ("90th centile length of stay", "days", ""),
    "delayed_bed_days": ("delayed days", "days", "days here waiting to move on"),
    "capacity": ("capacity", "places", "at the end of the run; inf = unlimited; visit-hours a day for a workforce"),
    "out_of_area_placements": ("placements out of area", "people",
                               "residents given a place in another place (sharing: pooled or overflow)"),
    "visit_hours_mean": ("visit-hours delivered a day", "hours", "with a workforce: mean staff visit-hours used a day"),
    "cost": ("cost", "GBP", "all payers"),
}


def describe(name: str) -> tuple[str, str, str]:
    """Label, unit and description of a KPI name."""
    if name in KPIS:
        return KPIS[name]
    if name.startswith("place."):
        place, _, kpi = name[len("place."):].partition(".")
        label, unit, desc = describe(kpi)
        return (f"{place.replace('_', ' ').title()}: {label}", unit, desc) if unit else (name, "", "")
    service, _, measure = name.partition(".")
    if service in SERVICE_LABELS:
        if measure.startswith("delayed_bed_days."):
            reason = measure.split(".", 1)[1]
            return (f"{SERVICE_LABELS[service]}: days waiting for {reason.replace('_', ' ')}", "days", "")
        if measure in SERVICE_MEASURES:
            label, unit, desc = SERVICE_MEASURES[measure]
            return (f"{SERVICE_LABELS[service]}: {label}", unit, desc)
    if name.startswith("cost.") and name.count(".") == 2:
        _, service, payer = name.split(".")
        return (f"Cost of {service.replace('_', ' ')} to {payer.replace('_', ' ')}", "GBP", "")
    return (name, "", "")


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def compute(model: "Model", cost_lines: list[CostLine]) -> dict[str, float]:
    s = model.services
    ucr, acute, reablement = s.urgent_response, s.acute, s.reablement
    horizon = model.scenario.run.horizon_days
    k: dict[str, float] = {"crises": model.crises}
    k["ucr.referrals"] = ucr.referrals
    k["ucr.responses"] = ucr.responses
    k["ucr.within_target_share"] = _share(ucr.within_target, ucr.responses)
    k["ucr.no_team_in_time"] = ucr.no_team_in_time
    k["ucr.admissions_avoided"] = ucr.kept_home
    k["ucr.handed_over"] = ucr.handed_over
    k["ucr.response_hours_mean"] = _mean(ucr.response_hours)
    ed_waits = np.asarray(acute.waits_to_enter) * 24
    k["ed.attendances"] = acute.ed_attendances
    k["ed.wait_hours_mean"] = _mean(ed_waits)
    k["ed.wait_hours_p95"] = _pct(ed_waits, 95)
    k["ed.waits_over_4h_share"] = _share(float((ed_waits > 4).sum()), len(ed_waits))
    k["ed.waits_over_12h"] = float((ed_waits > 12).sum())
    k["acute.readmissions"] = acute.readmissions
    k["acute.deaths"] = acute.deaths
    k["acute.avoidable_share"] = _share(acute.avoidable_any, acute.admissions)
    k["acute.avoidable_by_ucr_share"] = _share(acute.avoidable_by_ucr, acute.admissions)
    discharged = sum(acute.pathways.values())
    k["acute.fit_los_mean"] = _share(acute.fit_days, discharged + acute.deaths)
    for pathway, n in acute.pathways.items():
        k[f"pathway.{pathway}"] = n
    k["pathway.bedded_placements"] = acute.pathways["P2"] + acute.pathways["P3"]
    k["pathway.home_share"] = _share(acute.pathways["P0"] + acute.pathways["P1"], discharged)
    k["reablement.at_home_91d_share"] = reablement.at_home_share
    k["reablement.independent"] = reablement.outcomes["independent"]
    k["community_beds.home_share"] = s.community_beds.home_share
    k["temporary_residential.home_share"] = s.temporary_residential.home_share
    k["care_home.permanent_admissions"] = sum(s.residential_care.placements.values()) + sum(
        s.nursing_care.placements.values()
    )
    k["home_care.packages"] = sum(s.home_care.placements.values())
    k["home_care.committed_hours"] = sum(s.home_care.committed_hours.values())
    k["long_term.decisions"] = model.assessment.decisions
    k["long_term.more_independent"] = model.assessment.more_independent
    bed_services = (acute, s.community_beds, s.temporary_residential)
    k["delayed.bed_days"] = sum(sum(x.delayed_days.values()) for x in bed_services)
    k["delayed.acute_bed_days"] = sum(acute.delayed_days.values())
    k["acute.delay_per_discharge"] = _share(k["delayed.acute_bed_days"], len(acute.stays))
    k["people.better_outcomes"] = (
        ucr.kept_home + acute.pathways["P0"] + acute.pathways["P1"] + reablement.outcomes["independent"]
        + model.assessment.more_independent
    )
    for service in s:
        slots = service.slots
        name = service.name
        k[f"{name}.admissions"] = service.admissions
        k[f"{name}.occupancy_mean"] = slots.area_in_use / horizon
        k[f"{name}.occupancy_peak"] = slots.peak_in_use
        k[f"{name}.utilisation"] = math.nan if slots.unlimited or not slots.capacity else slots.area_in_use / horizon / slots.capacity
        k[f"{name}.queue_mean"] = slots.area_queue / horizon
        k[f"{name}.queue_peak"] = slots.peak_queue
        k[f"{name}.wait_mean"] = _mean(service.waits_to_enter)
        k[f"{name}.los_mean"] = _mean(service.stays)
        k[f"{name}.los_p50"] = _pct(service.stays, 50)
        k[f"{name}.los_p90"] = _pct(service.stays, 90)
        k[f"{name}.capacity"] = float(slots.capacity)
        if isinstance(slots, Workforce):
            # A workforce's capacity is visit-hours, so it is used by hours, not by people.
            k[f"{name}.visit_hours_mean"] = slots.area_hours / horizon
            k[f"{name}.utilisation"] = slots.area_hours / horizon / slots.capacity if slots.capacity else math.nan
        k[f"{name}.delayed_bed_days"] = sum(service.delayed_days.values())
        if name in model.scenario.sharing:
            k[f"{name}.out_of_area_placements"] = slots.placed_away
        for reason, days in sorted(service.delayed_days.items()):
            k[f"{name}.delayed_bed_days.{reason}"] = days
    by_payer = dict.fromkeys(PAYERS, 0.0)
    by_service_payer: dict[str, float] = {}
    for line in cost_lines:
        by_payer[line.payer] += line.cost_gbp
        key = f"cost.{line.service}.{line.payer}"
        by_service_payer[key] = by_service_payer.get(key, 0.0) + line.cost_gbp
    for payer, total in by_payer.items():
        k[f"cost.{payer}"] = total
    k["cost.total"] = sum(by_payer.values())
    k.update(by_service_payer)
    census = model.census
    k["conservation.entered"] = census.entered
    k["conservation.inside_at_end"] = census.inside
    k["conservation.left"] = census.left_home + census.died + census.long_term_care_ended
    return {name: float(value) for name, value in k.items()}
