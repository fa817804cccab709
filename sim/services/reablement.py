"""Reablement: time-limited support at home (typically up to six weeks) to regain independence.

Capacity is a caseload, or staff visit-hours that taper over each episode
(sim/services/workforce.py). Outcomes: independent, a smaller ongoing package, a
long-term package, a care home, readmission or death. People who leave
independent or with a package count as "at home 91 days after reablement"
(ASCOF 2B(1)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.services.base import Service
from sim.services.workforce import Workforce

if TYPE_CHECKING:
    from sim.patient import Person

AT_HOME = ("independent", "small_package", "home_care")
NEXT = {
    "independent": "home",
    "small_package": "home_care",
    "home_care": "home_care",
    "care_home": "care_home",
    "readmitted": "readmitted",
    "died": "died",
}


class Reablement(Service):
    def __init__(self, model, config, scenario):
        super().__init__(model, "reablement", config.capacity)
        self.los = {
            name: Sampler(config.los_days, group.los_multiplier) for name, group in scenario.need_groups.items()
        }
        self.split = config.outcomes.items()
        self.small_package_factor = config.small_package_factor
        self.outcomes = dict.fromkeys(NEXT, 0)  # for episodes ended in the measured period
        if config.workforce is not None:
            self.slots = Workforce(model.env, self.name, config.workforce, self.episode_days, model.measure_from)

    def episode_days(self, person: "Person") -> float:
        return self.los[person.group].from_z(person.z_reablement_los)

    def stay(self, person: "Person"):
        yield self.env.timeout(self.episode_days(person) - self.stayed_so_far(person))
        outcome = person.choose(self.split, person.u_reablement_outcome)
        if self.measuring:
            self.outcomes[outcome] += 1
        if outcome == "small_package":
            person.package_factor = self.small_package_factor
        return NEXT[outcome]

    @property
    def at_home_share(self) -> float:
        ended = sum(self.outcomes.values())
        return sum(self.outcomes[o] for o in AT_HOME) / ended if ended else float("nan")
