"""A plain, row-by-row classifier written from the words of contract v1, section 2.

It shares no code with the toolkit's classifier: it reads one patient (a dict of typed
values, ``None`` for empty) and walks the eleven rules with ordinary ``if`` statements.
Used by the property tests and, on a sample, by the benchmark.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def _empty(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _is(v: Any, value: Any) -> bool:
    return not _empty(v) and v == value


def classify_row(p: dict[str, Any], criteria: str) -> tuple[str, list[str]]:
    """Return (group, reason codes) for one patient."""
    hmgcr, srp = p["anti_hmgcr"], p["anti_srp"]
    msa = p["other_msa"]
    msa_named = not _empty(msa) and msa != "none"
    weakness, ck = p["proximal_weakness"], p["ck_peak"]

    weak_known = not _empty(weakness)
    weak = weak_known and weakness in ("mild", "moderate", "severe")
    if criteria == "ehr2026" and not weak_known:
        # a coded inflammatory-myopathy diagnosis stands in; no code reads as no weakness
        weak, weak_known = not _empty(p["diagnosis_date"]), True
    ck_known = not _empty(ck)
    if criteria in ("tma2025", "ehr2026"):
        ck_high = ck_known and ck >= 1000
    else:
        uln = 200.0 if _empty(p["ck_uln"]) else p["ck_uln"]
        ck_high = ck_known and ck > uln

    if _is(p["hereditary_myopathy"], True):
        return "not_imnm", ["r1_hereditary_myopathy"]
    if hmgcr == "positive" and srp == "positive":
        return "unclassified", ["r2_double_positive"]
    if (hmgcr == "positive" or srp == "positive") and msa_named:
        return "unclassified", ["r3_conflicting_antibodies"]
    rule4 = []
    if msa_named:
        rule4.append("r4_other_msa")
    if _is(p["biopsy_rimmed_vacuoles"], True):
        rule4.append("r4_rimmed_vacuoles")
    if _is(p["biopsy_perifascicular_atrophy"], True):
        rule4.append("r4_perifascicular_atrophy")
    if rule4:
        return "other_myositis", rule4
    if (
        _is(p["statin_exposed"], True)
        and hmgcr != "positive"
        and weakness in ("none", "mild")
        and ck_known
        and ck < 1000
        and _is(p["improved_after_statin_stop"], True)
    ):
        return "statin_toxic", ["r5_statin_toxic"]
    for antibody, prefix, group in ((hmgcr, "r6", "hmgcr"), (srp, "r7", "srp")):
        if antibody == "positive":
            if weak and ck_high:
                return group, [f"{prefix}_{group}_imnm"]
            missing = []
            if weak_known and not weak:
                missing.append(f"{prefix}_weakness_absent")
            if not weak_known:
                missing.append(f"{prefix}_weakness_missing")
            if ck_known and not ck_high:
                missing.append(f"{prefix}_ck_not_high")
            if not ck_known:
                missing.append(f"{prefix}_ck_missing")
            return "unclassified", missing
    weak_false = weak_known and not weak
    ck_false = ck_known and not ck_high
    if weak_false or ck_false or not weak_known or not ck_known:
        codes = []
        if weak_false:
            codes.append("r8_weakness_absent")
        if ck_false:
            codes.append("r8_ck_not_high")
        if not weak_known:
            codes.append("r8_weakness_missing")
        if not ck_known:
            codes.append("r8_ck_missing")
        return ("not_imnm" if weak_false or ck_false else "unclassified"), codes
    if hmgcr == "not_tested" or srp == "not_tested":
        codes = []
        if hmgcr == "not_tested":
            codes.append("r9_hmgcr_not_tested")
        if srp == "not_tested":
            codes.append("r9_srp_not_tested")
        return "unclassified", codes
    if _is(p["dm_rash"], True):
        return "other_myositis", ["r10_dm_rash"]
    necrosis, inflammation = p["biopsy_necrosis"], p["biopsy_inflammation"]
    if _empty(necrosis):
        return "unclassified", ["r11_biopsy_missing"]
    if necrosis != "predominant":
        return "not_imnm", ["r11_biopsy_not_necrotizing"]
    if criteria in ("tma2025", "ehr2026") or inflammation == "minimal":
        return "seronegative", ["r11_necrotizing_biopsy"]
    if _empty(inflammation):
        return "unclassified", ["r11_inflammation_missing"]
    return "not_imnm", ["r11_inflammation_prominent"]
