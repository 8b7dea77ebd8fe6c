"""Rows with every cell empty after the last patient (Excel's ``,,,`` lines, a sheet's
formatted empty rows) are no patients: they are skipped, counted and reported, never lost
silently. Rows below the header = input rows + empty rows; input = valid + quarantined."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from imnm_cohort import classify_in_batches, load_extract, synthesize
from imnm_cohort.cli import main

PATIENTS, EMPTY = 20, 30
NOTE = f"{EMPTY} empty rows (every cell empty) after the last data row skipped"


@pytest.fixture
def excel_csv(tmp_path):
    """20 patients, then 30 rows of commas only, as Excel saves a sheet it once formatted."""
    path = tmp_path / "extract.csv"
    synthesize(PATIENTS, seed=4).to_csv(path, index=False)
    width = len(path.read_text().splitlines()[0].split(","))
    with path.open("a") as handle:
        handle.write(("," * (width - 1) + "\n") * EMPTY)
    return path


@pytest.fixture
def workbook(tmp_path):
    """20 patients, then 30 rows of cells with a format but no value (one a lone space)."""
    path = tmp_path / "extract.xlsx"
    frame = synthesize(PATIENTS, seed=4)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if v is None or v != v else v for v in row])
    for r in range(PATIENTS + 2, PATIENTS + 2 + EMPTY):
        for c in (1, 5):
            sheet.cell(row=r, column=c).number_format = "0.00"
    sheet.cell(row=PATIENTS + 2, column=2, value=" ")
    book.save(path)
    return path


@pytest.mark.parametrize("name", ["excel_csv", "workbook"])
def test_empty_rows_are_counted_beside_the_input_rows(name, request):
    path = request.getfixturevalue(name)
    result = load_extract(path)
    assert (result.input_rows, result.empty_rows) == (PATIENTS, EMPTY)
    assert result.input_rows == result.valid_rows + result.quarantined_rows
    assert result.to_dict()["counts"]["empty_rows"] == EMPTY


@pytest.mark.parametrize("name", ["excel_csv", "workbook"])
def test_validate_says_so_in_the_terminal_and_the_report(name, request, tmp_path):
    path = request.getfixturevalue(name)
    out, folder = io.StringIO(), tmp_path / "checked"
    assert main(["validate", str(path), "-o", str(folder)], stdout=out, stderr=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{path}: {PATIENTS} rows: {PATIENTS} valid, 0 quarantined"
    assert lines[1] == f"  note        {NOTE}"
    report = json.loads((folder / "validation_report.json").read_text())
    assert report["counts"]["empty_rows"] == EMPTY
    assert f"| empty, skipped | {EMPTY} |" in (folder / "validation_report.md").read_text()


def test_batches_count_them_too(excel_csv, tmp_path):
    result = classify_in_batches(excel_csv, tmp_path / "classified.csv", batch_rows=7)
    assert (result.input_rows, result.empty_rows) == (PATIENTS, EMPTY)


def test_a_file_without_them_reports_nothing_new(tmp_path):
    path = tmp_path / "extract.csv"
    synthesize(PATIENTS, seed=4).to_csv(path, index=False)
    result = load_extract(path)
    assert result.empty_rows == 0 and "empty_rows" not in result.to_dict()["counts"]


def test_a_run_publishes_the_count_and_notes_it(excel_csv, tmp_path):
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text(
        f'[input]\nextract = "{excel_csv.name}"\n[output]\nroot = "runs"\nformats = ["json"]\n'
    )
    err = io.StringIO()
    assert main(["run", str(pipeline)], stdout=io.StringIO(), stderr=err) == 0
    assert f"{excel_csv.name}: {NOTE}" in err.getvalue()
    latest = tmp_path / "runs" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    assert summary["counts"]["empty_rows"] == EMPTY
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["rows"]["empty"] == EMPTY
    assert f"{excel_csv.name}: {NOTE}" in manifest["notes"]
