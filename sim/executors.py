"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every backend runs the same top-level function, `run_one`, on the same tasks,
and hands back results as they complete. Order never matters: a replication's
numbers depend only on (scenario, seed, replication), and results are put in
replication order afterwards, so every backend and worker count gives the
same results bit for bit.

Ctrl-C: the first asks the run to stop once the replications it is running have
finished (they are kept for --resume); the second stops at once (`interruptible`).
Worker processes never see Ctrl-C themselves, and never import the user's main
module (a script, a notebook's kernel, the streamlit page), so `api.run` works
from a plain script without `if __name__ == "__main__":`.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from sim.measure.collect import run_replication
from sim.random.streams import stable_hash
from sim.results import replication_tables
from sim.scenario import Scenario, validate
from sim.store import TABLES, normalise


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
    result = run_replication(_scenario(scenario_text), replication, seed)
    tables = replication_tables(role, result)
    return {name: normalise(name, tables[name]) for name in TABLES}


def _call(task: Task) -> dict[str, pd.DataFrame]:
    return run_one(task.scenario_json, task.role, task.replication, task.seed)


class Interrupted(KeyboardInterrupt):
    """The run stopped on Ctrl-C; the replications it finished are on disk for --resume."""


class _Stoppable:
    """What every executor shares: a stop asked for by the first Ctrl-C, and how many tasks are running."""

    running = 0
    _stop = False

    def request_stop(self) -> str:
        """Stop starting replications; the message that acknowledges the Ctrl-C."""
        self._stop = True
        n = self.running
        return (f"finishing {n} running replication{'' if n == 1 else 's'}; Ctrl-C again to stop now "
                "(finished replications are kept for --resume)")


class SerialExecutor(_Stoppable):
    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, pd.DataFrame]]]:
        for task in tasks:
            if self._stop:
                raise Interrupted
            self.running = 1
            try:
                tables = _call(task)
            finally:
                self.running = 0
            yield task, tables

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a worker process is launched, the parent's __main__ has no file or spec to re-import.

    multiprocessing sends the child the main module's path (or module name) and the child
    imports it before running anything: a script calling `api.run` at top level would run
    again in every worker, and streamlit's page would log "missing ScriptRunContext".
    Workers need only the `sim` package, which they import by name.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Ctrl-C is held back while a worker (and the forkserver) is launched: they inherit the blocked
    signal, so a Ctrl-C during start-up never prints a traceback from a half-started process; this
    process receives it once the launch is done."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_start() -> None:
    """In each worker: Ctrl-C is for the main process, which decides what to finish and what to stop."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    else:  # pragma: no cover - Windows
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _launching(base: type) -> type:
    """A Process class of the given start method whose launches hide __main__ and hold back Ctrl-C."""

    def _Popen(process_obj):
        with _main_module_hidden(), _sigint_blocked():
            return base._Popen(process_obj)

    return type(f"Sim{base.__name__}", (base,), {"_Popen": staticmethod(_Popen), "__module__": __name__})


# At module level, so the forkserver can rebuild the process objects it is sent by name.
SimSpawnProcess = _launching(multiprocessing.context.SpawnProcess)
if hasattr(multiprocessing.context, "ForkServerProcess"):
    SimForkServerProcess = _launching(multiprocessing.context.ForkServerProcess)


def worker_context() -> multiprocessing.context.BaseContext:
    """forkserver (spawn where there is none), with workers that never import __main__ nor see Ctrl-C.

    forkserver: workers start clean, never inheriting the parent's threads (progress bar), with the
    model imported once.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    base = multiprocessing.get_context(method)
    context = type(base)()
    if method == "forkserver":
        context.set_forkserver_preload(["sim.executors"])
        context.Process = SimForkServerProcess
    else:  # pragma: no cover - Windows
        context.Process = SimSpawnProcess
    return context


class ProcessExecutor(_Stoppable):
    """A pool of local worker processes, kept for the whole experiment.

    At most one task per worker is handed to the pool at a time, so a stop leaves nothing
    queued: exactly the running replications finish.
    """

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                                         initializer=_worker_start)
        self._killed = False

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, pd.DataFrame]]]:
        todo = iter(tasks)
        pending: dict = {}
        left = True
        try:
            while True:
                while left and not self._stop and len(pending) < self.workers:
                    task = next(todo, None)
                    if task is None:
                        left = False
                    else:
                        pending[self._pool.submit(_call, task)] = task
                self.running = len(pending)
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    self.running = len(pending)
                    yield task, future.result()
            if left and self._stop:
                raise Interrupted
        finally:
            if pending:  # stopped at once (second Ctrl-C, an error): nothing running is waited for
                self.kill()

    def kill(self) -> None:
        """Stop the workers now; their replications are lost (finished ones are already on disk)."""
        self._killed = True
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Let the pool's manager thread finish closing its wake-up pipe now: at interpreter exit,
        # concurrent.futures wakes every manager, and one closing its pipe at that moment raised
        # "Bad file descriptor" from an atexit handler (a traceback after a clean stop).
        manager = getattr(self._pool, "_executor_manager_thread", None)
        if manager is not None:
            with contextlib.suppress(Exception):
                manager.join(timeout=10)

    def close(self) -> None:
        if not self._killed:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(_Stoppable):
    """A Dask cluster: `local` starts one on loopback; `tcp://host:port` joins a running scheduler.

    Every task is submitted at once (a cluster may grow while it runs), so a Ctrl-C stops at
    once, keeping the replications already finished.
    """

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
        self.running = len(futures)
        try:
            for future in as_completed(futures):
                if self._stop:
                    raise Interrupted
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def request_stop(self) -> str:
        self._stop = True
        return "stopping; replications already finished are kept for --resume"

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


Executor = SerialExecutor | ProcessExecutor | DaskExecutor


@contextlib.contextmanager
def interruptible(executor: Executor) -> Iterator[None]:
    """Ctrl-C during a run: the first is acknowledged on stderr at once and stops the run after the
    replications running now (raising Interrupted); the second raises KeyboardInterrupt at once.

    Only where this process owns Ctrl-C: the main thread, with Python's default handler in place
    (not in the app's background threads, nor under a handler of the caller's own).
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def handler(signum, frame):
        if executor._stop:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        message = executor.request_stop()
        with contextlib.suppress(Exception):  # stderr closed: the stop must happen all the same
            print(f"\nCtrl-C: {message}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
