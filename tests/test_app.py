"""The web app, driven headlessly with streamlit's AppTest, and its levers and scenario library on their own.

The app runs a small system (60 days, a few hundred crises, a few beds) so a run takes seconds.
"""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from sim import api  # noqa: E402
from sim.app import levers, runs  # noqa: E402
from sim.app.library import edited_yaml, library, load_upload  # noqa: E402
from sim.report import tables  # noqa: E402
from sim.report.formatting import interval, number  # noqa: E402
from sim.report.intervals import Estimate  # noqa: E402
from sim.scenario import ScenarioError, load_scenario  # noqa: E402

# Runs processes, a browser or whole studies: left out of the quick loop (pytest -m "not slow").
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "sim" / "app" / "main.py"
SMALL = """extends: baseline.yaml
name: "Small system"
run: {horizon_days: 60, warmup_days: 15, replications: 2, seed: 7}
demand: {crises_per_year: 2000}
services:
  acute: {capacity: 55}
  reablement: {capacity: 12}
  community_beds: {capacity: 12}
  temporary_residential: {capacity: 6}
  urgent_response: {capacity: 2}
"""
SMALL_CONNECT = """extends: small-baseline.yaml
name: "Small system with more urgent response"
comparator: small-baseline.yaml
routes: {crisis: {scale: {urgent_response: 1.7}}}
"""


def write_library(folder: Path) -> Path:
    """A scenarios folder for the app: the baseline, a small system and a small what-if compared with it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", folder / "baseline.yaml")
    (folder / "library").mkdir()
    shutil.copy(ROOT / "scenarios" / "library" / "older-people-pathway.yaml", folder / "library")
    (folder / "small-baseline.yaml").write_text(SMALL)
    (folder / "small-connect.yaml").write_text(SMALL_CONNECT)
    return folder


@pytest.fixture
def small_library(tmp_path, monkeypatch) -> Path:
    folder = write_library(tmp_path / "scenarios")
    monkeypatch.setattr("sim.app.library.LIBRARY", folder)
    monkeypatch.chdir(tmp_path)  # commands name files from here, as a planner's shell would
    return folder


def _command_line():
    spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60).run()


def _errors(at: AppTest) -> list[str]:
    """Error messages as read on the page: the app escapes markdown in them, so that none is obeyed."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def _wait(key: str) -> runs.Run:
    run = runs.find(key)
    while run.state == "running":
        time.sleep(0.1)
    return run


# --- levers --------------------------------------------------------------------------


def test_untouched_levers_change_nothing():
    connect = load_scenario(ROOT / "scenarios" / "connect.yaml")
    values = {lever.path: levers.shown(connect, lever) for group in levers.groups(connect) for lever in group.levers}
    assert len(values) >= 30
    assert levers.changes(connect, values) == {}
    assert values["routes.crisis.scale.urgent_response"] == 1.7
    assert values["services.reablement.los_days"] == pytest.approx(16.8)
    assert values["services.community_beds.discharge_process.days"] == pytest.approx(1.5)
    assert values["routes.P1.to.home_care_decision"] == 18.0  # shares shown in %
    # Levers are made from the scenario's own services and routes: every service has its stay.
    assert {f"services.{name}" for name in connect.services} == {
        path.rsplit(".", 1)[0] for path in values if path.endswith((".los_days", ".duration_days"))}


def test_shares_keep_their_split_summing_to_one():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    mild = "routes.discharge_pathway.by_group.mild.to"
    changes = levers.changes(base, {"routes.P1.to.home_care_decision": 25.0,
                                    f"{mild}.P1": 10.0, f"{mild}.P3": 1.0})
    # The likeliest destination takes up the change: reablement in P1, P0 in the discharge pathway.
    assert changes["routes.P1.to.home_care_decision"] == 0.25
    assert changes["routes.P1.to.reablement"] == 0.75
    # P0 takes up both changes: 0.917 - (0.10 - 0.065) - (0.01 - 0.002)
    assert changes[f"{mild}.P0"] == pytest.approx(0.874, abs=1e-12)
    edited = base.with_changes(changes)
    table = edited.routes["discharge_pathway"].by_group["mild"].to
    assert math.fsum(table.values()) == pytest.approx(1.0, abs=1e-9)
    assert edited.routes["P1"].to == {"reablement": 0.75, "home_care_decision": 0.25}


def test_a_mean_length_of_stay_scales_the_whole_distribution():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    changes = levers.changes(base, {"services.reablement.los_days": 42.0})  # twice the baseline's mean of 21
    assert changes["services.reablement.los_days"] == {"dist": "lognormal", "mean": 42.0, "median": 32.0}
    edited = base.with_changes(changes)
    assert edited.services["reablement"].los_days.mean() == 42.0


def test_capacity_can_be_unlimited_and_counts_are_whole():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    changes = levers.changes(base, {"services.acute.capacity": None, "run.replications": 3.0})
    assert changes == {"services.acute.capacity": None, "run.replications": 3}
    assert base.with_changes(changes).services["acute"].capacity is None


def test_unit_cost_levers_say_per_what_and_who_pays():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    costs = {lever.path: lever for lever in next(g for g in levers.groups(base) if g.title.startswith("Unit costs")).levers}
    assert costs["services.acute.costs.0.gbp"].unit == "£ per day"
    assert costs["services.acute.costs.1.gbp"].label == "ED attendances"  # a cost line that names itself
    assert costs["services.acute.costs.1.gbp"].unit == "£ per arrival"
    assert costs["services.temporary_residential.costs.0.gbp"].unit == "£ per week"
    assert costs["services.temporary_residential.costs.0.gbp"].help == "Paid by the council"
    assert costs["services.acute.costs.0.gbp"].help == "Paid by the NHS"
    assert levers.shown(base, costs["services.acute.costs.0.gbp"]) == 346


# --- library: uploads and the downloaded YAML ----------------------------------------


def test_an_upload_extends_the_library_and_errors_name_the_uploaded_file(small_library):
    upload = load_upload("my plan.yaml", b"extends: small-baseline.yaml\nname: Mine\ncomparator: small-baseline.yaml\n",
                         small_library)
    assert upload.scenario.name == "Mine"
    assert upload.scenario.services["acute"].capacity == 55
    assert upload.comparator.name == "Small system"
    text = b"extends: small-baseline.yaml\nservices: {acute: {capacity: -1}}\n"
    with pytest.raises(ScenarioError) as bad:
        load_upload("plan.yaml", text, small_library)
    assert str(bad.value) == ("plan.yaml: services.acute.capacity: Input should be greater than or equal to 0 "
                              "(got -1)")
    (small_library / "plan.yaml").write_bytes(text)
    with pytest.raises(ScenarioError) as from_file:
        load_scenario(small_library / "plan.yaml")
    assert str(from_file.value) == f"{small_library}/{bad.value}"
    with pytest.raises(ScenarioError, match=r"^notes.txt: a scenario is a YAML file"):
        load_upload("notes.txt", b"name: x\n", small_library)


def test_the_edited_yaml_is_the_whole_scenario_and_says_how_to_rerun_it(small_library):
    base = load_scenario(small_library / "small-connect.yaml")
    changes = {"services.urgent_response.capacity": 5}
    text = edited_yaml(base.with_changes(changes), "scenarios/small-connect.yaml", changes,
                       "python run_scenario.py x.yaml --compare scenarios/small-baseline.yaml")
    assert "#   services.urgent_response.capacity: 5\n" in text
    assert "# Same results from the command line: python run_scenario.py x.yaml --compare" in text
    data = yaml.safe_load(text)
    assert "extends" not in data and "comparator" not in data
    path = small_library / "x.yaml"
    path.write_text(text)
    reloaded = load_scenario(path)
    assert reloaded.content_hash() == base.with_changes({**changes, "comparator": None}).content_hash()


# --- the page, headless --------------------------------------------------------------


def test_the_page_shows_levers_with_units_and_the_library(small_library):
    at = _app()
    assert not at.exception and _errors(at) == []
    assert at.selectbox(key="library_name").options == list(library(small_library))
    # The library's definitions are extended by scenarios, not run: they are not offered.
    assert list(library(small_library)) == ["baseline.yaml", "small-baseline.yaml", "small-connect.yaml"]
    labels = [n.label for n in at.number_input]
    assert "Acute beds: capacity (places)" in labels
    assert "Referrals to urgent community response (x)" in labels
    assert "Reablement: length of stay, mean (days)" in labels
    assert "Acute beds (£ per day)" in labels


def test_an_invalid_value_shows_the_command_lines_message_and_nothing_runs(small_library):
    at = _app()
    at.selectbox(key="library_name").set_value("small-connect.yaml").run()
    hash_ = load_scenario(small_library / "small-connect.yaml").content_hash()[:12]
    # 99% of mild crises home with support leaves P0 below zero: pydantic's message, via with_changes
    at.number_input(key=f"{hash_}:routes.discharge_pathway.by_group.mild.to.P1").set_value(99.0).run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {small_library / 'small-connect.yaml'}: "
                                "routes.discharge_pathway.by_group.mild.to: P0: a probability must be a number "
                                "from 0 to 1 (got -0.008)")
    assert len(at.button) == 0  # no Run button, no download of a scenario that cannot run


def test_an_invalid_upload_shows_the_same_message_as_the_command_line(small_library):
    bad = small_library / "bad.yaml"
    bad.write_text("extends: small-baseline.yaml\nservices:\n  acute: {capacity: lots}\n")
    at = _app()
    at.radio(key="source").set_value("My own YAML file").run()
    at.file_uploader(key="upload").upload("bad.yaml", bad.read_bytes()).run()
    assert not at.exception
    shown = _errors(at)
    assert len(shown) == 1
    problem = shown[0].removeprefix("error: bad.yaml: ")
    assert problem.startswith("services.acute.capacity: ")
    with pytest.raises(ScenarioError) as from_file:
        load_scenario(bad)
    assert str(from_file.value).endswith(problem)
    out = small_library.parent / "out"
    assert _command_line()([str(bad), "--out", str(out)]) == 2
    assert not out.exists()


def test_a_run_shows_headline_numbers_that_match_the_python_api(small_library):
    at = _app()
    at.selectbox(key="library_name").set_value("small-connect.yaml").run()
    at.number_input(key="workers").set_value(1).run()
    comparator = at.selectbox[1]
    assert comparator.value == "Its own comparator (scenarios/small-baseline.yaml)"
    scenario = load_scenario(small_library / "small-connect.yaml")
    lever = f"{scenario.content_hash()[:12]}:services.urgent_response.capacity"
    at.number_input(key=lever).set_value(4).run()
    caption = [c.value for c in at.caption if "Same results from the command line" in c.value][0]
    assert "python run_scenario.py small-connect-edited.yaml --compare scenarios/small-baseline.yaml" in caption
    at.button(key="run").click().run()
    run = _wait(at.session_state["run_key"])
    assert run.state == "done", run.error
    assert (run.done, run.total) == (4, 4)  # the progress bar's count: 2 replications of each role
    at.run()
    assert not at.exception and _errors(at) == []

    expected = api.run(scenario.with_changes({"services.urgent_response.capacity": 4}),
                       small_library / "small-baseline.yaml", workers=1)
    want = tables.headline_table(tables.headline(expected))
    shown = at.dataframe[0].value
    assert list(shown["measure"]) == list(want["measure"])
    assert shown["mean"].tolist() == want["mean"].tolist()  # bit for bit
    assert shown["ci95_low"].tolist() == want["ci95_low"].tolist()
    avoided = want.set_index("measure").loc["Admissions avoided", "mean"]
    assert avoided > 0  # doubling UCR capacity and +70% referrals keep people out of hospital
    metrics = {m.label: m.value for m in at.metric}
    assert len(metrics) == len(want)  # a card for each headline row (their number follows the scenario's outcomes)
    assert metrics["Admissions avoided"] == number(avoided, "people", signed=True, with_unit=False)
    row = want.set_index("measure").loc["Admissions avoided"]
    ci = interval(Estimate(row["mean"], row["ci95_low"], row["ci95_high"], 2), "people", signed=True,
                  with_unit=False, replications=2)
    assert f"people a year · 95% CI: {ci}" in [c.value for c in at.caption]
    assert sum("95% CI: " in c.value for c in at.caption) == len(want)
    assert len(at.get("plotly_chart")) >= 6  # the report's figures
    comparison = at.dataframe[1].value
    assert list(comparison.columns) == ["Measure", "Unit", "Comparator: Small system",
                                        "Scenario: Small system with more urgent response",
                                        "Difference in the scenario"]
    crises = comparison.set_index("Measure").iloc[0]
    assert crises.name == "Crises" and crises["Difference in the scenario"] == "no change"  # same arrivals (CRN)
    assert {"download_results", "download_excel", "download_report", "download_yaml"} <= {b.key for b in at.get("download_button")}

    # The same settings again: the finished run is reused, not run again.
    at.button(key="run").click().run()
    assert at.session_state["run_key"] == run.key and runs.find(run.key) is run


def test_a_valid_upload_runs_against_the_comparator_it_names(small_library):
    at = _app()
    at.radio(key="source").set_value("My own YAML file").run()
    text = (b"extends: small-baseline.yaml\nname: My plan\ncomparator: small-baseline.yaml\n"
            b"routes: {crisis: {scale: {urgent_response: 2}}}\n")
    at.file_uploader(key="upload").upload("my-plan.yaml", text).run()
    assert not at.exception and _errors(at) == []
    assert at.selectbox[0].value == "Its own comparator (scenarios/small-baseline.yaml)"
    assert at.number_input(key=f"{load_upload('my-plan.yaml', text).scenario.content_hash()[:12]}:"
                               "routes.crisis.scale.urgent_response").value == 2.0
    caption = [c.value for c in at.caption if "Same results from the command line" in c.value][0]
    assert "python run_scenario.py my-plan-edited.yaml --compare scenarios/small-baseline.yaml" in caption


def test_a_run_that_fails_says_why_and_the_page_carries_on(small_library, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    working = runs.run_experiment
    monkeypatch.setattr(runs, "run_experiment", broken)
    at = _app()
    at.selectbox(key="library_name").set_value("small-baseline.yaml").run()
    at.selectbox[1].set_value("None: run the scenario alone").run()
    at.button(key="run").click().run()
    assert _wait(at.session_state["run_key"]).state == "failed"
    at.run()
    assert not at.exception
    failed = at.session_state["run_key"]
    assert _errors(at) == ["error: the run failed: OSError: [Errno 28] No space left on device"]
    assert len(at.number_input) > 30 and len(at.button) == 1  # levers and Run still there, to try again
    # A failed run is not reused: with the disk freed, Run starts afresh and succeeds.
    monkeypatch.setattr(runs, "run_experiment", working)
    failed_run = runs.find(failed)
    at.button(key="run").click().run()
    again = _wait(at.session_state["run_key"])
    assert again is not failed_run and again.state == "done"
    at.run()
    assert _errors(at) == [] and len(at.metric) == 8


def test_every_scenario_of_the_library_opens_with_its_levers():
    at = _app()
    notes = {}
    for name in library():
        at.selectbox(key="library_name").set_value(name).run()
        assert not at.exception, name
        assert _errors(at) == [], name
        assert "No lever moved yet" in " ".join(m.value for m in at.markdown), name
        notes[name] = " ".join(i.value for i in at.info)
    assert "sweeps 15 variants" in notes["stress/community-beds-sweep.yaml"]
    assert "has 3 places" in notes["places/mse-places.yaml"]
    assert notes["connect.yaml"] == ""


# --- what the page shows of scenario text, warnings and progress ------------------------------------


GRIDLOCK = """extends: small-baseline.yaml
name: "[Gridlock](http://e.vil) **now** \\e[31m"
comparator: small-baseline.yaml
services: {acute: {capacity: 5}}
run: {horizon_days: 90}
"""


def test_a_gridlocked_upload_shows_its_name_as_text_and_no_gain(small_library):
    # Five acute beds for about two admissions a day: the queue grows all run in both.
    (small_library / "small-baseline.yaml").write_text(SMALL.replace("acute: {capacity: 55}", "acute: {capacity: 5}"))
    at = _app()
    at.radio(key="source").set_value("My own YAML file").run()
    at.file_uploader(key="upload").upload("gridlock.yaml", GRIDLOCK.encode()).run()
    assert not at.exception and _errors(at) == []
    title = [m.value for m in at.markdown if "Gridlock" in m.value][0]
    # Escaped for markdown (no link, no bold) and the escape character shown, not sent.
    assert title.startswith("**\\[Gridlock\\]\\(http\\:") and "\\*\\*now\\*\\*" in title
    assert "\x1b" not in title and "x1b" in title
    at.number_input(key="workers").set_value(1).run()
    at.button(key="run").click().run()
    run = _wait(at.session_state["run_key"])
    assert run.state == "done", run.error
    at.run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and errors[0].startswith("This comparison is not valid: in the scenario, Acute beds: "
                                                     "the queue grows through the whole run")
    labels = [m.label for m in at.metric]
    assert "Acute beds: admissions (scenario)" in labels and "Acute beds: admissions (comparator)" in labels
    assert not [label for label in labels if "avoided" in label or "saving" in label.lower()]
    warnings_ = [w.value for w in at.warning]
    assert any("the queue grows through the whole run" in w for w in warnings_)


def test_the_progress_counts_runs_as_replications_of_each_scenario_with_time_left(small_library, monkeypatch):
    import threading

    release = threading.Event()

    def slow(scenarios, plan, progress, **kwargs):
        progress.begin(4, 0)
        progress.advance()
        release.wait(30)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "run_experiment", slow)
    at = _app()
    at.selectbox(key="library_name").set_value("small-connect.yaml").run()
    at.button(key="run").click().run()
    try:
        deadline = time.monotonic() + 10
        while runs.find(at.session_state["run_key"]).done < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        at.run()
        shown = [p.proto.text for p in at.get("progress")]
        assert len(shown) == 1
        assert shown[0].startswith("Running: 1 of 4 runs (2 replications of each of 2 scenarios); about ")
        assert shown[0].endswith(" left")
    finally:
        release.set()
        _wait(at.session_state["run_key"])
