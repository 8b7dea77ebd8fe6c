"""The statin-exposed population gives the same answer in PostgreSQL as in DuckDB: the
small CDM worked out by hand, and a synthetic OMOP database."""

from __future__ import annotations

from pathlib import Path

import ibis

from imnm_cohort.analysis.statin_population import statin_population
from imnm_cohort.synth_omop import STATIN_INGREDIENTS, OmopPlan, write_omop
from tests.unit.test_statin_population import CASES, _cdm

TABLES = ("person", "observation_period", "drug_exposure", "concept_ancestor")


def test_the_hand_worked_cdm_alike_in_postgresql(pg_url):
    expected = statin_population(_cdm(), STATIN_INGREDIENTS, CASES).to_dict()
    con = ibis.connect(pg_url)
    try:
        got = statin_population(_cdm(con=con), STATIN_INGREDIENTS, CASES).to_dict()
        for name in TABLES:
            con.drop_table(name)
    finally:
        con.disconnect()
    assert got == expected


def test_a_synthetic_database_alike_in_postgresql(pg_url, tmp_path: Path):
    path = tmp_path / "cdm.duckdb"
    write_omop(3000, path, seed=5, plan=OmopPlan(exposed_rate=2000, measurements=1))
    local = ibis.duckdb.connect(str(path), read_only=True)
    tables = {name: local.table(name) for name in TABLES}
    cases = local.table("planted_truth").to_pandas().rename(columns={"true_group": "group"})
    expected = statin_population(tables, STATIN_INGREDIENTS, cases).to_dict()
    con = ibis.connect(pg_url)
    try:
        remote = {
            name: con.create_table(f"synth_{name}", table.to_pyarrow(), overwrite=True)
            for name, table in tables.items()
        }
        got = statin_population(remote, STATIN_INGREDIENTS, cases).to_dict()
        for name in TABLES:
            con.drop_table(f"synth_{name}")
    finally:
        con.disconnect()
    assert got == expected
    assert expected["exposed"]["any_statin"]["groups"]["imnm"]["events"] > 0
