"""What every section of a scenario shares: strict models, the number types, and sums that must be one."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.random.distributions import refuse_yes_no

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000
SUM_TOLERANCE = 1e-6
MAX_SWEEP_POINTS = 10_000
# Bounds that keep values valid alone from overflowing together (a multiplier times a stay,
# a weekday factor times a yearly rate): a century of days, a price no service reaches.
MAX_DAYS = 36_500
MAX_MULTIPLIER = 100.0
MAX_GBP = 1e9

Probability = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Multiplier = Annotated[float, Field(gt=0, le=MAX_MULTIPLIER)]
# A capacity is a whole number of places (beds, teams, caseload slots);
# null or "unlimited" means the service never makes anyone wait.
Capacity = Annotated[int, Field(ge=0, le=10_000_000)] | None
# A name a user gives a service, route, place, trait or group: it becomes part of KPI names.
NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    _no_yes_no = field_validator("*", mode="before")(refuse_yes_no)


def unlimited_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"unlimited", "inf", "infinite"}:
        return None
    if isinstance(value, float) and value == float("inf"):
        return None
    return value


def sum_problem(parts: dict[str, float], what: str = "probabilities") -> str | None:
    """Why these parts do not sum to one, with enough digits to see the difference; None if they do."""
    total = sum(parts.values())
    if abs(total - 1.0) <= SUM_TOLERANCE:
        return None
    shown = ", ".join(f"{name}={value:.10g}" for name, value in parts.items())
    return f"{what} must sum to 1, they sum to {total:.10g} ({shown})"
