"""``imnm-cohort synth --events``: a folder with the patient table, the four event tables,
the planted values and a pipeline file that ``run`` accepts as written, end to end through
``main(argv)``; per table, input rows = valid rows + quarantined rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from imnm_cohort.contracts.events import EVENT_TABLES
from tests.pipeline.readers import run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


TABLES = ("patients", *EVENT_TABLES)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth") / "registry"
    code, out, err = run(
        "synth", "--n", "80", "--seed", "3", "--dirty", "0.05", "--events", "-o", str(folder)
    )
    assert code == 0, err
    code, out, err = run("run", str(folder / "pipeline.toml"))
    assert code == 0, err
    return folder, out


def test_the_folder_holds_every_table_the_truth_and_a_pipeline(ran):
    folder, _ = ran
    names = {p.name for p in folder.iterdir() if p.is_file()}
    assert names == {f"{t}.csv" for t in TABLES} | {"pipeline.toml", "planted.json"}
    planted = json.loads((folder / "planted.json").read_text())
    assert planted["ck_slope_log10_per_year"]["srp"] > planted["ck_slope_log10_per_year"]["hmgcr"]
    assert "[input.tables]" in (folder / "pipeline.toml").read_text()


def test_the_written_pipeline_runs_and_each_table_keeps_every_row(ran):
    folder, out = ran
    summary = json.loads((folder / "reports" / "latest" / "summary.json").read_text())
    checked = 0
    for name in EVENT_TABLES:
        counts = summary["tables"][name]
        assert counts["input_rows"] == len(pd.read_csv(folder / f"{name}.csv", dtype=str))
        held = pd.read_csv(folder / "reports" / "latest" / f"{name}.quarantine.csv", dtype=str)
        if isinstance(counts["valid_rows"], int) and isinstance(counts["quarantined_rows"], int):
            assert counts["input_rows"] == counts["valid_rows"] + counts["quarantined_rows"]
            assert counts["quarantined_rows"] == len(held) > 0
            checked += 1
        assert f"{name}.csv: {len(held)} rows quarantined" in out
    assert checked >= 3  # small counts of a small table may be withheld


def test_parquet_tables_are_named_in_the_pipeline(tmp_path):
    folder = tmp_path / "parquet"
    code, _, err = run("synth", "--n", "20", "--events", "--format", "parquet", "-o", str(folder))
    assert code == 0, err
    pipeline = (folder / "pipeline.toml").read_text()
    for name in TABLES:
        assert (folder / f"{name}.parquet").exists()
    assert 'visits = "visits.parquet"' in pipeline


@pytest.mark.parametrize(
    "argv, words",
    [
        (["-o", "registry.csv"], "-o is a folder"),
        (["--layout", "redcap", "-o", "registry"], "flat layout"),
        (["--n", "200001", "-o", "registry"], "at most 200,000"),
    ],
)
def test_events_with_a_file_the_redcap_layout_or_too_many_is_bad_usage(tmp_path, argv, words):
    argv = [a if not a.startswith("registry") else str(tmp_path / a) for a in argv]
    code, _, err = run("synth", "--n", "5", "--events", *argv)
    assert code == 2
    assert words in err and "Traceback" not in err
