"""Unit costs applied to a replication's activity, and who pays: NHS, council or the person.

Each service states its own unit costs (`costs:` in its definition), each
counted per occupied day or week, per episode, per arrival, per response, per
hour of care committed or per visit-hour delivered. Short-term activity is
costed in the measured period; a long-term placement at the whole cost it
commits when it starts. Means-tested services split by the person's funding:
the council pays for council-funded people, shares with partial funders, and
self-funders pay the self-funder rate themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.pathway.kinds import LongTermUnit, ResponseUnit, Unit, VisitsUnit

if TYPE_CHECKING:
    from sim.pathway.model import Model
    from sim.scenario.services import UnitCost

PAYERS = ("nhs", "council", "self_funder")
PER_DAYS = {"day": 1.0, "week": 7.0}
PERIOD = "activity in period"
COMMITTED = "committed by new placements"


@dataclass(frozen=True)
class CostLine:
    service: str
    payer: str
    basis: str          # PERIOD or COMMITTED
    activity: float
    activity_unit: str
    unit_cost_gbp: float
    cost_gbp: float


def _line(name: str, price: "UnitCost", basis: str, activity: float, unit: str) -> CostLine:
    payer = "council" if price.payer == "means_tested" else price.payer
    return CostLine(name, payer, basis, activity, unit, price.gbp, activity * price.gbp)


def _activity(unit: Unit, per: str) -> tuple[float, str]:
    """The activity a unit cost is counted on, in the measured period."""
    if per in PER_DAYS:
        return unit.slots.area_in_use / PER_DAYS[per], f"occupied {per}s"
    if per == "episode":
        return unit.admissions, "episodes started"
    if per == "arrival":
        return unit.arrivals, "arrivals"
    if per == "response" and isinstance(unit, ResponseUnit):
        return unit.responses, "responses"
    if per == "visit_hour" and isinstance(unit, VisitsUnit):
        return unit.visit_hours, "visit-hours"
    raise ValueError(f"{unit.name}: cannot cost a {unit.kind} service per {per}")


def _committed(model: "Model", unit: LongTermUnit, name: str, price: "UnitCost") -> list[CostLine]:
    if price.per == "hour":
        amounts, label = unit.committed_hours, "hours"
    elif price.per == "episode":
        amounts, label = {k: float(v) for k, v in unit.placements.items()}, "placements"
    else:
        per = PER_DAYS[price.per]
        amounts, label = {k: v / per for k, v in unit.committed_days.items()}, f"{price.per}s"
    if price.payer != "means_tested":
        total = sum(amounts.values())
        return [CostLine(name, price.payer, COMMITTED, total, label, price.gbp, total * price.gbp)]
    funding = model.scenario.funding
    share = funding.partial_contribution
    self_rate = price.self_funder_gbp if price.self_funder_gbp is not None else price.gbp
    partial = amounts["partial"]
    return [
        CostLine(name, "council", COMMITTED, amounts["council"], label, price.gbp, amounts["council"] * price.gbp),
        CostLine(name, "council", COMMITTED, partial, label + " (partly funded)", price.gbp * (1 - share),
                 partial * price.gbp * (1 - share)),
        CostLine(name, "self_funder", COMMITTED, partial, label + " (partly funded)", price.gbp * share,
                 partial * price.gbp * share),
        CostLine(name, "self_funder", COMMITTED, amounts["self"], label + " (self-funded)", self_rate,
                 amounts["self"] * self_rate),
    ]


def cost_lines(model: "Model") -> list[CostLine]:
    """Every cost of the measured period, one line per service, cost and payer."""
    lines = _merged([line for _, line in unit_cost_lines(model)])
    # In a fixed order, so sums of them are the same to the last bit however the scenario's keys are ordered.
    return sorted(lines, key=lambda c: (c.service, c.payer, c.basis, c.activity_unit, c.unit_cost_gbp))


def unit_cost_lines(model: "Model") -> list[tuple[Unit, CostLine]]:
    """Every cost of the measured period, with the unit (service in a place) it belongs to."""
    lines: list[tuple[Unit, CostLine]] = []
    for unit in model.unit_list:
        def add(new: list[CostLine], unit: Unit = unit) -> None:
            lines.extend((unit, line) for line in new)

        for price in unit.spec.costs:
            name = price.name or unit.name
            if isinstance(unit, LongTermUnit) and price.per not in ("arrival",):
                add(_committed(model, unit, name, price))
            else:
                activity, label = _activity(unit, price.per)
                add([_line(name, price, PERIOD, activity, label)])
        if unit.escalation is not None:
            add([_extra_capacity_line(unit)])
        sharing = model.scenario.sharing.get(unit.name)
        if sharing is not None and sharing.out_of_area_cost_gbp and unit.placed_away:
            payer = next((("council" if c.payer == "means_tested" else c.payer) for c in unit.spec.costs), "nhs")
            fee = sharing.out_of_area_cost_gbp
            add([CostLine(f"{unit.name}_out_of_area", payer, PERIOD, unit.placed_away,
                          "placements out of area", fee, unit.placed_away * fee)])
    return lines


def _extra_capacity_line(unit: Unit) -> CostLine:
    """Escalation beds or bought care: each unit of capacity a day it is open, at its premium."""
    extra = unit.escalation
    spec = extra.spec
    return CostLine(f"{unit.name}_escalation", spec.payer, PERIOD, extra.capacity_days, "extra capacity-days open",
                    spec.gbp_per_day, extra.capacity_days * spec.gbp_per_day)


def _merged(lines: list[CostLine]) -> list[CostLine]:
    """Units of one service in several places add up to one line per service, cost and payer."""
    out: dict[tuple, CostLine] = {}
    for line in lines:
        key = (line.service, line.payer, line.basis, line.activity_unit, line.unit_cost_gbp)
        if key in out:
            old = out[key]
            line = CostLine(line.service, line.payer, line.basis, old.activity + line.activity,
                            line.activity_unit, line.unit_cost_gbp, old.cost_gbp + line.cost_gbp)
        out[key] = line
    return list(out.values())
