"""Benchmark: the OMOP source's derivation in DuckDB on a CDM of PERSONS persons.

The CDM is the hand-written one of ``tests/omop/cdm.py`` grown in SQL to PERSONS persons,
10 conditions, 50 measurements and 5 drug exposures each (1 in 5,000 conditions G72.49, 1
in 100 measurements a CK, 1 in 20,000 an unmapped anti-HMGCR, a third of the drug
exposures simvastatin), made once under benchmarks/data/. The derivation (patient table
and event tables of the candidates) runs in a process of its own, which prints its seconds
and its peak memory.

Run: ``.venv/bin/python benchmarks/bench_omop_derive.py [PERSONS]`` (default 1,000,000)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import DATA

ROOT = Path(__file__).resolve().parents[1]


def cdm(persons: int) -> Path:
    """The benchmark CDM (made once)."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from tests.omop.cdm import build

    path = DATA / f"omop_{persons}.duckdb"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    build(path)
    n = persons
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    for sql in (
        f"INSERT INTO person SELECT i, CASE WHEN i % 2 = 0 THEN 8532 ELSE 8507 END, "
        f"1940 + i % 50, 1 + i % 12, 1 + i % 28, NULL, 'x' FROM range(10, {n}) t(i)",
        f"INSERT INTO observation_period SELECT i, i, DATE '2010-01-01', DATE '2023-12-31' "
        f"FROM range(10, {n}) t(i)",
        f"INSERT INTO condition_occurrence SELECT i, 10 + i % {n - 10}, 0, "
        f"DATE '2015-01-01' + (i % 3000)::INT, CASE WHEN i % 5000 = 0 THEN 'G72.49' "
        f"WHEN i % 700 = 0 THEN 'C50.9' ELSE 'I10' END, 0 FROM range(100, {n * 10}) t(i)",
        f"INSERT INTO measurement SELECT i, 10 + i % {n - 10}, CASE WHEN i % 100 = 0 "
        f"THEN 3007220 ELSE 3004249 END, DATE '2015-01-01' + (i % 3000)::INT, NULL, "
        f"(i % 3000)::DECIMAL(18,3), NULL, 8645, 200, CASE WHEN i % 100 = 0 THEN '2157-6' "
        f"WHEN i % 20000 = 1 THEN '93493-5' ELSE '8480-6' END, 'U/L' "
        f"FROM range(100, {n * 50}) t(i)",
        f"INSERT INTO drug_exposure SELECT i, 10 + i % {n - 10}, CASE WHEN i % 3 = 0 "
        f"THEN 1539403 ELSE 1551100 END, DATE '2014-01-01' + (i % 3000)::INT, "
        f"DATE '2014-06-01' + (i % 3000)::INT FROM range(100, {n * 5}) t(i)",
    ):
        con.execute(sql)
    con.close()
    return path


def derive(path: str) -> None:
    """Child process: derive every table, print the seconds and the peak memory."""
    from imnm_cohort.sources.omop import OmopSource

    start = time.perf_counter()
    source = OmopSource(f"duckdb:///{path}")
    patients, tables = source.read(), source.tables()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    rows = {name: len(t) for name, t in tables.items()}
    print(f"derive: {seconds:.1f} s, {len(patients)} candidates, {rows}, peak {peak:.2f} GB")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--derive":
        derive(sys.argv[2])
        return
    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    start = time.perf_counter()
    path = cdm(persons)
    print(f"CDM of {persons:,} persons: {time.perf_counter() - start:.1f} s ({path.name})")
    subprocess.run([sys.executable, __file__, "--derive", str(path)], check=True)


if __name__ == "__main__":
    main()
