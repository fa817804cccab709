"""Whose money: the perspectives every figure names.

A system's saving is the NHS's, the council's (adult social care) or both together (NHS and personal
social services, the NICE reference case). What self-funders pay for their own care is private spending:
reported beside the others, never added into a system's saving.
"""

from __future__ import annotations

#: perspective -> the payers (sim.measure.costs.PAYERS) whose costs it adds up
PERSPECTIVES: dict[str, tuple[str, ...]] = {
    "nhs": ("nhs",),
    "council": ("council",),
    "nhs_pss": ("nhs", "council"),
    "self_funders": ("self_funder",),
}
#: the perspectives that are a system's (public) money
SYSTEM = ("nhs", "council", "nhs_pss")
#: private spending: shown apart
PRIVATE = ("self_funders",)

NAMES = {
    "nhs": "NHS",
    "council": "council adult social care",
    "nhs_pss": "NHS and council (NHS+PSS, NICE reference case)",
    "self_funders": "self-funders (private spending, not a system saving)",
}
SHORT = {"nhs": "NHS", "council": "council", "nhs_pss": "NHS+PSS", "self_funders": "self-funders"}


def payers_of(perspective: str) -> tuple[str, ...]:
    return PERSPECTIVES[perspective]


def is_system(perspective: str) -> bool:
    return perspective in SYSTEM
