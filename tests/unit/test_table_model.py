"""A manuscript table cell's text from its numbers (the Word tables show it)."""

from __future__ import annotations

import pytest

from imnm_cohort.report.table_model import Number, Row


def _text(*values: object) -> str:
    cell = tuple(Number(v, f"x[{i}]") for i, v in enumerate(values))
    return Row("label", ("estimate", "CI lower", "CI upper"), "{} ({} to {})", (cell,)).cell_text(0)


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ((2.34, 1.21, 3.5), "2.3 (1.2 to 3.5)"),  # every number: the pattern, rounded
        ((2.34, "*", "*"), "2.3 (* to *)"),  # a withheld bound is shown as its marker
        (("<5", "*", "*"), "<5"),  # all withheld: the first marker alone
        (("<5", 1.0, "*"), "<5 (1.0 to *)"),  # one number left: the pattern
        ((2.34, None, 3.5), "2.3"),  # a bound not available: the estimate alone
        ((None, 1.0, 3.5), "-"),  # no estimate: a dash
    ],
)
def test_a_cell_shows_its_pattern_or_the_first_number_alone(values, text):
    assert _text(*values) == text


def test_a_row_without_a_cell_in_a_column_is_empty():
    assert Row("label", (), "", (None,)).cell_text(0) == ""
