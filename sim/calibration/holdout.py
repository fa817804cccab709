"""The fitted parameter sets against every target: calibration targets (how well the fit did) and the
held-out validation targets (which the fit never read), each as a weighted mean and 95% interval over sets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calibration.targets import Target


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cumulative = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cumulative, v))


def summarise(targets: tuple[Target, ...], sets: pd.DataFrame, per_set: pd.DataFrame) -> pd.DataFrame:
    """A row per target: published range, simulated weighted mean and 95% interval over the parameter sets
    (parameter uncertainty and each set's own simulation noise), whether the mean is within the tolerance,
    and the posterior weight of sets within it."""
    weight = dict(zip(sets["set"], sets["weight"]))
    rows = []
    for t in targets:
        mine = per_set[per_set["target"] == t.name]
        values = mine["simulated"].to_numpy(dtype=float)
        w = mine["set"].map(weight).to_numpy(dtype=float)
        ok = np.isfinite(values)
        values, w = values[ok], w[ok]
        if len(values) == 0:
            mean = low = high = share = np.nan
        else:
            w = w / w.sum()
            mean = float(np.sum(values * w))
            low, high = weighted_quantile(values, w, 0.025), weighted_quantile(values, w, 0.975)
            share = float(np.sum(w[(values >= t.low) & (values <= t.high)]))
        rows.append({
            "target": t.name, "role": t.role, "label": t.label, "kpi": "+".join(t.kpis), "observed_low": t.low, "observed_high": t.high,
            "simulated_mean": mean, "simulated_low": low, "simulated_high": high,
            "within_tolerance": bool(t.within(mean)) if np.isfinite(mean) else False,
            "posterior_share_within": share, "scenario": "" if t.scenario is None else t.scenario.name,
            "compare": t.compare, "input_fed_back": t.input_fed_back or "", "source": t.source,
        })
    return pd.DataFrame(rows)
