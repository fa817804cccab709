"""Timing that survives a shared machine: CPU time of this process, interleaved, best of N.

Other people's jobs slow every contender alike when the contenders take
turns, and the best of several tries is the one least disturbed, so ratios
of best times are stable even when absolute times are not.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def cpu_seconds(work: Callable[[], T]) -> tuple[float, T]:
    gc.collect()  # no contender pays for the garbage the one before left behind
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def interleaved_best(contenders: dict[str, Callable[[], T]], repeats: int) -> dict[str, tuple[float, T]]:
    """Each contender's best CPU time over `repeats` rounds, and its result from that round."""
    best: dict[str, tuple[float, T]] = {}
    for _ in range(repeats):
        for name, work in contenders.items():
            seconds, result = cpu_seconds(work)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, result)
    return best
