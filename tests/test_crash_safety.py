"""Crash safety: killed runs never look complete and resume to identical results; full or unwritable disks
give a clear error (exit 2) and keep finished work.

The kills are real: `python run_scenario.py` in its own process group, SIGKILLed
after delays drawn from a seeded generator (spread over the run's measured
length, so some land in start-up, some between replications and some while
files are written). Whatever the moment, the folder must either be complete and
right, or refuse to load as complete with every file in it whole.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from experiment_helpers import assert_same_tables, write_scenarios

from sim.store import COMPLETE, TABLES, StoreError, load, sha256_file

# Runs processes, a browser or whole studies: left out of the quick loop (pytest -m "not slow").
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
KILLS = 3
REPLICATIONS = 5


def _scenario(folder: Path) -> Path:
    """The tiny baseline of the experiment tests (100 days, 3,000 crises a year)."""
    return write_scenarios(folder, replications=REPLICATIONS)[1]


def _command(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "run_scenario.py"), str(scenario), "--out", str(out),
            "--workers", "1", "--no-report", "--no-compare", *extra]


def _assert_nothing_half_written(folder: Path) -> None:
    """A folder without COMPLETE refuses to load, and every file under a finished name reads whole."""
    with pytest.raises(StoreError):
        load(folder)
    for path in folder.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue  # temporary names: never read as results
        if path.suffix == ".parquet":
            pq.read_table(path)
        elif path.name == "manifest.json":
            json.loads(path.read_text())
    parts = folder / "parts"
    for part in (parts.iterdir() if parts.is_dir() else []):
        if not part.name.startswith("."):
            assert sorted(p.stem for p in part.iterdir() if p.suffix == ".parquet") == sorted(TABLES), \
                f"{part.name} is incomplete"
            sums = json.loads((part / "SHA256SUMS").read_text())
            assert sums == {f"{t}.parquet": sha256_file(part / f"{t}.parquet") for t in TABLES}


def _load_cli():
    spec = importlib.util.spec_from_file_location("run_scenario", ROOT / "run_scenario.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    return cli


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the crash scenario, and how long it took (to spread the kills over)."""
    folder = tmp_path_factory.mktemp("reference")
    scenario = _scenario(folder)
    started = time.monotonic()
    done = subprocess.run(_command(scenario, folder / "out"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return scenario, load(folder / "out"), time.monotonic() - started


def test_runs_killed_at_random_moments_never_look_complete_and_resume_identical(reference, tmp_path,
                                                                                reliability_tally):
    scenario, expected, seconds = reference
    out = tmp_path / "out"
    rng = random.Random(20261123)
    for kill in range(KILLS):
        process = subprocess.Popen(_command(scenario, out, *(["--resume"] if kill else [])),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=rng.uniform(0.2, 0.9) * seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if (out / COMPLETE).exists():
            assert_same_tables(load(out), expected)
        elif out.exists():
            _assert_nothing_half_written(out)
        reliability_tally["kills survived"] += 1
    done = subprocess.run(_command(scenario, out, "--resume"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = load(out)
    assert_same_tables(resumed, expected)
    assert not (out / "parts").exists()


def test_a_disk_that_fills_up_gives_a_clear_error_and_a_resumable_folder(reference, tmp_path, capsys,
                                                                        monkeypatch, reliability_tally):
    scenario, expected, _ = reference
    out = tmp_path / "out"
    real_replace = os.replace
    calls = []

    def fills_up(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) >= 4:  # the manifest and two replications fit; the third does not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    cli = _load_cli()
    monkeypatch.setattr(os, "replace", fills_up)
    status = cli.main([str(scenario), "--out", str(out), "--workers", "1", "--no-report", "--no-compare"])
    monkeypatch.setattr(os, "replace", real_replace)
    stderr = capsys.readouterr().err
    assert status == 2
    assert "error: cannot write the results: No space left on device" in stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert not (out / COMPLETE).exists()
    _assert_nothing_half_written(out)
    assert len([p for p in (out / "parts").iterdir() if not p.name.startswith(".")]) == 2

    assert cli.main([str(scenario), "--out", str(out), "--workers", "1", "--no-report", "--no-compare",
                     "--resume"]) == 0
    resumed = load(out)
    assert resumed.manifest["resumed_replications"] == 2
    assert_same_tables(resumed, expected)
    reliability_tally["kills survived"] += 1


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(reference, tmp_path, capsys):
    scenario, _, _ = reference
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = _load_cli().main([str(scenario), "--out", str(blocker / "out"), "--workers", "1", "--no-report",
                               "--no-compare"])
    stderr = capsys.readouterr().err
    assert status == 2
    assert stderr.startswith("error: ") and "Traceback" not in stderr
    assert str(blocker) in stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a tmpfs needs root")
def test_a_real_full_disk_gives_exit_2_without_a_traceback(reference, tmp_path):
    scenario, _, _ = reference
    disk = tmp_path / "tiny-disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        done = subprocess.run(_command(scenario, disk / "out"), capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr
        assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
        assert not (disk / "out" / COMPLETE).exists()
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# --- Ctrl-C: acknowledged at once, finishes what runs, a second stops at once -------------------------

CTRL_C_REPLICATIONS = 8


def _ctrl_c_scenario(folder: Path) -> Path:
    """The baseline over 200 days without warm-up: most of a second a replication, long enough to interrupt."""
    path = folder / "ctrl-c.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: Ctrl-C\n"
                    f"run: {{horizon_days: 200, warmup_days: 0, replications: {CTRL_C_REPLICATIONS}}}\n")
    return path


def _finished_parts(out: Path) -> int:
    parts = out / "parts"
    return len([p for p in parts.iterdir() if not p.name.startswith(".")]) if parts.is_dir() else 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _group_gone(pgid: int) -> bool:
    """Whether every process of the group has exited (workers and forkserver included), waiting up to a minute."""
    for _ in range(600):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def start():
    """Start a run in its own process group, signalled as a whole (what a terminal does on Ctrl-C);
    whatever the test's outcome, nothing of it is left running."""
    started = []

    def run(scenario: Path, out: Path) -> subprocess.Popen:
        process = subprocess.Popen(_command(scenario, out, "--workers", "2"), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        started.append(process)
        return process

    yield run
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for_parts(process: subprocess.Popen, out: Path, n: int) -> None:
    while process.poll() is None and _finished_parts(out) < n:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_one_ctrl_c_finishes_the_running_replications_keeps_them_and_resume_finishes(tmp_path, start,
                                                                                       reliability_tally):
    scenario, out = _ctrl_c_scenario(tmp_path), tmp_path / "out"
    process = start(scenario, out)
    _wait_for_parts(process, out, 1)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert re.search(r"Ctrl-C: finishing [12] running replications?; Ctrl-C again to stop now", stderr), stderr
    assert "run again with --resume" in stderr and "Traceback" not in stderr
    assert not (out / COMPLETE).exists()
    kept = _finished_parts(out)
    assert 1 <= kept < CTRL_C_REPLICATIONS
    _assert_nothing_half_written(out)
    assert _group_gone(process.pid), "worker processes outlived the run"
    done = subprocess.run(_command(scenario, out, "--workers", "2", "--resume"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert load(out).manifest["resumed_replications"] == kept
    reliability_tally["kills survived"] += 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_two_ctrl_c_stop_at_once_without_a_hang_or_a_traceback(tmp_path, start, reliability_tally):
    scenario, out = _ctrl_c_scenario(tmp_path), tmp_path / "out"
    process = start(scenario, out)
    _wait_for_parts(process, out, 1)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)   # a second press a moment later, while the two replications are still running
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)   # before the fix this could wait for ever
    assert process.returncode == 130, stderr
    assert "Ctrl-C again to stop now" in stderr and "Traceback" not in stderr
    assert not (out / COMPLETE).exists()
    _assert_nothing_half_written(out)
    assert _group_gone(process.pid), "worker processes outlived the run"
    reliability_tally["kills survived"] += 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_while_workers_start_prints_no_traceback(tmp_path, start, reliability_tally):
    scenario = _scenario(tmp_path)
    for attempt, grandchildren in enumerate((0, 1, 2)):
        out = tmp_path / f"out-{attempt}"
        process = start(scenario, out)
        # The moment worker processes are being started: the forkserver exists, and has `grandchildren` workers.
        while process.poll() is None:
            servers = _children(process.pid)
            if servers and sum(len(_children(s)) for s in servers) >= grandchildren:
                break
            time.sleep(0.005)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode in (0, 130), stderr
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
        assert _group_gone(process.pid)
        reliability_tally["kills survived"] += 1


def test_a_second_command_into_a_folder_being_written_exits_2_naming_the_first(reference, tmp_path, capsys):
    scenario, _, _ = reference
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom sim.store import locked\n"
         "with locked(Path(sys.argv[1]), ['run_scenario.py', 'first.yaml']):\n"
         "    print('locked', flush=True)\n    time.sleep(600)\n", str(out)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        status = _load_cli().main([str(scenario), "--out", str(out), "--workers", "1", "--no-report", "--no-compare"])
        stderr = capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert status == 2 and "Traceback" not in stderr
    assert stderr.startswith(f"error: --out: {out} is being written by another run (pid {holder.pid} on ")
    assert "run_scenario.py first.yaml); wait for it to finish, or choose another --out" in stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]      # the holder's: nothing of the second run
