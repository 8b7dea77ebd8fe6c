"""Overall survival and the cause-specific Cox model against lifelines called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import MalignancyOptions, cause_specific_cox, overall_survival
from imnm_cohort.analysis.malignancy import time_to_cancer

IMNM = ["hmgcr", "srp", "seronegative"]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return classify(validate_extract(synthesize(4000, seed=12)).valid)


def test_kaplan_meier_and_log_rank_match_lifelines(cohort):
    result = overall_survival(cohort, IMNM, horizon_years=3)
    end = cohort["death_date"].fillna(cohort["last_followup_date"])
    years = (end - cohort["onset_date"]).dt.days / 365.25
    died = cohort["death_date"].notna()
    group = cohort["imnm_group"].astype(str)
    keep = group.isin(IMNM)
    expected = multivariate_logrank_test(years[keep], group[keep], died[keep])
    assert result.p_value == pytest.approx(expected.p_value, rel=1e-12)
    for g in IMNM:
        km = KaplanMeierFitter().fit(years[group == g], died[group == g])
        assert result.groups[g].survival_at_horizon == pytest.approx(
            float(km.survival_function_at_times(3).iloc[0])
        )
        assert result.groups[g].deaths == int(died[group == g].sum())


def test_cox_matches_lifelines_on_the_same_data(cohort):
    result = cause_specific_cox(cohort, IMNM)
    tte = time_to_cancer(cohort, MalignancyOptions())
    group = cohort["imnm_group"].astype(str)
    keep = group.isin(IMNM) & tte["at_risk"] & (tte["time_years"] > 0)
    data = pd.DataFrame(
        {
            "time": tte["time_years"][keep],
            "cancer": (tte["event"][keep] == 1).astype(int),
            "onset_age": cohort["age_at_onset_years"][keep],
            "male": (cohort["sex"][keep] == "male")
            .to_numpy(dtype=bool, na_value=False)
            .astype(int),
            "group_srp": (group[keep] == "srp").astype(int),
            "group_seronegative": (group[keep] == "seronegative").astype(int),
        }
    )
    # lifelines with its default tolerances, and run to convergence.
    default = CoxPHFitter().fit(data, "time", "cancer")
    tight = CoxPHFitter().fit(
        data, "time", "cancer", fit_options={"precision": 1e-12, "r_precision": 1e-15}
    )
    terms = {t.term: t for t in result.terms}
    for term in ("onset_age", "male", "group_srp", "group_seronegative"):
        hr = terms[term].hazard_ratio
        assert hr == pytest.approx(float(np.exp(default.params_[term])), rel=1e-6)
        assert hr == pytest.approx(float(np.exp(tight.params_[term])), rel=1e-10)
        row = tight.summary.loc[term]
        assert terms[term].ci == pytest.approx(
            (row["exp(coef) lower 95%"], row["exp(coef) upper 95%"]), rel=1e-9
        )
        assert terms[term].p_value == pytest.approx(row["p"], rel=1e-8)
    assert result.events == int(data["cancer"].sum())
    assert all(t.ph_p_value is not None for t in result.terms)


def test_cox_recovers_a_known_hazard_ratio():
    # Exponential times to cancer with hazard 0.05/y (hmgcr) and 0.15/y (srp): HR 3.
    rng = np.random.default_rng(3)
    n = 3000
    group = np.where(rng.random(n) < 0.5, "hmgcr", "srp")
    rate = np.where(group == "srp", 0.15, 0.05)
    t_cancer = rng.exponential(1 / rate)
    t_end = rng.uniform(1, 10, n)
    onset = pd.Timestamp("2010-01-01")
    frame = pd.DataFrame(
        {
            "imnm_group": group,
            "onset_date": onset,
            "diagnosis_date": onset,
            "cancer_date": [
                onset + pd.Timedelta(days=round(t * 365.25)) if t < e else pd.NaT
                for t, e in zip(t_cancer, t_end, strict=True)
            ],
            "cancer_icd10": "C50.9",
            "last_followup_date": [onset + pd.Timedelta(days=round(e * 365.25)) for e in t_end],
            "death_date": pd.NaT,
            "age_at_onset_years": rng.normal(55, 10, n),
            "sex": np.where(rng.random(n) < 0.6, "female", "male"),
        }
    )
    result = cause_specific_cox(frame, ["hmgcr", "srp"])
    srp = next(t for t in result.terms if t.term == "group_srp")
    assert srp.ci[0] < 3.0 < srp.ci[1]
    # About 1,000 cancers: the standard error of log(HR) is about 0.07, so 20% is over 2.5 SE.
    assert srp.hazard_ratio == pytest.approx(3.0, rel=0.2)


def test_too_few_cancers_gives_a_reason_not_a_model(cohort):
    few = cohort[cohort["imnm_group"].isin(IMNM)].head(30)
    result = cause_specific_cox(few, IMNM)
    assert result.terms == () and "fewer than 10" in result.reason
