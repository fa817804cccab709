"""Scenarios to start from (the scenarios/ folder or an upload) and the edited scenario as YAML to download.

An upload is checked by `sim.scenario.load_scenario`, exactly as the command
line checks a file, in a temporary copy of the scenarios folder so that
`extends: baseline.yaml` and `comparator: baseline.yaml` find their files.
That copy is the only folder an upload may read from: it can extend and
compare with the library's scenarios and nothing else on the server.
Error messages name the uploaded file, not the temporary copy.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, load_scenario
from sim.scenario.loading import load_comparator

ROOT = Path(__file__).resolve().parents[2]
# A team can point the app at its own folder of scenarios.
LIBRARY = Path(os.environ.get("CARE_PATHWAY_SCENARIOS", ROOT / "scenarios")).resolve()
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# Definitions that scenarios extend (services, routes, measures) and calibration data (targets, priors,
# fitted parameter sets: sim/calibration): not scenarios to run.
NOT_SCENARIOS = ("library", "calibration")


def library(folder: Path | None = None) -> dict[str, Path]:
    """Scenario files by their path under the folder (e.g. 'connect.yaml', 'stress/winter-surge.yaml').

    Files under `library/` (definitions other scenarios extend) and `calibration/` (targets and priors) are not
    scenarios: they are not offered.
    """
    folder = folder or LIBRARY
    files = sorted(p for p in folder.rglob("*.yaml")
                   if p.is_file() and p.relative_to(folder).parts[0] not in NOT_SCENARIOS)
    return {p.relative_to(folder).as_posix(): p for p in files}


@dataclass(frozen=True)
class Upload:
    scenario: Scenario
    comparator: Scenario | None  # the file its `comparator:` names, read while the copy exists


def command_path(path: Path) -> str:
    """A file as the command line would name it, run from the current folder."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def load_upload(name: str, data: bytes, folder: Path | None = None) -> Upload:
    """Validate an uploaded scenario as the command line would a file of that name; raise ScenarioError."""
    folder = folder or LIBRARY
    shown = SAFE_NAME.sub("_", Path(name).name) or "upload.yaml"
    if not shown.endswith((".yaml", ".yml")):
        raise ScenarioError(shown, [("", "a scenario is a YAML file ending in .yaml or .yml")])
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(shown, [("", f"file is {len(data):,} bytes; a scenario may be at most {MAX_FILE_BYTES:,}")])
    with tempfile.TemporaryDirectory(prefix="care-pathway-upload-") as tmp:
        work = Path(tmp) / "scenarios"
        shutil.copytree(folder, work, ignore=_not_scenarios)
        path = work / shown
        path.write_bytes(data)
        roots = (work,)
        try:
            scenario = load_scenario(path, roots)
            comparator = load_comparator(scenario, roots)
        except ScenarioError as exc:
            raise _named(exc, work, path, shown) from None
    # The temporary copy is gone: later messages name the files as the planner knows them.
    scenario._path = Path(shown)
    if comparator is not None:
        comparator._path = folder / comparator.path.relative_to(work.resolve())
    return Upload(scenario, comparator)


def _not_scenarios(folder: str, names: list[str]) -> list[str]:
    """What the upload's copy of the library leaves out: anything but folders and YAML files (no pipes, devices)."""
    def kept(name: str) -> bool:
        try:
            mode = os.stat(os.path.join(folder, name)).st_mode
        except OSError:
            return False
        return stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and name.endswith((".yaml", ".yml")))
    return [name for name in names if not kept(name)]


def _named(exc: ScenarioError, work: Path, path: Path, shown: str) -> ScenarioError:
    prefix = str(work.resolve()) + "/"
    file = shown if Path(exc.file).resolve() == path.resolve() else exc.file.replace(prefix, "")
    return ScenarioError(file, [(field, _OUTSIDE.sub(OUTSIDE_LIBRARY, problem.replace(prefix, "")))
                                for field, problem in exc.problems])


_OUTSIDE = re.compile(r"is outside the folders scenarios may be read from.*$")
OUTSIDE_LIBRARY = "is not a scenario of the library: an upload may name only those, by name (e.g. extends: baseline.yaml)"


def edited_yaml(scenario: Scenario, origin: str, changes: dict[str, object], reproduce: str) -> str:
    """The whole resolved scenario as YAML, headed by where it came from, what changed and how to rerun it.

    The comparator is given on the command line (`--compare`), so the file names none.
    """
    data = scenario.resolved
    data.pop("comparator", None)
    lines = [f"# Edited in the care pathway simulator app from {origin}."]
    if changes:
        lines.append("# Changed:")
        lines += [f"#   {path}: {yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()}"
                  .replace("\n...", "") for path, value in changes.items()]
    else:
        lines.append("# Nothing changed.")
    lines.append(f"# Same results from the command line: {reproduce}")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    return "\n".join(lines) + "\n" + body
