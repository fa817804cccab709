"""What may happen to people later, after they go home: one mechanism as data.

Readmissions, deaths in the weeks after discharge and later entry to
long-term care of people diverted from it are all the same story: someone
goes home from a service or a decision, and after a drawn delay, with a
chance that depends on their need group, goes on to a named service, route
or end. Each entry names where people come from (`after`):

- a service they leave for home (`acute`: people discharged home from acute);
- a route they pass on their way home (`discharge_pathway`);
- a route's destination (`home_care_decision.home`: people an assessment
  sent home instead of to a package).

    afterwards:
      readmitted_after_acute:
        after: [acute]
        to: acute
        chance: {mild: 0.13, moderate: 0.16, severe: 0.2}   # or one number for everyone
        after_days: {dist: lognormal, median: 9, mean: 12}
      care_home_later:
        after: [care_home_decision.home_care]
        to: care_home
        chance: 0.3
        after_days: {dist: lognormal, median: 365, mean: 500}
        ends_placement: true        # applies in the package they went to, and ends it

Entries that apply to a person are drawn independently; the earliest that
happens is what happens (competing risks). With `ends_placement`, an entry
also applies to people who go from there into a long-term placement, whose
placement it ends. The mechanics are in sim/pathway/afterwards.py.
"""

from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Probability, Strict
from sim.scenario.services import Stay


class Afterwards(Strict):
    after: list[str] = Field(min_length=1, description="where people come from: services left for home, routes passed,"
                             " or route.destination")
    to: str = Field(description="where they go when it happens: a service, a route or an end")
    chance: Probability | dict[str, Probability] = Field(description="chance it happens: one for everyone, or by need group")
    after_days: Stay = Field(description="days from going home until it happens")
    ends_placement: bool = Field(False, description="also applies in a long-term placement the person goes to, ending it")
    label: str | None = Field(None, max_length=80)

    def chance_for(self, group: str) -> float:
        return self.chance if isinstance(self.chance, (int, float)) else self.chance.get(group, 0.0)
