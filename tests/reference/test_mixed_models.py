"""The growth model (REML, random intercept and slope) against R's ``lme4::lmer``.

``r/mixed_lme4.R`` fits lme4's ``sleepstudy`` (kept as ``r/sleepstudy.csv``; source and
licence in ``r/sleepstudy.md``) and the three-group synthetic set of
``tests/reference/course_data.py`` (``r/mixed_synthetic.csv``), and writes
``r/mixed_lme4.csv`` (its console output: ``r/mixed_lme4.txt``). Fixed effects, their
standard errors and each group's slope must agree to 1e-4.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import norm

from imnm_cohort.analysis.mixed import fit_growth_model
from tests.reference.course_data import GROUPS, mixed_boundary, mixed_synthetic
from tests.reference.sir_data import HERE

R = pd.read_csv(HERE / "mixed_lme4.csv")
TOL = 1e-4


def _r(data: str, kind: str) -> pd.DataFrame:
    return R[(R["data"] == data) & (R["kind"] == kind)].set_index("term")


def _name(r_term: str) -> str:
    """lme4's term name as the toolkit's (``groupsrp:time`` -> ``time:group_srp``)."""
    if r_term in ("(Intercept)",):
        return "intercept"
    if r_term in ("time", "Days"):
        return "time"
    group = r_term.removeprefix("group").removesuffix(":time")
    return f"time:group_{group}" if r_term.endswith(":time") else f"group_{group}"


def test_the_synthetic_files_r_read_are_what_the_generator_makes():
    assert (HERE / "mixed_synthetic.csv").read_text() == mixed_synthetic().to_csv(index=False)
    assert (HERE / "mixed_boundary.csv").read_text() == mixed_boundary().to_csv(index=False)


def test_sleepstudy_matches_lmer():
    d = pd.read_csv(HERE / "sleepstudy.csv").assign(group="all")
    model = fit_growth_model(d, outcome="Reaction", time="Days", subject="Subject")
    r = _r("sleepstudy", "fixed")
    assert model.reason is None and not model.boundary
    for term, row in r.iterrows():
        ours = model.term(_name(str(term)))
        assert ours.estimate == pytest.approx(row["estimate"], abs=TOL)
        assert ours.se == pytest.approx(row["se"], abs=TOL)
    slope = _r("sleepstudy", "slope").loc["all"]
    assert model.slopes["all"].estimate == pytest.approx(slope["estimate"], abs=TOL)
    assert model.slopes["all"].se == pytest.approx(slope["se"], abs=TOL)
    re = _r("sleepstudy", "random")["estimate"]
    for name, value in re.items():
        assert model.random_effects[str(name)] == pytest.approx(value, rel=1e-4)
    assert (model.patients, model.visits) == (18, 180)


def test_three_groups_match_lmer():
    d = pd.read_csv(HERE / "mixed_synthetic.csv")
    model = fit_growth_model(d, outcome="y", time="time", subject="id", groups=GROUPS)
    assert model.reason is None
    fixed = _r("synthetic", "fixed")
    assert [t.name for t in model.fixed_effects] == [_name(str(t)) for t in fixed.index]
    for term, row in fixed.iterrows():
        ours = model.term(_name(str(term)))
        assert ours.estimate == pytest.approx(row["estimate"], abs=TOL)
        assert ours.se == pytest.approx(row["se"], abs=TOL)
    for group, row in _r("synthetic", "slope").iterrows():
        slope = model.slopes[str(group)]
        assert slope.estimate == pytest.approx(row["estimate"], abs=TOL)
        assert slope.se == pytest.approx(row["se"], abs=TOL)
        lo, hi = slope.ci
        assert (lo + hi) / 2 == pytest.approx(slope.estimate)
        assert (hi - lo) / 2 == pytest.approx(norm.ppf(0.975) * slope.se)  # Wald 95%
    re = _r("synthetic", "random")["estimate"]
    for name, value in re.items():
        assert model.random_effects[str(name)] == pytest.approx(value, rel=1e-4)


def test_a_singular_fit_matches_lmer_and_says_it_is_on_the_boundary():
    # No patient effect: lme4's optimum has the random intercept and slope correlated at
    # -1; statsmodels' L-BFGS stops short of it (REML log-likelihood -563.7051 against
    # -563.6899), and the bounded refinement of the same criterion reaches it.
    d = pd.read_csv(HERE / "mixed_boundary.csv")
    model = fit_growth_model(d, outcome="y", time="time", subject="id", groups=GROUPS)
    assert model.reason is None and model.boundary
    for term, row in _r("boundary", "fixed").iterrows():
        ours = model.term(_name(str(term)))
        assert ours.estimate == pytest.approx(row["estimate"], abs=TOL)
        assert ours.se == pytest.approx(row["se"], abs=TOL)
    for group, row in _r("boundary", "slope").iterrows():
        assert model.slopes[str(group)].estimate == pytest.approx(row["estimate"], abs=TOL)
        assert model.slopes[str(group)].se == pytest.approx(row["se"], abs=TOL)
    for name, value in _r("boundary", "random")["estimate"].items():
        assert model.random_effects[str(name)] == pytest.approx(value, rel=1e-4)


def test_the_planted_slopes_are_inside_their_intervals():
    # mixed_synthetic plants slopes -2, -0.5 and -1.2 per unit of time.
    d = pd.read_csv(HERE / "mixed_synthetic.csv")
    model = fit_growth_model(d, outcome="y", time="time", subject="id", groups=GROUPS)
    for group, planted in {"hmgcr": -2.0, "srp": -0.5, "seronegative": -1.2}.items():
        lo, hi = model.slopes[group].ci
        assert lo < planted < hi
