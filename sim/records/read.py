"""Reading records (CSV or an Excel sheet) and checking them: one message per problem, naming file, row and column.

Nothing is fitted from records with a problem: every problem found is
reported at once (RecordsError, exit status 2 on the command line), so an
analyst can fix the export in one pass. Times become days since the first
arrival's midnight (the epoch).
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.excel.workbook import WorkbookError, read_sheets
from sim.records.format import (
    CENSUS_COLUMNS,
    DATE_COLUMNS,
    ENDS,
    EPISODE_COLUMNS,
    MIN_STAYS,
    names,
)
from sim.scenario.base import NAME
from sim.scenario.errors import ScenarioError

MAX_RECORDS_BYTES = 500_000_000   # a year of a large system is tens of megabytes
MAX_LISTED = 25                   # problems listed; the rest are counted
DAY = pd.Timedelta(days=1)


class RecordsError(ScenarioError):
    """Records that cannot be fitted: one (where, problem) per problem, where = 'row N, column C'."""


@dataclass
class Records:
    episodes: pd.DataFrame          # row, person_id, service, arrived, ready, left, to, pathway, came_from, need_group, place
    census: pd.DataFrame | None     # row, service, day, occupied, waiting, capacity
    epoch: pd.Timestamp             # day 0, midnight of the first arrival
    end: float                      # the records were taken at this time (days since the epoch)
    file: str
    census_file: str | None

    def date(self, day: float) -> str:
        return (self.epoch + pd.Timedelta(days=float(day))).strftime("%Y-%m-%d")


def _raw_bytes(path: Path) -> bytes:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise RecordsError(path, [("", "file not found")]) from None
    except OSError as exc:
        raise RecordsError(path, [("", f"cannot read the file ({exc.strerror})")]) from None
    if not stat.S_ISREG(mode):
        raise RecordsError(path, [("", "is not a regular file; records are a CSV file or an Excel workbook")])
    with open(path, "rb") as handle:
        data = handle.read(MAX_RECORDS_BYTES + 1)
    if len(data) > MAX_RECORDS_BYTES:
        raise RecordsError(path, [("", f"file is over {MAX_RECORDS_BYTES:,} bytes")])
    return data


def _table(path: Path, sheet: str) -> tuple[pd.DataFrame, str]:
    """The file (or the workbook's sheet) as text columns, and how to name it in messages."""
    data = _raw_bytes(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheets = read_sheets(data, wanted=(sheet,))
        except WorkbookError as exc:
            raise RecordsError(path, [("", str(exc))]) from None
        if sheet not in sheets:
            raise RecordsError(path, [("", f"no sheet named '{sheet}' (the records go in a sheet '{sheet}')")])
        rows = sheets[sheet]
        header = [("" if v is None else str(v)).strip() for v in (rows[0] if rows else [])]
        body = [["" if v is None else _cell_text(v) for v in r] + [""] * (len(header) - len(r)) for r in rows[1:]]
        frame = pd.DataFrame([r[: len(header)] for r in body], columns=header, dtype=str)
        return frame, f"{path} (sheet {sheet})"
    if b"\x00" in data[:10_000]:
        raise RecordsError(path, [("", "not a text file; records are CSV (UTF-8) or an Excel workbook (.xlsx)")])
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True,
                            encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RecordsError(path, [("", f"cannot be read as CSV ({type(exc).__name__}: {str(exc)[:120]})")]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, str(path)


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


class _Problems:
    def __init__(self, shown: str):
        self.shown = shown
        self.items: list[tuple[str, str]] = []

    def add(self, rows, column: str, problem) -> None:
        """One message per offending row (rows: the file's row numbers)."""
        for row, text in zip(rows, problem if isinstance(problem, list) else [problem] * len(rows)):
            self.items.append((f"row {row}, column {column}", text))

    def raise_any(self) -> None:
        if self.items:
            items = self.items[:MAX_LISTED]
            if len(self.items) > MAX_LISTED:
                items.append(("", f"... and {len(self.items) - MAX_LISTED:,} more problems"))
            raise RecordsError(self.shown, items)


def _missing_columns(frame: pd.DataFrame, columns, shown: str) -> None:
    missing = [c for c in names(columns, required_only=True) if c not in frame.columns]
    if missing:
        known = ", ".join(names(columns))
        raise RecordsError(shown, [(f"column {c}", f"missing (the columns are {known}; see docs/records.md)")
                                   for c in missing])


def _times(text: pd.Series) -> pd.Series:
    """Dates and times as timestamps; a date alone is midday; blanks and what cannot be read are NaT."""
    text = text.str.strip()
    parsed = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
    date_only = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    return parsed + pd.to_timedelta(np.where(date_only, 12, 0), unit="h")


def read_records(path: str | Path, services: set[str], census: str | Path | None = None) -> Records:
    """Read and check episode records (and a census): Records, or RecordsError listing every problem."""
    path = Path(path)
    frame, shown = _table(path, "episodes")
    _missing_columns(frame, EPISODE_COLUMNS, shown)
    for column in names(EPISODE_COLUMNS):
        if column not in frame.columns:
            frame[column] = ""
    problems = _Problems(shown)
    if frame.empty:
        raise RecordsError(shown, [("", "no rows of records")])
    rows = np.arange(len(frame)) + 2  # row 1 is the header
    text = {c: frame[c].astype(str).str.strip() for c in names(EPISODE_COLUMNS)}
    blank_id = text["person_id"] == ""
    problems.add(rows[blank_id], "person_id", "blank: every row names its person")
    known_services = text["service"].isin(services)
    listed = ", ".join(sorted(services))
    bad = ~known_services
    problems.add(rows[bad], "service", [f"'{_short(s)}' is not a service of the library ({listed})"
                                        for s in text["service"][bad]])
    times = {c: _times(text[c]) for c in DATE_COLUMNS}
    for column in DATE_COLUMNS:
        unread = times[column].isna() & (text[column] != "")
        problems.add(rows[unread], column, [f"'{_short(v)}' is not a date (YYYY-MM-DD) or date and time "
                                            "(YYYY-MM-DD HH:MM)" for v in text[column][unread]])
    problems.add(rows[times["arrived"].isna() & (text["arrived"] == "")], "arrived", "blank: every episode has a start")
    early = times["ready"] < times["arrived"]
    problems.add(rows[early], "ready", [f"{r} is before arrived {a}" for r, a in
                                        zip(text["ready"][early], text["arrived"][early])])
    before = times["left"] < times["ready"].fillna(times["arrived"])
    problems.add(rows[before], "left", [f"{v} is before {'ready' if pd.notna(r) else 'arrived'} {w}"
                                        for v, r, w in zip(text["left"][before], times["ready"][before],
                                                           text["ready"].where(text["ready"] != "", text["arrived"])[before])])
    no_ready = times["left"].notna() & times["ready"].isna() & (text["ready"] == "")
    problems.add(rows[no_ready], "ready", "blank, but the person left: give the day they were ready (the day they "
                                          "left, if they were never delayed)")
    left = times["left"].notna()
    problems.add(rows[left & (text["to"] == "")], "to", "blank, but the person left: say where to (a service, "
                                                       "home, died or left)")
    problems.add(rows[~left & (text["to"] != "") & (text["left"] == "")], "to",
                 "given, but 'left' is blank: a person still in the service has gone nowhere yet")
    goes = (text["to"] != "") & ~text["to"].isin(services) & ~text["to"].isin(ENDS)
    problems.add(rows[goes], "to", [f"'{_short(v)}' is not a service of the library or one of {', '.join(ENDS)}"
                                    for v in text["to"][goes]])
    came = (text["came_from"] != "") & ~text["came_from"].isin(services) & (text["came_from"] != "home")
    problems.add(rows[came], "came_from", [f"'{_short(v)}' is not a service of the library or home"
                                           for v in text["came_from"][came]])
    pathway = text["pathway"]
    bad_pathway = (pathway != "") & ~pathway.isin(["0", "1", "2", "3"])
    problems.add(rows[bad_pathway], "pathway", [f"'{_short(v)}' is not a discharge pathway (0, 1, 2 or 3)"
                                                for v in pathway[bad_pathway]])
    problems.add(rows[(pathway != "") & ~left], "pathway", "given, but 'left' is blank: a pathway is a discharge")
    for column in ("need_group", "place"):
        odd = (text[column] != "") & ~text[column].str.fullmatch(NAME[1:-1])
        problems.add(rows[odd], column, [f"'{_short(v)}' must be letters, digits and _, starting with a letter "
                                         "(it becomes part of KPI names)" for v in text[column][odd]])
    problems.raise_any()

    stamps = pd.concat([times[c] for c in DATE_COLUMNS])
    epoch = times["arrived"].min().normalize()
    census_frame, census_shown, census_last = None, None, None
    if census is not None:
        census_frame, census_shown, census_last = _read_census(Path(census), services, epoch)
    last = stamps.max()
    end_stamp = max(last.normalize() + DAY, census_last + DAY if census_last is not None else last)
    episodes = pd.DataFrame({
        "row": rows,
        "person_id": text["person_id"],
        "service": text["service"],
        "arrived": (times["arrived"] - epoch) / DAY,
        "ready": (times["ready"] - epoch) / DAY,
        "left": (times["left"] - epoch) / DAY,
        "to": text["to"],
        "pathway": pd.to_numeric(pathway.where(pathway != ""), errors="coerce"),
        "came_from": text["came_from"],
        "need_group": text["need_group"],
        "place": text["place"],
    })
    records = Records(episodes, census_frame, epoch, float((end_stamp - epoch) / DAY), shown, census_shown)
    _enough_rows(records)
    return records


def _short(value: str) -> str:
    """A value from the file as shown in a message: printable, and short."""
    value = "".join(c if c.isprintable() else "?" for c in str(value))
    return value if len(value) <= 40 else value[:37] + "..."


def _enough_rows(records: Records) -> None:
    e = records.episodes
    finished = e[e["ready"].notna()]
    problems = []
    for service, count in e.groupby("service").size().items():
        done = int((finished["service"] == service).sum())
        if done < MIN_STAYS:
            rows = e.loc[e["service"] == service, "row"].head(5).tolist()
            problems.append((f"column service, '{service}'",
                             f"only {done} episode{'s' if done != 1 else ''} with a ready date (of {count}; row{'s' if count > 1 else ''} "
                             f"{', '.join(map(str, rows))}{', ...' if count > 5 else ''}); at least {MIN_STAYS} are "
                             "needed to fit a length of stay: add more months of records, or leave the service out"))
    if problems:
        raise RecordsError(records.file, problems)


def _read_census(path: Path, services: set[str], epoch: pd.Timestamp):
    frame, shown = _table(path, "census")
    _missing_columns(frame, CENSUS_COLUMNS, shown)
    if "capacity" not in frame.columns:
        frame["capacity"] = ""
    problems = _Problems(shown)
    rows = np.arange(len(frame)) + 2
    text = {c: frame[c].astype(str).str.strip() for c in names(CENSUS_COLUMNS)}
    bad = ~text["service"].isin(services)
    problems.add(rows[bad], "service", [f"'{_short(s)}' is not a service of the library" for s in text["service"][bad]])
    dates = pd.to_datetime(text["date"].where(text["date"] != ""), format="ISO8601", errors="coerce")
    problems.add(rows[dates.isna()], "date", [f"'{_short(v)}' is not a date (YYYY-MM-DD)" for v in text["date"][dates.isna()]])
    numbers = {}
    for column in ("occupied", "waiting", "capacity"):
        values = pd.to_numeric(text[column].where(text[column] != ""), errors="coerce")
        wrong = (values.isna() & (text[column] != "")) | (values < 0)
        if column != "capacity":
            wrong |= text[column] == ""
        problems.add(rows[wrong], column, [f"'{_short(v)}' is not a number of people (0 or more)"
                                           for v in text[column][wrong]])
        numbers[column] = values
    problems.raise_any()
    census = pd.DataFrame({"row": rows, "service": text["service"], "day": ((dates.dt.normalize() - epoch) / DAY),
                           **numbers})
    return census, shown, dates.max().normalize()
