"""Distribution specs from scenario YAML, and how to turn a draw into a duration.

Every duration in the model is drawn as a standard normal score `z` when the
person arrives (see `sim.patient.Luck`) and only turned into days when it is
used, through the inverse CDF of the scenario's distribution. The same person
therefore gets a proportionally shorter stay when a scenario shortens a
length of stay, rather than a fresh, unrelated draw: this is what makes
comparisons between scenarios precise (common random numbers).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import special

_SQRT2 = math.sqrt(2.0)


def upper_tail(z: float) -> float:
    """P(Z > z) for a standard normal, accurate in the far tail."""
    return 0.5 * math.erfc(z / _SQRT2)


def lower_tail(z: float) -> float:
    """P(Z <= z) for a standard normal."""
    return 0.5 * math.erfc(-z / _SQRT2)


def refuse_yes_no(cls, value: Any, info) -> Any:
    """YAML reads yes/no/on/off/true/false as truth values, which pydantic would quietly take as 1 or 0."""
    annotation = cls.model_fields[info.field_name].annotation
    if isinstance(value, bool) and annotation is not bool and bool not in get_args(annotation):
        raise ValueError(f"got {value!r} (YAML reads yes/no/on/off/true/false as a truth value); give a number")
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    _no_yes_no = field_validator("value", "mean_", "sd", "median", mode="before", check_fields=False)(refuse_yes_no)

    @model_validator(mode="after")
    def _finite_durations(self) -> "_Spec":
        # Parameters can each be valid yet overflow together (a huge sd, a tiny one for a gamma).
        try:
            draws = [self.from_z(z) for z in (-8.0, 0.0, 8.0)]
        except OverflowError:
            draws = [math.inf]
        except (TypeError, ValueError):
            return self  # the distribution's own checks say what is wrong
        if not all(math.isfinite(d) and d >= 0 for d in draws):
            raise ValueError("these parameters do not give finite, non-negative durations; check mean and sd")
        return self

    def mean(self) -> float:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def from_z(self, z: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def scaled(self, factor: float) -> "_Spec":  # pragma: no cover
        raise NotImplementedError


class Fixed(_Spec):
    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def mean(self) -> float:
        return self.value

    def from_z(self, z: float) -> float:
        return self.value

    def scaled(self, factor: float) -> "Fixed":
        return Fixed(dist="fixed", value=self.value * factor)


class Exponential(_Spec):
    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)
    model_config = ConfigDict(extra="forbid", frozen=True)

    def mean(self) -> float:
        return self.mean_

    def from_z(self, z: float) -> float:
        return -self.mean_ * math.log(upper_tail(z))

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(dist="exponential", mean=self.mean_ * factor)


class Lognormal(_Spec):
    """Lognormal given by mean and sd, or by median and mean (as the BNSSG D2A inputs are)."""

    dist: Literal["lognormal"]
    mean_: float = Field(alias="mean", gt=0)
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _one_shape(self) -> "Lognormal":
        if (self.sd is None) == (self.median is None):
            raise ValueError("give exactly one of 'sd' or 'median' with 'mean'")
        if self.median is not None and self.median >= self.mean_:
            raise ValueError(
                f"median ({self.median}) must be below mean ({self.mean_}): a lognormal is right-skewed"
            )
        return self

    @property
    def mu_sigma(self) -> tuple[float, float]:
        if self.sd is not None:
            sigma2 = math.log1p((self.sd / self.mean_) ** 2)
            return math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)
        mu = math.log(self.median)
        return mu, math.sqrt(2 * (math.log(self.mean_) - mu))

    def mean(self) -> float:
        return self.mean_

    def from_z(self, z: float) -> float:
        mu, sigma = self.mu_sigma
        return math.exp(mu + sigma * z)

    def scaled(self, factor: float) -> "Lognormal":
        if self.sd is not None:
            return Lognormal(dist="lognormal", mean=self.mean_ * factor, sd=self.sd * factor)
        return Lognormal(dist="lognormal", mean=self.mean_ * factor, median=self.median * factor)


class Gamma(_Spec):
    """Gamma given by mean and sd."""

    dist: Literal["gamma"]
    mean_: float = Field(alias="mean", gt=0)
    sd: float = Field(gt=0)
    model_config = ConfigDict(extra="forbid", frozen=True)

    def mean(self) -> float:
        return self.mean_

    def from_z(self, z: float) -> float:
        shape = (self.mean_ / self.sd) ** 2
        scale = self.sd**2 / self.mean_
        return float(special.gammaincinv(shape, lower_tail(z))) * scale

    def scaled(self, factor: float) -> "Gamma":
        return Gamma(dist="gamma", mean=self.mean_ * factor, sd=self.sd * factor)


class Weibull(_Spec):
    """Weibull given by shape and scale (days): shape below 1 gives many short stays and a long tail."""

    dist: Literal["weibull"]
    shape: float = Field(gt=0, le=100)
    scale: float = Field(gt=0)

    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def from_z(self, z: float) -> float:
        # The upper tail keeps long stays precise: S = scale * (-log P(Z > z))^(1/shape).
        return self.scale * (-math.log(upper_tail(z))) ** (1.0 / self.shape)

    def scaled(self, factor: float) -> "Weibull":
        return Weibull(dist="weibull", shape=self.shape, scale=self.scale * factor)


class Empirical(_Spec):
    """Observed values, each equally likely unless weights are given."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(gt=0)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> "Empirical":
        if self.weights is not None and len(self.weights) != len(self.values):
            raise ValueError(
                f"'weights' has {len(self.weights)} entries but 'values' has {len(self.values)}"
            )
        return self

    @property
    def _cumulative(self) -> list[float]:
        weights = self.weights or [1.0] * len(self.values)
        total = sum(weights)
        running, out = 0.0, []
        for w in weights:
            running += w
            out.append(running / total)
        return out

    def mean(self) -> float:
        weights = self.weights or [1.0] * len(self.values)
        return sum(v * w for v, w in zip(self.values, weights)) / sum(weights)

    def from_z(self, z: float) -> float:
        cumulative = self._cumulative
        return self.values[min(bisect_left(cumulative, lower_tail(z)), len(self.values) - 1)]

    def scaled(self, factor: float) -> "Empirical":
        return Empirical(dist="empirical", values=[v * factor for v in self.values], weights=self.weights)


Distribution = Annotated[
    Union[Fixed, Exponential, Lognormal, Gamma, Weibull, Empirical], Field(discriminator="dist")
]


class Sampler:
    """A distribution made fast for the hot path: z -> duration with no validation or lookups."""

    __slots__ = ("from_z", "mean", "spec")

    def __init__(self, spec: _Spec, multiplier: float = 1.0):
        self.spec = spec if multiplier == 1.0 else spec.scaled(multiplier)
        self.mean = self.spec.mean()
        self.from_z = _fast_from_z(self.spec)


def _fast_from_z(spec: _Spec):
    if isinstance(spec, Lognormal):
        mu, sigma = spec.mu_sigma
        exp = math.exp
        return lambda z: exp(mu + sigma * z)
    if isinstance(spec, Exponential):
        mean, log, erfc = spec.mean_, math.log, math.erfc
        return lambda z: -mean * log(0.5 * erfc(z / _SQRT2))
    if isinstance(spec, Fixed):
        value = spec.value
        return lambda z: value
    if isinstance(spec, Empirical):
        values, cumulative, last = list(spec.values), spec._cumulative, len(spec.values) - 1
        return lambda z: values[min(bisect_left(cumulative, lower_tail(z)), last)]
    return spec.from_z
