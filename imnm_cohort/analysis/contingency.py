"""Tests of independence in an r x c table whose expected counts are too small for chi-square.

Both tests condition on the table's margins, which is the permutation distribution of the
group labels; both cost per table, never per patient, so memory does not grow with the
number of patients or of resamples:

- the exact Fisher-Freeman-Halton test, where the tables with the observed margins are few
  enough to enumerate (Freeman and Halton, Biometrika 1951;38:141-9);
- otherwise a Monte Carlo test of Pearson's chi-square over tables drawn with the margins
  fixed by Patefield's algorithm (Patefield, Appl Stat 1981;30:91-7, as
  ``scipy.stats.random_table`` and R's ``chisq.test(simulate.p.value = TRUE)``), in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import gammaln

MAX_EXACT_TABLES = 200_000
MONTE_CARLO_CHUNK = 10_000
# R's fisher.test counts tables whose probability is within a relative 1e-7 of the observed
# one as equally extreme; chisq.test uses 1 - 64 machine epsilons for the statistic.
_LOG_TOLERANCE = 1e-7
_ALMOST_ONE = 1 - 64 * np.finfo(float).eps


@dataclass(frozen=True)
class ContingencyTest:
    """The outcome of one r x c test.

    Attributes
    ----------
    test : str
        ``fisher_freeman_halton`` (exact) or ``permutation_chi2`` (Monte Carlo).
    statistic : float
        The probability of the observed table under independence given the margins (exact
        test), or Pearson's chi-square (Monte Carlo test).
    p_value : float
    tables : int
        Tables enumerated (exact) or drawn (Monte Carlo).
    """

    test: str
    statistic: float
    p_value: float
    tables: int


def pearson_chi2(counts: np.ndarray) -> np.ndarray:
    """Pearson's chi-square of a stack of tables ``[..., r, c]`` with no empty margin."""
    counts = np.asarray(counts, dtype=float)
    rows = counts.sum(axis=-1, keepdims=True)
    cols = counts.sum(axis=-2, keepdims=True)
    expected = rows * cols / counts.sum(axis=(-2, -1), keepdims=True)
    return np.asarray(((counts - expected) ** 2 / expected).sum(axis=(-2, -1)))


def _table_weights(rows: np.ndarray, cols: np.ndarray, limit: int) -> np.ndarray | None:
    """``-sum(log(x_ij!))`` of every table with these margins; None beyond ``limit`` tables.

    Tables are built cell by cell, each cell taking every value that leaves the rest of its
    row fillable by the columns to its right; partial tables are expanded as arrays.
    """
    r, c = rows.size, cols.size
    remaining = cols[None, :].astype(np.int64)
    weight = np.zeros(1)
    for i in range(r - 1):
        left = np.full(weight.size, rows[i], dtype=np.int64)
        for j in range(c - 1):
            low = np.maximum(0, left - remaining[:, j + 1 :].sum(axis=1))
            high = np.minimum(left, remaining[:, j])
            width = high - low + 1
            total = int(width.sum())
            if total > limit:
                return None
            parent = np.repeat(np.arange(weight.size), width)
            start = np.repeat(np.cumsum(width) - width, width)
            x = low[parent] + np.arange(total) - start
            remaining = remaining[parent]
            remaining[:, j] -= x
            left = left[parent] - x
            weight = weight[parent] - gammaln(x + 1)
        remaining[:, c - 1] -= left
        weight = weight - gammaln(left + 1)
    return weight - gammaln(remaining + 1).sum(axis=1)


def fisher_freeman_halton(
    counts: np.ndarray, max_tables: int = MAX_EXACT_TABLES
) -> ContingencyTest | None:
    """Exact Fisher-Freeman-Halton test of an r x c table.

    The p-value sums the probabilities, under independence given the margins, of every table
    no more probable than the observed one, as R's ``fisher.test``.

    Parameters
    ----------
    counts : numpy.ndarray
        The r x c table of counts, no empty row or column.
    max_tables : int
        Enumerate at most this many (partial) tables.

    Returns
    -------
    ContingencyTest or None
        None when the tables with these margins are too many to enumerate.

    References
    ----------
    Freeman GH, Halton JH. Note on an exact treatment of contingency, goodness of fit and
    other problems of significance. Biometrika 1951;38:141-9.
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows, cols = counts.sum(axis=1), counts.sum(axis=0)
    weights = _table_weights(rows, cols, max_tables)
    if weights is None:
        return None
    constant = gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(counts.sum() + 1)
    observed = -gammaln(counts + 1).sum()
    extreme = weights <= observed + _LOG_TOLERANCE
    p_value = float(np.exp(constant + weights[extreme]).sum())
    return ContingencyTest(
        "fisher_freeman_halton", float(np.exp(constant + observed)), min(1.0, p_value), weights.size
    )


def monte_carlo_chi2(counts: np.ndarray, n_tables: int, seed: int) -> ContingencyTest:
    """Monte Carlo p-value of Pearson's chi-square, drawing tables with the margins fixed.

    ``p = (1 + #{drawn chi-square >= observed}) / (1 + n_tables)``, as R's
    ``chisq.test(simulate.p.value = TRUE, B = n_tables)``. Tables are drawn by Patefield's
    algorithm in chunks of ``MONTE_CARLO_CHUNK``: memory depends on neither the number of
    patients nor ``n_tables``. Deterministic for a seed.

    References
    ----------
    Patefield WM. Algorithm AS 159: an efficient method of generating random r x c tables
    with given row and column totals. Appl Stat 1981;30:91-7.
    Hope ACA. A simplified Monte Carlo significance test procedure. J R Stat Soc B
    1968;30:582-98.
    """
    counts = np.asarray(counts, dtype=np.int64)
    observed = float(pearson_chi2(counts))
    tables = stats.random_table(
        counts.sum(axis=1), counts.sum(axis=0), seed=np.random.default_rng(seed)
    )
    extreme = 0
    for start in range(0, n_tables, MONTE_CARLO_CHUNK):
        drawn = tables.rvs(size=min(MONTE_CARLO_CHUNK, n_tables - start), method="patefield")
        extreme += int(np.count_nonzero(pearson_chi2(drawn) >= observed * _ALMOST_ONE))
    return ContingencyTest("permutation_chi2", observed, (1 + extreme) / (1 + n_tables), n_tables)
