"""Property: for any rows of any event table, every input row is valid or quarantined, and
the derived patient table keeps every patient (contract section 6)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import ExtractError
from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.validation.derive import derive_patients
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract

PATIENTS = validate_extract(
    pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "sex": ["female", "male", "nobody"],  # p3 is quarantined
            "birth_date": ["1960-05-01", "1950-01-01", "1970-01-01"],
            "onset_date": ["2020-01-01", "2020-03-01", "2020-01-01"],
            "last_followup_date": ["2022-12-31", "2021-06-01", "2022-01-01"],
            "death_date": ["", "2021-06-30", ""],
        }
    )
)
#: Cells worth trying in any column: good values of some column, bad ones of every kind.
CELLS = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(
        [
            "p1",
            "p2",
            "p3",
            "p9",
            "",
            " ",
            "1959-01-01",
            "2020-06-01",
            "2023-01-01",
            "2020-02-30",
            "-1",
            "0",
            "25",
            "80",
            "150",
            "1e309",
            "hmgcr",
            "srp",
            "line_blot",
            "elisa",
            "weak",
            "strong",
            "positive",
            "equivocal",
            "prednisone",
            "ivig",
            "C50.9",
            "D05",
            "x",
        ]
    ),
)


@st.composite
def tables(draw):
    found = {}
    for name in draw(st.sets(st.sampled_from(list(EVENT_TABLES)), min_size=1, max_size=2)):
        columns = EVENT_TABLES[name].column_names
        n = draw(st.integers(1, 8))
        found[name] = pd.DataFrame(
            {c: draw(st.lists(CELLS, min_size=n, max_size=n)) for c in columns}, dtype=object
        )
    return found


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_input_rows_equal_valid_plus_quarantined_per_table(raw):
    try:
        checked = validate_events(raw, PATIENTS)
    except ExtractError:
        return  # a file-level problem of one table: nothing split, nothing written
    for name, frame in raw.items():
        table = checked[name]
        assert table.input_rows == len(frame) == table.valid_rows + table.quarantined_rows
        held = set(table.quarantine["row_number"])
        assert held == set(table.reasons["row_number"])
        assert sorted(held | set(table.valid.index)) == list(range(1, len(frame) + 1))
        assert set(table.valid["patient_id"]) <= {"p1", "p2"}  # only valid patients' rows
    derived = derive_patients(PATIENTS, checked)
    assert derived.valid.index.equals(PATIENTS.valid.index)
    assert derived.quarantine.equals(PATIENTS.quarantine)
