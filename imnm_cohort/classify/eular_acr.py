"""EULAR/ACR 2017 classification criteria for idiopathic inflammatory myopathies (IIM).

A scored classifier (:class:`~imnm_cohort.classify.protocol.Classifier`): each item present
adds its weight; the total score, with or without muscle biopsy data, gives a category.
It runs beside the IMNM decision procedure and never changes ``imnm_group``.

Weights are the score points of Bottai et al. 2017, Table 1 (also Lundberg et al. 2017,
Table 1), held here in tenths of a point so that sums and cut-offs are exact. Cut-offs
(Lundberg 2017): possible IIM from 5.3 (6.5 with biopsy), probable from 5.5 (6.7), definite
from 7.5 (8.7); below 5.3 (6.5), not IIM.

References
----------
Lundberg IE, Tjarnlund A, Bottai M, et al. 2017 European League Against Rheumatism/American
College of Rheumatology classification criteria for adult and juvenile idiopathic inflammatory
myopathies and their major subgroups. Ann Rheum Dis 2017;76:1955-64.

Bottai M, Tjarnlund A, Santoni G, et al. EULAR/ACR classification criteria for adult and
juvenile idiopathic inflammatory myopathies and their major subgroups: a methodology report.
RMD Open 2017;3:e000507.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from imnm_cohort.classify.rules import WEAK_GRADES
from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.vocabulary import SCORED_CLASSIFIER_COLUMNS

PREFIX = "eular_acr_2017"
CATEGORIES = ("not_iim", "possible", "probable", "definite")
BASES = ("without_biopsy", "with_biopsy")
#: Category cut-offs in tenths of a point: (possible, probable, definite).
CUTOFFS = {"without_biopsy": (53, 55, 75), "with_biopsy": (65, 67, 87)}
#: Age at onset bands (years) and their weights in tenths: [18, 40) and >= 40.
AGE_WEIGHTS = ((18.0, 40.0, 13, 15), (40.0, np.inf, 21, 22))


@dataclass(frozen=True)
class Item:
    """One scored item: its name, what it means, and its weights in tenths of a point."""

    name: str
    text: str
    without_biopsy: int
    with_biopsy: int
    biopsy: bool = False


#: The items other than age, in the paper's order (weights: Bottai 2017, Table 1).
ITEMS = (
    Item("weakness_upper_proximal", "objective symmetric proximal upper-limb weakness", 7, 7),
    Item("weakness_lower_proximal", "objective symmetric proximal lower-limb weakness", 8, 5),
    Item("neck_flexor_weaker_than_extensor", "neck flexors weaker than extensors", 19, 16),
    Item("legs_proximal_weaker_than_distal", "legs: proximal weaker than distal", 9, 12),
    Item("heliotrope_rash", "heliotrope rash", 31, 32),
    Item("gottron_papules", "Gottron papules", 21, 27),
    Item("gottron_sign", "Gottron sign", 33, 37),
    Item("dysphagia", "dysphagia or oesophageal dysmotility", 7, 6),
    Item("anti_jo1", "anti-Jo-1 antibody (from other_msa)", 39, 38),
    Item("muscle_enzymes_elevated", "CK, LDH, AST or ALT above normal", 13, 14),
    Item("biopsy_endomysial_infiltrate", "endomysial infiltrate", 0, 17, biopsy=True),
    Item(
        "biopsy_perimysial_perivascular_infiltrate",
        "perimysial or perivascular infiltrate",
        0,
        12,
        biopsy=True,
    ),
    Item("biopsy_perifascicular_atrophy", "perifascicular atrophy", 0, 19, biopsy=True),
    Item("biopsy_rimmed_vacuoles", "rimmed vacuoles", 0, 31, biopsy=True),
)
SKIN = ("heliotrope_rash", "gottron_papules", "gottron_sign")
WEAKNESS = ("weakness_upper_proximal", "weakness_lower_proximal")
#: Scores without and with biopsy (min, max), basis, category, category_max, missing.
COLUMNS = SCORED_CLASSIFIER_COLUMNS[PREFIX]


def _item_values(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(value, known)``: boolean matrices (patients x items) in :data:`ITEMS` order."""
    n = len(frame)
    value = np.zeros((n, len(ITEMS)), dtype=bool)
    known = np.zeros((n, len(ITEMS)), dtype=bool)

    def is_false(column: str) -> np.ndarray:
        return (frame[column] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712

    for j, item in enumerate(ITEMS):
        if item.name in frame.columns:
            value[:, j] = _true(frame, item.name)
            known[:, j] = frame[item.name].notna().to_numpy(dtype=bool)
    msa = frame["other_msa"]
    if not (isinstance(msa.dtype, pd.StringDtype) and msa.dtype.storage == "pyarrow"):
        msa = msa.astype("string[pyarrow]")  # Arrow's regex kernel, not a Python loop
    j = _index("anti_jo1")
    value[:, j] = msa.str.contains(r"(?:^|;)jo1(?:;|$)").to_numpy(dtype=bool, na_value=False)
    known[:, j] = msa.notna().to_numpy(dtype=bool)
    # Implied by the contract's summary columns: no rash means none of the three signs,
    # no proximal weakness means neither limb; a CK above the lab's limit is an elevated enzyme.
    no_rash = is_false("dm_rash")
    not_weak = (frame["proximal_weakness"] == "none").to_numpy(dtype=bool, na_value=False)
    for names, absent in ((SKIN, no_rash), (WEAKNESS, not_weak)):
        for name in names:
            j = _index(name)
            known[:, j] |= absent
    ck = frame["ck_peak"].to_numpy(dtype=float)
    uln = frame["ck_uln"].fillna(CK_ULN_DEFAULT).to_numpy(dtype=float)
    j = _index("muscle_enzymes_elevated")
    ck_high = np.nan_to_num(ck, nan=-np.inf) > uln
    value[:, j] |= ck_high
    known[:, j] |= ck_high
    return value & known, known


def _index(name: str) -> int:
    return next(j for j, item in enumerate(ITEMS) if item.name == name)


def _at_least_one(
    value: np.ndarray, known: np.ndarray, names: tuple[str, ...], holds: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Tenths that must be added to the minimum where a summary column says that at least
    one of ``names`` is present but none is recorded as present: the smallest weight among
    those still unknown."""
    cols = [_index(name) for name in names]
    unknown = ~known[:, cols]
    smallest = np.where(unknown, w[cols][None, :], np.iinfo(np.int64).max).min(axis=1)
    needed = holds & ~value[:, cols].any(axis=1) & unknown.any(axis=1)
    return np.where(needed, smallest, 0)


def _category(tenths: np.ndarray, biopsied: np.ndarray, tenths_biopsy: np.ndarray) -> pd.Series:
    """The category of each score (with-biopsy cut-offs where biopsied), from codes."""
    codes = np.zeros(len(tenths), dtype=np.int8)
    for basis, scores in (("without_biopsy", tenths), ("with_biopsy", tenths_biopsy)):
        rows = biopsied if basis == "with_biopsy" else ~biopsied
        codes[rows] = np.searchsorted(CUTOFFS[basis], scores[rows], side="right")
    dtype = pd.CategoricalDtype(list(CATEGORIES), ordered=True)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))


def _missing_lists(unknown: np.ndarray) -> np.ndarray:
    """``;``-separated names of the unknown items per patient (None when none), by pattern."""
    packed = np.packbits(unknown, axis=1, bitorder="little").astype(np.int64)
    keys = (packed << (8 * np.arange(packed.shape[1], dtype=np.int64))).sum(axis=1)
    patterns, inverse = np.unique(keys, return_inverse=True)
    text = np.array(
        [
            ";".join(item.name for j, item in enumerate(ITEMS) if int(p) >> j & 1) or None
            for p in patterns
        ],
        dtype=object,
    )
    return text[inverse.ravel()]


@dataclass(frozen=True)
class EularAcr2017:
    """The EULAR/ACR 2017 IIM classification criteria as a scored classifier.

    Output columns (all prefixed ``eular_acr_2017_``):

    ``score_without_biopsy_min`` / ``_max``
        The score without biopsy items; min counts unknown items as absent, max as present
        (equal when nothing is missing).
    ``score_with_biopsy_min`` / ``_max``
        The same with the biopsy weights and items, where a biopsy was done (any biopsy
        column filled); empty otherwise.
    ``basis``
        ``with_biopsy`` where a biopsy was done, else ``without_biopsy``: the score the
        category uses, as the paper advises.
    ``category``
        ``not_iim``, ``possible``, ``probable`` or ``definite`` from the minimum score (what
        the data show); ``category_max`` from the maximum score (if every unknown item were
        present).
    ``missing``
        ``;``-separated names of the items unknown for the patient (empty when none).

    No probability is given: the paper's score-to-probability formula could not be
    checked against a primary source (``docs/criteria.md``).
    """

    name: str = PREFIX
    version: str = "2017"
    citation: str = (
        "Lundberg IE, Tjarnlund A, Bottai M, et al. 2017 EULAR/ACR classification criteria "
        "for adult and juvenile idiopathic inflammatory myopathies and their major subgroups. "
        "Ann Rheum Dis 2017;76:1955-64; score points from Bottai M, et al. RMD Open "
        "2017;3:e000507, Table 1."
    )

    def describe(self) -> tuple[str, ...]:
        """The points table and the category cut-offs, one line each, for people."""

        def points(without: int, with_: int, biopsy: bool = False) -> str:
            return f"{'-' if biopsy else f'{without / 10:g}'} / {with_ / 10:g}"

        lines = ["points without / with biopsy:"]
        for low, high, without, with_ in AGE_WEIGHTS:
            band = f"{low:g} to under {high:g}" if np.isfinite(high) else f">= {low:g}"
            lines.append(f"  age at onset {band} years: {points(without, with_)}")
        lines += [
            f"  {item.text} ({item.name}): "
            f"{points(item.without_biopsy, item.with_biopsy, item.biopsy)}"
            for item in ITEMS
        ]
        for category, without, with_ in zip(CATEGORIES[1:], *CUTOFFS.values(), strict=True):
            lines.append(f"{category}: score >= {points(without, with_)}")
        return tuple(lines)

    @property
    def columns_required(self) -> tuple[str, ...]:
        """Contract and derived columns read (an absent v1.2 item column is unknown)."""
        items = tuple(item.name for item in ITEMS if item.name != "anti_jo1")
        return (
            "age_at_onset_years", "other_msa", "dm_rash", "proximal_weakness", "ck_peak",
            "ck_uln", "biopsy_necrosis", *items,
        )  # fmt: skip

    def classify(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score every patient; returns the ``eular_acr_2017_*`` columns (same index)."""
        value, known = _item_values(frame)
        age = frame["age_at_onset_years"].to_numpy(dtype=float)
        biopsy_items = np.array([item.biopsy for item in ITEMS])
        biopsied = frame["biopsy_necrosis"].notna().to_numpy(dtype=bool) | known[
            :, biopsy_items
        ].any(axis=1)
        weak = frame["proximal_weakness"].isin(WEAK_GRADES).to_numpy(dtype=bool)
        rash = _true(frame, "dm_rash")
        # Points present and unknown for both bases at once (small integers: exact in float32).
        weights = np.array([[i.without_biopsy, i.with_biopsy] for i in ITEMS], dtype=np.float32)
        present = np.rint(value.astype(np.float32) @ weights).astype(np.int64)
        unknown = np.rint((~known).astype(np.float32) @ weights).astype(np.int64)
        lo_wo, hi_wo = _score(value, known, present, unknown, age, "without_biopsy", rash, weak)
        lo_w, hi_w = _score(value, known, present, unknown, age, "with_biopsy", rash, weak)
        relevant = biopsied[:, None] | ~biopsy_items[None, :]
        result = pd.DataFrame(
            {
                COLUMNS[0]: lo_wo / 10.0,
                COLUMNS[1]: hi_wo / 10.0,
                COLUMNS[2]: np.where(biopsied, lo_w / 10.0, np.nan),
                COLUMNS[3]: np.where(biopsied, hi_w / 10.0, np.nan),
                COLUMNS[4]: pd.Categorical.from_codes(
                    biopsied.astype(np.int8), dtype=pd.CategoricalDtype(list(BASES))
                ),
                COLUMNS[5]: _category(lo_wo, biopsied, lo_w).array,
                COLUMNS[6]: _category(hi_wo, biopsied, hi_w).array,
                COLUMNS[7]: _missing_lists(~known & relevant),
            },
            index=frame.index,
        )
        return result


def _score(
    value: np.ndarray,
    known: np.ndarray,
    present: np.ndarray,
    unknown: np.ndarray,
    age: np.ndarray,
    basis: str,
    rash: np.ndarray,
    weak: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) score in tenths: unknown items counted absent, then present.

    ``present`` and ``unknown`` hold the points of the items present and unknown, one
    column per basis (without, with biopsy).
    """
    w = np.array([getattr(item, basis) for item in ITEMS], dtype=np.int64)
    b = 0 if basis == "without_biopsy" else 1
    low = np.select(
        [(age >= band[0]) & (age < band[1]) for band in AGE_WEIGHTS],
        [band[2 + b] for band in AGE_WEIGHTS],
        default=0,
    ).astype(np.int64)
    low = low + present[:, b]
    high = low + unknown[:, b]
    low = low + _at_least_one(value, known, SKIN, rash, w)
    low = low + _at_least_one(value, known, WEAKNESS, weak, w)
    return low, high


def _true(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=bool, na_value=False)


EULAR_ACR_2017 = EularAcr2017()
