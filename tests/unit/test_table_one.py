"""Table 1 pieces: SMDs worked by hand, disclosure of SMDs, the documented [table_one]."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis import TableOneOptions, table_one
from imnm_cohort.analysis.smd import categorical_smd, continuous_smd
from imnm_cohort.analysis.table_spec import (
    DEFAULT_VARIABLES,
    RARE_LEVEL,
    TableOneVariable,
    table_one_options,
)
from imnm_cohort.disclosure.suppression import WITHHELD, suppress

ROOT = Path(__file__).resolve().parents[2]


def test_continuous_smd_by_hand():
    # means 2 and 4; sample variances 1 and 4: |2 - 4| / sqrt((1 + 4) / 2) = 2 / sqrt(2.5)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])
    assert continuous_smd(a, b) == pytest.approx(2 / math.sqrt(2.5), rel=1e-15)
    assert continuous_smd(a, np.array([5.0])) is None
    assert continuous_smd(np.ones(3), np.ones(4)) is None


def test_categorical_smd_by_hand():
    # two levels, p = 1/2 and q = 1/4: |p - q| / sqrt((p(1-p) + q(1-q)) / 2)
    expected = 0.25 / math.sqrt((0.25 + 0.1875) / 2)
    assert categorical_smd(np.array([5, 5]), np.array([3, 1])) == pytest.approx(expected)
    # the dropped level does not matter, and a level seen in neither group is ignored
    assert categorical_smd(np.array([5, 5, 0]), np.array([1, 3, 0])) == pytest.approx(expected)
    assert categorical_smd(np.array([3, 0]), np.array([0, 0])) is None


def test_smds_are_withheld_with_a_withheld_cell():
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 12 + ["srp"] * 12,
            "sex": ["female"] * 10 + ["male"] * 2 + ["female"] * 6 + ["male"] * 6,
            "ck_peak": np.arange(24, dtype=float) * 100,
        }
    )
    options = TableOneOptions(
        variables=tuple(v for v in DEFAULT_VARIABLES if v.column in ("sex", "ck_peak"))
    )
    t1 = table_one(frame, ["hmgcr", "srp"], options)
    data, declared = {"table_one": t1.to_dict()}, t1.disclosure().under("table_one")
    published = suppress(data, declared, 5).data["table_one"]["rows"]
    ck, sex = published
    assert isinstance(ck["smd"][0]["smd"], float)
    assert sex["cells"]["hmgcr"]["counts"]["male"] == "<5"
    assert sex["smd"][0]["smd"] == WITHHELD
    assert suppress(data, declared, 0).data["table_one"]["rows"][1]["smd"][0]["smd"] > 0


def test_the_documented_example_section_is_valid():
    text = (ROOT / "pipelines" / "example.toml").read_text()
    block = text[text.index("# [table_one]") :]
    toml = "\n".join(line.removeprefix("# ") for line in block.splitlines() if line)
    raw = tomllib.loads(toml)["table_one"]
    options = table_one_options(raw, "example.toml")
    assert [v.column for v in options.variables][-1] == "site"
    assert options.variables[2].summary == "mean_sd" and options.variables[2].test == "anova"
    assert options.variables[-1].label == "Centre"


def test_default_rows_keep_the_earlier_ones_and_add_two():
    assert [v.column for v in DEFAULT_VARIABLES] == [
        "age_at_onset_years", "ck_peak", "followup_years", "onset_to_diagnosis_months",
        "sex", "statin_exposed", "dm_rash", "emg_myopathic", "eular_acr_2017_category",
    ]  # fmt: skip
    labels = {v.column: v.label for v in DEFAULT_VARIABLES}
    assert labels["ck_peak"] == "Peak CK (U/L)" and labels["sex"] == "Sex"


def test_a_withheld_missing_count_takes_the_denominator_with_it_when_left_out():
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 20,
            "statin_exposed": pd.array([True] * 9 + [False] * 9 + [None] * 2, dtype="boolean"),
        }
    )
    variables = tuple(v for v in DEFAULT_VARIABLES if v.column == "statin_exposed")
    for missing, hidden in (("exclude", True), ("row", False)):
        options = TableOneOptions(variables=variables, missing=missing, smd=False)
        t1 = table_one(frame, ["hmgcr"], options, overall=False)
        published = suppress({"table_one": t1.to_dict()}, t1.disclosure().under("table_one"), 5)
        cell = published.data["table_one"]["rows"][0]["cells"]["hmgcr"]
        assert cell["counts"]["missing"] == "<5"
        assert (cell["denominator"] == WITHHELD) is hidden
        assert (cell["percent"]["yes"] == WITHHELD) is hidden
        assert cell["denominator"] == WITHHELD or cell["denominator"] == 20


def test_rare_free_codes_are_pooled_but_the_toolkits_vocabulary_is_not():
    # A rare ICD-10 code or antibody combination can point at one patient; sex cannot.
    frame = pd.DataFrame(
        {
            "imnm_group": ["hmgcr"] * 12,
            "cancer_icd10": ["C50.9"] * 6 + ["C91.1"] + [None] * 5,
            "other_msa": ["none"] * 11 + ["pl7;mi2"],
            "sex": ["female"] * 11 + ["other"],
        }
    )
    variables = tuple(
        TableOneVariable(c, c, "categorical", test="chi2")
        for c in ("cancer_icd10", "other_msa", "sex")
    )
    t1 = table_one(frame, ["hmgcr"], TableOneOptions(variables=variables), overall=False)
    assert t1.row("cancer_icd10").levels == ("C50.9", RARE_LEVEL, "missing")
    assert t1.row("other_msa").levels == ("none", RARE_LEVEL)
    assert "other" in t1.row("sex").levels
