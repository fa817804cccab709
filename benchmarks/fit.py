"""Fitting a large system's records: time and memory against a reference that does the least such a fit must.

    python -m benchmarks.fit                 # one and four years of the 1.2m baseline's records
    python -m benchmarks.fit --years 1       # one year only
    python -m benchmarks.fit --quick         # a small system, to check the benchmark runs (no measurement)

The records are the baseline's own (run_scenario.py synthesize): one year
is about 52,000 acute admissions and their onward episodes, some 69,000
rows; four years about 280,000. The fit runs in a fresh process, as the
command line runs it, so its peak memory is its own. The reference, timed
in that same process on the same file (CPU time of the process, which a
shared machine disturbs least), is the floor of any such fit: read
the CSV with pandas and fit one lognormal per service with scipy. The ratio
fit / reference is what to compare between machines; the target is the
issue's: under 30 seconds and under 1 GB for a year of the 1.2m system
(a few hundred thousand rows).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = ROOT / "examples" / "small-system.yaml"


def make_records(scenario: Path, years: int, folder: Path) -> tuple[Path, Path]:
    from sim.records.synthesize import synthesize
    from sim.scenario import load_scenario

    base = load_scenario(scenario)
    base = base.with_changes({"run.horizon_days": 365 * years})
    episodes, census = synthesize(base)
    paths = folder / f"episodes-{years}y.csv", folder / f"census-{years}y.csv"
    episodes.to_csv(paths[0], index=False)
    census.to_csv(paths[1], index=False)
    return paths


def child(records: str, census: str, out: str) -> None:
    """In a fresh process: the reference, then the fit; print seconds and peak memory as JSON."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    from sim.records.commands import fit_files

    def reference() -> None:
        frame = pd.read_csv(records, dtype=str, keep_default_na=False)
        for _, rows in frame.groupby("service"):
            ready = pd.to_datetime(rows["ready"].where(rows["ready"] != ""), format="ISO8601")
            arrived = pd.to_datetime(rows["arrived"], format="ISO8601")
            days = ((ready - arrived).dt.total_seconds() / 86400).dropna().to_numpy()
            stats.lognorm.fit(np.maximum(days, 1e-3), floc=0)

    start = time.process_time()
    reference()
    reference_seconds = time.process_time() - start
    start, wall = time.process_time(), time.perf_counter()
    fitted = fit_files(Path(records), Path(out), Path(census))
    fit_seconds, wall_seconds = time.process_time() - start, time.perf_counter() - wall
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(records, encoding="utf-8") as lines:
        rows = sum(1 for _ in lines) - 1
    print(json.dumps({"rows": rows, "fit_seconds": fit_seconds, "reference_seconds": reference_seconds,
                      "ratio": fit_seconds / reference_seconds, "peak_mb": peak_mb, "wall_seconds": wall_seconds,
                      "services": len(fitted.scenario["services"])}))


def measure(records: Path, census: Path, folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit", "--child", str(records), str(census),
                           str(folder / "fitted.yaml")], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the fit failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fit")
    p.add_argument("--years", type=int, nargs="*", default=[1, 4])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # quick: two years of the small example system (one year has too few care-home stays that end to fit)
        for years in ([2] if args.quick else args.years):
            records, census = make_records(SMALL if args.quick else BASELINE, years, folder)
            row = measure(records, census, folder)
            met = "" if args.quick else ("  (target: under 30 s and 1 GB: met)" if row["fit_seconds"] < 30 and
                                         row["peak_mb"] < 1024 else "  (target: under 30 s and 1 GB: NOT met)")
            print(f"{years} year(s), {row['rows']:,} rows: fit {row['fit_seconds']:.1f} s of CPU "
                  f"({row['wall_seconds']:.1f} s elapsed), reference (read + one lognormal per service) "
                  f"{row['reference_seconds']:.1f} s, ratio {row['ratio']:.1f}, peak memory {row['peak_mb']:.0f} MB{met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
