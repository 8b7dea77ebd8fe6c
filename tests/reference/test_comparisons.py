"""Group comparisons against scipy, statsmodels and tableone on the same data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import (
    analyse,
    compare_categorical,
    compare_continuous,
    holm,
    statin_latency,
    table_one,
)
from imnm_cohort.analysis.table_spec import NEIGHBOURS, TableOneOptions

IMNM = ["hmgcr", "srp", "seronegative"]
R_DIR = Path(__file__).parent / "r"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return classify(validate_extract(synthesize(1500, seed=8)).valid)


def _present(frame, variable, group):
    rows = frame[frame["imnm_group"] == group]
    return rows[variable].dropna().astype(float).to_numpy()


@pytest.mark.parametrize("variable", ["age_at_onset_years", "ck_peak"])
def test_kruskal_and_mann_whitney_match_scipy(cohort, variable):
    result = compare_continuous(cohort, variable, IMNM, n_boot=200)
    samples = [_present(cohort, variable, g) for g in IMNM]
    kw = stats.kruskal(*samples)
    assert result.statistic == pytest.approx(kw.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(kw.pvalue, rel=1e-9, abs=1e-300)
    raw = []
    for pair, (a, b) in zip(result.pairwise, [(0, 1), (0, 2), (1, 2)], strict=True):
        mw = stats.mannwhitneyu(samples[a], samples[b], alternative="two-sided")
        assert pair.p_value == pytest.approx(mw.pvalue, rel=1e-9, abs=1e-300)
        assert pair.median_difference == pytest.approx(
            np.median(samples[a]) - np.median(samples[b])
        )
        lo, hi = pair.ci
        assert lo <= pair.median_difference <= hi
        raw.append(mw.pvalue)
    from statsmodels.stats.multitest import multipletests

    expected = multipletests(raw, method="holm")[1]
    assert [p.p_adjusted for p in result.pairwise] == pytest.approx(expected, rel=1e-12)
    summary = result.groups["hmgcr"]
    assert summary.median == pytest.approx(np.median(samples[0]))
    assert summary.q1 == pytest.approx(np.percentile(samples[0], 25))


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04]
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], rel=1e-12)


def test_bootstrap_is_deterministic(cohort):
    a = compare_continuous(cohort, "ck_peak", IMNM, n_boot=300, seed=3)
    b = compare_continuous(cohort, "ck_peak", IMNM, n_boot=300, seed=3)
    assert a == b


def test_chi_square_matches_scipy(cohort):
    result = compare_categorical(cohort, "sex", ["hmgcr", "seronegative"])
    table = pd.crosstab(cohort["imnm_group"].astype(str), cohort["sex"].astype(str)).loc[
        ["hmgcr", "seronegative"]
    ]
    table = table.loc[:, table.sum() > 0]
    if result.test == "chi2":
        expected = stats.chi2_contingency(table.to_numpy(), correction=False)
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    else:
        assert (stats.contingency.expected_freq(table.to_numpy()) < 5).any()
        assert result.test in {"fisher", "fisher_freeman_halton", "permutation_chi2"}
        # This cohort's table is exact-tested: R's fisher.test on the same table, kept in
        # r/contingency_reference.csv (row cohort_sex).
        cells = ";".join(str(int(n)) for n in table.to_numpy().ravel())
        rows = csv.DictReader((R_DIR / "contingency_reference.csv").read_text().splitlines())
        (reference,) = [r for r in rows if r["cells"] == cells and r["test"] == "fisher_exact"]
        assert result.test == "fisher_freeman_halton"
        assert result.p_value == pytest.approx(float(reference["p_value"]), rel=1e-9)


def test_fisher_for_small_two_by_two():
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 6 + ["srp"] * 6,
            "dm_rash": [True] * 5 + [False] + [True] + [False] * 5,
        }
    )
    result = compare_categorical(frame, "dm_rash", ["hmgcr", "srp"])
    assert result.test == "fisher"
    assert result.p_value == pytest.approx(stats.fisher_exact([[1, 5], [5, 1]]).pvalue)


def test_permutation_p_value_matches_exact_enumeration():
    # 3 x 2 table, rows of 8, columns of 12: every table with these margins has
    # probability C(8,a1) C(8,a2) C(8,a3) / C(24,12); the exact p-value sums the tables whose
    # chi-square is at least the observed one.
    from math import comb

    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 8 + ["srp"] * 8 + ["seronegative"] * 8,
            "sex": ["female"] * 6
            + ["male"] * 2
            + ["female"] * 2
            + ["male"] * 6
            + ["female"] * 4
            + ["male"] * 4,
        }
    )
    result = compare_categorical(frame, "sex", IMNM, n_perm=20000, seed=1, max_exact_tables=0)
    assert result.test == "permutation_chi2"
    observed = stats.chi2_contingency([[6, 2], [2, 6], [4, 4]], correction=False).statistic
    assert result.statistic == pytest.approx(observed)
    exact = 0.0
    for a1 in range(9):
        for a2 in range(9):
            a3 = 12 - a1 - a2
            if not 0 <= a3 <= 8:
                continue
            table = [[a1, 8 - a1], [a2, 8 - a2], [a3, 8 - a3]]
            chi = stats.chi2_contingency(table, correction=False).statistic
            if chi >= observed - 1e-9:
                exact += comb(8, a1) * comb(8, a2) * comb(8, a3) / comb(24, 12)
    assert abs(result.p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000)
    again = compare_categorical(frame, "sex", IMNM, n_perm=20000, seed=1, max_exact_tables=0)
    assert again == result


def test_tiny_and_empty_groups_give_reasons_not_crashes():
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr", "hmgcr", "hmgcr", "srp"],
            "ck_peak": [1000.0, 2000.0, 3000.0, 5000.0],
        }
    )
    result = compare_continuous(frame, "ck_peak", IMNM, n_boot=50)
    assert result.p_value is None and "srp" in result.reason and "seronegative" in result.reason
    assert all(p.p_value is None for p in result.pairwise)
    assert result.groups["seronegative"].n == 0


def test_table_one_matches_tableone(cohort):
    import tableone

    imnm = cohort[cohort["imnm_group"].isin(IMNM)].copy()
    imnm["group"] = imnm["imnm_group"].astype(str)
    imnm["age"] = imnm["age_at_onset_years"]
    t1 = tableone.TableOne(
        imnm[["group", "age", "ck_peak"]],
        columns=["age", "ck_peak"],
        groupby="group",
        nonnormal=["age", "ck_peak"],
        pval=True,
        decimals=2,
    )
    ours = table_one(cohort, IMNM)
    frame = t1.tableone
    for group in IMNM:
        s = ours.row("age_at_onset_years").cells[group]
        cell = frame.loc[("age, median [Q1,Q3]", ""), ("Grouped by group", group)]
        assert cell == f"{s.median:.2f} [{s.q1:.2f},{s.q3:.2f}]"
    p_cell = frame.loc[("ck_peak, median [Q1,Q3]", ""), ("Grouped by group", "P-Value")]
    p = ours.row("ck_peak").test.p_value
    assert p_cell.strip() == ("<0.001" if p < 0.001 else f"{p:.3f}")


def test_standardized_mean_differences_match_tableone(cohort):
    import tableone

    imnm = cohort[cohort["imnm_group"].isin(IMNM)].copy()
    imnm["group"] = imnm["imnm_group"].astype(str)
    imnm["eular"] = imnm["eular_acr_2017_category"].astype(str)
    imnm["sex"] = imnm["sex"].astype(str)
    ours = table_one(cohort, IMNM)
    # Table 1 merges a small level with its neighbour before disclosure control (collapse
    # before suppress): the reference is given the same rows.
    for members, merged in NEIGHBOURS["sex"]:
        if merged in ours.row("sex").levels:
            imnm["sex"] = imnm["sex"].replace(dict.fromkeys(members, merged))
    reference = tableone.TableOne(
        imnm[["group", "age_at_onset_years", "ck_peak", "sex", "eular"]],
        columns=["age_at_onset_years", "ck_peak", "sex", "eular"],
        categorical=["sex", "eular"],
        groupby="group",
        smd=True,
    ).smd_table
    compared = 0
    for ours_name, theirs in [
        ("age_at_onset_years", "age_at_onset_years"),
        ("ck_peak", "ck_peak"),
        ("sex", "sex"),
        ("eular_acr_2017_category", "eular"),
    ]:
        for (a, b), smd in ours.row(ours_name).smd.items():
            column = next(c for c in reference.columns if c in (f"SMD ({a},{b})", f"SMD ({b},{a})"))
            assert smd == pytest.approx(abs(float(reference.loc[theirs, column])), rel=1e-9)
            compared += 1
    assert compared == 12


def test_table_one_keeps_missing_in_the_denominator():
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 4,
            "sex": ["female", "male", "female", None],
            "statin_exposed": [True, None, None, False],
            "dm_rash": [False] * 4,
            "emg_myopathic": [True] * 4,
            "age_at_onset_years": [50.0, 60, 70, None],
            "ck_peak": [1e3] * 4,
            "followup_years": [1.0] * 4,
            "onset_date": pd.to_datetime(["2020-01-01"] * 4),
            "diagnosis_date": pd.to_datetime(["2020-03-01", None, None, None]),
            "eular_acr_2017_category": ["probable"] * 4,
        }
    )
    t = table_one(frame, ["hmgcr"])
    sex = t.row("sex").cells["hmgcr"]
    assert sex.counts == {"female": 2, "male": 1, "missing": 1} and sex.denominator == 4
    assert sex.percent("female") == 50.0 and sex.percent("missing") == 25.0
    assert t.row("age_at_onset_years").cells["hmgcr"].missing == 1
    delay = t.row("onset_to_diagnosis_months").cells["hmgcr"]
    # 2020-01-01 to 2020-03-01 is 60 days; a month is 365.25 / 12 = 30.4375 days.
    assert delay.n == 1 and delay.missing == 3 and delay.median == pytest.approx(60 / 30.4375)
    left_out = table_one(frame, ["hmgcr"], TableOneOptions(missing="exclude"))
    sex = left_out.row("sex").cells["hmgcr"]
    assert sex.counts == {"female": 2, "male": 1, "missing": 1} and sex.denominator == 3
    assert sex.percent("female") == pytest.approx(200 / 3) and sex.percent("missing") is None
    assert "known value" in left_out.footnotes()[0] and "own" in t.footnotes()[0]


def test_statin_latency_compares_hmgcr_with_toxic_myopathy(cohort):
    result = statin_latency(cohort)
    a = cohort.loc[cohort["imnm_group"] == "hmgcr", "statin_latency_months"].dropna()
    b = cohort.loc[cohort["imnm_group"] == "statin_toxic", "statin_latency_months"].dropna()
    assert result.p_value == pytest.approx(
        stats.mannwhitneyu(a, b, alternative="two-sided").pvalue, rel=1e-9, abs=1e-300
    )
    assert result.groups["hmgcr"].median > result.groups["statin_toxic"].median


def test_analyse_is_deterministic_and_never_modifies_input(cohort):
    before = cohort.copy()
    a = analyse(cohort, n_boot=200)
    b = analyse(cohort, n_boot=200)
    pd.testing.assert_frame_equal(cohort, before)
    assert a.to_dict() == b.to_dict()
    assert set(a.to_dict()["comparisons"]) == {
        "onset_age",
        "ck_peak",
        "statin_latency",
        "malignancy",
    }
    assert all(isinstance(m, str) and m for m in a.methods())


def test_overall_test_only_skips_pairs_but_keeps_the_kruskal_wallis(cohort):
    full = compare_continuous(cohort, "ck_peak", IMNM, n_boot=50)
    overall = compare_continuous(cohort, "ck_peak", IMNM, pairwise=False)
    assert overall.pairwise == () and overall.p_value == full.p_value


def test_fisher_with_a_zero_cell_gives_the_p_value_and_no_infinite_odds_ratio():
    # hmgcr: 4 female, 0 male; srp: 1 female, 3 male. The sample odds ratio (4*3)/(0*1) is
    # infinite, which JSON cannot hold; the p-value is scipy's.
    frame = pd.DataFrame(
        {"imnm_group": ["hmgcr"] * 4 + ["srp"] * 4, "sex": ["female"] * 5 + ["male"] * 3}
    )
    result = compare_categorical(frame, "sex", ("hmgcr", "srp"))
    assert result.test == "fisher" and result.statistic is None
    assert result.p_value == stats.fisher_exact([[4, 0], [1, 3]]).pvalue
    json.dumps(result.to_dict(), allow_nan=False)
