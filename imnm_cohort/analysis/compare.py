"""Compare a variable between patient groups: continuous and categorical tests.

Pure functions over the classified frame (never modified); results are frozen dataclasses
with ``to_dict()`` and a one-sentence ``method`` for the report's methods section.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from imnm_cohort.classify.rules import IMNM_GROUPS

GROUP_COLUMN = "imnm_group"
VARIABLE_NAMES = {
    "age_at_onset_years": "Onset age",
    "ck_peak": "Peak creatine kinase",
    "followup_years": "Follow-up",
    "statin_latency_months": "Statin latency",
}
MIN_FOR_TEST = 2
EXACT_BELOW = 5.0


@dataclass(frozen=True)
class Summary:
    """Distribution of a continuous variable in one group (missing values excluded)."""

    n: int
    missing: int
    median: float | None
    q1: float | None
    q3: float | None
    mean: float | None
    sd: float | None
    minimum: float | None
    maximum: float | None

    @classmethod
    def of(cls, values: pd.Series) -> Summary:
        """Summarise a series (quantiles by linear interpolation, SD with n - 1)."""
        present = values.dropna().to_numpy(dtype=float)
        missing = int(values.isna().sum())
        if present.size == 0:
            return cls(0, missing, None, None, None, None, None, None, None)
        q1, median, q3 = np.percentile(present, [25, 50, 75])
        sd = float(np.std(present, ddof=1)) if present.size > 1 else None
        return cls(
            int(present.size),
            missing,
            float(median),
            float(q1),
            float(q3),
            float(present.mean()),
            sd,
            float(present.min()),
            float(present.max()),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "missing": self.missing,
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "mean": self.mean,
            "sd": self.sd,
            "min": self.minimum,
            "max": self.maximum,
        }


@dataclass(frozen=True)
class Pairwise:
    """Mann-Whitney U test of two groups, with the Holm-adjusted p-value and the
    difference in medians (a - b) with its bootstrap confidence interval."""

    a: str
    b: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    median_difference: float | None
    ci: tuple[float, float] | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "a": self.a,
            "b": self.b,
            "test": "mannwhitneyu",
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "median_difference": self.median_difference,
            "median_difference_ci": list(self.ci) if self.ci else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ContinuousComparison:
    """Kruskal-Wallis test across groups, with pairwise Mann-Whitney tests."""

    variable: str
    statistic: float | None
    p_value: float | None
    groups: dict[str, Summary]
    pairwise: tuple[Pairwise, ...]
    bootstrap: int
    seed: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract's comparison shape (``summary.json``)."""
        return {
            "variable": self.variable,
            "test": "kruskal",
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reason": self.reason,
            "groups": {g: s.to_dict() for g, s in self.groups.items()},
            "pairwise": [p.to_dict() for p in self.pairwise],
        }

    def method(self) -> str:
        """The method in one or two sentences, with references."""
        name = VARIABLE_NAMES.get(self.variable, self.variable)
        across = (
            "across groups with the Kruskal-Wallis test and " if self.p_value is not None else ""
        )
        return (
            f"{name} was compared {across}"
            "between pairs of groups with two-sided Mann-Whitney U tests, Holm-adjusted for "
            "multiple comparisons (Holm, Scand J Stat 1979); differences in medians have "
            f"95% percentile bootstrap intervals ({self.bootstrap} resamples, seed "
            f"{self.seed})."
        )


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of p-values (Holm S, Scand J Stat 1979;6:65-70).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def _values(
    frame: pd.DataFrame, variable: str, group: str, column: str = GROUP_COLUMN
) -> pd.Series:
    return frame.loc[(frame[column] == group).to_numpy(dtype=bool), variable].astype(float)


def median_difference_ci(
    a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap interval for median(a) - median(b), resampling each group.

    Deterministic for a seed; resamples are drawn in blocks to bound memory.
    """
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    block = max(1, 2_000_000 // max(a.size + b.size, 1))
    for start in range(0, n_boot, block):
        k = min(block, n_boot - start)
        ma = np.median(a[rng.integers(0, a.size, (k, a.size))], axis=1)
        mb = np.median(b[rng.integers(0, b.size, (k, b.size))], axis=1)
        diffs[start : start + k] = ma - mb
    lo, hi = np.percentile(diffs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def compare_continuous(
    frame: pd.DataFrame,
    variable: str,
    groups: Sequence[str] = IMNM_GROUPS,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    pairwise: bool = True,
) -> ContinuousComparison:
    """Compare a continuous variable across groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients (``imnm_group`` column). Not modified.
    variable : str
        The column to compare, e.g. ``age_at_onset_years`` or ``ck_peak``.
    groups : sequence of str
        The groups, in order (default the three IMNM groups).
    n_boot, seed : int
        Bootstrap resamples and seed for the median-difference intervals.
    pairwise : bool
        Also compare each pair of groups (default); False gives the overall test only.

    Returns
    -------
    ContinuousComparison
        A group with fewer than 2 values gets no test; ``reason`` says why.
    """
    values = {g: _values(frame, variable, g) for g in groups}
    summaries = {g: Summary.of(v) for g, v in values.items()}
    present = {g: v.dropna().to_numpy(dtype=float) for g, v in values.items()}
    testable = [g for g in groups if present[g].size >= MIN_FOR_TEST]
    statistic = p_value = None
    reason = None
    if len(testable) < len(groups) or len(groups) < 2:
        small = [g for g in groups if g not in testable]
        reason = f"fewer than {MIN_FOR_TEST} values in: {', '.join(small)}" if small else None
    if len(testable) == len(groups) and len(groups) >= 2:
        pooled = np.concatenate([present[g] for g in groups])
        if np.unique(pooled).size > 1:
            kw = stats.kruskal(*(present[g] for g in groups))
            statistic, p_value = float(kw.statistic), float(kw.pvalue)
        else:
            reason = "all values are equal"
    pairs = []
    raw_p = []
    for i, (a, b) in enumerate(itertools.combinations(groups, 2) if pairwise else ()):
        if present[a].size < MIN_FOR_TEST or present[b].size < MIN_FOR_TEST:
            pairs.append(
                Pairwise(
                    a,
                    b,
                    None,
                    None,
                    None,
                    None,
                    None,
                    f"fewer than {MIN_FOR_TEST} values in a group",
                )
            )
            continue
        mw = stats.mannwhitneyu(present[a], present[b], alternative="two-sided")
        diff = float(np.median(present[a]) - np.median(present[b]))
        ci = median_difference_ci(present[a], present[b], n_boot, seed + i)
        pairs.append(Pairwise(a, b, float(mw.statistic), float(mw.pvalue), None, diff, ci))
        raw_p.append(float(mw.pvalue))
    adjusted = iter(holm(raw_p))
    pairs = [p if p.p_value is None else _with_adjusted(p, float(next(adjusted))) for p in pairs]
    return ContinuousComparison(
        variable, statistic, p_value, summaries, tuple(pairs), n_boot, seed, reason
    )


def _with_adjusted(p: Pairwise, adjusted: float) -> Pairwise:
    return Pairwise(p.a, p.b, p.statistic, p.p_value, adjusted, p.median_difference, p.ci, p.reason)


@dataclass(frozen=True)
class CategoricalComparison:
    """Association of a categorical variable with the groups (missing values excluded)."""

    variable: str
    test: str | None
    statistic: float | None
    p_value: float | None
    table: dict[str, dict[str, int]]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "variable": self.variable,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "table": self.table,
            "reason": self.reason,
        }

    def method(self) -> str:
        """The method in one sentence."""
        return (
            f"{self.variable}: Pearson's chi-square test, or where an expected count was below "
            "5, Fisher's exact test (2 x 2) or a permutation test of the chi-square statistic "
            "(larger tables; seeded)."
        )


def compare_categorical(
    frame: pd.DataFrame,
    variable: str,
    groups: Sequence[str] = IMNM_GROUPS,
    *,
    n_perm: int = 5000,
    seed: int = 0,
) -> CategoricalComparison:
    """Test the association of a categorical variable with the groups.

    Chi-square (no continuity correction) when every expected count is at least 5;
    otherwise Fisher's exact test for a 2 x 2 table and a seeded permutation test of the
    chi-square statistic for larger tables. The test used is named in the result.
    """
    sub = frame.loc[frame[GROUP_COLUMN].isin(groups).to_numpy(dtype=bool)]
    labels = sub[GROUP_COLUMN].astype(str).to_numpy()
    values = sub[variable]
    known = values.notna().to_numpy(dtype=bool)
    levels = sorted(pd.unique(values[known].astype(str)))
    observed = pd.crosstab(
        pd.Categorical(labels[known], categories=list(groups)),
        values[known].astype(str).to_numpy(),
        dropna=False,
    )
    observed = observed.reindex(index=list(groups), columns=levels, fill_value=0)
    table = {str(g): {str(c): int(observed.loc[g, c]) for c in levels} for g in groups}
    counts = observed.to_numpy()
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return CategoricalComparison(
            variable, None, None, None, table, "fewer than two groups or two values with data"
        )
    expected = stats.contingency.expected_freq(counts)
    if (expected >= EXACT_BELOW).all():
        chi = stats.chi2_contingency(counts, correction=False)
        return CategoricalComparison(
            variable, "chi2", float(chi.statistic), float(chi.pvalue), table
        )
    if counts.shape == (2, 2):
        res = stats.fisher_exact(counts)
        return CategoricalComparison(
            variable, "fisher", float(res.statistic), float(res.pvalue), table
        )
    stat, p = _permutation_chi2(counts, n_perm, seed)
    return CategoricalComparison(variable, "permutation_chi2", stat, p, table)


def _chi2(counts: np.ndarray) -> np.ndarray:
    """Pearson chi-square of a stack of tables [..., r, c]."""
    rows = counts.sum(axis=-1, keepdims=True)
    cols = counts.sum(axis=-2, keepdims=True)
    expected = rows * cols / counts.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (counts - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=(-2, -1))


def _permutation_chi2(counts: np.ndarray, n_perm: int, seed: int) -> tuple[float, float]:
    """Permutation p-value of the chi-square statistic, margins fixed (Monte Carlo)."""
    r, c = counts.shape
    rows = np.repeat(np.arange(r), counts.sum(axis=1))
    cols = np.repeat(np.arange(c), counts.sum(axis=0))
    observed = float(_chi2(counts.astype(float)))
    rng = np.random.default_rng(seed)
    permuted = rng.permuted(np.tile(cols, (n_perm, 1)), axis=1)
    flat = (rows[None, :] * c + permuted) + (np.arange(n_perm) * r * c)[:, None]
    tables = np.bincount(flat.ravel(), minlength=n_perm * r * c).reshape(n_perm, r, c)
    null = _chi2(tables.astype(float))
    p = (1 + np.sum(null >= observed - 1e-12)) / (n_perm + 1)
    return observed, float(p)
