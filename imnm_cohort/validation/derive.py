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

import numpy as np
import pandas as pd

from imnm_cohort.contracts.patients import WARNING_COLUMNS
from imnm_cohort.validation.events import EventTables
from imnm_cohort.validation.validate import ValidationResult
from imnm_cohort.vocabulary import malignant_icd10

#: The antibodies of the patient table derived from ``antibody_tests``: column -> antigen.
ANTIBODY_COLUMNS = {"anti_hmgcr": "hmgcr", "anti_srp": "srp"}
EQUIVOCAL = "equivocal"
_WEAK_GRADES = ("weak", "borderline")
_GRADE_CALLS = {"moderate": "positive", "strong": "positive", "negative": "negative"}
_TEXT = pd.StringDtype("pyarrow")


def antibody_calls(tests: pd.DataFrame) -> pd.Series:
    """Each antibody test's call: ``positive``, ``negative``, ``equivocal``, or empty
    where the row gives none (no result, no value with a cut-off, no line-blot grade).

    Parameters
    ----------
    tests : pandas.DataFrame
        Valid rows of ``antibody_tests``.

    Returns
    -------
    pandas.Series
        Text on the same index.
    """
    method = tests["method"].astype(object)
    grade = tests["grade"].astype(object)
    result = tests["result"].astype(object)
    blot = (method == "line_blot").to_numpy(dtype=bool)
    weak = blot & grade.isin(_WEAK_GRADES).to_numpy(dtype=bool)
    weak &= ~(result == "negative").to_numpy(dtype=bool)
    value = tests["value"].to_numpy(dtype=float)
    cutoff = tests["cutoff"].to_numpy(dtype=float)
    numeric = ~np.isnan(value) & ~np.isnan(cutoff)
    by_value = np.where(value > cutoff, "positive", "negative")
    by_grade = grade.map(_GRADE_CALLS).to_numpy(dtype=object)
    given = result.notna().to_numpy(dtype=bool)
    # Written from the last rule to the first: each earlier rule overwrites the later ones.
    calls = np.full(len(tests), None, dtype=object)
    calls[blot] = by_grade[blot]
    calls[numeric] = by_value[numeric]
    calls[given] = result.to_numpy(dtype=object)[given]
    calls[weak] = EQUIVOCAL
    return pd.Series(calls, index=tests.index, dtype=object).astype(_TEXT)


def antibody_status(tests: pd.DataFrame) -> pd.DataFrame:
    """Each patient's status per antigen from the calls of :func:`antibody_calls`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``, one column per antigen tested (``hmgcr``, ``srp``, ...):
        ``positive``, ``negative`` or ``equivocal`` (empty where no test gave a call).
    """
    call = antibody_calls(tests).astype(object)
    given = call.notna()
    confirming = (tests["method"].astype(object) != "line_blot") & call.isin(
        ["positive", "negative"]
    )
    flags = pd.DataFrame(
        {
            "patient_id": tests["patient_id"].astype(object),
            "antigen": tests["antigen"].astype(object),
            "confirmed": confirming,
            "confirmed_positive": confirming & (call == "positive"),
            "positive": call == "positive",
            "equivocal": call == EQUIVOCAL,
            "negative": call == "negative",
        }
    )[given.to_numpy(dtype=bool)]
    if flags.empty:
        return pd.DataFrame(index=pd.Index([], name="patient_id", dtype=object))
    seen = flags.groupby(["patient_id", "antigen"], sort=True).any()
    status = np.where(
        seen["confirmed"],
        np.where(seen["confirmed_positive"], "positive", "negative"),
        np.select(
            [seen["positive"], seen["equivocal"], seen["negative"]],
            ["positive", EQUIVOCAL, "negative"],
            default="",
        ),
    )
    return pd.Series(status, index=seen.index).unstack("antigen")


def peak_ck(visits: pd.DataFrame) -> pd.DataFrame:
    """Each patient's highest visit CK and the limit of normal of that visit.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``: ``ck_peak``, ``ck_uln`` (the lowest limit among the visits
        tied at the highest CK; empty where none gave one).
    """
    rows = pd.DataFrame(
        {
            "patient_id": visits["patient_id"].astype(object),
            "ck_peak": visits["ck"].to_numpy(dtype=float),
            "ck_uln": visits["ck_uln"].to_numpy(dtype=float),
        }
    ).dropna(subset=["ck_peak"])
    rows = rows.sort_values(
        ["patient_id", "ck_peak", "ck_uln"],
        ascending=[True, False, True],
        na_position="last",
        kind="stable",
    )
    return rows.drop_duplicates("patient_id").set_index("patient_id")


def first_cancer(cancers: pd.DataFrame) -> pd.DataFrame:
    """Each patient's first malignant cancer (C00-C97) by date; ties: the lowest code.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``: ``cancer_date``, ``cancer_icd10``.
    """
    malignant = malignant_icd10(cancers["icd10"]).to_numpy(dtype=bool)
    rows = pd.DataFrame(
        {
            "patient_id": cancers["patient_id"].astype(object),
            "cancer_date": cancers["cancer_date"].to_numpy(dtype="datetime64[ns]"),
            "cancer_icd10": cancers["icd10"].astype(object),
        }
    )[malignant]
    rows = rows.sort_values(["patient_id", "cancer_date", "cancer_icd10"], kind="stable")
    return rows.drop_duplicates("patient_id").set_index("patient_id")


def derive_patients(result: ValidationResult, tables: EventTables) -> ValidationResult:
    """The patient table with the values it leaves empty derived from the event tables.

    Parameters
    ----------
    result : ValidationResult
        The patient table's outcome. Not modified.
    tables : EventTables
        The run's validated event tables (their valid rows are read).

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
    found: list[pd.DataFrame] = []
    ids = valid["patient_id"].astype(object)
    changed: dict[str, pd.Series] = {}
    if "visits" in tables:
        peak = peak_ck(tables.frame("visits"))
        ck = ids.map(peak["ck_peak"]).to_numpy(dtype=float)
        uln = ids.map(peak["ck_uln"]).to_numpy(dtype=float)
        own = valid["ck_peak"].to_numpy(dtype=float)
        fill = np.isnan(own) & ~np.isnan(ck)
        if fill.any():
            changed["ck_peak"] = valid["ck_peak"].mask(fill, ck)
            own_uln = valid["ck_uln"]
            changed["ck_uln"] = own_uln.mask(fill & own_uln.isna().to_numpy(dtype=bool), uln)
        found.append(_disagreements(valid, "ck_peak", "ck_peak_below_visits", own, ck, ck > own))
    if "antibody_tests" in tables:
        status = antibody_status(tables.frame("antibody_tests"))
        for column, antigen in ANTIBODY_COLUMNS.items():
            if antigen not in status.columns:
                continue
            own_text = valid[column].astype(object)
            derived = ids.map(status[antigen]).astype(object)
            derived = derived.where(derived.notna() & (derived != ""), None)
            has = derived.notna().to_numpy(dtype=bool)
            fill = has & ((own_text == "not_tested") | own_text.isna()).to_numpy(dtype=bool)
            if fill.any():
                changed[column] = valid[column].astype(object).mask(fill, derived).astype(_TEXT)
            differs = has & own_text.isin(["positive", "negative"]).to_numpy(dtype=bool)
            differs &= (own_text != derived).to_numpy(dtype=bool)
            warning = f"{column}_differs_from_tests"
            found.append(_disagreements(valid, column, warning, own_text, derived, differs))
    if "cancers" in tables:
        first = first_cancer(tables.frame("cancers"))
        date = ids.map(first["cancer_date"]).to_numpy(dtype="datetime64[ns]")
        code = ids.map(first["cancer_icd10"]).astype(object)
        own_date = valid["cancer_date"].to_numpy(dtype="datetime64[ns]")
        has = ~np.isnat(date)
        fill = np.isnat(own_date) & has
        if fill.any():
            changed["cancer_date"] = valid["cancer_date"].mask(fill, date)
            own_code = valid["cancer_icd10"].astype(object)
            empty_code = fill & own_code.isna().to_numpy(dtype=bool)
            changed["cancer_icd10"] = own_code.mask(empty_code, code).astype(_TEXT)
        differs = has & ~np.isnat(own_date) & (own_date != date)
        found.append(
            _disagreements(
                valid, "cancer_date", "cancer_date_differs_from_cancers", own_date, date, differs
            )
        )
        own_code = valid["cancer_icd10"].astype(object)
        same_day = has & (own_date == date) & own_code.notna().to_numpy(dtype=bool)
        differs = same_day & (own_code != code).to_numpy(dtype=bool)
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
    """The values at ``hit`` as text: dates as ``YYYY-MM-DD``, numbers as ``%g``."""
    array = np.asarray(values)[hit] if not isinstance(values, pd.Series) else values[hit]
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.datetime64):
        return np.datetime_as_string(array, unit="D").astype(object)
    if np.issubdtype(array.dtype, np.floating):
        return np.array([f"{v:g}" for v in array], dtype=object)
    return array.astype(str).astype(object)


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
