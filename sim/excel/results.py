"""A results folder as one Excel workbook, results.xlsx, for finance teams and anyone who works in Excel.

Sheets: about (what was run, prices, perspective), summary (every KPI with
its 95% interval), comparison and differences, and with a comparator the
budget impact year by year, capacity freed and the economic summary; daily census (mean of the
replications) and costs by payer (mean and 95% interval). Units are in the
headers; numbers are written as numbers (a missing value is a blank cell,
an unlimited one the text inf),
so they can be summed and charted. The tables are the folder's own CSV
files, cell for cell.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from sim.experiment import output_tables
from sim.intervals import interval_row
from sim.results import ResultSet
from sim.store import atomic_write_bytes, load

FILE = "results.xlsx"

# The unit of a column wherever it has one unit for every row; columns of values in each row's own unit say so.
IN_ROW_UNIT = "in the row's unit"
COLUMN_UNITS = {
    "mean": IN_ROW_UNIT, "sd": IN_ROW_UNIT, "ci_low": IN_ROW_UNIT, "ci_high": IN_ROW_UNIT,
    "half_width": IN_ROW_UNIT, "relative_half_width": "share of the mean", "replications": "count",
    "scenario_mean": IN_ROW_UNIT, "comparator_mean": IN_ROW_UNIT, "difference_mean": IN_ROW_UNIT,
}


def header(column: str, unit: str | None) -> str:
    return f"{column} ({unit})" if unit else column


def column_name(header_text: str) -> str:
    """The table's column a header names (the header without its unit)."""
    return header_text.split(" (", 1)[0]


def _cell(value):
    """A value as Excel holds it: a number as a number; missing as a blank cell; unlimited (infinity) as the text
    'inf', which Excel cannot hold as a number."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        # Text from a scenario (its name, labels) is shown, never obeyed: control characters as their escapes,
        # which Excel cannot hold anyway.
        return ILLEGAL_CHARACTERS_RE.sub(lambda m: m.group().encode("unicode_escape").decode(), value)
    return value


def _as_text(row) -> None:
    """Text that starts like a formula ('=...') stays text: a scenario's words never become a formula."""
    for cell in row:
        if cell.data_type == "f":
            cell.data_type = "s"


def _sheet(book: Workbook, title: str, frame: pd.DataFrame, units: dict[str, str] | None = None) -> None:
    sheet = book.create_sheet(title[:31])
    units = {**COLUMN_UNITS, **(units or {})}
    sheet.append([header(str(c), units.get(str(c))) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
        _as_text(sheet[sheet.max_row])
    for i, column in enumerate(frame.columns):
        width = min(60, max(10, len(header(str(column), units.get(str(column)))) + 2))
        sheet.column_dimensions[sheet.cell(row=1, column=i + 1).column_letter].width = width


def _price_year(rs: ResultSet) -> str:
    scenario = rs.scenarios.get("scenario") or next(iter(rs.scenarios.values()))
    return scenario.economics.price_year


def daily_census(rs: ResultSet) -> pd.DataFrame:
    """Mean occupancy, queue and capacity of each service on each measured day, across replications."""
    daily = rs.daily[rs.daily["day"] >= 0]
    if daily.empty:
        return pd.DataFrame(columns=["role", "day", "date", "service", "occupancy", "queue", "capacity"])
    table = (daily.groupby(["role", "day", "service"], sort=False)[["occupancy", "queue", "capacity"]]
             .mean().reset_index())
    starts = {role: s.run.start_date for role, s in rs.scenarios.items()}
    table.insert(2, "date", [starts[r] + dt.timedelta(days=int(d)) for r, d in zip(table["role"], table["day"])])
    return table


def costs_by_payer(rs: ResultSet) -> pd.DataFrame:
    """Each role's cost to each payer over the measured period: mean and 95% interval across replications."""
    costs = rs.costs
    if costs.empty:
        return pd.DataFrame(columns=["role", "payer", "mean", "ci_low", "ci_high", "replications"])
    totals = costs.groupby(["role", "payer", "replication"])["cost_gbp"].sum()
    rows = []
    for (role, payer), values in totals.groupby(level=[0, 1], sort=False):
        row = interval_row(values.to_numpy())
        rows.append({"role": role, "payer": payer, "mean": row["mean"], "ci_low": row["ci_low"],
                     "ci_high": row["ci_high"], "replications": row["replications"]})
    return pd.DataFrame(rows)


def about(rs: ResultSet) -> pd.DataFrame:
    rows = [("price year", _price_year(rs)),
            ("money", "pounds at the price year; costs are cash to each payer over the measured period; a comparison "
                      "says for each saving whether it is cash-releasing or capacity freed, and who saves"),
            ("intervals", "95% Student-t confidence intervals across replications (the simulation's own uncertainty)")]
    for role, scenario in rs.scenarios.items():
        rows.append((f"{role}", scenario.name))
        rows.append((f"{role}: measured period", f"{scenario.run.horizon_days} days from {scenario.run.start_date}"
                                                 f" after {scenario.run.warmup_days} days of warm-up"))
    rows.append(("replications", int(rs.kpis["replication"].nunique()) if not rs.kpis.empty else 0))
    return pd.DataFrame(rows, columns=["item", "value"])


def results_workbook(rs: ResultSet, folder: Path | None = None) -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "about", about(rs))
    gbp = f"£, {_price_year(rs)} prices"
    for name, frame in output_tables(rs).items():
        _sheet(book, name.removesuffix(".csv"), frame)
    _sheet(book, "daily census", daily_census(rs),
           {"day": "days from the first measured day", "date": "date", "occupancy": "people, mean of replications",
            "queue": "people, mean of replications", "capacity": "places"})
    _sheet(book, "costs by payer", costs_by_payer(rs), {"mean": gbp, "ci_low": gbp, "ci_high": gbp})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_results_workbook(folder: str | Path, resultset: ResultSet | None = None) -> Path:
    """Write results.xlsx into a complete results folder (written whole or not at all); its path."""
    folder = Path(folder)
    rs = resultset if resultset is not None else load(folder)
    path = folder / FILE
    atomic_write_bytes(path, results_workbook(rs, folder))
    return path
