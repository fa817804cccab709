"""A five-year run of the Connect comparison: simulated years per CPU second, against a one-year run.

The budget impact needs the measured period to cover the economic horizon (five years by default), so
the main job measures five years. This measures one replication of each scenario of the comparison
over five measured years (warm-up included) in a fresh worker, against the same scenario measuring one
year, and estimates the main job's time on two free cores from the CPU seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.whole_system import YearMeasure, measure_in_worker

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {"scenario": ROOT / "scenarios" / "connect.yaml", "comparator": ROOT / "scenarios" / "baseline.yaml"}
FIVE_YEARS = {"run.horizon_days": 5 * 365}
ONE_YEAR = {"run.horizon_days": 365}


@dataclass(frozen=True)
class FiveYears:
    five: dict[str, YearMeasure]
    one: dict[str, YearMeasure]

    @property
    def years_per_cpu_second(self) -> float:
        """Simulated years (warm-up included) per CPU second, both scenarios together."""
        return sum(m.simulated_days for m in self.five.values()) / 365 / sum(m.cpu_seconds for m in self.five.values())

    @property
    def cost_ratio(self) -> float:
        """CPU per simulated year of the five-year runs over that of the one-year runs: 1 = no dearer per year."""
        per_year = lambda runs: sum(m.cpu_seconds for m in runs.values()) / sum(m.simulated_days for m in runs.values())  # noqa: E731
        return per_year(self.five) / per_year(self.one)

    def main_job_seconds(self, replications: int, cores: int = 2) -> float:
        """The main job's simulation on `cores` free cores: every replication of both scenarios, spread evenly."""
        return replications * sum(m.cpu_seconds for m in self.five.values()) / cores


def measure(quick: bool = False) -> FiveYears:
    five = {role: measure_in_worker(path, {**FIVE_YEARS, **({"run.horizon_days": 20, "run.warmup_days": 0}
                                                           if quick else {})}, 1)
            for role, path in SCENARIOS.items()}
    one = {role: measure_in_worker(path, {**ONE_YEAR, **({"run.horizon_days": 5, "run.warmup_days": 0}
                                                        if quick else {})}, 1)
           for role, path in SCENARIOS.items()}
    return FiveYears(five, one)


def as_dict(result: FiveYears) -> dict:
    return {"five": {r: asdict(m) for r, m in result.five.items()}, "one": {r: asdict(m) for r, m in result.one.items()},
            "years_per_cpu_second": result.years_per_cpu_second, "cost_ratio": result.cost_ratio}
