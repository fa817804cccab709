"""Long-term care: home care packages and permanent care home places (residential or nursing).

Stays last years, so their cost is counted when a placement starts, for its
whole duration ("committed cost"). For a steady system, a year's committed
cost equals a year's running cost of everyone in long-term care (Little's
law), so it is the annual figure that savings are quoted in; and a placement
avoided this year is counted in full this year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.services.base import Service
from sim.services.workforce import Workforce

if TYPE_CHECKING:
    from sim.patient import Person

FUNDING = ("council", "partial", "self")


class LongTermCare(Service):
    def __init__(self, model, name, config):
        super().__init__(model, name, config.capacity)
        self.duration = Sampler(config.duration_days)
        self.placements = dict.fromkeys(FUNDING, 0)      # started in the measured period, by funding
        self.committed_days = dict.fromkeys(FUNDING, 0.0)

    def episode_days(self, person: "Person") -> float:
        return self.duration.from_z(person.z_long_term_duration)

    def stay(self, person: "Person"):
        days = self.episode_days(person)
        if self.measuring:
            self.placements[person.funding] += 1
            self.committed_days[person.funding] += days
            self.on_placement(person, days)
        yield self.env.timeout(days)
        return "end"

    def on_placement(self, person: "Person", days: float) -> None:
        """Anything else a placement commits (hours of care)."""


class HomeCare(LongTermCare):
    def __init__(self, model, config):
        super().__init__(model, "home_care", config)
        if config.workforce is not None:
            self.slots = Workforce(model.env, self.name, config.workforce, self.episode_days, model.measure_from)
        self.hours_per_week = Sampler(config.hours_per_week)
        self.committed_hours = dict.fromkeys(FUNDING, 0.0)

    def on_placement(self, person: "Person", days: float) -> None:
        weekly = self.hours_per_week.from_z(person.z_home_care_hours) * person.package_factor
        self.committed_hours[person.funding] += weekly * days / 7


class CareHome(LongTermCare):
    """A permanent residential or nursing care home place."""


class Assessment:
    """The social care assessment before a long-term placement, which may find a more independent outcome.

    Not a place anyone holds, so not a Service: it only turns a decision into
    another one and counts how often it did.
    """

    PLACEMENTS = ("home_care", "residential_care", "nursing_care")

    def __init__(self, model, config):
        self.model = model
        self.to_independent = config.home_care_to_independent
        self.to_home_care = config.care_home_to_home_care
        self.decisions = 0            # long-term decisions assessed in the measured period
        self.more_independent = 0     # of which turned into a more independent outcome

    def decide(self, person: "Person", where: str) -> str:
        """Where the person goes instead of `where` (a long-term placement): 'home', 'home_care' or `where`."""
        measuring = self.model.env.now >= self.model.measure_from
        if measuring:
            self.decisions += 1
        share = self.to_independent if where == "home_care" else self.to_home_care
        if person.u_long_term_decision >= share:
            return where
        if measuring:
            self.more_independent += 1
        return "home" if where == "home_care" else "home_care"

