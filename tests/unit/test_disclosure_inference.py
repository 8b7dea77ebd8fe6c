"""Withheld counts stay withheld against inference: each test replays an attack on the
published numbers (statistics, totals, denominators, notes) and checks it no longer works."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import imnm_cohort as ic
from imnm_cohort.analysis import TableOneOptions, analyse, compare_continuous, table_one
from imnm_cohort.analysis.compare import compare_categorical
from imnm_cohort.analysis.table_spec import TableOneVariable
from imnm_cohort.disclosure.suppression import WITHHELD, journal_p, suppress
from imnm_cohort.report import model_tables
from imnm_cohort.vocabulary import IMNM_GROUPS

SEX = TableOneVariable("sex", "Sex", "categorical", test="chi2")
AGE = TableOneVariable("age_at_onset_years", "Onset age", "continuous")


def _frame(cells: dict[str, dict[str, int]], column: str = "sex") -> pd.DataFrame:
    """One row per patient: ``cells[group][value]`` patients of each group and value."""
    rows = [(g, v) for g, by in cells.items() for v, n in by.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["imnm_group", column])


def _published(frame: pd.DataFrame, *variables: TableOneVariable, **options: Any) -> dict:
    t1 = table_one(frame, IMNM_GROUPS, TableOneOptions(variables=variables, **options))
    out = suppress({"table_one": t1.to_dict()}, t1.disclosure().under("table_one"), 5)
    return out.data["table_one"]


def _fits(shown: Any, value: int) -> bool:
    if isinstance(shown, int):
        return shown == value
    if shown == "<5":
        return 1 <= value <= 4
    return shown == WITHHELD


def _tables_fitting(row: dict, n: dict) -> list[np.ndarray]:
    """Every group x level table that the published row's counts, markers, denominators
    and column sizes allow (the overall column as shown)."""
    levels = row["levels"]
    overall = [row["cells"]["overall"]["counts"][lv] for lv in levels]
    assert all(isinstance(v, int) for v in overall)
    ranges = [
        [v for v in range(overall[j] + 1) if _fits(row["cells"][g]["counts"][lv], v)]
        for g in IMNM_GROUPS
        for j, lv in enumerate(levels)
    ]
    out = []
    for values in itertools.product(*ranges):
        table = np.array(values).reshape(len(IMNM_GROUPS), len(levels))
        if (table.sum(axis=0) != overall).any():
            continue
        if all(_fits(n[g], int(table[i].sum())) for i, g in enumerate(IMNM_GROUPS)):
            out.append(table)
    return out


def _test_of(table: np.ndarray, levels: list[str]) -> tuple[float, float]:
    frame = _frame(
        {g: dict(zip(levels, map(int, table[i]), strict=True)) for i, g in enumerate(IMNM_GROUPS)}
    )
    result = compare_categorical(frame, "sex", IMNM_GROUPS)
    assert result.statistic is not None and result.p_value is not None
    return result.statistic, result.p_value


def test_case_1_an_exact_tests_statistic_no_longer_rebuilds_the_table():
    # Three groups, one of two patients: Table 1's sex row uses the Fisher-Freeman-Halton
    # test, whose statistic is the probability of the observed table.
    truth = {
        "hmgcr": {"female": 9, "male": 5},
        "srp": {"female": 2},
        "seronegative": {"female": 7, "male": 3},
    }
    frame = _frame(truth)
    raw = table_one(frame, IMNM_GROUPS, TableOneOptions(variables=(SEX,))).row("sex").test
    assert raw.name == "fisher_freeman_halton"
    published = _published(frame, SEX)
    row = published["rows"][0]
    candidates = _tables_fitting(row, published["n"])
    tests = [_test_of(t, row["levels"]) for t in candidates]
    # The attack on the full-precision statistic singles out the true table ...
    assert sum(math.isclose(s, raw.statistic, rel_tol=1e-12) for s, _ in tests) == 1
    # ... the published row gives no statistic, and its p-value fits several tables.
    assert row["test"]["statistic"] == WITHHELD
    assert row["test"]["p_value"] == journal_p(raw.p_value)
    assert sum(journal_p(p) == row["test"]["p_value"] for _, p in tests) >= 2


def test_an_exact_tests_p_value_is_rounded_even_with_nothing_withheld():
    frame = _frame(
        {
            "hmgcr": {"female": 9, "male": 6},
            "srp": {"female": 5, "male": 6},
            "seronegative": {"female": 7, "male": 5},
        }
    )
    row = _published(frame, SEX)["rows"][0]
    raw = table_one(frame, IMNM_GROUPS, TableOneOptions(variables=(SEX,))).row("sex").test
    assert raw.name == "fisher_freeman_halton"
    assert row["test"]["p_value"] == journal_p(raw.p_value) != raw.p_value
    assert row["test"]["statistic"] == raw.statistic  # no cell withheld: shown in full


def test_a_chi_square_row_with_nothing_withheld_is_unchanged():
    frame = _frame(
        {
            "hmgcr": {"female": 30, "male": 20},
            "srp": {"female": 12, "male": 15},
            "seronegative": {"female": 20, "male": 22},
        }
    )
    row = _published(frame, SEX)["rows"][0]
    raw = table_one(frame, IMNM_GROUPS, TableOneOptions(variables=(SEX,))).row("sex").test
    assert raw.name == "chi2"
    assert (row["test"]["statistic"], row["test"]["p_value"]) == (raw.statistic, raw.p_value)


@pytest.fixture(scope="module")
def two_srp_cancers() -> tuple[dict, dict]:
    """A synthetic cohort whose anti-SRP group keeps 2 cancers, both well after onset:
    the analyses' output and what disclosure control publishes."""
    valid = ic.validate_extract(ic.synthesize(800, seed=3)).valid
    c = ic.classify(valid)
    srp = c.index[(c["imnm_group"] == "srp") & c["cancer_date"].notna()]
    late = c.loc[srp, "cancer_date"] > c.loc[srp, "onset_date"] + pd.Timedelta(days=60)
    keep = list(srp[late.to_numpy()][:2])
    c.loc[[i for i in srp if i not in keep], ["cancer_date", "cancer_icd10"]] = [pd.NaT, None]
    a = analyse(c, n_boot=10)
    raw = a.to_dict()
    assert raw["comparisons"]["malignancy"]["groups"]["srp"]["events"] == 2
    return raw, suppress(raw, a.disclosure(), 5).data


@pytest.mark.parametrize("model", ["cause_specific_cox", "fine_gray"])
def test_case_2_model_totals_minus_the_shown_groups_give_nothing(two_srp_cancers, model):
    raw, out = two_srp_cancers
    table = out["comparisons"]["malignancy"]["groups"]
    assert table["srp"]["events"] == "<5"
    fit = out[model]
    assert raw[model]["groups"]["srp"]["events"] == 2
    # Every equation "total = sum of the groups" has at least two unknowns.
    for total, count in (("events", "events"), ("n", "at_risk")):
        for groups in (fit["groups"], table):
            key = total if groups is fit["groups"] else count
            unknown = [g for g in groups if not isinstance(groups[g][key], int)]
            assert len(unknown) != 1 or not isinstance(fit[total], int), (model, total)
    # The group term (its SE gives 1 / (SE^2 - 1/d_ref) back) is not shown, and says why.
    term = next(t for t in fit["terms"] if t["term"] == "group_srp")
    assert term["reason"] == "not shown (fewer than 5 events)"
    assert term["p_value"] == term["ci"] == WITHHELD
    assert term.get("se", WITHHELD) == WITHHELD
    other = next(t for t in fit["terms"] if t["term"] == "onset_age")
    assert isinstance(other["p_value"], float)  # the rest of the model stands


def test_case_2_the_withheld_term_reads_the_same_in_every_report_format(two_srp_cancers):
    _, out = two_srp_cancers
    # HTML and Markdown show the manuscript tables that Word and Excel show (table_render).
    notes = model_tables.fine_gray(out).footnotes + model_tables.cause_specific_cox(out).footnotes
    assert sum("anti-SRP" in n and "not shown (fewer than 5 events)" in n for n in notes) == 2
    assert not any("not estimable (not shown" in n for n in notes)


def test_case_3_a_denominator_never_prints_a_withheld_group_size():
    # 11 anti-HMGCR, 2 anti-SRP, no seronegative patient: 13 - 11 - 0 would give 2.
    frame = _frame({"hmgcr": {"female": 6, "male": 5}, "srp": {"female": 2}})
    published = _published(frame, SEX, missing="exclude")
    n = published["n"]
    assert n["srp"] == "<5" and n["hmgcr"] == WITHHELD
    for row in published["rows"]:
        denominators = {g: row["cells"][g]["denominator"] for g in published["columns"]}
        shown = [g for g in IMNM_GROUPS if isinstance(denominators[g], int)]
        assert not (isinstance(denominators["overall"], int) and len(shown) == 2)
        assert denominators["hmgcr"] != 11


def _one_value_group(srp: int) -> pd.DataFrame:
    ages = {"hmgcr": range(40, 52), "srp": range(30, 30 + srp), "seronegative": range(60, 68)}
    rows = [(g, float(a)) for g, values in ages.items() for a in values]
    return pd.DataFrame(rows, columns=["imnm_group", "age_at_onset_years"])


def test_case_5_a_small_group_is_not_pinned_to_one_by_a_note_or_a_null():
    published = {}
    for srp in (1, 3):
        frame = _one_value_group(srp)
        row = _published(frame, AGE)["rows"][0]
        c = compare_continuous(frame, "age_at_onset_years", IMNM_GROUPS, n_boot=10)
        contract = suppress(c.to_dict(), c.disclosure(), 5).data
        published[srp] = (row["test"], row["cells"]["srp"], contract)
        assert row["cells"]["srp"]["n"] == "<5"
        assert row["cells"]["srp"]["sd"] == WITHHELD
        assert "fewer than 2" not in str(row) and "fewer than 2" not in str(contract)
        assert row["test"]["reason"] == "not shown (fewer than 5 values in a group)"
    # One patient and three patients publish the same thing.
    assert published[1] == published[3]


def test_collapse_before_suppress_merges_a_small_level_with_its_neighbour():
    # The demo's sex row: other 7 and unknown 8 in anti-HMGCR, 4 unknown seronegative.
    truth = {
        "hmgcr": {"female": 551, "male": 350, "other": 7, "unknown": 8},
        "srp": {"female": 136, "male": 92},
        "seronegative": {"female": 285, "male": 164, "unknown": 4},
    }
    published = _published(_frame(truth), SEX)
    row = published["rows"][0]
    assert row["levels"] == ["female", "male", "other or unknown"]
    assert row["cells"]["hmgcr"]["counts"]["female"] == 551
    assert row["cells"]["srp"]["counts"] == {"female": 136, "male": 92, "other or unknown": 0}
    lost = sum(isinstance(v, str) for c in row["cells"].values() for v in c["counts"].values())
    assert lost == 4  # of 12; without the merge 9 of 16 were not shown
    # Nothing small, nothing merged: every level keeps its row.
    large = {g: {**by, "other": 6, "unknown": 9} for g, by in truth.items()}
    assert _published(_frame(large), SEX)["rows"][0]["levels"] == [
        "female",
        "male",
        "other",
        "unknown",
    ]


def test_a_merged_row_is_still_withheld_where_it_stays_small():
    truth = {
        "hmgcr": {"female": 20, "male": 20, "other": 1, "unknown": 1},
        "srp": {"female": 9, "male": 8},
    }
    cells = _published(_frame(truth), SEX)["rows"][0]["cells"]
    assert cells["hmgcr"]["counts"]["other or unknown"] == "<5"
