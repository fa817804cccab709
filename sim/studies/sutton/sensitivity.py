"""One assumption at a time: how the alliance's simulated effects move across each assumption's range.

Each assumption of sim/studies/sutton/inputs.py is set to the low and then the high end of its range and
the baseline and the alliance are simulated again on the same replications (common random numbers). An
assumption about the baseline applies to the alliance too, unless the alliance sets that field itself (its
own rapid response capacity and START hours); an assumption about the alliance changes the alliance only.
Reported: the alliance's % change in admissions and in length of stay, and the saving to the NHS, at
each end. These are the figures the validation compares with the reported -1% and -6%, so the table
says which assumptions those comparisons hang on.
"""

from __future__ import annotations

import pandas as pd

from sim.scenario import Scenario
from sim.studies.sutton import inputs

SIDES = ("low", "high")
MEASURES = {"admissions": "acute.admissions", "length_of_stay": "acute.los_mean"}
ED_WAIT = "ed.wait_hours_mean"   # the larger of the two scenarios' mean ED wait, hours: a full hospital shows here first


def _value(assumption: inputs.Assumption, end: float):
    # Places are whole: a capacity moves by whole beds, teams or places.
    return int(round(end)) if assumption.field.endswith(".capacity") else end


def _at(scenario: Scenario, field: str):
    node = scenario.resolved
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _own_field(alliance: Scenario, base: Scenario, field: str) -> bool:
    """Whether the alliance sets this field to its own value (rather than keeping the baseline's)."""
    return _at(alliance, field) != _at(base, field)


def roles(pair: dict[str, Scenario]) -> dict[str, Scenario]:
    """Every (assumption, side) as a baseline role and an alliance role, named a<i>_<side>_<base|alliance>."""
    base, alliance = pair["comparator"], pair["scenario"]
    out = {}
    for i, a in enumerate(inputs.ASSUMPTIONS):
        for side in SIDES:
            change = {a.field: _value(a, getattr(a, side))}
            if a.scenario == "baseline":
                out[f"a{i}_{side}_base"] = base.with_changes(change)
                out[f"a{i}_{side}_alliance"] = alliance if _own_field(alliance, base, a.field) else alliance.with_changes(change)
            else:
                out[f"a{i}_{side}_base"] = base
                out[f"a{i}_{side}_alliance"] = alliance.with_changes(change)
    return out


def table(tables: dict[str, pd.DataFrame], overloaded: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Per assumption and side, the alliance's mean % change in admissions and stay, and the NHS saving a year.

    `overloaded` names the roles with a queue that grows all run (sim.trust): that side is marked, since its
    changes are not steady-state figures.
    """
    rows = []
    for i, a in enumerate(inputs.ASSUMPTIONS):
        row = {"label": a.label, "scenario": a.scenario, "value": a.value, "low": a.low, "high": a.high}
        for side in SIDES:
            base, alliance = tables[f"a{i}_{side}_base"], tables[f"a{i}_{side}_alliance"]
            row[f"overloaded_{side}"] = bool({f"a{i}_{side}_base", f"a{i}_{side}_alliance"} & overloaded)
            row[f"ed_wait_{side}"] = float(max(base[ED_WAIT].mean(), alliance[ED_WAIT].mean()))
            for name, kpi in MEASURES.items():
                row[f"{name}_{side}"] = float((100 * (alliance[kpi] - base[kpi]) / base[kpi]).mean())
            row[f"nhs_saving_{side}"] = float((base["cost.nhs"] - alliance["cost.nhs"]).mean())
        row["swing"] = abs(row["length_of_stay_high"] - row["length_of_stay_low"]) + abs(
            row["admissions_high"] - row["admissions_low"])
        rows.append(row)
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
