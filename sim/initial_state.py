"""Starting a run from today's occupancy and queues instead of from empty.

The scenario's `initial_state:` gives, per service, how many people hold a
place and how many wait for one when the simulation starts. Each person is
made with luck from their own streams ("initial.<service>.<draw>"), so
placing them shifts none of the draws of the crises that arrive later.

How long is left of a stay found under way? Not a fresh length of stay: a
census finds long stays more often than short ones, because they are there
for longer. For a service in steady state (a stationary renewal process),
the full stay of someone found in service follows the length-biased
distribution, density s f(s) / E[S], and the time already spent is a uniform
fraction of it; the remaining stay then has mean E[S^2] / (2 E[S]). That is
what this module draws. The length-biased stay is drawn exactly:

- lognormal(mu, sigma) becomes lognormal(mu + sigma^2, sigma), a shift of the
  normal score by sigma;
- gamma(k, theta) becomes gamma(k + 1, theta) (exponential: k = 1);
- an empirical distribution's weights are multiplied by the values;
- a fixed stay stays fixed.

The group mix of people found in a service is length-biased too: groups in
proportion to how many of them enter (their share of crises, times the share
of their acute discharges on the pathway that leads there) and to how long
they stay (their length-of-stay multiplier).

Simplifications, all small beside an empty start: the time already spent is
counted against the length of stay only (not the discharge process that
follows it), people in an acute bed waiting to move on are counted as
occupying it and get a remaining stay like anyone else, and people waiting
have their wait counted from the start of the run.

Long-term care placements found at the start are not new placements: their
committed cost was counted before the run (sim/services/long_term_care.py),
so they only hold a place until their placement ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.distributions import Sampler
from sim.pathway.initial_state import length_biased_z
from sim.patient import Luck, journey, replace_draw
from sim.places import SYSTEM

if TYPE_CHECKING:
    from sim.model import Model
    from sim.patient import Person
    from sim.scenario import Scenario
    from sim.services.base import Service

# The normal score each service turns into a length of stay.
LOS_DRAW = {
    "acute": "z_acute_los",
    "reablement": "z_reablement_los",
    "community_beds": "z_bed_los",
    "temporary_residential": "z_bed_los",
    "home_care": "z_long_term_duration",
    "residential_care": "z_long_term_duration",
    "nursing_care": "z_long_term_duration",
}
LONG_TERM = ("home_care", "residential_care", "nursing_care")
# The discharge pathway from acute that leads into each service.
PATHWAY_INTO = {
    "reablement": "P1", "home_care": "P1",
    "community_beds": "P2", "temporary_residential": "P2",
    "residential_care": "P3", "nursing_care": "P3",
}
def group_mix(scenario: "Scenario", service: str) -> list[tuple[str, float]]:
    """Need groups among the people found in a service: by how many enter it and how long they stay."""
    pathway = PATHWAY_INTO.get(service)
    weights = {}
    for name, group in scenario.need_groups.items():
        weight = group.share
        if pathway is not None:
            weight *= (1.0 - group.acute_death) * getattr(group.discharge_pathway, pathway)
        if service not in LONG_TERM:  # long-term durations do not depend on the group
            weight *= group.los_multiplier
        weights[name] = weight
    total = sum(weights.values())
    if total == 0:  # nobody reaches it from acute: people come another way, in the crisis mix
        return [(name, group.share) for name, group in scenario.need_groups.items()]
    return [(name, weight / total) for name, weight in weights.items()]


def _sampler(service: "Service", person: "Person") -> Sampler:
    return service.duration if service.name in LONG_TERM else service.los[person.group]


def place_initial_state(model: "Model") -> None:
    """Put the scenario's initial state into the model at time 0, before any crisis arrives."""
    env, census, people = model.env, model.census, model.people
    for name, state in model.scenario.initial_state.items():
        service = getattr(model.services, name)
        prefix = f"initial.{name}."
        luck = Luck(model.streams, prefix)
        length = model.streams.uniform(prefix + "length_biased")
        elapsed = model.streams.uniform(prefix + "elapsed")
        groups = group_mix(model.scenario, name)
        for _ in range(state.occupied):
            person = people.new(SYSTEM, luck, groups)
            sampler = _sampler(service, person)
            z = length_biased_z(sampler.spec, length())
            replace_draw(person, LOS_DRAW[name], z)
            full = sampler.from_z(z)
            service.slots.request(person)  # granted at once: the scenario checked occupied <= capacity
            person.entered_at = -elapsed() * full
            service.days_before_start -= person.entered_at
            census.entered += 1
            census.inside += 1
            env.process(_rest_of_stay(model, person, service, full))
        for _ in range(state.waiting):
            person = people.new(SYSTEM, luck, groups)
            census.entered += 1
            census.inside += 1
            env.process(journey(model, person, "hospital" if name == "acute" else name))


def _rest_of_stay(model: "Model", person: "Person", service: "Service", full: float):
    """What is left of a stay under way at the start, then the journey onwards as for anyone."""
    if service.name in LONG_TERM:
        yield model.env.timeout(full + person.entered_at)
        service.left(person)
        model.leave(person, "end")
        return
    if service.name == "acute":
        yield from journey(model, person, "acute", service)
        return
    where = yield from service.stay(person)
    yield from journey(model, person, where, service)
