"""Derived columns of the classified output (contract v1, section 2)."""

from __future__ import annotations

import pandas as pd

from imnm_cohort.vocabulary import DAYS_PER_MONTH, DAYS_PER_YEAR, days_between

__all__ = ["derived_columns", "end_of_observation"]


def end_of_observation(patients: pd.DataFrame) -> pd.Series:
    """death_date where given, else last_followup_date."""
    return patients["death_date"].fillna(patients["last_followup_date"])


def derived_columns(patients: pd.DataFrame) -> pd.DataFrame:
    """Compute the derived columns; the input is not modified.

    Returns
    -------
    pandas.DataFrame
        ``age_at_onset_years`` = (onset_date - birth_date) in days / 365.25;
        ``statin_latency_months`` = (onset_date - statin_start_date) in days / 30.4375 where
        statin_exposed is true and statin_start_date <= onset_date, empty otherwise;
        ``followup_years`` = (end of observation - onset_date) in days / 365.25. Not rounded.
    """
    onset = patients["onset_date"]
    age = days_between(onset, patients["birth_date"]) / DAYS_PER_YEAR
    latency_days = days_between(onset, patients["statin_start_date"])
    exposed = patients["statin_exposed"].fillna(False).to_numpy(dtype=bool)
    latency = latency_days.where(exposed & (latency_days >= 0).fillna(False).to_numpy(dtype=bool))
    followup = days_between(end_of_observation(patients), onset) / DAYS_PER_YEAR
    return pd.DataFrame(
        {
            "age_at_onset_years": age.astype(float),
            "statin_latency_months": (latency / DAYS_PER_MONTH).astype(float),
            "followup_years": followup.astype(float),
        },
        index=patients.index,
    )
