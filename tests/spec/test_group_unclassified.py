"""Spec: unclassified patients (rules 2, 3, 6-9, 11), each naming what is missing."""

import pytest

from tests.conftest import SERONEGATIVE, outcome

CASES = [
    ({"anti_hmgcr": "positive", "anti_srp": "positive"}, "r2_double_positive"),
    ({"anti_hmgcr": "positive", "anti_srp": "positive", "other_msa": "jo1"}, "r2_double_positive"),
    ({"anti_hmgcr": "positive", "other_msa": "jo1"}, "r3_conflicting_antibodies"),
    ({"anti_srp": "positive", "other_msa": "mda5"}, "r3_conflicting_antibodies"),
    ({"proximal_weakness": None}, "r8_weakness_missing"),
    ({"ck_peak": None}, "r8_ck_missing"),
    ({"proximal_weakness": None, "ck_peak": None}, "r8_weakness_missing;r8_ck_missing"),
    ({"anti_hmgcr": None}, "r9_hmgcr_not_tested"),
    ({"anti_srp": "not_tested"}, "r9_srp_not_tested"),
    ({"anti_hmgcr": None, "anti_srp": None}, "r9_hmgcr_not_tested;r9_srp_not_tested"),
    ({"biopsy_necrosis": None}, "r11_biopsy_missing"),
]


@pytest.mark.parametrize(("overrides", "reasons"), CASES)
@pytest.mark.parametrize("criteria", ["tma2025", "enmc2017"])
def test_unclassified(overrides, reasons, criteria):
    assert outcome({**SERONEGATIVE, **overrides}, criteria) == ("unclassified", reasons)
