"""imnm-cohort: retrospective cohort studies of immune-mediated necrotizing myopathy.

Read and validate a registry extract, classify the valid patients into anti-HMGCR, anti-SRP
and seronegative IMNM (and the patients who are not IMNM, and why), compare the groups and
report. The public API is what ``__all__`` lists; everything else is internal.

>>> import imnm_cohort as ic
>>> result = ic.load_extract("extract.csv")  # doctest: +SKIP
>>> classified = ic.classify(result.valid, criteria="tma2025")  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from imnm_cohort.analysis import (
        CohortAnalysis,
        MalignancyOptions,
        ReferenceRates,
        analyse,
        read_reference_rates,
        total_improvement_score,
    )
    from imnm_cohort.classify import (
        REASON_CODES,
        CriteriaSet,
        Explanation,
        available_criteria,
        classify,
        get_criteria,
    )
    from imnm_cohort.classify.explain import explain  # the function, not its module
    from imnm_cohort.contracts.patients import CONTRACT_VERSION, EXTRACT_SCHEMA
    from imnm_cohort.contracts.rule_codes import RuleCode
    from imnm_cohort.engines.batched import BatchedResult, classify_in_batches
    from imnm_cohort.mapping import MappingSpec, load_mapping
    from imnm_cohort.sources.files import read_extract
    from imnm_cohort.synth import synthesize, write_extract
    from imnm_cohort.validation.load import InputSpec, load_input, map_export
    from imnm_cohort.validation.validate import ValidationResult, load_extract, validate_extract
    from imnm_cohort.vocabulary import GROUPS, IMNM_GROUPS

# Importing pandas, pandera, scipy and lifelines takes seconds, and the command line needs
# none of them to print its version or its help; so every public name but the errors is
# imported from its module the first time it is read (PEP 562), then kept here.
_LAZY = {
    "CohortAnalysis": "imnm_cohort.analysis",
    "MalignancyOptions": "imnm_cohort.analysis",
    "ReferenceRates": "imnm_cohort.analysis",
    "analyse": "imnm_cohort.analysis",
    "read_reference_rates": "imnm_cohort.analysis",
    "total_improvement_score": "imnm_cohort.analysis",
    "GROUPS": "imnm_cohort.vocabulary",
    "IMNM_GROUPS": "imnm_cohort.vocabulary",
    "REASON_CODES": "imnm_cohort.classify",
    "CriteriaSet": "imnm_cohort.classify",
    "Explanation": "imnm_cohort.classify",
    "available_criteria": "imnm_cohort.classify",
    "classify": "imnm_cohort.classify",
    "explain": "imnm_cohort.classify",
    "get_criteria": "imnm_cohort.classify",
    "CONTRACT_VERSION": "imnm_cohort.contracts.patients",
    "EXTRACT_SCHEMA": "imnm_cohort.contracts.patients",
    "RuleCode": "imnm_cohort.contracts.rule_codes",
    "BatchedResult": "imnm_cohort.engines.batched",
    "classify_in_batches": "imnm_cohort.engines.batched",
    "MappingSpec": "imnm_cohort.mapping",
    "load_mapping": "imnm_cohort.mapping",
    "read_extract": "imnm_cohort.sources.files",
    "synthesize": "imnm_cohort.synth",
    "write_extract": "imnm_cohort.synth",
    "InputSpec": "imnm_cohort.validation.load",
    "load_input": "imnm_cohort.validation.load",
    "map_export": "imnm_cohort.validation.load",
    "ValidationResult": "imnm_cohort.validation.validate",
    "load_extract": "imnm_cohort.validation.validate",
    "validate_extract": "imnm_cohort.validation.validate",
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'imnm_cohort' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value  # read once: later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package's module type: ``imnm_cohort.classify`` is the function, always.

    The subpackage of the same name is imported lazily now, and the import system sets it as
    an attribute of this package when it first loads it (``setattr(imnm_cohort,
    "classify", <module>)``), which would hide the public function. This property keeps the
    function, as the package gave it when it imported everything at once; the subpackage
    stays importable (``import imnm_cohort.classify.rules``, ``from imnm_cohort.classify
    import RULES``).
    """

    @property
    def classify(self) -> Any:
        return globals().get("classify") or __getattr__("classify")

    @classify.setter
    def classify(self, value: Any) -> None:
        """The import system setting the subpackage: the public name stays the function."""


sys.modules[__name__].__class__ = _Package

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
