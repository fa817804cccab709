"""`run_scenario.py template --excel OUT.xlsx`: a scenario as a workbook to fill in, laid out like the YAML.

    python run_scenario.py template --excel my-system.xlsx                       # from the baseline
    python run_scenario.py template --excel my-system.xlsx --from scenarios/connect.yaml
    python run_scenario.py my-system.xlsx                                         # run it like a YAML file

Every value of the scenario is in the workbook (defaults included), one
sheet per section; docs/excel.md says how to read and change it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.excel.workbook import scenario_workbook
from sim.scenario import load_scenario
from sim.scenario.loading import PROJECT_SCENARIOS
from sim.store import atomic_write_bytes


def template_parser(parser_class) -> argparse.ArgumentParser:
    p = parser_class(prog="run_scenario.py template",
                     description="Write a scenario as an Excel workbook to fill in (docs/excel.md).")
    p.add_argument("--excel", type=Path, required=True, metavar="OUT.xlsx", help="the workbook to write")
    p.add_argument("--from", dest="source", type=Path, default=PROJECT_SCENARIOS / "baseline.yaml",
                   metavar="SCENARIO", help="the scenario to start from (default: scenarios/baseline.yaml)")
    return p


def write_template(source: Path, out: Path) -> Path:
    scenario = load_scenario(source)
    data = scenario.resolved  # every value, defaults included, and no extends: the workbook stands alone
    atomic_write_bytes(out, scenario_workbook(data))
    return out


def main_template(argv: list[str], console, parser_class) -> int:
    args = template_parser(parser_class).parse_args(argv)
    if args.excel.suffix.lower() != ".xlsx":
        parser_class(prog="run_scenario.py template").error(f"argument --excel: must end in .xlsx, not {args.excel.name}")
    if args.excel.is_dir() or not (args.excel.parent if str(args.excel.parent) else Path(".")).is_dir():
        parser_class(prog="run_scenario.py template").error(f"argument --excel: cannot write {args.excel}")
    path = write_template(args.source, args.excel)
    console.print(f"Template written to {path} (from {args.source}); run it with: python run_scenario.py {path}",
                  markup=False, highlight=False)
    return 0
