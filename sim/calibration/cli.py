"""`run_scenario.py calibrate SCENARIO --targets FILE --out DIR`: fit a scenario's uncertain parameters.

    python run_scenario.py calibrate scenarios/baseline.yaml --targets scenarios/calibration/targets.yaml \\
        --out scenarios/calibration/baseline --budget 400 --workers 1 --seed 20190401 --scale 0.25

Reads the priors from --priors (default: priors.yaml beside the targets file). Bad input (a
file, a field, an option) is refused before anything runs: exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from rich.console import Console

from sim.calibration import fit as fitting
from sim.calibration.calibrate import calibrate, load_inputs
from sim.calibration.fit import Method
from sim.calibration.output import OutError, check_out
from sim.calibration.simulate import Settings, prepared
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.loading import default_roots

WHERE = "run_scenario.py calibrate"


class _Parser(argparse.ArgumentParser):
    """Option errors as one line naming the option, raised as bad input (exit status 2)."""

    def error(self, message: str):
        message = re.sub(r"^argument (-[^/:\s]+)(/[^:\s]+)?: ", r"\1: ", message)
        raise ScenarioError(WHERE, [("", message)])


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number such as 0.25, not '{text}'") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"is the share of the system simulated, above 0 and at most 1, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=WHERE, description="Calibrate a scenario's uncertain parameters by ABC-SMC (pyabc) against "
                "the calibration targets, then test the fitted sets on the held-out validation targets.")
    p.add_argument("scenario", type=Path, help="the scenario calibrated")
    p.add_argument("--targets", type=Path, required=True, metavar="FILE", help="targets file (calibration and validation)")
    p.add_argument("--priors", type=Path, metavar="FILE", help="priors file (default: priors.yaml beside --targets)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for posterior.csv and the summary")
    p.add_argument("--budget", type=int, default=Method.budget, metavar="N",
                   help=f"most simulations for the fit (default {Method.budget})")
    p.add_argument("--population", type=int, default=Method.population, metavar="N",
                   help=f"parameter sets per ABC-SMC generation, and in the posterior (default {Method.population})")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes for the held-out runs (default 1; the fit runs one simulation at a time, "
                        "in a fixed order)")
    p.add_argument("--seed", type=int, metavar="S", help="calibration seed (default: run.seed)")
    p.add_argument("--scale", type=_scale, default=1.0, metavar="SHARE",
                   help="simulate this share of the system (demand and capacities), counts read back (default 1)")
    p.add_argument("--warmup", type=int, metavar="DAYS", help="warm-up days (default: run.warmup_days)")
    p.add_argument("--horizon", type=int, metavar="DAYS",
                   help="measured days (default: run.horizon_days)")
    p.add_argument("--replications", type=int, default=1, metavar="N",
                   help="replications per parameter set (default 1)")
    return p


LEAST = {"budget": 2, "population": 2, "workers": 1, "seed": 0, "warmup": 0, "horizon": 1, "replications": 1}


def main(argv: list[str], console: Console) -> int:
    args = parser().parse_args(argv)
    for name, least in LEAST.items():
        value = getattr(args, name)
        if value is not None and value < least:
            raise ScenarioError(WHERE, [("", f"--{name}: must be at least {least}, not {value}")])
    if args.population > args.budget:
        raise ScenarioError(WHERE, [("", f"--budget: {args.budget} simulations cannot fill one generation of "
                                         f"--population {args.population}")])
    roots = default_roots(args.scenario)
    scenario = load_scenario(args.scenario, roots)
    priors = args.priors or args.targets.parent / "priors.yaml"
    inputs = load_inputs(scenario, args.targets, priors, roots)
    try:
        check_out(args.out)
    except OutError as exc:
        raise ScenarioError(WHERE, [("", f"--out: {exc}")]) from None
    settings = Settings(scale=args.scale, replications=args.replications,
                        warmup_days=scenario.run.warmup_days if args.warmup is None else args.warmup,
                        horizon_days=scenario.run.horizon_days if args.horizon is None else args.horizon,
                        seed=scenario.run.seed if args.seed is None else args.seed)
    for each in (scenario, *inputs.others.values()):
        prepared(each, {}, settings)  # run settings the scenario refuses, or a system that cannot be scaled: now
    method = Method(population=args.population, budget=args.budget)
    console.print(f"Calibrating {args.scenario} ({len(inputs.priors.parameters)} parameters, "
                  f"{len(inputs.targets.calibration)} calibration targets; "
                  f"{len(inputs.targets.validation)} held out) with ABC-SMC, up to {args.budget} simulations ...")
    if fitting.pyabc is None:
        Console(stderr=True).print(f"error: {fitting.INSTALL}", markup=False, highlight=False)
        return 1
    try:
        result = calibrate(inputs, method, settings, args.workers, args.out, ["run_scenario.py", "calibrate", *argv])
    except KeyboardInterrupt:
        # Nothing is kept from a stopped fit: the folder is written only once everything has run.
        Console(stderr=True).print(f"interrupted: nothing was written to {args.out}", markup=False, highlight=False)
        return 130
    print_summary(console, result)
    console.print(f"Written to {args.out}/: posterior.csv ({len(result.fit.sets)} weighted parameter sets), "
                  "summary.csv, sets.csv, parameters.csv, generations.csv, manifest.json")
    return 0


def _number(x: float, money: bool = False) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "open"
    if money:
        return f"{'-' if x < 0 else ''}£{abs(x) / 1e6:,.1f}m"
    return f"{x:,.4g}" if abs(x) < 100 else f"{x:,.0f}"


def print_summary(console: Console, result) -> None:
    fit = result.fit
    state = ("every accepted set within every tolerance" if fit.reached else
             f"not every target met: the last generation accepted sets up to {fit.threshold:.2f} tolerances off")
    console.print(f"ABC-SMC: {len(fit.generations)} generations, {fit.simulations} simulations; {state}.")
    for role in ("calibration", "validation"):
        rows = result.summary[result.summary["role"] == role]
        if rows.empty:
            continue
        console.print(f"{role.capitalize()} targets (posterior mean and 95% interval over the sets):")
        for _, r in rows.iterrows():
            mark = "within" if r["within_tolerance"] else "outside"
            fed = " [an input was set from it: not a test]" if r["input_fed_back"] else ""
            money = r["kpi"].startswith("cost.")
            low, mean, high = (_number(r[c], money) for c in ("simulated_low", "simulated_mean", "simulated_high"))
            console.print(f"  {r['label']}: {mean} ({low} to {high}); published "
                          f"{_number(r['observed_low'], money)} to {_number(r['observed_high'], money)}: {mark}{fed}",
                          markup=False, highlight=False)
