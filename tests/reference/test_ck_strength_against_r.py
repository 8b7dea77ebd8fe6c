"""The CK course and strength analyses against R on one synthetic cohort.

``r/course_cmprsk.R`` reads ``r/course_patients.csv`` and ``r/course_visits.csv`` (written
by ``tests/reference/course_data.py``), derives the time to the first CK <= ULN by the
documented rules on its own, and runs ``cmprsk::cuminc`` (``r/course_cmprsk.csv``, Gray's
test in ``r/course_gray.csv``) and ``lme4::lmer`` on log10(CK/ULN) and on MMT as a
percentage of its scale (``r/course_lme4.csv``); its console output is
``r/course_cmprsk.txt``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from imnm_cohort.analysis.ck_course import CkCourseOptions, ck_course
from imnm_cohort.analysis.strength import strength_course
from tests.reference.course_data import GROUPS, course_cohort, read_course_cohort
from tests.reference.sir_data import HERE

CUMINC = pd.read_csv(HERE / "course_cmprsk.csv")
GRAY = pd.read_csv(HERE / "course_gray.csv").iloc[0]
LME4 = pd.read_csv(HERE / "course_lme4.csv")


@pytest.fixture(scope="module")
def cohort():
    return read_course_cohort()


@pytest.fixture(scope="module")
def ck(cohort):
    return ck_course(*cohort, groups=GROUPS)


def test_the_files_r_read_are_what_the_generator_makes():
    patients, visits = course_cohort()
    assert (HERE / "course_patients.csv").read_text() == patients.to_csv(index=False)
    assert (HERE / "course_visits.csv").read_text() == visits.to_csv(index=False)


def test_time_to_normal_ck_matches_cmprsk_cuminc(cohort):
    # Every month with a patient at risk, as R reports it (the minimum count of patients at
    # risk that a run applies is tested in tests/unit/test_course_time_disclosure.py).
    ck = ck_course(*cohort, CkCourseOptions(min_count=1), groups=GROUPS)
    for _, row in CUMINC.iterrows():
        group = ck.normalisation.groups[row["group"]]
        assert group.n == row["patients"]
        estimate = group.estimate[group.months.index(row["months"])]
        assert estimate == pytest.approx(row["estimate"], abs=1e-10)
    # The variances, from the curve the result reads.
    from imnm_cohort.analysis.ck_course import ck_normalisation_times
    from imnm_cohort.analysis.competing import cumulative_incidence

    times = ck_normalisation_times(*read_course_cohort(), groups=GROUPS)
    for group, rows in CUMINC.groupby("group"):
        mine = times[times["at_risk"] & (times["group"] == group)]
        curve = cumulative_incidence(mine["time_months"].to_numpy(), mine["event"].to_numpy())
        _, var = curve.at(rows["months"].to_numpy())
        assert var == pytest.approx(rows["variance"].to_numpy(), abs=1e-12)


def test_gray_test_matches_cmprsk(ck):
    test = ck.normalisation.test
    assert test.df == GRAY["df"]
    assert test.statistic == pytest.approx(GRAY["statistic"], rel=1e-8)
    assert test.p_value == pytest.approx(GRAY["p_value"], rel=1e-6)


@pytest.mark.parametrize("outcome", ["log10_ck_uln", "mmt_percent"])
def test_course_models_match_lmer(cohort, ck, outcome):
    model = ck.model if outcome == "log10_ck_uln" else strength_course(*cohort, groups=GROUPS).model
    r = LME4[LME4["outcome"] == outcome]
    fixed = r[r["kind"] == "fixed"].set_index("term")
    names = {"(Intercept)": "intercept", "years": "time"}
    for term, row in fixed.iterrows():
        term = str(term)
        name = names.get(term) or (
            f"time:group_{term.removeprefix('group').removesuffix(':years')}"
            if term.endswith(":years")
            else f"group_{term.removeprefix('group')}"
        )
        assert model.term(name).estimate == pytest.approx(row["estimate"], abs=1e-4)
        assert model.term(name).se == pytest.approx(row["se"], abs=1e-4)
    for group, row in r[r["kind"] == "slope"].set_index("term").iterrows():
        assert model.slopes[str(group)].estimate == pytest.approx(row["estimate"], abs=1e-4)
        assert model.slopes[str(group)].se == pytest.approx(row["se"], abs=1e-4)
    counts = r[r["kind"] == "count"].set_index("term")["estimate"]
    assert model.patients == counts["patients"]
    assert model.visits == counts["visits"]
