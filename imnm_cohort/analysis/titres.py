"""Anti-HMGCR titres at diagnosis (contract section 6, the ``antibody_tests`` table).

Per IMNM group, the anti-HMGCR level at diagnosis (median and interquartile range, with
the patients it describes), and its Spearman correlation with CK and with strength at
diagnosis, with the p-value as R ``cor.test(method = "spearman")`` computes it.

Conventions (each a field of :class:`TitreOptions`, recorded in the result):

- *Time zero* is the course analyses' own (:func:`~imnm_cohort.analysis.course_time.
  course_patients`): the diagnosis date, else the onset date.
- *The level at diagnosis* is the value of the patient's quantitative anti-HMGCR assay
  (method ``elisa``, ``cia`` or ``albia``, a value given) nearest time zero within
  ``window_days`` (90 by default) either side; of two equally near, the earlier, then the
  higher value. It is given as the value and, where the lab gave its cut-off, as a multiple
  of the cut-off.
- *Units differ between labs.* The multiple of the cut-off is comparable across labs and is
  the default scale of the correlations (``scale = "cutoff"``). Values themselves are
  summarised only where every selected assay of the group reports the same unit (trimmed,
  case-insensitive; an empty unit is a unit of its own); with ``scale = "value"`` the
  correlations need one unit across the patients correlated, else they are not computed,
  with the reason.
- *CK at diagnosis* is the visit nearest time zero within the window that has a CK, as a
  multiple of its ULN (200 U/L where the visit gives none); Spearman's rho is a rank
  statistic, so this is the same as log10(CK/ULN). *Strength at diagnosis* is the visit
  nearest time zero within the window that has an MMT, as a percentage of its scale
  maximum. Ties of distance: the earlier visit.
- The correlations are over every analysed patient with both values (``overall``) and within
  each group; with fewer patients than the minimum count, none is shown, with the reason.

Counts are of patients: one assay and one visit per patient enter each number.

References
----------
Best DJ, Roberts DE. Algorithm AS 89: the upper tail probabilities of Spearman's rho.
Appl Stat 1975;24:377-9 (R's p-value without ties; exact to n = 9, an Edgeworth series
above). Hollander M, Wolfe DA. Nonparametric Statistical Methods, 1973 (the t
approximation R uses with ties or n above 1290).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.course_time import (
    DEFAULT_CK_ULN,
    as_dates,
    course_patients,
    require_columns,
)
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import IMNM_GROUPS, days_between

if TYPE_CHECKING:
    from imnm_cohort.analysis.registry import Cohort

#: The quantitative assay methods (contract section 6) whose value is a titre.
QUANTITATIVE = ("elisa", "cia", "albia")
#: The scales of the level: its multiple of the cut-off, or the value in the lab's unit.
SCALES = ("cutoff", "value")
#: What the level is correlated with.
MEASURES = ("ck", "strength")
#: The quantiles of a level's distribution.
_STATS = ("median", "q1", "q3")


@dataclass(frozen=True)
class TitreOptions:
    """The conventions of :func:`titres` (module docstring).

    Attributes
    ----------
    window_days : float
        An assay or visit counts at diagnosis within this many days of time zero.
    scale : str
        ``cutoff`` (default: the level as a multiple of the lab's cut-off) or ``value``
        (the value itself; only where one unit is shared) for the correlations.
    methods : tuple of str
        The quantitative methods read.
    min_count : int
        A correlation is shown only with at least this many patients.
    """

    window_days: float = 90.0
    scale: str = "cutoff"
    methods: tuple[str, ...] = QUANTITATIVE
    min_count: int = DEFAULT_MIN_COUNT

    def __post_init__(self) -> None:
        if not self.window_days >= 0:
            raise ConfigError("window_days must be 0 or more")
        if self.scale not in SCALES:
            raise ConfigError(f"scale must be one of {', '.join(SCALES)}")
        bad = [m for m in self.methods if m not in QUANTITATIVE]
        if bad or not self.methods:
            raise ConfigError("methods must be quantitative: " + ", ".join(QUANTITATIVE))
        if self.min_count < 0:
            raise ConfigError("min_count must be 0 or more")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "window_days": self.window_days,
            "scale": self.scale,
            "methods": list(self.methods),
            "min_count": self.min_count,
        }


# -- Spearman's rho as R cor.test ------------------------------------------------------------


@functools.cache
def _exact_counts(n: int) -> np.ndarray:
    """How many of the n! permutations have each sum of squared rank differences S."""
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    return np.bincount(((perms - np.arange(n)) ** 2).sum(axis=1))


# The coefficients of the Edgeworth series of AS 89 (Best and Roberts 1975).
_AS89 = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831,
         0.0131, 4.6e-4)  # fmt: skip


def _prho(n: int, s: float, lower: bool) -> float:
    """P(S >= s) (upper) or P(S < s) (lower) of S = sum of squared rank differences under
    independence: exact to n = 9, else AS 89's Edgeworth series."""
    top = n * (n * n - 1) / 3.0
    if s <= 0:
        return 0.0 if lower else 1.0
    if s > top:
        return 1.0 if lower else 0.0
    if n <= 9:
        counts = _exact_counts(n)
        upper = float(counts[int(np.ceil(s)) :].sum() / counts.sum())
        return 1.0 - upper if lower else upper
    from scipy.special import ndtr

    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 = _AS89
    b = 1.0 / n
    x = (6.0 * (s - 1) * b / (n * n - 1) - 1) * np.sqrt(1 / b - 1)
    y = x * x
    u = x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (
        c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))))  # fmt: skip
    p = min(max(float(u / np.exp(y / 2) + ndtr(-x)), 0.0), 1.0)
    return 1.0 - p if lower else p


@dataclass(frozen=True)
class SpearmanTest:
    """Spearman's rho with its two-sided p-value and how it was computed (``exact``: R's
    AS 89 without ties and n <= 1290; ``asymptotic``: the t approximation)."""

    rho: float
    p_value: float
    method: str
    ties: bool


def spearman_test(x: np.ndarray, y: np.ndarray) -> SpearmanTest:
    """Spearman's rho and its two-sided p-value, as R ``cor.test(x, y, method =
    "spearman")`` with its default ``exact = NULL``: rho is the correlation of mid-ranks
    (:func:`scipy.stats.spearmanr`); the p-value is R's AS 89 for n <= 1290 without ties,
    else (ties, where R warns that it cannot compute an exact p-value, or larger n) the t
    approximation with n - 2 degrees of freedom on S, the sum of squared rank differences
    (R 4.2's ``cor.test`` with ``exact = NULL``, ``continuity = FALSE``).

    Parameters
    ----------
    x, y : array of float
        Paired values, at least 3, none missing.
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 3 or len(y) != n:
        raise ValueError("spearman_test needs at least 3 pairs")
    rho = float(stats.spearmanr(x, y).statistic)
    ties = bool(len(np.unique(x)) < n or len(np.unique(y)) < n)
    exact = n <= 1290 and not ties
    den = (n**3 - n) / 6.0
    q = den * (1.0 - rho)

    def tail(s: float, lower: bool) -> float:
        if exact:
            return _prho(n, float(np.round(s)) + 2 * lower, lower)
        r = 1.0 - s / den
        t = r / np.sqrt((1.0 - r * r) / (n - 2)) if abs(r) < 1 else np.copysign(np.inf, r)
        dist = stats.t(n - 2)
        return float(dist.sf(t) if lower else dist.cdf(t))

    p = tail(q, False) if q > den else tail(q, True)
    return SpearmanTest(rho, min(2.0 * p, 1.0), "exact" if exact else "asymptotic", ties)


# -- the result ------------------------------------------------------------------------------


def _quantiles(values: np.ndarray) -> dict[str, float | None]:
    """Median and quartiles (type 7, as R's default ``quantile``); None when empty."""
    if len(values) == 0:
        return dict.fromkeys(_STATS)
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3)}


@dataclass(frozen=True)
class GroupTitres:
    """The level at diagnosis in one group. Counts are of patients.

    Attributes
    ----------
    n : int
        Patients in the group.
    with_level : int
        Patients with a quantitative anti-HMGCR assay within the window.
    with_cutoff : int
        Of those, patients whose assay gives its cut-off.
    value : dict
        ``median``, ``q1``, ``q3`` of the values (None where the units differ or none).
    unit : str or None
        The shared unit of the values (None where they differ or none).
    times_cutoff : dict
        ``median``, ``q1``, ``q3`` of the multiples of the cut-off.
    """

    n: int
    with_level: int
    with_cutoff: int
    value: dict[str, float | None]
    unit: str | None
    times_cutoff: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "with_level": self.with_level,
            "with_cutoff": self.with_cutoff,
            "value": dict(self.value),
            "unit": self.unit,
            "times_cutoff": dict(self.times_cutoff),
        }

    def disclosure(self, group: str) -> Declaration:
        """Paths relative to :meth:`to_dict`: the quantiles (and the unit) describe the
        patients counted."""
        return Declaration(
            counts=(
                Count(("n",), f"group:{group}"),
                Count(("with_level",), describes=(("value",),), dependents=(("unit",),)),
                Count(("with_cutoff",), describes=(("times_cutoff",),)),
            ),
        )


@dataclass(frozen=True)
class Correlation:
    """Spearman's correlation of the level with one measure among ``n`` patients; rho and
    the p-value are None, with ``reason``, where not computed."""

    n: int
    rho: float | None = None
    p_value: float | None = None
    p_method: str | None = None
    ties: bool | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "n": self.n,
            "rho": self.rho,
            "p_value": self.p_value,
            "p_method": self.p_method,
            "ties": self.ties,
            "reason": self.reason,
        }

    def disclosure(self) -> Declaration:
        """``n`` patients decide rho and the p-value: withheld with a small ``n``."""
        return Declaration(
            counts=(
                Count(
                    ("n",),
                    describes=(("rho",), ("p_value",)),
                    notes=((("reason",), "patients"),),
                ),
            ),
            cleared=(("p_method",), ("ties",)),
            rounded=(("p_value",),),
        )


@dataclass(frozen=True)
class Titres:
    """Anti-HMGCR titres at diagnosis by IMNM group (module docstring).

    Attributes
    ----------
    groups : dict
        Group -> :class:`GroupTitres`.
    correlations : dict
        Measure (``ck``, ``strength``) -> {``overall`` or group -> :class:`Correlation`}.
    time_zero_onset : int
        Patients whose time zero is their onset (no diagnosis date).
    assays : int
        Quantitative anti-HMGCR assays (rows) read, of the analysed patients. A count of rows.
    options : TitreOptions
    """

    groups: dict[str, GroupTitres]
    correlations: dict[str, dict[str, Correlation]]
    time_zero_onset: int
    assays: int
    options: TitreOptions = field(default_factory=TitreOptions)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "options": self.options.to_dict(),
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
            "correlations": {
                m: {k: c.to_dict() for k, c in by.items()} for m, by in self.correlations.items()
            },
            "time_zero_onset": self.time_zero_onset,
            "rows": {"assays": self.assays},
        }

    def disclosure(self) -> Declaration:
        """Declarations of :meth:`to_dict`; the groups' correlated patients add up to the
        overall ones; ``rows.assays`` counts rows, not patients."""
        parts = [r.disclosure(g).under("groups", g) for g, r in self.groups.items()]
        for m, by in self.correlations.items():
            parts += [c.disclosure().under("correlations", m, k) for k, c in by.items()]
            # the groups' patients add up to the overall ones: a small group's n is not
            # to be had by subtraction
            cells = tuple(("correlations", m, k, "n") for k in by if k != "overall")
            parts.append(Declaration(margins=(Margin(cells, ("correlations", m, "overall", "n")),)))
        parts.append(
            Declaration(
                counts=(Count(("time_zero_onset",)), Count(("rows", "assays"))),
                cleared=(("options",),),
            )
        )
        return combine(parts)

    def method(self) -> str:
        """The method in two sentences."""
        o = self.options
        scale = "as a multiple of the lab's cut-off" if o.scale == "cutoff" else "as its value"
        return (
            "The anti-HMGCR level at diagnosis was the quantitative assay ("
            + ", ".join(o.methods)
            + f") nearest the diagnosis date (onset where none) within {o.window_days:g} "
            f"days, taken {scale}. Its Spearman correlation with CK (multiple of the ULN) "
            "and with MMT (percentage of its maximum) at the nearest visit in the same "
            "window was tested as R cor.test does (AS 89 without ties, else the t "
            f"approximation), only with at least {o.min_count} patients."
        )

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict`."""
        count = {"$ref": "#/$defs/count"}
        number = {"$ref": "#/$defs/number"}
        quantiles = {"type": "object", "properties": dict.fromkeys(_STATS, number)}
        correlation = {
            "type": "object",
            "required": ["n", "rho", "p_value"],
            "properties": {
                "n": count,
                "rho": number,
                "p_value": {"$ref": "#/$defs/pValue"},
                "p_method": {"enum": ["exact", "asymptotic", None]},
                "ties": {"type": ["boolean", "null"]},
                "reason": {"type": ["string", "null"]},
            },
        }
        return {
            "type": "object",
            "required": ["options", "groups", "correlations"],
            "properties": {
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "n": count,
                            "with_level": count,
                            "with_cutoff": count,
                            "value": quantiles,
                            "unit": {"type": ["string", "null"]},
                            "times_cutoff": quantiles,
                        },
                    },
                },
                "correlations": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": correlation,
                    },
                },
            },
        }


# -- the analysis ----------------------------------------------------------------------------


def _placed(ids: pd.Series, dates: pd.Series, course: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Per row: its patient's position in ``course`` (-1 for a patient not analysed) and
    its day since the patient's time zero (NaN for those)."""
    if not (ids.dtype == object or isinstance(ids.dtype, pd.StringDtype)):
        ids = ids.astype(str)
    position = course.index.get_indexer(pd.Index(ids))
    t0 = course["time_zero"].to_numpy(dtype="datetime64[ns]")[np.maximum(position, 0)]
    days = days_between(as_dates(dates).reset_index(drop=True), pd.Series(t0))
    out = days.to_numpy(dtype=float)
    out[position < 0] = np.nan
    return position, out


def _nearest(
    patient: np.ndarray, day: np.ndarray, window: float, size: int, then: np.ndarray
) -> np.ndarray:
    """Per patient (position in the course), the row nearest time zero within ``window``
    days: ties to the earlier, then the smallest ``then`` (so that the order of the rows
    never matters); -1 where none."""
    inside = np.flatnonzero(np.abs(day) <= window)  # NaN days (other patients) are out
    p, d = patient[inside], day[inside]
    order = np.lexsort((then[inside], d, np.abs(d), p))
    first = np.ones(len(order), dtype=bool)
    first[1:] = p[order][1:] != p[order][:-1]
    out = np.full(size, -1, dtype=np.int64)
    out[p[order][first]] = inside[order][first]
    return out


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN where absent or not a number); no parse when numeric."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values.dtype):
        values = pd.to_numeric(values, errors="coerce")
    return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _units(unit: pd.Series) -> np.ndarray:
    """Units trimmed and in lower case; empty or missing as ''."""
    return np.asarray(unit.astype("string").str.strip().str.lower().fillna(""), dtype=object)


def titres(
    patients: pd.DataFrame,
    assays: pd.DataFrame,
    visits: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: TitreOptions | None = None,
) -> Titres:
    """Anti-HMGCR titres at diagnosis by IMNM group (module docstring).

    Parameters
    ----------
    patients : DataFrame
        Classified patients: ``patient_id``, ``imnm_group``, ``onset_date``,
        ``diagnosis_date``, ``last_followup_date``, ``death_date``.
    assays : DataFrame
        The valid rows of the ``antibody_tests`` table: ``patient_id``, ``test_date``,
        ``antigen``, ``method``, ``value``, ``unit`` and ``cutoff`` (the last two may be
        absent). Rows of other patients are left out.
    visits : DataFrame
        The valid rows of the ``visits`` table: ``patient_id``, ``visit_date``, ``ck``,
        ``ck_uln``, ``mmt``, ``mmt_max`` (all but the first two may be absent).
    groups : sequence of str
    options : TitreOptions, optional

    Returns
    -------
    Titres
    """
    options = options or TitreOptions()
    require_columns(assays, ("patient_id", "test_date", "antigen", "method", "value"),
                    "antibody_tests")  # fmt: skip
    require_columns(visits, ("patient_id", "visit_date"), "visits")
    course = course_patients(patients, groups)
    size = len(course)
    label = course["group"].to_numpy(dtype=object)
    antigen = assays["antigen"].astype("string").str.strip().str.lower()
    method = assays["method"].astype("string").str.strip().str.lower()
    value = _numbers(assays, "value")
    keep = np.flatnonzero(
        (antigen == "hmgcr").fillna(False).to_numpy(dtype=bool)
        & method.isin(list(options.methods)).fillna(False).to_numpy(dtype=bool)
        & np.isfinite(value)
    )
    position, days = _placed(
        assays["patient_id"].iloc[keep], assays["test_date"].iloc[keep], course
    )
    ours = position >= 0
    rows, position, days = keep[ours], position[ours], days[ours]
    value = value[rows]
    cutoff_all = _numbers(assays, "cutoff")[rows]
    unit_all = (
        _units(assays["unit"].iloc[rows])
        if "unit" in assays.columns
        else np.full(len(rows), "", dtype=object)
    )
    # of two as near and as early: the higher value
    pick = _nearest(position, days, options.window_days, size, -value)
    has = pick >= 0
    level = np.full(size, np.nan)
    level[has] = value[pick[has]]
    cutoff = np.full(size, np.nan)
    cutoff[has] = cutoff_all[pick[has]]
    times = level / cutoff
    unit = np.full(size, None, dtype=object)
    unit[has] = unit_all[pick[has]]

    by_group: dict[str, GroupTitres] = {}
    for g in groups:
        m = (label == g) & has
        units = set(unit[m])
        one = len(units) == 1
        by_group[g] = GroupTitres(
            n=int((label == g).sum()),
            with_level=int(m.sum()),
            with_cutoff=int((m & np.isfinite(times)).sum()),
            value=_quantiles(level[m]) if one else dict.fromkeys(_STATS),
            unit=next(iter(units)) if one else None,
            times_cutoff=_quantiles(times[m & np.isfinite(times)]),
        )

    measures = _measures(visits, course, options.window_days)
    x = times if options.scale == "cutoff" else level
    correlations: dict[str, dict[str, Correlation]] = {}
    for name, y in measures.items():
        both = np.isfinite(x) & np.isfinite(y)
        by: dict[str, Correlation] = {}
        for key in ("overall", *groups):
            m = both if key == "overall" else both & (label == key)
            by[key] = _correlation(x[m], y[m], unit[m], options)
        correlations[name] = by
    return Titres(
        groups=by_group,
        correlations=correlations,
        time_zero_onset=int((course["time_zero_from"] == "onset").sum()),
        assays=len(rows),
        options=options,
    )


def titres_of(cohort: Cohort) -> Titres:
    """The analysis registry's entry: :func:`titres` of the run's cohort, its
    ``antibody_tests`` and its ``visits`` (none when the run has no visits table: the
    levels by group are then given, every correlation with no patient)."""
    assert cohort.tables is not None  # the entry's tables were given
    return titres(
        cohort.patients,
        cohort.tables.frame("antibody_tests"),
        cohort.tables.frame("visits"),
        cohort.groups,
        cohort.options_of("titres"),
    )


def _measures(visits: pd.DataFrame, course: pd.DataFrame, window: float) -> dict[str, np.ndarray]:
    """Per patient, CK as a multiple of its ULN and MMT as a percentage of its maximum at
    the visit nearest time zero within the window that has each (NaN where none)."""
    size = len(course)
    uln = _numbers(visits, "ck_uln")
    ck = _numbers(visits, "ck") / np.where(np.isnan(uln), DEFAULT_CK_ULN, uln)
    strength = 100.0 * _numbers(visits, "mmt") / _numbers(visits, "mmt_max")
    out: dict[str, np.ndarray] = {}
    for name, values in (("ck", ck), ("strength", strength)):
        rows = np.flatnonzero(np.isfinite(values))
        position, days = _placed(
            visits["patient_id"].iloc[rows], visits["visit_date"].iloc[rows], course
        )
        ours = position >= 0
        rows, position, days = rows[ours], position[ours], days[ours]
        pick = _nearest(position, days, window, size, values[rows])
        y = np.full(size, np.nan)
        y[pick >= 0] = values[rows][pick[pick >= 0]]
        out[name] = y
    return out


def _correlation(
    x: np.ndarray, y: np.ndarray, unit: np.ndarray, options: TitreOptions
) -> Correlation:
    """The test, or the reason there is none."""
    n = len(x)
    if options.scale == "value" and len(set(unit)) > 1:
        return Correlation(n, reason="the values are in different units")
    if n < max(options.min_count, 3):
        return Correlation(n, reason=f"fewer than {max(options.min_count, 3)} patients")
    if len(np.unique(x)) == 1 or len(np.unique(y)) == 1:
        return Correlation(n, reason="a variable is constant")
    test = spearman_test(x, y)
    return Correlation(n, test.rho, test.p_value, test.method, test.ties)
