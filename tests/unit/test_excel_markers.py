"""In tables.xlsx only a withheld marker carries the 'Withheld' note: a p-value printed as
journals print it ('<0.001'), a dash or a 'not shown (...)' reason is shown as it is."""

from __future__ import annotations

import openpyxl

from imnm_cohort.outputs.excel import _put
from imnm_cohort.report.table_model import Number

CELLS = {
    "<5": True,
    "<=5": True,
    "[withheld]": True,
    "<0.001": False,
    "-": False,
    "not shown (fewer than 5 events)": False,
}


def test_only_withheld_markers_carry_the_note():
    sheet = openpyxl.Workbook().active
    for column, text in enumerate(CELLS, start=1):
        _put(sheet, 1, column, Number(text, "p", "p", 3), "Withheld.")
    noted = {text: sheet.cell(1, c).comment is not None for c, text in enumerate(CELLS, start=1)}
    assert noted == CELLS
