"""The descriptive table by group (a paper's Table 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imnm_cohort.analysis.compare import (
    GROUP_COLUMN,
    CategoricalComparison,
    ContinuousComparison,
    Summary,
    compare_categorical,
    compare_continuous,
)
from imnm_cohort.vocabulary import IMNM_GROUPS, VARIABLE_TITLES

CONTINUOUS = {v: VARIABLE_TITLES[v] for v in ("age_at_onset_years", "ck_peak", "followup_years")}
CATEGORICAL = {v: VARIABLE_TITLES[v] for v in ("sex", "statin_exposed", "dm_rash", "emg_myopathic")}
OVERALL = "overall"
MISSING = "missing"


@dataclass(frozen=True)
class CategoryCounts:
    """Counts of each value of a categorical variable in one group.

    ``denominator`` is every patient of the group: missing values are a row of their own,
    never dropped from the denominator.
    """

    counts: dict[str, int]
    denominator: int

    def percent(self, value: str) -> float | None:
        """Percentage of the group with that value (missing included in the denominator)."""
        return 100.0 * self.counts[value] / self.denominator if self.denominator else None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "denominator": self.denominator,
            "counts": self.counts,
            "percent": {v: self.percent(v) for v in self.counts},
        }


@dataclass(frozen=True)
class TableOne:
    """Descriptive statistics by group with tests across the groups compared."""

    groups: tuple[str, ...]
    n: dict[str, int]
    continuous: dict[str, dict[str, Summary]]
    categorical: dict[str, dict[str, CategoryCounts]]
    continuous_tests: dict[str, ContinuousComparison]
    categorical_tests: dict[str, CategoricalComparison]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "groups": list(self.groups),
            "n": self.n,
            "continuous": {
                v: {g: s.to_dict() for g, s in by.items()} for v, by in self.continuous.items()
            },
            "categorical": {
                v: {g: c.to_dict() for g, c in by.items()} for v, by in self.categorical.items()
            },
            "tests": {
                **{
                    v: {"test": "kruskal", "p_value": t.p_value, "reason": t.reason}
                    for v, t in self.continuous_tests.items()
                },
                **{
                    v: {"test": t.test, "p_value": t.p_value, "reason": t.reason}
                    for v, t in self.categorical_tests.items()
                },
            },
        }

    def method(self) -> str:
        """The method in one sentence."""
        return (
            "Continuous variables are summarised as median [IQR] with mean (SD) and "
            "range; categorical variables as counts and percentages of all patients in "
            "the group, missing values shown as their own category."
        )


def _counts(values: pd.Series) -> CategoryCounts:
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.map({True: "yes", False: "no"}, na_action="ignore")
    text = values.astype("string").fillna(MISSING)
    counts = {str(k): int(v) for k, v in text.value_counts().sort_index().items()}
    return CategoryCounts(counts, len(values))


def table_one(
    frame: pd.DataFrame, groups: Sequence[str] = IMNM_GROUPS, *, overall: bool = True, seed: int = 0
) -> TableOne:
    """Describe the groups: continuous summaries, category counts, and tests.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients. Not modified.
    groups : sequence of str
        Groups to describe (default the three IMNM groups; any of the seven may be given).
    overall : bool
        Add an ``overall`` column for the groups together.
    seed : int
        Seed of the exact/permutation tests and bootstrap intervals.

    Returns
    -------
    TableOne
    """
    groups = tuple(groups)
    masks = {g: (frame[GROUP_COLUMN] == g).to_numpy(dtype=bool) for g in groups}
    if overall:
        masks[OVERALL] = frame[GROUP_COLUMN].isin(groups).to_numpy(dtype=bool)
    n = {g: int(m.sum()) for g, m in masks.items()}
    continuous = {
        v: {g: Summary.of(frame.loc[m, v].astype(float)) for g, m in masks.items()}
        for v in CONTINUOUS
    }
    categorical = {}
    for v in CATEGORICAL:
        by_group = {g: _counts(frame.loc[m, v]) for g, m in masks.items()}
        levels = sorted({k for c in by_group.values() for k in c.counts})
        categorical[v] = {
            g: CategoryCounts({k: c.counts.get(k, 0) for k in levels}, c.denominator)
            for g, c in by_group.items()
        }
    cont_tests = {
        v: compare_continuous(frame, v, groups, seed=seed, pairwise=False) for v in CONTINUOUS
    }
    cat_tests = {v: compare_categorical(frame, v, groups, seed=seed) for v in CATEGORICAL}
    return TableOne(groups, n, continuous, categorical, cont_tests, cat_tests)
