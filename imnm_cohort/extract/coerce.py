"""Turn the text of an extract into typed columns, whole columns at a time.

Each contract column is parsed by its kind (see :func:`~imnm_cohort.extract.schema.column_kind`)
with Arrow compute kernels, so a million rows take seconds, not minutes. A cell that cannot
be parsed becomes missing in the typed frame and is reported as a failure with one of the
codes in :data:`~imnm_cohort.extract.schema.PARSE_RULES`; the schema then checks the typed
values. Extra columns are carried through as they were read, untouched.

Text columns come out as Arrow-backed pandas strings (``string[pyarrow]``), dates as
``datetime64[ns]``, booleans as ``boolean`` and numbers as ``float64``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.extract.schema import CONTRACT_COLUMNS, column_kind

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
FAILURE_COLUMNS = ("index", "column", "rule", "value")
NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
ISO_DATE = "%Y-%m-%d"
ISO_DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}$"
TEXT = pd.StringDtype("pyarrow")


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
        One row per cell that could not be parsed: ``index`` (0-based position), ``column``,
        ``rule``, ``value`` (the text as it was in the file).
    """
    typed = raw.copy()
    found: list[pd.DataFrame] = []
    for name in CONTRACT_COLUMNS:
        text = _clean_text(raw[name])
        kind = column_kind(name)
        if kind == "date":
            typed[name], bad = _dates(text)
            _collect(found, text, bad, name, "not_a_date")
        elif kind == "bool":
            typed[name], bad = _booleans(text)
            _collect(found, text, bad, name, "not_a_boolean")
        elif kind == "float":
            typed[name], bad = _numbers(text)
            _collect(found, text, bad, name, "not_a_number")
        else:
            if kind == "category":
                text = pc.utf8_lower(text)
                if name in ("anti_hmgcr", "anti_srp"):
                    text = pc.fill_null(text, "not_tested")
            elif kind == "msa_list":
                text = pc.replace_substring_regex(pc.utf8_lower(text), r"\s*;\s*", ";")
                text = _blank_to_null(pc.utf8_trim(text, ";"))
            elif kind == "icd10":
                text = pc.utf8_upper(text)
            typed[name] = pd.Series(pd.arrays.ArrowStringArray(text), index=raw.index)
    failures = pd.concat(found, ignore_index=True) if found else _empty_failures()
    return typed, failures


def _arrow_text(column: pd.Series) -> pa.ChunkedArray:
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return pa.chunked_array(column.array.__arrow_array__())
    values = column.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.where(values.isna(), values.astype(str))  # numbers in a caller's frame
    return pa.chunked_array(
        [pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)]
    )


def _blank_to_null(text: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _clean_text(column: pd.Series) -> pa.ChunkedArray:
    """Text with surrounding spaces removed; empty and blank cells missing."""
    return _blank_to_null(pc.utf8_trim_whitespace(_arrow_text(column)))


def _dates(text: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    # The exact shape YYYY-MM-DD (zero-padded) by an Arrow regex; then pandas' ISO parser,
    # which refuses impossible days (2021-02-29) and dates datetime64[ns] cannot hold.
    shaped = pc.fill_null(pc.match_substring_regex(text, ISO_DATE_SHAPE), False)
    candidates = pc.if_else(shaped, text, pa.scalar(None, pa.string()))
    parsed = pd.to_datetime(
        pd.Series(pd.arrays.ArrowStringArray(candidates)), format=ISO_DATE, errors="coerce"
    ).to_numpy(dtype="datetime64[ns]")
    bad = _mask(pc.is_valid(text)) & np.isnat(parsed)
    return parsed, bad


def _booleans(text: pa.ChunkedArray) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    lower = pc.utf8_lower(text)
    is_true = _mask(pc.is_in(lower, value_set=pa.array(TRUE_WORDS)))
    is_false = _mask(pc.is_in(lower, value_set=pa.array(FALSE_WORDS)))
    known = is_true | is_false
    bad = _mask(pc.is_valid(text)) & ~known
    return pd.arrays.BooleanArray(is_true, ~known), bad


def _numbers(text: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    ok = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
    numbers = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    values = numbers.to_numpy(zero_copy_only=False).astype(np.float64)
    finite = np.isfinite(values)
    values[~finite] = np.nan
    bad = _mask(pc.is_valid(text)) & ~(finite & _mask(ok))
    return values, bad


def _mask(values: pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, missing as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _collect(
    found: list[pd.DataFrame], text: pa.ChunkedArray, bad: np.ndarray, column: str, rule: str
) -> None:
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    values = text.take(pa.array(where)).to_numpy(zero_copy_only=False)
    found.append(
        pd.DataFrame(
            {"index": where, "column": column, "rule": rule, "value": values.astype(object)},
            columns=list(FAILURE_COLUMNS),
        )
    )


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
