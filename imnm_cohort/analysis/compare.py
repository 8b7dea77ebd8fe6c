"""Compare a variable between patient groups: continuous and categorical tests.

Pure functions over the classified frame (never modified); results are frozen dataclasses
with ``to_dict()`` and a one-sentence ``method`` for the report's methods section.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from imnm_cohort.analysis.bootstrap import median_difference_ci
from imnm_cohort.analysis.contingency import (
    MAX_EXACT_TABLES,
    fisher_freeman_halton,
    monte_carlo_chi2,
)
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.vocabulary import GROUP_COLUMN, IMNM_GROUPS, VARIABLE_NAMES

#: JSON Schema of a group's summary (:meth:`Summary.to_dict`) in ``summary.json``.
GROUP_SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["n", "median", "q1", "q3"],
    "properties": {
        "n": {"$ref": "#/$defs/count"},
        "median": {"$ref": "#/$defs/number"},
        "q1": {"$ref": "#/$defs/number"},
        "q3": {"$ref": "#/$defs/number"},
    },
}
MIN_FOR_TEST = 2
EXACT_BELOW = 5.0
EXACT_MANN_WHITNEY_BELOW = 50
#: What a note says is too few, where a group's count of values is withheld.
VALUES = "values in a group"
#: The numbers of a pairwise comparison: each depends on both groups' counts.
PAIR_STATISTICS = (
    "p_value_method",
    "statistic",
    "p_value",
    "p_adjusted",
    "median_difference",
    "median_difference_ci",
)
#: Tests whose p-value is a sum of table probabilities: published only as journals print it.
EXACT_TESTS = frozenset({"fisher", "fisher_freeman_halton"})


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
        """Summarise a series (quantiles by linear interpolation, SD with n - 1).

        Values are sorted first, so that no digit depends on the order of the rows.
        """
        present = np.sort(values.dropna().to_numpy(dtype=float))
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

    @staticmethod
    def disclosure(key: str | None = None, group: str | None = None) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: ``n`` (key ``key``) describes the
        whole summary, and mean and SD are withheld for a few values (with the median and
        quartiles they would pin the rest); ``n + missing`` is the group's size (the count
        keyed ``group``)."""
        return Declaration(
            counts=(
                Count(("n",), key, describes=((),), few=(("mean",), ("sd",))),
                Count(("missing",)),
            ),
            margins=(Margin((("n",), ("missing",)), group),),
            individual=(("min",), ("max",)),
        )


@dataclass(frozen=True)
class Pairwise:
    """Mann-Whitney U test of two groups, with the Holm-adjusted p-value and the
    difference in medians (a - b) with its bootstrap confidence interval.

    ``p_value_method`` is ``exact`` or ``normal`` (see :func:`mann_whitney`).
    """

    a: str
    b: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    median_difference: float | None
    ci: tuple[float, float] | None
    reason: str | None = None
    p_value_method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "a": self.a,
            "b": self.b,
            "test": "mannwhitneyu",
            "p_value_method": self.p_value_method,
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

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "$defs": {
                "groupSummary": GROUP_SUMMARY_SCHEMA,
                "continuousComparison": {
                    "type": "object",
                    "required": ["test", "statistic", "p_value", "groups", "pairwise"],
                    "properties": {
                        "test": {"const": "kruskal"},
                        "statistic": {"$ref": "#/$defs/number"},
                        "p_value": {"$ref": "#/$defs/pValue"},
                        "groups": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/$defs/groupSummary"},
                        },
                        "pairwise": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["a", "b", "test", "p_value", "p_adjusted"],
                                "properties": {
                                    "a": {"type": "string"},
                                    "b": {"type": "string"},
                                    "test": {"const": "mannwhitneyu"},
                                    "p_value": {"$ref": "#/$defs/pValue"},
                                    "p_adjusted": {"$ref": "#/$defs/pValue"},
                                },
                            },
                        },
                    },
                },
            },
            "$ref": "#/$defs/continuousComparison",
        }

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

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: each group's summary; the tests that
        compare a group depend on its count, and are withheld whole with it (a null
        p-value or a reason such as "fewer than 2 values" would tell the count)."""
        parts = []
        for g in self.groups:
            pairs = tuple(i for i, p in enumerate(self.pairwise) if g in (p.a, p.b))
            parts += [
                Summary.disclosure(f"values:{self.variable}:{g}", f"group:{g}").under("groups", g),
                Declaration(
                    counts=(
                        Count(
                            ("groups", g, "n"),
                            f"values:{self.variable}:{g}",
                            dependents=(
                                ("statistic",),
                                ("p_value",),
                                *(("pairwise", i, k) for i in pairs for k in PAIR_STATISTICS),
                            ),
                            notes=(
                                (("reason",), VALUES),
                                *((("pairwise", i, "reason"), VALUES) for i in pairs),
                            ),
                        ),
                    )
                ),
            ]
        return combine(parts)

    def method(self) -> str:
        """The method in one or two sentences, with references."""
        name = VARIABLE_NAMES.get(self.variable, self.variable)
        across = (
            "across groups with the Kruskal-Wallis test and " if self.p_value is not None else ""
        )
        return (
            f"{name} was compared {across}"
            "between pairs of groups with two-sided Mann-Whitney U tests (exact below "
            f"{EXACT_MANN_WHITNEY_BELOW} per group without ties, otherwise the normal "
            "approximation with tie and continuity corrections, as R's wilcox.test), "
            "Holm-adjusted for multiple comparisons (Holm, Scand J Stat 1979); differences in "
            f"medians have 95% percentile bootstrap intervals ({self.bootstrap} resamples, "
            f"seed {self.seed})."
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


def mann_whitney(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    """Two-sided Mann-Whitney U test, exact or normal by R's ``wilcox.test`` rule.

    Exact when both groups have fewer than ``EXACT_MANN_WHITNEY_BELOW`` (50) values and no
    value is tied; otherwise the normal approximation with the tie-corrected variance and a
    continuity correction (Lehmann, Nonparametrics, 1975, ch. 1).

    Returns
    -------
    tuple
        U for ``a``, the p-value, and the method: ``exact`` or ``normal``.
    """
    tied = np.unique(np.concatenate([a, b])).size < a.size + b.size
    exact = a.size < EXACT_MANN_WHITNEY_BELOW and b.size < EXACT_MANN_WHITNEY_BELOW and not tied
    res = stats.mannwhitneyu(
        a, b, alternative="two-sided", method="exact" if exact else "asymptotic"
    )
    return float(res.statistic), float(res.pvalue), "exact" if exact else "normal"


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
    present = {g: np.sort(v.dropna().to_numpy(dtype=float)) for g, v in values.items()}
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
        u, p, method = mann_whitney(present[a], present[b])
        diff = float(np.median(present[a]) - np.median(present[b]))
        ci = median_difference_ci(present[a], present[b], n_boot, seed + i)
        pairs.append(Pairwise(a, b, u, p, None, diff, ci, None, method))
        raw_p.append(p)
    # Holm over every planned pair: a pair not tested counts with p = 1, so that the
    # adjustment does not tell how many pairs had enough values.
    planned = len(pairs)
    adjusted = iter(holm([*raw_p, *[1.0] * (planned - len(raw_p))])[: len(raw_p)])
    pairs = [p if p.p_value is None else _with_adjusted(p, float(next(adjusted))) for p in pairs]
    return ContinuousComparison(
        variable, statistic, p_value, summaries, tuple(pairs), n_boot, seed, reason
    )


def _with_adjusted(p: Pairwise, adjusted: float) -> Pairwise:
    return dataclasses.replace(p, p_adjusted=adjusted)


CATEGORICAL_TESTS = {
    "chi2": "Pearson's chi-square test without continuity correction",
    "fisher": "Fisher's exact test (two-sided)",
    "fisher_freeman_halton": "the Fisher-Freeman-Halton exact test (Freeman and Halton, "
    "Biometrika 1951)",
    "permutation_chi2": "a Monte Carlo permutation test of Pearson's chi-square, tables drawn "
    "with the margins fixed (Patefield, Appl Stat 1981)",
}


@dataclass(frozen=True)
class CategoricalComparison:
    """Association of a categorical variable with the groups (missing values excluded).

    ``test`` names the test used: ``chi2``, ``fisher`` (2 x 2), ``fisher_freeman_halton``
    (exact, larger tables) or ``permutation_chi2`` (Monte Carlo, ``resamples`` tables drawn
    with ``seed``).
    """

    variable: str
    test: str | None
    statistic: float | None
    p_value: float | None
    table: dict[str, dict[str, int]]
    reason: str | None = None
    resamples: int | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "variable": self.variable,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "resamples": self.resamples,
            "seed": self.seed,
            "table": self.table,
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: the contingency table's cells. The
        statistic, with the margins, gives the table back: it is withheld with any cell,
        and the p-value then printed as journals do (always so for an exact test)."""
        return Declaration(
            counts=tuple(
                Count(
                    ("table", g, level),
                    dependents=(("statistic",),),
                    coarsened=(("p_value",),),
                )
                for g, row in self.table.items()
                for level in row
            ),
            rounded=(("p_value",),) if self.test in EXACT_TESTS else (),
        )

    def method(self) -> str:
        """The method in one sentence: the test used for this variable."""
        if self.test is None:
            return f"{self.variable}: not tested ({self.reason})."
        text = f"{self.variable}: {CATEGORICAL_TESTS[self.test]}"
        if self.test == "permutation_chi2":
            text += f" ({self.resamples} tables, seed {self.seed})"
        if self.test != "chi2":
            text += f", as an expected count was below {EXACT_BELOW:g}"
        return text + "."


def _crosstab(
    frame: pd.DataFrame, variable: str, groups: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Counts of each known value (columns, sorted as text) in each group (rows).

    Counted with integer codes and one ``bincount``: memory linear in the patients, and
    counts that do not depend on the order of the rows.
    """
    group_codes = pd.Categorical(frame[GROUP_COLUMN], categories=list(groups)).codes
    value_codes, uniques = pd.factorize(frame[variable])
    known = (group_codes >= 0) & (value_codes >= 0)
    width = max(len(uniques), 1)
    raw = np.bincount(
        group_codes[known].astype(np.int64) * width + value_codes[known],
        minlength=len(groups) * width,
    ).reshape(len(groups), width)
    by_name: dict[str, np.ndarray] = {}
    for code, value in enumerate(uniques):
        if raw[:, code].any():
            name = str(value)
            by_name[name] = by_name.get(name, 0) + raw[:, code]
    levels = sorted(by_name)
    counts = np.column_stack([by_name[v] for v in levels]) if levels else raw[:, :0]
    return counts, levels


def compare_categorical(
    frame: pd.DataFrame,
    variable: str,
    groups: Sequence[str] = IMNM_GROUPS,
    *,
    n_perm: int = 5000,
    seed: int = 0,
    max_exact_tables: int = MAX_EXACT_TABLES,
) -> CategoricalComparison:
    """Test the association of a categorical variable with the groups.

    Pearson's chi-square (no continuity correction) when every expected count is at least
    5. Otherwise Fisher's exact test for a 2 x 2 table; for a larger table the exact
    Fisher-Freeman-Halton test when at most ``max_exact_tables`` tables have its margins,
    else a Monte Carlo test of the chi-square statistic over ``n_perm`` tables drawn with
    the margins fixed (:mod:`imnm_cohort.analysis.contingency`). Memory grows with the table,
    not with ``n_perm``; the result depends on the counts only, never on the order of the
    rows, and is deterministic for a seed. The test used is named in the result.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients (``imnm_group`` column). Not modified.
    variable : str
        The categorical column; missing values are left out.
    groups : sequence of str
        The groups compared (rows of the table).
    n_perm, seed : int
        Tables drawn and seed of the Monte Carlo test.
    max_exact_tables : int
        Largest number of tables the exact test enumerates (0: always Monte Carlo).

    Returns
    -------
    CategoricalComparison
    """
    observed, levels = _crosstab(frame, variable, groups)
    table = {
        str(g): {c: int(observed[i, j]) for j, c in enumerate(levels)} for i, g in enumerate(groups)
    }
    counts = observed[observed.sum(axis=1) > 0]
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
        # The sample odds ratio is infinite when a zero cell is on its denominator: JSON has
        # no infinity, and the p-value stands on its own, so the statistic is then null.
        odds = float(res.statistic)
        return CategoricalComparison(
            variable, "fisher", odds if np.isfinite(odds) else None, float(res.pvalue), table
        )
    exact = fisher_freeman_halton(counts, max_exact_tables)
    if exact is not None:
        return CategoricalComparison(variable, exact.test, exact.statistic, exact.p_value, table)
    simulated = monte_carlo_chi2(counts, n_perm, seed)
    return CategoricalComparison(
        variable,
        simulated.test,
        simulated.statistic,
        simulated.p_value,
        table,
        None,
        n_perm,
        seed,
    )
