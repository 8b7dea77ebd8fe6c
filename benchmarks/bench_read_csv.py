"""Benchmark: read + validate of the 1,000,000-row CSV extract against Arrow's reader alone.

A process of its own that only alternates ``pyarrow.csv.read_csv`` and ``load_extract`` of
the same file (after one warm-up call), and prints the medians and their ratio (target
<= 3x). Alternating the two keeps a change in the machine's load from favouring either.

Run: ``.venv/bin/python benchmarks/bench_read_csv.py [REPEATS]`` (default 5)
"""

from __future__ import annotations

import sys

import pyarrow.csv as pacsv
from _common import alternated, million_row_extract

from imnm_cohort import load_extract


def main(repeats: int) -> None:
    csv = million_row_extract()
    alternated(
        ("pyarrow.csv.read_csv", lambda: pacsv.read_csv(csv)),
        ("load_extract, CSV (read + validate)", lambda: load_extract(csv)),
        repeats,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
