"""docs/omop.md shows the SQL the OMOP source runs: regenerated from the code, it is
unchanged (``python -m imnm_cohort.sources.omop_docs`` rewrites it)."""

from __future__ import annotations

from pathlib import Path

from imnm_cohort.sources.omop_docs import BEGIN, END, STEPS, page_with_sql

PAGE = Path(__file__).parents[2] / "docs" / "omop.md"


def test_the_page_shows_the_sql_the_code_compiles():
    text = PAGE.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert page_with_sql(text) == text, "run: python -m imnm_cohort.sources.omop_docs"


def test_every_step_has_its_sql_on_the_page():
    text = PAGE.read_text(encoding="utf-8")
    for name in STEPS:
        assert f"#### `{name}`" in text
    assert "#### `statin_exposures` when concept_ancestor is empty" in text
