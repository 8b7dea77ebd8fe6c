"""The course analyses against R, computed independently from the same raw tables.

``r/course/course_reference.R`` (output ``course_reference.csv``, log
``course_reference.txt``) derives, from ``course_patients.csv``, ``course_treatments.csv``
and ``course_visits.csv`` (synthetic: ``tests/unit/course_data.py`` ``cohort(5, 150)``),
the time to second line and to first minimal/moderate/major improvement (its own TIS) and
runs ``cmprsk::cuminc`` (cmprsk 2.2.11) and ``fisher.test`` (R 4.2.2) on them.
``r/course/relapse_reference.R`` applies the relapse convention patient by patient
(``relapse_reference.csv``, ``relapse_rates.csv`` with ``poisson.test`` intervals).
``r/course/mcf.R`` (output ``mcf_mets.csv``) runs ``mets::recurrentMarginal`` (mets 1.3.2)
on ``mcf_data.csv``. Tests never call R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.relapse import mean_cumulative_function
from imnm_cohort.analysis.response_course import ResponseOptions, response_course
from imnm_cohort.analysis.treatments import treatments

HERE = Path(__file__).parent / "r" / "course"
GROUPS = ("hmgcr", "srp", "seronegative")
MONTHS = (6.0, 12.0, 24.0)


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    dates = ["onset_date", "diagnosis_date", "last_followup_date", "death_date"]
    patients = pd.read_csv(
        HERE / "course_patients.csv", parse_dates=dates, dtype={"statin_exposed": "boolean"}
    )
    courses = pd.read_csv(HERE / "course_treatments.csv", parse_dates=["start_date", "stop_date"])
    visits = pd.read_csv(HERE / "course_visits.csv", parse_dates=["visit_date"])
    return patients, courses, visits


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(HERE / "course_reference.csv", keep_default_na=False, na_values=["NA"])


def r_value(ref: pd.DataFrame, quantity: str, group: str = "", at: float | None = None) -> float:
    rows = ref[(ref["quantity"] == quantity) & (ref["group"] == group)]
    if at is not None:
        rows = rows[rows["at"] == at]
    assert len(rows) == 1, (quantity, group, at)
    return float(rows["value"].iloc[0])


def check_incidence(curves, test, ref, name):
    for g in GROUPS:
        for i, m in enumerate(MONTHS):
            expected = r_value(ref, f"{name}_estimate", g, m)
            ours = curves[g].estimate[i]
            if np.isnan(expected):
                assert ours is None
            else:
                assert ours == pytest.approx(expected, abs=1e-10)
    assert test.statistic == pytest.approx(r_value(ref, f"{name}_gray_statistic"), rel=1e-9)
    assert test.p_value == pytest.approx(r_value(ref, f"{name}_gray_p"), rel=1e-9)


def test_time_to_second_line_matches_cuminc(tables, reference):
    patients, courses, _ = tables
    result = treatments(patients, courses)
    check_incidence(result.second_line, result.second_line_test, reference, "second_line")


def test_second_line_variances_match_cuminc(tables, reference):
    from imnm_cohort.analysis.competing import cumulative_incidence
    from imnm_cohort.analysis.course_time import course_patients, months_of
    from imnm_cohort.analysis.treatments import (
        TreatmentOptions,
        _agents,
        _courses,
        _second_line_day,
    )

    patients, courses, _ = tables
    course = course_patients(patients, GROUPS)
    rows = _courses(courses, course)
    options = TreatmentOptions()
    day = _second_line_day(rows, _agents(rows, options), options, len(course))
    follow = course["followup_days"].to_numpy(dtype=float)
    has = np.isfinite(day) & (day <= follow)
    time = months_of(np.where(has, np.fmax(day, 0), follow))
    event = np.where(has, 1, np.where(course["died"], 2, 0))
    for g in GROUPS:
        m = (course["group"] == g).to_numpy()
        _, var = cumulative_incidence(time[m], event[m]).at(np.array(MONTHS))
        for i, month in enumerate(MONTHS):
            expected = r_value(reference, "second_line_variance", g, month)
            if not np.isnan(expected):
                assert var[i] == pytest.approx(expected, rel=1e-8, abs=1e-14)


def test_founding_claim_matches_fisher_test(tables, reference):
    patients, courses, _ = tables
    claim = treatments(patients, courses).founding_claim
    # The log of course_reference.R prints the table: [[15, 9], [60, 64]].
    assert claim.table == {
        "statin_exposed_hmgcr": {"two_or_more": 15, "fewer": 9},
        "other": {"two_or_more": 60, "fewer": 64},
    }
    assert claim.p_value == pytest.approx(r_value(reference, "fisher_p"), rel=1e-12)
    # R finds the conditional MLE and its limits with uniroot (default tolerance about
    # 1e-4 on the log scale); scipy solves to full precision: equal to 1e-4 relative.
    assert claim.odds_ratio == pytest.approx(r_value(reference, "fisher_odds_ratio"), rel=1e-4)
    assert claim.ci is not None
    assert claim.ci[0] == pytest.approx(r_value(reference, "fisher_ci_lower"), rel=1e-4)
    assert claim.ci[1] == pytest.approx(r_value(reference, "fisher_ci_upper"), rel=1e-4)


def test_time_to_improvement_matches_cuminc(tables, reference):
    patients, _, visits = tables
    # every landmark with a patient at risk, as R reports it (see test_course_time_disclosure)
    result = response_course(patients, visits, options=ResponseOptions(min_count=1))
    for level in ("minimal", "moderate", "major"):
        check_incidence(
            result.improvement[level],
            result.improvement_tests[level],
            reference,
            f"improvement_{level}",
        )


def test_categories_at_landmarks_and_visit_counts_match_r(tables, reference):
    patients, _, visits = tables
    result = response_course(patients, visits)
    for g in GROUPS:
        for m in MONTHS:
            at = result.groups[g].landmarks[f"{m:g}"]
            for category in ("none", "minimal", "moderate", "major"):
                expected = r_value(reference, f"landmark_{category}", g, m)
                assert at.categories[category] == expected
    assert result.visits["scored"] == r_value(reference, "visits_scored")
    assert result.visits["not_computed"] == r_value(reference, "visits_not_computed")


def test_mean_cumulative_function_matches_mets():
    data = pd.read_csv(HERE / "mcf_data.csv")
    expected = pd.read_csv(HERE / "mcf_mets.csv")
    for g in ("a", "b"):
        rows = data[data["group"] == g]
        ids = sorted(rows["id"].unique())
        last = rows.groupby("id").last().loc[ids]
        events = rows[rows["status"] == 1]
        ref = expected[expected["group"] == g]
        estimate, se, _ = mean_cumulative_function(
            last["time"].to_numpy(float),
            last["death"].to_numpy(bool),
            pd.Index(ids).get_indexer(events["id"]),
            events["time"].to_numpy(float),
            ref["time"].to_numpy(float),
        )
        assert estimate == pytest.approx(ref["mu"].to_numpy(), abs=1e-12)
        assert se == pytest.approx(ref["se"].to_numpy(), abs=1e-12)


def test_relapses_and_their_rates_match_an_independent_r_computation(tables):
    # relapse_reference.R applies the convention patient by patient in a loop and gives
    # rates with poisson.test's exact interval; relapse_treatments.csv adds prednisolone
    # courses so that doses rise and fall.
    from imnm_cohort.analysis.relapse import find_relapses, relapse

    patients, _, visits = tables
    courses = pd.read_csv(HERE / "relapse_treatments.csv", parse_dates=["start_date", "stop_date"])
    expected = pd.read_csv(HERE / "relapse_reference.csv")
    ours = find_relapses(patients, visits, courses)
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), expected, check_dtype=False, check_exact=True
    )
    assert set(";".join(expected["reasons"]).split(";")) == {
        "ck_above_k_uln_after_normalisation",
        "new_immunotherapy_after_improvement",
        "glucocorticoid_increase_after_improvement",
    }
    result = relapse(patients, visits, courses)
    for _, row in pd.read_csv(HERE / "relapse_rates.csv").iterrows():
        group = result.groups[row["group"]]
        assert group.relapses == row["relapses"]
        assert group.person_years == pytest.approx(row["person_years"], rel=1e-12)
        assert group.rate_per_100py == pytest.approx(row["rate_per_100py"], rel=1e-12)
        assert group.rate_ci == pytest.approx((row["lower"], row["upper"]), rel=1e-10)
