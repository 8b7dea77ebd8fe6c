"""The data of a model of cancer by group, and why a model or a term has no numbers.

The cause-specific Cox model (:mod:`imnm_cohort.analysis.survival`) and the Fine-Gray model
(:mod:`imnm_cohort.analysis.finegray`) compare the groups on the same patients: those at
risk of cancer after time zero (:func:`~imnm_cohort.analysis.malignancy.cancer_risk_set`)
with follow-up > 0 and a known onset age, adjusted for onset age and male sex. Both take
those patients, the terms that cannot be estimated and the reason for each from
:func:`model_risk_set`, and both word their reasons from :class:`NotEstimable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import COMPETING, EVENT
from imnm_cohort.analysis.malignancy import MIN_EVENTS, MalignancyOptions, cancer_risk_set


class NotEstimable(StrEnum):
    """Why a model of cancer by group, or one of its terms, has no numbers.

    The value is a stable code; :meth:`words` is what the model's or the term's ``reason``
    says in ``summary.json`` and in the reports (which show a term's as
    "not estimable (words)").
    """

    #: The model: fewer than :data:`~imnm_cohort.analysis.malignancy.MIN_EVENTS` cancers.
    TOO_FEW_EVENTS = "too_few_events"
    #: The model: the reference group has no cancers, so no group can be compared with it.
    NO_EVENTS_IN_REFERENCE = "no_events_in_reference"
    #: The model: no group besides the reference has patients with cancers.
    NO_TWO_GROUPS = "no_two_groups_with_events"
    #: The model: the fit failed (a singular information matrix, an overflow).
    NOT_FITTED = "not_fitted"
    #: A group's term: the group has no patients in the model's data.
    NO_PATIENTS = "no_patients_at_risk"
    #: A group's term: the group's patients have no cancers (its ratio runs to 0).
    NO_EVENTS = "no_events_in_group"
    #: A covariate's term: the same value for every patient in the model.
    NO_VARIATION = "no_variation"
    #: A term whose estimate does not converge (monotone likelihood); Cox model only.
    NOT_CONVERGED = "not_converged"

    def words(self, error: BaseException | None = None) -> str:
        """The reason in words; ``error`` names what made a fit fail (:attr:`NOT_FITTED`)."""
        if self is NotEstimable.NOT_FITTED:
            return f"the model could not be fitted ({_error_words(error)})"
        return _WORDS[self]


_WORDS = {
    NotEstimable.TOO_FEW_EVENTS: f"fewer than {MIN_EVENTS} cancers",
    NotEstimable.NO_EVENTS_IN_REFERENCE: "no cancer in the reference group",
    NotEstimable.NO_TWO_GROUPS: "no two groups with cancers",
    NotEstimable.NO_PATIENTS: "no patients at risk in this group",
    NotEstimable.NO_EVENTS: "no cancer in this group",
    NotEstimable.NO_VARIATION: "no variation",
    NotEstimable.NOT_CONVERGED: (
        "the estimate does not converge (monotone likelihood): not estimable"
    ),
}


def _error_words(error: BaseException | None) -> str:
    if error is None:
        return "no reason given"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:120]}" if text else type(error).__name__


@dataclass(frozen=True)
class ModelRiskSet:
    """The patients a model of cancer by group is fitted on, in patient order.

    Attributes
    ----------
    groups : tuple of str
        The groups compared; the first is the reference.
    label : numpy.ndarray
        Each patient's group.
    time, event : numpy.ndarray
        Years from time zero to cancer, death or end of observation (> 0), and the event
        (0 censored, 1 cancer, 2 death before cancer).
    covariates : dict of str to numpy.ndarray
        What the models adjust for (:func:`adjustment_covariates`), per patient.
    terms : dict of str to NotEstimable or None
        Each group's term (``group_<name>``, the reference excepted), and None where it is
        estimable or the reason it is not.
    in_model : numpy.ndarray
        The patients whose rows enter the fit: those of the reference and of the groups
        with an estimable term. Leaving out a group without cancers is the limit of the full
        model as its coefficient goes to minus infinity.
    """

    groups: tuple[str, ...]
    label: np.ndarray
    time: np.ndarray
    event: np.ndarray
    covariates: dict[str, np.ndarray]
    terms: dict[str, NotEstimable | None]
    in_model: np.ndarray

    @property
    def reference(self) -> str:
        """The reference group."""
        return self.groups[0]

    @property
    def n(self) -> int:
        """Patients in the model's data (in the fit or not)."""
        return len(self.time)

    @property
    def events(self) -> int:
        """Cancers."""
        return int((self.event == EVENT).sum())

    @property
    def competing(self) -> int:
        """Deaths before cancer."""
        return int((self.event == COMPETING).sum())

    def counts(self, competing: bool = False) -> dict[str, dict[str, int]]:
        """Patients, cancers (and deaths before cancer) of each group: see
        :func:`model_groups`."""
        return model_groups(self.label, self.event, self.groups, competing)

    def reason(self) -> NotEstimable | None:
        """Why no model can be fitted (too few cancers, none in the reference group, no
        other group with cancers), or None."""
        if self.events < MIN_EVENTS:
            return NotEstimable.TOO_FEW_EVENTS
        if not (self.event[self.label == self.reference] == EVENT).any():
            return NotEstimable.NO_EVENTS_IN_REFERENCE
        if not any(reason is None for reason in self.terms.values()):
            return NotEstimable.NO_TWO_GROUPS
        return None

    def design(self) -> tuple[pd.DataFrame, dict[str, NotEstimable]]:
        """The model's covariates, one row per patient (in the fit or not), and the
        covariates left out because they do not vary among the patients in the fit.

        Columns: the adjustment covariates, then the indicator of each group with an
        estimable term (``group_<name>``, 1.0 or 0.0), in the order of ``groups``.
        """
        candidates = {
            **self.covariates,
            **{
                term: (self.label == term.removeprefix("group_")).astype(float)
                for term, reason in self.terms.items()
                if reason is None
            },
        }
        columns, constant = {}, {}
        for name, values in candidates.items():
            if np.ptp(values[self.in_model]) == 0:
                constant[name] = NotEstimable.NO_VARIATION
            else:
                columns[name] = values
        return pd.DataFrame(columns), constant


def model_risk_set(
    frame: pd.DataFrame, groups: Sequence[str], options: MalignancyOptions
) -> ModelRiskSet:
    """The patients, times, events and covariates of a model of cancer by group.

    The patients of ``groups`` at risk of cancer after time zero
    (:func:`~imnm_cohort.analysis.malignancy.cancer_risk_set`, in patient order) with
    follow-up > 0 and a known onset age. A group other than the reference has a term that
    is not estimable when it has no such patients, or when it or the reference group has no
    cancers; the patients of the groups without an estimable term are left out of the fit.
    """
    frame, tte, label, keep = cancer_risk_set(frame, groups, options)
    covariates = adjustment_covariates(frame)
    keep &= (tte["time_years"].to_numpy() > 0) & np.isfinite(covariates["onset_age"])
    label = label[keep]
    event = tte["event"].to_numpy()[keep]
    cancer_in = {g: bool((event[label == g] == EVENT).any()) for g in groups}
    terms: dict[str, NotEstimable | None] = {}
    for g in groups[1:]:
        if not (label == g).any():
            terms[f"group_{g}"] = NotEstimable.NO_PATIENTS
        elif not cancer_in[groups[0]]:
            terms[f"group_{g}"] = NotEstimable.NO_EVENTS_IN_REFERENCE
        elif not cancer_in[g]:
            terms[f"group_{g}"] = NotEstimable.NO_EVENTS
        else:
            terms[f"group_{g}"] = None
    left_out = [t.removeprefix("group_") for t, reason in terms.items() if reason is not None]
    return ModelRiskSet(
        tuple(groups),
        label,
        tte["time_years"].to_numpy()[keep],
        event,
        {name: values[keep] for name, values in covariates.items()},
        terms,
        ~np.isin(label, left_out),
    )


def model_groups(
    label: np.ndarray, event: np.ndarray, groups: Sequence[str], competing: bool = False
) -> dict[str, dict[str, int]]:
    """Patients, cancers (and deaths before cancer) of each group in a model's data."""
    out = {}
    for g in groups:
        member = label == g
        counts = {"n": int(member.sum()), "events": int((event[member] == EVENT).sum())}
        if competing:
            counts["competing"] = int((event[member] == COMPETING).sum())
        out[g] = counts
    return out


def adjustment_covariates(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The covariates the models of cancer by group adjust for, per row, as floats:
    ``onset_age`` (NaN where unknown) and ``male`` (1 male, 0 otherwise or unknown)."""
    return {
        "onset_age": frame["age_at_onset_years"].to_numpy(dtype=float, na_value=np.nan),
        "male": (frame["sex"] == "male").to_numpy(dtype=bool, na_value=False).astype(float),
    }
