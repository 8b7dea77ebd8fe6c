"""The duckdb engine gives the in-memory engine's result, frame for frame: rows sharing an
id or missing one keep their own reasons, warnings carry their row numbers, columns outside
the contract are carried, and the classified frame has the same columns, dtypes and index."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort import get_criteria
from imnm_cohort.engines.base import engine_for
from imnm_cohort.errors import ConfigError
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.sources.frames import FrameSource
from tests.conftest import text_frame

ROWS = [
    {"patient_id": "D", "sex": "x"},
    {"patient_id": "D"},
    {"patient_id": None, "ck_peak": "-5"},
    {"patient_id": None, "birth_date": "bad"},
    {"patient_id": "W1", "ck_peak": "250000"},
    {"patient_id": "N1", "anti_hmgcr": "negative", "statin_exposed": "false",
     "statin_name": None, "statin_start_date": None, "statin_stop_date": None},
    {"patient_id": "OK", "site_note": "kept"},
]  # fmt: skip


def test_duckdb_engine_equals_in_memory() -> None:
    frame = text_frame(ROWS)
    memory, duck = engine_for(name="in_memory"), engine_for(name="duckdb")
    expected = memory.validate(FrameSource(frame, "x.csv"))
    got = duck.validate(FrameSource(frame, "x.csv"))
    assert got.quarantined_rows == 4 and len(got.warnings) >= 1
    for name in ("valid", "quarantine", "reasons", "warnings"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)
    assert (got.input_rows, got.absent_columns, got.empty_rows) == (
        expected.input_rows,
        expected.absent_columns,
        expected.empty_rows,
    )
    for criteria in ("tma2025", "enmc2017"):
        pd.testing.assert_frame_equal(
            duck.classify(got, get_criteria(criteria)),
            memory.classify(expected, get_criteria(criteria)),
        )


def test_duckdb_engine_refuses_an_export_through_a_mapping() -> None:
    source = MappedSource(FrameSource(text_frame([{}]), "export.csv"), Path("mapping.toml"))
    with pytest.raises(ConfigError, match="map the export first"):
        engine_for(name="duckdb").validate(source)
