"""Analyses of a classified cohort: pure functions returning frozen result dataclasses."""

from imnm_cohort.analysis.cohort import CohortAnalysis, analyse
from imnm_cohort.analysis.compare import (
    CategoricalComparison,
    ContinuousComparison,
    compare_categorical,
    compare_continuous,
    holm,
)
from imnm_cohort.analysis.competing import (
    CumulativeIncidence,
    GrayTest,
    cumulative_incidence,
    gray_test,
)
from imnm_cohort.analysis.describe import TableOne, table_one
from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, malignancy
from imnm_cohort.analysis.statin import StatinLatency, statin_latency
from imnm_cohort.analysis.survival import (
    CauseSpecificCox,
    OverallSurvival,
    cause_specific_cox,
    overall_survival,
)
from imnm_cohort.analysis.table_spec import TableOneOptions, TableOneVariable

__all__ = [
    "CategoricalComparison",
    "CauseSpecificCox",
    "CohortAnalysis",
    "ContinuousComparison",
    "CumulativeIncidence",
    "GrayTest",
    "MalignancyOptions",
    "MalignancyResult",
    "OverallSurvival",
    "StatinLatency",
    "TableOne",
    "TableOneOptions",
    "TableOneVariable",
    "analyse",
    "cause_specific_cox",
    "clopper_pearson",
    "compare_categorical",
    "compare_continuous",
    "cumulative_incidence",
    "gray_test",
    "holm",
    "malignancy",
    "overall_survival",
    "poisson_exact",
    "statin_latency",
    "table_one",
]
