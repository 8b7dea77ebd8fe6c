"""Fine-Gray with a group that has no event of interest: the limit of the full model.

As that group's coefficient goes to minus infinity its patients weigh nothing in any risk
set, while the censoring distribution is still estimated from every patient. Reference:
``r/finegray_empty_group.R`` (``survival::finegray`` on all patients, then ``coxph`` on
the others; ``cmprsk::crr`` with the group in the model agrees to 1e-10), output in
``r/finegray_empty_group_fit.csv`` and ``.txt``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort import classify, synthesize
from imnm_cohort.analysis.finegray import fine_gray, fit_fine_gray
from imnm_cohort.analysis.malignancy import MalignancyOptions
from imnm_cohort.validation.validate import validate_extract
from tests.reference.finegray_data import cohort_design
from tests.reference.finegray_empty_group_data import empty_group_data
from tests.reference.sir_data import HERE


def test_the_fit_without_the_group_matches_r_limit():
    d = empty_group_data()
    r = pd.read_csv(HERE / "finegray_empty_group_fit.csv")
    terms = fit_fine_gray(
        d["time"].to_numpy(), d["event"].to_numpy(), d[["x1", "x2"]], in_model=d["grp"] == 0
    )
    assert [t.coef for t in terms] == pytest.approx(r["limit_coef"].tolist(), rel=1e-6)
    assert [t.se for t in terms] == pytest.approx(r["limit_robust_se"].tolist(), rel=1e-6)
    assert [t.coef for t in terms] == pytest.approx(r["crr_coef"].tolist(), rel=1e-6)


def test_the_censoring_distribution_counts_the_patients_left_out():
    # Dropping the group's patients before the fit estimates the censoring distribution
    # without them: a different model, not the limit.
    d = empty_group_data()
    kept = d[d["grp"] == 0]
    dropped = fit_fine_gray(kept["time"].to_numpy(), kept["event"].to_numpy(), kept[["x1", "x2"]])
    r = pd.read_csv(HERE / "finegray_empty_group_fit.csv")
    assert dropped[0].coef != pytest.approx(r["limit_coef"][0], rel=1e-6)
    # ... and in_model is not the same as dropping the rows first.
    limit = fit_fine_gray(
        d["time"].to_numpy(), d["event"].to_numpy(), d[["x1", "x2"]], in_model=d["grp"] == 0
    )
    assert limit[0].coef != pytest.approx(dropped[0].coef, rel=1e-6)


def test_a_group_without_cancer_is_left_out_of_the_cohort_model():
    frame = classify(validate_extract(synthesize(1500, seed=5)).valid)
    srp = (frame["imnm_group"].astype(str) == "srp").to_numpy()
    frame = frame.assign(cancer_date=frame["cancer_date"].where(~srp))
    options = MalignancyOptions()
    groups = ["hmgcr", "srp", "seronegative"]
    model = fine_gray(frame, groups, options)
    time, event, x, group = cohort_design(frame, options, groups, ["seronegative"])
    direct = fit_fine_gray(time, event, x, in_model=group != "srp")
    by_term = {t.term: t for t in model.terms}
    assert by_term["group_srp"].reason == "no cancer in this group"
    assert [by_term[c].coef for c in x.columns] == pytest.approx([t.coef for t in direct])
    # Counted as reference patients instead, the SRP patients would change the estimate.
    lumped = fit_fine_gray(time, event, x)
    assert not np.isclose(by_term["group_seronegative"].coef, lumped[2].coef, rtol=1e-3)


def test_a_group_without_patients_at_risk_is_a_term_with_its_reason():
    frame = classify(validate_extract(synthesize(1500, seed=5)).valid)
    frame = frame[frame["imnm_group"].astype(str) != "srp"]
    by_term = {t.term: t for t in fine_gray(frame).terms}
    assert by_term["group_srp"].reason == "no patients at risk in this group"
    assert by_term["group_srp"].coef is None
    assert by_term["group_seronegative"].reason is None
