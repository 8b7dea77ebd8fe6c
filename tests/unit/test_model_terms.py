"""The term tables of the cause-specific Cox and Fine-Gray models in the report."""

from __future__ import annotations

from imnm_cohort.report.cancer_sections import fine_gray_view
from imnm_cohort.report.render import model_view


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


def test_a_term_shows_its_ratio_with_ci_or_why_it_was_not_estimated():
    v = model_view(_fit("hazard_ratio"), "hazard_ratio")
    assert (v["reference"], v["n"], v["events"]) == ("anti-HMGCR", "1,463", "74")
    assert v["rows"][0] == {"term": "group: srp", "ratio": "1.59 (0.80 to 3.18)", "p": "0.189"}
    assert v["rows"][1]["ratio"] == "not estimable (no events)"


def test_fine_gray_view_adds_the_competing_deaths():
    v = fine_gray_view({"fine_gray": _fit("subdistribution_hazard_ratio")})
    assert v["competing"] == "160"
    assert [r["ratio"] for r in v["rows"]] == ["1.59 (0.80 to 3.18)", "not estimable (no events)"]
