"""Benchmark: validate + classify where the data lives (the ``database`` engine) beside the
batched in-memory path and a bare ``SELECT count(*)`` over the same rows (the floor).

Each measure runs in a fresh process (its peak memory is its own high-water mark):

* ``floor``: DuckDB's ``SELECT count(*)`` over the Parquet files;
* ``database``: the ``database`` engine's ``validate`` and ``classify`` over the files
  (``[input] kind = "duckdb"``, Parquet in place), with the rows and bytes fetched;
* ``batched``: the batched in-memory engine (500,000 rows a batch) over the same source.

``postgres URL`` runs the ``database`` engine over the table ``bench.patients`` of a
PostgreSQL database (loaded once from the synthetic extract; the URL holds the password
for loading only) and reports the table's size (``pg_total_relation_size``) beside the
rows and bytes fetched.

Run from ``benchmarks/``:
``python bench_database.py duckdb 1000000 --batched`` (the Parquet parts are synthesized
once into ``data/parquet_<N>/``, 1,000,000 patients a part; ``--batched`` adds the batched
path, ``--no-database`` leaves the database engine out), ``python bench_database.py
postgres 100000 postgresql://user:password@host:port/db`` (also the in-memory engine over
the same table, with the bytes it fetched).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import DATA, _status_mb

PART = 1_000_000


def parquet_folder(n: int) -> Path:
    """The synthetic extract of ``n`` patients as Parquet parts (made once)."""
    from imnm_cohort import synthesize, write_extract

    folder = DATA / f"parquet_{n}"
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for part in range(max(1, n // PART)):
        size = min(n, PART)
        frame = synthesize(size, seed=100 + part, dirty=0.02)
        frame["patient_id"] = frame["patient_id"].str.replace("SYN", f"P{part:03d}-", n=1)
        write_extract(frame, folder / f"part-{part:03d}.parquet")
    (folder / "done").write_text("")
    return folder


def source_of(folder: Path) -> Any:
    from imnm_cohort.sources.base import make_source

    return make_source("duckdb", {"table": str(folder / "*.parquet")}, folder, "bench")


def measure(kind: str, where: str) -> dict[str, Any]:
    """One measure, in this process."""
    from imnm_cohort import get_criteria
    from imnm_cohort.engines.base import engine_for

    start, cpu = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {}
    if kind == "floor":
        import duckdb

        rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{where}/*.parquet')")
        out["rows"] = rows.fetchone()[0]
    elif kind in ("database", "postgres"):
        source = source_of(Path(where)) if kind == "database" else _pg_source(where)
        engine = engine_for(name="database")
        result = engine.validate(source)
        out["validate_s"] = round(time.perf_counter() - start, 2)
        out["validate_cpu_s"] = round(time.process_time() - cpu, 2)
        classified = engine.classify(result, get_criteria("tma2025"))
        counted = classified.attrs["imnm_in_database"]
        out.update(
            rows=result.input_rows,
            quarantined=result.quarantined_rows,
            analysed_patients=len(classified),
            fetched=counted["fetched"],
            groups=counted["groups"],
        )
    elif kind == "postgres_in_memory":
        import pyarrow as pa

        source = _pg_source(where)
        engine = engine_for(name="in_memory")
        result = engine.validate(source)
        engine.classify(result, get_criteria("tma2025"))
        out["rows"] = result.input_rows
        out["seconds_before_sizing"] = round(time.perf_counter() - start, 2)
        # What the in-memory engine fetched: every cell of the table, as text.
        out["fetched_bytes_as_arrow"] = pa.Table.from_pandas(source.read()).nbytes
    elif kind == "batched":
        engine = engine_for(500_000)
        result = engine.validate(source_of(Path(where)))
        engine.classify(result, get_criteria("tma2025"))
        out["rows"] = result.input_rows
    out["seconds"] = round(time.perf_counter() - start, 2)
    # Processor time of every thread of the process (DuckDB's included): on a loaded
    # machine a steadier measure than the wall clock.
    out["cpu_s"] = round(time.process_time() - cpu, 2)
    # The process's own high-water mark (VmHWM): ru_maxrss would carry the parent's peak
    # across exec.
    out["peak_gb"] = round(_status_mb("VmHWM") / 1024, 2)
    return out


def _pg_source(url: str) -> Any:
    import os
    from urllib.parse import urlsplit, urlunsplit

    from imnm_cohort.sources.base import make_source

    parts = urlsplit(url)
    os.environ["IMNM_BENCH_PG_PASSWORD"] = parts.password or ""
    plain = urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@")))
    settings = {"url": plain, "password_env": "IMNM_BENCH_PG_PASSWORD", "table": "bench.patients"}
    return make_source("sql", settings, Path("."), "bench")


def fresh(kind: str, where: str) -> dict[str, Any]:
    """One measure in a new process."""
    found = subprocess.run(
        [sys.executable, __file__, "_one", kind, where], capture_output=True, text=True
    )
    if found.returncode:
        return {"error": found.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(found.stdout.strip().splitlines()[-1])
    return result


def load_postgres(n: int, url: str) -> int:
    """Load the extract into ``bench.patients`` (text columns) once; its size in bytes."""
    import ibis
    import pyarrow as pa
    import pyarrow.parquet as pq

    con = ibis.connect(url)
    try:
        con.raw_sql("CREATE SCHEMA IF NOT EXISTS bench").close()
        if "patients" not in con.list_tables(database="bench"):
            folder = parquet_folder(n)
            table = pq.read_table(sorted(folder.glob("*.parquet"))[0]).slice(0, n)
            text = pa.table({c: table[c].cast(pa.string()) for c in table.column_names})
            con.create_table("patients", text, database="bench")
        with con.con.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('bench.patients')")
            return int(cursor.fetchone()[0])
    finally:
        con.disconnect()


def main(argv: list[str]) -> None:
    if argv[0] == "_one":
        print(json.dumps(measure(argv[1], argv[2])))
        return
    mode, n = argv[0], int(argv[1])
    if mode == "postgres":
        size = load_postgres(n, argv[2])
        found = fresh("postgres", argv[2])
        memory = fresh("postgres_in_memory", argv[2])
        print(json.dumps({"table_bytes": size, "database": found, "in_memory": memory}, indent=1))
        return
    folder = parquet_folder(n)
    size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
    report = {"parquet_bytes": size}
    kinds = ["floor", "database", "batched"]
    if "--batched" not in argv:
        kinds.remove("batched")
    if "--no-database" in argv:  # the floor and the batched path alone
        kinds.remove("database")
    for kind in kinds:
        report[kind] = fresh(kind, str(folder))
        print(kind, json.dumps(report[kind]), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
