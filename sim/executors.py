"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every backend runs the same top-level function, `run_one`, on the same tasks,
and hands back results as they complete. Order never matters: a replication's
numbers depend only on (scenario, seed, replication), and results are put in
replication order afterwards, so every backend and worker count gives the
same results bit for bit.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from sim.measure.collect import run_replication
from sim.results import replication_tables
from sim.scenario import Scenario, validate
from sim.random.streams import stable_hash


@dataclass(frozen=True)
class Task:
    """One replication of one role's scenario, as plain data a worker anywhere can run."""

    scenario_json: str
    role: str
    replication: int
    seed: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.role, self.replication)


def scenario_json(scenario: Scenario) -> str:
    return json.dumps(scenario.resolved, sort_keys=True)


@lru_cache(maxsize=8)
def _scenario(text: str) -> Scenario:
    # Validated once per worker and scenario, not once per replication.
    return validate(json.loads(text), "<scenario sent to worker>")


def run_one(scenario_text: str, role: str, replication: int, seed: int) -> dict[str, pd.DataFrame]:
    """Run one replication and return its ResultSet table rows (picklable, for any backend)."""
    from sim.store import TABLES, normalise

    result = run_replication(_scenario(scenario_text), replication, seed)
    tables = replication_tables(role, result)
    return {name: normalise(name, tables[name]) for name in TABLES}


def _call(task: Task) -> dict[str, pd.DataFrame]:
    return run_one(task.scenario_json, task.role, task.replication, task.seed)


class SerialExecutor:
    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, pd.DataFrame]]]:
        for task in tasks:
            yield task, _call(task)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of local worker processes, kept for the whole experiment."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        # forkserver: workers start clean, never inheriting the parent's threads (progress bar),
        # with the model imported once; spawn where there is no forkserver (Windows).
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["sim.executors"])
        else:
            context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, pd.DataFrame]]]:
        pending = {self._pool.submit(_call, task): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask cluster: `local` starts one on loopback; `tcp://host:port` joins a running scheduler."""

    name = "dask"

    def __init__(self, address: str, workers: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise RuntimeError("Dask is not installed: pip install 'care-pathway-sim[dask]'") from exc
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(
                host="127.0.0.1", n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address, timeout="10s")
        self.address = address
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, pd.DataFrame]]]:
        from distributed import as_completed

        futures = {}
        for task in tasks:
            key = f"run_one-{task.role}-{task.replication}-{task.seed}-{stable_hash(task.scenario_json):x}"
            futures[self._client.submit(run_one, task.scenario_json, task.role, task.replication, task.seed,
                                        key=key)] = task
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


Executor = SerialExecutor | ProcessExecutor | DaskExecutor


def default_workers() -> int:
    return os.cpu_count() or 1


def make_executor(workers: int | None = None, dask: str | None = None, tasks: int | None = None) -> Executor:
    """The backend for a run: Dask if asked, else local processes, or serial when one worker is enough."""
    workers = default_workers() if workers is None else workers
    if dask:
        return DaskExecutor(dask, workers)
    if tasks is not None:
        workers = min(workers, tasks)
    if workers <= 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
