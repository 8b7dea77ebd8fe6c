"""Treatments over the course of the disease (contract section 6, the ``treatments`` table).

From one row per course of one drug, per IMNM group:

- the number of distinct non-glucocorticoid immunotherapies each patient received, and the
  share who needed two or more;
- the founding document's claim that statin-associated anti-HMGCR IMNM "requires
  immunosuppressive treatment with at least two medications": statin-exposed anti-HMGCR
  patients against the patients of the other groups, by Fisher's exact test (two-sided, as
  R ``fisher.test``; odds ratio the conditional maximum likelihood estimate with its exact
  interval);
- glucocorticoid monotherapy (a glucocorticoid and no course of any other class);
- the time from time zero to second-line therapy with death as a competing event
  (Aalen-Johansen and Gray's test, :mod:`imnm_cohort.analysis.competing`);
- the use of IVIG and rituximab;
- the share of patients on each drug class over time (figure data), only in time bins where
  at least the minimum count of patients is under observation.

Conventions (each a field of :class:`TreatmentOptions`, recorded in the result):

- *Immunotherapies* are the drugs of the classes ``immunosuppressant``, ``ivig`` and
  ``biologic``; plasma exchange (a procedure) and ``other`` are not counted unless asked.
  A drug counts once however many courses of it a patient had.
- *Second-line therapy* is, by default, the start of the patient's second distinct
  immunotherapy (the founding claim's "second medication"); ``second_line_drugs`` names
  drugs instead (for example ``("ivig", "rituximab")``), the first start of any of them.
- A course started before time zero counts at time zero.

Counts are of patients; courses are never presented as patients.

References
----------
The Myositis Association. Immune-mediated necrotizing myopathy. Revised August 2025 (the
founding document). Fisher RA. Statistical Methods for Research Workers, 1925; Agresti A.
Categorical Data Analysis, 3rd ed., 2013, section 16.6 (the conditional MLE of the odds
ratio). Gray RJ. Ann Stat 1988;16:1141-54.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import COMPETING, EVENT, GrayTest
from imnm_cohort.analysis.course_time import (
    INCIDENCE_SCHEMA,
    LANDMARK_MONTHS,
    IncidenceAt,
    course_patients,
    incidence_by_group,
    incidence_disclosure,
    months_of,
    percent_declaration,
    percent_dict,
    place_events,
    require_columns,
)
from imnm_cohort.analysis.intervals import percent_ci
from imnm_cohort.contracts.treatments import CLASSES
from imnm_cohort.contracts.treatments import DRUG_CLASSES as _DRUG_CLASS
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, IMNM_GROUPS

#: The drug classes, in the order of the contract.
DRUG_CLASSES: tuple[str, ...] = CLASSES

#: The bands of the number of immunotherapies per patient.
AGENT_BANDS: tuple[str, ...] = ("0", "1", "2", "3+")

#: The groups of the founding claim's test.
CLAIM_GROUPS: tuple[str, str] = ("statin_exposed_hmgcr", "other")


def drug_names(drug: pd.Series) -> np.ndarray:
    """Each drug's name as the contract writes it (trimmed, lower case; empty -> ``other``),
    normalised once per distinct name rather than once per row."""
    codes, names = pd.factorize(drug, use_na_sentinel=True)
    clean = pd.Series(names, dtype="string").str.strip().str.lower().fillna("other")
    table = np.append(clean.to_numpy(dtype=object), "other")
    return np.asarray(table[codes], dtype=object)  # code -1 (missing) takes the last


def drug_class(drug: pd.Series) -> pd.Series:
    """Each drug's class (contract section 6); an unknown drug is ``other``."""
    names = pd.Series(drug_names(drug), index=drug.index, dtype=object)
    return names.map(_DRUG_CLASS).fillna("other")


@dataclass(frozen=True)
class TreatmentOptions:
    """The conventions of :func:`treatments` (module docstring).

    Attributes
    ----------
    immunotherapy_classes : tuple of str
        Drug classes counted as non-glucocorticoid immunotherapies.
    second_line_drugs : tuple of str or None
        None: second line is the start of the second distinct immunotherapy; else the first
        start of any of these drugs.
    at_months : tuple of float
        Months since time zero at which the cumulative incidence of second line is given.
    bin_months, horizon_months : float
        Width of the time bins of the drug classes over time, and how far they go.
    min_count : int
        A bin is shown only where at least this many patients of the group are under
        observation at its start.
    alpha : float
        1 - confidence level.
    """

    immunotherapy_classes: tuple[str, ...] = ("immunosuppressant", "ivig", "biologic")
    second_line_drugs: tuple[str, ...] | None = None
    at_months: tuple[float, ...] = LANDMARK_MONTHS
    bin_months: float = 3.0
    horizon_months: float = 36.0
    min_count: int = DEFAULT_MIN_COUNT
    alpha: float = 0.05

    def __post_init__(self) -> None:
        unknown = [c for c in self.immunotherapy_classes if c not in DRUG_CLASSES]
        if unknown or "glucocorticoid" in self.immunotherapy_classes:
            raise ConfigError(
                "immunotherapy_classes must be drug classes other than glucocorticoid: "
                + ", ".join(c for c in DRUG_CLASSES if c != "glucocorticoid")
            )
        if self.second_line_drugs is not None:
            bad = [d for d in self.second_line_drugs if d not in _DRUG_CLASS]
            if bad or not self.second_line_drugs:
                raise ConfigError(
                    f"second_line_drugs: unknown drug {bad[0] if bad else '(none given)'}; "
                    "use drugs of the treatments table"
                )
        if not (self.bin_months > 0 and self.horizon_months >= self.bin_months):
            raise ConfigError("bin_months must be > 0 and horizon_months >= bin_months")
        if self.min_count < 0:
            raise ConfigError("min_count must be 0 or more")

    @property
    def second_line(self) -> str:
        """The definition of second line in words."""
        if self.second_line_drugs is None:
            return "start of the second distinct non-glucocorticoid immunotherapy"
        return "first start of " + ", ".join(self.second_line_drugs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "immunotherapy_classes": list(self.immunotherapy_classes),
            "second_line": self.second_line,
            "at_months": list(self.at_months),
            "bin_months": self.bin_months,
            "horizon_months": self.horizon_months,
            "min_count": self.min_count,
        }


@dataclass(frozen=True)
class GroupTreatments:
    """Treatments in one group. Counts are of patients.

    Attributes
    ----------
    n : int
        Patients in the group.
    with_courses : int
        Patients with at least one course recorded.
    agents : dict
        Patients by number of distinct immunotherapies (``0``, ``1``, ``2``, ``3+``).
    two_or_more, glucocorticoid, glucocorticoid_monotherapy, ivig, rituximab : int
        Patients with two or more immunotherapies; with a glucocorticoid; with a
        glucocorticoid and no course of another class (plasma exchange and ``other``
        included); with IVIG; with rituximab.
    percent : dict
        Each of those as a percentage of ``n`` with its Clopper-Pearson interval.
    """

    n: int
    with_courses: int
    agents: dict[str, int]
    two_or_more: int
    glucocorticoid: int
    glucocorticoid_monotherapy: int
    ivig: int
    rituximab: int
    percent: dict[str, tuple[float | None, tuple[float, float] | None]]

    _COUNTED = ("two_or_more", "glucocorticoid", "glucocorticoid_monotherapy", "ivig", "rituximab")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        out: dict[str, Any] = {
            "n": self.n,
            "with_courses": self.with_courses,
            "agents": dict(self.agents),
        }
        for key in self._COUNTED:
            out[key] = percent_dict(getattr(self, key), self.percent[key])
        return out

    def disclosure(self, group: str) -> Declaration:
        """Paths relative to :meth:`to_dict`: ``n`` is the group's size; the bands of
        ``agents`` add up to it, ``two_or_more`` is the bands 2 and 3+."""
        counts = (
            Count(("n",), f"group:{group}"),
            Count(("with_courses",)),
            *(Count(("agents", b)) for b in AGENT_BANDS),
        )
        margins = (
            Margin(tuple(("agents", b) for b in AGENT_BANDS), ("n",)),
            Margin((("agents", "2"), ("agents", "3+")), ("two_or_more", "n")),
            Margin((("with_courses",),), ("n",), rest=self.n - self.with_courses),
        )
        parts = [percent_declaration((key,), ("n",)) for key in self._COUNTED]
        return combine([Declaration(counts=counts, margins=margins), *parts])


@dataclass(frozen=True)
class FoundingClaimTest:
    """Two or more immunotherapies: statin-exposed anti-HMGCR against the other groups.

    Attributes
    ----------
    table : dict
        ``{"statin_exposed_hmgcr": {"two_or_more": a, "fewer": b}, "other": {...}}``.
    excluded_unknown_statin : int
        Anti-HMGCR patients with unknown statin exposure, in neither row.
    odds_ratio, ci : float, tuple
        Conditional maximum likelihood odds ratio and its exact interval (as R
        ``fisher.test``); None when a margin of the table is empty.
    p_value : float or None
        Two-sided Fisher's exact test.
    reason : str or None
        Why there is no test.
    """

    table: dict[str, dict[str, int]]
    excluded_unknown_statin: int
    odds_ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "test": "fisher_exact",
            "compared": list(CLAIM_GROUPS),
            "table": {k: dict(v) for k, v in self.table.items()},
            "excluded_unknown_statin": self.excluded_unknown_statin,
            "odds_ratio": _finite(self.odds_ratio),
            "ci": [_finite(x) for x in self.ci] if self.ci else None,
            "p_value": self.p_value,
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """Every cell of the 2 x 2 table decides the test: withheld with any cell."""
        test = (("odds_ratio",), ("ci",), ("p_value",))
        cells = [(("table", r, c)) for r in CLAIM_GROUPS for c in ("two_or_more", "fewer")]
        return Declaration(
            counts=(
                *(
                    Count(cell, dependents=test, notes=((("reason",), "patients"),))
                    for cell in cells
                ),
                Count(("excluded_unknown_statin",)),
            ),
            rounded=(("p_value",),),
        )


def _finite(value: float | None) -> float | None:
    """A number for JSON: None for an infinite one (an odds ratio without upper limit)."""
    return value if value is not None and np.isfinite(value) else None


def fisher_2x2(
    table: np.ndarray, alpha: float = 0.05
) -> tuple[float | None, tuple[float, float] | None, float | None, str | None]:
    """Two-sided Fisher's exact test of a 2 x 2 table, as R ``fisher.test``.

    Returns the conditional maximum likelihood odds ratio, its exact interval (infinite
    where the count of the first cell is at the top of its range), the p-value (tables no
    more probable than the observed one, within a relative 1e-7, as R; scipy's
    ``fisher_exact``) and a reason when a margin is empty.

    The odds ratio and its limits solve, on the log scale with Brent's method, equations of
    the Fisher noncentral hypergeometric distribution of the first cell given the margins
    (its mean equal to the observed count; each tail equal to alpha / 2), evaluated over the
    whole support at once: ``scipy.stats.contingency.odds_ratio`` gives the same numbers
    but evaluates the distribution point by point, which takes seconds for 100,000 patients.
    """
    from scipy import optimize, stats
    from scipy.special import gammaln

    table = np.asarray(table, dtype=np.int64)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return None, None, None, "a row or column of the 2 x 2 table is empty"
    p_value = min(1.0, float(stats.fisher_exact(table).pvalue))
    a = int(table[0, 0])
    m, n, k = int(table[0].sum()), int(table[1].sum()), int(table[:, 0].sum())
    x = np.arange(max(0, k - n), min(k, m) + 1)
    log_weight = (
        gammaln(m + 1) - gammaln(x + 1) - gammaln(m - x + 1)
        + gammaln(n + 1) - gammaln(k - x + 1) - gammaln(n - k + x + 1)
    )  # fmt: skip

    def pmf(log_psi: float) -> np.ndarray:
        z = log_weight + x * log_psi
        p = np.exp(z - z.max())
        return np.asarray(p / p.sum())

    def root(f: Any) -> float:
        """The root of an increasing function of log(psi), bracketed outward from 0."""
        low, high = -1.0, 1.0
        while f(low) > 0 and low > -1e4:
            low *= 2
        while f(high) < 0 and high < 1e4:
            high *= 2
        return float(np.exp(optimize.brentq(f, low, high, xtol=1e-12, rtol=1e-12)))

    lo, hi = int(x[0]), int(x[-1])
    if a == lo:
        estimate = 0.0
    elif a == hi:
        estimate = float("inf")
    else:
        estimate = root(lambda t: float(pmf(t) @ x) - a)
    lower = 0.0 if a == lo else root(lambda t: float(pmf(t)[x >= a].sum()) - alpha / 2)
    upper = float("inf") if a == hi else root(lambda t: alpha / 2 - float(pmf(t)[x <= a].sum()))
    return estimate, (lower, upper), p_value, None


@dataclass(frozen=True)
class ClassesOverTime:
    """Share of patients on each drug class by time bin (figure data).

    Attributes
    ----------
    bins : tuple of (float, float)
        Each bin's start and end, in months since time zero.
    groups : dict
        Group -> list of shown bins, each ``{"bin": i, "n": patients under observation at
        its start, "on": {class: patients with a course of that class in the bin},
        "percent": {class: %}}``; a bin with fewer than ``min_count`` patients under
        observation is not shown.
    min_count : int
    """

    bins: tuple[tuple[float, float], ...]
    groups: dict[str, list[dict[str, Any]]]
    min_count: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "bins_months": [list(b) for b in self.bins],
            "min_count": self.min_count,
            "groups": {
                g: [
                    {
                        "bin": b["bin"],
                        "n": b["n"],
                        "on": dict(b["on"]),
                        "percent": dict(b["percent"]),
                    }
                    for b in rows
                ]
                for g, rows in self.groups.items()
            },
        }

    def disclosure(self) -> Declaration:
        """Each shown bin's ``n`` and its ``on`` counts (patients); percentages reveal them."""
        counts: list[Count] = []
        shares: list[Share] = []
        cleared: list[tuple[str | int, ...]] = [("bins_months",), ("min_count",)]
        for g, rows in self.groups.items():
            for i, b in enumerate(rows):
                at = ("groups", g, i)
                cleared.append((*at, "bin"))  # the bin's position, not a count
                counts.append(Count((*at, "n"), describes=((*at, "percent"),)))
                for c in b["on"]:
                    counts.append(Count((*at, "on", c), reveals=((*at, "percent", c),)))
                    shares.append(Share((*at, "percent", c), (*at, "on", c), (*at, "n")))
        return Declaration(
            counts=tuple(counts),
            shares=tuple(shares),
            cleared=tuple(cleared),
        )


@dataclass(frozen=True)
class Treatments:
    """Treatments by IMNM group (module docstring).

    Attributes
    ----------
    groups : dict
        Group -> :class:`GroupTreatments`.
    founding_claim : FoundingClaimTest
    second_line : dict
        Group -> :class:`~imnm_cohort.analysis.course_time.IncidenceAt` of second line,
        death competing, among patients with follow-up.
    second_line_test : GrayTest
    second_line_before_time_zero : int
        Patients whose second line started before time zero (counted at time zero).
    classes_over_time : ClassesOverTime
    time_zero_onset : int
        Patients whose time zero is their onset (no diagnosis date).
    no_followup : int
        Patients without follow-up from time zero (left out of the time to second line).
    courses : int
        Treatment courses (rows) read, of the analysed patients. A count of rows.
    options : TreatmentOptions
    """

    groups: dict[str, GroupTreatments]
    founding_claim: FoundingClaimTest
    second_line: dict[str, IncidenceAt]
    second_line_test: GrayTest
    second_line_before_time_zero: int
    classes_over_time: ClassesOverTime
    time_zero_onset: int
    no_followup: int
    courses: int
    options: TreatmentOptions = field(default_factory=TreatmentOptions)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "options": self.options.to_dict(),
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
            "founding_claim": self.founding_claim.to_dict(),
            "second_line": {
                "definition": self.options.second_line,
                "groups": {g: c.to_dict() for g, c in self.second_line.items()},
                "test": self.second_line_test.to_dict(),
                "before_time_zero": self.second_line_before_time_zero,
            },
            "classes_over_time": self.classes_over_time.to_dict(),
            "time_zero_onset": self.time_zero_onset,
            "no_followup": self.no_followup,
            "rows": {"courses": self.courses},
        }

    def disclosure(self) -> Declaration:
        """Declarations of :meth:`to_dict`: patient counts by group, the 2 x 2 table, the
        curves and the bins; ``rows.courses`` is a count of rows, not of patients."""
        parts = [r.disclosure(g).under("groups", g) for g, r in self.groups.items()]
        parts.append(self.founding_claim.disclosure().under("founding_claim"))
        parts.append(
            incidence_disclosure(
                self.second_line, ("second_line", "test"), ("second_line", "groups")
            )
        )
        parts.append(self.classes_over_time.disclosure().under("classes_over_time"))
        parts.append(
            Declaration(
                counts=(
                    Count(("second_line", "before_time_zero")),
                    Count(("time_zero_onset",)),
                    Count(("no_followup",)),
                    Count(("rows", "courses")),
                ),
                cleared=(("options",),),
            )
        )
        return combine(parts)

    def method(self) -> str:
        """The method in two sentences."""
        return (
            "Non-glucocorticoid immunotherapies ("
            + ", ".join(self.options.immunotherapy_classes)
            + ") were counted per patient as distinct drugs, and the share with two or more "
            "was compared between statin-exposed anti-HMGCR patients and the other groups "
            "with a two-sided Fisher's exact test (conditional maximum likelihood odds "
            "ratio). Time from diagnosis (onset where no diagnosis date) to second-line "
            f"therapy ({self.options.second_line}) was estimated by Aalen-Johansen "
            "cumulative incidence with death as a competing event and compared with Gray's "
            "test."
        )

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict`."""
        count = {"$ref": "#/$defs/count"}
        share = {
            "type": "object",
            "properties": {
                "n": count,
                "percent": {"$ref": "#/$defs/number"},
                "ci": {"$ref": "#/$defs/interval"},
            },
        }
        return {
            "type": "object",
            "required": ["options", "groups", "founding_claim", "second_line"],
            "properties": {
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "n": count,
                            "with_courses": count,
                            "agents": {"type": "object", "additionalProperties": count},
                            **{k: share for k in GroupTreatments._COUNTED},
                        },
                    },
                },
                "founding_claim": {
                    "type": "object",
                    "properties": {
                        "p_value": {"$ref": "#/$defs/pValue"},
                        "odds_ratio": {"$ref": "#/$defs/number"},
                        "ci": {"$ref": "#/$defs/interval"},
                    },
                },
                "second_line": {
                    "type": "object",
                    "properties": {
                        "groups": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/$defs/incidenceAt"},
                        }
                    },
                },
            },
            "$defs": {"incidenceAt": INCIDENCE_SCHEMA},
        }


def _courses(treatments: pd.DataFrame, course: pd.DataFrame) -> pd.DataFrame:
    """The courses of the analysed patients with ``drug`` (normalised), ``class``,
    ``day_start_date`` and ``day_stop`` (the stop, or the end of follow-up where empty,
    clipped to it)."""
    require_columns(treatments, ("patient_id", "drug", "start_date"), "treatments")
    frame = treatments[["patient_id", "drug", "start_date"]].copy()
    frame["stop_date"] = treatments.get("stop_date", pd.NaT)
    rows = place_events(frame, course, ("start_date", "stop_date"))
    rows["drug"] = drug_names(rows["drug"])
    rows["class"] = rows["drug"].map(_DRUG_CLASS).fillna("other").to_numpy(dtype=object)
    follow = course["followup_days"].to_numpy(dtype=float)[rows["patient"].to_numpy()]
    stop = rows["day_stop_date"].to_numpy(dtype=float)
    rows["day_stop"] = np.fmin(np.where(np.isnan(stop), follow, stop), follow)
    rows["followup_days"] = follow
    return rows


def _agents(courses: pd.DataFrame, options: TreatmentOptions) -> pd.DataFrame:
    """Distinct immunotherapies per patient, each at its first start (sorted by patient,
    start day, drug)."""
    counted = courses[courses["class"].isin(list(options.immunotherapy_classes))]
    first = counted.sort_values(["patient", "day_start_date", "drug"], kind="stable")
    return first.drop_duplicates(["patient", "drug"], keep="first")


def _second_line_day(
    courses: pd.DataFrame, agents: pd.DataFrame, options: TreatmentOptions, n: int
) -> np.ndarray:
    """Per patient (position in the course), the day of second line (NaN where never)."""
    if options.second_line_drugs is None:
        nth = agents.groupby("patient", sort=False).cumcount()
        starts = agents.loc[nth.to_numpy() == 1]
    else:
        starts = courses[courses["drug"].isin(list(options.second_line_drugs))]
    day = np.full(n, np.inf)
    np.minimum.at(day, starts["patient"].to_numpy(), starts["day_start_date"].to_numpy(float))
    return np.where(np.isinf(day), np.nan, day)


def _over_time(
    courses: pd.DataFrame, course: pd.DataFrame, groups: Sequence[str], options: TreatmentOptions
) -> ClassesOverTime:
    """Patients on each drug class per time bin and group (courses expanded to the bins they
    overlap, vectorised), only bins with at least ``min_count`` under observation."""
    n_bins = int(np.ceil(options.horizon_months / options.bin_months - 1e-9))
    edges_m = np.arange(n_bins + 1) * options.bin_months
    edges = edges_m * DAYS_PER_MONTH
    start = np.fmax(courses["day_start_date"].to_numpy(dtype=float), 0.0)
    stop = courses["day_stop"].to_numpy(dtype=float)
    keep = np.isfinite(start) & np.isfinite(stop) & (stop >= start) & (start < edges[-1])
    first = np.searchsorted(edges, start[keep], "right") - 1
    last = np.minimum(np.searchsorted(edges, stop[keep], "right") - 1, n_bins - 1)
    width = last - first + 1
    row = np.repeat(np.flatnonzero(keep), width)
    offset = np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)
    # Each (patient, bin, class) once, as one integer key; then patients per (group, bin, class).
    n_cls = len(DRUG_CLASSES)
    cls = pd.Categorical(courses["class"].to_numpy(dtype=object), categories=DRUG_CLASSES).codes
    patient = courses["patient"].to_numpy().astype(np.int64)
    key = (patient[row] * n_bins + np.repeat(first, width) + offset) * n_cls + cls[row]
    unique = np.unique(key)
    label = course["group"].to_numpy(dtype=object)
    group_of = pd.Index(list(groups)).get_indexer(pd.Index(label))
    cell = group_of[unique // (n_cls * n_bins)] * (n_bins * n_cls) + unique % (n_bins * n_cls)
    on_counts = np.bincount(cell, minlength=len(groups) * n_bins * n_cls).reshape(
        len(groups), n_bins, n_cls
    )
    follow = course["followup_days"].to_numpy(dtype=float)
    out: dict[str, list[dict[str, Any]]] = {}
    for gi, g in enumerate(groups):
        f = follow[(label == g) & np.isfinite(follow)]
        under = (f[:, None] >= edges[None, :-1]).sum(axis=0)
        shown = []
        for k in np.flatnonzero(under >= max(options.min_count, 1)):
            n = int(under[k])
            counts = {
                c: int(on_counts[gi, k, ci])
                for ci, c in enumerate(DRUG_CLASSES)
                if c != "other" or on_counts[gi, k, ci]
            }
            shown.append(
                {
                    "bin": int(k),
                    "n": n,
                    "on": counts,
                    "percent": {c: 100.0 * v / n for c, v in counts.items()},
                }
            )
        out[g] = shown
    bins = tuple((float(a), float(b)) for a, b in itertools.pairwise(edges_m))
    return ClassesOverTime(bins, out, options.min_count)


def treatments(
    patients: pd.DataFrame,
    courses: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: TreatmentOptions | None = None,
) -> Treatments:
    """Treatments by IMNM group (module docstring).

    Parameters
    ----------
    patients : DataFrame
        Classified patients: ``patient_id``, ``imnm_group``, ``statin_exposed``,
        ``onset_date``, ``diagnosis_date``, ``last_followup_date``, ``death_date``.
    courses : DataFrame
        The valid rows of the ``treatments`` table (contract section 6): ``patient_id``,
        ``drug``, ``start_date``, ``stop_date`` (empty: still taken at the end of
        observation), ``dose_mg_per_day``. Rows of other patients are left out.
    groups : sequence of str
    options : TreatmentOptions, optional

    Returns
    -------
    Treatments
    """
    options = options or TreatmentOptions()
    require_columns(patients, ("statin_exposed",), "patients")
    course = course_patients(patients, groups)
    rows = _courses(courses, course)
    agents = _agents(rows, options)
    size = len(course)
    patient = rows["patient"].to_numpy()
    n_agents_v = np.bincount(agents["patient"].to_numpy(), minlength=size)
    any_course = np.bincount(patient, minlength=size) > 0

    def patients_with(mask: np.ndarray) -> np.ndarray:
        return np.bincount(patient[mask], minlength=size) > 0

    drug = rows["drug"].to_numpy(dtype=object)
    classes = rows["class"].to_numpy(dtype=object)
    gc = patients_with(classes == "glucocorticoid")
    other_class = patients_with(classes != "glucocorticoid")  # plasma exchange and other too
    ivig, rituximab = patients_with(drug == "ivig"), patients_with(drug == "rituximab")
    label = course["group"].to_numpy(dtype=object)
    by_group: dict[str, GroupTreatments] = {}
    for g in groups:
        m = label == g
        n = int(m.sum())
        k = n_agents_v[m]
        counts = {
            "two_or_more": int((k >= 2).sum()),
            "glucocorticoid": int(gc[m].sum()),
            "glucocorticoid_monotherapy": int((gc[m] & ~other_class[m]).sum()),
            "ivig": int(ivig[m].sum()),
            "rituximab": int(rituximab[m].sum()),
        }
        by_group[g] = GroupTreatments(
            n=n,
            with_courses=int(any_course[m].sum()),
            agents={
                "0": int((k == 0).sum()),
                "1": int((k == 1).sum()),
                "2": int((k == 2).sum()),
                "3+": int((k >= 3).sum()),
            },
            percent={key: percent_ci(v, n, options.alpha) for key, v in counts.items()},
            **counts,
        )

    claim = _founding_claim(patients, course, n_agents_v, options)

    day = _second_line_day(rows, agents, options, size)
    followed = course["followed"].to_numpy(dtype=bool)
    follow = course["followup_days"].to_numpy(dtype=float)
    has = np.isfinite(day) & (day <= np.nan_to_num(follow, nan=-1.0))
    before = has & (day < 0)
    time = np.where(has, np.fmax(day, 0.0), follow)
    event = np.where(has, EVENT, np.where(course["died"].to_numpy(dtype=bool), COMPETING, 0))
    incidence, test = incidence_by_group(
        months_of(time[followed]),
        event[followed],
        label[followed],
        groups,
        options.at_months,
        options.alpha,
        options.min_count,
    )
    return Treatments(
        groups=by_group,
        founding_claim=claim,
        second_line=incidence,
        second_line_test=test,
        second_line_before_time_zero=int((before & followed).sum()),
        classes_over_time=_over_time(rows[rows["followup_days"].notna()], course, groups, options),
        time_zero_onset=int((course["time_zero_from"] == "onset").sum()),
        no_followup=int((~followed).sum()),
        courses=len(rows),
        options=options,
    )


def _founding_claim(
    patients: pd.DataFrame, course: pd.DataFrame, n_agents: np.ndarray, options: TreatmentOptions
) -> FoundingClaimTest:
    exposed = patients.set_index(patients["patient_id"].astype(str))["statin_exposed"]
    exposed = exposed.reindex(course.index).astype("boolean")
    hmgcr = (course["group"] == "hmgcr").to_numpy(dtype=bool)
    statin = hmgcr & exposed.fillna(False).to_numpy(dtype=bool)
    unknown = hmgcr & exposed.isna().to_numpy(dtype=bool)
    other = ~statin & ~unknown
    two = n_agents >= 2
    table = np.array(
        [[(statin & two).sum(), (statin & ~two).sum()], [(other & two).sum(), (other & ~two).sum()]]
    )
    odds, ci, p, reason = fisher_2x2(table, options.alpha)
    return FoundingClaimTest(
        {
            name: {"two_or_more": int(table[i, 0]), "fewer": int(table[i, 1])}
            for i, name in enumerate(CLAIM_GROUPS)
        },
        int(unknown.sum()),
        odds,
        ci,
        p,
        reason,
    )
