"""Turn the text of an extract into typed columns, whole columns at a time.

Each contract column is parsed by its kind (see :func:`~imnm_cohort.extract.schema.column_kind`).
A cell that cannot be parsed becomes missing in the typed frame and is reported as a failure
with one of the codes in :data:`~imnm_cohort.extract.schema.PARSE_RULES`; the schema then
checks the typed values. Extra columns are carried through as text, untouched.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from imnm_cohort.extract.schema import CONTRACT_COLUMNS, column_kind

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
_BOOL_MAP = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
FAILURE_COLUMNS = ("index", "column", "rule", "value")


def coerce_extract(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse the contract columns of a text frame.

    Parameters
    ----------
    raw : pandas.DataFrame
        The frame from :func:`~imnm_cohort.extract.read.read_extract`, or any frame of text
        with every contract column. Not modified. Surrounding spaces are ignored and blank
        cells are missing.

    Returns
    -------
    typed : pandas.DataFrame
        Same index and columns; contract columns typed (dates ``datetime64[ns]``, booleans
        ``boolean``, numbers ``float64``, categories lower-case text; empty antibody results
        read as ``not_tested``).
    failures : pandas.DataFrame
        One row per cell that could not be parsed: ``index``, ``column``, ``rule``, ``value``
        (the text as it was in the file).
    """
    typed = raw.copy()
    found: list[pd.DataFrame] = []
    for name in CONTRACT_COLUMNS:
        text = _clean_text(raw[name])
        kind = column_kind(name)
        values: pd.Series
        if kind == "date":
            values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            bad = text.notna() & values.isna()
            _collect(found, text, bad, name, "not_a_date")
        elif kind == "bool":
            values = text.str.lower().map(_BOOL_MAP).astype("boolean")
            bad = text.notna() & values.isna()
            _collect(found, text, bad, name, "not_a_boolean")
        elif kind == "float":
            numbers = pd.to_numeric(text, errors="coerce").astype("float64")
            finite = np.isfinite(numbers.to_numpy())
            values = numbers.where(finite)
            bad = text.notna() & ~pd.Series(finite, index=text.index)
            _collect(found, text, bad, name, "not_a_number")
        elif kind == "category":
            values = text.str.lower()
            if name in ("anti_hmgcr", "anti_srp"):
                values = values.fillna("not_tested")
        elif kind == "msa_list":
            values = text.str.lower().str.replace(r"\s*;\s*", ";", regex=True).str.strip(";")
            values = values.where(values != "", None)
        elif kind == "icd10":
            values = text.str.upper()
        else:
            values = text
        if values.dtype == object:
            values = values.where(values.notna(), None)
        typed[name] = values
    failures = pd.concat(found, ignore_index=True) if found else _empty_failures()
    return typed, failures


def _clean_text(column: pd.Series) -> pd.Series:
    """Text with surrounding spaces removed; empty and blank cells missing."""
    text = column.astype(object)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text = text.where(text.isna(), text.astype(str))  # numbers from a caller's frame
    text = text.str.strip()
    return text.where(text != "", None)


def _collect(
    found: list[pd.DataFrame], text: pd.Series, bad: pd.Series, column: str, rule: str
) -> None:
    if not bad.any():
        return
    hits = text[bad]
    found.append(
        pd.DataFrame(
            {
                "index": hits.index.to_numpy(),
                "column": column,
                "rule": rule,
                "value": hits.to_numpy(dtype=object),
            },
            columns=list(FAILURE_COLUMNS),
        )
    )


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
