"""Rates and rate ratios of the statin-population analysis against R.

``r/statin_population.R`` runs ``poisson.test`` (R 4.2.2, package stats) on each row's
counts and person-years: the exact Poisson interval of each rate, and the exposed /
unexposed rate ratio with its exact interval and p-value conditional on the total number
of events. Its output is ``r/statin_population.csv``; the test never calls R. The first
and last rows are the small CDM of ``tests/unit/test_statin_population.py`` (any statin
and the unexposed, all IMNM).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.analysis.statin_population import GroupRate, rate_ratio

R = pd.read_csv(Path(__file__).parent / "r" / "statin_population.csv")


def _close(ours: float | None, theirs: float) -> None:
    if math.isinf(theirs):
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("row", R.to_dict("records"), ids=lambda r: f"{r['x1']}v{r['x0']}")
def test_rates_and_ratios_match_r_poisson_test(row):
    for side in ("1", "0"):
        rate = GroupRate.of(int(row[f"x{side}"]), row[f"t{side}"])
        _close(rate.rate, row[f"rate{side}"])
        assert rate.rate_ci is not None
        _close(rate.rate_ci[0], row[f"rate{side}_lo"])
        _close(rate.rate_ci[1], row[f"rate{side}_hi"])
    ratio = rate_ratio(int(row["x1"]), row["t1"], int(row["x0"]), row["t0"])
    assert ratio.ci is not None
    _close(ratio.ratio, row["rr"])
    _close(ratio.ci[0], row["rr_lo"])
    _close(ratio.ci[1], row["rr_hi"])
    _close(ratio.p_value, row["rr_p"])
