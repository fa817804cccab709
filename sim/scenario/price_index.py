"""The published price index that puts every cost in one price year (sim/scenario/price_index.csv).

The NHS Cost Inflation Index, pay and prices (PSSRU Unit Costs of Health and Social Care 2025):
a unit cost of price year *a* is worth cost x level(b) / level(a) in price year *b*. The index is read
here, beside the scenario, because a scenario naming a price year the index does not have is a bad
input, refused when it is read; sim/economics applies it.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

INDEX_FILE = Path(__file__).with_name("price_index.csv")
INDEX_NAME = "NHS Cost Inflation Index, pay and prices (PSSRU Unit Costs of Health and Social Care 2025)"


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, float | None, bool], ...]:
    with INDEX_FILE.open(newline="", encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return tuple((r["year"], float(r["pct_change"]) if r["pct_change"] else None, r["provisional"] == "yes")
                 for r in csv.DictReader(lines))


def source() -> str:
    """The comment lines at the head of the index file: where its figures come from."""
    with INDEX_FILE.open(encoding="utf-8") as f:
        return " ".join(line[1:].strip() for line in f if line.startswith("#"))


@lru_cache(maxsize=1)
def levels() -> dict[str, float]:
    """Financial year -> index level, the first year of the series = 100."""
    out: dict[str, float] = {}
    level = 100.0
    for i, (year, change, _) in enumerate(_rows()):
        if i > 0:
            level *= 1 + change / 100
        out[year] = level
    return out


def years() -> list[str]:
    return list(levels())


def provisional() -> list[str]:
    return [year for year, _, p in _rows() if p]


def year_problem(year: str) -> str | None:
    """Why a price year cannot be used with the index; None when it can."""
    if year in levels():
        return None
    known = years()
    return (f"price year '{year}' is not in the price index ({INDEX_NAME}), which covers {known[0]} to {known[-1]}"
            " (financial years written like 2023/24); a cost from another year needs that year's index, which"
            " is not shipped")


def factor(from_year: str, to_year: str) -> float:
    """What a pound of `from_year` is worth in `to_year` (KeyError for a year outside the index)."""
    table = levels()
    return table[to_year] / table[from_year]
