"""Time on the course of the disease: each patient's time zero and follow-up, event rows placed
on it, and cumulative incidence by group at fixed times.

Shared by the analyses of the event tables (contract section 6): treatments, relapse and the
response over the course.

Time zero
---------
The diagnosis date; where it is empty, the onset date (``time_zero_from`` says which, per
patient, and every result counts the patients whose time zero is their onset). Onset is
required by the patient table, so every patient has a time zero. Follow-up runs from time
zero to the end of observation (the death date where given, else the last follow-up date);
a patient without either, or whose end falls before time zero, has no follow-up and is
counted as such.

Event rows (visits, treatment courses) are placed on this time scale in days since time
zero; rows of patients outside the analysed groups are left out. Nothing here depends on the
order of the rows: patients are sorted by ``patient_id`` and events by patient and date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import (
    COMPETING,
    EVENT,
    GrayTest,
    cumulative_incidence,
    gray_test,
)
from imnm_cohort.classify.derived import end_of_observation
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Path, Share, combine
from imnm_cohort.errors import ExtractError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, GROUP_COLUMN, days_between

#: Times (months since time zero) at which cumulative incidences are reported by default.
LANDMARK_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0)


#: The patient table's columns the course analyses read.
PATIENT_COLUMNS = (
    "patient_id",
    GROUP_COLUMN,
    "onset_date",
    "diagnosis_date",
    "last_followup_date",
    "death_date",
)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    """Refuse, in one line (exit code 1), a table without a column the analysis reads.

    Raises
    ------
    ExtractError
        Naming the table and the first missing column.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ExtractError(f"{table} table: no column '{missing[0]}' (contract section 6)")


def course_patients(patients: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Each patient of ``groups`` on the course's time scale.

    Parameters
    ----------
    patients : DataFrame
        Classified patients with ``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date`` and ``death_date``. Not modified.
    groups : sequence of str
        The groups analysed; other patients are left out.

    Returns
    -------
    DataFrame
        Indexed by ``patient_id`` (sorted), with ``group`` (str), ``time_zero`` (datetime),
        ``time_zero_from`` (``"diagnosis"`` or ``"onset"``), ``died`` (bool: a death date
        is given), ``followup_days`` (float, NaN without follow-up) and ``followed``
        (bool: follow-up of 0 days or more).

    Raises
    ------
    ExtractError
        A column missing, or a patient_id given twice.
    """
    require_columns(patients, PATIENT_COLUMNS, "patients")
    group = patients[GROUP_COLUMN].astype("string").fillna("")
    keep = group.isin(list(groups)).to_numpy(dtype=bool)
    rows = patients.loc[keep]
    diagnosis = as_dates(rows["diagnosis_date"])
    onset = as_dates(rows["onset_date"])
    time_zero = diagnosis.where(diagnosis.notna(), onset)
    end = as_dates(end_of_observation(rows))
    days = days_between(end, time_zero).to_numpy(dtype=float)
    followed = np.isfinite(days) & (days >= 0)
    out = pd.DataFrame(
        {
            "group": group[keep].to_numpy(dtype=object),
            "time_zero": time_zero.to_numpy(),
            "time_zero_from": np.where(diagnosis.notna(), "diagnosis", "onset"),
            "died": rows["death_date"].notna().to_numpy(dtype=bool),
            "followup_days": np.where(followed, days, np.nan),
            "followed": followed,
        },
        index=pd.Index(rows["patient_id"].astype(str).to_numpy(), name="patient_id"),
    )
    if not out.index.is_unique:
        raise ExtractError("patients table: patient_id is not unique")
    return out.sort_index(kind="stable")


def as_dates(values: pd.Series) -> pd.Series:
    """A column as datetimes (itself when it already is: no parse, no copy)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return values
    return pd.to_datetime(values)


def positions(ids: pd.Series, course: pd.DataFrame) -> np.ndarray:
    """Each row's patient as a position in ``course`` (-1: a patient not analysed)."""
    if not (ids.dtype == object or isinstance(ids.dtype, pd.StringDtype)):
        ids = ids.astype(str)
    return course.index.get_indexer(pd.Index(ids))


def place_events(
    events: pd.DataFrame, course: pd.DataFrame, date_columns: Sequence[str]
) -> pd.DataFrame:
    """Event rows of the course's patients, with ``patient`` (the patient's position in
    ``course``), ``day_<column>`` (days since time zero) for each date column and the
    patient's ``group``; rows of other patients are left out.

    The rows come back sorted by patient and the date columns, and, where rows share those,
    by every numeric column (so that the outcome does not depend on the order of the rows
    given); the index is a new range.
    """
    position = positions(events["patient_id"], course)
    keep = np.flatnonzero(position >= 0)
    patient = position[keep]
    t0 = pd.Series(course["time_zero"].to_numpy(dtype="datetime64[ns]")[patient])
    dates = {c: as_dates(events[c]).iloc[keep].reset_index(drop=True) for c in date_columns}
    days = {c: days_between(dates[c], t0).to_numpy(dtype=float) for c in date_columns}
    keys = [patient, *days.values()]
    order = np.lexsort(keys[::-1])
    tied = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        tied &= key[order][1:] == key[order][:-1]
    numeric = [
        c
        for c in events.columns
        if c not in date_columns
        and isinstance(events[c].dtype, np.dtype)
        and events[c].dtype.kind in "fiub"
    ]
    if tied.any():  # rows sharing patient and dates: ordered by their numbers too
        keys += [events[c].to_numpy()[keep] for c in numeric]  # numpy dtypes only
        order = np.lexsort(keys[::-1])
    taken = keep[order]
    rows = {c: events[c].array.take(taken) for c in events.columns if c not in dates}
    for c in date_columns:
        rows[c] = dates[c].to_numpy()[order]
        rows[f"day_{c}"] = days[c][order]
    rows["patient"] = patient[order]
    rows["group"] = course["group"].to_numpy(dtype=object)[patient[order]]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class IncidenceAt:
    """A cumulative incidence in one group at fixed times (months since time zero).

    Counts: ``n`` (patients), ``events`` (events of interest), ``competing`` (deaths before
    the event).
    """

    n: int
    events: int
    competing: int
    months: tuple[float, ...]
    estimate: tuple[float | None, ...]
    ci: tuple[tuple[float, float] | None, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "events": self.events,
            "competing": self.competing,
            "at_months": {
                f"{m:g}": {"estimate": e, "ci": list(c) if c else None}
                for m, e, c in zip(self.months, self.estimate, self.ci, strict=True)
            },
        }


#: JSON Schema of :meth:`IncidenceAt.to_dict`.
INCIDENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["n", "events", "competing", "at_months"],
    "properties": {
        "n": {"$ref": "#/$defs/count"},
        "events": {"$ref": "#/$defs/count"},
        "competing": {"$ref": "#/$defs/count"},
        "at_months": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "estimate": {"$ref": "#/$defs/number"},
                    "ci": {"$ref": "#/$defs/interval"},
                },
            },
        },
    },
}


def incidence_by_group(
    months: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    groups: Sequence[str],
    at_months: Sequence[float] = LANDMARK_MONTHS,
    alpha: float = 0.05,
    min_count: int | None = None,
) -> tuple[dict[str, IncidenceAt], GrayTest]:
    """Aalen-Johansen cumulative incidence of event 1 (death, 2, competing) per group at
    ``at_months``, with pointwise log(-log) intervals, and Gray's test across the groups
    with patients (:mod:`imnm_cohort.analysis.competing`, matched to R ``cmprsk::cuminc``).

    An estimate (and its interval) is None where fewer than ``min_count`` of the group's
    patients (None: one) are still at risk, their time at or after that month: an
    aggregate is shown only where at least the minimum count of patients contributes at
    that time (issue of the course of the disease, "Disclosure"), and past the group's
    last observed time the curve is not estimated at all.
    """
    months = np.asarray(months, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    group = np.asarray(group, dtype=object)
    out: dict[str, IncidenceAt] = {}
    times = np.asarray(at_months, dtype=float)
    for g in groups:
        mask = group == g
        n = int(mask.sum())
        if n == 0:
            none = tuple(None for _ in times)
            out[g] = IncidenceAt(0, 0, 0, tuple(times), none, none)
            continue
        curve = cumulative_incidence(months[mask], event[mask], alpha)
        est, _ = curve.at(times)
        lower, upper = curve.confidence_interval(times)
        at_risk = n - np.searchsorted(np.sort(months[mask]), times, side="left")
        inside = at_risk >= max(min_count or 1, 1)
        out[g] = IncidenceAt(
            n,
            int((event[mask] == EVENT).sum()),
            int((event[mask] == COMPETING).sum()),
            tuple(float(t) for t in times),
            tuple(float(e) if ok else None for e, ok in zip(est, inside, strict=True)),
            tuple(
                (float(lo), float(hi)) if ok else None
                for lo, hi, ok in zip(lower, upper, inside, strict=True)
            ),
        )
    present = np.isin(group, [g for g in groups if out[g].n > 0])
    test = gray_test(months[present], event[present], group[present].astype(str))
    return out, test


def incidence_disclosure(
    incidence: dict[str, IncidenceAt], test_path: tuple[str, ...], prefix: tuple[str, ...]
) -> Declaration:
    """Declarations of curves by group at ``prefix + (group,)`` (paths from the result's
    root); Gray's test at ``test_path`` depends on every group's events and deaths."""
    test = ((*test_path, "statistic"), (*test_path, "p_value"))
    parts = []
    for g, curve in incidence.items():
        at = (*prefix, g)
        parts.append(
            Declaration(
                counts=(
                    Count((*at, "n"), describes=((*at, "at_months"),), dependents=test),
                    Count(
                        (*at, "events"),
                        reveals=((*at, "at_months"),),
                        dependents=test,
                        notes=(((*test_path, "reason"), "events"),),
                    ),
                    Count((*at, "competing"), reveals=((*at, "at_months"),), dependents=test),
                ),
                margins=(
                    Margin(
                        ((*at, "events"), (*at, "competing")),
                        (*at, "n"),
                        rest=curve.n - curve.events - curve.competing,
                    ),
                ),
            )
        )
    parts.append(Declaration(cleared=((*test_path, "df"),)))  # groups - 1: a setting
    return combine(parts)


def nearest(
    patient: np.ndarray,
    day: np.ndarray,
    target: float,
    window: float,
    then: np.ndarray | None = None,
) -> np.ndarray:
    """Per patient, the row nearest day ``target`` within ``window`` days either side
    (a NaN day is never in it): of two as near, the earlier, then the smaller ``then``,
    then the first row, so that the order of the rows never matters once they are sorted.

    Returns
    -------
    numpy.ndarray
        The chosen rows' positions, one per patient that has one, by patient.
    """
    distance = np.abs(np.asarray(day, dtype=float) - target)
    inside = np.flatnonzero(distance <= window)
    p = patient[inside]
    keys = (day[inside], distance[inside], p)
    order = inside[np.lexsort(keys if then is None else (then[inside], *keys))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = patient[order][1:] != patient[order][:-1]
    return order[first]


def percent_dict(
    count: int, share: tuple[float | None, tuple[float, float] | None]
) -> dict[str, Any]:
    """A count of patients with its percentage of a denominator and the interval, as
    ``{"n", "percent", "ci"}`` (``share`` from
    :func:`~imnm_cohort.analysis.intervals.percent_ci`)."""
    percent, ci = share
    return {"n": count, "percent": percent, "ci": list(ci) if ci else None}


def percent_declaration(at: Path, denominator: Path) -> Declaration:
    """Declaration of a :func:`percent_dict` at ``at``: its count reveals the percentage
    and the interval, the percentage being a share of the count at ``denominator``."""
    return Declaration(
        counts=(Count((*at, "n"), reveals=((*at, "percent"), (*at, "ci"))),),
        shares=(Share((*at, "percent"), (*at, "n"), denominator),),
    )


def months_of(days: np.ndarray | pd.Series) -> np.ndarray:
    """Days as months (30.4375 days)."""
    return np.asarray(days, dtype=float) / DAYS_PER_MONTH
