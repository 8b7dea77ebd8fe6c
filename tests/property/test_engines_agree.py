"""Property: every in-process engine gives the same answers on random dirty extracts
(duplicates across batches, odd dates, NULL versus empty text, case and spaces in category
values, numbers stored as text): in memory, batched with small batches, and DuckDB. The same
valid rows, the same quarantine with the same reasons, the same warnings, the same
file-level judgement, and the same groups and reasons. Its PostgreSQL part is
tests/databases/test_engines_agree_postgres.py."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from imnm_cohort.engines.base import engine_for
from imnm_cohort.sources.frames import FrameSource
from tests.conftest import text_frame
from tests.property.engines import assert_same, assert_same_groups, dirty_extracts, outcome

#: Every kind of dirt at once, in every run: an id repeated across batches, NULL, empty
#: and blank text in one column, case and spaces in categories, numbers and dates as text.
EVERY_KIND = text_frame(
    [
        {"patient_id": "D1", "statin_name": None, "sex": "Female"},
        {"patient_id": "E1", "statin_name": "", "sex": " male", "ck_peak": "1200.0"},
        {"patient_id": "E2", "statin_name": " ", "anti_hmgcr": "Positive ", "ck_uln": " 200"},
        {"patient_id": "E3", "other_msa": "", "dm_rash": "TRUE", "ck_peak": "1,200"},
        {"patient_id": "D1", "onset_date": "2015-6-01", "biopsy_necrosis": "PRESENT"},
        {"patient_id": "E4", "onset_date": "2015-06-01T00:00:00", "cancer_icd10": " c50.9"},
        {"patient_id": "E5", "birth_date": "1955-02-29", "anti_srp": "not_tested"},
    ]
)


# The DuckDB engine's cost is per call, not per row (about 2 s of CPU): few, larger
# examples, so that the test stays near 10 s.
@settings(
    max_examples=2,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking costs minutes here
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@pytest.mark.slow
@example(frame=EVERY_KIND, batch_rows=2)
@given(frame=dirty_extracts(max_rows=48), batch_rows=st.integers(3, 12))
def test_engines_agree_on_dirty_extracts(frame: pd.DataFrame, batch_rows: int) -> None:
    source = FrameSource(frame, "dirty.csv")
    engines = {
        "in_memory": engine_for(name="in_memory"),
        f"batched({batch_rows})": engine_for(batch_rows),
        "duckdb": engine_for(name="duckdb"),
    }
    results = {name: (engine, outcome(engine, source)) for name, engine in engines.items()}
    expected = results["in_memory"][1]
    for name, (_, got) in results.items():
        assert_same(expected, got, name)
    assert_same_groups(results)
