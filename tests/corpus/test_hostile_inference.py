"""Withheld counts cannot be inferred from what a real run publishes: the statistics,
denominators and notes beside them (summary.json and both reports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imnm_cohort.disclosure.suppression import WITHHELD
from imnm_cohort.io.escape import md_text
from imnm_cohort.pipeline.runfolder import LATEST
from tests.corpus.cohorts import patients, write_csv
from tests.corpus.test_hostile_runs import pipeline, run


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 11 anti-HMGCR patients (6 women), 1 anti-SRP, no seronegative: Table 1 withholds the
    # anti-HMGCR size (13 - 1 - 0 would otherwise leave it alone with the overall column).
    rows = patients({"hmgcr": 11, "srp": 1})
    for i, row in enumerate(rows):
        row["sex"] = "female" if i < 6 else "male"
    tmp = tmp_path_factory.mktemp("inference")
    path = pipeline(tmp, write_csv(rows, tmp / "cohort.csv"), table_one={"missing": '"exclude"'})
    formats = 'formats = ["html", "md", "json"]\n'
    path.write_text(path.read_text().replace("[table_one]", formats + "[table_one]", 1))
    code, _, lines = run("run", str(path))
    assert code == 0, lines
    return tmp / "out" / LATEST


def test_denominators_never_print_a_withheld_group_size(folder):
    t1 = json.loads((folder / "summary.json").read_text())["table_one"]
    assert t1["n"]["hmgcr"] == WITHHELD and t1["n"]["srp"] == "<5"
    for row in t1["rows"]:
        if row["kind"] == "categorical":
            assert row["cells"]["hmgcr"]["denominator"] != 11, row["variable"]


def test_an_exact_test_publishes_no_statistic_and_a_rounded_p_value(folder):
    t1 = json.loads((folder / "summary.json").read_text())["table_one"]
    sex = next(r for r in t1["rows"] if r["variable"] == "sex")
    assert sex["test"]["test"] == "fisher"
    assert sex["test"]["statistic"] == WITHHELD
    p = sex["test"]["p_value"]
    assert p == "<0.001" or float(f"{p:.2g}") == p


def test_a_one_patient_group_is_not_pinned_by_a_note_or_a_null(folder):
    summary = json.loads((folder / "summary.json").read_text())
    for row in summary["table_one"]["rows"]:
        if row["kind"] == "continuous":
            assert row["cells"]["srp"]["sd"] == WITHHELD
            assert row["test"]["reason"] == "not shown (fewer than 5 values in a group)"
    text = "".join((folder / f).read_text() for f in ("summary.json", "report.md", "report.html"))
    assert "fewer than 2 values" not in text and "values in: srp" not in text
    # Markdown escapes the note's brackets (md_text), as every text of a manuscript table.
    assert (
        md_text("not shown (fewer than 5 values in a group)") in (folder / "report.md").read_text()
    )
