"""Fitting a length of stay: candidate families by maximum likelihood, the best by AIC, empirical where none fits.

Candidates are the lognormal, gamma, Weibull and exponential, each with its
origin at zero, fitted by scipy.stats (maximum likelihood). Stays still
under way when the records were taken are right-censored: they count
through the survival function, not dropped (dropping them would bias long
stays, and long-term care most). The family with the lowest AIC
(2k - 2 log L) is chosen; its goodness of fit is the Kolmogorov-Smirnov
distance D between the fitted and the observed distribution (Kaplan-Meier
where stays are censored). If even the best family misses the observed
stays (KS p < 0.01 and D > 0.03: a visible gap, not one only a large
sample can detect) and none is censored, the stays themselves are used
(an empirical distribution of their quantiles).

The mean's uncertainty is the delta method on the inverse of the observed
information (a numerical Hessian of the log-likelihood at the optimum).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

FAMILIES = ("lognormal", "gamma", "weibull", "exponential")
EMPIRICAL_QUANTILES = 100
Z95 = 1.959963984540054


@dataclass
class Candidate:
    family: str
    params: tuple[float, ...]         # scipy's shape(s) and scale, origin fixed at 0
    loglik: float
    k: int

    @property
    def aic(self) -> float:
        return 2 * self.k - 2 * self.loglik

    @property
    def frozen(self):
        return _frozen(self.family, self.params)


@dataclass
class StayFit:
    chosen: str                        # a family, or "empirical"
    spec: dict                         # the scenario's distribution (sim.random.distributions)
    candidates: list[Candidate]
    n: int                             # stays that ended
    censored: int                      # stays still under way
    ks_d: float
    ks_p: float | None                 # None where censoring makes the usual p-value wrong
    mean: float
    mean_low: float
    mean_high: float
    observed: np.ndarray = field(repr=False)   # the ended stays (for the report)

    @property
    def best(self) -> Candidate:
        return min(self.candidates, key=lambda c: c.aic)


def _frozen(family: str, params: tuple[float, ...]):
    if family == "lognormal":
        return stats.lognorm(params[0], scale=params[1])
    if family == "gamma":
        return stats.gamma(params[0], scale=params[1])
    if family == "weibull":
        return stats.weibull_min(params[0], scale=params[1])
    return stats.expon(scale=params[0])


def _scipy(family: str):
    return {"lognormal": stats.lognorm, "gamma": stats.gamma, "weibull": stats.weibull_min,
            "exponential": stats.expon}[family]


def spec_of(family: str, params: tuple[float, ...]) -> dict:
    """The scenario's way of writing this distribution."""
    if family == "lognormal":
        sigma, scale = params
        mean = scale * math.exp(sigma**2 / 2)
        return {"dist": "lognormal", "mean": _r(mean), "sd": _r(mean * math.sqrt(math.expm1(sigma**2)))}
    if family == "gamma":
        a, scale = params
        return {"dist": "gamma", "mean": _r(a * scale), "sd": _r(math.sqrt(a) * scale)}
    if family == "weibull":
        return {"dist": "weibull", "shape": _r(params[0]), "scale": _r(params[1])}
    return {"dist": "exponential", "mean": _r(params[0])}


def _r(x: float) -> float:
    return float(f"{x:.5g}")


def _fit_one(family: str, ended: np.ndarray, censored: np.ndarray) -> Candidate | None:
    dist = _scipy(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if family == "lognormal" and not len(censored):
                logs = np.log(ended)   # the exact maximum-likelihood estimate
                params = (float(logs.std()), float(math.exp(logs.mean())))
            elif family == "exponential" and not len(censored):
                params = (float(ended.mean()),)
            elif len(censored):
                params = _censored_fit(family, ended, censored)
            else:
                fitted = dist.fit(ended, floc=0)
                params = tuple(float(p) for i, p in enumerate(fitted) if i != len(fitted) - 2)
        except (ValueError, RuntimeError, FloatingPointError):
            return None
    if not all(math.isfinite(p) and p > 0 for p in params):
        return None
    loglik = _loglik(family, params, ended, censored)
    return Candidate(family, params, loglik, len(params)) if math.isfinite(loglik) else None


def _censored_fit(family: str, ended: np.ndarray, censored: np.ndarray) -> tuple[float, ...]:
    """Maximum likelihood with right-censored stays: ended stays count by their density, stays under way by
    the chance of lasting longer. Started from the fit that takes every stay as ended (too short), and
    optimised in log parameters by L-BFGS-B (scipy's generic censored fit, Nelder-Mead, is ten times slower)."""
    both = np.concatenate([ended, censored])
    start = _fit_one(family, both, np.array([]))
    fallback = (float(both.mean()),) if family == "exponential" else (1.0, float(both.mean()))
    theta = np.log(np.array(start.params if start is not None else fallback))

    def nll(t):
        value = -_loglik(family, tuple(np.exp(t)), ended, censored)
        return value if math.isfinite(value) else 1e300

    found = optimize.minimize(nll, theta, method="L-BFGS-B")
    return tuple(float(p) for p in np.exp(found.x))


def _loglik(family: str, params, ended: np.ndarray, censored: np.ndarray) -> float:
    frozen = _frozen(family, params)
    with np.errstate(all="ignore"):
        total = float(frozen.logpdf(ended).sum())
        if len(censored):
            total += float(frozen.logsf(censored).sum())
    return total if math.isfinite(total) else -math.inf


def _mean_interval(c: Candidate, ended: np.ndarray, censored: np.ndarray) -> tuple[float, float, float]:
    """The fitted mean and its 95% interval (delta method on the observed information, in log parameters)."""
    theta = np.log(np.array(c.params))

    def nll(t):
        return -_loglik(c.family, tuple(np.exp(t)), ended, censored)

    def mean_of(t):
        return float(_frozen(c.family, tuple(np.exp(t))).mean())

    k, h = len(theta), 1e-3
    hess = np.zeros((k, k))
    base = nll(theta)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            if i == j:
                hess[i, i] = (nll(theta + ei) - 2 * base + nll(theta - ei)) / h**2
            else:
                hess[i, j] = hess[j, i] = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej)
                                           + nll(theta - ei - ej)) / (4 * h**2)
    grad = np.array([(mean_of(theta + np.eye(k)[i] * h) - mean_of(theta - np.eye(k)[i] * h)) / (2 * h)
                     for i in range(k)])
    mean = mean_of(theta)
    try:
        cov = np.linalg.inv(hess)
        se = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    except np.linalg.LinAlgError:
        se = math.nan
    return mean, mean - Z95 * se, mean + Z95 * se


def _km_gap(frozen, ended: np.ndarray, censored: np.ndarray) -> float:
    """Largest gap between the Kaplan-Meier estimate and the fitted distribution, at the ended stays."""
    times = np.concatenate([ended, censored])
    events = np.concatenate([np.ones(len(ended)), np.zeros(len(censored))])
    order = np.lexsort((1 - events, times))
    times, events = times[order], events[order]
    at_risk = len(times) - np.arange(len(times))
    survival = np.cumprod(1 - events / at_risk)
    observed = 1 - survival[events == 1]
    return float(np.max(np.abs(observed - frozen.cdf(times[events == 1])))) if len(observed) else 0.0


def fit_stays(ended, censored=()) -> StayFit:
    """Fit ended stays (days, > 0) and stays still under way (days so far) and choose a distribution."""
    ended = np.asarray(ended, dtype=float)
    censored = np.asarray(censored, dtype=float)
    censored = censored[censored > 0]
    candidates = [c for f in FAMILIES if (c := _fit_one(f, ended, censored)) is not None]
    if not candidates:
        raise ValueError("no candidate distribution could be fitted")
    best = min(candidates, key=lambda c: c.aic)
    frozen = best.frozen
    if len(censored):
        d, p = _km_gap(frozen, ended, censored), None
    else:
        test = stats.kstest(ended, frozen.cdf)
        d, p = float(test.statistic), float(test.pvalue)
    mean, low, high = _mean_interval(best, ended, censored)
    if p is not None and p < 0.01 and d > 0.03:
        q = np.quantile(ended, (np.arange(EMPIRICAL_QUANTILES) + 0.5) / EMPIRICAL_QUANTILES)
        spec = {"dist": "empirical", "values": [_r(v) for v in q]}
        se = float(ended.std(ddof=1) / math.sqrt(len(ended)))
        mean = float(ended.mean())
        return StayFit("empirical", spec, candidates, len(ended), len(censored), d, p, mean,
                       mean - Z95 * se, mean + Z95 * se, ended)
    return StayFit(best.family, spec_of(best.family, best.params), candidates, len(ended), len(censored), d, p,
                   mean, low, high, ended)
