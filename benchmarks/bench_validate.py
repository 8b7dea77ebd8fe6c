"""Benchmark: synth, and read + validation of a 1,000,000-row extract (CSV and Parquet).

Targets on the 2-core reference machine: read + validate <= 3x ``pyarrow.csv.read_csv`` of
the same CSV file, and <= 3x ``pandas.read_parquet`` of the same Parquet file (the synthetic
extract as text, and the validated patients written with their types); peak memory <= 3 GB;
synth of 1M rows <= 30 s. Each ratio compares medians of 3 runs timed in the same process,
after one warm-up call of each, the anchor and the toolkit alternating (``_common.alternated``).

Run: ``.venv/bin/python benchmarks/bench_validate.py [N]``
"""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow.csv as pacsv
from _common import DATA, alternated, million_row_extract, peak_memory_gb, timed

from imnm_cohort import load_extract, synthesize, write_extract


def main(n: int) -> None:
    frame, _ = timed(f"synthesize {n:,} rows", lambda: synthesize(n, seed=1))
    csv = million_row_extract(n)
    parquet = DATA / f"synth_{n}_1.parquet"
    if not parquet.exists():
        write_extract(frame, parquet)
    del frame
    alternated(
        ("pyarrow.csv.read_csv", lambda: pacsv.read_csv(csv)),
        ("load_extract, CSV (read + validate)", lambda: load_extract(csv)),
        3,
    )
    alternated(
        ("pandas.read_parquet (text columns)", lambda: pd.read_parquet(parquet)),
        ("load_extract, Parquet of text", lambda: load_extract(parquet)),
        3,
    )
    typed = DATA / f"valid_{n}_1.parquet"
    if not typed.exists():
        load_extract(csv).valid.to_parquet(typed)
    alternated(
        ("pandas.read_parquet (typed columns)", lambda: pd.read_parquet(typed)),
        ("load_extract, typed Parquet", lambda: load_extract(typed)),
        3,
    )
    print(f"{'peak memory':58s} {peak_memory_gb():8.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
