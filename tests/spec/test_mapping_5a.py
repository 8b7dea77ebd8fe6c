"""Spec: contract section 5a, mappings never change data silently (map, validate, classify, run).

Each rule with a tiny export and mapping written in the test: what an export row looks like,
and what the extract gets (or the one line ``map`` stops with, exit code 2).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from imnm_cohort.errors import MappingError
from imnm_cohort.mapping import load_mapping
from imnm_cohort.validation.load import InputSpec, load_input, map_export
from imnm_cohort.validation.report import validation_markdown
from imnm_cohort.validation.validate import load_extract
from tests.mapping_files import REQUIRED, column, mapped, write_export, write_mapping
from tests.pipeline.readers import run

NO_ID = {k: v for k, v in REQUIRED.items() if k != "patient_id"}
YES_NO = 'values = { "1" = "true", "0" = "false" }'


def refusal(tmp_path, rows, mapping: str) -> str:
    """The one line a mapping error gives (and check that it is a mapping error)."""
    with pytest.raises(MappingError) as info:
        map_export(write_export(tmp_path, rows), write_mapping(tmp_path, mapping))
    return str(info.value)


# --- Per-column missing codes --------------------------------------------------------------


def test_a_column_missing_code_is_empty_for_that_column_only(tmp_path):
    # | rash | emg |      | dm_rash | emg_myopathic             |
    # | 9    | 9   |  ->  | (empty) | quarantined: unmapped 9   |
    row = {**REQUIRED, "rash": "9", "emg": "9"}
    text = (
        f'[columns]\ndm_rash = {{ from = "rash", {YES_NO}, missing = ["9"] }}\n'
        f'emg_myopathic = {{ from = "emg", {YES_NO} }}\n'
    )
    result = mapped(tmp_path, [row], text)
    assert result["reasons"] == {"emg_myopathic:unmapped_value": 1}
    assert result["quarantine"][0]["dm_rash"] is None


def test_column_missing_codes_add_to_the_source_codes_trimmed_and_ignoring_case(tmp_path):
    rows = [
        {**REQUIRED, "patient_id": "P1", "hmgcr": " not DONE "},
        {**REQUIRED, "patient_id": "P2", "hmgcr": "UNK"},
        {**REQUIRED, "patient_id": "P3", "hmgcr": "1"},
    ]
    text = (
        '[source]\nmissing_codes = ["UNK"]\n[columns]\n'
        'anti_hmgcr = { from = "hmgcr", values = { "1" = "positive" }, missing = ["Not done"] }\n'
    )
    result = mapped(tmp_path, rows, text)
    assert result["quarantine"] == []
    assert column(result, "anti_hmgcr") == [None, None, "positive"]


def test_a_code_both_in_values_and_missing_is_a_mapping_error(tmp_path):
    path = write_mapping(
        tmp_path, f'[columns]\ndm_rash = {{ from = "rash", {YES_NO}, missing = ["0"] }}\n'
    )
    with pytest.raises(MappingError, match="'0' is also in values"):
        load_mapping(path)


# --- Row filter -----------------------------------------------------------------------------

LABS = [
    # | record | analyte | value |   ck_peak = max over the CK rows only: 12000, not 20000
    {**NO_ID, "record": "1", "analyte": "CK", "value": "900"},
    {"record": "1", "analyte": "ALT", "value": "20000"},
    {"record": "1", "analyte": " ck ", "value": "12000"},
    {**NO_ID, "record": "2", "analyte": "ALT", "value": "40"},
]
LAB_MAPPING = (
    '[source]\nid = "record"\n[columns]\n'
    'ck_peak = { from = "value", combine = "max", where = { analyte = "CK" } }\n'
)


def test_where_gives_a_column_only_the_matching_rows_and_combine_runs_over_them(tmp_path):
    result = mapped(tmp_path, LABS, LAB_MAPPING)
    # Patient 2 has no CK row: an empty value, not a lost patient.
    assert column(result, "ck_peak") == ["12000", None]
    assert (result["export_rows"], result["patients"], result["quarantine"]) == (4, 2, [])


def test_where_takes_a_list_and_every_key_must_hold(tmp_path):
    rows = [
        {**NO_ID, "record": "1", "analyte": "CPK", "unit": "U/L", "value": "700"},
        {"record": "1", "analyte": "CK", "unit": "ukat/L", "value": "99"},
        {"record": "1", "analyte": "ck", "unit": "u/l", "value": "500"},
    ]
    text = (
        '[source]\nid = "record"\n[columns]\nck_peak = { from = "value", combine = "max", '
        'where = { analyte = ["CK", "CPK"], unit = "U/L" } }\n'
    )
    assert column(mapped(tmp_path, rows, text), "ck_peak") == ["700"]


def test_rows_a_filter_rejects_are_not_read_at_all(tmp_path):
    # The sodium row's "high" would be unmapped; it is not this column's row.
    rows = [
        {**NO_ID, "record": "1", "test": "hmgcr", "result": "POS"},
        {"record": "1", "test": "sodium", "result": "high"},
    ]
    text = (
        '[source]\nid = "record"\n[columns]\nanti_hmgcr = { from = "result", '
        'values = { "POS" = "positive" }, where = { test = "hmgcr" } }\n'
    )
    result = mapped(tmp_path, rows, text)
    assert (column(result, "anti_hmgcr"), result["quarantine"]) == (["positive"], [])


def test_a_filter_column_absent_from_the_export_is_a_mapping_error(tmp_path):
    line = refusal(tmp_path, LABS, LAB_MAPPING.replace("analyte =", "analyte_name ="))
    assert "[columns] ck_peak where: column 'analyte_name' is not in this export" in line


def test_nothing_lost_with_a_filter_export_rows_are_valid_plus_quarantined(tmp_path):
    rows = [*LABS, {**NO_ID, "record": "3", "analyte": "CK", "value": "-5"}]
    result = load_input(
        InputSpec(write_export(tmp_path, rows), write_mapping(tmp_path, LAB_MAPPING))
    )
    quarantined = result.quarantine["export_rows"].str.split(";").explode()
    assert result.valid_rows == 2
    assert list(quarantined) == ["5"]
    assert result.export_rows == 5 == 4 + len(quarantined)


# --- Coded columns --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "cells", "asks"),
    [
        ("emg_myopathic", ["1", "0"], 'values = { "1" = "true", "0" = "false" }'),
        ("hereditary_myopathy", ["2", "yes"], "codes (2)"),
        ("anti_srp", ["1", "positive"], 'values = { "1" = "positive" }'),
    ],
)
def test_bare_codes_without_values_stop_map_asking_for_values(tmp_path, contract, cells, asks):
    # | emg |   0 Myopathic | 1 Normal: "1" read as true would be a silent error.
    rows = [{**REQUIRED, "patient_id": f"P{i}", "src": c} for i, c in enumerate(cells)]
    line = refusal(tmp_path, rows, f'[columns]\n{contract} = "src"\n')
    assert f"[columns] {contract}: source column 'src' holds codes" in line
    assert asks in line


def test_words_still_read_without_values_and_missing_codes_are_not_codes(tmp_path):
    rows = [
        {**REQUIRED, "patient_id": "P1", "rash": "Yes", "sex": "female"},
        {**REQUIRED, "patient_id": "P2", "rash": "-999", "sex": "male"},
    ]
    text = '[source]\nmissing_codes = ["-999"]\n[columns]\ndm_rash = "rash"\n'
    assert column(mapped(tmp_path, rows, text), "dm_rash") == ["Yes", None]


def test_a_same_named_column_of_codes_is_refused_too(tmp_path):
    line = refusal(tmp_path, [{**REQUIRED, "dm_rash": "1"}], "")
    assert "[columns] dm_rash: source column 'dm_rash' holds codes (1)" in line


def test_a_plain_section_1_extract_still_reads_1_and_0(tmp_path):
    path = write_export(tmp_path, [{**REQUIRED, "dm_rash": "1"}])
    assert bool(load_extract(path).valid["dm_rash"].iloc[0]) is True


@pytest.mark.parametrize("command", ["map", "validate", "classify"])
def test_bare_codes_exit_2_from_every_command(tmp_path, command):
    export = write_export(tmp_path, [{**REQUIRED, "emg": "1"}])
    mapping = write_mapping(tmp_path, '[columns]\nemg_myopathic = "emg"\n')
    code, _, err = run(command, str(export), "--mapping", str(mapping),
                       "-o", str(tmp_path / "out.csv"))  # fmt: skip
    assert code == 2
    assert "emg_myopathic: source column 'emg' holds codes (1)" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unmapped_code_is_not_offered_another_code(tmp_path):
    rows = [{**REQUIRED, "sex": "10"}]
    result = mapped(
        tmp_path, rows, '[columns]\nsex = { from = "sex", values = { "1" = "female" } }\n'
    )
    assert result["quarantine"][0]["quarantine_reasons"] == "sex:unmapped_value=10"


# --- Checkboxes -----------------------------------------------------------------------------

BOXES = [
    # | msa___1 | msa___2 | msa___3 |
    {**REQUIRED, "patient_id": "P1", "msa___1": "1", "msa___2": "0", "msa___3": "0"},
    {**REQUIRED, "patient_id": "P2", "msa___1": "0", "msa___2": "0", "msa___3": "1"},
]


def test_a_ticked_box_the_mapping_leaves_out_is_unmapped(tmp_path):
    text = '[columns]\nother_msa = { checkboxes = { "msa___1" = "jo1", "msa___2" = "pl7" } }\n'
    result = mapped(tmp_path, BOXES, text)
    assert column(result, "other_msa") == ["jo1"]
    [bad] = result["quarantine"]
    assert (bad["patient_id"], bad["quarantine_reasons"]) == (
        "P2",
        "other_msa:unmapped_value=msa___3 ticked",
    )


def test_an_empty_antibody_ignores_a_box_explicitly(tmp_path):
    rows = [{**row, "msa_done": "1"} for row in BOXES]
    text = (
        '[columns]\nother_msa = { checkboxes = { "msa___1" = "jo1", "msa___2" = "pl7", '
        '"msa___3" = "" }, tested = "msa_done" }\n'
    )
    result = mapped(tmp_path, rows, text)
    assert (column(result, "other_msa"), result["quarantine"]) == (["jo1", "none"], [])


def test_boxes_of_another_field_are_not_the_mapped_fields_boxes(tmp_path):
    rows = [{**row, "ana___1": "1"} for row in BOXES]
    text = (
        '[columns]\nother_msa = { checkboxes = { "msa___1" = "jo1", "msa___2" = "pl7", '
        '"msa___3" = "pl12" } }\n'
    )
    result = mapped(tmp_path, rows, text)
    assert (column(result, "other_msa"), result["quarantine"]) == (["jo1", "pl12"], [])


# --- Required columns -----------------------------------------------------------------------


def test_a_required_column_neither_named_nor_in_the_export_is_refused(tmp_path):
    row = {k: v for k, v in REQUIRED.items() if k not in ("onset_date", "last_followup_date")}
    line = refusal(tmp_path, [{**row, "onset": "2010-01-01"}], "")
    assert "onset_date is required: name its source column in [columns]" in line
    assert "last_followup_date is required: name its source column in [columns]" in line


@pytest.mark.parametrize("command", ["map", "validate", "classify"])
def test_every_command_refuses_a_mapping_without_a_required_column(tmp_path, command):
    row = {k: v for k, v in REQUIRED.items() if k != "onset_date"}
    export = write_export(tmp_path, [row])
    mapping = write_mapping(tmp_path, "")
    out = tmp_path / ("out" if command == "validate" else "out.csv")
    code, _, err = run(command, str(export), "--mapping", str(mapping), "-o", str(out))
    assert code == 2
    assert err.strip().endswith("onset_date is required: name its source column in [columns]")
    assert not out.exists()


def test_run_refuses_a_mapping_without_a_required_column(tmp_path):
    row = {k: v for k, v in REQUIRED.items() if k != "birth_date"}
    write_export(tmp_path, [row])
    write_mapping(tmp_path, "")
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text(
        '[input]\nextract = "export.csv"\nmapping = "mapping.toml"\n'
        '[output]\nroot = "reports"\nformats = ["json"]\n'
    )
    code, _, err = run("run", str(pipeline))
    assert code == 2
    assert "birth_date is required: name its source column in [columns]" in err


def test_reports_never_call_a_required_column_optional(tmp_path):
    result = load_input(InputSpec(write_export(tmp_path, [REQUIRED]), write_mapping(tmp_path, "")))

    def optional_line(text: str) -> str:
        line = next(x for x in text.splitlines() if x.startswith("Optional columns absent"))
        return line.replace("\\_", "_")  # Markdown escapes the underscores

    line = optional_line(validation_markdown(result))
    assert "dm_rash" in line
    assert not any(name in line for name in REQUIRED)
    # Even if a required column were somehow absent, it is not listed as optional.
    forced = dataclasses.replace(result, absent_columns=["last_followup_date", "dm_rash"])
    assert optional_line(validation_markdown(forced)).endswith(": dm_rash.")


# --- Identifiers stay out -------------------------------------------------------------------


def test_unnamed_source_columns_reach_no_output(tmp_path):
    # | patient_id | ... | surname | email   |  ->  the extract has neither
    row = {**REQUIRED, "surname": "Doe", "email": "doe@example.org"}
    export = write_export(tmp_path, [row])
    mapping = write_mapping(tmp_path, "")
    assert run("classify", str(export), "--mapping", str(mapping),
               "-o", str(tmp_path / "classified.csv"))[0] == 0  # fmt: skip
    assert "Doe" not in (tmp_path / "classified.csv").read_text()
    assert run("validate", str(export), "--mapping", str(mapping),
               "-o", str(tmp_path / "v"))[0] == 0  # fmt: skip
    for path in (tmp_path / "v").iterdir():
        assert "Doe" not in path.read_text() and "doe@" not in path.read_text()
    report = json.loads((tmp_path / "v" / "validation_report.json").read_text())
    assert report["mapping"]["left_out_columns"] == ["surname", "email"]


def test_keep_carries_a_column_and_rows_of_one_patient_must_agree(tmp_path):
    rows = [
        {**NO_ID, "record": "1", "centre": "A"},
        {"record": "1", "centre": " A "},
        {**NO_ID, "record": "2", "centre": "A"},
        {"record": "2", "centre": "B"},
    ]
    text = '[source]\nid = "record"\nkeep = ["centre"]\n'
    result = mapped(tmp_path, rows, text)
    assert column(result, "centre") == ["A"]
    assert result["quarantine"][0]["quarantine_reasons"] == "centre:conflicting_values=A | B"


@pytest.mark.parametrize(
    ("source", "columns", "refused"),
    [
        ('keep = ["email"]', "", "[source] keep: 'email' is flagged as an identifier"),
        ("", 'sex = "email"', "[columns] sex: 'email' is flagged as an identifier"),
        ('keep = ["email"]\nkeep_identifiers = true', "", None),
        ('keep = ["email"]\nkeep_identifiers = ["email"]', "", None),
        ("", 'patient_id = "email"', None),
    ],
)
def test_a_listed_identifier_is_kept_only_when_declared(tmp_path, source, columns, refused):
    text = f'[source]\nidentifiers = ["email", "name"]\n{source}\n[columns]\n{columns}\n'
    path = write_mapping(tmp_path, text)
    if refused is None:
        load_mapping(path)
        return
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert refused in str(info.value)
    assert 'keep_identifiers = ["email"]' in str(info.value)


def test_a_same_named_identifier_column_is_refused_too(tmp_path):
    line = refusal(
        tmp_path, [{**REQUIRED, "dm_rash": "yes"}], '[source]\nidentifiers = ["dm_rash"]\n'
    )
    assert "[columns] dm_rash: 'dm_rash' is flagged as an identifier" in line


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ('keep = ["sex"]', "[source] keep: 'sex' is a contract column's name"),
        (
            'keep = ["eular_acr_2017_category"]',
            "[source] keep: 'eular_acr_2017_category' is the name of a column the toolkit adds",
        ),
        ('keep = ["Imnm_Group"]', "[source] keep: 'Imnm_Group' is the name of a column"),
        ('keep = "centre"', "[source] keep must be a list"),
        ('keep_identifiers = ["dob"]', "[source] keep_identifiers: 'dob' is not in"),
        ("keep_identifiers = 1", "[source] keep_identifiers must be true, false or a list"),
    ],
)
def test_keep_and_identifier_keys_are_checked(tmp_path, source, refused):
    with pytest.raises(MappingError, match=refused.replace("[", r"\[")):
        load_mapping(write_mapping(tmp_path, f"[source]\n{source}\n"))


def test_a_kept_column_absent_from_the_export_is_a_mapping_error(tmp_path):
    line = refusal(tmp_path, [REQUIRED], '[source]\nkeep = ["centre"]\n')
    assert "[source] keep: column 'centre' is not in this export" in line


# --- Messages -------------------------------------------------------------------------------


def test_an_absent_column_is_never_offered_another_field(tmp_path):
    line = refusal(tmp_path, [{**REQUIRED, "bx_pfa": "yes"}],
                   '[columns]\nbiopsy_p62_diffuse = "bx_p62"\n')  # fmt: skip
    assert line.endswith("[columns] biopsy_p62_diffuse: column 'bx_p62' is not in this export")


def test_an_absent_column_is_offered_the_same_name_spelt_otherwise(tmp_path):
    line = refusal(tmp_path, [{**REQUIRED, "BX P62": "yes"}],
                   '[columns]\nbiopsy_p62_diffuse = "bx_p62"\n')  # fmt: skip
    assert "column 'bx_p62' is not in this export (the export has 'BX P62')" in line
