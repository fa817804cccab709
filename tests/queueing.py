"""Analytic results for the M/M/c queue (Erlang C), to test the simulation against."""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arrival has to wait, for offered load a = lambda / mu < servers."""
    a, c = offered_load, servers
    if a >= c:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    top = term * a / c * c / (c - a)
    return top / (total + top)


def mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (Wq) for M/M/c."""
    a = arrival_rate / service_rate
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)
