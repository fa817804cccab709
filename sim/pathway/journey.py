"""A person's journey, as one SimPy process: decide where next, wait for a slot, stay, move on.

Between services the rule is blocking: a person waits for their next slot
in the slot they hold (a delayed discharge, counted by what they wait for),
and only then lets it go; unless the next service says its people wait
apart (`waiting: apart`, as people wait in ED for an acute bed), or the
service they leave does not stay with them while they wait (a response team).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.pathway.person import Person
from sim.pathway.routing import is_end

if TYPE_CHECKING:
    from sim.pathway.kinds import Unit
    from sim.pathway.model import Model


def journey(model: "Model", person: Person, step: str, source: str, holding: "Unit | None" = None,
            decided: bool = False):
    """From `step` (a route, a service or an end; `decided`: already a service or an end) onwards."""
    env, router = model.env, model.router
    if not decided:
        step, _ = router.follow(person, step, source)
    while True:
        if is_end(step):
            if holding is not None:
                holding.left(person)
            if step == "home" and model.later is not None:  # something may happen to them later
                later = yield from model.later.at_home(person, holding.name if holding is not None else None)
                if later is not None:
                    step, holding = later, None
                    continue
            model.leave(person, step)
            return
        if holding is not None and (model.waits_apart[step] or not holding.holds_while_waiting):
            # People wait for this service apart from where they were (for an acute bed, in ED), or
            # what they held does not stay with them (a response team leaves): it is free at once.
            holding.left(person)
            holding = None
        unit, request = model.request_slot(step, person)
        person.asked_at = env.now
        if not request.triggered:
            admitted = yield from model.wait_for_slot(unit, person, holding, request)
            if admitted is None:  # no slot in time (a response team): on to where such people go
                step, _ = router.follow(person, unit.spec.give_up_to, unit.name)
                continue
            unit = admitted
        came_from = holding.name if holding is not None else None
        if holding is not None:
            holding.left(person)
        unit.entered(person, env.now - person.asked_at)
        holding = unit
        if model.later is not None and unit.kind == "long_term":  # a placement something later may end
            step = yield from model.later.placement(unit, person, came_from)
        else:
            step = yield from unit.stay(person)


def rest_of_stay(model: "Model", person: Person, unit: "Unit"):
    """Someone found in a service at the start: the rest of their stay, then on like anyone."""
    step = yield from unit.stay(person)
    yield from journey(model, person, step, unit.name, unit, decided=True)
