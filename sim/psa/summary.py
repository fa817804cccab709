"""The tables of a PSA: each set's results, the headlines over all sets, and the acceptability curve.

Every headline is the scenario's gain over its comparator (positive =
better: an outcome gained, money saved), per parameter set: each outcome as
sim.compare defines it, and the money as sim.economics does, the net saving
over the horizon measured to each system perspective (NHS, council, NHS+PSS)
and, apart, self-funders' private spending (never summed into a system's
saving). Over the sets:

- `mean`: the expected gain over the inputs' uncertainty;
- `interval_low`, `interval_high`: the 2.5th and 97.5th centiles of the
  sets' gains. Each set's gain is the mean of its replications, so it
  carries the set's parameter values and the luck of its own streams: the
  interval combines parameter and simulation uncertainty;
- `probability_positive`: the share of sets with a gain, for money the
  probability that this perspective saves;
- `simulation_share`: the share of the sets' variance that is the
  simulation's own noise (from the spread of a set's replications when it
  has several, else from the emulator's nugget), so a reader sees how much
  of the interval more replications would remove;
- `mc_standard_error`: the Monte Carlo error of `mean` (sd / sqrt(sets)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import compare
from sim.economics import impact, lines, programme
from sim.economics.perspectives import NAMES, PERSPECTIVES, SHORT, SYSTEM
from sim.experiment import reprice
from sim.measure.kpis import describe
from sim.psa.draws import Draws
from sim.results import ResultSet
from sim.scenario import Scenario

PERCENTILES = (2.5, 97.5)
METHOD = "percentiles over parameter sets (parameter and simulation uncertainty; CRN within each set)"
# Willingness to pay for one unit of the effect, GBP: the acceptability curve's x-axis.
WTP_GBP = (0, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 30_000, 50_000, 100_000)
# The perspective the first acceptability curve and the main sensitivity indices are for: NHS and personal
# social services together, the NICE reference case.
MAIN = "nhs_pss"
NET = "net"          # a system's net saving over the horizon (kind in the headlines)
PRIVATE_KIND = "private"  # self-funders' own spending, shown apart: never part of a system's saving


def money_measure(perspective: str) -> str:
    """The headline's name for a perspective's net saving over the horizon measured."""
    return f"Net saving: {NAMES[perspective]}"


def role_names(n: int) -> list[tuple[str, str]]:
    """The roles of n sets in one experiment: (scenario, comparator) of each, s000/c000 onwards."""
    width = max(3, len(str(n - 1)))
    return [(f"s{i:0{width}d}", f"c{i:0{width}d}") for i in range(n)]


def _role_tables(resultset: ResultSet, roles: list[str]) -> dict[str, pd.DataFrame]:
    """Each role's KPIs: a row per replication, a column per KPI."""
    wide = resultset.kpis.pivot_table(index=["role", "replication"], columns="kpi", values="value",
                                      aggfunc="first", sort=True)
    return {role: wide.loc[role] for role in roles}


def _pair(resultset: ResultSet, scenarios: dict[str, Scenario], roles: tuple[str, str], simulated: tuple[str, str],
          kpis: dict[str, pd.DataFrame], costs: dict[str, pd.DataFrame]) -> ResultSet:
    """One set as a run of its own, roles 'scenario' and 'comparator', for sim.compare's headlines.

    `simulated` are the roles whose replications stand for the set's (`roles`): a comparator run
    shared with another set is re-priced at this set's unit costs.
    """
    empty = resultset.kpis.iloc[0:0]
    frames, priced, moved = [], [], []
    for role, new in zip(simulated, ("scenario", "comparator")):
        long = kpis[role].reset_index().melt(id_vars="replication", var_name="kpi", value_name="value")
        frames.append(long.assign(role=new))
        priced.append(costs.get(role, resultset.costs.iloc[0:0]).assign(role=new))
        # Where journeys end (people ending at home is a headline) does not depend on prices.
        moved.append(resultset.flows[resultset.flows["role"] == role].assign(role=new))
    pair = ResultSet(scenarios={"scenario": scenarios[simulated[0]], "comparator": scenarios[simulated[1]]},
                     kpis=pd.concat(frames, ignore_index=True).dropna(subset=["value"]), daily=empty,
                     flows=pd.concat(moved, ignore_index=True), costs=pd.concat(priced, ignore_index=True),
                     stays=empty)
    if simulated[1] != roles[1]:
        pair = reprice(pair, {"comparator": scenarios[roles[1]]})
    return pair


def per_set_tables(resultset: ResultSet, draws: Draws, scenarios: dict[str, Scenario],
                   simulated: dict[int, tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """psa.csv (a row per set and KPI: each arm's mean, the paired difference) and each set's headlines.

    `simulated`: set -> the roles run for it (by default its own two).
    """
    pairs = role_names(len(draws))
    simulated = simulated or dict(enumerate(pairs))
    kpis = _role_tables(resultset, sorted({r for pair in simulated.values() for r in pair}))
    costs = dict(tuple(resultset.costs.groupby("role", sort=False)))
    first = scenarios[pairs[0][0]]
    rows, headlines = [], []
    for i, roles in enumerate(pairs):
        pair = _pair(resultset, scenarios, roles, simulated[i], kpis, costs)
        scen, comp = pair.kpi_table("scenario"), pair.kpi_table("comparator")
        common = [k for k in scen.columns if k in comp.columns]
        diff = scen[common] - comp[common]
        frame = pd.DataFrame({"set": i, "kpi": common, "scenario_mean": scen[common].mean().to_numpy(),
                              "comparator_mean": comp[common].mean().to_numpy(),
                              "difference_mean": diff.mean().to_numpy(),
                              "difference_sd": diff.std(ddof=1).to_numpy() if len(diff) > 1 else np.nan,
                              "replications": len(diff)})
        rows.append(frame)
        units = {o.measure: o.unit for o in compare.outcomes(pair.scenarios["scenario"])}
        for measure, gains in compare.outcome_gains(pair).items():
            headlines.append({"set": i, "measure": measure, "unit": units[measure], "kind": "outcome", "payer": "",
                              "value": float(np.mean(gains)), "within_var": _var(gains)})
        for perspective, saved in net_savings(pair).items():
            headlines.append({"set": i, "measure": money_measure(perspective), "unit": "GBP",
                              "kind": NET if perspective in SYSTEM else PRIVATE_KIND, "payer": perspective,
                              "value": float(np.mean(saved)), "within_var": _var(saved)})
    per_set = pd.concat(rows, ignore_index=True)
    described = {k: describe(k, first)[:2] for k in per_set["kpi"].unique()}
    per_set.insert(2, "label", per_set["kpi"].map(lambda k: described[k][0]))
    per_set.insert(3, "unit", per_set["kpi"].map(lambda k: described[k][1]))
    values = draws.values.reset_index()
    per_set = values.merge(per_set, on="set", how="right", validate="one_to_many")
    return per_set, pd.DataFrame(headlines)


def net_savings(pair: ResultSet) -> dict[str, np.ndarray]:
    """Perspective -> net saving over the horizon measured, per replication, as sim.economics defines it: the
    comparator's cash less the scenario's (undiscounted, in the price year) less the change's investment.
    Self-funders' figure is their own spending saved (no investment): reported apart, never summed in."""
    scen, comp = pair.scenarios["scenario"], pair.scenarios["comparator"]
    years = impact.years_measured(scen)
    cash = impact.paired_savings(pair, lines.CASH)
    invest = programme.investment(scen, comp, max(years), years)
    n = int(pair.kpis.loc[pair.kpis["role"] == "scenario", "replication"].nunique())
    out = {}
    for perspective, payers in PERSPECTIVES.items():
        saved = sum((cash.get((p, y), np.zeros(n)) for p in payers for y in years), np.zeros(n))
        spent = sum(invest.get((p, y), 0.0) for p in payers for y in years) if perspective in SYSTEM else 0.0
        out[perspective] = saved - spent
    return out


def _var(values: np.ndarray) -> float:
    return float(np.var(values, ddof=1)) if len(values) > 1 else np.nan


def _row(values: np.ndarray, within_var: np.ndarray, replications: int) -> dict:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"sets": 0}
    # Hazen plotting positions: with Latin hypercube sets, the k-th smallest sits at about (k - 0.5) / n.
    low, high = np.percentile(values, PERCENTILES, method="hazen")
    total = float(np.var(values, ddof=1)) if len(values) > 1 else np.nan
    noise = float(np.nanmean(within_var)) / replications if np.any(np.isfinite(within_var)) else np.nan
    return {
        "mean": float(values.mean()), "interval_low": float(low), "interval_high": float(high),
        "probability_positive": float(np.mean(values > 0)),
        "simulation_share": float(min(1.0, noise / total)) if total and np.isfinite(noise) else np.nan,
        "mc_standard_error": float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan,
        "sets": len(values),
    }


def summarise(per_set: pd.DataFrame, headlines: pd.DataFrame, replications: int, samples: int) -> pd.DataFrame:
    """psa_summary.csv: every headline, then every KPI's difference, over the parameter sets."""
    rows = []
    for (measure, unit, kind, payer), group in headlines.groupby(["measure", "unit", "kind", "payer"], sort=False):
        rows.append({"measure": measure, "kpi": "", "unit": unit, "kind": kind, "payer": payer,
                     **_row(group["value"].to_numpy(float), group["within_var"].to_numpy(float), replications)})
    for (kpi, label, unit), group in per_set.groupby(["kpi", "label", "unit"], sort=False):
        sd = group["difference_sd"].to_numpy(float)
        rows.append({"measure": label, "kpi": kpi, "unit": unit, "kind": "difference", "payer": "",
                     **_row(group["difference_mean"].to_numpy(float), sd * sd, replications)})
    # The scenario's own level of every KPI (its spread over sets, simulation noise included, as above).
    for (kpi, label, unit), group in per_set.groupby(["kpi", "label", "unit"], sort=False):
        rows.append({"measure": label, "kpi": kpi, "unit": unit, "kind": "scenario", "payer": "",
                     **_row(group["scenario_mean"].to_numpy(float), np.full(len(group), np.nan), replications)})
    table = pd.DataFrame(rows)
    table["replications_per_set"] = replications
    table["method"] = METHOD
    return table


def with_emulator_noise(table: pd.DataFrame, emulators: pd.DataFrame) -> pd.DataFrame:
    """Where a set has one replication, the emulator's nugget is the estimate of the simulation's share."""
    noise = dict(zip(emulators["measure"], emulators["noise_share"]))
    table = table.copy()
    missing = table["simulation_share"].isna() & (table["kpi"] == "") & table["measure"].isin(noise)
    table.loc[missing, "simulation_share"] = table.loc[missing, "measure"].map(noise)
    return table


def _measure_headlines(scenario: Scenario) -> list[str]:
    """The scenario's own headline measures, named as the comparison names their gains ("... avoided")."""
    return [o.measure for o in compare.headline_outcomes(scenario) if o.add and o.add[0] in scenario.measures]


def sensitivity_targets(scenario: Scenario, headlines: pd.DataFrame) -> pd.DataFrame:
    """The headlines global sensitivity explains: each system perspective's net saving, admissions avoided and
    the scenario's headline measures (an emulator each; the other outcomes are in psa.csv for any analysis)."""
    measures = {compare.ADMISSIONS_AVOIDED, *_measure_headlines(scenario)}
    wanted = (headlines["kind"] == NET) | ((headlines["kind"] == "outcome") & headlines["measure"].isin(measures))
    return headlines[wanted]


def default_effect(scenario: Scenario) -> str:
    """The effect an acceptability curve is drawn for: the scenario's first headline measure, else admissions avoided."""
    return next(iter(_measure_headlines(scenario)), compare.ADMISSIONS_AVOIDED)


def effects(scenario: Scenario) -> list[str]:
    """The outcomes an acceptability curve can be drawn for: the comparison's gains (sim.compare.outcomes)."""
    return [o.measure for o in compare.outcomes(scenario)]


def effect_label(scenario: Scenario, effect: str) -> str:
    """An outcome named by its measure's KPI name or by its gain's name, as the headlines name it."""
    named = {}
    for o in compare.outcomes(scenario):
        if len(o.add) == 1 and o.add[0] in scenario.measures:
            named[o.add[0]] = named[scenario.measures[o.add[0]].label] = o.measure
    return named.get(effect, effect)


def acceptability(headlines: pd.DataFrame, effect: str) -> pd.DataFrame:
    """Probability that each system perspective's net benefit (net saving + WTP x effect gained) is positive,
    by WTP: NHS+PSS (the NICE reference case) first, then the NHS and the council on their own.

    An acceptability curve (van Hout et al. 1994) for one effect: at a willingness to pay of zero it is the
    probability that the perspective saves money. Self-funders' spending is private: no curve of its own.
    """
    columns = ["effect", "perspective", "wtp_gbp_per_unit", "probability_cost_effective"]
    gains = headlines[(headlines["kind"] == "outcome") & (headlines["measure"] == effect)].set_index("set")["value"]
    if gains.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for perspective in (MAIN, *(p for p in SYSTEM if p != MAIN)):
        saved = headlines[(headlines["kind"] == NET) & (headlines["payer"] == perspective)].set_index("set")["value"]
        if saved.empty:
            continue
        joined = pd.concat([gains, saved], axis=1, keys=["gain", "saved"]).dropna()
        for wtp in WTP_GBP:
            rows.append({"effect": effect, "perspective": SHORT[perspective], "wtp_gbp_per_unit": wtp,
                         "probability_cost_effective": float(np.mean(joined["saved"] + wtp * joined["gain"] > 0))})
    return pd.DataFrame(rows, columns=columns)
