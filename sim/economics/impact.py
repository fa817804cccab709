"""Budget impact year by year, the discounted view and return on investment, by perspective.

The change starts on day 0 of the measured period; year y is days 365(y-1) to 365y-1 of it. For each year
and perspective (sim.economics.perspectives), over replications paired by common random numbers:

- cash_releasing: the comparator's cash less the scenario's (sim.economics.lines: episodes and hours
  bought, long-term care in that year). Positive = money saved.
- capacity_freed: place-days freed (comparator less scenario occupancy) valued at the marginal value the
  scenario states (economics.capacity_value); only for perspectives with a valued service. Capacity is
  never cash: it is not in the net.
- investment: what the change costs that year (sim.economics.programme). Positive = money spent.
- net: cash_releasing less investment. Positive = a net saving.

Budget impact is cash, undiscounted, in pounds of the price year (ISPOR budget-impact good practice).
The economic view discounts it to day 0 (mid-year) at the scenario's rate and at the sensitivity rate,
and adds the lifetime cost of the new placements avoided (COMMITTED lines, discounted by
sim.measure.costs with each placement's drawn survival). Return on investment is the discounted net over
the horizon per pound of discounted investment.

A comparison the simulator does not trust (sim.trust: a queue that grows all run) has no budget impact:
the tables are empty and the headline says why (sim.economics.headlines).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import trust
from sim.economics import discounting, lines, programme
from sim.economics.perspectives import PERSPECTIVES, SYSTEM
from sim.economics.prices import to_price_year
from sim.intervals import interval_row

if TYPE_CHECKING:
    from sim.results import ResultSet

YEAR_DAYS = 365
KINDS = ("cash_releasing", "capacity_freed", "investment", "net")
COLUMNS = ["year", "perspective", "kind", "mean", "ci_low", "ci_high"]
CAPACITY_COLUMNS = ["year", "service", "perspective", "measure", "unit", "mean", "ci_low", "ci_high"]
SUMMARY_COLUMNS = ["perspective", "measure", "unit", "mean", "ci_low", "ci_high"]
# Place-based services whose occupancy is capacity: long-term care is cash, visits are hours.
CAPACITY_KINDS = ("beds", "caseload", "response_team")


def years_measured(scenario) -> dict[int, float]:
    """Year (1-based) -> the share of it the run measures, up to the economics horizon."""
    days = scenario.run.horizon_days
    count = min(scenario.economics.horizon_years, math.ceil(days / YEAR_DAYS))
    return {y: (min(days, YEAR_DAYS * y) - YEAR_DAYS * (y - 1)) / YEAR_DAYS for y in range(1, count + 1)}


def comparable(rs: ResultSet) -> bool:
    """A scenario and its comparator whose difference the simulator trusts."""
    if "comparator" not in rs.scenarios or "scenario" not in rs.scenarios:
        return False
    return not trust.comparison_not_valid(trust.of_results(rs))


def _replications(rs: ResultSet, role: str) -> list[int]:
    return sorted(rs.kpis.loc[rs.kpis["role"] == role, "replication"].unique())


def _by_payer_year(rs: ResultSet, role: str, view: str, column: str = "gbp") -> dict[tuple[str, int], np.ndarray]:
    """(payer, year) -> amount per replication, for one role's lines of one view."""
    scen, comp = rs.scenarios["scenario"], rs.scenarios["comparator"]
    paid = lines.capacity_paid_services(scen, comp)
    costs = rs.costs[rs.costs["role"] == role]
    table = lines.classified(costs, rs.scenarios[role], paid)
    table = table[table["view"] == view]
    reps = _replications(rs, role)
    pivot = table.pivot_table(index="replication", columns=["payer", "year"], values=column, aggfunc="sum",
                              fill_value=0.0)
    pivot = pivot.reindex(index=reps, fill_value=0.0)
    return {(str(p), int(y)): pivot[(p, y)].to_numpy(dtype=float) for p, y in pivot.columns}


def _savings(rs: ResultSet, view: str, column: str = "gbp") -> dict[tuple[str, int], np.ndarray]:
    """(payer, year) -> comparator less scenario, per replication (paired)."""
    scen, comp = _by_payer_year(rs, "scenario", view, column), _by_payer_year(rs, "comparator", view, column)
    n = len(_replications(rs, "scenario"))
    zero = np.zeros(n)
    return {k: comp.get(k, zero) - scen.get(k, zero) for k in set(scen) | set(comp)}


def _sum(parts: dict[tuple[str, int], np.ndarray], payers: tuple[str, ...], year: int, n: int) -> np.ndarray:
    out = np.zeros(n)
    for payer in payers:
        if (payer, year) in parts:
            out = out + parts[(payer, year)]
    return out


def _service_payer(spec) -> str:
    payer = spec.costs[0].payer if spec.costs else "nhs"
    return "council" if payer == "means_tested" else payer


def _place_days(rs: ResultSet, role: str, years: dict[int, float]) -> pd.DataFrame:
    """Occupied place-days per replication, service and year (the daily census summed over the year's days)."""
    daily = rs.daily[(rs.daily["role"] == role) & (rs.daily["day"] >= 0)]
    daily = daily.assign(year=daily["day"] // YEAR_DAYS + 1)
    daily = daily[daily["year"].isin(list(years))]
    return daily.groupby(["replication", "service", "year"])["occupancy"].sum()


def capacity_freed(rs: ResultSet) -> pd.DataFrame:
    """Per year and place-based service: place-days and places freed (comparator less scenario), and their value
    where the scenario states a marginal value of a place-day (else not valued: NaN)."""
    if not comparable(rs):
        return pd.DataFrame(columns=CAPACITY_COLUMNS)
    scen = rs.scenarios["scenario"]
    years = years_measured(scen)
    reps = _replications(rs, "scenario")
    s_days, c_days = _place_days(rs, "scenario", years), _place_days(rs, "comparator", years)
    rows = []
    for service in sorted(scen.services):
        spec = scen.services[service]
        if spec.kind not in CAPACITY_KINDS:
            continue
        value = scen.economics.capacity_value.get(service)
        per_day = to_price_year(value.gbp_per_day, value.price_year, scen) if value else math.nan
        for year, share in years.items():
            freed = np.array([float(c_days.get((r, service, year), 0.0)) - float(s_days.get((r, service, year), 0.0))
                              for r in reps])
            days_in_year = share * YEAR_DAYS
            for measure, unit, values in (("place-days freed", "place-days", freed),
                                          ("places freed", "places", freed / days_in_year),
                                          ("value of place-days freed", "GBP", freed * per_day)):
                r = interval_row(values)
                rows.append({"year": year, "service": service, "perspective": _service_payer(spec),
                             "measure": measure, "unit": unit, "mean": r["mean"], "ci_low": r["ci_low"],
                             "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=CAPACITY_COLUMNS)


def _capacity_value(rs: ResultSet, years: dict[int, float]) -> dict[tuple[str, int], np.ndarray]:
    """(payer, year) -> value of place-days freed per replication, for services with a stated value."""
    scen = rs.scenarios["scenario"]
    reps = _replications(rs, "scenario")
    s_days, c_days = _place_days(rs, "scenario", years), _place_days(rs, "comparator", years)
    out: dict[tuple[str, int], np.ndarray] = {}
    for service, value in scen.economics.capacity_value.items():
        if scen.services[service].kind not in CAPACITY_KINDS:
            continue
        per_day = to_price_year(value.gbp_per_day, value.price_year, scen)
        payer = _service_payer(scen.services[service])
        for year in years:
            freed = np.array([float(c_days.get((r, service, year), 0.0)) - float(s_days.get((r, service, year), 0.0))
                              for r in reps])
            out[(payer, year)] = out.get((payer, year), np.zeros(len(reps))) + freed * per_day
    return out


def _paired_parts(rs: ResultSet):
    scen, comp = rs.scenarios["scenario"], rs.scenarios["comparator"]
    years = years_measured(scen)
    n = len(_replications(rs, "scenario"))
    cash = _savings(rs, lines.CASH)
    invest = programme.investment(scen, comp, max(years), years)
    valued = _capacity_value(rs, years)
    return years, n, cash, invest, valued


def budget_impact(rs: ResultSet) -> pd.DataFrame:
    """Year, perspective, kind, mean and 95% CI: the table written as budget_impact.csv."""
    if not comparable(rs):
        return pd.DataFrame(columns=COLUMNS)
    years, n, cash, invest, valued = _paired_parts(rs)
    valued_payers = {payer for payer, _ in valued}
    rows = []
    for year in years:
        for perspective, payers in PERSPECTIVES.items():
            saved = _sum(cash, payers, year, n)
            spent = np.full(n, sum(invest.get((p, year), 0.0) for p in payers))
            kinds = {"cash_releasing": saved}
            if set(payers) & valued_payers:
                kinds["capacity_freed"] = _sum(valued, payers, year, n)
            if perspective in SYSTEM:
                kinds["investment"] = spent
            kinds["net"] = saved - spent
            for kind, values in kinds.items():
                r = interval_row(values)
                rows.append({"year": year, "perspective": perspective, "kind": kind,
                             "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(perspective: str, measure: str, unit: str, values) -> dict:
    r = interval_row(values)
    return {"perspective": perspective, "measure": measure, "unit": unit, "mean": r["mean"],
            "ci_low": r["ci_low"], "ci_high": r["ci_high"]}


def economic_summary(rs: ResultSet) -> pd.DataFrame:
    """By perspective, over the horizon: cash saved, investment, net (undiscounted and discounted at the
    scenario's rate and at the sensitivity rate), return on investment, and the lifetime cost of new
    placements avoided (discounted by sim.measure.costs; undiscounted beside it)."""
    if not comparable(rs):
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    scen = rs.scenarios["scenario"]
    e = scen.economics
    years, n, cash, invest, _ = _paired_parts(rs)
    committed = _savings(rs, lines.COMMITTED_VIEW)
    committed_pv = _savings(rs, lines.COMMITTED_VIEW, "discounted_gbp")
    rows = []
    for perspective, payers in PERSPECTIVES.items():
        saved = {y: _sum(cash, payers, y, n) for y in years}
        spent = {y: sum(invest.get((p, y), 0.0) for p in payers) for y in years}
        total_saved = sum(saved.values())
        total_spent = sum(spent.values())
        rows.append(_row(perspective, "cash-releasing savings", "GBP", total_saved))
        if perspective in SYSTEM:
            rows.append(_row(perspective, "investment", "GBP", np.full(n, total_spent)))
        rows.append(_row(perspective, "net", "GBP", total_saved - total_spent))
        for rate in dict.fromkeys((e.discount_rate, e.discount_rate_sensitivity)):
            pv_saved = sum(s * discounting.mid_year(y, rate) for y, s in saved.items())
            pv_spent = sum(s * discounting.mid_year(y, rate) for y, s in spent.items())
            rows.append(_row(perspective, f"net, discounted at {rate:.1%}", "GBP", pv_saved - pv_spent))
            if perspective in SYSTEM and pv_spent > 0:
                rows.append(_row(perspective, f"return on investment, discounted at {rate:.1%}", "ratio",
                                 (pv_saved - pv_spent) / pv_spent))
        life = sum((_sum(committed, payers, y, n) for y in years), np.zeros(n))
        life_pv = sum((_sum(committed_pv, payers, y, n) for y in years), np.zeros(n))
        if np.any(life):
            rows.append(_row(perspective, "lifetime cost of new placements avoided, undiscounted", "GBP", life))
            if "discounted_gbp" in rs.costs.columns:  # results made before costs were discounted have none
                rows.append(_row(perspective, f"lifetime cost of new placements avoided, discounted at "
                                              f"{e.discount_rate:.1%}", "GBP", life_pv))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def cash_by_year(rs: ResultSet, role: str) -> dict[tuple[str, int], np.ndarray]:
    """One role's cash (payer, year) per replication, for checks that the years add up to the period."""
    return _by_payer_year(rs, role, lines.CASH)




def savings_by_year(rs: ResultSet, view: str) -> pd.DataFrame:
    """Year, perspective, mean and 95% CI of the comparator's cost less the scenario's, for one view of the cost
    lines (sim.economics.lines: cash, capacity at the services' average unit costs, or committed).

    Capacity at average unit cost is not a saving: it is what published figures often count (brief §6), shown
    apart so that a published benefit can be compared on its own basis.
    """
    if not comparable(rs):
        return pd.DataFrame(columns=["year", "perspective", "mean", "ci_low", "ci_high"])
    years = years_measured(rs.scenarios["scenario"])
    n = len(_replications(rs, "scenario"))
    parts = _savings(rs, view)
    rows = []
    for year in years:
        for perspective, payers in PERSPECTIVES.items():
            r = interval_row(_sum(parts, payers, year, n))
            rows.append({"year": year, "perspective": perspective, "mean": r["mean"], "ci_low": r["ci_low"],
                         "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=["year", "perspective", "mean", "ci_low", "ci_high"])


def paired_savings(rs: ResultSet, view: str) -> dict[tuple[str, int], np.ndarray]:
    """(payer, year) -> the comparator's cost less the scenario's per replication, for one view of the lines."""
    return _savings(rs, view)
