"""Property: with row filters (``where``) and per-column missing codes, nothing is lost.

Random exports of a labs-like instrument (several rows per patient, an analyte column, coded
yes/no cells, missing-data codes, empty ids, junk) mapped with ``where`` and ``missing``:
every export row belongs to exactly one patient, and export rows = rows of valid patients +
rows of quarantined patients (contract sections 5 and 5a).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort.errors import ExtractError
from imnm_cohort.validation.load import InputSpec, load_input
from tests.mapping_files import write_export, write_mapping

MAPPING = """
[source]
id = "record"
missing_codes = ["UNK"]

[columns]
sex = { from = "sex", values = { "1" = "female", "2" = "male" }, missing = ["9"] }
birth_date = { from = "dob", where = { form = "demographics" } }
onset_date = { from = "onset", where = { form = "demographics" } }
last_followup_date = { from = "visit", combine = "max", where = { form = ["visit", "labs"] } }
ck_peak = { from = "value", combine = "max", where = { form = "labs", analyte = ["CK", "CPK"] } }
dm_rash = { from = "rash", values = { "1" = "true", "0" = "false" }, missing = ["9", "Not done"], combine = "any" }
"""  # noqa: E501

CELLS = {
    "record": st.sampled_from(["1", "2", "3", "4", "", " 2 "]),
    "form": st.sampled_from(["demographics", "visit", "labs", "LABS ", "other", ""]),
    "analyte": st.sampled_from(["CK", "cpk", "ALT", "", "UNK"]),
    "sex": st.sampled_from(["1", "2", "9", "UNK", "", "7"]),
    "dob": st.sampled_from(["1950-01-01", "1960-05-05", "", "UNK", "31/12/1950"]),
    "onset": st.sampled_from(["2010-01-01", "2012-03-03", "", "1940-01-01"]),
    "visit": st.sampled_from(["2015-01-01", "2016-06-06", "", "UNK", "2009-01-01"]),
    "value": st.sampled_from(["900", "12000", "-5", "", "abc", "UNK"]),
    "rash": st.sampled_from(["1", "0", "9", "not done", "", "2"]),
}
#: Three well-formed patients (a demographics row and a labs row each), so that some end valid.
BASE = [
    {"record": r, "form": form, "analyte": analyte, "sex": sex, "dob": dob, "onset": onset,
     "visit": visit, "value": value, "rash": rash}
    for r in ("1", "2", "3")
    for form, analyte, sex, dob, onset, visit, value, rash in (
        ("demographics", "", "1", "1950-01-01", "2010-01-01", "", "", "0"),
        ("labs", "CK", "", "", "", "2015-01-01", "900", ""),
    )
]  # fmt: skip
EXTRA = st.lists(st.fixed_dictionaries(CELLS), max_size=12)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXTRA, st.randoms(use_true_random=False))
def test_export_rows_are_rows_of_valid_plus_quarantined_patients(extra, random):
    rows = BASE + extra
    random.shuffle(rows)
    with tempfile.TemporaryDirectory() as folder:
        export = write_export(Path(folder), rows)
        mapping = write_mapping(Path(folder), MAPPING)
        try:
            result = load_input(InputSpec(export, mapping))
        except ExtractError:
            return  # a file-level problem: nothing written, nothing split
    assert result.export_rows == len(rows)
    ids = np.array([r["record"].strip() for r in rows], dtype=object)
    valid_ids = set(result.valid["patient_id"])
    rows_of_valid = int(np.isin(ids, list(valid_ids)).sum()) if valid_ids else 0
    quarantined = result.quarantine["export_rows"].str.split(";").explode().dropna().astype(int)
    assert quarantined.is_unique
    assert rows_of_valid + len(quarantined) == len(rows)
    assert set(quarantined).isdisjoint(np.flatnonzero(np.isin(ids, list(valid_ids))) + 1)
    assert result.valid_rows + result.quarantined_rows == len(set(ids) - {""}) + int(
        (ids == "").sum()
    )
