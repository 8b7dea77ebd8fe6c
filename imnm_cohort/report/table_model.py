"""The shape of a manuscript table: numbers that know where they come from, rows, tables.

A :class:`Number` holds a value of ``summary.json`` and its path there (``a.b[0].c``); a
:class:`Row` joins the numbers of each column with a pattern for display and names each
statistic; a :class:`Table` adds a title, column headings and footnotes. Word shows each
cell as text; Excel stores each number as a number, one statistic per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from imnm_cohort.report.labels import TEST_NAMES
from imnm_cohort.report.numbers import num, pval
from imnm_cohort.report.render import disclosure_note


@dataclass(frozen=True)
class Number:
    """One number of a table, as ``summary.json`` holds it.

    Attributes
    ----------
    value : int, float, str or None
        The summary's value: a number, the withheld marker (``"<5"``) or None (not available).
    path : str
        Where it is in ``summary.json`` (``comparisons.malignancy.groups.hmgcr.events``).
    kind : str
        ``count``, ``decimal``, ``percent`` (a proportion shown times 100) or ``p``.
    digits : int
        Decimals shown (the report's rounding).
    """

    value: Any
    path: str
    kind: str = "decimal"
    digits: int = 1

    def text(self) -> str:
        """The number as the report shows it."""
        v = self.value
        if self.kind == "p":
            return pval(v)
        if self.kind == "percent" and isinstance(v, int | float) and not isinstance(v, bool):
            return num(100.0 * v, self.digits)
        if self.kind == "count" or isinstance(v, str) or v is None:
            return num(v)
        return num(float(v), self.digits)


@dataclass(frozen=True)
class Row:
    """One row: a label, what each number is, and one tuple of numbers per column.

    ``pattern`` joins a cell's numbers for display (``"{} [{}, {}]"``); ``statistics`` names
    them (``("median", "Q1", "Q3")``). ``p`` is the test across the columns, if any;
    ``extra`` holds one number (or None) per column after the p column (Table 1's SMD).
    """

    label: str
    statistics: tuple[str, ...]
    pattern: str
    cells: tuple[tuple[Number, ...] | None, ...]
    p: Number | None = None
    test: str | None = None
    indent: int = 0
    extra: tuple[Number | None, ...] = ()

    def cell_text(self, i: int) -> str:
        """Column ``i``'s text: the numbers in the pattern, or the withheld marker or a dash."""
        cell = self.cells[i]
        if cell is None:
            return ""
        values = [n.value for n in cell]
        if any(v is None for v in values) or all(isinstance(v, str) for v in values):
            return cell[0].text()
        return self.pattern.format(*(n.text() for n in cell))

    def numbers(self) -> list[Number]:
        """Every number of the row (cells, then the p-value)."""
        out = [n for cell in self.cells if cell for n in cell]
        out += [self.p] if self.p else []
        return out + [n for n in self.extra if n is not None]

    def extra_text(self, i: int) -> str:
        """The text of extra column ``i`` (empty where the row has none)."""
        n = self.extra[i] if i < len(self.extra) else None
        return n.text() if n is not None else ""


@dataclass(frozen=True)
class Table:
    """A manuscript table: title, column headings, rows and footnotes; ``extra`` names the
    columns after the p column (``("SMD",)``), each row holding one number for each."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...] = field(default=())
    column_n: tuple[Number | None, ...] = field(default=())
    extra: tuple[str, ...] = field(default=())

    def tests(self) -> list[str]:
        """The tests behind the p column that were done, in order of first use."""
        seen: list[str] = []
        for row in self.rows:
            done = row.p is not None and row.p.value is not None
            if row.test and done and row.test not in seen:
                seen.append(row.test)
        return seen

    def test_mark(self, test: str | None) -> str:
        """The footnote letter of a test (``a``, ``b``, ...)."""
        tests = self.tests()
        return chr(ord("a") + tests.index(test)) if test in tests else ""

    def has_p(self) -> bool:
        """Whether the table has a p column (a row with a test across the columns)."""
        return any(row.p is not None for row in self.rows)

    def column_heading(self, i: int) -> tuple[str, str]:
        """Column ``i``'s heading and its patients (``"(n = 12)"``, or empty)."""
        n = self.column_n[i] if i < len(self.column_n) else None
        return self.columns[i], f"(n = {n.text()})" if n is not None else ""

    def p_cell(self, row: Row) -> tuple[str, str]:
        """A row's p column: its text and the footnote letter of its test. Empty for a row
        without a test; a dash without a letter for a test that was not done."""
        if row.p is None:
            return "", ""
        if row.p.value is None:
            return "-", ""
        return row.p.text(), self.test_mark(row.test)


def at(summary: dict[str, Any], path: str) -> Any:
    """The value at a dotted path with ``[i]`` list indices; None where absent."""
    node: Any = summary
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        else:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


#: One statistic of a :meth:`Builder.row`: (name, path template with ``{g}``, kind[, digits]).
Stat = tuple[str, str, str] | tuple[str, str, str, int]


def with_ci(
    name: str, value: str, ci: str, kind: str = "decimal", digits: int | None = None
) -> list[Stat]:
    """A statistic and its interval as three :meth:`Builder.row` statistics: ``value``,
    then ``ci[0]`` and ``ci[1]`` named ``CI lower`` and ``CI upper`` (paths may hold
    ``{g}``); ``digits`` where they are not the row's."""
    paths = ((name, value), ("CI lower", f"{ci}[0]"), ("CI upper", f"{ci}[1]"))
    if digits is None:
        return [(n, path, kind) for n, path in paths]
    return [(n, path, kind, digits) for n, path in paths]


class Builder:
    """Rows whose numbers are looked up in a summary by path templates (``{g}``: column)."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def n(self, path: str, kind: str = "decimal", digits: int = 1) -> Number:
        return Number(at(self.summary, path), path, kind, digits)

    def row(
        self,
        label_: str,
        columns: Sequence[str],
        stats: Sequence[Stat],
        pattern: str,
        *,
        p: str | None = None,
        test: str | None = None,
        indent: int = 0,
        digits: int = 1,
    ) -> Row:
        """``stats``: (name, path template with ``{g}``, kind[, digits]) per number; a
        number without its own digits has the row's ``digits``."""
        cells = tuple(
            tuple(
                self.n(path.format(g=g), kind, own[0] if own else digits)
                for _, path, kind, *own in stats
            )
            for g in columns
        )
        p_number = self.n(p, "p") if p else None
        return Row(label_, tuple(s[0] for s in stats), pattern, cells, p_number, test, indent)


def common_footnotes(table: Table, meta: dict[str, Any]) -> list[str]:
    """Footnotes every table carries: the tests behind its p-values, withheld counts, criteria."""
    notes = [f"{table.test_mark(t)} {TEST_NAMES.get(t, t)}." for t in table.tests()]
    if meta.get("min_cell_count") or meta.get("rounding"):
        notes.append(disclosure_note(meta.get("min_cell_count", 0), meta.get("rounding", 0)))
    cr = meta["criteria"]
    notes.append(f"Groups by the {cr['name']} criteria ({cr['title']}).")
    return notes
