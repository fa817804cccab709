"""Small scenarios for tests, built from the baseline so they stay valid as the schema grows."""

from __future__ import annotations

from pathlib import Path

from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

UNLIMITED = {
    "services.urgent_response.capacity": None,
    "services.acute.beds": None,
    "services.reablement.capacity": None,
    "services.community_beds.beds": None,
    "services.temporary_residential.beds": None,
    "services.home_care.capacity": None,
    "services.residential_care.capacity": None,
    "services.nursing_care.capacity": None,
}


def baseline() -> Scenario:
    return load_scenario(BASELINE)


def small_system(**changes) -> Scenario:
    """The whole pathway at about a tenth of Mid and South Essex, for a quick year."""
    base = {
        "run.horizon_days": 200,
        "run.warmup_days": 60,
        "run.replications": 3,
        "demand.crises_per_year": 5400,
        "services.urgent_response.capacity": 4,
        "services.acute.beds": 160,
        "services.reablement.capacity": 40,
        "services.community_beds.beds": 40,
        "services.temporary_residential.beds": 20,
    }
    base.update(changes)
    return baseline().with_changes(base)


def single_queue(arrivals_per_day: float, mean_stay_days: float, beds: int | None, **changes) -> Scenario:
    """Only acute beds: Poisson arrivals, exponential stays, everyone goes home (an M/M/c queue)."""
    scenario = baseline()
    flat = {
        "referral.ucr_share_suitable": 0.0,
        "referral.ucr_share_unsuitable": 0.0,
        "demand.crises_per_year": arrivals_per_day * 365,
        "demand.weekday_multipliers": [1.0] * 7,
        "demand.monthly_multipliers": [1.0] * 12,
        "services.acute.beds": beds,
        "services.acute.los_days": {"dist": "exponential", "mean": mean_stay_days},
    }
    for group in scenario.need_groups:
        flat[f"need_groups.{group}.discharge_pathway"] = {"P0": 1.0, "P1": 0.0, "P2": 0.0, "P3": 0.0}
        flat[f"need_groups.{group}.acute_death"] = 0.0
        flat[f"need_groups.{group}.los_multiplier"] = 1.0
    flat.update(changes)
    return scenario.with_changes(flat)
