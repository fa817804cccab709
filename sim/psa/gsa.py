"""Global sensitivity: Morris screening of every uncertain input, then Sobol indices of the few that matter.

Both run on a function of the unit cube (every input uniform there, its value
its prior's quantile): in a PSA that function is the emulator's mean fitted
to the simulated parameter sets (sim.psa.emulator), so thousands of
evaluations cost no simulation; in tests, any function with known indices.
The methods and their estimators are SALib's: Morris elementary effects
(Campolongo et al. 2007, mu*), and Saltelli's sampling with the Jansen
estimators for first-order (S1) and total (ST) Sobol indices, with bootstrap
95% intervals. The inputs Morris finds unimportant are kept varying in Sobol
as one group, "other inputs", so the indices still add up over the whole
input space.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

OTHERS = "other inputs"
MORRIS_TRAJECTORIES = 40
MORRIS_LEVELS = 4
SOBOL_BASE = 1024          # Saltelli's N: N x (groups + 2) evaluations
KEEP_SHARE = 0.1           # Sobol for inputs whose Morris mu* is at least this share of the largest
MAX_SOBOL_INPUTS = 8

Model = Callable[[np.ndarray], np.ndarray]


def _problem(names: list[str], groups: list[str] | None = None) -> dict:
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups is not None:
        problem["groups"] = list(groups)
    return problem


def morris(model: Model, names: list[str], seed: int, trajectories: int = MORRIS_TRAJECTORIES) -> pd.DataFrame:
    """Morris screening: mu* (mean absolute elementary effect, in output units over each input's whole range),
    its 95% bootstrap interval, and sigma (how much the effect depends on the other inputs)."""
    problem = _problem(names)
    x = morris_sample.sample(problem, trajectories, num_levels=MORRIS_LEVELS, seed=seed)
    y = np.asarray(model(x), dtype=float)
    result = morris_analyze.analyze(problem, x, y, num_levels=MORRIS_LEVELS, seed=seed)
    table = pd.DataFrame({"input": names, "mu_star": result["mu_star"], "mu_star_conf": result["mu_star_conf"],
                          "sigma": result["sigma"]})
    return table.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def important(screening: pd.DataFrame, share: float = KEEP_SHARE, most: int = MAX_SOBOL_INPUTS) -> list[str]:
    """The inputs that matter: mu* at least `share` of the largest, at most `most` of them."""
    top = float(screening["mu_star"].max()) if len(screening) else 0.0
    if top <= 0:
        return []
    keep = screening[screening["mu_star"] >= share * top]
    return list(keep["input"][:most])


def sobol(model: Model, names: list[str], keep: list[str], seed: int, base: int = SOBOL_BASE) -> pd.DataFrame:
    """First-order and total Sobol indices of each input in `keep`; the rest together as OTHERS."""
    if not keep:
        return pd.DataFrame(columns=["input", "S1", "S1_conf", "ST", "ST_conf"])
    groups = [name if name in keep else OTHERS for name in names]
    grouped = len(set(groups)) < len(names)
    problem = _problem(names, groups if grouped else None)
    x = sobol_sample.sample(problem, base, calc_second_order=False, seed=seed)
    y = np.asarray(model(x), dtype=float)
    if float(np.var(y)) == 0.0:
        labels = list(dict.fromkeys(groups))
        return pd.DataFrame({"input": labels, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0})
    result = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    labels = list(dict.fromkeys(groups)) if grouped else names
    return pd.DataFrame({"input": labels, "S1": result["S1"], "S1_conf": result["S1_conf"],
                         "ST": result["ST"], "ST_conf": result["ST_conf"]})
