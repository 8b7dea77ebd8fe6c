"""Excel ``.xlsx`` workbooks: the first sheet's cells as Excel shows them, or a refusal.

Read through openpyxl (read-only, saved values), one cell at a time, so that what a sheet
holds is never changed without a word:

* An **error value** (``#DIV/0!``, ``#N/A``, ``#VALUE!``, ``#REF!``, ``#NAME?``, ``#NUM!``,
  ``#NULL!``, ...) is read as its text and reported as ``spreadsheet_error``; it is never
  an empty cell (an empty antibody result would read as ``not_tested``).
* A **formula whose result was never saved** (a file written by a program that does not
  calculate) is read as its formula text and reported as ``formula_without_value``.
* Excel's serial day **60** is 1900-02-29, a day that never was (Excel keeps the Lotus 1-2-3
  leap-year bug). It is read as the text ``1900-02-29``, which a date column refuses as
  ``not_a_date``; it is never moved to 1900-02-28 or 1900-03-01.
* **Merged cells** hold their value in the first cell of the range only: the sheet is
  refused, naming the ranges, rather than read with empty cells below a merged value.
* **Memory is bounded before any text is expanded:** a workbook that unpacks to more than
  :data:`MAX_UNPACKED_BYTES`, a cell longer than Excel's own limit of
  :data:`MAX_CELL_CHARS` characters, or a sheet holding more than :data:`MAX_SHEET_CHARS`
  characters of text in all (a short string shared by millions of cells) is refused.

The problems in cells are returned beside the text (``DataFrame.attrs["cell_problems"]``
of the frame the reader makes); validation turns them into quarantine reasons.
"""

from __future__ import annotations

import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

from imnm_cohort.errors import ExtractError, one_line

#: Excel's limit on the characters of one cell ("Excel specifications and limits").
MAX_CELL_CHARS = 32_767
#: The most text the first sheet may hold in all, in characters, once shared strings are
#: expanded into their cells.
MAX_SHEET_CHARS = 1 << 28
#: The most a workbook may unpack to (every part of the zip archive together).
MAX_UNPACKED_BYTES = 1 << 30
#: The day Excel numbers 60 in the 1900 date system: 29 February 1900, which never was.
NO_SUCH_DAY = "1900-02-29"


def read_xlsx(path: Path) -> tuple[list[list[Any]], list[tuple[int, int, str, str]]]:
    """The first sheet's cells, row by row from cell A1, and the problems found in them.

    Parameters
    ----------
    path : Path
        An ``.xlsx`` workbook.

    Returns
    -------
    rows : list of list
        The cells of each row (Python values as openpyxl reads them; None where empty),
        from row 1 and column A; rows may differ in length.
    problems : list of tuple
        ``(row, column, rule, text)``: 0-based sheet row and column, the rule
        (``spreadsheet_error``, ``formula_without_value``) and the cell's text.

    Raises
    ------
    ExtractError
        The file is not an ``.xlsx`` workbook, has merged cells, or is too large to read
        safely; nothing has been read.
    """
    _check_unpacked_size(path)
    try:
        import openpyxl

        with warnings.catch_warnings():  # openpyxl warns about styles it does not know
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError ... for bad files
        raise _unreadable(path, exc) from None
    try:
        if not workbook.worksheets:
            raise ExtractError(f"{path}: the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        longest = max(map(len, sheet._shared_strings), default=0)
        if longest > MAX_CELL_CHARS:
            raise ExtractError(
                f"{path}: a cell holds {longest:,} characters, more than Excel's limit of "
                f"{MAX_CELL_CHARS:,}; this is not a workbook Excel wrote"
            )
        return _sheet_cells(sheet, path)
    except ExtractError:
        raise
    except Exception as exc:  # a damaged sheet part
        raise _unreadable(path, exc) from None
    finally:
        workbook.close()


def _check_unpacked_size(path: Path) -> None:
    """Refuse a workbook whose parts unpack to more than :data:`MAX_UNPACKED_BYTES`, from
    the zip directory alone (a few kilobytes of a zip file can unpack to gigabytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ExtractError(
            f"{path}: the workbook unpacks to {unpacked:,} bytes, more than the "
            f"{MAX_UNPACKED_BYTES:,} an .xlsx extract may hold; save the sheet as CSV"
        )


def _sheet_cells(sheet: Any, path: Path) -> tuple[list[list[Any]], list[tuple[int, int, str, str]]]:
    from openpyxl.utils.datetime import WINDOWS_EPOCH
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    problems: list[tuple[int, int, str, str]] = []
    budget = [MAX_SHEET_CHARS]
    leap_bug = sheet.parent.epoch == WINDOWS_EPOCH

    class CellParser(WorkSheetParser):
        """openpyxl's parser, keeping what it drops: formulas without a saved value,
        error values, the 1900 serial 60, and the length of every text cell."""

        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)
            value, kind = cell["value"], cell["data_type"]
            row, column = cell["row"] - 1, cell["column"] - 1
            if (
                element.find(FORMULA_TAG) is not None
                and not element.findtext(VALUE_TAG)
                and element.get("t") != "str"  # a saved text result may be empty
            ):
                cell["value"] = "=" + (element.findtext(FORMULA_TAG) or "")
                problems.append((row, column, "formula_without_value", cell["value"]))
            elif kind == "e":
                cell["value"] = str(value)
                problems.append((row, column, "spreadsheet_error", cell["value"]))
            elif kind == "d" and leap_bug and _serial(element.findtext(VALUE_TAG)) == 60:
                cell["value"] = NO_SUCH_DAY
            elif isinstance(value, str):
                if len(value) > MAX_CELL_CHARS:  # an inline string (shared ones were checked)
                    raise ExtractError(
                        f"{path}: a cell holds {len(value):,} characters, more than Excel's "
                        f"limit of {MAX_CELL_CHARS:,}"
                    )
                budget[0] -= len(value)
                if budget[0] < 0:
                    raise ExtractError(
                        f"{path}: the first sheet holds more than {MAX_SHEET_CHARS:,} "
                        "characters of text; save it as CSV"
                    )
            return cell

    rows: list[list[Any]] = []
    with warnings.catch_warnings(), sheet._get_source() as source:
        warnings.simplefilter("ignore")  # a date beyond Excel's limits: openpyxl warns
        parser = CellParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=sheet.parent.epoch,
            date_formats=sheet.parent._date_formats,
            timedelta_formats=sheet.parent._timedelta_formats,
        )
        for number, cells in parser.parse():
            while len(rows) < number - 1:  # rows with no cell are not written
                rows.append([])
            values: list[Any] = []
            for cell in cells:
                values.extend([None] * (cell["column"] - 1 - len(values)))
                values.append(cell["value"])
            rows.append(values)
    merged = parser.merged_cells
    if merged is not None and merged.mergeCell:
        ranges = [str(m.ref) for m in merged.mergeCell]
        shown = ", ".join(ranges[:5]) + (f" and {len(ranges) - 5} more" if len(ranges) > 5 else "")
        raise ExtractError(
            f"{path}: the first sheet has merged cells ({shown}); a merged range holds its "
            "value in its first cell only, so the other rows would read as empty: unmerge "
            "the cells and fill each one, then save again"
        )
    return rows, problems


def _serial(text: str | None) -> int | None:
    """The whole day of an Excel serial number written in a cell (None if unreadable)."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return math.floor(value) if math.isfinite(value) else None


def data_problems(
    problems: list[tuple[int, int, str, str]], columns: list[str], rows: int
) -> tuple[tuple[int, str, str, str], ...]:
    """The problems of data cells as ``(index, column, rule, value)``: 0-based data row
    (below the header row), the column's name, the rule and the cell's text. Problems in
    the header row are left out (the header is read as its text)."""
    return tuple(
        (row - 1, columns[column], rule, text)
        for row, column, rule, text in problems
        if 1 <= row <= rows and column < len(columns)
    )


def _unreadable(path: Path, exc: BaseException) -> ExtractError:
    return ExtractError(f"{path}: cannot be read as an .xlsx workbook ({one_line(exc)})")
