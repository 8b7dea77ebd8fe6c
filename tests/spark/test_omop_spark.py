"""The OMOP source on Spark (``url = "spark"``, the active session): the hand-written CDM of
tests/omop/cdm.py as Spark tables of a database of their own gives the DuckDB tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from tests.omop.cdm import SITE_CONCEPTS, build
from tests.spark.conftest import SOCKET_WARNING

pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings(SOCKET_WARNING)


def test_spark_gives_the_duckdb_tables(spark, tmp_path):
    path = build(tmp_path / "cdm.duckdb")
    site = tmp_path / "site.toml"
    site.write_text(SITE_CONCEPTS, encoding="utf-8")
    local = duckdb.connect(str(path), read_only=True)
    spark.sql("CREATE DATABASE IF NOT EXISTS omop_cdm")
    for (table,) in local.execute("SHOW TABLES").fetchall():
        parquet = tmp_path / f"{table}.parquet"
        local.execute(f"COPY {table} TO '{parquet}' (FORMAT parquet)")
        spark.read.parquet(str(parquet)).write.mode("overwrite").saveAsTable(f"omop_cdm.{table}")
    local.close()
    sets = load_concept_sets(site)
    on_spark = OmopSource(
        "spark", cdm_schema="omop_cdm", vocabulary_schema="omop_cdm", concept_sets=sets
    )
    on_duckdb = OmopSource(f"duckdb:///{path}", concept_sets=sets)
    pd.testing.assert_frame_equal(on_spark.read(), on_duckdb.read())
    for name, table in on_duckdb.tables().items():
        pd.testing.assert_frame_equal(on_spark.tables()[name], table, obj=name)
    assert on_spark.describe()["backend"] == "spark"
