"""A pipeline's ``[input.tables]`` (contract section 6), end to end through ``main(argv)``:
each event table read from its file beside the pipeline, validated against the patient
table, its quarantine written as ``<table>.quarantine.csv`` and its counts of rows in
``summary.json`` and ``manifest.json``; mistakes in ``[input.tables]`` exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.errors import ConfigError
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.synth import synthesize
from tests.pipeline.readers import run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


PIPELINE = """[input]
path = "patients.csv"
[input.tables]
{tables}
[output]
root = "out"
formats = {formats}
"""


def _write(folder: Path, tables: str, formats: str = '["json", "csv"]') -> Path:
    patients = synthesize(40, seed=5)
    patients.to_csv(folder / "patients.csv", index=False)
    ids = patients["patient_id"].tolist()
    onset = pd.to_datetime(patients["onset_date"])
    day = onset.dt.strftime("%Y-%m-%d").tolist()  # within observation for every patient
    pd.DataFrame(
        {
            "Patient_ID": [*ids, "nobody", ids[0]],  # header names in any case
            "visit_date": [*day, "2020-01-01", "1800-01-01"],  # before birth: outside
            "ck": ["3000"] * (len(ids) + 2),
        }
    ).to_csv(folder / "visits.csv", index=False)
    pd.DataFrame(
        {"patient_id": ids[:3], "drug": ["prednisone", "rituximab", "ivig"], "start_date": day[:3]}
    ).to_parquet(folder / "treatments.parquet")
    (folder / "pipeline.toml").write_text(PIPELINE.format(tables=tables, formats=formats))
    return folder / "pipeline.toml"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    pipeline = _write(folder, 'visits = "visits.csv"\ntreatments = "treatments.parquet"')
    code, out, err = run("run", str(pipeline), "--strict")
    runs = [p for p in (folder / "out").iterdir() if p.name != "latest"]
    return code, out, err, runs[0]


def test_each_table_s_quarantine_is_written_and_named_per_table(ran):
    code, out, err, folder = ran
    assert code == 3, err  # --strict: rows of an event table were quarantined
    assert "visits.csv: 2 rows quarantined" in out
    assert "treatments.parquet: 0 rows quarantined" in out
    held = pd.read_csv(folder / "visits.quarantine.csv")
    assert held["quarantine_reasons"].tolist() == [
        "patient_id:unknown_patient=nobody",
        "visit_date:outside_observation=1800-01-01",
    ]
    assert held["row_number"].tolist() == [41, 42]
    assert pd.read_csv(folder / "treatments.quarantine.csv").empty


def test_the_counts_of_rows_are_in_the_summary_and_the_manifest(ran):
    folder = ran[3]
    summary = json.loads((folder / "summary.json").read_text())
    visits = summary["tables"]["visits"]
    assert visits["unit"] == "rows" and visits["source"] == "visits.csv"
    # 2 quarantined rows: withheld, and so is the valid count that would give it back
    assert (visits["input_rows"], visits["valid_rows"]) == (42, "[withheld]")
    assert visits["quarantined_rows"] == "<5"
    assert summary["tables"]["treatments"]["quarantined_rows"] == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    tables = manifest["tables"]
    assert list(tables) == ["visits", "treatments"]
    assert tables["visits"]["rows"] == {"input": 42, "valid": "[withheld]", "quarantined": "<5"}
    assert tables["visits"]["file"] == "visits.csv" and len(tables["visits"]["sha256"]) == 64
    assert set(manifest["config"]["input"]["tables"]) == {"visits", "treatments"}
    assert manifest["run"]["status"] == "rows_quarantined"  # rows of visits, not patients
    assert {"visits.quarantine.csv", "treatments.quarantine.csv"} <= set(manifest["outputs"])
    assert summary["counts"]["input_rows"] == 40


def test_the_summary_with_tables_follows_its_schema(ran):
    import jsonschema

    from imnm_cohort.pipeline.summary_schema import summary_schema

    summary = json.loads((ran[3] / "summary.json").read_text())
    jsonschema.validate(summary, summary_schema())
    broken = {**summary, "tables": {"visits": {**summary["tables"]["visits"], "unit": "patients"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, summary_schema())


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ('labs = "visits.csv"', "labs is not an event table; known tables: visits, treatments"),
        ('visits = "missing.csv"', "[input.tables] visits: 'missing.csv': no such file"),
        ("visits = 3", "[input.tables] visits: give the file as a path (text), not int"),
    ],
)
def test_mistakes_in_input_tables_name_the_key_and_exit_2(tmp_path, tables, message):
    pipeline = _write(tmp_path, tables)
    with pytest.raises(ConfigError) as caught:
        load_pipeline(pipeline)
    assert message in str(caught.value)
    code, _, err = run("run", str(pipeline))
    assert code == 2 and message in err and "Traceback" not in err


def test_a_source_kind_without_event_tables_refuses_them(tmp_path):
    (tmp_path / "p.toml").write_text(
        '[input]\nkind = "duckdb"\ndatabase = "x.duckdb"\ntable = "patients"\n'
        '[input.tables]\nvisits = "visits"\n'
    )
    with pytest.raises(ConfigError, match=r'\[input.tables\] is read for kind = "file" only'):
        load_pipeline(tmp_path / "p.toml")


def test_a_pipeline_without_tables_records_none(tmp_path):
    pipeline = _write(tmp_path, "")
    config = load_pipeline(pipeline)
    assert config.tables == () and "tables" not in config.to_dict()["input"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("patient_id,ck\nx,1\n", "visits.csv: missing required column(s): visit_date"),
        (
            "patient_id,visit_date\n" + "x,01/02/2020\n" * 12,
            "visits.csv: column 'visit_date' breaks rule 'not_a_date' in 12 of 12 rows",
        ),
    ],
)
def test_a_table_that_cannot_be_used_stops_the_run_with_one_line(tmp_path, cells, message):
    pipeline = _write(tmp_path, 'visits = "visits.csv"')
    (tmp_path / "visits.csv").write_text(cells)
    code, _, err = run("run", str(pipeline))
    assert code == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("2*"))
