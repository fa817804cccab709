"""A scenario: a whole system as data, its people, services, routes and places, checked as one graph.

Besides each section's own rules, the system as a whole must hang together:
every route leads somewhere that exists, every service can be reached and
left, no cycle of routes traps people for ever, and every table keyed by
need group, place or trait names ones that exist.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.scenario import labels
from sim.scenario.afterwards import Afterwards
from sim.scenario.base import (
    NAME,
    Multiplier,
    NonNegative,
    Probability,
    Strict,
    sum_problem,
)
from sim.scenario.calendar import capacity_steps
from sim.scenario.economics import Economics, economics_problems
from sim.scenario.errors import ScenarioError
from sim.scenario.kpi_names import is_kpi
from sim.scenario.messages import problems_from
from sim.scenario.places import Arrivals, CapacityEvent, Place, ServiceState, Sharing
from sim.scenario.routes import ENDS, Route
from sim.scenario.run import Funding, RunSettings, Surge
from sim.scenario.services import Beds, Caseload, ResponseTeam, ServiceSpec, Visits, capacity_of
from sim.scenario.study import ServiceLevel, Sweep
from sim.scenario.uncertainty import Uncertainty

SYSTEM = "system"  # the one place of a system that names none


class Demand(Strict):
    crises_per_year: NonNegative = Field(
        0.0, le=10_000_000, description="crises among the population reaching any service, a year (at most 10m)"
    )
    enters: str = Field("crisis", description="the route or service every crisis starts at")
    weekday_multipliers: list[Multiplier] = Field(
        default_factory=lambda: [1.0] * 7, min_length=7, max_length=7,
        description="Monday..Sunday, relative; rescaled to average 1",
    )
    monthly_multipliers: list[Multiplier] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12,
        description="January..December, relative; rescaled to average 1",
    )
    surges: list[Surge] = Field(default_factory=list, description="periods of higher or lower demand")


class NeedGroup(Strict):
    share: Probability = Field(description="share of crises in this group")
    los_multiplier: Multiplier = Field(1.0, description="multiplies every length of stay (where the service says so)")
    traits: dict[str, Probability] = Field(
        default_factory=dict, description="trait -> share of this group's people who have it"
    )


class Trait(Strict):
    given: str | None = Field(None, pattern=NAME, description="only people with this other trait can have it")
    also_if: list[str] = Field(default_factory=list, description="people with any of these traits have it too")


class Measure(Strict):
    """A KPI made from others: a sum, or a share of one sum in another."""

    label: str = Field(max_length=120)
    unit: str = Field("people", max_length=20)
    sum: list[str] | None = Field(None, description="KPI names added up")
    share_of: list[str] | None = Field(None, description="with `sum`: the KPIs whose total is the denominator")
    hours: bool = Field(False, description="days turned into hours (x24)")
    description: str = Field("", max_length=300)
    better: Literal["higher", "lower"] | None = Field(
        None, description="which way is better: a comparison shows a change this way as a gain"
    )
    headline: bool = Field(False, description="shown among the headline figures of a comparison")

    @model_validator(mode="after")
    def _given(self):
        if not self.sum:
            raise ValueError("sum: name at least one KPI")
        if self.headline and self.better is None:
            raise ValueError("headline: a headline measure says which way is better (better: higher or lower)")
        return self


class Scenario(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    extends: str | None = Field(None, description="a scenario file this one changes")
    comparator: str | None = Field(None, description="the scenario file to compare against")
    run: RunSettings = Field(default_factory=RunSettings)
    demand: Demand = Field(default_factory=Demand)
    need_groups: dict[str, NeedGroup] = Field(min_length=1)
    traits: dict[str, Trait] = Field(default_factory=dict)
    funding: Funding
    services: dict[str, ServiceSpec] = Field(min_length=1)
    routes: dict[str, Route] = Field(default_factory=dict)
    afterwards: dict[str, Afterwards] = Field(
        default_factory=dict, description="what may happen later to people who go home (sim/scenario/afterwards.py)"
    )
    places: dict[str, Place] = Field(default_factory=dict)
    sharing: dict[str, Sharing] = Field(default_factory=dict)
    arrivals: dict[str, Arrivals] = Field(default_factory=dict, description="arrivals straight into a service or route")
    initial_state: dict[str, ServiceState | None] = Field(default_factory=dict)
    capacity_events: list[CapacityEvent] = Field(default_factory=list, description="capacity changes on dates")
    economics: Economics = Field(default_factory=Economics, description="price year, discounting, horizon and"
                                 " what the change costs (sim/scenario/economics.py)")
    measures: dict[str, Measure] = Field(default_factory=dict)
    sweep: Sweep | None = None
    service_levels: list[ServiceLevel] = Field(default_factory=list)
    uncertainty: Uncertainty | None = Field(None, description="inputs a probabilistic sensitivity analysis draws")
    sources: dict[str, str] = Field(default_factory=dict, description="field path -> citation")

    _path: Path | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _price_year_moved(cls, data: Any) -> Any:
        # Scenarios (and results folders) written before the economics section gave the price year as
        # `costs: {price_year: ...}`; it is read as economics.price_year, which it always meant.
        if isinstance(data, dict) and isinstance(data.get("costs"), dict) and set(data["costs"]) <= {"price_year"}:
            data = dict(data)
            old = data.pop("costs")
            economics = dict(data.get("economics") or {})
            if "price_year" in old:
                economics.setdefault("price_year", old["price_year"])
            data["economics"] = economics
        return data

    @model_validator(mode="after")
    def _hangs_together(self):
        problems = system_problems(self)
        if problems:
            # One error per problem, each at its field, so every one is shown at once.
            details = []
            for text in problems:
                field, sep, message = text.partition(": ")
                loc = tuple(field.split(".")) if sep and " " not in field else ()
                details.append(InitErrorDetails(
                    type=PydanticCustomError("value_error", message if loc else text), loc=loc, input=None,
                ))
            raise ValidationError.from_exception_data("Scenario", details)
        return self

    # --- reading it ---------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def place_names(self) -> list[str]:
        return list(self.places) or [SYSTEM]

    def active_initial_state(self) -> dict[str, ServiceState]:
        return {k: v for k, v in self.initial_state.items() if v is not None}

    @property
    def resolved(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude={"extends"})

    def content_hash(self) -> str:
        text = json.dumps(self.resolved, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_changes(self, changes: dict[str, Any]) -> Scenario:
        """A copy with dotted-path values changed, validated again (for sweeps, sensitivity, the app)."""
        data = self.resolved
        for dotted, value in changes.items():
            node = data
            parts = dotted.split(".")
            for part in parts[:-1]:
                if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                    continue
                if not isinstance(node, dict) or part not in node:
                    raise ScenarioError(self._path or "<scenario>", [(dotted, "no such field")])
                node = node[part]
            if isinstance(node, list) and parts[-1].isdigit() and int(parts[-1]) < len(node):
                node[int(parts[-1])] = value
                continue
            if not isinstance(node, dict):
                raise ScenarioError(self._path or "<scenario>", [(dotted, "no such field")])
            # A new key is allowed: validation refuses one that is not a field (a new route scale is not).
            node[parts[-1]] = value
        new = validate(data, self._path or "<scenario>")
        new._path = self._path
        return new


# --- the system as one graph --------------------------------------------------------


def _route_where(where: tuple[str, ...]) -> str:
    return "".join(f".{w}" for w in where)


def system_problems(s: Scenario) -> list[str]:
    problems: list[str] = []
    nodes = set(s.services) | set(s.routes)
    clash = sorted(set(s.services) & set(s.routes))
    if clash:
        problems.append(f"routes: {', '.join(clash)} also named as a service; give routes and services different names")
    for section in ("services", "routes", "places", "need_groups", "traits"):
        for name in getattr(s, section):
            if not re.fullmatch(NAME, name):
                problems.append(f"{section}.{name}: a name becomes part of KPI names: letters, digits and _,"
                                " starting with a letter")
            elif name in ENDS or name == SYSTEM:
                problems.append(f"{section}.{name}: '{name}' is reserved (the ends are {', '.join(ENDS)},"
                                f" and '{SYSTEM}'); choose another name")
    known = nodes | set(ENDS)

    def check_target(field: str, target: str) -> None:
        if target not in known:
            problems.append(f"{field}: '{target}' is not a service, a route or an end ({', '.join(ENDS)})")

    problem = sum_problem({g: v.share for g, v in s.need_groups.items()}, "need-group shares")
    if problem:
        problems.append(f"need_groups: {problem}")
    trait_names = set(s.traits) | {t for g in s.need_groups.values() for t in g.traits}
    for name, trait in s.traits.items():
        for other in filter(None, [trait.given, *trait.also_if]):
            if other not in trait_names:
                problems.append(f"traits.{name}: '{other}' is not a trait of any need group")
    if s.demand.crises_per_year > 0:
        check_target("demand.enters", s.demand.enters)
    for name, service in s.services.items():
        check_target(f"services.{name}.then", service.then)
        if isinstance(service, ResponseTeam):
            check_target(f"services.{name}.give_up_to", service.give_up_to)
            for i, t in enumerate(service.handover_to):
                check_target(f"services.{name}.handover_to.{i}", t)
        for route in getattr(service, "hours_per_week_after", {}):
            if route not in s.routes:
                problems.append(f"services.{name}.hours_per_week_after.{route}: not a route")
    for name in s.funding.spend_down:
        if getattr(s.services.get(name), "kind", None) != "long_term":
            problems.append(f"funding.spend_down.{name}: not a long_term service")
    for name, route in s.routes.items():
        for where, table in route.tables():
            for dest in table:
                check_target(f"routes.{name}{_route_where(where)}", dest)
        _keys_exist(problems, f"routes.{name}", route, s, trait_names)
    problems += _afterwards_problems(s, check_target)
    for target, arrivals in s.arrivals.items():
        check_target(f"arrivals.{target}", target)
        problems += _series_problems(f"arrivals.{target}", arrivals, s)
    if s.places:
        problems += _place_problems(s)
        problems += _extra_capacity_problems(s)
    for name in s.sharing:
        if name not in s.services:
            problems.append(f"sharing.{name}: not a service")
        elif not s.places:
            problems.append("sharing: needs places (a system of one place has nothing to share)")
    for name, state in s.initial_state.items():
        problems += _state_problems(f"initial_state.{name}", name, state, s)
    problems += _event_problems("capacity_events", s.capacity_events, s)
    for name, measure in s.measures.items():
        if name in s.services:
            problems.append(f"measures.{name}: named like a service")
        uses = set(measure.sum) | set(measure.share_of or ())
        if name in uses:
            problems.append(f"measures.{name}: is made of itself")
    problems += _measure_cycle(s)
    problems += economics_problems(s)
    for i, level in enumerate(s.service_levels):
        if not is_kpi(s, level.kpi):
            problems.append(f"service_levels.{i}.kpi: '{level.kpi}' is not a KPI of this scenario (docs/outputs.md lists"
                            " the forms: <service>.<measure>, route.<route>.<destination>, a measure, cost.<payer>, ...)")
    for key in s.sources:
        if not _path_exists(s, key.split(".")):
            problems.append(f"sources: '{key}' is not a field of the scenario (a citation must name what it supports)")
    problems += _uncertainty_problems(s)
    if not problems:
        problems += _flow_problems(s)
    return problems


def _uncertainty_problems(s: Scenario) -> list[str]:
    """Every uncertain input, and the share that balances it, is a number in the scenario."""
    if s.uncertainty is None:
        return []
    problems = []
    for path, prior in s.uncertainty.parameters.items():
        for field, what in ((path, "the field"), (prior.balance, "its balance")):
            if field is None:
                continue
            value = value_at(s, field.split("."))
            if value is MISSING or isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"uncertainty.parameters.{path}: {what} '{field}' is not a number in the scenario "
                                "(name a field path as a sweep does, e.g. services.acute.capacity)")
    return problems


MISSING = object()  # value_at of a path that leads nowhere


def value_at(obj: Any, parts: list[str]) -> Any:
    """The value at a field path, or MISSING."""
    for part in parts:
        obj = _step(obj, part)
        if obj is MISSING:
            break
    return obj


def _keys_exist(problems: list[str], field: str, route: Route, s: Scenario, traits: set[str]) -> None:
    if route.by_group is not None:
        for g in route.by_group:
            if g not in s.need_groups:
                problems.append(f"{field}.by_group.{g}: not a need group ({', '.join(s.need_groups)})")
        missing = [g for g in s.need_groups if g not in route.by_group]
        if missing:
            problems.append(f"{field}.by_group: no table for {', '.join(missing)}")
    if route.by_place is not None:
        names = s.place_names
        for p in route.by_place:
            if p not in names:
                problems.append(f"{field}.by_place.{p}: not a place ({', '.join(names)})")
        missing = [p for p in names if p not in route.by_place]
        if missing:
            problems.append(f"{field}.by_place: no route for {', '.join(missing)}")
    if route.by_trait is not None and route.by_trait not in traits:
        problems.append(f"{field}.by_trait: '{route.by_trait}' is not a trait of any need group")
    for key in ("by_group", "by_place"):
        for sub_name, sub in (getattr(route, key) or {}).items():
            _keys_exist(problems, f"{field}.{key}.{sub_name}", sub, s, traits)
    for key in ("if_true", "if_false"):
        sub = getattr(route, key)
        if sub is not None:
            _keys_exist(problems, f"{field}.{key}", sub, s, traits)


def _step(obj: Any, part: str) -> Any:
    """One step along a field path: a model's field (by name or alias), a key, a list index; or MISSING."""
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
        return MISSING if name is None else getattr(obj, name)
    if isinstance(obj, dict) and part in obj:
        return obj[part]
    if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
        return obj[int(part)]
    return MISSING


def _afterwards_problems(s: Scenario, check_target) -> list[str]:
    """Each entry comes from a service, a route or a route's destination, goes somewhere, with a chance per group."""
    problems: list[str] = []
    for name, entry in s.afterwards.items():
        field = f"afterwards.{name}"
        if not re.fullmatch(NAME, name):
            problems.append(f"{field}: a name becomes part of KPI names: letters, digits and _, starting with a letter")
        for i, origin in enumerate(entry.after):
            route, _, dest = origin.partition(".")
            if dest and route in s.routes:
                if dest not in s.routes[route].destinations():
                    problems.append(f"{field}.after.{i}: '{dest}' is not a destination of route {route}")
            elif dest or origin not in set(s.services) | set(s.routes):
                problems.append(f"{field}.after.{i}: '{origin}' is not a service, a route or route.destination")
        check_target(f"{field}.to", entry.to)
        if isinstance(entry.chance, dict):
            for g in entry.chance:
                if g not in s.need_groups:
                    problems.append(f"{field}.chance.{g}: not a need group ({', '.join(s.need_groups)})")
            missing = [g for g in s.need_groups if g not in entry.chance]
            if missing:
                problems.append(f"{field}.chance: no chance for {', '.join(missing)} (give one number for everyone,"
                                " or one for each need group)")
    return problems


def _extra_capacity_problems(s: Scenario) -> list[str]:
    """Escalation beds only on beds, spot purchase only on caseload or visits, for a place's own service too."""
    problems = []
    for pname, place in s.places.items():
        for svc, own in place.services.items():
            spec = s.services.get(svc)
            if spec is None:
                continue
            if own.escalation is not None and not isinstance(spec, Beds):
                problems.append(f"places.{pname}.services.{svc}.escalation: {svc} is not a beds service")
            if own.spot_purchase is not None and not isinstance(spec, (Caseload, Visits)):
                problems.append(f"places.{pname}.services.{svc}.spot_purchase: {svc} is not a caseload or visits service")
    return problems


def _path_exists(obj: Any, parts: list[str]) -> bool:
    return value_at(obj, parts) is not MISSING


def _series_problems(field: str, arrivals: Arrivals, s: Scenario) -> list[str]:
    """A daily series must give every simulated day its own mean: a short one is a series for another run."""
    days = s.run.warmup_days + s.run.horizon_days
    if arrivals.daily is None or len(arrivals.daily) >= days:
        return []
    return [
        f"{field}.daily: {len(arrivals.daily)} values, but the run simulates {days} days"
        f" ({s.run.warmup_days} of warm-up and {s.run.horizon_days} measured); give one a day, warm-up first"
        " (values past the run are not used), or give per_day"
    ]


def _measure_cycle(s: Scenario) -> list[str]:
    """Measures made of each other in a circle have no value."""
    uses = {n: {t for t in (*m.sum, *(m.share_of or ())) if t in s.measures and t != n} for n, m in s.measures.items()}
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, needs in uses.items():
            if name not in done and needs <= done:
                done.add(name)
                changed = True
    stuck = sorted(set(uses) - done)
    return [f"measures.{stuck[0]}: measures made of each other in a circle: {', '.join(stuck)}"] if stuck else []


def _event_problems(field: str, events: list[CapacityEvent], s: Scenario) -> list[str]:
    """Events on services that exist, and capacities they leave whole, finite and not negative."""
    problems = []
    for i, event in enumerate(events):
        where = f"{field}.{i}"
        if event.service not in s.services:
            problems.append(f"{where}.service: '{event.service}' is not a service")
            continue
        base, integral = capacity_of(s.services[event.service])
        change = event.change
        if base is None and change.set is None:
            problems.append(f"{where}.change: {event.service} is unlimited, so there is nothing to add to or"
                            " multiply; give set")
            continue
        amount = change.set if change.set is not None else change.add
        if integral and amount is not None and not float(amount).is_integer():
            problems.append(f"{where}.change: {event.service} counts whole places, not {amount:g}")
            continue
        same = [e for e in events if e.service == event.service]
        for date, value in capacity_steps(base, same, integral):
            if value < 0 and date == event.start:
                problems.append(f"{where}.change: capacity of {event.service} would be {value:g} from {date}")
    return problems


def _state_problems(field: str, name: str, state: ServiceState | None, s: Scenario) -> list[str]:
    if state is None:
        return []
    if name not in s.services:
        return [f"{field}: '{name}' is not a service"]
    if isinstance(s.services[name], ResponseTeam) and state.occupied:
        return [f"{field}.occupied: responses last hours; start {name} with nobody under way"]
    return []


def _place_problems(s: Scenario) -> list[str]:
    problems = []
    by_share = [n for n, p in s.places.items() if p.demand_share is not None]
    if by_share and len(by_share) != len(s.places):
        problems.append("places: give every place a demand_share, or none of them")
    if by_share:
        problem = sum_problem({n: s.places[n].demand_share for n in by_share}, "demand shares")
        if problem:
            problems.append(f"places: {problem}")
    for pname, place in s.places.items():
        field = f"places.{pname}"
        if place.need_groups is not None:
            for g in place.need_groups:
                if g not in s.need_groups:
                    problems.append(f"{field}.need_groups.{g}: not a need group")
        for svc, own in place.services.items():
            if svc not in s.services:
                problems.append(f"{field}.services.{svc}: not a service")
            elif (own.capacity is not None and not isinstance(s.services[svc], Visits)
                  and not float(own.capacity).is_integer()):
                problems.append(f"{field}.services.{svc}.capacity: whole places, not {own.capacity:g}")
            elif "capacity" in own.model_fields_set and s.sharing.get(svc) and s.sharing[svc].mode == "pooled":
                problems.append(f"{field}.services.{svc}.capacity: {svc} is pooled; set its capacity for the system")
        for target, arrivals in place.arrivals.items():
            if target not in s.services and target not in s.routes:
                problems.append(f"{field}.arrivals.{target}: not a service or a route")
            problems += _series_problems(f"{field}.arrivals.{target}", arrivals, s)
        for name, state in place.initial_state.items():
            problems += _state_problems(f"{field}.initial_state.{name}", name, state, s)
        problems += _event_problems(f"{field}.capacity_events", place.capacity_events, s)
    return problems


def _edges(s: Scenario, positive: bool = True) -> dict[str, set[str]]:
    """Who can go where: with a chance above zero, or (positive=False) anywhere a table names."""
    edges: dict[str, set[str]] = {}
    for name, service in s.services.items():
        out = {service.then}
        if isinstance(service, ResponseTeam):
            out |= {service.give_up_to, *service.handover_to}
        edges[name] = out
    for name, route in s.routes.items():
        edges[name] = {d for _, table in route.tables() for d, p in table.items() if p > 0 or not positive}
    if not positive:  # people who went home from there may later go on (a way in, never a way out)
        for entry in s.afterwards.values():
            for origin in entry.after:
                edges.setdefault(origin.partition(".")[0], set()).add(entry.to)
    return edges


def _flow_problems(s: Scenario) -> list[str]:
    edges = _edges(s)
    starts = set(s.arrivals) | {n for p in s.places.values() for n in p.arrivals}
    starts |= {n for n, st in s.initial_state.items() if st is not None and (st.occupied or st.waiting)}
    starts |= {n for p in s.places.values() for n, st in p.initial_state.items() if st and (st.occupied or st.waiting)}
    if s.demand.crises_per_year > 0 or any(p.crises_per_year for p in s.places.values()):
        starts.add(s.demand.enters)
    problems = []
    if not starts:
        problems.append(
            "demand.crises_per_year: nobody enters the system: give demand.crises_per_year, arrivals or an initial_state"
        )
        return problems
    # A service is reachable if any table names it, even at a chance of zero: a lever turned down to
    # nothing (no referrals to UCR) is a what-if, not a mistake.
    named = _edges(s, positive=False)
    seen, todo = set(starts), deque(starts)
    while todo:
        for nxt in named.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for name in s.services:
        if name not in seen:
            problems.append(
                f"services.{name}: nobody can reach it (no route, arrival or initial state leads here);"
                " remove it or route people to it"
            )
    # A way out: every node someone can reach must lead, in some steps, to an end.
    leads_out = set(ENDS)
    changed = True
    while changed:
        changed = False
        for node, outs in edges.items():
            if node not in leads_out and outs & leads_out:
                leads_out.add(node)
                changed = True
    trapped = sorted(n for n in seen if n not in leads_out and n in edges)
    if trapped:
        # Blame the first trapped route (or service's `then`) as the field to change.
        first = next((n for n in trapped if n in s.routes), trapped[0])
        field = f"routes.{first}" if first in s.routes else f"services.{first}.then"
        problems.append(
            f"{field}: no way out from {', '.join(trapped)}: their routes only lead back among themselves,"
            f" never to {', '.join(ENDS)}"
        )
    return problems


def validate(data: dict, file: str | Path, origins: dict[tuple, Path] | None = None) -> Scenario:
    """A Scenario from merged data, or ScenarioError with one line per problem."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(file, problems_from(exc, Scenario, file, origins)) from None
    labels.register(scenario)
    return scenario
