"""Criteria sets: versioned, cited data plus the two predicates in which they differ.

The decision procedure (:mod:`imnm_cohort.classify.rules`) is the same for every set; a set
says what counts as a high CK (``CK_HIGH``) and what counts as a necrotizing biopsy for
rule 11. Adding a set means adding a :class:`CriteriaSet` here, not editing the procedure.
Both predicates are written over :class:`~imnm_cohort.classify.columns.Columns`, so one
definition runs in memory and, compiled by ibis, in a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imnm_cohort.classify.columns import Columns, Mask
from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.errors import UnknownCriteriaError

#: Rule 11 outcome codes (both antibodies negative, and rules 1-10 did not apply).
BIOPSY_OUTCOMES = tuple(code for code in RuleCode if code.rule == 11)

CkHigh = Callable[[Columns], tuple[Mask, Mask]]
Weak = Callable[[Columns], tuple[Mask, Mask]]
BiopsyOutcome = Callable[[Columns], Any]


@dataclass(frozen=True)
class CriteriaSet:
    """One versioned, cited set of IMNM classification criteria.

    Attributes
    ----------
    name : str
        Stable identifier written to the ``criteria`` column (e.g. ``"tma2025"``).
    title : str
        Human-readable name.
    citation : str
        The primary source.
    ck_high_text, biopsy_text : str
        The set's definitions of CK_HIGH and of a necrotizing biopsy, in words.
    ck_high : callable
        ``columns -> (value, known)``: two masks over
        :class:`~imnm_cohort.classify.columns.Columns` (in memory or in a database);
        ``known`` is false where CK_HIGH cannot be judged (empty ``ck_peak``).
    biopsy_outcome : callable
        ``columns -> codes``: for each row, the rule 11 outcome code (one of
        :data:`BIOPSY_OUTCOMES`) that applies when rule 11 decides.
    version : str
        The version (revision) of the source.
    weak : callable or None
        ``columns -> (value, known)``: the set's own WEAK; None for the contract's
        (``proximal_weakness`` mild, moderate or severe; unknown when empty).
    weak_text : str
        The set's WEAK in words (empty for the contract's).
    note : str
        What a reader of the results must know about the set (printed with it).
    """

    name: str
    title: str
    citation: str
    ck_high_text: str
    biopsy_text: str
    ck_high: CkHigh
    biopsy_outcome: BiopsyOutcome
    version: str = ""
    weak: Weak | None = None
    weak_text: str = ""
    note: str = ""


def _ck_at_least_1000(columns: Columns) -> tuple[Mask, Mask]:
    known = columns.known("ck_peak")
    return known & columns.holds(columns["ck_peak"] >= 1000.0), known


def _ck_above_uln(columns: Columns) -> tuple[Mask, Mask]:
    known = columns.known("ck_peak")
    uln = columns.filled("ck_uln", CK_ULN_DEFAULT)
    return known & columns.holds(columns["ck_peak"] > uln), known


def _is(columns: Columns, name: str, value: str) -> Mask:
    """Where the column equals ``value``; empty is false."""
    return columns.holds(columns[name] == value)


def _necrosis_predominant(columns: Columns) -> Any:
    return columns.choose(
        [
            (~columns.known("biopsy_necrosis"), RuleCode.R11_BIOPSY_MISSING),
            (_is(columns, "biopsy_necrosis", "predominant"), RuleCode.R11_NECROTIZING_BIOPSY),
        ],
        default=RuleCode.R11_BIOPSY_NOT_NECROTIZING,
    )


def _necrosis_predominant_minimal_inflammation(columns: Columns) -> Any:
    predominant = _is(columns, "biopsy_necrosis", "predominant")
    return columns.choose(
        [
            (~columns.known("biopsy_necrosis"), RuleCode.R11_BIOPSY_MISSING),
            (
                predominant & _is(columns, "biopsy_inflammation", "minimal"),
                RuleCode.R11_NECROTIZING_BIOPSY,
            ),
            (
                predominant & ~columns.known("biopsy_inflammation"),
                RuleCode.R11_INFLAMMATION_MISSING,
            ),
            (
                predominant & _is(columns, "biopsy_inflammation", "prominent"),
                RuleCode.R11_INFLAMMATION_PROMINENT,
            ),
        ],
        default=RuleCode.R11_BIOPSY_NOT_NECROTIZING,
    )


TMA2025 = CriteriaSet(
    name="tma2025",
    title="The Myositis Association IMNM guidance (revised August 2025)",
    citation=(
        "The Myositis Association. Immune-mediated necrotizing myopathy. Revised August 2025 "
        "(T. Liewluck, Mayo Clinic)."
    ),
    ck_high_text="ck_peak >= 1000 U/L",
    biopsy_text=(
        "biopsy_necrosis predominant; prominent inflammation is allowed (about a fifth of "
        "IMNM biopsies show it)"
    ),
    ck_high=_ck_at_least_1000,
    biopsy_outcome=_necrosis_predominant,
    version="2025-08",
)

ENMC2017 = CriteriaSet(
    name="enmc2017",
    title="224th ENMC International Workshop (Allenbach et al., 2018)",
    citation=(
        "Allenbach Y, Mammen AL, Benveniste O, Stenzel W; Immune-Mediated Necrotizing "
        "Myopathies Working Group. 224th ENMC International Workshop: Clinico-sero-pathological "
        "classification of immune-mediated necrotizing myopathies. Neuromuscul Disord "
        "2018;28:87-99. doi:10.1016/j.nmd.2017.09.016"
    ),
    ck_high_text=f"ck_peak > ck_uln (ck_uln {CK_ULN_DEFAULT:g} U/L where empty)",
    biopsy_text=(
        "biopsy_necrosis predominant and biopsy_inflammation minimal; inflammation empty "
        "leaves the patient unclassified, prominent inflammation gives not_imnm"
    ),
    ck_high=_ck_above_uln,
    biopsy_outcome=_necrosis_predominant_minimal_inflammation,
    version="2018",
)


def _weakness_or_coded_myopathy(columns: Columns) -> tuple[Mask, Mask]:
    """ehr2026's WEAK: proximal weakness graded mild to severe where recorded; where it is
    not, a coded inflammatory-myopathy diagnosis (``diagnosis_date``, which the OMOP source
    fills with the first myositis condition). Always known: in coded data the absence of a
    code is read as its absence."""
    weakness = columns["proximal_weakness"]
    recorded = columns.known("proximal_weakness")
    graded = columns.holds(weakness.isin(["mild", "moderate", "severe"]))
    coded = columns.known("diagnosis_date")
    return graded | (~recorded & coded), columns.known("patient_id")


EHR2026 = CriteriaSet(
    name="ehr2026",
    title="Coded-data (EHR) phenotype of IMNM: tma2025 with a coded myopathy for weakness",
    citation=(
        "The toolkit's phenotype for OMOP CDM and other coded data (2026), built on The "
        "Myositis Association IMNM guidance (revised August 2025). Not validated: its "
        "positive predictive value is unknown."
    ),
    ck_high_text=TMA2025.ck_high_text,
    biopsy_text=TMA2025.biopsy_text,
    ck_high=_ck_at_least_1000,
    biopsy_outcome=_necrosis_predominant,
    version="2026-12",
    weak=_weakness_or_coded_myopathy,
    weak_text=(
        "proximal_weakness mild, moderate or severe where recorded; where it is empty, a coded "
        "inflammatory-myopathy diagnosis (diagnosis_date given) stands in for it, and no code "
        "reads as no weakness"
    ),
    note=(
        "An EHR phenotype, not a clinical diagnosis: its positive predictive value is unknown. "
        "Seronegative IMNM needs a biopsy, which coded data rarely hold: most such patients "
        "stay unclassified (r11_biopsy_missing)."
    ),
)

_SETS = {s.name: s for s in (TMA2025, ENMC2017, EHR2026)}
DEFAULT_CRITERIA = TMA2025.name


def available_criteria() -> tuple[str, ...]:
    """Names of the criteria sets.

    Returns
    -------
    tuple of str
        The names, the default (``"tma2025"``) first.
    """
    return tuple(_SETS)


def get_criteria(criteria: str | CriteriaSet = DEFAULT_CRITERIA) -> CriteriaSet:
    """Return a criteria set by name.

    Parameters
    ----------
    criteria : str or CriteriaSet
        A name from :func:`available_criteria`; a :class:`CriteriaSet` is returned as it is.

    Returns
    -------
    CriteriaSet

    Raises
    ------
    UnknownCriteriaError
        For an unknown name; the message lists the known ones.
    """
    if isinstance(criteria, CriteriaSet):
        return criteria
    try:
        return _SETS[criteria]
    except (KeyError, TypeError):
        known = ", ".join(available_criteria())
        raise UnknownCriteriaError(
            f"unknown criteria set {criteria!r}; choose one of: {known}"
        ) from None
