"""The app's page: pick a scenario, pull its levers, run it against a comparator, read and download the results.

Start it with `python -m sim.app` (or `streamlit run sim/app/main.py`). Every
edit goes through `Scenario.with_changes`, so a value the command line would
refuse is refused here with the same message; runs go through the command
line's experiment, so the downloaded scenario reproduces the page's numbers.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.components.v1 import html as page_script

from sim import api, trust
from sim.app import levers, runs
from sim.app.library import LIBRARY, command_path, edited_yaml, library, load_upload
from sim.cli_output import terminal_text
from sim.compare import SIGN_CONVENTION, kpi_label
from sim.report import BESIDE, tables
from sim.report.formatting import change_words, interval, number
from sim.report.intervals import Estimate
from sim.scenario import Scenario, ScenarioError, comparator_path, load_scenario

OWN = "Its own comparator"
AS_LOADED = "The scenario as loaded, before my edits"
NONE = "None: run the scenario alone"
UNITS = {"GBP": "£", "share": "%"}
MARKDOWN = re.compile(r"[\\`*_{}\[\]()#+\-.!|<>~$:]")
# The report's figures and the sections whose warnings (sim.report.BESIDE) are shown beside them.
FIGURE_SECTIONS = {"occupancy": "over-time", "queues": "over-time", "stays": "stays", "delays": "stays",
                   "costs": "money", "cost_waterfall": "money"}
RESULTS_ANCHOR = "results"


def text(value: object) -> str:
    """Text from a scenario file shown as itself, never as markdown, links, colours or maths; controls shown."""
    return MARKDOWN.sub(lambda m: "\\" + m.group(0), terminal_text(value, keep="\n"))


@st.cache_resource(max_entries=32)
def _library_scenario(path: str, modified: float) -> Scenario:
    return load_scenario(path)


def library_scenario(path: Path) -> Scenario:
    return _library_scenario(str(path), path.stat().st_mtime)


def choose_scenario(source_box, file_box) -> tuple[Scenario, str, Scenario | None] | None:
    """The scenario to start from, the file it came from, and the comparator it names."""
    source = source_box.radio("Start from", ["A scenario in the library", "My own YAML file"], key="source")
    if source == "My own YAML file":
        upload = file_box.file_uploader("Scenario file (YAML)", type=["yaml", "yml"], key="upload")
        if upload is None:
            st.info(f"Upload a scenario file (YAML) above. It may extend a scenario of the library "
                    f"({command_path(LIBRARY)}/), e.g. `extends: baseline.yaml`.")
            return None
        try:
            loaded = load_upload(upload.name, upload.getvalue())
        except ScenarioError as exc:
            st.error(text(f"error: {exc}"))
            return None
        return loaded.scenario, loaded.scenario.path.name, loaded.comparator  # the name made safe for files
    files = library()
    names = list(files)
    name = file_box.selectbox("Scenario", names, index=names.index("connect.yaml") if "connect.yaml" in names else 0,
                                key="library_name", help=f"Scenario files in {command_path(LIBRARY)}/")
    try:
        scenario = library_scenario(files[name])
        other = comparator_path(scenario)
        comparator = library_scenario(other) if other is not None else None
    except ScenarioError as exc:
        st.error(text(f"error: {exc}"))
        return None
    return scenario, command_path(files[name]), comparator


def choose_comparator(where, loaded: Scenario, own: Scenario | None) -> tuple[Scenario | None, str | None]:
    """The comparator chosen, and its file for the command line (None: the planner downloads it)."""
    files = library()
    own_option = f"{OWN} ({command_path(own.path)})" if own is not None else None
    options = ([own_option] if own_option else []) + [AS_LOADED] + list(files) + [NONE]
    choice = where.selectbox("Compare with", options, key=f"comparator:{loaded.content_hash()[:12]}")
    if choice == NONE:
        return None, None
    if choice == AS_LOADED:
        return loaded, None
    if choice == own_option:
        return own, command_path(own.path)
    return library_scenario(files[choice]), command_path(files[choice])


def lever_input(lever: levers.Lever, value: float | int | None, key: str) -> float | int | None:
    label = f"{lever.label} ({lever.unit})" if lever.unit else lever.label
    if lever.kind in ("count", "capacity"):
        low = int(lever.low if value is None else min(lever.low, value))
        high = int(lever.high if value is None else max(lever.high, value))
        return st.number_input(label, min_value=low, max_value=high, value=value, step=int(lever.step), key=key,
                               help=lever.help or None, placeholder="unlimited" if lever.kind == "capacity" else None)
    return st.number_input(label, min_value=float(min(lever.low, value)), max_value=float(max(lever.high, value)),
                           value=float(value), step=float(lever.step), format="%g", key=key, help=lever.help or None)


def edit(scenario: Scenario) -> dict[str, object]:
    """The levers as inputs, grouped; the changes they make to the scenario."""
    prefix = scenario.content_hash()[:12]  # another scenario starts from its own values
    values: dict[str, object] = {}
    moved: list[str] = []
    for n, group in enumerate(levers.groups(scenario)):
        with st.expander(group.title, expanded=n == 0):
            columns = st.columns(3)
            for i, lever in enumerate(group.levers):
                before = levers.shown(scenario, lever)
                with columns[i % 3]:
                    values[lever.path] = lever_input(lever, before, f"{prefix}:{lever.path}")
                if values[lever.path] != before:
                    moved.append(f"{lever.label}: {_plain(before)} → {_plain(values[lever.path])} {lever.unit}")
    st.markdown("**Changed:** " + "; ".join(moved) if moved else "No lever moved yet: the scenario as loaded.")
    changes = levers.changes(scenario, values)
    if scenario.places:
        st.info(f"This scenario has {len(scenario.places)} places. The capacities above are the system's, shared out "
                "to places that set none of their own; a place's own capacities are edited in its YAML "
                "(see docs/places.md).")
    if scenario.sweep is not None:
        st.info(f"This scenario sweeps {len(scenario.sweep.expand())} variants. The app runs it at its base values; "
                "run the sweep from the command line (see docs/stress-testing.md).")
        changes = {"sweep": None, "service_levels": [], **changes}
    return changes


def _plain(value: object) -> str:
    return "unlimited" if value is None else f"{value:,g}"


def _remaining(run: runs.Run) -> str:
    """Time left, from the pace so far: unknown until the first replication is done."""
    started = st.session_state.setdefault("run_started", {}).get(run.key)
    if started is None or run.done == 0 or not run.total:
        return "time left: estimated once the first replication finishes"
    elapsed = time.monotonic() - started
    left = elapsed / run.done * (run.total - run.done)
    return f"about {left / 60:.0f} min left" if left >= 90 else f"about {max(left, 1):.0f} s left"


@st.fragment(run_every=0.5)
def watch(key: str) -> None:
    """Progress of a running run; the whole page is drawn again once it has finished."""
    run = runs.find(key)
    if run is None or run.state != "running":
        st.rerun()
    roles = len(run.scenarios)
    count = (f"{run.done} of {run.total or '?'} runs ({run.total // roles if run.total else '?'} replications of "
             f"each of {roles} scenarios)" if roles > 1 else f"{run.done} of {run.total or '?'} replications")
    st.progress(run.fraction, text=f"Running: {count}; {_remaining(run)}")


def warnings_beside(warnings: list[trust.TrustWarning], section: str) -> None:
    """The simulator's warnings about one section's figures, above them (the report does the same)."""
    for w in warnings:
        if w.kind in BESIDE.get(section, ()):
            st.warning(text(w.message + (" (comparator)" if w.role == "comparator" else "")))


def headline(rs, warnings: list[trust.TrustWarning]) -> None:
    items = tables.headline(rs, warnings)
    compared = tables.has_comparator(rs)
    gains = compared and tables.comparison_valid(rs, warnings)
    s = rs.scenarios["scenario"]
    n = rs.kpis.loc[rs.kpis["role"] == "scenario", "replication"].nunique()
    if gains:
        what = (f"“{text(s.name)}” against “{text(rs.scenarios['comparator'].name)}”: gains over the comparator "
                f"({SIGN_CONVENTION}), a year (the {s.run.horizon_days} days measured, per 365), and net cash "
                f"savings by payer over the years measured; mean of {n} paired replications")
    elif compared:
        what = (f"“{text(s.name)}” and “{text(rs.scenarios['comparator'].name)}”, each run's own totals over the "
                f"{s.run.horizon_days} days measured (the comparison is not valid); mean of {n} replications each")
    else:
        what = f"“{text(s.name)}” over the {s.run.horizon_days} days measured; mean of {n} replications"
    st.subheader("Headline")
    if compared and not gains:
        st.error(text(trust.not_valid_reason(warnings)))
    st.caption(what + ", with 95% confidence intervals. Savings are by payer: a saving to one can be a cost "
               "moved to another; self-funders' own fees are private spending, never a system's saving; "
               "bed-days freed are capacity, not cash. The report has the budget impact year by year.")
    for title, group in (("People and beds", [h for h in items if h.unit != "GBP"]),
                         (("Net saving by payer, cash" if gains else "Cost by payer") + f" ({s.economics.price_year} prices)",
                          [h for h in items if h.unit == "GBP"])):
        st.markdown(f"**{title}**")
        for start in range(0, len(group), 4):  # four cards a row: each run's totals make eight
            for column, item in zip(st.columns(4), group[start:start + 4]):
                unit = "" if item.unit == "GBP" else f"{item.unit} · "
                column.metric(item.label, number(item.estimate.mean, item.unit, signed=gains, with_unit=False),
                              help=item.explanation)
                column.caption(f"{unit}95% CI: "
                               f"{interval(item.estimate, item.unit, signed=gains, with_unit=False, replications=n)}")
    for sentence in tables.cost_shifts(rs, warnings):
        st.write(text(f"{sentence}."))
    with st.expander("Headline numbers as a table"):
        st.dataframe(tables.headline_table(items), hide_index=True, key="headline_table")


def comparison_table(rs) -> pd.DataFrame:
    """The report's comparison table with each cell as mean (95% CI), units shown."""
    table = tables.comparison(rs, key_only=True)
    n = rs.kpis.loc[rs.kpis["role"] == "scenario", "replication"].nunique()
    shown = pd.DataFrame({"Measure": table["label"], "Unit": table["unit"].map(lambda u: UNITS.get(u, u))})

    shown["Measure"] = [kpi_label(k, label) for k, label in zip(table["kpi"], table["label"])]

    def cells(prefix: str) -> list[str]:
        out = []
        for _, r in table.iterrows():
            e = Estimate(r[f"{prefix}_mean"], r[f"{prefix}_ci95_low"], r[f"{prefix}_ci95_high"], n)
            out.append(f"{number(e.mean, r['unit'], with_unit=False)} "
                       f"({interval(e, r['unit'], with_unit=False, replications=n)})")
        return out

    def changes() -> list[str]:
        # In words ("120 fewer"), as in the report: for some measures more is better, for others less.
        out = []
        for _, r in table.iterrows():
            mean, low, high = (r[f"difference_{part}"] for part in ("mean", "ci95_low", "ci95_high"))
            if pd.isna(low) or low == high:
                out.append(change_words(mean, r["unit"]))
            else:
                out.append(f"{change_words(mean, r['unit'])} ({change_words(low, r['unit'])} to "
                           f"{change_words(high, r['unit'])})")
        return out

    for role in ("comparator", "scenario"):
        if role in rs.scenarios:  # the role in the heading: both may have the same name
            shown[f"{role.capitalize()}: {terminal_text(rs.scenarios[role].name)}"] = cells(role)
    if tables.has_comparator(rs):
        shown["Difference in the scenario"] = changes()
    return shown


def results(run: runs.Run, stem: str) -> None:
    rs = run.resultset
    warnings = trust.of_results(rs)
    st.markdown(f'<div id="{RESULTS_ANCHOR}"></div>', unsafe_allow_html=True)  # our own anchor, no user text
    if st.session_state.get("scrolled_to") != run.key:
        # Once per run: the results are below the levers, out of sight on most screens.
        st.session_state["scrolled_to"] = run.key
        page_script(f"<script>window.parent.document.getElementById('{RESULTS_ANCHOR}')"
                    "?.scrollIntoView({behavior: 'smooth'});</script>", height=0)
    if warnings:
        with st.expander(f"The simulator's warnings about this run ({len(warnings)})",
                         expanded=not tables.comparison_valid(rs, warnings)):
            for w in warnings:
                st.warning(text(w.message + (" (comparator)" if w.role == "comparator" else "")))
    headline(rs, warnings)
    st.subheader("Figures from the report")
    for name, figure in run.figures().items():
        warnings_beside(warnings, FIGURE_SECTIONS.get(name, ""))
        st.plotly_chart(figure, key=f"figure-{name}", theme=None)  # the report's own look, colours and all
    st.subheader("Scenario comparison")
    warnings_beside(warnings, "comparison")
    st.caption("Means over replications (95% CI in brackets); the difference is paired replication by replication "
               "and says which way it goes in words. Shares in %, their differences in percentage points.")
    st.dataframe(comparison_table(rs), hide_index=True, key="comparison_table")
    left, middle, right = st.columns(3)
    left.download_button("Download the results (zip: tables, manifest, report)", run.results_zip,
                         file_name=f"{stem}-results.zip", mime="application/zip", key="download_results")
    middle.download_button("Download the results (Excel)", run.results_excel, file_name=f"{stem}-results.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="download_excel")
    right.download_button("Download the report (HTML)", run.report.read_bytes(), file_name=f"{stem}-report.html",
                          mime="text/html", key="download_report")


def main() -> None:
    st.set_page_config(page_title="Care pathway simulator", layout="wide")
    st.title("Care pathway simulator")
    st.caption("A care pathway as its scenario declares it: change the levers, run against a comparator, "
               "and see what changes for people, beds and each payer's money.")
    source_box, file_box, comparator_box, workers_box = st.columns([1.2, 2, 2, 1])
    chosen = choose_scenario(source_box, file_box)
    if chosen is None:
        return
    loaded, origin, own = chosen
    comparator, compare_file = choose_comparator(comparator_box, loaded, own)
    workers = workers_box.number_input("Worker processes", min_value=1, max_value=os.cpu_count() or 1,
                                       value=os.cpu_count() or 1, key="workers",
                                       help="Results are the same whatever the number")
    st.markdown(f"**{text(loaded.name)}** ({text(origin)})")
    if loaded.description:
        st.caption(text(loaded.description))
    changes = edit(loaded)
    try:
        edited = loaded.with_changes(changes) if changes else loaded
    except ScenarioError as exc:
        st.error(text(f"error: {exc}"))
        return
    stem = Path(origin).stem
    file_name = f"{stem}-edited.yaml"
    download_comparator = comparator is not None and compare_file is None  # not a file the planner has
    if download_comparator:
        compare_file = f"{stem}-comparator.yaml"
    reproduce = f"python run_scenario.py {file_name} " + (f"--compare {compare_file}" if compare_file else "--no-compare")
    run_box, yaml_box, comparator_yaml_box = st.columns([1, 2, 5])
    started = run_box.button("Run", type="primary", key="run")
    yaml_box.download_button("Download the edited scenario (YAML)", edited_yaml(edited, origin, changes, reproduce),
                             file_name=file_name, mime="application/x-yaml", key="download_yaml")
    if download_comparator:
        comparator_yaml_box.download_button("Download the comparator (YAML)",
                                            edited_yaml(comparator, origin, {}, reproduce), file_name=compare_file,
                                            mime="application/x-yaml", key="download_comparator")
    st.caption(f"Same results from the command line: `{reproduce}`")
    scenarios = api.prepare(edited, comparator, use_comparator=False)
    if started:
        run = runs.start(scenarios, int(workers))
        st.session_state["run_key"] = run.key
        st.session_state.setdefault("run_started", {}).setdefault(run.key, time.monotonic())
    run = runs.find(st.session_state.get("run_key"))
    if run is None:
        return
    if run.key != runs.run_key(scenarios):
        st.warning("These results are for earlier settings: press Run for the settings above.")
    if run.state == "running":
        watch(run.key)
    elif run.state == "failed":
        st.error(text(f"error: {run.error}"))
    else:
        results(run, stem)


main()
