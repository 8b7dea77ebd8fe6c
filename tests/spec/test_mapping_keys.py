"""Spec: every key of a mapping file, each with a tiny export and the extract it gives."""

from __future__ import annotations

import pytest

from imnm_cohort.validation.load import InputSpec, load_input, map_export
from tests.mapping_files import REQUIRED, column, mapped, write_export, write_mapping

NO_ID = {k: v for k, v in REQUIRED.items() if k != "patient_id"}


def test_a_contract_column_is_taken_from_a_same_named_source_column(tmp_path):
    # export: patient_id, sex, ... as the contract names them; mapping: nothing.
    result = mapped(tmp_path, [REQUIRED], "")
    assert result["extract"] == [REQUIRED | {"patient_id": "P1"}]


def test_from_names_the_source_column(tmp_path):
    # | pid | gender | ...  ->  patient_id = P7, sex = male
    row = {**REQUIRED, "pid": "P7", "gender": "male"}
    del row["patient_id"], row["sex"]
    text = '[columns]\npatient_id = "pid"\nsex = { from = "gender" }\n'
    result = mapped(tmp_path, [row], text)
    assert column(result, "patient_id") == ["P7"]
    assert column(result, "sex") == ["male"]


def test_values_map_codes_trimmed_and_case_insensitive(tmp_path):
    # | sex |        | sex    |
    # | 1   |   ->   | female |
    # | M   |        | male   |
    rows = [
        {**REQUIRED, "patient_id": "P1", "sex": "1"},
        {**REQUIRED, "patient_id": "P2", "sex": " m "},
    ]
    text = '[columns]\nsex = { from = "sex", values = { "1" = "female", "M" = "male" } }\n'
    assert column(mapped(tmp_path, rows, text), "sex") == ["female", "male"]


def test_an_unmapped_value_quarantines_the_patient_with_the_value(tmp_path):
    rows = [
        {**REQUIRED, "patient_id": "P1", "sex": "1"},
        {**REQUIRED, "patient_id": "P2", "sex": "7"},
    ]
    text = '[columns]\nsex = { from = "sex", values = { "1" = "female" } }\n'
    result = mapped(tmp_path, rows, text)
    assert column(result, "patient_id") == ["P1"]
    [bad] = result["quarantine"]
    assert (bad["export_rows"], bad["quarantine_reasons"]) == ("2", "sex:unmapped_value=7")
    assert result["reasons"] == {"sex:unmapped_value": 1}


def test_without_values_section_1_parsing_applies(tmp_path):
    # yes/no words stay as they are; validation reads them as booleans.
    result = load_input(
        InputSpec(
            write_export(tmp_path, [{**REQUIRED, "rash": "Yes"}]),
            write_mapping(tmp_path, '[columns]\ndm_rash = "rash"\n'),
        )
    )
    assert bool(result.valid["dm_rash"].iloc[0]) is True


def test_a_column_format_overrides_the_source_date_format(tmp_path):
    # | dob        | onset      |      | birth_date | onset_date |
    # | 31/12/1950 | 2010.01.31 |  ->  | 1950-12-31 | 2010-01-31 |
    row = {**REQUIRED, "dob": "31/12/1950", "onset": "2010.01.31"}
    text = (
        '[source]\ndate_format = "%Y.%m.%d"\n[columns]\n'
        'birth_date = { from = "dob", format = "%d/%m/%Y" }\nonset_date = "onset"\n'
    )
    result = mapped(tmp_path, [row], text)
    assert (column(result, "birth_date"), column(result, "onset_date")) == (
        ["1950-12-31"],
        ["2010-01-31"],
    )


def test_a_date_in_another_format_is_quarantined_with_the_expected_format(tmp_path):
    rows = [{**REQUIRED, "patient_id": "P1", "dob": "31/12/1950"},
            {**REQUIRED, "patient_id": "P2", "dob": "1950/12/31"}]  # fmt: skip
    text = '[columns]\nbirth_date = { from = "dob", format = "%d/%m/%Y" }\n'
    result = mapped(tmp_path, rows, text)
    [bad] = result["quarantine"]
    assert bad["quarantine_reasons"] == "birth_date:not_a_date=1950/12/31 (expected %d/%m/%Y)"


def test_cells_already_written_yyyy_mm_dd_are_read_whatever_the_format(tmp_path):
    row = {**REQUIRED, "dob": "1950-12-31"}
    text = '[source]\ndate_format = "%d/%m/%Y"\n[columns]\nbirth_date = "dob"\n'
    assert column(mapped(tmp_path, [row], text), "birth_date") == ["1950-12-31"]


@pytest.mark.parametrize(("unit", "expected"), [("U/L", "8000"), ("IU/L", "8000"),
                                                 ("ukat/L", "480000")])  # fmt: skip
def test_unit_converts_ck_to_u_per_litre(tmp_path, unit, expected):
    # 1 U = 1 umol/min = 1/60 ukat, so 8000 ukat/L = 480,000 U/L.
    row = {**REQUIRED, "ck": "8000"}
    text = f'[columns]\nck_peak = {{ from = "ck", unit = "{unit}" }}\n'
    assert column(mapped(tmp_path, [row], text), "ck_peak") == [expected]


def test_decimal_comma(tmp_path):
    # | ck     |      | ck_peak |
    # | 133,5  |  ->  | 8010    |  (ukat/L x 60)
    row = {**REQUIRED, "ck": "133,5", "uln": "3,3"}
    text = (
        '[source]\ndecimal = ","\n[columns]\nck_peak = { from = "ck", unit = "ukat/L" }\n'
        'ck_uln = { from = "uln", unit = "ukat/L" }\n'
    )
    result = mapped(tmp_path, [row], text)
    assert column(result, "ck_peak") == ["8010"]
    assert column(result, "ck_uln") == ["198"]


def test_missing_codes_are_empty_cells(tmp_path):
    # | sex | ck  |      | sex    | ck_peak |
    # | 1   | UNK |  ->  | female | (empty) |
    row = {**REQUIRED, "sex": "1", "ck_peak": "UNK", "anti_hmgcr": "-999"}
    text = (
        '[source]\nmissing_codes = ["UNK", -999]\n'
        '[columns]\nsex = { from = "sex", values = { "1" = "female" } }\n'
    )
    result = mapped(tmp_path, [row], text)
    assert result["quarantine"] == []
    assert column(result, "ck_peak") == [None]
    assert column(result, "anti_hmgcr") == [None]


def test_encoding_and_delimiter(tmp_path):
    path = tmp_path / "export.csv"
    text = "patient_id;sex;birth_date;onset_date;last_followup_date;centre\n"
    text += "P1;female;1950-01-01;2010-01-01;2015-01-01;Clínica Sur\n"
    path.write_bytes(text.encode("cp1252"))
    spec = write_mapping(
        tmp_path, '[source]\nencoding = "cp1252"\ndelimiter = ";"\nkeep = ["centre"]\n'
    )
    result = map_export(path, spec)
    assert result.extract["centre"].tolist() == ["Clínica Sur"]


def test_id_combines_rows_and_leaves_other_columns_out(tmp_path):
    # | record | event    | sex | visit      |      | patient_id | sex    | last_followup |
    # | 1      | baseline | 1   | 2012-01-01 |  ->  | 1          | female | 2015-01-01    |
    # | 1      | visit_2  |     | 2015-01-01 |
    rows = [
        {**NO_ID, "record": "1", "event": "baseline", "sex": "1", "visit": "2012-01-01"},
        {"record": "1", "event": "visit_2", "visit": "2015-01-01"},
    ]
    text = (
        '[source]\nid = "record"\n[columns]\n'
        'sex = { from = "sex", values = { "1" = "female" } }\n'
        'last_followup_date = { from = "visit", combine = "max" }\n'
    )
    result = map_export(write_export(tmp_path, rows), write_mapping(tmp_path, text))
    assert result.extract["patient_id"].tolist() == ["1"]
    assert result.extract["last_followup_date"].tolist() == ["2015-01-01"]
    assert "event" not in result.extract.columns
    assert (result.export_rows, result.patients) == (2, 1)


def test_a_one_row_per_patient_export_carries_only_the_kept_columns(tmp_path):
    row = {**REQUIRED, "centre": "A", "surname": "Doe"}
    [patient] = mapped(tmp_path, [row], '[source]\nkeep = ["centre"]\n')["extract"]
    assert patient["centre"] == "A"
    assert "surname" not in patient


def test_a_row_with_an_empty_id_is_quarantined_alone(tmp_path):
    rows = [
        {**NO_ID, "record": "1"},
        {**NO_ID, "record": None},
        {**NO_ID, "record": None},
    ]
    result = mapped(tmp_path, rows, '[source]\nid = "record"\n')
    assert column(result, "patient_id") == ["1"]
    assert [(q["export_rows"], q["quarantine_reasons"]) for q in result["quarantine"]] == [
        ("2", "patient_id:missing_id="),
        ("3", "patient_id:missing_id="),
    ]


@pytest.mark.parametrize(
    ("ticks", "tested", "expected"),
    [
        (("1", "0"), "1", "jo1"),
        (("Checked", "checked"), "yes", "jo1;pl7"),
        (("0", "0"), "1", "none"),
        (("Unchecked", "Unchecked"), "1", "none"),
        (("0", "0"), "0", None),
        (("0", "0"), None, None),
    ],
)
def test_checkboxes_and_tested(tmp_path, ticks, tested, expected):
    # | msa___1 | msa___2 | msa_done |  ->  other_msa
    row = {**REQUIRED, "msa___1": ticks[0], "msa___2": ticks[1], "msa_done": tested}
    text = (
        '[columns]\nother_msa = { checkboxes = { "msa___1" = "jo1", "msa___2" = "pl7" }, '
        'tested = "msa_done" }\n'
    )
    assert column(mapped(tmp_path, [row], text), "other_msa") == [expected]


def test_checkboxes_without_tested_give_empty_when_none_is_ticked(tmp_path):
    rows = [
        {**REQUIRED, "patient_id": "P1", "b1": "0"},
        {**REQUIRED, "patient_id": "P2", "b1": "1"},
    ]
    text = '[columns]\nother_msa = { checkboxes = { "b1" = "mi2" } }\n'
    assert column(mapped(tmp_path, rows, text), "other_msa") == [None, "mi2"]


def test_reasons_after_mapping_name_the_contract_and_the_source_column(tmp_path):
    rows = [{**REQUIRED, "patient_id": "P1", "ck": "-5"}]
    spec = write_mapping(tmp_path, '[columns]\nck_peak = "ck"\n')
    result = load_input(InputSpec(write_export(tmp_path, rows), spec))
    assert result.reasons[["column", "source_column", "rule"]].values.tolist() == [
        ["ck_peak", "ck", "out_of_range"]
    ]
    assert result.quarantine["quarantine_reasons"].tolist() == ["ck_peak (from ck):out_of_range=-5"]
    assert result.quarantine["export_rows"].tolist() == ["1"]


def test_an_unmapped_value_names_the_closest_code(tmp_path):
    rows = [{**REQUIRED, "sex": "Femal"}]
    text = '[columns]\nsex = { from = "sex", values = { "Female" = "female", "Male" = "male" } }\n'
    [bad] = mapped(tmp_path, rows, text)["quarantine"]
    assert bad["quarantine_reasons"] == "sex:unmapped_value=Femal (did you mean 'female'?)"


def test_a_wrong_date_format_in_most_rows_is_one_file_level_line(tmp_path):
    # Most rows have dates the other way round: the mapping is wrong, not the patients.
    from imnm_cohort import FileLevelError

    rows = [{**REQUIRED, "patient_id": f"P{i}", "dob": "1950-12-31", "seen": "2015-13-01"}
            for i in range(12)]  # fmt: skip
    text = (
        '[columns]\nbirth_date = "dob"\n'
        'last_followup_date = { from = "seen", format = "%d/%m/%Y" }\n'
    )
    spec = write_mapping(tmp_path, text)
    with pytest.raises(FileLevelError) as info:
        load_input(InputSpec(write_export(tmp_path, rows), spec))
    message = str(info.value)
    assert "column 'last_followup_date' (from 'seen') breaks rule 'not_a_date'" in message
    assert "(expected %d/%m/%Y)" in message


def test_every_file_level_problem_is_named_in_one_line_with_what_was_expected():
    from imnm_cohort import FileLevelError, validate_extract
    from tests.conftest import text_frame

    rows = [{"birth_date": "03/01/1955", "sex": "femal"} for _ in range(12)]
    with pytest.raises(FileLevelError) as info:
        validate_extract(text_frame(rows), source="extract.csv")
    message = str(info.value)
    assert "column 'birth_date' breaks rule 'not_a_date'" in message
    assert "expected dates written YYYY-MM-DD" in message
    assert "column 'sex' breaks rule 'not_allowed'" in message
    assert "did you mean 'female'?" in message
    assert "\n" not in message
