"""The engines the specification tests run on are every engine the package registers."""

from __future__ import annotations

from imnm_cohort.engines.base import ENGINES, Engine, engine_for
from tests.spec.conftest import ENGINE_NAMES


def test_every_registered_engine_is_covered():
    registered = [name for name in ENGINE_NAMES if name != "postgres"]
    for name in registered:
        assert isinstance(engine_for(1 if name == "batched" else None, name), Engine)
    # The database engine reads a database source's own table (``open_table``), not the
    # frames these tests build: tests/databases/test_database_engine.py runs it on the same
    # data as in memory (DuckDB, Parquet in place, PostgreSQL). ``postgres`` is the duckdb
    # engine's SQL on a PostgreSQL server (tests/spec/conftest.py), not an engine of its own.
    assert set(ENGINES) - {"database"} == set(registered) - {"database"}


def test_a_module_not_listed_runs_once_in_memory(engine):
    assert engine == "in_memory"
