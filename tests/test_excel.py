"""Excel in and out: a scenario workbook gives the same Scenario as the YAML it was made from, its mistakes name
sheet and cell, it is read safely; results.xlsx holds the results folder's tables cell for cell."""

from __future__ import annotations

import io
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import run_scenario
from sim import api
from sim.excel import workbook
from sim.excel.results import column_name
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.errors import FileRefused

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "examples" / "small-system.yaml"


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = run_scenario.main(args)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["baseline.yaml", "connect.yaml", "examples/virtual-ward.yaml"])
def test_a_template_gives_the_same_scenario_as_the_yaml_it_was_made_from(name, tmp_path):
    book = tmp_path / "s.xlsx"
    status, out, _ = _main(["template", "--excel", str(book), "--from", str(ROOT / "scenarios" / name)])
    assert status == 0 and "Template written" in out
    yaml_scenario, excel_scenario = load_scenario(ROOT / "scenarios" / name), load_scenario(book)
    assert excel_scenario.resolved == yaml_scenario.resolved
    assert excel_scenario.content_hash() == yaml_scenario.content_hash()
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert sheets[:4] == ["scenario", "run", "demand", "need_groups"] and "services" in sheets and "routes" in sheets


def _edited(tmp_path: Path, edit) -> Path:
    book = tmp_path / "s.xlsx"
    api.template(book, SMALL)
    wb = openpyxl.load_workbook(book)
    edit(wb)
    wb.save(book)
    return book


def _row_of(sheet, field: str) -> int:
    return next(c.row for c in sheet["A"] if c.value == field)


def test_mistakes_name_the_sheet_and_cell_exit_2_and_nothing_is_written(tmp_path):
    def edit(wb):
        services = wb["services"]
        services[f"B{_row_of(services, 'acute.capacity')}"] = "lots"
        wb["need_groups"][f"B{_row_of(wb['need_groups'], 'mild.share')}"] = 1.5
    book = _edited(tmp_path, edit)
    wb = openpyxl.load_workbook(book)
    cap, share = _row_of(wb["services"], "acute.capacity"), _row_of(wb["need_groups"], "mild.share")
    status, _, err = _main([str(book), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert status == 2
    assert f"{book}: sheet services, cell B{cap} (acute.capacity): Input should be a valid integer" in err
    assert f"{book}: sheet need_groups, cell B{share} (mild.share): Input should be less than or equal to 1" in err
    assert not (tmp_path / "out").exists()


def test_a_formula_is_never_evaluated(tmp_path):
    # openpyxl stores no computed value for a formula it wrote: read data-only, the cell is empty, so the
    # capacity is missing (not 360): the message says so.
    def edit(wb):
        wb["services"][f"B{_row_of(wb['services'], 'acute.capacity')}"] = "=180*2"
    book = _edited(tmp_path, edit)
    with pytest.raises(ScenarioError) as info:
        load_scenario(book)
    row = _row_of(openpyxl.load_workbook(book)["services"], "acute.capacity")
    assert (f"sheet services, cell B{row}, empty or a formula (formulas are not evaluated: type the value) "
            "(acute.capacity): required field is missing") in str(info.value)


def test_a_workbook_is_read_safely(tmp_path, monkeypatch):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("name: not a workbook\n")
    status, _, err = _main([str(fake)])
    assert status == 2 and "not an Excel workbook (.xlsx): it is not a zip archive" in err
    book = _edited(tmp_path, lambda wb: None)
    with pytest.raises(FileRefused):  # outside the folders scenarios may be read from
        load_scenario(book, roots=[ROOT / "scenarios"])
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 10_000)  # a small file that unpacks to much more
    with pytest.raises(FileRefused) as info:
        load_scenario(book)
    assert "the workbook unpacks to" in str(info.value)
    other = tmp_path / "other.zip.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(FileRefused, match="no xl/workbook.xml"):
        load_scenario(other)


def test_a_field_given_twice_or_a_bad_path_is_named(tmp_path):
    def edit(wb):
        run = wb["run"]
        run.append(["horizon_days", 30])
        run.append(["horizon_days..x", 1])
    book = _edited(tmp_path, edit)
    with pytest.raises(ScenarioError) as info:
        load_scenario(book)
    text = str(info.value)
    assert "sheet run, cell B" in text and "this field is given twice" in text
    assert "'horizon_days..x' is not a field path" in text


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A small run against a comparator read from a workbook, written with --excel."""
    folder = tmp_path_factory.mktemp("run")
    base, other = folder / "small.xlsx", folder / "more-beds.xlsx"
    api.template(base, SMALL)
    api.template(other, SMALL)
    wb = openpyxl.load_workbook(other)
    wb["services"][f"B{_row_of(wb['services'], 'acute.capacity')}"] = 200
    wb["scenario"][f"B{_row_of(wb['scenario'], 'name')}"] = "More beds"
    wb.save(other)
    out = folder / "results"
    status, printed, err = _main([str(other), "--compare", str(base), "-r", "2", "--horizon", "40", "--warmup", "20",
                                  "--workers", "1", "--out", str(out), "--no-report", "--excel"])
    assert status == 0, err
    assert f"Excel: {out / 'results.xlsx'}" in printed
    return out


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    sheets = pd.read_excel(path, sheet_name=None)
    return {name: frame.rename(columns=column_name) for name, frame in sheets.items()}


@pytest.mark.parametrize("name", ["summary", "comparison", "differences"])
def test_results_xlsx_read_back_equals_the_csvs(results, name):
    sheet = _sheets(results / "results.xlsx")[name]
    csv = pd.read_csv(results / f"{name}.csv")
    for column in csv.select_dtypes("number"):
        sheet[column] = pd.to_numeric(sheet[column])  # unlimited is the text 'inf' in Excel
    pd.testing.assert_frame_equal(sheet, csv, check_dtype=False, rtol=1e-12)


def test_results_xlsx_has_units_in_headers_numbers_as_numbers_census_and_costs(results):
    book = openpyxl.load_workbook(results / "results.xlsx", read_only=True)
    assert book.sheetnames == ["about", "summary", "comparison", "differences", "budget_impact", "capacity_freed",
                               "economic_summary", "daily census", "costs by payer"]
    headers = [c.value for c in next(book["costs by payer"].iter_rows(max_row=1))]
    assert headers == ["role", "payer", "mean (£, 2023/24 prices)", "ci_low (£, 2023/24 prices)",
                       "ci_high (£, 2023/24 prices)", "replications (count)"]
    assert "occupancy (people, mean of replications)" in [c.value for c in next(book["daily census"].iter_rows(max_row=1))]
    first = next(book["summary"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert isinstance(first[5], float)  # the mean is a number, not text
    rs = api.results(results)
    sheets = _sheets(results / "results.xlsx")
    census = sheets["daily census"]
    row = census[(census["role"] == "scenario") & (census["day"] == 0) & (census["service"] == "acute")].iloc[0]
    daily = rs.daily[(rs.daily["role"] == "scenario") & (rs.daily["day"] == 0) & (rs.daily["service"] == "acute")]
    assert row["occupancy"] == pytest.approx(daily["occupancy"].mean())
    costs = sheets["costs by payer"].set_index(["role", "payer"])
    for role in ("scenario", "comparator"):
        total = rs.costs[rs.costs["role"] == role].groupby("replication")["cost_gbp"].sum().mean()
        assert costs.xs(role)["mean"].sum() == pytest.approx(total)


def test_budget_impact_is_included_year_by_year_as_the_folder_has_it(results, tmp_path):
    path = api.to_excel(results, tmp_path / "with-budget.xlsx")
    written = pd.read_csv(results / "budget_impact.csv")
    # capacity freed is valued in money only where the scenario states its marginal value
    assert {"cash_releasing", "investment", "net"} <= set(written["kind"]) <= {"cash_releasing", "capacity_freed",
                                                                            "investment", "net"}
    pd.testing.assert_frame_equal(_sheets(path)["budget_impact"], written, check_dtype=False)


def test_a_workbook_may_extend_a_yaml_scenario_and_change_only_what_differs(tmp_path):
    book = openpyxl.Workbook()
    top = book.active
    top.title = "scenario"
    top.append(["field", "value"])
    top.append(["extends", str(ROOT / "scenarios" / "baseline.yaml")])
    top.append(["name", "Baseline with fewer acute beds"])
    services = book.create_sheet("services")
    services.append(["field", "value"])
    services.append(["acute.capacity", 1300])
    path = tmp_path / "fewer-beds.xlsx"
    book.save(path)
    scenario, baseline = load_scenario(path), load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert scenario.services["acute"].capacity == 1300 and scenario.name == "Baseline with fewer acute beds"
    assert scenario.with_changes({"services.acute.capacity": baseline.services["acute"].capacity, "name": baseline.name}).resolved == baseline.resolved


def test_text_from_a_scenario_is_written_as_text_never_as_a_formula_or_a_control_character(tmp_path):
    from sim.excel.results import _sheet

    book = openpyxl.Workbook()
    frame = pd.DataFrame({"name": ['=HYPERLINK("http://x","click")', "Gridlock\x1b[31m", "plain"], "n": [1.5, 2, 3]})
    _sheet(book, "about", frame)
    path = tmp_path / "t.xlsx"
    book.save(path)
    sheet = openpyxl.load_workbook(path)["about"]
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert cells[0].value == '=HYPERLINK("http://x","click")'
    assert cells[1].value == "Gridlock\\x1b[31m"
    assert sheet.cell(row=2, column=2).value == 1.5
