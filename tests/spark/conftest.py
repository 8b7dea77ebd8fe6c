"""One local Spark session for every Spark test (starting one takes tens of seconds).

pyspark leaves the local socket of every result it fetches (``collect``, ``toArrow``) to
the garbage collector (``pyspark/util.py``, ``_load_from_socket``: "The socket will be
automatically closed when garbage-collected"), and Python warns of an unclosed socket when
it is collected. Each Spark test module allows that warning alone (:data:`SOCKET_WARNING`)
and each Spark test collects the garbage when it ends (:func:`sockets_closed`), so that no
such warning reaches a later test of another folder.

pyspark is an optional extra (``imnm-cohort[spark]``): each test module skips itself when it
is absent (``pytest.importorskip``), so this file imports it only inside the fixture.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

#: The one warning a Spark test allows (a ``filterwarnings`` mark): a socket pyspark left to
#: the garbage collector, reported by pytest when it is collected.
SOCKET_WARNING = (
    r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(autouse=True)
def sockets_closed() -> Iterator[None]:
    """Collect pyspark's fetched sockets when the test ends, within the test's own
    warning filters."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ``local[2]`` session, its catalog's tables kept in a temporary folder; the Spark
    sources of the tests (``master = "local[2]"``, or none: the active session) reuse it."""
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("imnm-cohort-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
