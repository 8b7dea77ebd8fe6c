"""The OMOP source on Spark (``url = "spark"``, the active session): the hand-written CDM of
tests/omop/cdm.py as Spark tables of a database of their own gives the DuckDB tables and
the DuckDB statin-population aggregates; so does the synthetic database
(tests/omop/synthetic.py)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from imnm_cohort.analysis.statin_population import statin_population
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from tests.omop import synthetic
from tests.omop.cdm import SITE_CONCEPTS, build
from tests.spark.conftest import SOCKET_WARNING

pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings(SOCKET_WARNING)


def _load(spark, path, folder, database: str) -> None:
    """Every table of the DuckDB file as a Spark table of ``database``."""
    local = duckdb.connect(str(path), read_only=True)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    folder.mkdir(exist_ok=True)
    try:
        for (table,) in local.execute("SHOW TABLES").fetchall():
            parquet = folder / f"{table}.parquet"
            local.execute(f"COPY {table} TO '{parquet}' (FORMAT parquet)")
            frame = spark.read.parquet(str(parquet))
            frame.write.mode("overwrite").saveAsTable(f"{database}.{table}")
    finally:
        local.close()


def test_spark_gives_the_duckdb_tables(spark, tmp_path):
    path = build(tmp_path / "cdm.duckdb")
    site = tmp_path / "site.toml"
    site.write_text(SITE_CONCEPTS, encoding="utf-8")
    _load(spark, path, tmp_path / "parquet", "omop_cdm")
    sets = load_concept_sets(site)
    on_spark = OmopSource(
        "spark", cdm_schema="omop_cdm", vocabulary_schema="omop_cdm", concept_sets=sets
    )
    on_duckdb = OmopSource(f"duckdb:///{path}", concept_sets=sets)
    pd.testing.assert_frame_equal(on_spark.read(), on_duckdb.read())
    for name, table in on_duckdb.tables().items():
        pd.testing.assert_frame_equal(on_spark.tables()[name], table, obj=name)
    assert on_spark.describe()["backend"] == "spark"
    # The statin population (as run computes it) gives the same aggregates too.
    cases = pd.DataFrame(
        {
            "person_id": [1, 2],
            "onset_date": pd.to_datetime(["2020-02-15", "2019-04-01"]),
            "group": ["hmgcr", "srp"],
        }
    )

    def population(source: OmopSource) -> dict:
        with source.population_tables() as (tables, small):
            found = statin_population(tables, source.ingredients(), cases, small=small)
        return found.to_dict()

    assert population(on_spark) == population(on_duckdb)


def test_spark_gives_the_duckdb_answers_on_the_synthetic_database(spark, tmp_path):
    path = synthetic.write(tmp_path / "synthetic.duckdb")
    _load(spark, path, tmp_path / "parquet", "omop_synthetic")
    on_spark = OmopSource("spark", cdm_schema="omop_synthetic", vocabulary_schema="omop_synthetic")
    synthetic.assert_same(on_spark, OmopSource(f"duckdb:///{path}"), synthetic.planted_cases(path))
