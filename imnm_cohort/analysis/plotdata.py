"""Aggregates for the report's figures, with disclosure control built in.

Figures never show an individual patient: box plots are drawn from the 5th, 25th, 50th,
75th and 95th percentiles of groups with at least twice ``min_count`` values (no outlier
points, no minimum or maximum); curves stop where fewer than ``min_count`` patients remain
at risk; numbers at risk are published like any count (withheld when small, rounded under
the rounding policy). A figure never shows a count that the published summary withholds:
a box's n is the summary's, and a group whose size is withheld there has no numbers at
risk. A group of fewer than :data:`STEPWISE_FACTOR` x ``min_count``
patients is not drawn step by step (each step would date one patient's event): its curve
steps once a year, to the estimate at each whole year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.cohort import CohortAnalysis
from imnm_cohort.analysis.malignancy import time_to_cancer
from imnm_cohort.classify.rules import IMNM_GROUPS
from imnm_cohort.pipeline.disclosure import WITHHELD, Policy

#: Groups smaller than this many times the minimum count get yearly curves.
STEPWISE_FACTOR = 4


@dataclass(frozen=True)
class BoxStats:
    """Percentiles of one group for a box plot (whiskers at the 5th and 95th)."""

    label: str
    n: int | str
    p5: float
    q1: float
    median: float
    q3: float
    p95: float


@dataclass(frozen=True)
class Curve:
    """A step curve for one group, with numbers at risk at whole years."""

    label: str
    time: tuple[float, ...]
    value: tuple[float, ...]
    at_risk: tuple[int | str, ...]


@dataclass(frozen=True)
class FigureData:
    """Everything the figures draw."""

    onset_age: tuple[BoxStats, ...]
    ck_peak: tuple[BoxStats, ...]
    statin_latency: tuple[BoxStats, ...]
    incidence: tuple[Curve, ...]
    survival: tuple[Curve, ...]
    years: tuple[int, ...]
    min_count: int


def _boxes(
    frame: pd.DataFrame, column: str, groups: Sequence[str], k: int, shown: dict[str, Any]
) -> tuple[BoxStats, ...]:
    out = []
    for g in groups:
        present = frame.loc[(frame["imnm_group"] == g).to_numpy(bool), column].dropna()
        values = present.to_numpy(dtype=float)
        if values.size < max(2 * k, 1):
            continue
        p = np.percentile(values, [5, 25, 50, 75, 95])
        n = shown.get(g, {}).get("n", int(values.size)) if shown else int(values.size)
        out.append(BoxStats(g, n, *map(float, p)))
    return tuple(out)


def _number_at_risk(durations: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many durations are at least each time (one sort, one search)."""
    ordered = np.sort(durations)
    return ordered.size - np.searchsorted(ordered, times, side="left")


def _at_risk(durations: np.ndarray, years: Sequence[int], policy: Policy) -> tuple[int | str, ...]:
    counts = _number_at_risk(durations, np.asarray(years, dtype=float))
    return tuple(policy.shown(int(c)) for c in counts)


def _curve(
    label: str,
    time: np.ndarray,
    value: np.ndarray,
    at_risk_now: np.ndarray,
    durations: np.ndarray,
    years: Sequence[int],
    policy: Policy,
    start: float,
) -> Curve:
    k = policy.min_count
    if policy.active and durations.size < STEPWISE_FACTOR * k:
        # Yearly steps: the estimate at each whole year while enough remain at risk.
        grid = np.asarray([y for y in years if y > 0], dtype=float)
        at = np.searchsorted(time, grid, side="right") - 1
        estimate = np.where(at >= 0, value[np.clip(at, 0, None)] if value.size else start, start)
        keep = _number_at_risk(durations, grid) >= max(k, 1)
        time, value = grid[keep], estimate[keep]
    else:
        keep = at_risk_now >= max(k, 1)
        time, value = time[keep], value[keep]
    return Curve(
        label,
        tuple(float(t) for t in time),
        tuple(float(v) for v in value),
        _at_risk(durations, years, policy),
    )


def _groups(comparisons: dict[str, Any], name: str) -> dict[str, Any]:
    groups = comparisons.get(name, {}).get("groups", {})
    return groups if isinstance(groups, dict) else {}


def _without_numbers(curve: Curve) -> Curve:
    return Curve(curve.label, curve.time, curve.value, tuple(WITHHELD for _ in curve.at_risk))


def figure_data(
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
    policy: Policy | int,
    published: dict[str, Any] | None = None,
) -> FigureData:
    """Build the figures' aggregates from a classified cohort and its analysis.

    ``published`` is the run's disclosure-controlled summary: the figures show its counts
    (and withhold what it withholds).
    """
    policy = Policy(policy) if isinstance(policy, int) else policy
    summary = published or {}
    comparisons = summary.get("comparisons", {})

    def withheld(table: dict[str, Any], g: str, count: str) -> bool:
        return isinstance(table.get("groups", {}).get(g, {}).get(count), str)

    k = policy.min_count
    horizon = analysis.malignancy.options.horizon_years
    years = tuple(range(int(np.ceil(max(horizon, 5))) + 1))
    label = classified["imnm_group"].astype(str).to_numpy()
    tte = time_to_cancer(classified, analysis.malignancy.options)
    incidence = []
    for g, result in analysis.malignancy.groups.items():
        if result.curve is None:
            continue
        member = (label == g) & tte["at_risk"].to_numpy(bool)
        durations = tte["time_years"].to_numpy()[member]
        c = result.curve
        curve = _curve(g, c.time, c.estimate, c.at_risk, durations, years, policy, start=0.0)
        if withheld(comparisons.get("malignancy", {}), g, "at_risk"):
            curve = _without_numbers(curve)
        incidence.append(curve)
    follow = classified["followup_years"].to_numpy(dtype=float)
    survival = []
    for g, s in analysis.survival.groups.items():
        if s.n == 0:
            continue
        durations = follow[label == g]
        at_risk_now = _number_at_risk(durations, s.time)
        curve = _curve(g, s.time, s.estimate, at_risk_now, durations, years, policy, start=1.0)
        if withheld(summary.get("survival", {}), g, "n"):
            curve = _without_numbers(curve)
        survival.append(curve)
    return FigureData(
        onset_age=_boxes(
            classified, "age_at_onset_years", IMNM_GROUPS, k, _groups(comparisons, "onset_age")
        ),
        ck_peak=_boxes(classified, "ck_peak", IMNM_GROUPS, k, _groups(comparisons, "ck_peak")),
        statin_latency=_boxes(
            classified,
            "statin_latency_months",
            (*IMNM_GROUPS, "statin_toxic"),
            k,
            _groups(comparisons, "statin_latency"),
        ),
        incidence=tuple(incidence),
        survival=tuple(survival),
        years=years,
        min_count=k,
    )
