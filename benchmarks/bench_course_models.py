"""Benchmark: the course analyses (CK course, strength) and the growth model's share.

Times ``ck_course`` and ``strength_course`` on the seeded synthetic cohort of
``tests/reference/course_data.py`` (three groups, about seven visits per patient), and the
time to a normal CK alone; the rest of each analysis is almost all statsmodels' ``MixedLM``
fit, which evaluates the REML criterion patient by patient in Python and so grows
linearly with the patients.

Run: ``.venv/bin/python benchmarks/bench_course_models.py [PATIENTS_PER_GROUP ...]`` (default
100 333 1000).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from _common import peak_memory_gb, timed

from imnm_cohort.analysis.ck_course import ck_course, ck_normalisation
from imnm_cohort.analysis.strength import strength_course
from tests.reference.course_data import course_cohort


def typed(patients: pd.DataFrame, visits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The generator's text tables as typed frames."""
    patients = patients.replace("", None)
    for column in ("onset_date", "diagnosis_date", "last_followup_date", "death_date"):
        patients[column] = pd.to_datetime(patients[column])
    visits = visits.replace("", None)
    visits["visit_date"] = pd.to_datetime(visits["visit_date"])
    for column in ("ck", "ck_uln", "mmt", "mmt_max"):
        visits[column] = pd.to_numeric(visits[column]).astype(float)
    return patients, visits


def run(n: int) -> None:
    """Time the course analyses on ``n`` patients per group."""
    patients, visits = typed(*course_cohort(n_per_group=n, seed=1))
    print(f"{len(patients):,} patients, {len(visits):,} visits")
    timed(
        "  time to a normal CK (cumulative incidence, Gray)",
        lambda: ck_normalisation(patients, visits),
    )
    timed("  ck_course (with its growth model)", lambda: ck_course(patients, visits))
    timed("  strength_course (with its growth model)", lambda: strength_course(patients, visits))


def main(sizes: list[int]) -> None:
    for n in sizes:
        run(n)
    print(f"peak memory {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 333, 1000])
