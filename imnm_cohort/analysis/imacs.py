"""The IMACS 2004 definition of improvement and deterioration as defined for ProDERM.

Both read the six core set measures and their percent change between two visits as
:mod:`imnm_cohort.analysis.response` defines them (one home for the scales, directions and
conventions); here the default convention is ``change="baseline"``, every measure relative
to its baseline value.

References
----------
Rider LG, Giannini EH, Brunner HI, et al. International consensus on preliminary definitions
of improvement in adult and juvenile myositis. Arthritis Rheum 2004;50:2281-90.

Aggarwal R, Charles-Schoeman C, Schessl J, et al. Trial of intravenous immune globulin in
dermatomyositis (ProDERM). N Engl J Med 2022;387:1264-78.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.response import (
    MEASURES,
    _check_options,
    _frames,
    _measures,
    _one_row,
    _reasons,
    _values,
)
from imnm_cohort.errors import ResponseMeasureError

#: IMACS 2004: improved by at least this percentage; worse by at least that.
IMACS_IMPROVED, IMACS_WORSE = 20.0, 25.0


@dataclass(frozen=True)
class ImacsImprovement:
    """The IMACS 2004 definition of improvement for one follow-up visit.

    Attributes
    ----------
    improved : bool
        At least 3 measures improved by >= 20%, at most 2 worse by >= 25%, MMT not worse.
    improved_measures, worse_measures : tuple of str
        The measures improved by >= 20% and worse by >= 25%.
    change : str
        The percent-change convention used.
    percent_change : Mapping[str, float]
        Read-only; each measure's percent improvement (negative = worse).
    """

    improved: bool
    improved_measures: tuple[str, ...]
    worse_measures: tuple[str, ...]
    change: str = "baseline"
    percent_change: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "improved": self.improved,
            "improved_measures": list(self.improved_measures),
            "worse_measures": list(self.worse_measures),
            "change": self.change,
            "percent_change": dict(self.percent_change),
        }


def _not_computed(
    n: int, problems: list[tuple[str, np.ndarray]], measures: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a problem in any of ``measures``, and the reasons (of those measures only)."""
    kept = [(c, m) for c, m in problems if any(f"_{x}_" in f"_{c}" for x in measures)]
    blocked = np.zeros(n, dtype=bool)
    for _, mask in kept:
        blocked |= mask
    return blocked, _reasons(n, kept)


def _nullable(values: np.ndarray, blocked: np.ndarray, dtype: str) -> Any:
    """A nullable pandas array of ``values``, missing where ``blocked``."""
    series: Any = pd.Series(values)
    return series.astype(dtype).mask(blocked).array


def imacs_improvements(
    baseline: pd.DataFrame | Mapping[str, Any],
    followup: pd.DataFrame | Mapping[str, Any],
    *,
    mmt_max: float | pd.Series = 80,
    change: str = "baseline",
) -> pd.DataFrame:
    """The IMACS 2004 definition of improvement for many follow-up visits at once.

    Improved: at least 3 of the 6 core set measures improved by >= 20%, no more than 2
    worse by >= 25%, and the MMT not among the worse. Percent change as in
    :func:`total_improvement_scores`; the default here is ``"baseline"`` (every measure
    relative to its baseline value), the project's reading of "percent change" in the 2004
    definition.

    Parameters
    ----------
    baseline, followup, mmt_max
        As for :func:`total_improvement_scores`.
    change : {"baseline", "default"}

    Returns
    -------
    DataFrame
        On the baseline's row labels: ``improved`` (nullable boolean, missing when a measure
        is missing or out of range at either visit), ``n_improved``, ``n_worse`` (nullable
        integers), ``mmt_worse`` (nullable boolean) and ``reason`` (as for
        :func:`total_improvement_scores`).

    References
    ----------
    Rider LG et al. Arthritis Rheum 2004;50:2281-90.
    """
    _check_options(None, change)
    index, improvement, _, problems = _measures(baseline, followup, mmt_max, change)
    n = len(index)
    blocked, reason = _not_computed(n, problems, MEASURES)
    pct = np.column_stack([improvement[m] for m in MEASURES]) if n else np.empty((0, 6))
    with np.errstate(invalid="ignore"):
        n_improved = (pct >= IMACS_IMPROVED).sum(axis=1)
        worse = pct <= -IMACS_WORSE
    n_worse = worse.sum(axis=1)
    mmt_worse = worse[:, MEASURES.index("mmt")]
    improved = (n_improved >= 3) & (n_worse <= 2) & ~mmt_worse
    return pd.DataFrame(
        {
            "improved": _nullable(improved, blocked, "boolean"),
            "n_improved": _nullable(n_improved, blocked, "Int64"),
            "n_worse": _nullable(n_worse, blocked, "Int64"),
            "mmt_worse": _nullable(mmt_worse, blocked, "boolean"),
            "reason": reason,
        },
        index=index,
    )


def imacs_improvement(
    baseline: Mapping[str, Any],
    followup: Mapping[str, Any],
    *,
    mmt_max: float = 80,
    change: str = "baseline",
) -> ImacsImprovement:
    """The IMACS 2004 definition of improvement for one follow-up visit.

    The one-row case of :func:`imacs_improvements`.

    Returns
    -------
    ImacsImprovement

    Raises
    ------
    ResponseMeasureError
        A measure missing or out of range at either visit.
    """
    _check_options(None, change)
    _, improvement, _, problems = _measures(_one_row(baseline), _one_row(followup), mmt_max, change)
    blocked, reason = _not_computed(1, problems, MEASURES)
    if blocked[0]:
        raise ResponseMeasureError("imacs_improvement", tuple(str(reason[0]).split(";")))
    pct = {m: float(improvement[m][0]) for m in MEASURES}
    better = tuple(m for m in MEASURES if pct[m] >= IMACS_IMPROVED)
    worse = tuple(m for m in MEASURES if pct[m] <= -IMACS_WORSE)
    row = imacs_improvements(_one_row(baseline), _one_row(followup), mmt_max=mmt_max, change=change)
    return ImacsImprovement(
        improved=bool(row["improved"].iloc[0]),
        improved_measures=better,
        worse_measures=worse,
        change=change,
        percent_change=MappingProxyType(pct),
    )


#: The measures the ProDERM definition of deterioration reads (all but the enzyme).
DETERIORATION_MEASURES: tuple[str, ...] = tuple(m for m in MEASURES if m != "enzyme")


def deteriorations(
    baseline: pd.DataFrame | Mapping[str, Any],
    followup: pd.DataFrame | Mapping[str, Any],
    *,
    mmt_max: float | pd.Series = 80,
    change: str = "baseline",
) -> pd.DataFrame:
    """Deterioration at one visit against baseline, by the ProDERM definition.

    Worse: physician global worse by >= 2 cm and MMT worse by >= 20%; or extramuscular
    global worse by >= 2 cm; or 3 of the 5 non-enzyme measures worse by >= 30%. The cm
    rules read the raw VAS; the percent rules follow ``change`` (default ``"baseline"``).
    Confirmed deterioration is this on two consecutive visits
    (:func:`confirmed_deterioration`).

    Returns
    -------
    DataFrame
        On the baseline's row labels: ``deteriorated`` (nullable boolean, missing when a
        non-enzyme measure is missing or out of range at either visit) and ``reason``.

    References
    ----------
    Aggarwal R et al. N Engl J Med 2022;387:1264-78 (ProDERM).
    """
    _check_options(None, change)
    b, f = _frames(baseline, followup)
    index, improvement, _, problems = _measures(b, f, mmt_max, change)
    n = len(index)
    blocked, reason = _not_computed(n, problems, DETERIORATION_MEASURES)

    def cm_worse(measure: str) -> np.ndarray:
        rise = np.round(_values(f, measure, "followup") - _values(b, measure, "baseline"), 9)
        with np.errstate(invalid="ignore"):
            return np.asarray(rise >= 2.0)

    with np.errstate(invalid="ignore"):
        worse30 = sum((improvement[m] <= -30.0).astype(int) for m in DETERIORATION_MEASURES)
        worse = (cm_worse("physician_global") & (improvement["mmt"] <= -20.0)) | cm_worse(
            "extramuscular_global"
        )
    worse = np.asarray(worse | (np.asarray(worse30) >= 3))
    return pd.DataFrame(
        {
            "deteriorated": _nullable(worse, blocked, "boolean"),
            "reason": reason,
        },
        index=index,
    )


def confirmed_deterioration(
    baseline: pd.DataFrame | Mapping[str, Any],
    first: pd.DataFrame | Mapping[str, Any],
    second: pd.DataFrame | Mapping[str, Any],
    *,
    mmt_max: float | pd.Series = 80,
    change: str = "baseline",
) -> pd.Series:
    """Confirmed deterioration (ProDERM): deteriorated at two consecutive visits.

    Parameters
    ----------
    baseline, first, second : DataFrame or mapping of columns
        One row per patient: the baseline and two consecutive follow-up visits, each judged
        against the baseline by :func:`deteriorations`.

    Returns
    -------
    Series
        Nullable boolean on the baseline's row labels, by Kleene logic: False when either
        visit is not deteriorated, missing when neither is False and one is not known.

    References
    ----------
    Aggarwal R et al. N Engl J Med 2022;387:1264-78 (ProDERM).
    """
    one = deteriorations(baseline, first, mmt_max=mmt_max, change=change)["deteriorated"]
    two = deteriorations(baseline, second, mmt_max=mmt_max, change=change)["deteriorated"]
    return (one & two).rename("confirmed_deterioration")
