"""Exact confidence intervals for proportions and Poisson rates."""

from __future__ import annotations

from scipy import stats


def clopper_pearson(events: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Clopper-Pearson ("exact") interval for a binomial proportion.

    Parameters
    ----------
    events, n : int
        Successes and trials (``n`` >= 1).
    alpha : float
        1 - confidence level.

    Returns
    -------
    (lower, upper) : tuple of float

    References
    ----------
    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the
    case of the binomial. Biometrika 1934;26:404-13.
    """
    ci = stats.binomtest(int(events), int(n)).proportion_ci(1 - alpha, method="exact")
    return float(ci.low), float(ci.high)


def percent_ci(
    events: int, n: int, alpha: float = 0.05
) -> tuple[float | None, tuple[float, float] | None]:
    """``100 * events / n`` with its :func:`clopper_pearson` interval, both in percent.

    Returns
    -------
    (percent, (lower, upper))
        ``(None, None)`` when ``n`` is 0.
    """
    if n == 0:
        return None, None
    lower, upper = clopper_pearson(events, n, alpha)
    return 100.0 * events / n, (100.0 * lower, 100.0 * upper)


def poisson_exact(events: int, exposure: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate ``events / exposure``.

    Lower limit :math:`\\chi^2_{\\alpha/2}(2x) / 2`, upper :math:`\\chi^2_{1-\\alpha/2}(2x+2) / 2`,
    divided by the exposure; the lower limit is 0 when there are no events.

    Returns
    -------
    (lower, upper) : tuple of float
        In events per unit of ``exposure``.

    References
    ----------
    Garwood F. Fiducial limits for the Poisson distribution. Biometrika 1936;28:437-42.
    """
    x = int(events)
    lower = 0.0 if x == 0 else stats.chi2.ppf(alpha / 2, 2 * x) / 2
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    return float(lower / exposure), float(upper / exposure)
