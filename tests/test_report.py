"""The HTML report: its numbers, its files, escaping of user text, and the data dictionary."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats

from sim import compare
from sim.measure.collect import run_replication
from sim.intervals import LOG_T, confidence_interval, interval_row
from sim.measure.kpis import describe as describe_kpi
from sim.report import FIGURES_DIR, REPORT_NAME, TABLES_DIR, describe, dictionary, export, page, tables, write_report
from sim.report.formatting import interval, number
from sim.report.intervals import Estimate, estimate
from sim.results import ResultSet, from_replications
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SMALL = {
    "demand.crises_per_year": 2500, "run.horizon_days": 90, "run.warmup_days": 20,  # ~1/18 of the baseline
    "services.acute.capacity": 80, "services.reablement.capacity": 17, "services.community_beds.capacity": 17,
    "services.temporary_residential.capacity": 8, "services.urgent_response.capacity": 2,
    "services.acute.escalation": None, "services.reablement.spot_purchase": None,  # fixed capacity
}
REPS = 3


def _runs(scenario, reps=REPS):
    return [run_replication(scenario, r) for r in range(reps)]


@pytest.fixture(scope="module")
def scenarios():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    comparator = base.with_changes(SMALL)
    scenario = base.with_changes({**SMALL, "name": "More UCR",
                                  "routes.crisis.scale.urgent_response": 1.7,
                                  "services.urgent_response.capacity": 4})
    return {"scenario": scenario, "comparator": comparator}


@pytest.fixture(scope="module")
def runs(scenarios):
    return {role: _runs(s) for role, s in scenarios.items()}


@pytest.fixture(scope="module")
def rs(runs, scenarios) -> ResultSet:
    return from_replications(runs, scenarios, {"seed": 20190401, "git": {"commit": "abc123", "dirty": False}})


@pytest.fixture(scope="module")
def written(rs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    path = write_report(rs, folder)
    assert path == folder / REPORT_NAME
    return folder


def _by_rep(rs: ResultSet, role: str, kpi: str) -> np.ndarray:
    return rs.kpi_table(role)[kpi].to_numpy()


# --- intervals and formatting -------------------------------------------------------


def test_estimate_is_the_student_t_interval():
    e = estimate([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert e.mean == 2.0 and e.n == 3
    assert e.low == pytest.approx(2 - half) and e.high == pytest.approx(2 + half)
    assert half == pytest.approx(2.4841, abs=1e-4)


def test_estimate_extreme_cases():
    one = estimate([5.0])
    assert one.mean == 5.0 and math.isnan(one.low) and one.n == 1
    same = estimate([4.0, 4.0, 4.0])
    assert (same.low, same.high) == (4.0, 4.0)
    unlimited = estimate([math.inf, math.inf])
    assert math.isinf(unlimited.mean) and number(unlimited.mean, "places") == "unlimited"
    assert math.isnan(estimate([math.inf, 3.0]).low)
    with_gap = estimate([1.0, math.nan, 3.0])
    assert with_gap.n == 2 and with_gap.mean == 2.0
    assert estimate([]).n == 0


def test_numbers_carry_units():
    assert number(1_234_567, "GBP") == "£1.2m"
    assert number(7_000_000, "GBP") == "£7.0m"
    assert number(-26_800, "GBP", signed=True) == "-£26.8k"
    assert number(58_800, "GBP", signed=True) == "+£58.8k"
    assert number(0.123, "share") == "12.3%"
    assert number(0.05, "share", signed=True) == "+5.0 pp"
    assert number(26.33, "people", signed=True) == "+26.3 people"
    assert number(math.inf, "places") == "unlimited"
    assert interval(Estimate(1.0, math.nan, math.nan, 1), "days") == "no CI: one replication"
    assert interval(Estimate(1.0, math.nan, math.nan, 1), "days", replications=5) == (
        "no CI: defined in 1 of 5 replications")
    assert interval(Estimate(2.5e6, 0.35e6, 5.3e6, 3), "GBP") == "£0.35m to £5.3m"  # one unit for the interval
    assert interval(Estimate(2.0, 1.5, 2.5, 3), "days") == "1.50 days to 2.50 days"


# --- the numbers in the report -------------------------------------------------------------


def test_headline_is_paired_differences_of_the_replications(rs, scenarios):
    items = {h.label: h.estimate for h in tables.headline(rs)}
    horizon = scenarios["scenario"].run.horizon_days
    years = horizon / 365   # every gain is a yearly figure
    # Admissions avoided counts people (readmissions left out), a year.
    people = {role: _by_rep(rs, role, "acute.admissions") - _by_rep(rs, role, "acute.readmissions")
              for role in ("scenario", "comparator")}
    avoided = (people["comparator"] - people["scenario"]) / years
    assert items["Admissions avoided"].mean == pytest.approx(avoided.mean())
    assert items["Admissions avoided"].high - items["Admissions avoided"].low == pytest.approx(
        2 * stats.t.ppf(0.975, REPS - 1) * avoided.std(ddof=1) / math.sqrt(REPS))
    bed_days = items["Acute beds: bed-days saved"]
    beds = items["Acute beds: beds released"]
    occupancy = _by_rep(rs, "comparator", "acute.occupancy_mean") - _by_rep(rs, "scenario", "acute.occupancy_mean")
    assert bed_days.mean == pytest.approx(occupancy.mean() * horizon / years)
    # Beds released is a year's bed-days saved spread over the year's days.
    assert beds.mean == pytest.approx(bed_days.mean / 365)
    assert beds.low == pytest.approx(bed_days.low / 365)
    # The system's net is the NHS's and the council's; self-funders' own fees are never in it.
    nets = {label: e for label, e in items.items() if label.startswith("Net saving over")}
    nhs, council = nets["Net saving over 1 year: NHS"].mean, nets["Net saving over 1 year: council"].mean
    assert nets["Net saving over 1 year: NHS+PSS"].mean == pytest.approx(nhs + council)
    assert "Net saving over 1 year: self-funders (private spending)" in nets
    assert all(e.n == REPS for e in items.values())
    # The same numbers as the command line's comparison table (ResultSet.comparison, sim.economics).
    cli = rs.comparison.set_index("measure")["mean"]
    assert items["Admissions avoided"].mean == pytest.approx(cli["Admissions avoided"])
    assert items["People with more independent outcomes"].mean == pytest.approx(cli["People with more independent outcomes"])
    assert nhs + council == pytest.approx(cli["Net: NHS and council (NHS+PSS, NICE reference case)"])


def test_identical_scenarios_differ_by_exactly_nothing(runs, scenarios):
    same = from_replications({"scenario": runs["comparator"], "comparator": runs["comparator"]},
                             {"scenario": scenarios["comparator"], "comparator": scenarios["comparator"]})
    for h in tables.headline(same):
        assert (h.estimate.mean, h.estimate.low, h.estimate.high) == (0.0, 0.0, 0.0), h.label
    changes = tables.cost_changes(same)
    assert (changes["change_gbp_mean"] == 0).all()
    comparison = tables.comparison(same, key_only=False)
    finite = comparison["difference_mean"].dropna()
    assert len(finite) > 100 and (finite == 0).all()


def test_waterfall_runs_from_comparator_total_to_scenario_total(rs):
    changes = tables.cost_changes(rs)
    totals = {role: tables.kpi_wide(rs, role)["cost.total"].mean() for role in ("scenario", "comparator")}
    assert totals["comparator"] + changes["change_gbp_mean"].sum() == pytest.approx(totals["scenario"])
    # Who pays: the payers' changes add up to each service's change.
    payers = changes[["change_nhs_gbp_mean", "change_council_gbp_mean", "change_self_funder_gbp_mean"]].sum(axis=1)
    assert payers.to_numpy() == pytest.approx(changes["change_gbp_mean"].to_numpy(), abs=1e-3)  # pounds: sums of zeros differ in the last bit
    nhs = tables.kpi_wide(rs, "scenario")["cost.nhs"].mean() - tables.kpi_wide(rs, "comparator")["cost.nhs"].mean()
    assert changes["change_nhs_gbp_mean"].sum() == pytest.approx(nhs)
    by_service = tables.costs_by_service(rs)
    for role, total in totals.items():
        assert by_service.loc[by_service["role"] == role, "cost_gbp_mean"].sum() == pytest.approx(total)


def test_sankey_conserves_crises(rs):
    """Everyone counted as a crisis leaves the first node: its outflow is the mean number of crises."""
    from sim.report import figures

    for role in ("scenario", "comparator"):
        flows = tables.mean_flows(rs, role)
        out_of_crisis = flows.loc[flows["source"] == "crises", "people"].sum()
        assert out_of_crisis == pytest.approx(_by_rep(rs, role, "crises").mean())
        # As drawn: the crisis route is part of the crises node, which sends everyone on to its first service.
        drawn, columns = figures.pathway_graph(flows, rs.scenarios[role])
        first = drawn[drawn["source"] == "crises"]
        assert set(first["target"]) == {"urgent_response", "acute"}
        assert first["people"].sum() == pytest.approx(_by_rep(rs, role, "crises").mean())
        assert columns["crises"] == 0 and columns["home"] == max(columns.values())
        # A readmission goes back to an earlier step: not drawn, so the diagram has no cycle.
        assert not ((drawn["source"] == "readmitted") & (drawn["target"] == "acute")).any()
        assert all(columns[s] < columns[t] for s, t in zip(drawn["source"], drawn["target"]))


def test_a_flow_missing_from_a_replication_counts_as_zero(rs):
    flows = pd.DataFrame({"role": "scenario", "replication": [0], "source": ["acute"], "target": ["died"],
                          "people": [6]})
    kpis = pd.DataFrame({"role": "scenario", "replication": [0, 1, 2], "kpi": "crises", "value": 1.0})
    sparse = ResultSet(scenarios={"scenario": rs.scenarios["scenario"]}, kpis=kpis, daily=rs.daily.iloc[:0],
                       flows=flows, costs=rs.costs.iloc[:0], stays=rs.stays.iloc[:0])
    assert tables.mean_flows(sparse, "scenario")["people"].tolist() == [2.0]


def test_delays_by_reason_match_the_kpis(rs):
    delays = tables.delays_by_reason(rs)
    assert not delays.empty
    for _, row in delays.iterrows():
        values = tables.kpi_wide(rs, row["role"])[f"{row['service']}.delayed_bed_days.{row['reason']}"]
        assert row["delayed_days_mean"] == pytest.approx(values.mean())
    # The reasons add up to each service's delayed days.
    for role in ("scenario", "comparator"):
        wide = tables.kpi_wide(rs, role)
        for service, group in delays[delays["role"] == role].groupby("service"):
            assert group["delayed_days_mean"].sum() == pytest.approx(wide[f"{service}.delayed_bed_days"].mean())


def test_daily_bands_order_and_warm_up(rs, scenarios):
    bands = tables.daily_bands(rs, "occupancy")
    assert (bands["p05"] <= bands["median"]).all() and (bands["median"] <= bands["p95"]).all()
    assert bands["day"].min() == -scenarios["scenario"].run.warmup_days
    acute = bands[(bands["service"] == "acute") & (bands["role"] == "comparator")]
    assert (acute["capacity"] == SMALL["services.acute.capacity"]).all()
    assert (acute["p95"] <= acute["capacity"]).all()


def test_stay_boxes_are_the_stays_quartiles_and_tukey_whiskers(rs):
    summary = tables.stays_summary(rs).set_index(["role", "service"])
    stays = rs.stays[(rs.stays["role"] == "comparator") & (rs.stays["service"] == "acute")]["stay_days"].to_numpy()
    row = summary.loc[("comparator", "acute")]
    q1, q3 = np.percentile(stays, [25, 75])
    assert (row["p25_days"], row["p75_days"], row["stays_recorded"]) == (q1, q3, len(stays))
    assert row["whisker_high_days"] == stays[stays <= q3 + 1.5 * (q3 - q1)].max()
    assert row["whisker_low_days"] == stays[stays >= q1 - 1.5 * (q3 - q1)].min()
    assert (summary["whisker_low_days"] <= summary["p25_days"]).all()
    assert (summary["p25_days"] <= summary["median_days"]).all() and (summary["median_days"] <= summary["p75_days"]).all()


# --- the page and its files ---------------------------------------------------------------


def test_report_is_self_contained_and_complete(written, rs):
    text = (written / REPORT_NAME).read_text(encoding="utf-8")
    assert text.count("plotly.js v") == 1  # the library's banner: embedded exactly once
    ours = text.replace(get_plotlyjs(), "")  # the library's own strings name its website; the page must not
    assert not re.search(r"""<script[^>]+src=""", ours)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", ours)
    assert "cdn.plot.ly" not in ours
    for name in ("flows_sankey", "occupancy", "queues", "stays", "delays", "costs", "cost_waterfall"):
        assert f'id="fig-{name}"' in text
        spec = json.loads((written / FIGURES_DIR / f"{name}.json").read_text())
        assert spec["data"], name
    for section in ("headline", "economics", "flows", "over-time", "stays", "money", "comparison", "model",
                    "downloads"):
        assert f'<section id="{section}">' in text
    assert f"sha256 {rs.scenarios['scenario'].content_hash()}" in text
    assert "git commit abc123" in text
    assert not list(written.rglob("*.tmp"))


def test_headline_cards_show_intervals_and_units(written):
    text = (written / REPORT_NAME).read_text(encoding="utf-8")
    head = text[text.index('<section id="headline">'): text.index('<section id="economics">')]
    assert head.count('class="card"') == 9
    assert head.count("95% CI") == 9
    for label in ("Admissions avoided", "Bedded placements after acute avoided", "People with more independent outcomes",
                  "Acute beds: bed-days saved", "Acute beds: beds released", "Net saving over 1 year: NHS",
                  "Net saving over 1 year: council", "Net saving over 1 year: NHS+PSS",
                  "Net saving over 1 year: self-funders (private spending)"):
        assert label in head
    assert "Mid and South Essex, before Connect" in head  # the comparator is named


def test_tables_are_written_as_csv_with_documented_columns(written):
    csvs = sorted((written / TABLES_DIR).glob("*.csv"))
    names = {p.stem for p in csvs}
    assert {"headline", "comparison", "costs_by_service", "cost_changes", "delays_by_reason", "flows_scenario",
            "flows_comparator", "daily_occupancy_bands", "daily_queue_bands", "stays_summary", "parameters"} <= names
    for path in csvs:
        columns = list(pd.read_csv(path, nrows=0).columns)
        documented = dictionary.REPORT_TABLES[dictionary.report_table_key(path.stem)]
        assert set(columns) <= set(documented), (path.name, set(columns) - set(documented))


def test_user_text_is_escaped(runs, scenarios, tmp_path):
    nasty = "<script>alert('name')</script>"
    scenario = scenarios["scenario"].with_changes({
        "name": nasty, "description": "<img src=x onerror=alert(1)>",
        "sources": {**scenarios["scenario"].sources, "demand.crises_per_year": "<b onmouseover=alert(2)>made up</b>"},
    })
    rs = from_replications(runs, {"scenario": scenario, "comparator": scenarios["comparator"]},
                           {"note": "<iframe src=//evil.example>"})
    text = write_report(rs, tmp_path).read_text(encoding="utf-8")
    for raw in ("<script>alert", "<img src=x", "<b onmouseover", "<iframe"):
        assert raw not in text
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;b onmouseover=alert(2)&gt;made up&lt;/b&gt;" in text


def test_report_without_comparator_and_one_replication(runs, scenarios, tmp_path):
    alone = from_replications({"scenario": runs["scenario"][:1]}, {"scenario": scenarios["scenario"]})
    path = write_report(alone, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "No comparator" in text and "no CI: one replication" in text
    assert not (tmp_path / FIGURES_DIR / "cost_waterfall.json").exists()
    headline = pd.read_csv(tmp_path / TABLES_DIR / "headline.csv")
    assert headline["measure"].iloc[0] == "Acute beds: admissions"
    assert headline["mean"].iloc[0] == alone.kpi_table("scenario")["acute.admissions"].iloc[0]
    assert "difference_mean" not in pd.read_csv(tmp_path / TABLES_DIR / "comparison.csv", nrows=0).columns


def test_a_failed_rewrite_leaves_the_old_report_whole(rs, written, monkeypatch):
    before = (written / REPORT_NAME).read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(page, "page", broken)
    with pytest.raises(RuntimeError):
        write_report(rs, written)
    assert (written / REPORT_NAME).read_bytes() == before
    assert not list(written.rglob("*.tmp"))


# --- model description -----------------------------------------------------------------------


def test_parameters_mark_what_differs_and_where_it_came_from(rs):
    params = describe.parameters(rs).set_index("parameter")
    assert set(params.index[params["differs"]]) == {"name", "routes.crisis.scale.urgent_response",
                                                    "services.urgent_response.capacity"}
    assert params.loc["services.urgent_response.capacity", "scenario"] == "4"
    assert params.loc["services.urgent_response.capacity", "comparator"] == "2"
    assert params.loc["services.home_care.capacity", "scenario"] == "unlimited"
    # No row for what neither run uses (places, a sweep), nor the placeholder that used to stand for it.
    assert not (params[["scenario", "comparator"]] == "unlimited / none").any().any()
    unused = params[(params["scenario"] == "not used") & (params["comparator"] == "not used")]
    assert unused.empty, list(unused.index)
    sources = rs.scenarios["scenario"].sources
    assert params.loc["services.acute.costs.0.gbp", "source"] == sources["services.acute.costs"]
    assert not any(p.startswith("sources.") for p in params.index)


def test_stress_sections_come_from_the_scenario(rs):
    s = rs.scenarios["scenario"]
    rows = {term: value for section in describe.sections(rs) for term, value in section.rows}
    assert rows["Seed"].startswith(str(s.run.seed))
    assert rows["Warm-up"].startswith(f"{s.run.warmup_days} days")
    assert rows["Replications"].startswith(f"{REPS} run")
    # Every service, route and need group of the scenario, as the scenario states it.
    assert "capacity 4 responses at once" in rows["Service: Urgent community response"]
    assert rows["Service: Acute beds"].startswith("beds; capacity 80 beds; stay lognormal (mean 8, sd 10) days")
    assert {f"Service: {s.services[n].label}" for n in s.services} <= set(rows)
    assert len([term for term in rows if term.startswith("Route: ")]) == len(s.routes)
    assert rows["Route: P2 short-term bed"] == "Community hospital beds 77%, Temporary residential placements 23%"
    assert rows["Route: crisis"].startswith("with ucr suitable: Urgent community response ")
    assert rows["Route: crisis"].endswith("(scaled: Urgent community response x1.7)")
    assert "mild (45%)" in rows["Entities"]
    assert rows["Scenario hash"] == f"sha256 {s.content_hash()}"
    assert rows["Code version"] == "git commit abc123"
    # The manifest's facts in words, not its keys dumped one by one.
    assert not [term for term in rows if term.startswith("Run: ")]


# --- data dictionary ----------------------------------------------------------------------------


def test_docs_outputs_is_current():
    current = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert current == dictionary.markdown(), "run: python -m sim.report.dictionary > docs/outputs.md"


def test_every_kpi_of_a_run_has_a_label_and_unit(rs):
    for name in rs.kpis["kpi"].unique():
        label, unit, _ = describe_kpi(name)
        assert label != name and unit, name


def test_result_tables_are_documented_column_for_column(rs):
    for name, columns in {**dictionary.RESULT_TABLES, **dictionary.ECONOMICS_TABLES}.items():
        assert list(getattr(rs, name).columns) == list(columns), name


# --- PNG export without a browser ------------------------------------------------------------------


def test_export_without_a_browser_fails_clearly(written, monkeypatch, capsys):
    monkeypatch.setenv("BROWSER_PATH", str(written / "no-such-chromium"))
    assert export.main([str(written)]) == 2
    assert "BROWSER_PATH" in capsys.readouterr().err
    assert not list((written / FIGURES_DIR).glob("*.png"))
    monkeypatch.delenv("BROWSER_PATH")
    monkeypatch.setenv("PATH", str(written))
    assert export.main([str(written)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err


def test_export_of_a_folder_without_a_report_fails_clearly(tmp_path, capsys):
    assert export.main([str(tmp_path)]) == 2
    assert "write the report first" in capsys.readouterr().err


# --- warnings, signs and what the page says of itself ------------------------------------------


def test_every_warning_is_at_the_top_and_beside_the_figures_it_concerns(runs, scenarios, tmp_path):
    warnings_ = [
        {"kind": "replications", "subject": "acute.admissions", "role": "scenario",
         "message": "Acute beds: admissions: the 95% CI is ±9.9% of the mean"},
        {"kind": "warm-up", "subject": "warm-up", "role": "scenario", "message": "MSER-5 suggests a warm-up of 45 days"},
        {"kind": "resume", "subject": "results folder", "message": "3 replications were reused from other code"},
    ]
    rs = from_replications(runs, scenarios, {"warnings": warnings_})
    text = write_report(rs, tmp_path).read_text(encoding="utf-8")
    top = text[text.index('<section id="warnings">'): text.index('<section id="headline">')]
    for w in warnings_:
        assert page.esc(w["message"]) in top
    over_time = text[text.index('<section id="over-time">'): text.index('<section id="stays">')]
    assert "MSER-5 suggests a warm-up of 45 days" in over_time and "±9.9%" not in over_time
    comparison = text[text.index('<section id="comparison">'): text.index('<section id="model">')]
    assert "the 95% CI is ±9.9% of the mean" in comparison and "reused from other code" in comparison
    # No overloaded service: the comparison stands, with its gains coloured.
    assert "This comparison is not valid" not in text and "Admissions avoided" in text


def test_an_overloaded_run_shows_no_gain_anywhere_in_the_report(runs, scenarios, tmp_path):
    overloaded = {"kind": "overloaded", "subject": "acute (comparator)",
                  "message": "Acute beds: the queue grows through the whole run, from 5 to 95 people (+0.50 a day); "
                             "demand is above capacity"}
    rs = from_replications(runs, scenarios, {"warnings": [overloaded]})
    text = write_report(rs, tmp_path).read_text(encoding="utf-8")
    head = text[text.index("<main>"): text.index('<section id="economics">')]
    assert head.count("This comparison is not valid: in the comparator, Acute beds: the queue grows") == 2
    for gain in ("Admissions avoided", "Net saving", "bed-days saved", "saves", 'class="value good"',
                 'class="value bad"'):
        assert gain not in head, gain
    assert "Acute beds: admissions (scenario)" in head and "Acute beds: admissions (comparator)" in head
    assert not (tmp_path / FIGURES_DIR / "cost_waterfall.json").exists()
    assert '<tr class="clear">' not in text
    headline = pd.read_csv(tmp_path / TABLES_DIR / "headline.csv")
    assert not headline["measure"].str.contains("avoided|saving|saved", case=False).any()


def test_one_sign_convention_said_once_and_kept_by_cards_tables_and_figures(rs, written):
    text = (written / REPORT_NAME).read_text(encoding="utf-8")
    assert text.count(page.esc(compare.SIGN_CONVENTION)) == 1
    changes = tables.cost_changes(rs).set_index("service")
    # A service the scenario spends less on is a positive saving in the money table, as on the cards.
    cheaper = changes["change_gbp_mean"].idxmin()
    assert changes.loc[cheaper, "change_gbp_mean"] < 0
    row = {"unit": "GBP", **changes.loc[cheaper].to_dict()}
    shown, _ = page.estimate_cell("change_gbp", True, REPS, -1.0)(pd.Series(row))
    assert shown == compare.money(-changes.loc[cheaper, "change_gbp_mean"], signed=True) and shown.startswith("+£")
    money = text[text.index('<section id="money">'): text.index('<section id="comparison">')]
    assert "Saving to NHS" in money and "negative is a saving" not in money
    # The table of every KPI says the direction in words, so no sign can contradict a card.
    admissions = tables.comparison(rs).set_index("kpi").loc["acute.admissions"]
    words, ci = page.change_cell("difference", REPS)(pd.Series({"unit": "people", **admissions.to_dict()}))
    fewer = -admissions["difference_mean"]
    assert fewer > 0  # more UCR keeps people out of hospital in every replication of the fixture
    assert words == f"{fewer:,.{0 if fewer >= 100 else 1 if fewer >= 10 else 2}f} fewer" and ci.startswith("95% CI ")
    spec = json.loads((written / FIGURES_DIR / "cost_waterfall.json").read_text())
    labels = spec["data"][0]["text"]
    assert all(t.endswith((" less", " more")) for t in labels[1:-1]) and labels[0].startswith("£")
    # Payers are named alike everywhere.
    assert set(tables.costs_by_service(rs)["payer_label"]) <= {"NHS", "council", "self-funders"}


def test_the_stays_table_says_it_is_a_sample(written):
    text = (written / REPORT_NAME).read_text(encoding="utf-8")
    stays = text[text.index('<section id="stays">'): text.index('<section id="money">')]
    assert "Stays in the sample" in stays and "Stays recorded" not in stays
    assert f"up to {tables.stays_sample_size():,} per service and replication" in stays


def _label_overlaps(flows: pd.DataFrame, scenario, diagram_px: float, with_nodes: bool) -> list[tuple[str, str]]:
    from sim.report import figures

    flows, columns = figures.pathway_graph(flows, scenario)
    names = sorted(set(flows["source"]) | set(flows["target"]))
    labels = [figures.node_label(n, scenario) for n in names]
    x, y, heights = figures._node_positions(names, flows, columns)
    places = figures.label_places(labels, x, y, heights)
    boxes = [figures.label_box(label, *where, *place, diagram_px) for label, *where, place in zip(labels, x, y, places)]
    clashes = [(labels[i], labels[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if figures._overlap(boxes[i], boxes[j])]
    if with_nodes:
        nodes = figures.node_boxes(x, y, heights, diagram_px)
        clashes += [(labels[i], names[j]) for i in range(len(boxes)) for j in range(len(nodes))
                    if figures._overlap(boxes[i], nodes[j])]
    return clashes


# The end of the pathway as in Connect's evaluation: a big flow home, thin ones to care homes, deaths and
# readmissions, and intermediate care (community hospital, temporary residential, reablement) at the bottom.
PATHWAY_END = pd.DataFrame([
    ("crises", "crisis", 54000), ("crisis", "acute", 48000), ("crisis", "urgent_response", 6000),
    ("urgent_response", "ucr_outcome", 6000), ("ucr_outcome", "home", 4400), ("ucr_outcome", "acute", 1600),
    ("acute", "acute_outcome", 50000), ("acute_outcome", "discharge_pathway", 48000), ("acute_outcome", "died", 2000),
    ("discharge_pathway", "P0", 39000), ("discharge_pathway", "P1", 6000), ("discharge_pathway", "P2", 2600),
    ("discharge_pathway", "P3", 400), ("P0", "home", 39000), ("P1", "reablement", 4900),
    ("P1", "home_care_decision", 1100), ("home_care_decision", "home_care", 2100), ("P2", "community_beds", 2000),
    ("P2", "temporary_residential", 600), ("community_beds", "community_outcome", 2000),
    ("community_outcome", "reablement", 1100), ("community_outcome", "home", 700), ("community_outcome", "died", 200),
    ("temporary_residential", "temporary_outcome", 600), ("temporary_outcome", "care_home_decision", 300),
    ("temporary_outcome", "home", 300), ("P3", "care_home_decision", 400), ("care_home_decision", "care_home", 700),
    ("care_home", "residential_care", 400), ("care_home", "nursing_care", 300),
    ("reablement", "reablement_outcome", 6000), ("reablement_outcome", "home", 4500),
    ("reablement_outcome", "home_care_decision", 1000), ("reablement_outcome", "readmitted", 500),
    ("readmitted", "acute", 500),
], columns=["source", "target", "people"])


@pytest.mark.parametrize("flows", ["fixture", "pathway end"])
def test_sankey_labels_never_overlap_each_other_nor_other_nodes(rs, flows):
    from sim.report import figures

    cases = ([tables.mean_flows(rs, role) for role in ("scenario", "comparator")] if flows == "fixture"
             else [PATHWAY_END])
    for frame in cases:
        frame = frame[frame["people"] > 0]
        # At the narrowest the page draws a diagram, and at a laptop's width, no two labels meet. (A long
        # label may touch a tall node of the next column: the pathway drawn from the scenario has up to
        # seven columns, more than the fixed five the Connect-only diagram had.)
        scenario = rs.scenarios["scenario"]
        assert _label_overlaps(frame, scenario, figures.SANKEY_MIN_DIAGRAM_PX, with_nodes=False) == []
        assert _label_overlaps(frame, scenario, figures.SANKEY_WIDE_DIAGRAM_PX, with_nodes=False) == []
    fig = figures.sankey(rs)
    for trace in fig.data:  # plotly's own labels, which sit beside a node whatever is there, are not drawn
        assert set(trace.node.label) == {""} and trace.node.customdata[0] == "Crises"
    texts = [a.text for a in fig.layout.annotations]
    assert texts.count("Community hospital beds") == 2 and texts.count("Crises") == 2


def test_sankey_nodes_of_a_column_are_a_label_apart(rs):
    from sim.report import figures

    for trace in figures.sankey(rs).data:
        columns: dict[float, list[float]] = {}
        for x, y in zip(trace.node.x, trace.node.y):
            columns.setdefault(x, []).append(y)
        for ys in columns.values():
            ys.sort()
            assert all((b - a) * figures.SANKEY_PLOT_PX >= figures.SANKEY_LABEL_PX - 1e-6 for a, b in zip(ys, ys[1:]))


def test_a_run_where_nobody_moves_still_gets_a_report_without_numpy_warnings(scenarios, tmp_path):
    import warnings

    # A crisis a century: none in a month (a system nobody can enter is refused when it is read).
    empty = scenarios["comparator"].with_changes({"demand.crises_per_year": 0.01, "run.horizon_days": 30,
                                                   "run.warmup_days": 0})
    rs = from_replications({"scenario": [run_replication(empty, 0)]}, {"scenario": empty})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bare numpy or pandas RuntimeWarning is a failure
        text = write_report(rs, tmp_path).read_text(encoding="utf-8")
    assert "nobody moved in the measured period" in (tmp_path / FIGURES_DIR / "flows_sankey.json").read_text()
    # Only people already in long-term care at the start leave (their stays end); no crisis, no short stay.
    stays = pd.read_csv(tmp_path / TABLES_DIR / "stays_summary.csv")
    assert set(stays["service"]) <= {"home_care", "residential_care", "nursing_care"} and "<html" in text


def test_one_replication_report_has_no_numpy_warnings_and_says_why_there_is_no_interval(runs, scenarios, tmp_path):
    import warnings

    one = from_replications({role: r[:1] for role, r in runs.items()}, scenarios)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = write_report(one, tmp_path).read_text(encoding="utf-8")
    assert "no CI: one replication" in text
    # With three replications the same words would be false.
    three = (tmp_path.parent / "three")
    assert "one replication" not in write_report(
        from_replications(runs, scenarios, {"warnings": []}), three).read_text(encoding="utf-8")


def test_markup_and_control_characters_in_names_are_shown_as_text(runs, scenarios, tmp_path):
    name = "[red]x[/red] [link=http://e.vil]y[/link] \x1b[31mz\x07"
    rs = from_replications(runs, {"scenario": scenarios["scenario"].with_changes({"name": name}),
                                  "comparator": scenarios["comparator"]}, {"warnings": []})
    text = write_report(rs, tmp_path).read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    assert "[red]x[/red] [link=http://e.vil]y[/link] \\x1b[31mz\\a" in text


# --- one interval rule: sim.intervals' ---------------------------------------------------


def _skewed(rs: ResultSet, kpi: str, values: list[float]) -> ResultSet:
    """rs with the scenario's `kpi` set to `values`, replication by replication (a long right tail)."""
    kpis = rs.kpis.copy()
    rows = kpis.index[(kpis["role"] == "scenario") & (kpis["kpi"] == kpi)]
    kpis.loc[rows, "value"] = [values[int(r)] for r in kpis.loc[rows, "replication"]]
    return dataclasses.replace(rs, kpis=kpis)


SKEWED = [1.0, 2.0, 400.0]  # a queue that grew in one replication: the symmetric t interval goes below 0


def test_report_tables_give_a_skewed_non_negative_kpi_sim_intervals_log_t_interval(rs):
    kpi = "delayed.bed_days"
    mine = rs.kpis[rs.kpis["role"] == "scenario"]
    runs = mine.groupby("kpi")["replication"].nunique()  # a reason every replication had (absent counts as 0)
    reason = sorted(k for k in runs.index if ".delayed_bed_days." in k and not k.startswith("place.")
                    and runs[k] == len(SKEWED))[0]
    skewed = _skewed(_skewed(rs, kpi, SKEWED), reason, SKEWED)
    plain = confidence_interval(SKEWED)  # what the report gave before: Student t
    expected = interval_row(SKEWED, describe_kpi(kpi)[1])
    print(f"{kpi} {SKEWED}: Student t {plain[1]:.1f} to {plain[2]:.1f}; "
          f"report now {expected['ci_low']:.2f} to {expected['ci_high']:.1f} ({expected['method']})")
    assert plain[1] < 0 and expected["method"] == LOG_T
    bounds = (expected["mean"], expected["ci_low"], expected["ci_high"])
    row = tables.comparison(skewed, key_only=False).set_index("kpi").loc[kpi]
    assert row["scenario_ci95_low"] >= 0
    assert (row["scenario_mean"], row["scenario_ci95_low"], row["scenario_ci95_high"]) == pytest.approx(bounds)
    # the paired difference keeps the symmetric t interval (it may well be negative)
    diff = skewed.kpi_table("scenario")[kpi] - skewed.kpi_table("comparator")[kpi]
    assert (row["difference_ci95_low"], row["difference_ci95_high"]) == pytest.approx(confidence_interval(diff)[1:])
    level = {h.label: h.estimate for h in tables._levels(skewed)}["Delayed bed-days"]
    assert (level.mean, level.low, level.high) == pytest.approx(bounds) and level.method == LOG_T
    service, _, why = reason.split(".", 2)
    got = tables.delays_by_reason(skewed).set_index(["role", "service", "reason"]).loc[("scenario", service, why)]
    assert (got["delayed_days_mean"], got["delayed_days_ci95_low"], got["delayed_days_ci95_high"]) == pytest.approx(
        bounds)


def test_report_estimate_is_sim_intervals_row_for_every_unit():
    rng = np.random.default_rng(7)
    values = rng.lognormal(0.0, 2.0, size=5)
    for unit in ("people", "places", "days", "hours", "bed-days", "GBP", "share", None):
        e, row = estimate(values, unit), interval_row(values, unit)
        assert (e.mean, e.low, e.high, e.n, e.method) == (row["mean"], row["ci_low"], row["ci_high"],
                                                          row["replications"], row["method"])
        assert e.low >= 0 if unit not in ("share", None) else e.method == "t"
    assert estimate([-5.0, 1.0, 300.0], "GBP").method == "t"  # a net figure: not bounded by 0
