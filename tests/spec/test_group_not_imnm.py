"""Spec: not IMNM (rules 1, 8 and 11)."""

import pytest

from tests.conftest import SERONEGATIVE, outcome

CASES = [
    ({"hereditary_myopathy": "true"}, "tma2025", "not_imnm", "r1_hereditary_myopathy"),
    (
        {"hereditary_myopathy": "true", "anti_hmgcr": "positive", "anti_srp": "positive"},
        "tma2025",
        "not_imnm",
        "r1_hereditary_myopathy",
    ),
    ({"proximal_weakness": "none"}, "tma2025", "not_imnm", "r8_weakness_absent"),
    ({"ck_peak": "999"}, "tma2025", "not_imnm", "r8_ck_not_high"),
    ({"ck_peak": "150"}, "enmc2017", "not_imnm", "r8_ck_not_high"),
    (
        {"proximal_weakness": "none", "ck_peak": "100"},
        "tma2025",
        "not_imnm",
        "r8_weakness_absent;r8_ck_not_high",
    ),
    # Known-false beats unknown in rule 8; the missing value is still named.
    (
        {"proximal_weakness": "none", "ck_peak": None},
        "tma2025",
        "not_imnm",
        "r8_weakness_absent;r8_ck_missing",
    ),
    (
        {"proximal_weakness": None, "ck_peak": "300"},
        "tma2025",
        "not_imnm",
        "r8_ck_not_high;r8_weakness_missing",
    ),
    ({"biopsy_necrosis": "present"}, "tma2025", "not_imnm", "r11_biopsy_not_necrotizing"),
]


@pytest.mark.parametrize(("overrides", "criteria", "group", "reasons"), CASES)
def test_not_imnm(overrides, criteria, group, reasons):
    assert outcome({**SERONEGATIVE, **overrides}, criteria) == (group, reasons)
