"""Drafts that cannot mislead (contract 5a), on dictionaries in the shapes REDCap produces.

Each dictionary of this folder (see README.md) is drafted; the test says what the draft
writes live, what it comments out and why, and what ``map`` does with the draft on a tiny
export written here.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from imnm_cohort.cli import main
from imnm_cohort.errors import MappingError
from imnm_cohort.mapping.draft import draft_from_redcap
from tests.mapping_corpus.drafts import (
    HERE,
    by_patient,
    commented,
    comments,
    live,
    map_draft,
    reviewed,
    source,
)


def test_a_relatives_fields_before_the_demographics_are_never_the_patients(tmp_path):
    text = draft_from_redcap(HERE / "family_history_first.csv").text
    columns = live(text)
    assert columns["sex"]["from"] == "sex"
    assert columns["birth_date"]["from"] == "date_of_birth"
    assert columns["death_date"]["from"] == "death_date"
    assert columns["patient_id"]["from"] == "record_id"
    # The relative's fields are named, with the reason, and never live.
    assert "fh_sex ('Sex'): speaks of another person ('family')" in comments(text, "sex")
    assert "fh_dob ('Date of birth'): speaks of another person" in comments(text, "birth_date")
    assert "fh_death_date" in comments(text, "death_date")
    assert "hereditary_myopathy" not in columns
    assert (
        "fh_myopathy ('Myopathy or hereditary muscle disease'): speaks of another person"
        in comments(text, "hereditary_myopathy")
    )
    # Another event: cause of death, tumour response, protocol treatment, anaplasia.
    assert "cause_of_death ('Cause of Death [ICD10CM]'): speaks of another event" in text
    used = {entry.get("from") for entry in columns.values()}
    assert not used & {"cause_of_death", "tumour_response", "treatment_course", "anaplasia"}
    assert "anaplasia ('Tumour anaplasia and necrosis'): speaks of another event" in comments(
        text, "biopsy_necrosis"
    )
    # A bare "ICD-10" field is not a cancer code.
    assert "cancer_icd10" not in columns
    assert (
        "not drafted live: icd10 ('ICD-10'): an ICD-10 code that does not say it is a cancer's"
        in text
    )

    rows = [
        {"record_id": "1", "redcap_repeat_instrument": "family_history",
         "redcap_repeat_instance": "1", "fh_relationship": "1", "fh_sex": "1",
         "fh_dob": "1931-02-03", "fh_death_date": "1990-01-01", "fh_myopathy": "1"},
        {"record_id": "1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "",
         "sex": "2", "date_of_birth": "1960-07-08", "onset": "2015-01-01",
         "visit_date": "2020-01-01"},
    ]  # fmt: skip
    result = map_draft(tmp_path, text, rows, HERE / "family_history_first.csv")
    assert result.patients == 1 and len(result.extract) == 1
    assert by_patient(result, "sex") == {"1": "male"}
    assert by_patient(result, "birth_date") == {"1": "1960-07-08"}
    assert by_patient(result, "death_date") == {"1": None}


def test_inverted_codes_are_mapped_by_their_labels_and_negated_questions_stay_commented(
    tmp_path,
):
    text = draft_from_redcap(HERE / "inverted_and_ruled_out.csv").text
    columns = live(text)
    # 0, Myopathic | 1, Normal: by label, never by the code's truthiness.
    assert columns["emg_myopathic"] == {"from": "emg", "values": {"0": "true", "1": "false"}}
    assert columns["anti_hmgcr"]["values"] == {"0": "positive", "1": "negative", "2": "not_tested"}
    necrosis = {"1": "absent", "2": "present", "3": "predominant"}
    assert columns["biopsy_necrosis"]["values"] == necrosis
    assert columns["statin_exposed"] == {
        "from": "statin", "values": {"1": "false", "2": "true"}, "missing": ["9"],
    }  # fmt: skip
    # "present or absent" offers both answers: not a negated question.
    assert columns["biopsy_rimmed_vacuoles"]["missing"] == ["3"]
    # Asked the other way round: commented, with the reason and inverted values.
    assert "hereditary_myopathy" not in columns and "dysphagia" not in columns
    assert "negated ('ruled out')" in comments(text, "hereditary_myopathy")
    assert commented(text)["hereditary_myopathy"] == (
        'hereditary_myopathy = { from = "hereditary", values = { "1" = "false", "0" = "true" } }'
    )
    assert "negated ('no')" in comments(text, "dysphagia")

    unknown = "9"  # a column's missing code (contract 5a)
    rows = [
        {"record_id": "a", "gender": "1", "birth_dt": "1950-01-01", "onset_dt": "2010-01-01",
         "last_contact": "2012-01-01", "emg": "0", "hereditary": "1", "statin": unknown,
         "hmgcr_ab": "0", "bx_necrosis": "1", "bx_rv": "3", "dysphagia_yn": "1"},
        {"record_id": "b", "gender": "2", "birth_dt": "1951-01-01", "onset_dt": "2011-01-01",
         "last_contact": "2013-01-01", "emg": "1", "hereditary": "0", "statin": "2",
         "hmgcr_ab": "1", "bx_necrosis": "3", "bx_rv": "2", "dysphagia_yn": "0"},
    ]  # fmt: skip
    result = map_draft(tmp_path, text, rows, HERE / "inverted_and_ruled_out.csv")
    assert by_patient(result, "emg_myopathic") == {"a": "true", "b": "false"}
    assert by_patient(result, "anti_hmgcr") == {"a": "positive", "b": "negative"}
    assert by_patient(result, "biopsy_necrosis") == {"a": "absent", "b": "predominant"}
    assert by_patient(result, "sex") == {"a": "female", "b": "male"}
    # "Hereditary myopathy ruled out? yes" never makes a patient hereditary.
    assert by_patient(result, "hereditary_myopathy") == {"a": None, "b": None}
    assert by_patient(result, "statin_exposed") == {"a": None, "b": "true"}
    assert by_patient(result, "biopsy_rimmed_vacuoles") == {"a": None, "b": "true"}


def test_a_labs_instrument_with_an_analyte_column_is_not_a_ck_column(tmp_path):
    text = draft_from_redcap(HERE / "labs_analyte.csv").text
    assert "ck_peak" not in live(text)
    reason = comments(text, "ck_peak")
    assert "several analytes in one value column (lab_test 'Analyte': CK is code 1)" in reason
    assert 'add where = { lab_test = "1" }' in reason
    assert commented(text)["ck_peak"] == 'ck_peak = { from = "lab_value", combine = "max" }'
    rows = [
        {"record_id": "1", "sex": "1", "dob": "1960-01-01", "onset_date": "2019-01-01"},
        {"record_id": "1", "redcap_repeat_instrument": "labs", "lab_test": "1",
         "lab_value": "900", "lab_date": "2019-02-01"},
        {"record_id": "1", "redcap_repeat_instrument": "labs", "lab_test": "2",
         "lab_value": "40000", "lab_date": "2019-02-01"},
        {"record_id": "1", "fu_date": "2020-01-01"},
    ]  # fmt: skip
    result = map_draft(tmp_path, text, rows, HERE / "labs_analyte.csv")
    # The ALT value never becomes a peak CK.
    assert "ck_peak" in result.absent_columns
    assert by_patient(result, "last_followup_date") == {"1": "2020-01-01"}


def test_a_panel_labelled_as_laboratories_write_it_is_read_box_by_box(tmp_path):
    text = draft_from_redcap(HERE / "antibody_panel.csv").text
    columns = live(text)
    boxes = columns["other_msa"]["checkboxes"]
    assert boxes == {
        "msa___1": "jo1", "msa___2": "pl7", "msa___3": "pl12", "msa___4": "ej",
        "msa___5": "oj", "msa___6": "ks", "msa___7": "zo", "msa___8": "ha", "msa___9": "mi2",
        "msa___10": "tif1g", "msa___11": "nxp2", "msa___12": "mda5", "msa___13": "sae",
    }  # fmt: skip
    assert columns["other_msa"]["tested"] == "msa_done"
    # HTML and entities are gone from the choice labels before they are compared.
    assert columns["anti_srp"]["values"] == {"1": "positive", "2": "negative", "3": "not_tested"}
    msa = {f"msa___{i}": "0" for i in range(1, 14)}
    base = {"sex": "female", "birth_date": "1950-01-01", "onset_date": "2010-01-01",
            "last_followup_date": "2012-01-01"}  # fmt: skip
    rows = [
        {"record_id": "sae", **base, **msa, "msa___13": "1", "msa_done": "1", "srp_ab": "2"},
        {"record_id": "neg", **base, **msa, "msa_done": "1", "srp_ab": "3"},
        {"record_id": "mda", **base, **msa, "msa___12": "1", "msa___9": "1", "msa_done": "1"},
    ]
    result = map_draft(tmp_path, text, rows, HERE / "antibody_panel.csv")
    assert by_patient(result, "other_msa") == {"sae": "sae", "neg": "none", "mda": "mi2;mda5"}
    assert by_patient(result, "anti_srp") == {"sae": "negative", "neg": "not_tested", "mda": None}


def test_a_box_that_names_no_contract_antibody_keeps_the_panel_commented(tmp_path):
    path = tmp_path / "dictionary.csv"
    text = (HERE / "antibody_panel.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("<b>SAE1/2</b>", "SAE1/2 | 14, Ro52 | 15, PM-Scl"))
    text = draft_from_redcap(path).text
    assert "other_msa" not in live(text)
    assert "box(es) '14, Ro52', '15, PM-Scl' name no contract antibody" in text
    line = commented(text)["other_msa"]
    assert '"msa___13" = "sae", "msa___14" = "", "msa___15" = ""' in line
    # Reviewed and uncommented: a ticked Ro52 box is ignored, as the line says.
    base = {"sex": "female", "birth_date": "1950-01-01", "onset_date": "2010-01-01",
            "last_followup_date": "2012-01-01", "msa_done": "1"}  # fmt: skip
    rows = [{"record_id": "ro", **base, "msa___14": "1"},
            {"record_id": "jo", **base, "msa___1": "1"}]  # fmt: skip
    result = map_draft(tmp_path, reviewed(text, "other_msa"), rows, path)
    assert by_patient(result, "other_msa") == {"ro": "none", "jo": "jo1"}


def test_identifiers_datetimes_and_decimal_commas_from_a_semicolon_dictionary(tmp_path):
    out = io.StringIO()
    dictionary = HERE / "identifiers_datetime_semicolon.csv"
    argv = ["draft-mapping", "--redcap-dictionary", str(dictionary), "-o", str(tmp_path / "m.toml")]
    assert main(argv, stdout=out) == 0
    text = (tmp_path / "m.toml").read_text(encoding="utf-8")
    identifiers = ["study_id", "first_name", "last_name", "address", "phone", "email", "dob"]
    assert source(text)["identifiers"] == identifiers
    assert "#   first_name ('First name')" in text
    assert "identifiers (never kept): " + ", ".join(identifiers) in out.getvalue()
    assert source(text)["decimal"] == ","
    assert '# delimiter = ";"' in text
    columns = live(text)
    assert columns["onset_date"]["format"] == "%Y-%m-%d %H:%M:%S"  # datetime_seconds_ymd
    assert columns["last_followup_date"]["format"] == "%Y-%m-%d %H:%M"  # datetime_dmy
    assert '"%d/%m/%Y %H:%M"' in comments(text, "last_followup_date")
    # The date of birth is an identifier: birth_date reads it only once the data manager
    # names it in keep_identifiers, as the comment says.
    assert "birth_date" not in columns and "birth_date" in draft_required(out)
    assert "dob ('Date of birth') is flagged as an identifier" in comments(text, "birth_date")
    assert '# keep_identifiers = ["dob"]' in text
    assert commented(text)["birth_date"] == 'birth_date = { from = "dob", format = "%m/%d/%Y" }'
    # What REDCap's raw export writes for these fields is read.
    rows = [
        {"study_id": "S1", "first_name": "Ann", "last_name": "Example", "address": "1 Road",
         "phone": "555", "email": "a@example.org", "sex": "1", "dob": "1961-04-05",
         "sym_onset": "2018-03-04 10:30:00", "last_visit": "2021-01-02 09:15", "ck": "1234,5"},
    ]  # fmt: skip
    with pytest.raises(MappingError, match="birth_date is required"):
        map_draft(tmp_path, text, rows)  # as drafted: map refuses, it does not guess
    result = map_draft(tmp_path, reviewed(text, "birth_date"), rows)
    assert by_patient(result, "birth_date") == {"S1": "1961-04-05"}
    assert by_patient(result, "onset_date") == {"S1": "2018-03-04"}
    assert by_patient(result, "last_followup_date") == {"S1": "2021-01-02"}
    assert float(by_patient(result, "ck_peak")["S1"]) == 1234.5
    kept = set(result.extract.columns) | set(result.quarantine.columns)
    assert not kept & {"first_name", "last_name", "address", "phone", "email"}


def draft_required(out: io.StringIO) -> str:
    """The terminal's line naming the required columns not drafted live."""
    return next(line for line in out.getvalue().splitlines() if "REQUIRED" in line)


def test_an_xlsx_dictionary_drafts_what_its_csv_drafts(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    with (HERE / "inverted_and_ruled_out.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    book.save(tmp_path / "dictionary.xlsx")
    shutil.copy(HERE / "inverted_and_ruled_out.csv", tmp_path / "dictionary.csv")
    from_xlsx = draft_from_redcap(tmp_path / "dictionary.xlsx").text
    assert from_xlsx.replace(".xlsx", ".csv") == draft_from_redcap(tmp_path / "dictionary.csv").text


def test_the_older_header_names_and_html_in_choices_are_read(tmp_path):
    text = draft_from_redcap(HERE / "old_header_html.csv").text
    columns = live(text)
    # "Ma&shy;le" and "<b>Female</b>" are Male and Female.
    assert columns["sex"]["values"] == {"1": "female", "2": "male", "3": "other", "9": "unknown"}
    assert columns["proximal_weakness"]["missing"] == ["4"]  # "Not&nbsp;assessed"
    assert columns["birth_date"] == {"from": "birth_date", "format": "%d/%m/%Y"}
    rows = [{"patient_id": "p1", "sex": "2", "birth_date": "12/03/1950",
             "onset_date": "2010-01-01", "last_followup_date": "2012-01-01",
             "weakness": "1"}]  # fmt: skip
    result = map_draft(tmp_path, text, rows, HERE / "old_header_html.csv")
    assert by_patient(result, "sex") == {"p1": "male"}
    assert by_patient(result, "birth_date") == {"p1": "1950-03-12"}


def test_unmatched_required_columns_are_required_lines_and_named_on_the_terminal(tmp_path):
    out = io.StringIO()
    argv = ["draft-mapping", "--redcap-dictionary", str(HERE / "antibody_panel.csv"),
            "-o", str(tmp_path / "m.toml")]  # fmt: skip
    assert main(argv, stdout=out) == 0
    text = (tmp_path / "m.toml").read_text(encoding="utf-8")
    for column in ("sex", "birth_date", "onset_date", "last_followup_date"):
        assert f"# REQUIRED: {column} is required and no field matched" in text
    printed = out.getvalue()
    assert (
        "REQUIRED and not matched (name them before use): sex, birth_date, onset_date, "
        "last_followup_date" in printed
    )


def test_a_required_column_whose_choices_do_not_all_map_is_a_required_line(tmp_path):
    path = tmp_path / "dictionary.csv"
    text = (HERE / "old_header_html.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("3, Other", "3, Intersex"), encoding="utf-8")
    draft = draft_from_redcap(path)
    assert draft.required == ("sex",)
    assert "# REQUIRED: sex is required and not drafted live: choice(s) '3, Intersex'" in draft.text


def test_draft_mapping_never_overwrites_without_force(tmp_path):
    output = tmp_path / "mapping.toml"
    output.write_text("# edited by hand\n")
    argv = ["draft-mapping", "--redcap-dictionary", str(HERE / "labs_analyte.csv"),
            "-o", str(output)]  # fmt: skip
    err = io.StringIO()
    assert main(argv, stderr=err) == 2
    assert "exists" in err.getvalue() and "--force" in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1
    assert output.read_text() == "# edited by hand\n"
    assert main([*argv, "--force"], stdout=io.StringIO()) == 0
    assert output.read_text().startswith("# Mapping drafted by imnm-cohort")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a;b\n1;2\n", "not a REDCap data dictionary (missing column(s): Variable / Field Name"),
        (b"PK\x03\x04 not really a workbook", "cannot be read as an .xlsx data dictionary"),
    ],
)
def test_a_file_that_is_not_a_dictionary_is_one_line(tmp_path, content, message):
    path = tmp_path / ("x.xlsx" if content.startswith(b"PK") else "x.csv")
    path.write_bytes(content)
    err = io.StringIO()
    argv = ["draft-mapping", "--redcap-dictionary", str(path), "-o", str(tmp_path / "o.toml")]
    assert main(argv, stderr=err) == 1
    assert message in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1
