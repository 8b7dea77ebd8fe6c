"""Round trip: a flat extract exploded into a REDCap-shaped export and mapped back.

The export has random visits (events), random row order, peak CK at a random visit, a later
second cancer for some patients (instances not in date order) and missing-data codes; its
mapping must give back the same extract, and the same groups and reasons after
classification. And whatever is broken in an export, nothing is lost: every export row
belongs to one patient, valid or quarantined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import classify, validate_extract
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.synth_redcap import redcap_layout
from imnm_cohort.validation.load import InputSpec, load_input

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(tmp_path, export, mapping, name):
    folder = tmp_path / name
    path = write_extract(export, folder / "export.csv")
    (folder / "mapping.toml").write_text(mapping)
    return InputSpec(path, folder / "mapping.toml")


@pytest.mark.slow
@SETTINGS
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_mapping_gives_back_the_flat_extract(tmp_path, n, seed):
    flat = synthesize(n, seed=seed).drop(columns="site")
    made = redcap_layout(flat, seed=seed, shuffle=True)
    result = load_input(_write(tmp_path, made.export, made.mapping, f"{n}-{seed}"))
    expected = validate_extract(flat)
    assert result.quarantined_rows == expected.quarantined_rows == 0
    assert result.export_rows == len(made.export)
    # Patients come in the order of their first row; compare by patient id.
    got = result.valid.set_index("patient_id").sort_index()
    want = expected.valid.set_index("patient_id").sort_index()
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=True)
    groups = classify(result.valid).set_index("patient_id").sort_index()
    want_groups = classify(expected.valid).set_index("patient_id").sort_index()
    cols = ["imnm_group", "classification_reasons"]
    pd.testing.assert_frame_equal(groups[cols], want_groups[cols])


@SETTINGS
@given(
    n=st.integers(2, 30),
    seed=st.integers(0, 10_000),
    breaks=st.lists(
        st.tuples(st.sampled_from(["unmapped", "conflict", "no_id", "bad_date"]),
                  st.integers(0, 10_000)),
        max_size=8,
    ),
)  # fmt: skip
@pytest.mark.slow
def test_nothing_is_lost_whatever_is_broken(tmp_path, n, seed, breaks):
    made = redcap_layout(synthesize(n, seed=seed), seed=seed, shuffle=True)
    export = made.export.copy()
    for kind, at in breaks:
        row = at % len(export)
        if kind == "unmapped":
            export.loc[row, "sex"] = "7"
        elif kind == "conflict":
            export.loc[row, "weak_course"] = "1" if export.loc[row, "weak_course"] != "1" else "2"
        elif kind == "no_id":
            export.loc[row, "record_id"] = None
        else:
            export.loc[row, "dob"] = "1950-31-12"
    result = load_input(_write(tmp_path, export, made.mapping, f"{n}-{seed}-{len(breaks)}"))
    rows_of_valid = export["record_id"].isin(result.valid["patient_id"]).sum()
    quarantined = result.quarantine["export_rows"].str.split(";").explode().astype(int)
    assert quarantined.is_unique
    assert rows_of_valid + len(quarantined) == len(export) == result.export_rows
    valid_rows = np.flatnonzero(export["record_id"].isin(result.valid["patient_id"])) + 1
    assert not set(valid_rows) & set(quarantined)
    assert result.input_rows == result.valid_rows + result.quarantined_rows
