"""Overall survival (Kaplan-Meier, log-rank) and the cause-specific Cox model for cancer.

Kaplan-Meier and the log-rank test come from lifelines; the Cox model and its
proportional-hazards test from :mod:`imnm_cohort.analysis.coxph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.coxph import FIT_ERRORS, ZphTest, fit_cox, zph_test
from imnm_cohort.analysis.malignancy import MalignancyOptions, group_labels, in_patient_order
from imnm_cohort.analysis.riskset import NotEstimable, model_risk_set
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.vocabulary import IMNM_GROUPS

#: JSON Schema of a model's counts by group (:func:`model_groups`) in ``summary.json``.
MODEL_GROUPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Patients (n), cancers (events) and, for Fine-Gray, deaths before cancer (competing) "
        "of each group in the model's data; they add up to the model's totals."
    ),
    "additionalProperties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/count"}},
}


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier estimate for one group."""

    n: int
    deaths: int
    median_years: float | None
    survival_at_horizon: float | None
    ci_at_horizon: tuple[float, float] | None
    time: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (without the curve)."""
        return {
            "n": self.n,
            "deaths": self.deaths,
            "median_years": self.median_years,
            "survival_at_horizon": self.survival_at_horizon,
            # Undefined bounds (estimate 1 or 0) stay a pair, so that disclosure control
            # withholds them with the estimate they would otherwise give away.
            "ci_at_horizon": list(self.ci_at_horizon) if self.ci_at_horizon else [None, None],
        }


@dataclass(frozen=True)
class OverallSurvival:
    """Overall survival from time zero by group, with the log-rank test."""

    horizon_years: float
    groups: dict[str, SurvivalCurve]
    statistic: float | None
    p_value: float | None
    reason: str | None = None

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "description": (
                "Overall survival from onset by IMNM group: Kaplan-Meier with"
                " the log-rank test; per group its size, deaths, median and "
                "survival at the horizon with its interval (null bounds where"
                " undefined)."
            ),
            "required": ["test", "horizon_years", "statistic", "p_value", "groups"],
            "properties": {
                "test": {"const": "logrank"},
                "horizon_years": {"type": "number"},
                "statistic": {"$ref": "#/$defs/number"},
                "p_value": {"$ref": "#/$defs/pValue"},
                "reason": {"type": ["string", "null"]},
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["n", "deaths"],
                        "properties": {
                            "n": {"$ref": "#/$defs/count"},
                            "deaths": {"$ref": "#/$defs/count"},
                            "median_years": {"$ref": "#/$defs/number"},
                            "survival_at_horizon": {"$ref": "#/$defs/number"},
                            "ci_at_horizon": {"$ref": "#/$defs/interval"},
                        },
                    },
                },
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "test": "logrank",
            "horizon_years": self.horizon_years,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reason": self.reason,
            "groups": {g: c.to_dict() for g, c in self.groups.items()},
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: a group's size describes its row;
        its deaths give back the survival estimate (8 of 9 alive is 0.889), and so do the
        survivors (size minus deaths)."""
        estimates = (("survival_at_horizon",), ("ci_at_horizon",), ("median_years",))
        test = Declaration(
            counts=tuple(
                Count(
                    ("groups", g, "deaths"), dependents=(("statistic",),), coarsened=(("p_value",),)
                )
                for g in self.groups
            )
        )
        return test + combine(
            Declaration(
                counts=(
                    Count(("n",), f"group:{g}", describes=((),)),
                    Count(("deaths",), reveals=estimates),
                ),
                margins=(Margin((("deaths",),), ("n",), c.n - c.deaths),),
            ).under("groups", g)
            for g, c in self.groups.items()
        )

    def method(self) -> str:
        """The method in one sentence."""
        compared = " and compared with the log-rank test" if self.p_value is not None else ""
        return f"Overall survival from onset was estimated by Kaplan-Meier{compared} (lifelines)."


def overall_survival(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    horizon_years: float = 3.0,
    alpha: float = 0.05,
) -> OverallSurvival:
    """Kaplan-Meier survival from onset to death by group, and the log-rank test.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients (uses ``followup_years``, ``death_date`` and the group).
    groups : sequence of str
        The groups to estimate and compare.
    horizon_years : float
        When survival is read off.
    alpha : float
        1 - confidence level of the interval at the horizon (log-log transformed Greenwood
        interval, as lifelines and R's ``conf.type = "log-log"``).

    Returns
    -------
    OverallSurvival
        The median follows R's ``quantile.survfit``: where the curve sits exactly at 0.5
        over an interval, the midpoint of that interval. The interval at the horizon is
        ``None`` where the estimate is 1 or 0 (undefined on the log-log scale).
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    if "patient_id" in frame.columns:  # the same sums in any row order
        frame = in_patient_order(frame)
    time = frame["followup_years"]  # derived column: onset to end of observation
    died = frame["death_date"].notna()
    label = pd.Series(group_labels(frame), index=frame.index)
    curves = {}
    for g in groups:
        m = (label == g).to_numpy()
        if not m.any():
            curves[g] = SurvivalCurve(0, 0, None, None, None, np.array([]), np.array([]))
            continue
        km = KaplanMeierFitter(alpha=alpha).fit(time[m], died[m])
        times = km.survival_function_.index.to_numpy()
        estimate = km.survival_function_.iloc[:, 0].to_numpy()
        idx = np.searchsorted(times, horizon_years, side="right") - 1
        s = float(estimate[idx])
        ci = km.confidence_interval_survival_function_
        bounds = (float(ci.iloc[idx, 0]), float(ci.iloc[idx, 1])) if 0 < s < 1 else None
        curves[g] = SurvivalCurve(
            int(m.sum()), int(died[m].sum()), km_median(times, estimate), s, bounds, times, estimate
        )
    m = label.isin(list(groups)).to_numpy()
    present = [g for g in groups if curves[g].n > 0]
    if len(present) < 2 or not died[m].any():
        return OverallSurvival(
            horizon_years, curves, None, None, "fewer than two groups with patients, or no deaths"
        )
    test = multivariate_logrank_test(time[m], label[m], died[m])
    return OverallSurvival(horizon_years, curves, float(test.test_statistic), float(test.p_value))


def km_median(time: np.ndarray, survival: np.ndarray) -> float | None:
    """Median of a Kaplan-Meier curve, R's convention (``survival:::findq``).

    The median is the first time the curve is at or below 0.5; where it sits exactly at 0.5
    (within the square root of machine epsilon) it is the midpoint between that time and the
    time the curve next drops, or the last time of follow-up when it never drops again.
    ``None`` when the curve stays above 0.5.
    """
    tolerance = float(np.sqrt(np.finfo(float).eps))
    failed = 1 - np.asarray(survival, dtype=float)
    if len(failed) == 0 or failed.max() < 0.5:
        return None
    first = np.r_[True, failed[1:] != failed[:-1]]  # where each level is reached
    level_time, level = np.asarray(time, dtype=float)[first], failed[first]
    at = int(np.argmax(level + tolerance >= 0.5))
    if abs(level[-1] - 0.5) < tolerance:
        return float((level_time[at] + time[-1]) / 2)
    beyond = np.flatnonzero(level - tolerance >= 0.5)
    return float((level_time[at] + level_time[beyond[0]]) / 2) if len(beyond) else None


@dataclass(frozen=True)
class CoxTerm:
    """One term of the Cox model: hazard ratio with its interval and the PH check.

    A term that cannot be estimated (a group with no patients or no cancers, whose log
    hazard ratio runs to minus infinity) has no numbers and says why in ``reason``.
    """

    term: str
    hazard_ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    ph_p_value: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "term": self.term,
            "hazard_ratio": self.hazard_ratio,
            "ci": list(self.ci) if self.ci else None,
            "p_value": self.p_value,
            "ph_test_p_value": self.ph_p_value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CauseSpecificCox:
    """Cause-specific Cox model of cancer by group, adjusted for onset age and sex."""

    reference: str
    n: int
    events: int
    terms: tuple[CoxTerm, ...]
    reason: str | None = None
    alpha: float = 0.05
    ph_global_p_value: float | None = None
    groups: dict[str, dict[str, int]] = field(default_factory=dict)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "description": (
                "Cause-specific Cox model of cancer (Efron ties) with the "
                "survival 3.x cox.zph score test per term and globally; terms"
                " empty and reason given when not fitted, a term's numbers "
                "null with its reason when not estimable."
            ),
            "required": ["model", "reference_group", "n", "events", "terms", "reason"],
            "properties": {
                "model": {"const": "cause_specific_cox"},
                "reference_group": {"type": "string"},
                "n": {"$ref": "#/$defs/count"},
                "events": {"$ref": "#/$defs/count"},
                "groups": {"$ref": "#/$defs/modelGroups"},
                "confidence_level": {"type": "number"},
                "ph_test_global_p_value": {"$ref": "#/$defs/pValue"},
                "reason": {"type": ["string", "null"]},
                "terms": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["term", "hazard_ratio", "ci", "p_value"],
                        "properties": {
                            "term": {"type": "string"},
                            "hazard_ratio": {"$ref": "#/$defs/number"},
                            "ci": {"$ref": "#/$defs/interval"},
                            "p_value": {"$ref": "#/$defs/pValue"},
                            "ph_test_p_value": {"$ref": "#/$defs/pValue"},
                            "reason": {"type": ["string", "null"]},
                        },
                    },
                },
            },
            "$defs": {"modelGroups": MODEL_GROUPS_SCHEMA},
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (``groups``: patients and cancers of each group in the
        model, which add up to ``n`` and ``events``)."""
        return {
            "model": "cause_specific_cox",
            "reference_group": self.reference,
            "n": self.n,
            "events": self.events,
            "groups": self.groups,
            "confidence_level": 1 - self.alpha,
            "terms": [t.to_dict() for t in self.terms],
            "ph_test_global_p_value": self.ph_global_p_value,
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: see :func:`model_disclosure`."""
        return model_disclosure(self.groups, self.reference, [t.term for t in self.terms])

    def method(self) -> str:
        """The method in one sentence."""
        return (
            "A cause-specific Cox model for cancer (deaths censored, Efron ties) compared the "
            f"groups with {self.reference} as reference, adjusted for onset age and male sex; "
            "proportional hazards were checked with the Grambsch-Therneau score test on "
            "Kaplan-Meier-transformed time, as survival::cox.zph (R survival 3.x)."
        )


#: The numbers of a model term, withheld with the cancers it depends on.
TERM_NUMBERS = (
    "coef", "se", "hazard_ratio", "subdistribution_hazard_ratio", "ci", "p_value",
    "ph_test_p_value",
)  # fmt: skip


def model_disclosure(
    groups: dict[str, dict[str, int]], reference: str, terms: Sequence[str]
) -> Declaration:
    """Disclosure declaration of a model of cancer by group (Cox or Fine-Gray).

    A model of fewer than twice the minimum count of patients or cancers shows no terms.
    Its totals add up its groups' counts (patients, cancers and, for Fine-Gray, deaths
    before cancer): each total is a margin of them, and is the member withheld first when
    one is withheld (65 - 35 - 28 would give a withheld 2 back). A group's term (ratio,
    SE, interval, p-values) depends on that group's cancers and on the reference group's
    (the SE of a binary term is about sqrt(1/d + 1/d_ref)): it is withheld with either,
    and its reason says "not shown (fewer than 5 events)".
    """
    model = (("terms",),)
    counted = sorted({k for counts in groups.values() for k in counts})
    index = {t: i for i, t in enumerate(terms)}
    counts = [Count(("n",), few=model), Count(("events",), few=model)]
    counts += [Count((k,)) for k in counted if k not in ("n", "events")]
    for g in groups:
        own = [index[f"group_{g}"]] if f"group_{g}" in index else []
        if g == reference:
            own = [i for t, i in index.items() if t.startswith("group_")]
        noun = "events in the reference group" if g == reference else "events"
        counts.append(
            Count(
                ("groups", g, "events"),
                dependents=tuple(("terms", i, k) for i in own for k in TERM_NUMBERS),
                notes=tuple((("terms", i, "reason"), noun) for i in own),
            )
        )
        counts += [Count(("groups", g, k)) for k in counted if k != "events"]
    margins = tuple(
        Margin(tuple(("groups", g, k) for g in groups), (k,), prefer=(k,)) for k in counted
    )
    return Declaration(counts=tuple(counts), margins=margins)


def cause_specific_cox(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> CauseSpecificCox:
    """Fit the cause-specific Cox model for cancer among patients at risk.

    The patients, and the terms that are not estimable, are those of
    :func:`~imnm_cohort.analysis.riskset.model_risk_set`, as for the Fine-Gray model. A
    group with no patients or no cancers among those at risk gets a term marked not
    estimable; the model is fitted without that group's patients, which is the limit of the
    full model as that group's log hazard ratio goes to minus infinity (its patients then
    weigh nothing in any risk set). A covariate that does not vary, or whose estimate does
    not converge, is not estimable either.

    Returns
    -------
    CauseSpecificCox
        With ``reason`` (:class:`~imnm_cohort.analysis.riskset.NotEstimable`) and no terms
        when the model cannot be fitted (too few cancers, none in the reference group or in
        every other group, a fit that fails).

    References
    ----------
    Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted
    residuals. Biometrika 1994;81:515-26.
    """
    options = options or MalignancyOptions()
    data = model_risk_set(frame, groups, options)
    counts = data.counts()
    if (no_model := data.reason()) is not None:
        return CauseSpecificCox(
            data.reference, data.n, data.events, (), no_model.words(), options.alpha, groups=counts
        )
    design, inestimable = data.design()
    reasons: dict[str, str] = {name: why.words() for name, why in inestimable.items()}
    reasons |= {term: why.words() for term, why in data.terms.items() if why is not None}
    rows = data.in_model
    time, cancer = data.time[rows], data.event[rows] == EVENT
    x = design.to_numpy(dtype=float)[rows]
    try:
        fit = fit_cox(time, cancer, x)
    except FIT_ERRORS as exc:
        return CauseSpecificCox(
            data.reference,
            data.n,
            data.events,
            (),
            NotEstimable.NOT_FITTED.words(exc),
            options.alpha,
            groups=counts,
        )
    try:
        ph: ZphTest | None = zph_test(time, cancer, x, fit)
    except FIT_ERRORS:
        ph = None  # the check is not available; the terms stand
    lower, upper = fit.hazard_ratio_ci(options.alpha)
    p_values = fit.p_values()
    estimated = {}
    with np.errstate(over="ignore", invalid="ignore"):
        hazard_ratios = np.exp(fit.coef)
    for j, name in enumerate(design.columns):
        numbers = (hazard_ratios[j], lower[j], upper[j], p_values[j], fit.se[j])
        if not (fit.converged and np.all(np.isfinite(numbers)) and hazard_ratios[j] > 0):
            reasons[name] = NotEstimable.NOT_CONVERGED.words()
            continue
        ph_p = float(ph.p_value[j]) if ph is not None else None
        estimated[name] = CoxTerm(
            name,
            float(hazard_ratios[j]),
            (float(lower[j]), float(upper[j])),
            float(p_values[j]),
            ph_p if ph_p is not None and np.isfinite(ph_p) else None,
        )
    terms = [
        estimated.get(name) or CoxTerm(name, None, None, None, None, reasons[name])
        for name in [*data.covariates, *data.terms]
    ]
    return CauseSpecificCox(
        data.reference,
        data.n,
        data.events,
        tuple(terms),
        None,
        options.alpha,
        ph.global_p_value if ph is not None and np.isfinite(ph.global_p_value) else None,
        counts,
    )
