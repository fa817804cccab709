"""One replication: a SimPy environment with the pathway's services, fed by crises, run to the end."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import simpy

from sim import invariants
from sim.collector import collecting_less
from sim.demand import arrival_times, daily_rates
from sim.events import apply_capacity_events
from sim.initial_state import place_initial_state
from sim.patient import People, Person, journey
from sim.places import Places
from sim.result import collect
from sim.scenario import Scenario
from sim.services.acute import Acute
from sim.services.long_term_care import Assessment, CareHome, HomeCare
from sim.services.reablement import Reablement
from sim.services.short_term_beds import ShortTermBeds
from sim.services.urgent_response import UrgentResponse
from sim.streams import Streams


class ServiceSet:
    """The services of one system, by name."""

    NAMES = (
        "urgent_response", "acute", "reablement", "community_beds", "temporary_residential",
        "home_care", "residential_care", "nursing_care",
    )

    def __init__(self, model: "Model", scenario: Scenario):
        s = scenario.services
        self.urgent_response = UrgentResponse(model, s.urgent_response)
        self.acute = Acute(model, s.acute, scenario)
        self.reablement = Reablement(model, s.reablement, scenario)
        self.community_beds = ShortTermBeds(model, "community_beds", s.community_beds, scenario)
        self.temporary_residential = ShortTermBeds(model, "temporary_residential", s.temporary_residential, scenario)
        self.home_care = HomeCare(model, s.home_care)
        self.residential_care = CareHome(model, "residential_care", s.residential_care)
        self.nursing_care = CareHome(model, "nursing_care", s.nursing_care)

    def __iter__(self):
        return (getattr(self, name) for name in self.NAMES)


class Flows:
    """People moving from one step to the next in the measured period (for the Sankey)."""

    def __init__(self, model: "Model"):
        self.env = model.env
        self.measure_from = model.measure_from
        self.counts: Counter = Counter()

    def count(self, source: str, target: str) -> None:
        if self.env.now >= self.measure_from:
            self.counts[(source, target)] += 1


@dataclass
class Census:
    """Everyone who entered the model, and where they are now (conservation of people)."""

    entered: int = 0
    inside: int = 0
    left_home: int = 0
    died: int = 0
    long_term_care_ended: int = 0

    def leave(self, how: str) -> None:
        self.inside -= 1
        if how == "home":
            self.left_home += 1
        elif how == "died":
            self.died += 1
        else:
            self.long_term_care_ended += 1


class Model:
    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None):
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.run.seed if seed is None else seed
        self.env = simpy.Environment()
        self.measure_from = float(scenario.run.warmup_days)
        self.end = self.measure_from + scenario.run.horizon_days
        self.streams = Streams(self.seed, replication)
        self.services = ServiceSet(self, scenario)
        self.assessment = Assessment(self, scenario.long_term_decisions)
        self.people = People(self)
        self.flows = Flows(self)
        self.census = Census()
        self.crises = 0  # in the measured period
        self.care_home_split = scenario.discharge.care_home.items()
        referral = scenario.referral
        self.refer_suitable = min(1.0, referral.ucr_share_suitable * referral.multiplier)
        self.refer_unsuitable = min(1.0, referral.ucr_share_unsuitable * referral.multiplier)
        self.days = int(math.ceil(self.end))
        self.rates = daily_rates(scenario, self.days + 1)
        self.daily = np.zeros((self.days, len(ServiceSet.NAMES), 3))
        self.places = Places(self)

    # --- decisions the model makes for a person ----------------------------------

    def referred_to_ucr(self, person: Person) -> bool:
        share = self.refer_suitable if person.ucr_suitable else self.refer_unsuitable
        return person.u_refer < share

    def leave(self, person: Person, how: str) -> None:
        self.census.leave(how)
        self.places.left(person, how)

    # --- processes --------------------------------------------------------------------

    def _crises(self):
        env, people, census, places = self.env, self.people, self.census, self.places
        arrivals = self.streams.uniform("arrivals")
        for t in arrival_times(self.rates, arrivals, self.end):
            yield env.timeout(t - env.now)
            person = people.new(places.arrive())
            census.entered += 1
            census.inside += 1
            if t >= self.measure_from:
                self.crises += 1
            env.process(journey(self, person))

    def _census_each_day(self):
        """Occupancy, queue and capacity of every service at the start of each day."""
        services = list(self.services)
        for day in range(self.days):
            yield self.env.timeout(day - self.env.now)
            row = self.daily[day]
            for i, service in enumerate(services):
                slots = service.slots
                row[i, 0] = slots.in_use
                row[i, 1] = len(slots.queue)
                row[i, 2] = slots.capacity

    def run(self):
        if self.scenario.initial_state:
            place_initial_state(self)
        self.env.process(self._crises())
        # Before the census, so that the census of a day shows that day's capacity changes.
        self.env.process(apply_capacity_events(self))
        self.env.process(self._census_each_day())
        if self.places.many:
            self.env.process(self.places.census_each_day())
        with collecting_less():
            self.env.run(until=self.end)
        self.places.close()
        result = collect(self)
        invariants.check(self, result)
        return result


def run_replication(scenario: Scenario, replication: int = 0, seed: int | None = None):
    """Run one replication of a scenario and return its ReplicationResult."""
    return Model(scenario, replication, seed).run()
