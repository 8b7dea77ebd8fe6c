"""``imnm-cohort run`` with ``[input] kind = "omop"``: the hand-written CDM through the
whole pipeline under the ehr2026 criteria set, with the source's choices in the manifest."""

from __future__ import annotations

import csv
import io
import json

from imnm_cohort.cli import main
from tests.omop.cdm import SITE_CONCEPTS, build

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
