"""The package's layers import downward only, and the engine names no particular system's services."""

import ast
import re
import subprocess
import tokenize
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    # The contracts are in pyproject.toml ([tool.importlinter]): present > studies > analysis > experiment >
    # results > measure > pathway > scenario > random, and the engine imports no pandas, plots or files.
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_the_engine_names_no_particular_systems_services():
    """Code outside sim/studies/ names no service of a particular system: they are the scenario's data.

    Comments and docstrings may use the pathway's words as examples; names and strings in code may not.
    """
    names = re.compile(r"community_beds|temporary_residential|residential_care|nursing_care|urgent_response")
    found = []
    for path in (ROOT / "sim").rglob("*.py"):
        if "studies" in path.parts:
            continue
        with path.open() as f:
            for token in tokenize.generate_tokens(f.readline):
                code = token.type == tokenize.NAME or (token.type == tokenize.STRING and not token.string.endswith('"""'))
                if code and names.search(token.string):
                    found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string}")
    assert found == []
    # and no file of the engine mentions them at all, even in a comment
    assert [p for p in (ROOT / "sim").rglob("*.py") if "studies" not in p.parts
            and re.search(r"community_beds|temporary_residential|residential_care|nursing_care", p.read_text())] == []


def test_no_import_is_hidden_in_a_function_to_dodge_a_cycle():
    hidden = []
    for path in (ROOT / "sim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    module = getattr(inner, "module", None) or ""
                    names = [a.name for a in getattr(inner, "names", [])] if isinstance(inner, ast.Import) else []
                    if (isinstance(inner, ast.ImportFrom) and module.split(".")[0] == "sim") or any(
                            n.split(".")[0] == "sim" for n in names):
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert hidden == []
