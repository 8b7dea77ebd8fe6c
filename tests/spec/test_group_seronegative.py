"""Spec: seronegative IMNM (rule 11) and where the two criteria sets differ."""

import pytest

from tests.conftest import SERONEGATIVE, outcome

CASES = [
    ({}, "tma2025", "seronegative", "r11_necrotizing_biopsy"),
    ({}, "enmc2017", "seronegative", "r11_necrotizing_biopsy"),
    ({"biopsy_inflammation": "prominent"}, "tma2025", "seronegative", "r11_necrotizing_biopsy"),
    ({"biopsy_inflammation": "prominent"}, "enmc2017", "not_imnm", "r11_inflammation_prominent"),
    ({"biopsy_inflammation": None}, "tma2025", "seronegative", "r11_necrotizing_biopsy"),
    ({"biopsy_inflammation": None}, "enmc2017", "unclassified", "r11_inflammation_missing"),
    ({"biopsy_necrosis": "present"}, "tma2025", "not_imnm", "r11_biopsy_not_necrotizing"),
    ({"biopsy_necrosis": "present"}, "enmc2017", "not_imnm", "r11_biopsy_not_necrotizing"),
    ({"biopsy_necrosis": "absent"}, "tma2025", "not_imnm", "r11_biopsy_not_necrotizing"),
    (
        {"biopsy_necrosis": None, "biopsy_inflammation": None},
        "tma2025",
        "unclassified",
        "r11_biopsy_missing",
    ),
    (
        {"biopsy_necrosis": None, "biopsy_inflammation": None},
        "enmc2017",
        "unclassified",
        "r11_biopsy_missing",
    ),
    # CK between the upper limit and 1000 U/L: IMNM under enmc2017 only.
    ({"ck_peak": "600"}, "tma2025", "not_imnm", "r8_ck_not_high"),
    ({"ck_peak": "600"}, "enmc2017", "seronegative", "r11_necrotizing_biopsy"),
    # p62 and EMG support but do not decide.
    (
        {"biopsy_p62_diffuse": "false", "emg_myopathic": None},
        "tma2025",
        "seronegative",
        "r11_necrotizing_biopsy",
    ),
    # Empty values in rules 1, 3, 4, 5 and 10 never trigger them.
    (
        {
            "hereditary_myopathy": None,
            "other_msa": None,
            "dm_rash": None,
            "biopsy_rimmed_vacuoles": None,
            "biopsy_perifascicular_atrophy": None,
        },
        "tma2025",
        "seronegative",
        "r11_necrotizing_biopsy",
    ),
]


@pytest.mark.parametrize(("overrides", "criteria", "group", "reasons"), CASES)
def test_seronegative(overrides, criteria, group, reasons):
    assert outcome({**SERONEGATIVE, **overrides}, criteria) == (group, reasons)
