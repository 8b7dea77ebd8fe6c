"""Benchmark: the floor under any validation in DuckDB, for the database engine's target.

Over the Parquet extract ``bench_database.py`` makes (``data/parquet_<N>/``, every cell
text, as an extract file holds it), times two queries in DuckDB with every thread of the
machine:

* ``SELECT count(*)``: reading nothing but the row count;
* **one pass of minimal checks**: every cell trimmed and tested once for its contract
  column's kind (a date by ``try_strptime``, a number by ``try_cast``, a boolean or a
  category by a list of values), the failures counted per column. No row is numbered,
  kept, quarantined or classified, and no reason leaves: any validation that reads every
  cell does at least this much, so its time bounds the engine's from below.

Prints wall and processor time (every thread: DuckDB's included) for each. Run from
``benchmarks/``::

    python bench_validation_floor.py 1000000 10000000
    python bench_validation_floor.py --folder /tmp/parquet_copies_100000000

(the second: Parquet parts made elsewhere, such as the copies of ``bench_spark.py``'s
``copied_parts``, 1,000,000 patients a part).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_database import parquet_folder


def _quoted(values: Any) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def minimal_checks(columns: list[str]) -> list[str]:
    """One aggregate per column: the count of non-empty cells that fail its kind's test."""
    from imnm_cohort.contracts.coerce import FALSE_WORDS, ISO_DATE, TRUE_WORDS
    from imnm_cohort.contracts.patients import PATIENT_ID_MAX_LENGTH, PATIENTS

    out = []
    for name in columns:
        cell = f'trim("{name}")'
        kind = PATIENTS.kind(name) if name in PATIENTS.schema.columns else "text"
        if kind == "date":
            bad = f"try_strptime({cell}, '{ISO_DATE}') IS NULL"
        elif kind == "float":
            bad = f"try_cast({cell} AS DOUBLE) IS NULL"
        elif kind == "bool":
            bad = f"lower({cell}) NOT IN ({_quoted((*TRUE_WORDS, *FALSE_WORDS))})"
        elif kind == "category":
            bad = f"lower({cell}) NOT IN ({_quoted(PATIENTS.allowed.get(name, ()))})"
        else:
            bad = f"length({cell}) > {PATIENT_ID_MAX_LENGTH}"
        out.append(f"count_if({cell} <> '' AND {bad})")
    return out


def measure(folder: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect()
    files = f"'{folder}/*.parquet'"
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {files}").fetchall()]
    queries = {
        "count(*)": f"SELECT count(*) FROM {files}",
        "minimal checks": f"SELECT count(*), {', '.join(minimal_checks(columns))} FROM {files}",
    }
    found: dict[str, float] = {}
    for label, sql in queries.items():
        wall, cpu = time.perf_counter(), time.process_time()
        con.execute(sql).fetchall()
        found[f"{label} wall s"] = round(time.perf_counter() - wall, 2)
        found[f"{label} processor s"] = round(time.process_time() - cpu, 2)
    con.close()
    return found


def main(argv: list[str]) -> None:
    import os

    print(f"threads: {os.cpu_count()}; load: {os.getloadavg()}", flush=True)
    if argv[:1] == ["--folder"]:  # Parquet parts made elsewhere (bench_spark.py's copies)
        for folder in argv[1:]:
            print(folder, measure(Path(folder)), flush=True)
        return
    for n in [int(a) for a in argv] or [1_000_000]:
        print(n, measure(parquet_folder(n)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
