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
    INCIDENCE_SCHEMA,
    LANDMARK_MONTHS,
    IncidenceAt,
    course_patients,
    incidence_by_group,
    incidence_disclosure,
    months_of,
    nearest,
    percent_declaration,
    percent_dict,
    place_events,
    require_columns,
)
from imnm_cohort.analysis.imacs import deteriorations, imacs_improvements
from imnm_cohort.analysis.intervals import percent_ci
from imnm_cohort.analysis.response import (
    CATEGORIES,
    CATEGORY_THRESHOLDS,
    MEASURES,
    _check_options,
    total_improvement_scores,
)
from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.contracts.visits import MMT_MAX_DEFAULT
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, IMNM_GROUPS

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
    imacs_change : {"baseline", "default"}
        The percent-change convention of the IMACS 2004 improvement and the ProDERM
        deterioration (default ``"baseline"``, as in :mod:`imnm_cohort.analysis.imacs`).
    min_count : int
        The fewest patients still at risk at a landmark for the cumulative incidence of a
        first improvement to be shown there (the run's minimum count).
    alpha : float
        1 - confidence level.
    """

    baseline_window_days: tuple[float, float] = (-30.0, 30.0)
    landmarks_months: tuple[float, ...] = LANDMARK_MONTHS
    landmark_window_days: float = 60.0
    change: str = "default"
    population: str = "adult"
    partial: bool = False
    imacs_change: str = "baseline"
    min_count: int = DEFAULT_MIN_COUNT
    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_options(self.population, self.change)
        _check_options(None, self.imacs_change)
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
            "imacs_change": self.imacs_change,
        }


def _measures(rows: pd.DataFrame) -> pd.DataFrame:
    """The six core set measures of visit rows (enzyme = CK / ULN) and the MMT scale."""
    uln = rows["ck_uln"].astype(float) if "ck_uln" in rows else pd.Series(np.nan, rows.index)
    out = pd.DataFrame(index=rows.index)
    for m in MEASURES:
        if m == "enzyme":
            ck = rows["ck"].astype(float) if "ck" in rows else pd.Series(np.nan, rows.index)
            out[m] = (ck / uln.fillna(CK_ULN_DEFAULT)).to_numpy(dtype=float)
        else:
            column = rows[m] if m in rows else pd.Series(np.nan, rows.index)
            out[m] = pd.to_numeric(column).astype(float).to_numpy(dtype=float)
    scale = rows["mmt_max"] if "mmt_max" in rows else pd.Series(np.nan, rows.index)
    out["mmt_max"] = pd.to_numeric(scale).astype(float).fillna(MMT_MAX_DEFAULT).to_numpy()
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
    # IMACS 2004 and ProDERM on the same pairs of visits; never from a missing measure
    # (not judged, missing, where a measure they read is missing at either visit).
    pair = (base_rows[list(MEASURES)], measures[list(MEASURES)])
    mmt_max = base_rows["mmt_max"]
    imacs = imacs_improvements(*pair, mmt_max=mmt_max, change=options.imacs_change)
    worse = deteriorations(*pair, mmt_max=mmt_max, change=options.imacs_change)["deteriorated"]
    out["imacs_improved"] = imacs["improved"].array
    out["deteriorated"] = worse.array
    out["confirmed_deterioration"] = _confirmed(later["patient"].to_numpy(), worse).array
    out.insert(0, "day", later["day_visit_date"].to_numpy(dtype=float))
    out.insert(0, "group", later["group"].to_numpy(dtype=object))
    out.insert(0, "patient", later["patient"].to_numpy())
    out["reason"] = reason
    with_baseline = patient[first]
    return out, with_baseline, day[first]


def _confirmed(patient: np.ndarray, deteriorated: pd.Series) -> pd.Series:
    """Confirmed deterioration at each follow-up visit (rows sorted by patient and day):
    deteriorated at this visit and at the patient's previous follow-up visit, by Kleene
    logic (False when either is False; missing when neither is False and one is unknown).
    A patient's first follow-up visit cannot be confirmed: False."""
    worse = pd.Series(deteriorated.to_numpy(), dtype="boolean")
    previous = worse.shift(1)
    first = np.r_[True, patient[1:] != patient[:-1]][: len(patient)]
    previous = previous.mask(pd.Series(first), False).astype("boolean")
    return worse & previous


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
        ``lower_bound``, ``imacs_improved``, ``deteriorated``, ``confirmed_deterioration``
        (nullable booleans: missing when a measure they read is missing), ``reason`` (of
        the TIS). ``baselines``: one row per patient with a baseline
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
                c: percent_dict(self.categories[c], self.percent[c]) for c in CATEGORIES
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: the categories add up to ``assessed``."""
        own = Declaration(
            counts=(Count(("assessed",)), Count(("not_assessed",)), Count(("lower_bound",))),
            margins=(Margin(tuple(("categories", c, "n") for c in CATEGORIES), ("assessed",)),),
        )
        parts = [percent_declaration(("categories", c), ("assessed",)) for c in CATEGORIES]
        return combine([own, *parts])


#: The definitions judged at each follow-up visit and reported at the landmarks: result key
#: -> column of :func:`visit_scores`.
DEFINITIONS: dict[str, str] = {
    "imacs_improvement": "imacs_improved",
    "confirmed_deterioration": "confirmed_deterioration",
}


@dataclass(frozen=True)
class LandmarkMet:
    """Patients meeting one definition (IMACS improvement, confirmed deterioration) at one
    landmark, from the visit nearest it within the window among the visits where the
    definition could be judged. Counts are of patients.

    Attributes
    ----------
    assessed : int
        Patients with a judged visit within the window.
    not_assessed : int
        Patients with a baseline but no judged visit within the window.
    met : int
        Assessed patients meeting the definition at that visit.
    percent : float or None
        ``100 * met / assessed``.
    ci : (float, float) or None
        Clopper-Pearson interval of ``percent``.
    """

    assessed: int
    not_assessed: int
    met: int
    percent: float | None
    ci: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "assessed": self.assessed,
            "not_assessed": self.not_assessed,
            "met": self.met,
            "percent": self.percent,
            "ci": list(self.ci) if self.ci else None,
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`."""
        return Declaration(
            counts=(
                Count(("assessed",)),
                Count(("not_assessed",)),
                Count(("met",), reveals=(("percent",), ("ci",))),
            ),
            margins=(Margin((("met",),), ("assessed",), rest=self.assessed - self.met),),
            shares=(Share(("percent",), ("met",), ("assessed",)),),
        )


def _met(rows: pd.DataFrame, column: str, with_baseline: int, alpha: float) -> LandmarkMet:
    """:class:`LandmarkMet` of the landmark visits ``rows`` (one per patient)."""
    assessed = len(rows)
    met = int(rows[column].astype(bool).sum())
    return LandmarkMet(assessed, with_baseline - assessed, met, *percent_ci(met, assessed, alpha))


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
    definitions : dict
        Definition (:data:`DEFINITIONS`) -> group -> landmark -> :class:`LandmarkMet`.
    imacs_improvement : dict
        Group -> :class:`~imnm_cohort.analysis.course_time.IncidenceAt`: time to the first
        IMACS 2004 improvement, death competing, among patients with a baseline.
    imacs_improvement_test : GrayTest or None
    judged : dict
        Counts of visits (rows, never patients) judged by each definition of
        :data:`DEFINITIONS`.
    """

    groups: dict[str, GroupResponse]
    improvement: dict[str, dict[str, IncidenceAt]]
    improvement_tests: dict[str, GrayTest]
    visits: dict[str, Any]
    time_zero_onset: int
    options: ResponseOptions = field(default_factory=ResponseOptions)
    definitions: dict[str, dict[str, dict[str, LandmarkMet]]] = field(default_factory=dict)
    imacs_improvement: dict[str, IncidenceAt] = field(default_factory=dict)
    imacs_improvement_test: GrayTest | None = None
    judged: dict[str, int] = field(default_factory=dict)

    def _imacs_dict(self) -> dict[str, Any]:
        return {
            "change": self.options.imacs_change,
            **{
                d: {
                    "groups": {
                        g: {"landmarks_months": {k: v.to_dict() for k, v in at.items()}}
                        for g, at in by_group.items()
                    }
                }
                for d, by_group in self.definitions.items()
            },
            "time_to_improvement": {
                "groups": {g: c.to_dict() for g, c in self.imacs_improvement.items()},
                "test": self.imacs_improvement_test.to_dict()
                if self.imacs_improvement_test
                else None,
            },
            "visits_judged": dict(self.judged),
        }

    def _imacs_disclosure(self) -> Declaration:
        root = ("imacs",)
        parts = []
        for d, by_group in self.definitions.items():
            for g, at in by_group.items():
                with_baseline = ("groups", g, "with_baseline")
                for k, v in at.items():
                    cell = (*root, d, "groups", g, "landmarks_months", k)
                    parts.append(
                        v.disclosure().under(*cell)
                        + Declaration(
                            margins=(
                                Margin(
                                    ((*cell, "assessed"), (*cell, "not_assessed")),
                                    with_baseline,
                                ),
                            )
                        )
                    )
        parts.append(
            incidence_disclosure(
                self.imacs_improvement,
                (*root, "time_to_improvement", "test"),
                (*root, "time_to_improvement", "groups"),
            )
        )
        parts.append(
            Declaration(
                counts=tuple(Count((*root, "visits_judged", d)) for d in self.judged),
                cleared=((*root, "change"),),
            )
        )
        return combine(parts)

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
            "imacs": self._imacs_dict(),
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
        parts.append(self._imacs_disclosure())
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
            "incidence with death competing and compared with Gray's test. The IMACS 2004 "
            "definition of improvement and confirmed deterioration (ProDERM: deteriorated at "
            "two consecutive follow-up visits) were judged at each follow-up visit against "
            f"the same baseline (percent change relative to "
            + ("baseline" if o.imacs_change == "baseline" else "the range of the scales")
            + "; not judged where a measure was missing), reported at the same landmarks, "
            "with the time to first IMACS improvement estimated in the same way."
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
                "imacs": {
                    "type": "object",
                    "properties": {
                        "change": {"enum": ["baseline", "default"]},
                        **{
                            d: {
                                "type": "object",
                                "properties": {
                                    "groups": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "type": "object",
                                            "properties": {
                                                "landmarks_months": {
                                                    "type": "object",
                                                    "additionalProperties": {
                                                        "type": "object",
                                                        "properties": {
                                                            "assessed": count,
                                                            "not_assessed": count,
                                                            "met": count,
                                                        },
                                                    },
                                                }
                                            },
                                        },
                                    }
                                },
                            }
                            for d in DEFINITIONS
                        },
                        "time_to_improvement": {
                            "type": "object",
                            "properties": {
                                "groups": {
                                    "type": "object",
                                    "additionalProperties": {"$ref": "#/$defs/incidenceAt"},
                                }
                            },
                        },
                        "visits_judged": {
                            "type": "object",
                            "description": "Counts of visits (rows), not of patients.",
                            "additionalProperties": count,
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


def _landmark(
    scores: pd.DataFrame, months: float, window: float, column: str = "total"
) -> pd.DataFrame:
    """Per patient, the visit with ``column`` known nearest ``months`` within ``window``
    days (:func:`~imnm_cohort.analysis.course_time.nearest`)."""
    day = scores["day"].to_numpy(dtype=float)
    known = np.where(scores[column].notna().to_numpy(dtype=bool), day, np.nan)
    patient = scores["patient"].to_numpy()
    return scores.iloc[nearest(patient, known, months * DAYS_PER_MONTH, window)]


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
            at[key] = LandmarkResponse(
                assessed,
                with_baseline - assessed,
                counts,
                {c: percent_ci(k, assessed, options.alpha) for c, k in counts.items()},
                int(rows["lower_bound"].sum()),
            )
        by_group[g] = GroupResponse(int(m.sum()), with_baseline, at)

    eligible = has_baseline & course["followed"].to_numpy(dtype=bool)
    follow = course["followup_days"].to_numpy(dtype=float)
    died = course["died"].to_numpy(dtype=bool)
    thresholds = dict(zip(LEVELS, CATEGORY_THRESHOLDS[options.population], strict=True))
    improvement: dict[str, dict[str, IncidenceAt]] = {}
    tests: dict[str, GrayTest] = {}

    def first_time(reached_at: np.ndarray) -> tuple[dict[str, IncidenceAt], GrayTest]:
        """Time to the first visit in ``reached_at`` (a mask of ``scores``), death
        competing, among the eligible patients."""
        reached = scores.loc[reached_at]
        day = np.full(len(course), np.inf)
        np.minimum.at(day, reached["patient"].to_numpy(), reached["day"].to_numpy(dtype=float))
        has = np.isfinite(day)
        time = np.where(has, np.fmax(day, 0.0), follow)
        event = np.where(has, EVENT, np.where(died, COMPETING, 0))
        return incidence_by_group(
            months_of(time[eligible]),
            event[eligible],
            label[eligible],
            groups,
            options.landmarks_months,
            options.alpha,
            options.min_count,
        )

    for level, threshold in thresholds.items():
        improvement[level], tests[level] = first_time(
            (scores["total"] >= threshold).to_numpy(dtype=bool)
        )
    imacs_curves, imacs_test = first_time(
        scores["imacs_improved"].fillna(False).to_numpy(dtype=bool)
    )
    definitions: dict[str, dict[str, dict[str, LandmarkMet]]] = {}
    for d, column in DEFINITIONS.items():
        nearest = {
            f"{m:g}": _landmark(scores, m, options.landmark_window_days, column)
            for m in options.landmarks_months
        }
        definitions[d] = {
            g: {
                k: _met(
                    rows.loc[(rows["group"] == g).to_numpy(dtype=bool)],
                    column,
                    by_group[g].with_baseline,
                    options.alpha,
                )
                for k, rows in nearest.items()
            }
            for g in groups
        }

    not_computed = scores["total"].isna().to_numpy(dtype=bool)
    # Visits per reason code: the distinct lists of codes are few, so they are counted
    # first and split after (not every visit's text).
    lists = scores.loc[scores["reason"] != "", "reason"].value_counts()
    counted: dict[str, int] = {}
    for text, visits_with in lists.items():
        for code in str(text).split(";"):
            counted[code] = counted.get(code, 0) + int(visits_with)
    by_reason = dict(sorted(counted.items()))
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
        definitions=definitions,
        imacs_improvement=imacs_curves,
        imacs_improvement_test=imacs_test,
        judged={d: int(scores[c].notna().sum()) for d, c in DEFINITIONS.items()},
    )
