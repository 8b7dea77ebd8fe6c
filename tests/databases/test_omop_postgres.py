"""The OMOP source on PostgreSQL (the throw-away test cluster): the hand-written CDM of
tests/omop/cdm.py, loaded into a schema of its own, gives the same patient and event tables
as on DuckDB, in a read-only session, with the password from the environment; so does the
synthetic database (tests/omop/synthetic.py), with the same statin population."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest

from imnm_cohort.errors import ExtractError
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from tests.databases import postgres
from tests.omop import synthetic
from tests.omop.cdm import SITE_CONCEPTS, build

ENV = "IMNM_TEST_OMOP_PASSWORD"
SCHEMA = "omop_cdm"


@pytest.fixture(scope="module")
def cdm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("omop") / "cdm.duckdb")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site.toml"
    path.write_text(SITE_CONCEPTS, encoding="utf-8")
    return path


def _load(cdm_file: Path, pg_url: str, schema: str) -> str:
    """Every table of the DuckDB file in ``schema``; the URL without the password."""
    local = duckdb.connect(str(cdm_file), read_only=True)
    con = ibis.connect(pg_url)
    try:
        con.raw_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE").close()
        con.raw_sql(f"CREATE SCHEMA {schema}").close()
        for (table,) in local.execute("SHOW TABLES").fetchall():
            arrow = local.execute(f"SELECT * FROM {table}").to_arrow_table()
            con.create_table(table, arrow, database=schema)
    finally:
        local.close()
        con.disconnect()
    return pg_url.replace(f":{postgres.PASSWORD}@", "@")


@pytest.fixture(scope="module")
def pg_cdm(cdm_file: Path, pg_url: str) -> Iterator[str]:
    """The CDM's tables in the schema omop_cdm; yields the URL without the password."""
    yield _load(cdm_file, pg_url, SCHEMA)


def test_postgres_gives_the_duckdb_tables(cdm_file, pg_cdm, site, monkeypatch):
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    sets = load_concept_sets(site)
    on_pg = OmopSource(
        pg_cdm, cdm_schema=SCHEMA, vocabulary_schema=SCHEMA, password_env=ENV, concept_sets=sets
    )
    on_duckdb = OmopSource(f"duckdb:///{cdm_file}", concept_sets=sets)
    pd.testing.assert_frame_equal(on_pg.read(), on_duckdb.read())
    for name, table in on_duckdb.tables().items():
        pd.testing.assert_frame_equal(on_pg.tables()[name], table, obj=name)
    described = on_pg.describe()
    assert described["backend"] == "postgres" and described["host"] == "127.0.0.1"
    assert postgres.PASSWORD not in repr(described) and postgres.USER not in repr(described)
    assert described["candidates"] == 4


def test_postgres_gives_the_duckdb_answers_on_the_synthetic_database(tmp_path, pg_url, monkeypatch):
    path = synthetic.write(tmp_path / "synthetic.duckdb")
    url = _load(path, pg_url, "omop_synthetic")
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    on_pg = OmopSource(
        url, cdm_schema="omop_synthetic", vocabulary_schema="omop_synthetic", password_env=ENV
    )
    synthetic.assert_same(on_pg, OmopSource(f"duckdb:///{path}"), synthetic.planted_cases(path))


def test_a_missing_schema_is_one_line_without_the_password(pg_cdm, monkeypatch):
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    source = OmopSource(pg_cdm, cdm_schema="no_such_schema", password_env=ENV)
    with pytest.raises(ExtractError) as caught:
        source.read()
    text = str(caught.value)
    assert text.startswith("OMOP CDM (postgres) registry at 127.0.0.1")
    assert "\n" not in text and postgres.PASSWORD not in text
