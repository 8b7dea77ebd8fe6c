"""Run every analysis on a classified cohort."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imnm_cohort.analysis.compare import GROUP_COLUMN, ContinuousComparison, compare_continuous
from imnm_cohort.analysis.describe import TableOne, table_one
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, malignancy
from imnm_cohort.analysis.statin import StatinLatency, statin_latency
from imnm_cohort.analysis.survival import (
    CauseSpecificCox,
    OverallSurvival,
    cause_specific_cox,
    overall_survival,
)
from imnm_cohort.classify.rules import GROUPS, IMNM_GROUPS


@dataclass(frozen=True)
class CohortAnalysis:
    """Every analysis of one classified cohort.

    Attributes
    ----------
    group_counts : dict
        Patients per group (all seven groups).
    table_one : TableOne
    onset_age, ck_peak : ContinuousComparison
        The three IMNM groups compared.
    statin_latency : StatinLatency
    malignancy : MalignancyResult
    survival : OverallSurvival
    cox : CauseSpecificCox
    """

    group_counts: dict[str, int]
    table_one: TableOne
    onset_age: ContinuousComparison
    ck_peak: ContinuousComparison
    statin_latency: StatinLatency
    malignancy: MalignancyResult
    survival: OverallSurvival
    cox: CauseSpecificCox

    def to_dict(self) -> dict[str, Any]:
        """The ``groups`` and ``comparisons`` of ``summary.json`` plus the other analyses."""
        return {
            "groups": self.group_counts,
            "comparisons": {
                "onset_age": self.onset_age.to_dict(),
                "ck_peak": self.ck_peak.to_dict(),
                "statin_latency": self.statin_latency.to_dict(),
                "malignancy": self.malignancy.to_dict(),
            },
            "table_one": self.table_one.to_dict(),
            "survival": self.survival.to_dict(),
            "cause_specific_cox": self.cox.to_dict(),
        }

    def methods(self) -> list[str]:
        """One or two sentences per analysis, for a report's methods section."""
        return [
            self.table_one.method(),
            self.onset_age.method(),
            self.ck_peak.method(),
            self.statin_latency.method(),
            self.malignancy.method(),
            self.survival.method(),
            self.cox.method(),
        ]


AnalysisProgress = Callable[[int, int, str], None]
"""``progress(done, total, name)``: ``done`` analyses of ``total`` finished, ``name`` next."""


def analyse(
    classified: pd.DataFrame,
    options: MalignancyOptions | None = None,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    progress: AnalysisProgress | None = None,
) -> CohortAnalysis:
    """Run every analysis of the toolkit on a classified cohort.

    Parameters
    ----------
    classified : pandas.DataFrame
        The output of :func:`~imnm_cohort.classify`. Not modified.
    options : MalignancyOptions, optional
        Window, horizon, time zero, cancer-code and interval choices.
    seed, n_boot : int
        Seed and resamples of the bootstrap and permutation procedures: the same data and
        seed give the same numbers.
    progress : callable, optional
        Called as ``progress(done, total, name)`` before each analysis (``name`` the one
        starting) and once at the end (``done == total``, ``name`` empty). Nothing is
        printed here: the caller decides how to show it.

    Returns
    -------
    CohortAnalysis
    """
    options = options or MalignancyOptions()
    counts = classified[GROUP_COLUMN].astype(str).value_counts()
    steps: dict[str, Callable[[], Any]] = {
        "table_one": lambda: table_one(classified, IMNM_GROUPS, seed=seed),
        "onset_age": lambda: compare_continuous(
            classified, "age_at_onset_years", IMNM_GROUPS, n_boot=n_boot, seed=seed
        ),
        "ck_peak": lambda: compare_continuous(
            classified, "ck_peak", IMNM_GROUPS, n_boot=n_boot, seed=seed
        ),
        "statin_latency": lambda: statin_latency(classified),
        "malignancy": lambda: malignancy(classified, IMNM_GROUPS, options),
        "survival": lambda: overall_survival(
            classified, IMNM_GROUPS, options.horizon_years, options.alpha
        ),
        "cox": lambda: cause_specific_cox(classified, IMNM_GROUPS, options),
    }
    report = progress or (lambda done, total, name: None)
    results = {}
    for done, (name, step) in enumerate(steps.items()):
        report(done, len(steps), name)
        results[name] = step()
    report(len(steps), len(steps), "")
    return CohortAnalysis(group_counts={g: int(counts.get(g, 0)) for g in GROUPS}, **results)
