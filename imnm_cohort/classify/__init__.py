"""IMNM classification: versioned, cited criteria and the contract's decision procedure."""

from imnm_cohort.classify.criteria import CriteriaSet, available_criteria, get_criteria
from imnm_cohort.classify.explain import Explanation, RuleCheck, explain
from imnm_cohort.classify.procedure import OUTPUT_COLUMNS, classify, reason_counts
from imnm_cohort.classify.rules import GROUPS, IMNM_GROUPS, REASON_CODES, RULES

__all__ = [
    "GROUPS",
    "IMNM_GROUPS",
    "OUTPUT_COLUMNS",
    "REASON_CODES",
    "RULES",
    "CriteriaSet",
    "Explanation",
    "RuleCheck",
    "available_criteria",
    "classify",
    "explain",
    "get_criteria",
    "reason_counts",
]
