"""Prices in one year: each unit cost inflated from its source's price year to the scenario's.

A unit cost with no `price_year` is taken to be at the scenario's price year already (factor 1).
The index is the NHS Cost Inflation Index, pay and prices (sim/scenario/price_index.py has its source).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.scenario import price_index


@dataclass(frozen=True)
class Price:
    line: str            # the cost line's name (sim.measure.costs: the price's name, or its service's)
    service: str
    kind: str            # the service's kind
    per: str
    payer: str
    gbp: float
    self_funder_gbp: float | None
    price_year: str
    factor: float        # to the scenario's price year

    @property
    def inflated(self) -> float:
        return self.gbp * self.factor


def to_price_year(gbp: float, from_year: str | None, scenario) -> float:
    """Pounds of `from_year` (None: the scenario's price year) in the scenario's price year."""
    target = scenario.economics.price_year
    return gbp * price_index.factor(from_year or target, target)


def prices(scenario) -> dict[str, Price]:
    """Every unit cost of the scenario, by the name of the cost line it makes."""
    target = scenario.economics.price_year
    out = {}
    for service, spec in sorted(scenario.services.items()):
        for price in spec.costs:
            year = price.price_year or target
            name = price.name or service
            out[name] = Price(name, service, spec.kind, price.per, price.payer, price.gbp, price.self_funder_gbp,
                              year, price_index.factor(year, target))
    return out


def factors(scenario) -> dict[str, float]:
    """Cost line name -> factor to the scenario's price year (lines not made from `costs:` have none: 1)."""
    return {name: p.factor for name, p in prices(scenario).items()}


def unit_cost_table(scenario) -> pd.DataFrame:
    """The report's list of unit costs: service, what it is counted per, payer, source, price year, inflated."""
    sources = scenario.sources
    rows = []
    for p in prices(scenario).values():
        rows.append({
            "service": p.service, "cost": p.line, "per": p.per, "payer": p.payer,
            "gbp": p.gbp, "self_funder_gbp": p.self_funder_gbp, "price_year": p.price_year,
            "factor": p.factor, "inflated_gbp": p.inflated,
            "inflated_self_funder_gbp": p.self_funder_gbp * p.factor if p.self_funder_gbp is not None else None,
            "source": sources.get(f"services.{p.service}.costs", ""),
        })
    return pd.DataFrame(rows, columns=["service", "cost", "per", "payer", "gbp", "self_funder_gbp", "price_year", "factor",
                                       "inflated_gbp", "inflated_self_funder_gbp", "source"])
