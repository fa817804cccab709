"""Short-term beds (discharge pathway 2): community hospital beds and temporary residential placements.

Bed-based rehabilitation or assessment for weeks. Leaving needs a destination:
home, home with reablement, a care package, or a care home; a person whose
destination is full waits in the bed. From a temporary residential placement
"care_home" means the person stays on permanently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.services.base import Service

if TYPE_CHECKING:
    from sim.patient import Person

HOME_OUTCOMES = ("home", "reablement", "home_care")


class ShortTermBeds(Service):
    def __init__(self, model, name, config, scenario):
        super().__init__(model, name, config.beds)
        self.los = {
            gname: Sampler(config.los_days, group.los_multiplier) for gname, group in scenario.need_groups.items()
        }
        self.split = config.outcomes.items()
        self.process = Sampler(config.discharge_process_days) if config.discharge_process_days else None
        self.outcomes = {name: 0 for name, _ in self.split}  # for stays ended in the measured period

    def stay(self, person: "Person"):
        yield self.env.timeout(self.los[person.group].from_z(person.z_bed_los) - self.stayed_so_far(person))
        if self.process is not None:
            yield from self.process_delay(person, self.process.from_z(person.z_bed_process))
        outcome = person.choose(self.split, person.u_bed_outcome)
        if self.measuring:
            self.outcomes[outcome] += 1
        return outcome

    @property
    def home_share(self) -> float:
        ended = sum(self.outcomes.values())
        return sum(self.outcomes[o] for o in HOME_OUTCOMES) / ended if ended else float("nan")
