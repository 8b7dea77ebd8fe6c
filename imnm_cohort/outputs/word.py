"""``tables.docx``: the manuscript tables as a Word document (python-docx).

Journal-plain styling: no shading and no vertical lines; three horizontal rules (above and
below the column headings, and below the last row); numbers right-aligned; the report's
rounding. Each table has its title above and its footnotes below (the test behind each
p-value, what the withheld marker means, the criteria set); the methods follow the tables.
Every text passes through :func:`~imnm_cohort.outputs.xml_text.xml_text`: a control
character from the data cannot stop the document being written.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from imnm_cohort.io.tables import write_bytes
from imnm_cohort.outputs.registry import RunOutputs
from imnm_cohort.outputs.xml_text import xml_text
from imnm_cohort.report.manuscript import manuscript_tables
from imnm_cohort.report.table_model import Table, common_footnotes

FONT_PT = 9


def _rule(cell: Any, edge: str) -> None:
    """A single horizontal rule on one edge (``top`` or ``bottom``) of a cell."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    pr = cell._tc.get_or_add_tcPr()
    borders = pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        pr.append(borders)
    line = OxmlElement(f"w:{edge}")
    for key, value in (("val", "single"), ("sz", "8"), ("space", "0"), ("color", "000000")):
        line.set(qn(f"w:{key}"), value)
    borders.append(line)


def _write_cell(cell: Any, text: str, *, right: bool, bold: bool = False, mark: str = "") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run(xml_text(text))
    run.font.size = Pt(FONT_PT)
    run.bold = bold
    if mark:
        sup = paragraph.add_run(mark)
        sup.font.size = Pt(FONT_PT)
        sup.font.superscript = True


def _add_table(document: Any, table: Table, meta: dict[str, Any]) -> None:
    from docx.shared import Pt

    heading = document.add_paragraph()
    heading.add_run(xml_text(table.title)).bold = True
    has_p = table.has_p()
    width = 1 + len(table.columns) + (1 if has_p else 0) + len(table.extra)
    last = 1 + len(table.columns) + (1 if has_p else 0)  # the first extra column
    grid = document.add_table(rows=1 + len(table.rows), cols=width)
    header = grid.rows[0].cells
    _write_cell(header[0], "", right=False)
    for i in range(len(table.columns)):
        name, n = table.column_heading(i)
        _write_cell(header[1 + i], f"{name}\n{n}" if n else name, right=True, bold=True)
    if has_p:
        _write_cell(header[last - 1], "p", right=True, bold=True)
    for k, name in enumerate(table.extra):
        _write_cell(header[last + k], name, right=True, bold=True)
    for r, row in enumerate(table.rows, start=1):
        cells = grid.rows[r].cells
        _write_cell(cells[0], "    " * row.indent + row.label, right=False)
        for i in range(len(table.columns)):
            _write_cell(cells[1 + i], row.cell_text(i), right=True)
        if has_p:
            text, mark = table.p_cell(row)
            _write_cell(cells[last - 1], text, right=True, mark=mark)
        for k in range(len(table.extra)):
            _write_cell(cells[last + k], row.extra_text(k), right=True)
    for cell in grid.rows[0].cells:
        _rule(cell, "top")
        _rule(cell, "bottom")
    for cell in grid.rows[-1].cells:
        _rule(cell, "bottom")
    for note in (*table.footnotes, *common_footnotes(table, meta)):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run(xml_text(note)).font.size = Pt(FONT_PT - 1)
    document.add_paragraph()


def tables_docx(summary: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """The Word document's bytes (deterministic apart from Word's own timestamps)."""
    import datetime as dt

    from docx import Document

    document = Document()
    props = document.core_properties
    props.title = xml_text(meta["title"])
    props.author = xml_text("; ".join(meta.get("authors") or []) or "imnm-cohort")
    props.created = props.modified = dt.datetime(2000, 1, 1)
    props.last_modified_by = "imnm-cohort"
    props.revision = 1
    document.add_heading(xml_text(meta["title"]), level=1)
    for line in meta.get("heading_lines", []):
        document.add_paragraph(xml_text(line))
    for table in manuscript_tables(summary):
        _add_table(document, table, meta)
    document.add_heading("Methods", level=2)
    for paragraph in meta["methods_paragraphs"]:
        document.add_paragraph(xml_text(paragraph))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_docx(out: RunOutputs, folder: Path) -> list[Path]:
    """Write ``tables.docx``."""
    return [write_bytes(tables_docx(out.summary, out.meta), folder / "tables.docx")]
