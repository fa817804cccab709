"""The report's numbers as tables: the headline, the scenario comparison, costs and delays.

Every figure is a mean over replications with its 95% confidence interval, by
sim.intervals' rule (a level in people, places, days, bed-days or GBP: the
log-scale t interval, never below 0); differences between the scenario and its
comparator are paired replication by replication (common random numbers) and
keep the symmetric t interval. Each table is a DataFrame so the same
numbers go into the HTML and into the CSV files for slides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import compare, trust
from sim.economics import headlines as economic_headlines
from sim.economics import impact, perspectives
from sim.measure.costs import PAYERS, in_totals
from sim.measure.kpis import describe
from sim.report.intervals import Estimate, estimate
from sim.results import ResultSet, replication_tables
from sim.scenario import labels

# The same words as the command line's: NHS, council, self-funders.
PAYER_LABELS = {payer: compare.PAYER_NAMES[payer] for payer in PAYERS}

def has_comparator(rs: ResultSet) -> bool:
    return "comparator" in rs.scenarios and (rs.kpis["role"] == "comparator").any()


def kpi_wide(rs: ResultSet, role: str) -> pd.DataFrame:
    """Replications x KPIs for a role. A delay reason or cost line absent from a replication is zero there."""
    wide = rs.kpi_table(role)
    additive = [c for c in rs.kpis["kpi"].unique()
                if ".delayed_bed_days." in c or (c.startswith("cost.") and c.count(".") == 2)]
    for name in additive:
        wide[name] = wide[name].fillna(0.0) if name in wide else 0.0
    return wide


def paired(values: dict[str, pd.Series], sign: float = 1.0) -> Estimate:
    """sign * (scenario - comparator) over the replications both roles ran."""
    a, b = values["scenario"], values["comparator"]
    both = a.index.intersection(b.index)
    return estimate(sign * (a.loc[both] - b.loc[both]))


@dataclass(frozen=True)
class Headline:
    label: str
    unit: str
    estimate: Estimate
    explanation: str


def comparison_valid(rs: ResultSet, warnings: list[trust.TrustWarning] | None = None) -> bool:
    """Whether the scenario's differences from its comparator mean anything (sim.trust.comparison_not_valid)."""
    return has_comparator(rs) and not trust.comparison_not_valid(trust.of_results(rs) if warnings is None else warnings)


def headline(rs: ResultSet, warnings: list[trust.TrustWarning] | None = None) -> list[Headline]:
    """The few numbers a board asks for; with a comparator, each is a gain over it (positive = better).

    The gains and savings are sim.economics' (one definition each), as the command line's.
    When the comparison is not valid (a queue grows all run), each run's own totals instead, so that
    nothing reads as a gain or a saving.
    """
    if not has_comparator(rs):
        return _levels(rs)
    if not comparison_valid(rs, warnings):
        return [Headline(f"{h.label} ({role})", h.unit, h.estimate, h.explanation)
                for role in ("scenario", "comparator") for h in _levels(rs, role)]
    table = rs.comparison
    items = [Headline(r["measure"], r["unit"], Estimate(r["mean"], r["ci_low"], r["ci_high"], int(r["replications"])),
                      r["definition"]) for _, r in table[table["kind"] == "headline"].iterrows()]
    main = compare.main_service(rs.scenarios["scenario"])
    label = labels.service(main)
    if main in compare.bed_services(rs.scenarios["scenario"]):
        row = table.set_index("measure").loc[f"{label}: bed-days saved"]
        days = Estimate(row["mean"], row["ci_low"], row["ci_high"], int(row["replications"]))
        items += [
            Headline(f"{label}: bed-days saved", "bed-days a year", days,
                     f"comparator's occupied bed-days in {label.lower()} minus the scenario's, a year"),
            Headline(f"{label}: beds released", "beds", Estimate(days.mean / 365, days.low / 365, days.high / 365, days.n),
                     "bed-days saved a year / 365: beds that could close or serve others (capacity, not cash)"),
        ]
    summary = rs.economic_summary
    years = len(impact.years_measured(rs.scenarios["scenario"]))
    for perspective in ("nhs", "council", "nhs_pss", "self_funders"):
        rows = summary[(summary["perspective"] == perspective) & (summary["measure"] == "net")]
        if rows.empty:
            continue
        r = rows.iloc[0]
        items.append(Headline(
            f"Net saving over {years} year{'s' if years != 1 else ''}: {perspectives.SHORT[perspective]}"
            + (" (private spending)" if perspective == "self_funders" else ""), "GBP",
            Estimate(r["mean"], r["ci_low"], r["ci_high"], int(table["replications"].max())),
            "cash-releasing savings less what the change costs (investment), undiscounted, at the price year; "
            "capacity freed is not in it" + ("; self-funders' own fees, never a system saving"
                                             if perspective == "self_funders" else "")))
    return items


def _levels(rs: ResultSet, role: str = "scenario") -> list[Headline]:
    """Without a comparator (or a valid comparison): a run's own totals for the period."""
    w = kpi_wide(rs, role)
    horizon = rs.scenarios["scenario"].run.horizon_days
    own = rs.scenarios.get(role) or rs.scenarios["scenario"]
    main = compare.main_service(own)
    label = labels.service(main)
    items = [Headline(f"{label}: admissions", "people", estimate(w[f"{main}.admissions"], "people"),
                      f"people admitted to {label.lower()} in the period")]
    if main in compare.bed_services(own):
        items += [
            Headline(f"{label}: bed-days used", "bed-days", estimate(w[f"{main}.occupancy_mean"] * horizon, "bed-days"),
                     f"occupied bed-days in {label.lower()} in the period"),
            Headline(f"{label}: beds occupied", "beds", estimate(w[f"{main}.occupancy_mean"], "places"),
                     "mean beds occupied over the period"),
        ]
    items.append(Headline("Delayed bed-days", "bed-days", estimate(w["delayed.bed_days"], "bed-days"),
                          describe("delayed.bed_days")[2]))
    items += [Headline(f"Cost to {PAYER_LABELS[p]}", "GBP", estimate(w[f"cost.{p}"], "GBP"), "cost in the period")
              for p in PAYERS]
    items.append(Headline("Cost, all payers", "GBP", estimate(w["cost.total"], "GBP"), "cost in the period"))
    return items


def cost_shifts(rs: ResultSet, warnings: list[trust.TrustWarning] | None = None) -> list[str]:
    """Sentences naming costs that move from one payer to another (clear in the 95% CIs), if the comparison is valid."""
    return economic_headlines.cost_shifts(rs) if comparison_valid(rs, warnings) else []


def headline_table(items: list[Headline]) -> pd.DataFrame:
    return pd.DataFrame([
        {"measure": h.label, "unit": h.unit, "mean": h.estimate.mean, "ci95_low": h.estimate.low,
         "ci95_high": h.estimate.high, "replications": h.estimate.n, "how_computed": h.explanation}
        for h in items
    ])


def _kpi_order(rs: ResultSet, key_only: bool) -> list[str]:
    present = set(rs.kpis["kpi"].unique())
    key = [k for k in compare.key_kpis(rs.scenarios["scenario"]) if k in present]
    return key if key_only else key + sorted(present - set(key))


def comparison(rs: ResultSet, key_only: bool = True) -> pd.DataFrame:
    """Per KPI: each role's mean and 95% CI, and the paired difference scenario - comparator."""
    roles = [r for r in ("comparator", "scenario") if r in rs.scenarios]
    wide = {role: kpi_wide(rs, role) for role in roles}
    rows = []
    for name in _kpi_order(rs, key_only):
        label, unit, _ = describe(name)
        row: dict = {"kpi": name, "label": label, "unit": unit}
        for role in roles:
            e = estimate(wide[role][name], unit) if name in wide[role] else estimate([])
            row.update({f"{role}_mean": e.mean, f"{role}_ci95_low": e.low, f"{role}_ci95_high": e.high})
        if has_comparator(rs):
            values = {role: wide[role][name] if name in wide[role] else pd.Series(dtype=float) for role in roles}
            d = paired(values)
            row.update({"difference_mean": d.mean, "difference_ci95_low": d.low, "difference_ci95_high": d.high})
        rows.append(row)
    return pd.DataFrame(rows)


def _in_totals(costs: pd.DataFrame) -> pd.DataFrame:
    """The cost lines the cost KPIs add (sim.measure.costs.in_totals): long-term care's cash is not counted twice."""
    return costs[costs.apply(in_totals, axis=1)] if len(costs) else costs


def costs_by_service(rs: ResultSet) -> pd.DataFrame:
    """Mean cost (GBP) in the period by role, service and payer, with 95% CIs over replications."""
    totals = _in_totals(rs.costs).groupby(["role", "service", "payer", "replication"], as_index=False)["cost_gbp"].sum()
    rows = []
    for (role, service, payer), group in totals.groupby(["role", "service", "payer"]):
        e = estimate(group["cost_gbp"], "GBP")
        rows.append({"role": role, "service": service, "service_label": labels.cost_line(service),
                     "payer": payer, "payer_label": PAYER_LABELS.get(payer, payer),
                     "cost_gbp_mean": e.mean, "cost_gbp_ci95_low": e.low, "cost_gbp_ci95_high": e.high})
    return pd.DataFrame(rows)


def cost_changes(rs: ResultSet) -> pd.DataFrame:
    """Paired change in cost (scenario - comparator, GBP) by service: all payers, then each payer."""
    by_payer = _in_totals(rs.costs).groupby(["role", "replication", "service", "payer"])["cost_gbp"].sum().unstack(
        ["service", "payer"], fill_value=0.0)
    totals = by_payer.T.groupby(level="service").sum().T
    rows = []
    for service in totals.columns:
        row = {"service": service, "service_label": labels.cost_line(service), "unit": "GBP"}
        for payer in ("all", *PAYERS):
            values = totals[service] if payer == "all" else (
                by_payer[(service, payer)] if (service, payer) in by_payer else totals[service] * 0.0)
            d = paired({role: values.loc[role] for role in ("scenario", "comparator")})
            prefix = "change_gbp" if payer == "all" else f"change_{payer}_gbp"
            row.update({f"{prefix}_mean": d.mean, f"{prefix}_ci95_low": d.low, f"{prefix}_ci95_high": d.high})
        rows.append(row)
    return pd.DataFrame(rows)


def delays_by_reason(rs: ResultSet) -> pd.DataFrame:
    """Mean delayed days by role, service and reason (KPIs `<service>.delayed_bed_days.<reason>`)."""
    rows = []
    for role in rs.roles:
        wide = kpi_wide(rs, role)
        # The system's delays; a place's own (place.<place>.<kpi>, docs/places.md) are part of them.
        for name in sorted(c for c in wide.columns if ".delayed_bed_days." in c and not c.startswith("place.")):
            service, _, reason = name.split(".", 2)
            e = estimate(wide[name], "days")
            rows.append({"role": role, "service": service, "service_label": labels.service(service),
                         "reason": reason, "reason_label": reason.replace("_", " "), "delayed_days_mean": e.mean,
                         "delayed_days_ci95_low": e.low, "delayed_days_ci95_high": e.high})
    return pd.DataFrame(rows, columns=["role", "service", "service_label", "reason", "reason_label",
                                       "delayed_days_mean", "delayed_days_ci95_low", "delayed_days_ci95_high"])


def mean_flows(rs: ResultSet, role: str) -> pd.DataFrame:
    """Mean people per (source, target) over a role's replications; a flow absent in a replication counts as zero."""
    flows = rs.flows[rs.flows["role"] == role]
    n = rs.kpis.loc[rs.kpis["role"] == role, "replication"].nunique()
    if flows.empty or n == 0:
        return pd.DataFrame(columns=["source", "target", "people"])
    total = flows.groupby(["source", "target"], as_index=False)["people"].sum()
    total["people"] = total["people"] / n
    return total


def daily_bands(rs: ResultSet, measure: str) -> pd.DataFrame:
    """Per role, service and day: median, 5th and 95th centile of a daily measure over replications."""
    grouped = rs.daily.groupby(["role", "service", "day"])[measure]
    out = grouped.quantile([0.05, 0.5, 0.95]).unstack()
    out.columns = ["p05", "median", "p95"]
    out["capacity"] = rs.daily.groupby(["role", "service", "day"])["capacity"].median()
    return out.reset_index()


STAYS_COLUMNS = ["role", "service", "service_label", "stays_recorded", "mean_days", "p10_days", "p25_days",
                 "median_days", "p75_days", "p90_days", "whisker_low_days", "whisker_high_days"]


def stays_sample_size() -> int:
    """The most stays a results folder keeps per service and replication (an evenly spaced sample beyond it)."""
    import inspect

    return int(inspect.signature(replication_tables).parameters["max_stays"].default)


def stays_summary(rs: ResultSet) -> pd.DataFrame:
    """Completed lengths of stay (days) by role and service: count and centiles, pooled over replications.

    The stays are those the results keep: all of them up to `stays_sample_size()` per service and
    replication, an evenly spaced sample of the sorted stays beyond, so counts are of the sample.
    """
    rows = []
    order = {s: i for i, s in enumerate(dict.fromkeys(rs.daily["service"]))} if len(rs.daily) else {}
    by_service = sorted(rs.stays.groupby(["role", "service"]), key=lambda g: (order.get(g[0][1], len(order)), g[0][0]))
    for (role, service), group in by_service:
        s = np.sort(group["stay_days"].to_numpy(dtype=float))
        p10, q1, median, q3, p90 = np.percentile(s, [10, 25, 50, 75, 90])
        # Tukey's whiskers: the furthest stays within 1.5 interquartile ranges of the box.
        low = s[s >= q1 - 1.5 * (q3 - q1)][0]
        high = s[s <= q3 + 1.5 * (q3 - q1)][-1]
        rows.append({"role": role, "service": service, "service_label": labels.service(service),
                     "stays_recorded": len(s), "mean_days": float(np.mean(s)), "p10_days": float(p10),
                     "p25_days": float(q1), "median_days": float(median), "p75_days": float(q3),
                     "p90_days": float(p90), "whisker_low_days": float(low), "whisker_high_days": float(high)})
    return pd.DataFrame(rows, columns=STAYS_COLUMNS)
