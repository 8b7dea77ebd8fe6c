"""Benchmark: read + validate of the 1,000,000-row CSV extract against Arrow's reader alone.

A process of its own that only alternates ``pyarrow.csv.read_csv`` and ``load_extract`` of
the same file (after one warm-up call), and prints the medians and their ratio (target
<= 3x). Alternating the two keeps a change in the machine's load from favouring either.

Run: ``.venv/bin/python benchmarks/bench_read_csv.py [REPEATS]`` (default 5)
"""

from __future__ import annotations

import statistics
import sys
import time

import pyarrow.csv as pacsv
from _common import million_row_extract

from imnm_cohort import load_extract


def main(repeats: int) -> None:
    csv = million_row_extract()
    load_extract(csv)
    arrow, toolkit = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        pacsv.read_csv(csv)
        arrow.append(time.perf_counter() - start)
        start = time.perf_counter()
        load_extract(csv)
        toolkit.append(time.perf_counter() - start)
    a, t = statistics.median(arrow), statistics.median(toolkit)
    print(f"{'pyarrow.csv.read_csv':58s} {a:8.2f} s")
    print(f"{'load_extract, CSV (read + validate)':58s} {t:8.2f} s")
    print(f"{'ratio (target <= 3x)':58s} {t / a:8.2f} x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
