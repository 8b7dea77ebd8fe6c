"""Registry extracts: the contract v1 schema, reading files, and validation with quarantine."""

from imnm_cohort.extract.read import read_extract
from imnm_cohort.extract.schema import CONTRACT_COLUMNS, CONTRACT_VERSION, EXTRACT_SCHEMA
from imnm_cohort.extract.validate import ValidationResult, load_extract, validate_extract

__all__ = [
    "CONTRACT_COLUMNS",
    "CONTRACT_VERSION",
    "EXTRACT_SCHEMA",
    "ValidationResult",
    "load_extract",
    "read_extract",
    "validate_extract",
]
