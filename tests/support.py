"""Small scenarios for tests, built from the baseline so they stay valid as the schema grows."""

from __future__ import annotations

from pathlib import Path

from sim.scenario import Scenario, load_scenario, validate

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

UNLIMITED = {
    "services.urgent_response.capacity": None,
    "services.acute.capacity": None,
    "services.reablement.capacity": None,
    "services.community_beds.capacity": None,
    "services.temporary_residential.capacity": None,
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
        "services.acute.capacity": 160,
        "services.reablement.capacity": 40,
        "services.community_beds.capacity": 40,
        "services.temporary_residential.capacity": 20,
        # fixed capacity: escalation beds and bought care sized for the whole system would swamp a tenth of it
        "services.acute.escalation": None,
        "services.reablement.spot_purchase": None,
        # people already in long-term care, a tenth as many too
        "initial_state.residential_care.occupied": 205,
        "initial_state.nursing_care.occupied": 85,
        "initial_state.home_care.occupied": 910,
    }
    base.update(changes)
    return baseline().with_changes(base)


def single_queue(arrivals_per_day: float, mean_stay_days: float, beds: int | None, **changes) -> Scenario:
    """Only acute beds: Poisson arrivals, exponential stays, everyone goes home (an M/M/c queue)."""
    data = baseline().resolved
    acute = data["services"]["acute"]
    acute.update(capacity=beds, los_days={"dist": "exponential", "mean": mean_stay_days}, then="home",
                 discharge_process=None, escalation=None)
    data["services"] = {"acute": acute}
    data["routes"] = {}
    data["sources"] = {}  # they cite the services and routes left out
    data["afterwards"] = {}  # nobody comes back: a plain queue
    data["initial_state"] = {}  # people in long-term care: those services are left out
    data["funding"]["spend_down"] = {}
    data["demand"].update(enters="acute", crises_per_year=arrivals_per_day * 365,
                          weekday_multipliers=[1.0] * 7, monthly_multipliers=[1.0] * 12)
    for group in data["need_groups"].values():
        group["los_multiplier"] = 1.0
    scenario = validate(data, BASELINE)
    scenario._path = BASELINE
    return scenario.with_changes(changes) if changes else scenario
