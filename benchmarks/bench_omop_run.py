"""Benchmark: what ``imnm-cohort run`` does in an OMOP CDM database held in DuckDB.

Writes ``data/omop_N_1.duckdb`` once (``imnm-cohort synth --layout omop``, about 50
measurement rows a person; timed apart, in its own process; shared with
``bench_omop_statin.py``), then, in this process, as a
run's stages do: the OMOP source derives the patient table and the event tables, the
patient table is validated and the event tables are validated against it, the patients
are classified under ``ehr2026``, and the statin-population rates are computed in the
database with the IMNM patients found as the cases. Prints each step's wall time, the
total and this process's peak memory (DuckDB's included). Target at 1,000,000 persons:
<= 60 s and <= 4 GB.

Run from ``benchmarks/``: ``../.venv/bin/python bench_omop_run.py [N]`` (default 1,000,000)
"""

from __future__ import annotations

import sys
import time

from _common import peak_memory_gb, synthetic_omop


def main(n: int) -> None:
    path = synthetic_omop(n)
    from imnm_cohort.classify.criteria import get_criteria
    from imnm_cohort.engines.base import engine_for
    from imnm_cohort.pipeline import stages
    from imnm_cohort.sources.omop import OmopSource

    begin = time.perf_counter()
    source = OmopSource(f"duckdb:///{path}")
    steps = {}

    def step(name: str, fn):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = fn()
        steps[name] = time.perf_counter() - start
        return value

    engine = engine_for()
    step("derive the patient and event tables (in the database)", source.read)
    result = step("validate the patient table", lambda: engine.validate(source))
    tables = step("validate the event tables", lambda: stages.source_tables(source, result))
    result = step(
        "derive empty values from the event tables", lambda: stages.derive(result, tables)
    )
    classified = step(
        "classify (ehr2026)", lambda: engine.classify(result, get_criteria("ehr2026"))
    )
    population = step(
        "statin population (in the database)",
        lambda: stages.statin_population(source, classified),
    )
    total = time.perf_counter() - begin
    for name, seconds in steps.items():
        print(f"{name:58s} {seconds:8.2f} s")
    print(f"{'total (target 60 s)':58s} {total:8.2f} s")
    print(f"{'peak memory (target 4 GB)':58s} {peak_memory_gb():8.2f} GB")
    exposed = population.exposures["any_statin"]
    groups = classified["imnm_group"].astype(str).value_counts().to_dict()
    print(
        f"{len(classified)} candidates classified {groups}; any statin "
        f"{exposed.person_years:,.0f} person-years, {exposed.groups['imnm'].events} IMNM; "
        f"unexposed {population.unexposed.person_years:,.0f} person-years, "
        f"{population.unexposed.groups['imnm'].events} IMNM"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
