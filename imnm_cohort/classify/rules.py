"""The eleven-rule decision procedure of contract v1, as data plus small pure predicates.

The first rule that applies decides. Each rule lists its *outcomes*: a stable reason code and
the mask of rows for which that outcome holds. A rule applies to a row when any of its
outcomes holds; the row's ``classification_reasons`` are the codes of the deciding rule's
outcomes that hold, and its group is the group of the first of them.

Empty values: a condition in rules 1, 3, 4, 5 and 10 holds only when the data say so.
WEAK (proximal weakness mild, moderate or severe) and CK_HIGH (per criteria set) are unknown
when ``proximal_weakness`` or ``ck_peak`` is empty; rules 6 and 7 then leave the patient
unclassified, and rule 8 gives ``not_imnm`` only when WEAK or CK_HIGH is known to be false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imnm_cohort.classify.criteria import (
    BIOPSY_MISSING,
    BIOPSY_OUTCOMES,
    INFLAMMATION_MISSING,
    INFLAMMATION_PROMINENT,
    NECROTIZING,
    NOT_NECROTIZING,
    CriteriaSet,
)
from imnm_cohort.vocabulary import GROUPS as GROUPS
from imnm_cohort.vocabulary import IMNM_GROUPS as IMNM_GROUPS

WEAK_GRADES = ("mild", "moderate", "severe")
STATIN_TOXIC_CK_BELOW = 1000.0


@dataclass(frozen=True)
class Facts:
    """Whole-column facts about the patients that the rules read (numpy boolean arrays)."""

    hereditary: np.ndarray
    hmgcr_pos: np.ndarray
    srp_pos: np.ndarray
    hmgcr_not_tested: np.ndarray
    srp_not_tested: np.ndarray
    msa_named: np.ndarray
    rimmed_vacuoles: np.ndarray
    perifascicular_atrophy: np.ndarray
    statin_toxic_picture: np.ndarray
    weak: np.ndarray
    weak_known: np.ndarray
    ck_high: np.ndarray
    ck_known: np.ndarray
    dm_rash: np.ndarray
    biopsy: np.ndarray  # rule 11 outcome code per row

    @classmethod
    def of(cls, frame: pd.DataFrame, criteria: CriteriaSet) -> Facts:
        """Compute the facts for a frame of validated patients under a criteria set."""

        def true(column: str) -> np.ndarray:
            return frame[column].to_numpy(dtype=bool, na_value=False)

        def equals(column: str, value: str) -> np.ndarray:
            return (frame[column] == value).to_numpy(dtype=bool, na_value=False)

        weakness = frame["proximal_weakness"]
        msa = frame["other_msa"]
        ck = frame["ck_peak"].to_numpy(dtype=float)
        ck_high, ck_known = criteria.ck_high(frame)
        hmgcr_pos = equals("anti_hmgcr", "positive")
        return cls(
            hereditary=true("hereditary_myopathy"),
            hmgcr_pos=hmgcr_pos,
            srp_pos=equals("anti_srp", "positive"),
            hmgcr_not_tested=equals("anti_hmgcr", "not_tested"),
            srp_not_tested=equals("anti_srp", "not_tested"),
            msa_named=(msa != "none").to_numpy(dtype=bool, na_value=False),
            rimmed_vacuoles=true("biopsy_rimmed_vacuoles"),
            perifascicular_atrophy=true("biopsy_perifascicular_atrophy"),
            statin_toxic_picture=(
                true("statin_exposed")
                & ~hmgcr_pos
                & weakness.isin(["none", "mild"]).to_numpy(dtype=bool)
                & (np.nan_to_num(ck, nan=np.inf) < STATIN_TOXIC_CK_BELOW)
                & true("improved_after_statin_stop")
            ),
            weak=weakness.isin(WEAK_GRADES).to_numpy(dtype=bool),
            weak_known=weakness.notna().to_numpy(dtype=bool),
            ck_high=np.asarray(ck_high, dtype=bool),
            ck_known=np.asarray(ck_known, dtype=bool),
            dm_rash=true("dm_rash"),
            biopsy=np.asarray(criteria.biopsy_outcome(frame), dtype=object),
        )


Outcomes = list[tuple[str, np.ndarray]]


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
    2: f"{CONTRACT} (conflicting serology is not classified)",
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


def _clinical_picture(prefix: str, f: Facts, antibody: np.ndarray, group_code: str) -> Outcomes:
    return [
        (group_code, antibody & f.weak & f.ck_high),
        (f"{prefix}_weakness_absent", antibody & f.weak_known & ~f.weak),
        (f"{prefix}_weakness_missing", antibody & ~f.weak_known),
        (f"{prefix}_ck_not_high", antibody & f.ck_known & ~f.ck_high),
        (f"{prefix}_ck_missing", antibody & ~f.ck_known),
    ]


RULES: tuple[Rule, ...] = (
    Rule(
        1,
        "hereditary_myopathy true -> not_imnm",
        ("hereditary_myopathy",),
        lambda f: [("r1_hereditary_myopathy", f.hereditary)],
    ),
    Rule(
        2,
        "anti_hmgcr and anti_srp both positive -> unclassified (double positive)",
        ("anti_hmgcr", "anti_srp"),
        lambda f: [("r2_double_positive", f.hmgcr_pos & f.srp_pos)],
    ),
    Rule(
        3,
        "anti_hmgcr or anti_srp positive and other_msa names an antibody -> unclassified "
        "(conflicting antibodies)",
        ("anti_hmgcr", "anti_srp", "other_msa"),
        lambda f: [("r3_conflicting_antibodies", (f.hmgcr_pos | f.srp_pos) & f.msa_named)],
    ),
    Rule(
        4,
        "other_msa names an antibody, or rimmed vacuoles, or perifascicular atrophy "
        "-> other_myositis",
        ("other_msa", "biopsy_rimmed_vacuoles", "biopsy_perifascicular_atrophy"),
        lambda f: [
            ("r4_other_msa", f.msa_named),
            ("r4_rimmed_vacuoles", f.rimmed_vacuoles),
            ("r4_perifascicular_atrophy", f.perifascicular_atrophy),
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
        lambda f: [("r5_statin_toxic", f.statin_toxic_picture)],
    ),
    Rule(
        6,
        "anti_hmgcr positive: WEAK and CK_HIGH -> hmgcr; otherwise unclassified",
        ("anti_hmgcr", "proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: _clinical_picture("r6", f, f.hmgcr_pos, "r6_hmgcr_imnm"),
    ),
    Rule(
        7,
        "anti_srp positive: WEAK and CK_HIGH -> srp; otherwise unclassified",
        ("anti_srp", "proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: _clinical_picture("r7", f, f.srp_pos, "r7_srp_imnm"),
    ),
    Rule(
        8,
        "WEAK false or CK_HIGH false -> not_imnm; unknown WEAK or CK_HIGH -> unclassified",
        ("proximal_weakness", "ck_peak", "ck_uln"),
        lambda f: [
            ("r8_weakness_absent", f.weak_known & ~f.weak),
            ("r8_ck_not_high", f.ck_known & ~f.ck_high),
            ("r8_weakness_missing", ~f.weak_known),
            ("r8_ck_missing", ~f.ck_known),
        ],
    ),
    Rule(
        9,
        "anti_hmgcr or anti_srp not tested -> unclassified (antibody testing incomplete)",
        ("anti_hmgcr", "anti_srp"),
        lambda f: [
            ("r9_hmgcr_not_tested", f.hmgcr_not_tested),
            ("r9_srp_not_tested", f.srp_not_tested),
        ],
    ),
    Rule(
        10, "dm_rash true -> other_myositis", ("dm_rash",), lambda f: [("r10_dm_rash", f.dm_rash)]
    ),
    Rule(
        11,
        "both antibodies negative: no biopsy -> unclassified; the criteria set's "
        "necrotizing biopsy -> seronegative; otherwise not_imnm",
        ("biopsy_necrosis", "biopsy_inflammation"),
        lambda f: [(code, f.biopsy == code) for code in BIOPSY_OUTCOMES],
    ),
)

#: Every reason code: (rule number, group it gives, meaning).
REASON_CODES: dict[str, tuple[int, str, str]] = {
    "r1_hereditary_myopathy": (1, "not_imnm", "a hereditary myopathy was confirmed"),
    "r2_double_positive": (2, "unclassified", "anti-HMGCR and anti-SRP both positive"),
    "r3_conflicting_antibodies": (
        3,
        "unclassified",
        "anti-HMGCR or anti-SRP positive together with another MSA",
    ),
    "r4_other_msa": (4, "other_myositis", "another myositis-specific antibody"),
    "r4_rimmed_vacuoles": (4, "other_myositis", "rimmed vacuoles on biopsy"),
    "r4_perifascicular_atrophy": (4, "other_myositis", "perifascicular atrophy on biopsy"),
    "r5_statin_toxic": (5, "statin_toxic", "self-limited toxic statin myopathy picture"),
    "r6_hmgcr_imnm": (6, "hmgcr", "anti-HMGCR positive with weakness and high CK"),
    "r7_srp_imnm": (7, "srp", "anti-SRP positive with weakness and high CK"),
    "r8_weakness_absent": (8, "not_imnm", "no proximal weakness"),
    "r8_ck_not_high": (8, "not_imnm", "CK not high under the criteria set"),
    "r8_weakness_missing": (8, "unclassified", "proximal_weakness is empty"),
    "r8_ck_missing": (8, "unclassified", "ck_peak is empty"),
    "r9_hmgcr_not_tested": (9, "unclassified", "anti-HMGCR not tested"),
    "r9_srp_not_tested": (9, "unclassified", "anti-SRP not tested"),
    "r10_dm_rash": (10, "other_myositis", "dermatomyositis rash"),
    BIOPSY_MISSING: (11, "unclassified", "seronegative: a biopsy is required but none is recorded"),
    NECROTIZING: (11, "seronegative", "necrotizing biopsy under the criteria set"),
    NOT_NECROTIZING: (11, "not_imnm", "biopsy not necrotizing under the criteria set"),
    INFLAMMATION_MISSING: (
        11,
        "unclassified",
        "necrosis predominant but biopsy_inflammation is empty",
    ),
    INFLAMMATION_PROMINENT: (11, "not_imnm", "necrosis predominant but inflammation prominent"),
}
for _rule, _prefix, _antibody in ((6, "r6", "anti-HMGCR"), (7, "r7", "anti-SRP")):
    REASON_CODES.update(
        {
            f"{_prefix}_weakness_absent": (
                _rule,
                "unclassified",
                f"{_antibody} positive, no weakness",
            ),
            f"{_prefix}_weakness_missing": (
                _rule,
                "unclassified",
                f"{_antibody} positive, proximal_weakness is empty",
            ),
            f"{_prefix}_ck_not_high": (_rule, "unclassified", f"{_antibody} positive, CK not high"),
            f"{_prefix}_ck_missing": (
                _rule,
                "unclassified",
                f"{_antibody} positive, ck_peak is empty",
            ),
        }
    )
