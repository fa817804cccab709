"""A ResultSet folder on disk: written atomically, checksummed, locked while written, resumable,
complete only when it says so.

Layout of a results folder:

    manifest.json         what was run (scenarios and hashes, seed, replications,
                          package versions, git commit, start and end times) and,
                          once complete, the SHA-256 of every file below ("files")
    kpis.parquet daily.parquet flows.parquet costs.parquet stays.parquet daily_places.parquet
                          the ResultSet tables (see sim.results), all replications
    summary.csv           every KPI of every role: mean and 95% CI across replications
    comparison.csv        headline gains a year and savings by perspective of the scenario against its comparator
    budget_impact.csv     year by year and by perspective: cash-releasing, capacity freed, investment, net (sim.economics)
    capacity_freed.csv    place-days and places freed a year, by service, and their value where one is stated
    economic_summary.csv  over the horizon, by perspective: net undiscounted and discounted, return on investment
    differences.csv       paired difference of every KPI (scenario - comparator)
    COMPLETE              written last; a folder without it is an interrupted run
    parts/<role>-<rep>/   one replication's tables (and their SHA256SUMS) while the run
                          is going on; removed once the run is complete
    .lock                 while a run writes the folder: who it is (pid, host, start, command)

Every file is written to a temporary name, forced to disk, and moved into place with
os.replace (the folder is forced to disk too), and each replication's part is a folder
renamed into place in one step, so a crash, kill or power cut never leaves a half-written
file under a name that looks finished, nor a table that is not on disk beside COMPLETE.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from sim.results import ROLES, ResultSet
from sim.scenario import Scenario, ScenarioError, validate

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

PROGRAM = "care-pathway-sim"
TABLES = ("kpis", "daily", "flows", "costs", "stays", "daily_places")
MANIFEST = "manifest.json"
COMPLETE = "COMPLETE"
PARTS = "parts"
LOCK = ".lock"
PART_SUMS = "SHA256SUMS"
# Everything a run of this program writes into a results folder (sim.report, sim.sweep,
# sim.breaking_points, sim.stress_figures included): a rerun removes all of it, so nothing of
# the previous run is left beside the new results; any other name means the folder is not ours.
OWN_FILES = {MANIFEST, COMPLETE, PARTS, "summary.csv", "comparison.csv", "differences.csv", "budget_impact.csv",
             "capacity_freed.csv", "economic_summary.csv"} | {
    f"{t}.parquet" for t in TABLES
} | {
    "report.html", "report_tables", "report_figures",
    "sweep.csv", "sweep.parquet", "points.csv", "breaking_points", "curves.html", "heatmaps.html",
    "surge.html", "surge_recovery.csv", "results.xlsx",
    "psa.csv", "psa_summary.csv", "psa_sets.csv", "ceac.csv", "sensitivity",  # sim.psa
}

# Column types of every table, applied whether a frame comes from a worker or from disk,
# so results are identical bit for bit whichever way they travelled.
SCHEMAS: dict[str, dict[str, str]] = {
    "kpis": {"role": "object", "replication": "int64", "kpi": "object", "value": "float64"},
    "daily": {"role": "object", "replication": "int64", "day": "int64", "service": "object",
              "occupancy": "float64", "queue": "float64", "capacity": "float64"},
    "flows": {"role": "object", "replication": "int64", "source": "object", "target": "object", "people": "int64"},
    "costs": {"role": "object", "replication": "int64", "service": "object", "payer": "object", "basis": "object",
              "activity": "float64", "activity_unit": "object", "unit_cost_gbp": "float64", "cost_gbp": "float64",
              "year": "int64", "discounted_gbp": "float64"},
    "stays": {"role": "object", "replication": "int64", "service": "object", "stay_days": "float64"},
    "daily_places": {"role": "object", "replication": "int64", "day": "int64", "place": "object",
                     "service": "object", "occupancy": "float64", "queue": "float64", "capacity": "float64"},
}


class StoreError(Exception):
    """A results folder that cannot be used as asked (wrong run, incomplete, not ours)."""


class DamagedFolder(StoreError):
    """A results folder whose files are missing, cut short or changed since they were written."""


class FolderInUse(StoreError):
    """Another run is writing this results folder."""


def normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    schema = SCHEMAS[name]
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
    frame = frame[list(schema)].astype(schema)
    for column, kind in schema.items():
        if kind == "object":
            frame[column] = frame[column].map(str).astype(object)
    return frame.reset_index(drop=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_folder(folder: Path) -> None:
    """Force a folder's entries (a rename into it) to disk; a no-op where folders cannot be opened (Windows)."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_synced(tmp: Path, path: Path) -> None:
    """Rename a file already forced to disk into place, and force the rename to disk too."""
    os.replace(tmp, path)
    fsync_folder(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = _temp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _replace_synced(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = _temp_name(path)
    try:
        frame.to_parquet(tmp, index=False)
        _fsync_file(tmp)
        _replace_synced(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def part_name(role: str, replication: int) -> str:
    return f"{role}-{replication:05d}"


def _strangers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES and not p.name.startswith("."))


def is_ours(manifest: object) -> bool:
    """Whether a manifest was written by this program (before the "program" key: by its identity and code hash)."""
    if not isinstance(manifest, dict):
        return False
    return manifest.get("program") == PROGRAM or {"identity", "scenarios", "code_sha256"} <= manifest.keys()


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DamagedFolder(
            f"{path} is damaged and cannot be read ({type(exc).__name__}: {exc}); the results in {path.parent} "
            "cannot be identified: run again without --resume (or with another --out) to recompute them"
        ) from None


def check_ours(folder: Path) -> None:
    """Raise StoreError unless `folder` is absent, empty, or holds only what a run of this program wrote."""
    if not folder.is_dir():
        return
    strangers = _strangers(folder)
    if strangers:
        raise StoreError(
            f"{folder} holds files that are not results of this simulator ({', '.join(strangers[:3])}"
            f"{', ...' if len(strangers) > 3 else ''}); choose another --out, or move them away"
        )
    path = folder / MANIFEST
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            # Damaged, but ours if it sits among our files: a new run may replace it.
            if any((folder / name).exists() for name in OWN_FILES - {MANIFEST}):
                return
            raise StoreError(
                f"{path} cannot be read and nothing else in {folder} is a result of this simulator: choose "
                "another --out, or delete the folder if it holds nothing you need"
            ) from None
        if not is_ours(manifest):
            raise StoreError(
                f"{path} was not written by {PROGRAM}; choose another --out (its files are left untouched)"
            )


def check_writable(folder: Path) -> None:
    """Raise StoreError unless `folder` can be created (or used) without touching anything else."""
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} exists and is a file, not a folder")
    if folder.is_dir():
        check_ours(folder)
        target = folder
    else:
        target = folder.parent
        while not target.exists():
            target = target.parent
        if not target.is_dir():
            raise StoreError(f"cannot create {folder}: {target} is not a folder")
    if not os.access(target, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write to {target} (permission denied)")


# --- the lock: one run writes a folder at a time -----------------------------------------------

_held: dict[Path, list] = {}   # folder -> [fd, depth]: this process's locks, re-entrant
_held_guard = threading.Lock()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder_text(info: dict) -> str:
    command = " ".join(map(str, info.get("command") or [])) or "unknown command"
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started_utc', '?')}: "
            f"{command}")


def _try_flock(fd: int) -> bool | None:
    """True if locked, False if another process holds it, None where the filesystem has no locks."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            return None
        raise


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 65536).decode("utf-8") or "{}")
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def locked(folder: Path, command: list[str] | None = None) -> Iterator[None]:
    """Hold the folder's lock: another run into it is refused (FolderInUse) until this one ends.

    An flock on `.lock` is released by the kernel when its process dies, however it dies, so a
    killed run never blocks the next one. Where the filesystem has no locks, the pid recorded in
    the file decides: a lock whose pid is dead on this host is stale and taken over.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    fd = _acquire(folder / LOCK, command)
    with _held_guard:
        _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            del _held[key]
        with contextlib.suppress(OSError):
            os.unlink(folder / LOCK)
        os.close(fd)


def _acquire(path: Path, command: list[str] | None) -> int:
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": list(command) if command else [Path(sys.argv[0]).name, *sys.argv[1:]]}
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        got = _try_flock(fd)
        if got is False:
            holder = _read_holder(fd)
            os.close(fd)
            raise FolderInUse(
                f"{path.parent} is being written by another run ({_holder_text(holder)}); wait for it to finish, "
                "or choose another --out"
            )
        if got is None:
            holder = _read_holder(fd)
            pid = holder.get("pid")
            if (isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid)
                    and holder.get("host") == socket.gethostname()):
                os.close(fd)
                raise FolderInUse(f"{path.parent} is being written by another run ({_holder_text(holder)}); "
                                  "wait for it to finish, or choose another --out")
        # The holder before us may have removed the file between our open and our lock: then we
        # locked a file nobody else can see, and must lock the one at the path instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode("utf-8"))
        return fd
    raise FolderInUse(f"{path.parent}: could not take its lock ({path}); another run keeps replacing it")


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
        """The manifest, None if there is none; DamagedFolder if it cannot be read or is not ours."""
        path = self.folder / MANIFEST
        if not path.exists():
            return None
        manifest = _read_json(path)
        if not is_ours(manifest):
            raise StoreError(f"{path} was not written by {PROGRAM}; choose another --out (its files are left "
                             "untouched)")
        return manifest

    def start(self, manifest: dict, resume: bool) -> set[tuple[str, int]]:
        """Prepare the folder for a run; return the (role, replication) parts already finished.

        Without `resume`, results of an earlier run are removed first. With it, the folder must
        hold the same run (same identity in the manifest), and finished parts are kept after
        their checksums are checked. The caller holds the folder's lock.
        """
        check_ours(self.folder)
        existing = self.read_manifest() if resume else None
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
        finished = self.finished_parts()
        if resume:
            self.check_parts(finished)
        # Whatever the earlier run left beside its parts (tables, report) is not this run's.
        for name in OWN_FILES - {MANIFEST, PARTS}:
            self._remove(self.folder / name)
        atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        return finished

    def same_run(self, manifest: dict) -> bool:
        """Whether the folder's manifest describes the same run (its results can be reused)."""
        existing = self.read_manifest() or {}
        # Through JSON, so tuples and lists (or int and str keys) compare as they are stored.
        return existing.get("identity") == json.loads(json.dumps(manifest["identity"]))

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every file a run of this program writes; COMPLETE first, so the folder never looks complete."""
        if not self.folder.is_dir():
            return
        (self.folder / COMPLETE).unlink(missing_ok=True)
        for name in sorted(OWN_FILES):
            self._remove(self.folder / name)

    def finished_parts(self) -> set[tuple[str, int]]:
        done = set()
        if not self.parts.is_dir():
            return done
        for path in self.parts.iterdir():
            role, _, rep = path.name.rpartition("-")
            if path.is_dir() and not path.name.startswith(".") and rep.isdigit():
                done.add((role, int(rep)))
        return done

    def _part_problem(self, folder: Path) -> str | None:
        """What is wrong with a finished part folder, or None if every table is there and unchanged."""
        sums_path = folder / PART_SUMS
        try:
            sums = json.loads(sums_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            sums = None  # written before parts carried checksums: read the tables instead
        except (UnicodeDecodeError, ValueError):
            return f"its {PART_SUMS} cannot be read"
        for name in TABLES:
            path = folder / f"{name}.parquet"
            if not path.exists():
                return f"{name}.parquet is missing"
            if sums is None:
                try:
                    pd.read_parquet(path)
                except Exception as exc:  # pyarrow raises many kinds; all mean the file is damaged
                    return f"{name}.parquet cannot be read ({type(exc).__name__})"
            elif sha256_file(path) != sums.get(f"{name}.parquet"):
                return f"{name}.parquet does not match its checksum (cut short or changed)"
        return None

    def check_parts(self, finished: set[tuple[str, int]]) -> None:
        """DamagedFolder naming every damaged part, and what to do, before anything runs."""
        damaged = []
        for role, rep in sorted(finished):
            folder = self.parts / part_name(role, rep)
            problem = self._part_problem(folder)
            if problem:
                damaged.append((folder, problem))
        if damaged:
            listed = "; ".join(f"{folder}: {problem}" for folder, problem in damaged[:5])
            more = f" (and {len(damaged) - 5} more)" if len(damaged) > 5 else ""
            raise DamagedFolder(
                f"{len(damaged)} finished replication{'s' if len(damaged) > 1 else ''} in {self.folder} "
                f"{'are' if len(damaged) > 1 else 'is'} damaged: {listed}{more}. Delete "
                f"{'those part folders' if len(damaged) > 1 else 'that part folder'} and run again with --resume "
                "to recompute only them, or run again without --resume to start afresh"
            )

    def write_part(self, role: str, replication: int, tables: dict[str, pd.DataFrame]) -> None:
        """Write one replication's tables and their checksums into a hidden folder, then rename it into place."""
        final = self.parts / part_name(role, replication)
        tmp = self.parts / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()
        try:
            sums = {}
            for name in TABLES:
                path = tmp / f"{name}.parquet"
                tables[name].to_parquet(path, index=False)
                _fsync_file(path)
                sums[path.name] = sha256_file(path)
            with open(tmp / PART_SUMS, "w", encoding="utf-8") as f:
                json.dump(sums, f, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            fsync_folder(tmp)
            if final.exists():  # a replication computed twice (e.g. two resumed runs) is identical
                shutil.rmtree(final)
            os.replace(tmp, final)
            fsync_folder(self.parts)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

    def read_part(self, role: str, replication: int) -> dict[str, pd.DataFrame]:
        folder = self.parts / part_name(role, replication)
        try:
            return {name: normalise(name, pd.read_parquet(folder / f"{name}.parquet")) for name in TABLES}
        except Exception as exc:  # damaged since it was checked: say which part, never a pyarrow traceback
            raise DamagedFolder(
                f"{folder} is damaged ({type(exc).__name__}: {exc}). Delete that part folder and run again with "
                "--resume to recompute it"
            ) from None

    def finish(self, resultset: ResultSet, manifest: dict, extra_csv: dict[str, pd.DataFrame],
               before_complete: Callable[[], None] | None = None) -> None:
        """Write the tables, CSVs, anything `before_complete` adds, the manifest with every file's
        checksum, then the COMPLETE marker, then drop the parts."""
        for name in TABLES:
            atomic_write_parquet(self.folder / f"{name}.parquet", getattr(resultset, name))
        for name, frame in extra_csv.items():
            atomic_write_csv(self.folder / name, frame)
        if before_complete is not None:
            before_complete()
        manifest["program"] = PROGRAM
        manifest["files"] = self.checksums()
        atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        atomic_write_text(self.folder / COMPLETE, manifest.get("finished_utc", "") + "\n")
        shutil.rmtree(self.parts, ignore_errors=True)

    def refinish(self, manifest: dict, write: Callable[[], None], command: list[str] | None = None) -> None:
        """Rewrite some files of a complete folder: unmarked while `write` runs, then checksummed and marked again."""
        with locked(self.folder, command):
            (self.folder / COMPLETE).unlink(missing_ok=True)
            fsync_folder(self.folder)
            write()
            manifest["files"] = self.checksums()
            atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
            atomic_write_text(self.folder / COMPLETE, manifest.get("finished_utc", "") + "\n")

    def checksums(self) -> dict[str, str]:
        """SHA-256 of every result file now in the folder, by path relative to it."""
        out = {}
        for path in sorted(self.folder.rglob("*")):
            relative = path.relative_to(self.folder)
            if (not path.is_file() or any(part.startswith(".") for part in relative.parts)
                    or relative.parts[0] in (MANIFEST, COMPLETE, PARTS)):
                continue
            out[relative.as_posix()] = sha256_file(path)
        return out

    def verify(self, manifest: dict) -> None:
        """DamagedFolder naming every file that is missing or changed since the manifest recorded it."""
        damaged = []
        for name, digest in sorted((manifest.get("files") or {}).items()):
            path = self.folder / name
            if not path.is_file():
                damaged.append(f"{name} is missing")
            elif sha256_file(path) != digest:
                damaged.append(f"{name} does not match its checksum (cut short or changed since the run wrote it)")
        if damaged:
            raise DamagedFolder(f"{self.folder} is damaged: {'; '.join(damaged)}. The results cannot be trusted: "
                                "run the same command again (without --resume) to recompute them")


def load(folder: str | Path) -> ResultSet:
    """Read a complete results folder back as a ResultSet, checking every file against its checksum.

    Raises StoreError (DamagedFolder when files are missing, cut short or changed), never a
    pyarrow or JSON error.
    """
    folder = Path(folder)
    store = Store(folder)
    if not folder.is_dir():
        raise StoreError(f"{folder}: no such results folder")
    manifest = store.read_manifest()
    if manifest is None:
        raise StoreError(f"{folder}: no {MANIFEST}; not a results folder")
    if not store.is_complete():
        raise StoreError(f"{folder}: the run did not finish (no {COMPLETE} marker); finish it with --resume")
    store.verify(manifest)
    try:
        scenarios = {
            role: validate(entry["resolved"], entry.get("file") or f"<{role} in {folder / MANIFEST}>")
            for role, entry in manifest["scenarios"].items()
        }
    except (KeyError, TypeError, AttributeError, ScenarioError) as exc:
        raise DamagedFolder(f"{folder / MANIFEST} is damaged: its scenarios cannot be read ({type(exc).__name__}: "
                            f"{exc}); run the same command again (without --resume) to recompute the results") from None
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        try:
            tables[name] = normalise(name, pd.read_parquet(path))
        except Exception as exc:  # pyarrow and OS errors alike: the file is not a whole table
            raise DamagedFolder(f"{path} cannot be read ({type(exc).__name__}: {exc}); run the same command again "
                                "(without --resume) to recompute the results") from None
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
