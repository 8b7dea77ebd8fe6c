"""Shared helpers: tiny tables of patients written the way an extract holds them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import pytest

from imnm_cohort import CONTRACT_VERSION
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS

assert CONTRACT_VERSION == "1"

#: A valid anti-HMGCR IMNM patient, as text cells; tests override single cells.
BASE_PATIENT: dict[str, Any] = {
    "patient_id": "P001",
    "sex": "female",
    "birth_date": "1955-03-01",
    "onset_date": "2015-06-01",
    "diagnosis_date": "2015-09-01",
    "last_followup_date": "2020-06-01",
    "death_date": None,
    "proximal_weakness": "moderate",
    "weakness_course": "subacute",
    "dm_rash": "false",
    "ck_peak": "8000",
    "ck_uln": "200",
    "emg_myopathic": "true",
    "anti_hmgcr": "positive",
    "anti_srp": "negative",
    "other_msa": "none",
    "biopsy_necrosis": "predominant",
    "biopsy_inflammation": "minimal",
    "biopsy_perifascicular_atrophy": "false",
    "biopsy_rimmed_vacuoles": "false",
    "biopsy_p62_diffuse": "true",
    "statin_exposed": "true",
    "statin_name": "atorvastatin",
    "statin_start_date": "2012-06-01",
    "statin_stop_date": "2015-07-01",
    "improved_after_statin_stop": "false",
    "hereditary_myopathy": "false",
    "cancer_date": None,
    "cancer_icd10": None,
}


def text_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A frame of text cells: each row is BASE_PATIENT with the given cells overridden.

    Patient ids default to P001, P002, ... by position unless a row sets one.
    """
    records = []
    for i, overrides in enumerate(rows, start=1):
        record = {**BASE_PATIENT, "patient_id": f"P{i:03d}", **overrides}
        records.append(record)
    frame = pd.DataFrame(records, dtype=object)
    # Columns absent from BASE_PATIENT (optional ones added in later contract versions) stay
    # absent unless a row sets them, as in an older extract.
    contract = [c for c in CONTRACT_COLUMNS if c in frame.columns]
    columns = contract + [c for c in frame.columns if c not in CONTRACT_COLUMNS]
    return frame[columns].astype(object).where(frame[columns].notna(), None)


#: The engine the spec tests validate and classify with (``tests/spec/conftest.py`` runs
#: them on every engine); batches of 2 rows put batch boundaries inside small tables.
ENGINE: dict[str, Any] = {"name": "in_memory", "batch_rows": 2}


def _engine() -> Any:
    from imnm_cohort.engines.base import engine_for

    if ENGINE.get("connect") is not None:  # the rules on a server (tests/spec/conftest.py)
        from imnm_cohort.engines.duckdb import DuckdbEngine

        return DuckdbEngine(name=ENGINE["name"], connect=ENGINE["connect"])
    batched = ENGINE["name"] == "batched"
    return engine_for(ENGINE["batch_rows"] if batched else None, ENGINE["name"])


def validate(frame: pd.DataFrame, source: str = "<frame>") -> Any:
    """``validate_extract(frame, source)`` on the current engine."""
    from imnm_cohort.sources.frames import FrameSource

    return _engine().validate(FrameSource(frame, source))


def valid_patients(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Validated (typed) patients; fails the test if any row is quarantined."""
    result = validate(text_frame(rows))
    assert result.quarantined_rows == 0, result.reasons.to_string()
    return result.valid


@pytest.fixture
def base() -> dict[str, Any]:
    return dict(BASE_PATIENT)


SERONEGATIVE = {
    "anti_hmgcr": "negative",
    "anti_srp": "negative",
    "statin_exposed": "false",
    "statin_name": None,
    "statin_start_date": None,
    "statin_stop_date": None,
}


def outcome(overrides: dict[str, Any], criteria: str = "tma2025") -> tuple[str, str]:
    """(imnm_group, classification_reasons) of one patient = BASE_PATIENT + overrides."""
    from imnm_cohort import get_criteria

    result = validate(text_frame([overrides]))
    assert result.quarantined_rows == 0, result.reasons.to_string()
    row = _engine().classify(result, get_criteria(criteria)).iloc[0]
    return str(row["imnm_group"]), str(row["classification_reasons"])
