"""Names shown to people for the services, cost lines and measures of the scenarios this process has read.

KPI names are made from a scenario's own service, route and measure names,
so their labels come from the scenario too. Every validated scenario adds
its labels here; tables, reports and the app read them by name, and a name
no scenario labelled is shown tidied ("rehab_beds" as "Rehab beds").
"""

from __future__ import annotations

from typing import Any

SERVICES: dict[str, str] = {}
COSTS: dict[str, str] = {}
MEASURES: dict[str, tuple[str, str, str]] = {}  # name -> (label, unit, description)
KINDS: dict[str, str] = {}  # service -> its kind


def tidy(name: str) -> str:
    return name.replace("_", " ").capitalize()


def register(scenario: Any) -> None:
    for name, spec in scenario.services.items():
        label = spec.label or tidy(name)
        SERVICES[name] = label
        KINDS[name] = spec.kind
        for cost in spec.costs:
            if cost.name:
                COSTS[cost.name] = cost.label or tidy(cost.name)
            else:
                COSTS.setdefault(name, label)
    for name, measure in scenario.measures.items():
        MEASURES[name] = (measure.label, measure.unit, measure.description)
    for name, entry in scenario.afterwards.items():
        MEASURES[f"later.{name}"] = (entry.label or f"Later: {tidy(name).lower()}", "people",
                                     f"people who went home from {', '.join(entry.after)} and later went to {entry.to}")


def service(name: str) -> str:
    return SERVICES.get(name) or tidy(name)


def cost_line(name: str) -> str:
    if name.endswith("_out_of_area"):
        return f"{service(name[: -len('_out_of_area')])}: out of area"
    if name.endswith("_escalation"):
        return f"{service(name[: -len('_escalation')])}: escalation or bought capacity"
    return COSTS.get(name) or SERVICES.get(name) or tidy(name)


def long_term(name: str) -> bool:
    """A service whose stays last years (its census needs no warm-up to settle; docs/warm-up.md)."""
    return KINDS.get(name) == "long_term"
