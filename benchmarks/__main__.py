"""Measure the simulator's speed against references it runs itself, on this machine, now.

    python -m benchmarks            # the full run, a few minutes
    python -m benchmarks --quick    # every row, on tiny workloads (a smoke test, not a measurement)

Prints a table and writes benchmarks/out/latest.json. Ratios are what to
compare between machines; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import five_year, mmc, scaling, user_job
from benchmarks.timing import interleaved_best
from benchmarks.whole_system import measure_in_worker
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
# The main job's replications (tasks.py MAIN_JOB): five measured years each.
MAIN_JOB_REPLICATIONS = 3
BASELINE = ROOT / "scenarios" / "baseline.yaml"
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "latest.json"


@dataclass(frozen=True)
class Workloads:
    queue: mmc.Queue
    queue_repeats: int
    year_changes: dict
    year_repeats: int
    scaling_changes: dict
    scaling_replications: int
    spin: int  # iterations of the plain CPU loop that shows what parallelism the machine allows now


FULL = Workloads(
    queue=mmc.Queue(arrivals_per_day=100, mean_stay_days=1.0, beds=110, days=300),
    queue_repeats=7,
    year_changes={},  # the calibrated baseline as it is: warm-up and one measured year
    year_repeats=3,
    scaling_changes={"run.horizon_days": 120, "run.warmup_days": 30},
    scaling_replications=8,
    spin=20_000_000,
)
QUICK = Workloads(
    queue=mmc.Queue(arrivals_per_day=100, mean_stay_days=1.0, beds=110, days=5),
    queue_repeats=1,
    year_changes={"run.horizon_days": 5, "run.warmup_days": 0},
    year_repeats=1,
    scaling_changes={"run.horizon_days": 3, "run.warmup_days": 0},
    scaling_replications=2,
    spin=100_000,
)


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target, or not measured


def queue_rows(work: Workloads) -> tuple[list[Row], dict]:
    seed = 20190401
    scenario = mmc.as_scenario(load_scenario(BASELINE), work.queue, seed)
    best = interleaved_best(
        {
            "model": lambda: mmc.run_model(scenario),
            "simpy": lambda: mmc.run_simpy(work.queue, seed),
            "ciw": lambda: mmc.run_ciw(work.queue, seed),
        },
        work.queue_repeats,
    )
    rate = {name: run.patients / seconds for name, (seconds, run) in best.items()}
    overhead = rate["simpy"] / rate["model"]
    versus_ciw = rate["model"] / rate["ciw"]
    queue = f"M/M/{work.queue.beds}, {work.queue.utilisation:.0%} busy, {work.queue.days:g} days"
    rows = [
        Row("1 engine overhead", f"our model as {queue}", rate["model"], "patients/s"),
        Row("1 engine overhead", "plain SimPy, same queue", rate["simpy"], "patients/s"),
        Row("1 engine overhead", "model time / SimPy time", overhead, "x", "<= 1.25", overhead <= 1.25),
        Row("2 peer", "Ciw, same queue", rate["ciw"], "patients/s"),
        Row("2 peer", "Ciw time / model time", versus_ciw, "x", ">= 2", versus_ciw >= 2),
    ]
    detail = {name: {"cpu_seconds": seconds, **asdict(run), "patients_per_second": rate[name]}
              for name, (seconds, run) in best.items()}
    return rows, {"queue": asdict(work.queue), "runs": detail}


def year_rows(work: Workloads) -> tuple[list[Row], dict]:
    year = measure_in_worker(BASELINE, work.year_changes, work.year_repeats)
    years = year.simulated_days / 365.0
    per_year = year.seconds_per_simulated_year
    rows = [
        Row("3 whole system", "baseline, one core", per_year, "s / simulated year", "<= 1", per_year <= 1.0),
        Row("3 whole system", "patients", year.patients / years, "/ simulated year"),
        Row("3 whole system", "events", year.events / years, "/ simulated year"),
        Row("3 whole system", "peak memory of the worker", year.peak_rss_mb, "MB"),
        Row("3 whole system", "of which the replication's own data", year.model_peak_mb, "MB"),
    ]
    return rows, {**asdict(year), "seconds_per_simulated_year": per_year}


def five_year_rows(quick: bool) -> tuple[list[Row], dict]:
    result = five_year.measure(quick)
    replications = MAIN_JOB_REPLICATIONS
    seconds = result.main_job_seconds(replications)
    rows = [
        Row("3b five years", "Connect and baseline, simulated years per CPU second", result.years_per_cpu_second,
            "years / CPU s"),
        Row("3b five years", "CPU a simulated year, five-year run / one-year run", result.cost_ratio, "ratio",
            "<= 1.2", result.cost_ratio <= 1.2),
        Row("3b five years", f"main job's simulation, {replications} replications, two free cores", seconds, "s",
            "< 50", seconds < 50),
    ]
    return rows, five_year.as_dict(result)


def scaling_rows(work: Workloads) -> tuple[list[Row], dict]:
    scenario = load_scenario(BASELINE).with_changes(work.scaling_changes)
    result = scaling.measure(scenario, work.scaling_replications, spin=work.spin)
    rows = [
        Row("4 scaling", "1 worker", result.rate_one, "replications/s"),
        Row("4 scaling", f"{result.cores} workers", result.rate_all, "replications/s"),
        Row("4 scaling", "parallel efficiency", result.efficiency, "share", ">= 0.85", result.efficiency >= 0.85),
        Row("4 scaling", "control: a plain CPU loop, same cores, now", result.machine_efficiency, "share"),
        Row("4 scaling", "same results whatever the workers", float(result.identical), "1 = yes", "1",
            result.identical),
    ]
    return rows, {**asdict(result), "efficiency": result.efficiency}


def user_rows(quick: bool) -> tuple[list[Row], dict]:
    job = user_job.measure(quick)
    ok = job.available and job.exit_status == 0
    measure = "README main job, connect vs baseline" + ("" if ok else f" ({job.note})")
    row = Row("5 user's question", measure, job.wall_seconds if ok else None, "s wall", "< 60",
              (job.wall_seconds < 60) if ok else None)
    return [row], asdict(job)


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "commit": commit,
    }


def show(rows: list[Row], console: Console) -> None:
    table = Table(title="Simulator performance (ratios are the figures to compare)")
    for column in ("section", "measure", "value", "unit", "target", "met"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in rows:
        value = "n/a" if row.value is None else f"{row.value:,.3g}" if abs(row.value) < 100 else f"{row.value:,.0f}"
        met = "" if row.met is None else "yes" if row.met else "NO"
        table.add_row(row.section, row.measure, value, row.unit, row.target, met)
    console.print(table)


def write_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(data, handle, indent=2, default=str)
        temporary = Path(handle.name)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads: checks every row runs, measures nothing")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write (default: %(default)s)")
    args = parser.parse_args(argv)
    work = QUICK if args.quick else FULL
    console = Console(width=max(Console().width, 110))
    load_before = os.getloadavg()
    rows: list[Row] = []
    details: dict = {}
    for name, measure in (
        ("engine_and_peer", lambda: queue_rows(work)),
        ("whole_system", lambda: year_rows(work)),
        ("five_years", lambda: five_year_rows(args.quick)),
        ("scaling", lambda: scaling_rows(work)),
        ("user_job", lambda: user_rows(args.quick)),
    ):
        with console.status(f"measuring {name.replace('_', ' ')}..."):
            section_rows, details[name] = measure()
        rows += section_rows
    if args.quick:  # tiny workloads measure nothing: show the targets, judge none
        rows = [replace(row, met=None) for row in rows]
    show(rows, console)
    report = {
        "quick": args.quick,
        "machine": {**machine(), "load_average_before": load_before},
        "rows": [asdict(row) for row in rows],
        "details": details,
    }
    write_atomically(args.out, report)
    console.print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
