"""Reading an Excel workbook safely: its cells' values only, never its formulas, macros or links.

openpyxl opens it read-only with data only (a formula cell gives the value
Excel last stored for it; none is evaluated here), and before that the file
is checked as the zip archive it is: its size unpacked is capped, so a small
file cannot expand into gigabytes. Knows nothing of scenarios or records.
"""

from __future__ import annotations

import io
import warnings
import zipfile

MAX_UNPACKED_BYTES = 400_000_000
MAX_SHEETS = 60
MAX_ROWS = 2_000_000
MAX_COLUMNS = 200


class WorkbookError(ValueError):
    """A file that cannot be read as a workbook, with why."""


def _check_archive(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise WorkbookError("not an Excel workbook (.xlsx): it is not a zip archive") from None
    with archive:
        infos = archive.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_UNPACKED_BYTES:
            raise WorkbookError(f"the workbook unpacks to {unpacked:,} bytes; at most {MAX_UNPACKED_BYTES:,} are read")
        if "xl/workbook.xml" not in {i.filename for i in infos}:
            raise WorkbookError("not an Excel workbook (.xlsx): it has no xl/workbook.xml")


def read_sheets(data: bytes, wanted: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
    """Each sheet (or only those `wanted`) as rows of cell values, trailing empty rows dropped."""
    # openpyxl is imported here, not at the top: every scenario load imports this module, only Excel users need it
    from openpyxl import load_workbook

    _check_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of data validation and styles it does not read
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise WorkbookError(f"cannot be read as an Excel workbook ({type(exc).__name__})") from None
    try:
        if len(book.sheetnames) > MAX_SHEETS:
            raise WorkbookError(f"{len(book.sheetnames)} sheets; at most {MAX_SHEETS} are read")
        out: dict[str, list[tuple]] = {}
        for name in book.sheetnames:
            if wanted is not None and name not in wanted:
                continue
            rows: list[tuple] = []
            for i, row in enumerate(book[name].iter_rows(values_only=True, max_col=MAX_COLUMNS)):
                if i >= MAX_ROWS:
                    raise WorkbookError(f"sheet '{name}' has more than {MAX_ROWS:,} rows")
                rows.append(row)
            while rows and all(v is None or v == "" for v in rows[-1]):
                rows.pop()
            out[name] = rows
        return out
    finally:
        book.close()


# --- a scenario as a workbook: one sheet per section, a row per value --------------------------------------
#
# Sheet 'scenario' holds the top-level values (name, description, extends, comparator); every other section
# of the YAML (run, demand, need_groups, services, routes, ...) has its own sheet of rows `field | value`,
# where field is the value's path inside the section with dots (acute.capacity, acute.los_days.mean) and
# list items numbered from 0 (weekday_multipliers.0). A key that itself holds a dot is written in brackets
# (measures: [ucr.referrals].label). As in YAML, null is null and "" an empty text; a row with a blank value
# is left out (the field's default applies).

TOP_SHEET = "scenario"
HEADER = ("field", "value")
MAX_DEPTH = 12


def _key(part) -> str:
    part = str(part)
    return f"[{part}]" if "." in part or part.startswith("[") else part


def _flatten(value, prefix: tuple = ()) -> list[tuple[tuple, object]]:
    if isinstance(value, dict) and value:
        return [row for k, v in value.items() for row in _flatten(v, (*prefix, str(k)))]
    if isinstance(value, list) and value:
        return [row for i, v in enumerate(value) for row in _flatten(v, (*prefix, i))]
    if isinstance(value, (dict, list)):
        return []  # empty: the default applies
    return [(prefix, value)]


def scenario_workbook(data: dict) -> bytes:
    """A scenario's data (as YAML would hold it) as an .xlsx workbook laid out like its sections."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    top = book.active
    top.title = TOP_SHEET
    sheets = {TOP_SHEET: top}
    for sheet in sheets.values():
        sheet.append(HEADER)
    for section, value in data.items():
        if isinstance(value, (dict, list)):
            if not value:
                continue
            sheet = book.create_sheet(section[:31])
            sheet.append(HEADER)
            for path, leaf in _flatten(value):
                sheet.append([".".join(_key(p) for p in path), _shown(leaf)])
            sheet.column_dimensions["A"].width = 48
        else:
            top.append([section, _shown(value)])
    top.column_dimensions["A"].width = 24
    for sheet in book.worksheets:
        sheet.column_dimensions["B"].width = 40
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _shown(value):
    return "null" if value is None else '""' if value == "" else value


class WorkbookProblems(ValueError):
    """Cells that cannot be read as a scenario: (sheet and cell, problem) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{w}: {p}" for w, p in problems))


def _split(field: str) -> list[str] | None:
    parts, i = [], 0
    while i < len(field):
        if field[i] == "[":
            end = field.find("]", i)
            if end < 0:
                return None
            parts.append(field[i + 1:end])
            i = end + 1
            if i < len(field) and field[i] != ".":
                return None
            i += 1
        else:
            end = field.find(".", i)
            end = len(field) if end < 0 else end
            parts.append(field[i:end])
            i = end + 1
    return parts if parts and all(p != "" for p in parts) else None


def _cell_value(value):
    if hasattr(value, "hour") and hasattr(value, "date"):  # a date typed in Excel comes back as a datetime
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        return None if text.lower() in ("null", "~") else "" if text == '""' else value
    return value


def _put(tree: dict, parts: list, value, where: str, problems: list) -> None:
    node = tree
    for depth, (part, after) in enumerate(zip(parts, parts[1:] + [None])):
        last = after is None
        if isinstance(node, list) and not part.isdigit():
            problems.append((where, f"'{'.'.join(parts[:depth])}' is a list: number its items 0, 1, 2, ..."))
            return
        key = int(part) if isinstance(node, list) else part
        if isinstance(node, list):
            if key > len(node):
                problems.append((where, f"list item {key} comes before item {len(node)}: number them from 0 in order"))
                return
            if key == len(node):
                node.append(None)
        elif key in node and last:
            problems.append((where, "this field is given twice"))
            return
        if last:
            node[key] = value
            return
        child = node[key] if (isinstance(node, list) or key in node) else None
        wants_list = after.isdigit()
        if child is None:
            child = [] if wants_list else {}
            node[key] = child
        elif isinstance(child, list) != wants_list or not isinstance(child, (list, dict)):
            problems.append((where, f"'{'.'.join(parts[:depth + 1])}' is given both as a value and as a "
                                    "section (or as a list and a mapping)"))
            return
        node = child


def scenario_data(data: bytes) -> tuple[dict, dict[tuple, str]]:
    """A workbook made like `scenario_workbook`'s as scenario data, and where each value came from
    ('sheet services, cell B12'). Raises WorkbookError (not a workbook) or WorkbookProblems (cells)."""
    from openpyxl.utils import get_column_letter

    sheets = read_sheets(data)  # data only: a formula gives the value Excel stored for it, never one computed here
    if TOP_SHEET not in sheets:
        raise WorkbookProblems([("", f"no sheet named '{TOP_SHEET}' (make one with run_scenario.py template --excel)")])
    tree: dict = {}
    cells: dict[tuple, str] = {}
    problems: list[tuple[str, str]] = []
    for sheet, rows in sheets.items():
        header = tuple(str(v).strip().lower() if v is not None else "" for v in (rows[0] if rows else ())[:2])
        if header != HEADER:
            problems.append((f"sheet {sheet}, cell A1", "the first row must read 'field' and 'value'"))
            continue
        section = None if sheet == TOP_SHEET else sheet
        for i, row in enumerate(rows[1:], start=2):
            field = row[0] if row else None
            raw = row[1] if len(row) > 1 else None
            blank = raw is None or (isinstance(raw, str) and raw.strip() == "")
            if field is None or str(field).strip() == "":
                if not blank:
                    problems.append((f"sheet {sheet}, cell A{i}", "a value with no field name"))
                continue
            where = f"sheet {sheet}, cell {get_column_letter(2)}{i}"
            parts = _split(str(field).strip())
            if parts is None or len(parts) > MAX_DEPTH:
                problems.append((f"sheet {sheet}, cell A{i}", f"'{str(field)[:60]}' is not a field path "
                                 "(names joined by dots, e.g. acute.capacity)"))
                continue
            path = ([section] if section else []) + parts
            if blank:  # left out: the default applies; a formula reads as blank, as it is never evaluated
                cells.setdefault(tuple(path), f"{where}, empty or a formula (formulas are not evaluated: type the value)")
                continue
            _put(tree, path, _cell_value(raw), where, problems)
            cells[tuple(path)] = where
    if problems:
        raise WorkbookProblems(problems[:25])
    return tree, cells


def cell_of(field: str, cells: dict[tuple, str]) -> str:
    """Where in the workbook a field path of a validation message lies: its cell, or its sheet."""
    parts = tuple(field.split(".")) if field else ()
    if parts in cells:
        return f"{cells[parts]} ({'.'.join(parts[1:]) or parts[0]})"
    for length in range(len(parts), 0, -1):
        under = [c for p, c in cells.items() if p[:length] == parts[:length]]
        if under:
            sheet = under[0].split(",")[0]
            return f"{sheet} ({field})"
    return f"sheet {parts[0] if parts and parts[0] in {p[0] for p in cells} else TOP_SHEET} ({field})" if parts else ""
