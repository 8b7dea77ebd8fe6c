"""The database engine: a run over a DuckDB file, Parquet files in place or a PostgreSQL
table validates, classifies and counts in the database, and publishes what the in-memory
engine publishes for the same rows (summary, quarantine, the analysed groups' patients);
only failing keys, the analysed groups' patients and aggregates are fetched, and what was
fetched is counted in the manifest."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from imnm_cohort import get_criteria
from imnm_cohort.cli import main
from imnm_cohort.engines.base import engine_for, engine_for_source
from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.base import make_source
from imnm_cohort.sources.frames import FrameSource
from imnm_cohort.sources.url import source_from_url
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.vocabulary import ANALYSED_GROUPS, GROUP_COLUMN, IN_DATABASE
from tests.databases import postgres

ENV = "IMNM_TEST_DB_ENGINE_PASSWORD"


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A dirty synthetic extract (rows quarantined, warnings, every group) as a DuckDB file
    and a Parquet file; a blank row at the end."""
    folder = tmp_path_factory.mktemp("engine")
    frame = synthesize(600, seed=21, dirty=0.25).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.loc[5, "sex"] = " Female "  # normalised in both engines
    frame = pd.concat([frame, pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns)])
    write_extract(frame, folder / "registry.duckdb")
    write_extract(frame, folder / "registry.parquet")
    return folder, frame


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-q", *argv], stdout=out, stderr=err)
    return code, err.getvalue()


def pipeline(folder: Path, name: str, lines: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[input]\n{lines}\n[output]\nroot = "{name}"\nformats = ["json", "csv"]\n',
        encoding="utf-8",
    )
    return path


def published(root: Path) -> dict[str, Any]:
    latest = root / "latest"
    summary = json.loads((latest / "summary.json").read_text("utf-8"))
    summary.pop("input", None)
    return {
        "summary": summary,
        "quarantine": (latest / "quarantine.csv").read_bytes(),
        "classified": pd.read_csv(latest / "classified.csv", dtype=str, keep_default_na=False),
        "manifest": json.loads((latest / "manifest.json").read_text("utf-8")),
    }


def same_run(database: dict[str, Any], memory: dict[str, Any]) -> None:
    """The database run published what the in-memory run did; its classified file holds
    the analysed groups' patients, row for row those of the in-memory file."""
    assert database["summary"] == memory["summary"]
    assert database["quarantine"] == memory["quarantine"]
    everyone = memory["classified"]
    analysed = everyone[everyone[GROUP_COLUMN].isin(ANALYSED_GROUPS)].reset_index(drop=True)
    assert set(everyone[GROUP_COLUMN]) - set(ANALYSED_GROUPS)  # others were left behind
    pd.testing.assert_frame_equal(database["classified"], analysed)
    notes = " ".join(database["manifest"]["notes"])
    assert "rows in the database; fetched" in notes and "bytes (Arrow)" in notes
    assert "in the database" not in " ".join(memory["manifest"]["notes"])


def test_a_duckdb_run_publishes_what_the_in_memory_run_publishes(extract, tmp_path):
    folder, _ = extract
    where = f'kind = "duckdb"\ndatabase = "{(folder / "registry.duckdb").as_posix()}"\n'
    where += 'table = "patients"'
    for name, extra in (("db", ""), ("memory", '\nengine = "in_memory"')):
        code, err = run("run", str(pipeline(tmp_path, name, where + extra)))
        assert code == 0, err
    same_run(published(tmp_path / "db"), published(tmp_path / "memory"))


def test_parquet_files_in_place_run_in_duckdb_as_in_memory(extract, tmp_path):
    folder, _ = extract
    where = f'kind = "duckdb"\ntable = "{(folder / "registry.parquet").as_posix()}"'
    for name, extra in (("db", '\nmemory_limit = "1GB"'), ("memory", '\nengine = "in_memory"')):
        code, err = run("run", str(pipeline(tmp_path, name, where + extra)))
        assert code == 0, err
    same_run(published(tmp_path / "db"), published(tmp_path / "memory"))


@pytest.fixture(scope="module")
def pg(extract: tuple[Path, pd.DataFrame], pg_url: str) -> Iterator[str]:
    """The extract as the table ``engine.patients`` (text columns); the URL without the
    password."""
    _, frame = extract
    table = pa.Table.from_pandas(
        frame, preserve_index=False, schema=pa.schema([(c, pa.string()) for c in frame.columns])
    )
    con = ibis.connect(pg_url)
    try:
        con.raw_sql("CREATE SCHEMA IF NOT EXISTS engine").close()
        con.create_table("patients", table, database="engine", overwrite=True)
    finally:
        con.disconnect()
    yield pg_url.replace(f":{postgres.PASSWORD}@", "@")


def test_a_postgresql_run_publishes_what_the_in_memory_run_publishes(pg, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    where = f'kind = "sql"\nurl = "{pg}"\npassword_env = "{ENV}"\ntable = "engine.patients"'
    for name, extra in (("db", ""), ("memory", '\nengine = "in_memory"')):
        code, err = run("run", str(pipeline(tmp_path, name, where + extra)))
        assert code == 0, err
    same_run(published(tmp_path / "db"), published(tmp_path / "memory"))
    for path in (tmp_path / "db").rglob("*"):
        assert not path.is_file() or postgres.PASSWORD.encode() not in path.read_bytes()


def test_the_engine_fetches_failing_keys_analysed_patients_and_aggregates_only(extract):
    folder, _ = extract
    source = make_source(
        "duckdb", {"database": "registry.duckdb", "table": "patients"}, folder, "test"
    )
    assert engine_for_source(source).name == "database"
    memory = engine_for(name="in_memory")
    expected = memory.validate(source)
    engine = engine_for(name="database")
    got = engine.validate(source)
    assert (got.input_rows, got.valid_rows, got.quarantined_rows, got.empty_rows) == (
        expected.input_rows,
        expected.valid_rows,
        expected.quarantined_rows,
        expected.empty_rows,
    )
    assert got.valid.empty  # the valid rows stayed in the database
    for name in ("reasons", "warnings"):
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(expected, name), check_dtype=False, obj=name
        )
    assert got.to_dict() == expected.to_dict()
    criteria = get_criteria("enmc2017")
    classified = engine.classify(got, criteria)
    everyone = memory.classify(expected, criteria)
    counted = classified.attrs[IN_DATABASE]
    assert counted["groups"] == everyone[GROUP_COLUMN].value_counts().to_dict()
    analysed = everyone[everyone[GROUP_COLUMN].isin(ANALYSED_GROUPS)]
    assert classified.index.equals(analysed.index)
    pd.testing.assert_series_equal(classified[GROUP_COLUMN], analysed[GROUP_COLUMN])
    assert list(classified.columns) == list(everyone.columns)
    # Fetched: the analysed patients, the failing rows (their reasons, then their cells),
    # the warned rows and aggregates of a few dozen rows (counts, groups, Table 1's levels).
    fetched = counted["fetched"]
    assert fetched["bytes"] > 0 and fetched["queries"] >= 6
    small = fetched["rows"] - len(analysed) - 2 * got.quarantined_rows - len(got.warnings)
    assert 0 < small <= 200  # 108 here


def test_a_url_names_the_engine_as_a_pipeline_does(extract):
    folder, _ = extract
    url = f"duckdb:///{(folder / 'registry.duckdb').as_posix()}?table=patients"
    assert engine_for_source(source_from_url(url)).name == "database"
    assert engine_for_source(source_from_url(url + "&engine=in_memory")).name == "in_memory"
    assert source_from_url(url + "&memory_limit=1GB").memory_limit == "1GB"  # type: ignore[attr-defined]


def test_the_engine_setting_is_checked_and_other_sources_stay_in_memory(tmp_path):
    assert engine_for_source(FrameSource(pd.DataFrame({"patient_id": ["A"]}), "x")).name == (
        "in_memory"
    )
    with pytest.raises(ConfigError, match="engine must be one of"):
        make_source("duckdb", {"table": "x.parquet", "engine": "fast"}, tmp_path, "p.toml")
    with pytest.raises(ConfigError, match="reads a source kept in a database"):
        engine_for(name="database").validate(FrameSource(pd.DataFrame({"patient_id": ["A"]}), "x"))
    code, err = run(
        "run", str(pipeline(tmp_path, "bad", 'kind = "duckdb"\ntable = "x.parquet"\nengine = 1'))
    )
    assert code == 2 and "engine must be one of" in err and "Traceback" not in err


def test_a_memory_limit_too_small_is_one_line_exit_1_and_nothing_published(extract, tmp_path):
    folder, _ = extract
    where = f'kind = "duckdb"\ntable = "{(folder / "registry.parquet").as_posix()}"'
    code, err = run("run", str(pipeline(tmp_path, "tiny", where + '\nmemory_limit = "1MB"')))
    assert code == 1 and err.count("\n") == 1 and "Out of Memory" in err, err
    assert not (tmp_path / "tiny" / "latest").exists()
    code, err = run("run", str(pipeline(tmp_path, "odd", where + '\nmemory_limit = "lots"')))
    assert code == 2 and "memory_limit must be an amount" in err


def _shown_limit(source: Any) -> float:
    """The memory_limit DuckDB reports for the engine's session, in GiB."""
    con = source._connect_for_tables()
    try:
        (shown,) = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()
    finally:
        con.disconnect()
    number, unit = shown.split()
    return float(number) * {"MiB": 2**-10, "GiB": 1.0, "TiB": 2**10}[unit]


def test_duckdb_holds_half_the_memory_unless_the_pipeline_says(extract, tmp_path, monkeypatch):
    """DuckDB's own default (80 %) left the run's process too little: the kernel stopped a
    10,000,000-patient run. Half of the machine's memory, or of its container's limit."""
    import os

    from imnm_cohort.sources import duckdb as duckdb_source

    folder, _ = extract
    settings = {"table": (folder / "registry.parquet").as_posix()}
    source = make_source("duckdb", settings, tmp_path, "p.toml")
    monkeypatch.setattr(duckdb_source, "_CGROUP_LIMIT", tmp_path / "no-such-file")
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert duckdb_source.default_memory_limit() == f"{machine // 2 // 2**20}MiB"
    assert _shown_limit(source) == pytest.approx(machine / 2 / 2**30, abs=0.1)
    limit = tmp_path / "memory.max"
    limit.write_text("1073741824\n")  # a container of 1 GiB
    monkeypatch.setattr(duckdb_source, "_CGROUP_LIMIT", limit)
    assert duckdb_source.default_memory_limit() == "512MiB"
    assert _shown_limit(source) == pytest.approx(0.5, abs=0.01)
    limit.write_text("max\n")  # a container without a limit: the machine's
    assert duckdb_source.default_memory_limit() == f"{machine // 2 // 2**20}MiB"
    told = make_source("duckdb", {**settings, "memory_limit": "1GB"}, tmp_path, "p.toml")
    assert _shown_limit(told) == pytest.approx(1e9 / 2**30, abs=0.01)
