"""Tiny scenarios (a few hundred crises, 100 days) for the experiment, store and CLI tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.scenario import Scenario
from sim.store import TABLES
from support import BASELINE, small_system

TINY = {
    "run.horizon_days": 100,
    "run.warmup_days": 30,
    "run.replications": 4,
    "demand.crises_per_year": 3000,
    "services.urgent_response.capacity": 2,
    "services.acute.capacity": 80,
    "services.reablement.capacity": 17,
    "services.community_beds.capacity": 17,
    "services.temporary_residential.capacity": 8,
}


def tiny(**changes) -> Scenario:
    return small_system(**{**TINY, **changes})


def write_scenarios(folder: Path, replications: int = 4) -> tuple[Path, Path]:
    """A tiny baseline and a change with more UCR referrals that names it as comparator."""
    base = folder / "tiny.yaml"
    base.write_text(
        f"extends: {BASELINE}\n"
        'name: "Tiny baseline"\n'
        f"run: {{horizon_days: 100, warmup_days: 30, replications: {replications}}}\n"
        "demand: {crises_per_year: 3000}\n"
        "services:\n"
        "  urgent_response: {capacity: 2}\n"
        "  acute: {capacity: 80}\n"
        "  reablement: {capacity: 17}\n"
        "  community_beds: {capacity: 17}\n"
        "  temporary_residential: {capacity: 8}\n"
    )
    change = folder / "more-ucr.yaml"
    change.write_text('extends: tiny.yaml\nname: "Tiny, more UCR referrals"\ncomparator: tiny.yaml\n'
                      "routes: {crisis: {scale: {urgent_response: 1.7}}}\n")
    return change, base


def assert_same_tables(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
