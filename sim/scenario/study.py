"""Studies written into a scenario: sweeps over its values, and the service levels they are judged by."""

from __future__ import annotations

import itertools
import math

from pydantic import Field, model_validator

from sim.scenario.base import MAX_SWEEP_POINTS, Strict


class SweepRange(Strict):
    start: float = Field(alias="from")
    to: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.to < self.start:
            raise ValueError(f"to ({self.to:g}) is below from ({self.start:g})")
        if (self.to - self.start) / self.step > MAX_SWEEP_POINTS:
            raise ValueError(f"more than {MAX_SWEEP_POINTS:,} values")
        return self

    def values(self) -> list[float]:
        n = int(math.floor((self.to - self.start) / self.step + 1e-9)) + 1
        values = [self.start + i * self.step for i in range(n)]
        return [int(v) if float(v).is_integer() else round(v, 12) for v in values]


SweepValue = int | float | str | bool | None


class Sweep(Strict):
    """Scenario variants run with common random numbers: a grid of every combination, or listed points."""

    grid: dict[str, SweepRange | list[SweepValue]] | None = Field(None, description="field path -> values")
    points: list[dict[str, SweepValue]] | None = Field(None, description="each point: field path -> value")

    @model_validator(mode="after")
    def _grid_or_points(self):
        if (self.grid is None) == (self.points is None):
            raise ValueError("give either grid or points")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid names no field")
            total = 1
            for values in self.grid.values():
                total *= len(values.values() if isinstance(values, SweepRange) else values)
            if total > MAX_SWEEP_POINTS:
                raise ValueError(f"grid has {total:,} points; at most {MAX_SWEEP_POINTS:,}")
        elif not self.points:
            raise ValueError("points is empty")
        return self

    def parameters(self) -> list[str]:
        if self.grid is not None:
            return list(self.grid)
        return list(dict.fromkeys(k for point in self.points for k in point))

    def expand(self) -> list[dict[str, SweepValue]]:
        """Every point, as field path -> value (the grid varies its last field fastest)."""
        if self.points is not None:
            return [dict(p) for p in self.points]
        axes = [v.values() if isinstance(v, SweepRange) else list(v) for v in self.grid.values()]
        return [dict(zip(self.grid, combo)) for combo in itertools.product(*axes)]


class ServiceLevel(Strict):
    kpi: str = Field(description="a KPI name (docs/outputs.md)")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self):
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least or at_most")
        return self

    def met(self, value: float) -> bool:
        if value != value:  # NaN: nothing measured, so the level cannot be shown to be met
            return False
        return value >= self.at_least if self.at_least is not None else value <= self.at_most

    def __str__(self) -> str:
        return f"{self.kpi} {'>=' if self.at_least is not None else '<='} {self.at_least if self.at_least is not None else self.at_most:g}"
