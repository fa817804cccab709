"""Unit costs applied to a replication's activity, and who pays: NHS, council or the person.

Short-term services are costed on their activity in the measured period
(occupied bed-days, attendances, responses). Long-term care is costed as the
whole cost its new placements commit (see `sim.services.long_term_care`).
Means-tested services split by the person's funding: the council pays for
council-funded people, shares with partial funders, and self-funders pay the
self-funder rate themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenario import UnitCost

if TYPE_CHECKING:
    from sim.model import Model

PAYERS = ("nhs", "council", "self_funder")
PER_DAYS = {"day": 1.0, "week": 7.0}


@dataclass(frozen=True)
class CostLine:
    service: str
    payer: str
    basis: str          # "activity in period" or "committed by new placements"
    activity: float
    activity_unit: str
    unit_cost_gbp: float
    cost_gbp: float


def _lines_for_payer(service: str, price: UnitCost, basis: str, activity: float, unit: str) -> list[CostLine]:
    payer = price.payer if price.payer != "means_tested" else "council"
    return [CostLine(service, payer, basis, activity, unit, price.gbp, activity * price.gbp)]


def _means_tested(model: "Model", service: str, price: UnitCost, amounts: dict[str, float], unit: str) -> list[CostLine]:
    basis = "committed by new placements"
    if price.payer != "means_tested":
        total = sum(amounts.values())
        return [CostLine(service, price.payer, basis, total, unit, price.gbp, total * price.gbp)]
    funding = model.scenario.funding
    self_rate = price.self_funder_gbp if price.self_funder_gbp is not None else price.gbp
    partial = amounts["partial"]
    return [
        CostLine(service, "council", basis, amounts["council"], unit, price.gbp, amounts["council"] * price.gbp),
        CostLine(service, "council", basis, partial, unit + " (partly funded)",
                 price.gbp * (1 - funding.partial_contribution),
                 partial * price.gbp * (1 - funding.partial_contribution)),
        CostLine(service, "self_funder", basis, partial, unit + " (partly funded)",
                 price.gbp * funding.partial_contribution, partial * price.gbp * funding.partial_contribution),
        CostLine(service, "self_funder", basis, amounts["self"], unit + " (self-funded)", self_rate,
                 amounts["self"] * self_rate),
    ]


def cost_lines(model: "Model") -> list[CostLine]:
    costs = model.scenario.costs
    s = model.services
    period = "activity in period"
    lines: list[CostLine] = []
    lines += _lines_for_payer("ed_attendance", costs.ed_attendance, period, s.acute.ed_attendances, "attendances")
    ucr = costs.urgent_response
    if ucr.per == "response":
        lines += _lines_for_payer("urgent_response", ucr, period, s.urgent_response.responses, "responses")
    else:
        lines += _lines_for_payer("urgent_response", ucr, period, s.urgent_response.slots.area_in_use, "response-days")
    for name in ("acute", "community_beds", "temporary_residential"):
        price = getattr(costs, name)
        days = getattr(s, name).slots.area_in_use
        lines += _lines_for_payer(name, price, period, days / PER_DAYS[price.per], f"occupied bed-{price.per}s")
    price = costs.reablement
    if price.per == "episode":
        lines += _lines_for_payer("reablement", price, period, s.reablement.admissions, "episodes started")
    else:
        days = s.reablement.slots.area_in_use
        lines += _lines_for_payer("reablement", price, period, days / PER_DAYS[price.per], f"caseload-{price.per}s")
    lines += _means_tested(model, "home_care", costs.home_care, s.home_care.committed_hours, "hours")
    for name in ("residential_care", "nursing_care"):
        price = getattr(costs, name)
        per = PER_DAYS[price.per]
        amounts = {k: v / per for k, v in getattr(s, name).committed_days.items()}
        lines += _means_tested(model, name, price, amounts, f"{price.per}s")
    from sim.places import out_of_area_lines  # here: sim.places reads cost lines per place

    return lines + out_of_area_lines(model)
