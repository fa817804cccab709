"""A Gaussian-process emulator of one output over the unit cube of uncertain inputs, with its own validation.

The simulation is noisy: each parameter set's result is its expected value
plus the luck of its replications. The emulator models both, a smooth
function (squared-exponential kernel, one length-scale per input) and a
noise term (the nugget), fitted by maximum marginal likelihood. Its mean is
an estimate of the expected output at any input, which is what the
sensitivity indices (sim.psa.gsa) decompose, and its nugget estimates the
simulation's own noise.

Validation is leave-one-out, in closed form (Rasmussen and Williams 2006,
eq. 5.12): each set predicted from all the others. `q2` is the share of the
outputs' variance those predictions explain; `coverage` the share of sets
within their 95% predictive interval (about 0.95 when the emulator is
honest about its own uncertainty). An emulator below MIN_Q2 is reported as
not good enough, and the indices made from it are marked so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

MIN_Q2 = 0.5      # below this, leave-one-out predictions explain too little for the indices to mean much
JITTER = 1e-8


@dataclass(frozen=True)
class Validation:
    q2: float          # 1 - sum of squared leave-one-out errors / sum of squared deviations from the mean
    coverage: float    # share of sets inside their leave-one-out 95% predictive interval
    noise_share: float  # nugget / (signal + nugget): the share of the sets' variance the emulator calls noise

    @property
    def adequate(self) -> bool:
        return self.q2 >= MIN_Q2


def _kernel(a: np.ndarray, b: np.ndarray, lengths: np.ndarray, signal: float) -> np.ndarray:
    d = (a[:, None, :] - b[None, :, :]) / lengths
    return signal * np.exp(-0.5 * np.sum(d * d, axis=2))


class Emulator:
    """Fitted to outputs y at points u (n x d in [0, 1]); `predict` the expected output elsewhere."""

    def __init__(self, u: np.ndarray, y: np.ndarray):
        u, y = np.asarray(u, dtype=float), np.asarray(y, dtype=float)
        if len(u) != len(y) or len(y) < u.shape[1] + 1:
            raise ValueError(f"an emulator of {u.shape[1]} inputs needs at least {u.shape[1] + 1} points, "
                             f"not {len(y)}")
        self.u = u
        self._squared = (u[:, None, :] - u[None, :, :]) ** 2   # n x n x d, reused by every likelihood evaluation
        self.centre, self.scale = float(y.mean()), float(y.std()) or 1.0
        self.z = (y - self.centre) / self.scale
        self._fit()

    def _nll(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood and its gradient in the log hyperparameters (R&W 2006, eq. 5.9)."""
        d = self.u.shape[1]
        lengths, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
        smooth = signal * np.exp(-0.5 * (self._squared @ (1.0 / lengths ** 2)))
        k = smooth + (noise + JITTER) * np.eye(len(self.z))
        try:
            factor = linalg.cho_factor(k, lower=True)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = linalg.cho_solve(factor, self.z)
        value = 0.5 * float(self.z @ alpha) + float(np.sum(np.log(np.diag(factor[0]))))
        w = np.outer(alpha, alpha) - linalg.cho_solve(factor, np.eye(len(self.z)))
        grad = np.empty_like(theta)
        weighted = w * smooth
        grad[:d] = -0.5 * np.einsum("ik,ikj->j", weighted, self._squared) / lengths ** 2
        grad[d] = -0.5 * float(np.sum(weighted))
        grad[d + 1] = -0.5 * noise * float(np.trace(w))
        return value, grad

    def _fit(self) -> None:
        d = self.u.shape[1]
        bounds = [(math.log(0.05), math.log(20.0))] * d + [(math.log(1e-3), math.log(20.0)),
                                                           (math.log(1e-6), math.log(2.0))]
        best = None
        # Deterministic starts: short and long length-scales, little and much noise.
        for length, noise in ((0.5, 0.05), (2.0, 0.3)):
            start = np.array([math.log(length)] * d + [0.0, math.log(noise)])
            result = optimize.minimize(self._nll, start, jac=True, method="L-BFGS-B", bounds=bounds)
            if best is None or result.fun < best.fun:
                best = result
        theta = best.x
        self.lengths, self.signal, self.noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
        k = _kernel(self.u, self.u, self.lengths, self.signal) + (self.noise + JITTER) * np.eye(len(self.z))
        self._factor = linalg.cho_factor(k, lower=True)
        self._alpha = linalg.cho_solve(self._factor, self.z)

    def predict(self, u: np.ndarray) -> np.ndarray:
        """The expected output at points u (m x d), without the simulation's noise."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        out = np.empty(len(u))
        for start in range(0, len(u), 4096):  # in blocks: the cross-kernel of a large sample is large
            block = u[start:start + 4096]
            out[start:start + len(block)] = _kernel(block, self.u, self.lengths, self.signal) @ self._alpha
        return self.centre + self.scale * out

    def validate(self) -> Validation:
        """Leave-one-out predictions of every point from the others, in closed form."""
        inverse = linalg.cho_solve(self._factor, np.eye(len(self.z)))
        diagonal = np.diag(inverse)
        residual = self._alpha / diagonal          # z_i - prediction of z_i from the others
        sd = np.sqrt(1.0 / diagonal)               # predictive sd, noise included
        spread = float(np.sum(self.z ** 2))
        q2 = 1.0 - float(np.sum(residual ** 2)) / spread if spread > 0 else 1.0
        coverage = float(np.mean(np.abs(residual) <= 1.96 * sd))
        return Validation(q2=q2, coverage=coverage, noise_share=self.noise / (self.signal + self.noise))
