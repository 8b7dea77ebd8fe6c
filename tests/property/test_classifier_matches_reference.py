"""Property: the vectorised classifier agrees with the row-by-row reference, everywhere."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import available_criteria, classify, validate_extract
from tests.conftest import text_frame
from tests.property.reference_classifier import classify_row


def maybe(values):
    return st.sampled_from([None, *values])


BOOL = maybe(["true", "false"])
patient = st.fixed_dictionaries(
    {
        "proximal_weakness": maybe(["none", "mild", "moderate", "severe"]),
        "diagnosis_date": maybe(["2015-09-01"]),
        "dm_rash": BOOL,
        "ck_peak": maybe(
            ["0", "150", "199", "200", "201", "250", "600", "999", "999.5", "1000", "1001", "8000"]
        ),
        "ck_uln": maybe(["150", "200", "250", "1000"]),
        "anti_hmgcr": maybe(["positive", "negative", "not_tested"]),
        "anti_srp": maybe(["positive", "negative", "not_tested"]),
        "other_msa": maybe(["none", "jo1", "mi2;tif1g"]),
        "biopsy_necrosis": maybe(["predominant", "present", "absent"]),
        "biopsy_inflammation": maybe(["minimal", "prominent"]),
        "biopsy_perifascicular_atrophy": BOOL,
        "biopsy_rimmed_vacuoles": BOOL,
        "statin_exposed": BOOL,
        "improved_after_statin_stop": BOOL,
        "hereditary_myopathy": BOOL,
    }
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patient, min_size=1, max_size=40))
def test_vectorised_classifier_agrees_with_reference(rows):
    valid = validate_extract(text_frame(rows)).valid
    assert len(valid) == len(rows)
    records = valid.astype(object).where(valid.notna(), None).to_dict("records")
    for criteria in available_criteria():
        got = classify(valid, criteria)
        expected = [classify_row(r, criteria) for r in records]
        assert got["imnm_group"].astype(str).tolist() == [g for g, _ in expected]
        assert got["classification_reasons"].tolist() == [";".join(c) for _, c in expected]


def test_classify_never_modifies_its_input():
    valid = validate_extract(text_frame([{}, {"ck_peak": None}])).valid
    before = valid.copy()
    classify(valid, "enmc2017")
    pd.testing.assert_frame_equal(valid, before)


def test_empty_frame_classifies_to_empty():
    valid = validate_extract(text_frame([{}])).valid.iloc[:0]
    out = classify(valid)
    assert len(out) == 0
    assert "imnm_group" in out.columns
