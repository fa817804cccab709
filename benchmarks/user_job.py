"""The user's question: how long the README's main command takes, start to finish, as a user runs it.

    python run_scenario.py scenarios/connect.yaml --compare scenarios/baseline.yaml

It runs with its defaults, except that its results folder goes to a
temporary directory (the benchmark never writes into results/).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ("run_scenario.py", "scenarios/connect.yaml", "--compare", "scenarios/baseline.yaml")
QUICK = ("--horizon", "20", "--warmup", "0", "--replications", "3", "--no-report")


@dataclass(frozen=True)
class UserJob:
    command: str
    available: bool
    wall_seconds: float | None = None
    exit_status: int | None = None
    note: str = ""


def measure(quick: bool) -> UserJob:
    missing = [name for name in COMMAND if name.endswith((".py", ".yaml")) and not (ROOT / name).exists()]
    shown = "python " + " ".join(COMMAND)
    if missing:
        return UserJob(shown, False, note="not available yet: " + ", ".join(missing) + " missing")
    extra = QUICK if quick else ()
    with tempfile.TemporaryDirectory(prefix="bench-user-job-") as out:
        args = [sys.executable, *COMMAND, *extra, "--out", str(Path(out) / "results")]
        start = time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    note = "quick: " + " ".join(QUICK) if quick else "defaults"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        note = f"failed (exit {done.returncode}): {last}"
    return UserJob(shown, True, seconds, done.returncode, note)
