"""Helpers for the draft tests: what a drafted mapping writes live, what it comments out,
and what ``map`` does with it on a tiny export written in the test."""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path
from typing import Any

from imnm_cohort.mapping.dictionary import read_redcap_dictionary
from imnm_cohort.validation.load import MapResult, map_export

HERE = Path(__file__).parent


def live(text: str) -> dict[str, Any]:
    """The live ``[columns]`` entries of a drafted mapping (TOML as written)."""
    return dict(tomllib.loads(text).get("columns", {}))


def source(text: str) -> dict[str, Any]:
    """The live ``[source]`` settings of a drafted mapping."""
    return dict(tomllib.loads(text).get("source", {}))


def commented(text: str) -> dict[str, str]:
    """Contract column -> its commented-out line (``# column = ...``), without the ``# ``."""
    found = re.findall(r"(?m)^# ([a-z0-9_]+) = (.*)$", text)
    return {name: f"{name} = {rest}" for name, rest in found}


def comments(text: str, column: str) -> str:
    """Every comment line about ``column`` (``# column: ...``, ``# REQUIRED: column ...``)."""
    pattern = rf"(?m)^# (?:{column}:|REQUIRED: {column} ).*$"
    return "\n".join(re.findall(pattern, text))


def export_columns(dictionary: Path) -> list[str]:
    """The columns of a raw REDCap export of a dictionary's fields (a box per choice)."""
    columns = []
    for field in read_redcap_dictionary(dictionary).fields:
        if field.ftype == "checkbox":
            columns += [f"{field.name}___{code.lower()}" for code, _ in field.choices]
        else:
            columns.append(field.name)
    return columns


def reviewed(text: str, *columns: str) -> str:
    """What a data manager does after reading the reasons: uncomment ``keep_identifiers``
    and the lines of ``columns``."""
    text = re.sub(r"(?m)^# (keep_identifiers = .*)$", r"\1", text)
    for column in columns:
        text = re.sub(rf"(?m)^# ({column} = .*)$", r"\1", text)
    return text


def write_export(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """A raw REDCap-style CSV export: ``columns``, then the rows' other keys; cells not
    given are empty."""
    header: list[str] = list(columns or [])
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def map_draft(
    tmp_path: Path, text: str, rows: list[dict[str, str]], dictionary: Path | None = None
) -> MapResult:
    """Map a tiny export with a drafted mapping (through the public API); the export has a
    column for every field of ``dictionary`` when one is given."""
    (tmp_path / "draft.toml").write_text(text, encoding="utf-8")
    columns = export_columns(dictionary) if dictionary is not None else []
    export = write_export(tmp_path / "export.csv", rows, columns)
    return map_export(export, tmp_path / "draft.toml")


def by_patient(result: MapResult, column: str) -> dict[str, Any]:
    """patient_id -> the mapped value of ``column`` (None when empty or absent)."""
    frame = result.extract
    if column not in frame.columns:
        return dict.fromkeys(frame["patient_id"].astype(str))
    values = frame[column].astype(object).where(frame[column].notna(), None)
    return dict(zip(frame["patient_id"].astype(str), values, strict=True))
