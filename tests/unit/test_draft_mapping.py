"""draft-mapping: a mapping drafted from a REDCap data dictionary."""

from __future__ import annotations

import io

import pandas as pd

from imnm_cohort.cli import main
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.mapping import load_mapping
from imnm_cohort.mapping.draft import draft_from_redcap
from imnm_cohort.synth_redcap import DICTIONARY_HEADERS, dictionary, mapping_text


def test_the_dictionary_has_redcaps_18_column_headers():
    assert len(DICTIONARY_HEADERS) == 18
    assert list(dictionary().columns) == list(DICTIONARY_HEADERS)


def test_the_draft_for_the_synthetic_dictionary_is_the_mapping_synth_wrote(tmp_path):
    dictionary().to_csv(tmp_path / "dict.csv", index=False)
    (tmp_path / "synth.toml").write_text(mapping_text())
    out = io.StringIO()
    argv = ["draft-mapping", "--redcap-dictionary", str(tmp_path / "dict.csv"),
            "-o", str(tmp_path / "draft.toml")]  # fmt: skip
    assert main(argv, stdout=out) == 0
    n = len(CONTRACT_COLUMNS)
    # Every column but birth_date, whose field (dob) is flagged as an identifier: reading it
    # is the data manager's decision, two lines to uncomment.
    assert f"{n - 1} of {n} contract columns matched" in out.getvalue()
    assert "REQUIRED and not matched (name them before use): birth_date" in out.getvalue()
    text = (tmp_path / "draft.toml").read_text()
    assert '# keep_identifiers = ["dob"]' in text
    assert '# birth_date = { from = "dob", format = "%d/%m/%Y" }' in text
    reviewed = text.replace("# keep_identifiers", "keep_identifiers")
    reviewed = reviewed.replace("# birth_date = ", "birth_date = ")
    (tmp_path / "draft.toml").write_text(reviewed)
    drafted, written = load_mapping(tmp_path / "draft.toml"), load_mapping(tmp_path / "synth.toml")
    assert drafted.columns == written.columns
    assert drafted.id == written.id == "record_id"
    assert drafted.identifiers == written.identifiers
    assert drafted.keep_identifiers == written.keep_identifiers
    assert "REDCap's raw CSV export writes dates as YYYY-MM-DD" in text


def _opaque_dictionary() -> pd.DataFrame:
    """The synthetic dictionary with field names that say nothing: labels must do."""
    frame = dictionary()
    names = frame["Variable / Field Name"]
    frame["Variable / Field Name"] = ["record_id"] + [f"f{i:02d}" for i in range(1, len(names))]
    frame["Identifier?"] = ""  # labels are the point here (identifiers: see the corpus tests)
    return frame


def test_labels_match_fields_whose_names_say_nothing(tmp_path):
    _opaque_dictionary().to_csv(tmp_path / "dict.csv", index=False)
    draft = draft_from_redcap(tmp_path / "dict.csv")
    # Everything but patient_id comes from a label here.
    assert len(draft.matched) >= 26, draft.unmatched
    assert draft.matched["birth_date"] == "f02"  # "Date of birth"
    assert draft.matched["ck_peak"] == "f26"  # "Creatine kinase (U/L)"
    assert draft.matched["ck_uln"] == "f08"  # "CK upper limit of normal (U/L)"
    assert draft.matched["cancer_date"] == "f28"  # "Cancer diagnosis date", not diagnosis_date
    assert draft.matched["diagnosis_date"] == "f04"


def test_unmatched_columns_get_a_commented_line_and_unknown_choices_a_comment(tmp_path):
    frame = dictionary()
    frame = frame[~frame["Variable / Field Name"].isin(["ca_date", "ca_icd10"])].copy()
    sex = frame["Variable / Field Name"] == "sex"
    frame.loc[sex, "Choices, Calculations, OR Slider Labels"] = "1, Female | 2, Male | 5, Intersex"
    hmgcr = frame["Variable / Field Name"] == "hmgcr_ab"
    choices = "1, Positive | 2, Negative | 3, Not tested"
    frame.loc[hmgcr, "Choices, Calculations, OR Slider Labels"] = choices
    frame.to_csv(tmp_path / "dict.csv", index=False)
    draft = draft_from_redcap(tmp_path / "dict.csv")
    assert draft.unmatched == ("sex", "birth_date", "cancer_date", "cancer_icd10")
    assert draft.required == ("sex", "birth_date")  # birth_date: dob is an identifier
    assert '# cancer_date = "FIELD"' in draft.text
    assert (
        "# REQUIRED: sex is required and not drafted live: choice(s) '5, Intersex' match no "
        "contract value or missing code"
    ) in draft.text
    assert '"3" = "not_tested"' in draft.text
    (tmp_path / "draft.toml").write_text(draft.text)
    load_mapping(tmp_path / "draft.toml")  # the draft is a valid mapping file


def test_every_contract_column_has_synonyms_or_label_words():
    from imnm_cohort.mapping.draft import LABEL_WORDS, SYNONYMS

    assert set(SYNONYMS) == set(CONTRACT_COLUMNS)
    assert set(LABEL_WORDS) == set(CONTRACT_COLUMNS) - {"patient_id"}


def test_a_file_that_is_not_a_dictionary_exits_1(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    err = io.StringIO()
    argv = [
        "draft-mapping",
        "--redcap-dictionary",
        str(tmp_path / "x.csv"),
        "-o",
        str(tmp_path / "o.toml"),
    ]
    assert main(argv, stderr=err) == 1
    assert "not a REDCap data dictionary" in err.getvalue()


def test_a_dictionary_saved_in_another_encoding_names_its_line_and_what_to_do(tmp_path):
    headers = ",".join(DICTIONARY_HEADERS)
    path = tmp_path / "dictionary.csv"
    path.write_bytes((headers + "\nsex,demo,,radio,Sexe féminin\n").encode("cp1252"))
    err = io.StringIO()
    argv = ["draft-mapping", "--redcap-dictionary", str(path), "-o", str(tmp_path / "o.toml")]
    assert main(argv, stderr=err) == 1
    message = err.getvalue().strip()
    assert len(message.splitlines()) == 1
    assert "byte 0xe9 on line 2, data row 1" in message and "re-save it as 'CSV UTF-8'" in message
    assert not (tmp_path / "o.toml").exists()
