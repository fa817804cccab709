"""A scenario against its comparator: paired differences, savings by payer, cash against capacity.

Replication *i* of both scenarios meets the same crises and the same luck
(common random numbers), so the difference is taken replication by
replication and its 95% CI comes from the spread of those paired differences.

Savings are split two ways:
- by payer (NHS, council, self-funders), so a saving to one that is a cost to
  another shows as costs moved between payers, not as a saving;
- into cash-releasing savings (fewer new long-term placements and packages,
  whose whole committed cost is avoided, and fewer reablement episodes) and
  capacity freed (bed-days and attendances in services whose staff and beds
  are paid for anyway: the money only comes back if capacity is closed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.measure.costs import COMMITTED, PAYERS
from sim.intervals import interval_row
from sim.measure.kpis import describe
from sim.results import ResultSet

CASH_RELEASING = "cash-releasing"
CAPACITY_FREED = "capacity freed"
# Whether a cost avoided is cash (a placement, a package, an episode or an out-of-area fee not bought)
# or capacity (bed-days, response-days and attendances: cash only if the capacity itself is cut).
CASH_UNITS = ("episodes started", "placements out of area", "visit-hours")


def saving_kind(line: pd.Series) -> str:
    if line["basis"] == COMMITTED or any(line["activity_unit"].startswith(u) for u in CASH_UNITS):
        return CASH_RELEASING
    return CAPACITY_FREED


PAYER_NAMES = {"nhs": "NHS", "council": "council", "self_funder": "self-funders", "all": "all payers"}
# Said once wherever differences are shown (cards, tables, figures, the command line), so a sign means one thing.
SIGN_CONVENTION = ("positive = better for the scenario: a saving, or fewer admissions, bed-days and placements, "
                   "or more people home and independent")
# The KPIs' own labels spell payers as identifiers ("Cost to self funder"); people read them as elsewhere.
PAYER_KPI_LABELS = {f"cost.{payer}": f"Cost to {'the ' if payer != 'self_funder' else ''}{PAYER_NAMES[payer]}"
                    for payer in PAYERS}


def kpi_label(kpi: str, label: str) -> str:
    """A KPI's label as shown, with payers named as everywhere else (NHS, council, self-funders)."""
    return PAYER_KPI_LABELS.get(kpi, label)


def money(value: float, signed: bool = False, scale: float | None = None) -> str:
    """Pounds as people read them: £7.0m, £26.8k, £346; `scale` (1e6, 1e3 or 1) sets the unit for a group.

    The one money format of the command line, the report and the app, tables and sentences alike.
    """
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "unlimited" if value > 0 else "-unlimited"
    size = abs(value)
    if scale is None:
        scale = 1e6 if size >= 1e6 else 1e3 if size >= 1e3 else 1.0
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    if scale == 1.0:
        return f"{sign}£{size:,.0f}"
    # One decimal in the scale's own range, two below it, so that £0.35m in a £m interval is not "£0.3m".
    digits = 1 if size >= scale else 2
    return f"{sign}£{size / scale:,.{digits}f}{'m' if scale == 1e6 else 'k'}"


def money_scale(*values: float) -> float:
    """The unit (1e6, 1e3 or 1) a group of amounts shares: that of the largest."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    size = max(finite, default=0.0)
    return 1e6 if size >= 1e6 else 1e3 if size >= 1e3 else 1.0


def no_interval(defined: int, replications: int) -> str:
    """Why a mean has no 95% CI: one replication only when there was one."""
    if replications == 1:
        return "no CI: one replication"
    if defined == 0:
        return "not defined in any replication"
    if defined == 1:
        return f"no CI: defined in 1 of {replications} replications"
    return "no CI: some replications are unlimited"

# (measure, unit, KPIs added together, sign): sign +1 when more in the scenario is the gain,
# -1 when less in the scenario is the gain (something avoided or saved).
OUTCOMES: list[tuple[str, str, tuple[str, ...], int]] = [
    ("Admissions avoided", "people", ("acute.admissions",), -1),
    ("ED attendances avoided", "people", ("ed.attendances",), -1),
    ("Acute bed-days saved", "bed-days", ("acute.occupancy_mean",), -1),
    ("Community hospital bed-days saved", "bed-days", ("community_beds.occupancy_mean",), -1),
    ("Temporary residential bed-days saved", "bed-days", ("temporary_residential.occupancy_mean",), -1),
    ("Delayed bed-days saved", "bed-days", ("delayed.bed_days",), -1),
    ("Bedded placements after acute avoided", "people", ("pathway.bedded_placements",), -1),
    ("Share discharged home", "percentage points", ("pathway.home_share",), +1),
    ("More people with independent outcomes", "people", ("people.better_outcomes",), +1),
    ("Permanent care home admissions avoided", "people", ("care_home.permanent_admissions",), -1),
    ("New home care packages avoided", "people", ("home_care.packages",), -1),
]
PER_DAY = {"acute.occupancy_mean", "community_beds.occupancy_mean", "temporary_residential.occupancy_mean"}
SHARES = {"pathway.home_share"}   # a difference of shares is shown in percentage points


def _paired(rs: ResultSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    scen, comp = rs.kpi_table("scenario"), rs.kpi_table("comparator")
    if list(scen.index) != list(comp.index):
        raise ValueError("the scenario and its comparator must have the same replications to be paired")
    return scen, comp


def differences(rs: ResultSet) -> pd.DataFrame:
    """Every KPI: scenario mean, comparator mean and the paired difference (scenario - comparator)."""
    scen, comp = _paired(rs)
    rows = []
    for kpi in scen.columns:
        if kpi not in comp.columns:
            continue
        label, unit, _ = describe(kpi)
        diff = interval_row(scen[kpi] - comp[kpi])
        rows.append({
            "kpi": kpi, "label": label, "unit": unit,
            "scenario_mean": float(scen[kpi].mean()), "comparator_mean": float(comp[kpi].mean()),
            "difference_mean": diff["mean"], "ci_low": diff["ci_low"], "ci_high": diff["ci_high"],
            "replications": diff["replications"],
        })
    return pd.DataFrame(rows)


def outcome_gains(rs: ResultSet) -> dict[str, np.ndarray]:
    """Per replication, each headline outcome as a gain of the scenario over the comparator."""
    scen, comp = _paired(rs)
    horizon = rs.scenarios["scenario"].run.horizon_days
    out = {}
    for measure, _, kpis, sign in OUTCOMES:
        scale = horizon if kpis[0] in PER_DAY else 100.0 if kpis[0] in SHARES else 1.0  # occupancy x days = bed-days
        diff = sum(scen[k] - comp[k] for k in kpis) * scale
        out[measure] = (sign * diff).to_numpy(dtype=float)
    return out


def cost_matrix(rs: ResultSet, role: str) -> pd.DataFrame:
    """Cost per replication (rows) by (kind, payer) (columns), GBP, zeros included."""
    costs = rs.costs[rs.costs["role"] == role]
    costs = costs.assign(kind=costs.apply(saving_kind, axis=1) if len(costs) else [])
    table = costs.pivot_table(index="replication", columns=["kind", "payer"], values="cost_gbp",
                              aggfunc="sum", fill_value=0.0)
    columns = pd.MultiIndex.from_product([[CASH_RELEASING, CAPACITY_FREED], list(PAYERS)])
    reps = sorted(rs.kpis.loc[rs.kpis["role"] == role, "replication"].unique())
    return table.reindex(index=reps, columns=columns, fill_value=0.0)


def _columns(kind: str, payer: str) -> list[tuple[str, str]]:
    kinds = [CASH_RELEASING, CAPACITY_FREED] if kind == "all" else [kind]
    payers = list(PAYERS) if payer == "all" else [payer]
    return [(k, p) for k in kinds for p in payers]


def savings(rs: ResultSet) -> dict[tuple[str, str], np.ndarray]:
    """Per replication, comparator cost - scenario cost by (kind or 'all', payer or 'all'), GBP.

    Only (kind, payer) pairs with some cost in either scenario are kept: the NHS, for
    instance, pays for no long-term care, so it has no cash-releasing line of zeros.
    """
    scen, comp = cost_matrix(rs, "scenario"), cost_matrix(rs, "comparator")
    out = {}
    for kind in (CASH_RELEASING, CAPACITY_FREED, "all"):
        for payer in (*PAYERS, "all"):
            cols = _columns(kind, payer)
            if kind != "all" and not (scen[cols].to_numpy().any() or comp[cols].to_numpy().any()):
                continue
            out[(kind, payer)] = (comp[cols].sum(axis=1) - scen[cols].sum(axis=1)).to_numpy(dtype=float)
    return out


def _verbs(payer: str) -> tuple[str, str]:
    """'saves' and 'pays' agreeing with the payer's name (self-funders and all payers are plural)."""
    return ("save", "pay") if payer in ("self_funder", "all") else ("saves", "pays")


def _verdict(row: dict, payer: str, replications: int) -> str:
    who = PAYER_NAMES[payer]
    saves, pays = _verbs(payer)
    low, high = row["ci_low"], row["ci_high"]
    if math.isnan(low):
        verdict = saves if row["mean"] > 0 else f"{pays} more" if row["mean"] < 0 else "no change"
        return f"{who}: {verdict} ({no_interval(row['replications'], replications)})"
    if low > 0:
        return f"{who} {saves}"
    if high < 0:
        return f"{who} {pays} more"
    return "no clear change"


def comparison(rs: ResultSet) -> pd.DataFrame:
    """Headline table: outcomes gained and money saved (positive = better), each with a 95% CI."""
    rows = []
    units = {m: u for m, u, _, _ in OUTCOMES}
    replications = len(_paired(rs)[0])
    for measure, gains in outcome_gains(rs).items():
        r = interval_row(gains)
        rows.append({"measure": measure, "unit": units[measure], "kind": "outcome", "payer": "",
                     "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "replications": r["replications"], "who": ""})
    for (kind, payer), saved in savings(rs).items():
        r = interval_row(saved)
        label = "Saving" if kind == "all" else f"Saving, {kind}"
        rows.append({"measure": f"{label}: {PAYER_NAMES[payer]}", "unit": "GBP", "kind": kind, "payer": payer,
                     "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "replications": r["replications"], "who": _verdict(r, payer, replications)})
    return pd.DataFrame(rows)


def cost_shifts(table: pd.DataFrame) -> list[str]:
    """Sentences naming costs moved: a payer that clearly pays more while another clearly saves."""
    totals = table[(table["kind"] == "all") & (table["payer"].isin(PAYERS))]
    savers = totals[totals["ci_low"] > 0]
    payers = totals[totals["ci_high"] < 0]
    return [
        f"Costs move from {PAYER_NAMES[s.payer]} to {PAYER_NAMES[p.payer]}: {PAYER_NAMES[s.payer]} "
        f"{_verbs(s.payer)[0]} {money(s['mean'])} while {PAYER_NAMES[p.payer]} {_verbs(p.payer)[1]} "
        f"{money(-p['mean'])} more"
        for _, s in savers.iterrows() for _, p in payers.iterrows()
    ]
