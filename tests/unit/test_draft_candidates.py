"""Draft candidates are scored, not taken first-come; antibody labels as laboratories write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from imnm_cohort.contracts.patients import OTHER_MSA
from imnm_cohort.mapping.antibodies import antibody_name, clean_label
from imnm_cohort.mapping.dictionary import Field
from imnm_cohort.mapping.draft import draft_mapping
from tests.mapping_corpus.drafts import commented, comments, live


def _draft(*fields: Field) -> str:
    record = Field("record_id", "text", "Record ID", form="demographics")
    return draft_mapping([record, *fields], record_id="record_id", source=Path("d.csv")).text


def test_a_name_match_beats_an_earlier_label_match():
    text = _draft(
        Field("cpk_lab", "text", "Creatine kinase", validation="integer", form="baseline"),
        Field("ck", "text", "Peak value", validation="integer", form="baseline"),
    )
    assert live(text)["ck_peak"]["from"] == "ck"
    assert "also considered: cpk_lab ('Creatine kinase')" in comments(text, "ck_peak")


def test_a_non_repeating_form_beats_an_earlier_repeating_one_for_a_patient_level_column():
    visit = Field("v_dob", "text", "Date of birth", validation="date_ymd", form="follow_up_visit")
    demo = Field("d_dob", "text", "Date of birth", validation="date_ymd", form="demographics")
    text = _draft(visit, demo)
    assert live(text)["birth_date"]["from"] == "d_dob"
    # Alone, the field of the repeating form is drafted, with a word about its form.
    alone = _draft(visit)
    assert live(alone)["birth_date"]["from"] == "v_dob"
    assert "form 'follow_up_visit' looks repeating" in comments(alone, "birth_date")


def test_two_fields_that_match_equally_are_commented_with_both():
    text = _draft(
        Field("dx1", "text", "Date of diagnosis", validation="date_ymd", form="baseline"),
        Field("dx2", "text", "Diagnosis date (confirmed)", validation="date_ymd", form="baseline"),
    )
    assert "diagnosis_date" not in live(text)
    said = comments(text, "diagnosis_date")
    assert "fields match equally well" in said and "dx1 ('Date of diagnosis')" in said
    assert "dx2 ('Diagnosis date (confirmed)')" in said
    assert commented(text)["diagnosis_date"] == 'diagnosis_date = { from = "dx1" }'


@pytest.mark.parametrize(
    ("label", "negated"),
    [
        ("Hereditary myopathy ruled out?", "ruled out"),
        ("Genetic myopathy excluded", "excluded"),
        ("No evidence of a genetic myopathy", "no"),
        ("Genetic testing: no pathogenic variant (not hereditary)", "not"),
        ("Hereditary myopathy: present or absent", None),
        ("Hereditary myopathy (yes/no)", None),
    ],
)
def test_a_question_asked_the_other_way_round_is_never_live(label, negated):
    text = _draft(Field("hered", "yesno", label, choices=(("1", "Yes"), ("0", "No"))))
    if negated is None:
        assert live(text)["hereditary_myopathy"]["values"] == {"1": "true", "0": "false"}
    else:
        assert "hereditary_myopathy" not in live(text)
        assert f"the question is negated ('{negated}')" in comments(text, "hereditary_myopathy")


@pytest.mark.parametrize(
    "label",
    ["Mother's date of birth", "Date of birth of the informant", "Donor date of birth",
     "Partner: date of birth", "Sibling date of birth"],
)  # fmt: skip
def test_another_persons_field_is_never_live(label):
    text = _draft(Field("x_dob", "text", label, validation="date_ymd", form="demographics"))
    assert "birth_date" not in live(text)
    assert "speaks of another person" in comments(text, "birth_date")


def test_a_checkbox_box_code_is_the_exported_column():
    panel = Field("msa", "checkbox", "Myositis antibodies", choices=(("A-1", "Jo-1"),))
    assert live(_draft(panel))["other_msa"]["checkboxes"] == {"msa___a_1": "jo1"}


@pytest.mark.parametrize(
    ("label", "antibody"),
    [
        ("SAE1", "sae"), ("SAE1/2", "sae"), ("Anti-SAE2", "sae"),
        ("MDA-5 (CADM-140)", "mda5"), ("CADM-140", "mda5"), ("anti-MDA5 antibody", "mda5"),
        ("NXP2 (MJ)", "nxp2"), ("NXP-2", "nxp2"), ("MJ", "nxp2"),
        ("Mi-2 alpha/beta", "mi2"), ("Mi-2α", "mi2"), ("Mi-2 beta", "mi2"),
        ("Ha (YRS)", "ha"), ("EJ (glycyl)", "ej"), ("Glycyl-tRNA synthetase", "ej"),
        ("Anti-Jo-1", "jo1"), ("Jo-1 (histidyl-tRNA synthetase)", "jo1"), ("PL-7", "pl7"),
        ("PL-12 (alanyl)", "pl12"), ("OJ", "oj"), ("KS", "ks"), ("Zo", "zo"),
        ("TIF1-γ", "tif1g"), ("TIF1-&gamma;", "tif1g"), ("TIF-1 gamma", "tif1g"),
        ("<b>SAE1/2</b>", "sae"),
        ("Ro52", None), ("Ro-52 (TRIM21)", None), ("PM-Scl 75", None), ("Ku", None),
        ("HMGCR", None), ("Anti-SRP", None), ("Other", None), ("Negative", None),
    ],
)  # fmt: skip
def test_antibody_labels_as_laboratories_write_them(label, antibody):
    assert antibody_name(label) == antibody


def test_every_contract_antibody_is_read_by_its_own_name_with_anti():
    assert [antibody_name(f"anti-{name.upper()}") for name in OTHER_MSA] == list(OTHER_MSA)


def test_labels_lose_html_tags_entities_and_invisible_characters():
    assert clean_label('<span style="x">Not&nbsp;done</span> ') == "Not done"
    assert clean_label("Ma&shy;le") == "Male"
    assert clean_label("&lt;5 U/L") == "<5 U/L"


def test_a_commented_column_whose_name_a_field_has_is_warned_about():
    relative = Field("sex", "radio", "Sex", choices=(("1", "Female"), ("2", "Male")),
                     form="family_history")  # fmt: skip
    text = _draft(relative)
    assert "sex" not in live(text)
    assert "# sex: WARNING: a field is named sex; map reads the export's column" in text
