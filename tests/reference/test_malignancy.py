"""Malignancy analyses on a hand-worked table of patients."""

from __future__ import annotations

import pytest

from imnm_cohort import classify
from imnm_cohort.analysis import MalignancyOptions, malignancy
from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from tests.conftest import valid_patients

Y = 365.25


def cohort(options_rows):
    return classify(valid_patients(options_rows))


ROWS = [
    # onset 2015-06-01; follow-up to 2020-06-01 unless changed. All anti-HMGCR IMNM.
    {"cancer_date": "2016-06-01", "cancer_icd10": "C50.9"},  # cancer after 366 days
    {"cancer_date": "2013-06-01", "cancer_icd10": "C18.9"},  # before onset: not at risk
    {"cancer_date": "2017-06-01", "cancer_icd10": "C44.9"},  # skin: not counted by default
    {"death_date": "2018-06-01", "last_followup_date": "2018-06-01"},  # death: competing
    {},  # censored at 2020-06-01
    {"cancer_date": "2021-06-01", "cancer_icd10": "C61"},  # after end of observation
]


def test_hand_worked_counts_rates_and_window():
    result = malignancy(cohort(ROWS), ["hmgcr"]).groups["hmgcr"]
    days = [366, 0, 1827, 1096, 1827, 1827]  # follow-up per at-risk patient
    assert (result.n, result.at_risk, result.events, result.deaths) == (6, 5, 1, 1)
    person_years = (days[0] + days[2] + days[3] + days[4] + days[5]) / Y
    assert result.person_years == pytest.approx(person_years)
    assert result.rate_per_1000py == pytest.approx(1000 / person_years)
    lo, hi = poisson_exact(1, person_years)
    assert result.rate_ci == pytest.approx((1000 * lo, 1000 * hi))
    # within 3 years of onset: the 2016 and 2013 cancers (C44 excluded)
    assert result.within_window == 2
    assert result.within_window_ci == pytest.approx(clopper_pearson(2, 6))
    # Aalen-Johansen at 3 years: the one cancer at 366 days among 5 at risk -> 1/5
    assert result.cumulative_incidence == pytest.approx(0.2)


def test_options_change_what_counts():
    frame = cohort(ROWS)
    with_skin = malignancy(frame, ["hmgcr"], MalignancyOptions(exclude_c44=False))
    assert with_skin.groups["hmgcr"].events == 2
    narrow = malignancy(frame, ["hmgcr"], MalignancyOptions(window_years=1.5))
    assert narrow.groups["hmgcr"].within_window == 1
    in_situ = cohort([{"cancer_date": "2016-06-01", "cancer_icd10": "D05.1"}])
    assert malignancy(in_situ, ["hmgcr"]).groups["hmgcr"].events == 0
    assert (
        malignancy(in_situ, ["hmgcr"], MalignancyOptions(include_in_situ=True))
        .groups["hmgcr"]
        .events
        == 1
    )


def test_time_zero_can_be_the_diagnosis_date():
    frame = cohort(
        [{"cancer_date": "2015-07-01", "cancer_icd10": "C50.9", "diagnosis_date": "2015-09-01"}]
    )
    assert malignancy(frame, ["hmgcr"]).groups["hmgcr"].events == 1
    by_diagnosis = malignancy(frame, ["hmgcr"], MalignancyOptions(time_zero="diagnosis"))
    assert by_diagnosis.groups["hmgcr"].at_risk == 0  # cancer before the diagnosis date


def test_diagnosis_after_end_of_observation_is_not_at_risk():
    # Diagnosed after the last follow-up: no follow-up from diagnosis, never a negative time.
    frame = cohort(
        [
            {"diagnosis_date": "2020-07-01", "last_followup_date": "2020-06-01"},
            {"cancer_date": "2016-09-01", "cancer_icd10": "C50.9"},
            {},
        ]
    )
    options = MalignancyOptions(time_zero="diagnosis")
    result = malignancy(frame, ["hmgcr"], options).groups["hmgcr"]
    assert (result.n, result.at_risk, result.time_zero_after_end, result.events) == (3, 2, 1, 1)
    follow_up = 366 + (1827 - 92)  # from 2015-09-01: to the cancer, and to 2020-06-01
    assert result.person_years == pytest.approx(follow_up / Y)
    assert malignancy(frame, ["hmgcr"]).groups["hmgcr"].time_zero_after_end == 0


def test_synthetic_cohort_with_diagnosis_as_time_zero_runs():
    # Seed 3 holds a patient diagnosed after the last follow-up (it used to crash).
    from imnm_cohort import analyse, validate_extract
    from imnm_cohort.synth import synthesize

    result = validate_extract(synthesize(300, seed=3))
    frame = classify(result.valid)
    analysis = analyse(frame, MalignancyOptions(time_zero="diagnosis"), n_boot=10)
    warned = set(
        result.warnings.loc[
            result.warnings["code"] == "diagnosis_after_end_of_observation", "patient_id"
        ]
    )
    assert "SYN0003-0000020" in warned
    imnm = frame["imnm_group"].isin(list(analysis.malignancy.groups))
    expected = int((imnm & frame["patient_id"].isin(warned)).sum())
    groups = analysis.malignancy.groups.values()
    assert expected >= 1
    assert sum(g.time_zero_after_end for g in groups) == expected
    assert all(g.person_years >= 0 for g in groups)


def test_horizon_beyond_follow_up_gives_no_number():
    frame = cohort([{"last_followup_date": "2016-06-01"}, {"last_followup_date": "2017-06-01"}])
    beyond = malignancy(frame, ["hmgcr"], MalignancyOptions(horizon_years=3)).groups["hmgcr"]
    assert beyond.horizon_beyond_follow_up
    assert beyond.cumulative_incidence is None and beyond.cumulative_incidence_ci is None
    inside = malignancy(frame, ["hmgcr"], MalignancyOptions(horizon_years=2)).groups["hmgcr"]
    assert not inside.horizon_beyond_follow_up
    assert inside.cumulative_incidence == 0.0


def test_bad_options_are_refused():
    with pytest.raises(ValueError):
        MalignancyOptions(time_zero="birth")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MalignancyOptions(horizon_years=0)
