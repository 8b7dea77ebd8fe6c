"""Benchmark: what ``imnm-cohort run`` does in an OMOP CDM database, in DuckDB or PostgreSQL.

Writes the synthetic CDM once (``imnm-cohort synth --layout omop --seed 1``, about 50
measurement rows a person; timed apart, in its own process; by default
``data/omop_N_1.duckdb``, shared with ``bench_omop_statin.py``, or the file ``--db`` names),
then, in a fresh process, as a run's stages do: the OMOP source derives the patient table
and the event tables, the patient table is validated and the event tables are validated
against it, the patients are classified under ``ehr2026``, and the statin-population rates
are computed in the database with the IMNM patients found as the cases. Prints each step's
wall time, the total, the process's processor time (every thread's: DuckDB's included) and
its peak memory (``VmHWM``: DuckDB's included). Target at 1,000,000 persons in DuckDB: <= 60
s and <= 4 GB.

``--engine postgres`` runs the same steps through the OMOP source with a PostgreSQL URL:
the DuckDB file's tables are first loaded once into the schema ``omop_bench`` (``COPY``,
streamed as CSV; then ``ANALYZE``) of the server ``--pg-url`` names (a URL with the
password, used for loading only), or, without one, of a throw-away PostgreSQL cluster made
as the database tests make theirs (``tests/databases/postgres.py``; removed at the end
unless ``--keep-cluster``). It also reports what crossed the connection: the rows and Arrow
bytes of the results fetched, and the bytes the process read from and wrote to its sockets
and files while the steps ran (``rchar`` / ``wchar`` of ``/proc/self/io``), beside the
size of the tables in the server (``pg_total_relation_size``).

``--tile K`` measures a database of K times N persons made from the N-person one by DuckDB:
K copies of its persons, the ids of each copy shifted past the previous one's (every count
is then K times the N-person one's, which the figures show). Drawing 10,000,000 persons
takes about 30 minutes of processor time; copying takes a few.

Run from the repository root with ``PYTHONPATH=.``::

    python benchmarks/bench_omop_run.py 1000000
    python benchmarks/bench_omop_run.py 1000000 --db /tmp/omop_1000000.duckdb --tile 10
    python benchmarks/bench_omop_run.py 1000000 --engine postgres --db /tmp/omop_1000000.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.databases.postgres

from _common import _status_mb, synthetic_omop

#: The schema the PostgreSQL benchmark loads the CDM into.
SCHEMA = "omop_bench"
#: The environment variable that passes ``--memory-limit`` to the measuring process.
MEMORY_ENV = "IMNM_BENCH_DUCKDB_MEMORY"
#: The environment variable the measuring process reads the password from.
PASSWORD_ENV = "IMNM_BENCH_OMOP_PASSWORD"
#: Server settings of the throw-away cluster (recorded with the figure): memory for sorts
#: and hashes, and a buffer cache, as a server of a CDM this size would have.
CLUSTER_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "4GB",
    "max_parallel_workers_per_gather": "2",
}


#: The tables of persons, each with its own row id (shifted in a tiled copy); the rest of
#: the database (the vocabulary, ``cdm_source``) is copied once.
PERSON_TABLES = {
    "person": None,
    "observation_period": "observation_period_id",
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "measurement": "measurement_id",
    "death": None,
    "planted_truth": None,
}


def tile(db: Path, copies: int, out: Path) -> None:
    """``out``: the persons of ``db`` ``copies`` times over, each copy's ``person_id`` and row
    ids shifted past the previous copy's (a copy's rows are the original's, so every count
    of a copy is the original's), written by DuckDB copy after copy."""
    import duckdb

    if out.exists():
        return
    start = time.perf_counter()
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial))
    try:
        con.execute("SET memory_limit = '2GB'")
        con.execute(f"ATTACH '{db}' AS small (READ_ONLY)")
        names = [r[0] for r in con.execute("SHOW TABLES FROM small").fetchall()]
        persons = con.execute("SELECT max(person_id) FROM small.person").fetchone()[0]
        for name in names:
            if name not in PERSON_TABLES:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM small.{name}")
                continue
            shifted = [f"person_id + k * {persons} AS person_id"]
            row_id = PERSON_TABLES[name]
            if row_id is not None:
                top = con.execute(f"SELECT max({row_id}) FROM small.{name}").fetchone()[0]
                shifted.append(f"{row_id} + k * {top} AS {row_id}")
            for k in range(copies):  # copy after copy, each in the original's order
                rows = f"SELECT * REPLACE ({', '.join(shifted)}) FROM small.{name}"
                rows = rows.replace("k *", f"{k} *")
                made = f"CREATE TABLE {name} AS " if k == 0 else f"INSERT INTO {name} "
                con.execute(made + rows)
    finally:
        con.close()
    partial.replace(out)
    took = time.perf_counter() - start
    print(f"{f'tile {copies} copies (DuckDB)':58s} {took:8.2f} s", flush=True)


def measure(url: str, cdm_schema: str | None) -> dict[str, Any]:
    """The run's steps over the OMOP source at ``url``, in this process."""
    import pyarrow as pa

    import imnm_cohort.sources.omop as omop
    from imnm_cohort.classify.criteria import get_criteria
    from imnm_cohort.engines.base import engine_for
    from imnm_cohort.pipeline import stages

    fetched = {"rows": 0, "arrow_bytes": 0, "results": 0}
    plain_fetch = omop._fetch

    def counted(con: Any, sql: str) -> pa.Table:
        table = plain_fetch(con, sql)
        fetched["rows"] += table.num_rows
        fetched["arrow_bytes"] += table.nbytes
        fetched["results"] += 1
        return table

    omop._fetch = counted  # the derivation's results
    import ibis.expr.types.relations as relations

    plain_to_pandas = relations.Table.to_pandas

    def to_pandas(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = plain_to_pandas(self, *args, **kwargs)
        fetched["rows"] += len(frame)
        fetched["arrow_bytes"] += pa.Table.from_pandas(frame, preserve_index=False).nbytes
        fetched["results"] += 1
        return frame

    relations.Table.to_pandas = to_pandas  # the statin population's one query
    limit = os.environ.get(MEMORY_ENV)
    if limit:  # DuckDB's memory_limit on every connection the source opens
        plain_connect = omop.OmopSource._connect

        def connect(self: Any) -> Any:
            con = plain_connect(self)
            con.raw_sql(f"SET memory_limit = '{limit}'")
            spill = tempfile.mkdtemp(prefix="imnm-bench-spill-")  # beyond it, spill here
            con.raw_sql(f"SET temp_directory = '{spill}'")
            return con

        omop.OmopSource._connect = connect  # type: ignore[method-assign]
    password = {"password_env": PASSWORD_ENV} if os.environ.get(PASSWORD_ENV) else {}
    schemas = {"cdm_schema": cdm_schema, "vocabulary_schema": cdm_schema} if cdm_schema else {}
    source = omop.OmopSource(url, **schemas, **password)
    steps: dict[str, float] = {}

    def step(name: str, fn):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = fn()
        steps[name] = round(time.perf_counter() - start, 2)
        return value

    io_before = _io()
    begin, cpu = time.perf_counter(), time.process_time()
    engine = engine_for()
    step("derive the patient and event tables (in the database)", source.read)
    result = step("validate the patient table", lambda: engine.validate(source))
    tables = step("validate the event tables", lambda: stages.source_tables(source, result))
    result = step(
        "derive empty values from the event tables", lambda: stages.derive(result, tables)
    )
    classified = step(
        "classify (ehr2026)", lambda: engine.classify(result, get_criteria("ehr2026"))
    )
    population = step(
        "statin population (in the database)",
        lambda: stages.statin_population(source, classified),
    )
    total, cpu = time.perf_counter() - begin, time.process_time() - cpu
    io_after = _io()
    exposed = population.exposures["any_statin"]
    groups = classified["imnm_group"].astype(str).value_counts().to_dict()
    return {
        "steps": steps,
        "total_s": round(total, 2),
        "cpu_s": round(cpu, 2),
        "peak_gb": round(_status_mb("VmHWM") / 1024, 2),
        "candidates": len(classified),
        "groups": groups,
        "any_statin_person_years": round(exposed.person_years),
        "any_statin_imnm": exposed.groups["imnm"].events,
        "unexposed_person_years": round(population.unexposed.person_years),
        "unexposed_imnm": population.unexposed.groups["imnm"].events,
        "fetched": fetched,
        "read_bytes": io_after["rchar"] - io_before["rchar"],
        "written_bytes": io_after["wchar"] - io_before["wchar"],
    }


def _io() -> dict[str, int]:
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(": ") for line in f)}


def fresh(url: str, cdm_schema: str | None, password: str | None = None) -> dict[str, Any]:
    """:func:`measure` in a new process (its peak memory is its own)."""
    env = dict(os.environ)
    if password:
        env[PASSWORD_ENV] = password
    args = [sys.executable, __file__, "_measure", url] + ([cdm_schema] if cdm_schema else [])
    found = subprocess.run(args, capture_output=True, text=True, env=env)
    if found.returncode:
        raise SystemExit(found.stderr.strip()[-2000:])
    result: dict[str, Any] = json.loads(found.stdout.strip().splitlines()[-1])
    return result


def show(found: dict[str, Any], target: bool) -> None:
    for name, seconds in found["steps"].items():
        print(f"{name:58s} {seconds:8.2f} s")
    print(f"{'total' + (' (target 60 s)' if target else ''):58s} {found['total_s']:8.2f} s")
    print(f"{'processor time (every thread)':58s} {found['cpu_s']:8.2f} s")
    print(f"{'peak memory' + (' (target 4 GB)' if target else ''):58s} {found['peak_gb']:8.2f} GB")
    print(
        f"{found['candidates']} candidates classified {found['groups']}; any statin "
        f"{found['any_statin_person_years']:,} person-years, {found['any_statin_imnm']} IMNM; "
        f"unexposed {found['unexposed_person_years']:,} person-years, "
        f"{found['unexposed_imnm']} IMNM"
    )
    got = found["fetched"]
    print(
        f"fetched: {got['rows']:,} rows in {got['results']} results, {got['arrow_bytes']:,} "
        f"bytes as Arrow; the process read {found['read_bytes']:,} bytes and wrote "
        f"{found['written_bytes']:,} (files and sockets)"
    )


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_type(duckdb_type: str) -> str:
    kind = duckdb_type.upper()
    if kind == "VARCHAR":
        return "text"
    if kind == "DOUBLE":
        return "double precision"
    if kind == "FLOAT":
        return "real"
    return kind.lower()  # BIGINT, INTEGER, DATE, TIMESTAMP, BOOLEAN, DECIMAL(p,s)


def load_postgres(db: Path, url: str) -> int:
    """The DuckDB file's tables into ``omop_bench`` (once: a table ``_loaded`` marks a
    finished load); the size of the schema's tables in bytes."""
    import duckdb
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        loaded = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = '_loaded'",
            (SCHEMA,),
        ).fetchone()
        if not loaded or not loaded[0]:
            start = time.perf_counter()
            con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            con.execute(f"CREATE SCHEMA {SCHEMA}")
            local = duckdb.connect(str(db), read_only=True)
            try:
                names = [r[0] for r in local.execute("SHOW TABLES").fetchall()]
                for name in names:
                    columns = local.execute(f"DESCRIBE {name}").fetchall()
                    ddl = ", ".join(f'"{c[0]}" {_pg_type(c[1])}' for c in columns)
                    con.execute(f'CREATE TABLE {SCHEMA}."{name}" ({ddl})')
                    csv = db.with_name(f"{db.stem}.{name}.csv")
                    local.execute(f"COPY {name} TO '{csv}' (HEADER, DELIMITER ',')")
                    with (
                        con.cursor() as cursor,
                        cursor.copy(
                            f'COPY {SCHEMA}."{name}" FROM STDIN WITH (FORMAT csv, HEADER)'
                        ) as copy,
                        open(csv, "rb") as f,
                    ):
                        while block := f.read(1 << 20):
                            copy.write(block)
                    csv.unlink()
                    print(f"  loaded {name}", flush=True)
            finally:
                local.close()
            con.execute("ANALYZE")
            con.execute(f"CREATE TABLE {SCHEMA}._loaded AS SELECT 1 AS done")
            took = time.perf_counter() - start
            print(f"{'load into PostgreSQL (COPY, ANALYZE)':58s} {took:8.2f} s", flush=True)
        size = con.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            (SCHEMA,),
        ).fetchone()
    return int(size[0]) if size else 0


def run_postgres(db: Path, url: str | None, keep: bool) -> None:
    from urllib.parse import urlsplit, urlunsplit

    cluster = None
    if url is None:
        from tests.databases import postgres

        cluster = postgres.start_cluster()
        for key, value in CLUSTER_SETTINGS.items():
            cluster.psql(f"ALTER SYSTEM SET {key} = '{value}'")
        cluster.stop()
        cluster.start()
        url = cluster.url_with_password
        print(f"throw-away cluster at {cluster.root} (settings {CLUSTER_SETTINGS})", flush=True)
    try:
        size = load_postgres(db, url)
        parts = urlsplit(url)
        plain = urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@")))
        found = fresh(plain, SCHEMA, parts.password)
        show(found, target=False)
        print(f"{'the CDM tables in PostgreSQL (pg_total_relation_size)':58s} {size:,} bytes")
        print(json.dumps(found))
    finally:
        if cluster is not None and not keep:
            postgres.remove_cluster(cluster)
        elif cluster is not None:
            print(f"kept: {cluster.url_with_password} (data {cluster.root})")


def main(argv: list[str]) -> None:
    if argv and argv[0] == "_measure":
        print(json.dumps(measure(argv[1], argv[2] if len(argv) > 2 else None)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="persons")
    parser.add_argument("--db", type=Path, help="the .duckdb file (made when absent)")
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--pg-url", help="a PostgreSQL URL with its password (loading only)")
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument(
        "--memory-limit", help="DuckDB's memory_limit for the source's connections ('3GB')"
    )
    parser.add_argument(
        "--tile",
        type=int,
        metavar="K",
        help="measure K copies of the N persons (ids shifted; written as --db with "
        "'.xK' before the suffix)",
    )
    args = parser.parse_args(argv)
    if args.memory_limit:
        os.environ[MEMORY_ENV] = args.memory_limit
    db = synthetic_omop(args.n, path=args.db)
    if args.tile:
        tiled = db.with_name(f"{db.stem}.x{args.tile}{db.suffix}")
        tile(db, args.tile, tiled)
        db = tiled
    print(f"load: {os.getloadavg()}", flush=True)
    if args.engine == "postgres":
        run_postgres(db, args.pg_url, args.keep_cluster)
    else:
        found = fresh(f"duckdb:///{db.resolve()}", None)
        show(found, target=args.n == 1_000_000)
        print(json.dumps(found))
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
