"""Shared test fixtures, and the reliability counts printed at the end of every test run.

CI's log shows how much the reliability tests actually exercised (bad inputs
tried, kills survived, invariants checked), whatever pytest's -r options are.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sim.measure import invariants

_RELIABILITY: Counter = Counter()


@pytest.fixture(scope="session")
def reliability_tally() -> Counter:
    """Counts the reliability tests add to: 'bad inputs tried', 'kills survived'."""
    return _RELIABILITY


def pytest_terminal_summary(terminalreporter) -> None:
    tally = invariants.TALLY
    if not (_RELIABILITY or tally):
        return
    terminalreporter.write_line(
        f"bad inputs tried: {_RELIABILITY['bad inputs tried']}, "
        f"kills survived: {_RELIABILITY['kills survived']}, "
        f"invariants checked: {tally['invariants']} (in {tally['replications']} replications)"
    )
