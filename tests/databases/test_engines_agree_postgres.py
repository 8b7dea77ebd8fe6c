"""Property, PostgreSQL part: a random dirty extract in a PostgreSQL table, read through the
SQL source (``sources/sql.py``) and validated in memory and in small batches streamed from
the server, gives what the same rows in a CSV file give in memory: the same valid rows, the
same quarantine with the same reasons, the same warnings and file-level judgement, and the
same groups and reasons (tests/property/test_engines_agree.py is the in-process part)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from imnm_cohort.engines.base import engine_for
from imnm_cohort.sources.base import make_source
from imnm_cohort.sources.files import FileSource
from imnm_cohort.synth import write_extract
from tests.databases import postgres
from tests.property.engines import assert_same, assert_same_groups, dirty_extracts, outcome
from tests.property.test_engines_agree import EVERY_KIND

ENV = "IMNM_TEST_PROPERTY_PASSWORD"
TABLE = "imnm_property.extract"


@pytest.fixture(scope="module")
def con(pg_url: str) -> Iterator[Any]:
    connection = ibis.connect(pg_url)
    connection.raw_sql("CREATE SCHEMA IF NOT EXISTS imnm_property").close()
    try:
        yield connection
    finally:
        connection.disconnect()


def in_reading_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as the SQL source reads them: empty text is a missing cell, ordered by
    patient_id, then every other column (code point order, as ``COLLATE "C"``), NULLs last."""
    cells = frame.astype(object).where(frame.notna() & frame.ne(""), None)
    key = ["patient_id", *(c for c in cells.columns if c != "patient_id")]
    return cells.sort_values(key, na_position="last", kind="stable", ignore_index=True)


@settings(
    max_examples=6,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(frame=EVERY_KIND, batch_rows=2)
@given(frame=dirty_extracts(max_rows=48), batch_rows=st.integers(1, 12))
def test_a_postgresql_table_validates_and_classifies_as_its_csv_file(
    con: Any, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    frame: pd.DataFrame, batch_rows: int,
) -> None:  # fmt: skip
    monkeypatch.setenv(ENV, postgres.PASSWORD)
    ordered = in_reading_order(frame)
    schema = pa.schema([(c, pa.string()) for c in ordered.columns])
    table = pa.Table.from_pandas(ordered, preserve_index=False, schema=schema)
    con.create_table("extract", table, database="imnm_property", overwrite=True)
    csv = write_extract(ordered, tmp_path / "extract.csv")
    plain = pg_url.replace(f":{postgres.PASSWORD}@", "@")
    source = make_source("sql", {"url": plain, "password_env": ENV, "table": TABLE}, tmp_path, "p")
    memory = engine_for(name="in_memory")
    expected = outcome(memory, FileSource(csv))
    results = {
        "csv in memory": (memory, expected),
        "postgresql in memory": (memory, outcome(memory, source)),
        f"postgresql batched({batch_rows})": (
            engine_for(batch_rows),
            outcome(engine_for(batch_rows), source),
        ),
    }
    for name, (_, got) in results.items():
        assert_same(expected, got, name)
    assert_same_groups(results)
