"""The HTML report of a run: `write_report(resultset, folder)` writes it next to the run's data.

Written into `folder`:
- report.html            one self-contained page (plotly.js inlined; opens offline)
- report_tables/*.csv    every table in the report, for slides and further analysis
- report_figures/*.json  every figure as a plotly spec; `python -m sim.report.export FOLDER` turns them into PNGs

Each file is written to a temporary name and moved into place, and the page is
written last, so a report that exists is complete.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import pandas as pd

from sim import trust
from sim.compare import SIGN_CONVENTION, kpi_label, money_scale
from sim.compare import money as compare_money
from sim.measure.costs import PAYERS
from sim.economics import perspectives, prices, programme
from sim.report import describe, figures, page, tables
from sim.report.formatting import number
from sim.report.intervals import estimate
from sim.store import atomic_write_bytes
from sim.results import ResultSet
from sim.scenario import labels

REPORT_NAME = "report.html"
TABLES_DIR = "report_tables"
FIGURES_DIR = "report_figures"

__all__ = ["write_report", "REPORT_NAME", "TABLES_DIR", "FIGURES_DIR"]

# Which warnings (sim.trust kinds) are repeated beside which section's figures; all are also at the top.
BESIDE = {
    "over-time": ("overloaded", "warm-up"),
    "stays": ("overloaded",),
    "money": ("overloaded",),
    "comparison": ("replications", "undefined", "resume"),
}


def interval_text(row: pd.Series, unit: str, scale: float | None = None) -> str:
    """A table row's mean (95% CI) in the report's format."""
    mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
    if unit == "ratio":
        return f"{mean:.2f}" + ("" if low != low or low == high else f" ({low:.2f} to {high:.2f})")
    shown = (lambda v: compare_money(v, scale=scale)) if unit == "GBP" else (lambda v: number(v, unit))
    if low != low or low == high:
        return shown(mean)
    return f"{shown(mean)} ({shown(low)} to {shown(high)})"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that `path` is either absent, the old file, or the whole new file (text as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)


class _Report:
    """Collects sections, figures and tables while the page is built, then writes them all."""

    def __init__(self, rs: ResultSet):
        self.rs = rs
        self.warnings = trust.of_results(rs)
        self.compared = tables.has_comparator(rs)
        # A comparison the simulator does not trust is shown as two runs side by side, never as gains.
        self.valid = tables.comparison_valid(rs, self.warnings)
        self.replications = int(rs.kpis.loc[rs.kpis["role"] == "scenario", "replication"].nunique())
        self.figures: dict[str, go.Figure] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.sections: list[str] = []
        self.nav: list[tuple[str, str]] = []

    def section(self, anchor: str, title: str, *parts: str) -> None:
        self.nav.append((anchor, title))
        self.sections.append(f'<section id="{anchor}"><h2>{page.esc(title)}</h2>{"".join(parts)}</section>')

    def figure(self, name: str, fig: go.Figure) -> str:
        self.figures[name] = fig
        return page.figure(fig, name)

    def keep(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        self.tables[name] = frame
        return frame

    def beside(self, anchor: str) -> str:
        """The warnings about this section's figures, repeated beside them."""
        kinds = BESIDE.get(anchor, ())
        return page.warnings_box([w for w in self.warnings if w.kind in kinds], "The simulator warns about these figures")

    def warnings_section(self) -> None:
        if not self.warnings:
            return
        parts = [page.not_valid(trust.not_valid_reason(self.warnings))] if self.compared and not self.valid else []
        parts.append(page.warnings_box(self.warnings, "Results the simulator cannot fully stand behind"))
        self.section("warnings", "Warnings", *parts)

    # --- sections ----------------------------------------------------------------

    def headline(self) -> None:
        rs = self.rs
        s = rs.scenarios["scenario"]
        items = tables.headline(rs, self.warnings)
        self.keep("headline", tables.headline_table(items))
        n = self.replications
        period = f"{s.run.horizon_days} days from {s.run.start_date.isoformat()}"
        gains = self.compared and self.valid
        parts = []
        if gains:
            intro = (f"“{s.name}” compared with “{rs.scenarios['comparator'].name}” over {period}; "
                     f"mean of {n} paired replications.")
            guide = (f"Throughout this report, {page.esc(SIGN_CONVENTION)}. Tables of every measure say which way "
                     "each difference goes in words (“120 fewer”). "
                     "Each card of people and beds is the scenario's difference from the comparator a year (the "
                     "measured period's difference divided by its years); each money card is the net over the years "
                     "measured, by payer. "
                     "The 95% confidence interval shows the simulation's uncertainty: <b>blue</b> when the whole "
                     "interval is an improvement, <b>red</b> when it is wholly worse, black when it includes no "
                     "change. "
                     "Savings are by payer: a saving to the NHS can be a cost moved to the council or to people "
                     "who pay for their own care, whose fees are private spending and never a system's saving. Net "
                     "is cash-releasing savings (episodes, hours of care and care home weeks no longer bought) less "
                     "what the change costs; bed-days freed are capacity, shown in places, never in the net. "
                     "Year by year in the section Budget impact.")
        elif self.compared:
            intro = (f"“{s.name}” and “{rs.scenarios['comparator'].name}” over {period}; "
                     f"mean of {n} replications each.")
            guide = ("The comparison is not valid (see above), so the cards show each run's own totals for the "
                     "measured period with their 95% confidence intervals, not differences.")
            parts.append(page.not_valid(trust.not_valid_reason(self.warnings)))
        else:
            intro = f"“{s.name}” over {period}; mean of {n} replications. No comparator was run."
            guide = "Each card is the scenario's total for the measured period with its 95% confidence interval."
        activity = [h for h in items if h.unit != "GBP"]
        money = [h for h in items if h.unit == "GBP"]
        money_title = "Net saving by payer, cash" if gains else "Cost by payer"
        self.section("headline", "Headline", f"<p>{page.esc(intro)}</p>", *parts, page.how_to_read(guide),
                     "<h3>People and beds</h3>", page.headline_cards(activity, gains, n),
                     f"<h3>{money_title} (£, {page.esc(s.economics.price_year)} prices)</h3>",
                     page.headline_cards(money, gains, n),
                     *(f"<p class=\"shift\">{page.esc(sentence)}.</p>"
                       for sentence in tables.cost_shifts(rs, self.warnings)))

    def economics(self) -> None:
        """Budget impact year by year, capacity freed, the discounted view, unit costs and CHEERS 2022."""
        rs = self.rs
        s = rs.scenarios["scenario"]
        parts = []
        if self.compared and not self.valid:
            parts.append("<p>No budget impact: the comparison is not valid (see the warnings at the top).</p>")
        elif self.compared:
            impact = self.keep("budget_impact", rs.budget_impact)
            freed = self.keep("capacity_freed", rs.capacity_freed)
            summary = self.keep("economic_summary", rs.economic_summary)
            parts.append(page.how_to_read(
                f"The change starts on day 0 of the measured period. Each bar is a year's net cash saving to a payer "
                f"(cash-releasing savings less what the change costs), in pounds of {s.economics.price_year}, not "
                "discounted, with its 95% confidence interval; above zero is a saving. Self-funders (hatched) are "
                "people paying for their own care: private spending, never part of a system's saving. Long-term "
                "care saves cash as people who would have been in care are not, so savings build up year by year."))
            parts.append(self.figure("budget_impact", figures.budget_impact(rs, impact)))
            scale = money_scale(*impact["mean"].tolist())
            parts.append(page.table(impact, [
                ("Year", "num", lambda r: f"{r['year']}"), ("Perspective", "", lambda r: perspectives.NAMES[r["perspective"]]),
                ("Kind", "", lambda r: r["kind"].replace("_", " ")),
                ("Mean (95% CI)", "num", lambda r: interval_text(r, "GBP", scale)),
            ]))
            places = freed[freed["measure"] == "places freed"]
            if not places.empty:
                parts.append("<h3>Capacity freed (places a year; capacity, not cash)</h3>")
                parts.append(page.table(places, [
                    ("Year", "num", lambda r: f"{r['year']}"), ("Service", "", lambda r: labels.service(r["service"])),
                    ("Places freed (95% CI)", "num", lambda r: interval_text(r, "places")),
                ]))
            parts.append("<h3>Over the years measured: discounted net and return on investment</h3>")
            money_scale_ = money_scale(*summary.loc[summary["unit"] == "GBP", "mean"].tolist())
            parts.append(page.table(summary, [
                ("Perspective", "", lambda r: perspectives.NAMES[r["perspective"]]), ("Measure", "", lambda r: r["measure"]),
                ("Mean (95% CI)", "num", lambda r: interval_text(r, r["unit"], money_scale_)),
            ]))
        costs = self.keep("unit_costs", prices.unit_cost_table(s))
        parts.append(f"<h3>Unit costs: source, price year and value in {page.esc(s.economics.price_year)} pounds</h3>")
        parts.append(page.table(costs, [
            ("Service", "", lambda r: labels.service(r["service"])), ("Cost", "", lambda r: r["cost"]),
            ("Per", "", lambda r: r["per"]), ("Payer", "", lambda r: r["payer"]),
            ("£ as published", "num", lambda r: f"£{r['gbp']:,.2f}"), ("Price year", "", lambda r: r["price_year"]),
            (f"£ at {s.economics.price_year}", "num", lambda r: f"£{r['inflated_gbp']:,.2f}"),
            ("Source", "", lambda r: r["source"]),
        ]))
        programme_costs = programme.cost_table(s)
        if not programme_costs.empty:
            self.keep("programme_costs", programme_costs)
            parts.append("<h3>What the change costs</h3>")
            parts.append(page.table(programme_costs, [
                ("Item", "", lambda r: r["label"]), ("Kind", "", lambda r: r["kind"].replace("_", "-")),
                ("Payer", "", lambda r: r["payer"]),
                (f"£ a year at {s.economics.price_year}", "num", lambda r: f"£{r['per_year_gbp']:,.0f}"),
                ("Price year of the source", "", lambda r: r["price_year"]), ("Source", "", lambda r: r["source"]),
            ]))
        parts.append("<h3>Economic evaluation (CHEERS 2022)</h3>")
        parts.append(page.stress([describe.Section("Items", describe.cheers(rs))]))
        self.section("economics", "Budget impact and economics", *parts)

    def flows(self) -> None:
        for role in self.rs.roles:
            self.keep(f"flows_{role}", tables.mean_flows(self.rs, role))
        guide = ("Band widths are people (mean per replication) moving between steps in the measured period: "
                 "the scenario's services, its decisions (routes) and the ends, home, died or left. A decision made "
                 "at the end of one service is drawn as part of it; people sent back to an earlier step (a "
                 "readmission) end at the decision that sends them. Compare the two diagrams step by step. "
                 "Hover over a band for its size.")
        self.section("flows", "Flows through the pathway", page.how_to_read(guide),
                     self.figure("flows_sankey", figures.sankey(self.rs)))

    def over_time(self) -> None:
        self.keep("daily_occupancy_bands", tables.daily_bands(self.rs, "occupancy"))
        self.keep("daily_queue_bands", tables.daily_bands(self.rs, "queue"))
        guide = ("Lines are the median over replications of places in use at the start of each day; the shaded band "
                 "holds 90% of replications. Dashed lines are capacity (none for unlimited services). The grey area "
                 "left of day 0 is the warm-up, simulated from empty and left out of every result. A queue that "
                 "grows without levelling off means demand exceeds capacity.")
        self.section("over-time", "Over time", self.beside("over-time"), page.how_to_read(guide),
                     self.figure("occupancy", figures.over_time(self.rs, "occupancy")),
                     self.figure("queues", figures.over_time(self.rs, "queue")))

    def stays_and_delays(self) -> None:
        rs = self.rs
        summary = self.keep("stays_summary", tables.stays_summary(rs))
        delays = self.keep("delays_by_reason", tables.delays_by_reason(rs))
        sample = tables.stays_sample_size()
        guide = ("Boxes span the middle half of completed stays, the line inside is the median and the dashed line "
                 "the mean; whiskers reach 1.5 times the box width. Only stays that ended in the measured period are "
                 "counted, so long stays (care homes) are under-represented in a short run. The stays are a sample: "
                 f"every stay up to {sample:,} per service and replication, beyond that {sample:,} evenly spaced "
                 "through the sorted stays, which keeps the shape of the distribution; the counts below are of the "
                 "sample, not of people (admissions are in the comparison table). Delays are days people "
                 "spent in a bed (or on a caseload) although ready to move on, by what they were waiting for.")
        parts = [self.beside("stays"), page.how_to_read(guide)]
        if summary.empty:
            parts.append("<p>No stay ended in the measured period.</p>")
        else:
            parts.append(self.figure("stays", figures.stays(rs, summary)))
            parts.append(page.table(summary, [
                ("Service", "", lambda r: r["service_label"]), ("Run", "", lambda r: rs.scenarios[r["role"]].name),
                ("Stays in the sample", "num", lambda r: f"{r['stays_recorded']:,}"),
                ("Mean", "num", lambda r: number(r["mean_days"], "days")),
                ("10th centile", "num", lambda r: number(r["p10_days"], "days")),
                ("Median", "num", lambda r: number(r["median_days"], "days")),
                ("90th centile", "num", lambda r: number(r["p90_days"], "days")),
            ]))
        if delays.empty:
            parts.append("<p>No delayed days were recorded in this run.</p>")
        else:
            parts.append(self.figure("delays", figures.delays(rs, delays)))
        self.section("stays", "Lengths of stay and delays", *parts)

    def money(self) -> None:
        rs = self.rs
        by_service = self.keep("costs_by_service", tables.costs_by_service(rs))
        guide = ("Costs are for the measured period at the scenario's prices. Short-term services are costed on "
                 "their activity in the period; long-term care on the whole cost its new placements commit. "
                 "Means-tested care is split between the council and self-funders.")
        parts = [self.beside("money"), page.how_to_read(guide)]
        if not by_service.empty:
            parts.append(self.figure("costs", figures.costs(rs, by_service)))
        if self.compared:
            changes = self.keep("cost_changes", tables.cost_changes(rs))
        if self.compared and not self.valid:
            parts.append("<p>No savings or waterfall: the comparison is not valid (see the warnings at the top), "
                         "so a lower cost in one run would not be a saving.</p>")
        elif self.compared:
            totals = {role: estimate(tables.kpi_wide(rs, role)["cost.total"], "GBP") for role in ("comparator", "scenario")}
            parts.append(page.how_to_read(
                "The waterfall starts from the comparator's total cost, adds each service's change (paired mean over "
                "replications; hover for its 95% CI) and ends at the scenario's total. The vertical axis does not "
                "start at zero, so that the changes can be seen."))
            parts.append(self.figure("cost_waterfall", figures.waterfall(rs, changes, totals["comparator"],
                                                                         totals["scenario"])))
            parts.append(page.how_to_read(
                "Saving by service and by who pays, comparator − scenario: positive is a saving to that payer, "
                "negative a cost that moves to them."))
            scale = money_scale(*changes["change_gbp_mean"])  # one unit (£m) for the whole table
            parts.append(page.table(changes.sort_values("change_gbp_mean"), [
                ("Service", "", lambda r: r["service_label"]),
                ("Saving, all payers", "num", page.estimate_cell("change_gbp", True, self.replications, -1.0, scale)),
                *((f"Saving to {tables.PAYER_LABELS[p]}", "num",
                   page.estimate_cell(f"change_{p}_gbp", True, self.replications, -1.0, scale)) for p in PAYERS),
            ]))
        self.section("money", "Money", *parts)

    def comparison(self) -> None:
        rs = self.rs
        full = self.keep("comparison", tables.comparison(rs, key_only=False))
        key = tables.comparison(rs, key_only=True)
        roles = [r for r in ("comparator", "scenario") if r in rs.scenarios]
        columns = [("Measure", "", lambda r: kpi_label(r["kpi"], r["label"])), ("Unit", "", lambda r: r["unit"])]
        columns += [(rs.scenarios[role].name, "num", page.estimate_cell(role, replications=self.replications))
                    for role in roles]
        if self.compared:
            columns.append(("Difference in the scenario", "num", page.change_cell("difference", self.replications)))

            def clear(row: pd.Series) -> str:
                lo, hi = row["difference_ci95_low"], row["difference_ci95_high"]
                return "clear" if self.valid and (lo > 0 or hi < 0) else ""
            guide = ("Means over replications with 95% confidence intervals. The difference is paired replication by "
                     "replication and says which way it goes in words (“120 fewer”, “£1.2m less”), since for some "
                     "measures more is better and for others less. "
                     + ("<b>Bold</b> rows are those whose interval excludes no change. " if self.valid else
                        "The comparison is not valid (see the warnings at the top): no difference is a gain. ")
                     + "Shares are percentages and their differences percentage points (pp).")
        else:
            clear = None
            guide = "Means over replications with 95% confidence intervals."
        self.section("comparison", "Scenario comparison", self.beside("comparison"), page.how_to_read(guide),
                     page.table(key, columns, clear),
                     f"<details><summary>All {len(full)} measures</summary>"
                     f"{page.table(full, columns, clear)}</details>")

    def model_description(self) -> None:
        rs = self.rs
        params = self.keep("parameters", describe.parameters(rs))
        columns = [("Parameter", "", lambda r: r["parameter"]), ("Scenario", "", lambda r: r["scenario"])]
        parts = [page.how_to_read(
            "Generated from the scenario files that were run, following the STRESS-DES checklist for reporting "
            "discrete-event simulation studies, so that it can be attached to a paper. The hashes identify the exact "
            "scenarios; the same scenario and seed give identical results on any machine."),
            page.stress(describe.sections(rs)),
            page.stress([describe.Section("Assumptions and simplifications", describe.assumptions(rs.scenarios["scenario"]))])]
        if "comparator" in params:
            columns.append(("Comparator", "", lambda r: r["comparator"]))
            changed = params[params["differs"]]
            parts.append(f"<h3>Parameters that differ from the comparator ({len(changed)})</h3>")
            parts.append(page.table(changed, [*columns, ("Source", "", lambda r: r["source"])]))
        columns.append(("Source", "", lambda r: r["source"]))
        parts.append(f"<details><summary>All {len(params)} parameters and their sources</summary>"
                     f"{page.table(params, columns, lambda r: 'differs' if r.get('differs') else '')}</details>")
        self.section("model", "Model description", *parts)

    def downloads(self) -> None:
        items = "".join(f'<li><a href="{TABLES_DIR}/{name}.csv">{name}.csv</a></li>' for name in sorted(self.tables))
        self.section("downloads", "Downloads", page.how_to_read(
            "Every table above as CSV (units in the column names; see docs/outputs.md). For a PNG of a figure, use "
            "the camera icon above it, or run <code>python -m sim.report.export RESULTS_FOLDER</code> to write all "
            f"figures as PNGs into {FIGURES_DIR}/."), f"<ul>{items}</ul>")

    def html(self) -> str:
        rs = self.rs
        s = rs.scenarios["scenario"]
        subtitle = [f"Compared with: {rs.scenarios['comparator'].name}" if self.compared else "No comparator",
                    f"Measured period: {s.run.horizon_days} days from {s.run.start_date.isoformat()} "
                    f"after {s.run.warmup_days} days of warm-up; prices {s.economics.price_year}"]
        return page.page(f"Care pathway simulation: {s.name}", subtitle, self.nav, "".join(self.sections))


def write_report(resultset: ResultSet, folder: str | Path) -> Path:
    """Write the HTML report, its CSV tables and figure specs into `folder`; return the report's path."""
    folder = Path(folder)
    report = _Report(resultset)
    for build in (report.warnings_section, report.headline, report.economics, report.flows, report.over_time, report.stays_and_delays, report.money,
                  report.comparison, report.model_description, report.downloads):
        build()
    for name, frame in report.tables.items():
        write_atomic(folder / TABLES_DIR / f"{name}.csv", frame.to_csv(index=False))
    for name, fig in report.figures.items():
        write_atomic(folder / FIGURES_DIR / f"{name}.json", fig.to_json())
    path = folder / REPORT_NAME
    write_atomic(path, report.html())
    return path
