"""Run every analysis on a classified cohort."""

from __future__ import annotations

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
        """One or two sentences per analysis that ran, for a report's methods section.

        A test that was not done (too few patients or events; its ``reason`` says why) and
        a model that was not fitted are left out: the methods describe what was done.
        """
        m = self.malignancy
        described = [
            (self.table_one.method(), True),
            (self.onset_age.method(), _tested(self.onset_age)),
            (self.ck_peak.method(), _tested(self.ck_peak)),
            (self.statin_latency.method(), self.statin_latency.p_value is not None),
            (m.method(), any(g.n for g in m.groups.values())),
            (self.survival.method(), any(c.n for c in self.survival.groups.values())),
            (self.cox.method(), bool(self.cox.terms)),
        ]
        return [text for text, ran in described if ran]


def _tested(c: ContinuousComparison) -> bool:
    return c.p_value is not None or any(p.p_value is not None for p in c.pairwise)


def analyse(
    classified: pd.DataFrame,
    options: MalignancyOptions | None = None,
    *,
    seed: int = 0,
    n_boot: int = 2000,
) -> CohortAnalysis:
    """Run every analysis of the toolkit on a classified cohort.

    Parameters
    ----------
    classified : pandas.DataFrame
        The output of :func:`~imnm_cohort.classify`. Not modified.
    options : MalignancyOptions, optional
        Window, horizon, time zero and cancer-code choices.
    seed, n_boot : int
        Seed and resamples of the bootstrap and permutation procedures: the same data and
        seed give the same numbers.

    Returns
    -------
    CohortAnalysis
    """
    options = options or MalignancyOptions()
    counts = classified[GROUP_COLUMN].astype(str).value_counts()
    group_counts = {g: int(counts.get(g, 0)) for g in GROUPS}
    return CohortAnalysis(
        group_counts=group_counts,
        table_one=table_one(classified, IMNM_GROUPS, seed=seed),
        onset_age=compare_continuous(
            classified, "age_at_onset_years", IMNM_GROUPS, n_boot=n_boot, seed=seed
        ),
        ck_peak=compare_continuous(classified, "ck_peak", IMNM_GROUPS, n_boot=n_boot, seed=seed),
        statin_latency=statin_latency(classified),
        malignancy=malignancy(classified, IMNM_GROUPS, options),
        survival=overall_survival(classified, IMNM_GROUPS, options.horizon_years),
        cox=cause_specific_cox(classified, IMNM_GROUPS, options),
    )
