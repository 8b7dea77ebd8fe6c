"""A pipeline's [table_one]: the user's variables end to end, and bad settings exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from imnm_cohort import synthesize, write_extract
from imnm_cohort.io.escape import md_text
from tests.pipeline.readers import run


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    frame = synthesize(400, seed=5)
    rng = np.random.default_rng(5)
    frame["bmi"] = np.round(rng.normal(27, 4, len(frame)), 1).astype(str)
    frame.loc[::17, "bmi"] = None
    return write_extract(frame, tmp_path_factory.mktemp("x") / "registry.csv")


def pipeline(tmp_path: Path, extract: Path, table_one: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "o"\n'
        f"[disclosure]\nmin_cell_count = 0\n[table_one]\n{table_one}\n"
    )
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('missing = "drop"', "[table_one] missing must be 'row' or 'exclude'"),
        ("smd = 1", "[table_one] smd must be bool"),
        ("rows = 1", "unknown key 'rows' in [table_one]"),
        ("variables = []", "[table_one] variables must be a non-empty list"),
        ('variables = ["bmi"]', "variables[0]: kind is required for column 'bmi'"),
        (
            'variables = ["sex", { column = "ck_peak", summary = "mode" }]',
            "variables[1]: summary must be median_iqr or mean_sd",
        ),
        (
            'variables = [{ column = "sex", test = "kruskal" }]',
            "variables[0]: test for a categorical variable must be one of chi2, none",
        ),
        ('variables = [{ column = "sex", colour = "red" }]', "variables[0]: unknown key 'colour'"),
        ('variables = [{ label = "Sex" }]', "variables[0]: 'column' is required"),
        ('variables = ["sex", "sex"]', "variables[1]: column 'sex' is listed twice"),
        ('variables = [{ column = "x", kind = "ordinal" }]', "kind must be continuous or"),
    ],
)
def test_bad_table_one_settings_exit_2_on_one_line(tmp_path, extract, text, message):
    code, _, err = run("run", str(pipeline(tmp_path, extract, text)))
    assert code == 2
    assert message in err and "p.toml" in err
    assert err.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('variables = [{ column = "weight", kind = "continuous" }]', "'weight': no such column"),
        ('variables = [{ column = "site", kind = "continuous" }]', "holds text such as"),
    ],
)
def test_a_variable_the_extract_cannot_give_exits_2(tmp_path, extract, text, message):
    code, _, err = run("run", str(pipeline(tmp_path, extract, text)))
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and message in errors[0] and "p.toml" in errors[0]
    assert not (tmp_path / "o").exists()


def test_the_users_variables_reach_every_output(tmp_path, extract):
    text = """missing = "exclude"
variables = [
    "age_at_onset_years",
    { column = "site", kind = "categorical", label = "Centre" },
    { column = "bmi", kind = "continuous", summary = "mean_sd", label = "BMI (kg/m2)" },
    "eular_acr_2017_category",
]"""
    code, _, err = run("run", str(pipeline(tmp_path, extract, text)))
    assert code == 0, err
    folder = tmp_path / "o" / "latest"
    summary = json.loads((folder / "summary.json").read_text())
    t1 = summary["table_one"]
    assert [r["label"] for r in t1["rows"]] == [
        "Onset age (years)", "Centre", "BMI (kg/m2)", "EULAR/ACR 2017 IIM category",
    ]  # fmt: skip
    assert t1["missing_values"] == "exclude"
    bmi = t1["rows"][2]
    assert bmi["summary"] == "mean_sd" and bmi["test"]["test"] == "anova"
    classified = pd.read_csv(folder / "classified.csv")
    imnm = classified[classified["imnm_group"].isin(t1["groups"])]
    samples = [imnm.loc[imnm["imnm_group"] == g, "bmi"].dropna() for g in t1["groups"]]
    assert bmi["test"]["p_value"] == pytest.approx(stats.f_oneway(*samples).pvalue, rel=1e-12)
    assert bmi["cells"]["hmgcr"]["mean"] == pytest.approx(samples[0].mean(), rel=1e-12)
    centre = t1["rows"][1]["cells"]["overall"]
    assert centre["denominator"] == sum(v for k, v in centre["counts"].items() if k != "missing")
    report = (folder / "report.md").read_text()
    # Labels come from the user's pipeline file: the Markdown report escapes them.
    assert md_text("BMI (kg/m2), mean (SD)") in report
    assert f"| {md_text('Centre, n (%)')} |" in report
    assert "left out of the denominator" in report
    html = (folder / "report.html").read_text()
    assert "EULAR/ACR 2017 IIM category" in html and "SMD" in html
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"]["table_one"]["missing"] == "exclude"
