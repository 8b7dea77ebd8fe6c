"""Classify validated patients into IMNM groups, whole columns at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, CriteriaSet, get_criteria
from imnm_cohort.classify.derived import derived_columns
from imnm_cohort.classify.rules import GROUPS, REASON_CODES, RULES, Facts

OUTPUT_COLUMNS = (
    "imnm_group", "criteria", "classification_reasons",
    "age_at_onset_years", "statin_latency_months", "followup_years",
)  # fmt: skip
_KEY = 32  # 2**(largest number of outcomes of a rule)


def classify(
    patients: pd.DataFrame, criteria: str | CriteriaSet = DEFAULT_CRITERIA
) -> pd.DataFrame:
    """Classify validated patients by the contract's decision procedure.

    The first of the eleven rules that applies decides (``docs/criteria.md``).

    Parameters
    ----------
    patients : pandas.DataFrame
        Valid rows of an extract, typed as by :func:`~imnm_cohort.load_extract`
        (``ValidationResult.valid``). Not modified.
    criteria : str or CriteriaSet
        ``"tma2025"`` (default) or ``"enmc2017"``; see :func:`available_criteria`.

    Returns
    -------
    pandas.DataFrame
        A new frame: the input columns, then ``imnm_group`` (categorical over the seven
        groups), ``criteria``, ``classification_reasons`` (``;``-separated reason codes of the
        deciding rule) and the derived columns ``age_at_onset_years``,
        ``statin_latency_months`` and ``followup_years``.

    Raises
    ------
    UnknownCriteriaError
        For an unknown criteria set name.

    Examples
    --------
    >>> from imnm_cohort import load_extract, classify
    >>> result = load_extract("extract.csv")  # doctest: +SKIP
    >>> classified = classify(result.valid, criteria="enmc2017")  # doctest: +SKIP
    >>> classified["imnm_group"].value_counts()  # doctest: +SKIP
    """
    criteria_set = get_criteria(criteria)
    group, reasons = _decide(patients, criteria_set)
    out = patients.copy()
    out["imnm_group"] = group
    out["criteria"] = criteria_set.name
    out["classification_reasons"] = reasons
    return pd.concat([out, derived_columns(patients)], axis=1)


def reason_counts(classified: pd.DataFrame) -> dict[str, int]:
    """Patients per reason code (a patient counts once for each code it carries).

    Parameters
    ----------
    classified : pandas.DataFrame
        Output of :func:`classify`.

    Returns
    -------
    dict
        Reason code -> patients, sorted by code.
    """
    counts: dict[str, int] = {}
    # Few distinct combinations: split those, not every row.
    for combination, n in classified["classification_reasons"].value_counts().items():
        for code in str(combination).split(";"):
            counts[code] = counts.get(code, 0) + int(n)
    return dict(sorted(counts.items()))


def _decide(patients: pd.DataFrame, criteria: CriteriaSet) -> tuple[Any, np.ndarray]:
    n = len(patients)
    facts = Facts.of(patients, criteria)
    # Per row: the deciding rule's number and which of its outcomes hold (one bit each).
    decided = np.zeros(n, dtype=np.int16)
    bits_of = np.zeros(n, dtype=np.int16)
    codes_of: dict[int, list[str]] = {}
    for rule in RULES:
        outcomes = rule.outcomes(facts)
        codes_of[rule.number] = [code for code, _ in outcomes]
        bits = np.zeros(n, dtype=np.int16)
        for j, (_, mask) in enumerate(outcomes):
            bits |= np.left_shift(mask, j, dtype=np.int16)
        applies = (decided == 0) & (bits != 0)
        np.copyto(decided, rule.number, where=applies)
        np.copyto(bits_of, bits, where=applies)
    if n and (decided == 0).any():  # rule 11 always applies; a gap is a bug, never data
        raise AssertionError("the decision procedure left a patient undecided")
    # Few (rule, outcomes) combinations occur: name each once, then look every row up.
    key = decided * _KEY + bits_of
    group_of_key = np.full(_KEY * (len(RULES) + 1), -1, dtype=np.int8)
    reasons_of_key = np.empty(len(group_of_key), dtype=object)
    for k in np.flatnonzero(np.bincount(key, minlength=len(group_of_key))):
        number, flags = divmod(int(k), _KEY)
        codes = [c for j, c in enumerate(codes_of[number]) if flags >> j & 1]
        group_of_key[k] = GROUPS.index(REASON_CODES[codes[0]][1])
        reasons_of_key[k] = ";".join(codes)
    group = pd.Categorical.from_codes(
        group_of_key[key].astype(np.int64), dtype=pd.CategoricalDtype(list(GROUPS))
    )
    return group, reasons_of_key[key]
