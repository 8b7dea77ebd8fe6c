"""EULAR/ACR 2017 IIM classification: hand-worked examples of the published score table.

Score points (no biopsy / with biopsy) from Bottai M et al., RMD Open 2017;3:e000507, Table 1
(also Lundberg IE et al., Ann Rheum Dis 2017;76:1955-64, Table 1):
age at onset 18-39: 1.3 / 1.5, >= 40: 2.1 / 2.2; proximal upper-limb weakness 0.7 / 0.7;
proximal lower-limb weakness 0.8 / 0.5; neck flexors weaker 1.9 / 1.6; legs proximal weaker
0.9 / 1.2; heliotrope rash 3.1 / 3.2; Gottron papules 2.1 / 2.7; Gottron sign 3.3 / 3.7;
dysphagia 0.7 / 0.6; anti-Jo-1 3.9 / 3.8; raised muscle enzymes 1.3 / 1.4; endomysial
infiltrate - / 1.7; perimysial or perivascular infiltrate - / 1.2; perifascicular atrophy
- / 1.9; rimmed vacuoles - / 3.1. Cut-offs: possible >= 5.3 (6.5), probable >= 5.5 (6.7),
definite >= 7.5 (8.7). Each expected score below is summed by hand in its comment.
"""

from __future__ import annotations

import pandas as pd
import pytest

from imnm_cohort import classify
from imnm_cohort.classify.criteria import TMA2025
from imnm_cohort.classify.eular_acr import EULAR_ACR_2017
from imnm_cohort.classify.procedure import DecisionProcedure
from imnm_cohort.classify.protocol import Classifier
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.errors import UnknownCriteriaError
from tests.conftest import valid_patients

P = "eular_acr_2017_"
ITEM_COLUMNS = (
    "weakness_upper_proximal", "weakness_lower_proximal", "neck_flexor_weaker_than_extensor",
    "legs_proximal_weaker_than_distal", "heliotrope_rash", "gottron_papules", "gottron_sign",
    "dysphagia", "muscle_enzymes_elevated", "biopsy_endomysial_infiltrate",
    "biopsy_perimysial_perivascular_infiltrate",
)  # fmt: skip
#: Every item recorded absent, no biopsy, onset at 50 (birth 1965-06-01, onset 2015-06-01).
NOTHING = {
    **dict.fromkeys(ITEM_COLUMNS, "false"),
    "birth_date": "1965-06-01",
    "proximal_weakness": "none",
    "dm_rash": "false",
    "other_msa": "none",
    "ck_peak": "150",
    "biopsy_necrosis": None,
    "biopsy_inflammation": None,
    "biopsy_perifascicular_atrophy": None,
    "biopsy_rimmed_vacuoles": None,
    "biopsy_p62_diffuse": None,
    "biopsy_endomysial_infiltrate": None,
    "biopsy_perimysial_perivascular_infiltrate": None,
}
BIOPSY_CLEAN = {
    "biopsy_necrosis": "predominant",
    "biopsy_inflammation": "minimal",
    "biopsy_perifascicular_atrophy": "false",
    "biopsy_rimmed_vacuoles": "false",
    "biopsy_endomysial_infiltrate": "false",
    "biopsy_perimysial_perivascular_infiltrate": "false",
}


def score(overrides: dict) -> pd.Series:
    row = classify(valid_patients([{**NOTHING, **overrides}])).iloc[0]
    return row[[c for c in row.index if str(c).startswith(P)]]


@pytest.mark.parametrize(
    ("overrides", "points", "category"),
    [
        # age 2.1 only
        ({}, 2.1, "not_iim"),
        # age 2.1 + Gottron sign 3.3 = 5.4
        ({"dm_rash": "true", "gottron_sign": "true"}, 5.4, "possible"),
        # onset at 30: 1.3 + Gottron sign 3.3 + legs proximal weaker 0.9 = 5.5 (exact cut-off)
        (
            {
                "birth_date": "1985-06-01",
                "dm_rash": "true",
                "gottron_sign": "true",
                "legs_proximal_weaker_than_distal": "true",
            },
            5.5,
            "probable",
        ),
        # anti-Jo-1 3.9 + age 2.1 = 6.0
        ({"other_msa": "pl7;jo1"}, 6.0, "probable"),
        # age 2.1 + anti-Jo-1 3.9 + upper 0.7 + lower 0.8 = 7.5 (exact definite cut-off)
        (
            {
                "other_msa": "jo1",
                "proximal_weakness": "moderate",
                "weakness_upper_proximal": "true",
                "weakness_lower_proximal": "true",
            },
            7.5,
            "definite",
        ),
        # classic dermatomyositis: 2.1 + 0.7 + 0.8 + heliotrope 3.1 + papules 2.1 + CK 1.3 = 10.1
        (
            {
                "proximal_weakness": "severe",
                "weakness_upper_proximal": "true",
                "weakness_lower_proximal": "true",
                "dm_rash": "true",
                "heliotrope_rash": "true",
                "gottron_papules": "true",
                "ck_peak": "3000",
            },
            10.1,
            "definite",
        ),
        # onset at 10: no age points; dysphagia 0.7
        ({"birth_date": "2005-06-01", "dysphagia": "true"}, 0.7, "not_iim"),
    ],
)
def test_score_without_biopsy(overrides, points, category):
    s = score(overrides)
    assert s[P + "score_without_biopsy_min"] == pytest.approx(points, abs=1e-9)
    assert s[P + "score_without_biopsy_max"] == pytest.approx(points, abs=1e-9)
    assert pd.isna(s[P + "score_with_biopsy_min"]) and s[P + "basis"] == "without_biopsy"
    assert s[P + "category"] == category == s[P + "category_max"]
    assert pd.isna(s[P + "missing"])


ANTI_HMGCR_IMNM = {
    "proximal_weakness": "severe",
    "weakness_upper_proximal": "true",
    "weakness_lower_proximal": "true",
    "ck_peak": "9000",
    "birth_date": "1955-06-01",
    **BIOPSY_CLEAN,
}


def test_typical_anti_hmgcr_imnm_is_not_iim_with_a_biopsy():
    # without biopsy: age 2.1 + upper 0.7 + lower 0.8 + CK 1.3 = 4.9
    # with biopsy:    age 2.2 + upper 0.7 + lower 0.5 + CK 1.4 = 4.8 (no biopsy item scores)
    row = classify(valid_patients([{**NOTHING, **ANTI_HMGCR_IMNM}])).iloc[0]
    assert row["imnm_group"] == "hmgcr"
    assert row[P + "score_without_biopsy_min"] == pytest.approx(4.9)
    assert row[P + "score_with_biopsy_min"] == pytest.approx(4.8)
    assert row[P + "basis"] == "with_biopsy" and row[P + "category"] == "not_iim"


def test_neck_flexor_weakness_differs_by_basis():
    # without biopsy 4.9 + neck 1.9 = 6.8 (probable); with biopsy 4.8 + 1.6 = 6.4 (< 6.5)
    s = score({**ANTI_HMGCR_IMNM, "neck_flexor_weaker_than_extensor": "true"})
    assert s[P + "score_without_biopsy_min"] == pytest.approx(6.8)
    assert s[P + "score_with_biopsy_min"] == pytest.approx(6.4)
    assert s[P + "category"] == "not_iim"


@pytest.mark.parametrize(
    ("overrides", "with_biopsy", "category"),
    [
        # 4.8 + endomysial 1.7 = 6.5: possible with biopsy
        ({"biopsy_endomysial_infiltrate": "true"}, 6.5, "possible"),
        # 4.8 + perimysial 1.2 + endomysial 1.7 = 7.7: probable
        (
            {
                "biopsy_endomysial_infiltrate": "true",
                "biopsy_perimysial_perivascular_infiltrate": "true",
            },
            7.7,
            "probable",
        ),
        # 4.8 + rimmed vacuoles 3.1 + perifascicular atrophy 1.9 = 9.8: definite (>= 8.7)
        (
            {"biopsy_rimmed_vacuoles": "true", "biopsy_perifascicular_atrophy": "true"},
            9.8,
            "definite",
        ),
    ],
)
def test_biopsy_items_score_only_with_biopsy(overrides, with_biopsy, category):
    s = score({**ANTI_HMGCR_IMNM, **overrides})
    assert s[P + "score_without_biopsy_min"] == pytest.approx(4.9)
    assert s[P + "score_with_biopsy_min"] == pytest.approx(with_biopsy)
    assert s[P + "category"] == category


def test_unknown_items_give_a_range_and_are_listed():
    # Nothing recorded but age: min 2.1; max 2.1 + 0.7 + 0.8 + 1.9 + 0.9 + 3.1 + 2.1 + 3.3
    # + 0.7 + 3.9 + 1.3 = 20.8.
    empty = dict.fromkeys(ITEM_COLUMNS)
    s = score({**empty, "proximal_weakness": None, "dm_rash": None, "other_msa": None,
               "ck_peak": None, "anti_hmgcr": "negative"})  # fmt: skip
    assert s[P + "score_without_biopsy_min"] == pytest.approx(2.1)
    assert s[P + "score_without_biopsy_max"] == pytest.approx(20.8)
    assert s[P + "category"] == "not_iim" and s[P + "category_max"] == "definite"
    assert s[P + "missing"].split(";") == [
        "weakness_upper_proximal", "weakness_lower_proximal", "neck_flexor_weaker_than_extensor",
        "legs_proximal_weaker_than_distal", "heliotrope_rash", "gottron_papules", "gottron_sign",
        "dysphagia", "anti_jo1", "muscle_enzymes_elevated",
    ]  # fmt: skip


def test_columns_absent_from_an_older_extract_are_unknown():
    frame = valid_patients([{"birth_date": "1965-06-01", "dm_rash": "false"}])
    row = classify(frame).iloc[0]
    assert "heliotrope_rash" not in str(row[P + "missing"])  # dm_rash false: no rash signs
    assert (
        "dysphagia" in row[P + "missing"] and "biopsy_endomysial_infiltrate" in row[P + "missing"]
    )


def test_summary_columns_bound_the_unknown_items():
    # dm_rash true with no sign recorded: at least the smallest, Gottron papules 2.1.
    # 2.1 (age) + 2.1 = 4.2 min; max 2.1 + 3.1 + 2.1 + 3.3 = 10.6.
    s = score({"dm_rash": "true", "heliotrope_rash": None, "gottron_papules": None,
               "gottron_sign": None})  # fmt: skip
    assert s[P + "score_without_biopsy_min"] == pytest.approx(4.2)
    assert s[P + "score_without_biopsy_max"] == pytest.approx(10.6)
    # Weakness recorded, upper limb known absent: the lower limb must be weak, 2.1 + 0.8.
    s = score({"proximal_weakness": "mild", "weakness_lower_proximal": None})
    assert s[P + "score_without_biopsy_min"] == pytest.approx(2.9)
    assert s[P + "score_without_biopsy_max"] == pytest.approx(2.9)


def test_ck_above_the_labs_limit_counts_as_raised_enzymes():
    # muscle_enzymes_elevated empty, CK 250 > ULN 200: 2.1 + 1.3 = 3.4
    s = score({"muscle_enzymes_elevated": None, "ck_peak": "250"})
    assert s[P + "score_without_biopsy_min"] == pytest.approx(3.4)
    # CK normal and the column empty: LDH, AST or ALT could still be raised.
    s = score({"muscle_enzymes_elevated": None, "ck_peak": "150"})
    assert s[P + "missing"] == "muscle_enzymes_elevated"


def test_classifiers_fit_the_protocol_and_leave_the_group_alone():
    assert isinstance(EULAR_ACR_2017, Classifier)
    assert isinstance(DecisionProcedure(TMA2025), Classifier)
    assert [c.name for c in scored_classifiers()] == ["eular_acr_2017"]
    frame = valid_patients([{}, {"anti_hmgcr": "negative"}])
    with_scores, without = classify(frame), classify(frame, scores=())
    pd.testing.assert_frame_equal(with_scores[without.columns], without)
    assert not any(str(c).startswith(P) for c in without.columns)
    with pytest.raises(UnknownCriteriaError, match="eular_acr_2017"):
        classify(frame, scores=["acr1975"])
