"""Derive the patient table's values from the event tables where it leaves them empty.

Contract section 6: a patient's ``ck_peak`` (with its ``ck_uln``), ``anti_hmgcr`` and
``anti_srp``, and ``cancer_date`` (with ``cancer_icd10``) come from the patient table when it
gives them; where it leaves them empty they are derived from the valid rows of ``visits``,
``antibody_tests`` and ``cancers``. Where both give a value and they disagree, the patient
table wins and a data-quality warning names both values. Classification then runs on the
patient table as before.

The rules (``docs/event-tables.md``):

* ``ck_peak``: the highest ``ck`` of the patient's visits; ``ck_uln``, where empty, that
  visit's ``ck_uln`` (among visits tied at the highest CK, the lowest limit). A visit CK above
  the patient table's ``ck_peak`` is a disagreement (a lower one is not: the peak may predate
  the visits recorded).
* Each antibody test's call: a ``line_blot`` graded ``weak`` or ``borderline`` is
  ``equivocal`` (unless the lab called it negative); else the lab's ``result``; else
  ``value`` against ``cutoff`` (above it is positive, at or below negative); else a line
  blot's grade (``moderate`` or ``strong`` positive, ``negative`` negative).
* A patient's ``anti_hmgcr`` / ``anti_srp`` from the calls of that antigen: when any test by
  another method than a line blot (immunoprecipitation, a numeric assay, a cell-based
  assay) gives a definite call, positive if any of those is positive, else negative; with
  line blots (or equivocal calls) alone, positive if any is positive, else ``equivocal`` if
  any is equivocal, else negative. An ``equivocal`` antibody leaves the patient
  ``unclassified`` (reason ``antibody_equivocal_needs_confirmation``).
* ``cancer_date`` / ``cancer_icd10``: the first malignant cancer (C00-C97) by date (ties:
  the lowest code); later cancers stay in the ``cancers`` table for the analyses.

Every rule is a grouped reduction over whole columns: the order of the rows changes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.contracts.observation import patient_positions
from imnm_cohort.contracts.patients import WARNING_COLUMNS
from imnm_cohort.validation.events import EventTables
from imnm_cohort.validation.validate import ValidationResult
from imnm_cohort.vocabulary import malignant_icd10

#: The antibodies of the patient table derived from ``antibody_tests``: column -> antigen.
ANTIBODY_COLUMNS = {"anti_hmgcr": "hmgcr", "anti_srp": "srp"}
EQUIVOCAL = "equivocal"
# A test's call as a small integer (0: none), and its words.
_NONE, _POSITIVE, _NEGATIVE, _EQUIVOCAL = 0, 1, 2, 3
_CALLS = np.array([None, "positive", "negative", EQUIVOCAL], dtype=object)
_TEXT = pd.StringDtype("pyarrow")


def _is(values: pd.Series, *words: str) -> np.ndarray:
    """Where ``values`` is one of ``words`` (False where empty), without Python strings."""
    hit = np.zeros(len(values), dtype=bool)
    for word in words:
        hit |= (values == word).to_numpy(dtype=bool, na_value=False)
    return hit


def _objects(values: pd.Series) -> np.ndarray:
    """The values as Python objects, ``None`` where empty."""
    return np.asarray(values.astype(object).where(values.notna(), None), dtype=object)


def _call_codes(tests: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each test's call as a code of :data:`_CALLS`, and where the test is a line blot."""
    blot = _is(tests["method"], "line_blot")
    grade, result = tests["grade"], tests["result"]
    weak = blot & _is(grade, "weak", "borderline") & ~_is(result, "negative")
    said = np.select(
        [_is(result, "positive"), _is(result, "negative"), _is(result, EQUIVOCAL)],
        [_POSITIVE, _NEGATIVE, _EQUIVOCAL],
        _NONE,
    )
    value = tests["value"].to_numpy(dtype=float, na_value=np.nan)
    cutoff = tests["cutoff"].to_numpy(dtype=float, na_value=np.nan)
    numeric = ~np.isnan(value) & ~np.isnan(cutoff)
    by_value = np.where(value > cutoff, _POSITIVE, _NEGATIVE)
    by_grade = np.select(
        [_is(grade, "moderate", "strong"), _is(grade, "negative")], [_POSITIVE, _NEGATIVE], _NONE
    )
    # Written from the last rule to the first: each earlier rule overwrites the later ones.
    calls = np.zeros(len(tests), dtype=np.int8)
    calls[blot] = by_grade[blot]
    calls[numeric] = by_value[numeric]
    calls[said > 0] = said[said > 0]
    calls[weak] = _EQUIVOCAL
    return calls, blot


def antibody_calls(tests: pd.DataFrame) -> pd.Series:
    """Each antibody test's call: ``positive``, ``negative``, ``equivocal``, or empty
    where the row gives none (no result, no value with a cut-off, no line-blot grade).

    Parameters
    ----------
    tests : pandas.DataFrame
        Rows of ``antibody_tests`` (``method``, ``grade``, ``result``, ``value``,
        ``cutoff``).

    Returns
    -------
    pandas.Series
        Text on the same index.
    """
    calls, _ = _call_codes(tests)
    return pd.Series(_CALLS[calls], index=tests.index, dtype=object).astype(_TEXT)


def _any(at: np.ndarray, where: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` patients, whether any row of it holds ``where``."""
    return np.bincount(at[where], minlength=n) > 0


def _antibody_status(tests: pd.DataFrame, at: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Each patient's status per derived antigen, as codes of :data:`_CALLS` (0: none)."""
    calls, blot = _call_codes(tests)
    definite = (calls == _POSITIVE) | (calls == _NEGATIVE)
    found = {}
    for column, antigen in ANTIBODY_COLUMNS.items():
        of = _is(tests["antigen"], antigen) & (calls != _NONE)
        confirming = of & ~blot & definite
        status = np.select(
            [_any(at, of & (calls == c), n) for c in (_POSITIVE, _EQUIVOCAL, _NEGATIVE)],
            [_POSITIVE, _EQUIVOCAL, _NEGATIVE],
            _NONE,
        )
        confirmed_positive = _any(at, confirming & (calls == _POSITIVE), n)
        confirmed = np.where(confirmed_positive, _POSITIVE, _NEGATIVE)
        found[column] = np.where(_any(at, confirming, n), confirmed, status)
    return found


def _by_patient(at: np.ndarray, values: np.ndarray, n: int, how: str, empty: Any) -> np.ndarray:
    """``how`` (``min``, ``max``) of each patient's ``values`` (empty values skipped); ``empty``
    for a patient without one. A grouped reduction: the order of the rows changes nothing."""
    out = np.full(n, empty, dtype=np.asarray(values).dtype)
    if len(at):
        found = pd.Series(values).groupby(at, sort=False).agg(how).dropna()
        out[found.index.to_numpy(dtype=np.int64)] = found.to_numpy()
    return out


def _peak_ck(visits: pd.DataFrame, at: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's highest visit CK and that visit's limit of normal (visits tied at the
    highest CK: the lowest limit); NaN where none."""
    ck = visits["ck"].to_numpy(dtype=float, na_value=np.nan)
    uln = visits["ck_uln"].to_numpy(dtype=float, na_value=np.nan)
    peak = _by_patient(at, ck, n, "max", np.nan)
    at_peak = ck == peak[at]  # NaN is never equal
    return peak, _by_patient(at[at_peak], uln[at_peak], n, "min", np.nan)


def _first_cancer(cancers: pd.DataFrame, at: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's first malignant cancer (C00-C97) by date (ties: the lowest code):
    its date (NaT where none) and code."""
    malignant = malignant_icd10(cancers["icd10"]).to_numpy(dtype=bool)
    days = cancers["cancer_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    never = np.iinfo(np.int64).max
    first = _by_patient(at[malignant], days[malignant], n, "min", never)
    on_first = malignant & (days == first[at])
    ranks, names = pd.factorize(cancers["icd10"].to_numpy(dtype=object), sort=True)
    rank = _by_patient(at[on_first], ranks[on_first], n, "min", -1)
    date = np.where(first == never, np.iinfo(np.int64).min, first).view("datetime64[ns]")
    labels = np.asarray([*np.asarray(names, dtype=object), None], dtype=object)  # -1: none
    return date, labels[rank]


def derive_patients(result: ValidationResult, tables: EventTables) -> ValidationResult:
    """The patient table with the values it leaves empty derived from the event tables.

    Parameters
    ----------
    result : ValidationResult
        The patient table's outcome. Not modified.
    tables : EventTables
        The run's validated event tables (their valid rows are read: every row names a
        valid patient).

    Returns
    -------
    ValidationResult
        ``result`` with ``valid`` filled where it was empty (``ck_peak``/``ck_uln`` from
        visits, ``anti_hmgcr``/``anti_srp`` from antibody tests, ``cancer_date``/
        ``cancer_icd10`` from cancers) and ``warnings`` extended by each disagreement
        (codes ``*_differs_from_*``, ``ck_peak_below_visits``). ``result`` itself when no
        table that derives a value was given.
    """
    valid = result.valid
    n = len(valid)
    found: list[pd.DataFrame] = []
    changed: dict[str, Any] = {}

    def positions(name: str) -> tuple[pd.DataFrame, np.ndarray]:
        rows = tables.frame(name)
        return rows, patient_positions(rows["patient_id"], valid)

    if "visits" in tables:
        ck, uln = _peak_ck(*positions("visits"), n)
        own = valid["ck_peak"].to_numpy(dtype=float, na_value=np.nan)
        fill = np.isnan(own) & ~np.isnan(ck)
        if fill.any():
            changed["ck_peak"] = np.where(fill, ck, own)
            own_uln = valid["ck_uln"].to_numpy(dtype=float, na_value=np.nan)
            changed["ck_uln"] = np.where(fill & np.isnan(own_uln), uln, own_uln)
        found.append(_disagreements(valid, "ck_peak", "ck_peak_below_visits", own, ck, ck > own))
    if "antibody_tests" in tables:
        rows, at = positions("antibody_tests")
        for column, status in _antibody_status(rows, at, n).items():
            derived = _CALLS[status]
            has = status != _NONE
            fill = has & _is(valid[column], "not_tested")
            if fill.any():
                own_text = _objects(valid[column])
                changed[column] = pd.array(np.where(fill, derived, own_text), dtype=_TEXT)
            own_text = _objects(valid[column])
            differs = has & _is(valid[column], "positive", "negative") & (own_text != derived)
            warning = f"{column}_differs_from_tests"
            found.append(_disagreements(valid, column, warning, own_text, derived, differs))
    if "cancers" in tables:
        date, code = _first_cancer(*positions("cancers"), n)
        own_date = valid["cancer_date"].to_numpy(dtype="datetime64[ns]")
        own_code = _objects(valid["cancer_icd10"])
        has = ~np.isnat(date)
        fill = np.isnat(own_date) & has
        if fill.any():
            changed["cancer_date"] = np.where(fill, date, own_date)
            empty_code = fill & pd.isna(own_code)
            changed["cancer_icd10"] = pd.array(np.where(empty_code, code, own_code), dtype=_TEXT)
        differs = has & ~np.isnat(own_date) & (own_date != date)
        found.append(
            _disagreements(
                valid, "cancer_date", "cancer_date_differs_from_cancers", own_date, date, differs
            )
        )
        same_day = has & (own_date == date) & ~pd.isna(own_code)
        differs = same_day & (own_code != code)
        found.append(
            _disagreements(
                valid, "cancer_icd10", "cancer_icd10_differs_from_cancers", own_code, code, differs
            )
        )
    if not found:
        return result
    warnings = pd.concat(
        [result.warnings, *(f for f in found if not f.empty)], ignore_index=True
    ).sort_values(["row_number", "code"], kind="stable", ignore_index=True)
    if changed:
        valid = valid.assign(**changed)
    return dataclasses.replace(result, valid=valid, warnings=warnings)


def _shown(values: object, hit: np.ndarray) -> np.ndarray:
    """The values at ``hit`` as text: dates as ``YYYY-MM-DD``, numbers in their shortest
    form (``12000``, ``2500.5``)."""
    array = np.asarray(values)[hit]
    if np.issubdtype(array.dtype, np.datetime64):
        text = np.datetime_as_string(array, unit="D")
    elif np.issubdtype(array.dtype, np.floating):  # Arrow's shortest form: 12000, 2500.5
        text = pc.cast(pa.array(array), pa.string()).to_numpy(zero_copy_only=False)
    else:
        text = array.astype(str)
    return np.asarray(text, dtype=object)


def _disagreements(
    valid: pd.DataFrame,
    column: str,
    code: str,
    own: object,
    derived: object,
    hit: object,
) -> pd.DataFrame:
    """Warnings for the patients where ``hit`` holds, naming both values."""
    mask = np.asarray(hit, dtype=bool)
    table = _SOURCE_TABLE[code]
    value: pd.Series = (
        "patient table: "
        + pd.Series(_shown(own, mask), dtype=object)
        + f"; {table}: "
        + pd.Series(_shown(derived, mask), dtype=object)
    )
    return pd.DataFrame(
        {
            "row_number": valid.index.to_numpy()[mask],
            "patient_id": valid["patient_id"].to_numpy(dtype=object)[mask],
            "column": column,
            "code": code,
            "value": value.to_numpy(dtype=object),
        },
        columns=list(WARNING_COLUMNS),
    )


_SOURCE_TABLE = {
    "ck_peak_below_visits": "visits",
    "anti_hmgcr_differs_from_tests": "antibody_tests",
    "anti_srp_differs_from_tests": "antibody_tests",
    "cancer_date_differs_from_cancers": "cancers",
    "cancer_icd10_differs_from_cancers": "cancers",
}
