"""Benchmark: Table 1 with a rare category level, at 10,000, 100,000 and 1,000,000 patients.

Target on the 2-core reference machine, at 1,000,000 patients: ``table_one`` in <= 2 s and
<= 200 MB of memory above what the process held before the call.

The sex of every patient is ``female`` or ``male`` except three ``other`` among the IMNM
groups, so the sex row needs a small-count test. The script also times the ways of testing
that 3 x 3 table (5,000 resamples each):

- label permutation holding every resample at once (the earlier implementation);
- label permutation in chunks of 100 resamples, counting statistics at least as extreme;
- tables drawn with the margins fixed (Patefield), what ``compare_categorical`` does;
- the exact Fisher-Freeman-Halton test by enumeration, which gives up beyond 200,000 tables.

Run: ``cd benchmarks; ../.venv/bin/python bench_table_one.py [N ...]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
from _common import peak_extra_mb

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import table_one
from imnm_cohort.analysis.contingency import (
    fisher_freeman_halton,
    monte_carlo_chi2,
    pearson_chi2,
)
from imnm_cohort.vocabulary import IMNM_GROUPS

RESAMPLES = 5000
ALL_AT_ONCE_UP_TO = 20_000  # about 63 MB per 1,000 patients
CHUNK = 100


def with_rare_level(classified: pd.DataFrame) -> pd.DataFrame:
    """Female or male everywhere, except three ``other`` in the IMNM groups."""
    frame = classified.copy()
    sex = frame["sex"].astype(object).where(frame["sex"].isin(["female", "male"]), "female")
    imnm = np.flatnonzero(frame["imnm_group"].isin(IMNM_GROUPS).to_numpy(dtype=bool))
    sex.iloc[imnm[[0, len(imnm) // 2, -1]]] = "other"
    frame["sex"] = sex.astype(frame["sex"].dtype)
    return frame


def sex_table(frame: pd.DataFrame) -> np.ndarray:
    imnm = frame[frame["imnm_group"].isin(IMNM_GROUPS)]
    table = pd.crosstab(imnm["imnm_group"].astype(str), imnm["sex"].astype(str))
    return table.loc[list(IMNM_GROUPS)].to_numpy()


def _labels(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, c = counts.shape
    rows = np.repeat(np.repeat(np.arange(r), c), counts.ravel())
    cols = np.repeat(np.tile(np.arange(c), r), counts.ravel())
    return rows, cols


def all_at_once(counts: np.ndarray) -> float:
    """The earlier implementation: every resample of every label held at once."""
    r, c = counts.shape
    rows, cols = _labels(counts)
    rng = np.random.default_rng(0)
    permuted = rng.permuted(np.tile(cols, (RESAMPLES, 1)), axis=1)
    flat = (rows[None, :] * c + permuted) + (np.arange(RESAMPLES) * r * c)[:, None]
    tables = np.bincount(flat.ravel(), minlength=RESAMPLES * r * c).reshape(RESAMPLES, r, c)
    observed = float(pearson_chi2(counts))
    return (1 + int((pearson_chi2(tables) >= observed).sum())) / (RESAMPLES + 1)


def chunked(counts: np.ndarray, resamples: int = RESAMPLES) -> float:
    """Label permutation in chunks of ``CHUNK`` resamples, counting extreme statistics."""
    r, c = counts.shape
    rows, cols = _labels(counts)
    rng = np.random.default_rng(0)
    observed = float(pearson_chi2(counts))
    extreme = 0
    for start in range(0, resamples, CHUNK):
        k = min(CHUNK, resamples - start)
        permuted = rng.permuted(np.tile(cols, (k, 1)), axis=1)
        flat = (rows[None, :] * c + permuted) + (np.arange(k) * r * c)[:, None]
        tables = np.bincount(flat.ravel(), minlength=k * r * c).reshape(k, r, c)
        extreme += int((pearson_chi2(tables) >= observed).sum())
    return (1 + extreme) / (resamples + 1)


def measure(label: str, fn: Callable[[], object]) -> tuple[object, float, float]:
    """Time and peak extra memory of one call; prints the p-value when there is one."""
    start = time.perf_counter()
    value, extra = peak_extra_mb(fn)
    seconds = time.perf_counter() - start
    p = getattr(value, "p_value", value)
    shown = f"p = {p:.4f}" if isinstance(p, float) else ("too many tables" if p is None else "")
    print(f"  {label:52s} {seconds:8.3f} s {extra:9.1f} MB  {shown}")
    return value, seconds, extra


def run(n: int) -> None:
    """Table 1 and the ways of testing the sex table, at ``n`` patients."""
    frame = with_rare_level(classify(validate_extract(synthesize(n, seed=5)).valid))
    counts = sex_table(frame)
    print(f"{n:,} patients; sex by IMNM group: {counts.tolist()}")
    result, _, _ = measure("table_one (all variables, overall column)", partial(table_one, frame))
    sex = result.row("sex").test  # type: ignore[attr-defined]
    print(f"  sex row: {sex.name}, p = {sex.p_value}")
    if n <= ALL_AT_ONCE_UP_TO:
        measure(f"label permutation, all {RESAMPLES} at once", partial(all_at_once, counts))
    else:
        print(f"  label permutation, all at once: not run (~{63 * n / 1e6:.1f} GB)")
    if n <= 100_000:
        measure(f"label permutation, chunks of {CHUNK}", partial(chunked, counts))
    else:
        _, seconds, _ = measure(
            f"label permutation, chunks of {CHUNK}, 200 resamples", partial(chunked, counts, 200)
        )
        print(f"  ... {RESAMPLES} resamples extrapolated: {seconds * RESAMPLES / 200:.1f} s")
    measure(f"Patefield tables, {RESAMPLES}", partial(monte_carlo_chi2, counts, RESAMPLES, 0))
    measure(
        "exact Fisher-Freeman-Halton (None: > 200,000 tables)",
        partial(fisher_freeman_halton, counts),
    )


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]:
        run(size)
