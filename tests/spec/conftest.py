"""The specification tests of validation and classification run on every engine, as a
query language's specification runs on every query engine: each test of the modules below
runs once in memory and once in batches of two rows (``tests.conftest.ENGINE``)."""

from __future__ import annotations

import os
from typing import Any

import pytest

import tests.conftest as shared
from tests.databases.conftest import pg_cluster, pg_url  # noqa: F401  (the postgres runs)

#: Modules whose tests validate and classify through ``tests.conftest``'s helpers.
ON_EVERY_ENGINE = ("test_group_", "test_extract_rules", "test_eular_acr_2017")
#: Every engine the package registers (each registers itself when first asked for). The
#: database engines' runs of the specification take minutes, so they run in the engine
#: step (``make test-databases`` sets ``IMNM_TEST_ENGINES=duckdb,postgres``), not in
#: ``make test``. ``postgres`` is the duckdb engine's SQL run on a PostgreSQL server: the
#: throw-away cluster of ``tests/databases`` (or ``IMNM_TEST_PG_URL``).
ENGINE_NAMES = (
    "in_memory",
    "batched",
    *(e for e in os.environ.get("IMNM_TEST_ENGINES", "").split(",") if e),
)


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rpartition(".")[2]
    if "engine" in metafunc.fixturenames and module.startswith(ON_EVERY_ENGINE):
        metafunc.parametrize("engine", ENGINE_NAMES, indirect=True)


@pytest.fixture(autouse=True)
def engine(request, monkeypatch):
    """The engine of this run of the test (in memory for modules not listed above)."""
    name = getattr(request, "param", "in_memory")
    monkeypatch.setitem(shared.ENGINE, "name", name)
    monkeypatch.setitem(shared.ENGINE, "connect", None)
    if name == "postgres":
        import ibis

        url = request.getfixturevalue("pg_url")
        monkeypatch.setitem(shared.ENGINE, "connect", lambda: ibis.connect(url))
    return name


def spec_engine(name: str, request: pytest.FixtureRequest) -> Any:
    """The engine object of ``name`` (one of ``ENGINE_NAMES``), for a test that takes the
    engine's name as its own parameter."""
    from imnm_cohort.engines.base import engine_for
    from imnm_cohort.engines.duckdb import DuckdbEngine

    if name == "postgres":
        import ibis

        url = request.getfixturevalue("pg_url")
        return DuckdbEngine(name="postgres", connect=lambda: ibis.connect(url))
    return engine_for(1 if name == "batched" else None, name)
