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
from imnm_cohort.analysis.finegray import FineGrayModel, fine_gray
from imnm_cohort.analysis.imacs import (
    ImacsImprovement,
    confirmed_deterioration,
    deteriorations,
    imacs_improvement,
    imacs_improvements,
)
from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from imnm_cohort.analysis.lexis import TimeScale, lexis_split
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, malignancy
from imnm_cohort.analysis.rates import ReferenceRates, read_reference_rates
from imnm_cohort.analysis.registry import (
    ANALYSES,
    Analysis,
    Cohort,
    Result,
    register,
    registered,
    unregister,
)
from imnm_cohort.analysis.response import (
    TotalImprovementScore,
    total_improvement_score,
    total_improvement_scores,
)
from imnm_cohort.analysis.sir import PopulationComparison, StandardizedRatio, population_comparison
from imnm_cohort.analysis.statin import StatinLatency, statin_latency
from imnm_cohort.analysis.statin_population import (
    StatinPopulation,
    StatinPopulationSettings,
    rate_ratio,
    statin_population,
)
from imnm_cohort.analysis.survival import (
    CauseSpecificCox,
    OverallSurvival,
    cause_specific_cox,
    overall_survival,
)
from imnm_cohort.analysis.table_spec import TableOneOptions, TableOneVariable
from imnm_cohort.analysis.time_since_onset import IncidenceByFollowUp, incidence_by_follow_up

__all__ = [
    "ANALYSES",
    "Analysis",
    "CategoricalComparison",
    "CauseSpecificCox",
    "Cohort",
    "CohortAnalysis",
    "ContinuousComparison",
    "CumulativeIncidence",
    "FineGrayModel",
    "GrayTest",
    "ImacsImprovement",
    "IncidenceByFollowUp",
    "MalignancyOptions",
    "MalignancyResult",
    "OverallSurvival",
    "PopulationComparison",
    "ReferenceRates",
    "Result",
    "StandardizedRatio",
    "StatinLatency",
    "StatinPopulation",
    "StatinPopulationSettings",
    "TableOne",
    "TableOneOptions",
    "TableOneVariable",
    "TimeScale",
    "TotalImprovementScore",
    "analyse",
    "cause_specific_cox",
    "clopper_pearson",
    "compare_categorical",
    "compare_continuous",
    "confirmed_deterioration",
    "cumulative_incidence",
    "deteriorations",
    "fine_gray",
    "gray_test",
    "holm",
    "imacs_improvement",
    "imacs_improvements",
    "incidence_by_follow_up",
    "lexis_split",
    "malignancy",
    "overall_survival",
    "poisson_exact",
    "population_comparison",
    "rate_ratio",
    "read_reference_rates",
    "register",
    "registered",
    "statin_latency",
    "statin_population",
    "table_one",
    "total_improvement_score",
    "total_improvement_scores",
    "unregister",
]
