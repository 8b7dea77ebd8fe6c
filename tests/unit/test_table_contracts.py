"""Any table validated from its contract: a toy contract defined here, end to end, and a
cross-table rule between two toy tables (no event table of the package is used)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from imnm_cohort import synthesize
from imnm_cohort.contracts.patients import (
    CONTRACT_COLUMNS,
    DATE_ORDER_RULES,
    EXTRACT_SCHEMA,
    PATIENTS,
    REQUIRED_COLUMNS,
)
from imnm_cohort.contracts.table import (
    OrderRule,
    TableContract,
    allowed,
    column,
    key_in,
)
from imnm_cohort.validation.validate import validate_rows, validate_table

#: A toy event table: many rows per patient.
READINGS = TableContract(
    name="readings",
    unit="rows",
    columns={
        "patient_id": column("id", required=True, title="Patient", description="Who."),
        "taken_on": column("date", required=True, title="Taken on", description="When."),
        "repeat_on": column("date", title="Repeated on", description="On or after taken_on."),
        "level": column(
            "float",
            checks=[pa.Check.in_range(0.0, 10.0, error="out_of_range")],
            title="Level",
            description="0 to 10.",
        ),
        "grade": column(
            "category", checks=allowed(("low", "high")), title="Grade", description="A grade."
        ),
    },
    order_rules=(OrderRule("repeat_before_reading", "repeat_on", "taken_on", "repeat_on"),),
    key=("patient_id", "taken_on"),
    id_column="patient_id",
)


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "c", "d"],
            "taken_on": ["2020-01-02", "2020-02-30", "2020-03-01", "", "2021-05-05"],
            "repeat_on": ["2020-01-03", "", "2020-02-01", "", ""],
            "level": ["3.5", "4", " 11 ", "2", "x"],
            "grade": ["LOW", "high", "medium", "", "high"],
            "note": ["kept", "as", "it", "was", "read"],
        }
    )


def test_a_toy_contract_is_validated_end_to_end():
    checked = validate_table(_rows(), READINGS, "readings.csv")
    assert checked.table == "readings" and checked.unit == "rows"
    assert checked.valid.index.tolist() == [1]  # row numbers, 1 = first row below the header
    assert checked.valid["grade"].tolist() == ["low"]  # categories folded to their value
    assert checked.valid["level"].tolist() == [3.5]
    assert checked.valid["note"].tolist() == ["kept"]  # extra columns carried untouched
    reasons = {
        (r["row_number"], r["patient_id"], r["column"], r["rule"], r["value"])
        for r in checked.reasons.to_dict("records")
    }
    assert reasons == {
        (2, "a", "taken_on", "not_a_date", "2020-02-30"),
        (3, "b", "level", "out_of_range", " 11 "),
        (3, "b", "grade", "not_allowed", "medium"),
        (3, "b", "repeat_on", "repeat_before_reading", "repeat_on=2020-02-01, taken_on=2020-03-01"),
        (4, "c", "taken_on", "missing_required", ""),
        (5, "d", "level", "not_a_number", "x"),
    }
    quarantine = checked.quarantine.set_index("row_number")
    assert quarantine.loc[3, "quarantine_reasons"] == (
        "grade:not_allowed=medium; level:out_of_range= 11 ; "
        "repeat_on:repeat_before_reading=repeat_on=2020-02-01, taken_on=2020-03-01"
    )
    assert quarantine.loc[5, "note"] == "read"  # the row's cells as they were read
    counts = checked.counts
    assert (counts.unit, counts.input, counts.valid, counts.quarantined) == ("rows", 5, 1, 4)
    assert counts.input == counts.valid + counts.quarantined
    assert checked.counts.to_dict()["unit"] == "rows"
    assert checked.warnings.empty  # the toy declares no data-quality warnings


def test_absent_columns_are_read_as_empty_and_listed():
    checked = validate_table(_rows().drop(columns=["repeat_on", "grade"]), READINGS)
    assert checked.absent_columns == ("repeat_on", "grade")
    assert set(checked.reasons["rule"]) == {"not_a_date", "out_of_range", "missing_required",
                                            "not_a_number"}  # fmt: skip


def test_the_contract_gives_the_schema_and_its_parts():
    assert READINGS.column_names == ("patient_id", "taken_on", "repeat_on", "level", "grade")
    assert READINGS.required == ("patient_id", "taken_on")
    assert READINGS.allowed == {"grade": ("low", "high")}
    assert READINGS.kind("taken_on") == "date"
    first, second = READINGS.schema_parts
    assert list(first.columns) == ["patient_id"]  # text that cannot fail to parse
    assert [c.error for c in second.checks] == ["repeat_before_reading"]
    assert set(first.columns) | set(second.columns) == set(READINGS.schema.columns)


def test_a_contract_naming_columns_it_lacks_or_a_wrong_unit_is_refused():
    columns = {"x": column("string", title="X", description="x")}
    with pytest.raises(ValueError, match="unknown columns"):
        TableContract(name="t", unit="rows", columns=columns, key=("y",))
    with pytest.raises(ValueError, match="unit"):
        TableContract(name="t", unit="people", columns=columns)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- cross-table

PEOPLE = TableContract(
    name="people",
    unit="patients",
    columns={
        "patient_id": column(
            "id", required=True, unique=True, title="Patient", description="Unique."
        ),
        "born": column("date", required=True, title="Born", description="Birth date."),
    },
    key=("patient_id",),
    id_column="patient_id",
)
VISITS = TableContract(
    name="visits",
    unit="rows",
    columns={
        "patient_id": column("id", required=True, title="Patient", description="A person."),
        "seen_on": column("date", required=True, title="Seen on", description="Visit date."),
    },
    id_column="patient_id",
    cross_rules=key_in("people"),
)


def test_an_event_of_an_unknown_or_quarantined_patient_is_quarantined():
    people = validate_table(
        pd.DataFrame({"patient_id": ["p1", "p2", "p3"], "born": ["1950-01-01", "soon", ""]}),
        PEOPLE,
    )
    assert people.valid["patient_id"].tolist() == ["p1"] and people.unit == "patients"
    visits = validate_table(
        pd.DataFrame(
            {
                "patient_id": ["p1", "p2", "p9", "p1", "p3"],
                "seen_on": ["2020-01-01", "2020-01-01", "2020-01-01", "never", "2020-01-01"],
            }
        ),
        VISITS,
        tables={"people": people},
    )
    assert visits.valid.index.tolist() == [1]
    found = sorted(zip(visits.reasons["row_number"], visits.reasons["rule"], strict=True))
    assert found == [
        (2, "patient_quarantined"),
        (3, "unknown_patient"),
        (4, "not_a_date"),
        (5, "patient_quarantined"),
    ]
    assert visits.counts.to_dict() == {
        "unit": "rows", "input_rows": 5, "valid_rows": 1, "quarantined_rows": 4,
    }  # fmt: skip


def test_a_cross_table_rule_needs_its_table():
    rows = pd.DataFrame({"patient_id": ["p1"], "seen_on": ["2020-01-01"]})
    with pytest.raises(ValueError, match="people"):
        validate_table(rows, VISITS)


def test_most_rows_of_unknown_patients_are_a_quarantine_not_a_file_level_error():
    people = validate_table(pd.DataFrame({"patient_id": ["p1"], "born": ["1950-01-01"]}), PEOPLE)
    rows = pd.DataFrame({"patient_id": [f"q{i}" for i in range(30)], "seen_on": "2020-01-01"})
    visits = validate_table(rows, VISITS, tables={"people": people})
    assert visits.quarantined_rows == 30
    assert set(visits.reasons["rule"]) == {"unknown_patient"}


# --------------------------------------------------------------------------- the patient table


def test_the_public_constants_are_views_of_the_patient_contract():
    assert EXTRACT_SCHEMA is PATIENTS.schema
    assert PATIENTS.column_names == CONTRACT_COLUMNS
    assert PATIENTS.required == REQUIRED_COLUMNS
    assert [r[0] for r in DATE_ORDER_RULES] == [r.code for r in PATIENTS.order_rules]
    assert PATIENTS.unit == "patients" and PATIENTS.key == ("patient_id",)


def test_the_patient_table_through_validate_table_is_what_validate_extract_gives():
    raw = synthesize(120, seed=5, dirty=0.5).astype(object)
    raw = raw.where(raw.notna(), None).astype(str).where(raw.notna(), None)
    table = validate_table(raw, PATIENTS, "x.csv", file_level=False)
    extract = validate_rows(raw, "x.csv", file_level=False)
    assert table.quarantined_rows > 0 and table.unit == "patients"
    pd.testing.assert_frame_equal(table.valid, extract.valid)
    pd.testing.assert_frame_equal(table.quarantine, extract.quarantine)
    pd.testing.assert_frame_equal(table.reasons, extract.reasons)
    pd.testing.assert_frame_equal(table.warnings, extract.warnings)
    pd.testing.assert_frame_equal(table.reason_counts(), extract.reason_counts())
