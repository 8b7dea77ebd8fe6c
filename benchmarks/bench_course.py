"""Benchmark: the course analyses (treatments, relapse, response over the course).

The issue's scale: 100,000 patients with 2,000,000 visits and 300,000 treatment courses,
drawn at random in whole columns (no planted effect; the event tables as validation leaves
them). Prints each analysis's wall and processor time and the process's peak memory.
Target (the issue's, for validation, derivation and every course analysis together):
<= 30 s and <= 4 GB.

Run: ``.venv/bin/python benchmarks/bench_course.py [N_PATIENTS]`` (default 100,000; visits
20 and courses 3 per patient on average).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from _common import peak_memory_gb, timed

from imnm_cohort.analysis.relapse import relapse
from imnm_cohort.analysis.response_course import response_course
from imnm_cohort.analysis.treatments import treatments

DRUGS = np.array(
    ["prednisone", "methotrexate", "azathioprine", "mycophenolate", "ivig", "rituximab"]
)


def tables(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("P", np.arange(n).astype(str)).astype(object)
    onset = np.datetime64("2010-01-01") + rng.integers(0, 4000, n).astype("timedelta64[D]")
    diagnosis = onset + rng.integers(0, 120, n).astype("timedelta64[D]")
    follow = rng.integers(100, 3000, n)
    last = diagnosis + follow.astype("timedelta64[D]")
    died = rng.random(n) < 0.15
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "imnm_group": rng.choice(["hmgcr", "srp", "seronegative"], n),
            "statin_exposed": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "onset_date": onset,
            "diagnosis_date": diagnosis,
            "last_followup_date": last,
            "death_date": pd.Series(last).where(died),
        }
    )
    per = rng.poisson(19, n) + 1
    who = np.repeat(np.arange(n), per)
    first = np.r_[0, np.cumsum(per)[:-1]]
    rank = np.arange(len(who)) - np.repeat(first, per)
    day = np.where(rank == 0, 0, (rank * follow[who] / per[who]).astype(int))
    m = len(who)
    visits = pd.DataFrame(
        {
            "patient_id": ids[who],
            "visit_date": diagnosis[who] + day.astype("timedelta64[D]"),
            "ck": rng.choice([80.0, 150.0, 300.0, 900.0, 5000.0], m),
            "ck_uln": 200.0,
            "mmt": rng.integers(30, 81, m).astype(float),
            "mmt_max": 80.0,
            "physician_global": rng.integers(0, 11, m).astype(float),
            "patient_global": rng.integers(0, 11, m).astype(float),
            "haq": rng.integers(0, 13, m) / 4,
            "extramuscular_global": rng.integers(0, 11, m).astype(float),
        }
    )
    k = 3 * n
    owner = rng.integers(0, n, k)
    start = rng.integers(-30, 1, k) + (rng.random(k) * follow[owner]).astype(int)
    stop = start + rng.integers(10, 400, k)
    courses = pd.DataFrame(
        {
            "patient_id": ids[owner],
            "drug": rng.choice(DRUGS, k),
            "start_date": diagnosis[owner] + start.astype("timedelta64[D]"),
            "stop_date": pd.Series(diagnosis[owner] + stop.astype("timedelta64[D]")).where(
                stop < follow[owner]
            ),
            "dose_mg_per_day": rng.choice([5.0, 10.0, 20.0, 40.0], k),
        }
    )
    return patients, visits, courses


def processor_timed(label: str, fn: Callable[[], object]) -> float:
    """Wall time (printed by ``timed``) and processor time of one call; returns the latter."""
    start = time.process_time()
    timed(label, fn)
    seconds = time.process_time() - start
    print(f"{'  processor time':58s} {seconds:8.2f} s")
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    (patients, visits, courses), _ = timed(f"generate {n:,} patients", lambda: tables(n))
    print(f"{len(visits):,} visits, {len(courses):,} courses")
    a = processor_timed("treatments", lambda: treatments(patients, courses))
    b = processor_timed("relapse", lambda: relapse(patients, visits, courses))
    c = processor_timed("response over the course", lambda: response_course(patients, visits))
    print(f"{'the three analyses, processor time':58s} {a + b + c:8.2f} s")
    print(f"peak memory {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    main()
