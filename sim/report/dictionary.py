"""The data dictionary of every output: columns of the ResultSet and report tables, and every KPI, with units.

docs/outputs.md is this module's output, and a test checks it is current, so
the documentation cannot drift from the code. After changing a KPI or a table:

    python -m sim.report.dictionary > docs/outputs.md
"""

from __future__ import annotations

from sim.measure.costs import PAYERS
from sim.measure.kpis import KPIS, SERVICE_MEASURES
from sim.report import FIGURES_DIR, REPORT_NAME, TABLES_DIR

Columns = dict[str, tuple[str, str]]  # column -> (unit, meaning)

ROLE = ("text", "`scenario` (the one asked for) or `comparator` (what it is compared with)")
REPLICATION = ("count", "replication number, from 0; the same number in both roles shares random numbers")
SERVICE = ("text", "a service's name as the scenario declares it under `services:`")

RESULT_TABLES: dict[str, Columns] = {
    "kpis": {"role": ROLE, "replication": REPLICATION, "kpi": ("text", "KPI name (see below)"),
             "value": ("unit of the KPI", "value for the measured period")},
    "daily": {"role": ROLE, "replication": REPLICATION,
              "day": ("days", "day of the run; 0 is the first measured day, negative days are warm-up"),
              "service": SERVICE, "occupancy": ("places", "places in use at the start of the day"),
              "queue": ("people", "people waiting for a place at the start of the day"),
              "capacity": ("places", "places available that day; inf = unlimited")},
    "flows": {"role": ROLE, "replication": REPLICATION,
              "source": ("text", "service or route people left; `crises` or `arrivals` where they came in"),
              "target": ("text", "service, route or end (`home`, `died`, `left`) they went to"),
              "people": ("people", "moves in the measured period")},
    "costs": {"role": ROLE, "replication": REPLICATION, "service": SERVICE,
              "payer": ("text", "`nhs`, `council` or `self_funder`"),
              "basis": ("text", "`activity in period` (cash in that year: short-term activity, and long-term care as"
                                " occupancy, people in care at the start included) or `committed by new placements`"
                                " (the whole stay of the long-term placements started that year)"),
              "activity": ("activity_unit", "amount of activity costed"),
              "activity_unit": ("text", "unit of the activity, e.g. occupied bed-days, hours, weeks in care"),
              "unit_cost_gbp": ("GBP per activity unit", "price applied"),
              "cost_gbp": ("GBP", "activity x unit cost"),
              "year": ("year", "year of the measured period the cost falls in, from 1 (a placement: the year it starts)"),
              "discounted_gbp": ("GBP", "cost_gbp discounted to day 0 of the measured period (economics.discount_rate)")},
    "stays": {"role": ROLE, "replication": REPLICATION, "service": SERVICE,
              "stay_days": ("days", "one completed stay (a sample of at most 2,000 per service and replication)")},
}
# Scenarios with places (docs/places.md) only; empty otherwise. `daily` holds the system's sums.
RESULT_TABLES["daily_places"] = {
    **{c: RESULT_TABLES["daily"][c] for c in ("role", "replication", "day")},
    "place": ("text", "the place (locality) whose places these are, as the scenario names it under `places:`"),
    **{c: RESULT_TABLES["daily"][c] for c in ("service", "occupancy", "queue", "capacity")},
}


MEAN_CI = {"mean": ("see unit", "mean over replications of the paired difference (comparator less scenario)"),
           "ci_low": ("see unit", "lower bound of the 95% confidence interval"),
           "ci_high": ("see unit", "upper bound of the 95% confidence interval")}
PERSPECTIVE = ("text", "`nhs`, `council`, `nhs_pss` (the two together, NICE reference case) or `self_funders` "
                       "(private spending, never in a system total)")
# The economics of a comparison (sim.economics), written beside the results tables as CSV.
ECONOMICS_TABLES: dict[str, Columns] = {
    "budget_impact": {
        "year": ("year", "year of the measured period, from 1 (the change starts on day 0)"),
        "perspective": PERSPECTIVE,
        "kind": ("text", "`cash_releasing` (cash no longer spent: positive = saved), `capacity_freed` (place-days freed"
                         " valued at the scenario's stated marginal value; only where one is stated; never in the net),"
                         " `investment` (what the change costs that year: positive = spent) or `net` (cash_releasing"
                         " less investment: positive = a net saving)"),
        **{k: ("GBP", v[1]) for k, v in MEAN_CI.items()}},
    "capacity_freed": {
        "year": ("year", "year of the measured period, from 1"), "service": SERVICE,
        "perspective": ("text", "who pays for the service's capacity: `nhs` or `council`"),
        "measure": ("text", "`place-days freed`, `places freed` (place-days / days of the year) or `value of "
                            "place-days freed` (empty when the scenario states no marginal value)"),
        "unit": ("text", "`place-days`, `places` or `GBP`"), **MEAN_CI},
    "economic_summary": {
        "perspective": PERSPECTIVE,
        "measure": ("text", "over the years measured: `cash-releasing savings`, `investment`, `net`, `net, discounted "
                            "at r` (to day 0, mid-year), `return on investment, discounted at r` (discounted net per "
                            "pound of discounted investment), and the lifetime cost of the new placements avoided "
                            "(undiscounted and discounted: the economic view, never cash)"),
        "unit": ("text", "`GBP` or `ratio`"), **MEAN_CI},
}


def _estimate(prefix: str, unit: str, what: str) -> Columns:
    return {f"{prefix}_mean": (unit, f"{what}: mean over replications"),
            f"{prefix}_ci95_low": (unit, f"{what}: lower bound of the 95% confidence interval"),
            f"{prefix}_ci95_high": (unit, f"{what}: upper bound of the 95% confidence interval")}


SERVICE_LABEL = ("text", "service name as shown in the report")
REPORT_TABLES: dict[str, Columns] = {
    "headline": {"measure": ("text", "headline measure"), "unit": ("text", "its unit"),
                 "mean": ("see unit", "mean over replications (a paired difference when there is a comparator)"),
                 "ci95_low": ("see unit", "lower bound of the 95% confidence interval"),
                 "ci95_high": ("see unit", "upper bound of the 95% confidence interval"),
                 "replications": ("count", "replications behind the estimate"),
                 "how_computed": ("text", "what was subtracted from what")},
    "comparison": {"kpi": ("text", "KPI name"), "label": ("text", "KPI label"), "unit": ("text", "KPI unit"),
                   **_estimate("comparator", "see unit", "comparator"), **_estimate("scenario", "see unit", "scenario"),
                   **_estimate("difference", "see unit", "paired difference scenario - comparator")},
    "costs_by_service": {"role": ROLE, "service": SERVICE, "service_label": SERVICE_LABEL,
                         "payer": ("text", "`nhs`, `council` or `self_funder`"),
                         "payer_label": ("text", "payer as shown"),
                         **_estimate("cost_gbp", "GBP", "cost in the measured period")},
    "cost_changes": {"service": SERVICE, "service_label": SERVICE_LABEL, "unit": ("text", "always GBP"),
                     **_estimate("change_gbp", "GBP", "paired change in cost, scenario - comparator, all payers"),
                     **{k: v for p in PAYERS for k, v in _estimate(
                         f"change_{p}_gbp", "GBP", f"paired change in cost to {p}, scenario - comparator").items()}},
    "delays_by_reason": {"role": ROLE, "service": SERVICE, "service_label": SERVICE_LABEL,
                         "reason": ("text", "what people were waiting for"),
                         "reason_label": ("text", "reason as shown"),
                         **_estimate("delayed_days", "days", "days spent waiting to move on")},
    "flows_<role>": {"source": ("text", "step people left"), "target": ("text", "step they went to"),
                     "people": ("people", "mean moves per replication in the measured period")},
    "daily_occupancy_bands": {"role": ROLE, "service": SERVICE, "day": RESULT_TABLES["daily"]["day"],
                              "p05": ("places", "5th centile over replications"),
                              "median": ("places", "median over replications"),
                              "p95": ("places", "95th centile over replications"),
                              "capacity": ("places", "median capacity over replications; inf = unlimited")},
    "daily_queue_bands": {"role": ROLE, "service": SERVICE, "day": RESULT_TABLES["daily"]["day"],
                          "p05": ("people", "5th centile over replications"),
                          "median": ("people", "median over replications"),
                          "p95": ("people", "95th centile over replications"),
                          "capacity": ("places", "median capacity over replications; inf = unlimited")},
    "stays_summary": {"role": ROLE, "service": SERVICE, "service_label": SERVICE_LABEL,
                      "stays_recorded": ("count", "completed stays recorded, all replications"),
                      "mean_days": ("days", "mean stay"), "p10_days": ("days", "10th centile"),
                      "p25_days": ("days", "25th centile (lower quartile)"), "median_days": ("days", "median"),
                      "p75_days": ("days", "75th centile (upper quartile)"), "p90_days": ("days", "90th centile"),
                      "whisker_low_days": ("days", "shortest stay within 1.5 interquartile ranges of the quartiles"),
                      "whisker_high_days": ("days", "longest stay within 1.5 interquartile ranges of the quartiles")},
    **ECONOMICS_TABLES,
    "unit_costs": {"service": SERVICE, "cost": ("text", "the cost line's name"),
                   "per": ("text", "what it is counted per"), "payer": ("text", "`nhs`, `council` or `means_tested`"),
                   "gbp": ("GBP", "as published, at its price year"),
                   "self_funder_gbp": ("GBP", "the self-funder's rate as published, if any"),
                   "price_year": ("financial year", "of the source's prices"),
                   "factor": ("ratio", "index level at the scenario's price year / at the source's"),
                   "inflated_gbp": ("GBP", "at the scenario's price year"),
                   "inflated_self_funder_gbp": ("GBP", "the self-funder's rate at the scenario's price year"),
                   "source": ("text", "the scenario's `sources:` entry for the service's costs")},
    "programme_costs": {"name": ("text", "the cost's name"), "label": ("text", "what it is"),
                        "kind": ("text", "`capacity`, `running` or `one_off`"), "payer": ("text", "`nhs` or `council`"),
                        "units": ("count", "capacity: how many"), "unit": ("text", "capacity: what one is"),
                        "gbp": ("GBP", "as stated, at its price year: a unit a year, a year, or once"),
                        "price_year": ("financial year", "of `gbp`"), "first_year": ("year", "when it is first paid"),
                        "per_year_gbp": ("GBP", "a year (or once) at the scenario's price year"),
                        "source": ("text", "where the figure comes from"),
                        "service": ("text", "the service whose capacity it pays for, if any")},
    "parameters": {"parameter": ("text", "dotted path of the scenario field"),
                   "scenario": ("as in the scenario file", "value in the scenario"),
                   "comparator": ("as in the scenario file", "value in the comparator"),
                   "differs": ("true/false", "whether the two differ"),
                   "source": ("text", "the scenario's `sources:` entry for this field or the nearest enclosing one")},
}


def report_table_key(csv_name: str) -> str:
    """The dictionary entry of a report CSV (flows_scenario -> flows_<role>)."""
    return "flows_<role>" if csv_name.startswith("flows_") else csv_name


def kpi_rows() -> list[tuple[str, str, str, str]]:
    """(name or pattern, label, unit, description) of every KPI a run can produce."""
    rows = [(name, label, unit, desc) for name, (label, unit, desc) in KPIS.items()]
    for measure, (label, unit, desc) in SERVICE_MEASURES.items():
        rows.append((f"<service>.{measure}", f"<service>: {label}", unit, desc))
    rows.append(("<service>.delayed_bed_days.<reason>", "<service>: days waiting for <reason>", "days",
                 "delayed days by what people waited for: the next service or route, or `discharge_process`"))
    rows.append(("<service>.trait_share.<trait>", "<service>: admissions <trait>", "share",
                 "share of the service's admissions who have the trait (need_groups.<group>.traits)"))
    rows.append(("route.<route>.<destination>", "<route> → <destination>", "people",
                 "decisions at each route in the period, by where people were sent"))
    rows.append(("<measure>", "the measure's own label", "the measure's own unit",
                 "a scenario's `measures:` (sums and shares of other KPIs, e.g. a programme's headline figures)"))
    rows.append(("cost.<cost line>.<payer>", "Cost of <cost line> to <payer>", "GBP",
                 f"cost by cost line and payer ({', '.join(PAYERS)}); a line is named after its service unless "
                 "the cost names itself (`name:` in the service's `costs:`)"))
    rows.append(("cost.<service>_out_of_area.<payer>", "Cost of <service> out of area to <payer>", "GBP",
                 "fees for placements outside a person's own place (scenarios with places, docs/places.md)"))
    rows.append(("cost.<service>_escalation.<payer>", "Cost of <service>: escalation or bought capacity to <payer>",
                 "GBP", "escalation beds or spot-purchased care, per unit of capacity a day it is open (services'"
                 " `escalation:` and `spot_purchase:`)"))
    rows.append(("later.<entry>", "the entry's label", "people",
                 "people to whom an `afterwards:` entry happened in the period (readmitted, died, entered long-term"
                 " care later)"))
    rows.append(("place.<place>.<kpi>", "<Place>: <KPI label>", "unit of the KPI",
                 "any KPI above for one place's residents (scenarios with places); the un-prefixed KPI is the "
                 "system's, and counts, costs and occupancies of the places add up to it (docs/places.md)"))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _column_tables(described: dict[str, Columns], heading: str) -> list[str]:
    lines = []
    for name, columns in described.items():
        lines += [f"### {heading.format(name)}", ""]
        lines += _table(("column", "unit", "meaning"), [(f"`{c}`", u, m) for c, (u, m) in columns.items()])
        lines.append("")
    return lines


def markdown() -> str:
    """The whole data dictionary as Markdown (docs/outputs.md)."""
    lines = [
        "# Outputs: data dictionary",
        "",
        "Generated by `python -m sim.report.dictionary > docs/outputs.md` from the code itself;",
        "a test fails if this file is out of date. Every number is for the measured period (after the",
        "warm-up) unless it says otherwise. Money is in pounds (GBP) at the scenario's `economics.price_year`",
        "prices. A `share` is a proportion between 0 and 1 (shown as a percentage in the report).",
        "",
        "## Results tables",
        "",
        "The ResultSet of a run (`sim.results`), one row per observation, saved in the results folder.",
        "",
    ]
    lines += _column_tables(RESULT_TABLES, "`{}`")
    lines += [
        "## Economics of a comparison",
        "",
        "With a comparator, the results folder also holds these CSV files (sim.economics, docs/economics.md):",
        "money in pounds of `economics.price_year`, paired over replications, by perspective. When the",
        "comparison is not valid (a queue grows all run) they have no rows, and `comparison.csv` no values.",
        "",
    ]
    lines += _column_tables(ECONOMICS_TABLES, "`{}.csv`")
    lines += [
        "## KPIs",
        "",
        "Names are dotted: `<service or topic>.<measure>`, made from the scenario's own services,",
        "routes and measures: `<service>` is any service the scenario declares under `services:`,",
        "`<route>` any route under `routes:` and `<measure>` any of its `measures:`.",
        "",
    ]
    lines += _table(("KPI", "label", "unit", "meaning"),
                    [(f"`{n}`", label, unit, desc) for n, label, unit, desc in kpi_rows()])
    lines += [
        "",
        "## The report",
        "",
        f"`{REPORT_NAME}` is one self-contained page (it opens offline). Beside it, `{TABLES_DIR}/` holds every",
        f"table of the report as CSV and `{FIGURES_DIR}/` every figure as a plotly JSON spec;",
        f"`python -m sim.report.export RESULTS_FOLDER` adds a PNG of each figure there (needs Chromium).",
        "Intervals are 95% confidence intervals over replications, by one rule for the project",
        "(sim/intervals.py): a level in people, places, days, hours, bed-days or GBP gets the log-scale t",
        "interval, never below 0 (unless a replication was negative); anything else the Student t.",
        "Differences are paired by replication and keep the Student t.",
        "",
    ]
    lines += _column_tables(REPORT_TABLES, f"`{TABLES_DIR}/{{}}.csv`")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
