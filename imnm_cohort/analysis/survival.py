"""Overall survival (Kaplan-Meier, log-rank) and the cause-specific Cox model for cancer.

Both use lifelines; this module only prepares the data and collects the results.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.malignancy import MalignancyOptions, time_to_cancer
from imnm_cohort.pipeline.declarations import Count, Declaration, Margin, combine
from imnm_cohort.vocabulary import GROUP_COLUMN, IMNM_GROUPS


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
            "ci_at_horizon": list(self.ci_at_horizon) if self.ci_at_horizon else None,
        }


@dataclass(frozen=True)
class OverallSurvival:
    """Overall survival from time zero by group, with the log-rank test."""

    horizon_years: float
    groups: dict[str, SurvivalCurve]
    statistic: float | None
    p_value: float | None
    reason: str | None = None

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
        return combine(
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
    frame: pd.DataFrame, groups: Sequence[str] = IMNM_GROUPS, horizon_years: float = 3.0
) -> OverallSurvival:
    """Kaplan-Meier survival from onset to death by group, and the log-rank test.

    Returns
    -------
    OverallSurvival
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    time = frame["followup_years"]  # derived column: onset to end of observation
    died = frame["death_date"].notna()
    label = frame[GROUP_COLUMN].astype(str)
    curves = {}
    for g in groups:
        m = (label == g).to_numpy()
        if not m.any():
            curves[g] = SurvivalCurve(0, 0, None, None, None, np.array([]), np.array([]))
            continue
        km = KaplanMeierFitter().fit(time[m], died[m])
        s = float(km.survival_function_at_times(horizon_years).iloc[0])
        ci = km.confidence_interval_survival_function_
        idx = np.searchsorted(ci.index.to_numpy(), horizon_years, side="right") - 1
        bounds = (float(ci.iloc[idx, 0]), float(ci.iloc[idx, 1]))
        median = float(km.median_survival_time_)
        curves[g] = SurvivalCurve(
            int(m.sum()),
            int(died[m].sum()),
            median if np.isfinite(median) else None,
            s,
            bounds,
            km.survival_function_.index.to_numpy(),
            km.survival_function_.iloc[:, 0].to_numpy(),
        )
    m = label.isin(list(groups)).to_numpy()
    present = [g for g in groups if curves[g].n > 0]
    if len(present) < 2 or not died[m].any():
        return OverallSurvival(
            horizon_years, curves, None, None, "fewer than two groups with patients, or no deaths"
        )
    test = multivariate_logrank_test(time[m], label[m], died[m])
    return OverallSurvival(horizon_years, curves, float(test.test_statistic), float(test.p_value))


def _fit_errors() -> tuple[type[BaseException], ...]:
    from lifelines.exceptions import ConvergenceError

    return (
        ConvergenceError,
        np.linalg.LinAlgError,
        ValueError,
        ZeroDivisionError,
        FloatingPointError,
        OverflowError,
    )


_FIT_ERRORS = _fit_errors()


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:120]}" if text else type(exc).__name__


@dataclass(frozen=True)
class CoxTerm:
    """One term of the Cox model: hazard ratio with its interval and the PH check."""

    term: str
    hazard_ratio: float
    ci: tuple[float, float]
    p_value: float
    ph_p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "term": self.term,
            "hazard_ratio": self.hazard_ratio,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "ph_test_p_value": self.ph_p_value,
        }


@dataclass(frozen=True)
class CauseSpecificCox:
    """Cause-specific Cox model of cancer by group, adjusted for onset age and sex."""

    reference: str
    n: int
    events: int
    terms: tuple[CoxTerm, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "model": "cause_specific_cox",
            "reference_group": self.reference,
            "n": self.n,
            "events": self.events,
            "terms": [t.to_dict() for t in self.terms],
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: the cancers describe the model."""
        return Declaration(
            counts=(
                Count(("n",), describes=(("terms",),)),
                Count(("events",), describes=(("terms",),)),
            ),
        )

    def method(self) -> str:
        """The method in one sentence."""
        return (
            "A cause-specific Cox model for cancer (deaths censored) compared the groups "
            f"with {self.reference} as reference, adjusted for onset age and male sex; "
            "proportional hazards were checked with scaled Schoenfeld residuals "
            "(rank-transformed time; lifelines)."
        )


def cause_specific_cox(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> CauseSpecificCox:
    """Fit the cause-specific Cox model for cancer among patients at risk.

    Returns
    -------
    CauseSpecificCox
        With ``reason`` and no terms when the model cannot be fitted (too few events).
    """
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    options = options or MalignancyOptions()
    tte = time_to_cancer(frame, options)
    label = frame[GROUP_COLUMN].astype(str)
    keep = (label.isin(list(groups)) & tte["at_risk"] & (tte["time_years"] > 0)).to_numpy()
    data = pd.DataFrame(
        {
            "time": tte["time_years"][keep],
            "cancer": (tte["event"][keep] == EVENT).astype(int),
            "onset_age": frame["age_at_onset_years"][keep].astype(float),
            "male": (frame["sex"][keep] == "male").to_numpy(dtype=bool, na_value=False).astype(int),
        }
    )
    reference = groups[0]
    for g in groups[1:]:
        data[f"group_{g}"] = (label[keep] == g).to_numpy().astype(int)
    events = int(data["cancer"].sum())
    present = [c for c in data.columns if c.startswith("group_") and data[c].sum() > 0]
    data = data[["time", "cancer", "onset_age", "male", *present]]
    if events < 10 or not present:
        return CauseSpecificCox(
            reference, len(data), events, (), "fewer than 10 cancers, or one group only"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cph = CoxPHFitter().fit(data, duration_col="time", event_col="cancer")
        except _FIT_ERRORS as exc:
            return CauseSpecificCox(
                reference, len(data), events, (), f"the model could not be fitted ({_why(exc)})"
            )
        try:
            ph_p = proportional_hazard_test(cph, data, time_transform="rank").summary["p"]
        except _FIT_ERRORS:
            ph_p = pd.Series(dtype=float)  # the check is not available; the terms stand
    summary = cph.summary
    terms = tuple(
        CoxTerm(
            str(name),
            float(row["exp(coef)"]),
            (float(row["exp(coef) lower 95%"]), float(row["exp(coef) upper 95%"])),
            float(row["p"]),
            float(ph_p[name]) if name in ph_p.index else None,
        )
        for name, row in summary.iterrows()
    )
    return CauseSpecificCox(reference, len(data), events, terms)
