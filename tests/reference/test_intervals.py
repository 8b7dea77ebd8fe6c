"""Exact intervals against published reference values.

Clopper-Pearson: Newcombe RG. Two-sided confidence intervals for the single proportion:
comparison of seven methods. Stat Med 1998;17:857-72, Table II, method 5 ("exact").
Poisson: the exact (Garwood 1936) 95% limits for a count, as tabulated in epidemiology
texts (e.g. Ulm K, Am J Epidemiol 1990;131:373-5): 0: 0-3.689; 1: 0.0253-5.572;
2: 0.242-7.225; 3: 0.619-8.767; 10: 4.795-18.390.
"""

import pytest

from imnm_cohort.analysis import clopper_pearson, poisson_exact


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [(15, 148, 0.0578, 0.1617), (0, 20, 0.0, 0.1684), (1, 29, 0.0009, 0.1776)],
)
def test_clopper_pearson_matches_newcombe_1998(k, n, lower, upper):
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize(
    ("x", "lower", "upper"),
    [
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (2, 0.242, 7.225),
        (3, 0.619, 8.767),
        (10, 4.795, 18.390),
    ],
)
def test_poisson_exact_matches_the_garwood_table(x, lower, upper):
    lo, hi = poisson_exact(x, 1.0)
    assert lo == pytest.approx(lower, abs=6e-4)
    assert hi == pytest.approx(upper, abs=6e-4)


def test_poisson_rate_scales_with_exposure():
    assert poisson_exact(10, 1000.0) == pytest.approx(tuple(v / 1000 for v in poisson_exact(10, 1)))
