"""The classification reason codes of contract v1, section 2, with their words.

Every classified row's ``classification_reasons`` holds codes from :class:`RuleCode` (joined
by ``;``). A code names the rule that decided, the group that outcome gives and what it means
in words; the decision procedure (:mod:`imnm_cohort.classify.rules`), the criteria sets'
biopsy outcomes, the explanations, the reports and the run's summary all read this one
list. Codes are stable: a registry manager counts them month after month to see why
patients are unclassified and which data to complete (``docs/criteria.md``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RuleCode"]


class RuleCode(StrEnum):
    """A stable classification reason code (its value is the code written to the output).

    Attributes
    ----------
    rule : int
        The rule of the decision procedure that gives it (1 to 11).
    group : str
        The group that outcome gives (``imnm_cohort.vocabulary.GROUPS``).
    words : str
        What it means, for people (reports and ``imnm-cohort criteria``).
    """

    rule: int
    group: str
    words: str

    def __new__(cls, code: str, rule: int, group: str, words: str) -> RuleCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.rule = rule
        member.group = group
        member.words = words
        return member

    @classmethod
    def get(cls, code: str) -> RuleCode | None:
        """The member whose value is ``code``, or None for text that is not a reason code."""
        member = cls._value2member_map_.get(code)
        return member if isinstance(member, RuleCode) else None

    @classmethod
    def of(cls, code: str) -> RuleCode:
        """The member whose value is ``code``.

        Raises
        ------
        ValueError
            For text that is not a reason code.
        """
        member = cls.get(code)
        if member is None:
            raise ValueError(f"{code!r} is not a classification reason code")
        return member

    R1_HEREDITARY_MYOPATHY = (
        "r1_hereditary_myopathy", 1, "not_imnm", "a hereditary myopathy was confirmed"
    )  # fmt: skip
    R2_DOUBLE_POSITIVE = (
        "r2_double_positive", 2, "unclassified", "anti-HMGCR and anti-SRP both positive"
    )  # fmt: skip
    ANTIBODY_EQUIVOCAL = (
        "antibody_equivocal_needs_confirmation", 2, "unclassified",
        "anti-HMGCR or anti-SRP equivocal (a weak or borderline line blot alone): "
        "confirm it by another method",
    )  # fmt: skip
    R3_CONFLICTING_ANTIBODIES = (
        "r3_conflicting_antibodies", 3, "unclassified",
        "anti-HMGCR or anti-SRP positive together with another MSA",
    )  # fmt: skip
    R4_OTHER_MSA = "r4_other_msa", 4, "other_myositis", "another myositis-specific antibody"
    R4_RIMMED_VACUOLES = "r4_rimmed_vacuoles", 4, "other_myositis", "rimmed vacuoles on biopsy"
    R4_PERIFASCICULAR_ATROPHY = (
        "r4_perifascicular_atrophy", 4, "other_myositis", "perifascicular atrophy on biopsy"
    )  # fmt: skip
    R5_STATIN_TOXIC = (
        "r5_statin_toxic", 5, "statin_toxic", "self-limited toxic statin myopathy picture"
    )  # fmt: skip
    R6_HMGCR_IMNM = (
        "r6_hmgcr_imnm", 6, "hmgcr", "anti-HMGCR positive with weakness and high CK"
    )  # fmt: skip
    R6_WEAKNESS_ABSENT = (
        "r6_weakness_absent", 6, "unclassified", "anti-HMGCR positive, no weakness"
    )  # fmt: skip
    R6_WEAKNESS_MISSING = (
        "r6_weakness_missing", 6, "unclassified",
        "anti-HMGCR positive, proximal_weakness is empty",
    )  # fmt: skip
    R6_CK_NOT_HIGH = "r6_ck_not_high", 6, "unclassified", "anti-HMGCR positive, CK not high"
    R6_CK_MISSING = "r6_ck_missing", 6, "unclassified", "anti-HMGCR positive, ck_peak is empty"
    R7_SRP_IMNM = "r7_srp_imnm", 7, "srp", "anti-SRP positive with weakness and high CK"
    R7_WEAKNESS_ABSENT = "r7_weakness_absent", 7, "unclassified", "anti-SRP positive, no weakness"
    R7_WEAKNESS_MISSING = (
        "r7_weakness_missing", 7, "unclassified", "anti-SRP positive, proximal_weakness is empty"
    )  # fmt: skip
    R7_CK_NOT_HIGH = "r7_ck_not_high", 7, "unclassified", "anti-SRP positive, CK not high"
    R7_CK_MISSING = "r7_ck_missing", 7, "unclassified", "anti-SRP positive, ck_peak is empty"
    R8_WEAKNESS_ABSENT = "r8_weakness_absent", 8, "not_imnm", "no proximal weakness"
    R8_CK_NOT_HIGH = "r8_ck_not_high", 8, "not_imnm", "CK not high under the criteria set"
    R8_WEAKNESS_MISSING = "r8_weakness_missing", 8, "unclassified", "proximal_weakness is empty"
    R8_CK_MISSING = "r8_ck_missing", 8, "unclassified", "ck_peak is empty"
    R9_HMGCR_NOT_TESTED = "r9_hmgcr_not_tested", 9, "unclassified", "anti-HMGCR not tested"
    R9_SRP_NOT_TESTED = "r9_srp_not_tested", 9, "unclassified", "anti-SRP not tested"
    R10_DM_RASH = "r10_dm_rash", 10, "other_myositis", "dermatomyositis rash"
    R11_BIOPSY_MISSING = (
        "r11_biopsy_missing", 11, "unclassified",
        "seronegative: a biopsy is required but none is recorded",
    )  # fmt: skip
    R11_NECROTIZING_BIOPSY = (
        "r11_necrotizing_biopsy", 11, "seronegative", "necrotizing biopsy under the criteria set"
    )  # fmt: skip
    R11_BIOPSY_NOT_NECROTIZING = (
        "r11_biopsy_not_necrotizing", 11, "not_imnm",
        "biopsy not necrotizing under the criteria set",
    )  # fmt: skip
    R11_INFLAMMATION_MISSING = (
        "r11_inflammation_missing", 11, "unclassified",
        "necrosis predominant but biopsy_inflammation is empty",
    )  # fmt: skip
    R11_INFLAMMATION_PROMINENT = (
        "r11_inflammation_prominent", 11, "not_imnm",
        "necrosis predominant but inflammation prominent",
    )  # fmt: skip
