"""Fine-Gray subdistribution hazard regression for cancer, with death as a competing event.

Geskus (2011) showed that the Fine-Gray model is a weighted Cox model on counting-process
data: a patient with a competing event (death) at ``T`` stays in the risk set after ``T``
with weight ``G(t-) / G(T-)``, where ``G`` is the Kaplan-Meier estimate of the censoring
distribution (events taken before censorings at tied times); every other patient has
weight 1 until the end of follow-up. R's ``survival::finegray`` builds those data, and
lifelines fits them (weights and entry times); the tests do exactly that. But the data grow
with (deaths x censoring intervals): at 100,000 patients several million rows, which
lifelines needs minutes to fit. The weights have a product form, ``g(t) / g(T)``, so the
risk-set sums of the weighted partial likelihood are one suffix sum (patients still
followed) plus ``g(t)`` times one prefix sum (patients who died earlier, divided by their
``g(T)``). Here the same likelihood, with Efron's handling of ties, is maximised by
Newton-Raphson on those sums, and the robust (sandwich) variance is clustered on the
patient, as ``coxph(..., weights = fgwt, cluster = id)`` on the ``finegray`` data.
``cmprsk::crr`` gives the same coefficients where times are not tied (it handles ties as
Breslow) and a variance that also accounts for the estimation of ``G`` (slightly larger).

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing
risk. J Am Stat Assoc 1999;94:496-509.
Geskus RB. Cause-specific cumulative incidence estimation and the Fine and Gray model
under both left truncation and right censoring. Biometrics 2011;67:39-49.
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-65.
Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model. J Am Stat
Assoc 1989;84:1074-8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from imnm_cohort.analysis.competing import COMPETING, EVENT
from imnm_cohort.analysis.coxph import FIT_ERRORS
from imnm_cohort.analysis.malignancy import MalignancyOptions
from imnm_cohort.analysis.riskset import NotEstimable, model_risk_set
from imnm_cohort.analysis.survival import MODEL_GROUPS_SCHEMA, model_disclosure
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin
from imnm_cohort.vocabulary import IMNM_GROUPS


@dataclass(frozen=True)
class FineGrayTerm:
    """One term: subdistribution hazard ratio with its robust interval, or, for a term
    that is not estimable, None everywhere and the ``reason``."""

    term: str
    coef: float | None
    se: float | None
    hazard_ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "term": self.term,
            "coef": self.coef,
            "se": self.se,
            "subdistribution_hazard_ratio": self.hazard_ratio,
            "ci": list(self.ci) if self.ci else None,
            "p_value": self.p_value,
            "reason": self.reason,
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
    groups: dict[str, dict[str, int]] = field(default_factory=dict)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "description": (
                "Fine-Gray model of cancer with death competing; terms empty "
                "and reason given when not fitted."
            ),
            "required": [
                "model",
                "reference_group",
                "n",
                "events",
                "competing",
                "terms",
                "reason",
            ],
            "properties": {
                "model": {"const": "fine_gray"},
                "reference_group": {"type": "string"},
                "n": {"$ref": "#/$defs/count"},
                "events": {"$ref": "#/$defs/count"},
                "competing": {"$ref": "#/$defs/count"},
                "groups": {"$ref": "#/$defs/modelGroups"},
                "reason": {"type": ["string", "null"]},
                "terms": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "term",
                            "coef",
                            "se",
                            "subdistribution_hazard_ratio",
                            "ci",
                            "p_value",
                        ],
                        "properties": {
                            "term": {"type": "string"},
                            "coef": {"$ref": "#/$defs/number"},
                            "se": {"$ref": "#/$defs/number"},
                            "subdistribution_hazard_ratio": {"$ref": "#/$defs/number"},
                            "ci": {"$ref": "#/$defs/interval"},
                            "p_value": {"$ref": "#/$defs/pValue"},
                            "reason": {
                                "type": ["string", "null"],
                                "description": (
                                    "Why the term is not estimable (its numbers are then null), "
                                    "or, where disclosure control withheld its numbers, 'not "
                                    "shown (fewer than k events)'."
                                ),
                            },
                        },
                    },
                },
            },
            "$defs": {"modelGroups": MODEL_GROUPS_SCHEMA},
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (``groups``: patients, cancers and deaths before
        cancer of each group in the model, which add up to the totals)."""
        return {
            "model": "fine_gray",
            "reference_group": self.reference,
            "n": self.n,
            "events": self.events,
            "competing": self.competing,
            "groups": self.groups,
            "terms": [t.to_dict() for t in self.terms],
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: see
        :func:`~imnm_cohort.analysis.survival.model_disclosure`; patients censored
        (neither event) are a difference that must not be small alone."""
        return model_disclosure(
            self.groups, self.reference, [t.term for t in self.terms]
        ) + Declaration(
            counts=(Count(("competing",)),),
            margins=(
                Margin(
                    (("events",), ("competing",)), ("n",), self.n - self.events - self.competing
                ),
            ),
        )

    def method(self) -> str:
        """The method in one sentence, with references."""
        return (
            "A Fine-Gray model (Fine and Gray 1999) of cancer with death as a competing "
            f"event compared the groups with {self.reference} as reference, adjusted for "
            "onset age and male sex; it was fitted as the weighted Cox model of Geskus (2011) "
            "(Efron ties) with robust standard errors clustered on the patient."
        )


def censoring_weights(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The censoring distribution ``G`` as a step function over censoring intervals.

    Returns ``(ends, probs)``: interval ``j`` is ``(ends[j-1], ends[j]]`` (the last ends at
    the largest time) and ``G`` is ``probs[j]`` on it. Events at a censoring time come
    before the censorings (a patient with an event at ``c`` is not at risk of censoring at
    ``c``), as in ``survival::finegray``.
    """
    ctime, n_cens = np.unique(time[event == 0], return_counts=True)
    at_risk = len(time) - np.searchsorted(np.sort(time), ctime, side="left")
    events = np.sort(time[event != 0])
    at_risk -= np.searchsorted(events, ctime, side="right") - np.searchsorted(
        events, ctime, side="left"
    )
    probs = np.r_[1.0, np.cumprod(1.0 - n_cens / at_risk)]
    return np.r_[ctime, time.max()], probs


@dataclass(frozen=True)
class _Data:
    """Sorted patients and what every Newton step needs."""

    x: np.ndarray  # centred covariates, patients in time order
    time: np.ndarray
    event: np.ndarray
    g_own: np.ndarray  # G on the interval holding each patient's own time
    times: np.ndarray  # distinct times of events of interest
    g_event: np.ndarray  # G at each of them
    dead_at: np.ndarray  # index into ``times`` of each patient with the event, else -1
    d: np.ndarray  # events of interest at each time


def _prepare(time: np.ndarray, event: np.ndarray, x: np.ndarray, in_model: np.ndarray) -> _Data:
    ends, probs = censoring_weights(time, event)  # from every patient, in the model or not
    time, event, x = time[in_model], event[in_model], x[in_model]
    order = np.argsort(time, kind="stable")
    time, event, x = time[order], event[order], x[order] - x.mean(axis=0)
    times = np.unique(time[event == EVENT])
    dead_at = np.where(event == EVENT, np.searchsorted(times, time), -1)
    return _Data(
        x,
        time,
        event,
        probs[np.searchsorted(ends, time, side="left")],
        times,
        probs[np.searchsorted(ends, times, side="left")],
        dead_at,
        np.bincount(dead_at[dead_at >= 0], minlength=len(times)),
    )


def _risk_sums(data: _Data, values: np.ndarray) -> np.ndarray:
    """Weighted sums of per-patient ``values`` over the risk set at each event time.

    Patients still followed (``T >= t``) count fully; patients with a competing event
    before ``t`` count ``g(t) / g(T)``.
    """
    flat = values.reshape(len(values), -1)
    n, at = len(flat), np.searchsorted(data.time, data.times, side="left")
    # Sums from each row to the last (``T >= t``) and over the rows before (``T < t``),
    # read at each event time's first row without copying the n-row running sums.
    from_end = np.cumsum(flat[::-1], axis=0)  # from_end[k]: the last k + 1 rows
    followed = np.zeros((len(at), flat.shape[1]))
    inside = at < n
    followed[inside] = from_end[n - 1 - at[inside]]
    # Only the rows with a competing event add to the sums over ``T < t``: their running
    # sums alone, read at the number of such rows before each event time's first row (the
    # same additions in the same order as a running sum over every row, zeros between).
    competing = data.event == COMPETING
    running = np.cumsum(flat[competing] / data.g_own[competing, None], axis=0)
    before = np.r_[0, np.cumsum(competing)][at]  # competing rows among the first ``at``
    earlier = np.zeros((len(at), flat.shape[1]))
    some = before > 0
    earlier[some] = running[before[some] - 1]
    out = followed + data.g_event[:, None] * earlier
    return out.reshape(len(data.times), *values.shape[1:])


def _efron_steps(data: _Data, beta: np.ndarray) -> dict[str, np.ndarray]:
    """Efron's steps k = 0..d-1 at each event time: denominators, means, hazard jumps."""
    risk = np.exp(data.x @ beta)
    rx = risk[:, None] * data.x
    rxx = rx[:, :, None] * data.x[:, None, :]
    s0, s1, s2 = (_risk_sums(data, v) for v in (risk, rx, rxx))
    dead = data.dead_at >= 0
    j_dead = data.dead_at[dead]

    def dead_sum(v: np.ndarray) -> np.ndarray:
        out = np.zeros((len(data.times), *v.shape[1:]))
        np.add.at(out, j_dead, v[dead])
        return out

    d = data.d
    j = np.repeat(np.arange(len(d)), d)
    frac = (np.arange(len(j)) - np.repeat(np.cumsum(d) - d, d)) / d[j]
    den = s0[j] - frac * dead_sum(risk)[j]
    num1 = s1[j] - frac[:, None] * dead_sum(rx)[j]
    num2 = s2[j] - frac[:, None, None] * dead_sum(rxx)[j]
    xbar = num1 / den[:, None]
    return {"risk": risk, "j": j, "frac": frac, "den": den, "xbar": xbar, "num2": num2}


def _loglik(data: _Data, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, its gradient and its Hessian (Efron ties)."""
    e = _efron_steps(data, beta)
    dead = data.dead_at >= 0
    loglik = float((data.x[dead] @ beta).sum() - np.log(e["den"]).sum())
    grad = data.x[dead].sum(axis=0) - e["xbar"].sum(axis=0)
    xbar = e["xbar"]
    hess = -(e["num2"] / e["den"][:, None, None] - xbar[:, :, None] * xbar[:, None, :]).sum(axis=0)
    return loglik, grad, hess


def _score_residuals(data: _Data, beta: np.ndarray) -> np.ndarray:
    """Per-patient score residuals (Efron ties), summing to the score; for the sandwich."""
    e = _efron_steps(data, beta)
    j, frac, xbar = e["j"], e["frac"], e["xbar"]
    n_times, p = len(data.times), data.x.shape[1]
    hazard = 1.0 / e["den"]  # every event of interest has weight 1

    def per_time(v: np.ndarray) -> np.ndarray:
        out = np.zeros((n_times, *v.shape[1:]))
        np.add.at(out, j, v)
        return out

    a, b = per_time(hazard), per_time(xbar * hazard[:, None])
    a_frac, b_frac = per_time(frac * hazard), per_time(xbar * (frac * hazard)[:, None])
    mean_xbar = per_time(xbar) / data.d[:, None]
    # While followed (event times <= T): full weight.
    upto = np.searchsorted(data.times, data.time, side="right")
    cum_a, cum_b = np.r_[0.0, np.cumsum(a)], np.vstack([np.zeros((1, p)), np.cumsum(b, axis=0)])
    x, risk = data.x, e["risk"]
    out = -risk[:, None] * (x * cum_a[upto][:, None] - cum_b[upto])
    # After a competing event: weight g(t) / g(T).
    ga = np.r_[0.0, np.cumsum(data.g_event * a)]
    gb = np.vstack([np.zeros((1, p)), np.cumsum(data.g_event[:, None] * b, axis=0)])
    later_a, later_b = ga[-1] - ga[upto], gb[-1] - gb[upto]
    comp = data.event == COMPETING
    out[comp] -= (risk[comp] / data.g_own[comp])[:, None] * (
        x[comp] * later_a[comp][:, None] - later_b[comp]
    )
    # At their own event time, the patients with the event.
    dead = data.dead_at >= 0
    jd = data.dead_at[dead]
    out[dead] += x[dead] - mean_xbar[jd]
    out[dead] += risk[dead][:, None] * (x[dead] * a_frac[jd][:, None] - b_frac[jd])
    return out


def fit_fine_gray(
    time: np.ndarray,
    event: np.ndarray,
    covariates: pd.DataFrame,
    alpha: float = 0.05,
    in_model: np.ndarray | None = None,
) -> tuple[FineGrayTerm, ...]:
    """Fit the Fine-Gray model; one term per covariate column.

    Newton-Raphson with step halving on the weighted log partial likelihood (Efron ties),
    from 0 until the log likelihood changes by less than 1e-12 (relative); the robust
    variance is ``V U'U V`` with ``V`` the inverse information and ``U`` the patients'
    score residuals (Lin and Wei 1989).

    Parameters
    ----------
    time, event : arrays
        Follow-up time (> 0); 0 censored, 1 event of interest, 2 competing event.
    covariates : pandas.DataFrame
        Numeric covariates, one row per patient, in the order of ``time``.
    alpha : float
        1 - confidence level of the intervals.
    in_model : array of bool, optional
        The patients whose rows enter the model (default: all). Every patient, in the model
        or not, gives the censoring distribution: leaving out a group without events is
        then the limit of the full model as that group's coefficient goes to minus infinity.

    Returns
    -------
    tuple of FineGrayTerm

    Raises
    ------
    numpy.linalg.LinAlgError
        When the information matrix is singular (a covariate without variation).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    rows = np.ones(len(time), dtype=bool) if in_model is None else np.asarray(in_model, bool)
    data = _prepare(time, event, covariates.to_numpy(dtype=float), rows)
    beta = np.zeros(covariates.shape[1])
    loglik, grad, hess = _loglik(data, beta)
    for _ in range(100):
        step = np.linalg.solve(-hess, grad)
        for _ in range(30):  # halve the step until the likelihood does not fall
            new = _loglik(data, beta + step)
            if new[0] >= loglik - 1e-12 * abs(loglik):
                break
            step = step / 2
        change = new[0] - loglik
        beta, (loglik, grad, hess) = beta + step, new
        if abs(change) <= 1e-12 * abs(loglik) and np.abs(step).max() < 1e-9:
            break
    naive = np.linalg.inv(-hess)
    u = _score_residuals(data, beta)
    robust = naive @ u.T @ u @ naive
    z = stats.norm.ppf(1 - alpha / 2)
    terms = []
    for i, name in enumerate(covariates.columns):
        coef, se = float(beta[i]), float(np.sqrt(robust[i, i]))
        p = float(2 * stats.norm.sf(abs(coef / se)))
        ci = (float(np.exp(coef - z * se)), float(np.exp(coef + z * se)))
        terms.append(FineGrayTerm(str(name), coef, se, float(np.exp(coef)), ci, p))
    return tuple(terms)


def fine_gray(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> FineGrayModel:
    """Fine-Gray model of cancer among patients at risk, as the cause-specific Cox model.

    The patients, and the terms that are not estimable, are those of
    :func:`~imnm_cohort.analysis.riskset.model_risk_set`, as for the cause-specific Cox
    model: patients at risk with follow-up > 0 and a known onset age; groups against the
    first group, adjusted for onset age and male sex. Fewer than 10 cancers, none in the
    reference group, or no other group with cancers: no model, with a reason (as is a fit
    that fails). A group without patients at risk or without cancers and a covariate
    without variation are reported as terms that are not estimable, with the reason (their
    estimates would run off to infinity). The patients of a group without cancers are left
    out of the fit, as in the cause-specific Cox model: the limit of the full model as that
    group's coefficient goes to minus infinity (they still count in the censoring
    distribution).

    Returns
    -------
    FineGrayModel
    """
    options = options or MalignancyOptions()
    data = model_risk_set(frame, groups, options)
    counts = data.counts(competing=True)
    if (no_model := data.reason()) is not None:
        return FineGrayModel(
            data.reference, data.n, data.events, data.competing, (), no_model.words(), counts
        )
    x, constant = data.design()
    not_estimable = [
        FineGrayTerm(term, None, None, None, None, None, why.words())
        for term, why in (*data.terms.items(), *constant.items())
        if why is not None
    ]
    try:
        terms = fit_fine_gray(data.time, data.event, x, options.alpha, data.in_model)
    except FIT_ERRORS as exc:
        why = NotEstimable.NOT_FITTED.words(exc)
        return FineGrayModel(data.reference, data.n, data.events, data.competing, (), why, counts)
    return FineGrayModel(
        data.reference,
        data.n,
        data.events,
        data.competing,
        (*terms, *not_estimable),
        None,
        counts,
    )
