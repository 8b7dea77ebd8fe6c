"""Benchmark (issue 4): every analysis on 100,000 classified patients.

Target on the 2-core reference machine: <= 20 s.

Run: ``.venv/bin/python benchmarks/bench_analyse.py [N]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import timed

from imnm_cohort import classify, read_reference_rates, synthesize, validate_extract
from imnm_cohort.analysis import analyse, compare_continuous

RATES = Path(__file__).resolve().parents[1] / "imnm_cohort" / "data" / "illustrative_rates.csv"


def main(n: int) -> None:
    classified = classify(validate_extract(synthesize(n, seed=5)).valid)
    print(f"classified patients: {len(classified):,}")
    timed(
        "onset age + peak CK, pairs and 2,000 bootstrap resamples",
        lambda: [compare_continuous(classified, v) for v in ("age_at_onset_years", "ck_peak")],
    )
    rates = read_reference_rates(RATES)  # with SIR and SMR, as the demo pipeline
    timed(
        f"analyse (all analyses, {n:,} patients)",
        lambda: analyse(classified, reference_rates=rates),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
