"""ABC-SMC (approximate Bayesian computation, sequential Monte Carlo; pyabc) from priors to weighted parameter sets.

The summary statistics are each calibration target's deviation from its centre in units of
its tolerance (half-width), so the distance is the largest deviation (p = infinity): a distance
of at most 1 means every target is within its tolerance. ABC-SMC lowers the threshold
population by population (the median distance of the last one, never below 1) and stops when
it reaches 1 (every accepted set is within every tolerance: the plausible sets, weighted as
the posterior of an ABC with a uniform kernel of the tolerances' width), or when the budget of
simulations is spent (then the threshold reached is reported: some targets are not met).

pyabc samples on one core here (its parallel samplers do not keep a fixed order), with numpy's
global generator seeded from the calibration's seed: the same seed gives the same sets.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.priors import Priors
from sim.calibration.targets import Target

try:
    import pyabc
except ImportError:  # pragma: no cover - the calibration extra is not installed
    pyabc = None

INSTALL = "calibration needs pyabc: pip install -e '.[calibration]'"
QUIET = ("ABC", "ABC.Sampler", "ABC.Epsilon", "ABC.Distance", "ABC.Acceptor", "ABC.History", "ABC.Transition",
         "ABC.Population", "ABC.Predictor", "ABC.Sumstat", "ABC.Model", "pyabc")


@dataclass(frozen=True)
class Method:
    """ABC-SMC settings."""

    population: int = 24          # accepted parameter sets per generation, and in the posterior
    budget: int = 400             # most simulations in all
    max_generations: int = 12
    tolerance: float = 1.0        # stop once every accepted set is within this many tolerances of every target

    def describe(self) -> dict:
        return {"algorithm": "ABC-SMC (pyabc)", "pyabc": getattr(pyabc, "__version__", None),
                "population": self.population, "budget": self.budget, "max_generations": self.max_generations,
                "distance": "largest deviation from a target's centre, in tolerances (p = infinity)",
                "threshold": "median distance of the previous generation, never below the final tolerance",
                "final_tolerance": self.tolerance, "transition": "multivariate normal kernel (pyabc default)",
                "sampler": "single core, numpy global generator seeded"}


@dataclass
class Fit:
    sets: pd.DataFrame            # set, weight, then one column per field path
    values: pd.DataFrame          # set, weight, then one column per parameter (its own value)
    generations: pd.DataFrame     # t, epsilon, samples, particles
    simulations: int
    threshold: float              # the last generation's threshold, in tolerances
    reached: bool                 # whether it reached the final tolerance


def _floored_epsilon(floor: float):
    class Floored(pyabc.MedianEpsilon):
        """The median distance of the last generation, never below the final tolerance."""

        def _update(self, t, weighted_distances):
            super()._update(t, weighted_distances)
            self._look_up[t] = max(self._look_up[t], floor)

    return Floored()


def fit(priors: Priors, targets: tuple[Target, ...], simulate: Callable[[dict], dict[str, float]],
        method: Method, seed: int) -> Fit:
    """Weighted parameter sets from ABC-SMC. `targets` must be calibration targets: the fit reads nothing else.

    `simulate(changes)` runs the scenario with field path -> value changes and returns each target's
    simulated quantity by target name.
    """
    if pyabc is None:
        raise ImportError(INSTALL)
    if any(t.role != "calibration" for t in targets):
        raise ValueError("the fit may read calibration targets only")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)

    def model(parameter) -> dict[str, float]:
        values = {p.name: float(parameter[p.name]) for p in priors.parameters}
        simulated = simulate(priors.changes(values))
        # A target the run could not measure (nothing to divide by) is as far off as can be.
        return {t.name: (t.deviation(simulated[t.name]) if np.isfinite(simulated[t.name]) else 1e9)
                for t in targets}

    prior = pyabc.Distribution(**{p.name: pyabc.RV(p.spec.prior.scipy()[0], **p.spec.prior.scipy()[1])
                                  for p in priors.parameters})
    observed = {t.name: 0.0 for t in targets}
    folder = Path(tempfile.mkdtemp(prefix="calibration-"))
    before = np.random.get_state()  # pyabc draws from numpy's global generator: seed it, then put it back
    np.random.seed(seed % 2**32)
    try:
        abc = pyabc.ABCSMC(model, prior, pyabc.PNormDistance(p=np.inf), population_size=method.population,
                           eps=_floored_epsilon(method.tolerance), sampler=pyabc.sampler.SingleCoreSampler())
        abc.new(f"sqlite:///{folder / 'abc.db'}", observed)
        history = abc.run(minimum_epsilon=method.tolerance, max_nr_populations=method.max_generations,
                          max_total_nr_simulations=method.budget)
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        populations = history.get_all_populations()
        simulations = int(history.total_nr_simulations)
    finally:
        np.random.set_state(before)
        shutil.rmtree(folder, ignore_errors=True)
    frame = frame.reset_index(drop=True)
    weights = np.asarray(weights, dtype=float)
    weights = weights / weights.sum()
    ids = [f"s{i:03d}" for i in range(len(frame))]
    names = [p.name for p in priors.parameters]
    values = pd.DataFrame({"set": ids, "weight": weights, **{n: frame[n].to_numpy(dtype=float) for n in names}})
    rows = [priors.changes({n: float(frame.loc[i, n]) for n in names}) for i in range(len(frame))]
    sets = pd.concat([values[["set", "weight"]], pd.DataFrame(rows, columns=priors.columns)], axis=1)
    generations = populations[populations["t"] >= 0][["t", "epsilon", "samples", "particles"]].reset_index(drop=True)
    threshold = float(generations["epsilon"].iloc[-1])
    return Fit(sets, values, generations, simulations, threshold, threshold <= method.tolerance)
