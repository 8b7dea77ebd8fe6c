"""Aggregates for the report's figures, with disclosure control built in.

Figures never show an individual patient: box plots are drawn from the 5th, 25th, 50th,
75th and 95th percentiles of groups with at least twice ``min_count`` values (no outlier
points, no minimum or maximum); curves stop where fewer than ``min_count`` patients remain
at risk; numbers at risk are published like any count (withheld when small, rounded under
the rounding policy). A group of fewer than :data:`STEPWISE_FACTOR` x ``min_count``
patients is not drawn step by step (each step would date one patient's event): its curve
steps once a year, to the estimate at each whole year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imnm_cohort.analysis.cohort import CohortAnalysis
from imnm_cohort.analysis.malignancy import time_to_cancer
from imnm_cohort.classify.rules import IMNM_GROUPS
from imnm_cohort.pipeline.disclosure import Policy

#: Groups smaller than this many times the minimum count get yearly curves.
STEPWISE_FACTOR = 4


@dataclass(frozen=True)
class BoxStats:
    """Percentiles of one group for a box plot (whiskers at the 5th and 95th)."""

    label: str
    n: int
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


def _boxes(frame: pd.DataFrame, column: str, groups: Sequence[str], k: int) -> tuple[BoxStats, ...]:
    out = []
    for g in groups:
        present = frame.loc[(frame["imnm_group"] == g).to_numpy(bool), column].dropna()
        values = present.to_numpy(dtype=float)
        if values.size < max(2 * k, 1):
            continue
        p = np.percentile(values, [5, 25, 50, 75, 95])
        out.append(BoxStats(g, int(values.size), *map(float, p)))
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


def figure_data(
    classified: pd.DataFrame, analysis: CohortAnalysis, policy: Policy | int
) -> FigureData:
    """Build the figures' aggregates from a classified cohort and its analysis."""
    policy = Policy(policy) if isinstance(policy, int) else policy
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
        incidence.append(
            _curve(g, c.time, c.estimate, c.at_risk, durations, years, policy, start=0.0)
        )
    follow = classified["followup_years"].to_numpy(dtype=float)
    survival = []
    for g, s in analysis.survival.groups.items():
        if s.n == 0:
            continue
        durations = follow[label == g]
        at_risk_now = _number_at_risk(durations, s.time)
        survival.append(
            _curve(g, s.time, s.estimate, at_risk_now, durations, years, policy, start=1.0)
        )
    return FigureData(
        onset_age=_boxes(classified, "age_at_onset_years", IMNM_GROUPS, k),
        ck_peak=_boxes(classified, "ck_peak", IMNM_GROUPS, k),
        statin_latency=_boxes(
            classified, "statin_latency_months", (*IMNM_GROUPS, "statin_toxic"), k
        ),
        incidence=tuple(incidence),
        survival=tuple(survival),
        years=years,
        min_count=k,
    )
