"""Spec: self-limited toxic statin myopathy (rule 5), under both criteria sets.

CK 600 U/L is not high under tma2025 (< 1000) but is high under enmc2017 (> ULN 200), so
the patients that rule 5 does not take go different ways under the two sets.
"""

import pytest

from tests.conftest import outcome

TOXIC = {
    "anti_hmgcr": "negative",
    "anti_srp": "negative",
    "statin_exposed": "true",
    "proximal_weakness": "mild",
    "ck_peak": "600",
    "improved_after_statin_stop": "true",
    "biopsy_necrosis": None,
    "biopsy_inflammation": None,
}

STATIN_TOXIC = ("statin_toxic", "r5_statin_toxic")
CASES = [
    # overrides, expected under tma2025, expected under enmc2017
    ({}, STATIN_TOXIC, STATIN_TOXIC),
    ({"proximal_weakness": "none"}, STATIN_TOXIC, STATIN_TOXIC),
    ({"anti_hmgcr": None}, STATIN_TOXIC, STATIN_TOXIC),  # not tested is not positive
    ({"ck_peak": "999"}, STATIN_TOXIC, STATIN_TOXIC),
    ({"ck_peak": "999.9"}, STATIN_TOXIC, STATIN_TOXIC),
    # Each condition false or empty: rule 5 does not apply.
    (
        {"ck_peak": "1000"},
        ("unclassified", "r11_biopsy_missing"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    ({"ck_peak": None}, ("unclassified", "r8_ck_missing"), ("unclassified", "r8_ck_missing")),
    (
        {"proximal_weakness": "moderate"},
        ("not_imnm", "r8_ck_not_high"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    (
        {"proximal_weakness": None},
        ("not_imnm", "r8_ck_not_high;r8_weakness_missing"),
        ("unclassified", "r8_weakness_missing"),
    ),
    (
        {"improved_after_statin_stop": None},
        ("not_imnm", "r8_ck_not_high"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    (
        {"improved_after_statin_stop": "false"},
        ("not_imnm", "r8_ck_not_high"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    (
        {"statin_exposed": None},
        ("not_imnm", "r8_ck_not_high"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    (
        {"statin_exposed": "false"},
        ("not_imnm", "r8_ck_not_high"),
        ("unclassified", "r11_biopsy_missing"),
    ),
    ({"anti_hmgcr": "positive"}, ("unclassified", "r6_ck_not_high"), ("hmgcr", "r6_hmgcr_imnm")),
    # Rules 1-4 come first.
    (
        {"hereditary_myopathy": "true"},
        ("not_imnm", "r1_hereditary_myopathy"),
        ("not_imnm", "r1_hereditary_myopathy"),
    ),
    ({"other_msa": "jo1"}, ("other_myositis", "r4_other_msa"), ("other_myositis", "r4_other_msa")),
]


@pytest.mark.parametrize(("overrides", "tma", "enmc"), CASES)
def test_statin_toxic(overrides, tma, enmc):
    assert outcome({**TOXIC, **overrides}, "tma2025") == tma
    assert outcome({**TOXIC, **overrides}, "enmc2017") == enmc
