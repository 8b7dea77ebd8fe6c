"""Every number of ``tables.docx`` and ``tables.xlsx``, read back with python-docx and
openpyxl, held against ``summary.json``'s decisions: nothing that the summary withholds is
shown in Word or Excel, and every number shown is the summary's.

The tables are written from a small cohort's disclosure-controlled summary (many values
withheld), through the stages a run uses, so that the test does not depend on whether the
run would pass its self-check.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.disclosure import WITHHELD, _get
from imnm_cohort.pipeline.meta import report_meta
from imnm_cohort.report.manuscript import manuscript_tables

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readback")
    extract = write_extract(synthesize(60, seed=5), folder / "extract.csv")
    config = load_pipeline(None).with_overrides(extract, folder / "runs")
    result = stages.validate(config, stages.read(config))
    criteria, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    meta = report_meta(
        config=config,
        criteria=criteria,
        methods=analysis.methods(),
        run_name="readback",
        started=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        input_sha="0" * 64,
        withheld_count=len(disclosed.summary.withheld),
    )
    return disclosed.summary.data, meta


def _value(summary, dotted_path: str):
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", dotted_path):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return _get(summary, tuple(parts))


def _withheld(value) -> bool:
    return isinstance(value, str)


def test_the_cohort_has_withheld_values(published) -> None:
    summary, _ = published
    numbers = [n for t in manuscript_tables(summary) for r in t.rows for n in r.numbers()]
    assert any(_withheld(_value(summary, n.path)) for n in numbers)


def test_every_excel_number_is_the_summarys_and_none_is_withheld(published) -> None:
    import openpyxl

    from imnm_cohort.outputs.excel import tables_xlsx

    summary, meta = published
    book = openpyxl.load_workbook(io.BytesIO(tables_xlsx(summary, meta)))
    checked = 0
    for table in manuscript_tables(summary):
        sheet = book[table.key]
        r = 4
        expected = []
        if table.column_n:
            expected += [(r, 3 + i, n) for i, n in enumerate(table.column_n) if n is not None]
            r += 1
        for row in table.rows:
            for s in range(len(row.statistics or ("",))):
                expected += [(r, 3 + i, c[s]) for i, c in enumerate(row.cells) if c is not None]
                if s == 0 and row.p is not None and row.p.value is not None:
                    expected.append((r, 3 + len(table.columns), row.p))
                r += 1
        for at, col, number in expected:
            value = _value(summary, number.path)
            cell = sheet.cell(row=at, column=col).value
            if _withheld(value):
                assert cell == value, f"{table.key}!{at},{col}: {cell!r}; {number.path} withheld"
            elif isinstance(value, int | float) and not isinstance(value, bool):
                assert cell == pytest.approx(value), f"{table.key}!{at},{col}: {number.path}"
            checked += 1
        # No number anywhere in the table's cells but where the summary shows one.
        shown_at = {
            (at, col)
            for at, col, n in expected
            if isinstance(_value(summary, n.path), int | float)
            and not isinstance(_value(summary, n.path), bool)
        }
        for line in sheet.iter_rows(min_row=4, max_row=r - 1, min_col=3):
            for cell in line:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    assert (cell.row, cell.column) in shown_at, f"{table.key}!{cell.coordinate}"
    assert checked > 0


def test_every_word_number_is_the_summarys_and_none_is_withheld(published) -> None:
    import docx

    from imnm_cohort.outputs.word import tables_docx

    summary, meta = published
    document = docx.Document(io.BytesIO(tables_docx(summary, meta)))
    tables = manuscript_tables(summary)
    assert len(document.tables) == len(tables)
    for grid, table in zip(document.tables, tables, strict=True):
        for r, row in enumerate(table.rows, start=1):
            cells = grid.rows[r].cells
            for i, numbers in enumerate(row.cells):
                if numbers is None:
                    continue
                text = cells[1 + i].text
                shown = [n.text() for n in numbers if not _withheld(_value(summary, n.path))]
                hidden = [_value(summary, n.path) for n in numbers]
                allowed = set(shown) | {
                    m for v in hidden if _withheld(v) for m in NUMBER.findall(v)
                }
                for found in NUMBER.findall(text):
                    assert found in allowed or any(found in s for s in shown), (
                        f"{table.key} row {row.label!r} column {i}: {found} in {text!r}"
                    )
                if all(_withheld(v) for v in hidden):
                    assert text in {v for v in hidden} | {WITHHELD}, text
