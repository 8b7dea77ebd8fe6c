"""Spec: the ehr2026 criteria set, the phenotype for coded data. A coded inflammatory-
myopathy diagnosis (diagnosis_date) stands in for weakness where proximal_weakness is
empty; everything else is as in tma2025. Seronegative IMNM still needs a biopsy."""

import pytest

from tests.conftest import outcome

#: A patient as the OMOP source gives one: no weakness, EMG or biopsy recorded.
CODED = {
    "proximal_weakness": None,
    "weakness_course": None,
    "emg_myopathic": None,
    "biopsy_necrosis": None,
    "biopsy_inflammation": None,
    "biopsy_perifascicular_atrophy": None,
    "biopsy_rimmed_vacuoles": None,
    "biopsy_p62_diffuse": None,
    "improved_after_statin_stop": None,
}

CASES = [
    # overrides, expected group, expected reasons
    ({}, "hmgcr", "r6_hmgcr_imnm"),  # coded myopathy, anti-HMGCR, CK 8000
    ({"diagnosis_date": None}, "unclassified", "r6_weakness_absent"),  # antibody, no code
    ({"ck_peak": "999"}, "unclassified", "r6_ck_not_high"),
    ({"ck_peak": "1000"}, "hmgcr", "r6_hmgcr_imnm"),  # CK_HIGH as in tma2025
    ({"ck_peak": None}, "unclassified", "r6_ck_missing"),
    ({"anti_hmgcr": "negative", "anti_srp": "positive"}, "srp", "r7_srp_imnm"),
    # Seronegative: a biopsy is required, and coded data hold none.
    ({"anti_hmgcr": "negative"}, "unclassified", "r11_biopsy_missing"),
    (
        {"anti_hmgcr": "negative", "biopsy_necrosis": "predominant"},
        "seronegative",
        "r11_necrotizing_biopsy",
    ),
    # No code and no recorded weakness reads as no weakness in coded data.
    ({"anti_hmgcr": "negative", "diagnosis_date": None}, "not_imnm", "r8_weakness_absent"),
    ({"anti_hmgcr": "negative", "ck_peak": "500"}, "not_imnm", "r8_ck_not_high"),
    # Where weakness is recorded, it is read as tma2025 reads it.
    ({"proximal_weakness": "none"}, "unclassified", "r6_weakness_absent"),
    ({"proximal_weakness": "moderate", "diagnosis_date": None}, "hmgcr", "r6_hmgcr_imnm"),
    # The other rules are tma2025's.
    ({"other_msa": "jo1", "anti_hmgcr": "negative"}, "other_myositis", "r4_other_msa"),
    ({"anti_srp": None, "anti_hmgcr": "negative"}, "unclassified", "r9_srp_not_tested"),
]


@pytest.mark.parametrize(("overrides", "group", "reasons"), CASES)
def test_ehr2026(overrides, group, reasons):
    assert outcome({**CODED, **overrides}, "ehr2026") == (group, reasons)
