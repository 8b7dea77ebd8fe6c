"""Every number of ``tables.docx`` and ``tables.xlsx``, read back with python-docx and
openpyxl, held against ``summary.json``'s decisions: nothing that the summary withholds is
shown in Word or Excel, and every number shown is the summary's.

The tables are written from a small cohort's disclosure-controlled summary (many values
withheld), through the stages a run uses, so that the test does not depend on whether the
run would pass its self-check.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
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
    truth = stages.build_summary(config, result, classified, analysis)
    return disclosed.summary.data, meta, truth


def _value(summary, dotted_path: str):
    """The summary's value at a dotted path (``a.b[0].c``)."""
    node = summary
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", dotted_path):
        if node is None or isinstance(node, str):  # a withheld (or absent) interval:
            return node  # each bound is withheld (or absent) with it
        node = node[int(token[1:-1])] if token.startswith("[") else node[token]
    return node


def _withheld(value) -> bool:
    return isinstance(value, str)


def test_the_cohort_has_withheld_values(published) -> None:
    summary, _, _ = published
    numbers = [n for t in manuscript_tables(summary) for r in t.rows for n in r.numbers()]
    assert any(_withheld(_value(summary, n.path)) for n in numbers)


def _excel_problems(decisions, workbook: bytes) -> list[str]:
    """Cells of the workbook that disagree with ``summary.json`` (``decisions``): a number
    where the summary withholds the value, or a number that is not the summary's."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook))
    problems = []
    for table in manuscript_tables(decisions):
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
        shown_at = set()
        for at, col, number in expected:
            value = _value(decisions, number.path)
            cell = sheet.cell(row=at, column=col).value
            where = f"{table.key}!{sheet.cell(row=at, column=col).coordinate} ({number.path})"
            if _withheld(value) and cell not in (value, None):
                # The marker, or empty for a bound of a withheld interval.
                problems.append(f"{where}: {cell!r} where summary.json withholds it")
            elif _is_number(value):
                shown_at.add((at, col))
                if not _is_number(cell) or cell != pytest.approx(value):
                    problems.append(f"{where}: {cell!r} is not summary.json's {value!r}")
        # No number anywhere in the table's cells but where the summary shows one.
        for line in sheet.iter_rows(min_row=4, max_row=r - 1, min_col=3):
            for cell in line:
                if _is_number(cell.value) and (cell.row, cell.column) not in shown_at:
                    problems.append(f"{table.key}!{cell.coordinate}: an unexpected number")
    return problems


def _word_problems(decisions, document_bytes: bytes) -> list[str]:
    """Numbers of the Word tables that ``summary.json`` (``decisions``) does not show there."""
    import docx

    document = docx.Document(io.BytesIO(document_bytes))
    tables = manuscript_tables(decisions)
    assert len(document.tables) == len(tables)
    problems = []
    for grid, table in zip(document.tables, tables, strict=True):
        for r, row in enumerate(table.rows, start=1):
            cells = grid.rows[r].cells
            for i, numbers in enumerate(row.cells):
                if numbers is None:
                    continue
                text = cells[1 + i].text
                values = [_value(decisions, n.path) for n in numbers]
                shown = [n.text() for n, v in zip(numbers, values, strict=True) if not _withheld(v)]
                markers = {m for v in values if _withheld(v) for m in NUMBER.findall(v)}
                for found in NUMBER.findall(text):
                    if found not in markers and not any(found in t for t in shown):
                        problems.append(f"{table.key} {row.label!r} column {i}: {text!r}")
    return problems


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tampered(summary, truth):
    """The summary with one withheld count of Table 1 put back: what a leak would write."""
    tampered = copy.deepcopy(summary)
    for i, row in enumerate(summary["table_one"]["rows"]):
        for g, cell in row["cells"].items():
            for level, value in (cell.get("counts") or {}).items():
                true = truth["table_one"]["rows"][i]["cells"][g]["counts"][level]
                if _withheld(value) and true > 0:
                    tampered["table_one"]["rows"][i]["cells"][g]["counts"][level] = true
                    return tampered
    raise AssertionError("no withheld count in Table 1")


def test_every_excel_number_is_the_summarys_and_none_is_withheld(published) -> None:
    from imnm_cohort.outputs.excel import tables_xlsx

    summary, meta, truth = published
    assert _excel_problems(summary, tables_xlsx(summary, meta)) == []
    assert _excel_problems(summary, tables_xlsx(_tampered(summary, truth), meta))


def test_every_word_number_is_the_summarys_and_none_is_withheld(published) -> None:
    from imnm_cohort.outputs.word import tables_docx

    summary, meta, truth = published
    assert _word_problems(summary, tables_docx(summary, meta)) == []
    assert _word_problems(summary, tables_docx(_tampered(summary, truth), meta))
