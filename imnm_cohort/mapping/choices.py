"""A coded field's choices read as contract values, by their labels, never by their codes.

``0, Myopathic | 1, Normal`` is ``"0" = "true", "1" = "false"`` for ``emg_myopathic``: a
code says nothing (REDCap projects number choices in any order), its label says what it
means. :func:`read_choices` reads each choice label (HTML already removed) as a contract
value of the column, as one of its missing codes ("Unknown", "Not done", ...), or as
neither; a drafted line is live only when no choice is left over.
"""

from __future__ import annotations

from dataclasses import dataclass

from imnm_cohort.contracts.hints import CATEGORY_VALUES
from imnm_cohort.contracts.patients import column_kind
from imnm_cohort.mapping.candidates import words

#: Choice labels read as yes / no for a yes/no contract column.
TRUE_LABELS = ("yes", "y", "true", "present", "positive", "checked")
FALSE_LABELS = ("no", "n", "false", "absent", "negative", "normal", "unchecked")
#: Further labels of particular columns ("Myopathic" is the yes of a myopathic EMG).
COLUMN_TRUE_LABELS = {
    "emg_myopathic": ("myopathic", "myopathic pattern", "myopathic changes"),
    "muscle_enzymes_elevated": ("elevated", "raised", "high"),
}
#: Choice labels that say the value is not known: the column's missing codes.
MISSING_LABELS = (
    "unknown", "unk", "not known", "don't know", "do not know", "not done", "not tested",
    "not performed", "not assessed", "not evaluated", "not examined", "not applicable", "n/a",
    "na", "missing", "not available", "not recorded",
)  # fmt: skip
#: Labels of the antibody columns' ``not_tested``.
NOT_TESTED_LABELS = ("not done", "not tested", "not performed", "not_tested", "nd")


@dataclass(frozen=True)
class ChoiceReading:
    """A field's choices read for one contract column.

    Attributes
    ----------
    mapped : tuple of (str, str)
        Code -> contract value (the ``values`` of the drafted line).
    missing : tuple of str
        Codes whose label says "not known" (the line's ``missing``).
    unmapped : tuple of (str, str)
        Code and label of every other choice (they keep the line commented).
    """

    mapped: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    unmapped: tuple[tuple[str, str], ...]


def read_choices(
    column: str, choices: tuple[tuple[str, str], ...], *, invert: bool = False
) -> ChoiceReading:
    """Read each choice by its label as a value of ``column`` or a missing code.

    Parameters
    ----------
    column : str
        A contract column.
    choices : tuple of (str, str)
        ``(code, label)`` pairs.
    invert : bool
        For a yes/no question asked the other way round: yes -> false, no -> true.
    """
    allowed = CATEGORY_VALUES.get(column, ())
    kind = column_kind(column)
    mapped, missing, unmapped = [], [], []
    for code, label in choices:
        text = " ".join(label.lower().strip(" .:;").split())
        value: str | None = None
        if kind == "bool":
            if text in TRUE_LABELS or text in COLUMN_TRUE_LABELS.get(column, ()):
                value = "false" if invert else "true"
            elif text in FALSE_LABELS:
                value = "true" if invert else "false"
        elif text in allowed or text.replace(" ", "_") in allowed:
            value = text.replace(" ", "_")
        elif "not_tested" in allowed and text in NOT_TESTED_LABELS:
            value = "not_tested"
        else:
            # "Present, focal" is present; "Moderately severe" is not moderate.
            starts = [a for a in allowed if words(text)[:1] == [a]]
            value = starts[0] if len(starts) == 1 else None
        if value is not None:
            mapped.append((code, value))
        elif text in MISSING_LABELS:
            missing.append(code)
        else:
            unmapped.append((code, label))
    return ChoiceReading(tuple(mapped), tuple(missing), tuple(unmapped))
