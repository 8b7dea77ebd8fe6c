"""``tables.xlsx``: the manuscript tables as a workbook a co-author can re-sort (openpyxl).

* A first sheet ``Run`` holds the run's metadata; then one sheet per table.
* One statistic per row (``median``, ``Q1``, ``Q3`` are three rows, each with its label, so
  that rows keep their meaning when sorted or filtered), one group per column:
  every number is stored as a number, exactly as in ``summary.json`` (proportions stay
  proportions, shown as percentages by the cell format); p-values carry a display format.
* A withheld value is the text of the marker (``<5``) with a cell note saying why; a value
  that is not available is an empty cell.
* Text that does not come from the toolkit (titles, file names, labels) is neutralised like
  the CSV files: text that a spreadsheet would run as a formula gets a leading ``'``; a
  character that the file's XML cannot hold becomes U+FFFD
  (:func:`~imnm_cohort.outputs.xml_text.xml_text`).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from imnm_cohort.io.tables import spreadsheet_safe, write_bytes
from imnm_cohort.outputs.registry import RunOutputs
from imnm_cohort.outputs.xml_text import xml_text
from imnm_cohort.report.labels import TEST_NAMES
from imnm_cohort.report.manuscript import manuscript_tables
from imnm_cohort.report.render import disclosure_note
from imnm_cohort.report.table_model import Number, Table, common_footnotes

FORMATS = {
    "count": "#,##0",
    "decimal": "0.0",
    "percent": "0.0%",
    "p": '[<0.001]"<0.001";0.000',
}


#: A withheld marker: '[withheld]', '<5' or '<=5' (a rounded p-value '<0.001' is not one).
_MARKER = re.compile(r"\[withheld\]|<=?\d+")


def _text(value: Any) -> str:
    return spreadsheet_safe(xml_text(value))


def _put(ws: Any, row: int, col: int, number: Number, note: str) -> None:
    from openpyxl.comments import Comment

    cell = ws.cell(row=row, column=col)
    value = number.value
    if isinstance(value, bool):
        cell.value = "yes" if value else "no"
    elif isinstance(value, int | float):
        cell.value = value
        fmt = FORMATS[number.kind]
        if number.kind == "decimal" and number.digits != 1:
            fmt = "#,##0" if number.digits == 0 else "0." + "0" * number.digits
        cell.number_format = fmt
    elif isinstance(value, str):
        cell.value = _text(value)
        if _MARKER.fullmatch(value):  # not '<0.001', a dash or a 'not shown (...)' note
            cell.comment = Comment(note, "imnm-cohort")


def _sheet(wb: Any, table: Table, meta: dict[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(table.key)
    ws.cell(row=1, column=1, value=_text(table.title)).font = Font(bold=True)
    header = ["", "statistic", *table.columns, "p", "test", *table.extra]
    for col, name in enumerate(header, start=1):
        ws.cell(row=3, column=col, value=_text(name) if name else None).font = Font(bold=True)
    note = "Withheld. " + disclosure_note(meta.get("min_cell_count", 0), meta.get("rounding", 0))
    r = 4
    if table.column_n:
        ws.cell(row=r, column=1, value="Patients")
        ws.cell(row=r, column=2, value="n")
        for i, n in enumerate(table.column_n):
            if n is not None:
                _put(ws, r, 3 + i, n, note)
        r += 1
    p_col = 3 + len(table.columns)
    for row in table.rows:
        names = row.statistics or ("",)
        for s, name in enumerate(names):
            ws.cell(row=r, column=1, value=_text(row.label)).alignment = Alignment(
                indent=row.indent
            )
            ws.cell(row=r, column=2, value=name or None)
            for i, cell in enumerate(row.cells):
                if cell is not None:
                    _put(ws, r, 3 + i, cell[s], note)
            if s == 0 and row.p is not None and row.p.value is not None:
                _put(ws, r, p_col, row.p, note)
                ws.cell(row=r, column=p_col + 1, value=TEST_NAMES.get(row.test or "", row.test))
            for k, number in enumerate(row.extra if s == 0 else ()):
                if number is not None:
                    _put(ws, r, p_col + 2 + k, number, note)
            r += 1
    # A filter on the header row: sort and filter in Excel without selecting the range.
    ws.auto_filter.ref = f"A3:{get_column_letter(p_col + 1 + len(table.extra))}{r - 1}"
    r += 1
    for line in (*table.footnotes, *common_footnotes(table, meta)):
        ws.cell(row=r, column=1, value=_text(line))
        r += 1
    ws.column_dimensions["A"].width = 44
    ws.freeze_panes = "C4"


def tables_xlsx(summary: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """The workbook's bytes."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Run"
    ws.cell(row=1, column=1, value=_text(meta["title"])).font = Font(bold=True)
    for r, (key, value) in enumerate(meta["run_rows"], start=3):
        ws.cell(row=r, column=1, value=_text(key)).font = Font(bold=True)
        ws.cell(row=r, column=2, value=value if isinstance(value, int) else _text(value))
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 90
    for table in manuscript_tables(summary):
        _sheet(wb, table, meta)
    wb.properties.creator = "imnm-cohort"
    wb.properties.created = wb.properties.modified = dt.datetime(2000, 1, 1)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_xlsx(out: RunOutputs, folder: Path) -> list[Path]:
    """Write ``tables.xlsx``."""
    return [write_bytes(tables_xlsx(out.summary, out.meta), folder / "tables.xlsx")]
