"""Where one replication's time goes: SimPy's engine, the model's own code, numpy, the rest.

    python -m benchmarks.profile                  # the baseline, 120 measured days
    python -m benchmarks.profile --days 365 --top 25

The evidence for what bounds speed: under cProfile (which inflates small
functions, so read shares, not seconds), each function's own time is put
in the group of the file it is defined in.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.measure.collect import run_replication
from sim.scenario import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
GROUPS = (
    ("SimPy engine (events, processes, heap)", ("simpy/",)),
    ("the model (sim/)", ("/sim/",)),
    ("numpy, pandas, scipy", ("numpy/", "pandas/", "scipy/")),
)


def group_of(filename: str, function: str) -> str:
    if filename == "~":  # built-ins: SimPy's heap operations are the bulk of them
        return GROUPS[0][0] if function.startswith("<built-in method _heapq") else "other"
    for name, markers in GROUPS:
        if any(marker in filename for marker in markers):
            return name
    return "other"


def profile(days: int) -> pstats.Stats:
    scenario = load_scenario(BASELINE).with_changes({"run.horizon_days": days, "run.warmup_days": 0})
    profiler = cProfile.Profile()
    profiler.enable()
    run_replication(scenario, 0)  # simulate, collect, check: a replication as real runs do it
    profiler.disable()
    return pstats.Stats(profiler)


def shares(stats: pstats.Stats) -> dict[str, float]:
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, own, _, _) in stats.stats.items():
        group = group_of(filename, function)
        totals[group] = totals.get(group, 0.0) + own
    whole = sum(totals.values())
    return {group: seconds / whole for group, seconds in sorted(totals.items(), key=lambda kv: -kv[1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=120, help="measured days of the baseline (no warm-up)")
    parser.add_argument("--top", type=int, default=15, help="functions to list by own time")
    args = parser.parse_args(argv)
    stats = profile(args.days)
    console = Console(width=max(Console().width, 110))
    table = Table(title=f"Own time by group, baseline, {args.days} days (under cProfile)")
    table.add_column("group")
    table.add_column("share", justify="right")
    for group, share in shares(stats).items():
        table.add_row(group, f"{share:.0%}")
    console.print(table)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
