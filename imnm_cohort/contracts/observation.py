"""Rules that tie an event table's rows to the patient table (contract section 6).

Every event table names its patient by ``patient_id``; a row whose patient the patient table
does not have is ``unknown_patient``, one whose patient was quarantined is
``patient_quarantined`` (:func:`~imnm_cohort.contracts.table.key_in`), and a row dated
before the patient's birth or after the end of observation (``death_date`` where given, else
``last_followup_date``) is ``outside_observation``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.contracts.table import CrossTableRule, key_in

#: The patient table's contract name: the table every event table is checked against.
PATIENT_TABLE = "patients"
OUTSIDE_OBSERVATION = "outside_observation"


def end_of_observation(patients: pd.DataFrame) -> pd.Series:
    """``death_date`` where given, else ``last_followup_date`` (contract section 1)."""
    return patients["death_date"].fillna(patients["last_followup_date"])


def patient_positions(ids: pd.Series, patients: pd.DataFrame) -> np.ndarray:
    """Each id's position among the valid patients' ``patient_id`` (-1 when not there or
    empty): one hash look-up in Arrow, without turning the ids into Python strings."""
    known = pa.array(patients["patient_id"])
    if isinstance(known, pa.ChunkedArray):
        known = known.combine_chunks()
    values = pa.array(ids, from_pandas=True)
    if values.type != known.type:  # string and large_string; no rows at all (null)
        values = values.cast(known.type)
    found = pc.index_in(values, value_set=pc.drop_null(known))
    at = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    return np.asarray(at, dtype=np.int64)


def within_observation(column: str, *, after_end: bool = True) -> CrossTableRule:
    """The rule that a row's ``column`` (a date) lies within its patient's observation.

    Parameters
    ----------
    column : str
        The row's date column.
    after_end : bool
        Whether a date after the end of observation breaks the rule (an antibody test of a
        stored serum may be run after the end of observation: contract section 6 asks only
        that it is not before birth).

    Returns
    -------
    CrossTableRule
        ``outside_observation``, reported against ``column``; rows of patients that are not
        valid break it never (they are ``unknown_patient`` or ``patient_quarantined``).
    """

    def outside(rows: pd.DataFrame, valid: pd.DataFrame, quarantine: pd.DataFrame) -> Any:
        at = patient_positions(rows["patient_id"], valid)
        found = at >= 0
        dates = rows[column].to_numpy(dtype="datetime64[ns]")
        birth = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
        birth[found] = valid["birth_date"].to_numpy(dtype="datetime64[ns]")[at[found]]
        early = found & (dates < birth)  # NaT compares False
        if not after_end:
            return early
        end = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
        end[found] = end_of_observation(valid).to_numpy(dtype="datetime64[ns]")[at[found]]
        return early | (found & (dates > end))

    return CrossTableRule(OUTSIDE_OBSERVATION, column, PATIENT_TABLE, outside)


def of_patients(date_column: str, *, after_end: bool = True) -> tuple[CrossTableRule, ...]:
    """The three cross-table rules of an event table: ``unknown_patient``,
    ``patient_quarantined`` and ``outside_observation`` (for ``date_column``)."""
    return (*key_in(PATIENT_TABLE), within_observation(date_column, after_end=after_end))
