"""Spec: anti-SRP IMNM (rule 7)."""

import pytest

from tests.conftest import outcome

SRP = {
    "anti_hmgcr": "negative",
    "anti_srp": "positive",
    "statin_exposed": "false",
    "statin_start_date": None,
    "statin_stop_date": None,
    "statin_name": None,
}

CASES = [
    ({}, "tma2025", "srp", "r7_srp_imnm"),
    ({}, "enmc2017", "srp", "r7_srp_imnm"),
    ({"anti_hmgcr": None}, "tma2025", "srp", "r7_srp_imnm"),
    ({"ck_peak": "999"}, "tma2025", "unclassified", "r7_ck_not_high"),
    ({"ck_peak": "1000"}, "tma2025", "srp", "r7_srp_imnm"),
    ({"ck_peak": "201"}, "enmc2017", "srp", "r7_srp_imnm"),
    ({"ck_peak": "200"}, "enmc2017", "unclassified", "r7_ck_not_high"),
    ({"proximal_weakness": "none"}, "tma2025", "unclassified", "r7_weakness_absent"),
    ({"proximal_weakness": None}, "enmc2017", "unclassified", "r7_weakness_missing"),
    ({"ck_peak": None}, "tma2025", "unclassified", "r7_ck_missing"),
    ({"biopsy_necrosis": None}, "tma2025", "srp", "r7_srp_imnm"),
    (
        {
            "statin_exposed": "true",
            "improved_after_statin_stop": "true",
            "ck_peak": "500",
            "proximal_weakness": "mild",
        },
        "tma2025",
        "statin_toxic",
        "r5_statin_toxic",
    ),
]


@pytest.mark.parametrize(("overrides", "criteria", "group", "reasons"), CASES)
def test_srp(overrides, criteria, group, reasons):
    assert outcome({**SRP, **overrides}, criteria) == (group, reasons)
