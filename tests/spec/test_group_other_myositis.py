"""Spec: other myositis (rules 4 and 10)."""

import pytest

from tests.conftest import SERONEGATIVE, outcome

CASES = [
    ({"other_msa": "jo1"}, "other_myositis", "r4_other_msa"),
    ({"other_msa": "mi2;tif1g"}, "other_myositis", "r4_other_msa"),
    ({"biopsy_rimmed_vacuoles": "true"}, "other_myositis", "r4_rimmed_vacuoles"),
    ({"biopsy_perifascicular_atrophy": "true"}, "other_myositis", "r4_perifascicular_atrophy"),
    (
        {"other_msa": "nxp2", "biopsy_perifascicular_atrophy": "true"},
        "other_myositis",
        "r4_other_msa;r4_perifascicular_atrophy",
    ),
    (
        {
            "other_msa": "pl7",
            "biopsy_rimmed_vacuoles": "true",
            "biopsy_perifascicular_atrophy": "true",
        },
        "other_myositis",
        "r4_other_msa;r4_rimmed_vacuoles;r4_perifascicular_atrophy",
    ),
    # Rule 4 applies whatever the CK and weakness.
    (
        {"other_msa": "jo1", "ck_peak": None, "proximal_weakness": None},
        "other_myositis",
        "r4_other_msa",
    ),
    ({"dm_rash": "true"}, "other_myositis", "r10_dm_rash"),
    ({"other_msa": "none"}, "seronegative", "r11_necrotizing_biopsy"),
    # Rule 10 comes after rules 8 and 9.
    ({"dm_rash": "true", "ck_peak": "500"}, "not_imnm", "r8_ck_not_high"),
    ({"dm_rash": "true", "anti_hmgcr": None}, "unclassified", "r9_hmgcr_not_tested"),
    # Rule 1 comes before rule 4.
    ({"other_msa": "jo1", "hereditary_myopathy": "true"}, "not_imnm", "r1_hereditary_myopathy"),
]


@pytest.mark.parametrize(("overrides", "group", "reasons"), CASES)
def test_other_myositis(overrides, group, reasons):
    assert outcome({**SERONEGATIVE, **overrides}) == (group, reasons)
