"""Derived columns of the classified output (contract v1, section 2)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from imnm_cohort.classify.columns import Columns, FrameColumns
from imnm_cohort.vocabulary import CLASSIFICATION_COLUMNS, DAYS_PER_MONTH, DAYS_PER_YEAR

__all__ = ["DERIVED_COLUMNS", "derived_columns", "derived_over", "end_of_observation"]

#: The derived columns, in their order in the output.
DERIVED_COLUMNS = CLASSIFICATION_COLUMNS[3:]


def end_of_observation(patients: pd.DataFrame) -> pd.Series:
    """death_date where given, else last_followup_date."""
    return FrameColumns(patients).first_known("death_date", "last_followup_date")


def derived_over(columns: Columns) -> dict[str, Any]:
    """The derived columns over :class:`~imnm_cohort.classify.columns.Columns` (in memory or
    in a database), by name in :data:`DERIVED_COLUMNS` order.

    ``age_at_onset_years`` = (onset_date - birth_date) in days / 365.25;
    ``statin_latency_months`` = (onset_date - statin_start_date) in days / 30.4375 where
    statin_exposed is true and statin_start_date <= onset_date, empty otherwise;
    ``followup_years`` = (end of observation - onset_date) in days / 365.25. Not rounded.
    """
    onset = columns["onset_date"]
    latency_days = columns.days(onset, columns["statin_start_date"])
    exposed = columns.holds(columns["statin_exposed"])
    end = columns.first_known("death_date", "last_followup_date")
    return {
        "age_at_onset_years": columns.days(onset, columns["birth_date"]) / DAYS_PER_YEAR,
        "statin_latency_months": columns.where(
            exposed & columns.holds(latency_days >= 0), latency_days / DAYS_PER_MONTH
        ),
        "followup_years": columns.days(end, onset) / DAYS_PER_YEAR,
    }


def derived_columns(patients: pd.DataFrame) -> pd.DataFrame:
    """Compute the derived columns; the input is not modified.

    Returns
    -------
    pandas.DataFrame
        ``age_at_onset_years``, ``statin_latency_months`` and ``followup_years``
        (:func:`derived_over`), as floats on the index of ``patients``.
    """
    derived = derived_over(FrameColumns(patients))
    return pd.DataFrame(
        {name: derived[name].astype(float) for name in DERIVED_COLUMNS}, index=patients.index
    )
