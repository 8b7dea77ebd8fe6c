"""What a rule expects, in words, with the closest allowed value where one is close.

Used by the messages that teach: a file-level error, the terminal's quarantine lines and the
mapping checks say what was expected (the date format, the allowed values of a category) and,
for a near miss, "did you mean 'female'?" (:func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from imnm_cohort.extract.schema import (
    ANTIBODY_RESULTS,
    COURSES,
    INFLAMMATION,
    NECROSIS,
    OTHER_MSA,
    SEXES,
    STATINS,
    WEAKNESS,
)

#: The allowed values of each category column of contract section 1.
CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    "sex": SEXES,
    "proximal_weakness": WEAKNESS,
    "weakness_course": COURSES,
    "anti_hmgcr": ANTIBODY_RESULTS,
    "anti_srp": ANTIBODY_RESULTS,
    "biopsy_necrosis": NECROSIS,
    "biopsy_inflammation": INFLAMMATION,
    "statin_name": STATINS,
}
MSA_VALUES: tuple[str, ...] = (*OTHER_MSA, "none")
BOOLEAN_VALUES: tuple[str, ...] = ("true", "false")

_RULE_TEXT = {
    "not_a_date": "dates written YYYY-MM-DD",
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
