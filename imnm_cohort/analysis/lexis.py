"""Lexis splitting: each patient's follow-up cut into pieces that lie in one band of every
time scale (age, calendar period, time since time zero), as whole arrays.

Follow-up runs on one axis, days since 1970-01-01. A time scale is an origin per patient
(birth for age, time zero for time since onset, 0 for calendar time) and break points on
that scale, in days. A break at ``b`` on a scale with origin ``o`` cuts the axis at
``o + b``; every cut that falls strictly inside a patient's follow-up makes a new piece.
All cuts of all scales are laid out as one (patients x breaks) array, sorted per row, and
the pieces are read off between neighbours: no loop over patients.

References
----------
Clayton D, Hills M. Statistical Models in Epidemiology. Oxford University Press, 1993,
chapter 6 (the Lexis diagram and splitting follow-up).
Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The Design and
Analysis of Cohort Studies. IARC Scientific Publications 82, 1987, chapter 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imnm_cohort.vocabulary import DAYS_PER_YEAR


@dataclass(frozen=True)
class TimeScale:
    """One time scale of a Lexis split.

    Attributes
    ----------
    origin : numpy.ndarray
        Per patient, where the scale is 0, in days since 1970-01-01 (float).
    breaks : numpy.ndarray
        Sorted break points on the scale, in days. A piece gets band ``i`` when it lies in
        ``[breaks[i], breaks[i + 1])``; -1 before the first break, ``len(breaks) - 1`` at or
        after the last.
    """

    origin: np.ndarray = field(repr=False)
    breaks: np.ndarray

    def __post_init__(self) -> None:
        if np.any(np.diff(self.breaks) <= 0):
            raise ValueError("breaks must be strictly increasing")


def days(dates: pd.Series) -> np.ndarray:
    """Dates as float days since 1970-01-01 (NaN where missing)."""
    values = pd.to_datetime(dates).to_numpy(dtype="datetime64[ns]")
    out = (values - np.datetime64("1970-01-01", "ns")) / np.timedelta64(1, "D")
    return np.where(np.isnat(values), np.nan, out)


def year_start_days(years: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of 1 January of each (whole) calendar year."""
    since_1970 = np.asarray(years, dtype=np.int64) - 1970
    return since_1970.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64).astype(float)


def lexis_split(
    entry: np.ndarray, exit: np.ndarray, event: np.ndarray, scales: Mapping[str, TimeScale]
) -> pd.DataFrame:
    """Split follow-up ``[entry, exit]`` on every scale's breaks.

    Parameters
    ----------
    entry, exit : numpy.ndarray
        Per patient, start and end of follow-up in days since 1970-01-01 (``exit >=
        entry``). A patient with ``exit == entry`` keeps one piece of length 0, so that an
        event on the day of entry is not lost.
    event : numpy.ndarray
        Per patient, 1 when follow-up ends with the event, else 0. The event goes to the
        patient's last piece.
    scales : mapping of str to TimeScale
        The scales to split on; each gives a band column of the same name.

    Returns
    -------
    pandas.DataFrame
        One row per piece: ``patient`` (position of the patient in the input arrays),
        ``start``, ``stop`` (days), ``person_years`` (``(stop - start) / 365.25``),
        ``event``, and one integer band column per scale.
    """
    entry = np.asarray(entry, dtype=float)
    exit = np.asarray(exit, dtype=float)
    if entry.shape != exit.shape or np.any(exit < entry) or np.isnan(entry).any():
        raise ValueError("entry and exit must be numbers of equal shape with exit >= entry")
    cut_columns = [s.origin[:, None] + s.breaks[None, :] for s in scales.values()]
    cuts = np.hstack([np.empty((len(entry), 0)), *cut_columns])
    inside = (cuts > entry[:, None]) & (cuts < exit[:, None])
    points = np.hstack([entry[:, None], np.where(inside, cuts, np.inf), exit[:, None]])
    points.sort(axis=1)
    # A row holds entry, its inner cuts, exit, then inf: one piece per finite neighbour pair.
    start, stop = points[:, :-1], points[:, 1:]
    keep = np.isfinite(stop)
    keep[:, 1:] &= stop[:, 1:] > start[:, 1:]  # drop repeated cuts (breaks of two scales)
    patient = np.broadcast_to(np.arange(len(entry))[:, None], keep.shape)[keep]
    start, stop = start[keep], stop[keep]
    last = np.r_[patient[1:] != patient[:-1], True]
    pieces = pd.DataFrame(
        {
            "patient": patient,
            "start": start,
            "stop": stop,
            "person_years": (stop - start) / DAYS_PER_YEAR,
            "event": np.where(last, np.asarray(event)[patient], 0).astype(np.int64),
        }
    )
    middle = (start + stop) / 2
    for name, scale in scales.items():
        value = middle - scale.origin[patient]
        pieces[name] = np.searchsorted(scale.breaks, value, side="right") - 1
    return pieces
