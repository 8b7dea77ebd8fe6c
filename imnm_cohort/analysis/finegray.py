"""Fine-Gray subdistribution hazard regression for cancer, with death as a competing event.

No maintained Python library fits the Fine-Gray model, so it is fitted the way Geskus
(2011) showed it can be: as a weighted Cox model on counting-process data. A patient with
a competing event (death) at ``T`` stays in the risk set after ``T`` with weight
``G(t-) / G(T-)``, where ``G`` is the Kaplan-Meier estimate of the censoring distribution
(events taken before censorings at tied times); other patients have one row and weight 1.
The weighted partial likelihood is maximised by lifelines' ``CoxPHFitter`` (entry times,
weights, Efron ties) with the robust (sandwich) variance clustered on the patient. The
data set is the one R's ``survival::finegray`` builds, so ``coxph`` on it with
``weights = fgwt`` and ``cluster(id)`` gives the same numbers; ``cmprsk::crr`` gives the
same coefficients where times are not tied (it handles ties as Breslow) and a variance
that also accounts for the estimation of ``G`` (slightly larger).

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing
risk. J Am Stat Assoc 1999;94:496-509.
Geskus RB. Cause-specific cumulative incidence estimation and the Fine and Gray model
under both left truncation and right censoring. Biometrics 2011;67:39-49.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from imnm_cohort.analysis.compare import GROUP_COLUMN
from imnm_cohort.analysis.competing import COMPETING, EVENT
from imnm_cohort.analysis.malignancy import MalignancyOptions, time_to_cancer
from imnm_cohort.classify.rules import IMNM_GROUPS

MIN_EVENTS = 10


def geskus_data(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """The weighted counting-process data of the Fine-Gray model (as ``survival::finegray``).

    Parameters
    ----------
    time : array of float
        Follow-up time, > 0.
    event : array of int
        0 censored, 1 event of interest, 2 competing event.

    Returns
    -------
    pandas.DataFrame
        ``id`` (position in the input), ``start``, ``stop``, ``status`` (1 for the event of
        interest), ``weight``. A patient with a competing event has a first row to the
        end of the censoring interval holding ``T`` (weight 1), then one row per later
        censoring interval in which an event of interest occurs, weighted
        ``G(t-) / G(T-)``; intervals without an event of interest are left out (they do
        not enter the partial likelihood).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    n = len(time)
    # Censoring distribution: at each censoring time c, at risk are those still followed
    # (events at c come first, so a patient with an event at c is no longer at risk).
    ctime, n_cens = np.unique(time[event == 0], return_counts=True)
    order = np.sort(time)
    at_risk = n - np.searchsorted(order, ctime, side="left")
    at_risk -= _count_at(time[event != 0], ctime)
    cprob = np.cumprod(1.0 - n_cens / at_risk)
    ends = np.r_[ctime, time.max()]  # interval j is (ends[j-1], ends[j]]
    probs = np.r_[1.0, cprob]  # G on interval j
    event_times = np.unique(time[event == EVENT])
    keep = np.zeros(len(ends), dtype=bool)
    keep[np.searchsorted(ends, event_times, side="left")] = True
    kept = np.flatnonzero(keep)

    base = pd.DataFrame(
        {
            "id": np.arange(n),
            "start": 0.0,
            "stop": time,
            "status": (event == EVENT).astype(np.int64),
            "weight": 1.0,
        }
    )
    competing = np.flatnonzero(event == COMPETING)
    own = np.searchsorted(ends, time[competing], side="left")
    base.loc[competing, "stop"] = ends[own]
    first_later = np.searchsorted(kept, own, side="right")
    count = len(kept) - first_later
    who = np.repeat(competing, count)
    ramp = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    interval = kept[np.repeat(first_later, count) + ramp]
    extra = pd.DataFrame(
        {
            "id": who,
            "start": ends[interval - 1],
            "stop": ends[interval],
            "status": 0,
            "weight": probs[interval] / np.repeat(probs[own], count),
        }
    )
    out = pd.concat([base, extra], ignore_index=True)
    return out.sort_values(["id", "start"], kind="stable", ignore_index=True)


def _count_at(values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """How many of ``values`` equal each of the sorted ``points``."""
    v = np.sort(values)
    return np.searchsorted(v, points, side="right") - np.searchsorted(v, points, side="left")


@dataclass(frozen=True)
class FineGrayTerm:
    """One term: subdistribution hazard ratio with its robust interval."""

    term: str
    coef: float
    se: float
    hazard_ratio: float
    ci: tuple[float, float]
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "term": self.term,
            "coef": self.coef,
            "se": self.se,
            "subdistribution_hazard_ratio": self.hazard_ratio,
            "ci": list(self.ci),
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class FineGrayModel:
    """Fine-Gray model of cancer (death competing) by group, adjusted for onset age and sex.

    Counts: ``n`` (patients at risk in the model), ``events`` (cancers), ``competing``
    (deaths before cancer).
    """

    reference: str
    n: int
    events: int
    competing: int
    terms: tuple[FineGrayTerm, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "model": "fine_gray",
            "reference_group": self.reference,
            "n": self.n,
            "events": self.events,
            "competing": self.competing,
            "terms": [t.to_dict() for t in self.terms],
            "reason": self.reason,
        }

    def method(self) -> str:
        """The method in one sentence, with references."""
        return (
            "A Fine-Gray model (Fine and Gray 1999) of cancer with death as a competing "
            f"event compared the groups with {self.reference} as reference, adjusted for "
            "onset age and male sex, fitted as a weighted Cox model on the counting-process "
            "data of Geskus (2011) with robust standard errors (lifelines)."
        )


def fit_fine_gray(
    time: np.ndarray, event: np.ndarray, covariates: pd.DataFrame, alpha: float = 0.05
) -> tuple[FineGrayTerm, ...]:
    """Fit the Fine-Gray model; one term per covariate column.

    Parameters
    ----------
    time, event : arrays
        As for :func:`geskus_data` (times > 0).
    covariates : pandas.DataFrame
        Numeric covariates, one row per patient, in the order of ``time``.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    tuple of FineGrayTerm
    """
    from lifelines import CoxPHFitter

    data = geskus_data(time, event)
    names = [str(c) for c in covariates.columns]
    x = covariates.to_numpy(dtype=float)[data["id"].to_numpy()]
    fit_frame = data.drop(columns="id").assign(**{c: x[:, i] for i, c in enumerate(names)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(alpha=alpha).fit(
            fit_frame,
            duration_col="stop",
            event_col="status",
            entry_col="start",
            weights_col="weight",
        )
    beta = cph.params_[names].to_numpy()
    naive = cph.variance_matrix_.loc[names, names].to_numpy()
    residuals = efron_score_residuals(data, x, beta)
    per_patient = np.zeros((len(time), len(names)))
    np.add.at(per_patient, data["id"].to_numpy(), residuals)
    robust = naive @ per_patient.T @ per_patient @ naive
    z = stats.norm.ppf(1 - alpha / 2)
    terms = []
    for i, name in enumerate(names):
        coef, se = float(beta[i]), float(np.sqrt(robust[i, i]))
        p = float(2 * stats.norm.sf(abs(coef / se)))
        ci = (float(np.exp(coef - z * se)), float(np.exp(coef + z * se)))
        terms.append(FineGrayTerm(name, coef, se, float(np.exp(coef)), ci, p))
    return tuple(terms)


def efron_score_residuals(data: pd.DataFrame, x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Weighted score residuals of a Cox model on (start, stop] rows, Efron ties.

    Row ``r`` gets ``w_r (x_r - mean_k xbar_jk)`` at its own event time ``t_j`` minus
    ``w_r exp(x_r b) sum_j sum_k c_rjk (x_r - xbar_jk) dL_jk`` over the event times in its
    interval, where ``k = 0..d_j - 1`` are Efron's steps at ``t_j`` (``xbar_jk`` and
    ``dL_jk`` with a fraction ``k / d_j`` of the tied events' risk removed) and ``c_rjk``
    is ``1 - k / d_j`` for a row with an event at ``t_j``, else 1. Summed per patient they
    give the robust (sandwich) variance ``V D'D V`` of Lin and Wei (1989), as R's
    ``coxph(..., cluster = id)``.

    References
    ----------
    Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model. J Am Stat
    Assoc 1989;84:1074-8.
    Therneau TM, Grambsch PM. Modeling Survival Data. Springer, 2000, sections 4.6 and 7.2.
    """
    start, stop = data["start"].to_numpy(), data["stop"].to_numpy()
    status = data["status"].to_numpy() == 1
    w = data["weight"].to_numpy()
    risk = w * np.exp(x @ beta)
    times, death_index = np.unique(stop[status], return_inverse=True)

    # Sums over the risk set {start < t <= stop} at each event time.
    def at_risk_sum(values: np.ndarray) -> np.ndarray:
        by_stop, by_start = np.argsort(stop), np.argsort(start)
        tail_stop = np.cumsum(values[by_stop][::-1], axis=0)[::-1]
        tail_start = np.cumsum(values[by_start][::-1], axis=0)[::-1]
        tail_stop = np.vstack([tail_stop, np.zeros((1, *values.shape[1:]))])
        tail_start = np.vstack([tail_start, np.zeros((1, *values.shape[1:]))])
        i_stop = np.searchsorted(stop[by_stop], times, side="left")
        i_start = np.searchsorted(start[by_start], times, side="left")
        return tail_stop[i_stop] - tail_start[i_start]

    rx = risk[:, None] * x
    s0 = at_risk_sum(risk[:, None])[:, 0]
    s1 = at_risk_sum(rx)
    n_events = len(times)
    d = np.bincount(death_index, minlength=n_events)
    s0_dead = np.bincount(death_index, weights=risk[status], minlength=n_events)
    s1_dead = np.stack(
        [
            np.bincount(death_index, weights=rx[status, i], minlength=n_events)
            for i in range(x.shape[1])
        ],
        axis=1,
    )
    w_dead = np.bincount(death_index, weights=w[status], minlength=n_events)
    # Efron's steps: one per tied event, k = 0..d-1 at each time.
    j = np.repeat(np.arange(n_events), d)
    k = np.arange(len(j)) - np.repeat(np.cumsum(d) - d, d)
    frac = k / d[j]
    den = s0[j] - frac * s0_dead[j]
    xbar = (s1[j] - frac[:, None] * s1_dead[j]) / den[:, None]
    hazard = w_dead[j] / d[j] / den

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.stack(
            [
                np.bincount(j, weights=values[:, i], minlength=n_events)
                for i in range(values.shape[1])
            ],
            axis=1,
        )

    a = np.bincount(j, weights=hazard, minlength=n_events)
    b = per_time(xbar * hazard[:, None])
    a_frac = np.bincount(j, weights=frac * hazard, minlength=n_events)
    b_frac = per_time(xbar * (frac * hazard)[:, None])
    mean_xbar = per_time(xbar) / d[:, None]
    cum_a = np.r_[0.0, np.cumsum(a)]
    cum_b = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(b, axis=0)])
    hi = np.searchsorted(times, stop, side="right")
    lo = np.searchsorted(times, start, side="right")
    out = -risk[:, None] * (x * (cum_a[hi] - cum_a[lo])[:, None] - (cum_b[hi] - cum_b[lo]))
    rows = np.flatnonzero(status)
    jr = death_index
    out[rows] += w[rows, None] * (x[rows] - mean_xbar[jr])
    out[rows] += risk[rows, None] * (x[rows] * a_frac[jr][:, None] - b_frac[jr])
    return out


def fine_gray(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> FineGrayModel:
    """Fine-Gray model of cancer among patients at risk, as the cause-specific Cox model.

    Patients at risk with follow-up > 0; groups against the first group, adjusted for onset
    age and male sex. Fewer than 10 cancers, or one group only: no model, with a reason.

    Returns
    -------
    FineGrayModel
    """
    options = options or MalignancyOptions()
    tte = time_to_cancer(frame, options)
    label = frame[GROUP_COLUMN].astype(str).to_numpy()
    keep = np.isin(label, list(groups)) & tte["at_risk"].to_numpy(dtype=bool)
    keep &= tte["time_years"].to_numpy() > 0
    male = (frame["sex"] == "male").to_numpy(dtype=bool, na_value=False)
    x = pd.DataFrame(
        {
            "onset_age": frame["age_at_onset_years"].to_numpy(dtype=float)[keep],
            "male": male[keep].astype(float),
        }
    )
    for g in groups[1:]:
        if (label[keep] == g).any():
            x[f"group_{g}"] = (label[keep] == g).astype(float)
    time = tte["time_years"].to_numpy()[keep]
    event = tte["event"].to_numpy()[keep]
    events, competing = int((event == EVENT).sum()), int((event == COMPETING).sum())
    reference = groups[0]
    if events < MIN_EVENTS or x.shape[1] == 2:
        return FineGrayModel(
            reference, len(time), events, competing, (), "fewer than 10 cancers, or one group only"
        )
    terms = fit_fine_gray(time, event, x, options.alpha)
    return FineGrayModel(reference, len(time), events, competing, terms)
