"""Numbers as people read them: units attached, shares as percentages, money in £k/£m, intervals in words."""

from __future__ import annotations

import math

from sim.report.intervals import Estimate


def number(value: float, unit: str, signed: bool = False, with_unit: bool = True) -> str:
    """One value with its unit; shares are shown as percentages (differences of shares as percentage points).

    Money and shares always carry £ or %; other units can be left to a column heading (with_unit=False).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "unlimited"
    sign = "+" if signed and value > 0 else ""
    if unit == "GBP":
        magnitude = abs(value)
        if magnitude >= 1e6:
            text = f"£{magnitude / 1e6:,.2f}m"
        elif magnitude >= 1e3:
            text = f"£{magnitude / 1e3:,.1f}k"
        else:
            text = f"£{magnitude:,.0f}"
        return ("-" if value < 0 else sign) + text
    if unit == "share":
        return f"{sign}{value * 100:.1f}{' pp' if signed else '%'}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{sign}{value:,.{digits}f}"
    return f"{text} {unit}" if unit and with_unit else text


def interval(e: Estimate, unit: str, signed: bool = False, with_unit: bool = True) -> str:
    """'low to high' of a 95% CI, or why there is none."""
    if e.n < 2 or math.isnan(e.low):
        return "no interval (one replication)" if e.n == 1 else "n/a"
    return f"{number(e.low, unit, signed, with_unit)} to {number(e.high, unit, signed, with_unit)}"
