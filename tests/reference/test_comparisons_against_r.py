"""Categorical and Mann-Whitney tests against R 4.2.

The numbers come from the R scripts in ``tests/reference/r/`` (their output is kept beside
them): ``fisher.test`` (exact), ``chisq.test(simulate.p.value = TRUE, B = 200000)`` and
``wilcox.test``.
"""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis import compare_categorical, compare_continuous

R_DIR = Path(__file__).parent / "r"
GROUPS = ["hmgcr", "srp", "seronegative", "statin_toxic"]


def _rows(name: str) -> list[dict[str, str]]:
    with open(R_DIR / name, newline="") as f:
        return list(csv.DictReader(f))


def _table(row: dict[str, str]) -> np.ndarray:
    cells = np.array([int(c) for c in row["cells"].split(";")])
    return cells.reshape(int(row["rows"]), -1)


def _patients(table: np.ndarray) -> pd.DataFrame:
    """One row per patient: group ``GROUPS[i]`` and level ``L{j}`` for cell (i, j)."""
    groups, levels = [], []
    for (i, j), n in np.ndenumerate(table):
        groups += [GROUPS[i]] * int(n)
        levels += [f"L{j}"] * int(n)
    return pd.DataFrame({"imnm_group": groups, "level": levels})


EXACT = [r for r in _rows("contingency_reference.csv") if r["test"] == "fisher_exact"]
SIMULATED = [r for r in _rows("contingency_reference.csv") if r["test"] == "chisq_simulated"]


@pytest.mark.parametrize("row", EXACT, ids=[r["name"] for r in EXACT])
def test_exact_tests_match_r_fisher_test(row):
    table = _table(row)
    result = compare_categorical(_patients(table), "level", GROUPS[: table.shape[0]])
    if row["name"] == "job":
        # More tables than the exact test enumerates by default: simulated instead.
        assert result.test == "permutation_chi2"
        return
    assert result.test == ("fisher" if table.shape == (2, 2) else "fisher_freeman_halton")
    assert result.p_value == pytest.approx(float(row["p_value"]), rel=1e-9)
    assert ("Fisher-Freeman-Halton" in result.method()) == (table.shape != (2, 2))


@pytest.mark.parametrize("row", SIMULATED, ids=[r["name"] for r in SIMULATED])
def test_monte_carlo_chi_square_matches_r_within_monte_carlo_error(row):
    table = _table(row)
    n = 20_000
    result = compare_categorical(
        _patients(table), "level", GROUPS[: table.shape[0]], n_perm=n, max_exact_tables=0
    )
    assert result.test == "permutation_chi2"
    assert (result.resamples, result.seed) == (n, 0)
    assert f"({n} tables, seed 0)" in result.method()
    r_p, r_b = float(row["p_value"]), int(row["B"])
    # Both are Monte Carlo estimates of the same p-value: 4 standard errors of the difference.
    error = np.sqrt(r_p * (1 - r_p) * (1 / n + 1 / r_b))
    assert abs(result.p_value - r_p) < 4 * error + 1 / n


def test_a_rare_level_among_many_patients_costs_memory_per_table_not_per_patient():
    # 600,000 patients: one bincount for the table, then per-table work only. Holding the
    # 2,000 resamples of every patient's label would take about 10 GB.
    table = np.array([[240_000, 160_000, 2], [120_000, 80_000, 0], [1, 1, 3]])
    frame = pd.DataFrame(
        {
            "imnm_group": pd.Categorical.from_codes(
                np.repeat([0, 1, 2], table.sum(axis=1)), categories=GROUPS
            ),
            "level": np.concatenate([np.repeat(["a", "b", "c"], r) for r in table]),
        }
    )
    tracemalloc.start()
    result = compare_categorical(frame, "level", GROUPS[:3], n_perm=2000, seed=4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 60e6
    assert result.test == "permutation_chi2"
    assert result.table["seronegative"] == {"a": 1, "b": 1, "c": 3}
    # No resampled table is as extreme: (0 + 1) / (2000 + 1), the p-value R's
    # chisq.test(simulate.p.value = TRUE, B = 2000) gives for this table (0.0004997501).
    assert result.p_value == pytest.approx(1 / 2001)


def test_the_exact_test_enumerates_every_table_with_the_margins():
    # 2 x 3 table with margins (4, 4) and (3, 2, 3): the p-value over the enumerated tables
    # equals the sum of the hypergeometric probabilities over all tables, i.e. 1, for a
    # table that is the least extreme possible.
    frame = _patients(np.array([[2, 1, 1], [1, 1, 2]]))
    result = compare_categorical(frame, "level", GROUPS[:2])
    assert result.test == "fisher_freeman_halton"
    # R: fisher.test(matrix(c(2, 1, 1, 1, 1, 2), 2, byrow = TRUE))$p.value is 1.
    assert result.p_value == pytest.approx(1.0)


WILCOX = _rows("wilcox_reference.csv")


@pytest.mark.parametrize("row", WILCOX, ids=[r["case"] for r in WILCOX])
def test_mann_whitney_matches_r_wilcox_test(row):
    x = np.array([float(v) for v in row["x"].split(";")])
    y = np.array([float(v) for v in row["y"].split(";")])
    frame = pd.DataFrame(
        {"imnm_group": ["hmgcr"] * x.size + ["srp"] * y.size, "ck_peak": np.concatenate([x, y])}
    )
    result = compare_continuous(frame, "ck_peak", ["hmgcr", "srp"], n_boot=20)
    (pair,) = result.pairwise
    assert pair.statistic == float(row["W"])
    assert pair.p_value == pytest.approx(float(row["p_value"]), rel=1e-12)
    expected = "exact" if "exact" in row["method"] else "normal"
    assert pair.p_value_method == expected
    assert pair.to_dict()["p_value_method"] == expected
