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

from sim.distributions import Distribution
from sim.kpis import SERVICE_LABELS
from sim.scenario import Scenario

Kind = Literal["count", "capacity", "number", "share", "mean_days", "money"]
# The highest unit cost a lever offers, by what it is per: several times today's dearest (a scenario's own
# higher value still shows; the lever's range then stretches to it).
COST_CEILING = {"attendance": 5_000, "response": 5_000, "day": 5_000, "week": 20_000, "hour": 250, "episode": 50_000}
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


def _get(data: dict, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def _distribution(scenario: Scenario, path: str) -> Distribution:
    node: Any = scenario
    for part in path.split("."):
        node = getattr(node, part)
    return node


def groups(scenario: Scenario) -> list[Group]:
    """The levers for this scenario, grouped as the page shows them."""
    return [
        Group("Demand and urgent community response (UCR)", (
            Lever("demand.crises_per_year", "Crises a year, people 65+", "crises/year", "number", 0, 500_000, 500,
                  "Crises reaching 111, 999, the GP or ED that need more than advice"),
            Lever("referral.multiplier", "UCR referral multiplier", "x", "number", 0, 3, 0.05,
                  "Scales both referral shares (awareness of UCR); 1.7 = Connect's +70%"),
            Lever("referral.ucr_share_suitable", "UCR-suitable crises referred to UCR", "%", "share", 0, 100, 1),
            Lever("services.urgent_response.capacity", "UCR capacity", "responses at once", "capacity", 0, 2000, 1,
                  "Empty = unlimited"),
            Lever("services.urgent_response.success_probability", "Suitable referrals kept at home", "%", "share",
                  0, 100, 1),
        )),
        Group("Beds", (
            Lever("services.acute.beds", "Acute beds (65+)", "beds", "capacity", 0, 20_000, 10, "Empty = unlimited"),
            Lever("services.community_beds.beds", "Community hospital beds", "beds", "capacity", 0, 5000, 1,
                  "Empty = unlimited"),
            Lever("services.temporary_residential.beds", "Temporary residential beds", "beds", "capacity", 0, 5000, 1,
                  "Empty = unlimited"),
            Lever("services.acute.los_days", "Acute length of stay until fit to leave, mean", "days", "mean_days",
                  0.5, 60, 0.5, "The whole distribution is scaled, keeping its shape"),
            Lever("services.community_beds.los_days", "Community hospital length of stay, mean", "days", "mean_days",
                  1, 180, 1, "The whole distribution is scaled, keeping its shape"),
        )),
        Group("Reablement", (
            Lever("services.reablement.capacity", "Reablement caseload", "people at once", "capacity", 0, 10_000, 5,
                  "Empty = unlimited (or set by a workforce in the YAML)"),
            Lever("services.reablement.los_days", "Reablement length of stay, mean", "days", "mean_days", 1, 90, 0.5,
                  "The whole distribution is scaled, keeping its shape"),
        )),
        Group("Pathway splits", _pathway_levers(scenario)),
        Group(f"Unit costs ({scenario.costs.price_year} prices)", _cost_levers(scenario)),
        Group("Run settings", (
            Lever("run.replications", "Replications", "runs", "count", 1, 1000, 1,
                  "More replications give narrower 95% confidence intervals"),
            Lever("run.seed", "Random seed", "", "count", 0, 2**32 - 1, 1,
                  "Same scenario and seed give identical results on any machine"),
            Lever("run.horizon_days", "Measured period", "days", "count", 1, 3650, 1),
            Lever("run.warmup_days", "Warm-up before measuring", "days", "count", 0, 3650, 1),
        )),
    ]


def _pathway_levers(scenario: Scenario) -> tuple[Lever, ...]:
    levers = [
        Lever("discharge.pathway_1.reablement", "Pathway 1: to reablement", "%", "share", 0, 100, 1,
              "The rest get a home care package", balance="discharge.pathway_1.home_care"),
        Lever("discharge.pathway_2.community_beds", "Pathway 2: to a community hospital bed", "%", "share", 0, 100, 1,
              "The rest go to a temporary residential bed", balance="discharge.pathway_2.temporary_residential"),
        Lever("discharge.care_home.residential_care", "Care home moves: to residential care", "%", "share", 0, 100, 1,
              "The rest go to nursing care", balance="discharge.care_home.nursing_care"),
    ]
    for group in scenario.need_groups:
        base = f"need_groups.{group}.discharge_pathway"
        for pathway, what in (("P1", "home with support"), ("P2", "short-term bed"), ("P3", "care home")):
            levers.append(Lever(f"{base}.{pathway}", f"{group.capitalize()} frailty: {pathway}, {what}", "%",
                                "share", 0, 100, 0.1, "P0 (home, no new support) takes the rest",
                                balance=f"{base}.P0"))
    return tuple(levers)


def _cost_levers(scenario: Scenario) -> tuple[Lever, ...]:
    labels = {"ed_attendance": "ED attendance", **SERVICE_LABELS}
    levers = []
    for name in type(scenario.costs).model_fields:
        if name == "price_year":
            continue
        cost = getattr(scenario.costs, name)
        levers.append(Lever(f"costs.{name}.gbp", labels.get(name, name.replace("_", " ")), f"£ per {cost.per}",
                            "money", 0, COST_CEILING[cost.per], 1, f"Paid by {PAID_BY.get(cost.payer, cost.payer.replace('_', ' '))}"))
    return tuple(levers)


def shown(scenario: Scenario, lever: Lever) -> float | int | None:
    """The value a lever shows for a scenario, in the lever's unit."""
    if lever.kind == "mean_days":
        return _distribution(scenario, lever.path).mean()
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
