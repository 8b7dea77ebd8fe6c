"""Benchmark: classification of 1,000,000 validated patients.

Targets: the classification step <= 2x the same decision (group and reasons) written as a
polars expression (``polars_decision.py``, median of 3 each, same run); >= 100x faster than
the row-by-row reference classifier (timed on a sample and scaled); ``imnm-cohort classify``
end to end on a 1M-row CSV <= 25 s.

Run: ``.venv/bin/python benchmarks/bench_classify.py [N]`` from the project root.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from _common import DATA, million_row_extract, timed
from polars_decision import decision

from imnm_cohort import classify, load_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.property.reference_classifier import classify_row

SAMPLE = 20_000


def median_of_3(fn) -> float:
    """Median wall time of three calls."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(n: int) -> None:
    path = million_row_extract(n)
    valid = load_extract(path).valid
    print(f"validated patients: {len(valid):,}")
    for criteria in ("enmc2017", "tma2025"):
        _, fast_s = timed(f"classify ({criteria})", lambda c=criteria: classify(valid, c))
    frame = pl.from_pandas(valid)
    # The anchor decides the group and reasons only: compare the decision alone (no scored
    # classifiers), and show what the EULAR/ACR score adds on top.
    toolkit = median_of_3(lambda: classify(valid, "tma2025", scores=()))
    scored = median_of_3(lambda: classify(valid, "tma2025"))
    anchor = median_of_3(lambda: decision(frame))
    print(f"{'classify (tma2025), group and reasons, median of 3':58s} {toolkit:8.2f} s")
    print(f"{'the same decision as a polars expression, median of 3':58s} {anchor:8.2f} s")
    print(f"{'ratio (target <= 2x)':58s} {toolkit / anchor:8.2f} x")
    print(f"{'classify (tma2025) with the EULAR/ACR 2017 score, median of 3':58s} {scored:8.2f} s")
    sample = valid.iloc[:SAMPLE]
    # Row by row over the frame, as a hand-written script would (DataFrame.apply, axis=1).
    start = time.perf_counter()
    sample.apply(
        lambda row: classify_row(row.where(row.notna(), None).to_dict(), "enmc2017"), axis=1
    )
    scaled = (time.perf_counter() - start) / SAMPLE * len(valid)
    print(f"{'row-by-row reference (DataFrame.apply), scaled':58s} {scaled:8.2f} s")
    print(f"{'speed-up over the row-by-row reference':58s} {scaled / fast_s:8.1f} x")
    # The bare reference function on ready-made dicts (conversion not timed), for scale.
    records = sample.astype(object).where(sample.notna(), None).to_dict("records")
    start = time.perf_counter()
    for record in records:
        classify_row(record, "enmc2017")
    bare = (time.perf_counter() - start) / SAMPLE * len(valid)
    print(f"{'reference function alone on prepared dicts, scaled':58s} {bare:8.2f} s")
    out = DATA / "classified.csv"
    cli = [sys.executable, "-m", "imnm_cohort", "-q", "classify", str(path), "-o", str(out)]
    timed(
        "imnm-cohort classify, end to end (CSV in, CSV out)",
        lambda: subprocess.run(cli, check=True),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
