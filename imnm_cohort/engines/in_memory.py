"""The in-memory engine: the whole source read at once, validated and classified as one
frame (the default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from imnm_cohort.classify.procedure import classify
from imnm_cohort.engines.base import ENGINES
from imnm_cohort.validation.load import load_input

if TYPE_CHECKING:
    import pandas as pd

    from imnm_cohort.classify.criteria import CriteriaSet
    from imnm_cohort.sources.base import Source
    from imnm_cohort.validation.validate import ValidationResult


@dataclass(frozen=True)
class InMemoryEngine:
    """Reads the whole source (:func:`~imnm_cohort.validation.load.load_input`) and
    classifies the valid rows in one call."""

    name: str = "in_memory"

    def validate(self, source: Source) -> ValidationResult:
        """Every row of the source, read, mapped when it is an export, and validated."""
        return load_input(source)

    def classify(self, result: ValidationResult, criteria: CriteriaSet) -> pd.DataFrame:
        """The valid rows, classified."""
        return classify(result.valid, criteria)


ENGINES["in_memory"] = lambda batch_rows: InMemoryEngine()
