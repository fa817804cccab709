"""Economics a reviewer accepts: who pays, in which year, in pounds of one price year, net of what the change costs.

- perspectives.py: NHS, council adult social care, the two together (NHS and personal social services, the
  NICE reference case), and self-funders, reported apart as private spending and never in a system total.
- prices.py: every unit cost inflated to the scenario's price year with the published index
  (sim/scenario/price_index.csv), and the table of costs with source, year and inflated value.
- discounting.py: discount factors (mid-year and mid-day conventions) and the annuity that checks them.
- lines.py: each cost line of a run read as cash (a budget pays it that year), capacity (beds and staff paid
  for anyway) or committed (the lifetime cost of placements started: the economic view, never cash).
- programme.py: what the change costs, a year, by payer (capacity whether used or not, running, one-off).
- impact.py: the budget impact, year by year and by perspective, cash-releasing savings, capacity freed, investment and
  the net, each with its 95% interval over replications paired by common random numbers; the discounted
  view over the horizon and the lifetime of new placements; return on investment.
- headlines.py: the one definition of each headline figure (per year), and whether a comparison is valid.
"""

from sim.economics.headlines import comparison
from sim.economics.impact import budget_impact, capacity_freed, economic_summary

__all__ = ["budget_impact", "capacity_freed", "comparison", "economic_summary"]
