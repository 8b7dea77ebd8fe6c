"""Shuffling the rows of a classified extract changes no number in the analyses.

Bootstrap and Monte Carlo draws depend on sorted values and table counts only, so the same
patients in any row order give the same ``to_dict()``, to the last bit: every analysis
sorts the patients by ``patient_id`` before it sums.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import analyse, compare_categorical

EXACT_PARTS = (
    "groups",
    "comparisons",
    "table_one",
    "time_since_onset",
    "fine_gray",
    "survival",
    "cause_specific_cox",
)


@cache
def _cohort(n: int, seed: int) -> pd.DataFrame:
    classified = classify(validate_extract(synthesize(n, seed=seed)).valid)
    # A rare sex so that Table 1 takes the exact and Monte Carlo paths, too.
    rare = classified.index[classified["imnm_group"].isin(["hmgcr", "srp"])][:2]
    classified.loc[rare, "sex"] = "other"
    return classified


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _flatten(item, f"{path}/{key}").items()
        }
    if isinstance(value, list | tuple):
        return {
            k: v for i, item in enumerate(value) for k, v in _flatten(item, f"{path}[{i}]").items()
        }
    return {path: value}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cohort=st.sampled_from([(240, 1), (420, 7)]),
    order=st.integers(0, 2**32 - 1),
    reindex=st.booleans(),
)
@pytest.mark.slow
def test_shuffled_rows_give_the_same_numbers(cohort, order, reindex):
    frame = _cohort(*cohort)
    shuffled = frame.iloc[np.random.default_rng(order).permutation(len(frame))]
    if reindex:
        shuffled = shuffled.reset_index(drop=True)
    before = analyse(frame, n_boot=200, seed=3).to_dict()
    after = analyse(shuffled, n_boot=200, seed=3).to_dict()
    for part in EXACT_PARTS:
        assert _flatten(after[part]) == _flatten(before[part]), part
    rest_before = _flatten({k: v for k, v in before.items() if k not in EXACT_PARTS})
    rest_after = _flatten({k: v for k, v in after.items() if k not in EXACT_PARTS})
    assert rest_after.keys() == rest_before.keys()
    for key, value in rest_before.items():
        if isinstance(value, float):
            assert rest_after[key] == pytest.approx(value, rel=1e-12, abs=1e-300, nan_ok=True), key
        else:
            assert rest_after[key] == value, key


@settings(max_examples=10, deadline=None)
@given(order=st.integers(0, 2**32 - 1))
def test_monte_carlo_categorical_test_ignores_row_order(order):
    frame = _cohort(420, 7)
    shuffled = frame.iloc[np.random.default_rng(order).permutation(len(frame))]
    before = compare_categorical(frame, "sex", n_perm=500, seed=2, max_exact_tables=0)
    after = compare_categorical(shuffled, "sex", n_perm=500, seed=2, max_exact_tables=0)
    assert before.test == "permutation_chi2"
    assert after == before
