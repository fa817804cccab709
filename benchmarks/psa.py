"""How fast a probabilistic sensitivity analysis of the Connect comparison runs, and what 200 sets would take.

    python -m benchmarks.psa                 # 4 parameter sets of scenarios/connect-psa.yaml vs the baseline
    python -m benchmarks.psa --samples 8     # more sets: a steadier figure
    python -m benchmarks.psa --quick         # tiny horizon: a smoke test, not a measurement

A full 200-set run is too heavy for a shared build machine, so this measures a
few sets in this process (serial executor, CPU time of this process) and
projects. Two figures, each against a reference run in the same process:

- the PSA's CPU per simulated run (a set's scenario or comparator, one
  replication) as a ratio to one plain replication of the same scenario
  (`run_one`, the executor's unit of work): what the PSA adds on top of the
  model (building sets, storing parts, the headline tables, the emulators);
- runs per CPU-second, and the projected wall time of 200 sets x 1 replication
  on 2 cores: 300 runs (each set's Connect, and one baseline for each pair of
  sets, since the baseline differs between sets only in unit costs and is
  re-priced) at the measured CPU per run, spread over two
  cores at the parallel efficiency given (default 0.85, the target row 4 of
  `python -m benchmarks` checks), plus the summary and sensitivity stages,
  which run in the main process and grow with the sets (measured per set here).

The 15-minute target of 200 sets on a two-core laptop is met when the
projection is below 900 s. The figure depends on this machine and its load
now; docs/psa.md records a measurement.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.executors import SerialExecutor, run_one, scenario_json
from sim.psa import summary as psa_summary
from sim.psa.run import global_sensitivity, run_psa
from sim.scenario import load_scenario
from sim.scenario.loading import load_comparator

ROOT = Path(__file__).resolve().parent.parent
CONNECT_PSA = ROOT / "scenarios" / "connect-psa.yaml"
TARGET_SETS, TARGET_CORES, TARGET_SECONDS = 200, 2, 900.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sensitivity_at(sets: int, inputs: int, targets: int, seed: int) -> float:
    """CPU seconds of the sensitivity stage (an emulator, Morris and Sobol per target) at `sets` sets, on
    synthetic outputs (a smooth function of three inputs plus noise): it does not depend on the model."""
    rng = np.random.default_rng(seed)
    unit = rng.random((sets, inputs))
    rows = []
    for t in range(targets):
        y = 3 * unit[:, 0] + unit[:, 1] ** 2 + 0.5 * unit[:, 2] + rng.normal(0, 0.3, sets)
        rows += [{"set": i, "measure": f"target {t}", "value": float(v)} for i, v in enumerate(y)]
    draws = SimpleNamespace(unit=unit, names=[f"x{j}" for j in range(inputs)])
    start = _cpu()
    global_sensitivity(draws, pd.DataFrame(rows), seed)
    return _cpu() - start


def measure(samples: int, quick: bool = False, efficiency: float = 0.85) -> dict:
    scenario = load_scenario(CONNECT_PSA)
    comparator = load_comparator(scenario)
    if quick:
        scenario = scenario.with_changes({"run.horizon_days": 5, "run.warmup_days": 0})
    comparator = comparator.with_changes({"run": scenario.resolved["run"]})

    # Reference: one replication of the scenario and one of its comparator, as the executor runs them.
    start = _cpu()
    for s in (scenario.with_changes({"uncertainty": None}), comparator):
        run_one(scenario_json(s), "reference", 0, s.run.seed)
    reference_per_run = (_cpu() - start) / 2

    with tempfile.TemporaryDirectory() as folder:
        start, wall = _cpu(), time.perf_counter()
        result = run_psa(scenario, comparator, samples, Path(folder) / "psa", executor=SerialExecutor(),
                         sensitivity=samples > len(scenario.uncertainty.parameters))
        total_cpu, total_wall = _cpu() - start, time.perf_counter() - wall
    # The summary and sensitivity stages, timed apart (made again from the run's results): they run in the
    # main process whatever the executor, and grow with the sets (taken as linear: the emulator's own fit,
    # cubic in the sets, is small at 200).
    post_start = _cpu()
    per_set, headlines = psa_summary.per_set_tables(result.resultset, result.draws, result.scenarios,
                                                    result.simulated)
    if result.sensitivity:
        global_sensitivity(result.draws, psa_summary.sensitivity_targets(scenario, headlines), scenario.run.seed)
    post_per_set = (_cpu() - post_start) / samples
    runs = len(result.resultset.scenarios)   # sets whose comparator differs only in prices share one
    simulation_cpu = max(total_cpu - post_per_set * samples, 1e-9)
    per_run = simulation_cpu / runs
    targets = psa_summary.sensitivity_targets(scenario, headlines)["measure"].nunique()
    sensitivity_cpu = _sensitivity_at(20 if quick else TARGET_SETS, len(result.draws.names), targets, scenario.run.seed)
    runs_at_target = TARGET_SETS * runs / samples
    projected = ((runs_at_target * per_run) / (TARGET_CORES * efficiency) + TARGET_SETS * post_per_set
                 + sensitivity_cpu)
    return {
        "samples": samples, "runs": runs, "runs_at_200_sets": runs_at_target, "quick": quick,
        "reference_cpu_per_run_s": reference_per_run,
        "psa_cpu_s": total_cpu, "psa_wall_s": total_wall,
        "psa_cpu_per_run_s": per_run,
        "psa_overhead_ratio": per_run / reference_per_run,
        "runs_per_cpu_second": runs / total_cpu,
        "summary_cpu_per_set_s": post_per_set,
        "sensitivity_cpu_at_200_sets_s": sensitivity_cpu, "sensitivity_targets": int(targets),
        "assumed_parallel_efficiency": efficiency,
        "projected_200_sets_2_cores_s": projected,
        "target_s": TARGET_SECONDS,
        # The plain run's CPU at which 200 sets take exactly the target, at this overhead ratio: a laptop
        # whose plain run of Connect (warm-up and a measured year) is faster meets it.
        "break_even_reference_cpu_per_run_s": (TARGET_SECONDS - TARGET_SETS * post_per_set - sensitivity_cpu)
        * TARGET_CORES * efficiency
        / (runs_at_target * per_run / reference_per_run),
        "met": None if quick else projected <= TARGET_SECONDS,
        "headline_rows": len(headlines), "kpi_rows": len(per_set),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.psa", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--efficiency", type=float, default=0.85)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "psa.json")
    args = parser.parse_args(argv)
    figures = measure(args.samples, args.quick, args.efficiency)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"PSA of the Connect comparison, {figures['samples']} sets x 1 replication: {figures['runs']} runs "
          f"({'quick: not a measurement' if args.quick else 'measured in this process'}):")
    print(f"  one plain run (reference): {figures['reference_cpu_per_run_s']:.2f} CPU-s")
    print(f"  PSA CPU per run: {figures['psa_cpu_per_run_s']:.2f} s = {figures['psa_overhead_ratio']:.2f} x the reference;"
          f" {figures['runs_per_cpu_second']:.3f} runs per CPU-second")
    print(f"  summary tables: {figures['summary_cpu_per_set_s']:.2f} CPU-s per set; sensitivity stage at 200 sets "
          f"({figures['sensitivity_targets']} emulators): {figures['sensitivity_cpu_at_200_sets_s']:.0f} CPU-s")
    print(f"  projected: 200 sets ({figures['runs_at_200_sets']:.0f} runs) on 2 cores at efficiency {args.efficiency:.2f}: "
          f"{figures['projected_200_sets_2_cores_s'] / 60:.1f} min (target {TARGET_SECONDS / 60:.0f} min)")
    print(f"  the target is met where one plain run takes under {figures['break_even_reference_cpu_per_run_s']:.2f} "
          "CPU-s")
    print(f"Written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
