#!/usr/bin/env python
"""Run a scenario (and compare it with another), print key results with 95% CIs, write a results folder.

    python run_scenario.py scenarios/connect.yaml --compare scenarios/baseline.yaml
    python run_scenario.py scenarios/baseline.yaml --precision 0.05 --max-replications 50
    python run_scenario.py scenarios/connect.yaml --shard 0/4 --out results/connect-shard-0
    python run_scenario.py merge results/connect-shard-* --out results/connect
    python run_scenario.py crn scenarios/connect.yaml --compare scenarios/baseline.yaml
    python run_scenario.py fit RECORDS.csv --census CENSUS.csv --out my-system.yaml   (docs/records.md)
    python run_scenario.py synthesize scenarios/baseline.yaml --out records.csv --census census.csv
    python run_scenario.py template --excel my-system.xlsx    (a scenario as a workbook; docs/excel.md)
    python run_scenario.py calibrate scenarios/baseline.yaml --targets scenarios/calibration/targets.yaml --out DIR
    python run_scenario.py psa scenarios/connect-psa.yaml --compare scenarios/baseline.yaml --samples 200

Exit status: 0 done; 1 the run failed; 2 bad input (nothing written); 130 interrupted
(finished replications are kept: run again with --resume).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from pathlib import Path

from rich.console import Console

BAD_INPUT = 2
RESULTS = Path("results")


class BadInput(Exception):
    """An option or file the run cannot use; the message says which and why."""


class _Parser(argparse.ArgumentParser):
    """Option errors as one line blaming the option (`error: --horizon: ...`), exit status 2, no usage dump."""

    def error(self, message: str):
        message = re.sub(r"^argument (-[^/:\s]+)(/[^:\s]+)?: ", r"\1: ", message)
        if message.startswith(("unrecognized arguments", "the following arguments are required")):
            message += f" (see {self.prog} --help)"
        raise BadInput(message)


def _positive(name: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value
    return parse


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number such as 0.05, not '{text}'") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"is a share of the mean between 0 and 1 (0.05 = 5%), not {value}")
    return value


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"must look like i/n (e.g. 0/4), not '{text}'")
    index, count = int(match[1]), int(match[2])
    if count < 1 or index >= count:
        raise argparse.ArgumentTypeError(f"{text}: the index i runs from 0 to n-1")
    return index, count


def _dask(text: str) -> str:
    if text == "local" or re.fullmatch(r"(tcp|tls)://[\w.\-\[\]:]+:\d+", text):
        return text
    raise argparse.ArgumentTypeError(f"must be 'local' or a scheduler address like tcp://host:8786, not '{text}'")


def run_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run_scenario.py",
        description="Run a care-pathway scenario and write its results folder. "
                    "Subcommands: 'merge DIR... --out DIR' joins shards; 'crn SCENARIO --compare OTHER' "
                    "measures what common random numbers gain.",
    )
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--compare", type=Path, metavar="OTHER.yaml", help="comparator scenario (default: its comparator:)")
    p.add_argument("--no-compare", action="store_true", help="ignore the scenario's comparator:")
    count = p.add_mutually_exclusive_group()
    count.add_argument("--replications", "-r", type=_positive("--replications"), metavar="N",
                       help="number of replications (default: the scenario's run.replications)")
    count.add_argument("--precision", type=_share, metavar="SHARE",
                       help="add replications until every chosen KPI's 95%% CI half-width is within "
                            "this share of its mean (e.g. 0.05)")
    p.add_argument("--max-replications", type=_positive("--max-replications", 3), default=50, metavar="N",
                   help="cap for --precision (default 50)")
    p.add_argument("--precision-kpis", metavar="KPI,KPI", help="KPIs --precision watches (default: the admissions "
                   "and occupancy of the first bed-based service people meet, delayed bed-days, total cost)")
    p.add_argument("--seed", type=_positive("--seed", 0), metavar="S", help="random seed (default: run.seed)")
    p.add_argument("--horizon", type=_positive("--horizon"), metavar="DAYS", help="measured period, days")
    p.add_argument("--warmup", type=_positive("--warmup", 0), metavar="DAYS", help="warm-up before measuring, days")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="results folder (default: results/<scenario>[-vs-<comparator>])")
    p.add_argument("--workers", type=_positive("--workers"), metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--dask", type=_dask, metavar="local|tcp://HOST:PORT",
                   help="run on Dask: 'local' starts a cluster on this machine (loopback), or join a scheduler")
    p.add_argument("--shard", type=_shard, metavar="i/n", help="run only replications r with r %% n == i")
    p.add_argument("--resume", action="store_true", help="keep replications an interrupted run finished")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.add_argument("--excel", action="store_true", help="also write the results as one workbook, results.xlsx")
    p.add_argument("--allow-large", action="store_true",
                   help="run even if the estimated memory or CPU time is above the limits (see sim/budget.py)")
    return p


def merge_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run_scenario.py merge", description="Join shards' results folders into one.")
    p.add_argument("folders", type=Path, nargs="+", help="results folders written with --shard")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the joined results")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    return p


def crn_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run_scenario.py crn",
                                description="Variance of paired differences with common random numbers "
                                            "against independent streams.")
    p.add_argument("scenario", type=Path)
    p.add_argument("--compare", type=Path, required=True, metavar="OTHER.yaml")
    p.add_argument("--replications", "-r", type=_positive("--replications", 3), default=20, metavar="N")
    p.add_argument("--workers", type=_positive("--workers"), metavar="N")
    return p


def psa_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run_scenario.py psa",
                description="Probabilistic sensitivity analysis: parameter sets drawn from the scenario's "
                            "uncertainty:, each run against the comparator on common random numbers (docs/psa.md).")
    p.add_argument("scenario", type=Path, help="scenario YAML file with an uncertainty: section")
    p.add_argument("--compare", type=Path, metavar="OTHER.yaml", help="comparator scenario (default: its comparator:)")
    p.add_argument("--samples", "-n", type=_positive("--samples", 2), required=True, metavar="N",
                   help="number of parameter sets")
    p.add_argument("--replications", "-r", type=_positive("--replications"), default=1, metavar="R",
                   help="replications of each set and its comparator (default 1)")
    p.add_argument("--no-sensitivity", action="store_true", help="skip Morris screening and Sobol indices")
    p.add_argument("--effect", metavar="MEASURE", help="the outcome of the acceptability curve (default: the "
                   "scenario's first headline measure)")
    for flag in ("--seed", "--horizon", "--warmup", "--out", "--workers", "--dask", "--resume", "--allow-large"):
        action = next(a for a in run_parser()._actions if flag in a.option_strings)
        p._add_action(action)
    return p


def _default_out(scenario: Path, comparator: Path | None, shard: tuple[int, int] | None) -> Path:
    name = scenario.stem + (f"-vs-{comparator.stem}" if comparator else "")
    if shard:
        name += f"-shard-{shard[0]}-of-{shard[1]}"
    return RESULTS / name


# Run settings the options override, and the option to blame when the value is out of range.
OPTION_OF = {"run.seed": "--seed", "run.horizon_days": "--horizon", "run.warmup_days": "--warmup",
             "run.replications": "--replications"}


def _prepare(api, main, comparator, args):
    """The run's scenarios; a value an option set that the scenario cannot take blames the option."""
    from sim.scenario import ScenarioError

    try:
        return api.prepare(main, comparator, use_comparator=False, seed=args.seed, horizon=args.horizon,
                           warmup=args.warmup, replications=args.replications)
    except ScenarioError as exc:
        given = {field: option for field, option in OPTION_OF.items()
                 if getattr(args, option.lstrip("-")) is not None}
        if exc.problems and all(field in given for field, _ in exc.problems):
            raise BadInput("\n".join(f"{given[field]}: {problem}" for field, problem in exc.problems)) from None
        raise


def _load_compare_option(path: Path, roots):
    """The --compare file, with a file that cannot be reached blamed on the option."""
    from sim.scenario import load_scenario
    from sim.scenario.errors import FileRefused

    try:
        return load_scenario(path, roots)
    except FileRefused as exc:
        raise BadInput(f"--compare: {exc}") from None


def _check_kpis(text: str | None, scenario) -> tuple[str, ...] | None:
    """The KPIs --precision-kpis names: any KPI a run of this scenario makes, its own measures included."""
    from sim.scenario.kpi_names import is_kpi

    if text is None:
        return None
    names = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in names if not is_kpi(scenario, k)]
    if not names or unknown:
        raise BadInput(f"--precision-kpis: unknown KPI {', '.join(unknown) or '(none given)'} for this scenario; "
                       "see docs/outputs.md")
    return names


def _write_report(console: Console, resultset, folder: Path) -> int:
    """Write the HTML report if the report module is installed; the exit status to return."""
    if importlib.util.find_spec("sim.report") is None:
        return 0
    try:
        write_report = getattr(importlib.import_module("sim.report"), "write_report", None)
        if write_report is None:
            return 0
        path = write_report(resultset, folder)
    except Exception as exc:  # the results are safe on disk; say so rather than end on a traceback
        Console(stderr=True).print(f"error: the results are written, but the report failed: "
                                   f"{type(exc).__name__}: {exc}", markup=False, highlight=False)
        return 1
    console.print(f"Report: {path}")
    return 0


def _executor(workers, dask, tasks):
    from sim.executors import make_executor

    try:
        return make_executor(workers, dask, tasks=tasks)
    except OSError as exc:
        raise BadInput(f"--dask {dask}: cannot reach the scheduler ({exc})") from None


def main_run(argv: list[str], console: Console) -> int:
    args = run_parser().parse_args(argv)
    from sim import api
    from sim.cli_output import ProgressBar, print_results
    from sim.experiment import run_experiment
    from sim.scenario import load_scenario
    from sim.scenario.loading import default_roots, load_comparator
    from sim.store import StoreError, check_writable

    if args.shard and args.precision:
        raise BadInput("--shard runs a fixed set of replications: use --replications, not --precision")
    if args.max_replications != 50 and args.precision is None:
        raise BadInput("--max-replications only applies with --precision")
    # Files the scenario names (extends:, comparator:, --compare) are read only from these folders.
    roots = default_roots(args.scenario)
    main = load_scenario(args.scenario, roots)
    kpis = _check_kpis(args.precision_kpis, main)
    if main.sweep is not None:
        return run_sweep_command(args, main, console)
    comparator = None
    if args.compare is not None:
        comparator = _load_compare_option(args.compare, roots)
    elif not args.no_compare:
        comparator = load_comparator(main, roots)
    compare_path = comparator.path if comparator is not None else None
    scenarios = _prepare(api, main, comparator, args)
    out = args.out or _default_out(args.scenario, compare_path, args.shard)
    try:
        check_writable(out)
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    plan = api.make_plan(scenarios["scenario"], args.precision, args.max_replications, kpis, args.shard)
    executor = _executor(args.workers, args.dask, api.task_estimate(plan) * len(scenarios))
    try:
        with ProgressBar(Console(stderr=True)) as bar:
            resultset = run_experiment(scenarios, plan, executor=executor, folder=out, resume=args.resume,
                                           progress=bar, manifest_extra={"command": ["run_scenario.py", *argv]},
                                           allow_large=args.allow_large)
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    finally:
        executor.close()
    print_results(console, resultset)
    if resultset.manifest.get("resumed_replications"):
        console.print(f"Resumed: {resultset.manifest['resumed_replications']} replications reused from the earlier run.")
    console.print(f"Results written to {out}/")
    status = 0 if args.no_report else _write_report(console, resultset, out)
    if args.excel:
        from sim.excel.results import write_results_workbook

        console.print(f"Excel: {write_results_workbook(out, resultset)}")
    from sim.stress_figures import write_surge

    for path in write_surge(scenarios["scenario"], resultset.daily[resultset.daily["role"] == "scenario"], out):
        console.print(f"Surge: {path}")
    return status


def run_sweep_command(args: argparse.Namespace, main, console: Console) -> int:
    """A scenario with a `sweep:` runs every point with common random numbers (sim/sweep.py)."""
    from sim import api
    from sim.cli_output import ProgressBar
    from sim.store import StoreError, check_writable
    from sim.sweep import points_of, print_sweep, run_sweep

    if args.compare or args.precision or args.shard:
        raise BadInput("a sweep compares its points with each other: --compare, --precision and --shard do not apply")
    scenario = _prepare(api, main, None, args)["scenario"]
    points = points_of(scenario)  # a point that is not a valid scenario is bad input: found before anything runs
    out = args.out or _default_out(args.scenario, None, None)
    try:
        check_writable(out)
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    executor = _executor(args.workers, args.dask, len(points) * scenario.run.replications)
    try:
        with ProgressBar(Console(stderr=True)) as bar:
            result = run_sweep(scenario, out, executor=executor, resume=args.resume, progress=bar,
                               allow_large=args.allow_large)
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    finally:
        executor.close()
    print_sweep(console, result)
    console.print(f"Sweep written to {out}/: sweep.csv, breaking_points/, curves.html")
    return 0


def main_merge(argv: list[str], console: Console) -> int:
    args = merge_parser().parse_args(argv)
    from sim import api
    from sim.cli_output import print_results
    from sim.store import StoreError

    try:
        resultset = api.merge(args.folders, args.out)
    except StoreError as exc:
        raise BadInput(str(exc)) from None
    print_results(console, resultset)
    console.print(f"Results of {len(args.folders)} shards written to {args.out}/")
    return 0 if args.no_report else _write_report(console, resultset, args.out)


def main_crn(argv: list[str], console: Console) -> int:
    args = crn_parser().parse_args(argv)
    from sim import api
    from sim.cli_output import print_crn, timed
    from sim.scenario import load_scenario
    from sim.scenario.loading import default_roots

    roots = default_roots(args.scenario)
    main = load_scenario(args.scenario, roots)
    frame, seconds = timed(api.crn, main, _load_compare_option(args.compare, roots), replications=args.replications,
                           workers=args.workers)
    print_crn(console, frame, args.replications, seconds)
    return 0


# Records and Excel: fit and synthesize (sim/records/commands.py), template (sim/excel/commands.py).
DATA_COMMANDS = {"fit": "sim.records.commands", "synthesize": "sim.records.commands", "template": "sim.excel.commands"}


def _data_command(name: str):
    def command(argv: list[str], console: Console) -> int:
        return getattr(importlib.import_module(DATA_COMMANDS[name]), f"main_{name}")(argv, console, _Parser)
    return command


def main_psa(argv: list[str], console: Console) -> int:
    args = psa_parser().parse_args(argv)
    from sim import api
    from sim.cli_output import ProgressBar
    from sim.psa.run import TooFewSets, run_psa
    from sim.psa.show import print_psa
    from sim.psa.summary import effect_label, effects
    from sim.scenario import load_scenario
    from sim.scenario.loading import default_roots, load_comparator
    from sim.store import StoreError, check_writable

    roots = default_roots(args.scenario)
    main = load_scenario(args.scenario, roots)
    comparator = _load_compare_option(args.compare, roots) if args.compare else load_comparator(main, roots)
    if comparator is None:
        raise BadInput("--compare: a PSA compares the scenario with a comparator; name one (or give the scenario "
                       "a comparator:)")
    args.precision = None
    scenario = _prepare(api, main, None, args)["scenario"]
    effect = effect_label(scenario, args.effect) if args.effect else None
    if effect is not None and effect not in effects(scenario):
        raise BadInput(f"--effect: '{args.effect}' is not an outcome of this comparison (one of: "
                       f"{', '.join(effects(scenario))})")
    out = args.out or RESULTS / f"{args.scenario.stem}-psa"
    try:
        check_writable(out)
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    executor = _executor(args.workers, args.dask, 2 * args.samples * args.replications)
    try:
        with ProgressBar(Console(stderr=True)) as bar:
            result = run_psa(scenario, comparator, args.samples, out, replications=args.replications,
                             executor=executor, resume=args.resume, progress=bar,
                             sensitivity=not args.no_sensitivity,
                             effect=effect,
                             allow_large=args.allow_large, command=["run_scenario.py", "psa", *argv])
    except TooFewSets as exc:
        raise BadInput(f"--samples: {exc}; add sets, or --no-sensitivity for the PSA alone") from None
    except StoreError as exc:
        raise BadInput(f"--out: {exc}") from None
    finally:
        executor.close()
    print_psa(console, result)
    console.print(f"PSA written to {out}/: psa.csv, psa_summary.csv, psa_sets.csv, ceac.csv, sensitivity/")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    console = Console()
    errors = Console(stderr=True)
    from sim.budget import BudgetError
    from sim.measure.invariants import InvariantError
    from sim.scenario import ScenarioError

    commands = {"merge": main_merge, "crn": main_crn, "psa": main_psa,
                **{name: _data_command(name) for name in DATA_COMMANDS},
                "calibrate": lambda args, out: importlib.import_module("sim.calibration.cli").main(args, out)}
    command = commands.get(argv[0]) if argv else None
    try:
        if command:
            return command(argv[1:], console)
        return main_run(argv, console)
    except (ScenarioError, BadInput, BudgetError) as exc:
        # soft_wrap: one line per problem, so logs and grep see the whole "file: field: problem".
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return BAD_INPUT
    except InvariantError as exc:
        errors.print(f"error: a replication broke a rule of the model, so no results were written: {exc}",
                     markup=False, highlight=False)
        return 1
    except OSError as exc:
        # Disk full, a read-only or vanished folder. Finished replications are already safe on disk.
        where = f" ({exc.filename})" if exc.filename else ""
        errors.print(f"error: cannot write the results: {exc.strerror or exc}{where}. Replications already "
                     "finished are kept: free some space and run again with --resume (or start afresh with another --out)",
                     markup=False, highlight=False, soft_wrap=True)
        return BAD_INPUT
    except KeyboardInterrupt:
        # The first Ctrl-C was acknowledged on stderr when pressed (sim.executors.interruptible).
        errors.print("interrupted: finished replications are kept; run again with --resume to continue",
                     markup=False, highlight=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
