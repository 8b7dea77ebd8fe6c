"""Benchmark: the issue's performance target for the course of the disease, as one process.

100,000 patients with 2,000,000 visits, 300,000 treatment courses and 400,000 antibody
tests (``synthesize_events``, then brought to those row counts: visits topped up with a
visit half-way between two consecutive visits of a patient, copying the earlier; treatment
courses a random subset; assays topped up with repeats of random assays a week later).
Generation is timed apart and excluded. Then, timed step by step (wall and processor time):

- validate: the patient table, then the four event tables against it;
- derive: the patient table's empty values from the event tables;
- classify: under the default criteria set;
- every course analysis of the registry (ck_course, titres, strength, response,
  treatments, relapse), as the registry's entries call them.

Prints the total, the growth-model fits' share of it (ck_course and strength each fit
one; timed by wrapping the fitting function those modules call) and the peak resident
memory of the process after generation (the kernel's high-water mark is reset once the
tables are made). Target: <= 30 s and <= 4 GB.

Run: ``.venv/bin/python benchmarks/bench_course_run.py [N_PATIENTS] [--profile FILE]``
(default 100,000; the row counts scale with it). With ``--profile``, the course analyses
run under ``cProfile`` and their statistics go to FILE (read them with ``python -m pstats
FILE``); the profiler's overhead then inflates their times.
"""

from __future__ import annotations

import cProfile
import ctypes
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import _status_mb

from imnm_cohort.analysis import ck_course as ck_module
from imnm_cohort.analysis import strength as strength_module
from imnm_cohort.analysis.ck_course import CkCourseOptions, ck_course
from imnm_cohort.analysis.relapse import relapse
from imnm_cohort.analysis.response_course import response_course
from imnm_cohort.analysis.strength import StrengthOptions, strength_course
from imnm_cohort.analysis.titres import TitreOptions, titres
from imnm_cohort.analysis.treatments import TreatmentOptions, treatments
from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, get_criteria
from imnm_cohort.engines.base import engine_for
from imnm_cohort.synth_events import synthesize_events
from imnm_cohort.validation.derive import derive_patients
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract

#: Rows per patient of the issue's target.
PER_PATIENT = {"visits": 20, "treatments": 3, "antibody_tests": 4}
MIN_COUNT = 5


def _top_up_visits(visits: pd.DataFrame, want: int, rng: np.random.Generator) -> pd.DataFrame:
    """``want`` visits: extra visits half-way between consecutive visits of a patient."""
    extra = want - len(visits)
    if extra <= 0:
        return visits.iloc[np.sort(rng.choice(len(visits), want, replace=False))]
    ids = visits["patient_id"].to_numpy(dtype=object)
    date = pd.to_datetime(visits["visit_date"]).to_numpy(dtype="datetime64[D]")
    order = np.lexsort((date, ids))
    ids, date = ids[order], date[order]
    pair = np.flatnonzero((ids[1:] == ids[:-1]) & ((date[1:] - date[:-1]).astype(int) >= 2))
    pick = rng.choice(pair, extra, replace=extra > len(pair))
    half = date[pick] + (date[pick + 1] - date[pick]) // 2
    copies = visits.iloc[order[pick]].copy()
    copies["visit_date"] = pd.array(np.datetime_as_string(half, unit="D"), dtype=object)
    return pd.concat([visits, copies], ignore_index=True)


def _resize(frame: pd.DataFrame, want: int, column: str, rng: np.random.Generator) -> pd.DataFrame:
    """``want`` rows: a random subset, or repeats of random rows 7 days later."""
    if want <= len(frame):
        return frame.iloc[np.sort(rng.choice(len(frame), want, replace=False))]
    copies = frame.iloc[rng.choice(len(frame), want - len(frame))].copy()
    later = pd.to_datetime(copies[column]) + pd.Timedelta(days=7)
    copies[column] = pd.array(later.dt.strftime("%Y-%m-%d"), dtype=object)
    return pd.concat([frame, copies], ignore_index=True)


def generate(n: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The patient table and the event tables at the target's row counts (text cells)."""
    registry = synthesize_events(n, seed=1)
    rng = np.random.default_rng(7)
    tables = dict(registry.tables)
    tables["visits"] = _top_up_visits(tables["visits"], PER_PATIENT["visits"] * n, rng)
    tables["treatments"] = _resize(
        tables["treatments"], PER_PATIENT["treatments"] * n, "start_date", rng
    )
    tables["antibody_tests"] = _resize(
        tables["antibody_tests"], PER_PATIENT["antibody_tests"] * n, "test_date", rng
    )
    return registry.patients, tables


class Steps:
    """Wall and processor time of each step, printed as it ends."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def __call__(self, label: str, fn: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.rows.append((label, wall, cpu))
        print(f"{label:44s} {wall:8.2f} s wall {cpu:8.2f} s processor", flush=True)
        return value


def _timing_fits(seconds: list[float]) -> None:
    """Wrap the growth-model fit the two course modules call, adding its wall time."""
    for module in (ck_module, strength_module):
        fit = module.fit_growth_model

        def timed_fit(*args: Any, _fit: Any = fit, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _fit(*args, **kwargs)
            finally:
                seconds.append(time.perf_counter() - start)

        module.fit_growth_model = timed_fit  # type: ignore[attr-defined]


def main(n: int, profile: str | None = None) -> None:
    start = time.perf_counter()
    raw, tables = generate(n)
    print(f"generate (excluded): {time.perf_counter() - start:.1f} s; {n:,} patients, "
          + ", ".join(f"{k} {len(v):,}" for k, v in tables.items()))  # fmt: skip
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak from here on (Linux >= 4.0)
    fits: list[float] = []
    _timing_fits(fits)
    step = Steps()
    patients = step("validate the patient table", lambda: validate_extract(raw))
    events = step("validate the four event tables", lambda: validate_events(tables, patients))
    derived = step("derive", lambda: derive_patients(patients, events))
    classified = step(
        "classify", lambda: engine_for().classify(derived, get_criteria(DEFAULT_CRITERIA))
    )
    visits, courses = events.frame("visits"), events.frame("treatments")
    assays = events.frame("antibody_tests")
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    step("ck_course", lambda: ck_course(classified, visits, CkCourseOptions(min_count=MIN_COUNT)))
    step(
        "titres",
        lambda: titres(classified, assays, visits, options=TitreOptions(min_count=MIN_COUNT)),
    )
    step(
        "strength",
        lambda: strength_course(classified, visits, StrengthOptions(min_count=MIN_COUNT)),
    )
    step("response (TIS, IMACS, ProDERM)", lambda: response_course(classified, visits))
    step(
        "treatments",
        lambda: treatments(classified, courses, options=TreatmentOptions(min_count=MIN_COUNT)),
    )
    step("relapse", lambda: relapse(classified, visits, courses, min_count=MIN_COUNT))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    wall = sum(r[1] for r in step.rows)
    cpu = sum(r[2] for r in step.rows)
    for name in tables:
        print(f"  {name}: {events[name].counts.to_dict()}")
    print(f"{'total':44s} {wall:8.2f} s wall {cpu:8.2f} s processor (target <= 30 s)")
    print(f"growth-model fits: {sum(fits):.2f} s wall in {len(fits)} fits, "
          f"{100 * sum(fits) / wall:.1f}% of the total")  # fmt: skip
    print(f"peak resident memory after generation: {_status_mb('VmHWM') / 1024:.2f} GB "
          "(target <= 4 GB)")  # fmt: skip


if __name__ == "__main__":
    args = sys.argv[1:]
    out = None
    if "--profile" in args:
        at = args.index("--profile")
        out = args[at + 1]
        del args[at : at + 2]
    main(int(args[0]) if args else 100_000, out)
