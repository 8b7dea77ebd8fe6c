"""Words for codes: group names, reason codes and quarantine rules as a reader sees them.

The codes stay in ``summary.json`` and the patient-level files (scripts rely on them);
reports show words, built from the texts the classifier and the schema already carry.
"""

from __future__ import annotations

import re

from imnm_cohort.contracts.patients import DATE_ORDER_RULES, EXTRACT_SCHEMA, PARSE_RULES
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.vocabulary import GROUP_LABELS as _GROUP_LABELS

GROUP_LABELS = {**_GROUP_LABELS, "overall": "overall"}
_COLUMN_WORDS = {name: (column.title or name) for name, column in EXTRACT_SCHEMA.columns.items()}
#: Test codes in ``summary.json`` -> words for footnotes.
TEST_NAMES = {
    "kruskal": "Kruskal-Wallis test",
    "mannwhitneyu": "two-sided Mann-Whitney U test",
    "chi2": "Pearson's chi-square test",
    "fisher": "Fisher's exact test",
    "fisher_freeman_halton": "Fisher-Freeman-Halton exact test",
    "anova": "one-way ANOVA",
    "permutation_chi2": "permutation test of the chi-square statistic (seeded)",
    "gray": "Gray's test",
    "logrank": "log-rank test",
    "wald": "Wald test",
}
#: Summaries of a continuous variable in Table 1 -> words after the variable's label.
SUMMARY_WORDS = {"median_iqr": "median [Q1, Q3]", "mean_sd": "mean (SD)"}
CAPTIONS = {
    "onset_age": "Onset age by IMNM group: boxes from the 25th to the 75th percentile, "
    "whiskers from the 5th to the 95th.",
    "ck_peak": "Peak creatine kinase by IMNM group, log scale (percentiles as above).",
    "statin_latency": "Months from statin start to onset among statin-exposed patients.",
    "cancer_incidence": "Cumulative incidence of cancer after onset with death as a "
    "competing event (Aalen-Johansen), with numbers at risk.",
    "survival": "Overall survival after onset (Kaplan-Meier), with numbers at risk.",
    "ck_normalisation": "Cumulative incidence of a first CK at or below the upper limit of "
    "normal after diagnosis, death competing (Aalen-Johansen), at the months the summary "
    "reports, with 95% intervals.",
    "ck_series": "CK over time as log10(CK / ULN) (0 is the upper limit of normal): each "
    "group's median per time bin over patients (each patient's visits averaged first), with 95% "
    "intervals; no value where fewer than the minimum count of patients contribute.",
    "strength": "MMT as a percentage of its scale maximum: each group's mean per time bin "
    "over patients, with 95% intervals; no value where fewer than the minimum count of "
    "patients contribute.",
    "drug_classes": "Percentage of the patients under observation on each drug class per "
    "time bin, one panel per group; bins with fewer than the minimum count of patients are "
    "not shown.",
    "response_categories": "Percentage of each group's assessed patients in each 2016 "
    "ACR/EULAR response category (Total Improvement Score) at the visit nearest each "
    "landmark, one panel per category, with 95% Clopper-Pearson intervals; no value where "
    "fewer than the minimum count of patients were assessed.",
    "relapse_mcf": "Mean cumulative function of relapses (the toolkit's convention) with "
    "death as a terminal event (Ghosh-Lin), at the months the summary reports, each value "
    "held to the next, with its 95% interval as a band; no value where fewer than the "
    "minimum count of patients are under observation.",
    "hmgcr_titre": "Anti-HMGCR level at diagnosis by group: the median (square) and the "
    "interquartile range, as a multiple of the lab's cut-off (or in the labs' shared unit); "
    "no individual value, and no group with fewer than the minimum count of patients.",
}
RULE_WORDS = {
    **PARSE_RULES,
    "missing_required": "a value that is required is empty",
    "duplicate_patient_id": "the patient id appears on more than one row",
    "invalid_patient_id": "the patient id is too long or holds control characters",
    "not_allowed": "not one of the allowed values",
    "out_of_range": "outside the allowed range",
    "unknown_antibody": "names an antibody the contract does not know",
    "invalid_icd10": "not an ICD-10 code",
}
_DATE_ORDER_WORDS = {
    code: f"{_COLUMN_WORDS[later].lower()} {'on or ' if strict else ''}before "
    f"{_COLUMN_WORDS[earlier].lower()}"
    for code, _, earlier, later, strict in DATE_ORDER_RULES
}


def label(group: str) -> str:
    """A group's name for people."""
    return GROUP_LABELS.get(group, group)


def column_words(text: str) -> str:
    """Column names in a text replaced by the columns' titles (``ck_peak`` -> peak CK)."""

    def title(match: re.Match[str]) -> str:
        words = _COLUMN_WORDS[match.group(0)]
        return words[0].lower() + words[1:] if words[1:2].islower() else words

    pattern = r"\b(" + "|".join(sorted(_COLUMN_WORDS, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, title, text)


def reason_words(code: str) -> str:
    """A classification reason code in words (``r6_ck_missing`` -> anti-HMGCR positive, ...)."""
    known = RuleCode.get(code)
    return code if known is None else column_words(known.words)


def rule_words(column: str, rule: str) -> str:
    """A quarantine rule broken in a column, in words."""
    if rule in _DATE_ORDER_WORDS:
        return _DATE_ORDER_WORDS[rule]
    return f"{column_words(column)}: {RULE_WORDS.get(rule, rule.replace('_', ' '))}"
