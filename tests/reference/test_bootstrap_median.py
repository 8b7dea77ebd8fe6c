"""Bootstrap medians drawn from order statistics against resampling itself.

``bootstrap_medians`` draws each resample's median from two Beta variates instead of
resampling n values; its distribution must be that of the median of n values drawn with
replacement. Checked against the exact distribution by enumerating every resample (small
n), the closed form of Maritz and Jarrett (JASA 1978) for odd n, and brute-force resampling.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from imnm_cohort.analysis.bootstrap import bootstrap_medians, median_difference_ci

DRAWS = 40_000
# Dvoretzky-Kiefer-Wolfowitz: P(sup |ECDF - CDF| > eps) <= 2 exp(-2 n eps^2) = 1e-6.
DKW = np.sqrt(np.log(2 / 1e-6) / (2 * DRAWS))


def _exact_bootstrap_cdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct medians and their CDF over all n**n equally likely resamples."""
    n = values.size
    resamples = values[np.array(list(itertools.product(range(n), repeat=n)))]
    medians = np.median(resamples, axis=1)
    support, counts = np.unique(medians, return_counts=True)
    return support, np.cumsum(counts) / counts.sum()


@pytest.mark.parametrize(
    "values",
    [
        np.array([7.0, 1.0, 2.0, 4.0, 2.0]),  # odd, with a tie
        np.array([10.0, 3.0, 4.0, 1.0, 8.0, 4.0]),  # even, with a tie
        np.array([5.0, 2.0, 9.0, 6.0, 1.0, 3.0, 8.0]),  # odd, no tie
    ],
)
def test_distribution_equals_the_enumerated_bootstrap(values):
    support, cdf = _exact_bootstrap_cdf(values)
    drawn = bootstrap_medians(values, DRAWS, np.random.default_rng(11))
    assert set(np.unique(drawn)) <= set(support)
    ecdf = np.searchsorted(np.sort(drawn), support, side="right") / DRAWS
    assert np.max(np.abs(ecdf - cdf)) < DKW


def test_odd_n_matches_the_maritz_jarrett_closed_form():
    # P(median* <= x_(j)) = P(Binomial(n, j/n) >= (n + 1) / 2), j = 1..n.
    values = np.round(np.random.default_rng(2).gamma(2.0, 400.0, 51), -1)  # ties
    x = np.sort(values)
    n, k = x.size, (x.size + 1) // 2
    j = np.arange(1, n + 1)
    last = np.r_[x[1:] != x[:-1], True]  # the CDF at a tied value is at its last copy
    cdf = stats.binom.sf(k - 1, n, j / n)[last]
    drawn = np.sort(bootstrap_medians(values, DRAWS, np.random.default_rng(5)))
    ecdf = np.searchsorted(drawn, x[last], side="right") / DRAWS
    assert np.max(np.abs(ecdf - cdf)) < DKW


@pytest.mark.parametrize("n", [40, 41])
def test_agrees_with_brute_force_resampling(n):
    values = np.random.default_rng(n).lognormal(7.0, 1.0, n)
    rng = np.random.default_rng(1)
    brute = np.median(values[rng.integers(0, n, (DRAWS, n))], axis=1)
    ours = bootstrap_medians(values, DRAWS, np.random.default_rng(2))
    # Two-sample Kolmogorov-Smirnov; discrete distributions make it conservative.
    assert stats.ks_2samp(brute, ours).pvalue > 1e-4
    assert np.percentile(ours, [2.5, 97.5]) == pytest.approx(
        np.percentile(brute, [2.5, 97.5]), rel=0.05
    )


def test_interval_is_deterministic_and_ignores_the_order_of_the_values():
    rng = np.random.default_rng(3)
    a, b = rng.normal(60, 10, 300), rng.normal(55, 12, 201)
    ci = median_difference_ci(a, b, 2000, seed=9)
    assert ci == median_difference_ci(rng.permutation(a), rng.permutation(b), 2000, seed=9)
    assert ci != median_difference_ci(a, b, 2000, seed=10)
    assert ci[0] < np.median(a) - np.median(b) < ci[1]
