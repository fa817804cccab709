"""Which KPI names a scenario can produce, so that a service level naming another is refused on reading.

The KPIs themselves are computed in `sim.measure.kpis`, which checks that it
makes exactly the per-service measures listed here.
"""

from __future__ import annotations

from typing import Any

# Measured for every service (some only for some kinds; naming one a service lacks gives no value).
SERVICE_MEASURES = (
    "arrivals", "admissions", "readmissions", "occupancy_mean", "occupancy_peak", "utilisation", "queue_mean",
    "queue_peak", "wait_mean", "wait_hours_mean", "wait_hours_p95", "waits_over_4h_share", "waits_over_12h",
    "los_mean", "los_p50", "los_p90", "ready_los_mean", "delayed_bed_days", "capacity", "out_of_area_placements",
    "visit_hours_mean", "no_team_in_time", "responses", "within_target_share", "response_hours_mean", "kept",
    "handed_over", "placements", "committed_hours", "readmissions_30d", "waits_over_12h_share", "escalation_days",
    "escalation_capacity_days", "escalation_opened",
)
SYSTEM_KPIS = ("crises", "delayed.bed_days", "cost.total", "conservation.entered", "conservation.inside_at_end",
               "conservation.left")
PAYERS = ("nhs", "council", "self_funder")


def is_kpi(scenario: Any, name: str) -> bool:
    """Whether a run of this scenario produces a KPI of this name (for the system, or `place.<place>.` one)."""
    if name.startswith("place."):
        place, _, rest = name[len("place."):].partition(".")
        return place in scenario.places and is_kpi(scenario, rest)
    if name in SYSTEM_KPIS or name in scenario.measures:
        return True
    parts = name.split(".")
    if parts[0] == "cost":
        return (len(parts) == 2 and parts[1] in PAYERS) or (len(parts) == 3 and parts[2] in PAYERS)
    if parts[0] == "later" and len(parts) == 2:
        return parts[1] in scenario.afterwards
    if parts[0] == "route" and len(parts) == 3:
        route = scenario.routes.get(parts[1])
        return route is not None and parts[2] in route.destinations()
    if parts[0] in scenario.services and len(parts) >= 2:
        if parts[1] in ("delayed_bed_days", "trait_share") and len(parts) == 3:
            return True
        return len(parts) == 2 and parts[1] in SERVICE_MEASURES
    return False
