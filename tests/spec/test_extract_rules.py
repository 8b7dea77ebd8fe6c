"""Spec: every rule of extract contract v1, one tiny table each.

Each case is one patient whose single overridden cell breaks (or keeps) a rule, and the
expected outcome: quarantined with (column, rule), or valid.
"""

from __future__ import annotations

import pandas as pd
import pytest

from imnm_cohort import FileLevelError
from tests.conftest import text_frame, validate

QUARANTINED = [
    # (overrides, column, rule)
    ({"patient_id": None}, "patient_id", "missing_required"),
    ({"patient_id": "P\x01X"}, "patient_id", "invalid_patient_id"),
    ({"patient_id": "P" * 257}, "patient_id", "invalid_patient_id"),
    ({"sex": None}, "sex", "missing_required"),
    ({"sex": "f"}, "sex", "not_allowed"),
    ({"birth_date": None}, "birth_date", "missing_required"),
    ({"birth_date": "01/03/1955"}, "birth_date", "not_a_date"),
    ({"birth_date": "1955-02-30"}, "birth_date", "not_a_date"),
    ({"birth_date": "1955-2-3"}, "birth_date", "not_a_date"),
    ({"birth_date": "1955-03-01T00:00"}, "birth_date", "not_a_date"),
    ({"birth_date": "1500-03-01"}, "birth_date", "date_out_of_range"),
    ({"cancer_date": "2021-02-29"}, "cancer_date", "not_a_date"),
    ({"death_date": "9999-12-31"}, "death_date", "date_out_of_range"),
    ({"birth_date": "2015-06-01"}, "birth_date", "birth_not_before_onset"),
    ({"birth_date": "2016-01-01"}, "birth_date", "birth_not_before_onset"),
    ({"onset_date": None}, "onset_date", "missing_required"),
    ({"onset_date": "June 2015"}, "onset_date", "not_a_date"),
    ({"diagnosis_date": "2015-05-31"}, "diagnosis_date", "diagnosis_before_onset"),
    ({"last_followup_date": None}, "last_followup_date", "missing_required"),
    ({"last_followup_date": "2015-05-31"}, "last_followup_date", "followup_before_onset"),
    ({"death_date": "2020-05-31"}, "death_date", "death_before_followup"),
    (
        {"death_date": "2015-05-01", "last_followup_date": "2015-06-01"},
        "death_date",
        "death_before_onset",
    ),
    ({"proximal_weakness": "strong"}, "proximal_weakness", "not_allowed"),
    ({"weakness_course": "slow"}, "weakness_course", "not_allowed"),
    ({"dm_rash": "maybe"}, "dm_rash", "not_a_boolean"),
    ({"dm_rash": "2"}, "dm_rash", "not_a_boolean"),
    ({"ck_peak": "-1"}, "ck_peak", "out_of_range"),
    ({"ck_peak": "1000001"}, "ck_peak", "out_of_range"),
    ({"ck_peak": "high"}, "ck_peak", "not_a_number"),
    ({"ck_peak": "1,000"}, "ck_peak", "not_a_number"),
    ({"ck_peak": "inf"}, "ck_peak", "not_a_number"),
    ({"ck_peak": "nan"}, "ck_peak", "not_a_number"),
    ({"ck_uln": "19.9"}, "ck_uln", "out_of_range"),
    ({"ck_uln": "1000.5"}, "ck_uln", "out_of_range"),
    ({"emg_myopathic": "y"}, "emg_myopathic", "not_a_boolean"),
    ({"anti_hmgcr": "pos"}, "anti_hmgcr", "not_allowed"),
    ({"anti_srp": "borderline"}, "anti_srp", "not_allowed"),
    ({"other_msa": "jo-1"}, "other_msa", "unknown_antibody"),
    ({"other_msa": "none;jo1"}, "other_msa", "unknown_antibody"),
    ({"biopsy_necrosis": "yes"}, "biopsy_necrosis", "not_allowed"),
    ({"biopsy_inflammation": "moderate"}, "biopsy_inflammation", "not_allowed"),
    ({"biopsy_perifascicular_atrophy": "t"}, "biopsy_perifascicular_atrophy", "not_a_boolean"),
    ({"biopsy_rimmed_vacuoles": "?"}, "biopsy_rimmed_vacuoles", "not_a_boolean"),
    ({"biopsy_p62_diffuse": "diffuse"}, "biopsy_p62_diffuse", "not_a_boolean"),
    ({"statin_exposed": "statin"}, "statin_exposed", "not_a_boolean"),
    ({"statin_name": "aspirin"}, "statin_name", "not_allowed"),
    ({"statin_start_date": "2012/06/01"}, "statin_start_date", "not_a_date"),
    ({"statin_stop_date": "2012-05-31"}, "statin_stop_date", "statin_stop_before_start"),
    ({"improved_after_statin_stop": "partly"}, "improved_after_statin_stop", "not_a_boolean"),
    ({"hereditary_myopathy": "unknown"}, "hereditary_myopathy", "not_a_boolean"),
    ({"cancer_date": "2018-13-01"}, "cancer_date", "not_a_date"),
    ({"cancer_icd10": "breast"}, "cancer_icd10", "invalid_icd10"),
    ({"cancer_icd10": "C5"}, "cancer_icd10", "invalid_icd10"),
]


@pytest.mark.parametrize(("overrides", "column", "rule"), QUARANTINED)
def test_rule_breaking_row_is_quarantined_with_its_reason(overrides, column, rule):
    frame = text_frame([{"patient_id": "OK1"}, {"patient_id": "BAD", **overrides}])
    result = validate(frame)
    assert result.valid["patient_id"].tolist() == ["OK1"]
    assert result.quarantined_rows == 1
    reasons = result.reasons[["row_number", "column", "rule"]].values.tolist()
    assert [2, column, rule] in reasons
    assert result.quarantine["row_number"].tolist() == [2]
    assert f"{column}:{rule}" in result.quarantine["quarantine_reasons"].iloc[0]


VALID = [
    {"sex": " Female "},
    {"sex": "UNKNOWN"},
    {"dm_rash": "YES", "emg_myopathic": "0", "statin_exposed": "No"},
    {"ck_peak": "0", "ck_uln": "20"},
    {"ck_peak": "1000000", "ck_uln": "1000"},
    {"ck_peak": "1e3"},
    {"anti_hmgcr": None, "anti_srp": None},
    {"other_msa": "Jo1 ; PL7"},
    {"other_msa": "NONE"},
    {"diagnosis_date": "2015-06-01", "last_followup_date": "2015-06-01"},
    {"death_date": "2020-06-01"},
    {"statin_stop_date": "2012-06-01"},
    {"cancer_icd10": "c509"},
    {"cancer_icd10": "D05.1"},
    {"birth_date": "2015-05-31"},
    {"cancer_date": "2020-02-29"},
    {"patient_id": '=HYPERLINK("http://x")'},
]


@pytest.mark.parametrize("overrides", VALID)
def test_valid_values_are_kept(overrides):
    result = validate(text_frame([overrides]))
    assert result.quarantined_rows == 0, result.reasons.to_string()
    assert result.valid_rows == 1


def test_values_are_normalised():
    result = validate(
        text_frame(
            [
                {
                    "sex": " Female ",
                    "other_msa": "Jo1 ; PL7",
                    "anti_srp": None,
                    "cancer_icd10": "c50.9",
                }
            ]
        )
    )
    row = result.valid.iloc[0]
    assert row["sex"] == "female"
    assert row["other_msa"] == "jo1;pl7"
    assert row["anti_srp"] == "not_tested"
    assert row["cancer_icd10"] == "C50.9"
    assert row["birth_date"] == pd.Timestamp("1955-03-01")


def test_rows_sharing_a_patient_id_are_all_quarantined():
    frame = text_frame(
        [{"patient_id": "A"}, {"patient_id": "B"}, {"patient_id": "A"}, {"patient_id": "A"}]
    )
    result = validate(frame)
    assert result.valid["patient_id"].tolist() == ["B"]
    assert result.quarantine["row_number"].tolist() == [1, 3, 4]
    assert set(result.reasons["rule"]) == {"duplicate_patient_id"}


def test_every_reason_of_a_row_is_kept():
    frame = text_frame(
        [{"sex": "x", "ck_peak": "-5", "birth_date": "bad", "death_date": "2019-01-01"}]
    )
    result = validate(frame)
    got = set(map(tuple, result.reasons[["column", "rule"]].values.tolist()))
    assert got == {
        ("sex", "not_allowed"),
        ("ck_peak", "out_of_range"),
        ("birth_date", "not_a_date"),
        ("death_date", "death_before_followup"),
    }
    row = result.reasons[result.reasons["column"] == "ck_peak"].iloc[0]
    assert row["value"] == "-5"
    assert row["patient_id"] == "P001"


def test_unparseable_required_value_is_reported_once():
    result = validate(text_frame([{"onset_date": "2015-13-01"}]))
    assert result.reasons[["column", "rule"]].values.tolist() == [["onset_date", "not_a_date"]]


def test_extra_columns_are_carried_through_untouched():
    result = validate(text_frame([{"site": " Centre A ", "notes": "=1+1"}]))
    assert result.valid["site"].tolist() == [" Centre A "]
    assert result.valid["notes"].tolist() == ["=1+1"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ck_peak": "100001"}, "ck_above_100000"),
        ({"birth_date": "2014-01-01"}, "onset_age_below_2"),
        ({"birth_date": "1914-01-01"}, "onset_age_above_100"),
        (
            {"statin_start_date": "2015-07-01", "statin_stop_date": None},
            "statin_started_after_onset",
        ),
        ({"cancer_date": "2016-01-01", "cancer_icd10": "D05.1"}, "cancer_code_not_malignant"),
        ({"cancer_date": "2016-01-01", "cancer_icd10": "C98"}, "cancer_code_not_malignant"),
        (
            {"diagnosis_date": "2020-06-02", "last_followup_date": "2020-06-01"},
            "diagnosis_after_end_of_observation",
        ),
    ],
)
def test_implausible_values_stay_with_a_warning(overrides, code):
    result = validate(text_frame([overrides]))
    assert result.valid_rows == 1
    assert result.warnings["code"].tolist() == [code]


@pytest.mark.parametrize("code", ["C00", "C97", "C50.9", "C509"])
def test_malignant_codes_give_no_warning(code):
    result = validate(text_frame([{"cancer_date": "2016-01-01", "cancer_icd10": code}]))
    assert result.warnings.empty


def test_diagnosis_before_death_after_last_follow_up_gives_no_warning():
    # The end of observation is the death date when there is one.
    rows = [{"diagnosis_date": "2020-07-01", "death_date": "2020-08-01"}]
    assert validate(text_frame(rows)).warnings.empty


def test_ck_of_exactly_100000_gives_no_warning():
    assert validate(text_frame([{"ck_peak": "100000"}])).warnings.empty


def test_most_rows_breaking_one_rule_is_a_file_level_error():
    rows = [{"birth_date": f"0{i % 9 + 1}/03/1955"} for i in range(12)] + [{}] * 8
    with pytest.raises(FileLevelError) as info:
        validate(text_frame(rows), source="extract.csv")
    err = info.value
    assert (err.column, err.rule, err.failing_rows, err.total_rows) == (
        "birth_date",
        "not_a_date",
        12,
        20,
    )
    assert "01/03/1955" in str(err)
    assert "\n" not in str(err)


def test_half_of_rows_breaking_a_rule_is_still_a_quarantine():
    rows = [{"ck_peak": "-1"}] * 10 + [{}] * 10
    result = validate(text_frame(rows))
    assert (result.valid_rows, result.quarantined_rows) == (10, 10)


def test_a_small_file_is_never_file_level():
    rows = [{"birth_date": "01/03/1955"}] * 9
    result = validate(text_frame(rows))
    assert result.quarantined_rows == 9
