"""Classify validated patients into IMNM groups, whole columns at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, CriteriaSet, get_criteria
from imnm_cohort.classify.derived import derived_columns
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.classify.rules import RULES, Facts
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.sources.files import carried_names, is_reserved
from imnm_cohort.vocabulary import CLASSIFICATION_COLUMNS, GROUPS

#: The columns the decision procedure and the derived columns add (in this order).
OUTPUT_COLUMNS = CLASSIFICATION_COLUMNS
_KEY = 32  # 2**(largest number of outcomes of a rule)


@dataclass(frozen=True)
class DecisionProcedure:
    """A criteria set run through the eleven-rule decision procedure, as a
    :class:`~imnm_cohort.classify.protocol.Classifier`.

    ``classify(frame)`` returns ``imnm_group``, ``criteria`` and ``classification_reasons``.
    """

    criteria: CriteriaSet

    @property
    def name(self) -> str:
        """The criteria set's name."""
        return self.criteria.name

    @property
    def version(self) -> str:
        """The criteria set's version."""
        return self.criteria.version

    @property
    def citation(self) -> str:
        """The criteria set's source."""
        return self.criteria.citation

    @property
    def columns_required(self) -> tuple[str, ...]:
        """Every column a rule reads."""
        return tuple(dict.fromkeys(c for rule in RULES for c in rule.columns))

    def classify(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The IMNM group, the criteria set's name and the reasons (same index)."""
        group, reasons = _decide(frame, self.criteria)
        return pd.DataFrame(
            {
                "imnm_group": group,
                "criteria": self.criteria.name,
                "classification_reasons": reasons,
            },
            index=frame.index,
        )


def classify(
    patients: pd.DataFrame,
    criteria: str | CriteriaSet = DEFAULT_CRITERIA,
    scores: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Classify validated patients by the contract's decision procedure.

    The first of the eleven rules that applies decides (``docs/criteria.md``).

    Parameters
    ----------
    patients : pandas.DataFrame
        Valid rows of an extract, typed as by :func:`~imnm_cohort.load_extract`
        (``ValidationResult.valid``). Not modified. A column named like one this function
        adds (a classified frame classified again) is carried as ``extract.<name>``, as the
        extract reader carries it, so that no name appears twice.
    criteria : str or CriteriaSet
        ``"tma2025"`` (default) or ``"enmc2017"``; see :func:`available_criteria`.
    scores : iterable of str, optional
        Scored classifiers to add (see :mod:`imnm_cohort.classify.registry`); None (default)
        adds all, currently ``eular_acr_2017``; an empty list adds none.

    Returns
    -------
    pandas.DataFrame
        A new frame: the input columns, then ``imnm_group`` (categorical over the seven
        groups), ``criteria``, ``classification_reasons`` (``;``-separated reason codes of the
        deciding rule) and the derived columns ``age_at_onset_years``,
        ``statin_latency_months`` and ``followup_years``, then each scored classifier's
        columns (``eular_acr_2017_*``: ``docs/criteria.md``).

    Raises
    ------
    UnknownCriteriaError
        For an unknown criteria set or scored classifier name.

    Examples
    --------
    >>> from imnm_cohort import load_extract, classify
    >>> result = load_extract("extract.csv")  # doctest: +SKIP
    >>> classified = classify(result.valid, criteria="enmc2017")  # doctest: +SKIP
    >>> classified["imnm_group"].value_counts()  # doctest: +SKIP
    """
    procedure = DecisionProcedure(get_criteria(criteria))
    scorers = scored_classifiers(scores)
    patients = _carry_reserved(patients)
    decided, derived = procedure.classify(patients), derived_columns(patients)
    added = [decided, derived]
    for scorer in scorers:
        added.append(scorer.classify(_columns(scorer.columns_required, patients, *added)))
    return pd.concat([patients, *added], axis=1)


def _carry_reserved(patients: pd.DataFrame) -> pd.DataFrame:
    """``patients`` with the columns named like an output column renamed ``extract.<name>``
    (a shallow copy with new labels; the frame itself when there are none)."""
    if not any(is_reserved(str(c)) for c in patients.columns):
        return patients
    names = carried_names([str(c) for c in patients.columns])
    labels = [c if str(c) == n else n for c, n in zip(patients.columns, names, strict=True)]
    out = patients.copy(deep=False)
    out.columns = pd.Index(labels)
    return out


def _columns(names: tuple[str, ...], *frames: pd.DataFrame) -> pd.DataFrame:
    """The named columns found in the frames: a small frame, not a copy of all of them."""
    return pd.concat([f[[c for c in names if c in f.columns]] for f in frames], axis=1)


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
    codes_of: dict[int, list[RuleCode]] = {}
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
        group_of_key[k] = GROUPS.index(codes[0].group)
        reasons_of_key[k] = ";".join(codes)
    group = pd.Categorical.from_codes(
        group_of_key[key].astype(np.int64), dtype=pd.CategoricalDtype(list(GROUPS))
    )
    return group, reasons_of_key[key]
