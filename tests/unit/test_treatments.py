"""Treatments over the course: hand-worked patients, options, disclosure and row order."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.treatments import TreatmentOptions, drug_class, fisher_2x2, treatments
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.errors import ConfigError
from tests.unit.course_data import cohort

NaT = pd.NaT


def ts(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text) if text else NaT


def tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seven patients (one outside the IMNM groups), dates written out."""
    rows = [
        # id, group, statin, onset, diagnosis, last follow-up, death
        ("A", "hmgcr", True, "2019-10-01", "2020-01-01", "2022-01-01", None),
        ("B", "hmgcr", False, "2019-06-01", None, "2021-06-01", None),
        ("C", "srp", False, "2019-11-01", "2020-01-01", "2020-06-30", "2020-06-30"),
        ("D", "seronegative", False, "2019-11-01", "2020-01-01", "2020-12-31", None),
        ("E", "hmgcr", None, "2019-11-01", "2020-01-01", "2020-12-31", None),
        ("F", "statin_toxic", True, "2019-11-01", "2020-01-01", "2020-12-31", None),
        ("G", "srp", False, "2019-11-01", "2020-01-01", "2020-03-01", "2020-03-01"),
    ]
    patients = pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "imnm_group": [r[1] for r in rows],
            "statin_exposed": pd.array([r[2] for r in rows], dtype="boolean"),
            "onset_date": [ts(r[3]) for r in rows],
            "diagnosis_date": [ts(r[4]) for r in rows],
            "last_followup_date": [ts(r[5]) for r in rows],
            "death_date": [ts(r[6]) for r in rows],
        }
    )
    courses = [
        ("A", "prednisone", "2020-01-01", None, 60.0),
        ("A", "methotrexate", "2020-01-15", "2020-06-01", None),
        ("A", "methotrexate", "2020-09-01", None, None),
        ("A", "ivig", "2020-03-01", "2020-05-01", None),
        ("B", "prednisolone", "2019-06-01", "2019-11-01", 40.0),
        ("C", "rituximab", "2019-12-01", "2019-12-15", None),
        ("C", "azathioprine", "2020-02-01", None, None),
        ("C", "mycophenolate", "2020-03-01", None, None),
        ("E", "plasma_exchange", "2020-02-01", "2020-02-05", None),
        ("E", "methotrexate", "2020-03-01", None, None),
        ("F", "rituximab", "2020-03-01", None, None),
        ("G", "methotrexate", "2020-01-10", None, None),
    ]
    frame = pd.DataFrame(
        {
            "patient_id": [c[0] for c in courses],
            "drug": [c[1] for c in courses],
            "start_date": [ts(c[2]) for c in courses],
            "stop_date": [ts(c[3]) for c in courses],
            "dose_mg_per_day": [c[4] for c in courses],
        }
    )
    return patients, frame


def test_drug_classes_follow_the_contract():
    drugs = pd.Series(["Prednisone", "cyclophosphamide", "ivig", "rituximab", "plasma_exchange"])
    assert drug_class(drugs).tolist() == [
        "glucocorticoid", "immunosuppressant", "ivig", "biologic", "procedure",
    ]  # fmt: skip
    assert drug_class(pd.Series(["unheard_of", None])).tolist() == ["other", "other"]


def test_hand_worked_counts_by_group():
    result = treatments(*tiny())
    # hmgcr: A has methotrexate (two courses: one drug) and IVIG = 2 agents; B prednisolone
    # only = 0 (glucocorticoid monotherapy); E methotrexate = 1 (plasma exchange is a
    # procedure, not counted). F (statin_toxic) is not in any group.
    hmgcr = result.groups["hmgcr"]
    assert (hmgcr.n, hmgcr.with_courses) == (3, 3)
    assert hmgcr.agents == {"0": 1, "1": 1, "2": 1, "3+": 0}
    assert (hmgcr.two_or_more, hmgcr.glucocorticoid, hmgcr.glucocorticoid_monotherapy) == (1, 2, 1)
    assert (hmgcr.ivig, hmgcr.rituximab) == (1, 0)
    assert hmgcr.percent["two_or_more"][0] == pytest.approx(100 / 3)
    # srp: C rituximab, azathioprine, mycophenolate = 3; G methotrexate = 1.
    srp = result.groups["srp"]
    assert srp.agents == {"0": 0, "1": 1, "2": 0, "3+": 1} and srp.rituximab == 1
    # seronegative: D has no course recorded: 0 agents, not glucocorticoid monotherapy.
    sero = result.groups["seronegative"]
    assert (sero.n, sero.with_courses, sero.agents["0"], sero.glucocorticoid_monotherapy) == (
        1, 0, 1, 0,
    )  # fmt: skip
    assert result.courses == 11  # rows of the analysed patients (F's is left out)
    assert result.time_zero_onset == 1  # B has no diagnosis date


def test_the_founding_claim_by_hand():
    claim = treatments(*tiny()).founding_claim
    # Statin-exposed anti-HMGCR: A (2 agents). Others: B 0, C 3, D 0, G 1. E (statin
    # unknown) is in neither row.
    assert claim.table == {
        "statin_exposed_hmgcr": {"two_or_more": 1, "fewer": 0},
        "other": {"two_or_more": 1, "fewer": 3},
    }
    assert claim.excluded_unknown_statin == 1
    # Margins: rows 1 and 4, columns 2 and 3, N = 5. P(a = 1) = C(2,1) C(3,0) / C(5,1) =
    # 2/5, P(a = 0) = C(2,0) C(3,1) / 5 = 3/5. Tables no more probable than 0.4: a = 1 only.
    assert claim.p_value == pytest.approx(0.4, abs=1e-12)


def test_fisher_without_a_margin_gives_a_reason():
    odds, ci, p, reason = fisher_2x2(np.array([[0, 0], [3, 4]]))
    assert (odds, ci, p) == (None, None, None) and "empty" in str(reason)


def test_second_line_by_hand_and_by_named_drugs():
    patients, courses = tiny()
    result = treatments(patients, courses, options=TreatmentOptions(min_count=1))
    # Second distinct immunotherapy: A IVIG at day 60 (2020-03-01, 2020 a leap year); C
    # azathioprine at day 31 (rituximab came first, before time zero). G died at day 60
    # with one agent: competing. B, D, E censored.
    assert result.second_line["hmgcr"].events == 1
    assert (result.second_line["srp"].events, result.second_line["srp"].competing) == (1, 1)
    assert result.second_line_before_time_zero == 0
    named = treatments(
        patients,
        courses,
        options=TreatmentOptions(
            second_line_drugs=("ivig", "rituximab"), at_months=(1.0, 6.0), min_count=1
        ),
    )
    # IVIG or rituximab: A at day 60, C at day -31, counted at time zero.
    assert named.second_line_before_time_zero == 1
    # srp at 1 month: C's event at 0 of C and G -> 1/2; at 6 months, past the group's last
    # time (C's 181 days), not estimated.
    assert named.second_line["srp"].estimate == (pytest.approx(0.5), None)
    assert "ivig, rituximab" in named.to_dict()["second_line"]["definition"]


def test_classes_over_time_by_hand_and_small_bins_left_out():
    patients, courses = tiny()
    shown = treatments(patients, courses, options=TreatmentOptions(min_count=1))
    bins = shown.classes_over_time.groups["hmgcr"]
    first = bins[0]
    # Bin 0 (0-3 months): A, B, E under observation; glucocorticoid A, B; immunosuppressant
    # A (methotrexate day 14) and E (day 60); IVIG A (day 60-121); plasma exchange E.
    assert first["bin"] == 0 and first["n"] == 3
    assert first["on"] == {
        "glucocorticoid": 2, "immunosuppressant": 2, "ivig": 1, "biologic": 0, "procedure": 1,
    }  # fmt: skip
    assert first["percent"]["glucocorticoid"] == pytest.approx(200 / 3)
    # Bin 8 (24-27 months from day 730.5): A and B (731 days of follow-up) only.
    assert [b["n"] for b in bins if b["bin"] == 8] == [2]
    # With the default minimum of 5 patients, no bin of these groups is shown.
    default = treatments(patients, courses)
    assert all(rows == [] for rows in default.classes_over_time.groups.values())


def test_options_are_checked():
    with pytest.raises(ConfigError, match="immunotherapy_classes"):
        TreatmentOptions(immunotherapy_classes=("glucocorticoid",))
    with pytest.raises(ConfigError, match="second_line_drugs"):
        TreatmentOptions(second_line_drugs=("aspirin",))
    with pytest.raises(ConfigError, match="bin_months"):
        TreatmentOptions(bin_months=0)
    counted = TreatmentOptions(
        immunotherapy_classes=("immunosuppressant", "ivig", "biologic", "procedure")
    )
    # Plasma exchange counted: E has 2 agents.
    assert treatments(*tiny(), options=counted).groups["hmgcr"].agents["2"] == 2


def test_every_count_is_declared_and_no_identifier_or_date_is_published():
    patients, _, courses = cohort(2, 120)
    result = treatments(patients, courses)
    out = suppress(result.to_dict(), result.disclosure(), 5)
    assert out.undeclared == ()
    text = json.dumps(result.to_dict())
    assert "P00" not in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_shuffling_rows_changes_no_number():
    patients, _, courses = cohort(3, 90)
    before = treatments(patients, courses).to_dict()
    rng = np.random.default_rng(0)
    shuffled = treatments(
        patients.iloc[rng.permutation(len(patients))],
        courses.iloc[rng.permutation(len(courses))],
    ).to_dict()
    assert shuffled == before


def test_a_missing_column_or_a_repeated_patient_is_one_line_of_bad_data():
    from imnm_cohort.analysis.relapse import relapse
    from imnm_cohort.analysis.response_course import response_course
    from imnm_cohort.errors import ExtractError

    patients, courses = tiny()
    with pytest.raises(ExtractError, match="treatments table: no column 'drug'"):
        treatments(patients, courses.drop(columns="drug"))
    with pytest.raises(ExtractError, match="patients table: no column 'statin_exposed'"):
        treatments(patients.drop(columns="statin_exposed"), courses)
    with pytest.raises(ExtractError, match="patients table: patient_id is not unique"):
        treatments(pd.concat([patients, patients.iloc[:1]]), courses)
    visits = pd.DataFrame({"patient_id": ["A"], "visit_date": [pd.Timestamp("2020-02-01")]})
    with pytest.raises(ExtractError, match="visits table: no column 'ck'"):
        relapse(patients, visits, courses)
    with pytest.raises(ExtractError, match="visits table: no column 'visit_date'"):
        response_course(patients, visits.drop(columns="visit_date"))
    # Without stop dates every course runs to the end of observation; without the measures
    # no TIS is computed, each visit with its reasons.
    assert treatments(patients, courses.drop(columns="stop_date")).groups["hmgcr"].n == 3
    scored = response_course(patients, visits).visits
    # A's only visit (day 31) is outside the baseline window: no baseline, nothing scored.
    assert (scored["scored"], scored["not_computed"]) == (0, 0)
    assert response_course(patients, visits.iloc[:0]).groups["hmgcr"].with_baseline == 0
    assert treatments(patients, courses.iloc[:0]).groups["hmgcr"].agents["0"] == 3


def test_glucocorticoid_monotherapy_means_no_course_of_another_class():
    patients, courses = tiny()
    # D (seronegative) gets prednisone and a plasma exchange: a glucocorticoid, no
    # immunotherapy counted, but not glucocorticoid alone.
    extra = pd.DataFrame(
        {
            "patient_id": ["D", "D"],
            "drug": ["prednisone", "plasma_exchange"],
            "start_date": [ts("2020-01-05"), ts("2020-01-10")],
            "stop_date": [NaT, ts("2020-01-12")],
            "dose_mg_per_day": [40.0, None],
        }
    )
    sero = treatments(patients, pd.concat([courses, extra])).groups["seronegative"]
    assert (sero.agents["0"], sero.glucocorticoid, sero.glucocorticoid_monotherapy) == (1, 1, 0)
    alone = treatments(patients, pd.concat([courses, extra.iloc[:1]])).groups["seronegative"]
    assert alone.glucocorticoid_monotherapy == 1
