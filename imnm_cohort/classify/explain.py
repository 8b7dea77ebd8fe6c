"""Explain, in words, how one patient was classified."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, CriteriaSet, get_criteria
from imnm_cohort.classify.procedure import classify
from imnm_cohort.classify.rules import RULES, Facts
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.vocabulary import GROUP_COLUMN


@dataclass(frozen=True)
class RuleCheck:
    """One rule as checked for one patient.

    Attributes
    ----------
    number : int
        Rule number (1 to 11).
    statement : str
        The rule in words.
    applies : bool
        Whether the rule applied.
    outcomes : tuple of str
        Reason codes that held (empty when the rule did not apply).
    empty_columns : tuple of str
        Columns the rule reads that were empty for this patient.
    """

    number: int
    statement: str
    applies: bool
    outcomes: tuple[str, ...]
    empty_columns: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """How one patient was classified: the rules checked in order, up to the deciding one.

    Attributes
    ----------
    patient_id : str
    criteria : str
        The criteria set's name.
    group : str
        The ``imnm_group`` given.
    reasons : tuple of str
        The ``classification_reasons`` codes.
    decided_by : int
        The number of the deciding rule.
    checks : tuple of RuleCheck
        Rules 1 to ``decided_by``, as checked.
    """

    patient_id: str
    criteria: str
    group: str
    reasons: tuple[str, ...]
    decided_by: int
    checks: tuple[RuleCheck, ...]

    def __str__(self) -> str:
        lines = [f"Patient {self.patient_id} under {self.criteria}: {self.group}"]
        for check in self.checks:
            verdict = "applies" if check.applies else "does not apply"
            line = f"  rule {check.number}: {verdict} - {check.statement}"
            if check.empty_columns:
                line += f" [empty: {', '.join(check.empty_columns)}]"
            lines.append(line)
        for code in self.reasons:
            lines.append(f"  reason {code}: {RuleCode.of(code).words}")
        return "\n".join(lines)


def explain(
    patients: pd.DataFrame,
    patient_id: str | None = None,
    criteria: str | CriteriaSet = DEFAULT_CRITERIA,
) -> Explanation:
    """Explain how one patient is classified.

    Parameters
    ----------
    patients : pandas.DataFrame
        Validated patients (``ValidationResult.valid``); a one-row frame needs no id.
    patient_id : str, optional
        The patient to explain; required when ``patients`` has more than one row.
    criteria : str or CriteriaSet
        The criteria set (default ``"tma2025"``).

    Returns
    -------
    Explanation
        ``str(explanation)`` gives it in words.

    Raises
    ------
    KeyError
        When ``patient_id`` is not in ``patients``.
    ValueError
        When ``patient_id`` is missing and there is not exactly one row.
    """
    if patient_id is None:
        if len(patients) != 1:
            raise ValueError("give a patient_id, or a frame with exactly one row")
        row = patients
    else:
        row = patients[patients["patient_id"] == patient_id]
        if row.empty:
            raise KeyError(f"patient_id {patient_id!r} not found")
        row = row.iloc[:1]
    criteria_set = get_criteria(criteria)
    result = classify(row, criteria_set).iloc[0]
    reasons = tuple(str(result["classification_reasons"]).split(";"))
    decided_by = RuleCode.of(reasons[0]).rule
    facts = Facts.of(row, criteria_set)
    checks = []
    for rule in RULES[:decided_by]:
        held = tuple(code.value for code, mask in rule.outcomes(facts) if bool(mask[0]))
        empty = tuple(c for c in rule.columns if pd.isna(row.iloc[0][c]))
        checks.append(RuleCheck(rule.number, rule.statement, bool(held), held, empty))
    return Explanation(
        patient_id=str(row.iloc[0]["patient_id"]),
        criteria=criteria_set.name,
        group=str(result[GROUP_COLUMN]),
        reasons=reasons,
        decided_by=decided_by,
        checks=tuple(checks),
    )
