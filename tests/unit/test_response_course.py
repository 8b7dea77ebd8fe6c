"""The 2016 ACR/EULAR response over the course: hand-worked patients, options, disclosure,
visits never counted as patients, and row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.response_course import ResponseOptions, response_course, visit_scores
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.errors import ConfigError
from tests.unit.course_data import cohort

T0 = pd.Timestamp("2020-01-01")
COLUMNS = ["physician_global", "patient_global", "mmt", "haq", "ck", "extramuscular_global"]
# Patient A of the TIS tests: physician 6, patient 7, MMT 60/80, HAQ 1.5, CK 2000 U/L
# (10 x the default ULN of 200), extramuscular 2.
BASE = (6, 7, 60, 1.5, 2000, 2)


def visit(pid: str, day: int, values: tuple, mmt_max: float | None = None) -> dict:
    return {
        "patient_id": pid,
        "visit_date": T0 + pd.Timedelta(days=day),
        **dict(zip(COLUMNS, values, strict=True)),
        "ck_uln": None,
        "mmt_max": mmt_max,
    }


def tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    patients = pd.DataFrame(
        {
            "patient_id": ["V1", "V2", "V3"],
            "imnm_group": ["hmgcr", "srp", "seronegative"],
            "onset_date": [T0 - pd.Timedelta(days=90), T0, T0 - pd.Timedelta(days=90)],
            "diagnosis_date": [T0, pd.NaT, T0],  # V2's time zero is its onset
            "last_followup_date": [T0 + pd.Timedelta(days=d) for d in (517, 365, 400)],
            "death_date": [pd.NaT, T0 + pd.Timedelta(days=365), pd.NaT],
        }
    )
    visits = pd.DataFrame(
        [
            visit("V1", -40, (9, 9, 20, 3, 9000, 9)),  # before the window: not baseline
            visit("V1", 10, BASE),  # baseline (window -30 to 30 days)
            # 67.5, major (the TIS tests' patient A).
            visit("V1", 180, (2, 4, 72, 1.0, 400, 1)),
            visit("V1", 200, BASE),  # unchanged: 0, none
            # physician 1.5/10 = 15% -> 7.5; patient 1/10 = 10% -> 2.5; MMT 8/80 = 10% -> 10;
            # HAQ 0.3/3 = 10% -> 5; CK 2000 -> 1000: 50% -> 7.5; extramuscular 0 -> 0.
            # Total 32.5: minimal.
            visit("V1", 370, (4.5, 6, 68, 1.2, 1000, 2)),
            visit("V1", 380, (4.5, 6, 68, None, 1000, 2)),  # HAQ missing: no TIS
            visit("V2", 0, BASE, mmt_max=150),  # baseline, MMT 60 of 150
            visit("V2", 170, (5, 7, 90, 1.5, 2000, 2), mmt_max=80),  # another scale
            # physician 10% -> 7.5; MMT 30/150 = 20% -> 20; the rest unchanged: 27.5.
            visit("V2", 200, (5, 7, 90, 1.5, 2000, 2), mmt_max=150),
            visit("V3", 60, BASE),  # no visit within the baseline window
            visit("V3", 200, (2, 4, 72, 1.0, 400, 1)),
        ]
    )
    return patients, visits


def test_scores_at_every_follow_up_visit_by_hand():
    scores, baselines = visit_scores(*tiny())
    assert baselines.values.tolist() == [["V1", 10.0], ["V2", 0.0]]
    v1 = scores[scores["patient_id"] == "V1"]
    assert v1["day"].tolist() == [180, 200, 370, 380]
    assert v1["total"].tolist()[:3] == [67.5, 0.0, 32.5] and np.isnan(v1["total"].iloc[3])
    assert v1["category"].astype(str).tolist()[:3] == ["major", "none", "minimal"]
    assert v1["reason"].tolist() == ["", "", "", "missing_haq_followup"]
    v2 = scores[scores["patient_id"] == "V2"]
    assert np.isnan(v2["total"].iloc[0]) and v2["reason"].iloc[0] == "mmt_scale_changed"
    assert v2["total"].iloc[1] == 27.5


def test_categories_at_landmarks_and_patients_without_a_baseline():
    result = response_course(*tiny())
    v1 = result.groups["hmgcr"]
    assert (v1.n, v1.with_baseline) == (1, 1)
    # 6 months = 182.6 days: day 180 (2.6 days away) before day 200 -> major.
    # 12 months = 365.25 days: day 370 -> minimal (day 380 has no TIS).
    # 24 months: no visit within 60 days -> not assessed.
    assert v1.landmarks["6"].categories == {"none": 0, "minimal": 0, "moderate": 0, "major": 1}
    assert v1.landmarks["12"].categories["minimal"] == 1
    assert (v1.landmarks["24"].assessed, v1.landmarks["24"].not_assessed) == (0, 1)
    # V2 at 6 months: day 170 has no TIS (MMT scale changed), day 200 has 27.5 -> minimal.
    assert result.groups["srp"].landmarks["6"].categories["minimal"] == 1
    v3 = result.groups["seronegative"]
    assert (v3.n, v3.with_baseline, v3.landmarks["6"].assessed) == (1, 0, 0)
    assert result.time_zero_onset == 1


def test_visits_are_counted_as_visits_not_patients():
    visits = response_course(*tiny()).to_dict()["visits"]
    # Scored: V1 at 180, 200, 370; V2 at 200. Not computed: V1 at 380, V2 at 170. V3 has
    # no baseline, so none of its visits is a follow-up.
    assert visits == {
        "scored": 4,
        "not_computed": 2,
        "lower_bound": 0,
        "by_reason": {"missing_haq_followup": 1, "mmt_scale_changed": 1},
    }


def test_time_to_first_improvement_with_death_competing():
    result = response_course(
        *tiny(), options=ResponseOptions(landmarks_months=(6.0, 7.0), min_count=1)
    )
    minimal, moderate = result.improvement["minimal"], result.improvement["moderate"]
    # V1 reaches minimal, moderate and major at day 180; V2 minimal at day 200 and dies at
    # day 365 without moderate.
    assert (minimal["hmgcr"].events, minimal["srp"].events) == (1, 1)
    assert (moderate["srp"].events, moderate["srp"].competing) == (0, 1)
    # V2 at 6 months (182.6 days): not yet (0); at 7 months (213 days), past the group's
    # last time (day 200): not estimated, as cmprsk's timepoints gives NA there.
    assert minimal["srp"].estimate == (0.0, None)
    assert minimal["seronegative"].n == 0  # no baseline


def test_partial_scores_are_lower_bounds():
    options = ResponseOptions(partial=True)
    scores, _ = visit_scores(*tiny(), options=options)
    row = scores[(scores["patient_id"] == "V1") & (scores["day"] == 380)].iloc[0]
    # Day 370's 32.5 without the HAQ's 5 points: 27.5, a lower bound.
    assert (row["total"], bool(row["lower_bound"])) == (27.5, True)
    # Both visits without a TIS are now scored as lower bounds: V1 at 380 and V2 at 170
    # (the MMT on another scale is missing, scored 0).
    visits = response_course(*tiny(), options=options).visits
    assert (visits["scored"], visits["not_computed"], visits["lower_bound"]) == (6, 0, 2)


def test_the_percent_change_basis_is_an_option():
    scores, _ = visit_scores(*tiny(), options=ResponseOptions(change="baseline"))
    # Relative to baseline, V1 at day 370: physician 1.5/6 = 25% -> 15; patient 1/7 =
    # 14.3% -> 2.5; MMT 8/60 = 13.3% -> 20; HAQ 0.3/1.5 = 20% -> 7.5; CK 50% -> 7.5;
    # extramuscular 0. Total 52.5: moderate.
    row = scores[(scores["patient_id"] == "V1") & (scores["day"] == 370)].iloc[0]
    assert (row["total"], row["category"]) == (52.5, "moderate")
    result = response_course(*tiny(), options=ResponseOptions(change="baseline"))
    assert result.to_dict()["options"]["change"] == "baseline"
    assert "every measure relative to baseline" in result.method()


def test_the_nearest_visit_on_a_tie_is_the_earlier():
    patients, _ = tiny()
    visits = pd.DataFrame(
        [
            visit("V1", 0, BASE),
            visit("V1", 240, (2, 4, 72, 1.0, 400, 1)),  # 67.5, major
            visit("V1", 247, BASE),  # 0, none
        ]
    )
    # 8 months = 243.5 days: 240 and 247 are both 3.5 days away -> the earlier.
    result = response_course(patients, visits, options=ResponseOptions(landmarks_months=(8.0,)))
    assert result.groups["hmgcr"].landmarks["8"].categories["major"] == 1


def test_options_are_checked():
    with pytest.raises(ConfigError, match="baseline_window_days"):
        ResponseOptions(baseline_window_days=(10, -10))
    with pytest.raises(ConfigError, match="change 'range'"):
        ResponseOptions(change="range")
    with pytest.raises(ConfigError, match="landmarks_months"):
        ResponseOptions(landmarks_months=(0.0,))


def test_every_count_is_declared_and_rows_in_any_order_give_the_same_numbers():
    patients, visits, _ = cohort(6, 120)
    result = response_course(patients, visits)
    assert suppress(result.to_dict(), result.disclosure(), 5).undeclared == ()
    rng = np.random.default_rng(2)
    shuffled = response_course(
        patients.iloc[rng.permutation(len(patients))], visits.iloc[rng.permutation(len(visits))]
    )
    assert shuffled.to_dict() == result.to_dict()
