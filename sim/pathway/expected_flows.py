"""How many people of each need group reach each service a day, found by following the route tables.

People enter where the scenario says (crises at `demand.enters`, arrivals
straight into a service or route), each place with its own need-group mix.
From there every route is a table of probabilities by group, place and trait,
and every service leads on to its `then`. The expected visits to each step
solve v = e + v P (e: people entering a day, P: the chance of going from one
step to the next), so routes that come back (a readmission) are counted as
often as people go round them. Traits are what the model draws for a group
(`Model._traits`, in dependency order), so a route by trait splits each group
by the exact chance of each set of traits.

What it leaves out is what only queues decide: people who find no response
team in time go to its `give_up_to`, not its `then`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.pathway import arrivals as arrivals_
from sim.pathway.routing import _table
from sim.scenario.routes import ENDS

if TYPE_CHECKING:
    from sim.pathway.model import Model


def trait_sets(model: "Model", group: str) -> dict[frozenset[str], float]:
    """The chance of each set of traits a person of `group` is drawn with (as `Model._draw_traits` draws)."""
    sets = {frozenset(): 1.0}
    for name, _, shares, given, also_if in model._traits:
        share = shares.get(group, 0.0)
        nxt: dict[frozenset[str], float] = {}
        for has, p in sets.items():
            drawn = share if share > 0 and (given is None or given in has) else 0.0
            if also_if and not has.isdisjoint(also_if):
                drawn = 1.0
            for with_it, q in ((has | {name}, p * drawn), (has, p * (1.0 - drawn))):
                if q > 0:
                    nxt[with_it] = nxt.get(with_it, 0.0) + q
        sets = nxt
    return sets


def _entries(model: "Model") -> dict[str, dict[str, float]]:
    """place -> step -> people entering there a day (crises and arrivals straight in)."""
    scenario = model.scenario
    days = max(model.days, 1)
    out: dict[str, dict[str, float]] = {p: {} for p in model.places}
    crises = float(np.mean(arrivals_.crisis_rates(scenario, days)))
    if crises > 0:
        shares = arrivals_.place_shares(scenario)
        total = sum(shares.values()) or 1.0
        enters = scenario.demand.enters
        for place in model.places:
            out[place][enters] = out[place].get(enters, 0.0) + crises * shares.get(place, 0.0) / total
    for place, target, rates in arrivals_.direct_by_place(scenario, days):
        out[place][target] = out[place].get(target, 0.0) + float(np.mean(rates))
    return out


def _shares(table: list) -> dict[str, float]:
    """Each destination's probability, from a cumulative table."""
    out, below = {}, 0.0
    for row in table:
        out[row[0]] = out.get(row[0], 0.0) + row[1] - below
        below = row[1]
    return out


def visits(model: "Model") -> dict[str, dict[str, dict[str, float]]]:
    """place -> need group -> service -> people of that group starting a stay there a day."""
    scenario, router = model.scenario, model.router
    services = list(scenario.services)
    steps = list(router.tables) + services + list(ENDS)
    index = {s: i for i, s in enumerate(steps)}
    then = {name: spec.then for name, spec in scenario.services.items()}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for place, entries in _entries(model).items():
        out[place] = {}
        group_shares = _shares(model._groups[place])
        for group, share in group_shares.items():
            seen = np.zeros(len(steps))
            for traits, chance in trait_sets(model, group).items():
                person = SimpleNamespace(group=group, place=place, traits=traits)
                moves = np.zeros((len(steps), len(steps)))
                for route, choice in router.tables.items():
                    for dest, p in _shares(_table(choice, person)).items():
                        moves[index[route], index[dest]] += p
                for name in services:
                    if then[name] is not None:
                        moves[index[name], index[then[name]]] = 1.0
                entering = np.zeros(len(steps))
                for step, per_day in entries.items():
                    entering[index[step]] += per_day * share * chance
                # v (I - P) = e, solved as (I - P)^T v = e
                seen += np.linalg.solve((np.eye(len(steps)) - moves).T, entering)
            out[place][group] = {name: float(seen[index[name]]) for name in services}
    return out
