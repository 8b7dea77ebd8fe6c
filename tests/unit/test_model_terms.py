"""The term tables of the cause-specific Cox and Fine-Gray models in the report: each term
shows its ratio with its 95% CI, or a dash and why it was not estimated, in every format."""

from __future__ import annotations

from imnm_cohort.report import model_tables
from imnm_cohort.report.table_render import to_html, to_markdown

META = {"criteria": {"name": "tma2025", "title": "t"}, "min_cell_count": 5}


def _fit(ratio: str) -> dict:
    return {
        "reference_group": "hmgcr",
        "n": 1463,
        "events": 74,
        "competing": 160,
        "reason": None,
        "terms": [
            {"term": "group_srp", ratio: 1.5913, "ci": [0.7959, 3.1816], "p_value": 0.1888},
            {"term": "male", ratio: None, "ci": None, "p_value": None, "reason": "no events"},
        ],
    }


def _summary(key: str, ratio: str) -> dict:
    return {key: _fit(ratio), "comparisons": {"malignancy": {"options": {"time_zero": "onset"}}}}


def test_a_term_shows_its_ratio_with_ci_or_why_it_was_not_estimated():
    table = model_tables.cause_specific_cox(_summary("cause_specific_cox", "hazard_ratio"))
    srp, male = table.rows
    assert (srp.label, srp.cell_text(0), table.p_cell(srp)) == (
        "anti-SRP (vs anti-HMGCR)",
        "1.59 (0.80 to 3.18)",
        ("0.189", "a"),
    )
    assert (male.cell_text(0), table.p_cell(male)) == ("-", ("-", ""))
    assert "Male sex: not estimable (no events)." in table.footnotes
    assert "Patients at risk after onset: 1,463; cancers: 74." in table.footnotes
    html, md = to_html(table, table.footnotes), "\n".join(to_markdown(table, table.footnotes))
    assert '<td class="num">1.59 (0.80 to 3.18)</td><td class="num">0.189<sup>a</sup></td>' in html
    assert "| anti-SRP \\(vs anti-HMGCR\\) | 1.59 \\(0.80 to 3.18\\) | 0.189<sup>a</sup> |" in md
    assert "Male sex: not estimable \\(no events\\)." in md


def test_fine_gray_adds_the_competing_deaths():
    table = model_tables.fine_gray(_summary("fine_gray", "subdistribution_hazard_ratio"))
    assert "Deaths before cancer (competing events): 160." in table.footnotes
    assert [r.cell_text(0) for r in table.rows] == ["1.59 (0.80 to 3.18)", "-"]
