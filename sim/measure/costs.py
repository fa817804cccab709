"""Unit costs applied to a replication's activity, year by year, and who pays: NHS, council or the person.

Each service states its own unit costs (`costs:` in its definition), each
counted per occupied day or week, per episode, per arrival, per response, per
hour of care or per visit-hour delivered. Every line falls in one year of the
measured period (year 1 starts on its day 0) and carries its cost discounted
to day 0 (the scenario's `economics.discount_rate`, 3.5% a year if it states
none; a day's activity is discounted at the middle of the day). Two bases:

- `PERIOD`, activity in the period: cash in the year it is spent. Short-term
  services' activity on the days it happened; long-term care as occupancy,
  each day in care paid by whoever pays that day (people already in care when
  the run starts included, self-funders whose savings ran down paid for by
  the council).
- `COMMITTED`, committed by new placements: the whole drawn stay of each
  long-term placement started in the year, booked in that year (the economic
  view, never cash); discounted along the stay.

Means-tested services split by the person's funding on the day: the council
pays for council-funded people, shares with partial funders, and self-funders
pay the self-funder rate themselves.

The cost KPIs (`cost.<payer>`, `cost.total`) add the lines `in_totals` keeps:
short-term activity in the period and long-term care at the cost new
placements commit, as before the years were kept; long-term care's cash in
the period is the same care seen year by year and is left out of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.pathway import ledger
from sim.pathway.kinds import LongTermUnit, ResponseUnit, Unit, VisitsUnit
from sim.pathway.long_term import FUNDING, YEAR_DAYS, Book, Years

if TYPE_CHECKING:
    from sim.pathway.model import Model
    from sim.scenario.schema import Scenario
    from sim.scenario.services import UnitCost

PAYERS = ("nhs", "council", "self_funder")
PER_DAYS = {"day": 1.0, "week": 7.0}
PERIOD = "activity in period"
COMMITTED = "committed by new placements"

# Activity units of long-term care's cash in the period (occupancy and placements started), and of
# what new placements commit (the whole stay). Means-tested lines add " (partly funded)" or " (self-funded)".
IN_CARE = {"day": "days in care", "week": "weeks in care", "hour": "hours of care", "episode": "placements started"}
COMMITS = {"day": "days", "week": "weeks", "hour": "hours", "episode": "placements"}
PARTLY, SELF = " (partly funded)", " (self-funded)"


@dataclass(frozen=True)
class CostLine:
    service: str
    payer: str
    basis: str          # PERIOD or COMMITTED
    activity: float
    activity_unit: str
    unit_cost_gbp: float
    cost_gbp: float
    year: int           # 1-based year of the measured period the cost falls in (a placement: the year it starts)
    discounted_gbp: float  # cost_gbp discounted to day 0 of the measured period


def in_totals(line: CostLine) -> bool:
    """Whether the line adds to the cost KPIs: all but long-term care's cash in the period (counted once)."""
    return not (line.basis == PERIOD and line.activity_unit.split(" (")[0] in IN_CARE.values())


def _payer(price: "UnitCost") -> str:
    return "council" if price.payer == "means_tested" else price.payer


def _line(name: str, price: "UnitCost", basis: str, activity: float, unit: str, year: int = 1,
          discounted_activity: float | None = None) -> CostLine:
    discounted = activity if discounted_activity is None else discounted_activity
    return CostLine(name, _payer(price), basis, activity, unit, price.gbp, activity * price.gbp, year,
                    discounted * price.gbp)


# --- short-term activity, from the day-by-day ledger -------------------------------------------

def _count(unit: Unit, per: str) -> tuple[str, float, str]:
    """The ledger's count a unit cost is counted on, its divisor, and the activity's name."""
    if per in PER_DAYS:
        return "occupied", PER_DAYS[per], f"occupied {per}s"
    if per == "episode":
        return "admissions", 1.0, "episodes started"
    if per == "arrival":
        return "arrivals", 1.0, "arrivals"
    if per == "response" and isinstance(unit, ResponseUnit):
        return "responses", 1.0, "responses"
    if per == "visit_hour" and isinstance(unit, VisitsUnit):
        return "visit_hours", 1.0, "visit-hours"
    raise ValueError(f"{unit.name}: cannot cost a {unit.kind} service per {per}")


def _by_year(model: "Model", unit: Unit, count: str) -> tuple[np.ndarray, np.ndarray]:
    """A unit's activity in each year of the measured period, and its value discounted to day 0."""
    years: Years = model.years
    daily = ledger.by_day(model, model.unit_list.index(unit), count)
    days = np.arange(len(daily))
    factors = np.exp(-np.log1p(years.rate) * (days + 0.5) / YEAR_DAYS)
    year = np.minimum(days // int(YEAR_DAYS), years.count - 1)
    return (np.bincount(year, daily, years.count), np.bincount(year, daily * factors, years.count))


def _activity_lines(model: "Model", unit: Unit, name: str, price: "UnitCost") -> list[CostLine]:
    count, per, label = _count(unit, price.per)
    amounts, discounted = _by_year(model, unit, count)
    return [_line(name, price, PERIOD, float(a) / per, label, y + 1, float(d) / per)
            for y, (a, d) in enumerate(zip(amounts, discounted))]


# --- long-term care ------------------------------------------------------------------------------

def _book(unit: LongTermUnit, price: "UnitCost", basis: str) -> tuple[Book, float, str]:
    """The book a long-term cost is counted on, its divisor, and the activity's name."""
    care = unit.care
    names = IN_CARE if basis == PERIOD else COMMITS
    if price.per == "hour":
        book = care.hours if basis == PERIOD else care.committed_hours
        return book, 1.0, names["hour"]
    if price.per == "episode":
        return care.placements, 1.0, names["episode"]
    book = care.days if basis == PERIOD else care.committed_days
    return book, PER_DAYS[price.per], names[price.per]


def _means_tested(scenario: "Scenario", name: str, price: "UnitCost", basis: str, year: int, label: str,
                  amount: dict[str, float], discounted: dict[str, float]) -> list[CostLine]:
    """One year's care split by the means test (amounts by funding: council, partial, self)."""
    if price.payer != "means_tested":
        total, total_pv = sum(amount.values()), sum(discounted.values())
        return [CostLine(name, price.payer, basis, total, label, price.gbp, total * price.gbp, year,
                         total_pv * price.gbp)]
    share = scenario.funding.partial_contribution
    self_rate = price.self_funder_gbp if price.self_funder_gbp is not None else price.gbp
    council_rate, person_rate = price.gbp * (1 - share), price.gbp * share
    out = []
    for payer, funding, unit_label, rate in (
        ("council", "council", label, price.gbp),
        ("council", "partial", label + PARTLY, council_rate),
        ("self_funder", "partial", label + PARTLY, person_rate),
        ("self_funder", "self", label + SELF, self_rate),
    ):
        a = amount[funding]
        out.append(CostLine(name, payer, basis, a, unit_label, rate, a * rate, year, discounted[funding] * rate))
    return out


def _long_term_lines(model: "Model", unit: LongTermUnit, name: str, price: "UnitCost") -> list[CostLine]:
    out = []
    for basis in (PERIOD, COMMITTED):
        book, per, label = _book(unit, price, basis)
        for y in range(unit.care.years.count):
            amount = {f: values[y] / per for f, values in book.amount.items()}
            discounted = {f: values[y] / per for f, values in book.discounted.items()}
            out.extend(_means_tested(model.scenario, name, price, basis, y + 1, label, amount, discounted))
    return out


def _out_of_area(model: "Model", unit: Unit) -> list[CostLine]:
    sharing = model.scenario.sharing.get(unit.name)
    if sharing is None or not sharing.out_of_area_cost_gbp:
        return []
    payer = next((_payer(c) for c in unit.spec.costs), "nhs")
    fee = sharing.out_of_area_cost_gbp
    amounts, discounted = _by_year(model, unit, "placed_away")
    return [CostLine(f"{unit.name}_out_of_area", payer, PERIOD, float(a), "placements out of area", fee,
                     float(a) * fee, y + 1, float(d) * fee)
            for y, (a, d) in enumerate(zip(amounts, discounted)) if a]


# --- entry points --------------------------------------------------------------------------------

def _key(c: CostLine) -> tuple:
    return (c.service, c.payer, c.basis, c.year, c.activity_unit, c.unit_cost_gbp)


def cost_lines(model: "Model") -> list[CostLine]:
    """Every cost of the measured period, one line per service, cost, payer and year."""
    lines = _merged([line for _, line in unit_cost_lines(model)])
    # In a fixed order, so sums of them are the same to the last bit however the scenario's keys are ordered.
    return sorted(lines, key=_key)


def unit_cost_lines(model: "Model") -> list[tuple[Unit, CostLine]]:
    """Every cost of the measured period, with the unit (service in a place) it belongs to."""
    lines: list[tuple[Unit, CostLine]] = []
    for unit in model.unit_list:
        for price in unit.spec.costs:
            name = price.name or unit.name
            if isinstance(unit, LongTermUnit) and price.per != "arrival":
                new = _long_term_lines(model, unit, name, price)
            else:
                new = _activity_lines(model, unit, name, price)
            lines.extend((unit, line) for line in new)
        lines.extend((unit, line) for line in _out_of_area(model, unit))
        if unit.escalation is not None:
            lines.extend((unit, line) for line in _extra_capacity_lines(model, unit))
    return lines


def _extra_capacity_lines(model: "Model", unit: Unit) -> list[CostLine]:
    """Escalation beds or bought care: each unit of capacity a day it is open, at its premium, year by year."""
    spec = unit.escalation.spec
    amounts, discounted = _by_year(model, unit, "extra_capacity")
    return [CostLine(f"{unit.name}_escalation", spec.payer, PERIOD, float(a), "extra capacity-days open",
                     spec.gbp_per_day, float(a) * spec.gbp_per_day, y + 1, float(d) * spec.gbp_per_day)
            for y, (a, d) in enumerate(zip(amounts, discounted))]


def sort_key(line: CostLine) -> tuple:
    """The order cost lines are kept in (by service, payer, basis, year, activity and unit cost)."""
    return _key(line)


def price_table(scenario: "Scenario") -> dict[tuple[str, str, str, str], float]:
    """The unit cost of each line the scenario's `costs:` make, keyed (line name, payer, basis, activity unit)."""
    out: dict[tuple[str, str, str, str], float] = {}
    nothing = dict.fromkeys(FUNDING, 0.0)
    labels = {"day": "occupied days", "week": "occupied weeks", "episode": "episodes started",
              "arrival": "arrivals", "response": "responses", "visit_hour": "visit-hours"}
    for service, spec in scenario.services.items():
        for price in spec.costs:
            name = price.name or service
            if spec.kind == "long_term" and price.per != "arrival":
                for basis, names in ((PERIOD, IN_CARE), (COMMITTED, COMMITS)):
                    for line in _means_tested(scenario, name, price, basis, 1, names[price.per], nothing, nothing):
                        out[(line.service, line.payer, line.basis, line.activity_unit)] = line.unit_cost_gbp
                continue
            out[(name, _payer(price), PERIOD, labels[price.per])] = price.gbp
    return out


def _merged(lines: list[CostLine]) -> list[CostLine]:
    """Units of one service in several places add up to one line per service, cost, payer and year."""
    out: dict[tuple, CostLine] = {}
    for line in lines:
        key = _key(line)
        if key in out:
            old = out[key]
            line = CostLine(line.service, line.payer, line.basis, old.activity + line.activity,
                            line.activity_unit, line.unit_cost_gbp, old.cost_gbp + line.cost_gbp, line.year,
                            old.discounted_gbp + line.discounted_gbp)
        out[key] = line
    return list(out.values())

