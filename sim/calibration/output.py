"""A calibration's folder: every file written, then the folder swapped into place in one step.

    posterior.csv     the accepted parameter sets: set, weight, then one column per scenario field path
                      (the dotted paths sweeps use); what PSA reads
    parameters.csv    the same sets as each parameter's own value (a scale's factor)
    summary.csv       every target, calibration and validation: published range, simulated weighted mean
                      and 95% interval over the sets, within the tolerance or not
    sets.csv          each set's simulated value of each target
    generations.csv   ABC-SMC's generations: threshold, simulations, accepted sets
    manifest.json     what was run: scenario, files and their SHA-256, method, settings, seed, timing

A kill while writing leaves the previous folder (or none), never a folder that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from sim.scenario import ScenarioError
from sim.store import PROGRAM, atomic_write_bytes, fsync_folder

FILES = ("posterior.csv", "parameters.csv", "summary.csv", "sets.csv", "generations.csv", "manifest.json")
KIND = "calibration"


class OutError(Exception):
    """A folder a calibration may not write (a file, another program's folder, not writable)."""


def check_out(folder: Path) -> None:
    """OutError unless `folder` is absent or a calibration folder this program wrote."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutError(f"{folder} exists and is a file, not a folder")
    if folder.is_dir():
        strangers = sorted(p.name for p in folder.iterdir() if p.name not in FILES)
        if strangers:
            raise OutError(f"{folder} holds files that are not a calibration's ({', '.join(strangers[:3])}); "
                           "choose another --out, or move them away")
        manifest = folder / "manifest.json"
        if manifest.exists():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, ValueError):
                data = {}
            if not (isinstance(data, dict) and data.get("program") == PROGRAM and data.get("kind") == KIND):
                raise OutError(f"{manifest} was not written by a calibration of {PROGRAM}; choose another --out")
    parent = folder.parent if not folder.exists() else folder
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutError(f"cannot write to {parent} (permission denied)")


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write the files into a new folder beside `folder`, then put it in `folder`'s place."""
    folder = Path(folder)
    check_out(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
    fresh = folder.with_name(f".{folder.name}.{tag}.new")
    old = folder.with_name(f".{folder.name}.{tag}.old")
    fresh.mkdir()
    try:
        for name, data in files.items():
            atomic_write_bytes(fresh / name, data)
        fsync_folder(fresh)
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
        fsync_folder(folder.parent)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def read_posterior(path: str | Path) -> pd.DataFrame:
    """A posterior.csv as written here (set, weight, then field paths), or ScenarioError naming the file and column."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ScenarioError(path, [("", f"cannot be read as a posterior CSV ({exc})")]) from None
    if list(frame.columns[:2]) != ["set", "weight"] or len(frame.columns) < 3:
        raise ScenarioError(path, [("", "a posterior CSV starts with the columns set, weight, then one column per "
                                        "scenario field path")])
    problems = []
    if frame.empty:
        problems.append(("", "holds no parameter set"))
    elif (frame["weight"] < 0).any() or not abs(frame["weight"].sum() - 1) < 1e-6:
        problems.append(("weight", "weights must be at least 0 and sum to 1"))
    for column in frame.columns[2:]:
        if not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().any():
            problems.append((column, "every value must be a number"))
    if problems:
        raise ScenarioError(path, problems)
    return frame
