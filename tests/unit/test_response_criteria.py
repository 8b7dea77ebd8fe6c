"""The 2016 ACR/EULAR Total Improvement Score, the IMACS 2004 definition of improvement and
ProDERM deterioration.

Expected points come from the points table of Aggarwal R et al., Ann Rheum Dis
2017;76:792-801, Table 3 (PMC5577002), as quoted in the project's clinical notes; they are
written out here, not read from the module, so that a wrong table fails. Bands read
(lower, upper].
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import warnings
from dataclasses import FrozenInstanceError
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imnm_cohort as ic
from imnm_cohort.analysis import (
    confirmed_deterioration,
    deteriorations,
    imacs_improvement,
    imacs_improvements,
    total_improvement_scores,
)
from imnm_cohort.errors import ConfigError, ResponseMeasureError

MEASURES = ("physician_global", "patient_global", "mmt", "haq", "enzyme", "extramuscular_global")

# Table 3 of PMC5577002: points per band <= e1, (e1, e2], (e2, e3], (e3, e4], > e4.
POINTS = {
    "physician_global": (0, 7.5, 15, 17.5, 20),
    "patient_global": (0, 2.5, 5, 7.5, 10),
    "mmt": (0, 10, 20, 27.5, 32.5),
    "haq": (0, 5, 7.5, 7.5, 10),
    "enzyme": (0, 2.5, 5, 7.5, 7.5),
    "extramuscular_global": (0, 7.5, 12.5, 15, 20),
}
EDGES = {m: (2, 10, 20, 30) if m == "mmt" else (5, 15, 25, 40) for m in MEASURES}

# A baseline whose measures all stay put at follow-up unless a test moves one.
BASE = {
    "physician_global": 5.0,
    "patient_global": 5.0,
    "mmt": 40.0,
    "haq": 1.5,
    "enzyme": 4.0,
    "extramuscular_global": 5.0,
}
RANGE = {"physician_global": 10, "patient_global": 10, "haq": 3, "extramuscular_global": 10}


def followup_for(measure: str, pct: float, change: str = "default") -> float:
    """The follow-up value of ``measure`` that improves on BASE by ``pct`` percent."""
    base = BASE[measure]
    if measure == "mmt":
        denominator = 80 if change == "default" else base
        return base + pct / 100 * denominator
    denominator = base if change == "baseline" or measure == "enzyme" else RANGE[measure]
    return base - pct / 100 * denominator


def edge_cases() -> list[tuple[str, str, float, float]]:
    cases = []
    for change in ("default", "baseline"):
        for m in MEASURES:
            for i, edge in enumerate(EDGES[m]):
                cases.append((change, m, edge, POINTS[m][i]))  # exactly on the edge
                cases.append((change, m, edge + 0.1, POINTS[m][i + 1]))  # just above
    return cases


@pytest.mark.parametrize(("change", "measure", "pct", "points"), edge_cases())
def test_every_band_edge_of_the_points_table(change, measure, pct, points):
    followup = {**BASE, measure: followup_for(measure, pct, change)}
    score = ic.total_improvement_score(BASE, followup, change=change)
    assert score.points[measure] == points
    assert score.total == points  # every other measure is unchanged: 0 points


@pytest.mark.parametrize("change", ["default", "baseline"])
def test_no_change_and_worsening_score_0(change):
    assert ic.total_improvement_score(BASE, BASE, change=change).total == 0
    worse = {m: followup_for(m, -50, change) for m in MEASURES}
    score = ic.total_improvement_score(BASE, worse, change=change)
    assert score.total == 0 and score.category == "none"
    assert all(p == 0 for p in score.points.values())


@pytest.mark.parametrize("change", ["default", "baseline"])
def test_the_maximum_is_100(change):
    worst = {
        "physician_global": 10,
        "patient_global": 10,
        "mmt": 0,
        "haq": 3,
        "enzyme": 10,
        "extramuscular_global": 10,
    }
    best = {
        "physician_global": 0,
        "patient_global": 0,
        "mmt": 80,
        "haq": 0,
        "enzyme": 1,
        "extramuscular_global": 0,
    }
    score = ic.total_improvement_score(worst, best, change=change)
    assert score.total == 100 and score.category == "major"
    assert dict(score.points) == {m: POINTS[m][4] for m in MEASURES}


def inputs_for_total(target: float) -> dict[str, float]:
    """A follow-up (against BASE) whose points add up to ``target``: a search over the bands,
    with a percent change in the middle of each band."""
    middle = {m: (0, 10, 20, 30, 50) for m in MEASURES} | {"mmt": (0, 5, 15, 25, 40)}
    for bands in itertools.product(range(5), repeat=6):
        if sum(POINTS[m][b] for m, b in zip(MEASURES, bands, strict=True)) == target:
            return {m: followup_for(m, middle[m][b]) for m, b in zip(MEASURES, bands, strict=True)}
    raise AssertionError(target)


@pytest.mark.parametrize(
    ("population", "total", "category"),
    [
        ("adult", 17.5, "none"),
        ("adult", 20, "minimal"),
        ("adult", 37.5, "minimal"),
        ("adult", 40, "moderate"),
        ("adult", 57.5, "moderate"),
        ("adult", 60, "major"),
        ("juvenile", 27.5, "none"),
        ("juvenile", 30, "minimal"),
        ("juvenile", 42.5, "minimal"),
        ("juvenile", 45, "moderate"),
        ("juvenile", 67.5, "moderate"),
        ("juvenile", 70, "major"),
    ],
)
def test_category_thresholds(population, total, category):
    score = ic.total_improvement_score(BASE, inputs_for_total(total), population=population)
    assert score.total == total
    assert score.category == category


def test_hand_worked_patient_a_major_improvement():
    before = {"physician_global": 6, "patient_global": 7, "mmt": 60, "haq": 1.5}
    before |= {"enzyme": 10, "extramuscular_global": 2}
    after = {"physician_global": 2, "patient_global": 4, "mmt": 72, "haq": 1.0}
    after |= {"enzyme": 2, "extramuscular_global": 1}
    # Default convention, adult, MMT-8 (0-80):
    # physician  6 -> 2:  4/10 cm = 40%      (25, 40] -> 17.5
    # patient    7 -> 4:  3/10 cm = 30%      (25, 40] ->  7.5
    # MMT       60 -> 72: 12/80  = 15%       (10, 20] -> 20
    # HAQ      1.5 -> 1.0: 0.5/3 = 16.7%     (15, 25] ->  7.5
    # enzyme    10 -> 2 x ULN: 8/10 = 80%    > 40     ->  7.5
    # extramuscular 2 -> 1: 1/10 cm = 10%    (5, 15]  ->  7.5
    # total 17.5 + 7.5 + 20 + 7.5 + 7.5 + 7.5 = 67.5 >= 60 -> major
    score = ic.total_improvement_score(before, after)
    assert dict(score.points) == {
        "physician_global": 17.5,
        "patient_global": 7.5,
        "mmt": 20,
        "haq": 7.5,
        "enzyme": 7.5,
        "extramuscular_global": 7.5,
    }
    assert (score.total, score.category, score.lower_bound) == (67.5, "major", False)


PATIENT_B = (
    {"physician_global": 7, "patient_global": 8, "mmt": 50, "haq": 2.1}
    | {"enzyme": 25, "extramuscular_global": 3},
    {"physician_global": 5.5, "patient_global": 7, "mmt": 58, "haq": 1.8}
    | {"enzyme": 5, "extramuscular_global": 3.5},
)


def test_hand_worked_patient_b_under_both_conventions():
    before, after = PATIENT_B
    # Default convention (scales relative to their range, enzyme to baseline):
    # physician 7 -> 5.5: 1.5/10 = 15%       (5, 15]  ->  7.5
    # patient   8 -> 7:   1/10   = 10%       (5, 15]  ->  2.5
    # MMT      50 -> 58:  8/80   = 10%       (2, 10]  -> 10
    # HAQ     2.1 -> 1.8: 0.3/3  = 10%       (5, 15]  ->  5
    # enzyme   25 -> 5:   20/25  = 80%       > 40     ->  7.5
    # extramuscular 3 -> 3.5: worse                   ->  0
    # total 7.5 + 2.5 + 10 + 5 + 7.5 + 0 = 32.5: adult minimal (>= 20, < 40)
    score = ic.total_improvement_score(before, after)
    assert (score.total, score.category) == (32.5, "minimal")
    # All relative to baseline:
    # physician 1.5/7 = 21.4%                (15, 25] -> 15
    # patient   1/8   = 12.5%                (5, 15]  ->  2.5
    # MMT       8/50  = 16%                  (10, 20] -> 20
    # HAQ     0.3/2.1 = 14.3%                (5, 15]  ->  5
    # enzyme 80% -> 7.5; extramuscular worse -> 0
    # total 15 + 2.5 + 20 + 5 + 7.5 + 0 = 50: adult moderate (>= 40, < 60)
    score = ic.total_improvement_score(before, after, change="baseline")
    assert (score.total, score.category) == (50, "moderate")
    assert score.change == "baseline"


def test_hand_worked_patient_c_adult_and_juvenile():
    before = {"physician_global": 4, "patient_global": 5, "mmt": 70, "haq": 0.9}
    before |= {"enzyme": 2.0, "extramuscular_global": 1}
    after = {"physician_global": 2, "patient_global": 3.5, "mmt": 74, "haq": 0.6}
    after |= {"enzyme": 1.0, "extramuscular_global": 0.5}
    # Default convention:
    # physician 4 -> 2:    2/10  = 20%       (15, 25] -> 15
    # patient   5 -> 3.5:  1.5/10 = 15% (edge) (5, 15] -> 2.5
    # MMT      70 -> 74:   4/80  = 5%        (2, 10]  -> 10
    # HAQ     0.9 -> 0.6:  0.3/3 = 10%       (5, 15]  ->  5
    # enzyme   2 -> 1:     1/2   = 50%       > 40     ->  7.5
    # extramuscular 1 -> 0.5: 0.5/10 = 5% (edge) <= 5 ->  0
    # total 15 + 2.5 + 10 + 5 + 7.5 + 0 = 40
    # adult: >= 40 -> moderate; juvenile: >= 30 and < 45 -> minimal
    adult = ic.total_improvement_score(before, after)
    juvenile = ic.total_improvement_score(before, after, population="juvenile")
    assert (adult.total, adult.category) == (40, "moderate")
    assert (juvenile.total, juvenile.category) == (40, "minimal")
    assert adult.points["patient_global"] == 2.5 and adult.points["extramuscular_global"] == 0


@pytest.mark.parametrize("absent", ["key", "none", "nan", "pd.NA"])
def test_a_missing_measure_is_an_error_naming_it(absent):
    before, after = PATIENT_B
    after = dict(after)
    if absent == "key":
        del after["haq"]
    else:
        after["haq"] = {"none": None, "nan": math.nan, "pd.NA": pd.NA}[absent]
    with pytest.raises(ResponseMeasureError, match="'haq' is missing at followup") as info:
        ic.total_improvement_score(before, after)
    assert info.value.reasons == ("missing_haq_followup",)
    assert isinstance(info.value, ic.ImnmCohortError)


def test_partial_scores_a_missing_measure_0_as_a_lower_bound():
    before, after = PATIENT_B
    before = {k: v for k, v in before.items() if k != "mmt"}
    # Patient B without a baseline MMT: 32.5 - 10 (MMT) = 22.5, still minimal, a lower bound.
    score = ic.total_improvement_score(before, after, partial=True)
    assert score.total == 22.5 and score.points["mmt"] == 0 and score.category == "minimal"
    assert score.lower_bound and score.missing == ("missing_mmt_baseline",)
    complete = ic.total_improvement_score(*PATIENT_B, partial=True)
    assert complete.total == 32.5 and not complete.lower_bound


def test_out_of_range_and_non_numbers_are_errors_even_when_partial():
    before, after = PATIENT_B
    with pytest.raises(ResponseMeasureError, match="'haq' is out of range at followup"):
        ic.total_improvement_score(before, {**after, "haq": 3.5}, partial=True)
    with pytest.raises(ResponseMeasureError, match="'mmt' is out of range at baseline"):
        ic.total_improvement_score({**before, "mmt": 81}, after)
    with pytest.raises(ResponseMeasureError, match="'physician_global' is not a number"):
        ic.total_improvement_score(before, {**after, "physician_global": "high"})


def test_zero_baselines():
    # An enzyme at 0 x ULN cannot be measured: out of range under either convention.
    for change in ("default", "baseline"):
        with pytest.raises(ResponseMeasureError, match="'enzyme' is out of range at baseline"):
            ic.total_improvement_score({**BASE, "enzyme": 0}, BASE, change=change)
    # Relative to baseline, a global at 0 cannot improve: 0 points, unchanged or worse.
    zero = {**BASE, "physician_global": 0}
    for after in (0, 3):
        score = ic.total_improvement_score(
            zero, {**BASE, "physician_global": after}, change="baseline"
        )
        assert score.points["physician_global"] == 0
    # An MMT rising from 0 is an infinite relative improvement: the top band.
    score = ic.total_improvement_score({**BASE, "mmt": 0}, {**BASE, "mmt": 1}, change="baseline")
    assert score.points["mmt"] == 32.5
    score = ic.total_improvement_score({**BASE, "mmt": 0}, {**BASE, "mmt": 0}, change="baseline")
    assert score.points["mmt"] == 0


def test_unknown_options_are_usage_errors():
    with pytest.raises(ConfigError, match="population 'paediatric'"):
        ic.total_improvement_score(BASE, BASE, population="paediatric")
    with pytest.raises(ConfigError, match="change 'range'"):
        ic.total_improvement_score(BASE, BASE, change="range")
    with pytest.raises(ConfigError, match="mmt_max"):
        ic.total_improvement_score(BASE, BASE, mmt_max=0)


def test_the_result_is_frozen_and_read_only():
    score = ic.total_improvement_score(*PATIENT_B)
    with pytest.raises(FrozenInstanceError):
        score.total = 100  # type: ignore[misc]
    with pytest.raises(TypeError):
        score.points["mmt"] = 32.5  # type: ignore[index]
    assert score.to_dict()["points"]["mmt"] == 10


def test_mmt_max_scales_the_mmt():
    # MMT-8 both sides (0-150): 50 -> 58 is 8/150 = 5.3% -> (2, 10] -> 10 points;
    # 50 -> 80 is 30/150 = 20% (edge) -> 20 points, where on 0-80 it would be 37.5% -> 32.5.
    before, after = {**BASE, "mmt": 50}, {**BASE, "mmt": 80}
    assert ic.total_improvement_score(before, after, mmt_max=150).points["mmt"] == 20
    assert ic.total_improvement_score(before, after).points["mmt"] == 32.5


def test_the_column_form_gives_a_reason_and_keeps_row_labels():
    before = pd.DataFrame([PATIENT_B[0]] * 3, index=["p3", "p1", "p2"])
    after = pd.DataFrame([PATIENT_B[1]] * 3, index=["p1", "p2", "p3"])
    after.loc["p2", "enzyme"] = None
    result = total_improvement_scores(before, after)
    assert list(result.index) == ["p3", "p1", "p2"]
    assert result.loc["p2", "reason"] == "missing_enzyme_followup"
    assert np.isnan(result.loc["p2", "total"]) and pd.isna(result.loc["p2", "category"])
    assert result.loc["p2", "points_mmt"] == 10 and np.isnan(result.loc["p2", "points_enzyme"])
    assert list(result.loc[["p1", "p3"], "total"]) == [32.5, 32.5]
    assert (result.loc[["p1", "p3"], "reason"] == "").all()
    partial = total_improvement_scores(before, after, partial=True)
    assert partial.loc["p2", "total"] == 25 and partial.loc["p2", "lower_bound"]
    with pytest.raises(ConfigError, match="same unique row labels"):
        total_improvement_scores(before, after.iloc[:2])
    with pytest.raises(ConfigError, match="mmt_max must be a positive number for every row"):
        total_improvement_scores(before, after, mmt_max=pd.Series([80, 80], index=["p1", "p2"]))
    per_row = pd.Series([400, 80, 80], index=["p1", "p2", "p3"])
    # p1 on a 0-400 scale: MMT 50 -> 58 is 8/400 = 2% (edge) -> 0 points instead of 10;
    # p3 on 0-80 keeps 32.5.
    by_row = total_improvement_scores(before, after, mmt_max=per_row)
    assert by_row.loc["p1", "points_mmt"] == 0 and by_row.loc["p1", "total"] == 22.5
    assert by_row.loc["p3", "total"] == 32.5
    with pytest.raises(ConfigError, match="mappings of columns"):
        total_improvement_scores(PATIENT_B[0], PATIENT_B[1])


def test_arrow_backed_columns():
    before = pd.DataFrame([PATIENT_B[0]]).convert_dtypes(dtype_backend="pyarrow")
    after = pd.DataFrame([PATIENT_B[1]]).convert_dtypes(dtype_backend="pyarrow")
    assert total_improvement_scores(before, after)["total"].tolist() == [32.5]


# --- The column form equals the scalar form, in any row order ------------------------------

SCALE = {"physician_global": 10, "patient_global": 10, "mmt": 80, "haq": 3}
SCALE |= {"enzyme": 50, "extramuscular_global": 10}


def value(measure: str) -> st.SearchStrategy[Any]:
    top = SCALE[measure]
    low = 0.1 if measure == "enzyme" else 0
    grid = st.integers(0, 40).map(lambda k: round(low + (top - low) * k / 40, 4))
    return st.one_of(grid, st.floats(low, top), st.just(None))


visit = st.fixed_dictionaries({m: value(m) for m in MEASURES})


def scalar_row(before: dict[str, Any], after: dict[str, Any], **options: Any) -> Any:
    try:
        return ic.total_improvement_score(before, after, **options).to_dict()
    except ResponseMeasureError as error:
        return error.reasons


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(st.tuples(visit, visit), min_size=1, max_size=8),
    population=st.sampled_from(["adult", "juvenile"]),
    change=st.sampled_from(["default", "baseline"]),
    partial=st.booleans(),
    seed=st.integers(0, 2**16),
)
@pytest.mark.slow
def test_columns_equal_scalars_in_any_row_order(pairs, population, change, partial, seed):
    options = {"population": population, "change": change, "partial": partial}
    before = pd.DataFrame([b for b, _ in pairs], columns=list(MEASURES), dtype=float)
    after = pd.DataFrame([a for _, a in pairs], columns=list(MEASURES), dtype=float)
    result = total_improvement_scores(before, after, **options)
    for i, (b, a) in enumerate(pairs):
        expected = scalar_row(b, a, **options)
        row = result.iloc[i]
        if isinstance(expected, tuple):
            assert np.isnan(row["total"]) and tuple(row["reason"].split(";")) == expected
        else:
            assert row["total"] == expected["total"]
            assert row["category"] == expected["category"]
            assert bool(row["lower_bound"]) == expected["lower_bound"]
            for m in MEASURES:
                assert row[f"points_{m}"] == expected["points"][m]
            assert 0 <= row["total"] <= 100
    order = np.random.default_rng(seed).permutation(len(pairs))
    shuffled = total_improvement_scores(before.iloc[order], after.iloc[order], **options)
    pd.testing.assert_frame_equal(shuffled.loc[result.index], result)


# --- IMACS 2004 -----------------------------------------------------------------------------

IMACS_BASE = {
    "physician_global": 5.0,
    "patient_global": 5.0,
    "mmt": 50.0,
    "haq": 1.0,
    "enzyme": 4.0,
    "extramuscular_global": 5.0,
}


def imacs(**after: float) -> Any:
    return imacs_improvement(IMACS_BASE, {**IMACS_BASE, **after})


def test_imacs_three_measures_improved_by_20_percent():
    # physician 5 -> 4, patient 5 -> 4, HAQ 1.0 -> 0.8: each exactly 20% better; the rest
    # unchanged: 3 improved, none worse -> improved.
    result = imacs(physician_global=4, patient_global=4, haq=0.8)
    assert result.improved
    assert result.improved_measures == ("physician_global", "patient_global", "haq")
    # patient 5 -> 4.01 is 19.8%: only 2 improved -> not improved.
    assert not imacs(physician_global=4, patient_global=4.01, haq=0.8).improved


def test_imacs_no_more_than_two_worse_by_25_percent():
    # physician, patient 20% better, MMT 50 -> 60 = 20% better; HAQ 1.0 -> 1.25, enzyme
    # 4 -> 5 and extramuscular 5 -> 6.25 each exactly 25% worse: 3 worse -> not improved.
    worse3 = imacs(physician_global=4, patient_global=4, mmt=60, haq=1.25, enzyme=5,
                   extramuscular_global=6.25)  # fmt: skip
    assert not worse3.improved
    assert worse3.worse_measures == ("haq", "enzyme", "extramuscular_global")
    # extramuscular 5 -> 6.24 is 24.8% worse: 2 worse -> improved.
    assert imacs(physician_global=4, patient_global=4, mmt=60, haq=1.25, enzyme=5,
                 extramuscular_global=6.24).improved  # fmt: skip


def test_imacs_mmt_must_not_be_among_the_worse():
    better = {"physician_global": 4, "patient_global": 4, "haq": 0.8, "enzyme": 3.2}
    # MMT 50 -> 37.5 is exactly 25% worse: 4 improved, 1 worse, but it is the MMT.
    assert not imacs(**better, mmt=37.5).improved
    # MMT 50 -> 37.6 is 24.8% worse: not among the worse -> improved.
    assert imacs(**better, mmt=37.6).improved


def test_imacs_columns_and_missing():
    before = pd.DataFrame([IMACS_BASE] * 2)
    after = pd.DataFrame(
        [{**IMACS_BASE, "physician_global": 4, "patient_global": 4, "haq": 0.8}] * 2
    )
    after.loc[1, "mmt"] = None
    result = imacs_improvements(before, after)
    assert result["improved"].tolist()[0] is True and pd.isna(result.loc[1, "improved"])
    assert result.loc[0, "n_improved"] == 3 and result.loc[1, "reason"] == "missing_mmt_followup"
    with pytest.raises(ResponseMeasureError, match="'mmt' is missing at followup"):
        imacs_improvement(IMACS_BASE, after.loc[1].to_dict())


# --- ProDERM deterioration ------------------------------------------------------------------


def deteriorated(**after: float) -> Any:
    return deteriorations(pd.DataFrame([IMACS_BASE]), pd.DataFrame([{**IMACS_BASE, **after}]))[
        "deteriorated"
    ].iloc[0]


def test_deterioration_rules():
    # physician +2 cm and MMT 50 -> 40 (20% worse) -> deteriorated; physician +1.9 cm not.
    assert deteriorated(physician_global=7, mmt=40)
    assert not deteriorated(physician_global=6.9, mmt=40)
    assert not deteriorated(physician_global=7, mmt=40.1)
    # extramuscular +2 cm alone -> deteriorated.
    assert deteriorated(extramuscular_global=7)
    # patient 5 -> 6.5, HAQ 1 -> 1.3, extramuscular 5 -> 6.5: 3 of 5 worse by 30%.
    assert deteriorated(patient_global=6.5, haq=1.3, extramuscular_global=6.5)
    assert not deteriorated(patient_global=6.5, haq=1.29, extramuscular_global=6.5)
    # The enzyme is not read: a missing enzyme does not block it.
    assert deteriorated(extramuscular_global=7, enzyme=math.nan)


def test_confirmed_deterioration_needs_two_consecutive_visits():
    before = pd.DataFrame([IMACS_BASE] * 3)
    worse = {**IMACS_BASE, "extramuscular_global": 7}
    first = pd.DataFrame([worse, worse, worse])
    second = pd.DataFrame([worse, IMACS_BASE, {**worse, "haq": None}])
    confirmed = confirmed_deterioration(before, first, second)
    assert confirmed.tolist()[:2] == [True, False] and pd.isna(confirmed.iloc[2])


@pytest.mark.slow
def test_the_export_keeps_package_import_light():
    code = (
        "import sys, imnm_cohort as ic; "
        "assert 'scipy' not in sys.modules and 'lifelines' not in sys.modules; "
        "assert 'imnm_cohort.analysis.response' not in sys.modules; "
        "assert ic.total_improvement_score.__module__ == 'imnm_cohort.analysis.response'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_row_of_a_visits_table_is_a_mapping_too():
    before, after = (pd.DataFrame([v]).iloc[0] for v in PATIENT_B)
    assert ic.total_improvement_score(before, after).total == 32.5
    with pytest.raises(ConfigError, match="mappings"):
        ic.total_improvement_score([1, 2], after)  # type: ignore[arg-type]


def test_empty_columns_give_empty_results():
    empty = pd.DataFrame(columns=list(MEASURES), dtype=float)
    assert total_improvement_scores(empty, empty).empty
    assert imacs_improvements(empty, empty).empty
    assert deteriorations(empty, empty).empty


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(visit, visit), min_size=1, max_size=8), seed=st.integers(0, 99))
def test_imacs_columns_equal_scalars_in_any_row_order(pairs, seed):
    before = pd.DataFrame([b for b, _ in pairs], columns=list(MEASURES), dtype=float)
    after = pd.DataFrame([a for _, a in pairs], columns=list(MEASURES), dtype=float)
    result = imacs_improvements(before, after)
    for i, (b, a) in enumerate(pairs):
        try:
            scalar = imacs_improvement(b, a)
        except ResponseMeasureError as error:
            assert pd.isna(result["improved"].iloc[i])
            assert tuple(result["reason"].iloc[i].split(";")) == error.reasons
        else:
            assert result["improved"].iloc[i] == scalar.improved
            assert result["n_improved"].iloc[i] == len(scalar.improved_measures)
            assert result["n_worse"].iloc[i] == len(scalar.worse_measures)
    order = np.random.default_rng(seed).permutation(len(pairs))
    shuffled = imacs_improvements(before.iloc[order], after.iloc[order])
    pd.testing.assert_frame_equal(shuffled.loc[result.index], result)


def test_a_baseline_near_the_smallest_float_is_an_infinite_change_without_a_warning():
    # 100 * 10 / 1e-300 is finite, but rounding it to 9 decimals overflows (found by the
    # property above, which draws any float in the scale).
    before = dict.fromkeys(MEASURES, 1.0) | {"physician_global": 1e-300}
    after = dict.fromkeys(MEASURES, 1.0) | {"physician_global": 10.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        imacs = imacs_improvement(before, after)
        score = ic.total_improvement_score(before, after, change="baseline")
    assert imacs.percent_change["physician_global"] == -math.inf
    assert imacs.worse_measures == ("physician_global",)
    assert score.points["physician_global"] == 0


def test_a_response_measure_error_is_bad_data_at_the_command_line():
    from imnm_cohort.cli import EXIT_INPUT, exit_code

    error = ResponseMeasureError("total_improvement_score", ("missing_mmt_baseline",))
    assert exit_code(error) == EXIT_INPUT == 1
    assert str(error) == (
        "total_improvement_score: cannot be computed: measure 'mmt' is missing at baseline"
    )


# --- The public API and the points table, edge by edge --------------------------------------


def test_the_public_signature_is_the_documented_one():
    import inspect

    parameters = inspect.signature(ic.total_improvement_score).parameters
    assert list(parameters)[:2] == ["baseline", "followup"]
    assert all(parameters[p].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in
               ("baseline", "followup"))  # fmt: skip
    assert parameters["mmt_max"].default == 80 and parameters["population"].default == "adult"
    assert parameters["partial"].default is False
    keyword_only = [n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only[:2] == ["mmt_max", "population"]
    score = ic.total_improvement_score(BASE, BASE)
    assert set(score.points) == set(MEASURES) and score.category in ("none", "minimal")
    with pytest.raises(TypeError):
        ic.total_improvement_score(BASE, BASE, 80)  # type: ignore[misc]


def near_edge_cases() -> list[tuple[str, float, float]]:
    """A millionth of a percent below and above every band edge (default convention)."""
    cases = []
    for m in MEASURES:
        for i, edge in enumerate(EDGES[m]):
            cases.append((m, edge - 1e-6, POINTS[m][i]))
            cases.append((m, edge + 1e-6, POINTS[m][i + 1]))
    return cases


@pytest.mark.parametrize(("measure", "pct", "points"), near_edge_cases())
def test_a_hair_either_side_of_every_band_edge(measure, pct, points):
    followup = {**BASE, measure: followup_for(measure, pct)}
    assert ic.total_improvement_score(BASE, followup).points[measure] == points


@pytest.mark.parametrize("measure", MEASURES)
def test_worsening_of_each_measure_alone_scores_0_never_negative(measure):
    for pct in (-0.1, -5, -25):
        followup = {**BASE, measure: followup_for(measure, pct)}
        score = ic.total_improvement_score(BASE, followup)
        assert score.points[measure] == 0 and score.total == 0


def test_the_top_points_add_up_to_100_on_every_scale_and_population():
    assert sum(POINTS[m][4] for m in MEASURES) == 100
    for mmt_max in (80, 150, 260):
        worst = {"physician_global": 10, "patient_global": 10, "mmt": 0, "haq": 3}
        worst |= {"enzyme": 20, "extramuscular_global": 10}
        best = {"physician_global": 0, "patient_global": 0, "mmt": mmt_max, "haq": 0}
        best |= {"enzyme": 1, "extramuscular_global": 0}
        for population in ("adult", "juvenile"):
            score = ic.total_improvement_score(worst, best, mmt_max=mmt_max, population=population)
            assert (score.total, score.category) == (100, "major")


def test_hand_worked_patient_d_on_the_mmt_24_scale():
    before = {"physician_global": 8, "patient_global": 6, "mmt": 150, "haq": 2.4}
    before |= {"enzyme": 40, "extramuscular_global": 4}
    after = {"physician_global": 6.5, "patient_global": 6, "mmt": 180, "haq": 2.1}
    after |= {"enzyme": 36, "extramuscular_global": 1.5}
    # Default convention, MMT-24 (0-260):
    # physician 8 -> 6.5:  1.5/10 = 15% (edge) (5, 15]  ->  7.5
    # patient   6 -> 6:    0%                  <= 5     ->  0
    # MMT     150 -> 180:  30/260 = 11.5%      (10, 20] -> 20
    # HAQ     2.4 -> 2.1:  0.3/3  = 10%        (5, 15]  ->  5
    # enzyme   40 -> 36 x ULN: 4/40 = 10%      (5, 15]  ->  2.5
    # extramuscular 4 -> 1.5: 2.5/10 = 25% (edge) (15, 25] -> 12.5
    # total 7.5 + 0 + 20 + 5 + 2.5 + 12.5 = 47.5: adult moderate, juvenile moderate (>= 45)
    adult = ic.total_improvement_score(before, after, mmt_max=260)
    assert dict(adult.points) == {
        "physician_global": 7.5,
        "patient_global": 0,
        "mmt": 20,
        "haq": 5,
        "enzyme": 2.5,
        "extramuscular_global": 12.5,
    }
    assert (adult.total, adult.category) == (47.5, "moderate")
    juvenile = ic.total_improvement_score(before, after, mmt_max=260, population="juvenile")
    assert juvenile.category == "moderate"
    # On MMT-8's 0-80 the same MMT would be out of range: an error, not a score.
    with pytest.raises(ResponseMeasureError, match="'mmt' is out of range"):
        ic.total_improvement_score(before, after)
