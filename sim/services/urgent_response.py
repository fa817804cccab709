"""Urgent community response (UCR): a two-hour crisis response at home.

A referred person waits for a free team. If none is free within the give-up
time they go to hospital instead (an admission UCR could not avoid for want of
capacity). A team travels, assesses, and either keeps the person at home for
up to about two days or hands them over to hospital.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.services.base import Service

if TYPE_CHECKING:
    from sim.patient import Person

HOURS = 1 / 24


class UrgentResponse(Service):
    def __init__(self, model, config):
        super().__init__(model, "urgent_response", config.capacity)
        self.config = config
        self.give_up = config.give_up_hours * HOURS
        self.target = config.target_hours * HOURS
        self.travel = Sampler(config.travel_hours)
        self.duration = Sampler(config.duration_days)
        self.assessment = config.unsuitable_assessment_hours * HOURS
        self.after_success = config.after_success.items()
        # counted in the measured period
        self.referrals = 0
        self.no_team_in_time = 0
        self.responses = 0
        self.within_target = 0
        self.response_hours: list[float] = []
        self.kept_home = 0
        self.handed_over = 0

    def respond(self, person: "Person"):
        """Returns 'hospital', or where the person goes at home: 'home', 'reablement' or 'home_care'."""
        env, measuring = self.env, self.measuring
        if measuring:
            self.referrals += 1
        asked = env.now
        place = self.slots.request(person)
        if not place.triggered:
            yield place | env.timeout(self.give_up)
            if not place.triggered:
                self.slots.cancel(place)
                if measuring:
                    self.no_team_in_time += 1
                return "hospital"
        waited = env.now - asked
        self.entered(person, waited)
        yield env.timeout(self.travel.from_z(person.z_ucr_travel) * HOURS)
        if measuring:
            self.responses += 1
            response = env.now - asked
            self.response_hours.append(response * 24)
            if response <= self.target:
                self.within_target += 1
        if person.ucr_would_succeed:
            yield env.timeout(self.duration.from_z(person.z_ucr_duration))
            self.left(person)
            if measuring:
                self.kept_home += 1
            return person.choose(self.after_success, person.u_ucr_after)
        yield env.timeout(self.assessment)
        self.left(person)
        if measuring:
            self.handed_over += 1
        return "hospital"
