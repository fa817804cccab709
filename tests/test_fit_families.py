"""Fitting lengths of stay: maximum likelihood recovers known parameters, AIC finds the family that made the data,
censored stays are counted, and the stays themselves are used where no family fits."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from sim.random.distributions import Sampler, Weibull
from sim.records.families import fit_stays
from sim.scenario.services import Stay

STAY = TypeAdapter(Stay)

# (family, scipy distribution, the parameters a fit reports)
CASES = [
    ("lognormal", stats.lognorm(0.9, scale=5.0), {"mean": stats.lognorm(0.9, scale=5.0).mean(),
                                                   "sd": stats.lognorm(0.9, scale=5.0).std()}),
    ("gamma", stats.gamma(2.5, scale=4.0), {"mean": 10.0, "sd": np.sqrt(2.5) * 4.0}),
    ("weibull", stats.weibull_min(1.6, scale=12.0), {"shape": 1.6, "scale": 12.0}),
]


@pytest.mark.parametrize("family,dist,truth", CASES, ids=[c[0] for c in CASES])
def test_maximum_likelihood_recovers_the_parameters_and_aic_picks_the_family(family, dist, truth):
    sample = dist.rvs(20_000, random_state=np.random.default_rng(7))
    fit = fit_stays(sample)
    assert fit.chosen == family
    assert fit.spec["dist"] == family
    for key, value in truth.items():
        assert fit.spec[key] == pytest.approx(value, rel=0.03), key
    assert fit.mean_low < dist.mean() < fit.mean_high  # the interval covers the truth
    assert fit.ks_d < 0.015 and fit.ks_p > 0.01
    assert fit.n == 20_000 and fit.censored == 0
    # what the scenario gets is a valid stay with the fitted mean
    assert Sampler(STAY.validate_python(fit.spec)).mean == pytest.approx(fit.mean, rel=1e-3)


def test_an_exponential_sample_is_exponential_or_a_weibull_of_shape_one():
    # The exponential is the Weibull of shape 1: AIC prefers the simpler one unless noise favours the other.
    sample = stats.expon(scale=7.0).rvs(20_000, random_state=np.random.default_rng(3))
    fit = fit_stays(sample)
    exp = next(c for c in fit.candidates if c.family == "exponential")
    assert exp.params[0] == pytest.approx(7.0, rel=0.02)
    assert fit.chosen in ("exponential", "weibull")
    if fit.chosen == "weibull":
        assert fit.spec["shape"] == pytest.approx(1.0, abs=0.02)
    assert fit.mean == pytest.approx(7.0, rel=0.02)


def test_stays_still_under_way_count_as_censored():
    rng = np.random.default_rng(11)
    truth = stats.lognorm(0.9, scale=400.0)
    stays = truth.rvs(4000, random_state=rng)
    started = rng.uniform(0, 365, 4000)
    ended = stays <= 365 - started
    fit = fit_stays(stays[ended], (365 - started)[~ended])
    assert fit.censored == (~ended).sum() > 2000
    assert fit.mean_low < truth.mean() < fit.mean_high
    # dropping the stays under way would halve the mean: the censored fit is within 15% of the truth
    assert fit.mean == pytest.approx(truth.mean(), rel=0.15)
    assert stays[ended].mean() < 0.5 * truth.mean()


def test_the_stays_themselves_where_no_family_fits():
    rng = np.random.default_rng(5)
    two_humps = np.concatenate([rng.normal(2, 0.2, 5000), rng.normal(20, 1.0, 5000)])
    fit = fit_stays(two_humps)
    assert fit.chosen == "empirical" and fit.spec["dist"] == "empirical"
    assert len(fit.spec["values"]) == 100
    assert fit.mean == pytest.approx(two_humps.mean())
    assert STAY.validate_python(fit.spec).mean() == pytest.approx(two_humps.mean(), rel=0.01)


def test_a_weibull_stay_draws_its_quantiles():
    w = Weibull(dist="weibull", shape=1.5, scale=10.0)
    truth = stats.weibull_min(1.5, scale=10.0)
    assert w.mean() == pytest.approx(truth.mean())
    for z in (-2.0, 0.0, 1.3):
        assert w.from_z(z) == pytest.approx(truth.ppf(stats.norm.cdf(z)))
    assert w.scaled(2.0).mean() == pytest.approx(2 * truth.mean())


def test_a_weibull_stay_found_under_way_is_length_biased():
    # A census finds long stays more often: the full stay of someone found has mean E[S^2] / E[S].
    from sim.pathway.initial_state import length_biased_z

    w = Weibull(dist="weibull", shape=1.5, scale=10.0)
    truth = stats.weibull_min(1.5, scale=10.0)
    u = (np.arange(20_000) + 0.5) / 20_000
    full = np.array([w.from_z(length_biased_z(w, x)) for x in u])
    assert full.mean() == pytest.approx(truth.moment(2) / truth.mean(), rel=0.01)
