"""``imnm-cohort run`` with ``[input] kind = "omop"``: the hand-written CDM through the
whole pipeline under the ehr2026 criteria set, with the source's choices in the manifest."""

from __future__ import annotations

import csv
import io
import json

import pytest

from imnm_cohort.cli import main
from tests.omop.cdm import SITE_CONCEPTS, build
from tests.pipeline.readers import docx_text, run, xlsx_text

PIPELINE = """\
[input]
kind = "omop"
url = "duckdb:///cdm.duckdb"
concept_sets = "site-concepts.toml"

[input.omop]
onset_rule = "first_of"
ck_threshold = 1000
lookback_days = 365

[classification]
criteria = "ehr2026"
"""


@pytest.mark.slow
def test_a_run_on_an_omop_database(tmp_path):
    build(tmp_path / "cdm.duckdb")
    (tmp_path / "site-concepts.toml").write_text(SITE_CONCEPTS, encoding="utf-8")
    (tmp_path / "pipeline.toml").write_text(PIPELINE, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["-q", "run", str(tmp_path / "pipeline.toml"), "--output-dir", str(tmp_path / "out")],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    folder = tmp_path / "out" / "latest"
    with (folder / "classified.csv").open(encoding="utf-8") as f:
        groups = {r["patient_id"]: (r["imnm_group"], r["criteria"]) for r in csv.DictReader(f)}
    # Person 1: coded G72.49, anti-HMGCR positive, CK 8000; person 2: coded M33.2,
    # anti-SRP positive, CK >20000. Persons 3 (no observation period) and 5 (no onset)
    # are quarantined.
    assert groups == {"1": ("hmgcr", "ehr2026"), "2": ("srp", "ehr2026")}
    with (folder / "quarantine.csv").open(encoding="utf-8") as f:
        assert sorted(r["patient_id"] for r in csv.DictReader(f)) == ["3", "5"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    source = manifest["input"]
    assert source["kind"] == "omop" and source["candidates"] == 4
    assert source["options"] == {
        "onset_rule": "first_of",
        "ck_threshold_u_per_l": 1000.0,
        "lookback_days": 365,
    }
    assert source["concept_sets"]["site_version"] == "test-site-1"
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "positive predictive value is unknown" in report


@pytest.mark.slow
def test_the_run_feeds_the_event_tables_and_shows_the_statin_population(tmp_path):
    build(tmp_path / "cdm.duckdb")
    (tmp_path / "site-concepts.toml").write_text(SITE_CONCEPTS, encoding="utf-8")
    pipeline = PIPELINE + '\n[output]\nformats = ["json", "md", "docx", "xlsx"]\n'
    pipeline = pipeline.replace(
        "lookback_days = 365", 'lookback_days = 365\nstatin_window = "current"'
    )
    (tmp_path / "pipeline.toml").write_text(pipeline, encoding="utf-8")
    code, _, err = run(
        "-q", "run", str(tmp_path / "pipeline.toml"), "--output-dir", str(tmp_path / "out")
    )
    assert code == 0, err
    folder = tmp_path / "out" / "latest"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    # The source's event tables went through validation as [input.tables] do.
    assert set(summary["tables"]) == {"visits", "antibody_tests", "treatments", "cancers"}
    population = summary["statin_population"]
    assert population["settings"]["window"] == "current"
    # Person 1's anti-HMGCR onset (2020-02-15) falls after its simvastatin era (ended
    # 2019-12-31): under "current" it lies in no counted person-time (neither within an
    # era nor before the first statin); a count of one, withheld.
    assert population["exposed"]["any_statin"]["groups"]["hmgcr"]["events"] == 0
    assert population["unexposed"]["groups"]["hmgcr"]["events"] == 0
    assert population["cases_outside"] == "<5"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["statin_population"] == {
        "persistence_gap_days": 30,
        "statin_window": "current",
    }
    title = "IMNM incidence among statin users"
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert title in report and "positive predictive value is unknown" in report
    assert title in docx_text(folder / "tables.docx")
    assert title in xlsx_text(folder / "tables.xlsx")
    assert "2020-02-15" not in json.dumps(summary)


@pytest.mark.slow
def test_a_database_url_on_the_command_line_is_classified_by_ehr2026(tmp_path):
    build(tmp_path / "cdm.duckdb")
    code, out, err = run(
        "run",
        "--input",
        f"omop+duckdb:///{tmp_path / 'cdm.duckdb'}",
        "--output-dir",
        str(tmp_path / "out"),
    )
    assert code == 0, err
    assert 'ehr2026 criteria set, the default for [input] kind = "omop"' in out
    summary = json.loads((tmp_path / "out" / "latest" / "summary.json").read_text("utf-8"))
    assert summary["criteria"] == "ehr2026"
    assert "statin_population" in summary


def test_a_bad_statin_option_is_one_line(tmp_path):
    build(tmp_path / "cdm.duckdb")
    (tmp_path / "site-concepts.toml").write_text(SITE_CONCEPTS, encoding="utf-8")
    bad = PIPELINE.replace("lookback_days = 365", "lookback_days = 365\npersistence_gap_days = -1")
    (tmp_path / "pipeline.toml").write_text(bad, encoding="utf-8")
    code, _, err = run("run", str(tmp_path / "pipeline.toml"), "--output-dir", str(tmp_path / "o"))
    assert code == 2
    assert "persistence_gap_days must be a whole number of days" in err
    assert "Traceback" not in err
