"""Standardized mean differences (SMD) between two groups.

An SMD is a difference in units of the pooled standard deviation, so that imbalance can be
compared across variables and does not grow with the sample size as a p-value does. Values
above about 0.1 are usually read as a meaningful imbalance (Austin 2009).

References
----------
Austin PC. Balance diagnostics for comparing the distribution of baseline covariates
between treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-107.

Yang D, Dalton JE. A unified approach to measuring the effect size between two groups using
SAS. SAS Global Forum 2012, paper 335-2012.
"""

from __future__ import annotations

import numpy as np


def continuous_smd(a: np.ndarray, b: np.ndarray) -> float | None:
    """Absolute SMD of a continuous variable (missing values removed beforehand).

    ``|mean(a) - mean(b)| / sqrt((s_a^2 + s_b^2) / 2)``, with sample standard deviations
    (n - 1), as Austin 2009, equation 1.

    Returns
    -------
    float or None
        None when a group has fewer than two values or both variances are zero.
    """
    if a.size < 2 or b.size < 2:
        return None
    a, b = np.sort(a), np.sort(b)  # sums in value order: the same bits for any row order
    pooled = np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2.0)
    if pooled == 0:
        return None
    return float(abs(a.mean() - b.mean()) / pooled)


def categorical_smd(counts_a: np.ndarray, counts_b: np.ndarray) -> float | None:
    """SMD of a categorical variable from the counts of each level in two groups.

    With proportions ``p`` and ``q`` over the k levels, the first level dropped so that the
    covariance is of full rank, ``T = p - q`` and ``S = (S_p + S_q) / 2`` where
    ``S_p = diag(p) - p p'``: ``SMD = sqrt(T' S^-1 T)`` (Yang and Dalton 2012). With two
    levels this is ``|p - q| / sqrt((p(1-p) + q(1-q)) / 2)``. Levels seen in neither group
    are left out.

    Returns
    -------
    float or None
        None when a group has no values or there are fewer than two levels.
    """
    counts_a, counts_b = np.asarray(counts_a, float), np.asarray(counts_b, float)
    seen = (counts_a + counts_b) > 0
    counts_a, counts_b = counts_a[seen], counts_b[seen]
    if counts_a.sum() == 0 or counts_b.sum() == 0 or counts_a.size < 2:
        return None
    p = (counts_a / counts_a.sum())[1:]
    q = (counts_b / counts_b.sum())[1:]
    covariance = (np.diag(p) - np.outer(p, p) + np.diag(q) - np.outer(q, q)) / 2.0
    t = p - q
    # pinv: a level present in one group only can make S singular in degenerate tables.
    squared = float(t @ np.linalg.pinv(covariance) @ t)
    return float(np.sqrt(max(squared, 0.0)))
