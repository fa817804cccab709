"""Numbers as people read them: units attached, shares as percentages, money in £k/£m, intervals in words.

Money has one format across the command line, the report and the app (`sim.compare.money`: £7.0m, £26.8k,
£346); a difference is signed with + or - under the one convention `sim.compare.SIGN_CONVENTION` states.
"""

from __future__ import annotations

import math

from sim.compare import money, money_scale, no_interval
from sim.report.intervals import Estimate

# How a difference reads in words, by unit: "120 fewer", "£1.2m less", "3.1 pp higher".
_MORE_LESS = {"GBP": ("more", "less"), "share": ("higher", "lower"), "days": ("longer", "shorter"),
              "hours": ("longer", "shorter")}
_COUNTED = {"people", "bed-days", "beds", "places", "count", "crises", "responses", "episodes", "packages"}


def number(value: float, unit: str, signed: bool = False, with_unit: bool = True, scale: float | None = None) -> str:
    """One value with its unit; shares are shown as percentages (differences of shares as percentage points).

    Money and shares always carry £ or %; other units can be left to a column heading (with_unit=False).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "unlimited"
    sign = "+" if signed and value > 0 else ""
    if unit == "GBP":
        return money(value, signed=signed, scale=scale)
    if unit == "share":
        return f"{sign}{value * 100:.1f}{' pp' if signed else '%'}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{sign}{value:,.{digits}f}"
    return f"{text} {unit}" if unit and with_unit else text


def interval(e: Estimate, unit: str, signed: bool = False, with_unit: bool = True,
             replications: int | None = None, scale: float | None = None) -> str:
    """'low to high' of a 95% CI, or why there is none.

    `replications` is how many were run (default: those with a value): a measure defined in one
    replication of ten has no interval, and that is not "one replication".
    """
    if e.n < 2 or math.isnan(e.low):
        if e.n == 0 or math.isnan(e.mean):
            return "n/a"
        return no_interval(e.n, replications or e.n)
    if unit == "GBP":
        scale = scale or money_scale(e.low, e.high)
    return f"{number(e.low, unit, signed, with_unit, scale)} to {number(e.high, unit, signed, with_unit, scale)}"


def change_words(value: float, unit: str, scale: float | None = None) -> str:
    """A difference, scenario - comparator, in words that carry its direction: '120 fewer', '£1.2m less'.

    Used where a table holds every KPI, some better higher and some lower, so no sign could mean 'better'.
    """
    if value is None or math.isnan(value):
        return "n/a"
    if value == 0:
        return "no change"
    more, less = _MORE_LESS.get(unit, ("more", "fewer") if unit in _COUNTED else ("higher", "lower"))
    word = more if value > 0 else less
    if unit == "GBP":
        return f"{money(abs(value), scale=scale)} {word}"
    if unit == "share":
        return f"{abs(value) * 100:.1f} pp {word}"
    return f"{number(abs(value), unit, with_unit=unit in ('days', 'hours'))} {word}"
