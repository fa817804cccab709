"""Starting a run from the state a service is found in: people holding places, and people waiting.

The scenario's `initial_state:` gives, per service (and per place), how many
people hold a place and how many wait for one when the simulation starts.
People found holding a place are put in first, even above capacity (the
service then drains as they leave); then people waiting ask for a place like
anyone, so those who find one free are served at once. A capacity event on
the first day applies to them too.

How long is left of a stay found under way? A census finds long stays more
often than short ones, so the full stay of someone found in service follows
the length-biased distribution (density s f(s) / E[S]) and the time already
spent is a uniform fraction of it; the remaining stay then has mean
E[S^2] / (2 E[S]). The length-biased stay is drawn exactly:

- lognormal(mu, sigma) becomes lognormal(mu + sigma^2, sigma), a shift of the
  normal score by sigma;
- gamma(k, theta) becomes gamma(k + 1, theta) (exponential: k = 1);
- an empirical distribution's weights are multiplied by the values;
- weibull(k, scale): (S/scale)^k becomes gamma(1 + 1/k, 1);
- a fixed stay stays fixed.

Need groups among people found in a service are the mix the routes send
there (sim/pathway/expected_flows.py follows the route tables from where
people enter, each place with its own mix, weighted by how many enter there),
each weighted by the group's length-of-stay multiplier there (longer stays are
found more often). Each service's people are their own family of draws
("initial.<service>.<place>"), so placing them shifts no crisis's luck.
Long-term placements found at the start committed their cost before the
run: they only hold a place until they end.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy import special

from sim.random.distributions import Empirical, Exponential, Fixed, Gamma, Lognormal, Weibull
from sim.pathway import expected_flows
from sim.pathway.arrivals import place_shares
from sim.pathway.capacity import apportion
from sim.pathway.journey import journey, rest_of_stay
from sim.scenario.services import stay_of

if TYPE_CHECKING:
    from sim.pathway.model import Model

# Normal scores are kept inside +-8 (a chance of 1e-15): a stay must be finite.
Z_LIMIT = 8.0


def length_biased_z(spec, u: float) -> float:
    """The normal score of a full stay drawn from the length-biased form of `spec`, given a uniform u.

    The score is what the service's sampler turns into days, so the stay
    keeps the scenario's distribution (and a need group's multiplier).
    """
    u = min(max(u, 1e-300), 1.0 - 1e-16)
    if isinstance(spec, Lognormal):
        z = special.ndtri(u) + spec.mu_sigma[1]
    elif isinstance(spec, (Exponential, Gamma)):
        shape = 1.0 if isinstance(spec, Exponential) else (spec.mean_ / spec.sd) ** 2
        x = special.gammaincinv(shape + 1.0, u)          # in units of the scale
        z = -special.ndtri(special.gammaincc(shape, x))  # the upper tail keeps long stays precise
    elif isinstance(spec, Weibull):
        x = special.gammaincinv(1.0 + 1.0 / spec.shape, u)  # (S/scale)^shape of a length-biased stay
        z = -special.ndtri(math.exp(-x))
    elif isinstance(spec, Empirical):
        weights = spec.weights or [1.0] * len(spec.values)
        biased = [w * v for w, v in zip(weights, spec.values)]
        total = sum(biased)
        if total == 0:
            return 0.0
        target, running, index = u * total, 0.0, len(biased) - 1
        for i, b in enumerate(biased):
            running += b
            if target < running:
                index = i
                break
        # The middle of the value's own band of probability maps back to it.
        below = sum(weights[:index]) / sum(weights)
        z = special.ndtri(below + weights[index] / sum(weights) / 2)
    elif isinstance(spec, Fixed):
        return 0.0
    else:  # pragma: no cover - a new distribution must say how it is length-biased
        raise TypeError(f"no length-biased form for {type(spec).__name__}")
    return float(min(max(z, -Z_LIMIT), Z_LIMIT))


def states(model: "Model"):
    """(service, place, occupied, waiting) for every unit the scenario starts with people in."""
    scenario = model.scenario
    out = []
    first = scenario.place_names[0]
    system = scenario.active_initial_state()
    for service, state in system.items():
        if scenario.places and model.sharing.get(service) != "pooled":
            # A system-wide state of a local service is shared among places as capacity is; a service with no
            # limit anywhere (long-term care) as its people come, by the places' shares of demand.
            total = {p: model.units[service][p].slots.capacity for p in model.places}
            finite = {p: c for p, c in total.items() if c != float("inf")}
            demand = place_shares(scenario)
            if len(finite) == len(total) and sum(finite.values()):
                weights = finite
            elif not finite and sum(demand.values()):
                weights = demand
            else:
                weights = {p: 1.0 for p in total}
            from_capacity = apportion(state.occupied, weights, True), apportion(state.waiting, weights, True)
            for p in model.places:
                out.append((service, p, from_capacity[0][p], from_capacity[1][p]))
        else:
            out.append((service, first, state.occupied, state.waiting))
    for place, spec in scenario.places.items():
        for service, state in spec.initial_state.items():
            if state is not None:
                out.append((service, place, state.occupied, state.waiting))
    return out


def _groups(model: "Model", unit, reaching: dict | None = None) -> list[tuple[str, float]]:
    """The need-group table of people found in `unit`: who the routes send there, times how long they stay.

    `reaching` is `expected_flows.visits(model)`, if already worked out.
    """
    scenario = model.scenario
    reaching = expected_flows.visits(model) if reaching is None else reaching
    places = model.places if unit.place not in reaching else [unit.place]  # a pooled unit serves every place
    weights = {g: sum(reaching[p][g][unit.name] for p in places)
                  * (grp.los_multiplier if unit.spec.group_multiplier else 1.0)
               for g, grp in scenario.need_groups.items()}
    if not sum(weights.values()):  # nobody reaches it on the routes: the crisis mix, weighted by stay
        weights = {g: grp.share * (grp.los_multiplier if unit.spec.group_multiplier else 1.0)
                   for g, grp in scenario.need_groups.items()}
    total, running, table = sum(weights.values()), 0.0, []
    for g, w in sorted(weights.items()):
        running += w
        table.append((g, running / total))
    return table


def place_initial_state(model: "Model") -> None:
    """Put the scenario's initial state into the model at time 0, before anyone arrives."""
    env = model.env
    found = states(model)
    reaching = expected_flows.visits(model) if found else None
    for service, place, occupied, waiting in found:
        unit = model.units[service][place]
        family = model.family(f"initial.{service}.{place}")
        groups = _groups(model, unit, reaching)
        spec = stay_of(unit.spec)
        for _ in range(occupied):
            person = model.new_person(family, place, groups)
            z = length_biased_z(spec, family.uniform("length_biased", person.index))
            family.set_normal(unit.stream_stay, person.index, z)
            full = unit.length_of_stay(person)
            person.entered_at = -family.uniform("elapsed", person.index) * full
            unit.days_before_start -= person.entered_at
            unit.slots.occupy_at_start(person)
            unit.occupied_at_start += 1
            env.process(rest_of_stay(model, person, unit))
        for _ in range(waiting):
            person = model.new_person(family, place, groups)
            env.process(journey(model, person, service, "initial state", decided=True))
