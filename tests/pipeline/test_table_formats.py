"""Every manuscript table reads the same in the four report formats.

One run of a synthesized cohort, with a reference-rate file (whose source is hostile text)
and a registered toy analysis, writes HTML, Markdown, Word and Excel. For each table of
:func:`~imnm_cohort.report.manuscript.manuscript_tables`, the HTML, the Markdown and the
Word table hold the same title, headings, row labels and cells once the markup is stripped,
and the same footnotes; the Excel sheet holds the same title, labels and footnotes, and
each statistic as the number (or marker) the cell shows.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.analysis import Analysis, register, unregister
from imnm_cohort.report.manuscript import manuscript_tables
from imnm_cohort.report.table_model import Table
from tests.architecture.test_toy_analysis import TITLE, FlaggedByGroup, flagged_by_group
from tests.pipeline.readers import run
from tests.pipeline.test_reference_rates import HOSTILE, rate_file

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


Grid = list[list[str]]


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    write_extract(synthesize(400, seed=3), root / "extract.csv")
    rate_file(root / "rates.csv", HOSTILE.replace('"', '""'))
    (root / "pipeline.toml").write_text(
        '[input]\nextract = "extract.csv"\n[analysis]\nreference_rates = "rates.csv"\n'
        '[output]\nroot = "out"\nformats = ["html", "md", "json", "docx", "xlsx"]\n'
    )
    register(Analysis("flagged", flagged_by_group({"P0001", "P0002"}), FlaggedByGroup, TITLE))
    try:
        code, _, err = run("-q", "run", str(root / "pipeline.toml"))
    finally:
        unregister("flagged")
    assert code == 0, err
    return (root / "out" / "latest").resolve()


@pytest.fixture(scope="module")
def tables(folder: Path) -> list[Table]:
    summary = json.loads((folder / "summary.json").read_text())
    register(Analysis("flagged", flagged_by_group(set()), FlaggedByGroup, TITLE))
    try:
        return manuscript_tables(summary)
    finally:
        unregister("flagged")


def _expected(table: Table) -> Grid:
    """The table's text grid as the model gives it: headings, then one line per row."""
    has_p = table.has_p()
    head = [""] + [_words(" ".join(table.column_heading(i))) for i in range(len(table.columns))]
    grid = [[*head, *(["p"] if has_p else []), *table.extra]]
    for row in table.rows:
        line = [row.label, *(row.cell_text(i) for i in range(len(table.columns)))]
        line += ["".join(table.p_cell(row))] if has_p else []
        grid.append(line + [row.extra_text(k) for k in range(len(table.extra))])
    return grid


class _Page(HTMLParser):
    """Headings, manuscript table rows and notes of the HTML report, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, Any]] = []
        self._text: list[str] | None = None
        self._row: list[str] | None = None
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "manuscript") in attrs:
            self._in_table = True
        elif tag == "tr" and self._in_table:
            self._row = []
        elif tag in ("h2", "h3", "td", "th") or (tag == "p" and ("class", "note") in attrs):
            self._text = []
        elif tag == "br" and self._text is not None:
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "tr" and self._row is not None:
            self.items.append(("row", self._row))
            self._row = None
        elif self._text is not None and tag in ("h2", "h3", "td", "th", "p"):
            text = _words("".join(self._text))
            if tag in ("td", "th") and self._row is not None:
                self._row.append(text)
            elif tag in ("h2", "h3"):
                self.items.append(("heading", text))
            elif tag == "p":
                self.items.append(("note", text))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _sections(items: list[tuple[str, Any]]) -> dict[str, tuple[Grid, list[str]]]:
    """Heading -> (rows, notes) of every section headed by a table's title."""
    out: dict[str, tuple[Grid, list[str]]] = {}
    current: tuple[Grid, list[str]] | None = None
    for kind, value in items:
        if kind == "heading":
            current = out.setdefault(value, ([], [])) if value.startswith("Table ") else None
        elif current is not None:
            (current[0] if kind == "row" else current[1]).append(value)
    return out


def _md_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", re.sub(r"</?sup>", "", text))


def _markdown(text: str) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for line in text.splitlines():
        if line.startswith(("## ", "### ")):
            items.append(("heading", _md_unescape(line.split(" ", 1)[1])))
        elif line.startswith("|---"):
            continue
        elif line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            items.append(("row", [_words(_md_unescape(c)) for c in cells]))
        elif line:
            items.append(("note", _words(_md_unescape(line))))
    return items


def test_html_and_markdown_show_the_cells_and_notes_of_every_table(folder, tables):
    page = _Page()
    page.feed((folder / "report.html").read_text())
    html = _sections(page.items)
    md = _sections(_markdown((folder / "report.md").read_text()))
    assert [t.key for t in tables][-1] == "flagged" and len(tables) == 8
    for table in tables:
        expected = [[_words(c) for c in line] for line in _expected(table)]
        rows = expected if table.rows else []
        assert html[table.title][0] == rows, table.key
        assert md[table.title][0] == rows, table.key
        assert html[table.title][1] == md[table.title][1], table.key
        assert set(table.footnotes) <= set(html[table.title][1]), table.key
    notes = html["Table 7. Cancers and deaths against population rates (SIR, SMR)"][1]
    assert any(HOSTILE in note for note in notes)  # shown as written, after unescaping
    assert "<script>" not in (folder / "report.html").read_text().replace(
        html_lib.escape("<script>"), ""
    )


def test_word_shows_the_same_cells_and_notes(folder, tables):
    import docx

    document = docx.Document(str(folder / "tables.docx"))
    paragraphs = {_words(p.text) for p in document.paragraphs}
    page = _Page()
    page.feed((folder / "report.html").read_text())
    html = _sections(page.items)
    assert len(document.tables) == len(tables)
    for table, grid in zip(tables, document.tables, strict=True):
        words = [[_words(c.text) for c in row.cells] for row in grid.rows]
        expected = [[_words(c) for c in line] for line in _expected(table)]
        assert words == expected[: len(words)] and len(words) == len(expected), table.key
        assert table.title in paragraphs
        assert set(html[table.title][1]) <= paragraphs, table.key


def test_excel_holds_each_number_the_cells_show(folder, tables):
    import openpyxl

    book = openpyxl.load_workbook(folder / "tables.xlsx")
    page = _Page()
    page.feed((folder / "report.html").read_text())
    html = _sections(page.items)
    for table in tables:
        ws = book[table.key]
        assert ws.cell(1, 1).value == table.title
        r = 5 if table.column_n else 4
        for row in table.rows:
            for s in range(len(row.statistics or ("",))):
                assert ws.cell(r, 1).value == row.label, table.key
                for i, cell in enumerate(row.cells):
                    value = ws.cell(r, 3 + i).value
                    if cell is None:
                        assert value is None, (table.key, row.label)
                        continue
                    number = cell[s]
                    # the same text once shown (a float keeps 15 digits in the file)
                    assert replace(number, value=value).text() == number.text()
                    shown: Any = number.value
                    if isinstance(shown, bool):
                        shown = "yes" if shown else "no"
                    elif isinstance(shown, float):
                        shown = pytest.approx(shown, rel=1e-14)
                    assert value == shown, (table.key, row.label)
                r += 1
        footer = [ws.cell(k, 1).value for k in range(r + 1, ws.max_row + 1)]
        assert [_words(str(f)) for f in footer] == html[table.title][1], table.key
