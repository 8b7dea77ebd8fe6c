"""Relapse by the project's convention: hand-worked patients, rates, the mean cumulative
function by hand, disclosure and row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.intervals import poisson_exact
from imnm_cohort.analysis.relapse import (
    RelapseDefinition,
    find_relapses,
    mean_cumulative_function,
    relapse,
)
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.errors import ConfigError
from tests.unit.course_data import cohort

T0 = pd.Timestamp("2020-01-01")
CK = "ck_above_k_uln_after_normalisation"
NEW = "new_immunotherapy_after_improvement"
GC = "glucocorticoid_increase_after_improvement"


def day(n: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def tiny() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Five patients, diagnosed on 2020-01-01; visits and courses by day since diagnosis."""
    ids = ["R1", "R2", "R3", "R4", "R5"]
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "imnm_group": ["hmgcr", "srp", "seronegative", "seronegative", "srp"],
            "onset_date": [T0 - pd.Timedelta(days=60)] * 5,
            "diagnosis_date": [T0] * 5,
            "last_followup_date": [day(366), day(300), day(200), day(200), day(100)],
            "death_date": [pd.NaT] * 5,
        }
    )
    visits = pd.DataFrame(
        [
            # R1: high, normal, 1.5 x (decides nothing), 2.5 x ULN -> relapse at day 90;
            # normal again at 200; 1000 U/L with a ULN of 400 is 2.5 x -> day 260.
            ("R1", 0, 5000, None), ("R1", 30, 150, None), ("R1", 60, 300, None),
            ("R1", 90, 500, None), ("R1", 200, 100, None), ("R1", 260, 1000, 400),
            # R2 never normalises: refractory, no relapse.
            ("R2", 0, 5000, None), ("R2", 100, 3000, None),
            # R3 normal at day 10.
            ("R3", 10, 100, None),
            # R4 high at 0; normal on day 50, the day a new drug starts.
            ("R4", 0, 5000, None), ("R4", 50, 100, None),
            # R5 normal, then high before diagnosis: not after time zero.
            ("R5", -40, 100, None), ("R5", -10, 900, None),
        ],
        columns=["patient_id", "d", "ck", "ck_uln"],
    )  # fmt: skip
    visits["visit_date"] = visits["d"].map(day)
    visits = visits.drop(columns="d")
    courses = pd.DataFrame(
        [
            ("R1", "prednisone", 0, 60.0), ("R1", "rituximab", 100, None),
            ("R1", "prednisone", 150, 10.0), ("R1", "prednisone", 250, 20.0),
            ("R2", "methotrexate", 120, None),
            ("R3", "methotrexate", 40, None),
            ("R4", "azathioprine", 50, None),
        ],
        columns=["patient_id", "drug", "d", "dose_mg_per_day"],
    )  # fmt: skip
    courses["start_date"] = courses["d"].map(day)
    courses["stop_date"] = pd.NaT
    return patients, visits, courses.drop(columns="d")


def test_hand_worked_relapses_with_their_reasons():
    found = find_relapses(*tiny())
    # R1: CK 2.5 x ULN at day 90 after the normal CK of day 30 (day 60's 1.5 x decides
    # nothing). Rituximab at day 100: the last decisive CK (day 90) is high, not a relapse.
    # Prednisone 10 -> 20 mg at day 250 after the normal CK of day 200, and CK 2.5 x ULN at
    # day 260, 10 days later: one relapse at day 250 with both reasons.
    # R2 never normalised; R3 methotrexate at day 40 after a normal CK at day 10; R4's
    # azathioprine starts on the day of its first normal CK (judged on the visits before:
    # high); R5's rise is before diagnosis.
    assert found[["patient_id", "day", "reasons"]].values.tolist() == [
        ["R1", 90.0, CK],
        ["R1", 250.0, f"{CK};{GC}"],
        ["R3", 40.0, NEW],
    ]
    assert found["group"].tolist() == ["hmgcr", "hmgcr", "seronegative"]


def test_each_part_of_the_definition_can_be_changed():
    data = tiny()
    # k = 3: 2.5 x ULN is no longer high, so R1's last decisive CK before rituximab (day
    # 100) is day 30's normal: a relapse by escalation; and day 250's dose increase.
    k3 = find_relapses(*data, definition=RelapseDefinition(k=3))
    assert k3.loc[k3["patient_id"] == "R1", ["day", "reasons"]].values.tolist() == [
        [100.0, NEW],
        [250.0, GC],
    ]
    no_ck = find_relapses(*data, definition=RelapseDefinition(ck_rise=False))
    assert no_ck["reasons"].tolist() == [GC, NEW]  # R1 day 250, R3 day 40
    apart = find_relapses(*data, definition=RelapseDefinition(merge_days=0))
    assert apart.loc[apart["patient_id"] == "R1", "day"].tolist() == [90.0, 250.0, 260.0]
    only_ck = RelapseDefinition(new_immunotherapy=False, glucocorticoid_increase=False)
    assert find_relapses(*data, definition=only_ck)["reasons"].tolist() == [CK, CK]
    for bad in ({"k": 0.5}, {"merge_days": -1}, {"immunotherapy_classes": ("glucocorticoid",)}):
        with pytest.raises(ConfigError):
            RelapseDefinition(**bad)
    with pytest.raises(ConfigError, match="at least one rule"):
        RelapseDefinition(ck_rise=False, new_immunotherapy=False, glucocorticoid_increase=False)


def test_rates_per_100_person_years_with_exact_intervals():
    result = relapse(*tiny(), min_count=0)
    hmgcr = result.groups["hmgcr"]
    # R1: 2 relapses in 366 days = 366 / 365.25 person-years.
    py = 366 / 365.25
    assert (hmgcr.relapses, hmgcr.patients_relapsed, hmgcr.person_years) == (2, 1, py)
    assert hmgcr.rate_per_100py == pytest.approx(200 / py)
    lo, hi = poisson_exact(2, py)
    assert hmgcr.rate_ci == pytest.approx((100 * lo, 100 * hi))
    assert hmgcr.by_reason == {CK: 2, NEW: 0, GC: 1}
    srp = result.groups["srp"]
    assert (srp.relapses, srp.rate_per_100py) == (0, 0.0) and srp.rate_ci[0] == 0.0
    assert result.to_dict()["definition"]["convention"].startswith("imnm-cohort")


def test_mean_cumulative_function_by_hand_with_ties():
    # s0 dies at 10 with relapses at 2 and 5; s1 censored at 8, relapse at 5; s2 dies at 5;
    # s3 censored at 12, relapse at 11.
    exit_time = np.array([10.0, 8.0, 5.0, 12.0])
    died = np.array([True, False, True, False])
    subject = np.array([0, 0, 1, 3])
    times = np.array([2.0, 5.0, 5.0, 11.0])
    # Y(2) = 4, Y(5) = 4, Y(10) = 2, Y(11) = 1. Deaths: 5 (1 of 4), 10 (1 of 2).
    # S(u-): 1 at 2 and 5 (the death at 5 counts after the relapses at 5), 0.75 at 10,
    # 0.375 at 11. mu(2) = 1/4; mu(5) = 1/4 + 2/4 = 3/4; mu(11) = 3/4 + 0.375 * 1/1.
    estimate, _, at_risk = mean_cumulative_function(
        exit_time, died, subject, times, np.array([1.0, 3.0, 5.0, 11.0, 12.0])
    )
    assert estimate == pytest.approx([0, 0.25, 0.75, 1.125, 1.125])
    assert at_risk.tolist() == [4, 4, 4, 1, 1]


def brute_force_se(exit_time, died, subject, times, t):
    """The Ghosh-Lin influence functions summed subject by subject, time by time."""
    grid = np.unique(np.concatenate([times, exit_time[died]]))
    y = np.array([(exit_time >= u).sum() for u in grid], float)
    dr = np.array([(times == u).sum() for u in grid], float)
    dd = np.array([((exit_time == u) & died).sum() for u in grid], float)
    s = np.cumprod(1 - dd / y)
    s_before = np.r_[1.0, s[:-1]]
    mu = np.cumsum(s_before * dr / y)
    mu_t = mu[grid <= t][-1] if (grid <= t).any() else 0.0
    total = 0.0
    for i in range(len(exit_time)):
        psi = 0.0
        for j, u in enumerate(grid):
            if u > t:
                break
            at_risk = exit_time[i] >= u
            n_r = ((subject == i) & (times == u)).sum()
            n_d = float(died[i] and exit_time[i] == u)
            psi += s_before[j] / y[j] * (n_r - at_risk * dr[j] / y[j])
            psi += (mu[j] - mu_t) / y[j] * (n_d - at_risk * dd[j] / y[j])
        total += psi**2
    return np.sqrt(total)


def test_mean_cumulative_function_se_equals_a_subject_by_subject_sum():
    rng = np.random.default_rng(7)
    n = 30
    exit_time = rng.integers(5, 40, n).astype(float)
    died = rng.random(n) < 0.4
    subject = np.repeat(np.arange(n), rng.integers(0, 4, n))
    times = np.floor(rng.random(len(subject)) * exit_time[subject]) + 1  # ties
    keep = times <= exit_time[subject]
    subject, times = subject[keep], times[keep]
    at = np.array([3.0, 10.0, 20.0, 35.0])
    _, se, _ = mean_cumulative_function(exit_time, died, subject, times, at)
    expected = [brute_force_se(exit_time, died, subject, times, t) for t in at]
    assert se == pytest.approx(expected, rel=1e-12)


def test_mcf_points_need_the_minimum_count_under_observation():
    result = relapse(*tiny())  # 1 to 2 patients per group: below 5 throughout
    assert all(e is None for g in result.groups.values() for e in g.mcf.estimate)
    shown = relapse(*tiny(), min_count=1, mcf_months=(6.0, 24.0))
    hmgcr = shown.groups["hmgcr"].mcf
    # R1 alone: relapses at days 90 and 250 (8.2 months) -> mu(6 months) = 1; at 24 months
    # R1 (366 days) is no longer under observation.
    assert hmgcr.estimate == (1.0, None) and hmgcr.at_risk == (1, None)


def test_every_count_is_declared_and_rows_in_any_order_give_the_same_numbers():
    patients, visits, courses = cohort(4, 100)
    result = relapse(patients, visits, courses)
    assert suppress(result.to_dict(), result.disclosure(), 5).undeclared == ()
    rng = np.random.default_rng(1)
    shuffled = relapse(
        patients.iloc[rng.permutation(len(patients))],
        visits.iloc[rng.permutation(len(visits))],
        courses.iloc[rng.permutation(len(courses))],
    )
    assert shuffled.to_dict() == result.to_dict()
    assert result.method().startswith("Relapse followed the toolkit's convention")


def test_empty_event_tables_and_an_empty_cohort_give_zeros():
    patients, visits, courses = cohort(1, 30)
    no_visits, no_courses = visits.iloc[:0], courses.iloc[:0]
    assert find_relapses(patients, no_visits, no_courses).empty
    result = relapse(patients, no_visits, no_courses, min_count=1)
    assert all(g.relapses == 0 and g.mcf.estimate[0] == 0 for g in result.groups.values())
    assert all(g.n == 0 for g in relapse(patients.iloc[:0], visits, courses).groups.values())
