"""Malignancy: cancer-associated myositis, incidence after onset, cumulative incidence.

Time zero is onset (or, as an option, the diagnosis date). Patients with a qualifying cancer
before time zero are not at risk, nor are patients whose time zero falls after their end of
observation (a diagnosis date after the last follow-up: no follow-up from diagnosis exists;
they are counted as ``time_zero_after_end`` and flagged by validation as a data-quality
warning). Follow-up ends at the first cancer, at death (a competing
event) or at the end of observation, whichever comes first; a cancer dated after the end
of observation is not counted (the patient is censored at the end of observation).

Which cancers count (each a documented option, :class:`MalignancyOptions`): ICD-10 C00-C97
(malignant neoplasms); C44 (non-melanoma skin cancer) excluded by default; D00-D09 (in situ)
not counted by default. A cancer date with no code counts as a malignancy, as the contract
defines ``cancer_date`` as the first malignancy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.analysis.competing import (
    COMPETING,
    EVENT,
    CumulativeIncidence,
    GrayTest,
    cumulative_incidence,
    gray_test,
)
from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from imnm_cohort.classify.derived import end_of_observation
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.vocabulary import (
    DAYS_PER_YEAR,
    GROUP_COLUMN,
    IMNM_GROUPS,
    days_between,
    malignant_icd10,
)

#: Fewest cancers a model of cancer by group (cause-specific Cox, Fine-Gray) is fitted on.
MIN_EVENTS = 10


@dataclass(frozen=True)
class MalignancyOptions:
    """Choices for the malignancy analyses (all documented in ``docs/analyses.md``).

    Attributes
    ----------
    window_years : float
        Cancer-associated myositis: a cancer within this many years before or after time
        zero (default 3, the usual convention; 1 and 5 are also reported in the literature).
    horizon_years : float
        When the cumulative incidence is read off (default 3).
    time_zero : {"onset", "diagnosis"}
        The index date (default onset, the study's index date).
    exclude_c44 : bool
        Leave out non-melanoma skin cancer, ICD-10 C44 (default True).
    include_in_situ : bool
        Count in situ neoplasms D00-D09 (default False).
    alpha : float
        1 - confidence level of every interval (default 0.05).
    """

    window_years: float = 3.0
    horizon_years: float = 3.0
    time_zero: Literal["onset", "diagnosis"] = "onset"
    exclude_c44: bool = True
    include_in_situ: bool = False
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.time_zero not in ("onset", "diagnosis"):
            raise ValueError("time_zero must be 'onset' or 'diagnosis'")
        if self.window_years < 0 or self.horizon_years <= 0:
            raise ValueError("window_years must be >= 0 and horizon_years > 0")

    def time_zero_dates(self, frame: pd.DataFrame) -> pd.Series:
        """Each patient's time zero: the onset or the diagnosis date."""
        return frame["onset_date"] if self.time_zero == "onset" else frame["diagnosis_date"]


def qualifying_cancer(frame: pd.DataFrame, options: MalignancyOptions) -> np.ndarray:
    """Whether each patient's recorded cancer counts under the options."""
    code = frame["cancer_icd10"]
    malignant = malignant_icd10(
        code, exclude_c44=options.exclude_c44, include_in_situ=options.include_in_situ
    )
    counts = malignant | code.isna()
    return (frame["cancer_date"].notna() & counts).to_numpy(dtype=bool)


def time_to_cancer(frame: pd.DataFrame, options: MalignancyOptions) -> pd.DataFrame:
    """Per patient: ``at_risk``, ``time_years``, ``event`` (0/1 cancer/2 death) and
    ``time_zero_after_end``.

    Patients without a time-zero date (diagnosis date missing when ``time_zero`` is
    ``"diagnosis"``), with a qualifying cancer before time zero, or whose time zero falls
    after their end of observation (``time_zero_after_end``: no follow-up from time zero)
    are not at risk. The time of a patient not at risk is 0, never negative.
    """
    t0 = options.time_zero_dates(frame)
    cancer = frame["cancer_date"].where(qualifying_cancer(frame, options))
    end = end_of_observation(frame)
    died = frame["death_date"].notna().to_numpy(dtype=bool)
    after_end = (t0 > end).fillna(False).to_numpy(dtype=bool)
    at_risk = (t0.notna() & ~(cancer < t0).fillna(False)).to_numpy(dtype=bool) & ~after_end
    cancer_in_follow_up = (cancer <= end).fillna(False).to_numpy(dtype=bool)
    stop = end.where(~cancer_in_follow_up, cancer)
    days = days_between(stop, t0).to_numpy(dtype=float)
    days = np.where(at_risk, days, 0.0)
    event = np.where(cancer_in_follow_up, EVENT, np.where(died, COMPETING, 0))
    event = np.where(at_risk, event, 0)
    return pd.DataFrame(
        {
            "at_risk": at_risk,
            "time_years": days / DAYS_PER_YEAR,
            "event": event.astype(np.int64),
            "time_zero_after_end": after_end,
        },
        index=frame.index,
    )


def in_patient_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame sorted stably by ``patient_id``: itself when already in that order (an
    extract usually is, and the check costs a fraction of a sort)."""
    if _ids_ascending(frame["patient_id"]):
        return frame
    return frame.sort_values("patient_id", kind="stable")


def _ids_ascending(ids: pd.Series) -> bool:
    """``ids.is_monotonic_increasing``, for Arrow-backed text without copying every id to
    a Python object first (about 0.5 s a call on 1,000,000 patients): Arrow compares UTF-8
    bytes, which orders text as Python compares it, by code point."""
    if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow":
        values = pa.chunked_array(ids.array.__arrow_array__())
        if values.null_count == 0:  # a missing id: pandas' answer, False
            return len(values) < 2 or bool(pc.all(pc.less_equal(values[:-1], values[1:])).as_py())
    return bool(ids.is_monotonic_increasing)


def group_labels(frame: pd.DataFrame) -> np.ndarray:
    """Each row's group as a string (``str`` of a missing group: ``"nan"``), the text of
    a categorical group made once per category rather than once per row."""
    group = frame[GROUP_COLUMN]
    if isinstance(group.dtype, pd.CategoricalDtype) and group.cat.categories.dtype == object:
        names = np.asarray([str(c) for c in group.cat.categories] + ["nan"], dtype=object)
        return names[group.cat.codes.to_numpy()]
    return group.astype(str).to_numpy()


def cancer_risk_set(
    frame: pd.DataFrame, groups: Sequence[str], options: MalignancyOptions
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """The patients of ``groups`` at risk of cancer after time zero, in patient order.

    Returns ``(frame, tte, label, keep)``: the frame sorted by ``patient_id`` where it has
    one (stably, so that sums come out the same in any row order), its
    :func:`time_to_cancer`, each row's group as a string, and whether the row is in
    ``groups`` and at risk.
    """
    if "patient_id" in frame.columns:
        frame = in_patient_order(frame)
    tte = time_to_cancer(frame, options)
    label = group_labels(frame)
    keep = np.isin(label, list(groups)) & tte["at_risk"].to_numpy(dtype=bool)
    return frame, tte, label, keep


def rate_per_1000py(
    events: int, person_years: float, alpha: float
) -> tuple[float | None, tuple[float, float] | None]:
    """Rate per 1,000 person-years with its exact Poisson interval (None without time)."""
    if person_years <= 0:
        return None, None
    lo, hi = poisson_exact(events, person_years, alpha)
    return 1000.0 * events / person_years, (1000.0 * lo, 1000.0 * hi)


@dataclass(frozen=True)
class GroupMalignancy:
    """Malignancy figures for one group.

    Counts: ``n`` (patients in the group), ``at_risk``, ``events`` (cancers after time
    zero), ``deaths`` (competing deaths), ``within_window`` (cancers within the window) and
    ``time_zero_after_end`` (patients not at risk because time zero falls after their end
    of observation). ``cumulative_incidence`` is None with ``horizon_beyond_follow_up``
    True when the horizon lies past the group's last follow-up time: the curve is not
    estimated there.
    """

    n: int
    at_risk: int
    events: int
    deaths: int
    person_years: float
    rate_per_1000py: float | None
    rate_ci: tuple[float, float] | None
    cumulative_incidence: float | None
    cumulative_incidence_ci: tuple[float, float] | None
    within_window: int
    within_window_proportion: float | None
    within_window_ci: tuple[float, float] | None
    time_zero_after_end: int = 0
    horizon_beyond_follow_up: bool = False
    curve: CumulativeIncidence | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The contract's per-group malignancy shape (plus denominators)."""
        out = asdict(self)
        out.pop("curve")
        for key in ("rate_ci", "cumulative_incidence_ci", "within_window_ci"):
            out[key] = list(out[key]) if out[key] is not None else None
        return out

    def disclosure(self, group: str) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: the group's size and the patients at
        risk describe everything; the events give back the rate and cumulative incidence,
        the cancers within the window their proportion; patients not at risk and patients
        censored (at risk, neither event) are differences that must not be small alone."""
        everything = ((),)
        return Declaration(
            counts=(
                Count(("n",), f"group:{group}", describes=everything),
                Count(("at_risk",), describes=everything),
                Count(
                    ("events",),
                    f"cancers:{group}",
                    reveals=(
                        ("rate_per_1000py",),
                        ("rate_ci",),
                        ("cumulative_incidence",),
                        ("cumulative_incidence_ci",),
                    ),
                ),
                Count(
                    ("deaths",), reveals=(("cumulative_incidence",), ("cumulative_incidence_ci",))
                ),
                Count(("time_zero_after_end",)),
                Count(
                    ("within_window",),
                    reveals=(("within_window_proportion",), ("within_window_ci",)),
                ),
            ),
            margins=(
                Margin(
                    (("at_risk",), ("time_zero_after_end",)),
                    ("n",),
                    self.n - self.at_risk - self.time_zero_after_end,
                ),
                Margin(
                    (("events",), ("deaths",)),
                    ("at_risk",),
                    self.at_risk - self.events - self.deaths,
                ),
            ),
            shares=(
                Share(("rate_per_1000py",), ("events",), ("person_years",), 1000.0),
                Share(("within_window_proportion",), ("within_window",), ("n",), 1.0),
            ),
        )


@dataclass(frozen=True)
class MalignancyResult:
    """Malignancy analyses by group, with Gray's test across the groups."""

    options: MalignancyOptions
    groups: dict[str, GroupMalignancy]
    gray: GrayTest

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "required": ["window_years", "horizon_years", "groups", "test", "statistic", "p_value"],
            "properties": {
                "window_years": {"type": "number"},
                "horizon_years": {"type": "number"},
                "test": {"const": "gray"},
                "statistic": {"$ref": "#/$defs/number"},
                "p_value": {"$ref": "#/$defs/pValue"},
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": [
                            "at_risk",
                            "events",
                            "person_years",
                            "rate_per_1000py",
                            "rate_ci",
                            "cumulative_incidence",
                            "cumulative_incidence_ci",
                            "within_window",
                            "within_window_proportion",
                        ],
                        "properties": {
                            "at_risk": {"$ref": "#/$defs/count"},
                            "events": {"$ref": "#/$defs/count"},
                            "person_years": {"$ref": "#/$defs/number"},
                            "rate_per_1000py": {"$ref": "#/$defs/number"},
                            "rate_ci": {"$ref": "#/$defs/interval"},
                            "cumulative_incidence": {"$ref": "#/$defs/number"},
                            "cumulative_incidence_ci": {"$ref": "#/$defs/interval"},
                            "within_window": {"$ref": "#/$defs/count"},
                            "within_window_proportion": {"$ref": "#/$defs/number"},
                            "time_zero_after_end": {
                                "$ref": "#/$defs/count",
                                "description": (
                                    "Patients not at risk because time zero (the diagnosis date) "
                                    "falls after their end of observation."
                                ),
                            },
                            "horizon_beyond_follow_up": {
                                "oneOf": [{"type": "boolean"}, {"$ref": "#/$defs/withheld"}],
                                "description": (
                                    "True when horizon_years lies past the group's last follow-up"
                                    " time: cumulative_incidence is then null."
                                ),
                            },
                        },
                    },
                },
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``malignancy`` shape."""
        return {
            "window_years": self.options.window_years,
            "horizon_years": self.options.horizon_years,
            "options": asdict(self.options),
            "groups": {g: m.to_dict() for g, m in self.groups.items()},
            "test": "gray",
            "statistic": self.gray.statistic,
            "p_value": self.gray.p_value,
            "reason": self.gray.reason,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: each group's; Gray's test compares
        the groups' cancers, so while one is withheld its statistic is withheld and its
        p-value printed as journals do."""
        test = Declaration(
            counts=tuple(
                Count(
                    ("groups", g, "events"), dependents=(("statistic",),), coarsened=(("p_value",),)
                )
                for g in self.groups
            )
        )
        return combine(
            [test, *(m.disclosure(g).under("groups", g) for g, m in self.groups.items())]
        )

    def method(self) -> str:
        """The method in two sentences, with references."""
        o = self.options
        skin = "excluding C44" if o.exclude_c44 else "including C44"
        situ = " and in situ D00-D09" if o.include_in_situ else ""
        return (
            f"Cancers (ICD-10 C00-C97 {skin}{situ}) within {o.window_years:g} years of "
            f"{o.time_zero} are reported with Clopper-Pearson intervals. After {o.time_zero}, "
            "incidence rates have exact Poisson intervals; the cumulative incidence of cancer "
            "with death as a competing event is the Aalen-Johansen estimate at "
            f"{o.horizon_years:g} years (log-log intervals, Gray's variance)"
            + (
                ", compared across groups with Gray's test (Gray, Ann Stat 1988)."
                if self.gray.p_value is not None
                else "."
            )
        )


def malignancy(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> MalignancyResult:
    """Cancer-associated myositis, incidence after time zero and cumulative incidence.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients. Not modified.
    groups : sequence of str
        Groups to analyse (default the three IMNM groups).
    options : MalignancyOptions, optional

    Returns
    -------
    MalignancyResult
    """
    options = options or MalignancyOptions()
    tte = time_to_cancer(frame, options)
    qualifying = qualifying_cancer(frame, options)
    t0 = options.time_zero_dates(frame)
    offset = (days_between(frame["cancer_date"], t0) / DAYS_PER_YEAR).to_numpy(dtype=float)
    in_window = qualifying & (np.abs(np.nan_to_num(offset, nan=np.inf)) <= options.window_years)
    label = group_labels(frame)
    results = {}
    for g in groups:
        member = label == g
        risk = member & tte["at_risk"].to_numpy(dtype=bool)
        time = tte["time_years"].to_numpy()[risk]
        event = tte["event"].to_numpy()[risk]
        n, events = int(member.sum()), int((event == EVENT).sum())
        person_years = float(np.sort(time).sum())  # sorted: the same sum in any row order
        rate, rate_ci = rate_per_1000py(events, person_years, options.alpha)
        ci_est = ci_ci = curve = None
        beyond = False
        if risk.any():
            curve = cumulative_incidence(time, event, options.alpha)
            beyond = bool(options.horizon_years > curve.time[-1])
            if not beyond:
                est, _ = curve.at(options.horizon_years)
                lo_ci, hi_ci = curve.confidence_interval(options.horizon_years)
                ci_est, ci_ci = float(est), (float(lo_ci), float(hi_ci))
        window = int(in_window[member].sum())
        proportion = window / n if n else None
        window_ci = clopper_pearson(window, n, options.alpha) if n else None
        results[g] = GroupMalignancy(
            n=n,
            at_risk=int(risk.sum()),
            events=events,
            deaths=int((event == COMPETING).sum()),
            person_years=person_years,
            rate_per_1000py=rate,
            rate_ci=rate_ci,
            cumulative_incidence=ci_est,
            cumulative_incidence_ci=ci_ci,
            within_window=window,
            within_window_proportion=proportion,
            within_window_ci=window_ci,
            time_zero_after_end=int((member & tte["time_zero_after_end"].to_numpy()).sum()),
            horizon_beyond_follow_up=beyond,
            curve=curve,
        )
    compared = np.isin(label, list(groups)) & tte["at_risk"].to_numpy(dtype=bool)
    gray = gray_test(
        tte["time_years"].to_numpy()[compared], tte["event"].to_numpy()[compared], label[compared]
    )
    return MalignancyResult(options, results, gray)
