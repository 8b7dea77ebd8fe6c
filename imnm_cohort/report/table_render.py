"""The manuscript tables as HTML and as Markdown, from the same :class:`Table` as Word and Excel.

A table reads the same in every format: its title; the column headings with each column's
patients; one row per :class:`~imnm_cohort.report.table_model.Row` (the label indented by
its level, each cell :meth:`~imnm_cohort.report.table_model.Row.cell_text`); the p column
with the footnote letter of its test; any columns after it (Table 1's SMD); then the
footnotes: the table's own, then those every table carries
(:func:`~imnm_cohort.report.table_model.common_footnotes`). Only the markup differs. Every
text is escaped (:func:`~imnm_cohort.io.escape.html_text`,
:func:`~imnm_cohort.io.escape.md_text`): a label from the data is shown, never run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imnm_cohort.io.escape import html_text, md_text
from imnm_cohort.report.table_model import Table, common_footnotes


def footnotes(table: Table, meta: dict[str, Any]) -> list[str]:
    """Every footnote of ``table`` as Word and Excel write them: its own, then the common."""
    return [*table.footnotes, *common_footnotes(table, meta)]


def _mark(mark: str) -> str:
    return f"<sup>{html_text(mark)}</sup>" if mark else ""


def to_html(
    table: Table, notes: Sequence[str], *, level: int = 3, anchor: str | None = None
) -> str:
    """``table`` as an HTML heading, table and footnotes (``notes``: :func:`footnotes`).

    ``level`` is the heading's level and ``anchor`` its ``id``. A table without rows
    shows its title and footnotes only.
    """
    ident = f' id="{html_text(anchor)}"' if anchor else ""
    out = [f"<h{level}{ident}>{html_text(table.title)}</h{level}>"]
    if table.rows:
        has_p = table.has_p()
        head = ["<th></th>"]
        for i in range(len(table.columns)):
            name, n = table.column_heading(i)
            small = f'<br><span class="small">{html_text(n)}</span>' if n else ""
            head.append(f"<th>{html_text(name)}{small}</th>")
        if has_p:
            head.append("<th>p</th>")
        head += [f"<th>{html_text(name)}</th>" for name in table.extra]
        out += ['<table class="manuscript">', f"<tr>{''.join(head)}</tr>"]
        for row in table.rows:
            style = f' style="padding-left: {0.5 + 1.2 * row.indent:g}rem"' if row.indent else ""
            cells = [f"<td{style}>{html_text(row.label)}</td>"]
            cells += [
                f'<td class="num">{html_text(row.cell_text(i))}</td>'
                for i in range(len(table.columns))
            ]
            if has_p:
                text, mark = table.p_cell(row)
                cells.append(f'<td class="num">{html_text(text)}{_mark(mark)}</td>')
            cells += [
                f'<td class="num">{html_text(row.extra_text(k))}</td>'
                for k in range(len(table.extra))
            ]
            out.append(f"<tr>{''.join(cells)}</tr>")
        out.append("</table>")
    out += [f'<p class="note">{html_text(note)}</p>' for note in notes]
    return "\n".join(out) + "\n"


def to_markdown(table: Table, notes: Sequence[str], *, level: int = 3) -> list[str]:
    """``table`` as Markdown lines: a heading, a pipe table and footnotes (``notes``:
    :func:`footnotes`); the footnote letter of a test is a ``<sup>`` after the p-value."""
    out = [f"{'#' * level} {md_text(table.title)}", ""]
    if table.rows:
        has_p = table.has_p()
        head = [""]
        for i in range(len(table.columns)):
            name, n = table.column_heading(i)
            head.append(f"{name} {n}" if n else name)
        head += [*(["p"] if has_p else []), *table.extra]
        out += ["| " + " | ".join(md_text(h) for h in head) + " |", "|" + "---|" * len(head)]
        for row in table.rows:
            cells = [md_text("  " * row.indent + row.label)]
            cells += [md_text(row.cell_text(i)) for i in range(len(table.columns))]
            if has_p:
                text, mark = table.p_cell(row)
                cells.append(md_text(text) + _mark(mark))
            cells += [md_text(row.extra_text(k)) for k in range(len(table.extra))]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return out + [f"{md_text(note)}\n" for note in notes]
