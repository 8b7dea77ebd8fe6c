"""The contract's decision procedure (tma2025) written as one polars expression.

The anchor of the classification benchmark: the same decision (group and reasons) in a
columnar engine, written independently of the toolkit's rule evaluation. Used only by the
benchmarks (polars is in the ``bench`` extra, not a runtime dependency).
"""

from __future__ import annotations

import polars as pl

WEAK_GRADES = ["mild", "moderate", "severe"]


def _rules() -> list[list[tuple[str, str, pl.Expr]]]:
    """Per rule, its outcomes in order: (reason code, group, condition)."""

    def flag(name: str) -> pl.Expr:
        return pl.col(name).fill_null(False)

    def equals(name: str, value: str) -> pl.Expr:
        return (pl.col(name) == value).fill_null(False)

    hmgcr, srp = equals("anti_hmgcr", "positive"), equals("anti_srp", "positive")
    weakness = pl.col("proximal_weakness")
    weak_known = weakness.is_not_null()
    weak = weakness.is_in(WEAK_GRADES).fill_null(False)
    ck_known = pl.col("ck_peak").is_not_null()
    ck_high = (pl.col("ck_peak") >= 1000).fill_null(False)
    msa = (pl.col("other_msa") != "none").fill_null(False)
    necrosis = pl.col("biopsy_necrosis")

    def picture(prefix: str, antibody: pl.Expr, code: str, group: str) -> list:
        return [
            (code, group, antibody & weak & ck_high),
            (f"{prefix}_weakness_absent", "unclassified", antibody & weak_known & ~weak),
            (f"{prefix}_weakness_missing", "unclassified", antibody & ~weak_known),
            (f"{prefix}_ck_not_high", "unclassified", antibody & ck_known & ~ck_high),
            (f"{prefix}_ck_missing", "unclassified", antibody & ~ck_known),
        ]

    statin_toxic = (
        flag("statin_exposed")
        & ~hmgcr
        & weakness.is_in(["none", "mild"]).fill_null(False)
        & (pl.col("ck_peak").fill_null(float("inf")) < 1000)
        & flag("improved_after_statin_stop")
    )
    return [
        [("r1_hereditary_myopathy", "not_imnm", flag("hereditary_myopathy"))],
        [("r2_double_positive", "unclassified", hmgcr & srp)],
        [("r3_conflicting_antibodies", "unclassified", (hmgcr | srp) & msa)],
        [
            ("r4_other_msa", "other_myositis", msa),
            ("r4_rimmed_vacuoles", "other_myositis", flag("biopsy_rimmed_vacuoles")),
            ("r4_perifascicular_atrophy", "other_myositis", flag("biopsy_perifascicular_atrophy")),
        ],
        [("r5_statin_toxic", "statin_toxic", statin_toxic)],
        picture("r6", hmgcr, "r6_hmgcr_imnm", "hmgcr"),
        picture("r7", srp, "r7_srp_imnm", "srp"),
        [
            ("r8_weakness_absent", "not_imnm", weak_known & ~weak),
            ("r8_ck_not_high", "not_imnm", ck_known & ~ck_high),
            ("r8_weakness_missing", "unclassified", ~weak_known),
            ("r8_ck_missing", "unclassified", ~ck_known),
        ],
        [
            ("r9_hmgcr_not_tested", "unclassified", equals("anti_hmgcr", "not_tested")),
            ("r9_srp_not_tested", "unclassified", equals("anti_srp", "not_tested")),
        ],
        [("r10_dm_rash", "other_myositis", flag("dm_rash"))],
        [
            ("r11_biopsy_missing", "unclassified", necrosis.is_null()),
            ("r11_necrotizing_biopsy", "seronegative", equals("biopsy_necrosis", "predominant")),
            (
                "r11_biopsy_not_necrotizing",
                "not_imnm",
                necrosis.is_not_null() & (necrosis != "predominant"),
            ),
        ],
    ]


def decision(frame: pl.DataFrame) -> pl.DataFrame:
    """``imnm_group`` and ``classification_reasons`` for every row: the first rule decides."""
    rules = _rules()
    # Every outcome once, as a boolean column; then the first rule that applies decides.
    masks = frame.lazy().select(
        [condition.alias(code) for outcomes in rules for code, _, condition in outcomes]
    )
    group: pl.Expr | pl.Then | pl.ChainedThen = pl
    reasons: pl.Expr | pl.Then | pl.ChainedThen = pl
    for outcomes in rules:
        codes = [code for code, _, _ in outcomes]
        joined = pl.concat_str(
            [pl.when(pl.col(code)).then(pl.lit(code)) for code in codes],
            separator=";",
            ignore_nulls=True,
        )
        first: pl.Expr | pl.Then | pl.ChainedThen = pl
        for code, g, _ in outcomes:
            first = first.when(pl.col(code)).then(pl.lit(g))
        applies = pl.any_horizontal(codes)
        reasons = reasons.when(applies).then(joined)
        group = group.when(applies).then(first)
    return masks.select(imnm_group=group, classification_reasons=reasons).collect()
