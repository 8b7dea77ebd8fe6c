"""Tiny exports and mapping files written as real files, as a site would have them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from imnm_cohort.validation.load import map_export

#: The required columns of a patient, in an export that names them as the contract does.
REQUIRED = {
    "patient_id": "P1",
    "sex": "female",
    "birth_date": "1950-01-01",
    "onset_date": "2010-01-01",
    "last_followup_date": "2015-01-01",
}


def write_export(folder: Path, rows: list[dict[str, Any]], name: str = "export.csv") -> Path:
    """A CSV export: the union of the rows' keys as header, missing cells empty."""
    path = folder / name
    pd.DataFrame(rows, dtype=object).to_csv(path, index=False)
    return path


def write_mapping(folder: Path, text: str, name: str = "mapping.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def mapped(folder: Path, rows: list[dict[str, Any]], mapping: str) -> dict[str, Any]:
    """Map the rows; return the result of ``map_export`` as plain Python values."""
    result = map_export(write_export(folder, rows), write_mapping(folder, mapping))
    return {
        "extract": _records(result.extract),
        "quarantine": _records(result.quarantine),
        "reasons": result.reason_counts,
        "export_rows": result.export_rows,
        "patients": result.patients,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def column(result: dict[str, Any], name: str) -> list[Any]:
    """One column of the mapped extract."""
    return [row.get(name) for row in result["extract"]]
