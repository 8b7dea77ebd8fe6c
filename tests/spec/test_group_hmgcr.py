"""Spec: anti-HMGCR IMNM (rule 6) and its boundaries under both criteria sets."""

import pytest

from tests.conftest import outcome

CASES = [
    # overrides, criteria, expected group, expected reasons
    ({}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "999"}, "tma2025", "unclassified", "r6_ck_not_high"),
    ({"ck_peak": "1000"}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "1001"}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "999", "ck_uln": "200"}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "200", "ck_uln": "200"}, "enmc2017", "unclassified", "r6_ck_not_high"),
    ({"ck_peak": "201", "ck_uln": "200"}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "200", "ck_uln": None}, "enmc2017", "unclassified", "r6_ck_not_high"),
    ({"ck_peak": "200.5", "ck_uln": None}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    ({"ck_peak": "308", "ck_uln": "308"}, "enmc2017", "unclassified", "r6_ck_not_high"),
    ({"ck_peak": "309", "ck_uln": "308"}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    ({"proximal_weakness": "mild"}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({"proximal_weakness": "severe"}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({"proximal_weakness": "none"}, "tma2025", "unclassified", "r6_weakness_absent"),
    ({"proximal_weakness": None}, "tma2025", "unclassified", "r6_weakness_missing"),
    ({"ck_peak": None}, "tma2025", "unclassified", "r6_ck_missing"),
    ({"ck_peak": None}, "enmc2017", "unclassified", "r6_ck_missing"),
    (
        {"proximal_weakness": None, "ck_peak": None},
        "tma2025",
        "unclassified",
        "r6_weakness_missing;r6_ck_missing",
    ),
    (
        {"proximal_weakness": "none", "ck_peak": "500"},
        "tma2025",
        "unclassified",
        "r6_weakness_absent;r6_ck_not_high",
    ),
    # Antibody-positive patients need no biopsy.
    ({"biopsy_necrosis": None, "biopsy_inflammation": None}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    ({"biopsy_inflammation": "prominent"}, "enmc2017", "hmgcr", "r6_hmgcr_imnm"),
    # Statin-naive anti-HMGCR is still anti-HMGCR IMNM.
    ({"statin_exposed": "false", "statin_start_date": None}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    # anti-SRP not tested does not matter once anti-HMGCR is positive.
    ({"anti_srp": None}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    # A rash does not override a positive antibody (rule 10 comes after rule 6).
    ({"dm_rash": "true"}, "tma2025", "hmgcr", "r6_hmgcr_imnm"),
    # Rule 5 cannot take an anti-HMGCR positive patient.
    (
        {"proximal_weakness": "mild", "ck_peak": "500", "improved_after_statin_stop": "true"},
        "tma2025",
        "unclassified",
        "r6_ck_not_high",
    ),
]


@pytest.mark.parametrize(("overrides", "criteria", "group", "reasons"), CASES)
def test_hmgcr(overrides, criteria, group, reasons):
    assert outcome(overrides, criteria) == (group, reasons)
