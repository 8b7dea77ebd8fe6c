"""The 2016 ACR/EULAR response over the course of the disease.

From the ``visits`` table (contract section 6), per IMNM group:

- the Total Improvement Score (TIS, :mod:`imnm_cohort.analysis.response`) at every
  follow-up visit against the patient's baseline visit;
- the share of patients at each category (none, minimal >= 20, moderate >= 40, major >= 60
  for adults; juvenile 30/45/70) at 6, 12 and 24 months since time zero, from the visit
  nearest each time within a window;
- the time from time zero to the first minimal, moderate and major improvement, with death
  as a competing event (Aalen-Johansen, Gray's test).

Conventions (fields of :class:`ResponseOptions`, recorded in the result):

- **Baseline**: the patient's first visit within ``baseline_window_days`` of time zero
  (diagnosis, else onset; default 30 days before to 30 days after). A patient without one
  has no TIS and is counted as ``no_baseline``.
- **Follow-up**: every later visit up to the end of observation.
- **Measures**: the enzyme is CK as a multiple of its ULN (200 U/L where the visit gives
  none); the MMT scale is the visit's ``mmt_max`` (80 where empty). An MMT on a different
  scale at follow-up than at baseline is not comparable: it is treated as missing, with the
  reason ``mmt_scale_changed``.
- **Percent change**: ``change`` (default ``"default"``: the enzyme relative to baseline,
  the scales relative to the instrument's range; ``"baseline"``: every measure relative to
  baseline). The source of the criteria does not settle it; the result says which was used.
- **Missing measures** are never 0: a visit missing a measure at either visit has no TIS,
  with its reasons (``missing_haq_followup``, ...), unless ``partial`` is set, in which case
  a missing measure scores 0 and the TIS is a lower bound (counted as such).
- **Landmarks**: the visit with a TIS nearest each landmark within
  ``landmark_window_days`` (on a tie, the earlier).

Counts are of patients; counts of visits are given apart, under ``visits``, and never as
patients.

References
----------
Aggarwal R, Rider LG, Ruperto N, et al. Ann Rheum Dis 2017;76:792-801 (adult criteria).
Rider LG, Aggarwal R, Pistorio A, et al. Ann Rheum Dis 2017;76:782-791 (juvenile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import COMPETING, EVENT, GrayTest
from imnm_cohort.analysis.course_time import (
    DEFAULT_CK_ULN,
    INCIDENCE_SCHEMA,
    LANDMARK_MONTHS,
    IncidenceAt,
    course_patients,
    incidence_by_group,
    incidence_disclosure,
    months_of,
    place_events,
    require_columns,
)
from imnm_cohort.analysis.intervals import clopper_pearson
from imnm_cohort.analysis.response import (
    CATEGORIES,
    CATEGORY_THRESHOLDS,
    MEASURES,
    _check_options,
    total_improvement_scores,
)
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, IMNM_GROUPS

#: The MMT scale maximum where a visit gives none (MMT-8, one side).
DEFAULT_MMT_MAX = 80.0

#: The improvement levels timed, in order (the TIS categories above ``none``).
LEVELS: tuple[str, ...] = CATEGORIES[1:]


@dataclass(frozen=True)
class ResponseOptions:
    """The conventions of :func:`response_course` (module docstring).

    Attributes
    ----------
    baseline_window_days : (float, float)
        Days from time zero (negative: before) within which the first visit is baseline.
    landmarks_months : tuple of float
        Months since time zero of the category shares and of the cumulative incidences.
    landmark_window_days : float
        The visit nearest a landmark counts when within this many days of it.
    change : {"default", "baseline"}
        The percent-change convention of the TIS.
    population : {"adult", "juvenile"}
        The category thresholds.
    partial : bool
        Score a missing measure 0 (the TIS is then a lower bound).
    alpha : float
        1 - confidence level.
    """

    baseline_window_days: tuple[float, float] = (-30.0, 30.0)
    landmarks_months: tuple[float, ...] = LANDMARK_MONTHS
    landmark_window_days: float = 60.0
    change: str = "default"
    population: str = "adult"
    partial: bool = False
    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_options(self.population, self.change)
        lo, hi = self.baseline_window_days
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ConfigError("baseline_window_days must be (before, after) with before <= after")
        if not (np.isfinite(self.landmark_window_days) and self.landmark_window_days >= 0):
            raise ConfigError("landmark_window_days must be 0 or more")
        if not self.landmarks_months or min(self.landmarks_months) <= 0:
            raise ConfigError("landmarks_months must be positive months")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "baseline_window_days": list(self.baseline_window_days),
            "landmarks_months": list(self.landmarks_months),
            "landmark_window_days": self.landmark_window_days,
            "change": self.change,
            "population": self.population,
            "thresholds": dict(zip(LEVELS, CATEGORY_THRESHOLDS[self.population], strict=True)),
            "partial": self.partial,
        }


def _measures(rows: pd.DataFrame) -> pd.DataFrame:
    """The six core set measures of visit rows (enzyme = CK / ULN) and the MMT scale."""
    uln = rows["ck_uln"].astype(float) if "ck_uln" in rows else pd.Series(np.nan, rows.index)
    out = pd.DataFrame(index=rows.index)
    for m in MEASURES:
        if m == "enzyme":
            ck = rows["ck"].astype(float) if "ck" in rows else pd.Series(np.nan, rows.index)
            out[m] = (ck / uln.fillna(DEFAULT_CK_ULN)).to_numpy(dtype=float)
        else:
            column = rows[m] if m in rows else pd.Series(np.nan, rows.index)
            out[m] = pd.to_numeric(column).astype(float).to_numpy(dtype=float)
    scale = rows["mmt_max"] if "mmt_max" in rows else pd.Series(np.nan, rows.index)
    out["mmt_max"] = pd.to_numeric(scale).astype(float).fillna(DEFAULT_MMT_MAX).to_numpy()
    return out


def _scores(
    course: pd.DataFrame, visits: pd.DataFrame, options: ResponseOptions
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Follow-up visits scored against baseline (``patient`` = position in ``course``),
    and the patients with a baseline (positions) with its day."""
    require_columns(visits, ("patient_id", "visit_date"), "visits")
    wanted = ("patient_id", "visit_date", "ck", "ck_uln", "mmt_max", *MEASURES)
    rows = place_events(visits[[c for c in wanted if c in visits.columns]], course, ("visit_date",))
    day = rows["day_visit_date"].to_numpy(dtype=float)
    patient = rows["patient"].to_numpy()
    lo, hi = options.baseline_window_days
    window = np.flatnonzero((day >= lo) & (day <= hi))
    in_window = patient[window]
    first = window[np.r_[True, in_window[1:] != in_window[:-1]][: len(window)]]  # sorted rows
    base_row = np.full(len(course), -1)
    base_row[patient[first]] = first
    mine = base_row[patient]
    follow = course["followup_days"].to_numpy(dtype=float)[patient]
    with np.errstate(invalid="ignore"):
        later_rows = np.flatnonzero((mine >= 0) & (day > day[mine]) & ~(day > follow))
    later = rows.take(later_rows).reset_index(drop=True)
    measures = _measures(later)
    base_rows = _measures(rows.take(mine[later_rows]).reset_index(drop=True))
    changed = (measures["mmt_max"] != base_rows["mmt_max"]).to_numpy(dtype=bool)
    base_mmt = base_rows["mmt"].to_numpy(dtype=float, copy=True)
    later_mmt = measures["mmt"].to_numpy(dtype=float, copy=True)
    measures.loc[changed, "mmt"] = np.nan
    base_rows.loc[changed, "mmt"] = np.nan
    scores = total_improvement_scores(
        base_rows[list(MEASURES)],
        measures[list(MEASURES)],
        mmt_max=base_rows["mmt_max"],
        population=options.population,
        change=options.change,
        partial=options.partial,
    )
    reason = scores["reason"].to_numpy(dtype=object)
    if changed.any():
        # The MMT was given on both visits, on different scales: one reason, not "missing".
        text = pd.Series(reason[changed], dtype=object)
        for visit, values in (("baseline", base_mmt), ("followup", later_mmt)):
            given = ~np.isnan(values[changed])
            text = text.where(~given, text.str.replace(f"missing_mmt_{visit}", "", regex=False))
        text = ("mmt_scale_changed;" + text).str.replace(";;+", ";", regex=True).str.strip(";")
        reason[changed] = text.to_numpy(dtype=object)
    out = scores.drop(columns="reason")
    out.insert(0, "day", later["day_visit_date"].to_numpy(dtype=float))
    out.insert(0, "group", later["group"].to_numpy(dtype=object))
    out.insert(0, "patient", later["patient"].to_numpy())
    out["reason"] = reason
    with_baseline = patient[first]
    return out, with_baseline, day[first]


def visit_scores(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: ResponseOptions | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The TIS of every follow-up visit against its patient's baseline visit.

    Patient-level (identifiers and days): for analysis, never for an aggregate output.

    Parameters
    ----------
    patients : DataFrame
        Classified patients (``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date``, ``death_date``).
    visits : DataFrame
        Valid rows of the ``visits`` table (contract section 6).
    groups : sequence of str
    options : ResponseOptions, optional

    Returns
    -------
    (scores, baselines) : DataFrame, DataFrame
        ``scores``: one row per follow-up visit, sorted by patient and day: ``patient_id``,
        ``group``, ``day`` (since time zero), ``total``, ``points_<measure>``, ``category``,
        ``lower_bound``, ``reason``. ``baselines``: one row per patient with a baseline
        visit: ``patient_id``, ``day``.
    """
    options = options or ResponseOptions()
    course = course_patients(patients, groups)
    scores, with_baseline, base_day = _scores(course, visits, options)
    ids = course.index.to_numpy(dtype=object)
    scores.insert(0, "patient_id", ids[scores.pop("patient").to_numpy()])
    baselines = pd.DataFrame({"patient_id": ids[with_baseline], "day": base_day})
    return scores, baselines


@dataclass(frozen=True)
class LandmarkResponse:
    """The TIS categories of one group at one landmark. Counts are of patients.

    Attributes
    ----------
    assessed : int
        Patients with a TIS within the window.
    not_assessed : int
        Patients with a baseline but no TIS within the window (no visit, a visit without a
        TIS, or follow-up ended).
    categories : dict
        Patients at each category (exclusive) among the assessed.
    percent : dict
        Category -> (percent of the assessed, Clopper-Pearson interval).
    lower_bound : int
        Assessed patients whose TIS is a lower bound (``partial``).
    """

    assessed: int
    not_assessed: int
    categories: dict[str, int]
    percent: dict[str, tuple[float | None, tuple[float, float] | None]]
    lower_bound: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "assessed": self.assessed,
            "not_assessed": self.not_assessed,
            "lower_bound": self.lower_bound,
            "categories": {
                c: {
                    "n": self.categories[c],
                    "percent": self.percent[c][0],
                    "ci": list(ci) if (ci := self.percent[c][1]) else None,
                }
                for c in CATEGORIES
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: the categories add up to ``assessed``."""
        counts = [Count(("assessed",)), Count(("not_assessed",)), Count(("lower_bound",))]
        shares = []
        for c in CATEGORIES:
            at = ("categories", c)
            counts.append(Count((*at, "n"), reveals=((*at, "percent"), (*at, "ci"))))
            shares.append(Share((*at, "percent"), (*at, "n"), ("assessed",)))
        return Declaration(
            counts=tuple(counts),
            margins=(Margin(tuple(("categories", c, "n") for c in CATEGORIES), ("assessed",)),),
            shares=tuple(shares),
        )


@dataclass(frozen=True)
class GroupResponse:
    """One group's patients and landmarks."""

    n: int
    with_baseline: int
    landmarks: dict[str, LandmarkResponse]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "with_baseline": self.with_baseline,
            "landmarks_months": {k: v.to_dict() for k, v in self.landmarks.items()},
        }

    def disclosure(self, group: str) -> Declaration:
        """Paths relative to :meth:`to_dict`."""
        parts = [
            Declaration(
                counts=(Count(("n",), f"group:{group}"), Count(("with_baseline",))),
                margins=(Margin((("with_baseline",),), ("n",), rest=self.n - self.with_baseline),),
            )
        ]
        for k, v in self.landmarks.items():
            part = v.disclosure()
            parts.append(
                part.under("landmarks_months", k)
                + Declaration(
                    margins=(
                        Margin(
                            (
                                ("landmarks_months", k, "assessed"),
                                ("landmarks_months", k, "not_assessed"),
                            ),
                            ("with_baseline",),
                        ),
                    )
                )
            )
        return combine(parts)


@dataclass(frozen=True)
class ResponseCourse:
    """The 2016 ACR/EULAR response over the course, by IMNM group (module docstring).

    Attributes
    ----------
    groups : dict
        Group -> :class:`GroupResponse`.
    improvement : dict
        Level (``minimal``, ``moderate``, ``major``) -> group ->
        :class:`~imnm_cohort.analysis.course_time.IncidenceAt`: time to the first TIS at
        that level or above, death competing, among patients with a baseline.
    improvement_tests : dict
        Level -> Gray's test.
    visits : dict
        Counts of visits (rows, never patients): ``scored`` (follow-up visits with a TIS),
        ``not_computed``, ``lower_bound`` (scored with a missing measure as 0) and
        ``by_reason`` (visits per reason code).
    time_zero_onset : int
        Patients whose time zero is their onset.
    options : ResponseOptions
    """

    groups: dict[str, GroupResponse]
    improvement: dict[str, dict[str, IncidenceAt]]
    improvement_tests: dict[str, GrayTest]
    visits: dict[str, Any]
    time_zero_onset: int
    options: ResponseOptions = field(default_factory=ResponseOptions)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "options": self.options.to_dict(),
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
            "improvement": {
                level: {
                    "groups": {g: c.to_dict() for g, c in curves.items()},
                    "test": self.improvement_tests[level].to_dict(),
                }
                for level, curves in self.improvement.items()
            },
            "visits": {
                "scored": self.visits["scored"],
                "not_computed": self.visits["not_computed"],
                "lower_bound": self.visits["lower_bound"],
                "by_reason": dict(self.visits["by_reason"]),
            },
            "time_zero_onset": self.time_zero_onset,
        }

    def disclosure(self) -> Declaration:
        """Declarations of :meth:`to_dict`; the counts under ``visits`` are of rows."""
        parts = [r.disclosure(g).under("groups", g) for g, r in self.groups.items()]
        for level, curves in self.improvement.items():
            parts.append(
                incidence_disclosure(
                    curves, ("improvement", level, "test"), ("improvement", level, "groups")
                )
            )
        parts.append(
            Declaration(
                counts=(
                    Count(("visits", "scored")),
                    Count(("visits", "not_computed")),
                    Count(("visits", "lower_bound")),
                    *(Count(("visits", "by_reason", r)) for r in self.visits["by_reason"]),
                    Count(("time_zero_onset",)),
                ),
                cleared=(("options",),),
            )
        )
        return combine(parts)

    def method(self) -> str:
        """The method in two sentences."""
        o = self.options
        basis = (
            "the enzyme relative to baseline and the scales relative to their range"
            if o.change == "default"
            else "every measure relative to baseline"
        )
        return (
            "The 2016 ACR/EULAR Total Improvement Score was computed at each follow-up visit "
            "against the first visit within "
            f"{-o.baseline_window_days[0]:g} days before to {o.baseline_window_days[1]:g} "
            f"days after diagnosis (percent change: {basis}; "
            + (
                "a missing measure scored 0, giving a lower bound"
                if o.partial
                else "no score where a measure was missing"
            )
            + "), categorised at the visit nearest "
            + ", ".join(f"{m:g}" for m in o.landmarks_months)
            + f" months (within {o.landmark_window_days:g} days); time to first minimal, "
            "moderate and major improvement was estimated by Aalen-Johansen cumulative "
            "incidence with death competing and compared with Gray's test."
        )

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict`."""
        count = {"$ref": "#/$defs/count"}
        return {
            "type": "object",
            "required": ["options", "groups", "improvement", "visits"],
            "properties": {
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"n": count, "with_baseline": count},
                    },
                },
                "improvement": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "groups": {
                                "type": "object",
                                "additionalProperties": {"$ref": "#/$defs/incidenceAt"},
                            }
                        },
                    },
                },
                "visits": {
                    "type": "object",
                    "description": "Counts of visits (rows), not of patients.",
                    "properties": {
                        "scored": count,
                        "not_computed": count,
                        "lower_bound": count,
                        "by_reason": {"type": "object", "additionalProperties": count},
                    },
                },
            },
            "$defs": {"incidenceAt": INCIDENCE_SCHEMA},
        }


def _landmark(scores: pd.DataFrame, months: float, window: float) -> pd.DataFrame:
    """Per patient, the scored visit nearest ``months`` within ``window`` days."""
    target = months * DAYS_PER_MONTH
    scored = scores.loc[scores["total"].notna()]
    distance = (scored["day"] - target).abs()
    near = scored.assign(_distance=distance).loc[distance.to_numpy() <= window]
    near = near.sort_values(["patient", "_distance", "day"], kind="stable")
    return near.drop_duplicates("patient", keep="first")


def response_course(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: ResponseOptions | None = None,
) -> ResponseCourse:
    """The 2016 ACR/EULAR response over the course, by IMNM group (module docstring).

    Parameters
    ----------
    patients, visits, groups, options
        As for :func:`visit_scores`.

    Returns
    -------
    ResponseCourse
    """
    options = options or ResponseOptions()
    course = course_patients(patients, groups)
    scores, with_baseline_at, _ = _scores(course, visits, options)
    label = course["group"].to_numpy(dtype=object)
    has_baseline = np.zeros(len(course), dtype=bool)
    has_baseline[with_baseline_at] = True
    by_group: dict[str, GroupResponse] = {}
    landmarks = {
        f"{m:g}": _landmark(scores, m, options.landmark_window_days)
        for m in options.landmarks_months
    }
    for g in groups:
        m = label == g
        with_baseline = int((m & has_baseline).sum())
        at: dict[str, LandmarkResponse] = {}
        for key, near in landmarks.items():
            rows = near.loc[(near["group"] == g).to_numpy(dtype=bool)]
            assessed = len(rows)
            counts = {c: int((rows["category"] == c).sum()) for c in CATEGORIES}
            percent: dict[str, tuple[float | None, tuple[float, float] | None]] = {}
            for c, k in counts.items():
                if assessed:
                    lower, upper = clopper_pearson(k, assessed, options.alpha)
                    percent[c] = (100.0 * k / assessed, (100.0 * lower, 100.0 * upper))
                else:
                    percent[c] = (None, None)
            at[key] = LandmarkResponse(
                assessed,
                with_baseline - assessed,
                counts,
                percent,
                int(rows["lower_bound"].sum()),
            )
        by_group[g] = GroupResponse(int(m.sum()), with_baseline, at)

    eligible = has_baseline & course["followed"].to_numpy(dtype=bool)
    follow = course["followup_days"].to_numpy(dtype=float)
    died = course["died"].to_numpy(dtype=bool)
    thresholds = dict(zip(LEVELS, CATEGORY_THRESHOLDS[options.population], strict=True))
    improvement: dict[str, dict[str, IncidenceAt]] = {}
    tests: dict[str, GrayTest] = {}
    for level, threshold in thresholds.items():
        reached = scores.loc[(scores["total"] >= threshold).to_numpy(dtype=bool)]
        day = np.full(len(course), np.inf)
        np.minimum.at(day, reached["patient"].to_numpy(), reached["day"].to_numpy(dtype=float))
        has = np.isfinite(day)
        time = np.where(has, np.fmax(day, 0.0), follow)
        event = np.where(has, EVENT, np.where(died, COMPETING, 0))
        improvement[level], tests[level] = incidence_by_group(
            months_of(time[eligible]),
            event[eligible],
            label[eligible],
            groups,
            options.landmarks_months,
            options.alpha,
        )

    not_computed = scores["total"].isna().to_numpy(dtype=bool)
    codes = scores.loc[scores["reason"] != "", "reason"].str.split(";").explode()
    by_reason = {str(k): int(v) for k, v in codes.value_counts().sort_index().items()}
    return ResponseCourse(
        groups=by_group,
        improvement=improvement,
        improvement_tests=tests,
        visits={
            "scored": int((~not_computed).sum()),
            "not_computed": int(not_computed.sum()),
            "lower_bound": int(scores["lower_bound"].sum()),
            "by_reason": by_reason,
        },
        time_zero_onset=int((course["time_zero_from"] == "onset").sum()),
        options=options,
    )
