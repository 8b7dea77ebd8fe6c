"""The cause-specific Cox and Fine-Gray models share one risk set and one set of reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import imnm_cohort.analysis.finegray as finegray
import imnm_cohort.analysis.survival as survival
from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis.malignancy import MIN_EVENTS, MalignancyOptions
from imnm_cohort.analysis.riskset import NotEstimable, model_risk_set


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return classify(validate_extract(synthesize(1500, seed=5)).valid)


def _group(frame: pd.DataFrame) -> pd.Series:
    return frame["imnm_group"].astype(str)


def _both(frame: pd.DataFrame) -> tuple[dict, dict]:
    return survival.cause_specific_cox(frame).to_dict(), finegray.fine_gray(frame).to_dict()


def _reasons(model: dict) -> dict[str, str | None]:
    return {t["term"]: t["reason"] for t in model["terms"]}


def test_every_reason_has_its_own_words():
    words = [code.words() for code in NotEstimable]
    assert all(words) and len(set(words)) == len(words)
    assert NotEstimable.TOO_FEW_EVENTS.words() == f"fewer than {MIN_EVENTS} cancers"
    failed = NotEstimable.NOT_FITTED.words(np.linalg.LinAlgError("Singular matrix\nmore"))
    assert failed == "the model could not be fitted (LinAlgError: Singular matrix)"


def test_both_models_say_the_same_of_a_group_without_cancers_and_a_constant_covariate(cohort):
    srp = _group(cohort) == "srp"
    frame = cohort.assign(cancer_date=cohort["cancer_date"].where(~srp), sex="female")
    cox, fine_gray = _both(frame)
    assert cox["reason"] is None and fine_gray["reason"] is None
    for model in (cox, fine_gray):
        reasons = _reasons(model)
        assert reasons["group_srp"] == NotEstimable.NO_EVENTS.words()
        assert reasons["male"] == NotEstimable.NO_VARIATION.words()
        assert reasons["onset_age"] is None and reasons["group_seronegative"] is None


def test_both_models_say_the_same_of_a_group_without_patients(cohort):
    cox, fine_gray = _both(cohort[_group(cohort) != "srp"])
    for model in (cox, fine_gray):
        assert _reasons(model)["group_srp"] == NotEstimable.NO_PATIENTS.words()


@pytest.mark.parametrize(
    ("cancers_in", "expected"),
    [
        (("srp", "seronegative"), NotEstimable.NO_EVENTS_IN_REFERENCE),
        (("hmgcr",), NotEstimable.NO_TWO_GROUPS),
    ],
)
def test_both_models_give_the_same_reason_for_no_model(cohort, cancers_in, expected):
    frame = cohort.assign(cancer_date=cohort["cancer_date"].where(_group(cohort).isin(cancers_in)))
    assert model_risk_set(frame, ("hmgcr", "srp", "seronegative"), MalignancyOptions()).events
    for model in _both(frame):
        assert model["terms"] == [] and model["reason"] == expected.words()


def test_both_models_give_the_same_reason_for_too_few_cancers():
    frame = classify(validate_extract(synthesize(60, seed=5)).valid)
    for model in _both(frame):
        assert model["terms"] == [] and model["reason"] == NotEstimable.TOO_FEW_EVENTS.words()


def test_both_models_give_the_same_reason_for_a_fit_that_fails(cohort, monkeypatch):
    def singular(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(survival, "fit_cox", singular)
    monkeypatch.setattr(finegray, "fit_fine_gray", singular)
    for model in _both(cohort):
        assert model["terms"] == []
        assert model["reason"] == "the model could not be fitted (LinAlgError: Singular matrix)"


def test_both_models_are_fitted_on_the_same_patients(cohort):
    data = model_risk_set(cohort, ("hmgcr", "srp", "seronegative"), MalignancyOptions())
    cox, fine_gray = _both(cohort)
    assert cox["n"] == fine_gray["n"] == data.n and cox["events"] == fine_gray["events"]
    assert fine_gray["competing"] == data.competing
    for g, counts in cox["groups"].items():
        assert counts == {k: fine_gray["groups"][g][k] for k in ("n", "events")}
    assert (data.time > 0).all() and np.isfinite(data.covariates["onset_age"]).all()


def test_a_frame_without_patient_ids_is_modelled_in_its_own_row_order(cohort):
    shuffled = cohort.sample(frac=1, random_state=4)
    cox, fine_gray = _both(cohort)
    without_ids = shuffled.drop(columns="patient_id")
    assert survival.cause_specific_cox(without_ids).to_dict() == cox
    other = finegray.fine_gray(without_ids).to_dict()
    for mine, theirs in zip(other["terms"], fine_gray["terms"], strict=True):
        assert mine["term"] == theirs["term"]
        assert mine["coef"] == pytest.approx(theirs["coef"], rel=1e-9)
