"""Myositis response criteria: the 2016 ACR/EULAR Total Improvement Score.

The six core set measures and their scales, the percent change between two visits, the
points table of the Total Improvement Score (TIS) and its category thresholds live here
once, as data; the IMACS 2004 definition of improvement and ProDERM deterioration
(:mod:`imnm_cohort.analysis.imacs`) read the same measures and percent changes. Every
function works on whole columns (one row per pair of visits) with numpy; the scalar
:func:`total_improvement_score` is the one-row case of :func:`total_improvement_scores`.

Percent change
--------------
Improvement is positive: the manual muscle testing total (MMT) improves upward, the other
five measures (physician, patient and extramuscular global activity on a 0-10 cm VAS, the
HAQ disability index 0-3 and the muscle enzyme as a multiple of its upper limit of normal)
improve downward. Two conventions (``change=``):

``"default"``
    The enzyme relative to its baseline value, ``100 * (baseline - followup) / baseline``;
    the scales relative to the instrument's range, ``100 * (baseline - followup) / 10`` for
    the VAS, ``/ 3`` for the HAQ and ``100 * (followup - baseline) / mmt_max`` for the MMT.
``"baseline"``
    Every measure relative to its baseline value.

Under ``"baseline"`` a baseline of 0 is read by the limit: an unchanged 0 is no change, a
global or HAQ at 0 cannot improve (any rise is an infinite worsening), and an MMT rising
from 0 is an infinite improvement (the top band). An enzyme at 0 x ULN at baseline is out
of range under either convention (a measured enzyme is positive).

References
----------
Aggarwal R, Rider LG, Ruperto N, et al. 2016 American College of Rheumatology/European
League Against Rheumatism criteria for minimal, moderate, and major clinical response in
adult dermatomyositis and polymyositis. Ann Rheum Dis 2017;76:792-801 (Arthritis Rheumatol
2017;69:898-910); points table: PMC5577002, Table 3.

Rider LG, Aggarwal R, Pistorio A, et al. 2016 American College of Rheumatology/European
League Against Rheumatism criteria for minimal, moderate, and major clinical response in
juvenile dermatomyositis. Ann Rheum Dis 2017;76:782-791.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.errors import ConfigError, ResponseMeasureError

#: The six core set measures, in the order of the points table.
MEASURES: tuple[str, ...] = (
    "physician_global",
    "patient_global",
    "mmt",
    "haq",
    "enzyme",
    "extramuscular_global",
)

#: Points per band of absolute percent improvement, bands (<= e1, (e1, e2], ..., > e4).
POINTS_TABLE: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "physician_global": (0.0, 7.5, 15.0, 17.5, 20.0),
        "patient_global": (0.0, 2.5, 5.0, 7.5, 10.0),
        "mmt": (0.0, 10.0, 20.0, 27.5, 32.5),
        "haq": (0.0, 5.0, 7.5, 7.5, 10.0),
        "enzyme": (0.0, 2.5, 5.0, 7.5, 7.5),
        "extramuscular_global": (0.0, 7.5, 12.5, 15.0, 20.0),
    }
)

#: Upper edges of the bands, in percent; each band reads (lower, upper].
BAND_EDGES: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {m: (2.0, 10.0, 20.0, 30.0) if m == "mmt" else (5.0, 15.0, 25.0, 40.0) for m in MEASURES}
)

#: The TIS categories, in order, and the lowest total of each but ``none``.
CATEGORIES: tuple[str, ...] = ("none", "minimal", "moderate", "major")
CATEGORY_DTYPE = pd.CategoricalDtype(list(CATEGORIES), ordered=True)
CATEGORY_THRESHOLDS: Mapping[str, tuple[float, float, float]] = MappingProxyType(
    {"adult": (20.0, 40.0, 60.0), "juvenile": (30.0, 45.0, 70.0)}
)

#: The percent-change conventions (see the module docstring); the first is the default.
CHANGE_CONVENTIONS: tuple[str, ...] = ("default", "baseline")

#: The range of each fixed scale (the MMT's is ``mmt_max``; the enzyme has none).
SCALE_RANGE: Mapping[str, float] = MappingProxyType(
    {"physician_global": 10.0, "patient_global": 10.0, "haq": 3.0, "extramuscular_global": 10.0}
)

#: +1 where a higher value is better (MMT), -1 where a lower value is (the others).
DIRECTION: Mapping[str, int] = MappingProxyType({m: 1 if m == "mmt" else -1 for m in MEASURES})

#: Percent changes are rounded to this many decimals before they meet a band edge, so that a
#: change exactly on an edge in decimal arithmetic (5.0 - 4.5 on a 10 cm VAS) reads as on it.
_DECIMALS = 9


@dataclass(frozen=True)
class TotalImprovementScore:
    """The 2016 ACR/EULAR Total Improvement Score of one follow-up visit.

    Attributes
    ----------
    total : float
        0-100, the sum of :attr:`points`.
    points : Mapping[str, float]
        Read-only; the points of each core set measure.
    category : str
        ``none``, ``minimal``, ``moderate`` or ``major``.
    lower_bound : bool
        True when ``partial=True`` scored a missing measure 0: the true total may be higher.
    missing : tuple of str
        The codes of the missing measures scored 0 (empty unless :attr:`lower_bound`).
    population, change : str
        The thresholds and the percent-change convention used.
    """

    total: float
    points: Mapping[str, float]
    category: str
    lower_bound: bool
    missing: tuple[str, ...] = ()
    population: str = "adult"
    change: str = "default"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "total": self.total,
            "points": dict(self.points),
            "category": self.category,
            "lower_bound": self.lower_bound,
            "missing": list(self.missing),
            "population": self.population,
            "change": self.change,
        }


def _check_options(population: str | None, change: str) -> None:
    if population is not None and population not in CATEGORY_THRESHOLDS:
        raise ConfigError(
            f"population '{population}' is not known; use one of " + ", ".join(CATEGORY_THRESHOLDS)
        )
    if change not in CHANGE_CONVENTIONS:
        raise ConfigError(
            f"change '{change}' is not known; use one of " + ", ".join(CHANGE_CONVENTIONS)
        )


def _frames(baseline: Any, followup: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both visits as frames on the baseline's row labels (the follow-up is aligned by label)."""
    try:
        b, f = pd.DataFrame(baseline), pd.DataFrame(followup)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            "baseline and followup must be frames or mappings of columns; score one visit "
            "with total_improvement_score"
        ) from error
    if f.index.equals(b.index) and b.index.is_unique:
        return b, f
    if not b.index.is_unique or len(b.index) != len(f.index) or not b.index.isin(f.index).all():
        raise ConfigError(
            "baseline and followup must have the same unique row labels (one row per pair "
            "of visits)"
        )
    return b, f.loc[b.index]


def _values(frame: pd.DataFrame, measure: str, visit: str) -> np.ndarray:
    """A measure's column as float, NaN where missing (an absent column is missing throughout)."""
    if measure not in frame.columns:
        return np.full(len(frame), np.nan)
    column = frame[measure]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiu":
        return np.asarray(column.to_numpy(dtype=float))
    try:
        column = pd.to_numeric(column, errors="raise")
    except (TypeError, ValueError) as error:
        raise ResponseMeasureError(
            "response criteria", (f"not_numeric_{measure}_{visit}",)
        ) from error
    return np.asarray(column.astype("Float64").to_numpy(dtype=float, na_value=np.nan))


def _mmt_max(mmt_max: Any, n: int, index: pd.Index) -> np.ndarray:
    if isinstance(mmt_max, pd.Series):
        values = np.asarray(pd.to_numeric(mmt_max.reindex(index), errors="coerce"), dtype=float)
    else:
        values = np.broadcast_to(np.asarray(mmt_max, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ConfigError(
            "mmt_max must be a positive number for every row (80 for MMT-8, 150, 260)"
        )
    return values


def _in_range(measure: str, values: np.ndarray, mmt_max: np.ndarray, visit: str) -> np.ndarray:
    """True where a present value lies on its scale (NaN is not judged here)."""
    with np.errstate(invalid="ignore"):
        if measure == "enzyme":
            ok = values > 0 if visit == "baseline" else values >= 0
            return np.asarray(ok & np.isfinite(values))
        upper = mmt_max if measure == "mmt" else SCALE_RANGE[measure]
        return np.asarray((values >= 0) & (values <= upper))


def _improvement(
    measure: str, b: np.ndarray, f: np.ndarray, mmt_max: np.ndarray, change: str
) -> np.ndarray:
    """Percent improvement (positive = better) of one measure, by the convention ``change``."""
    diff = DIRECTION[measure] * (f - b)
    if change == "baseline" or measure == "enzyme":
        denominator = b
    elif measure == "mmt":
        denominator = mmt_max
    else:
        denominator = np.full_like(b, SCALE_RANGE[measure])
    # A zero baseline is read by the limit: no change is 0, any change is +-infinity.
    limit = np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))
    # A change of over about 1e299 percent (a baseline near the smallest float) overflows
    # to +-infinity when rounded, as it would in the division: the same reading, no warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        relative = 100.0 * diff / denominator
        return np.round(np.where(denominator == 0, limit, relative), _DECIMALS)


def _reasons(n: int, problems: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """``;``-joined reason codes per row, built column by column (no row loop) over the rows
    with a problem; empty for the others."""
    reason = np.full(n, "", dtype=object)
    rows = np.zeros(n, dtype=bool)
    for _, mask in problems:
        rows |= mask
    if not rows.any():
        return reason
    if len(problems) > 62:  # more problems than bits: appended code by code
        some = np.full(int(rows.sum()), "", dtype=object)
        for code, mask in problems:
            at = mask[rows]  # appended only where the code applies, not to every row
            if at.any():
                some[at] = some[at] + (code + ";")
        reason[rows] = pd.Series(some, dtype=object).str.rstrip(";").to_numpy(dtype=object)
        return reason
    # Each row's problems as the bits of one number: the distinct sets are few, each joined
    # once, in the order of ``problems``.
    bits = np.zeros(int(rows.sum()), dtype=np.int64)
    for i, (_, mask) in enumerate(problems):
        bits |= mask[rows].astype(np.int64) << i
    sets, which = np.unique(bits, return_inverse=True)
    texts = np.array(
        [";".join(code for i, (code, _) in enumerate(problems) if held >> i & 1) for held in sets],
        dtype=object,
    )
    reason[rows] = texts[which]
    return reason


def _measures(
    baseline: Any, followup: Any, mmt_max: Any, change: str
) -> tuple[pd.Index, dict[str, np.ndarray], dict[str, np.ndarray], list[tuple[str, np.ndarray]]]:
    """Per measure: percent improvement, missing mask; and every problem as (code, mask)."""
    b, f = _frames(baseline, followup)
    n = len(b)
    limit = _mmt_max(mmt_max, n, b.index)
    improvement: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    problems: list[tuple[str, np.ndarray]] = []
    for measure in MEASURES:
        bv, fv = _values(b, measure, "baseline"), _values(f, measure, "followup")
        absent = np.isnan(bv) | np.isnan(fv)
        for visit, v in (("baseline", bv), ("followup", fv)):
            problems.append((f"missing_{measure}_{visit}", np.isnan(v)))
        for visit, v in (("baseline", bv), ("followup", fv)):
            bad = ~np.isnan(v) & ~_in_range(measure, v, limit, visit)
            problems.append((f"out_of_range_{measure}_{visit}", bad))
        usable = ~absent & _in_range(measure, bv, limit, "baseline")
        usable &= _in_range(measure, fv, limit, "followup")
        improvement[measure] = np.where(
            usable, _improvement(measure, np.where(usable, bv, 1.0), fv, limit, change), np.nan
        )
        missing[measure] = absent
    return b.index, improvement, missing, problems


def total_improvement_scores(
    baseline: pd.DataFrame | Mapping[str, Any],
    followup: pd.DataFrame | Mapping[str, Any],
    *,
    mmt_max: float | pd.Series = 80,
    population: str = "adult",
    change: str = "default",
    partial: bool = False,
) -> pd.DataFrame:
    """The 2016 ACR/EULAR Total Improvement Score of many follow-up visits at once.

    Each measure's percent improvement from baseline falls in a band that reads
    (lower, upper]: <= 5%, (5, 15], (15, 25], (25, 40], > 40% (MMT: <= 2%, (2, 10],
    (10, 20], (20, 30], > 30%), and scores the points of :data:`POINTS_TABLE`. Worsening
    and small changes score 0; no score is negative; the total is 0-100. Bands are found
    with :func:`numpy.searchsorted` over :data:`BAND_EDGES`.

    Parameters
    ----------
    baseline, followup : DataFrame or mapping of columns
        One row per pair of visits, with the columns of :data:`MEASURES` (the enzyme as a
        multiple of its ULN). The follow-up is aligned to the baseline by row label; an
        absent column is missing throughout.
    mmt_max : float or Series
        The MMT scale maximum (80 for MMT-8), one number or one per row (aligned by label).
    population : {"adult", "juvenile"}
        Category thresholds: adult 20/40/60, juvenile 30/45/70.
    change : {"default", "baseline"}
        The percent-change convention (module docstring); ``"default"``: enzyme relative to
        baseline, scales relative to the instrument's range.
    partial : bool
        Score a missing measure 0 and mark the total ``lower_bound``; otherwise a row with a
        missing measure is not computed.

    Returns
    -------
    DataFrame
        On the baseline's row labels: ``total`` (NaN when not computed), one
        ``points_<measure>`` column per measure (NaN where that measure could not be
        scored), ``category`` (ordered categorical, missing when not computed),
        ``lower_bound`` (bool) and ``reason`` (``;``-joined codes such as
        ``missing_haq_followup`` or ``out_of_range_mmt_baseline``; empty when every
        measure was scored).

    Raises
    ------
    ConfigError
        An unknown ``population`` or ``change``, a non-positive ``mmt_max``, or visits whose
        row labels differ.
    ResponseMeasureError
        A measure column that is not numeric.

    References
    ----------
    Aggarwal R et al. Ann Rheum Dis 2017;76:792-801, Table 3 (PMC5577002); Rider LG et al.
    Ann Rheum Dis 2017;76:782-791 (juvenile thresholds).
    """
    _check_options(population, change)
    index, improvement, missing, problems = _measures(baseline, followup, mmt_max, change)
    n = len(index)
    out_of_range = np.zeros(n, dtype=bool)
    any_missing = np.zeros(n, dtype=bool)
    for code, mask in problems:
        if code.startswith("out_of_range_"):
            out_of_range |= mask
    for mask in missing.values():
        any_missing |= mask
    computed = ~out_of_range & (partial | ~any_missing)
    columns: dict[str, Any] = {}
    total = np.zeros(n)
    for measure in MEASURES:
        pct = improvement[measure]
        band = np.searchsorted(BAND_EDGES[measure], np.where(np.isnan(pct), 0.0, pct), "left")
        points = np.asarray(POINTS_TABLE[measure])[band]
        if partial:
            points = np.where(missing[measure], 0.0, points)
        points = np.where(np.isnan(pct) & ~(partial & missing[measure]), np.nan, points)
        columns[f"points_{measure}"] = points
        total += np.nan_to_num(points)
    total = np.where(computed, total, np.nan)
    thresholds = CATEGORY_THRESHOLDS[population]
    level = np.searchsorted(thresholds, np.where(computed, total, 0.0), "right")
    category = pd.Categorical.from_codes(np.where(computed, level, -1), dtype=CATEGORY_DTYPE)
    result = pd.DataFrame({"total": total, **columns}, index=index)
    result["category"] = pd.Series(category, index=index)
    result["lower_bound"] = computed & any_missing
    result["reason"] = _reasons(n, problems)
    return result


def total_improvement_score(
    baseline: Mapping[str, Any],
    followup: Mapping[str, Any],
    *,
    mmt_max: float = 80,
    population: str = "adult",
    change: str = "default",
    partial: bool = False,
) -> TotalImprovementScore:
    """The 2016 ACR/EULAR Total Improvement Score of one follow-up visit against baseline.

    The one-row case of :func:`total_improvement_scores`, which documents the points, bands
    and options.

    Parameters
    ----------
    baseline, followup : mapping
        Keys ``physician_global``, ``patient_global`` (0-10 cm VAS), ``mmt``
        (0..``mmt_max``), ``haq`` (0-3), ``enzyme`` (a multiple of its ULN, CK for IMNM) and
        ``extramuscular_global`` (0-10 cm VAS). Other keys are ignored.
    mmt_max : float
        The MMT scale maximum (80 for MMT-8).
    population : {"adult", "juvenile"}
    change : {"default", "baseline"}
    partial : bool
        Score a missing measure 0; the result is then a lower bound.

    Returns
    -------
    TotalImprovementScore

    Raises
    ------
    ResponseMeasureError
        A measure missing (absent, None or NaN) at either visit and ``partial`` is False, or
        a measure out of its scale; the message names each.
    ConfigError
        An unknown ``population`` or ``change`` or a non-positive ``mmt_max``.

    Examples
    --------
    >>> import imnm_cohort as ic
    >>> before = {"physician_global": 6, "patient_global": 7, "mmt": 60, "haq": 1.5,
    ...           "enzyme": 10, "extramuscular_global": 2}
    >>> after = {"physician_global": 2, "patient_global": 4, "mmt": 72, "haq": 1.0,
    ...          "enzyme": 2, "extramuscular_global": 1}
    >>> score = ic.total_improvement_score(before, after)
    >>> score.total, score.category
    (67.5, 'major')
    """
    row = total_improvement_scores(
        _one_row(baseline),
        _one_row(followup),
        mmt_max=mmt_max,
        population=population,
        change=change,
        partial=partial,
    ).iloc[0]
    reasons = tuple(r for r in str(row["reason"]).split(";") if r)
    if np.isnan(row["total"]):
        raise ResponseMeasureError("total_improvement_score", reasons)
    return TotalImprovementScore(
        total=float(row["total"]),
        points=MappingProxyType({m: float(row[f"points_{m}"]) for m in MEASURES}),
        category=str(row["category"]),
        lower_bound=bool(row["lower_bound"]),
        missing=reasons,
        population=population,
        change=change,
    )


def _one_row(values: Mapping[str, Any]) -> pd.DataFrame:
    """A mapping of scalars as a one-row frame of object columns (None stays missing)."""
    if isinstance(values, pd.Series):
        values = values.to_dict()
    if not isinstance(values, Mapping):
        raise ConfigError("baseline and followup must be mappings of measure to value")
    return pd.DataFrame(
        {m: pd.Series([values.get(m)], dtype=object) for m in MEASURES if m in values}
        or {"_": pd.Series([None], dtype=object)}
    )
