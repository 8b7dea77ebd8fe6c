"""The engines the specification tests run on are every engine the package registers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imnm_cohort.engines.base import Engine, engine_for, engine_names
from tests.spec.conftest import ENGINE_NAMES

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _engine_step_engines() -> set[str]:
    """The engines the engine step (``make test-databases``) adds to the specification."""
    found = re.search(r"IMNM_TEST_ENGINES=(\S+)", MAKEFILE.read_text(encoding="utf-8"))
    assert found, "the Makefile's engine step no longer names IMNM_TEST_ENGINES"
    return set(found.group(1).split(","))


def test_every_registered_engine_is_covered():
    in_this_run = [name for name in ENGINE_NAMES if name != "postgres"]
    for name in in_this_run:
        assert isinstance(engine_for(1 if name == "batched" else None, name), Engine)
    # The names come from the registry's full list, not from the engines some earlier test
    # happened to import (engines register themselves when first asked for).
    # The database engine reads a database source's own table (``open_table``), not the
    # frames these tests build: tests/databases/test_database_engine.py runs it on the same
    # data as in memory (DuckDB, Parquet in place, PostgreSQL). ``postgres`` is the duckdb
    # engine's SQL on a PostgreSQL server (tests/spec/conftest.py), not an engine of its own.
    covered = {"in_memory", "batched"} | (_engine_step_engines() - {"postgres"})
    assert set(engine_names()) - {"database"} == covered


def test_an_unknown_engine_lists_every_engine_even_those_not_yet_imported():
    with pytest.raises(ValueError) as raised:
        engine_for(name="no_such_engine")
    for name in ("in_memory", "batched", "duckdb", "database"):
        assert name in str(raised.value)


def test_a_module_not_listed_runs_once_in_memory(engine):
    assert engine == "in_memory"
