"""A synthetic OMOP database on PostgreSQL (the throw-away test cluster) gives the answers it
gives on DuckDB: the patient and event tables, the groups under ehr2026 and the statin
population (every aggregate), read in a read-only session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest

from imnm_cohort.classify.criteria import get_criteria
from imnm_cohort.engines.base import engine_for
from imnm_cohort.pipeline import stages
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.synth_omop import OmopPlan, write_omop
from tests.databases import postgres

ENV = "IMNM_TEST_OMOP_PASSWORD"
SCHEMA = "omop_synth"
DENSE = OmopPlan(exposed_rate=3000, unexposed_rate=600, decoy_rate=400, measurements=3)


@pytest.fixture(scope="module")
def cdm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("omop") / "cdm.duckdb"
    return write_omop(1500, path, seed=5, plan=DENSE)


@pytest.fixture(scope="module")
def pg_cdm(cdm_file: Path, pg_url: str) -> Iterator[str]:
    local = duckdb.connect(str(cdm_file), read_only=True)
    con = ibis.connect(pg_url)
    try:
        con.raw_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE").close()
        con.raw_sql(f"CREATE SCHEMA {SCHEMA}").close()
        for (table,) in local.execute("SHOW TABLES").fetchall():
            con.create_table(table, local.execute(f"SELECT * FROM {table}").to_arrow_table(),
                             database=SCHEMA)  # fmt: skip
    finally:
        local.close()
        con.disconnect()
    yield pg_url.replace(f":{postgres.PASSWORD}@", "@")


def _answers(source: OmopSource) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.Series, dict]:
    engine = engine_for()
    result = engine.validate(source)
    result = stages.derive(result, stages.source_tables(source, result))
    classified = engine.classify(result, get_criteria(source.default_criteria))
    groups = classified.set_index("patient_id")["imnm_group"].astype(str).sort_index()
    population = stages.statin_population(source, classified).to_dict()
    return source.read(), source.tables(), groups, population


def test_postgres_gives_the_duckdb_answers(cdm_file, pg_cdm, monkeypatch):
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    on_pg = _answers(
        OmopSource(pg_cdm, cdm_schema=SCHEMA, vocabulary_schema=SCHEMA, password_env=ENV)
    )
    on_duckdb = _answers(OmopSource(f"duckdb:///{cdm_file}"))
    pd.testing.assert_frame_equal(on_pg[0], on_duckdb[0])
    for name, table in on_duckdb[1].items():
        pd.testing.assert_frame_equal(on_pg[1][name], table, obj=name)
    pd.testing.assert_series_equal(on_pg[2], on_duckdb[2])
    assert {"hmgcr", "srp"} <= set(on_duckdb[2])
    assert _rounded(on_pg[3]) == _rounded(on_duckdb[3])
    assert on_duckdb[3]["exposed"]["any_statin"]["groups"]["imnm"]["events"] > 0


def _rounded(data: object) -> object:
    """Floats to 9 significant digits (the sums of person-days are exact integers; the
    rates are divided in Python), everything else as it is."""
    if isinstance(data, dict):
        return {k: _rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rounded(v) for v in data]
    return float(f"{data:.9g}") if isinstance(data, float) else data
