"""The CK course: time to a normal CK, with death competing, and log10(CK/ULN) over time.

Two views of how fast creatine kinase (CK) normalises after diagnosis, by IMNM group:

**Time to the first CK <= ULN.** Time zero is the diagnosis date (the onset date where it
is empty; :mod:`imnm_cohort.analysis.course`). A patient is at risk when the baseline CK,
the CK measured nearest to time zero within ``baseline_window_days`` either side (the
earlier of two as near), is above the lab's upper limit of normal (ULN; 200 U/L where the
visit gives none). The event is the first later visit with CK <= ULN, at its time since
time zero (always after time zero: a CK between a baseline before time zero and time zero
would be nearer time zero than the baseline); death before it is a competing event;
otherwise the patient is censored at the end of observation. The cumulative incidence of
normalisation is the Aalen-Johansen estimate by group, with Gray's test across the groups
(:mod:`imnm_cohort.analysis.competing`, which matches R's ``cmprsk::cuminc``).

**log10(CK/ULN) over time** since time zero, in years, from visits with a CK above 0 up to
``horizon_months``: the linear mixed model of :mod:`imnm_cohort.analysis.mixed` (random
intercept and slope per patient, group x time), reporting each group's slope with its
interval, and the series of group medians per time bin for the figure.

References
----------
Werner JL, Christopher-Stine L, Ghazarian SR, et al. Antibody levels correlate with
creatine kinase levels and strength in anti-3-hydroxy-3-methylglutaryl-coenzyme A
reductase-associated autoimmune myopathy. Arthritis Rheum 2012;64:4087-93.
Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
risk. Ann Stat 1988;16:1141-54.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import COMPETING, EVENT, GrayTest
from imnm_cohort.analysis.course import (
    DEFAULT_BINS_MONTHS,
    BinnedSeries,
    binned_series,
    course_patients,
    course_visits,
)
from imnm_cohort.analysis.course_time import (
    INCIDENCE_SCHEMA,
    IncidenceAt,
    incidence_by_group,
    incidence_disclosure,
)
from imnm_cohort.analysis.mixed import GrowthModel, fit_growth_model
from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.disclosure.declarations import Count, Declaration, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.vocabulary import DAYS_PER_MONTH, IMNM_GROUPS


class NotAtRisk(StrEnum):
    """Why a patient of the groups is not in the time to a normal CK (counted, per group)."""

    #: No CK within the baseline window around time zero.
    NO_BASELINE_CK = "no_baseline_ck"
    #: The baseline CK is already at or below the ULN.
    CK_NORMAL_AT_BASELINE = "ck_normal_at_baseline"
    #: Time zero after the end of observation.
    NO_FOLLOW_UP = "no_follow_up_after_time_zero"


@dataclass(frozen=True)
class CkCourseOptions:
    """Options of the CK course.

    Attributes
    ----------
    baseline_window_days : int
        The baseline CK is the one nearest time zero within this many days either side
        (default 30).
    times_months : tuple of float
        When the cumulative incidence of a normal CK is reported (default 6, 12, 24).
    horizon_months : float or None
        The mixed model uses the visits up to this time since time zero (default 24: a
        straight line fits the fall of CK over the first two years, not its plateau after
        normalisation); None for all.
    bins_months : tuple of float
        The series' bins (edges, months).
    statistic : str
        The series' statistic, ``median`` (default; CK is skewed even on the log scale) or
        ``mean``.
    min_count : int
        The fewest patients a bin of the series shows a value for.
    alpha : float
    """

    baseline_window_days: int = 30
    times_months: tuple[float, ...] = (6.0, 12.0, 24.0)
    horizon_months: float | None = 24.0
    bins_months: tuple[float, ...] = DEFAULT_BINS_MONTHS
    statistic: str = "median"
    min_count: int = DEFAULT_MIN_COUNT
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.baseline_window_days < 0:
            raise ValueError("baseline_window_days must be 0 or more")
        if self.horizon_months is not None and self.horizon_months <= 0:
            raise ValueError("horizon_months must be above 0")


@dataclass(frozen=True)
class CkNormalisation:
    """Time from time zero to the first CK <= ULN by group, death competing.

    Attributes
    ----------
    groups : Mapping[str, IncidenceAt]
        Per group, the patients at risk (``n``), those with a normal CK (``events``), those
        who died before one (``competing``) and the cumulative incidence at
        ``times_months`` (:func:`~imnm_cohort.analysis.course_time.incidence_by_group`:
        None past the group's last observed time).
    not_at_risk : Mapping[str, Mapping[str, int]]
        Per group, the patients left out by :class:`NotAtRisk` code.
    test : GrayTest
    times_months : tuple of float
    baseline_window_days : int
    """

    groups: Mapping[str, IncidenceAt]
    not_at_risk: Mapping[str, Mapping[str, int]]
    test: GrayTest
    times_months: tuple[float, ...]
    baseline_window_days: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "baseline_window_days": self.baseline_window_days,
            "times_months": [float(m) for m in self.times_months],
            "groups": {
                g: {**r.to_dict(), "not_at_risk": dict(self.not_at_risk[g])}
                for g, r in self.groups.items()
            },
            "test": self.test.to_dict(),
        }


@dataclass(frozen=True)
class CkCourse:
    """The CK course by IMNM group.

    Attributes
    ----------
    normalisation : CkNormalisation
    model : GrowthModel
        log10(CK/ULN) over years since time zero.
    series : BinnedSeries
        log10(CK/ULN) per bin of months since time zero (group medians by default).
    patients : int
        Patients of the groups.
    time_zero_from_onset : int
        Patients whose time zero is the onset date (no diagnosis date).
    options : CkCourseOptions
    """

    normalisation: CkNormalisation
    model: GrowthModel
    series: BinnedSeries
    patients: int
    time_zero_from_onset: int
    options: CkCourseOptions = field(default_factory=CkCourseOptions)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "patients": self.patients,
            "time_zero": "diagnosis, else onset",
            "time_zero_from_onset": self.time_zero_from_onset,
            "normalisation": self.normalisation.to_dict(),
            "model": self.model.to_dict(),
            "series": self.series.to_dict(),
        }

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (``$defs`` of the summary's root)."""
        count = {"$ref": "#/$defs/count"}
        group = {
            **INCIDENCE_SCHEMA,
            "properties": {
                **INCIDENCE_SCHEMA["properties"],
                "not_at_risk": {"type": "object", "additionalProperties": count},
            },
        }
        return {
            "type": "object",
            "description": (
                "The CK course by group: time from diagnosis to the first CK <= ULN (death "
                "competing) and log10(CK/ULN) over time (a linear mixed model, a series)."
            ),
            "required": ["patients", "normalisation", "model", "series"],
            "properties": {
                "patients": count,
                "time_zero": {"type": "string"},
                "time_zero_from_onset": count,
                "normalisation": {
                    "type": "object",
                    "properties": {
                        "baseline_window_days": {"type": "integer"},
                        "times_months": {"type": "array", "items": {"type": "number"}},
                        "groups": {"type": "object", "additionalProperties": group},
                        "test": {
                            "type": "object",
                            "properties": {
                                "statistic": {"$ref": "#/$defs/number"},
                                "p_value": {"$ref": "#/$defs/pValue"},
                                "df": {"type": "integer"},
                            },
                        },
                    },
                },
                "model": GrowthModel.json_schema(),
                "series": BinnedSeries.json_schema(),
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: the patients, the curves by group with Gray's
        test (:func:`~imnm_cohort.analysis.course_time.incidence_disclosure`), the patients
        not at risk by reason, the model's and the series' counts."""
        n = self.normalisation
        not_at_risk = [
            Count(("normalisation", "groups", g, "not_at_risk", r))
            for g in n.groups
            for r in n.not_at_risk[g]
        ]
        return combine(
            [
                Declaration(
                    counts=(Count(("patients",)), Count(("time_zero_from_onset",)), *not_at_risk),
                    cleared=(("normalisation", "baseline_window_days"),),
                ),
                incidence_disclosure(
                    dict(n.groups), ("normalisation", "test"), ("normalisation", "groups")
                ),
                self.model.disclosure().under("model"),
                self.series.disclosure().under("series"),
            ]
        )

    def method(self) -> str:
        """A sentence for the methods."""
        o = self.options
        horizon = "" if o.horizon_months is None else f" up to {o.horizon_months:g} months"
        return (
            "Time from diagnosis (onset where the diagnosis date was missing) to the first "
            "CK at or below the upper limit of normal, among patients with a raised CK within "
            f"{o.baseline_window_days} days of diagnosis, was described by Aalen-Johansen "
            "cumulative incidence with death as a competing event and compared by Gray's "
            "test; log10(CK/ULN) over time" + horizon + " was modelled by a linear mixed "
            "model with a random intercept and slope per patient (REML), fixed effects "
            "group x time, and each group's slope reported with its Wald 95% interval."
        )


def ck_normalisation_times(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    options: CkCourseOptions | None = None,
    groups: Sequence[str] = IMNM_GROUPS,
) -> pd.DataFrame:
    """Each patient's time to the first CK <= ULN (patient-level; carries identifiers).

    Returns
    -------
    pandas.DataFrame
        One row per patient of ``groups`` in patient order: ``patient_id``, ``group``,
        ``at_risk``, ``reason`` (a :class:`NotAtRisk` code where not at risk),
        ``time_months`` and ``event`` (0 censored, 1 normal CK, 2 death first; 0 and 0.0
        where not at risk).
    """
    options = options or CkCourseOptions()
    people = course_patients(patients, groups)
    window = float(options.baseline_window_days)
    v = course_visits(people, visits, ["ck", "ck_uln"], earliest_days=-window)
    v = v[v["ck"].notna().to_numpy(dtype=bool)]
    # Each visit's patient by position (the visits are sorted by patient, then day).
    patient = pd.Index(people["patient_id"].to_numpy(dtype=object)).get_indexer(
        v["patient_id"].to_numpy(dtype=object)
    )
    day = v["days"].to_numpy(dtype=float)
    uln = v["ck_uln"].to_numpy(dtype=float, na_value=np.nan)
    ck = v["ck"].to_numpy(dtype=float, na_value=np.nan)
    normal = ck <= np.where(np.isnan(uln), CK_ULN_DEFAULT, uln)
    # Baseline: the CK nearest time zero within the window (on a tie the earlier, then the
    # first in the visits' order: a stable sort).
    near = np.flatnonzero(np.abs(day) <= window)
    near = near[np.lexsort((day[near], np.abs(day[near]), patient[near]))]
    first = near[np.r_[True, patient[near][1:] != patient[near][:-1]][: len(near)]]
    has_baseline = np.zeros(len(people), dtype=bool)
    has_baseline[patient[first]] = True
    baseline_day = np.full(len(people), np.inf)
    baseline_day[patient[first]] = day[first]
    baseline_normal = np.zeros(len(people), dtype=bool)
    baseline_normal[patient[first]] = normal[first]
    # The first normal CK after the baseline.
    later = np.flatnonzero(normal & (day > baseline_day[patient]))
    event_days = np.full(len(people), np.nan)
    np.fmin.at(event_days, patient[later], day[later])

    out = people[["patient_id", "group"]].copy()
    follow = people["follow_up_days"].to_numpy(dtype=float)
    reason = np.select(
        [~(follow >= 0), ~has_baseline, baseline_normal],
        [NotAtRisk.NO_FOLLOW_UP.value, NotAtRisk.NO_BASELINE_CK.value,
         NotAtRisk.CK_NORMAL_AT_BASELINE.value],
        default="",
    )  # fmt: skip
    at_risk = reason == ""
    normalised = at_risk & np.isfinite(event_days)
    days = np.where(normalised, event_days, follow)
    event = np.where(normalised, EVENT, np.where(people["died"].to_numpy(), COMPETING, 0))
    out["at_risk"] = at_risk
    out["reason"] = pd.Series(reason, dtype="string").mask(at_risk)
    out["time_months"] = np.where(at_risk, days / DAYS_PER_MONTH, 0.0)
    out["event"] = np.where(at_risk, event, 0).astype(np.int64)
    return out


def ck_normalisation(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    options: CkCourseOptions | None = None,
    groups: Sequence[str] = IMNM_GROUPS,
) -> CkNormalisation:
    """Cumulative incidence of a normal CK by group (death competing) and Gray's test.

    See the module's description for the rules; ``patients`` needs ``patient_id``,
    ``imnm_group``, ``onset_date``, ``diagnosis_date``, ``last_followup_date`` and
    ``death_date``, ``visits`` needs ``patient_id``, ``visit_date``, ``ck`` and ``ck_uln``.
    """
    options = options or CkCourseOptions()
    times = ck_normalisation_times(patients, visits, options, groups)
    risk = times[times["at_risk"]]
    incidence, test = incidence_by_group(
        risk["time_months"].to_numpy(dtype=float),
        risk["event"].to_numpy(),
        risk["group"].to_numpy(dtype=object),
        groups,
        options.times_months,
        options.alpha,
        options.min_count,
    )
    not_at_risk = {}
    for g in groups:
        reasons = times.loc[times["group"] == g, "reason"].dropna().value_counts()
        not_at_risk[g] = MappingProxyType(
            {r.value: int(reasons.get(r.value, 0)) for r in NotAtRisk}
        )
    return CkNormalisation(
        MappingProxyType(incidence),
        MappingProxyType(not_at_risk),
        test,
        tuple(options.times_months),
        options.baseline_window_days,
    )


def ck_course(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    options: CkCourseOptions | None = None,
    groups: Sequence[str] = IMNM_GROUPS,
) -> CkCourse:
    """The CK course by group: time to a normal CK, the mixed model and the series.

    Parameters
    ----------
    patients : pandas.DataFrame
        The classified patients (``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date``, ``death_date``). Not modified.
    visits : pandas.DataFrame
        The valid rows of the ``visits`` table (``patient_id``, ``visit_date``, ``ck``,
        ``ck_uln``). Not modified.
    options : CkCourseOptions, optional
    groups : sequence of str
        The groups, in order (the first is the model's reference).

    Returns
    -------
    CkCourse
    """
    options = options or CkCourseOptions()
    people = course_patients(patients, groups)
    v = course_visits(people, visits, ["ck", "ck_uln"])
    v = v[v["ck"] > 0].copy()
    v["log10_ck_uln"] = np.log10(v["ck"] / v["ck_uln"].fillna(CK_ULN_DEFAULT))
    modelled = v
    if options.horizon_months is not None:
        modelled = v[v["days"] <= options.horizon_months * DAYS_PER_MONTH]
    model = fit_growth_model(
        modelled, outcome="log10_ck_uln", time="years", group="group", groups=groups
    )
    series = binned_series(
        v, "log10_ck_uln", groups=groups, bins_months=options.bins_months,
        statistic=options.statistic, min_count=options.min_count, alpha=options.alpha,
    )  # fmt: skip
    return CkCourse(
        normalisation=ck_normalisation(patients, visits, options, groups),
        model=model,
        series=series,
        patients=len(people),
        time_zero_from_onset=int(people["from_onset"].sum()),
        options=options,
    )
