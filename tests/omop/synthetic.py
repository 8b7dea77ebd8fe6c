"""The synthetic OMOP database the engine parity tests share (PostgreSQL in
tests/databases, Spark in tests/spark): small, with every combination the generator plants,
and the answer each engine must give, computed on DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from imnm_cohort.analysis.statin_population import statin_population
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.synth_omop import OmopPlan, write_omop

#: Rates far above the real ones (as tests/omop/test_omop_planted.py), so that 1,500
#: persons hold IMNM cases of both groups, mapped and unmapped antibodies, two observation
#: periods and statins started after onset.
PLAN = OmopPlan(
    exposed_rate=3000, unexposed_rate=600, decoy_rate=400, measurements=3, two_periods=0.3
)
PERSONS = 1500
SEED = 23


def write(path: Path) -> Path:
    """The synthetic database at ``path`` (DuckDB)."""
    write_omop(PERSONS, path, seed=SEED, plan=PLAN)
    return path


def planted_cases(path: Path) -> pd.DataFrame:
    """The planted anti-HMGCR and anti-SRP cases: ``person_id``, ``onset_date``, ``group``
    (the cases the statin population counts)."""
    with duckdb.connect(str(path), read_only=True) as con:
        truth = con.execute(
            'SELECT person_id, onset_date, true_group AS "group" FROM planted_truth '
            "WHERE true_group IN ('hmgcr', 'srp') ORDER BY person_id"
        ).df()
    truth["onset_date"] = pd.to_datetime(truth["onset_date"])
    return truth


def population(source: OmopSource, cases: pd.DataFrame) -> dict[str, Any]:
    """The statin population's aggregates, as ``run`` computes them."""
    with source.population_tables() as (tables, small):
        found = statin_population(tables, source.ingredients(), cases, small=small)
    return found.to_dict()


def assert_same(other: OmopSource, on_duckdb: OmopSource, cases: pd.DataFrame) -> None:
    """``other`` gives DuckDB's patient table, event tables and statin population."""
    mine = on_duckdb.read()
    # Every planted case is a candidate (and some anti-HMGCR results are positive), so the
    # comparison below is over the cases, not over an empty or trivial table.
    assert len(cases) > 0
    assert set(cases["person_id"].astype(str)) <= set(mine["patient_id"])
    assert mine["anti_hmgcr"].eq("positive").any()
    pd.testing.assert_frame_equal(other.read(), mine)
    theirs = other.tables()
    for name, table in on_duckdb.tables().items():
        # The generator plants no immunosuppressant: treatments is empty on every engine.
        assert (len(table) > 0) == (name != "treatments"), name
        pd.testing.assert_frame_equal(theirs[name], table, obj=name)
    assert population(other, cases) == population(on_duckdb, cases)
