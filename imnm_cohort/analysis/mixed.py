"""A linear mixed model of a repeated measure over time, by group (a growth model).

The course analyses (:mod:`imnm_cohort.analysis.ck_course`,
:mod:`imnm_cohort.analysis.strength`) model a measure taken at many visits per patient:

.. math::

    y_{ij} = \\beta_0 + \\beta_{g(i)} + (\\beta_t + \\beta_{t,g(i)}) \\, t_{ij}
             + b_{0i} + b_{1i} t_{ij} + \\varepsilon_{ij}

with fixed effects group x time (the first group is the reference), a random intercept and
slope per patient, :math:`(b_{0i}, b_{1i}) \\sim N(0, G)` with ``G`` unstructured (two
variances and their correlation), and :math:`\\varepsilon_{ij} \\sim N(0, \\sigma^2)`. It is
fitted by restricted maximum likelihood (REML) as R's
``lmer(y ~ group * time + (time | id), REML = TRUE)`` fits it: ``lme4``'s profiled REML
criterion, minimised over the relative Cholesky factor of ``G`` with its diagonal bounded at
0, computed for all patients at once from each patient's sums
(:mod:`imnm_cohort.analysis.reml`; no statsmodels, which checks it in the tests). Each
patient is in one group, whose design matrix turns the row's ``[1, t]`` into its fixed
effects. A fit is singular (``boundary``) when a diagonal element of that factor is below
1e-4, ``lme4``'s ``isSingular()`` rule.

The covariance of the fixed effects is :math:`(X^T V^{-1} X)^{-1}` at the REML estimates
of ``G`` and :math:`\\sigma^2`, as ``lme4`` reports it (``vcov``), not the inverse of the
observed information of all parameters together (statsmodels' ``cov_params``). Each
group's slope is a linear combination of the fixed effects (the time term, plus the
group's time interaction), with its standard error from the same covariance and a Wald
interval on the normal distribution (``confint(fit, method = "Wald")`` in R).

References
----------
Laird NM, Ware JH. Random-effects models for longitudinal data. Biometrics 1982;38:963-74.
Bates D, Maechler M, Bolker B, Walker S. Fitting linear mixed-effects models using lme4.
J Stat Softw 2015;67(1):1-48.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis import reml
from imnm_cohort.disclosure.declarations import Count, Declaration

#: A group enters the model only with at least this many patients seen at two or more
#: distinct times: fewer cannot separate a patient's own slope from the group's. It is a
#: rule of estimability, not of disclosure (the disclosure policy applies to the counts).
MIN_PATIENTS = 3

#: The name of the model's time term and of its intercept.
TIME, INTERCEPT = "time", "intercept"


class ModelReason(StrEnum):
    """Why a mixed model, or a group's slope, has no numbers.

    The value is a stable code (as :class:`~imnm_cohort.analysis.riskset.NotEstimable`'s
    are for the models of cancer); :meth:`words` is what the result's ``reason`` says.
    """

    #: The model: no group has :data:`MIN_PATIENTS` patients with two or more visit times.
    #: A group's slope: the group has fewer (it is left out of the model).
    TOO_FEW_PATIENTS = "too_few_patients"
    #: The model: the outcome has one value in every row of the model's data.
    NO_VARIATION = "no_variation"
    #: The model: the REML optimisation did not converge.
    NOT_CONVERGED = "not_converged"
    #: The model: the fit failed, or gave a covariance that is not finite.
    NOT_FITTED = "not_fitted"

    def words(self, error: BaseException | str | None = None) -> str:
        """The reason in words; ``error`` names what made a fit fail."""
        if self is ModelReason.TOO_FEW_PATIENTS:
            return f"fewer than {MIN_PATIENTS} patients with visits at two or more times"
        if self is ModelReason.NO_VARIATION:
            return "the outcome has the same value at every visit"
        detail = "" if error is None else f" ({_first_line(error)})"
        if self is ModelReason.NOT_CONVERGED:
            return f"the REML fit did not converge{detail}"
        return f"the model could not be fitted{detail}"


def _first_line(error: BaseException | str) -> str:
    text = str(error).strip().splitlines()
    head = text[0][:120] if text else ""
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {head}" if head else type(error).__name__
    return head


@dataclass(frozen=True)
class Term:
    """A fixed effect, or a linear combination of fixed effects, with its Wald interval.

    Attributes
    ----------
    name : str
    estimate, se : float or None
        None when not estimable (see ``reason``).
    ci : tuple of float, or None
        The Wald interval ``estimate -+ z se``.
    reason : str or None
        Why there is no estimate (a :class:`ModelReason` code), if there is none.
    """

    name: str
    estimate: float | None
    se: float | None
    ci: tuple[float, float] | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci": list(self.ci) if self.ci else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class GroupData:
    """What one group contributes: patients and visits (rows) are counted apart.

    Attributes
    ----------
    patients : int
        Patients with at least one observation.
    visits : int
        Observations (visit rows), never a count of patients.
    in_model : bool
        Whether the group is in the fit (it has :data:`MIN_PATIENTS` patients seen at two or
        more times).
    """

    patients: int
    visits: int
    in_model: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {"patients": self.patients, "visits": self.visits, "in_model": self.in_model}


@dataclass(frozen=True)
class GrowthModel:
    """A fitted linear mixed model of a measure over time by group.

    Attributes
    ----------
    outcome : str
        What is modelled (such as ``log10_ck_uln``).
    time_unit : str
        The unit of time of the slopes (``years``).
    groups : tuple of str
        The groups asked for, in order; the first in the model is the reference.
    data : Mapping[str, GroupData]
        Patients and visits of each group.
    fixed_effects : tuple of Term
        ``intercept``, ``group_<g>`` for each other group, ``time``, ``time:group_<g>``
        (empty when the model has no numbers).
    slopes : Mapping[str, Term]
        Each group's slope (change in the outcome per unit of time).
    random_effects : Mapping[str, float]
        ``sd_intercept``, ``sd_slope``, ``correlation`` and ``sd_residual`` (empty when the
        model has no numbers).
    boundary : bool
        The estimate of ``G`` is singular (a variance at 0 or a correlation at +-1); the fixed
        effects stand, as with ``lme4``'s "boundary (singular) fit".
    reason : str or None
        Why the model has no numbers (a :class:`ModelReason` code), if it has none.
    reason_words : str or None
    alpha : float
    method : str
        ``REML``.
    """

    outcome: str
    time_unit: str
    groups: tuple[str, ...]
    data: Mapping[str, GroupData]
    fixed_effects: tuple[Term, ...]
    slopes: Mapping[str, Term]
    random_effects: Mapping[str, float | None] = field(default_factory=lambda: MappingProxyType({}))
    boundary: bool = False
    reason: str | None = None
    reason_words: str | None = None
    alpha: float = 0.05
    method: str = "REML"

    @property
    def estimable(self) -> bool:
        """Whether the model has numbers."""
        return self.reason is None

    @property
    def patients(self) -> int:
        """Patients with at least one observation, over the groups."""
        return sum(d.patients for d in self.data.values())

    @property
    def visits(self) -> int:
        """Observations (rows), over the groups."""
        return sum(d.visits for d in self.data.values())

    def term(self, name: str) -> Term:
        """The fixed effect called ``name``."""
        for t in self.fixed_effects:
            if t.name == name:
                return t
        raise KeyError(name)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (``$defs`` of the summary's root)."""
        term = {
            "type": "object",
            "properties": {
                "estimate": {"$ref": "#/$defs/number"},
                "se": {"$ref": "#/$defs/number"},
                "ci": {"$ref": "#/$defs/interval"},
                "reason": {"type": ["string", "null"]},
            },
        }
        return {
            "type": "object",
            "description": (
                "A linear mixed model, group x time with a random intercept and slope per "
                "patient (REML): each group's slope per unit of time and the fixed effects."
            ),
            "required": ["outcome", "time_unit", "groups", "slopes", "fixed_effects", "reason"],
            "properties": {
                "outcome": {"type": "string"},
                "time_unit": {"type": "string"},
                "method": {"const": "REML"},
                "alpha": {"type": "number"},
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "patients": {"$ref": "#/$defs/count"},
                            "visits": {"$ref": "#/$defs/count"},
                            "in_model": {"type": "boolean"},
                        },
                    },
                },
                "slopes": {"type": "object", "additionalProperties": term},
                "fixed_effects": {"type": "object", "additionalProperties": term},
                "random_effects": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/number"},
                },
                "boundary": {"type": "boolean"},
                "reason": {"enum": [None, *(r.value for r in ModelReason)]},
                "reason_words": {"type": ["string", "null"]},
            },
        }

    def disclosure(self) -> Declaration:
        """Paths relative to :meth:`to_dict`: each group's patients and visits (rows); a
        group's slope describes its patients, and the fixed and random effects depend on
        every group's."""
        model = (("fixed_effects",), ("random_effects",))
        counts = []
        for g in self.groups:
            counts.append(
                Count(("groups", g, "patients"), describes=(("slopes", g),), dependents=model)
            )
            counts.append(Count(("groups", g, "visits"), dependents=model))
        return Declaration(counts=tuple(counts))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "outcome": self.outcome,
            "time_unit": self.time_unit,
            "method": self.method,
            "alpha": self.alpha,
            "groups": {g: self.data[g].to_dict() for g in self.groups},
            "slopes": {g: self.slopes[g].to_dict() for g in self.groups},
            "fixed_effects": {t.name: t.to_dict() for t in self.fixed_effects},
            "random_effects": dict(self.random_effects),
            "boundary": self.boundary,
            "reason": self.reason,
            "reason_words": self.reason_words,
        }


def fit_growth_model(
    data: pd.DataFrame,
    *,
    outcome: str,
    time: str = "time",
    group: str = "group",
    subject: str = "patient_id",
    groups: Sequence[str] | None = None,
    time_unit: str = "years",
    alpha: float = 0.05,
) -> GrowthModel:
    """Fit ``outcome ~ group * time + (time | subject)`` by REML.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation with the columns ``subject``, ``group``, ``time`` and
        ``outcome``. Rows with a missing time or outcome, or whose group is not one of
        ``groups``, are left out. Not modified.
    outcome, time, group, subject : str
        Column names.
    groups : sequence of str, optional
        The groups, in order (the first in the model is the reference); by default the
        sorted groups of ``data``.
    time_unit : str
        The unit of ``time``, for the result.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    GrowthModel
        Never raises for data it cannot fit: the reason says why (too few patients, no
        convergence, a failed fit), and no warning escapes.

    Raises
    ------
    ValueError
        When a patient's rows are in more than one group (a patient's group is a property
        of the patient).

    Notes
    -----
    The rows are put in one order (subject, time, outcome) before the fit, so the input's
    row order changes no number.
    """
    rows = _model_rows(data, outcome, time, group, subject, groups)
    names = rows.names
    counts = {
        g: GroupData(int(rows.patients[j]), int(rows.visits[j]), bool(rows.in_model[j]))
        for j, g in enumerate(names)
    }
    in_model = tuple(g for j, g in enumerate(names) if rows.in_model[j])

    def empty(reason: ModelReason, error: BaseException | str | None = None) -> GrowthModel:
        slope = Term(TIME, None, None, None, reason.value)
        return GrowthModel(
            outcome, time_unit, names, MappingProxyType(counts), (),
            MappingProxyType({g: _renamed(slope, g) for g in names}),
            reason=reason.value, reason_words=reason.words(error), alpha=alpha,
        )  # fmt: skip

    if not in_model:
        return empty(ModelReason.TOO_FEW_PATIENTS)
    # The rows and patients of the groups in the model, patients coded 0 .. m - 1 afresh.
    position = np.cumsum(rows.in_model) - 1  # a group's place among those in the model
    kept = rows.in_model[rows.patient_group]
    row_kept = kept[rows.subject]
    y, t = rows.y[row_kept], rows.t[row_kept]
    if np.ptp(y) == 0:
        return empty(ModelReason.NO_VARIATION)
    subject_codes = (np.cumsum(kept) - 1)[rows.subject[row_kept]]
    design, term_names = _design(in_model)
    fit = reml.fit(y, t, subject_codes, position[rows.patient_group[kept]], design)
    if isinstance(fit, reml.Failure):
        return empty(ModelReason(fit.reason), fit.error)
    beta, cov_beta = fit.beta, fit.cov_beta
    z = _z(alpha)
    fixed = tuple(_term(n, beta[i], cov_beta[i, i], z) for i, n in enumerate(term_names))
    slopes: dict[str, Term] = {}
    for g in names:
        if g not in in_model:
            slopes[g] = Term(g, None, None, None, ModelReason.TOO_FEW_PATIENTS.value)
            continue
        weights = np.zeros(len(term_names))
        weights[term_names.index(TIME)] = 1.0
        if g != in_model[0]:
            weights[term_names.index(f"{TIME}:group_{g}")] = 1.0
        slopes[g] = _term(g, weights @ beta, weights @ cov_beta @ weights, z)
    return GrowthModel(
        outcome, time_unit, names, MappingProxyType(counts), fixed, MappingProxyType(slopes),
        MappingProxyType(fit.random_effects), fit.boundary, alpha=alpha,
    )  # fmt: skip


def _renamed(term: Term, name: str) -> Term:
    return Term(name, term.estimate, term.se, term.ci, term.reason)


def _z(alpha: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(1 - alpha / 2))


def _term(name: str, estimate: float, variance: float, z: float) -> Term:
    se = float(np.sqrt(variance))
    est = float(estimate)
    return Term(name, est, se, (est - z * se, est + z * se))


@dataclass(frozen=True)
class _Rows:
    """The model's rows, in one order (patient, time, outcome), and what each group has.

    ``subject`` codes each row's patient 0 .. m - 1 (in the order of the patients' names as
    text), ``patient_group`` each patient's group (its place in ``names``); ``patients``,
    ``visits`` and ``in_model`` are by group, in the order of ``names``."""

    names: tuple[str, ...]
    subject: np.ndarray
    t: np.ndarray
    y: np.ndarray
    patient_group: np.ndarray
    patients: np.ndarray
    visits: np.ndarray
    in_model: np.ndarray


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of a column's values as text (-1 when missing), the texts sorted."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = pd.Index(uniques).astype("string")
    text_codes, labels = pd.factorize(texts, sort=True)
    out = np.full(len(codes), -1, dtype=np.intp)
    out[codes >= 0] = text_codes[codes[codes >= 0]]
    return out, pd.Index(labels)


def _model_rows(
    data: pd.DataFrame,
    outcome: str,
    time: str,
    group: str,
    subject: str,
    groups: Sequence[str] | None,
) -> _Rows:
    """The rows with a patient, a group, a time and an outcome, vectorised over columns.

    Raises ``ValueError`` when a patient's rows are in more than one group (a patient's
    group is a property of the patient)."""
    subjects, _ = _codes(data[subject])
    group_codes, labels = _codes(data[group])
    t = pd.to_numeric(data[time], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float)
    keep = (subjects >= 0) & (group_codes >= 0) & np.isfinite(t) & np.isfinite(y)
    present = labels[np.unique(group_codes[keep])]
    names = tuple(groups) if groups is not None else tuple(str(g) for g in present)
    place = np.array([names.index(g) if g in names else -1 for g in labels], dtype=np.intp)
    row_group = np.full(len(group_codes), -1, dtype=np.intp)
    row_group[keep] = place[group_codes[keep]]
    keep &= row_group >= 0
    subjects, row_group, t, y = subjects[keep], row_group[keep], t[keep], y[keep]
    order = _canonical_order(subjects, t, y)
    subjects, row_group, t, y = subjects[order], row_group[order], t[order], y[order]
    first = np.ones(len(subjects), dtype=bool)
    first[1:] = subjects[1:] != subjects[:-1]
    patient = np.cumsum(first) - 1
    patient_group = row_group[first]
    if (patient_group[patient] != row_group).any():
        raise ValueError("a patient's rows are in more than one group")
    new_time = first.copy()
    new_time[1:] |= t[1:] != t[:-1]
    times = np.bincount(patient, weights=new_time, minlength=len(patient_group))
    k = len(names)
    two_times = np.bincount(patient_group[times >= 2], minlength=k)
    return _Rows(
        names, patient, t, y, patient_group,
        np.bincount(patient_group, minlength=k), np.bincount(row_group, minlength=k),
        two_times >= MIN_PATIENTS,
    )  # fmt: skip


def _canonical_order(subjects: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The rows' order by patient, time and outcome (``np.lexsort``'s), in fewer passes: two
    stable sorts, then the outcome only within runs of one patient and time (rare), so the
    input's row order changes no sum. Rows already in that order (a table sorted by patient
    and time) are not sorted again."""
    same = subjects[1:] == subjects[:-1]
    same_t = same & (t[1:] == t[:-1])
    if (
        (subjects[1:] >= subjects[:-1]).all()
        and (~same | (t[1:] >= t[:-1])).all()
        and (~same_t | (y[1:] >= y[:-1])).all()
    ):
        return np.arange(len(subjects))
    order = np.argsort(t, kind="stable")
    order = order[np.argsort(subjects[order], kind="stable")]
    s, ts = subjects[order], t[order]
    tie = (s[1:] == s[:-1]) & (ts[1:] == ts[:-1])
    if tie.any():
        tied = np.zeros(len(order), dtype=bool)
        tied[1:] |= tie
        tied[:-1] |= tie
        where = np.flatnonzero(tied)
        run = np.cumsum(~np.concatenate([[False], tie])[where])
        order[where] = order[where[np.lexsort((y[order[where]], run))]]
    return order


def _design(in_model: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Each group's :math:`E_g` (the row's fixed-effects design is ``[1, t] @ E_g``) and the
    terms' names: intercept, a dummy per other group, time, time x each other group."""
    k = len(in_model)
    design = np.zeros((k, 2, 2 * k))
    design[:, 0, 0] = 1.0
    design[:, 1, k] = 1.0
    for j in range(1, k):
        design[j, 0, j] = 1.0
        design[j, 1, k + j] = 1.0
    others = list(in_model[1:])
    names = [
        INTERCEPT,
        *(f"group_{n}" for n in others),
        TIME,
        *(f"{TIME}:group_{n}" for n in others),
    ]
    return design, names
