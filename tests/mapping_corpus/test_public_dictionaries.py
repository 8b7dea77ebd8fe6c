"""Drafts from public REDCap test-project dictionaries (REDCapR's, MIT; see public/redcapr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imnm_cohort.mapping.dictionary import read_redcap_dictionary
from imnm_cohort.mapping.draft import draft_from_redcap, draft_mapping
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

REDCAPR = HERE / "public" / "redcapr"
#: The cells REDCap's raw CSV export writes for each kind of date validation.
RAW_CELLS = {"date": "2020-03-04", "datetime": "2020-03-04 10:30",
             "datetime_seconds": "2020-03-04 10:30:15"}  # fmt: skip


def test_the_simple_project_gender_coded_0_female_is_mapped_by_label(tmp_path):
    draft = draft_from_redcap(REDCAPR / "simple_dictionary.csv")
    columns = live(draft.text)
    # "0, Female | 1, Male": read by truthiness, 0 would not be female.
    assert columns["sex"] == {"from": "sex", "values": {"0": "female", "1": "male"}}
    assert "birth_date" not in columns  # dob is an identifier: the data manager decides
    assert commented(draft.text)["birth_date"] == 'birth_date = { from = "dob" }'
    assert source(draft.text)["identifiers"] == [
        "name_first", "name_last", "address", "telephone", "email", "dob",
    ]  # fmt: skip
    assert draft.required == ("birth_date", "onset_date", "last_followup_date")
    assert "no field matched" in comments(draft.text, "onset_date")
    rows = [
        {"record_id": "1", "name_first": "A", "dob": "2003-08-30", "sex": "0",
         "onset_date": "2010-01-01", "last_followup_date": "2012-01-01"},
        {"record_id": "2", "name_first": "B", "dob": "2003-03-10", "sex": "1",
         "onset_date": "2010-01-01", "last_followup_date": "2012-01-01"},
    ]  # fmt: skip
    text = reviewed(draft.text, "birth_date")
    result = map_draft(tmp_path, text, rows, REDCAPR / "simple_dictionary.csv")
    assert by_patient(result, "sex") == {"1": "female", "2": "male"}
    assert by_patient(result, "birth_date") == {"1": "2003-08-30", "2": "2003-03-10"}
    assert "name_first" not in result.extract.columns


@pytest.mark.parametrize(
    "field",
    [f for f in read_redcap_dictionary(REDCAPR / "validation_types_dictionary.csv").fields
     if f.validation.startswith(("date_", "datetime_"))],
    ids=lambda f: f.validation,
)  # fmt: skip
def test_every_redcap_date_validation_reads_what_the_raw_export_writes(tmp_path, field):
    onset = type(field)("onset", "text", "Date of onset", validation=field.validation)
    record = type(field)("record_id", "text", "Record ID")
    text = draft_mapping([record, onset], record_id="record_id", source=Path("d.csv")).text
    kind = field.validation.rsplit("_", 1)[0]
    rows = [{"record_id": "1", "onset": RAW_CELLS[kind], "sex": "female",
             "birth_date": "1950-01-01", "last_followup_date": "2021-01-01"}]  # fmt: skip
    result = map_draft(tmp_path, text, rows)
    assert by_patient(result, "onset_date") == {"1": "2020-03-04"}


RARELINK = HERE / "public" / "rarelink" / "rarelink_cdm_datadictionary_v2_0_5.csv"
FAMILY = "rarelink_6_4_family_history"


def test_rarelinks_family_history_fields_are_never_the_patients(tmp_path):
    fields = {f.name: f for f in read_redcap_dictionary(RARELINK).fields}
    assert "record_id" in fields  # the first header is "1" as published: still the names
    draft = draft_from_redcap(RARELINK)
    columns = live(draft.text)
    used = {entry["from"] for entry in columns.values() if "from" in entry}
    assert not {name for name in used if fields[name].form == FAMILY}
    assert columns["birth_date"] == {"from": "snomedct_184099003"}  # 2.1 Date of birth
    assert columns["death_date"] == {"from": "snomedct_398299004"}  # 3.2 Time of Death
    assert "cancer_icd10" not in columns
    said = comments(draft.text, "death_date")
    assert "snomedct_184305005 ('3.3 Cause of Death [ICD10CM]'): speaks of another event" in said
    assert "loinc_54112_8 ('6.4.10 Family Member Cause of Death [ICD10CM]'): speaks of" in said
    # Sex at birth, karyotypic sex and gender identity match alike: the data manager chooses.
    assert "sex" in draft.required and "loinc_54123_5 ('6.4.6 Family Member Sex')" in (
        comments(draft.text, "sex")
    )
    rows = [
        {"record_id": "1", "redcap_repeat_instrument": FAMILY, "redcap_repeat_instance": "1",
         "loinc_54123_5": "snomedct_248153007", "loinc_54124_3": "1931-02-03"},
        {"record_id": "1", "snomedct_184099003": "1970-05-06", "sex": "female",
         "onset_date": "2015-01-01", "last_followup_date": "2020-01-01"},
    ]  # fmt: skip
    result = map_draft(tmp_path, draft.text, rows, RARELINK)
    assert by_patient(result, "birth_date") == {"1": "1970-05-06"}
    assert by_patient(result, "sex") == {"1": "female"}
