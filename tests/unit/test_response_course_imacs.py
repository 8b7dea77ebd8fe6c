"""IMACS 2004 improvement and ProDERM confirmed deterioration over the course: hand-worked
patients (arithmetic written out), missing measures never 0, time to first IMACS
improvement with death competing, disclosure and row order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imnm_cohort.analysis.response_course import ResponseOptions, response_course, visit_scores
from imnm_cohort.disclosure.suppression import suppress
from tests.unit.course_data import cohort
from tests.unit.test_response_course import BASE, T0, tiny, visit

# BASE: physician 6, patient 7, MMT 60/80, HAQ 1.5, CK 2000 U/L (10 x ULN), extramuscular 2.


def worsening() -> tuple[pd.DataFrame, pd.DataFrame]:
    """D1 (hmgcr) and D2 (srp), both diagnosed at T0 and baselined at day 0."""
    patients = pd.DataFrame(
        {
            "patient_id": ["D1", "D2"],
            "imnm_group": ["hmgcr", "srp"],
            "onset_date": [T0 - pd.Timedelta(days=30)] * 2,
            "diagnosis_date": [T0, T0],
            "last_followup_date": [T0 + pd.Timedelta(days=d) for d in (420, 400)],
            "death_date": [pd.NaT, T0 + pd.Timedelta(days=400)],
        }
    )
    visits = pd.DataFrame(
        [
            visit("D1", 0, BASE),
            # Physician 6 -> 8 (+2 cm) and MMT 60 -> 48 (-12/60 = -20%): deteriorated. The
            # first follow-up visit: not confirmed (nothing before it to confirm).
            visit("D1", 90, (8, 7, 48, 1.5, 2000, 2)),
            # Extramuscular 2 -> 4 (+2 cm): deteriorated again -> confirmed.
            visit("D1", 180, (6, 7, 60, 1.5, 2000, 4)),
            # Unchanged: not deteriorated, not confirmed.
            visit("D1", 365, BASE),
            visit("D2", 0, BASE),
            # Patient 7 -> 10 (-3/7 = -42.9%), HAQ 1.5 -> 3 (-100%), extramuscular 2 -> 3
            # (-50%; +1 cm only): 3 non-enzyme measures worse by >= 30% -> deteriorated.
            visit("D2", 100, (6, 10, 60, 3.0, 2000, 3)),
            # Physician global missing: deterioration not judged (never read as 0), so the
            # confirmation is unknown (True & unknown).
            visit("D2", 190, (None, 10, 60, 3.0, 2000, 3)),
        ]
    )
    return patients, visits


def test_imacs_improvement_at_every_follow_up_visit_by_hand():
    scores, _ = visit_scores(*tiny())
    v1 = scores[scores["patient_id"] == "V1"]
    # Day 180 against BASE, each relative to baseline: physician 4/6 = 66.7%, patient 3/7 =
    # 42.9%, MMT 12/60 = 20%, HAQ 0.5/1.5 = 33.3%, CK 1600/2000 = 80%, extramuscular 1/2 =
    # 50%: 6 measures improved by >= 20%, none worse -> improved.
    # Day 200 (= BASE): 0 improved -> not improved.
    # Day 370: physician 1.5/6 = 25%, patient 1/7 = 14.3%, MMT 8/60 = 13.3%, HAQ 0.3/1.5 =
    # 20%, CK 50%, extramuscular 0: 3 improved (physician, HAQ, CK), none worse -> improved.
    # Day 380: the HAQ is missing -> not judged (missing), never scored as 0.
    assert v1["imacs_improved"].tolist()[:3] == [True, False, True]
    assert pd.isna(v1["imacs_improved"].iloc[3])
    # V2 at day 170: the MMT on another scale (80 against 150) -> not judged. Day 200:
    # physician 1/6 = 16.7%, MMT 30/60 = 50%, the rest unchanged: 1 improved -> not.
    v2 = scores[scores["patient_id"] == "V2"]
    assert pd.isna(v2["imacs_improved"].iloc[0]) and v2["imacs_improved"].iloc[1] == False  # noqa: E712


def test_imacs_at_the_landmarks_and_time_to_first_improvement():
    result = response_course(
        *tiny(), options=ResponseOptions(landmarks_months=(6.0, 12.0), min_count=1)
    )
    hmgcr = result.definitions["imacs_improvement"]["hmgcr"]
    # 6 months (182.6 days): day 180 (improved); 12 months (365.25): day 370 (improved).
    assert (hmgcr["6"].assessed, hmgcr["6"].met, hmgcr["6"].percent) == (1, 1, 100.0)
    assert (hmgcr["12"].met, hmgcr["12"].not_assessed) == (1, 0)
    # V2 at 6 months: day 170 not judged, day 200 (17.4 days away) not improved: 0 of 1.
    srp = result.definitions["imacs_improvement"]["srp"]
    assert (srp["6"].assessed, srp["6"].met, srp["6"].percent) == (1, 0, 0.0)
    # 12 months: V2 has no judged visit within 60 days -> not assessed (1 with a baseline).
    assert (srp["12"].assessed, srp["12"].not_assessed) == (0, 1)
    # Time to first IMACS improvement: V1 at day 180 (5.9 months), the group's last time,
    # so 6 months is past it: not estimated (as cmprsk gives NA). V2 never improves and
    # dies at day 365 (11.99 months): a competing event, 0% at 6 months.
    curves = result.imacs_improvement
    assert (curves["hmgcr"].events, curves["hmgcr"].estimate[0]) == (1, None)
    assert (curves["srp"].events, curves["srp"].competing, curves["srp"].estimate[0]) == (
        0, 1, 0.0,
    )  # fmt: skip
    assert result.to_dict()["imacs"]["visits_judged"] == {
        # Judged IMACS: V1 at 180, 200, 370 and V2 at 200 (V1 380 and V2 170 are not).
        "imacs_improvement": 4,
        # Confirmed: every visit but none unknown here (a first follow-up is False; V1 380
        # follows a visit that was not deteriorated: False & unknown = False).
        "confirmed_deterioration": 6,
    }


def test_confirmed_deterioration_by_hand():
    scores, _ = visit_scores(*worsening())
    d1 = scores[scores["patient_id"] == "D1"]
    assert d1["deteriorated"].tolist() == [True, True, False]
    assert d1["confirmed_deterioration"].tolist() == [False, True, False]
    d2 = scores[scores["patient_id"] == "D2"]
    assert d2["deteriorated"].iloc[0] == True and pd.isna(d2["deteriorated"].iloc[1])  # noqa: E712
    assert d2["confirmed_deterioration"].iloc[0] == False and pd.isna(  # noqa: E712
        d2["confirmed_deterioration"].iloc[1]
    )
    result = response_course(*worsening(), options=ResponseOptions(landmarks_months=(6.0, 12.0)))
    confirmed = result.definitions["confirmed_deterioration"]
    # D1 at 6 months: day 180 (2.6 days away), confirmed -> 1 of 1; 12 months: day 365, not.
    assert (confirmed["hmgcr"]["6"].met, confirmed["hmgcr"]["6"].assessed) == (1, 1)
    assert (confirmed["hmgcr"]["12"].met, confirmed["hmgcr"]["12"].assessed) == (0, 1)
    # D2 at 6 months: day 190 is unknown, day 100 is 82.6 days away (> 60): not assessed.
    assert (confirmed["srp"]["6"].assessed, confirmed["srp"]["6"].not_assessed) == (0, 1)
    # No IMACS improvement in either: no event; D2's death at day 400 competes.
    assert result.imacs_improvement["srp"].competing == 1
    assert result.imacs_improvement["hmgcr"].events == 0


def test_the_imacs_percent_change_basis_is_an_option():
    # Under "default" (scales relative to their range), V1 at day 370: physician 1.5/10 =
    # 15%, patient 10%, MMT 8/80 = 10%, HAQ 0.3/3 = 10%, CK 50%, extramuscular 0: only the
    # CK improved by >= 20% -> not improved (it is, relative to baseline, above).
    options = ResponseOptions(imacs_change="default")
    scores, _ = visit_scores(*tiny(), options=options)
    row = scores[(scores["patient_id"] == "V1") & (scores["day"] == 370)].iloc[0]
    assert row["imacs_improved"] == False  # noqa: E712
    result = response_course(*tiny(), options=options)
    assert result.to_dict()["imacs"]["change"] == "default"
    assert result.to_dict()["options"]["imacs_change"] == "default"


def test_imacs_counts_are_declared_and_row_order_changes_no_number():
    patients, visits, _ = cohort(6, 120)
    result = response_course(patients, visits)
    out = result.to_dict()
    assert suppress(out, result.disclosure(), 5).undeclared == ()
    for d in ("imacs_improvement", "confirmed_deterioration"):
        for g, at in out["imacs"][d]["groups"].items():
            for cell in at["landmarks_months"].values():
                assert cell["assessed"] + cell["not_assessed"] == out["groups"][g]["with_baseline"]
                assert 0 <= cell["met"] <= cell["assessed"]
    rng = np.random.default_rng(3)
    shuffled = response_course(
        patients.iloc[rng.permutation(len(patients))], visits.iloc[rng.permutation(len(visits))]
    )
    assert shuffled.to_dict() == out
