"""The command line: tables with intervals, results folders, bad input refused with nothing written, kill and resume."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from experiment_helpers import assert_same_tables, write_scenarios
from rich.console import Console

import sim.report as report
from sim import api
from sim.store import COMPLETE, load

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
run_scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_scenario)


def _exit_code(argv: list[str]) -> int:
    """The exit status, whether main returns it or argparse exits with it."""
    try:
        return run_scenario.main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    write_scenarios(tmp_path)
    return tmp_path


def test_comparison_prints_tables_with_intervals_and_writes_the_folder(here, capsys):
    assert run_scenario.main(["more-ucr.yaml", "--workers", "1", "--no-report"]) == 0
    out = capsys.readouterr().out
    folder = here / "results" / "more-ucr-vs-tiny"   # comparator: taken from the scenario file
    assert "mean (95% CI) over 4 replications" in out
    assert "Admissions avoided" in out and "People with more independent outcomes" in out
    words = " ".join(out.split())
    assert "Budget impact by year" in words and "NHS+PSS net" in words and "self-funders (private)" in words
    assert "never in a system's saving" in words
    assert f"Results written to results{os.sep}more-ucr-vs-tiny" in out
    for name in ("kpis.parquet", "daily.parquet", "summary.csv", "comparison.csv", "manifest.json", COMPLETE):
        assert (folder / name).exists(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenarios"]["comparator"]["name"] == "Tiny baseline"
    assert manifest["command"][1:] == ["more-ucr.yaml", "--workers", "1", "--no-report"]
    # The notebook API gives the same numbers for the same scenario and seed.
    notebook = api.run("more-ucr.yaml", workers=1)
    assert_same_tables(notebook, load(folder))


def test_options_override_the_scenario(here, capsys):
    code = run_scenario.main(["tiny.yaml", "--compare", "more-ucr.yaml", "--replications", "2", "--seed", "5",
                              "--horizon", "60", "--warmup", "10", "--out", "custom", "--workers", "1", "--no-report"])
    assert code == 0
    rs = load(here / "custom")
    assert rs.manifest["seed"] == 5 and rs.manifest["replications"] == 2
    for role in ("scenario", "comparator"):       # the comparator runs with the scenario's settings
        assert rs.scenarios[role].run.horizon_days == 60 and rs.scenarios[role].run.warmup_days == 10
    assert rs.daily["day"].max() == 59 and rs.daily["day"].min() == -10
    assert run_scenario.main(["more-ucr.yaml", "--no-compare", "-r", "2", "--workers", "1", "--no-report"]) == 0
    assert load(here / "results" / "more-ucr").roles == ["scenario"]


BAD_OPTIONS = [
    (["--shard", "3/3"], "--shard"),
    (["--shard", "x"], "--shard"),
    (["--precision", "1.5"], "--precision"),
    (["--precision", "0.05", "--shard", "0/2"], "--shard"),
    (["--replications", "0"], "--replications"),
    (["--replications", "3", "--precision", "0.05"], "--precision"),
    (["--max-replications", "10"], "--max-replications"),
    (["--precision", "0.1", "--precision-kpis", "acute.nonsense"], "acute.nonsense"),
    (["--dask", "somewhere"], "--dask"),
    (["--horizon", "-3"], "--horizon"),
    (["--out", "a-file.txt"], "a-file.txt"),
    (["--out", "."], "not results"),
]


@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS)
def test_bad_options_exit_2_naming_the_option_and_write_nothing(here, capsys, options, named, reliability_tally):
    (here / "a-file.txt").write_text("not a folder")
    before = sorted(p.name for p in here.iterdir())
    assert _exit_code(["more-ucr.yaml", "--workers", "1", "--no-report", *options]) == 2
    assert named in capsys.readouterr().err
    assert sorted(p.name for p in here.iterdir()) == before
    reliability_tally["bad inputs tried"] += 1


@pytest.mark.parametrize(("file", "text", "named"), [
    ("more-ucr.yaml", "extends: tiny.yaml\nname: x\nreferal: {multiplier: 2}\n", "referal"),
    ("more-ucr.yaml", "extends: tiny.yaml\nname: x\ncomparator: broken.yaml\n", "broken.yaml"),
    ("more-ucr.yaml", "extends: tiny.yaml\nname: x\nrun: {replications: many}\n", "run.replications"),
])
def test_bad_scenarios_exit_2_naming_file_and_field_and_write_nothing(here, capsys, file, text, named,
                                                                       reliability_tally):
    (here / file).write_text(text)
    (here / "broken.yaml").write_text("extends: tiny.yaml\nservices: {acute: {capacity: -1}}\n")
    assert run_scenario.main([file, "--workers", "1", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert named in err and err.startswith("error: ")
    assert not (here / "results").exists()
    reliability_tally["bad inputs tried"] += 1


def test_missing_comparator_file_is_named(here, capsys):
    assert run_scenario.main(["tiny.yaml", "--compare", "nowhere.yaml", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "nowhere.yaml" in err and "file not found" in err
    assert not (here / "results").exists()


def test_shards_and_merge_from_the_command_line_match_one_run(here, capsys):
    common = ["more-ucr.yaml", "--workers", "1", "--no-report", "-r", "2"]
    assert run_scenario.main([*common, "--out", "whole"]) == 0
    for i in range(2):
        assert run_scenario.main([*common, "--shard", f"{i}/2"]) == 0
    shards = sorted((here / "results").glob("more-ucr-vs-tiny-shard-*"))
    assert [p.name for p in shards] == ["more-ucr-vs-tiny-shard-0-of-2", "more-ucr-vs-tiny-shard-1-of-2"]
    assert run_scenario.main(["merge", *map(str, shards), "--out", "merged", "--no-report"]) == 0
    assert_same_tables(load(here / "whole"), load(here / "merged"))
    assert (here / "whole" / "summary.csv").read_bytes() == (here / "merged" / "summary.csv").read_bytes()
    assert run_scenario.main(["merge", str(shards[0]), "--out", "half", "--no-report"]) == 2
    assert "missing [1]" in capsys.readouterr().err
    assert run_scenario.main(["merge", *map(str, shards), "--out", str(shards[0]), "--no-report"]) == 2
    assert "is one of the shards" in capsys.readouterr().err
    assert load(shards[0]).manifest["replication_numbers"] == [0]


def test_the_report_is_written_when_the_report_module_is_there(here, capsys, monkeypatch):
    calls = []

    def write_report(resultset, folder):
        calls.append((resultset.manifest["replications"], Path(folder)))
        (Path(folder) / "report.html").write_text("<html></html>")
        return Path(folder) / "report.html"

    monkeypatch.setattr(report, "write_report", write_report)
    assert run_scenario.main(["tiny.yaml", "-r", "2", "--workers", "1", "--out", "r"]) == 0
    assert calls == [(2, Path("r"))]
    assert f"Report: r{os.sep}report.html" in capsys.readouterr().out
    assert run_scenario.main(["tiny.yaml", "-r", "2", "--workers", "1", "--out", "r", "--no-report"]) == 0
    assert len(calls) == 1

    def broken(resultset, folder):
        raise ValueError("no plotly")

    monkeypatch.setattr(report, "write_report", broken)
    assert run_scenario.main(["tiny.yaml", "-r", "2", "--workers", "1", "--out", "r"]) == 1
    assert "the results are written, but the report failed: ValueError: no plotly" in capsys.readouterr().err
    assert load(here / "r").manifest["replications"] == 2


def test_a_killed_run_resumes_to_identical_results(here, reliability_tally):
    command = [sys.executable, str(ROOT / "run_scenario.py"), "more-ucr.yaml", "-r", "6", "--workers", "1",
               "--no-report", "--out", "killed"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(command, cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = here / "killed" / "parts"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if parts.is_dir() and len([p for p in parts.iterdir() if not p.name.startswith(".")]) >= 3:
                break
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not (here / "killed" / COMPLETE).exists(), "the run finished before it could be killed"
    finished = len([p for p in parts.iterdir() if not p.name.startswith(".")])
    assert 3 <= finished < 12
    assert run_scenario.main(["more-ucr.yaml", "-r", "6", "--workers", "1", "--no-report", "--out", "killed",
                              "--resume"]) == 0
    resumed = load(here / "killed")
    assert resumed.manifest["resumed_replications"] == finished
    assert run_scenario.main(["more-ucr.yaml", "-r", "6", "--workers", "1", "--no-report", "--out", "clean"]) == 0
    assert_same_tables(resumed, load(here / "clean"))
    assert (here / "killed" / "comparison.csv").read_bytes() == (here / "clean" / "comparison.csv").read_bytes()
    reliability_tally["kills survived"] += 1


def test_crn_command_says_how_much_narrower_intervals_are_in_the_kpis_units_and_its_run_time(here, capsys):
    import re

    assert run_scenario.main(["crn", "more-ucr.yaml", "--compare", "tiny.yaml", "-r", "3", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    admissions = next(line for line in out.splitlines() if line.startswith("│ Acute beds: admissions "))
    # Half-widths in people, and the effect as a narrower interval, not a variance ratio.
    assert re.search(r"│ +±[\d,.]+ people │ +±[\d,.]+ people │ interval \d+% narrower", admissions), admissions
    cost = next(line for line in out.splitlines() if line.startswith("│ Total cost "))
    assert cost.count("±£") == 2
    assert re.search(r"3 replications of each scenario, twice: .*; 12 runs in \d+ s\.", " ".join(out.split()))
    assert "variance" not in out


def test_narrower_is_one_minus_the_ratio_of_standard_deviations():
    from sim.cli_output import narrower
    assert narrower(1.0, 7.0) == "interval 62% narrower"   # 1 - sqrt(1/7) = 0.622
    assert narrower(4.0, 1.0) == "interval 100% wider"
    assert narrower(0.0, 0.0) == "no spread either way"



# --- what reaches the terminal ------------------------------------------------------------

HOSTILE_NAME = r"[red]x[/red] [link=http://e.vil]y[/link] \e[31mz\r\a\u202e"


def _hostile(here: Path) -> Path:
    (here / "hostile.yaml").write_text(f'extends: tiny.yaml\nname: "{HOSTILE_NAME}"\ncomparator: tiny.yaml\n'
                                       "run: {replications: 2}\nroutes: {crisis: {scale: {urgent_response: 1.7}}}\n")
    return here / "hostile.yaml"


def test_scenario_text_reaches_the_terminal_as_text(here, capsys):
    assert run_scenario.main([str(_hostile(here)), "--workers", "1", "--no-report", "--out", "h"]) == 0
    out = capsys.readouterr().out
    # Markup is printed, not obeyed; every control character is shown escaped and none is sent.
    assert "[red]x[/red] [link=http://e.vil]y[/link] \\x1b[31mz\\r\\a\\u202e" in out
    assert not any(c in out for c in "\x1b\r\x07\u202e\b")
    # A terminal that renders colour and links gets the same text: no hyperlink escape, no red.
    from sim.cli_output import print_results
    buffer = io.StringIO()
    print_results(Console(file=buffer, force_terminal=True, color_system="truecolor", width=300), load(here / "h"))
    shown = buffer.getvalue()
    assert "\x1b]8;" not in shown and "http://e.vil" in shown
    assert "\x1b[31mz" not in shown and "\\x1b[31mz" in shown


def test_terminal_text_escapes_every_control_and_format_character():
    from sim.cli_output import terminal_text
    assert terminal_text("a\x1b[2Jb\rc\bd\x07e\x00f\x9bg\u200bh\tI\n") == (
        "a\\x1b[2Jb\\rc\\bd\\ae\\x00f\\x9bg\\u200bh\\tI\\n")
    assert terminal_text("Crise • £7.0m – ±5% 🙂") == "Crise • £7.0m – ±5% 🙂"  # printable text is untouched


def test_tables_written_to_a_file_keep_one_row_per_line(here, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS")  # a pipe or file: Rich would otherwise wrap at 80 characters
    assert run_scenario.main(["more-ucr.yaml", "--workers", "1", "--no-report", "-r", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) > 30
    # Every row has all its cells on its one line: KPI, unit and one cell per scenario (5 bars), the gains'
    # measure, unit and gain (4), a year of the budget impact (7), capacity freed by year (2 + years) or the
    # economics over the years by perspective (6).
    assert {line.count("│") for line in rows} <= {3, 4, 5, 6, 7}
    assert any(line.startswith("│ People with more independent outcomes ") for line in rows)
    year = next(line for line in rows if line.startswith("│ 1 "))
    assert year.count("│") == 7 and "£" in year
    assert max(len(line) for line in rows) > 80


def test_the_heading_counts_what_the_progress_bar_counts(here):
    from sim.cli_output import ProgressBar, summary_table
    from sim.experiment import Plan, run_experiment
    from sim.scenario import load_scenario

    scenarios = {"scenario": load_scenario(here / "more-ucr.yaml"), "comparator": load_scenario(here / "tiny.yaml")}
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    with ProgressBar(console) as bar:
        rs = run_experiment(scenarios, Plan(replications=2), executor=None, progress=bar)
        task = bar._bar.tasks[0]
        assert (task.completed, task.total) == (4, 4)
    assert str(bar._bar.columns[0].text_format) == "Runs"
    assert summary_table(rs).title.plain == "Key results: mean (95% CI) over 2 replications of each scenario (4 runs)"


def test_no_interval_is_blamed_on_one_replication_only_when_there_was_one():
    from sim.cli_output import interval
    assert interval(5.0, math.nan, math.nan, "days", 1, 1) == "5.00 (no CI: one replication)"
    assert interval(5.0, math.nan, math.nan, "days", 1, 4) == "5.00 (no CI: defined in 1 of 4 replications)"
    assert interval(math.nan, math.nan, math.nan, "days", 0, 4) == "n/a"
    assert interval(2_500_000, 2_400_000, 2_600_000, "GBP") == "£2.5m (£2.4m to £2.6m)"
    assert interval(2_500_000, -350_000, 5_300_000, "GBP") == "£2.5m (-£0.35m to £5.3m)"
    # A table's amounts share its unit: £0.89m beside £95.4m, not £890.4k.
    assert interval(890_400, 818_300, 962_600, "GBP", scale=1e6) == "£0.89m (£0.82m to £0.96m)"


def test_a_gridlocked_comparison_is_not_shown_as_a_gain(here, capsys):
    # Acute beds cut to a third of what the tiny system needs: the ED queue grows all run in both.
    (here / "gridlock.yaml").write_text('extends: tiny.yaml\nname: "Gridlock, more UCR"\n'
                                        "run: {replications: 2, horizon_days: 120}\n"
                                        "services: {acute: {capacity: 25}, urgent_response: {capacity: 4}}\n"
                                        "routes: {crisis: {scale: {urgent_response: 1.7}}}\n")
    (here / "gridlock-base.yaml").write_text('extends: tiny.yaml\nname: "Gridlock"\n'
                                             "services: {acute: {capacity: 25}}\n")
    assert run_scenario.main(["gridlock.yaml", "--compare", "gridlock-base.yaml", "--workers", "1",
                              "--out", "g"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "This comparison is not valid: in the scenario, Acute beds: the queue grows through the whole run" in out
    assert "in the comparator, Acute beds: the queue grows" in out
    for gain in ("Admissions avoided │", "Budget impact by year", "NHS+PSS net", "Costs move from"):
        assert gain not in out
    assert "warning: Acute beds: the queue grows through the whole run" in out
    # The report says the same at its top, and styles nothing as a gain.
    html = (here / "g" / "report.html").read_text(encoding="utf-8")
    head = html[html.index("<main>"): html.index('<section id="economics">')]
    assert "This comparison is not valid" in head and "the queue grows through the whole run" in head
    assert 'class="value good"' not in html and 'class="value bad"' not in html
    assert "Admissions avoided" not in head and "Net saving" not in head


def test_one_replication_prints_no_numpy_warning_and_blames_the_count_only_then(here, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bare numpy or pandas RuntimeWarning fails the run
        assert run_scenario.main(["more-ucr.yaml", "-r", "1", "--workers", "1", "--no-report", "--out", "one"]) == 0
    out = capsys.readouterr().out
    assert "(no CI: one replication)" in out and "one replication, no CI" not in out
    assert run_scenario.main(["more-ucr.yaml", "-r", "3", "--workers", "1", "--no-report", "--out", "three"]) == 0
    assert "one replication" not in capsys.readouterr().out
