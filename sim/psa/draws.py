"""Parameter sets for a probabilistic sensitivity analysis: space-filling draws from the scenario's priors,
and rows resampled (by weight) from the parameter sets a calibration wrote.

Each set is a point u in the unit cube, one coordinate per uncertain input;
a prior's value is its quantile at u (`Prior.value_at`), so Latin hypercube
or Sobol points in u are the same design in the inputs, and the emulator
and the sensitivity indices work in u, where every input is uniform. A
calibrated set's coordinates are the ranks of its values among the sets
(their empirical distribution), so it has a place in the same cube.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.random.streams import generator_for
from sim.scenario import Scenario, ScenarioError
from sim.scenario.errors import FileRefused
from sim.scenario.loading import (  # _read_bytes: the scenario's own size and type checks
    _read_bytes,
    confined,
    default_roots,
)
from sim.scenario.schema import value_at

MAX_SETS = 100_000
CALIBRATED_SET = "calibrated_set"  # the column saying which calibrated set a draw took


@dataclass(frozen=True)
class Draws:
    """N parameter sets: their values (a column per field path) and their coordinates in the unit cube."""

    values: pd.DataFrame   # index: set number; columns: field paths
    unit: np.ndarray       # N x d, the same columns in [0, 1]
    sources: dict[str, str]  # field path -> where its distribution comes from

    @property
    def names(self) -> list[str]:
        """The uncertain inputs (field paths), in the order of the unit cube's columns."""
        return [c for c in self.values.columns if c != CALIBRATED_SET]

    def __len__(self) -> int:
        return len(self.values)


def _fail(scenario: Scenario, field: str, problem: str) -> ScenarioError:
    return ScenarioError(scenario.path or "<scenario>", [(field, problem)])


def read_parameter_sets(scenario: Scenario) -> pd.DataFrame:
    """The CSV `uncertainty.parameter_sets` names: columns set, weight, then field paths. Confined like extends:."""
    name = scenario.uncertainty.parameter_sets
    field = "uncertainty.parameter_sets"
    base = scenario.path.parent if scenario.path else Path.cwd()
    roots = default_roots(scenario.path or Path.cwd() / "scenario.yaml")
    try:
        path = confined(name, base, roots)
        text = _read_bytes(path).decode("utf-8")
    except FileRefused as exc:
        raise _fail(scenario, field, f"'{name}' {exc.problems[0][1]}") from None
    except UnicodeDecodeError:
        raise _fail(scenario, field, f"'{name}' is not UTF-8 text") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise _fail(scenario, field, f"'{name}' is not a CSV file ({exc})") from None
    if len(rows) < 2:
        raise _fail(scenario, field, f"'{name}' has no parameter sets (a header, then a row per set)")
    header, body = rows[0], [r for r in rows[1:] if r]
    if header[:2] != ["set", "weight"] or len(header) < 3:
        raise _fail(scenario, field, f"'{name}': the columns are set, weight, then one per field path "
                                     f"(found {', '.join(header[:4])})")
    if len(body) > MAX_SETS:
        raise _fail(scenario, field, f"'{name}' has {len(body):,} sets; at most {MAX_SETS:,}")
    for path in header[2:]:
        value = value_at(scenario, path.split("."))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(scenario, field, f"'{name}': column '{path}' is not a number in the scenario")
    try:
        frame = pd.DataFrame([[float(x) for x in row] for row in body], columns=header)
    except ValueError:
        raise _fail(scenario, field, f"'{name}': every cell must be a number") from None
    if len(frame.columns) != len(set(frame.columns)) or any(len(r) != len(header) for r in body):
        raise _fail(scenario, field, f"'{name}': each row has one value per column, each column once")
    weights = frame["weight"].to_numpy()
    if not np.all(np.isfinite(frame.to_numpy())) or np.any(weights < 0) or weights.sum() <= 0:
        raise _fail(scenario, field, f"'{name}': values must be finite and weights not negative, with some above 0")
    return frame


def _design(n: int, d: int, sampling: str, seed: int) -> np.ndarray:
    """n points in [0, 1]^d: a Latin hypercube or a scrambled Sobol sequence, from the named seed."""
    if d == 0:
        return np.empty((n, 0))
    rng = generator_for(seed, 0, "psa.design")
    if sampling == "lhs":
        return qmc.LatinHypercube(d, rng=rng).random(n)
    # The first n points of a power-of-two run: balanced when n is a power of two (docs/psa.md advises one).
    return qmc.Sobol(d, rng=rng).random_base2(math.ceil(math.log2(n)))[:n]


def draw(scenario: Scenario, n: int, seed: int | None = None) -> Draws:
    """n parameter sets from the scenario's `uncertainty:` (its priors, and its calibrated sets if named)."""
    spec = scenario.uncertainty
    if spec is None:
        raise _fail(scenario, "uncertainty", "the scenario declares no uncertain inputs (an uncertainty: section)")
    seed = spec.seed if spec.seed is not None else (scenario.run.seed if seed is None else seed)
    priors = spec.parameters
    u = _design(n, len(priors), spec.sampling, seed)
    values = pd.DataFrame({path: [prior.value_at(x) for x in u[:, j]] for j, (path, prior) in enumerate(priors.items())},
                          index=pd.RangeIndex(n, name="set"))
    sources = {path: prior.source for path, prior in priors.items()}
    if spec.parameter_sets is not None:
        table = read_parameter_sets(scenario)
        clash = sorted(set(table.columns[2:]) & set(priors))
        if clash:
            raise _fail(scenario, "uncertainty.parameter_sets", f"{', '.join(clash)}: given both a prior and a "
                                                                "column of parameter sets; keep one")
        weights = table["weight"].to_numpy() / table["weight"].sum()
        picked = generator_for(seed, 0, "psa.parameter_sets").choice(len(table), size=n, p=weights)
        columns = table.columns[2:]
        ranks = (table[columns].rank(method="average").to_numpy() - 0.5) / len(table)
        u = np.hstack([u, ranks[picked]])
        for column in columns:
            values[column] = table[column].to_numpy()[picked]
            sources[column] = f"calibrated parameter sets ({spec.parameter_sets}), resampled by weight"
        values.insert(0, CALIBRATED_SET, table["set"].to_numpy()[picked])
    return Draws(values=values, unit=u, sources=sources)


def changes_for(scenario: Scenario, row: pd.Series) -> dict[str, float | int]:
    """One set's values as field changes: whole numbers where the field is one, balances taken up."""
    changes: dict[str, float | int] = {}
    priors = scenario.uncertainty.parameters
    for path, value in row.items():
        if path == CALIBRATED_SET:
            continue
        current = value_at(scenario, path.split("."))
        changes[path] = round(value) if isinstance(current, int) else float(value)
        prior = priors.get(path)
        if prior is not None and prior.balance:
            # The balancing share moves by the opposite amount, so the shares still sum to one.
            balance = value_at(scenario, prior.balance.split("."))
            changes[prior.balance] = float(balance - (changes[path] - current))
    return changes

