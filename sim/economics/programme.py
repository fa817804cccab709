"""What the change costs, year by year and by payer, in pounds of the scenario's price year.

Capacity is paid for every year from its first, whether used or not; a running cost too; a one-off cost
in its year. The change's cost is the scenario's programme costs less the comparator's (a comparator with
programme costs of its own, such as an earlier phase, is netted off). A year the run measures only in part
carries that share of a yearly cost, so it meets savings measured over the same days.
"""

from __future__ import annotations

import pandas as pd

from sim.economics.prices import to_price_year


def yearly(scenario, years: int, measured: dict[int, float] | None = None) -> pd.DataFrame:
    """One row per programme cost and year: name, label, kind, payer, year, gbp (price year), source."""
    measured = measured or {}
    rows = []
    for cost in scenario.economics.programme_costs:
        amount = to_price_year(cost.per_year(), cost.price_year, scenario)
        for year in range(1, years + 1):
            if cost.kind == "one_off":
                gbp = amount if year == cost.year else 0.0
            else:
                gbp = amount * measured.get(year, 1.0) if year >= cost.year else 0.0
            rows.append({"name": cost.name, "label": cost.label, "kind": cost.kind, "payer": cost.payer,
                         "year": year, "gbp": gbp, "source": cost.source})
    return pd.DataFrame(rows, columns=["name", "label", "kind", "payer", "year", "gbp", "source"])


def by_payer_year(scenario, years: int, measured: dict[int, float] | None = None) -> dict[tuple[str, int], float]:
    table = yearly(scenario, years, measured)
    return {(payer, int(year)): float(g) for (payer, year), g in table.groupby(["payer", "year"])["gbp"].sum().items()}


def investment(scenario, comparator, years: int, measured: dict[int, float] | None = None) -> dict[tuple[str, int], float]:
    """(payer, year) -> what the change costs that payer that year: scenario less comparator programme costs."""
    scen, comp = by_payer_year(scenario, years, measured), by_payer_year(comparator, years, measured)
    keys = set(scen) | set(comp)
    return {k: scen.get(k, 0.0) - comp.get(k, 0.0) for k in keys}


def cost_table(scenario) -> pd.DataFrame:
    """The report's list of programme costs: what, kind, payer, units, a year or once, source, price year, inflated."""
    rows = []
    for c in scenario.economics.programme_costs:
        rows.append({"name": c.name, "label": c.label, "kind": c.kind, "payer": c.payer, "units": c.units,
                     "unit": c.unit, "gbp": c.gbp, "price_year": c.price_year, "first_year": c.year,
                     "per_year_gbp": to_price_year(c.per_year(), c.price_year, scenario), "source": c.source,
                     "service": c.service or ""})
    return pd.DataFrame(rows, columns=["name", "label", "kind", "payer", "units", "unit", "gbp", "price_year",
                                       "first_year", "per_year_gbp", "source", "service"])
