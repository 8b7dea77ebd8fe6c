"""Benchmark (issue 2): synth and read + validation of a 1,000,000-row extract.

Targets on the 2-core reference machine: validation of 1M rows <= 15 s and <= 3x the time
pandas takes to read the same file; peak memory <= 3 GB; synth of 1M rows <= 30 s.

Run: ``.venv/bin/python benchmarks/bench_validate.py [N]``
"""

from __future__ import annotations

import sys

import pandas as pd
from _common import DATA, million_row_extract, peak_memory_gb, timed

from imnm_cohort import load_extract, synthesize, write_extract


def _synth(n: int) -> None:
    frame, synth_s = timed(f"synthesize {n:,} rows", lambda: synthesize(n, seed=1))
    path = DATA / f"synth_{n}_1.csv"
    _, write_s = timed("write CSV", lambda: write_extract(frame, path))
    print(f"{'synth total (generate + write CSV)':58s} {synth_s + write_s:8.2f} s")


def main(n: int) -> None:
    _synth(n)
    path = million_row_extract(n)
    _, pandas_s = timed("pandas.read_csv (default options)", lambda: pd.read_csv(path))
    result, validate_s = timed(
        "imnm_cohort.load_extract (read + validate)", lambda: load_extract(path)
    )
    assert result.valid_rows + result.quarantined_rows == n
    print(f"{'ratio load_extract / pandas.read_csv':58s} {validate_s / pandas_s:8.2f} x")
    print(f"{'peak memory':58s} {peak_memory_gb():8.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
