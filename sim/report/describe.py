"""A description of the model and the run, generated from the scenarios themselves.

It follows the STRESS-DES checklist (Monks et al. 2019, "Strengthening the
reporting of empirical simulation studies") so a report can be attached to a
paper: objectives, logic, data and their sources, experimentation and
implementation. Nothing here is typed by hand per run, so it cannot disagree
with what was simulated.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from importlib import metadata

import pandas as pd

from sim.scenario import labels
from sim.results import ResultSet
from sim.scenario import Scenario

LIBRARIES = ("simpy", "numpy", "pandas", "scipy", "pydantic", "plotly")


@dataclass(frozen=True)
class Section:
    """A checklist heading and its (term, value) rows; all values are plain text, escaped when rendered."""

    heading: str
    rows: list[tuple[str, str]]


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Dotted path -> leaf value; lists of numbers stay whole (they are one parameter, e.g. weekday multipliers)."""
    if isinstance(data, dict) and data:
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def source_of(path: str, sources: dict[str, str]) -> str:
    """The source given for a parameter or the nearest enclosing field (e.g. costs.acute covers costs.acute.gbp)."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in sources:
            return sources[key]
    return ""


# Fields whose null means "no limit"; any other null means the field is not used.
_UNLIMITED_WHEN_NULL = ("capacity", "beds", "max_", "limit")


def _shown(value: object, path: str = "") -> str:
    if value is None:
        leaf = path.rsplit(".", 1)[-1]
        return "unlimited" if any(word in leaf for word in _UNLIMITED_WHEN_NULL) else "not used"
    if isinstance(value, dict) and not value:
        return "none"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _parameter_values(scenario: Scenario) -> dict[str, object]:
    return {k: v for k, v in flatten(scenario.resolved).items() if not k.startswith("sources.")}


def parameters(rs: ResultSet) -> pd.DataFrame:
    """Every parameter of the scenario (and comparator), where it came from, and whether the two differ."""
    scenario = rs.scenarios["scenario"]
    comparator = rs.scenarios.get("comparator")
    params = _parameter_values(scenario)
    other = _parameter_values(comparator) if comparator else {}
    rows = []
    for path in sorted(set(params) | set(other)):
        if _unset(params.get(path)) and _unset(other.get(path)) and not _is_limit(path):
            continue  # a section neither run uses (no places, no sweep): nothing to describe
        row = {"parameter": path, "scenario": _shown(params.get(path), path)}
        if comparator is not None:
            row["comparator"] = _shown(other.get(path), path)
            row["differs"] = params.get(path) != other.get(path)
        row["source"] = source_of(path, scenario.sources) or (source_of(path, comparator.sources) if comparator else "")
        rows.append(row)
    return pd.DataFrame(rows)


def _unset(value: object) -> bool:
    return value is None or value == {} or value == []


def _is_limit(path: str) -> bool:
    return any(word in path.rsplit(".", 1)[-1] for word in _UNLIMITED_WHEN_NULL)


def _capacity(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _logic(s: Scenario) -> list[tuple[str, str]]:
    svc = s.services
    capacities = {
        "urgent_response": (svc.urgent_response.capacity, "responses at once"),
        "acute": (svc.acute.beds, "beds"),
        "reablement": (svc.reablement.capacity, "people on the caseload"),
        "community_beds": (svc.community_beds.beds, "beds"),
        "temporary_residential": (svc.temporary_residential.beds, "beds"),
        "home_care": (svc.home_care.capacity, "packages"),
        "residential_care": (svc.residential_care.capacity, "places"),
        "nursing_care": (svc.nursing_care.capacity, "places"),
    }
    rows = [
        ("Model type", "Discrete-event simulation (SimPy), one process per person from crisis to outcome."),
        ("Entities", "People aged 65+ in crisis, grouped by frailty: "
         + ", ".join(f"{name} ({g.share:.0%})" for name, g in s.need_groups.items()) + "."),
        ("Pathway", "Crisis → urgent community response (if referred and a team is free in time) or the emergency "
         "department → acute bed → discharge on pathway 0 (home), 1 (home with reablement or home care), "
         "2 (community hospital or temporary residential bed) or 3 (care home) → outcomes: home, long-term care, "
         "readmission or death. A full next step makes people wait where they are (delays are counted)."),
    ]
    rows += [(f"Capacity: {labels.service(name)}", f"{_capacity(cap)} {unit}")
             for name, (cap, unit) in capacities.items()]
    rows.append(("Queueing", "First come, first served for every service; waiting in an acute or short-term bed "
                 "for the next step is recorded as delayed bed-days with its reason."))
    return rows


def _manifest_rows(manifest: dict) -> list[tuple[str, str]]:
    """The facts of the run a reader needs to reproduce it (code version, when, how it ran), in words."""
    rows = []
    git = manifest.get("git") or {}
    if git.get("commit"):
        rows.append(("Code version", f"git commit {git['commit']}" + (" with uncommitted changes" if git.get("dirty")
                                                                       else "")))
    if manifest.get("started_utc") and manifest.get("finished_utc"):
        rows.append(("Run", f"started {manifest['started_utc']}, finished {manifest['finished_utc']} (UTC)"))
    executor = manifest.get("executor") or {}
    if executor.get("backend"):
        workers = executor.get("workers")
        rows.append(("Ran on", f"{executor['backend']}" + (f", {workers} workers" if workers else "")))
    if manifest.get("command"):
        rows.append(("Command", " ".join(str(part) for part in manifest["command"])))
    if manifest.get("resumed_replications"):
        rows.append(("Resumed", f"{manifest['resumed_replications']} replications reused from an interrupted run"))
    return rows


def sections(rs: ResultSet) -> list[Section]:
    """The STRESS-DES sections for this run."""
    s = rs.scenarios["scenario"]
    comparator = rs.scenarios.get("comparator")
    run = s.run
    objectives = [("Scenario", s.name), ("Description", s.description.strip() or "(none given)")]
    objectives.append(("Comparator", comparator.name if comparator else "none: this run reports the scenario alone"))
    objectives.append(("Outputs", "Admissions, bed-days, occupancy, queues, waits, lengths of stay, delays by reason, "
                       "discharge pathways, outcomes and cost by payer (NHS, council, self-funders); see the data "
                       "dictionary, docs/outputs.md."))
    data = [
        ("Parameters", f"{len(parameters(rs))} values; every one is listed below with its source where the "
         "scenario names one."),
        ("Sources named", f"{len(s.sources)} fields have an entry under sources: in the scenario file."),
        ("Prices", f"pounds of {s.costs.price_year}"),
    ]
    experiment = [
        ("Replications", f"{rs.kpis.loc[rs.kpis['role'] == 'scenario', 'replication'].nunique()} run "
                         f"(the scenario file asks for {run.replications})"),
        ("Warm-up", f"{run.warmup_days} days simulated before measuring (starting empty), excluded from every result"),
        ("Measured period", f"{run.horizon_days} days from {run.start_date.isoformat()}"),
        ("Seed", f"{run.seed}; each random quantity has its own named stream per replication"),
        ("Variance reduction", "Common random numbers: the scenario and comparator draw the same random numbers "
         "replication by replication, so differences are paired."),
        ("Intervals", "95% confidence intervals: Student t over replication means (or paired differences)."),
    ]
    manifest = rs.manifest or {}
    implementation = [
        ("Software", f"care-pathway-sim {_version('care-pathway-sim')}; Python {platform.python_version()}; "
         + ", ".join(f"{lib} {_version(lib)}" for lib in LIBRARIES)),
        ("Scenario hash", f"sha256 {s.content_hash()}"),
    ]
    if comparator is not None:
        implementation.append(("Comparator hash", f"sha256 {comparator.content_hash()}"))
    implementation += _manifest_rows(manifest)
    implementation.append(("Code access", "Open source (MIT licence); see CITATION.cff in the repository."))
    return [
        Section("1. Objectives", objectives),
        Section("2. Logic", _logic(s)),
        Section("3. Data", data),
        Section("4. Experimentation", experiment),
        Section("5. Implementation", implementation),
    ]
