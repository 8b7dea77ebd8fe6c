"""Benchmark: the growth model at scale, and the course analyses that fit it.

``fit`` times :func:`~imnm_cohort.analysis.mixed.fit_growth_model` on a seeded synthetic
data set of three groups, a random intercept and slope per patient and about 20 visits
each (100,000 patients, 2,000,000 visits by default), in its parts: the model's rows
(codes, the canonical order, the counts), each patient's sums, the REML optimisation, and
the whole call; ``--threads 1`` in the printout is what ``OPENBLAS_NUM_THREADS`` was.
``course`` times ``ck_course`` and ``strength_course`` (each with its growth model) on the
synthetic cohort of ``tests/reference/course_data.py``.

Run: ``.venv/bin/python benchmarks/bench_course_models.py fit [PATIENTS [VISITS]]`` (default
100000 2000000) or ``.venv/bin/python benchmarks/bench_course_models.py course
[PATIENTS_PER_GROUP ...]`` (default 100 333 1000).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from _common import peak_memory_gb, timed

GROUPS = ("hmgcr", "srp", "seronegative")


def growth_data(patients: int, visits: int, seed: int = 1) -> pd.DataFrame:
    """``visits`` rows over ``patients`` patients in three groups, in a shuffled order:
    y = 1 + group - (0.5 + 0.2 group) t + b0 + b1 t + e, (b0, b1) ~ N(0, G) with SDs 1 and
    0.3 and correlation -0.3, e ~ N(0, 0.5^2), t uniform on 0 to 3 years."""
    rng = np.random.default_rng(seed)
    patient = rng.integers(0, patients, visits)
    group = rng.integers(0, 3, patients)
    g = np.array([[1.0, -0.09], [-0.09, 0.09]])
    b = rng.multivariate_normal([0.0, 0.0], g, patients)
    t = rng.uniform(0, 3, visits)
    k = group[patient]
    y = 1 + k - (0.5 + 0.2 * k) * t + b[patient, 0] + b[patient, 1] * t
    y += rng.normal(0, 0.5, visits)
    ids = np.char.add("P", patient.astype(str)).astype(object)
    return pd.DataFrame(
        {"patient_id": ids, "group": np.array(GROUPS, dtype=object)[k], "time": t, "y": y}
    )


def fit(patients: int, visits: int) -> None:
    """Time the growth model on ``patients`` patients and ``visits`` visits, by part."""
    from imnm_cohort.analysis import mixed, reml

    data = growth_data(patients, visits)
    print(
        f"{patients:,} patients, {len(data):,} visits "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
    )
    rows, _ = timed(
        "  the model's rows (codes, order, counts)",
        lambda: mixed._model_rows(data, "y", "time", "group", "patient_id", GROUPS),
    )
    design, _ = mixed._design(GROUPS)
    sums, _ = timed(
        "  each patient's sums",
        lambda: reml.patient_sums(rows.y, rows.t, rows.subject, rows.patient_group, design),
    )
    optimum, _ = timed("  REML optimisation (L-BFGS-B)", lambda: reml.minimise_deviance(sums))
    print(f"  converged {optimum.converged}, theta {np.round(optimum.theta, 4)}")
    model, _ = timed("  fit_growth_model, whole", lambda: mixed.fit_growth_model(data, outcome="y"))
    for g in GROUPS:
        s = model.slopes[g]
        print(f"  slope {g}: {s.estimate:.4f} (se {s.se:.5f})")
    print(f"  random effects {dict(model.random_effects)}")


def course(n: int) -> None:
    """Time the course analyses on ``n`` patients per group."""
    from imnm_cohort.analysis.ck_course import ck_course, ck_normalisation
    from imnm_cohort.analysis.strength import strength_course
    from tests.reference.course_data import course_cohort, typed

    patients, visits = typed(*course_cohort(n_per_group=n, seed=1))
    print(f"{len(patients):,} patients, {len(visits):,} visits")
    timed(
        "  time to a normal CK (cumulative incidence, Gray)",
        lambda: ck_normalisation(patients, visits),
    )
    timed("  ck_course (with its growth model)", lambda: ck_course(patients, visits))
    timed("  strength_course (with its growth model)", lambda: strength_course(patients, visits))


def main(argv: list[str]) -> None:
    what, args = (argv[0], argv[1:]) if argv else ("fit", [])
    if what == "fit":
        patients = int(args[0]) if args else 100_000
        visits = int(args[1]) if len(args) > 1 else 20 * patients
        fit(patients, visits)
    elif what == "course":
        for n in [int(a) for a in args] or [100, 333, 1000]:
            course(n)
    else:
        raise SystemExit("usage: bench_course_models.py fit [PATIENTS [VISITS]] | course [N ...]")
    print(f"peak memory {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    main(sys.argv[1:])
