"""Replications per second with one worker and with every core, through the project's executor (sim/executors.py).

Workers are started and warmed up (imports done) before the clock starts, so
the figures are the steady rate of a long experiment. The results of the
two runs are compared too: the worker count must not change a single number.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from sim.executors import ProcessExecutor, Task, scenario_json
from sim.scenario import Scenario


@dataclass(frozen=True)
class Scaling:
    executor: str
    replications: int
    cores: int
    seconds_one: float
    seconds_all: float
    identical: bool
    machine_efficiency: float  # the same measure for a plain CPU loop: what the machine allows right now

    @property
    def rate_one(self) -> float:
        return self.replications / self.seconds_one

    @property
    def rate_all(self) -> float:
        return self.replications / self.seconds_all

    @property
    def efficiency(self) -> float:
        return self.rate_all / (self.rate_one * self.cores)


def _fingerprint(tables: dict[str, pd.DataFrame]) -> str:
    """A hash of every table a replication returned."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(tables[name], index=True).values.tobytes())
    return digest.hexdigest()


def _run_pool(scenario: Scenario, replications: range, workers: int) -> tuple[float, dict[int, str]]:
    """Wall seconds for `replications` on `workers` warm workers, and each replication's fingerprint."""
    warmup = scenario.with_changes({"run.horizon_days": 1, "run.warmup_days": 0})
    executor = ProcessExecutor(workers)
    try:
        list(executor.run(Task(scenario_json(warmup), "warmup", r, 1) for r in range(workers)))
        text = scenario_json(scenario)
        start = time.perf_counter()
        done = {task.replication: _fingerprint(tables) for task, tables in
                executor.run(Task(text, "bench", r, scenario.run.seed) for r in replications)}
        return time.perf_counter() - start, done
    finally:
        executor.close()


def _spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i & 7
    return total


def machine_efficiency(cores: int, iterations: int) -> float:
    """Parallel efficiency of a plain CPU loop: 1.0 on idle cores, less when others' jobs share them.

    A control for the simulator's figure: on a shared machine the two are low together.
    """
    # forkserver, as the project's executor: never fork a process that runs threads (the progress spinner)
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("forkserver")) as pool:
        list(pool.map(_spin, [1] * cores))  # workers started before the clock
        start = time.perf_counter()
        pool.submit(_spin, iterations).result()
        one = time.perf_counter() - start
        start = time.perf_counter()
        list(pool.map(_spin, [iterations] * cores))
        everyone = time.perf_counter() - start
    return one / everyone


def measure(scenario: Scenario, replications: int, cores: int | None = None, spin: int = 20_000_000) -> Scaling:
    cores = cores or os.cpu_count() or 1
    reps = range(replications)
    seconds_one, one = _run_pool(scenario, reps, 1)
    seconds_all, everyone = _run_pool(scenario, reps, cores)
    return Scaling("sim.executors.ProcessExecutor", replications, cores, seconds_one, seconds_all, one == everyone,
                   machine_efficiency(cores, spin))
