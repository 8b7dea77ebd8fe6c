"""The course analyses on tiny tables worked by hand, and their invariants.

The numbers against R are in ``tests/reference/test_mixed_models.py`` and
``tests/reference/test_ck_strength_against_r.py``.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import imnm_cohort.analysis.reml as reml
from imnm_cohort.analysis.ck_course import (
    CkCourseOptions,
    NotAtRisk,
    ck_course,
    ck_normalisation,
    ck_normalisation_times,
)
from imnm_cohort.analysis.course import binned_series, course_patients
from imnm_cohort.analysis.mixed import MIN_PATIENTS, ModelReason, fit_growth_model
from imnm_cohort.analysis.strength import StrengthOptions, strength_course
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.vocabulary import DAYS_PER_MONTH
from tests.reference.course_data import GROUPS, course_cohort, typed

DIAGNOSIS = "2020-01-01"


def _patients(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "imnm_group": "hmgcr",
        "onset_date": "2019-10-01",
        "diagnosis_date": DIAGNOSIS,
        "last_followup_date": "2021-12-31",
        "death_date": None,
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    for column in ("onset_date", "diagnosis_date", "last_followup_date", "death_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _visits(rows: list[tuple]) -> pd.DataFrame:
    """(patient, days after 2020-01-01, ck, ck_uln, mmt, mmt_max)."""
    frame = pd.DataFrame(rows, columns=["patient_id", "days", "ck", "ck_uln", "mmt", "mmt_max"])
    frame["visit_date"] = pd.Timestamp(DIAGNOSIS) + pd.to_timedelta(frame.pop("days"), "D")
    for column in ("ck", "ck_uln", "mmt", "mmt_max"):
        frame[column] = frame[column].astype(float)
    return frame


@pytest.fixture(scope="module")
def small_cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    return typed(*course_cohort(n_per_group=8, seed=7))


# Time zero


def test_time_zero_is_the_diagnosis_date_else_the_onset_date():
    p = _patients(
        [
            {"patient_id": "B", "diagnosis_date": None},
            {"patient_id": "A"},
            {"patient_id": "C", "last_followup_date": "2019-12-01"},
        ]
    )
    people = course_patients(p, GROUPS)
    assert people["patient_id"].tolist() == ["A", "B", "C"]
    assert people["time_zero"].tolist()[:2] == [pd.Timestamp(DIAGNOSIS), pd.Timestamp("2019-10-01")]
    assert people["from_onset"].tolist() == [False, True, False]
    assert people["end"].tolist()[:2] == [pd.Timestamp("2021-12-31")] * 2
    assert pd.isna(people["end"].iloc[2]) and np.isnan(people["follow_up_days"].iloc[2])


# Time to a normal CK


def test_time_to_a_normal_ck_worked_by_hand():
    patients = _patients(
        [
            {"patient_id": "A"},
            {"patient_id": "B"},
            {"patient_id": "C"},
            {"patient_id": "D", "last_followup_date": "2020-06-20", "death_date": "2020-06-30"},
            {"patient_id": "E"},
            {"patient_id": "F", "diagnosis_date": None, "onset_date": "2019-12-27"},
            {"patient_id": "G", "last_followup_date": "2020-03-01"},
            {"patient_id": "H", "imnm_group": "not_imnm"},
        ]
    )
    nan = np.nan
    visits = _visits(
        [
            # A: the CK nearest diagnosis is at +9 days (not -12): raised; normal at day 91.
            ("A", -12, 2000, nan, nan, nan), ("A", 9, 3000, nan, nan, nan),
            ("A", 91, 150, nan, nan, nan), ("A", 200, 120, nan, nan, nan),
            # B: -10 and +10 are as near: the earlier, normal, is the baseline.
            ("B", -10, 100, nan, nan, nan), ("B", 10, 5000, nan, nan, nan),
            # C: no CK within 30 days of diagnosis (and a visit without one).
            ("C", 0, nan, nan, 50, nan), ("C", 40, 5000, nan, nan, nan),
            # D: raised, never normal, dies on day 181 (death competes).
            ("D", 0, 4000, nan, nan, nan), ("D", 100, 900, nan, nan, nan),
            # E: -5 and +5 are as near: the earlier is raised against the lab's ULN of 300;
            # normal (250 <= 300) at day 5.
            ("E", -5, 400, 300, nan, nan), ("E", 5, 250, 300, nan, nan),
            # F: no diagnosis date: time zero is onset (2019-12-27); raised then.
            ("F", -5, 900, nan, nan, nan),
            # G: a normal CK after the end of observation does not count: censored, day 60.
            ("G", 0, 800, nan, nan, nan), ("G", 90, 100, nan, nan, nan),
            ("H", 0, 800, nan, nan, nan),
        ]
    )  # fmt: skip
    times = ck_normalisation_times(patients, visits).set_index("patient_id")
    assert times.index.tolist() == list("ABCDEFG")  # H is not in an IMNM group
    assert times.loc["A", "event"] == 1
    assert times.loc["A", "time_months"] == pytest.approx(91 / DAYS_PER_MONTH)
    assert times.loc["B", "reason"] == NotAtRisk.CK_NORMAL_AT_BASELINE
    assert times.loc["C", "reason"] == NotAtRisk.NO_BASELINE_CK
    assert times.loc["D", ["event", "time_months"]].tolist() == [2, pytest.approx(181 / 30.4375)]
    assert times.loc["E", ["event", "time_months"]].tolist() == [1, pytest.approx(5 / 30.4375)]
    assert times.loc["F", ["at_risk", "event"]].tolist() == [True, 0]
    assert times.loc["F", "time_months"] == pytest.approx(
        (pd.Timestamp("2021-12-31") - pd.Timestamp("2019-12-27")).days / DAYS_PER_MONTH
    )
    assert times.loc["G", ["event", "time_months"]].tolist() == [0, pytest.approx(60 / 30.4375)]
    assert not times.loc[["B", "C"], "at_risk"].any()

    # Every month with a patient at risk (min_count=1): the estimator by hand.
    normalisation = ck_normalisation(patients, visits, CkCourseOptions(min_count=1))
    result = normalisation.groups["hmgcr"]
    assert (result.n, result.events, result.competing) == (5, 2, 1)  # 2 censored
    assert dict(normalisation.not_at_risk["hmgcr"]) == {
        "no_baseline_ck": 1,
        "ck_normal_at_baseline": 1,
        "no_follow_up_after_time_zero": 0,
    }
    # E normal at day 5 among 5 at risk (1/5); G censored at day 60; A normal at day 91
    # among A, D and F: 1/5 + (4/5)(1/3); D's death on day 181 adds nothing to it.
    assert result.months[0] == 6.0
    assert result.estimate[0] == pytest.approx(0.2 + 0.8 / 3)
    # F, followed to 2021-12-31, keeps the curve estimated at 24 months.
    assert result.estimate[2] == pytest.approx(0.2 + 0.8 / 3)
    # With the run's minimum count (5), nothing is shown: at 6, 12 and 24 months only F is
    # still at risk (A and E reached a normal CK, D died at day 181, G was censored).
    withheld = ck_normalisation(patients, visits).groups["hmgcr"]
    assert (withheld.estimate, withheld.ci) == ((None,) * 3, (None,) * 3)
    text = json.dumps(normalisation.to_dict())
    assert '"not_at_risk"' in text and '"at_months"' in text


def test_a_wider_baseline_window_takes_an_earlier_ck():
    patients = _patients([{"patient_id": "C"}])
    visits = _visits(
        [("C", 40, 5000, np.nan, np.nan, np.nan), ("C", 100, 50, np.nan, np.nan, np.nan)]
    )
    wide = ck_normalisation_times(patients, visits, CkCourseOptions(baseline_window_days=45))
    assert wide["event"].tolist() == [1]
    assert ck_normalisation_times(patients, visits)["reason"].tolist() == ["no_baseline_ck"]


def test_gray_test_says_why_with_one_group():
    patients = _patients([{"patient_id": "A"}])
    visits = _visits(
        [("A", 0, 5000, np.nan, np.nan, np.nan), ("A", 50, 50, np.nan, np.nan, np.nan)]
    )
    test = ck_normalisation(patients, visits).test
    assert test.statistic is None and test.reason == "fewer than two groups"


# Full strength


def test_full_strength_takes_the_nearest_visit_and_counts_patients_and_visits_apart():
    patients = _patients(
        [
            {"patient_id": "A"},
            {"patient_id": "B"},
            {"patient_id": "C"},
            {"patient_id": "D", "last_followup_date": "2020-04-01", "death_date": "2020-04-10"},
            {"patient_id": "E"},
            {"patient_id": "F", "imnm_group": "srp"},
        ]
    )
    nan = np.nan
    visits = _visits(
        [
            # A: day 300 (97.5%) and day 380 (87.5%); 380 is nearer 365.25: not full.
            ("A", 300, nan, nan, 78, nan), ("A", 380, nan, nan, 70, nan),
            # B: MMT-8 both sides: 143/150 = 95.3% at day 365: full.
            ("B", 365, nan, nan, 143, 150),
            # C: no visit within 3 months of 12 months.
            ("C", 200, nan, nan, 80, nan),
            # D: died before 12 months.
            ("D", 60, nan, nan, 40, nan),
            # E: a visit at 12 months without an MMT.
            ("E", 365, 300, nan, nan, nan),
            ("F", 365, nan, nan, 80, nan),
        ]
    )  # fmt: skip
    result = strength_course(patients, visits)
    at12 = result.full_strength["12"]["hmgcr"]
    assert (at12.patients, at12.assessed, at12.full) == (5, 2, 1)
    assert at12.proportion == 0.5 and at12.ci is not None
    assert (at12.not_assessed, at12.died_before, at12.visits_in_window) == (3, 1, 3)  # A 2, B 1
    assert result.full_strength["12"]["srp"].full == 1
    assert result.full_strength["24"]["hmgcr"].assessed == 0
    assert result.full_strength["24"]["hmgcr"].proportion is None
    # A window of 0.4 months (12.2 days) leaves A's visits out (65 and 14.75 days away).
    narrow = strength_course(patients, visits, StrengthOptions(window_months=0.4))
    assert narrow.full_strength["12"]["hmgcr"].assessed == 1  # B only


def test_strength_options_are_checked():
    with pytest.raises(ValueError, match="full_percent"):
        StrengthOptions(full_percent=120)
    with pytest.raises(ValueError, match="window_months"):
        StrengthOptions(window_months=-1)


# The series per time bin


def _series_rows() -> pd.DataFrame:
    rows = [("p1", 10, 10.0), ("p1", 20, 20.0), ("p1", 30, 30.0)]  # p1: mean 20
    rows += [(f"p{i}", 15, float(v)) for i, v in zip(range(2, 7), [1, 2, 3, 4, 5], strict=True)]
    rows += [("p2", 100, 7.0), ("p3", 120, 9.0)]  # 3-6 months: two patients
    frame = pd.DataFrame(rows, columns=["patient_id", "days", "value"])
    return frame.assign(group="hmgcr")


def test_the_series_averages_each_patient_and_withholds_small_bins():
    series = binned_series(_series_rows(), "value", groups=["hmgcr"], bins_months=(0, 3, 6, 12))
    first, second, third = series.groups["hmgcr"]
    # 0-3 months: six patients (p1's three visits count once, as their mean 20), 8 visits.
    assert (first.patients, first.visits, first.withheld) == (6, 8, False)
    assert first.estimate == pytest.approx(np.mean([20, 1, 2, 3, 4, 5]))
    assert first.ci[0] < first.estimate < first.ci[1]
    # 3-6 months: two patients, fewer than the minimum count: no value shown.
    assert (second.patients, second.visits, second.withheld) == (2, 2, True)
    assert second.estimate is None and second.ci is None
    assert (third.patients, third.estimate, third.withheld) == (0, None, False)
    assert series.min_count == DEFAULT_MIN_COUNT
    assert series.to_dict()["bins_months"] == ["0-3", "3-6", "6-12"]


def test_the_median_interval_is_from_the_order_statistics():
    series = binned_series(
        _series_rows(), "value", groups=["hmgcr"], bins_months=(0, 3), statistic="median"
    )
    (only,) = series.groups["hmgcr"]
    # Values 1, 2, 3, 4, 5, 20: median 3.5; with n = 6, P(Bin(6, 1/2) <= 0) = 1/64 < 0.025
    # and P(<= 1) = 7/64 > 0.025: ranks 1 and 6.
    assert only.estimate == 3.5 and only.ci == (1.0, 20.0)
    five = binned_series(
        _series_rows()[lambda d: d["patient_id"] != "p6"], "value", groups=["hmgcr"],
        bins_months=(0, 3), statistic="median",
    )  # fmt: skip
    assert five.groups["hmgcr"][0].ci is None  # n = 5 cannot give a 95% interval


def test_the_series_refuses_bad_options():
    with pytest.raises(ValueError, match="statistic"):
        binned_series(_series_rows(), "value", groups=["hmgcr"], statistic="mode")
    with pytest.raises(ValueError, match="increasing"):
        binned_series(_series_rows(), "value", groups=["hmgcr"], bins_months=(3, 0))


# The mixed model's reasons


def _lines(n: int, noise: float = 0.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.tile([0.0, 0.5, 1.0, 1.5], n)
    pid = np.repeat([f"p{i}" for i in range(n)], 4)
    y = 5 - 2 * t + np.repeat(rng.normal(0, 1, n), 4) + rng.normal(0, noise, len(t))
    return pd.DataFrame({"patient_id": pid, "group": "hmgcr", "time": t, "y": y})


def test_too_few_patients_is_a_reason_not_an_error():
    model = fit_growth_model(_lines(MIN_PATIENTS - 1, 0.3), outcome="y")
    assert model.reason == ModelReason.TOO_FEW_PATIENTS and not model.estimable
    assert model.fixed_effects == () and model.slopes["hmgcr"].reason == "too_few_patients"
    assert model.reason_words == "fewer than 3 patients with visits at two or more times"
    assert model.data["hmgcr"].patients == MIN_PATIENTS - 1


def test_a_group_with_too_few_patients_is_left_out_of_the_model():
    srp = _lines(2, 0.3, seed=2).assign(group="srp", patient_id=lambda d: "s" + d["patient_id"])
    model = fit_growth_model(pd.concat([_lines(8, 0.3), srp]), outcome="y", groups=GROUPS)
    assert model.estimable
    assert [t.name for t in model.fixed_effects] == ["intercept", "time"]
    assert model.slopes["srp"].reason == "too_few_patients"
    assert model.slopes["seronegative"].reason == "too_few_patients"
    assert model.slopes["hmgcr"].ci[0] < -2 < model.slopes["hmgcr"].ci[1]
    assert model.data["srp"].to_dict() == {"patients": 2, "visits": 8, "in_model": False}


def test_a_perfect_fit_gives_its_slope_and_no_warning_escapes():
    # Each patient's values lie exactly on a line: the residual variance goes to 0 and
    # statsmodels warns on the way (pytest turns a leaked warning into an error).
    model = fit_growth_model(_lines(6), outcome="y")
    assert model.random_effects["sd_residual"] < 1e-4
    assert model.slopes["hmgcr"].estimate == pytest.approx(-2.0, abs=1e-4)


def test_a_constant_outcome_is_a_reason():
    model = fit_growth_model(_lines(6).assign(y=1.0), outcome="y")
    assert model.reason == ModelReason.NO_VARIATION


def test_a_failed_fit_is_a_reason(monkeypatch):
    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix\nmore")

    monkeypatch.setattr(reml, "minimise_deviance", fail)
    model = fit_growth_model(_lines(6, 0.3), outcome="y")
    assert model.reason == ModelReason.NOT_FITTED
    assert model.reason_words == "the model could not be fitted (LinAlgError: Singular matrix)"


def test_an_optimisation_stopped_short_is_not_converged(monkeypatch):
    # One iteration of L-BFGS-B from lme4's start is not an optimum: the optimiser's
    # message becomes the reason's words.
    monkeypatch.setattr(reml, "MAX_ITERATIONS", 1)
    model = fit_growth_model(_lines(6, 0.3), outcome="y")
    assert model.reason == "not_converged"
    assert "ITERATIONS REACHED LIMIT" in model.reason_words


def test_a_patient_in_two_groups_is_refused():
    d = _lines(6, 0.3)
    d.loc[0, "group"] = "srp"
    with pytest.raises(ValueError, match="more than one group"):
        fit_growth_model(d, outcome="y")


def test_the_rows_order_is_lexsorts_with_ties():
    from imnm_cohort.analysis.mixed import _canonical_order

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        s, t = rng.integers(0, 5, n), rng.integers(0, 4, n).astype(float)
        y = rng.integers(0, 3, n).astype(float)
        for order in (_canonical_order(s, t, y), np.lexsort((y, t, s))):
            keys = np.column_stack([s[order], t[order], y[order]])
            assert (keys == keys[np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))]).all()
        done = np.lexsort((y, t, s))  # already in order: kept as it is
        assert (_canonical_order(s[done], t[done], y[done]) == np.arange(n)).all()


def test_tied_rows_in_any_order_give_the_same_model():
    d = _lines(8, 0.4)
    ties = d.iloc[::3].assign(y=lambda x: x["y"] + 0.37)  # same patient and time, another y
    d = pd.concat([d, ties], ignore_index=True)
    first = json.dumps(fit_growth_model(d, outcome="y").to_dict(), sort_keys=True)
    for seed in range(3):
        shuffled = d.sample(frac=1, random_state=seed)
        again = json.dumps(fit_growth_model(shuffled, outcome="y").to_dict(), sort_keys=True)
        assert again == first


def test_every_reason_has_its_own_words():
    words = [code.words() for code in ModelReason]
    assert all(words) and len(set(words)) == len(words)


def test_the_fixed_effects_covariance_is_lme4s():
    # lme4's vcov is (X' V^-1 X)^-1 at the REML estimates of G and the residual variance
    # (statsmodels' bse_fe inverts the joint observed information instead).
    d = _lines(10, 0.5)
    model = fit_growth_model(d, outcome="y")
    re = model.random_effects
    off = re["correlation"] * re["sd_intercept"] * re["sd_slope"]
    g = np.array([[re["sd_intercept"] ** 2, off], [off, re["sd_slope"] ** 2]])
    scale = re["sd_residual"] ** 2
    x = np.column_stack([np.ones(len(d)), d["time"]])
    v = np.zeros((len(d), len(d)))  # V built patient by patient, for this small example
    for p in d["patient_id"].unique():
        i = np.flatnonzero(d["patient_id"].to_numpy() == p)
        v[np.ix_(i, i)] = x[i] @ g @ x[i].T + scale * np.eye(len(i))
    cov = np.linalg.inv(x.T @ np.linalg.solve(v, x))
    assert model.term("intercept").se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-9)
    assert model.term("time").se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-9)
    subject = pd.factorize(d["patient_id"])[0]
    sums = reml.patient_sums(
        d["y"].to_numpy(), d["time"].to_numpy(), subject, np.zeros(10, int), np.eye(2)[None]
    )
    beta, cov_sums = reml.generalised_least_squares(sums, g, scale)
    assert cov_sums == pytest.approx(cov, rel=1e-9)
    assert beta == pytest.approx(cov @ x.T @ np.linalg.solve(v, d["y"].to_numpy()), rel=1e-9)
    # The REML deviance is statsmodels' -2 x REML log-likelihood at the same G.
    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # only its llf is read here
        sm = MixedLM(d["y"].to_numpy(), x, groups=subject, exog_re=x).fit(reml=True)
    psi = np.asarray(sm.cov_re) / sm.scale
    assert reml.reml_deviance(sums, psi) == pytest.approx(-2 * sm.llf, rel=1e-10)


def test_the_gradient_is_the_deviances():
    d = pd.concat([_lines(8, 0.4), _lines(7, 0.6, seed=4).assign(group="srp")])
    d["patient_id"] = d["patient_id"] + d["group"]
    rows = pd.factorize(d["patient_id"])[0]
    group = (d.groupby(rows)["group"].first() == "srp").to_numpy(int)
    design = np.zeros((2, 2, 4))
    design[:, 0, 0] = design[:, 1, 2] = design[1, 0, 1] = design[1, 1, 3] = 1.0
    sums = reml.patient_sums(d["y"].to_numpy(), d["time"].to_numpy(), rows, group, design)
    for theta in ([1.0, 0.0, 1.0], [0.7, -0.3, 0.2], [2.0, 0.5, 1e-3]):
        theta = np.array(theta)
        value, gradient = reml.deviance_and_gradient(theta, sums)
        assert value == pytest.approx(reml.reml_deviance(sums, reml.relative_covariance(theta)))
        step = 1e-6
        numeric = [
            (reml.deviance_and_gradient(theta + step * e, sums)[0]
             - reml.deviance_and_gradient(theta - step * e, sums)[0]) / (2 * step)
            for e in np.eye(3)
        ]  # fmt: skip
        assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-5)


# Invariants


def _dumps(result) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


@pytest.fixture(scope="module")
def results(small_cohort):
    patients, visits = small_cohort
    copies = patients.copy(), visits.copy()
    return copies, ck_course(patients, visits), strength_course(patients, visits)


def test_shuffling_the_rows_changes_no_number(small_cohort, results):
    patients, visits = small_cohort
    _, ck, strength = results
    rng = np.random.default_rng(3)
    shuffled_p = patients.iloc[rng.permutation(len(patients))]
    shuffled_v = visits.iloc[rng.permutation(len(visits))].reset_index(drop=True)
    assert _dumps(ck_course(shuffled_p, shuffled_v)) == _dumps(ck)
    assert _dumps(strength_course(shuffled_p, shuffled_v)) == _dumps(strength)


def test_the_inputs_are_not_modified_and_no_identifier_or_date_leaves(small_cohort, results):
    patients, visits = small_cohort
    copies, ck, strength = results
    pd.testing.assert_frame_equal(patients, copies[0])
    pd.testing.assert_frame_equal(visits, copies[1])
    text = _dumps(ck) + _dumps(strength)
    assert not any(pid in text for pid in patients["patient_id"])
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_the_course_results_say_what_they_did(small_cohort, results):
    patients, _ = small_cohort
    _, ck, strength = results
    assert ck.model.estimable and strength.model.estimable
    assert ck.time_zero_from_onset == int(patients["diagnosis_date"].isna().sum()) > 0
    assert ck.patients == strength.patients == len(patients)
    assert "Gray's test" in ck.method() and "REML" in ck.method()
    assert "95% of maximum" in strength.method()
    assert ck.series.statistic == "median" and strength.series.statistic == "mean"


def test_no_visits_and_no_patients_give_reasons_not_errors():
    patients = _patients([{"patient_id": "A"}, {"patient_id": "B", "imnm_group": "srp"}])
    for visits in (_visits([]), _visits([("Z", 0, 1000, np.nan, 50, np.nan)])):
        ck, strength = ck_course(patients, visits), strength_course(patients, visits)
        assert ck.model.reason == strength.model.reason == ModelReason.TOO_FEW_PATIENTS
        assert ck.model.visits == strength.model.visits == 0
        assert ck.normalisation.test.statistic is None
        assert ck.normalisation.not_at_risk["hmgcr"]["no_baseline_ck"] == 1
        assert strength.full_strength["12"]["hmgcr"].to_dict()["proportion"] is None
        assert all(b.patients == 0 for b in ck.series.groups["srp"])
    nobody = _patients([{"patient_id": "A", "imnm_group": "not_imnm"}])
    assert ck_course(nobody, _visits([])).patients == 0


def test_every_count_is_declared_for_disclosure(results):
    from imnm_cohort.disclosure.suppression import suppress

    _, ck, strength = results
    for result in (ck, strength):
        out = suppress(result.to_dict(), result.disclosure(), DEFAULT_MIN_COUNT)
        assert out.undeclared == ()
    # A landmark's group with 1 to 4 patients at full strength is withheld, with its
    # proportion.
    out = suppress(strength.to_dict(), strength.disclosure(), DEFAULT_MIN_COUNT)
    small = [
        (landmark, g)
        for landmark, by_group in strength.full_strength.items()
        for g, r in by_group.items()
        if 0 < r.full < DEFAULT_MIN_COUNT
    ]
    assert small
    for landmark, g in small:
        shown = out.data["full_strength"][landmark][g]
        assert shown["full"] != strength.full_strength[landmark][g].full
        assert shown["proportion"] != strength.full_strength[landmark][g].proportion


def test_the_results_and_their_disclosed_form_follow_their_json_schema(results):
    jsonschema = pytest.importorskip("jsonschema")
    from imnm_cohort.analysis.schema import VALUE_DEFS
    from imnm_cohort.disclosure.suppression import suppress

    _, ck, strength = results
    for result in (ck, strength):
        schema = {**result.json_schema(), "$defs": VALUE_DEFS}
        jsonschema.validate(json.loads(_dumps(result)), schema)
        shown = suppress(result.to_dict(), result.disclosure(), DEFAULT_MIN_COUNT).data
        jsonschema.validate(json.loads(json.dumps(shown)), schema)


def test_the_fit_needs_no_statsmodels(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m.startswith("statsmodels")] + ["statsmodels"]:
        monkeypatch.setitem(sys.modules, name, None)  # any import of it fails
    model = fit_growth_model(_lines(6, 0.3), outcome="y")
    assert model.estimable
    assert model.slopes["hmgcr"].ci[0] < -2 < model.slopes["hmgcr"].ci[1]


def test_a_missing_column_is_one_line_of_bad_data():
    from imnm_cohort.errors import ExtractError

    patients = _patients([{"patient_id": "A"}])
    with pytest.raises(ExtractError, match="visits table: no column 'mmt_max'"):
        strength_course(patients, _visits([]).drop(columns="mmt_max"))
    with pytest.raises(ExtractError, match="patients table: no column 'death_date'"):
        ck_course(patients.drop(columns="death_date"), _visits([]))
