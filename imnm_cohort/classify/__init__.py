"""IMNM classification: versioned, cited criteria and the contract's decision procedure."""

from imnm_cohort.classify.criteria import CriteriaSet, available_criteria, get_criteria
from imnm_cohort.classify.eular_acr import EULAR_ACR_2017, EularAcr2017
from imnm_cohort.classify.explain import Explanation, RuleCheck, explain
from imnm_cohort.classify.procedure import (
    OUTPUT_COLUMNS,
    DecisionProcedure,
    classify,
    reason_counts,
)
from imnm_cohort.classify.protocol import Classifier
from imnm_cohort.classify.registry import SCORED_CLASSIFIERS, scored_classifiers
from imnm_cohort.classify.rules import REASON_CODES, RULES

__all__ = [
    "EULAR_ACR_2017",
    "OUTPUT_COLUMNS",
    "REASON_CODES",
    "RULES",
    "SCORED_CLASSIFIERS",
    "Classifier",
    "CriteriaSet",
    "DecisionProcedure",
    "EularAcr2017",
    "Explanation",
    "RuleCheck",
    "available_criteria",
    "classify",
    "explain",
    "get_criteria",
    "reason_counts",
    "scored_classifiers",
]
