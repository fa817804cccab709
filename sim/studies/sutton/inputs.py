"""What the Sutton scenarios rest on: figures found (with source and year) and assumptions (with a range).

The scenarios' own `sources:` say the same field by field; this table is what docs/sutton.md shows and
what a sensitivity analysis over the Sutton scenarios should move: each assumption's `field` is a dotted
path of the scenario (Scenario.with_changes) and `low`/`high` the ends of its range. Nothing here is a
figure the alliance reported: those are validation targets (sim/studies/sutton/validation.py).
"""

from __future__ import annotations

from typing import NamedTuple


class Found(NamedTuple):
    figure: str
    value: str
    source: str          # who published it, and when
    used_for: str


class Assumption(NamedTuple):
    label: str
    scenario: str        # baseline or alliance
    field: str           # dotted path in that scenario
    value: float
    low: float
    high: float
    why: str


FOUND = (
    Found("Sutton residents", "209,600", "Census 2021, via data.sutton.gov.uk Market Position Statement key data (2023)",
          "Sutton's share of the trust's catchment (about 42%)"),
    Found("Sutton residents aged 60+", "42,300 (2021)", "Greater London Authority projections, Jan 2023, via data.sutton.gov.uk",
          "context; no 65+ count was found, about 31,000 is taken (15% of residents, borough profile c.2017)"),
    Found("Unplanned hospital admissions, all ages / 75+", "16,160 / 5,656 (2012/13)",
          "Joint Strategy for Health and Social Care in Sutton, NHS Sutton CCG and LB Sutton, 2014 ('Key health facts')",
          "the admissions target: 65+ about 7,800 a year by 2017/18 (derived, range 6,500-9,000)"),
    Found("Epsom and St Helier beds and catchment", "about 892 beds, about 497,000 people (2019)",
          "Care Quality Commission, trust inspection summary, Sept 2019", "check on the acute capacity (about 205 beds for Sutton's 65+ emergencies)"),
    Found("START reablement activity", "1,522 referrals, 1,194 people, ~50,000 hours, 91,000+ visits (2019/20); 1,705 referrals (2020/21)",
          "Sutton Council Local Account 2019/20 and 2020/21 (sutton.gov.uk, Dec 2020 and Dec 2021)",
          "START as visit-hours (capacity, hours an episode) and its community referrals"),
    Found("START service", "7am-11pm every day; up to six weeks, often one to three", "sutton.gov.uk START pages",
          "reablement as a `visits` service"),
    Found("Council-supported permanent care home admissions", "107 (2019/20), 96 (2020/21)",
          "Sutton Council Local Account 2020/21 (sutton.gov.uk, 13 Dec 2021)", "calibration of care home decisions"),
    Found("Care homes in Sutton", "29 residential and nursing homes for older people (2016-17); 74 CQC-registered homes for all adults (2023)",
          "Health Foundation Improvement Analytics Unit, Sutton Homes of Care evaluation (2019); data.sutton.gov.uk (Dec 2023)",
          "context: care homes are not capacity-limited in the model (no count of places was found)"),
    Found("Sutton Health and Care at Home", "live April 2018; community services hosted by the alliance from April 2019",
          "sutton.gov.uk, 'Future of community services in Sutton', 11 May 2018", "the alliance scenario's start"),
    Found("Council locality teams", "Wallington, Carshalton, Sutton, Cheam (from June 2024), mirroring the integrated neighbourhood groups",
          "sutton.gov.uk, 'Adult social care transformation', 19 June 2024", "scenarios/sutton/neighbourhoods.yaml"),
)

NOT_FOUND = (
    "Sutton's population aged 65+ for 2017/18 (ONS mid-year estimate): about 31,000 assumed (range 29,000-34,000)",
    "Non-elective admissions of Sutton residents aged 65+ (HES / SUS): derived from the 2012/13 75+ figure",
    "NHS England KH03 bed availability and occupancy for Epsom and St Helier by year: 90-95% assumed",
    "Rapid response team size, intermediate care beds and temporary residential beds for Sutton",
    "Sutton's ASCOF 2B(1) value (at home 91 days after reablement) by year: England's ~82% used",
    "Sutton's share of self-funders in care homes and home care: 35% assumed",
    "London unit costs (PSSRU London multipliers, market forces factor): national costs used, +20% as a sensitivity",
    "The alliance's own report of its first year (the four figures are quoted from the project's seed documents)",
    "65+ population and capacity per neighbourhood (locality)",
)

ASSUMPTIONS = (
    Assumption("Crises of people 65+ a year", "baseline", "demand.crises_per_year", 7150, 5950, 8250,
               "calibrated to the derived 7,800 admissions; range follows the admissions range 6,500-9,000"),
    Assumption("Self-funder share", "baseline", "funding.self_funder_share", 0.35, 0.25, 0.45,
               "no Sutton or London figure found; Essex is 0.45"),
    Assumption("Rapid response teams at once (before)", "baseline", "services.urgent_response.capacity", 3, 2, 5,
               "MSE's 20 scaled by size"),
    Assumption("Acute beds for Sutton's 65+ emergencies", "baseline", "services.acute.capacity", 240, 205, 260,
               "calibrated to ~90% occupancy; derived check ~205 from CQC 2019 bed count"),
    Assumption("START visit-hours a day (before)", "baseline", "services.reablement.workforce.visit_hours_per_day",
               140, 120, 160, "calibrated: 50,000 hours a year delivered, 85% for 65+ (range 75-95%), ~85-90% of what staff can give"),
    Assumption("START referrals from the community a day", "baseline", "arrivals.reablement.per_day", 1.5, 1.0, 2.0,
               "1,522 referrals x 85% 65+ less the ~750 the pathway sends"),
    Assumption("Intermediate care beds", "baseline", "services.community_beds.capacity", 50, 35, 65,
               "MSE's 310 scaled by admissions"),
    Assumption("Temporary residential beds", "baseline", "services.temporary_residential.capacity", 13, 8, 18,
               "MSE's 88 scaled by admissions"),
    Assumption("Rapid response teams at once (alliance)", "alliance", "services.urgent_response.capacity", 4, 3, 6,
               "the integrated team adds one; no published team size"),
    Assumption("Referrals to rapid response (x, alliance)", "alliance", "routes.crisis.scale.urgent_response",
               1.3, 1.1, 1.5, "single point of access; not set from the reported -1% admissions"),
    Assumption("START visit-hours a day (alliance)", "alliance", "services.reablement.workforce.visit_hours_per_day",
               160, 140, 180, "community nursing and therapy join the team: +15% (range 0-30%)"),
    Assumption("START first-day visit-hours (alliance)", "alliance", "services.reablement.workforce.first_day_hours",
               2.7, 2.4, 3.2, "assessment at home adds 0.3 hours on the first day (range 0-0.8)"),
)
