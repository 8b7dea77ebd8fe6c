"""Mapped event tables (contract sections 5, 5a and 6): ``[tables.NAME]`` in a mapping file.

One table row per export row (a REDCap event or repeating-instrument instance) with a value
in any of the table's columns; ``patient_id`` from the record id; each column with the keys
of ``[columns]`` (``values``, ``missing``, ``where``, ``format``, ``unit``); section 5a's
guarantees per table: a bare code is refused, an unmapped code quarantines its row, every
export row with a value ends in a table row, and no column the mapping does not name is
carried.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imnm_cohort.cli import main
from imnm_cohort.errors import MappingError
from imnm_cohort.mapping.apply import apply_tables
from imnm_cohort.mapping.spec import load_mapping
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract

HEADER = """[source]
id = "record_id"
missing_codes = ["UNK"]

[columns]
sex = { from = "sex", values = { "1" = "female", "2" = "male" } }
birth_date = "dob"
onset_date = "onset"
last_followup_date = { from = "vdate", combine = "max" }
"""

# Patient A: a baseline row, two follow-up events, two treatment instances, a lab row of
# another analyte. Patient B: one follow-up event, one treatment with an unknown code.
EXPORT = {
    "record_id": ["A", "A", "A", "A", "A", "A", "B", "B", "B"],
    "redcap_event_name": ["base", "fu1", "fu2", "base", "base", "base", "base", "base", "fu1"],
    "redcap_repeat_instrument": ["", "", "", "treatment", "treatment", "labs", "", "treatment", ""],
    "redcap_repeat_instance": ["", "", "", "1", "2", "1", "", "1", ""],
    "sex": ["1", "", "", "", "", "", "2", "", ""],
    "dob": ["1960-01-01", "", "", "", "", "", "1955-05-05", "", ""],
    "onset": ["2010-01-01", "", "", "", "", "", "2011-01-01", "", ""],
    "vdate": ["", "2011-01-01", "2012-01-01", "", "", "", "", "", "2013-01-01"],
    "mmt": ["", "60", "UNK", "", "", "", "", "", "70"],
    "tx": ["", "", "", "1", "2", "", "", "7", ""],
    "tx_start": ["", "", "", "2010-02-01", "2010-06-01", "", "", "2011-02-01", ""],
    "analyte": ["", "", "", "", "", "ALT", "", "", ""],
    "lab_value": ["", "", "", "", "", "40", "", "", ""],
    "phone": ["555", "", "", "", "", "", "556", "", ""],
}
VISITS = """
[tables.visits]
visit_date = "vdate"
mmt = { from = "mmt", missing = ["99"] }
"""
TREATMENTS = """
[tables.treatments]
where = { redcap_repeat_instrument = "treatment" }
drug = { from = "tx", values = { "1" = "prednisone", "2" = "rituximab" } }
start_date = "tx_start"
"""


def mapping(tmp_path: Path, *sections: str, header: str = HEADER) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(header + "".join(sections), encoding="utf-8")
    return path


def mapped(tmp_path: Path, *sections: str, export: dict[str, list[str]] | None = None):
    frame = pd.DataFrame(export or EXPORT, dtype=object).replace("", None)
    return apply_tables(frame, load_mapping(mapping(tmp_path, *sections)))


def patients():
    return validate_extract(
        pd.DataFrame(
            {
                "patient_id": ["A", "B"],
                "sex": ["female", "male"],
                "birth_date": ["1960-01-01", "1955-05-05"],
                "onset_date": ["2010-01-01", "2011-01-01"],
                "last_followup_date": ["2012-01-01", "2013-01-01"],
            }
        ),
        "patients",
    )


# ------------------------------------------------------------------------------ one row per row
def test_each_event_with_a_value_is_one_visit_and_rows_without_one_are_none(tmp_path):
    visits = mapped(tmp_path, VISITS)["visits"]
    # The follow-up events only: baseline and instrument rows hold no visit column.
    assert visits.export_rows.tolist() == [2, 3, 9]
    assert visits.rows["patient_id"].tolist() == ["A", "A", "B"]
    assert visits.rows["visit_date"].tolist() == ["2011-01-01", "2012-01-01", "2013-01-01"]
    # UNK is a missing code: the visit is kept, its MMT unknown.
    assert visits.rows["mmt"].isna().tolist() == [False, True, False]
    assert list(visits.rows.columns) == ["patient_id", "visit_date", "mmt"]  # no phone


def test_a_repeating_instrument_gives_one_row_per_instance_with_its_code_map(tmp_path):
    treatments = mapped(tmp_path, TREATMENTS)["treatments"]
    assert treatments.export_rows.tolist() == [4, 5, 8]
    assert treatments.rows["drug"].tolist()[:2] == ["prednisone", "rituximab"]
    # An unknown code keeps its row, with the reason: nothing is lost.
    failures = treatments.failures.to_dict("records")
    assert failures == [{"index": 2, "column": "drug", "rule": "unmapped_value", "value": "7"}]


def test_an_unmapped_code_quarantines_its_row_naming_the_source_column(tmp_path):
    made = mapped(tmp_path, VISITS, TREATMENTS)
    tables = validate_events({}, patients(), mapped=made)
    treatments = tables["treatments"]
    assert treatments.counts.input == 3 == treatments.counts.valid + treatments.counts.quarantined
    held = treatments.quarantine
    assert held["export_rows"].tolist() == ["8"]
    assert "drug (from tx):unmapped_value=7" in held["quarantine_reasons"].iloc[0]
    assert tables.frame("treatments")["drug"].tolist() == ["prednisone", "rituximab"]
    assert tables.frame("visits")["mmt"].tolist()[0] == 60.0


def test_a_column_filter_takes_the_rows_of_one_analyte(tmp_path):
    labs = """
[tables.visits]
visit_date = "vdate"
ck = { from = "lab_value", where = { analyte = "CK" } }
"""
    visits = mapped(tmp_path, labs)["visits"]
    assert visits.export_rows.tolist() == [2, 3, 9]  # the ALT row gives no visit
    alt = labs.replace('"CK"', '"alt"')  # case-insensitive, as in [columns]
    assert mapped(tmp_path, alt)["visits"].export_rows.tolist() == [2, 3, 6, 9]


def test_a_unit_and_a_date_format_apply_per_table(tmp_path):
    export = {**EXPORT, "vdate": ["", "01/02/2011", "", "", "", "", "", "", ""]}
    export["mmt"] = [""] * 9
    export["lab_value"] = ["", "2.5", "", "", "", "", "", "", ""]
    section = """
[tables.visits]
visit_date = { from = "vdate", format = "%d/%m/%Y" }
ck = { from = "lab_value", unit = "ukat/L" }
"""
    visits = mapped(tmp_path, section, export=export)["visits"]
    assert visits.rows.to_dict("records") == [
        {"patient_id": "A", "visit_date": "2011-02-01", "ck": "150"}
    ]


def test_a_bare_code_in_a_category_without_values_is_refused(tmp_path):
    section = TREATMENTS.replace(
        'drug = { from = "tx", values = { "1" = "prednisone", "2" = "rituximab" } }',
        'drug = "tx"',
    )
    with pytest.raises(MappingError) as exc:
        mapped(tmp_path, section)
    message = str(exc.value)
    assert "\n" not in message
    assert "[tables.treatments] drug: source column 'tx' holds codes (1, 2, 7)" in message
    assert '"1" = "prednisone"' in message  # an example from the contract's values


def test_a_row_with_an_empty_record_id_is_quarantined_not_dropped(tmp_path):
    export = {**EXPORT, "record_id": ["A", "", "A", "A", "A", "A", "B", "B", "B"]}
    made = mapped(tmp_path, VISITS, export=export)
    visits = validate_events({}, patients(), mapped=made)["visits"]
    assert visits.counts.input == 3 and visits.counts.quarantined == 1
    assert visits.quarantine["export_rows"].tolist() == ["2"]


# ------------------------------------------------------------------------ the file is checked
@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("[tables.visit]\nvisit_date = 'vdate'\n", "'visit' is not an event table"),
        ("[tables.visits]\nvisit_date = 'vdate'\nck_peak = 'mmt'\n", "not a column of visits"),
        (
            "[tables.visits]\nvisit_date = { from = 'vdate', combine = 'max' }\n",
            "[tables.visits] visit_date combine: only in [columns]",
        ),
        (
            "[tables.visits]\nvisit_date = 'vdate'\nmmt = { from = 'mmt', unit = 'U/L' }\n",
            "only ck and ck_uln take a unit",
        ),
        (
            "[tables.treatments]\ndrug = { from = 'tx', values = { '1' = 'aspirin' } }\n",
            "'1' = 'aspirin' is not allowed",
        ),
        ("[tables.visits]\nwhere = { redcap_event_name = 'fu1' }\n", "name at least one column"),
    ],
)
def test_a_bad_table_section_is_one_line(tmp_path, section, words):
    with pytest.raises(MappingError) as exc:
        load_mapping(mapping(tmp_path, section))
    assert words in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("[tables.visits]\nmmt = 'mmt'\n", "[tables.visits] visit_date is required"),
        ("[tables.visits]\nvisit_date = 'visit_dt'\n", "column 'visit_dt' is not in this export"),
        (
            "[tables.visits]\nwhere = { event = 'fu1' }\nvisit_date = 'vdate'\n",
            "[tables.visits] where: column 'event' is not in this export",
        ),
    ],
)
def test_a_table_the_export_cannot_fill_is_refused(tmp_path, section, words):
    with pytest.raises(MappingError) as exc:
        mapped(tmp_path, section)
    assert words in str(exc.value)


def test_an_identifier_read_by_a_table_is_refused(tmp_path):
    header = HEADER.replace('missing_codes = ["UNK"]', 'identifiers = ["phone"]')
    section = "[tables.visits]\nvisit_date = 'vdate'\nmmt = 'phone'\n"
    with pytest.raises(MappingError) as exc:
        load_mapping(mapping(tmp_path, section, header=header))
    assert "[tables.visits] mmt: 'phone' is flagged as an identifier" in str(exc.value)


def test_a_table_given_by_the_pipeline_and_by_the_mapping_is_refused(tmp_path, capsys):
    pd.DataFrame(EXPORT).to_csv(tmp_path / "export.csv", index=False)
    pd.DataFrame({"patient_id": ["A"], "visit_date": ["2011-01-01"]}).to_csv(
        tmp_path / "visits.csv", index=False
    )
    mapping(tmp_path, VISITS)
    (tmp_path / "p.toml").write_text(
        '[input]\nextract = "export.csv"\nmapping = "m.toml"\n'
        '[input.tables]\nvisits = "visits.csv"\n[output]\nroot = "out"\nformats = ["json"]\n'
    )
    assert main(["run", str(tmp_path / "p.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line]
    assert len(errors) == 1 and "[tables.visits] fills the visits table" in errors[0]


# ---------------------------------------------------------------------------- nothing is lost
CELLS = st.sampled_from(["", "UNK", "1", "2", "7", "x", "2011-01-01", "13/13/2011", "  1 "])


@pytest.fixture(scope="module")
def property_inputs(tmp_path_factory):
    """The treatments mapping and the patient table, read once for every example."""
    return load_mapping(mapping(tmp_path_factory.mktemp("tables"), TREATMENTS)), patients()


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", ""]),
            st.sampled_from(["", "treatment", "labs"]),
            CELLS,
            CELLS,
        ),
        min_size=1,
        max_size=25,
    )
)
@pytest.mark.slow
def test_every_export_row_with_a_value_ends_in_a_table_row(property_inputs, rows):
    spec, known = property_inputs
    export = {
        "record_id": [r[0] for r in rows],
        "redcap_repeat_instrument": [r[1] for r in rows],
        "sex": ["1"] * len(rows),
        "dob": ["1960-01-01"] * len(rows),
        "onset": ["2010-01-01"] * len(rows),
        "vdate": ["2012-01-01"] * len(rows),
        "tx": [r[2] for r in rows],
        "tx_start": [r[3] for r in rows],
    }
    frame = pd.DataFrame(export, dtype=object)
    treatments = apply_tables(frame.replace("", None), spec)["treatments"]
    in_instrument = frame["redcap_repeat_instrument"] == "treatment"
    value = lambda c: ~frame[c].str.strip().isin(["", "UNK"])  # noqa: E731
    expected = frame.index[in_instrument & (value("tx") | value("tx_start"))] + 1
    assert treatments.export_rows.tolist() == expected.tolist()
    checked = validate_events({}, known, mapped={"treatments": treatments})["treatments"]
    counts = checked.counts
    assert counts.input == len(expected) == counts.valid + counts.quarantined
    held = checked.quarantine["row_number"].to_numpy(dtype=int) - 1
    assert checked.quarantine["export_rows"].astype(int).tolist() == (
        treatments.export_rows[held].tolist()
    )


def test_a_draft_names_no_table_and_says_how_to_write_one(tmp_path):
    from imnm_cohort.mapping.draft import draft_from_redcap
    from imnm_cohort.synth_redcap import dictionary

    dictionary().to_csv(tmp_path / "dict.csv", index=False)
    draft = draft_from_redcap(tmp_path / "dict.csv")
    assert "# [tables.treatments]" in draft.text
    assert "REQUIRED: the instrument" in draft.text
    (tmp_path / "draft.toml").write_text(draft.text)
    assert load_mapping(tmp_path / "draft.toml").tables == {}


def test_a_spreadsheet_error_cell_a_table_reads_quarantines_its_row(tmp_path):
    from imnm_cohort.sources.base import CELL_PROBLEMS

    frame = pd.DataFrame(EXPORT, dtype=object).replace("", None)
    frame.loc[8, "mmt"] = None  # the reader empties an error cell and reports it
    frame.attrs[CELL_PROBLEMS] = ((8, "mmt", "spreadsheet_error", "#DIV/0!"),)
    visits = apply_tables(frame, load_mapping(mapping(tmp_path, VISITS)))["visits"]
    assert visits.failures.to_dict("records") == [
        {"index": 2, "column": "mmt", "rule": "spreadsheet_error", "value": "#DIV/0!"}
    ]
    checked = validate_events({}, patients(), mapped={"visits": visits})["visits"]
    assert checked.quarantine["export_rows"].tolist() == ["9"]


def test_a_table_given_as_rows_and_by_a_mapping_is_a_programming_error(tmp_path):
    made = mapped(tmp_path, VISITS)
    with pytest.raises(ValueError, match="visits: given both"):
        validate_events({"visits": made["visits"].rows}, patients(), mapped=made)
