"""Files a scenario names are read only from the allowed folders, only if they are regular files, never quoted.

`extends:`, `comparator:` and `--compare` may reach the scenario's own folder
tree and the project's scenarios/ folder, nothing else: not /etc/passwd, not
`../../` out of the tree, not a symlink leading out. A refusal reads the same
whether the file out there exists or not. Pipes, devices and sockets are
refused before they are opened, so nothing blocks or reads for ever. A file
that is not a scenario is refused without a word of what it holds. The web
app's uploads may name only the library's scenarios.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.app.library import load_upload
from sim.scenario import ScenarioError, load_scenario, read_yaml
from sim.scenario.errors import FileRefused
from sim.scenario.loading import default_roots
from support import BASELINE

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-Hunter2-do-not-show"
OUTSIDE = "is outside the folders scenarios may be read from"
NOT_REGULAR = "is not a regular file (a device, pipe or socket)"


@pytest.fixture
def layout(tmp_path):
    """tmp/outside.yaml (a valid scenario holding a secret), tmp/secret.txt, and the tree tmp/tree/a/."""
    (tmp_path / "tree" / "a").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text(f"extends: {BASELINE}\nname: {SECRET}\n")
    (tmp_path / "secret.txt").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\npassword: {SECRET}\n")
    return tmp_path


def scenario(folder: Path, text: str, name: str = "mine.yaml") -> Path:
    path = folder / name
    path.write_text(f"name: mine\n{text}\n")
    return path


def refusal(path: Path, **kwargs) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **kwargs)
    return str(caught.value)


def run_cli(args: list[str], cwd: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})
    return done, time.monotonic() - start


def test_the_default_roots_are_the_named_files_folder_and_the_projects_scenarios(tmp_path):
    assert default_roots(tmp_path / "x.yaml")[:1] == (tmp_path.resolve(),)
    assert ROOT / "scenarios" in default_roots(tmp_path / "x.yaml")


def test_extends_an_absolute_path_outside_is_refused_the_same_whether_it_exists_or_not(layout, reliability_tally):
    messages = set()
    for target in ("/etc/passwd", "/etc/no-such-file-here", "/dev/zero", "/proc/self/environ", str(layout / "secret.txt")):
        path = scenario(layout / "tree", f"extends: {target}")
        message = refusal(path)
        reliability_tally["bad inputs tried"] += 1
        assert message.startswith(f"{path}: extends: '{target}' {OUTSIDE} ({layout / 'tree'}/, "), message
        assert "root:" not in message and SECRET not in message
        messages.add(message.replace(target, "TARGET"))
    assert len(messages) == 1, messages


def test_dotdot_out_of_the_tree_is_refused_and_reads_like_a_missing_file(layout, reliability_tally):
    there = refusal(scenario(layout / "tree" / "a", "extends: ../../outside.yaml"))
    missing = refusal(scenario(layout / "tree" / "a", "extends: ../../nothing-here.yaml"))
    reliability_tally["bad inputs tried"] += 2
    assert OUTSIDE in there and SECRET not in there
    assert there.replace("outside.yaml", "X") == missing.replace("nothing-here.yaml", "X")
    # Inside the tree the same name works: the limit is the folders, not the '..'.
    scenario(layout / "tree" / "a", "extends: ../../outside.yaml", "inner.yaml")
    assert load_scenario(layout / "tree" / "a" / "inner.yaml", roots=[layout, BASELINE.parent]).name == "mine"


def test_a_symlink_leading_out_of_the_tree_is_refused(layout, reliability_tally):
    (layout / "tree" / "link.yaml").symlink_to(layout / "outside.yaml")
    (layout / "tree" / "linked-folder").symlink_to(layout, target_is_directory=True)
    for target in ("link.yaml", "linked-folder/outside.yaml"):
        message = refusal(scenario(layout / "tree", f"extends: {target}"))
        reliability_tally["bad inputs tried"] += 1
        assert f"extends: '{target}' {OUTSIDE}" in message and SECRET not in message


def test_a_symlink_into_the_scenarios_folder_is_followed(tmp_path):
    (tmp_path / "base.yaml").symlink_to(BASELINE)
    assert load_scenario(scenario(tmp_path, "extends: base.yaml")).name == "mine"


def test_a_non_scenario_file_inside_the_tree_is_refused_without_quoting_it(layout, reliability_tally):
    (layout / "tree" / "secret.yaml").write_text((layout / "secret.txt").read_text())
    (layout / "tree" / "settings.yaml").write_text(f"password: {SECRET}\napi_key: {SECRET}\n")
    for target in ("secret.yaml", "settings.yaml"):
        message = refusal(scenario(layout / "tree", f"extends: {target}"))
        reliability_tally["bad inputs tried"] += 1
        assert any(words in message for words in ("does not look like a scenario", "invalid YAML at line 2")), message
        assert SECRET not in message and "root:" not in message and "password" not in message


def test_a_fifo_is_refused_at_once_never_opened(layout, reliability_tally):
    fifo = layout / "tree" / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    message = refusal(scenario(layout / "tree", "extends: pipe.yaml"))
    assert f"extends: 'pipe.yaml' {NOT_REGULAR}" in message
    with pytest.raises(FileRefused, match="is not a regular file"):
        read_yaml(fifo)
    assert time.monotonic() - start < 5
    reliability_tally["bad inputs tried"] += 2


def test_a_fifo_named_on_the_command_line_or_by_compare_exits_2_quickly_writing_nothing(layout, reliability_tally):
    os.mkfifo(layout / "tree" / "pipe.yaml")
    scenario(layout / "tree", f"extends: {BASELINE}")
    for args in (["pipe.yaml"], ["mine.yaml", "--compare", "pipe.yaml"]):
        done, seconds = run_cli([*args, "--out", str(layout / "out")], cwd=layout / "tree")
        reliability_tally["bad inputs tried"] += 1
        assert done.returncode == 2, done.stderr
        assert NOT_REGULAR in done.stderr and "Traceback" not in done.stderr
        assert seconds < 30
        assert not (layout / "out").exists()
    assert done.stderr.startswith("error: --compare: pipe.yaml: ")


def test_a_device_and_a_socket_are_refused_even_inside_the_allowed_folders(layout, reliability_tally):
    path = scenario(layout / "tree", "extends: /dev/zero")
    assert f"extends: '/dev/zero' {NOT_REGULAR}" in refusal(path, roots=[layout / "tree", Path("/dev")])
    with pytest.raises(FileRefused, match="is not a regular file"):
        read_yaml(Path("/dev/zero"))
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(layout / "tree" / "sock.yaml"))
        assert f"extends: 'sock.yaml' {NOT_REGULAR}" in refusal(scenario(layout / "tree", "extends: sock.yaml"))
    finally:
        server.close()
    reliability_tally["bad inputs tried"] += 3


def test_a_device_named_on_the_command_line_exits_2_quickly(tmp_path, reliability_tally):
    done, seconds = run_cli(["/dev/zero", "--out", str(tmp_path / "out")], cwd=tmp_path)
    reliability_tally["bad inputs tried"] += 1
    assert done.returncode == 2 and seconds < 30
    assert done.stderr == f"error: /dev/zero: {NOT_REGULAR}; a scenario is a YAML file\n"
    assert not (tmp_path / "out").exists()


def test_a_parent_over_the_size_limit_is_refused_without_reading_it_all(layout, reliability_tally):
    (layout / "tree" / "big.yaml").write_text("name: big\n" + "# pad\n" * 200_000)
    message = refusal(scenario(layout / "tree", "extends: big.yaml"))
    reliability_tally["bad inputs tried"] += 1
    assert "big.yaml: file is 1,200,010 bytes; a scenario may be at most 1,000,000" in message


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside.yaml", "../no-such.yaml"])
def test_compare_outside_the_allowed_folders_blames_the_option_and_writes_nothing(layout, target,
                                                                                 reliability_tally):
    scenario(layout / "tree", f"extends: {BASELINE}")
    done, _ = run_cli(["mine.yaml", "--compare", target, "--out", str(layout / "out")], cwd=layout / "tree")
    reliability_tally["bad inputs tried"] += 1
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"error: --compare: {target}: {OUTSIDE}"), done.stderr
    assert SECRET not in done.stderr and "root:" not in done.stderr
    assert not (layout / "out").exists()


def test_a_comparator_line_outside_is_blamed_on_that_line(layout, reliability_tally):
    path = scenario(layout / "tree", f"extends: {BASELINE}\ncomparator: ../outside.yaml")
    done, _ = run_cli([str(path), "--out", str(layout / "out")], cwd=layout)
    reliability_tally["bad inputs tried"] += 1
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path}: comparator: '../outside.yaml' {OUTSIDE}"), done.stderr
    assert SECRET not in done.stderr and not (layout / "out").exists()


def test_uploads_may_extend_only_the_library(tmp_path, reliability_tally):
    library = tmp_path / "library"
    library.mkdir()
    (library / "baseline.yaml").write_text(BASELINE.read_text())
    (library / "library").mkdir()  # what the baseline extends: the pathway's service definitions
    (library / "library" / "older-people-pathway.yaml").write_text(
        (BASELINE.parent / "library" / "older-people-pathway.yaml").read_text())
    (tmp_path / "outside.yaml").write_text(f"extends: {BASELINE}\nname: {SECRET}\n")
    os.mkfifo(library / "pipe.yaml")  # the copy made for an upload leaves pipes out, so copying cannot block
    assert load_upload("mine.yaml", b"extends: baseline.yaml\nname: mine\n", library).scenario.name == "mine"
    for target in ("/etc/passwd", "../outside.yaml", "../../outside.yaml", str(BASELINE), str(tmp_path / "outside.yaml")):
        with pytest.raises(ScenarioError) as caught:
            load_upload("mine.yaml", f"extends: {target}\nname: mine\n".encode(), library)
        reliability_tally["bad inputs tried"] += 1
        assert str(caught.value) == (f"mine.yaml: extends: '{target}' is not a scenario of the library: "
                                     "an upload may name only those, by name (e.g. extends: baseline.yaml)")
    with pytest.raises(ScenarioError, match="comparator: '/etc/hostname' is not a scenario of the library"):
        load_upload("mine.yaml", b"extends: baseline.yaml\nname: mine\ncomparator: /etc/hostname\n", library)


def test_the_apps_scenario_library_is_an_allowed_folder_when_it_is_set(tmp_path, monkeypatch):
    library = tmp_path / "team-library"
    (library / "stress").mkdir(parents=True)
    (library / "base.yaml").write_text(f"extends: {BASELINE}\nname: team base\n")
    (library / "stress" / "winter.yaml").write_text("extends: ../base.yaml\nname: winter\n")
    with pytest.raises(ScenarioError, match=OUTSIDE):
        load_scenario(library / "stress" / "winter.yaml")
    monkeypatch.setenv("CARE_PATHWAY_SCENARIOS", str(library))
    assert load_scenario(library / "stress" / "winter.yaml").name == "winter"


def test_a_symlink_named_by_the_user_is_read_and_named_as_given(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "mine.yaml").write_text(f"extends: {BASELINE}\nname: mine\nrun: {{seed: 7}}\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "real" / "mine.yaml")
    assert load_scenario(tmp_path / "alias.yaml").run.seed == 7
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "real" / "gone.yaml")
    assert refusal(tmp_path / "dangling.yaml") == f"{tmp_path / 'dangling.yaml'}: file not found"


def test_the_command_names_the_file_as_the_user_did_and_writes_nothing(layout, reliability_tally):
    scenario(layout / "tree", "extends: /etc/passwd")
    done, _ = run_cli(["mine.yaml", "--out", "out"], cwd=layout / "tree")
    reliability_tally["bad inputs tried"] += 1
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: mine.yaml: extends: '/etc/passwd' {OUTSIDE}"), done.stderr
    assert "root:" not in done.stderr and not (layout / "tree" / "out").exists()
