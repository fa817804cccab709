"""A whole calibration: check every input, fit to the calibration targets, test on the held-out ones, write.

Everything that can be refused is checked before anything runs: the targets and priors
files, each target's KPI against the scenario it measures, each prior's range against the
scenario, the output folder. The fit (sim.calibration.fit) is handed the calibration targets
only; the validation targets are read after it has finished.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.calibration import fit as fitting
from sim.calibration.holdout import summarise
from sim.calibration.output import write_folder
from sim.calibration.priors import Priors, load_priors
from sim.calibration.simulate import Settings, Simulator, run_sets
from sim.calibration.targets import TargetFile, load_targets, load_validation_scenarios
from sim.executors import make_executor
from sim.scenario import Scenario
from sim.scenario.loading import Roots
from sim.store import PROGRAM


@dataclass
class Inputs:
    scenario: Scenario
    targets: TargetFile
    priors: Priors
    others: dict[Path, Scenario]   # the scenarios validation targets measure


def load_inputs(scenario: Scenario, targets_path: Path, priors_path: Path, roots: Roots) -> Inputs:
    """Read and check the targets and priors against the scenario (ScenarioError, nothing run)."""
    targets = load_targets(targets_path, roots)
    others = load_validation_scenarios(targets, roots)
    targets.check_against({None: scenario, **others})
    priors = load_priors(priors_path, scenario)
    return Inputs(scenario, targets, priors, others)


@dataclass
class Result:
    fit: fitting.Fit
    summary: pd.DataFrame
    per_set: pd.DataFrame
    manifest: dict


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _shown(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def calibrate(inputs: Inputs, method: fitting.Method, settings: Settings, workers: int = 1,
              out: Path | None = None, command: list[str] | None = None) -> Result:
    started = time.time()
    simulator = Simulator(inputs.scenario, inputs.targets.calibration, settings)
    fitted = fitting.fit(inputs.priors, inputs.targets.calibration, simulator, method, settings.seed)
    fit_seconds = time.time() - started
    every = (*inputs.targets.calibration, *inputs.targets.validation)
    executor = make_executor(workers, tasks=len(fitted.sets) * (1 + len(inputs.others)) * settings.replications)
    try:
        per_set = run_sets(inputs.scenario, inputs.others, fitted.sets, every, settings, executor)
    finally:
        executor.close()
    summary = summarise(every, fitted.sets, per_set)
    manifest = {
        "program": PROGRAM, "kind": "calibration",
        "command": command,
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "minutes": {"fit": round(fit_seconds / 60, 2), "total": round((time.time() - started) / 60, 2)},
        "scenario": {"path": _shown(inputs.scenario.path), "sha256": inputs.scenario.content_hash()},
        "targets": {"path": _shown(inputs.targets.path), "sha256": _sha(inputs.targets.path),
                    "calibration": [t.name for t in inputs.targets.calibration],
                    "validation": [t.name for t in inputs.targets.validation]},
        "priors": {"path": _shown(inputs.priors.path), "sha256": _sha(inputs.priors.path),
                   "parameters": {p.name: p.paths for p in inputs.priors.parameters}},
        "validation_scenarios": [_shown(p) for p in inputs.others],
        "method": method.describe(),
        "settings": settings.describe(),
        "seeds": "evaluation k of the fit runs with seed SeedSequence([seed, 0, k]); held-out set i with "
                 "SeedSequence([seed, 1, i]), the same in every scenario it is run in (common random numbers)",
        "simulations": fitted.simulations,
        "threshold_reached": fitted.threshold,
        "within_tolerance": fitted.reached,
        "sets": len(fitted.sets),
    }
    result = Result(fitted, summary, per_set, manifest)
    if out is not None:
        write_folder(out, {
            "posterior.csv": _csv(fitted.sets),
            "parameters.csv": _csv(fitted.values),
            "summary.csv": _csv(summary),
            "sets.csv": _csv(per_set),
            "generations.csv": _csv(fitted.generations),
            "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode("utf-8"),
        })
    return result
