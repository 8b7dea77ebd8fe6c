"""Strength: manual muscle testing (MMT) as a percentage of its scale over time, and the
proportion back to full strength at landmarks.

MMT is taken as a percentage of the visit's scale maximum (``mmt_max``: 80 for MMT-8 one
side where empty, 150 both sides, 260 for MMT-24), so that scales can be pooled. Time zero
is the diagnosis date (the onset date where it is empty; :mod:`imnm_cohort.analysis.course`).

**Over time**: the linear mixed model of :mod:`imnm_cohort.analysis.mixed` (random intercept
and slope per patient, group x time) on years since time zero, from visits up to
``horizon_months``, reporting each group's slope (percentage points per year) with its
interval; and the series of group means per time bin.

**Full strength** at each landmark (12 and 24 months by default): each patient's MMT at the
visit nearest the landmark within ``window_months`` either side (the earlier of two as
near); full strength is a percentage of at least ``full_percent`` (95). The proportion is
over the patients with such a visit, with its Clopper-Pearson interval. Patients and
visits are counted apart: the visits in the window are rows, never patients, and the
patients without a visit in the window (of whom those who died before the landmark) are
counted as patients.

References
----------
Werner JL, Christopher-Stine L, Ghazarian SR, et al. Antibody levels correlate with
creatine kinase levels and strength in anti-3-hydroxy-3-methylglutaryl-coenzyme A
reductase-associated autoimmune myopathy. Arthritis Rheum 2012;64:4087-93 (44% of
anti-HMGCR patients regained full strength).
Rider LG, Koziol D, Giannini EH, et al. Validation of manual muscle testing and a subset
of eight muscles for adult and juvenile idiopathic inflammatory myopathies. Arthritis Care
Res 2010;62:465-72 (MMT-8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from imnm_cohort.analysis.course import (
    DEFAULT_BINS_MONTHS,
    BinnedSeries,
    binned_series,
    course_patients,
    course_visits,
)
from imnm_cohort.analysis.intervals import clopper_pearson
from imnm_cohort.analysis.mixed import GrowthModel, fit_growth_model
from imnm_cohort.contracts.visits import MMT_MAX_DEFAULT
from imnm_cohort.disclosure.declarations import (
    Count,
    Declaration,
    Margin,
    Share,
    combine,
)
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.vocabulary import DAYS_PER_MONTH, IMNM_GROUPS


@dataclass(frozen=True)
class StrengthOptions:
    """Options of the strength analysis.

    Attributes
    ----------
    landmarks_months : tuple of float
        When the proportion at full strength is reported (default 12 and 24 months).
    window_months : float
        The visit nearest a landmark counts when within this many months either side
        (default 3: a quarter of the first landmark, and clinic visits in IMNM are usually
        every three months).
    full_percent : float
        Full strength: MMT at least this percentage of the scale (default 95).
    horizon_months : float or None
        The mixed model uses the visits up to this time since time zero (default 24);
        None for all.
    bins_months : tuple of float
    statistic : str
        The series' statistic, ``mean`` (default) or ``median``.
    min_count : int
        The fewest patients a bin of the series shows a value for.
    alpha : float
    """

    landmarks_months: tuple[float, ...] = (12.0, 24.0)
    window_months: float = 3.0
    full_percent: float = 95.0
    horizon_months: float | None = 24.0
    bins_months: tuple[float, ...] = DEFAULT_BINS_MONTHS
    statistic: str = "mean"
    min_count: int = DEFAULT_MIN_COUNT
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.window_months < 0:
            raise ValueError("window_months must be 0 or more")
        if not 0 < self.full_percent <= 100:
            raise ValueError("full_percent must be above 0 and at most 100")
        if self.horizon_months is not None and self.horizon_months <= 0:
            raise ValueError("horizon_months must be above 0")


@dataclass(frozen=True)
class FullStrength:
    """One group's full strength at one landmark.

    Attributes
    ----------
    patients : int
        Patients of the group.
    assessed : int
        Patients with an MMT within the window (the denominator).
    full : int
        Of them, patients at full strength.
    proportion : float or None
        ``full / assessed``; None without patients assessed.
    ci : tuple of float, or None
        Clopper-Pearson interval.
    not_assessed : int
        Patients without an MMT within the window.
    died_before : int
        Of them, patients who died before the landmark.
    visits_in_window : int
        Visits with an MMT within the window (rows, not patients).
    """

    patients: int
    assessed: int
    full: int
    proportion: float | None
    ci: tuple[float, float] | None
    not_assessed: int
    died_before: int
    visits_in_window: int

    def disclosure(self, key: str) -> Declaration:
        """Paths relative to :meth:`to_dict`: ``patients`` (the same number at every
        landmark: ``key``) = ``assessed`` + ``not_assessed``; ``full`` gives back the
        proportion; ``died_before`` is among ``not_assessed``; visits are rows."""
        return Declaration(
            counts=(
                Count(("patients",), key),
                Count(("assessed",), describes=(("proportion",), ("ci",))),
                Count(("full",), reveals=(("proportion",), ("ci",))),
                Count(("not_assessed",)),
                Count(("died_before",)),
                Count(("visits_in_window",)),
            ),
            margins=(
                Margin((("assessed",), ("not_assessed",)), ("patients",)),
                Margin((("full",),), ("assessed",), rest=self.assessed - self.full),
                Margin(
                    (("died_before",),),
                    ("not_assessed",),
                    rest=self.not_assessed - self.died_before,
                ),
            ),
            shares=(Share(("proportion",), ("full",), ("assessed",), scale=1.0),),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "patients": self.patients,
            "assessed": self.assessed,
            "full": self.full,
            "proportion": self.proportion,
            "ci": list(self.ci) if self.ci else None,
            "not_assessed": self.not_assessed,
            "died_before": self.died_before,
            "visits_in_window": self.visits_in_window,
        }


@dataclass(frozen=True)
class StrengthCourse:
    """Strength over time by IMNM group.

    Attributes
    ----------
    model : GrowthModel
        MMT as a percentage of its scale over years since time zero.
    full_strength : Mapping[str, Mapping[str, FullStrength]]
        Landmark (months, as text such as ``12``) -> group -> :class:`FullStrength`.
    series : BinnedSeries
        MMT percentage per bin of months since time zero (group means by default).
    patients : int
        Patients of the groups.
    time_zero_from_onset : int
        Patients whose time zero is the onset date (no diagnosis date).
    options : StrengthOptions
    """

    model: GrowthModel
    full_strength: Mapping[str, Mapping[str, FullStrength]]
    series: BinnedSeries
    patients: int
    time_zero_from_onset: int
    options: StrengthOptions = field(default_factory=StrengthOptions)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        o = self.options
        return {
            "patients": self.patients,
            "time_zero": "diagnosis, else onset",
            "time_zero_from_onset": self.time_zero_from_onset,
            "full_percent": float(o.full_percent),
            "window_months": float(o.window_months),
            "full_strength": {
                landmark: {g: r.to_dict() for g, r in by_group.items()}
                for landmark, by_group in self.full_strength.items()
            },
            "model": self.model.to_dict(),
            "series": self.series.to_dict(),
        }

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (``$defs`` of the summary's root)."""
        count = {"$ref": "#/$defs/count"}
        full = {
            "type": "object",
            "properties": {
                **{
                    k: count
                    for k in (
                        "patients",
                        "assessed",
                        "full",
                        "not_assessed",
                        "died_before",
                        "visits_in_window",
                    )
                },
                "proportion": {"$ref": "#/$defs/number"},
                "ci": {"$ref": "#/$defs/interval"},
            },
        }
        return {
            "type": "object",
            "description": (
                "Strength by group: MMT as a percentage of its scale over time (a linear "
                "mixed model, a series) and the proportion at full strength at landmarks "
                "(months since diagnosis)."
            ),
            "required": ["patients", "full_strength", "model", "series"],
            "properties": {
                "patients": count,
                "time_zero": {"type": "string"},
                "time_zero_from_onset": count,
                "full_percent": {"type": "number"},
                "window_months": {"type": "number"},
                "full_strength": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "additionalProperties": full},
                },
                "model": GrowthModel.json_schema(),
                "series": BinnedSeries.json_schema(),
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: the patients, full strength at each landmark
        by group (:meth:`FullStrength.disclosure`), the model's and the series' counts."""
        return combine(
            [
                Declaration(counts=(Count(("patients",)), Count(("time_zero_from_onset",)))),
                *(
                    r.disclosure(f"strength_patients:{g}").under("full_strength", landmark, g)
                    for landmark, by_group in self.full_strength.items()
                    for g, r in by_group.items()
                ),
                self.model.disclosure().under("model"),
                self.series.disclosure().under("series"),
            ]
        )

    def method(self) -> str:
        """A sentence for the methods."""
        o = self.options
        landmarks = " and ".join(f"{m:g}" for m in o.landmarks_months)
        horizon = "" if o.horizon_months is None else f" up to {o.horizon_months:g} months"
        return (
            "Manual muscle testing as a percentage of its scale maximum over time since "
            "diagnosis" + horizon + " was modelled by a linear mixed model with a random "
            "intercept and slope per patient (REML), fixed effects group x time; the "
            f"proportion at full strength (>= {o.full_percent:g}% of maximum) at "
            f"{landmarks} months used each patient's visit nearest the landmark within "
            f"{o.window_months:g} months, with Clopper-Pearson intervals."
        )


def mmt_percent(visits: pd.DataFrame) -> pd.Series:
    """MMT as a percentage of the visit's scale (``mmt_max``, 80 where empty)."""
    scale = pd.to_numeric(visits["mmt_max"], errors="coerce").astype(float)
    return 100.0 * visits["mmt"].astype(float) / scale.fillna(MMT_MAX_DEFAULT)


def full_strength(
    people: pd.DataFrame,
    v: pd.DataFrame,
    landmark_months: float,
    options: StrengthOptions,
    groups: Sequence[str],
) -> dict[str, FullStrength]:
    """Full strength at one landmark, by group, from :func:`course_patients` and the
    course visits with ``mmt_percent`` (see the module's description)."""
    months = v["days"] / DAYS_PER_MONTH
    distance = (months - landmark_months).abs()
    near = v[distance <= options.window_months].assign(distance=distance)
    nearest = (
        near.sort_values(["patient_id", "distance", "days"], kind="stable")
        .drop_duplicates("patient_id")
        .set_index("patient_id")
    )
    is_full = nearest["mmt_percent"] >= options.full_percent
    landmark_days = landmark_months * DAYS_PER_MONTH
    died_before = people["died"] & (people["follow_up_days"] < landmark_days)
    out = {}
    for g in groups:
        mine = people["group"] == g
        ids = people.loc[mine, "patient_id"]
        assessed_ids = nearest.index[nearest["group"] == g]
        n, k = len(assessed_ids), int(is_full[nearest["group"] == g].sum())
        assessed = ids.isin(assessed_ids)
        out[g] = FullStrength(
            patients=len(ids),
            assessed=n,
            full=k,
            proportion=k / n if n else None,
            ci=clopper_pearson(k, n, options.alpha) if n else None,
            not_assessed=int((~assessed).sum()),
            died_before=int((died_before[mine] & ~assessed.to_numpy()).sum()),
            visits_in_window=int((near["group"] == g).sum()),
        )
    return out


def strength_course(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    options: StrengthOptions | None = None,
    groups: Sequence[str] = IMNM_GROUPS,
) -> StrengthCourse:
    """Strength by group: the mixed model, full strength at the landmarks, the series.

    Parameters
    ----------
    patients : pandas.DataFrame
        The classified patients (``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date``, ``death_date``). Not modified.
    visits : pandas.DataFrame
        The valid rows of the ``visits`` table (``patient_id``, ``visit_date``, ``mmt``,
        ``mmt_max``). Not modified.
    options : StrengthOptions, optional
    groups : sequence of str
        The groups, in order (the first is the model's reference).

    Returns
    -------
    StrengthCourse
    """
    options = options or StrengthOptions()
    people = course_patients(patients, groups)
    v = course_visits(people, visits, ["mmt", "mmt_max"])
    v = v[v["mmt"].notna()].copy()
    v["mmt_percent"] = mmt_percent(v)
    modelled = v
    if options.horizon_months is not None:
        modelled = v[v["days"] <= options.horizon_months * DAYS_PER_MONTH]
    model = fit_growth_model(
        modelled, outcome="mmt_percent", time="years", group="group", groups=groups
    )
    series = binned_series(
        v, "mmt_percent", groups=groups, bins_months=options.bins_months,
        statistic=options.statistic, min_count=options.min_count, alpha=options.alpha,
    )  # fmt: skip
    landmarks = {
        f"{m:g}": MappingProxyType(full_strength(people, v, m, options, groups))
        for m in options.landmarks_months
    }
    return StrengthCourse(
        model=model,
        full_strength=MappingProxyType(landmarks),
        series=series,
        patients=len(people),
        time_zero_from_onset=int(people["from_onset"].sum()),
        options=options,
    )
