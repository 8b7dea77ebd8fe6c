"""Writing the synthetic OMOP database chunk by chunk: DuckDB or Parquet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imnm_cohort.synth_omop.design import CHUNK_PERSONS, WRITE_MEMORY, OmopPlan
from imnm_cohort.synth_omop.people import draw_chunk
from imnm_cohort.synth_omop.tables import CDM_TABLES, RowIds, table_schemas, vocabulary_tables

if TYPE_CHECKING:
    import pyarrow as pa


def omop_chunks(
    n: int, seed: int = 0, plan: OmopPlan | None = None
) -> Iterator[dict[str, pa.Table]]:
    """The synthetic database as chunks of tables (:data:`CHUNK_PERSONS` persons each);
    the first chunk also carries the vocabulary (``concept``, ``concept_ancestor``,
    ``cdm_source``).

    Parameters
    ----------
    n : int
        Persons (1 or more).
    seed : int
        The same ``n``, seed and plan give the same rows.
    plan : OmopPlan, optional
        What to plant (the defaults of :class:`OmopPlan`).
    """
    plan = plan or OmopPlan()
    ids = RowIds()
    for index, first in enumerate(range(0, n, CHUNK_PERSONS)):
        rng = np.random.default_rng([seed, index])
        tables = draw_chunk(rng, first + 1, min(CHUNK_PERSONS, n - first), plan, ids)
        if index == 0:
            tables.update(vocabulary_tables())
        yield tables


def write_omop(n: int, path: str | Path, seed: int = 0, plan: OmopPlan | None = None) -> Path:
    """Write a synthetic OMOP CDM v5.4 database.

    Parameters
    ----------
    n : int
        Persons.
    path : str or Path
        A ``.duckdb`` file (replaced), or a folder (no suffix) that gets one Parquet file
        per table (``person.parquet``, ..., ``planted_truth.parquet``).
    seed : int
    plan : OmopPlan, optional

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    if path.suffix.lower() == ".duckdb":
        return _write_duckdb(omop_chunks(n, seed, plan), path)
    if path.suffix:
        raise ValueError(f"{path}: an OMOP database is a .duckdb file or a folder")
    return _write_parquet(omop_chunks(n, seed, plan), path)


def _write_duckdb(chunks: Iterator[dict[str, pa.Table]], path: Path) -> Path:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    made: set[str] = set()
    with duckdb.connect(str(partial)) as con:
        con.execute(f"SET memory_limit = '{WRITE_MEMORY}'")
        con.execute("SET enable_progress_bar = false")  # the command line prints its own
        for tables in chunks:
            for name, table in tables.items():
                con.register("_chunk", table)
                if name in made:
                    con.execute(f"INSERT INTO {name} SELECT * FROM _chunk")
                else:
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _chunk")
                    made.add(name)
                con.unregister("_chunk")
    partial.replace(path)
    return path


def _write_parquet(chunks: Iterator[dict[str, pa.Table]], folder: Path) -> Path:
    import pyarrow.parquet as pq

    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    schemas = table_schemas()
    writers = {
        name: pq.ParquetWriter(folder / f"{name}.parquet.partial", schemas[name])
        for name in (*CDM_TABLES, "planted_truth")
    }
    try:
        for tables in chunks:
            for name, table in tables.items():
                writers[name].write_table(table.cast(schemas[name]))
    finally:
        for writer in writers.values():
            writer.close()
    for name in writers:
        (folder / f"{name}.parquet.partial").replace(folder / f"{name}.parquet")
    return folder
