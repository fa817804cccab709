"""The levers a planner can pull in the app: which scenario fields, their labels, units and sensible ranges.

A lever shows a value in the unit people think in (percent, mean days, £ per
bed-day) and turns an edited value back into dotted-path changes for
`Scenario.with_changes`, so the app validates exactly as the command line
does. Untouched levers change nothing: the edited scenario differs from the
one loaded only where the planner moved a lever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sim.random.distributions import Distribution
from sim.scenario import labels
from sim.scenario import Scenario

Kind = Literal["count", "capacity", "number", "share", "mean_days", "money"]
# The highest unit cost a lever offers, by what it is per: several times today's dearest (a scenario's own
# higher value still shows; the lever's range then stretches to it).
COST_CEILING = {"arrival": 5_000, "response": 5_000, "day": 5_000, "week": 20_000, "hour": 250, "visit_hour": 250,
                "episode": 50_000}
# Who pays, in the words the report and the command line use (NHS, council, self-funders).
PAID_BY = {"nhs": "the NHS", "council": "the council",
           "means_tested": "the council and self-funders, as the means test splits it"}
DIGITS = 10  # rounding of shares and balances, so 1 - 0.82 is stored as 0.18, not 0.18000000000000005


@dataclass(frozen=True)
class Lever:
    path: str          # dotted field of the scenario
    label: str
    unit: str          # shown after the label
    kind: Kind         # share: shown in %; mean_days: a distribution shown by its mean; capacity: empty = unlimited
    low: float
    high: float
    step: float
    help: str = ""
    balance: str | None = None  # share: the field that takes up the change, so that a split still sums to one


@dataclass(frozen=True)
class Group:
    title: str
    levers: tuple[Lever, ...]


def _step(node: Any, part: str) -> Any:
    if isinstance(node, list):
        return node[int(part)]
    if isinstance(node, dict):
        return node[part]
    return getattr(node, part)


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = _step(data, part)
    return data


def _distribution(scenario: Scenario, path: str) -> Distribution:
    return _get(scenario, path)


def groups(scenario: Scenario) -> list[Group]:
    """The levers for this scenario, grouped as the page shows them: all made from its own services and routes."""
    return [
        Group("Demand", _demand_levers(scenario)),
        Group("Capacity and lengths of stay", _service_levers(scenario)),
        Group("Where people go next", _route_levers(scenario)),
        Group(f"Unit costs ({scenario.economics.price_year} prices)", _cost_levers(scenario)),
        Group("Run settings", (
            Lever("run.replications", "Replications", "runs", "count", 1, 1000, 1,
                  "More replications give narrower 95% confidence intervals"),
            Lever("run.seed", "Random seed", "", "count", 0, 2**32 - 1, 1,
                  "Same scenario and seed give identical results on any machine"),
            Lever("run.horizon_days", "Measured period", "days", "count", 1, 3650, 1),
            Lever("run.warmup_days", "Warm-up before measuring", "days", "count", 0, 3650, 1),
        )),
    ]


def _demand_levers(scenario: Scenario) -> tuple[Lever, ...]:
    levers = [Lever("demand.crises_per_year", "Crises a year", "crises/year", "number", 0, 500_000, 500,
                    "Crises reaching 111, 999, the GP or ED that need more than advice")]
    for route_name, route in scenario.routes.items():
        for dest in sorted(route.destinations()):
            spec = scenario.services.get(dest)
            if spec is not None and spec.kind == "response_team":
                levers.append(Lever(f"routes.{route_name}.scale.{dest}", f"Referrals to {labels.service(dest).lower()}",
                                    "x", "number", 0, 3, 0.05,
                                    "Multiplies the share referred (capped at 100%); 1.7 = a 70% rise"))
    return tuple(levers)


def _service_levers(scenario: Scenario) -> tuple[Lever, ...]:
    levers = []
    for name, spec in scenario.services.items():
        label = labels.service(name)
        if spec.kind == "visits":
            levers.append(Lever(f"services.{name}.workforce.visit_hours_per_day", f"{label}: staff visit-hours a day",
                                "hours/day", "number", 0, 100_000, 10))
        elif spec.kind != "unlimited":
            levers.append(Lever(f"services.{name}.capacity", f"{label}: capacity",
                                "places" if spec.kind != "response_team" else "responses at once", "capacity",
                                0, 20_000, 1, "Empty = unlimited"))
        stay = "duration_days" if spec.kind in ("long_term", "response_team") else "los_days"
        levers.append(Lever(f"services.{name}.{stay}", f"{label}: length of stay, mean", "days", "mean_days",
                            0.1, 5000, 0.5, "The whole distribution is scaled, keeping its shape"))
        if getattr(spec, "discharge_process", None) is not None:
            levers.append(Lever(f"services.{name}.discharge_process.days", f"{label}: discharge process, mean",
                                "days", "mean_days", 0.1, 5000, 0.5,
                                "Days from ready to leave until the next step can take them (assessments, "
                                "decisions); the whole distribution is scaled"))
    return tuple(levers)


def _destination(name: str) -> str:
    return labels.service(name) if name in labels.SERVICES else name.replace("_", " ")


def _table_levers(path: str, title: str, table: dict[str, float]) -> list[Lever]:
    """A lever per destination but one: the likeliest, which takes up the change so the split still sums to one."""
    names = list(table)
    if len(names) < 2:
        return []
    balance = max(names, key=lambda dest: table[dest])
    return [Lever(f"{path}.{dest}", f"{title}: to {_destination(dest)}", "%", "share", 0, 100, 0.1,
                  f"{_destination(balance)} takes up the change", balance=f"{path}.{balance}")
            for dest in names if dest != balance]


def _route_levers(scenario: Scenario) -> tuple[Lever, ...]:
    levers: list[Lever] = []
    for name, route in scenario.routes.items():
        title = route.label or name.replace("_", " ")
        title = title[:1].upper() + title[1:]
        if route.to is not None:
            levers += _table_levers(f"routes.{name}.to", title, route.to)
        for group, sub in (route.by_group or {}).items():
            if sub.to is not None:
                levers += _table_levers(f"routes.{name}.by_group.{group}.to", f"{title} ({group})", sub.to)
    return tuple(levers)


def _cost_levers(scenario: Scenario) -> tuple[Lever, ...]:
    levers = []
    for name, spec in scenario.services.items():
        for i, cost in enumerate(spec.costs):
            levers.append(Lever(f"services.{name}.costs.{i}.gbp", labels.cost_line(cost.name or name),
                                f"£ per {cost.per.replace('_', ' ')}", "money", 0,
                                COST_CEILING.get(cost.per, 50_000), 1,
                                f"Paid by {PAID_BY.get(cost.payer, cost.payer.replace('_', ' '))}"))
    return tuple(levers)


def shown(scenario: Scenario, lever: Lever) -> float | int | None:
    """The value a lever shows for a scenario, in the lever's unit."""
    if lever.kind == "mean_days":
        return _distribution(scenario, lever.path).mean()
    if lever.path.split(".")[2:3] == ["scale"]:
        return _get(scenario.resolved, lever.path.rsplit(".", 1)[0]).get(lever.path.rsplit(".", 1)[1], 1.0)
    value = _get(scenario.resolved, lever.path)
    if lever.kind == "share":
        return round(value * 100, DIGITS)
    return value


def changes(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """Dotted-path changes for `Scenario.with_changes` from the levers' values (path -> shown value).

    Only levers whose value differs from the scenario's make a change. A share with a balance moves its
    balance the other way, so a split that summed to one still does.
    """
    by_path = {lever.path: lever for group in groups(scenario) for lever in group.levers}
    resolved = scenario.resolved
    out: dict[str, Any] = {}
    for path, value in values.items():
        lever = by_path[path]
        if value == shown(scenario, lever):
            continue
        if lever.kind == "share":
            new = round(value / 100, DIGITS)
            out[path] = new
            if lever.balance:
                before = out.get(lever.balance, _get(resolved, lever.balance))
                out[lever.balance] = round(before - (new - _get(resolved, path)), DIGITS)
        elif lever.kind == "mean_days":
            dist = _distribution(scenario, path)
            out[path] = dist.scaled(value / dist.mean()).model_dump(mode="json", by_alias=True, exclude_none=True)
        elif lever.kind in ("count", "capacity"):
            out[path] = None if value is None else int(value)
        else:
            out[path] = value
    return out
