"""The headline figures, defined once, and the comparison table every output shows.

Headlines (sim.compare.outcomes with `headline`): admissions avoided (people admitted, readmissions left
out), the scenario's own headline measures (bedded placements avoided in the library), and people with
more independent outcomes (journeys that end at home, counted against the comparator's crises so that a
surge scores no gain for having more). Each is a yearly figure: the measured period's difference divided
by its years. The command line, the report, the app and the validation document all read them from here.

A comparison the simulator does not trust (sim.trust: a queue grows all run) shows no gain and no saving:
its rows carry no value, and `who` says why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sim import compare, trust
from sim.economics.impact import comparable, economic_summary
from sim.economics.perspectives import NAMES, SHORT

if TYPE_CHECKING:
    from sim.results import ResultSet

COLUMNS = ["measure", "unit", "kind", "payer", "mean", "ci_low", "ci_high", "replications", "who", "definition"]


def not_valid_reason(rs: "ResultSet") -> str:
    """Why the scenario's differences from its comparator mean nothing; empty when they can be read."""
    if "comparator" not in rs.scenarios:
        return ""
    return trust.not_valid_reason(trust.of_results(rs))


def _replications(rs: "ResultSet") -> int:
    return int(rs.kpis.loc[rs.kpis["role"] == "scenario", "replication"].nunique())


def headlines(rs: "ResultSet") -> pd.DataFrame:
    """The headline gains a year, with 95% CIs; no values when the comparison is not valid."""
    table = comparison(rs)
    return table[table["kind"] == "headline"].reset_index(drop=True)


def _money_rows(rs: "ResultSet") -> list[dict]:
    """Over the horizon measured, by perspective: cash-releasing savings, investment, net, discounted net, ROI."""
    summary = economic_summary(rs)
    n = _replications(rs)
    rows = []
    for _, r in summary.iterrows():
        p = r["perspective"]
        plural = p == "self_funders"
        who = "" if r["unit"] == "ratio" or r["measure"] == "investment" else compare.verdict(
            {"mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "replications": n},
            SHORT[p], plural, n)
        rows.append({"measure": f"{r['measure'][0].upper()}{r['measure'][1:]}: {NAMES[p]}", "unit": r["unit"],
                     "kind": r["measure"], "payer": p, "mean": r["mean"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "replications": n, "who": who, "definition": ""})
    return rows


def comparison(rs: "ResultSet") -> pd.DataFrame:
    """Headlines, the other outcomes a year and the money by perspective over the horizon measured.

    Not valid (a queue grows all run): the same rows, with no values and `who` saying why.
    """
    table = compare.comparison(rs)
    if comparable(rs):
        return pd.DataFrame([*table.to_dict("records"), *_money_rows(rs)], columns=COLUMNS)
    reason = not_valid_reason(rs) or "no comparator"
    table = table.assign(mean=math.nan, ci_low=math.nan, ci_high=math.nan, who=f"not valid: {reason}")
    return table.reindex(columns=COLUMNS)


def cost_shifts(rs: "ResultSet") -> list[str]:
    """Sentences naming costs moved: a payer that clearly saves over the horizon while another clearly pays more."""
    if not comparable(rs):
        return []
    net = economic_summary(rs)
    net = net[(net["measure"] == "net") & net["perspective"].isin(["nhs", "council", "self_funders"])]
    savers, payers = net[net["ci_low"] > 0], net[net["ci_high"] < 0]
    out = []
    for _, s in savers.iterrows():
        for _, p in payers.iterrows():
            verb = "pay" if p.perspective == "self_funders" else "pays"
            verb_s = "save" if s.perspective == "self_funders" else "saves"
            out.append(f"Costs move from {SHORT[s.perspective]} to {SHORT[p.perspective]}: {SHORT[s.perspective]} "
                       f"{verb_s} {compare.money(s['mean'])} net while {SHORT[p.perspective]} {verb} "
                       f"{compare.money(-p['mean'])} more")
    return out

