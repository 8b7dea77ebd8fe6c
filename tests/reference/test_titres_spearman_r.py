"""Spearman's rho and its p-value against R ``cor.test(method = "spearman")``.

The cases and R's output are in ``tests/reference/r/spearman_cor_test.R`` and
``spearman_cor_test.csv`` (R 4.2.2; the version is beside them): exact enumeration to
n = 9, AS 89's Edgeworth series from 10 to 1290 without ties, the t approximation with ties
or n above 1290, rho of both signs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.titres import spearman_test

CASES = pd.read_csv(Path(__file__).parent / "r" / "spearman_cor_test.csv", dtype=str)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_rho_and_p_value_match_r(i):
    row = CASES.iloc[i]
    x = np.array(row["x"].split(), dtype=float)
    y = np.array(row["y"].split(), dtype=float)
    test = spearman_test(x, y)
    assert test.rho == pytest.approx(float(row["rho"]), abs=1e-12)
    assert test.p_value == pytest.approx(float(row["p"]), abs=1e-9, rel=1e-9)
    ties = len(set(x)) < len(x) or len(set(y)) < len(y)
    assert test.method == ("asymptotic" if ties or len(x) > 1290 else "exact")


def test_the_cases_cover_each_way_r_computes_the_p_value():
    n = CASES["x"].str.split().str.len()
    assert (n <= 9).any() and ((n >= 10) & (n <= 1290)).any() and (n > 1290).any()
    rho = CASES["rho"].astype(float)
    assert (rho > 0).any() and (rho < 0).any()
