"""`run_scenario.py fit` and `run_scenario.py synthesize`: a scenario from records, and records from a scenario.

    python run_scenario.py fit examples/records/episodes.csv --census examples/records/census.csv --out my-system.yaml
    python run_scenario.py synthesize scenarios/baseline.yaml --out records.csv --census census.csv

Bad records end with one message per problem (file, row, column), exit
status 2 and nothing written; everything is checked and fitted before the
first file is written, and each file is written whole or not at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from sim.records.fit import Fitted, fit_records
from sim.records.read import RecordsError, read_records
from sim.records.report import fit_report
from sim.records.synthesize import synthesize
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.errors import FileRefused
from sim.scenario.loading import PROJECT_SCENARIOS, read_yaml
from sim.scenario.schema import validate
from sim.scenario.services import KINDS
from sim.store import atomic_write_text

LIBRARY = PROJECT_SCENARIOS / "library" / "older-people-pathway.yaml"


def fit_parser(parser_class) -> argparse.ArgumentParser:
    p = parser_class(prog="run_scenario.py fit",
                     description="Fit a scenario from episode records (docs/records.md): demand, stays, delays, "
                                 "routes, capacities and the state it starts from, each with its source.")
    p.add_argument("records", type=Path, help="episode records: a CSV file, or an Excel workbook with a sheet 'episodes'")
    p.add_argument("--census", type=Path, metavar="CENSUS", help="daily census: CSV, or a workbook with a sheet 'census'")
    p.add_argument("--out", type=Path, required=True, metavar="SCENARIO.yaml", help="the fitted scenario")
    p.add_argument("--library", type=Path, default=LIBRARY, metavar="FILE.yaml",
                   help="the services the records name (kinds, labels, costs): a library or a scenario "
                        "(default: scenarios/library/older-people-pathway.yaml)")
    p.add_argument("--name", help="the scenario's name (default: from --out)")
    return p


def synthesize_parser(parser_class) -> argparse.ArgumentParser:
    p = parser_class(prog="run_scenario.py synthesize",
                     description="Write the records a scenario's simulated people would leave (docs/records.md).")
    p.add_argument("scenario", type=Path)
    p.add_argument("--out", type=Path, required=True, metavar="RECORDS.csv", help="episode records")
    p.add_argument("--census", type=Path, metavar="CENSUS.csv", help="also write a daily census")
    p.add_argument("--replication", type=int, default=0, metavar="N", help="which replication's people (default 0)")
    return p


def library_data(path: Path) -> dict:
    """The services (and funding, if any) a fit may use: from a full scenario, or a library of services."""
    try:
        return load_scenario(path).resolved
    except FileRefused:
        raise
    except ScenarioError:
        data = read_yaml(path)  # a library of services is not a whole scenario
    if not isinstance(data.get("services"), dict) or not data["services"]:
        raise ScenarioError(path, [("services", "a library names at least one service (with its kind)")])
    unkinded = [name for name, spec in data["services"].items()
                if not isinstance(spec, dict) or spec.get("kind") not in KINDS]
    if unkinded:
        raise ScenarioError(path, [(f"services.{name}.kind", f"a library's service says its kind: one of {', '.join(KINDS)}")
                                   for name in unkinded])
    return data


def outputs(out: Path) -> tuple[Path, Path, Path]:
    """The scenario, its uncertainty file and its fit report."""
    return out, out.with_name(out.stem + ".uncertainty.yaml"), out.with_name(out.stem + ".fit.html")


def _check_out(option: str, path: Path, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise RecordsError(option, [("", f"{path} must end in {' or '.join(suffixes)}")])
    if path.is_dir():
        raise RecordsError(option, [("", f"{path} is a folder; give a file name")])
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise RecordsError(option, [("", f"folder {parent} does not exist")])


def fit_files(records: Path, out: Path, census: Path | None = None, library: Path = LIBRARY,
              name: str | None = None) -> Fitted:
    """Read, check and fit; write the scenario, its uncertainty and the fit report. Raises RecordsError."""
    _check_out("--out", out, (".yaml", ".yml"))
    lib = library_data(library)
    data = read_records(records, set(lib["services"]), census)
    fitted = fit_records(data, lib, str(library), name or out.stem)
    validate(fitted.scenario, out)  # a fitted scenario the model cannot run is a fault, found before writing
    header = (f"# Fitted by run_scenario.py fit from {records}" + (f" and {census}" if census else "")
              + f".\n# Every fitted value's source is in sources:; its uncertainty in {outputs(out)[1].name};"
              f" the fits, by eye, in {outputs(out)[2].name}.\n")
    scenario_path, uncertainty_path, report_path = outputs(out)
    text = header + yaml.safe_dump(fitted.scenario, sort_keys=False, width=120, allow_unicode=True)
    uncertainty = ("# Uncertainty of each fitted value: estimate, 95% interval, count, and a distribution to sample\n"
                   "# it from in a probabilistic sensitivity analysis (psa).\n"
                   + yaml.safe_dump(fitted.uncertainty, sort_keys=False, width=120, allow_unicode=True))
    report = fit_report(fitted, f"Fit of {scenario_path.name}")
    atomic_write_text(uncertainty_path, uncertainty)
    atomic_write_text(report_path, report)
    atomic_write_text(scenario_path, text)  # last: a scenario on disk means its companions are there
    return fitted


def synthesize_files(scenario: Path, out: Path, census: Path | None = None, replication: int = 0) -> tuple[int, int]:
    """Write the records (and census) of one replication; the numbers of rows written."""
    _check_out("--out", out, (".csv",))
    if census is not None:
        _check_out("--census", census, (".csv",))
    episodes, daily = synthesize(load_scenario(scenario), replication)
    if census is not None:
        atomic_write_text(census, daily.to_csv(index=False))
    atomic_write_text(out, episodes.to_csv(index=False))
    return len(episodes), len(daily)


def main_fit(argv: list[str], console, parser_class) -> int:
    args = fit_parser(parser_class).parse_args(argv)
    fitted = fit_files(args.records, args.out, args.census, args.library, args.name)
    scenario, uncertainty, report = outputs(args.out)
    s = fitted.scenario
    console.print(f"Fitted {len(s['services'])} services and {len(s['routes'])} routes from {args.records}: "
                  f"{s['demand']['crises_per_year']:,.0f} new crises a year.", markup=False, highlight=False,
                  soft_wrap=True)
    for name, fit in fitted.stays.items():
        console.print(f"  {name}: {fit.chosen}, mean {fit.mean:.3g} (95% CI {fit.mean_low:.3g} to {fit.mean_high:.3g}),"
                      f" KS D {fit.ks_d:.3f}, {fit.n:,} stays", markup=False, highlight=False, soft_wrap=True)
    for note in fitted.notes:
        console.print(f"  note: {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"Scenario: {scenario}\nUncertainty: {uncertainty}\nFit report: {report}", markup=False,
                  highlight=False, soft_wrap=True)
    return 0


def main_synthesize(argv: list[str], console, parser_class) -> int:
    args = synthesize_parser(parser_class).parse_args(argv)
    episodes, days = synthesize_files(args.scenario, args.out, args.census, args.replication)
    console.print(f"{episodes:,} episodes written to {args.out}"
                  + (f"; {days:,} census rows to {args.census}" if args.census else ""), markup=False, highlight=False,
                  soft_wrap=True)
    return 0
