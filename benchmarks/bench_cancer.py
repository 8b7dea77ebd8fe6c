"""Benchmark: the cancer analyses after onset on 100,000 classified patients.

Incidence by time since onset, the SIR and SMR against the bundled illustrative rates
(Lexis split by age, calendar period and follow-up band), and the Fine-Gray model. They
are part of ``analyse``, whose target (all analyses) is <= 10 s on the reference machine.

Run: ``.venv/bin/python benchmarks/bench_cancer.py [N]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import timed

from imnm_cohort import classify, read_reference_rates, synthesize, validate_extract
from imnm_cohort.analysis import fine_gray, incidence_by_follow_up, population_comparison

RATES = Path(__file__).resolve().parents[1] / "imnm_cohort" / "data" / "illustrative_rates.csv"


def main(n: int) -> None:
    classified = classify(validate_extract(synthesize(n, seed=5)).valid)
    rates = read_reference_rates(RATES)
    print(f"classified patients: {len(classified):,}")
    timed("incidence by time since onset", lambda: incidence_by_follow_up(classified))
    timed("SIR and SMR (Lexis split)", lambda: population_comparison(classified, rates))
    timed("Fine-Gray model", lambda: fine_gray(classified))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
