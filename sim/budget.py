"""How big a run is, before it starts: people, events, memory and time, and a limit on them.

A scenario can be valid field by field and still ask for hours and tens of gigabytes
(a surge multiplying demand a hundredfold, a large initial state, a hundred places each
at the demand cap, thousands of replications, a long horizon). `check` refuses such a
run before anything is written; the limit is raised with `--allow-large` (the command
line) or `allow_large=True` (sim.api, sim.experiment.run_experiment).

The figures are estimates from the expected number of crises, calibrated on the
baseline (scenarios/baseline.yaml, 2 cores, December 2026): one person costs
about 25 microseconds of CPU, five simulation events and 2 kB while a replication
runs; each replication's tables cost the main process about 80 bytes per row.
Everything this module reads from a scenario is in `_size`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.pathway.arrivals import crisis_rates, direct
from sim.scenario import Scenario

SECONDS_PER_PERSON = 25e-6 * 2   # measured 25 us on the baseline; doubled for slower machines
EVENTS_PER_PERSON = 5            # measured 4.7 on the baseline
BYTES_PER_PERSON = 2_000         # peak memory of a replication grows ~2 kB per person
BYTES_PER_PROCESS = 150_000_000  # Python, numpy, pandas and the model, before any person
BYTES_PER_ROW = 80               # a row of a result table held by the main process
STAYS_PER_SERVICE = 2_000        # stays kept per service and replication (sim.results.replication_tables)

MEMORY_LIMIT = 8e9               # bytes, in one worker (one replication) or in the main process (all tables)
CPU_LIMIT = 24 * 3600.0          # seconds of one core, for the whole run


class BudgetError(Exception):
    """A run larger than the limits, refused before anything is written; `reason` says how large, without
    the command-line advice."""

    def __init__(self, reason: str):
        super().__init__(f"{reason}; to run it anyway, add --allow-large (allow_large=True in sim.api)")
        self.reason = reason


@dataclass(frozen=True)
class Estimate:
    people: float               # in one replication of the largest scenario
    events: float               # in one replication of the largest scenario
    replication_bytes: float    # peak memory of a worker running the largest replication
    result_bytes: float         # the tables of every replication, held by the main process
    cpu_seconds: float          # all replications of all scenarios, on one core
    tasks: int                  # replications x scenarios

    def describe(self) -> str:
        return (f"{self.tasks:,} replications, up to {self.people:,.0f} people and {self.events:,.0f} events each; "
                f"about {_gb(self.replication_bytes)} of memory per worker, {_gb(self.result_bytes)} for the "
                f"results, and {_hours(self.cpu_seconds)}")


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else f"{n / 1e6:,.0f} MB"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} CPU-hours" if seconds >= 3600 else f"{seconds / 60:,.0f} CPU-minutes"


def _size(scenario: Scenario) -> tuple[float, float, int, int]:
    """(people in one replication, days simulated, places, services): the only place this module reads a scenario."""
    run = scenario.run
    days = run.warmup_days + run.horizon_days
    crises = float(crisis_rates(scenario, days).sum())  # the places' own crises a year included
    arriving = sum(float(rates.sum()) for _, _, rates in direct(scenario, days))
    initial = 0
    states = [scenario.initial_state] + [p.initial_state for p in scenario.places.values()]
    for state in states:
        for service in state.values():
            if service is not None:
                initial += service.occupied + service.waiting
    return crises + arriving + initial, float(days), max(1, len(scenario.places)), len(scenario.services)


def estimate(scenarios: list[Scenario] | Scenario, replications: int) -> Estimate:
    """The size of running `replications` replications of each scenario (a run's roles, or a sweep's points)."""
    scenarios = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    people = cpu = result_bytes = 0.0
    for scenario in scenarios:
        persons, days, places, services = _size(scenario)
        people = max(people, persons)
        cpu += replications * persons * SECONDS_PER_PERSON
        rows = days * services * (1 + (places if places > 1 else 0)) + STAYS_PER_SERVICE * services
        result_bytes += replications * rows * BYTES_PER_ROW
    return Estimate(people=people, events=people * EVENTS_PER_PERSON,
                    replication_bytes=BYTES_PER_PROCESS + people * BYTES_PER_PERSON, result_bytes=result_bytes,
                    cpu_seconds=cpu, tasks=replications * len(scenarios))


def check(scenarios: list[Scenario] | Scenario, replications: int, allow_large: bool = False) -> Estimate:
    """The run's estimate; BudgetError if it is over a limit and not allowed to be."""
    size = estimate(scenarios, replications)
    over = []
    if size.replication_bytes > MEMORY_LIMIT:
        over.append(f"{_gb(size.replication_bytes)} of memory per replication (limit {_gb(MEMORY_LIMIT)})")
    if size.result_bytes > MEMORY_LIMIT:
        over.append(f"{_gb(size.result_bytes)} of memory for the results (limit {_gb(MEMORY_LIMIT)})")
    if size.cpu_seconds > CPU_LIMIT:
        over.append(f"{_hours(size.cpu_seconds)} (limit {_hours(CPU_LIMIT)})")
    if over and not allow_large:
        raise BudgetError(
            f"this run is too large to start: it would need about {' and '.join(over)} ({size.describe()}). "
            "Check the demand, surges, places, initial state, horizon, replications and sweep points"
        )
    return size
