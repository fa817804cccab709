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

from sim.scenario import labels, price_index
from sim.results import ResultSet
from sim.scenario import Scenario
from sim.scenario.services import capacity_of, stay_of

LIBRARIES = ("simpy", "numpy", "pandas", "scipy", "pydantic", "plotly")


@dataclass(frozen=True)
class Section:
    """A checklist heading and its (term, value) rows; all values are plain text, escaped when rendered."""

    heading: str
    rows: list[tuple[str, str]]


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Dotted path -> leaf value; lists of numbers stay whole (they are one parameter, e.g. weekday multipliers),
    lists of sections (a service's costs, capacity events) are numbered as `with_changes` numbers them."""
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        data = {str(i): item for i, item in enumerate(data)}
    if isinstance(data, dict) and data:
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def source_of(path: str, sources: dict[str, str]) -> str:
    """The source given for a parameter or the nearest enclosing field (services.X.costs for services.X.costs.0.gbp)."""
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


def _capacity(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:,g}"


# What a service's capacity counts, by kind (sim/scenario/services.py).
CAPACITY_UNITS = {"beds": "beds", "caseload": "people on the caseload", "visits": "staff visit-hours a day",
                  "response_team": "responses at once", "long_term": "places or packages", "unlimited": ""}
PAYERS = {"nhs": "NHS", "council": "council", "means_tested": "means-tested"}
KIND_WORDS = {"beds": "beds", "caseload": "a caseload", "visits": "home visits by staff hours",
              "response_team": "a response team", "long_term": "long-term placements", "unlimited": "no capacity limit"}


def _percent(p: float) -> str:
    return f"{p:.1%}".replace(".0%", "%")


def _distribution(d) -> str:
    """A distribution in words: its kind and the parameters the scenario gave (mean always)."""
    given = {k: v for k, v in d.model_dump(by_alias=True, exclude_none=True).items() if k != "dist"}
    if "values" in given:
        return f"{d.dist}, {len(given['values'])} observed values, mean {d.mean():.3g}"
    parts = ", ".join(f"{k} {v:g}" for k, v in given.items())
    return f"{d.dist} ({parts})" if "mean" in given else f"{d.dist} ({parts}; mean {d.mean():.3g})"


def _destination(name: str, s: Scenario) -> str:
    if name in s.services:
        return labels.service(name)
    return name.replace("_", " ")


def _table(table: dict[str, float], s: Scenario) -> str:
    return ", ".join(f"{_destination(dest, s)} {_percent(p)}" for dest, p in table.items() if p > 0) or "nobody"


def _where(route, where: tuple[str, ...]) -> str:
    """Whom a table of a route is for, in words: ('by_group', 'severe', 'if_true') -> 'severe, with <trait>'."""
    words, node, i = [], route, 0
    while i < len(where):
        key = where[i]
        if key in ("by_group", "by_place"):
            words.append(where[i + 1])
            node = getattr(node, key)[where[i + 1]]
            i += 2
        else:
            words.append(f"{'with' if key == 'if_true' else 'without'} {(node.by_trait or '').replace('_', ' ')}")
            node = getattr(node, key)
            i += 1
    return ", ".join(words)


def _route(route, s: Scenario) -> str:
    """A route's tables in words, scale applied, each with the need group, trait or place it is for."""
    parts = []
    for where, table in route.tables():
        whom = _where(route, where)
        parts.append((f"{whom}: " if whom else "") + _table(table, s))
    text = "; ".join(parts)
    if route.scale:
        text += " (scaled: " + ", ".join(f"{_destination(d, s)} x{f:g}" for d, f in route.scale.items()) + ")"
    return text


def _service(name: str, spec, s: Scenario) -> str:
    capacity, _ = capacity_of(spec)
    unit = CAPACITY_UNITS.get(spec.kind, "")
    words = [f"{KIND_WORDS.get(spec.kind, spec.kind)}"]
    if spec.kind != "unlimited":
        words.append(f"capacity {_capacity(capacity)}{' ' + unit if unit and capacity is not None else ''}")
    words.append(f"stay {_distribution(stay_of(spec))} days")
    process = getattr(spec, "discharge_process", None)
    if process is not None:
        words.append(f"then a discharge process of {_distribution(process.days)} days")
    if spec.kind == "response_team":
        words.append(f"people wait at most {spec.give_up_hours:g} h for a team, then go to "
                     f"{_destination(spec.give_up_to, s)}")
    words.append(f"next: {_destination(spec.then, s)}")
    if spec.costs:
        words.append("cost " + ", ".join(
            f"£{c.gbp:,g} per {c.per.replace('_', ' ')} ({PAYERS.get(c.payer, c.payer)})" for c in spec.costs))
    return "; ".join(words) + "."


def _logic(s: Scenario) -> list[tuple[str, str]]:
    """The model's logic as the scenario states it: people, demand, every service, route and place."""
    rows = [
        ("Model type", "Discrete-event simulation (SimPy), one process per person from arrival to outcome."),
        ("Entities", "People, grouped by need: "
         + ", ".join(f"{name} ({g.share:.0%})" for name, g in s.need_groups.items()) + "."),
    ]
    if s.demand.crises_per_year > 0:
        rows.append(("Demand", f"{s.demand.crises_per_year:,g} crises a year (Poisson, with weekday and monthly "
                     f"patterns), entering at {_destination(s.demand.enters, s)}."))
    arrivals = [f"{_destination(target, s)}" for target in s.arrivals]
    arrivals += [f"{_destination(target, s)} ({place})" for place, p in s.places.items() for target in p.arrivals]
    if arrivals:
        rows.append(("Arrivals", "People also arrive straight into " + ", ".join(arrivals) + " (Poisson each day)."))
    rows += [(f"Service: {labels.service(name)}", _service(name, spec, s)) for name, spec in s.services.items()]
    rows += [(f"Route: {route.label or name.replace('_', ' ')}", _route(route, s)) for name, route in s.routes.items()]
    if s.places:
        rows.append(("Places", f"{len(s.places)}: " + ", ".join(s.places) + "; services are "
                     + ", ".join(f"{labels.service(n)} {sh.mode}" for n, sh in s.sharing.items())
                     + (" and otherwise local." if s.sharing else "local to each place.")))
    rows.append(("Queueing", "First come, first served for every service; waiting in a bed or on a caseload for "
                 "the next step is recorded as delayed days with its reason."))
    return rows


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


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
                       "decisions at every route, outcomes and cost by payer (NHS, council, self-funders); see the "
                       "data dictionary, docs/outputs.md."))
    data = [
        ("Parameters", f"{len(parameters(rs))} values; every one is listed below with its source where the "
         "scenario names one."),
        ("Sources named", f"{len(s.sources)} fields have an entry under sources: in the scenario file."),
        ("Prices", f"pounds of {s.economics.price_year}"),
    ]
    experiment = [
        ("Replications", f"{rs.kpis.loc[rs.kpis['role'] == 'scenario', 'replication'].nunique()} run "
                         f"(the scenario file asks for {run.replications})"),
        ("Warm-up", f"{run.warmup_days} days simulated before measuring (starting empty), excluded from every result"),
        ("Measured period", f"{run.horizon_days} days from {run.start_date.isoformat()}"),
        ("Seed", f"{run.seed}; each random quantity has its own named stream per replication"),
        ("Variance reduction", "Common random numbers: the scenario and comparator draw the same random numbers "
         "replication by replication, so differences are paired."),
        ("Intervals", "95% confidence intervals over replications: log-scale Student t (never below 0) for "
         "people, places, days, hours, bed-days and money; Student t for other measures and for paired differences."),
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


def assumptions(s: Scenario) -> list[tuple[str, str]]:
    """STRESS-DES 2.3: the model's assumptions and simplifications, as this scenario makes them."""
    unlimited = [labels.service(n) for n, spec in s.services.items()
                 if spec.kind != "visits" and getattr(spec, "capacity", None) is None]
    rows = [
        ("People", "Each crisis is a new person: repeat crises of one person are not linked, except readmissions "
         "that a route sends back."),
        ("Demand", "Crises arrive at random (Poisson) at the yearly rate, shaped by weekday and month; demand does not "
         "grow over the run and does not respond to waits."),
        ("Queues", "First come, first served; nobody leaves a queue except where a service gives up (a response "
         "team's give-up time)."),
        ("Capacity", "Fixed, except on the dates of capacity events; staff sickness and shifts are not modelled "
         "unless a scenario states them as capacity changes."),
        ("Unlimited services", ", ".join(unlimited) + ": never make anyone wait." if unlimited
         else "none: every service has a capacity."),
        ("Start", f"The warm-up ({s.run.warmup_days} days) starts empty except for the people the scenario puts in "
         "care at the start (initial_state); it is left out of every result."),
        ("Costs", "Average unit costs from national sources (each with its price year, inflated to "
         f"{s.economics.price_year}); occupied bed-days and caseload-days are capacity paid for anyway, never "
         "cash; episodes, hours of care and care home weeks bought are cash."),
        ("Outcomes", "Health-related quality of life and mortality beyond the pathway's own deaths are not modelled: "
         "the economics is a cost and budget impact analysis, not a cost-utility analysis."),
    ]
    return rows


def cheers(rs: ResultSet) -> list[tuple[str, str]]:
    """CHEERS 2022 items of the economic evaluation, as this run states them."""
    s = rs.scenarios["scenario"]
    comparator = rs.scenarios.get("comparator")
    e = s.economics
    years = min(e.horizon_years, -(-s.run.horizon_days // 365))
    costs = e.programme_costs
    programme = "; ".join(f"{c.label}: {c.payer}, {c.kind.replace('_', '-')}, £{c.gbp:,.0f}"
                          + (f" x {c.units:g}" if c.kind == "capacity" else "") + f" ({c.price_year}; {c.source})"
                          for c in costs) or "none stated: savings are gross of what the change costs"
    return [
        ("Perspective (item 8)", "NHS; council adult social care; NHS and personal social services together (the "
         "NICE reference case). Self-funders' fees are reported apart as private spending, never in a system's "
         "saving."),
        ("Comparator (item 10)", comparator.name if comparator else "none"),
        ("Time horizon (item 11)", f"{e.horizon_years} years from the change on day 0 of the measured period "
         f"(budget impact year by year); this run measured {s.run.horizon_days} days, so {years} year"
         f"{'s' if years != 1 else ''} are reported. Long-term placements started in those years are also "
         "costed over their whole drawn stay (lifetime view)."),
        ("Discount rate (item 12)", f"{e.discount_rate:.1%} a year for the discounted views, {e.discount_rate_sensitivity:.1%} "
         "as a sensitivity; the budget impact is cash and undiscounted (ISPOR budget-impact good practice)."),
        ("Outcomes (item 13)", "The headline gains a year, each defined once (sim.compare.outcomes): people admitted "
         "(readmissions left out), bedded placements after an acute stay, and people whose journey ends at home, "
         "counted against the comparator's crises."),
        ("Resources and costs (item 15)", "Activity from the simulation times unit costs, each with its source and "
         "price year (table below); the cost of the change itself: " + programme + "."),
        ("Currency, price date, conversion (item 16)", f"Pounds sterling of {e.price_year}, inflated with "
         f"{price_index.INDEX_NAME}; years in the index: {price_index.years()[0]} to {price_index.years()[-1]} "
         f"(provisional: {', '.join(price_index.provisional()) or 'none'})."),
        ("Model (item 17)", "Discrete-event simulation of individual people (STRESS-DES description in this report)."),
        ("Uncertainty (item 19)", f"95% confidence intervals over {rs.kpis.loc[rs.kpis['role'] == 'scenario', 'replication'].nunique()} "
         "replications paired by common random numbers (stochastic uncertainty); the discount rate at "
         f"{e.discount_rate_sensitivity:.1%}; parameter uncertainty through the sensitivity study "
         "(python -m sim.studies.connect.sensitivity), not in these intervals."),
        ("Capacity freed", "Bed-days and places freed are shown in places, and valued only at a marginal value the "
         "scenario states" + (f" ({', '.join(labels.service(n) for n in e.capacity_value)})" if e.capacity_value
                              else " (none stated: not valued)") + "; never added into cash."),
    ]
