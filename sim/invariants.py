"""Checks every replication must pass before its numbers are used (see docs/reliability.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import Model


class InvariantError(RuntimeError):
    """A replication broke a rule the model must keep: its numbers cannot be trusted."""


def check(model: "Model") -> int:
    """Raise InvariantError naming the first broken invariant; return how many were checked."""
    checked = 0
    census = model.census
    left = census.left_home + census.died + census.long_term_care_ended
    checked += 1
    if census.entered != left + census.inside:
        raise InvariantError(
            f"conservation of people: {census.entered} entered but {left} left and {census.inside} are inside"
        )
    for service in model.services:
        slots = service.slots
        checked += 2
        if slots.granted != slots.released + slots.in_use:
            raise InvariantError(
                f"{service.name}: {slots.granted} admitted but {slots.released} left and {slots.in_use} inside"
            )
        if slots.requested != slots.granted + slots.cancelled + len(slots.queue):
            raise InvariantError(f"{service.name}: requests do not add up to admitted + withdrawn + waiting")
        checked += 1
        if slots.over_capacity:
            raise InvariantError(f"{service.name}: {slots.over_capacity} people admitted above capacity")
        checked += 1
        if any(s < 0 for s in service.stays) or any(w < 0 for w in service.waits_to_enter):
            raise InvariantError(f"{service.name}: a negative length of stay or wait")
    return checked
