"""Competing risks: cumulative incidence (Aalen-Johansen) and Gray's K-sample test.

Both are written here because no maintained Python library gives them as needed: lifelines'
``AalenJohansenFitter`` breaks tied times with random jitter (results would change between
runs) and no Python library has Gray's test. Both work on whole arrays: one pass over the
distinct times, no loop over patients, and tied times are handled exactly.

Event codes: 0 censored, 1 the event of interest, 2 a competing event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

CENSORED, EVENT, COMPETING = 0, 1, 2


@dataclass(frozen=True)
class CumulativeIncidence:
    """A cumulative incidence curve as a right-continuous step function.

    Attributes
    ----------
    time : numpy.ndarray
        The distinct observed times (sorted).
    estimate : numpy.ndarray
        Aalen-Johansen estimate of the cumulative incidence just after each time.
    variance : numpy.ndarray
        Its variance (Gray's estimator, as in R's ``cmprsk::cuminc``).
    at_risk : numpy.ndarray
        Number at risk just before each time.
    alpha : float
        1 - confidence level of the pointwise intervals.
    """

    time: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    variance: np.ndarray = field(repr=False)
    at_risk: np.ndarray = field(repr=False)
    alpha: float = 0.05

    def at(self, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate and variance at time(s) ``t`` (0 before the first time)."""
        idx = np.searchsorted(self.time, np.asarray(t, dtype=float), side="right") - 1
        est = np.where(idx >= 0, self.estimate[np.maximum(idx, 0)], 0.0)
        var = np.where(idx >= 0, self.variance[np.maximum(idx, 0)], 0.0)
        return est, var

    def confidence_interval(self, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise interval at ``t`` on the log(-log) scale.

        ``F ** exp(+-z * se / (F * log F))``, which stays inside (0, 1); where the estimate
        is 0 or 1 the interval collapses to the estimate.
        """
        est, var = self.at(t)
        z = stats.norm.ppf(1 - self.alpha / 2)
        inside = (est > 0) & (est < 1)
        safe = np.where(inside, est, 0.5)
        scale = np.sqrt(var) / (safe * np.log(safe))
        # An estimate very near 1 makes the scale huge: exp overflows to infinity and the
        # bound goes to its limit (0 or 1) without a warning.
        with np.errstate(over="ignore"):
            lower = np.where(inside, safe ** np.exp(-z * scale), est)
            upper = np.where(inside, safe ** np.exp(z * scale), est)
        return lower, upper


def cumulative_incidence(
    time: np.ndarray, event: np.ndarray, alpha: float = 0.05
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of event 1 with competing event 2.

    .. math:: F_1(t) = \\sum_{t_j \\le t} \\hat S(t_j-) \\, d_{1j} / n_j

    where :math:`\\hat S` is the Kaplan-Meier estimate of being free of any event, and
    :math:`d_{1j}, n_j` the events of interest and the number at risk at :math:`t_j`.
    Tied times are taken together (no jitter). The variance is Gray's (1988) estimator as
    computed by R's ``cmprsk::cuminc``, including its correction for tied events, and is
    updated at the times of events of interest.

    Parameters
    ----------
    time : array of float
        Follow-up time, >= 0.
    event : array of int
        0 censored, 1 event of interest, 2 competing event.
    alpha : float
        For the pointwise intervals.

    Returns
    -------
    CumulativeIncidence

    References
    ----------
    Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data. Wiley, 1980.
    Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 1988;16:1141-54.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    _check(time, event)
    times, inverse = np.unique(time, return_inverse=True)
    n_at = np.bincount(inverse, minlength=len(times)).astype(float)
    d1 = np.bincount(inverse, weights=event == EVENT, minlength=len(times))
    d2 = np.bincount(inverse, weights=event == COMPETING, minlength=len(times))
    at_risk = len(time) - np.cumsum(n_at) + n_at
    surv = np.cumprod(1.0 - (d1 + d2) / at_risk)
    surv_before = np.concatenate([[1.0], surv[:-1]])
    estimate = np.cumsum(surv_before * d1 / at_risk)

    inv_surv = np.divide(1.0, surv, out=np.zeros_like(surv), where=surv > 0)

    def tie_weight(d: np.ndarray) -> np.ndarray:
        corr = np.divide(d - 1, at_risk - 1, out=np.zeros_like(d), where=d > 1)
        return surv_before**2 * (1.0 - corr) * d / at_risk**2

    w2 = np.where((d2 > 0) & (surv > 0), tie_weight(d2), 0.0)
    w1 = np.where(d1 > 0, tie_weight(d1), 0.0)
    a = estimate * inv_surv  # competing events
    b = 1.0 + inv_surv * estimate  # events of interest
    v1 = np.cumsum(a * a * w2 + b * b * w1)
    v2 = np.cumsum(inv_surv * a * w2 + inv_surv * b * w1)
    v3 = np.cumsum(inv_surv**2 * (w2 + w1))
    var_at_events = v1 + estimate**2 * v3 - 2 * estimate * v2
    # Held constant between events of interest (as cmprsk reports it).
    last_event = np.maximum.accumulate(np.where(d1 > 0, np.arange(len(times)), -1))
    variance = np.where(last_event >= 0, var_at_events[np.maximum(last_event, 0)], 0.0)
    return CumulativeIncidence(times, estimate, variance, at_risk, alpha)


@dataclass(frozen=True)
class GrayTest:
    """Result of Gray's test for equal cumulative incidence across groups.

    Attributes
    ----------
    statistic : float or None
        Chi-square statistic (None when the test cannot be computed; see ``reason``).
    df : int
        Degrees of freedom (groups - 1).
    p_value : float or None
    groups : tuple of str
        The groups compared, in order.
    reason : str or None
        Why there is no statistic, if there is none.
    """

    statistic: float | None
    df: int
    p_value: float | None
    groups: tuple[str, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "test": "gray",
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "groups": list(self.groups),
            "reason": self.reason,
        }


def gray_test(time: np.ndarray, event: np.ndarray, group: np.ndarray, rho: float = 0.0) -> GrayTest:
    """Gray's K-sample test for the cumulative incidence of event 1 (competing event 2).

    The score for group *k* sums, over the times of events of interest, the weighted
    difference between its observed events and those expected from the pooled
    subdistribution hazard, with risk sets :math:`R_k(t) = n_k(t) (1 - F_{1k}(t-)) /
    S_k(t-)`; the weight is :math:`(1 - \\hat F_1(t-))^{\\rho}`. The statistic is
    :math:`s^T V^{-1} s` over the first *K - 1* groups, chi-square with *K - 1* degrees of
    freedom; *V* is Gray's variance estimator (with the tie corrections of R's
    ``cmprsk::cuminc``). Single stratum.

    Parameters
    ----------
    time, event : arrays
        As for :func:`cumulative_incidence`.
    group : array
        Group label of each observation; groups are compared in sorted order.
    rho : float
        Power of the weight function (0, the default, as in ``cmprsk``).

    Returns
    -------
    GrayTest

    References
    ----------
    Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 1988;16:1141-54.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    _check(time, event)
    labels, g = np.unique(np.asarray(group).astype(str), return_inverse=True)
    k = len(labels)
    names = tuple(str(x) for x in labels)
    if k < 2:
        return GrayTest(None, 0, None, names, "fewer than two groups")
    if not (event == EVENT).any():
        return GrayTest(None, k - 1, None, names, "no events of interest")
    times, t_idx = np.unique(time, return_inverse=True)
    shape = (len(times), k)

    def count(mask: np.ndarray) -> np.ndarray:
        flat = np.bincount(t_idx * k + g, weights=mask, minlength=shape[0] * k)
        return flat.reshape(shape)

    n_at = count(np.ones_like(time, dtype=bool))
    d1, d2 = count(event == EVENT), count(event == COMPETING)
    has_event = (d1 + d2).sum(axis=1) > 0
    # Risk sets just before each time, per group.
    rs = n_at.sum(axis=0) - np.cumsum(n_at, axis=0) + n_at
    rs, d1, d2 = rs[has_event], d1[has_event], d2[has_event]
    live = rs > 0
    factor = np.where(live, 1.0 - (d1 + d2) / np.where(live, rs, 1.0), 1.0)
    skm = np.cumprod(factor, axis=0)  # group KM, right-continuous
    skmm = np.vstack([np.ones(k), skm[:-1]])  # left-continuous
    jump = np.where(live, skmm * d1 / np.where(live, rs, 1.0), 0.0)
    f1 = np.cumsum(jump, axis=0)
    f1m = np.vstack([np.zeros(k), f1[:-1]])
    safe_skmm = np.where(skmm > 0, skmm, 1.0)
    h = np.where(live, rs / safe_skmm, 0.0)  # rs / S(t-)
    tr = h.sum(axis=1)
    tq = np.where(live, rs * (1 - f1m) / safe_skmm, 0.0).sum(axis=1)
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.concatenate([[0.0], f[:-1]])
    fb = (1 - fm) ** rho

    score = (
        fb[:, None] * np.where(live, d1 - nd1[:, None] * h * (1 - f1m) / tq[:, None], 0.0)
    ).sum(axis=0)[: k - 1]
    # a_t = fb (diag(h) - h h' / tr); c accumulates a_t * nd1 / (tr (1 - fm)).
    a = fb[:, None, None] * (
        np.einsum("ti,ij->tij", h, np.eye(k)) - h[:, :, None] * h[:, None, :] / tr[:, None, None]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(nd1 > 0, nd1 / (tr * (1 - fm)), 0.0)
    # Where the pooled incidence reaches 1 with events still to come (1 - fm = 0), the step
    # is infinite: the variance is then not finite, and the test says it can't be estimated.
    with np.errstate(invalid="ignore"):
        c = np.cumsum(a * step[:, None, None], axis=0)
    if not np.isfinite(c).all():
        return GrayTest(None, k - 1, None, names, "variance could not be estimated")

    # Contributions of events of interest (per group k' = column).
    ev = (nd1 > 0)[:, None] & live
    t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / np.where(skm > 0, skm, 1.0), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(ev, t5 * skmm * nd1[:, None] / (tr[:, None] * np.where(live, rs, 1.0)), 0.0)
    t1 = a - t4[:, None, :] * c  # [t, i, k']
    v3 = (t4**2 * t3).sum(axis=0)
    v2 = np.einsum("tik,tk,tk->ik", t1, t4, t3)
    v = np.einsum("tik,tjk,tk->ij", t1, t1, t3)

    # Contributions of competing events.
    comp = (nd2 > 0)[:, None] & (skm > 0) & (d2 > 0)
    u4 = np.where(comp, (1 - f)[:, None] / np.where(skm > 0, skm, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        u3 = np.where(comp, u5 * skmm**2 * d2 / np.where(live, rs, 1.0) ** 2, 0.0)
    u1 = u4[:, None, :] * c
    v3 = v3 + (u4**2 * u3).sum(axis=0)
    v2 = v2 - np.einsum("tik,tk,tk->ik", u1, u4, u3)
    v = v + np.einsum("tik,tjk,tk->ij", u1, u1, u3)

    c_end = c[-1]
    v = v + (c_end * v3) @ c_end.T + c_end @ v2.T + v2 @ c_end.T
    s, vs = score, v[: k - 1, : k - 1]
    try:
        statistic = float(s @ np.linalg.solve(vs, s))
    except np.linalg.LinAlgError:
        return GrayTest(None, k - 1, None, names, "singular variance (too few events)")
    if not np.isfinite(statistic):
        return GrayTest(None, k - 1, None, names, "variance could not be estimated")
    return GrayTest(statistic, k - 1, float(stats.chi2.sf(statistic, k - 1)), names)


def _check(time: np.ndarray, event: np.ndarray) -> None:
    if time.shape != event.shape:
        raise ValueError("time and event must have the same length")
    if np.isnan(time).any() or (time < 0).any():
        raise ValueError("times must be non-negative numbers")
    if not np.isin(event, (CENSORED, EVENT, COMPETING)).all():
        raise ValueError("event codes must be 0 (censored), 1 (event) or 2 (competing)")
