"""The public API is small, exported on purpose, and documented."""

import inspect

import imnm_cohort

EXPECTED = {
    "CONTRACT_VERSION",
    "CohortAnalysis",
    "MalignancyOptions",
    "ReferenceRateError",
    "ReferenceRates",
    "analyse",
    "read_reference_rates",
    "EXTRACT_SCHEMA",
    "GROUPS",
    "IMNM_GROUPS",
    "REASON_CODES",
    "RuleCode",
    "ConfigError",
    "CriteriaSet",
    "Explanation",
    "ExtractError",
    "FileLevelError",
    "ImnmCohortError",
    "RunLockedError",
    "UnknownCriteriaError",
    "ValidationResult",
    "__version__",
    "available_criteria",
    "BatchedResult",
    "classify_in_batches",
    "classify",
    "explain",
    "get_criteria",
    "load_extract",
    "read_extract",
    "synthesize",
    "validate_extract",
    "write_extract",
    "InputSpec",
    "MappingError",
    "MappingSpec",
    "load_input",
    "load_mapping",
    "map_export",
    "ResponseMeasureError",
    "total_improvement_score",
}


def test_all_lists_exactly_the_public_api():
    assert set(imnm_cohort.__all__) == EXPECTED
    for name in imnm_cohort.__all__:
        assert hasattr(imnm_cohort, name), name


def test_public_callables_have_numpydoc_docstrings():
    for name in imnm_cohort.__all__:
        obj = getattr(imnm_cohort, name)
        if inspect.isfunction(obj):
            doc = obj.__doc__ or ""
            assert "Returns" in doc or "Raises" in doc, name
