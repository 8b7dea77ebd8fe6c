"""Fixtures of the database tests: a throw-away PostgreSQL cluster per test session (or
``IMNM_TEST_PG_URL``)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.databases import postgres


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.Cluster | None]:
    """The throw-away cluster (None when ``IMNM_TEST_PG_URL`` names a server)."""
    if os.environ.get("IMNM_TEST_PG_URL"):
        yield None
        return
    cluster = postgres.start_cluster()
    try:
        yield cluster
    finally:
        postgres.remove_cluster(cluster)


@pytest.fixture(scope="session")
def pg_url(pg_cluster: postgres.Cluster | None) -> str:
    """A libpq URL with the password in it (for connecting in the tests themselves)."""
    return os.environ.get("IMNM_TEST_PG_URL") or pg_cluster.url_with_password  # type: ignore[union-attr]
