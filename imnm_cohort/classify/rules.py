"""The eleven-rule decision procedure of contract v1, as data plus small pure predicates.

The first rule that applies decides. Each rule lists its *outcomes*: a stable reason code and
the mask of rows for which that outcome holds. A rule applies to a row when any of its
outcomes holds; the row's ``classification_reasons`` are the codes of the deciding rule's
outcomes that hold, and its group is the group of the first of them.

Empty values: a condition in rules 1, 3, 4, 5 and 10 holds only when the data say so.
WEAK (proximal weakness mild, moderate or severe) and CK_HIGH (per criteria set) are unknown
when ``proximal_weakness`` or ``ck_peak`` is empty; rules 6 and 7 then leave the patient
unclassified, and rule 8 gives ``not_imnm`` only when WEAK or CK_HIGH is known to be false.

The facts are computed over :class:`~imnm_cohort.classify.columns.Columns`, so the same rules
run in memory (numpy masks) and in a database (ibis expressions compiled to one CASE
expression by :mod:`imnm_cohort.classify.sql`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imnm_cohort.classify.columns import Columns, FrameColumns, Mask
from imnm_cohort.classify.criteria import BIOPSY_OUTCOMES, CriteriaSet
from imnm_cohort.contracts.rule_codes import RuleCode

WEAK_GRADES = ("mild", "moderate", "severe")
STATIN_TOXIC_CK_BELOW = 1000.0


@dataclass(frozen=True)
class Facts:
    """Whole-column facts about the patients that the rules read.

    Each is a mask (:data:`~imnm_cohort.classify.columns.Mask`: a numpy boolean array in
    memory, an ibis boolean expression in a database), except ``biopsy``: the rule 11
    outcome code per row.
    """

    hereditary: Mask
    hmgcr_pos: Mask
    srp_pos: Mask
    hmgcr_not_tested: Mask
    equivocal: Mask
    srp_not_tested: Mask
    msa_named: Mask
    rimmed_vacuoles: Mask
    perifascicular_atrophy: Mask
    statin_toxic_picture: Mask
    weak: Mask
    weak_known: Mask
    ck_high: Mask
    ck_known: Mask
    dm_rash: Mask
    biopsy: Any  # rule 11 outcome code per row

    @classmethod
    def of(cls, frame: pd.DataFrame, criteria: CriteriaSet) -> Facts:
        """Compute the facts for a frame of validated patients under a criteria set."""
        return cls.over(FrameColumns(frame), criteria)

    @classmethod
    def over(cls, columns: Columns, criteria: CriteriaSet) -> Facts:
        """Compute the facts over :class:`~imnm_cohort.classify.columns.Columns` (in memory
        or in a database) under a criteria set."""

        def true(name: str) -> Mask:
            return columns.holds(columns[name])

        def equals(name: str, value: str) -> Mask:
            return columns.holds(columns[name] == value)

        weakness = columns["proximal_weakness"]
        ck_high, ck_known = criteria.ck_high(columns)
        if criteria.weak is not None:
            weak, weak_known = criteria.weak(columns)
        else:
            weak = columns.holds(weakness.isin(WEAK_GRADES))
            weak_known = columns.known("proximal_weakness")
        hmgcr_pos = equals("anti_hmgcr", "positive")
        return cls(
            hereditary=true("hereditary_myopathy"),
            hmgcr_pos=hmgcr_pos,
            srp_pos=equals("anti_srp", "positive"),
            hmgcr_not_tested=equals("anti_hmgcr", "not_tested"),
            srp_not_tested=equals("anti_srp", "not_tested"),
            equivocal=equals("anti_hmgcr", "equivocal") | equals("anti_srp", "equivocal"),
            msa_named=columns.holds(columns["other_msa"] != "none"),
            rimmed_vacuoles=true("biopsy_rimmed_vacuoles"),
            perifascicular_atrophy=true("biopsy_perifascicular_atrophy"),
            statin_toxic_picture=(
                true("statin_exposed")
                & ~hmgcr_pos
                & columns.holds(weakness.isin(["none", "mild"]))
                & columns.holds(columns["ck_peak"] < STATIN_TOXIC_CK_BELOW)
                & true("improved_after_statin_stop")
            ),
            weak=weak,
            weak_known=weak_known,
            ck_high=ck_high,
            ck_known=ck_known,
            dm_rash=true("dm_rash"),
            biopsy=criteria.biopsy_outcome(columns),
        )


Outcomes = list[tuple[RuleCode, Mask]]


@dataclass(frozen=True)
class Rule:
    """One rule of the decision procedure.

    Attributes
    ----------
    number : int
        Position in the procedure (1 to 11).
    statement : str
        The rule in words.
    columns : tuple of str
        The input columns it reads (for explanations of missing values).
    outcomes : callable
        ``Facts -> [(reason code, mask), ...]``; the rule applies where any mask holds.
    """

    number: int
    statement: str
    columns: tuple[str, ...]
    outcomes: Callable[[Facts], Outcomes]

    @property
    def source(self) -> str:
        """Where the rule comes from."""
        return RULE_SOURCES[self.number]


CONTRACT = "imnm-cohort extract and classification contract v1, section 2"
TMA = "The Myositis Association IMNM guidance (revised August 2025)"
ENMC = "Allenbach et al., 224th ENMC workshop, Neuromuscul Disord 2018;28:87-99"
RULE_SOURCES = {
    1: f"{CONTRACT} (hereditary myopathies are excluded from IMNM by definition)",
    2: f"{CONTRACT} (conflicting serology is not classified); contract section 6 (an "
    "equivocal antibody needs confirmation: weak line-blot positives are often false)",
    3: f"{CONTRACT} (conflicting serology is not classified)",
    4: f"{CONTRACT}; {ENMC} (other myositis-specific antibodies and biopsy features of "
    "dermatomyositis and inclusion body myositis point away from IMNM)",
    5: f"{TMA} (toxic statin myopathy: no or mild weakness, CK normal or mildly raised, "
    "resolves after stopping the statin)",
    6: f"{TMA}; {ENMC} (antibody-positive IMNM needs no biopsy)",
    7: f"{TMA}; {ENMC} (antibody-positive IMNM needs no biopsy)",
    8: f"{TMA}; {ENMC} (proximal weakness and raised CK)",
    9: f"{TMA} (HMGCR is usually missing from commercial panels and must be asked for)",
    10: f"{CONTRACT} (a dermatomyositis rash points to another myositis)",
    11: f"{TMA}; {ENMC} (antibody-negative IMNM requires a necrotizing biopsy)",
}


def _clinical_picture(rule: int, f: Facts, antibody: Mask) -> Outcomes:
    """Rules 6 and 7: the group with weakness and a high CK, else what is absent or empty."""
    imnm, weakness_absent, weakness_missing, ck_not_high, ck_missing = (
        code for code in RuleCode if code.rule == rule
    )
    return [
        (imnm, antibody & f.weak & f.ck_high),
        (weakness_absent, antibody & f.weak_known & ~f.weak),
        (weakness_missing, antibody & ~f.weak_known),
        (ck_not_high, antibody & f.ck_known & ~f.ck_high),
        (ck_missing, antibody & ~f.ck_known),
    ]


RULES: tuple[Rule, ...] = (
    Rule(
        1,
        "hereditary_myopathy true -> not_imnm",
        ("hereditary_myopathy",),
        lambda f: [(RuleCode.R1_HEREDITARY_MYOPATHY, f.hereditary)],
    ),
    Rule(
        2,
        "anti_hmgcr and anti_srp both positive -> unclassified (double positive); an "
        "equivocal antibody (derived from antibody tests) -> unclassified",
        ("anti_hmgcr", "anti_srp"),
        lambda f: [
            (RuleCode.R2_DOUBLE_POSITIVE, f.hmgcr_pos & f.srp_pos),
            (RuleCode.ANTIBODY_EQUIVOCAL, f.equivocal),
        ],
    ),
    Rule(
        3,
        "anti_hmgcr or anti_srp positive and other_msa names an antibody -> unclassified "
        "(conflicting antibodies)",
        ("anti_hmgcr", "anti_srp", "other_msa"),
        lambda f: [(RuleCode.R3_CONFLICTING_ANTIBODIES, (f.hmgcr_pos | f.srp_pos) & f.msa_named)],
    ),
    Rule(
        4,
        "other_msa names an antibody, or rimmed vacuoles, or perifascicular atrophy "
        "-> other_myositis",
        ("other_msa", "biopsy_rimmed_vacuoles", "biopsy_perifascicular_atrophy"),
        lambda f: [
            (RuleCode.R4_OTHER_MSA, f.msa_named),
            (RuleCode.R4_RIMMED_VACUOLES, f.rimmed_vacuoles),
            (RuleCode.R4_PERIFASCICULAR_ATROPHY, f.perifascicular_atrophy),
        ],
    ),
    Rule(
        5,
        "statin exposed, anti_hmgcr not positive, weakness none or mild, ck_peak < 1000, "
        "improved after stopping the statin -> statin_toxic",
        (
            "statin_exposed",
            "anti_hmgcr",
            "proximal_weakness",
            "ck_peak",
            "improved_after_statin_stop",
        ),
        lambda f: [(RuleCode.R5_STATIN_TOXIC, f.statin_toxic_picture)],
    ),
    Rule(
        6,
        "anti_hmgcr positive: WEAK and CK_HIGH -> hmgcr; otherwise unclassified",
        ("anti_hmgcr", "proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: _clinical_picture(6, f, f.hmgcr_pos),
    ),
    Rule(
        7,
        "anti_srp positive: WEAK and CK_HIGH -> srp; otherwise unclassified",
        ("anti_srp", "proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: _clinical_picture(7, f, f.srp_pos),
    ),
    Rule(
        8,
        "WEAK false or CK_HIGH false -> not_imnm; unknown WEAK or CK_HIGH -> unclassified",
        ("proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: [
            (RuleCode.R8_WEAKNESS_ABSENT, f.weak_known & ~f.weak),
            (RuleCode.R8_CK_NOT_HIGH, f.ck_known & ~f.ck_high),
            (RuleCode.R8_WEAKNESS_MISSING, ~f.weak_known),
            (RuleCode.R8_CK_MISSING, ~f.ck_known),
        ],
    ),
    Rule(
        9,
        "anti_hmgcr or anti_srp not tested -> unclassified (antibody testing incomplete)",
        ("anti_hmgcr", "anti_srp"),
        lambda f: [
            (RuleCode.R9_HMGCR_NOT_TESTED, f.hmgcr_not_tested),
            (RuleCode.R9_SRP_NOT_TESTED, f.srp_not_tested),
        ],
    ),
    Rule(
        10,
        "dm_rash true -> other_myositis",
        ("dm_rash",),
        lambda f: [(RuleCode.R10_DM_RASH, f.dm_rash)],
    ),
    Rule(
        11,
        "both antibodies negative: no biopsy -> unclassified; the criteria set's "
        "necrotizing biopsy -> seronegative; otherwise not_imnm",
        ("biopsy_necrosis", "biopsy_inflammation"),
        lambda f: [(code, f.biopsy == code) for code in BIOPSY_OUTCOMES],
    ),
)

#: Every reason code: (rule number, group it gives, meaning), from :class:`RuleCode`.
REASON_CODES: dict[str, tuple[int, str, str]] = {
    code.value: (code.rule, code.group, code.words) for code in RuleCode
}
