"""`python -m benchmarks.fit --quick` runs end to end (a small system; no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_fit_benchmark_runs():
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    match = re.search(r"2 year\(s\), ([\d,]+) rows: fit ([\d.]+) s of CPU .* ratio ([\d.]+), peak memory (\d+) MB", line)
    assert match, line
    assert int(match[1].replace(",", "")) > 5000 and float(match[3]) > 0 and int(match[4]) > 0
    assert "target" not in line  # quick mode measures nothing, so it judges no target
