"""The whole pathway: one core's seconds per simulated year of the baseline, and a worker's peak memory.

Runs in a fresh worker process, as replications do in real runs, so the
peak resident memory it reports is what one worker needs (the interpreter
and libraries included), not what this benchmark process has accumulated.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from sim.measure import invariants
from sim.measure.collect import collect
from sim.pathway.model import Model
from sim.scenario import load_scenario


@dataclass(frozen=True)
class YearMeasure:
    cpu_seconds: float           # best of the repeats, whole run (warm-up included)
    simulated_days: float        # warm-up + measured period
    patients: int                # people who entered the model
    events: int                  # SimPy events scheduled
    peak_rss_mb: float           # the worker's peak resident memory
    rss_before_run_mb: float     # the worker's peak after imports, before any model is built
    model_peak_mb: float         # Python memory the replication itself allocated at its peak (tracemalloc)

    @property
    def seconds_per_simulated_year(self) -> float:
        return self.cpu_seconds / (self.simulated_days / 365.0)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kB


def _scheduled_events(model: Model) -> int:
    # SimPy numbers every scheduled event from one counter; reading it costs nothing during the run.
    return next(model.env._eid)


def _measure(scenario_path: str, changes: dict, repeats: int) -> dict:
    scenario = load_scenario(scenario_path)
    if changes:
        scenario = scenario.with_changes(changes)
    before = _peak_rss_mb()
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        model = Model(scenario, 0).run()
        invariants.check(model, collect(model))  # as sim.measure.collect.run_replication does
        best = min(best, time.process_time() - start)
    peak_rss = _peak_rss_mb()
    # Traced separately: tracemalloc slows the run it watches.
    tracemalloc.start()
    traced = Model(scenario, 0).run()
    invariants.check(traced, collect(traced))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    measure = YearMeasure(
        cpu_seconds=best,
        simulated_days=model.end,
        patients=model.census.entered,
        events=_scheduled_events(model),
        peak_rss_mb=peak_rss,
        rss_before_run_mb=before,
        model_peak_mb=traced_peak / 2**20,
    )
    return asdict(measure)


def measure_in_worker(scenario_path: Path, changes: dict, repeats: int) -> YearMeasure:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as worker:
        return YearMeasure(**worker.submit(_measure, str(scenario_path), changes, repeats).result())
