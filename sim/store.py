"""A ResultSet folder on disk: written atomically, resumable, complete only when it says so.

Layout of a results folder:

    manifest.json         what was run (scenarios and hashes, seed, replications,
                          package versions, git commit, start and end times)
    kpis.parquet daily.parquet flows.parquet costs.parquet stays.parquet daily_places.parquet
                          the ResultSet tables (see sim.results), all replications
    summary.csv           every KPI of every role: mean and 95% CI across replications
    comparison.csv        headline savings of the scenario against its comparator
    differences.csv       paired difference of every KPI (scenario - comparator)
    COMPLETE              written last; a folder without it is an interrupted run
    parts/<role>-<rep>/   one replication's tables while the run is going on;
                          removed once the run is complete

Every file is written to a temporary name and moved into place with os.replace,
and each replication's part is a folder renamed into place in one step, so a
crash or kill never leaves a half-written file under a name that looks finished.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from sim.results import ROLES, ResultSet
from sim.scenario import Scenario, validate

TABLES = ("kpis", "daily", "flows", "costs", "stays", "daily_places")
MANIFEST = "manifest.json"
COMPLETE = "COMPLETE"
PARTS = "parts"
# Files this module writes: a results folder holding anything else is not ours to replace.
OWN_FILES = {MANIFEST, COMPLETE, PARTS, "summary.csv", "comparison.csv", "differences.csv"} | {
    f"{t}.parquet" for t in TABLES
}

# Column types of every table, applied whether a frame comes from a worker or from disk,
# so results are identical bit for bit whichever way they travelled.
SCHEMAS: dict[str, dict[str, str]] = {
    "kpis": {"role": "object", "replication": "int64", "kpi": "object", "value": "float64"},
    "daily": {"role": "object", "replication": "int64", "day": "int64", "service": "object",
              "occupancy": "float64", "queue": "float64", "capacity": "float64"},
    "flows": {"role": "object", "replication": "int64", "source": "object", "target": "object", "people": "int64"},
    "costs": {"role": "object", "replication": "int64", "service": "object", "payer": "object", "basis": "object",
              "activity": "float64", "activity_unit": "object", "unit_cost_gbp": "float64", "cost_gbp": "float64"},
    "stays": {"role": "object", "replication": "int64", "service": "object", "stay_days": "float64"},
    "daily_places": {"role": "object", "replication": "int64", "day": "int64", "place": "object",
                     "service": "object", "occupancy": "float64", "queue": "float64", "capacity": "float64"},
}


class StoreError(Exception):
    """A results folder that cannot be used as asked (wrong run, incomplete, not ours)."""


def normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    schema = SCHEMAS[name]
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
    frame = frame[list(schema)].astype(schema)
    for column, kind in schema.items():
        if kind == "object":
            frame[column] = frame[column].map(str).astype(object)
    return frame.reset_index(drop=True)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = _temp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = _temp_name(path)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def part_name(role: str, replication: int) -> str:
    return f"{role}-{replication:05d}"


def check_writable(folder: Path) -> None:
    """Raise StoreError unless `folder` can be created (or used) without touching anything else."""
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} exists and is a file, not a folder")
    if folder.is_dir():
        strangers = sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES and not p.name.startswith("."))
        if strangers and not (folder / MANIFEST).exists():
            raise StoreError(
                f"{folder} holds files that are not results ({', '.join(strangers[:3])}); choose another --out"
            )
        target = folder
    else:
        target = folder.parent
        while not target.exists():
            target = target.parent
        if not target.is_dir():
            raise StoreError(f"cannot create {folder}: {target} is not a folder")
    if not os.access(target, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write to {target} (permission denied)")


class Store:
    """One results folder: its parts while running, its tables once complete."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def parts(self) -> Path:
        return self.folder / PARTS

    def is_complete(self) -> bool:
        return (self.folder / COMPLETE).exists()

    def read_manifest(self) -> dict | None:
        path = self.folder / MANIFEST
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def start(self, manifest: dict, resume: bool) -> set[tuple[str, int]]:
        """Prepare the folder for a run; return the (role, replication) parts already finished.

        Without `resume`, results of an earlier run are removed first. With it, the folder must
        hold the same run (same identity in the manifest), and finished parts are kept.
        """
        existing = self.read_manifest()
        if resume and existing is not None:
            if not self.same_run(manifest):
                raise StoreError(
                    f"{self.folder} holds results of a different run (scenario, seed or settings differ); "
                    "use another --out, or run without --resume to replace them"
                )
        else:
            self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(exist_ok=True)
        (self.folder / COMPLETE).unlink(missing_ok=True)
        atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        return self.finished_parts()

    def same_run(self, manifest: dict) -> bool:
        """Whether the folder's manifest describes the same run (its results can be reused)."""
        existing = self.read_manifest() or {}
        # Through JSON, so tuples and lists (or int and str keys) compare as they are stored.
        return existing.get("identity") == json.loads(json.dumps(manifest["identity"]))

    def clear(self) -> None:
        if not self.folder.is_dir():
            return
        for name in OWN_FILES:
            path = self.folder / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def finished_parts(self) -> set[tuple[str, int]]:
        done = set()
        if not self.parts.is_dir():
            return done
        for path in self.parts.iterdir():
            role, _, rep = path.name.rpartition("-")
            if path.is_dir() and not path.name.startswith(".") and rep.isdigit():
                done.add((role, int(rep)))
        return done

    def write_part(self, role: str, replication: int, tables: dict[str, pd.DataFrame]) -> None:
        """Write one replication's tables into a hidden folder, then rename it into place at once."""
        final = self.parts / part_name(role, replication)
        tmp = self.parts / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()
        try:
            for name in TABLES:
                tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
            if final.exists():  # a replication computed twice (e.g. two resumed runs) is identical
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

    def read_part(self, role: str, replication: int) -> dict[str, pd.DataFrame]:
        folder = self.parts / part_name(role, replication)
        return {name: normalise(name, pd.read_parquet(folder / f"{name}.parquet")) for name in TABLES}

    def finish(self, resultset: ResultSet, manifest: dict, extra_csv: dict[str, pd.DataFrame]) -> None:
        """Write the tables, CSVs and manifest, then the COMPLETE marker, then drop the parts."""
        for name in TABLES:
            atomic_write_parquet(self.folder / f"{name}.parquet", getattr(resultset, name))
        for name, frame in extra_csv.items():
            atomic_write_csv(self.folder / name, frame)
        atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        atomic_write_text(self.folder / COMPLETE, manifest.get("finished_utc", "") + "\n")
        shutil.rmtree(self.parts, ignore_errors=True)


def load(folder: str | Path) -> ResultSet:
    """Read a complete results folder back as a ResultSet."""
    folder = Path(folder)
    store = Store(folder)
    manifest = store.read_manifest()
    if manifest is None:
        raise StoreError(f"{folder}: no {MANIFEST}; not a results folder")
    if not store.is_complete():
        raise StoreError(f"{folder}: the run did not finish (no {COMPLETE} marker); finish it with --resume")
    scenarios = {
        role: validate(entry["resolved"], entry.get("file") or f"<{role} in {folder / MANIFEST}>")
        for role, entry in manifest["scenarios"].items()
    }
    tables = {name: normalise(name, pd.read_parquet(folder / f"{name}.parquet")) for name in TABLES}
    return ResultSet(scenarios=scenarios, manifest=manifest, folder=folder, **tables)


def assemble(parts: dict[tuple[str, int], dict[str, pd.DataFrame]], roles: list[str],
             replications: list[int]) -> dict[str, pd.DataFrame]:
    """Concatenate replication parts in a fixed order (roles, then replication number)."""
    order = [r for r in ROLES if r in roles] + [r for r in roles if r not in ROLES]
    out = {}
    for name in TABLES:
        frames = [parts[(role, rep)][name] for role in order for rep in sorted(replications)]
        out[name] = normalise(name, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    return out


def scenario_entry(scenario: Scenario) -> dict:
    return {
        "name": scenario.name,
        "file": str(scenario.path) if scenario.path else None,
        "hash": scenario.content_hash(),
        "resolved": scenario.resolved,
    }
