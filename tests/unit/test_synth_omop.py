"""The synthetic OMOP CDM database: deterministic, internally consistent, and planting
every combination the OMOP source must get right."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from imnm_cohort.cli import main
from imnm_cohort.synth_omop import (
    ANTIBODY_CONCEPT,
    CDM_TABLES,
    CK,
    CONCEPTS,
    MYOSITIS,
    STATIN_INGREDIENTS,
    U_PER_UKAT,
    UNIT_UKAT_L,
    OmopPlan,
    write_omop,
)

#: Rates far above the real ones, so that 4,000 persons hold every combination.
DENSE = OmopPlan(exposed_rate=4000, unexposed_rate=1500, decoy_rate=800, measurements=8)


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("omop") / "cdm.duckdb"
    write_omop(4000, path, seed=7, plan=DENSE)
    return duckdb.connect(str(path), read_only=True)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_every_cdm_table_and_the_truth_are_written(cdm):
    tables = {
        r[0] for r in cdm.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert set(CDM_TABLES) | {"planted_truth"} <= tables
    assert _one(cdm, "SELECT count(*) FROM person") == 4000
    assert _one(cdm, "SELECT cdm_version FROM cdm_source") == "v5.4"


def test_same_seed_same_database_other_seed_other(tmp_path: Path):
    def digest(path: Path) -> list[object]:
        with duckdb.connect(str(path), read_only=True) as con:
            return [
                con.execute(f"SELECT count(*), sum(hash(t)) FROM {name} t").fetchone()
                for name in (*CDM_TABLES, "planted_truth")
            ]

    plan = OmopPlan(measurements=3)
    a, b, c = (tmp_path / f"{x}.duckdb" for x in "abc")
    write_omop(300, a, seed=1, plan=plan)
    write_omop(300, b, seed=1, plan=plan)
    write_omop(300, c, seed=2, plan=plan)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_a_parquet_folder_holds_the_same_rows_one_file_per_table(tmp_path: Path):
    plan = OmopPlan(measurements=3)
    write_omop(300, tmp_path / "db.duckdb", seed=3, plan=plan)
    write_omop(300, tmp_path / "folder", seed=3, plan=plan)
    files = sorted(p.name for p in (tmp_path / "folder").iterdir())
    assert files == sorted(f"{t}.parquet" for t in (*CDM_TABLES, "planted_truth"))
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        for name in ("measurement", "drug_exposure", "planted_truth"):
            parquet = str(tmp_path / "folder" / f"{name}.parquet")
            diff = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {name} EXCEPT ALL "
                f"SELECT * FROM read_parquet('{parquet}'))"
            ).fetchone()
            assert diff == (0,)


@pytest.mark.parametrize(
    "condition",
    [
        "antibodies_mapped",
        "NOT antibodies_mapped",
        "ck_unit = 'U/L'",
        "ck_unit = 'ukat/L'",
        "two_periods",
        "statin_after_onset",
        "cancer_before_onset",
        "exposed_at_onset",
        "NOT exposed_at_onset",
        "death_date IS NOT NULL",
    ],
)
@pytest.mark.parametrize("group", ["hmgcr", "srp", "seronegative", "not_imnm"])
def test_every_combination_is_planted(cdm, group, condition):
    sql = f"SELECT count(*) FROM planted_truth WHERE true_group = '{group}' AND {condition}"
    if group == "not_imnm" and condition in ("statin_after_onset", "two_periods"):
        sql = f"SELECT count(*) FROM planted_truth WHERE {condition}"
    assert _one(cdm, sql) > 0


def test_onset_is_the_first_ck_above_1000_and_the_condition_follows(cdm):
    ck_u = (
        f"CASE WHEN unit_concept_id = {UNIT_UKAT_L} THEN value_as_number * {U_PER_UKAT} "
        "ELSE value_as_number END"
    )
    found = cdm.execute(
        f"""
        WITH high AS (
            SELECT person_id, min(measurement_date) AS first_high, max({ck_u}) AS peak
            FROM measurement WHERE measurement_concept_id = {CK} AND {ck_u} > 1000
            GROUP BY person_id),
        myo AS (
            SELECT person_id, min(condition_start_date) AS first_myositis
            FROM condition_occurrence WHERE condition_source_value IN {tuple(MYOSITIS)}
            GROUP BY person_id)
        SELECT t.true_group, t.onset_date, high.first_high, myo.first_myositis,
               abs(high.peak - t.peak_ck_u_per_l) < 1e-6 AS peak_matches
        FROM planted_truth t LEFT JOIN high USING (person_id) LEFT JOIN myo USING (person_id)
        """
    ).fetchall()
    assert found
    for group, onset, first_high, first_myositis, peak_matches in found:
        assert first_myositis is not None and first_myositis >= onset
        if group == "not_imnm":
            assert first_high is None and first_myositis == onset
        else:
            assert first_high == onset and peak_matches


def test_antibodies_are_mapped_or_carried_by_their_loinc_code(cdm):
    loinc = tuple(ANTIBODY_CONCEPT)
    rows = cdm.execute(
        f"""
        SELECT t.antibodies_mapped, m.measurement_concept_id, m.measurement_source_value
        FROM planted_truth t JOIN measurement m USING (person_id)
        WHERE m.measurement_concept_id IN {tuple(ANTIBODY_CONCEPT.values())}
           OR m.measurement_source_value IN {loinc}
        """
    ).fetchall()
    assert rows
    for mapped, concept, source in rows:
        if mapped:
            assert concept in ANTIBODY_CONCEPT.values() and source not in loinc
        else:
            assert concept == 0 and source in loinc
    assert _one(cdm, "SELECT count(*) FROM planted_truth") * 2 == len(rows)


def test_every_event_lies_in_an_observation_period_and_every_concept_is_known(cdm):
    for table, day in (
        ("measurement", "measurement_date"),
        ("condition_occurrence", "condition_start_date"),
        ("drug_exposure", "drug_exposure_start_date"),
        ("planted_truth", "onset_date"),
    ):
        outside = _one(
            cdm,
            f"""SELECT count(*) FROM {table} x WHERE NOT EXISTS (
                SELECT 1 FROM observation_period o WHERE o.person_id = x.person_id
                AND x.{day} BETWEEN o.observation_period_start_date
                                AND o.observation_period_end_date)""",
        )
        assert outside == 0, table
    known = {c[0] for c in CONCEPTS} | {0}
    for table, column in (
        ("measurement", "measurement_concept_id"),
        ("measurement", "unit_concept_id"),
        ("condition_occurrence", "condition_concept_id"),
        ("drug_exposure", "drug_concept_id"),
        ("person", "gender_concept_id"),
    ):
        used = {r[0] for r in cdm.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
        assert used <= known, (table, used - known)


def test_statin_products_descend_from_their_ingredient(cdm):
    pairs = set(
        cdm.execute(
            "SELECT ancestor_concept_id, descendant_concept_id FROM concept_ancestor"
        ).fetchall()
    )
    used = {
        r[0]
        for r in cdm.execute(
            "SELECT DISTINCT drug_concept_id FROM drug_exposure d JOIN concept c "
            "ON c.concept_id = d.drug_concept_id WHERE c.concept_name LIKE '%statin%'"
        ).fetchall()
    }
    for drug in used:
        assert any((i, drug) in pairs for i in STATIN_INGREDIENTS.values()), drug
    gaps = _one(
        cdm,
        """SELECT count(*) FROM (SELECT drug_exposure_start_date - lag(drug_exposure_end_date)
           OVER (PARTITION BY person_id, drug_source_value ORDER BY drug_exposure_start_date) AS g
           FROM drug_exposure WHERE drug_source_value LIKE '%statin') WHERE g > 31""",
    )
    assert gaps > 0  # refills with gaps longer than the persistence window


def test_the_command_line_writes_an_omop_database(tmp_path: Path, capsys):
    out = tmp_path / "cdm.duckdb"
    assert main(["-q", "synth", "--layout", "omop", "--n", "200", "-o", str(out)]) == 0
    with duckdb.connect(str(out), read_only=True) as con:
        assert _one(con, "SELECT count(*) FROM person") == 200
    assert main(["synth", "--layout", "omop", "--n", "200", "-o", str(tmp_path / "x.csv")]) == 2
    assert "--layout omop writes a .duckdb file or a folder" in capsys.readouterr().err


def test_an_unusable_output_is_one_line_and_exit_code_2(tmp_path: Path, capsys):
    a_file = tmp_path / "folder"
    a_file.write_text("not a folder")
    assert main(["synth", "--layout", "omop", "--n", "10", "-o", str(a_file)]) == 2
    assert main(["synth", "--layout", "omop", "--n", "10", "--dirty", "0.1", "-o", "x.duckdb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith("is a file, not a folder")
    assert "Traceback" not in "".join(err)


def test_the_folder_layout_from_the_command_line(tmp_path: Path):
    out = tmp_path / "cdm"
    assert main(["-q", "synth", "--layout", "omop", "--n", "50", "-o", str(out)]) == 0
    assert (out / "person.parquet").exists() and (out / "planted_truth.parquet").exists()


def test_row_ids_run_on_across_chunks(tmp_path: Path):
    from imnm_cohort.synth_omop import CHUNK_PERSONS

    n = CHUNK_PERSONS + 10
    path = tmp_path / "two-chunks.duckdb"
    write_omop(n, path, seed=4, plan=OmopPlan(measurements=1))
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(
            "SELECT min(person_id), max(person_id), count(DISTINCT person_id) FROM person"
        ).fetchone() == (1, n, n)
        for table, key in (
            ("observation_period", "observation_period_id"),
            ("drug_exposure", "drug_exposure_id"),
            ("measurement", "measurement_id"),
            ("condition_occurrence", "condition_occurrence_id"),
        ):
            rows, distinct, top = con.execute(
                f"SELECT count(*), count(DISTINCT {key}), max({key}) FROM {table}"
            ).fetchone()
            assert rows == distinct == top, table
        assert _one(con, "SELECT count(*) FROM concept") == len(CONCEPTS)
