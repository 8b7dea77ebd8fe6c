"""Benchmark: IMNM incidence among statin users in a synthetic OMOP CDM held in DuckDB.

Writes ``data/omop_N_1.duckdb`` once (``imnm-cohort synth --layout omop``, about 50
measurement rows a person; timed apart, in its own process; shared with
``bench_omop_run.py``), then computes the
statin-exposed population in the database: exposure eras, person-time by age band, sex
and calendar year, rates and rate ratios by ingredient (the planted cases stand for the
cases found). Prints the wall time and this process's peak memory (DuckDB's included).
Target at 1,000,000 persons: <= 60 s and <= 4 GB.

Run from ``benchmarks/``: ``../.venv/bin/python bench_omop_statin.py [N]`` (default
1,000,000)
"""

from __future__ import annotations

import sys
import time

from _common import peak_memory_gb, synthetic_omop


def main(n: int) -> None:
    import ibis

    from imnm_cohort.analysis.statin_population import ANY_STATIN, statin_population
    from imnm_cohort.synth_omop import STATIN_INGREDIENTS

    path = synthetic_omop(n)
    start = time.perf_counter()
    con = ibis.duckdb.connect(str(path), read_only=True)
    tables = {
        name: con.table(name)
        for name in ("person", "observation_period", "drug_exposure", "concept_ancestor")
    }
    cases = con.table("planted_truth").to_pandas().rename(columns={"true_group": "group"})
    result = statin_population(tables, STATIN_INGREDIENTS, cases)
    seconds = time.perf_counter() - start
    exposed = result.exposures[ANY_STATIN]
    print(f"{'statin population: eras, person-time, rates (target 60 s)':58s} {seconds:8.2f} s")
    print(f"{'peak memory (target 4 GB)':58s} {peak_memory_gb():8.2f} GB")
    print(
        f"exposed {exposed.person_years:,.0f} person-years, {exposed.groups['imnm'].events} "
        f"IMNM; unexposed {result.unexposed.person_years:,.0f} person-years, "
        f"{result.unexposed.groups['imnm'].events} IMNM; {len(result.strata)} strata"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
