"""What a rule expects, in words, with the closest allowed value where one is close.

Used by the messages that teach: a file-level error, the terminal's quarantine lines and the
mapping checks say what was expected (the date format, the allowed values of a category) and,
for a near miss, "did you mean 'female'?" (:func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from imnm_cohort.contracts.patients import DATE_RANGE, OTHER_MSA, PATIENTS

#: The allowed values of each category column of contract section 1 (a view of the contract).
CATEGORY_VALUES: dict[str, tuple[str, ...]] = dict(PATIENTS.allowed)
MSA_VALUES: tuple[str, ...] = (*OTHER_MSA, "none")
BOOLEAN_VALUES: tuple[str, ...] = ("true", "false")

_RULE_TEXT = {
    "not_a_date": "dates written YYYY-MM-DD",
    "date_out_of_range": f"dates from {DATE_RANGE[0]} to {DATE_RANGE[1]}",
    "spreadsheet_error": "values, not spreadsheet errors such as #DIV/0! or #N/A",
    "formula_without_value": "saved values (open the workbook in Excel and save it again, "
    "so that every formula's result is stored)",
    "not_a_number": "a number such as 1234 or 12.5",
    "not_a_boolean": "true/false, 1/0 or yes/no",
    "missing_required": "a value in every row",
    "duplicate_patient_id": "one row per patient_id",
}


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string when none is close."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    close = difflib.get_close_matches(str(value).strip().lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def allowed_values(column: str) -> tuple[str, ...] | None:
    """The allowed values of a contract column, or None when it is not a closed list."""
    if column in CATEGORY_VALUES:
        return CATEGORY_VALUES[column]
    if column == "other_msa":
        return MSA_VALUES
    return None


def expected(column: str, rule: str, example: str | None = None, date_format: str = "") -> str:
    """What ``rule`` on ``column`` expects, in words ("" when there is nothing useful to say).

    Parameters
    ----------
    column, rule : str
        A contract column and a stable rule code.
    example : str, optional
        An offending value, to find the closest allowed value.
    date_format : str
        The strftime format a mapping declared for this date column, if any.
    """
    if rule == "not_a_date" and date_format:
        return f"dates written {date_format}"
    if rule in ("not_allowed", "unmapped_value") and allowed_values(column):
        choices = allowed_values(column) or ()
        text = "one of " + ", ".join(choices)
        return text + (did_you_mean(example, choices) if example is not None else "")
    return _RULE_TEXT.get(rule, "")


#: What an absent contract column does to classification (contract section 2), in words.
ABSENT_EFFECTS: dict[str, str] = {
    "proximal_weakness": "WEAK is unknown: antibody-positive patients end unclassified (rules 6-8)",
    "ck_peak": "CK_HIGH is unknown: antibody-positive patients end unclassified (rules 6-8)",
    "anti_hmgcr": "read as not_tested: no patient can be hmgcr, and rule 9 leaves the "
    "seronegative unclassified",
    "anti_srp": "read as not_tested: no patient can be srp, and rule 9 leaves the "
    "seronegative unclassified",
    "other_msa": "read as not tested: other_myositis by antibody (rule 4) never applies",
    "biopsy_necrosis": "read as no biopsy: no patient can be seronegative (rule 11)",
    "biopsy_inflammation": "enmc2017 cannot confirm a necrotizing biopsy (unclassified)",
    "biopsy_perifascicular_atrophy": "rule 4 cannot find other_myositis by biopsy",
    "biopsy_rimmed_vacuoles": "rule 4 cannot find other_myositis by biopsy",
    "hereditary_myopathy": "rule 1 (not_imnm, hereditary) never applies",
    "statin_exposed": "rule 5 (statin_toxic) never applies; no statin latency",
    "improved_after_statin_stop": "rule 5 (statin_toxic) never applies",
    "dm_rash": "rule 10 (other_myositis by rash) never applies",
    "ck_uln": "enmc2017 uses the default upper limit of normal, 200 U/L",
    "statin_start_date": "no statin latency can be computed",
    "cancer_date": "the malignancy analysis sees no cancer",
    "death_date": "no deaths: follow-up ends at last_followup_date",
}


def absent_effects(absent: Iterable[str]) -> list[str]:
    """One line per absent contract column: ``column: what that does``."""
    return [f"{c}: {ABSENT_EFFECTS.get(c, 'read as empty')}" for c in absent]
