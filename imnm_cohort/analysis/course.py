"""What the course analyses share: time zero, visits on the time since it, and an aggregate
series per time bin.

Time zero is the diagnosis date; where a patient's is empty it is the onset date (required
by the patient table), and the results count how many patients that concerns
(:mod:`imnm_cohort.analysis.course_time`, shared with the other analyses of the event
tables). The visits
of the course analyses are those of a patient of the groups analysed, on or after time zero
and no later than the end of observation (death, else last follow-up), in years since time
zero.

The series per time bin (:func:`binned_series`) is the aggregate view of a course: in each
bin of time since time zero, each patient's visits are first averaged (so that a patient
seen often weighs as one seen once), then the group's mean with its t interval or median
with its distribution-free interval is computed over patients. A bin where fewer than the
minimum count of patients contribute shows no value: no individual trajectory can be read
from the series. Patients and visits are counted apart in every bin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis import course_time
from imnm_cohort.disclosure.declarations import Count, Declaration
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.vocabulary import DAYS_PER_MONTH, DAYS_PER_YEAR, days_between

#: The bins of time since time zero of the series, in months (edges; each bin [a, b)).
DEFAULT_BINS_MONTHS: tuple[float, ...] = (0.0, 3.0, 6.0, 12.0, 18.0, 24.0, 36.0)

#: The statistics a series can show per bin.
STATISTICS = ("mean", "median")


def course_patients(patients: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """The patients of ``groups`` in patient order, from
    :func:`~imnm_cohort.analysis.course_time.course_patients` (the one home of time zero and
    follow-up), with ``patient_id``, ``group``, ``time_zero``, ``from_onset``, ``end`` (end
    of observation; missing without follow-up from time zero), ``died`` and
    ``follow_up_days`` (missing without follow-up).

    Raises
    ------
    ExtractError
        A column missing, or a patient_id given twice (one line, exit code 1).
    """
    course = course_time.course_patients(patients, groups)
    follow = course["followup_days"].to_numpy(dtype=float)
    t0 = course["time_zero"].to_numpy(dtype="datetime64[ns]")
    end = t0 + pd.to_timedelta(np.nan_to_num(follow), unit="D").to_numpy()
    return pd.DataFrame(
        {
            "patient_id": pd.array(course.index.to_numpy(), dtype="string"),
            "group": pd.array(course["group"].to_numpy(), dtype="string"),
            "time_zero": t0,
            "from_onset": (course["time_zero_from"] == "onset").to_numpy(dtype=bool),
            "end": np.where(np.isfinite(follow), end, np.datetime64("NaT")),
            "died": course["died"].to_numpy(dtype=bool),
            "follow_up_days": follow,
        }
    )


def course_visits(
    people: pd.DataFrame,
    visits: pd.DataFrame,
    columns: Sequence[str],
    earliest_days: float = 0.0,
) -> pd.DataFrame:
    """The visits of ``people`` (from :func:`course_patients`) from ``earliest_days``
    (0: time zero) to the end of observation, with ``group``, ``days`` and ``years`` since
    time zero and ``columns`` of the visit, sorted by patient, date and ``columns``.

    Raises
    ------
    ExtractError
        The visits table lacks a column read (one line, exit code 1).
    """
    course_time.require_columns(visits, ["patient_id", "visit_date", *columns], "visits")
    # Each visit's patient by position in ``people`` (sorted by patient_id, unique): no
    # merge on text keys, and the patient's position orders as its id does.
    ids = visits["patient_id"]
    if not (ids.dtype == object or isinstance(ids.dtype, pd.StringDtype)):
        ids = ids.astype(str)
    position = pd.Index(people["patient_id"].to_numpy(dtype=object)).get_indexer(ids)
    rows = np.flatnonzero(position >= 0)
    patient = position[rows]
    date = visits["visit_date"].to_numpy(dtype="datetime64[ns]")[rows]
    days = days_between(
        pd.Series(date), pd.Series(people["time_zero"].to_numpy(dtype="datetime64[ns]")[patient])
    ).to_numpy(dtype=float)
    end = people["end"].to_numpy(dtype="datetime64[ns]")[patient]
    kept = np.flatnonzero((days >= earliest_days) & (date <= end))  # NaN, NaT: False
    rows, patient, days = rows[kept], patient[kept], days[kept]
    # By patient, days, then the columns (missing last), as a stable sort: rows tied on
    # all of them keep the order of ``visits``.
    rank = np.empty(len(people), dtype=np.int64)  # the patient's place in id order
    rank[np.argsort(people["patient_id"].to_numpy(dtype=object), kind="stable")] = np.arange(
        len(people)
    )
    keys = [rank[patient], days, *(_sort_key(visits[c].iloc[rows]) for c in columns)]
    order = np.lexsort(keys[::-1])
    rows, patient, days = rows[order], patient[order], days[order]
    out = {
        "patient_id": people["patient_id"].array.take(patient),
        "visit_date": visits["visit_date"].array.take(rows),
        **{c: visits[c].array.take(rows) for c in columns},
        "group": people["group"].array.take(patient),
        "days": days,
        "years": days / DAYS_PER_YEAR,
    }
    return pd.DataFrame(out)


def _sort_key(values: pd.Series) -> np.ndarray:
    """A column as numbers that sort as ``sort_values`` sorts it, missing values last."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float)  # numpy sorts NaN last
    codes, _ = pd.factorize(values, sort=True)
    return np.where(codes < 0, np.iinfo(np.int64).max, codes)


@dataclass(frozen=True)
class Bin:
    """One group's value in one bin of time since time zero.

    Attributes
    ----------
    patients : int
        Patients with a value in the bin.
    visits : int
        Visits with a value in the bin (rows; never a count of patients).
    estimate : float or None
        The mean or median over patients; None when withheld (fewer than the minimum count
        of patients) or without patients.
    ci : tuple of float, or None
    withheld : bool
        Fewer than the minimum count of patients (but some) contribute.
    """

    patients: int
    visits: int
    estimate: float | None
    ci: tuple[float, float] | None
    withheld: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "patients": self.patients,
            "visits": self.visits,
            "estimate": self.estimate,
            "ci": list(self.ci) if self.ci else None,
            "withheld": self.withheld,
        }


@dataclass(frozen=True)
class BinnedSeries:
    """An aggregate series of a measure over time since time zero, by group.

    Attributes
    ----------
    measure : str
    statistic : str
        ``mean`` (t interval) or ``median`` (distribution-free interval).
    bins_months : tuple of float
        The bins' edges; bin *i* is [edge *i*, edge *i + 1*).
    groups : Mapping[str, tuple of Bin]
        Each group's bins, in order.
    min_count : int
        The fewest patients a bin's value is shown for.
    alpha : float
    """

    measure: str
    statistic: str
    bins_months: tuple[float, ...]
    groups: Mapping[str, tuple[Bin, ...]]
    min_count: int
    alpha: float

    @property
    def labels(self) -> tuple[str, ...]:
        """The bins' names, such as ``0-3`` (months)."""
        e = self.bins_months
        return tuple(f"{_num(a)}-{_num(b)}" for a, b in pairwise(e))

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (``$defs`` of the summary's root)."""
        one_bin = {
            "type": "object",
            "properties": {
                "patients": {"$ref": "#/$defs/count"},
                "visits": {"$ref": "#/$defs/count"},
                "estimate": {"$ref": "#/$defs/number"},
                "ci": {"$ref": "#/$defs/interval"},
                "withheld": {"type": "boolean"},
            },
        }
        return {
            "type": "object",
            "description": (
                "Group means or medians per bin of months since time zero, over patients; "
                "no value where fewer than min_count patients contribute."
            ),
            "required": ["measure", "statistic", "bins_months", "groups"],
            "properties": {
                "measure": {"type": "string"},
                "statistic": {"enum": list(STATISTICS)},
                "bins_months": {"type": "array", "items": {"type": "string"}},
                "min_count": {"type": "integer"},
                "groups": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "additionalProperties": one_bin},
                },
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: each bin's patients (its value and interval
        describe them) and visits (rows); ``min_count`` is a setting."""
        counts = []
        for g in self.groups:
            for label in self.labels:
                at = ("groups", g, label)
                counts.append(Count((*at, "patients"), describes=((*at, "estimate"), (*at, "ci"))))
                counts.append(Count((*at, "visits")))
        return Declaration(counts=tuple(counts), cleared=(("min_count",),))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON: per group, per bin (no identifier, no date)."""
        return {
            "measure": self.measure,
            "statistic": self.statistic,
            "bins_months": list(self.labels),
            "min_count": self.min_count,
            "groups": {
                g: {label: b.to_dict() for label, b in zip(self.labels, bins, strict=True)}
                for g, bins in self.groups.items()
            },
        }


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def binned_series(
    data: pd.DataFrame,
    value: str,
    *,
    groups: Sequence[str],
    bins_months: Sequence[float] = DEFAULT_BINS_MONTHS,
    statistic: str = "mean",
    min_count: int = DEFAULT_MIN_COUNT,
    alpha: float = 0.05,
    measure: str | None = None,
) -> BinnedSeries:
    """Group means or medians with their intervals per bin of time since time zero.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per visit with ``patient_id``, ``group``, ``days`` (since time zero) and
        ``value`` (as :func:`course_visits` gives); rows without a value are left out.
    value : str
        The column summarised.
    groups : sequence of str
    bins_months : sequence of float
        Increasing edges, in months (30.4375 days); a visit at the last edge or later is in
        no bin.
    statistic : str
        ``mean``: the mean of the patients' values with a t interval; ``median``: their
        median with the distribution-free interval from the order statistics (ranks from
        the binomial(n, 1/2) quantiles, Conover 1999, section 3.2).
    min_count : int
        A bin's value is shown only where at least this many patients contribute
        (``DEFAULT_MIN_COUNT`` of the disclosure policy by default; 0 or 1 shows every
        bin with a patient).
    alpha : float
    measure : str, optional
        The name of what is summarised (default ``value``).

    Returns
    -------
    BinnedSeries
        Each patient's visits in a bin are first averaged: the estimate is over patients.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}")
    edges = np.asarray(bins_months, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any():
        raise ValueError("bins_months must be two or more increasing edges")
    months = data["days"].to_numpy(dtype=float) / DAYS_PER_MONTH
    values = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=float)
    which = np.searchsorted(edges, months, side="right") - 1
    keep = np.isfinite(values) & (which >= 0) & (which < len(edges) - 1)
    rows = pd.DataFrame(
        {
            "group": data["group"].astype("string").to_numpy()[keep],
            "patient_id": data["patient_id"].astype("string").to_numpy()[keep],
            "bin": which[keep],
            "value": values[keep],
        }
    )
    per_patient = (
        rows.groupby(["group", "bin", "patient_id"], sort=True)["value"]
        .agg(["mean", "size"])
        .reset_index()
    )
    out: dict[str, tuple[Bin, ...]] = {}
    for g in groups:
        mine = per_patient[per_patient["group"] == g]
        by_bin = dict(list(mine.groupby("bin", sort=True)))
        bins = []
        for i in range(len(edges) - 1):
            part = by_bin.get(i)
            if part is None:
                bins.append(Bin(0, 0, None, None, False))
                continue
            patients, visits = len(part), int(part["size"].sum())
            if patients < max(min_count, 1):
                bins.append(Bin(patients, visits, None, None, True))
                continue
            estimate, ci = _summary(np.sort(part["mean"].to_numpy(dtype=float)), statistic, alpha)
            bins.append(Bin(patients, visits, estimate, ci, False))
        out[g] = tuple(bins)
    return BinnedSeries(
        measure or value, statistic, tuple(float(e) for e in edges), MappingProxyType(out),
        min_count, alpha,
    )  # fmt: skip


def _summary(
    x: np.ndarray, statistic: str, alpha: float
) -> tuple[float, tuple[float, float] | None]:
    """The mean (t interval) or median (order-statistic interval) of sorted ``x``."""
    from scipy import stats

    n = len(x)
    if statistic == "mean":
        mean = float(x.mean())
        if n < 2:
            return mean, None
        half = float(stats.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
        return mean, (mean - half, mean + half)
    median = float(np.median(x))
    # Ranks l and n + 1 - l, l the smallest k with P(Bin(n, 1/2) <= k) >= alpha / 2, so
    # that P(B <= l - 1) < alpha / 2 and P(x_(l) <= median <= x_(n+1-l)) >= 1 - alpha.
    lower_rank = int(stats.binom.ppf(alpha / 2, n, 0.5))
    if lower_rank < 1:
        return median, None
    return median, (float(x[lower_rank - 1]), float(x[n - lower_rank]))
