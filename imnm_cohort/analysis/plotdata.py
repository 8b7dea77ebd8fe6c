"""Aggregates for the report's figures, with disclosure control built in.

Figures never show an individual patient: box plots are drawn from the 5th, 25th, 50th,
75th and 95th percentiles of groups with at least ``min_count`` patients (no outlier points,
no minimum or maximum); curves stop where fewer than ``min_count`` patients remain at risk;
numbers at risk from 1 to ``min_count - 1`` are shown as ``<min_count``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imnm_cohort.analysis.cohort import CohortAnalysis
from imnm_cohort.analysis.malignancy import time_to_cancer
from imnm_cohort.classify.rules import IMNM_GROUPS


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
        if values.size < max(k, 1):
            continue
        p = np.percentile(values, [5, 25, 50, 75, 95])
        out.append(BoxStats(g, int(values.size), *map(float, p)))
    return tuple(out)


def _number_at_risk(durations: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many durations are at least each time (one sort, one search)."""
    ordered = np.sort(durations)
    return ordered.size - np.searchsorted(ordered, times, side="left")


def _at_risk(durations: np.ndarray, years: Sequence[int], k: int) -> tuple[int | str, ...]:
    counts = _number_at_risk(durations, np.asarray(years, dtype=float))
    return tuple(f"<{k}" if 0 < c < k else int(c) for c in counts)


def _curve(
    label: str,
    time: np.ndarray,
    value: np.ndarray,
    at_risk_now: np.ndarray,
    durations: np.ndarray,
    years: Sequence[int],
    k: int,
) -> Curve:
    keep = at_risk_now >= max(k, 1)
    return Curve(
        label,
        tuple(float(t) for t in time[keep]),
        tuple(float(v) for v in value[keep]),
        _at_risk(durations, years, k),
    )


def figure_data(classified: pd.DataFrame, analysis: CohortAnalysis, min_count: int) -> FigureData:
    """Build the figures' aggregates from a classified cohort and its analysis."""
    k = min_count
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
        incidence.append(_curve(g, c.time, c.estimate, c.at_risk, durations, years, k))
    follow = classified["followup_years"].to_numpy(dtype=float)
    survival = []
    for g, s in analysis.survival.groups.items():
        if s.n == 0:
            continue
        durations = follow[label == g]
        at_risk_now = _number_at_risk(durations, s.time)
        survival.append(_curve(g, s.time, s.estimate, at_risk_now, durations, years, k))
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
