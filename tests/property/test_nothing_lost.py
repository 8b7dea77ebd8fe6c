"""Property: for any corruption of an extract, every input row is accounted for."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import ExtractError, synthesize, validate_extract
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS

BASE = synthesize(40, seed=11)
JUNK = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "NA",
            "-1",
            "1e309",
            "2020-02-30",
            "13/01/2020",
            "true",
            "positive",
            "=cmd|' /C calc'!A0",
            "none;jo1",
            "\x00",
            "C99.9",
        ]
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(CONTRACT_COLUMNS), JUNK),
        max_size=30,
    )
)
@pytest.mark.slow
def test_input_rows_equal_valid_plus_quarantined(edits):
    frame = BASE.copy()
    for row, column, value in edits:
        frame.loc[row, column] = value
    try:
        result = validate_extract(frame)
    except ExtractError:
        return  # a file-level problem: nothing written, nothing split
    assert result.input_rows == len(frame)
    assert result.valid_rows + result.quarantined_rows == len(frame)
    quarantined = set(result.quarantine["row_number"])
    assert quarantined == set(result.reasons["row_number"])
    assert quarantined.isdisjoint(set(result.valid.index))
    assert sorted(quarantined | set(result.valid.index)) == list(range(1, len(frame) + 1))
    edited_rows = {row + 1 for row, _, _ in edits}
    assert quarantined <= edited_rows  # untouched rows of a clean extract stay valid
    assert np.all(result.quarantine["quarantine_reasons"].str.len() > 0)
