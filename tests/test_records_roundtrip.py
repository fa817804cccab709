"""The test of fit: synthesize a scenario's records, fit a scenario from them, run both, and the key KPIs agree.

The example system (examples/small-system.yaml) leaves two years of records;
the scenario fitted from them runs with the original's run settings and
seed. Admissions, lengths of stay, occupancy, delays and discharge pathways
agree within their 95% intervals (the intervals overlap) and within 8%.

What the records cannot show is left out, and said: people who asked for an
urgent response and got no team in time are in no record (they appear as
new crises at the hospital), so the fitted model's own give-ups come on top
and its urgent-response admissions are lower by about the give-up share
(docs/records.md, "What a fit cannot see").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import api
from sim.records.commands import fit_files
from sim.records.synthesize import synthesize
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

KPIS = [
    "acute.admissions", "reablement.admissions", "community_beds.admissions", "temporary_residential.admissions",
    "acute.ready_los_mean", "acute.los_mean", "reablement.los_mean", "community_beds.los_mean",
    "acute.occupancy_mean", "reablement.occupancy_mean", "community_beds.occupancy_mean",
    "acute.delayed_bed_days", "community_beds.delayed_bed_days",
    "pathway.P0", "pathway.P1", "pathway.P2", "pathway.P3",
]
RUN = {"horizon_days": 365, "warmup_days": 300, "replications": 6, "seed": 7}


@pytest.mark.slow
def test_a_scenario_fitted_from_its_own_records_gives_the_same_kpis(tmp_path):
    original = load_scenario(ROOT / "examples" / "small-system.yaml")
    episodes, census = synthesize(original)
    episodes.to_csv(tmp_path / "episodes.csv", index=False)
    census.to_csv(tmp_path / "census.csv", index=False)
    fit_files(tmp_path / "episodes.csv", tmp_path / "fitted.yaml", tmp_path / "census.csv")
    fitted = load_scenario(tmp_path / "fitted.yaml")

    def summary(scenario):
        same = scenario.with_changes({"run": {**scenario.resolved["run"], **RUN}})
        return api.run(same, use_comparator=False, workers=1).summary.set_index("kpi")

    want, got = summary(original), summary(fitted)
    # When more than one service discharges on pathways (acute, and UCR's people kept at home going on to
    # support), the fit names each service's pathway measures after it.
    fitted_name = {kpi: kpi if kpi in got.index else f"acute.{kpi}" for kpi in KPIS}
    got = got.rename(index={v: k for k, v in fitted_name.items()})
    for kpi in KPIS:
        a, b = want.loc[kpi], got.loc[kpi]
        assert a.ci_low <= b.ci_high and b.ci_low <= a.ci_high, (kpi, a["mean"], b["mean"])
        # Pathway 3 is the one exception, within 12%: the fit does not yet fit `afterwards:` (people back from
        # home: readmissions, later placements), so the frailer people readmitted come back with the crisis mix
        # (docs/records.md, "What a fit cannot see").
        assert b["mean"] == pytest.approx(a["mean"], rel=0.12 if kpi == "pathway.P3" else 0.08), kpi
    # pathway shares of discharges, to within two points
    share = {k: [s.loc[f"pathway.P{n}", "mean"] for n in range(4)] for k, s in (("want", want), ("got", got))}
    for a, b in zip(share["want"], share["got"]):
        assert b / sum(share["got"]) == pytest.approx(a / sum(share["want"]), abs=0.02)
