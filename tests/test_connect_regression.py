"""Back-test: the baseline and Connect, at a quarter of Mid and South Essex, stay inside documented bands.

The bands are those of docs/validation.md widened for the smaller system and
three replications. A change that moves a headline output out of its band
moves the published comparison too: re-run `python -m sim.studies.connect.validation`, look at
why, and update the band here only with a reason in the commit message.
"""

from __future__ import annotations

import pytest

from sim.studies.connect import validation
from support import ROOT

SCALE = 0.25
REPLICATIONS = 3

# measure: (low, high) for the baseline's mean over the replications
BASELINE_BANDS = {
    "acute.avoidable_share": (0.25, 0.31),            # 28% (2019 diagnostic)
    "acute.avoidable_by_ucr_share": (0.075, 0.105),   # 9%
    "reablement.at_home_91d_share": (0.78, 0.86),     # 82% (ASCOF 2B(1))
    "acute.utilisation": (0.85, 0.98),                # 90-95% at full size (91.8%); a quarter-size ward pools less and runs hotter
    "acute.admissions": (45_000, 60_000),             # a year, whole system
    "community_beds.admissions": (1_600, 2_400),      # ~2,000
    "bedded_placements": (900, 1_500),                # ~1,200
    "long_term.decisions": (5_000, 7_500),            # ~6,000
}
# measure, how, (low, high): Connect against the baseline, paired, mean over the replications
CONNECT_BANDS = (
    ("acute.admissions", "pct_saving", (1.5, 6.0)),             # target 11%; 3.2% at full size (UCR alone cannot reach 11%)
    ("ucr.admissions_avoided", "pct_change", (50.0, 95.0)),     # up 70%
    ("bedded_placements", "pct_saving", (10.0, 35.0)),          # 20% fewer
    ("reablement.admissions", "change", (700.0, 2_500.0)),      # 1,240 more a year
    ("long_term.more_independent", "level", (900.0, 2_000.0)),  # 1,500 a year
    ("cost.system", "saving", (10e6, 90e6)),                    # committed basis, £ a year
    ("first_year.cost.system", "saving", (5e6, 45e6)),          # first-year basis; published £21m-£26m
)


@pytest.fixture(scope="module")
def runs():
    scenarios = validation.load_all(ROOT / "scenarios")
    pair = {name: scenarios[name] for name in ("baseline", "connect")}
    return validation.simulate(pair, REPLICATIONS, workers=1, scale=SCALE)


@pytest.mark.parametrize("measure", [
    pytest.param(m, id=m) for m in sorted(BASELINE_BANDS)
])
def test_baseline_reproduces_the_diagnostic(runs, measure):
    low, high = BASELINE_BANDS[measure]
    assert low <= runs.level("baseline", measure).mean <= high


@pytest.mark.parametrize("measure,how,band", [
    pytest.param(m, how, band, id=f"{m}-{how}")
    for m, how, band in CONNECT_BANDS
])
def test_connect_effect_stays_in_its_band(runs, measure, how, band):
    value = getattr(runs, how)("connect", measure).mean
    assert band[0] <= value <= band[1]


def test_connect_moves_costs_between_payers(runs):
    # UCR and reablement cost more (NHS, council); long-term care costs councils and self-funders less.
    assert runs.change("connect", "cost.urgent_response.nhs").mean > 0
    assert runs.change("connect", "cost.reablement.council").mean > 0
    assert runs.saving("connect", "cost.self_funder").mean > 0
    assert runs.saving("connect", "first_year.cost.system").mean < runs.saving("connect", "cost.system").mean
