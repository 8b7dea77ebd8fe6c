"""``run --batch-rows`` gives the outputs of the in-memory run, byte for byte."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from imnm_cohort import synthesize, write_extract
from tests.pipeline.readers import run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


BATCH_ROWS = 25


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One synthetic cohort run in memory and in batches of 25 rows; rows 25 and 26 (the
    last of the first batch and the first of the second) share a patient id, as do rows 3
    and 70."""
    tmp = tmp_path_factory.mktemp("engines")
    frame = synthesize(120, seed=31, dirty=0.05)
    frame.loc[25, "patient_id"] = frame.loc[24, "patient_id"]
    frame.loc[69, "patient_id"] = frame.loc[2, "patient_id"]
    extract = write_extract(frame, tmp / "cohort.csv")
    pipeline = tmp / "pipeline.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nformats = ["json", "csv"]\n',
        encoding="utf-8",
    )
    folders = {}
    for name, extra in (("memory", []), ("batched", ["--batch-rows", str(BATCH_ROWS)])):
        code, _, err = run("run", str(pipeline), "--output-dir", str(tmp / name), *extra)
        assert code == 0, err
        folders[name] = tmp / name / "latest"
    return folders


@pytest.mark.parametrize("name", ["summary.json", "classified.csv", "quarantine.csv"])
def test_batched_run_writes_what_the_in_memory_run_writes(runs, name):
    assert (runs["batched"] / name).read_bytes() == (runs["memory"] / name).read_bytes()


def test_the_duplicates_across_the_batch_boundary_are_quarantined(runs):
    quarantine = pd.read_csv(runs["batched"] / "quarantine.csv", dtype=str)
    duplicated = quarantine[quarantine["quarantine_reasons"].str.contains("duplicate_patient_id")]
    assert {25, 26, 3, 70} <= set(duplicated["row_number"].astype(int))


def test_the_manifests_agree_on_the_input(runs):
    manifests = [
        json.loads((runs[n] / "manifest.json").read_text(encoding="utf-8"))
        for n in ("memory", "batched")
    ]
    assert manifests[0]["input"] == manifests[1]["input"]
    assert manifests[0]["input"]["file"] == "cohort.csv"
    assert manifests[0]["rows"] == manifests[1]["rows"]


@pytest.mark.parametrize("value", ["0", "-3"])
def test_batch_rows_below_one_is_a_usage_error(tmp_path, value):
    code, _, err = run("run", "--batch-rows", value, "--output-dir", str(tmp_path))
    assert code == 2 and "--batch-rows must be at least 1" in err
