"""Acute hospital beds: an emergency admission, the stay until no criteria to reside, the discharge decision.

With no free bed the person waits in the emergency department (ED boarding).
Once medically fit they are given a discharge pathway (P0 to P3); if their
destination is full they wait here, in an acute bed, as a delayed discharge
(counted by the patient journey through `start_delay`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.services.base import Service

if TYPE_CHECKING:
    from sim.patient import Person

PATHWAYS = ("P0", "P1", "P2", "P3")


class Acute(Service):
    def __init__(self, model, config, scenario):
        super().__init__(model, "acute", config.beds)
        self.los = {
            name: Sampler(config.los_days, group.los_multiplier) for name, group in scenario.need_groups.items()
        }
        self.pathway_split = {
            name: group.discharge_pathway.items() for name, group in scenario.need_groups.items()
        }
        self.death = {name: group.acute_death for name, group in scenario.need_groups.items()}
        self.process = Sampler(config.discharge_process_days) if config.discharge_process_days else None
        self.route = {
            "P1": scenario.discharge.pathway_1.items(),
            "P2": scenario.discharge.pathway_2.items(),
        }
        # counted in the measured period
        self.ed_attendances = 0
        self.readmissions = 0
        self.pathways = dict.fromkeys(PATHWAYS, 0)
        self.deaths = 0
        self.avoidable_by_ucr = 0
        self.avoidable_any = 0
        self.fit_days = 0.0  # days of the stays that ended in the period, before the person was fit to leave

    def arrive(self, person: "Person", readmission: bool = False):
        """From the ED door to a bed: waits (boarding) while every bed is taken."""
        env = self.env
        arrived = env.now
        if arrived >= self.measure_from:
            self.ed_attendances += 1
            if readmission:
                self.readmissions += 1
        bed = self.slots.request(person)
        if not bed.triggered:  # a free bed: carry on now rather than through SimPy's event queue
            yield bed
        admitted = env.now
        self.entered(person, admitted - arrived)
        if admitted >= self.measure_from:
            if person.ucr_would_succeed:
                self.avoidable_by_ucr += 1
            if person.ucr_would_succeed or person.avoidable_other:
                self.avoidable_any += 1

    def stay(self, person: "Person"):
        group = person.group
        fit_after = self.los[group].from_z(person.z_acute_los)
        yield self.env.timeout(fit_after - self.stayed_so_far(person))
        measuring = self.env.now >= self.measure_from
        if measuring:
            self.fit_days += fit_after
        if person.u_acute_death < self.death[group]:
            if measuring:
                self.deaths += 1
            return "died"
        pathway = person.choose(self.pathway_split[group], person.u_pathway)
        if measuring:
            self.pathways[pathway] += 1
        person.pathway = pathway
        if pathway == "P0":
            return "home"
        if self.process is not None:
            yield from self.process_delay(person, self.process.from_z(person.z_acute_process))
        if pathway == "P3":
            return "care_home"
        return person.choose(self.route[pathway], person.u_pathway_route)
