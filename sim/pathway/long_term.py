"""Long-term care over years: who pays as savings run down, and care booked in the year it falls in.

A placement (a care home place, a home care package) lasts years, so a run of
several years sees long-term care build up and run down. Its cost is read two
ways:

- cash ("activity in period"): each day in care is paid in the year it falls
  in, by whoever pays on that day; people already in care when the run starts
  count too;
- committed: the whole of a new placement's drawn stay, booked in the year it
  starts (the economic view, never cash).

Both are also discounted to day 0 of the measured period: a cost t days after
it is worth (1 + r)^(-t/365). Care flows day by day, so a stretch of care is
integrated over its interval: exactly what discounting each day at its middle
gives, to within r^2/24 of a day's cost (3.5% a year: 5e-5 of it).

Means that change: a self-funder whose savings run down (`funding.spend_down`)
pays in part after a drawn time in care, and the council pays in full after
another; a partial funder reaches the lower limit after the second time. Each
person draws their times from their own streams (`<service>.spend_down.*`), so
the same person spends down alike in every scenario compared. Spending down
moves days of care between payers; it never changes how much care there is.
"""

from __future__ import annotations

import math

from sim.pathway.person import Person
from sim.random.distributions import Sampler

YEAR_DAYS = 365.0
DEFAULT_DISCOUNT_RATE = 0.035
FUNDING = ("council", "partial", "self")


def discount_rate(scenario) -> float:
    """The scenario's discount rate a year (its `economics:` section), 3.5% if it states none."""
    economics = getattr(scenario, "economics", None)
    return float(getattr(economics, "discount_rate", DEFAULT_DISCOUNT_RATE))


class Years:
    """The years of the measured period: year 1 starts on its day 0; the last may be part of a year."""

    def __init__(self, start: float, days: float, rate: float):
        self.start = start
        self.end = start + days
        self.count = max(1, math.ceil(days / YEAR_DAYS - 1e-9))
        self.rate = rate
        self._log_v = -math.log1p(rate) / YEAR_DAYS  # log of the discount factor a day

    def index(self, t: float) -> int:
        """0-based year of the measured period that time t falls in (clipped to the period)."""
        return min(max(int((t - self.start) // YEAR_DAYS), 0), self.count - 1)

    def factor(self, t: float) -> float:
        """What a pound spent at time t is worth on day 0 of the measured period."""
        return math.exp(self._log_v * (t - self.start))

    def flow(self, a: float, b: float) -> float:
        """A pound a day from a to b, discounted to day 0 (the integral of `factor`)."""
        if b <= a:
            return 0.0
        if self._log_v == 0.0:
            return b - a
        return (self.factor(b) - self.factor(a)) / self._log_v

    def pieces(self, a: float, b: float):
        """[a, b) within the measured period, cut at the years' ends: (year index, from, to)."""
        a, b = max(a, self.start), min(b, self.end)
        while a < b:
            y = self.index(a)
            top = min(b, self.start + (y + 1) * YEAR_DAYS) if y < self.count - 1 else b
            yield y, a, top
            a = top


class SpendDown:
    """The times at which one long-term service's payers change as savings run down."""

    def __init__(self, name: str, spec):
        self.to_upper = Sampler(spec.to_upper_days)
        self.to_lower = Sampler(spec.to_lower_days) if spec.to_lower_days is not None else None
        self.stream_upper = name + ".spend_down.upper"
        self.stream_lower = name + ".spend_down.lower"
        self.key = name

    def path(self, person: Person, entered: float) -> list[tuple[float, str]]:
        """(from time, funding) for the whole stay, starting with the person's means at entry."""
        path = [(entered, person.funding)]
        t = entered
        if person.funding == "self":
            t += self.to_upper.from_z(person.normal(self.stream_upper, self.key))
            path.append((t, "partial"))
        if person.funding != "council" and self.to_lower is not None:
            t += self.to_lower.from_z(person.normal(self.stream_lower, self.key))
            path.append((t, "council"))
        return path


def segments(path: list[tuple[float, str]], a: float, b: float):
    """[a, b) cut where the payer changes: (funding, from, to)."""
    for i, (since, funding) in enumerate(path):
        until = path[i + 1][0] if i + 1 < len(path) else math.inf
        lo, hi = max(a, since), min(b, until)
        if lo < hi:
            yield funding, lo, hi


def table(years: Years) -> dict[str, list[float]]:
    """A count per funding and year of the measured period, all zero."""
    return {f: [0.0] * years.count for f in FUNDING}


class Book:
    """Days (or hours) of care by funding and year, and their value discounted to day 0."""

    def __init__(self, years: Years):
        self.years = years
        self.amount = table(years)
        self.discounted = table(years)

    def add_flow(self, funding: str, year: int, a: float, b: float, per_day: float) -> None:
        """Care at `per_day` units a day from a to b, booked in `year` (0-based)."""
        self.amount[funding][year] += per_day * (b - a)
        self.discounted[funding][year] += per_day * self.years.flow(a, b)

    def add_count(self, funding: str, year: int, t: float, n: float = 1.0) -> None:
        self.amount[funding][year] += n
        self.discounted[funding][year] += n * self.years.factor(t)

    def totals(self) -> dict[str, float]:
        return {f: sum(values) for f, values in self.amount.items()}


class CareLedger:
    """One long-term unit's care in the period (cash) and the care its new placements commit."""

    def __init__(self, years: Years):
        self.years = years
        self.days = Book(years)               # days in care in each year (occupancy)
        self.hours = Book(years)              # hours of care delivered in each year
        self.placements = Book(years)         # placements started in each year, by means at entry
        self.committed_days = Book(years)     # whole stays of the placements started in each year
        self.committed_hours = Book(years)
        self._in_care: dict[int, tuple[float, float, list[tuple[float, str]]]] = {}

    def start(self, person: Person, entered: float, hours_a_day: float, path: list[tuple[float, str]]) -> None:
        """Someone in care from `entered` (perhaps before the run), until `left` says they leave."""
        self._in_care[person.id] = (entered, hours_a_day, path)

    def commit(self, person: Person, entered: float, days: float, hours_a_day: float,
               path: list[tuple[float, str]]) -> None:
        """A new placement in the measured period: its whole drawn stay, in the year it starts."""
        year = self.years.index(entered)
        self.placements.add_count(person.funding, year, entered)
        for funding, a, b in segments(path, entered, entered + days):
            self.committed_days.add_flow(funding, year, a, b, 1.0)
            if hours_a_day:
                self.committed_hours.add_flow(funding, year, a, b, hours_a_day)

    def left(self, person: Person, now: float) -> None:
        entered, hours_a_day, path = self._in_care.pop(person.id)
        self._book(entered, now, hours_a_day, path)

    def close(self, now: float) -> None:
        """People still in care at the end: their care up to now."""
        for entered, hours_a_day, path in self._in_care.values():
            self._book(entered, now, hours_a_day, path)
        self._in_care.clear()

    def _book(self, entered: float, left: float, hours_a_day: float, path) -> None:
        for year, a, b in self.years.pieces(entered, left):
            for funding, lo, hi in segments(path, a, b):
                self.days.add_flow(funding, year, lo, hi, 1.0)
                if hours_a_day:
                    self.hours.add_flow(funding, year, lo, hi, hours_a_day)
