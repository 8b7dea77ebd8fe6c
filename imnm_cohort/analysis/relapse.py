"""Relapse: a configurable rule (the project's convention), rates and the mean cumulative
function with death as a terminal event.

There is no consensus definition of relapse in IMNM. The toolkit's convention, every part a
field of :class:`RelapseDefinition`, is:

- **CK rise after normalisation** (``ck_above_k_uln_after_normalisation``): a visit whose
  CK exceeds ``k`` times its upper limit of normal (ULN; 200 U/L where the visit gives
  none) while the patient's last decisive CK before it was normal (<= ULN). Values between
  the ULN and ``k`` x ULN decide nothing: normal -> 1.5 x -> 3 x ULN is a relapse at 3 x
  (k = 2); a high CK that never normalised is refractory disease, not a relapse.
- **Treatment escalation after improvement**, improvement being a normal last decisive CK
  before the day of the escalation: the first start of a non-glucocorticoid immunotherapy
  the patient had not taken before (``new_immunotherapy_after_improvement``), or a
  glucocorticoid course whose daily dose exceeds that of the patient's previous
  glucocorticoid course (``glucocorticoid_increase_after_improvement``).
- Events less than ``merge_days`` apart (each from the one before it) are one relapse,
  dated at its first event, with every reason of its events.
- Only relapses after time zero and up to the end of observation count.

Rates are relapses per 100 person-years of follow-up from time zero, with exact (Garwood)
Poisson intervals. The mean cumulative function (MCF) is the expected number of relapses
per patient by time ``t`` when death ends the process (Ghosh and Lin 2000):
``mu(t) = sum_{u <= t} S(u-) dN(u) / Y(u)``, with ``S`` the Kaplan-Meier estimate of
survival, ``dN(u)`` the relapses at ``u`` and ``Y(u)`` the patients under observation; its
standard error is the robust (influence-function) one, as R ``mets::recurrentMarginal``
gives it; intervals are on the log scale.

References
----------
Ghosh D, Lin DY. Nonparametric analysis of recurrent events and death. Biometrics
2000;56:554-62. Cook RJ, Lawless JF. The Statistical Analysis of Recurrent Events.
Springer, 2007. Garwood F. Biometrika 1936;28:437-42.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.course_time import (
    course_patients,
    place_events,
    require_columns,
)
from imnm_cohort.analysis.intervals import poisson_exact
from imnm_cohort.analysis.treatments import TreatmentOptions, drug_class, drug_names
from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.disclosure.declarations import Count, Declaration, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, DAYS_PER_YEAR, IMNM_GROUPS

#: The reason codes of a relapse, with their words.
RELAPSE_REASONS: dict[str, str] = {
    "ck_above_k_uln_after_normalisation": "CK above k x ULN after a normal CK",
    "new_immunotherapy_after_improvement": "a new non-glucocorticoid immunotherapy "
    "while the last CK was normal",
    "glucocorticoid_increase_after_improvement": "a higher glucocorticoid dose while the "
    "last CK was normal",
}


@dataclass(frozen=True)
class RelapseDefinition:
    """The project's relapse convention (module docstring); every part can be changed.

    Attributes
    ----------
    k : float
        A CK above ``k`` x ULN after a normal CK is a relapse.
    ck_rise, new_immunotherapy, glucocorticoid_increase : bool
        Which rules apply.
    merge_days : float
        Events closer than this to the previous one are the same relapse.
    immunotherapy_classes : tuple of str
        The drug classes of a new immunotherapy (as for the treatments analysis).
    """

    k: float = 2.0
    ck_rise: bool = True
    new_immunotherapy: bool = True
    glucocorticoid_increase: bool = True
    merge_days: float = 30.0
    immunotherapy_classes: tuple[str, ...] = ("immunosuppressant", "ivig", "biologic")

    def __post_init__(self) -> None:
        if not (np.isfinite(self.k) and self.k >= 1):
            raise ConfigError("relapse k must be a number >= 1 (a multiple of the CK ULN)")
        if not (np.isfinite(self.merge_days) and self.merge_days >= 0):
            raise ConfigError("relapse merge_days must be 0 or more")
        if not (self.ck_rise or self.new_immunotherapy or self.glucocorticoid_increase):
            raise ConfigError("the relapse definition needs at least one rule")
        TreatmentOptions(immunotherapy_classes=self.immunotherapy_classes)  # checks them

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "convention": "imnm-cohort (no consensus definition of relapse exists)",
            "k": self.k,
            "rules": [
                r
                for r, on in zip(
                    RELAPSE_REASONS,
                    (self.ck_rise, self.new_immunotherapy, self.glucocorticoid_increase),
                    strict=True,
                )
                if on
            ],
            "merge_days": self.merge_days,
            "immunotherapy_classes": list(self.immunotherapy_classes),
        }


#: The reason codes in a fixed order (their position is the code's number in the stream).
_REASONS: tuple[str, ...] = tuple(RELAPSE_REASONS)
_CK, _NEW, _GC = range(3)


def _stream(
    patient: np.ndarray, day: np.ndarray, kind: int, state: np.ndarray, reason: int
) -> dict[str, np.ndarray]:
    """Rows of the event stream of :func:`_relapses`, as arrays."""
    return {
        "patient": np.asarray(patient, dtype=np.int64),
        "day": np.asarray(day, dtype=float),
        "kind": np.full(len(patient), kind, dtype=np.int8),
        "state": np.asarray(state, dtype=float),
        "reason": np.full(len(patient), reason, dtype=np.int8),
    }


def _ck_states(visits: pd.DataFrame, k: float) -> dict[str, np.ndarray]:
    """CK visits with ``state``: 0 normal (<= ULN), 1 high (> k x ULN), NaN neither."""
    ck = visits["ck"].to_numpy(dtype=float, na_value=np.nan)
    has = ~np.isnan(ck)
    if "ck_uln" in visits:
        limit = visits["ck_uln"].to_numpy(dtype=float, na_value=np.nan)[has]
        limit = np.where(np.isnan(limit), CK_ULN_DEFAULT, limit)
    else:
        limit = np.full(int(has.sum()), CK_ULN_DEFAULT)
    value = ck[has]
    state = np.where(value <= limit, 0.0, np.where(value > k * limit, 1.0, np.nan))
    patient = visits["patient"].to_numpy()[has]
    return _stream(patient, visits["day_visit_date"].to_numpy()[has], 1, state, _CK)


def _escalations(
    courses: pd.DataFrame, definition: RelapseDefinition
) -> list[dict[str, np.ndarray]]:
    """Escalation events: first starts of new immunotherapies; glucocorticoid increases.
    On a visit's day, an escalation (kind 0) is judged on the visits before it."""
    drug = drug_names(courses["drug"])
    cls = drug_class(pd.Series(drug, dtype=object)).to_numpy(dtype=object)
    patient = courses["patient"].to_numpy()
    day = courses["day_start_date"].to_numpy(dtype=float)
    parts = []
    if definition.new_immunotherapy:
        counted = np.flatnonzero(np.isin(cls, list(definition.immunotherapy_classes)))
        agents = pd.DataFrame(
            {"patient": patient[counted], "day": day[counted], "drug": drug[counted]}
        )
        first = agents.sort_values(["patient", "day", "drug"], kind="stable").drop_duplicates(
            ["patient", "drug"]
        )
        none = np.full(len(first), np.nan)
        parts.append(_stream(first["patient"].to_numpy(), first["day"].to_numpy(), 0, none, _NEW))
    if definition.glucocorticoid_increase:
        rows = np.flatnonzero(cls == "glucocorticoid")
        dose = (
            courses["dose_mg_per_day"].to_numpy(dtype=float, na_value=np.nan)[rows]
            if "dose_mg_per_day" in courses
            else np.full(len(rows), np.nan)
        )
        order = np.lexsort((np.isnan(dose), dose, day[rows], patient[rows]))
        p, d, dose = patient[rows][order], day[rows][order], dose[order]
        same = np.r_[False, p[1:] == p[:-1]][: len(p)]  # empty stays empty
        previous = np.r_[np.nan, dose[:-1]][: len(p)]
        with np.errstate(invalid="ignore"):
            up = same & (dose > previous)
        parts.append(_stream(p[up], d[up], 0, np.full(int(up.sum()), np.nan), _GC))
    return parts


def _relapses(
    course: pd.DataFrame, visits: pd.DataFrame, courses: pd.DataFrame, definition: RelapseDefinition
) -> pd.DataFrame:
    """Relapses of the course's patients: ``patient`` (position), ``day`` and one boolean
    column per reason code."""
    require_columns(visits, ("patient_id", "visit_date", "ck"), "visits")
    read = [c for c in ("patient_id", "visit_date", "ck", "ck_uln") if c in visits.columns]
    parts = [_ck_states(place_events(visits[read], course, ("visit_date",)), definition.k)]
    if definition.new_immunotherapy or definition.glucocorticoid_increase:
        require_columns(courses, ("patient_id", "drug", "start_date"), "treatments")
        read = ["patient_id", "start_date", "drug", "dose_mg_per_day"]
        read = [c for c in read if c in courses.columns]
        parts += _escalations(place_events(courses[read], course, ("start_date",)), definition)
    stream = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    state = stream["state"]
    order = np.lexsort(
        (stream["reason"], np.nan_to_num(state, nan=2.0), stream["kind"], stream["day"],
         stream["patient"])
    )  # fmt: skip
    patient, day, kind = stream["patient"][order], stream["day"][order], stream["kind"][order]
    reason, state = stream["reason"][order], state[order]
    # The last decisive CK up to and including each row, within the patient.
    known = pd.Series(state).groupby(patient, sort=False).ffill().to_numpy()
    n = len(patient)  # the [:n] keep an empty stream empty
    first_row = np.r_[True, patient[1:] != patient[:-1]][:n]
    before = np.where(first_row, np.nan, np.r_[np.nan, known[:-1]][:n])
    ck_event = (kind == 1) & (state == 1) & (before == 0) & definition.ck_rise
    escalation = (kind == 0) & (known == 0)
    follow = course["followup_days"].to_numpy(dtype=float)[patient]
    event = (ck_event | escalation) & (day > 0) & (day <= follow)
    patient, day, reason = patient[event], day[event], reason[event]
    gap = np.diff(day) >= definition.merge_days
    new = np.r_[True, (patient[1:] != patient[:-1]) | gap][: len(patient)]
    number = np.cumsum(new) - 1
    out = pd.DataFrame({"patient": patient[new], "day": day[new]})
    for i, code in enumerate(_REASONS):
        out[code] = np.bincount(number[reason == i], minlength=len(out)) > 0
    return out


def _reason_text(relapses: pd.DataFrame) -> np.ndarray:
    """``;``-joined reason codes of each relapse, sorted (one pass per code)."""
    text = np.full(len(relapses), "", dtype=object)
    for code in sorted(_REASONS):
        text = np.where(relapses[code].to_numpy(dtype=bool), text + (code + ";"), text)
    return np.asarray(pd.Series(text, dtype=object).str.rstrip(";").to_numpy(dtype=object))


def find_relapses(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    courses: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    definition: RelapseDefinition | None = None,
) -> pd.DataFrame:
    """Every relapse by the definition, one row per relapse (patient-level: not for an
    aggregate output).

    Parameters
    ----------
    patients : DataFrame
        Classified patients (``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date``, ``death_date``).
    visits, courses : DataFrame
        Valid rows of the ``visits`` and ``treatments`` tables (contract section 6).
    groups : sequence of str
    definition : RelapseDefinition, optional

    Returns
    -------
    DataFrame
        ``patient_id``, ``group``, ``day`` (days since time zero of the relapse's first
        event), ``reasons`` (``;``-joined codes of :data:`RELAPSE_REASONS`, sorted), sorted
        by patient and day.
    """
    definition = definition or RelapseDefinition()
    course = course_patients(patients, groups)
    found = _relapses(course, visits, courses, definition)
    position = found["patient"].to_numpy()
    return pd.DataFrame(
        {
            "patient_id": course.index.to_numpy(dtype=object)[position],
            "group": course["group"].to_numpy(dtype=object)[position],
            "day": found["day"].to_numpy(dtype=float),
            "reasons": _reason_text(found),
        }
    )


@dataclass(frozen=True)
class MeanCumulativeFunction:
    """The mean cumulative function of relapses at fixed times, death terminal.

    ``estimate[i]`` is None where fewer than the minimum count of patients are under
    observation at ``months[i]`` (``at_risk`` is then None as well).
    """

    months: tuple[float, ...]
    at_risk: tuple[int | None, ...]
    estimate: tuple[float | None, ...]
    se: tuple[float | None, ...]
    ci: tuple[tuple[float, float] | None, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            f"{m:g}": {"at_risk": r, "estimate": e, "se": s, "ci": list(c) if c else None}
            for m, r, e, s, c in zip(
                self.months, self.at_risk, self.estimate, self.se, self.ci, strict=True
            )
        }


def mean_cumulative_function(
    exit_time: np.ndarray,
    died: np.ndarray,
    event_subject: np.ndarray,
    event_time: np.ndarray,
    times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ghosh-Lin mean cumulative function with death terminal, and its robust SE.

    Every subject is observed from 0 to ``exit_time`` (death where ``died``, else
    censoring); recurrent events at ``event_time`` (``0 < t <= exit``) belong to
    ``event_subject`` (positions in ``exit_time``).

    .. math:: \\hat\\mu(t) = \\sum_{u \\le t} \\hat S(u-) \\, dN(u) / Y(u)

    The variance is :math:`\\sum_i \\psi_i(t)^2` with the influence functions
    :math:`\\psi_i(t) = \\int_0^t \\hat S(u-)/Y(u) \\, dM_i^R(u) + \\int_0^t (\\hat\\mu(u) -
    \\hat\\mu(t))/Y(u) \\, dM_i^D(u)` (Ghosh and Lin 2000), as R ``mets::recurrentMarginal``
    computes it.

    Returns
    -------
    (estimate, se, at_risk) at ``times``
        ``at_risk``: subjects with ``exit_time >= t``.
    """
    exit_time = np.asarray(exit_time, dtype=float)
    died = np.asarray(died, dtype=bool)
    event_subject = np.asarray(event_subject, dtype=np.int64)
    event_time = np.asarray(event_time, dtype=float)
    times = np.asarray(times, dtype=float)
    grid = np.unique(np.concatenate([event_time, exit_time[died]]))
    exits = np.sort(exit_time)
    if grid.size == 0:  # no relapse and no death: 0 with no variance
        zero = np.zeros(len(times))
        return zero, zero.copy(), len(exit_time) - np.searchsorted(exits, times, "left")
    at_risk = len(exit_time) - np.searchsorted(exits, grid, "left")
    d_r = np.bincount(np.searchsorted(grid, event_time), minlength=len(grid)).astype(float)
    d_d = np.bincount(np.searchsorted(grid, exit_time[died]), minlength=len(grid)).astype(float)
    y = np.maximum(at_risk, 1).astype(float)
    surv = np.cumprod(1.0 - d_d / y)
    surv_before = np.concatenate([[1.0], surv[:-1]])
    mu = np.cumsum(surv_before * d_r / y)
    a = surv_before / y  # weight of a recurrent event's martingale increment
    estimate = np.empty(len(times))
    se = np.empty(len(times))
    for j, t in enumerate(times):  # one pass over the subjects per time asked for
        k = np.searchsorted(grid, t, "right")  # grid[:k] <= t
        mu_t = mu[k - 1] if k else 0.0
        b = (mu - mu_t) / y  # weight of a death's martingale increment
        c = np.cumsum(np.where(np.arange(len(grid)) < k, a * d_r / y + b * d_d / y, 0.0))
        position = np.searchsorted(grid, np.minimum(exit_time, t), "right") - 1
        compensator = np.where(position >= 0, c[np.maximum(position, 0)], 0.0)
        jumps = np.bincount(
            event_subject[event_time <= t],
            weights=a[np.searchsorted(grid, event_time[event_time <= t])],
            minlength=len(exit_time),
        ).astype(float)  # an empty bincount is of integers
        death_here = died & (exit_time <= t)
        jumps += np.where(
            death_here, b[np.minimum(np.searchsorted(grid, exit_time), len(grid) - 1)], 0.0
        )
        psi = jumps - compensator
        estimate[j] = mu_t
        se[j] = np.sqrt(np.sum(psi**2))
    return estimate, se, len(exit_time) - np.searchsorted(exits, times, "left")


@dataclass(frozen=True)
class GroupRelapse:
    """Relapses in one group.

    Counts: ``n`` (patients), ``followed`` (patients with follow-up), ``patients_relapsed``
    (patients with one relapse or more), ``relapses`` (relapses: events, not patients) and
    per reason the relapses with that reason.
    """

    n: int
    followed: int
    patients_relapsed: int
    relapses: int
    by_reason: dict[str, int]
    person_years: float
    rate_per_100py: float | None
    rate_ci: tuple[float, float] | None
    mcf: MeanCumulativeFunction

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "followed": self.followed,
            "patients_relapsed": self.patients_relapsed,
            "relapses": self.relapses,
            "by_reason": dict(self.by_reason),
            "person_years": self.person_years,
            "rate_per_100py": self.rate_per_100py,
            "rate_ci": list(self.rate_ci) if self.rate_ci else None,
            "mcf": self.mcf.to_dict(),
        }

    def disclosure(self, group: str) -> Declaration:
        """Paths relative to :meth:`to_dict`."""
        rate = (("rate_per_100py",), ("rate_ci",))
        counts = [
            Count(("n",), f"group:{group}"),
            Count(("followed",), describes=(("person_years",), ("mcf",))),
            Count(("patients_relapsed",)),
            Count(("relapses",), reveals=rate),
            *(Count(("by_reason", r)) for r in self.by_reason),
        ]
        for m, r in zip(self.mcf.months, self.mcf.at_risk, strict=True):
            if r is not None:
                counts.append(Count(("mcf", f"{m:g}", "at_risk"), describes=(("mcf", f"{m:g}"),)))
        return Declaration(counts=tuple(counts))


@dataclass(frozen=True)
class Relapse:
    """Relapses by IMNM group: rates and the mean cumulative function (module docstring).

    Attributes
    ----------
    groups : dict
        Group -> :class:`GroupRelapse`.
    definition : RelapseDefinition
    min_count : int
        MCF points with fewer patients under observation are not shown.
    """

    groups: dict[str, GroupRelapse]
    definition: RelapseDefinition = field(default_factory=RelapseDefinition)
    min_count: int = DEFAULT_MIN_COUNT

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "definition": self.definition.to_dict(),
            "min_count": self.min_count,
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
        }

    def disclosure(self) -> Declaration:
        """Declarations of :meth:`to_dict`."""
        parts = [r.disclosure(g).under("groups", g) for g, r in self.groups.items()]
        parts.append(Declaration(cleared=(("definition",), ("min_count",))))
        return combine(parts)

    def method(self) -> str:
        """The method in two sentences."""
        d = self.definition
        return (
            "Relapse followed the toolkit's convention (no consensus definition exists): a CK "
            f"above {d.k:g} x ULN after a normal CK, or treatment escalation (a new "
            "non-glucocorticoid immunotherapy or a higher glucocorticoid dose) while the last "
            f"CK was normal, events within {d.merge_days:g} days being one relapse. Rates per "
            "100 person-years from diagnosis have exact Poisson intervals; the mean "
            "cumulative function treats death as a terminal event (Ghosh-Lin, robust "
            "standard errors)."
        )

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict`."""
        count = {"$ref": "#/$defs/count"}
        number = {"$ref": "#/$defs/number"}
        return {
            "type": "object",
            "required": ["definition", "groups"],
            "properties": {
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "n": count,
                            "followed": count,
                            "patients_relapsed": count,
                            "relapses": count,
                            "by_reason": {"type": "object", "additionalProperties": count},
                            "person_years": number,
                            "rate_per_100py": number,
                            "rate_ci": {"$ref": "#/$defs/interval"},
                            "mcf": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "properties": {
                                        "at_risk": {"oneOf": [count, {"type": "null"}]},
                                        "estimate": number,
                                        "se": number,
                                        "ci": {"$ref": "#/$defs/interval"},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        }


def relapse(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    courses: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    definition: RelapseDefinition | None = None,
    *,
    mcf_months: Sequence[float] = (6.0, 12.0, 24.0, 36.0, 48.0, 60.0),
    min_count: int = DEFAULT_MIN_COUNT,
    alpha: float = 0.05,
) -> Relapse:
    """Relapses by IMNM group: per 100 person-years and the mean cumulative function.

    Parameters
    ----------
    patients, visits, courses, groups, definition
        As for :func:`find_relapses`.
    mcf_months : sequence of float
        Months since time zero at which the MCF is given.
    min_count : int
        An MCF point is shown only where at least this many patients are under observation.
    alpha : float
        1 - confidence level.

    Returns
    -------
    Relapse
    """
    from scipy import stats

    definition = definition or RelapseDefinition()
    course = course_patients(patients, groups)
    found = _relapses(course, visits, courses, definition)
    z = float(stats.norm.ppf(1 - alpha / 2))
    times = np.asarray(mcf_months, dtype=float) * DAYS_PER_MONTH
    label = course["group"].to_numpy(dtype=object)
    follow = course["followup_days"].to_numpy(dtype=float)
    followed_all = course["followed"].to_numpy(dtype=bool)
    died_all = course["died"].to_numpy(dtype=bool)
    relapse_patient = found["patient"].to_numpy()
    out: dict[str, GroupRelapse] = {}
    for g in groups:
        member = label == g
        chosen = np.flatnonzero(member & followed_all)
        mine = member[relapse_patient]
        rows = found.loc[mine]
        person_years = float(follow[chosen].sum()) / DAYS_PER_YEAR
        count = len(rows)
        if person_years > 0:
            lo, hi = poisson_exact(count, person_years, alpha)
            rate: float | None = 100.0 * count / person_years
            ci: tuple[float, float] | None = (100.0 * lo, 100.0 * hi)
        else:
            rate, ci = None, None
        lookup = np.full(len(course), -1)
        lookup[chosen] = np.arange(len(chosen))
        estimate, se, at_risk = mean_cumulative_function(
            follow[chosen],
            died_all[chosen],
            lookup[relapse_patient[mine]],
            rows["day"].to_numpy(dtype=float),
            times,
        )
        shown = at_risk >= max(min_count, 1)
        out[g] = GroupRelapse(
            n=int(member.sum()),
            followed=len(chosen),
            patients_relapsed=int(np.unique(relapse_patient[mine]).size),
            relapses=count,
            by_reason={r: int(rows[r].sum()) for r in RELAPSE_REASONS},
            person_years=person_years,
            rate_per_100py=rate,
            rate_ci=ci,
            mcf=MeanCumulativeFunction(
                tuple(float(m) for m in mcf_months),
                tuple(int(r) if s else None for r, s in zip(at_risk, shown, strict=True)),
                tuple(float(e) if s else None for e, s in zip(estimate, shown, strict=True)),
                tuple(float(v) if s else None for v, s in zip(se, shown, strict=True)),
                tuple(
                    _log_interval(float(e), float(v), z) if s else None
                    for e, v, s in zip(estimate, se, shown, strict=True)
                ),
            ),
        )
    return Relapse(out, definition, min_count)


def _log_interval(estimate: float, se: float, z: float) -> tuple[float, float] | None:
    """``estimate * exp(+-z se / estimate)``; None where the estimate is 0."""
    if estimate <= 0:
        return None
    factor = float(np.exp(z * se / estimate))
    return estimate / factor, estimate * factor


__all__ = [
    "RELAPSE_REASONS",
    "MeanCumulativeFunction",
    "Relapse",
    "RelapseDefinition",
    "find_relapses",
    "mean_cumulative_function",
    "relapse",
]
