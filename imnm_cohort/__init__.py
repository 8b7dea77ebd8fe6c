"""imnm-cohort: retrospective cohort studies of immune-mediated necrotizing myopathy.

Read and validate a registry extract, classify the valid patients into anti-HMGCR, anti-SRP
and seronegative IMNM (and the patients who are not IMNM, and why), compare the groups and
report. The public API is what ``__all__`` lists; everything else is internal.

>>> import imnm_cohort as ic
>>> result = ic.load_extract("extract.csv")  # doctest: +SKIP
>>> classified = ic.classify(result.valid, criteria="tma2025")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from imnm_cohort.classify import (
    REASON_CODES,
    CriteriaSet,
    Explanation,
    available_criteria,
    classify,
    explain,
    get_criteria,
)
from imnm_cohort.contracts.patients import CONTRACT_VERSION, EXTRACT_SCHEMA
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.engines.batched import BatchedResult, classify_in_batches
from imnm_cohort.errors import (
    ConfigError,
    ExtractError,
    FileLevelError,
    ImnmCohortError,
    MappingError,
    ReferenceRateError,
    ResponseMeasureError,
    RunLockedError,
    UnknownCriteriaError,
)
from imnm_cohort.mapping import MappingSpec, load_mapping
from imnm_cohort.sources.files import read_extract
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.validation.load import InputSpec, load_input, map_export
from imnm_cohort.validation.validate import ValidationResult, load_extract, validate_extract
from imnm_cohort.vocabulary import GROUPS, IMNM_GROUPS

if TYPE_CHECKING:
    from imnm_cohort.analysis import (
        CohortAnalysis,
        MalignancyOptions,
        ReferenceRates,
        analyse,
        read_reference_rates,
        total_improvement_score,
    )

# The analyses need scipy and lifelines, which take seconds to import; validating and
# classifying do not, so the command line's validate and classify import them only here.
_LAZY = {
    "CohortAnalysis",
    "MalignancyOptions",
    "ReferenceRates",
    "analyse",
    "read_reference_rates",
    "total_improvement_score",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import imnm_cohort.analysis as analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'imnm_cohort' has no attribute {name!r}")


try:
    __version__ = version("imnm-cohort")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CONTRACT_VERSION",
    "EXTRACT_SCHEMA",
    "GROUPS",
    "IMNM_GROUPS",
    "REASON_CODES",
    "BatchedResult",
    "CohortAnalysis",
    "ConfigError",
    "CriteriaSet",
    "Explanation",
    "ExtractError",
    "FileLevelError",
    "ImnmCohortError",
    "InputSpec",
    "MalignancyOptions",
    "MappingError",
    "MappingSpec",
    "ReferenceRateError",
    "ReferenceRates",
    "ResponseMeasureError",
    "RuleCode",
    "RunLockedError",
    "UnknownCriteriaError",
    "ValidationResult",
    "__version__",
    "analyse",
    "available_criteria",
    "classify",
    "classify_in_batches",
    "explain",
    "get_criteria",
    "load_extract",
    "load_input",
    "load_mapping",
    "map_export",
    "read_extract",
    "read_reference_rates",
    "synthesize",
    "total_improvement_score",
    "validate_extract",
    "write_extract",
]
