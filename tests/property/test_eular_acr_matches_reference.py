"""The vectorised EULAR/ACR 2017 score agrees with a plain patient-by-patient scorer.

The reference below is written from the published table (Bottai 2017, Table 1; cut-offs of
Lundberg 2017) and ``docs/criteria.md``, one patient at a time, in tenths of a point.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from imnm_cohort.classify.eular_acr import EULAR_ACR_2017

#: item -> (no biopsy, with biopsy) in tenths; None: a biopsy item.
POINTS = {
    "weakness_upper_proximal": (7, 7),
    "weakness_lower_proximal": (8, 5),
    "neck_flexor_weaker_than_extensor": (19, 16),
    "legs_proximal_weaker_than_distal": (9, 12),
    "heliotrope_rash": (31, 32),
    "gottron_papules": (21, 27),
    "gottron_sign": (33, 37),
    "dysphagia": (7, 6),
    "anti_jo1": (39, 38),
    "muscle_enzymes_elevated": (13, 14),
    "biopsy_endomysial_infiltrate": (None, 17),
    "biopsy_perimysial_perivascular_infiltrate": (None, 12),
    "biopsy_perifascicular_atrophy": (None, 19),
    "biopsy_rimmed_vacuoles": (None, 31),
}
BIOPSY = [k for k, (w, _) in POINTS.items() if w is None]
CUTS = {0: (53, 55, 75), 1: (65, 67, 87)}


def reference(p: dict) -> dict:
    state = {k: p.get(k) for k in POINTS}
    msa = p["other_msa"]
    state["anti_jo1"] = None if msa is None else "jo1" in msa.split(";")
    for k in ("heliotrope_rash", "gottron_papules", "gottron_sign"):
        if state[k] is None and p["dm_rash"] is False:
            state[k] = False
    for k in ("weakness_upper_proximal", "weakness_lower_proximal"):
        if state[k] is None and p["proximal_weakness"] == "none":
            state[k] = False
    uln = 200.0 if p["ck_uln"] is None else p["ck_uln"]
    if p["ck_peak"] is not None and p["ck_peak"] > uln:
        state["muscle_enzymes_elevated"] = True
    biopsied = p["biopsy_necrosis"] is not None or any(state[k] is not None for k in BIOPSY)
    out = {}
    for b in (0, 1):
        age = p["age"]
        low = (13, 15)[b] if 18 <= age < 40 else (21, 22)[b] if age >= 40 else 0
        high = low
        for k, weights in POINTS.items():
            w = weights[b] or 0
            if state[k] is True:
                low, high = low + w, high + w
            elif state[k] is None:
                high += w
        for names, holds in (
            (("heliotrope_rash", "gottron_papules", "gottron_sign"), p["dm_rash"] is True),
            (
                ("weakness_upper_proximal", "weakness_lower_proximal"),
                p["proximal_weakness"] in ("mild", "moderate", "severe"),
            ),
        ):
            unknown = [POINTS[k][b] for k in names if state[k] is None]
            if holds and unknown and not any(state[k] is True for k in names):
                low += min(unknown)
        out[b] = (low, high)
    basis = 1 if biopsied else 0

    def category(tenths: int) -> str:
        possible, probable, definite = CUTS[basis]
        if tenths >= definite:
            return "definite"
        if tenths >= probable:
            return "probable"
        return "possible" if tenths >= possible else "not_iim"

    missing = [k for k in POINTS if state[k] is None and (biopsied or k not in BIOPSY)]
    return {
        "without": out[0],
        "with": out[1] if biopsied else None,
        "category": category(out[basis][0]),
        "category_max": category(out[basis][1]),
        "missing": ";".join(missing) or None,
    }


flag = st.sampled_from([True, False, None])
patient = st.fixed_dictionaries(
    {
        "age": st.sampled_from([5.0, 17.99, 18.0, 39.99, 40.0, 71.5]),
        "other_msa": st.sampled_from([None, "none", "jo1", "pl7", "pl7;jo1", "mi2"]),
        "dm_rash": flag,
        "proximal_weakness": st.sampled_from([None, "none", "mild", "severe"]),
        "ck_peak": st.sampled_from([None, 100.0, 250.0, 5000.0]),
        "ck_uln": st.sampled_from([None, 200.0, 300.0]),
        "biopsy_necrosis": st.sampled_from([None, "predominant", "absent"]),
        **{k: flag for k in POINTS if k != "anti_jo1"},
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(patient, min_size=1, max_size=30))
def test_vectorised_score_matches_the_reference(patients):
    frame = pd.DataFrame(patients).rename(columns={"age": "age_at_onset_years"})
    for column in [k for k in POINTS if k != "anti_jo1"] + ["dm_rash"]:
        frame[column] = frame[column].astype("boolean")
    for column in ("other_msa", "proximal_weakness", "biopsy_necrosis"):
        frame[column] = frame[column].astype("string[pyarrow]")
    for column in ("ck_peak", "ck_uln", "age_at_onset_years"):
        frame[column] = frame[column].astype(float)
    ours = EULAR_ACR_2017.classify(frame)
    p = "eular_acr_2017_"
    for i, patient_row in enumerate(patients):
        ref, row = reference(patient_row), ours.iloc[i]
        assert round(row[p + "score_without_biopsy_min"] * 10) == ref["without"][0]
        assert round(row[p + "score_without_biopsy_max"] * 10) == ref["without"][1]
        if ref["with"] is None:
            assert pd.isna(row[p + "score_with_biopsy_min"])
        else:
            assert round(row[p + "score_with_biopsy_min"] * 10) == ref["with"][0]
            assert round(row[p + "score_with_biopsy_max"] * 10) == ref["with"][1]
        assert row[p + "category"] == ref["category"]
        assert row[p + "category_max"] == ref["category_max"]
        assert (None if pd.isna(row[p + "missing"]) else row[p + "missing"]) == ref["missing"]
