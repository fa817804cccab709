"""What a scenario is unsure of: distributions of its inputs, and parameter sets from a calibration.

    uncertainty:
      sampling: lhs                 # or sobol (scrambled); both from scipy.stats.qmc
      seed: 7                       # the draws' own seed (default: run.seed)
      parameter_sets: posterior.csv # optional: columns set, weight, then one per field path
      parameters:
        services.acute.costs.0.gbp:
          {dist: gamma, mean: 346, sd: 40, source: "NHS reference costs 2017/18; sd an assumption"}
        routes.crisis.scale.urgent_response:
          {dist: triangular, low: 1.4, mode: 1.7, high: 2.0, source: "assumption around the reported +70%"}

A key is a field path, as a sweep names one (`Scenario.with_changes`). A
probability that must sum to one with others names the field that takes up
the change (`balance:`), so a draw moves one share and its balance together.
`min:`/`max:` truncate any distribution; a prior whose support holds no mass
(a truncation outside it, an empty range, a beta whose sd is too large for its
mean) is refused on reading. Every prior says where it comes from (`source:`),
or that it is an assumption and why its range.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator
from scipy import stats

from sim.scenario.base import Strict

NO_MASS = 1e-12  # a truncation keeping less probability than this keeps none


class Prior(Strict):
    """One uncertain input: a distribution, an optional truncation, and its source."""

    dist: Literal["normal", "lognormal", "gamma", "beta", "uniform", "triangular"]
    mean: float | None = Field(None, description="normal, lognormal, gamma, beta")
    sd: float | None = Field(None, gt=0, description="normal, lognormal, gamma, beta: standard deviation")
    low: float | None = Field(None, description="uniform, triangular")
    mode: float | None = Field(None, description="triangular")
    high: float | None = Field(None, description="uniform, triangular")
    min: float | None = Field(None, description="truncate below (any distribution)")
    max: float | None = Field(None, description="truncate above (any distribution)")
    balance: str | None = Field(None, description="a share that takes up the change, so shares still sum to 1")
    source: str = Field(min_length=3, max_length=500, description="where the distribution comes from")

    @model_validator(mode="after")
    def _has_mass(self):
        needs = {"normal": ("mean", "sd"), "lognormal": ("mean", "sd"), "gamma": ("mean", "sd"),
                 "beta": ("mean", "sd"), "uniform": ("low", "high"), "triangular": ("low", "mode", "high")}[self.dist]
        given = {k for k in ("mean", "sd", "low", "mode", "high") if getattr(self, k) is not None}
        if set(needs) != given:
            raise ValueError(f"a {self.dist} prior takes {', '.join(needs)} (given: {', '.join(sorted(given)) or 'none'})")
        if self.dist in ("lognormal", "gamma") and self.mean <= 0:
            raise ValueError(f"a {self.dist} prior has no mass at mean {self.mean:g}: its values are above 0")
        if self.dist == "beta" and not (0 < self.mean < 1 and self.sd ** 2 < self.mean * (1 - self.mean)):
            raise ValueError(f"a beta prior with mean {self.mean:g} needs 0 < mean < 1 and sd below "
                             f"sqrt(mean x (1 - mean)) = {math.sqrt(max(self.mean * (1 - self.mean), 0)):.4g}")
        if self.dist in ("uniform", "triangular") and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g}): the prior has no mass")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode:g}) must lie between low ({self.low:g}) and high ({self.high:g})")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g}): the prior has no mass")
        lower, upper = self._window()
        if upper - lower < NO_MASS:
            raise ValueError(f"the truncation [{self.min}, {self.max}] holds no probability of this {self.dist} "
                             "prior: the prior has no mass")
        return self

    def frozen(self):
        """The distribution as scipy.stats, before truncation."""
        if self.dist == "normal":
            return stats.norm(self.mean, self.sd)
        if self.dist == "lognormal":
            sigma2 = math.log1p((self.sd / self.mean) ** 2)
            return stats.lognorm(math.sqrt(sigma2), scale=self.mean * math.exp(-sigma2 / 2))
        if self.dist == "gamma":
            shape = (self.mean / self.sd) ** 2
            return stats.gamma(shape, scale=self.mean / shape)
        if self.dist == "beta":
            k = self.mean * (1 - self.mean) / self.sd ** 2 - 1
            return stats.beta(self.mean * k, (1 - self.mean) * k)
        if self.dist == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        return stats.triang((self.mode - self.low) / (self.high - self.low), loc=self.low, scale=self.high - self.low)

    def _window(self) -> tuple[float, float]:
        """The cumulative probabilities the truncation keeps."""
        f = self.frozen()
        lower = float(f.cdf(self.min)) if self.min is not None else 0.0
        upper = float(f.cdf(self.max)) if self.max is not None else 1.0
        return lower, upper

    def value_at(self, u: float) -> float:
        """The value at cumulative probability u of the (truncated) prior: u from a uniform draw gives a draw."""
        lower, upper = self._window()
        return float(self.frozen().ppf(lower + u * (upper - lower)))


class Uncertainty(Strict):
    """The inputs a probabilistic sensitivity analysis draws (sim.psa)."""

    parameters: dict[str, Prior] = Field(default_factory=dict, description="field path -> prior")
    parameter_sets: str | None = Field(None, description="a CSV in the scenario's folder: set, weight, one column "
                                                         "per field path (e.g. a calibration's posterior)")
    sampling: Literal["lhs", "sobol"] = Field("lhs", description="Latin hypercube or scrambled Sobol points")
    seed: int | None = Field(None, ge=0, description="the seed of the draws (default: run.seed)")

    @model_validator(mode="after")
    def _something(self):
        if not self.parameters and self.parameter_sets is None:
            raise ValueError("name parameters, parameter_sets or both")
        balances = [p.balance for p in self.parameters.values() if p.balance]
        clash = sorted(set(balances) & set(self.parameters)) + sorted({b for b in balances if balances.count(b) > 1})
        if clash:
            raise ValueError(f"{', '.join(clash)}: a balance field must be uncertain in no other way")
        return self
