"""Runs for the app: each in a background thread so the page stays responsive, reused by scenario hash.

A run is the command line's experiment (`sim.experiment.run_experiment` with
the scenario, its comparator paired on the same run settings, and the
report), written to a temporary folder of its own. The same scenarios give
the same run: a planner who goes back to earlier settings sees their results
at once. Only the last few runs are kept; their folders go when the app stops.
One browser session may have at most MAX_RUNNING runs going at once; a run too
large for sim.budget is refused with the reason.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import shutil
import tempfile
import threading
import zipfile
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from sim import api
from sim.excel.results import results_workbook
from sim.budget import BudgetError
from sim.executors import make_executor
from sim.experiment import Progress, run_experiment
from sim.measure.invariants import InvariantError
from sim.report import FIGURES_DIR, write_report
from sim.results import ResultSet
from sim.scenario import Scenario

KEEP = 6
MAX_RUNNING = 2  # runs one session may have going at once: each takes every core it is given
RESULTS = "results"
# The report's figures, in the report's order; a delays figure exists only when a run had delays.
FIGURES = ("flows_sankey", "occupancy", "queues", "stays", "delays", "costs", "cost_waterfall")


def run_key(scenarios: dict[str, Scenario]) -> str:
    """Same scenarios in the same roles, same key: their results are the same."""
    text = ";".join(f"{role}={s.content_hash()}" for role, s in sorted(scenarios.items()))
    return hashlib.sha256(text.encode()).hexdigest()


class Run(Progress):
    """One experiment in a background thread; the page reads its progress and, once done, its results."""

    def __init__(self, key: str, scenarios: dict[str, Scenario], folder: Path, session: str | None = None):
        self.key = key
        self.session = session
        self.scenarios = scenarios
        self.folder = folder
        self.total = 0
        self.done = 0
        self.state = "running"  # running, done or failed
        self.error: str | None = None
        self.resultset: ResultSet | None = None
        self.report: Path | None = None

    # Progress, called from the run's thread
    def begin(self, total: int, done: int) -> None:
        self.total, self.done = total, done

    def advance(self) -> None:
        self.done += 1

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def results_folder(self) -> Path:
        return self.folder / RESULTS

    def execute(self, workers: int) -> None:
        plan = api.make_plan(self.scenarios["scenario"], None, 50, None, None)
        executor = make_executor(workers, tasks=api.task_estimate(plan) * len(self.scenarios))
        try:
            resultset = run_experiment(self.scenarios, plan, executor=executor, folder=self.results_folder,
                                       progress=self, manifest_extra={"command": ["python", "-m", "sim.app"]})
            self.report = write_report(resultset, self.results_folder)
            self.resultset = resultset
            self.state = "done"
        except BudgetError as exc:
            self._fail(f"{exc.reason}. Make the run smaller, or run it from the command line with --allow-large")
        except InvariantError as exc:
            self._fail(f"a replication broke a rule of the model, so no results were written: {exc}")
        except Exception as exc:  # shown in the page; the app itself carries on
            self._fail(f"the run failed: {type(exc).__name__}: {exc}")
        finally:
            executor.close()

    def _fail(self, message: str) -> None:
        self.error = message
        self.state = "failed"

    def figures(self) -> dict[str, go.Figure]:
        """The report's figures, read back from the specs the report wrote."""
        folder = self.results_folder / FIGURES_DIR
        return {name: pio.read_json(folder / f"{name}.json") for name in FIGURES
                if (folder / f"{name}.json").exists()}

    @cached_property
    def results_excel(self) -> bytes:
        """The results as one workbook (sim/excel/results.py), made in memory."""
        return results_workbook(self.resultset, self.results_folder)

    @cached_property
    def results_zip(self) -> bytes:
        """The whole results folder (tables, manifest, report) as a zip, made in memory."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.results_folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(RESULTS) / path.relative_to(self.results_folder))
        return buffer.getvalue()


_runs: OrderedDict[str, Run] = OrderedDict()
_lock = threading.Lock()


def _session() -> str | None:
    """The browser session calling, when called from a streamlit page."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        context = get_script_run_ctx(suppress_warning=True)
    except Exception:  # streamlit missing or changed: no session to limit
        return None
    return getattr(context, "session_id", None)


def start(scenarios: dict[str, Scenario], workers: int, session: str | None = None) -> Run:
    """The run of these scenarios: the one already running or done, else a new one in a background thread.

    A session that already has MAX_RUNNING runs going gets a failed run saying so, and nothing starts.
    """
    key = run_key(scenarios)
    session = session if session is not None else _session()
    with _lock:
        run = _runs.get(key)
        if run is not None and run.state != "failed":
            _runs.move_to_end(key)
            return run
        going = [r for r in _runs.values() if r.state == "running" and session is not None and r.session == session]
        if len(going) >= MAX_RUNNING:
            refused = Run(key, scenarios, Path(tempfile.mkdtemp(prefix="care-pathway-app-")), session)
            refused._fail(f"{len(going)} of your runs are still going (at most {MAX_RUNNING} at once): wait for "
                          "one to finish, then press Run again")
            _runs[key] = refused
            _forget_old()
            return refused
        run = Run(key, scenarios, Path(tempfile.mkdtemp(prefix="care-pathway-app-")), session)
        _runs[key] = run
        _forget_old()
    threading.Thread(target=run.execute, args=(workers,), name=f"app-run-{key[:8]}", daemon=True).start()
    return run


def find(key: str | None) -> Run | None:
    with _lock:
        return _runs.get(key) if key else None


def _forget_old() -> None:
    finished = [key for key, run in _runs.items() if run.state != "running"]
    for key in finished[: max(0, len(_runs) - KEEP)]:
        shutil.rmtree(_runs.pop(key).folder, ignore_errors=True)


@atexit.register
def _remove_folders() -> None:
    for run in list(_runs.values()):
        shutil.rmtree(run.folder, ignore_errors=True)
