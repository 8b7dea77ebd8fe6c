"""The manuscript outputs on real run folders: Word and Excel tables, figure files, formats.

Every number in ``tables.docx`` and ``tables.xlsx`` is checked against ``summary.json``: the
Excel value must be the summary's value, the Word text the summary's value rounded as the
report rounds it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.report.manuscript import manuscript_tables
from tests.pipeline.readers import aggregate_texts, run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


ALL_FORMATS = '["html", "md", "json", "csv", "docx", "xlsx", "figures"]'


def lookup(summary: dict[str, Any], path: str) -> Any:
    """The summary's value at ``a.b[0].c`` (written here, apart from the toolkit's own)."""
    node: Any = summary
    for part in path.split("."):
        name, *indices = part.split("[")
        node = node.get(name) if isinstance(node, dict) else None
        for index in indices:
            node = node[int(index.rstrip("]"))] if isinstance(node, list) else None
    return node


def numbers_in(text: str) -> list[float]:
    return [float(t.replace(",", "")) for t in re.findall(r"-?\d[\d,]*\.?\d*", text)]


def rounded(value: Any, kind: str, digits: int) -> float | None:
    if kind == "p":
        return None if value < 0.001 else round(value, 3)
    if kind == "percent":
        return round(100 * value, digits)
    if kind == "count":
        return value
    return round(value, digits)


def pipeline(tmp_path: Path, extract: Path, extra: str = "", formats: str = ALL_FORMATS) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "out"\nformats = {formats}\n{extra}'
    )
    code, _, err = run("run", str(path))
    assert code == 0, err
    return tmp_path / "out" / "latest"


def test_every_number_in_the_word_tables_is_the_summarys(demo_run):
    folder = demo_run[0] / "latest"
    summary = json.loads((folder / "summary.json").read_text())
    document = docx.Document(str(folder / "tables.docx"))
    tables = manuscript_tables(summary)
    assert len(document.tables) == len(tables) == 7
    checked = 0
    for model, grid in zip(tables, document.tables, strict=True):
        for r, row in enumerate(model.rows, start=1):
            cells = grid.rows[r].cells
            assert cells[0].text.strip() == row.label
            for i, cell in enumerate(row.cells):
                if cell is None:
                    continue
                text = cells[1 + i].text
                values = [lookup(summary, n.path) for n in cell]
                if isinstance(values[0], str):  # withheld
                    assert text.startswith(values[0])
                    continue
                shown = [v for v in values if v is not None and not isinstance(v, str)]
                expected = [
                    rounded(v, n.kind, n.digits)
                    for v, n in zip(shown, cell, strict=False)
                    if rounded(v, n.kind, n.digits) is not None
                ]
                got = numbers_in(text)[: len(expected)]
                assert got == pytest.approx(expected, abs=1e-9), (model.key, row.label, text)
                checked += len(expected)
    assert checked > 150
    # A few cells found by their labels, with paths written out here.
    t1 = document.tables[0]
    header = [c.text.split("\n")[0] for c in t1.rows[0].cells]
    onset = next(r for r in t1.rows if r.cells[0].text.startswith("Onset age"))
    (onset_row,) = [
        r for r in summary["table_one"]["rows"] if r["variable"] == "age_at_onset_years"
    ]
    median = onset_row["cells"]["hmgcr"]["median"]
    assert numbers_in(onset.cells[header.index("anti-HMGCR")].text)[0] == round(median, 1)
    mal = document.tables[3]
    cancers = next(r for r in mal.rows if r.cells[0].text.startswith("Cancers after"))
    events = summary["comparisons"]["malignancy"]["groups"]["srp"]["events"]
    assert cancers.cells[2].text == str(events)


def test_every_number_in_the_workbook_is_the_summarys(demo_run):
    folder = demo_run[0] / "latest"
    summary = json.loads((folder / "summary.json").read_text())
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    assert book.sheetnames == [
        "Run", "table_1", "comparisons", "statin_latency", "malignancy",
        "cause_specific_cox", "fine_gray", "population_rates",
    ]  # fmt: skip
    checked = 0
    for model in manuscript_tables(summary):
        sheet = book[model.key]
        r = 5 if model.column_n else 4
        for row in model.rows:
            for s, _ in enumerate(row.statistics or ("",)):
                for i, cell in enumerate(row.cells):
                    if cell is None:
                        continue
                    got = sheet.cell(row=r, column=3 + i).value
                    want = lookup(summary, cell[s].path)
                    if isinstance(want, int | float):
                        assert isinstance(got, int | float), (model.key, row.label)
                        # Excel keeps 15 significant digits.
                        assert got == pytest.approx(want, rel=1e-14, abs=1e-300)
                        checked += 1
                    else:
                        assert got == want, (model.key, row.label)
                r += 1
    assert checked > 250
    mal = book["malignancy"]
    labels = [c.value for c in mal["A"]]
    header = [c.value for c in mal[3]]
    row = labels.index("Cancers after onset, n") + 1
    col = header.index("anti-HMGCR") + 1
    assert (
        mal.cell(row, col).value
        == summary["comparisons"]["malignancy"]["groups"]["hmgcr"]["events"]
    )
    p_row = labels.index("Cumulative incidence at 3 years, % (95% CI)") + 1
    p_cell = mal.cell(p_row, header.index("p") + 1)
    assert p_cell.value == pytest.approx(summary["comparisons"]["malignancy"]["p_value"])
    assert "0.000" in p_cell.number_format
    run_sheet = {r[0]: r[1] for r in book["Run"].iter_rows(min_row=3, values_only=True)}
    assert run_sheet["data cut-off"] == "2027-03-31"
    assert run_sheet["criteria"].startswith("tma2025")


def test_word_tables_are_journal_plain(demo_run):
    document = docx.Document(str(demo_run[0] / "latest" / "tables.docx"))
    xml = document.element.xml
    assert "w:shd" not in xml  # no shading
    grid = document.tables[0]
    header_borders = grid.rows[0].cells[1]._tc.xml
    assert "w:top" in header_borders and "w:bottom" in header_borders
    assert "w:bottom" in grid.rows[-1].cells[1]._tc.xml
    assert "w:bottom" not in grid.rows[1].cells[1]._tc.xml  # no rule inside the body
    assert grid.rows[1].cells[1].paragraphs[0].alignment == 2  # right-aligned number
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Kruskal-Wallis test" in text and "'<5' is a count from 1 to 4, withheld" in text
    assert "tma2025 criteria" in text
    assert "Methods" in text and "Aalen-Johansen" in text


def test_figures_as_files_for_a_journal(demo_run):
    figures = demo_run[0] / "latest" / "figures"
    stems = {"onset_age", "ck_peak", "statin_latency", "cancer_incidence", "survival"}
    assert {p.name for p in figures.iterdir()} == {
        f"{s}.{ext}" for s in stems for ext in ("svg", "pdf", "png")
    }
    from PIL import Image

    with Image.open(figures / "onset_age.png") as one, Image.open(figures / "survival.png") as two:
        assert one.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert one.size[0] == pytest.approx(85 / 25.4 * 300, abs=1)  # one column, 85 mm
        assert two.size[0] == pytest.approx(175 / 25.4 * 300, abs=1)  # two columns, 175 mm
    svg = (figures / "cancer_incidence.svg").read_text()
    assert "#0072b2" in svg.lower() and "At risk" in svg


def test_json_only_writes_summary_and_manifest(tmp_path):
    extract = write_extract(synthesize(300, seed=8), tmp_path / "x.csv")
    folder = pipeline(tmp_path, extract, formats='["json"]')
    # No patient-level file at all, not even the snapshot the next run compares with.
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "summary.json"]


def test_a_run_after_an_aggregate_only_run_says_why_it_cannot_compare(tmp_path):
    extract = write_extract(synthesize(300, seed=8), tmp_path / "x.csv")
    pipeline(tmp_path, extract, formats='["json"]')
    path = tmp_path / "p.toml"
    code, _, err = run("run", str(path))
    assert code == 0, err
    assert "not compared: the previous run has no snapshot.parquet" in err
    assert not (tmp_path / "out" / "latest" / "changes.json").exists()


def test_withheld_cells_in_the_workbook_are_text_with_a_note(tmp_path):
    extract = write_extract(synthesize(60, seed=3), tmp_path / "tiny.csv")
    folder = pipeline(tmp_path, extract)
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    withheld = [
        c for s in book.worksheets[1:] for row in s.iter_rows() for c in row if c.value == "<5"
    ]
    assert withheld
    assert all(c.comment is not None and "Withheld" in c.comment.text for c in withheld)


def _small_integers(text: str) -> list[str]:
    """Whole numbers from 1 to 4 standing alone (not part of a decimal, range or word)."""
    return re.findall(r"(?<![\d.,<±\w-])[1-4](?![\d.,%\w])", text)


@pytest.mark.parametrize(("n", "seed"), [(60, 2), (200, 5)])
def test_no_small_count_in_the_word_tables_workbook_or_figures(tmp_path, n, seed):
    # Suppression runs until nothing withheld can be inferred; at 60 patients seed 5
    # withholds every count of the workbook, so that seed is checked at 200 patients.
    extract = write_extract(synthesize(n, seed=seed, dirty=0.05), tmp_path / "tiny.csv")
    folder = pipeline(tmp_path, extract)
    checked = 0
    for sheet in openpyxl.load_workbook(folder / "tables.xlsx").worksheets[1:]:
        counts = [
            c
            for row in sheet.iter_rows()
            for c in row
            if c.number_format == "#,##0" and not str(sheet.cell(c.row, 1).value).startswith("Pe")
        ]
        checked += len(counts)
        for c in counts:
            value = c.value
            small = isinstance(value, int | float) and 0 < value < 5
            assert not small, (sheet.title, c.coordinate)
    # Suppression now runs until nothing withheld can be inferred: a 60-patient run
    # shows fewer counts (6 in the workbook for seed 5), still enough to check.
    assert checked > 5
    document = docx.Document(str(folder / "tables.docx"))
    for table in document.tables:
        for row in table.rows:
            if row.cells[0].text.startswith("Person-years"):
                continue  # time, not a count of patients
            for cell in row.cells[1:]:
                text = re.sub(r"\d+\.\d+", "", cell.text)  # decimals are not counts
                assert _small_integers(text) == [], (row.cells[0].text, cell.text)
    for name, text in aggregate_texts(folder).items():
        if name.startswith("figures/"):
            assert not re.findall(r"n=[1-4]\b", text), name


def test_spreadsheet_text_is_neutralised(tmp_path):
    extract = write_extract(synthesize(120, seed=4), tmp_path / "x.csv")
    extra = '[report]\ntitle = "=HYPERLINK(\\"http://example.org\\")"\nauthors = ["+A. Author"]\n'
    folder = pipeline(tmp_path, extract, extra)
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere
    assert book["Run"]["A1"].value == '\'=HYPERLINK("http://example.org")'
    run_sheet = {r[0]: r[1] for r in book["Run"].iter_rows(min_row=3, values_only=True)}
    assert run_sheet["authors"] == "'+A. Author"
    html = (folder / "report.html").read_text()
    assert "=HYPERLINK(&#34;http://example.org&#34;)" in html
