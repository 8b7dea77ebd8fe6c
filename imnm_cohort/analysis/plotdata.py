"""Aggregates for the report's figures, with disclosure control built in.

A figure never shows more than the published summary, and never one patient. With the
policy's minimum count k (``docs/reports.md``, "Figures and disclosure control"):

Curves (overall survival; cumulative incidence of cancer, death competing)
    * A group's curve is drawn only when the summary shows its size, its events (deaths;
      cancers and competing deaths) and its estimate at the horizon. Otherwise the curve is
      left out and :attr:`Curve.withheld` says why (the legend prints it). Under the
      rounding policy no curve is drawn: the summary withholds every estimate that would
      give an exact count back, and a curve is a sequence of such estimates.
    * A drawn curve is read on a grid of whole years (a group of fewer than
      :data:`STEPWISE_FACTOR` x k patients) or of months, and stops at the last grid time
      with at least k patients at risk.
    * It drops only at a grid time where at least k events have happened since its
      previous drop; a grid time with fewer holds the curve, and those events join the next
      drop. The events between any two values a reader knows (two drops, a drop and the
      estimate at the horizon the summary publishes, a count of cancers up to a band edge
      of the time-since-onset table, the published total) are never 1 to k - 1: a drop that
      would leave fewer than k events before the next such value is not made, and the
      summary's estimate at the horizon is drawn only when none or at least k events
      separate it from the curve's previous value.

Box plots
    Drawn for groups with at least 2k values whose size, median and quartiles the summary
    shows, from those quartiles. A whisker reaches the 5th (95th) percentile only when at
    least k values lie below (above) it; otherwise it is left out, since its end would be
    fixed by the extreme values of fewer than k patients. No individual points.

Numbers at risk are published like any count (withheld when small, rounded under the
rounding policy), and not at all for a group whose size the summary withholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.cohort import CohortAnalysis
from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.course_plotdata import course_figures
from imnm_cohort.analysis.malignancy import group_labels, time_to_cancer
from imnm_cohort.analysis.time_since_onset import FOLLOW_UP_BANDS, FOLLOW_UP_BREAKS
from imnm_cohort.disclosure.figures import BoxStats, Curve, FigureData
from imnm_cohort.disclosure.suppression import WITHHELD, Policy
from imnm_cohort.vocabulary import IMNM_GROUPS

#: Groups smaller than this many times the minimum count get yearly curves (else monthly).
STEPWISE_FACTOR = 4
#: Grid times per year of a curve drawn under disclosure control: small groups, others.
YEARLY, MONTHLY = 1, 12


# --------------------------------------------------------------------------- box plots


def _boxes(
    frame: pd.DataFrame, column: str, groups: Sequence[str], policy: Policy, shown: dict[str, Any]
) -> tuple[BoxStats, ...]:
    k = policy.min_count
    out = []
    for g in groups:
        present = frame.loc[(frame["imnm_group"] == g).to_numpy(bool), column].dropna()
        values = np.sort(present.to_numpy(dtype=float))
        if values.size < max(2 * k, 1):
            continue
        q1, median, q3 = (float(v) for v in np.percentile(values, [25, 50, 75]))
        n: int | str = policy.shown(int(values.size)) if policy.active else int(values.size)
        published = shown.get(g) if shown else None
        if isinstance(published, dict):
            # The summary's own numbers, and nothing it withholds.
            if any(isinstance(published.get(key), str) for key in ("n", "q1", "median", "q3")):
                continue
            n = published.get("n", n)
            # The box is the summary's quartiles (the same percentiles where it has them).
            q1, median, q3 = (
                float(v) if isinstance(v := published.get(key), int | float) else own
                for key, own in zip(("q1", "median", "q3"), (q1, median, q3), strict=True)
            )
        p5, p95 = (float(v) for v in np.percentile(values, [5, 95]))
        below = int(np.searchsorted(values, p5, side="left"))
        above = int(values.size - np.searchsorted(values, p95, side="right"))
        out.append(
            BoxStats(
                g,
                n,
                p5 if below >= k else None,
                q1,
                median,
                q3,
                p95 if above >= k else None,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- curves


def _number_at_risk(durations: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many durations are at least each time (one sort, one search)."""
    ordered = np.sort(durations)
    return ordered.size - np.searchsorted(ordered, times, side="left")


def _at_risk(durations: np.ndarray, years: Sequence[int], policy: Policy) -> tuple[int | str, ...]:
    counts = _number_at_risk(durations, np.asarray(years, dtype=float))
    return tuple(policy.shown(int(c)) for c in counts)


def _value_at(time: np.ndarray, value: np.ndarray, at: np.ndarray, start: float) -> np.ndarray:
    """A right-continuous step function's value at ``at`` (``start`` before its first time)."""
    idx = np.searchsorted(time, at, side="right") - 1
    if not value.size:
        return np.full(np.shape(at), start, dtype=float)
    return np.where(idx >= 0, value[np.clip(idx, 0, None)], start)


def step_times(
    events: np.ndarray, grid: np.ndarray, checkpoints: Sequence[float], min_count: int
) -> np.ndarray:
    """The grid times at which a curve may drop without showing fewer than k events.

    Reading the grid in order, a drop is made at the first grid time where at least
    ``min_count`` (k) events have happened since the previous drop (or since the start,
    events at time 0 included). ``checkpoints`` are times where the number of events so far
    is known from elsewhere (the published estimate at the horizon, a published count up to
    a band edge); the end of follow-up, where the published total is known, is always one.
    Between consecutive checkpoints the last drop is not made when fewer than k events
    would follow it up to the checkpoint, so that every count between two known values is
    0 or at least k (a sum of such counts is too, whichever of them a reader combines).

    Parameters
    ----------
    events : numpy.ndarray
        The event times (years; any order).
    grid : numpy.ndarray
        Increasing times at which the curve may drop.
    checkpoints : sequence of float
        Times where the number of events so far is known.
    min_count : int
        k, the policy's minimum count (at least 1).

    Returns
    -------
    numpy.ndarray
        The drop times, a subset of ``grid``.
    """
    ordered = np.sort(np.asarray(events, dtype=float))

    def so_far(t: float) -> int:
        return 0 if t == -np.inf else int(np.searchsorted(ordered, t, side="right"))

    fixed = sorted({float(c) for c in checkpoints if c >= 0} | {np.inf})
    drops: list[float] = []
    start = -np.inf
    for stop in fixed:
        last, chosen = start, []
        for g in grid[(grid > start) & (grid < stop)]:
            if so_far(g) - so_far(last) >= min_count:
                chosen.append(float(g))
                last = g
        if chosen and 0 < so_far(stop) - so_far(last) < min_count:
            chosen.pop()  # its events join the rest: that piece then holds at least k
        drops += chosen
        start = stop
    return np.asarray(drops, dtype=float)


@dataclass(frozen=True)
class _Estimate:
    """One group's estimate with what a curve of it needs."""

    label: str
    time: np.ndarray
    value: np.ndarray
    durations: np.ndarray  # every patient's time at risk
    events: np.ndarray  # times of the events the curve counts
    start: float


def _disclosed_curve(
    e: _Estimate,
    policy: Policy,
    years: Sequence[int],
    checkpoints: Sequence[float],
    shown_at: Sequence[float],
) -> Curve:
    """The curve of a group whose counts the summary shows (see the module's rules)."""
    k = max(policy.min_count, 1)
    at_risk = _at_risk(e.durations, years, policy)
    if not policy.active:
        keep = _number_at_risk(e.durations, e.time) >= k
        time, value = e.time[keep], e.value[keep]
        return Curve(e.label, tuple(map(float, time)), tuple(map(float, value)), at_risk)
    per_year = YEARLY if e.durations.size < STEPWISE_FACTOR * policy.min_count else MONTHLY
    end = float(e.durations.max()) if e.durations.size else 0.0
    grid = np.arange(1, int(np.floor(end * per_year + 1e-9)) + 1) / per_year
    grid = np.union1d(grid, [t for t in shown_at if 0 < t <= end])
    grid = grid[_number_at_risk(e.durations, grid) >= k]
    if not grid.size:
        first = "year" if per_year == YEARLY else "month"
        return _withheld_curve(
            e.label, f"not shown: fewer than {k} patients at risk at 1 {first}", at_risk
        )
    drops = step_times(e.events, grid, checkpoints, k)
    revealed = _revealed(np.sort(e.events), drops, [t for t in shown_at if t in grid], k)
    # Each grid time shows the estimate at the last revealed time at or before it.
    idx = np.searchsorted(revealed, grid, side="right") - 1
    at = np.where(idx >= 0, revealed[np.clip(idx, 0, None)] if revealed.size else 0.0, -1.0)
    value = np.where(at >= 0, _value_at(e.time, e.value, at, e.start), e.start)
    # The same steps with fewer points: where the value changes, and the curve's end.
    keep = np.diff(value, prepend=e.start) != 0
    keep[-1:] = True
    time, value = grid[keep], value[keep]
    return Curve(e.label, tuple(map(float, time)), tuple(map(float, value)), at_risk)


def _revealed(
    events: np.ndarray, drops: np.ndarray, published: Sequence[float], k: int
) -> np.ndarray:
    """The times whose estimate a curve shows: its drops, and the times where the summary
    publishes the estimate (the horizon) unless fewer than k events separate one from the
    previous time shown (the summary's value is then left to the summary)."""
    shown: list[float] = []
    for t in sorted({*map(float, drops), *map(float, published)}):
        since = np.searchsorted(events, t, side="right") - (
            np.searchsorted(events, shown[-1], side="right") if shown else 0
        )
        if t in drops or since == 0 or since >= k:
            shown.append(t)
    return np.asarray(shown, dtype=float)


def _withheld_curve(label: str, reason: str, at_risk: tuple[int | str, ...]) -> Curve:
    return Curve(label, (), (), at_risk, withheld=reason)


def _reason(
    published: dict[str, Any], needs: dict[str, tuple[str, str]], policy: Policy
) -> str | None:
    """Why a group's curve is not drawn, from what the summary withholds (None: drawn).

    ``needs`` maps each value the curve needs to its name when small and when withheld,
    the events first: a small count is the reason before the values withheld with it.
    """
    if policy.rounding:
        return "not shown: estimates are withheld under rounding"
    for key, (small, _) in needs.items():
        if published.get(key) == policy.marker:
            return f"not shown: fewer than {policy.min_count} {small}"
    for key, (_, withheld) in needs.items():
        if isinstance(published.get(key), str):
            return f"not shown: {withheld} withheld"
    return None


def _raw(counts: dict[str, int], policy: Policy) -> dict[str, Any]:
    """Counts as the policy alone would show them (no published summary to follow)."""
    return {key: policy.shown(v) if policy.active else v for key, v in counts.items()}


def _known_band_edges(published: dict[str, Any] | None, total: Any) -> list[float]:
    """Band edges up to which the published bands give the number of cancers."""
    if published is None:
        return []
    by = published.get("by_follow_up", {})
    counts = [by.get(b, {}).get("events") for b in FOLLOW_UP_BANDS]
    shown = [isinstance(c, int) and not isinstance(c, bool) for c in counts]
    edges = []
    for i, edge in enumerate(FOLLOW_UP_BREAKS[1:], start=1):
        before, after = all(shown[:i]), all(shown[i:]) and isinstance(total, int)
        if before or after:
            edges.append(float(edge))
    return edges


def _group(table: dict[str, Any], g: str) -> dict[str, Any] | None:
    group = table.get("groups", {}).get(g) if isinstance(table, dict) else None
    return group if isinstance(group, dict) else None


def _groups(comparisons: dict[str, Any], name: str) -> dict[str, Any]:
    groups = comparisons.get(name, {}).get("groups", {})
    return groups if isinstance(groups, dict) else {}


def _without_numbers(curve: Curve) -> Curve:
    return Curve(
        curve.label, curve.time, curve.value, tuple(WITHHELD for _ in curve.at_risk), curve.withheld
    )


def figure_data(
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
    policy: Policy | int,
    published: dict[str, Any] | None = None,
) -> FigureData:
    """Build the figures' aggregates from a classified cohort and its analysis.

    Parameters
    ----------
    classified : pandas.DataFrame
        The classified cohort the analysis ran on.
    analysis : CohortAnalysis
    policy : Policy or int
        The run's disclosure policy (an int is a minimum count with no rounding).
    published : dict, optional
        The run's disclosure-controlled summary. The figures show its counts and withhold
        what it withholds (see the module's rules); without it, the policy alone decides
        which counts are small, and every checkpoint counts as known.

    Returns
    -------
    FigureData
    """
    policy = Policy(policy) if isinstance(policy, int) else policy
    summary = published or {}
    comparisons = summary.get("comparisons", {})
    horizon = float(analysis.malignancy.options.horizon_years)
    years = tuple(range(int(np.ceil(max(horizon, 5))) + 1))
    label = group_labels(classified)

    tte = time_to_cancer(classified, analysis.malignancy.options)
    cancer_time = tte["time_years"].to_numpy()
    cancer_event = tte["event"].to_numpy()
    bands = summary.get("time_since_onset") or {}
    incidence = []
    for g, result in analysis.malignancy.groups.items():
        if result.curve is None:
            continue
        member = (label == g) & tte["at_risk"].to_numpy(bool)
        c = result.curve
        estimate = _Estimate(
            g,
            c.time,
            c.estimate,
            cancer_time[member],
            cancer_time[member & (cancer_event == EVENT)],
            0.0,
        )
        shown = _group(comparisons.get("malignancy", {}), g)
        if published is None:
            counts = {"n": result.n, "at_risk": result.at_risk, "events": result.events}
            shown = _raw({**counts, "deaths": result.deaths}, policy)
            shown["cumulative_incidence"] = result.cumulative_incidence
            edges: list[float] = list(map(float, FOLLOW_UP_BREAKS[1:]))
        else:
            edges = _known_band_edges(_group(bands, g), (shown or {}).get("events"))
        shown = shown or {}
        needs = {
            "events": ("cancers", "cancers"),
            "deaths": ("competing deaths", "competing deaths"),
            "at_risk": ("patients at risk", "number at risk"),
            "n": ("patients", "group size"),
            "cumulative_incidence": ("", "estimate"),
        }
        reason = _reason(shown, needs, policy)
        at_horizon = [horizon] if isinstance(shown.get("cumulative_incidence"), float) else []
        if reason is None:
            curve = _disclosed_curve(
                estimate,
                policy,
                years,
                [horizon, *map(float, FOLLOW_UP_BREAKS[1:])],
                [*at_horizon, *edges],
            )
        else:
            curve = _withheld_curve(g, reason, _at_risk(estimate.durations, years, policy))
        if isinstance(shown.get("at_risk"), str) or isinstance(shown.get("n"), str):
            curve = _without_numbers(curve)
        incidence.append(curve)

    follow = classified["followup_years"].to_numpy(dtype=float)
    died = classified["death_date"].notna().to_numpy(bool)
    survival = []
    for g, s in analysis.survival.groups.items():
        if s.n == 0:
            continue
        member = label == g
        estimate = _Estimate(g, s.time, s.estimate, follow[member], follow[member & died], 1.0)
        if published is None:
            shown = _raw({"n": s.n, "deaths": s.deaths}, policy)
            shown["survival_at_horizon"] = s.survival_at_horizon
        else:
            shown = _group(summary.get("survival", {}), g) or {}
        needs = {
            "deaths": ("deaths", "deaths"),
            "n": ("patients", "group size"),
            "survival_at_horizon": ("", "estimate"),
        }
        reason = _reason(shown, needs, policy)
        at_horizon = [horizon] if isinstance(shown.get("survival_at_horizon"), float) else []
        if reason is None:
            curve = _disclosed_curve(estimate, policy, years, [horizon], at_horizon)
        else:
            curve = _withheld_curve(g, reason, _at_risk(estimate.durations, years, policy))
        if isinstance(shown.get("n"), str):
            curve = _without_numbers(curve)
        survival.append(curve)

    def boxes(column: str, name: str, groups: Sequence[str]) -> tuple[BoxStats, ...]:
        return _boxes(classified, column, groups, policy, _groups(comparisons, name))

    return FigureData(
        onset_age=boxes("age_at_onset_years", "onset_age", IMNM_GROUPS),
        ck_peak=boxes("ck_peak", "ck_peak", IMNM_GROUPS),
        statin_latency=boxes(
            "statin_latency_months", "statin_latency", (*IMNM_GROUPS, "statin_toxic")
        ),
        incidence=tuple(incidence),
        survival=tuple(survival),
        years=years,
        min_count=policy.min_count,
        course=course_figures(summary, policy.min_count),
    )
