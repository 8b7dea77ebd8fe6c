"""A tiny hand-written OMOP CDM v5.4 database with a known answer for each derivation rule.

Persons (every date and value chosen so that each rule decides something):

1. female, born 1955-04-20 (year, month, day; no datetime). G72.49 by source value on
   2020-03-01; CK 8,000 U/L on 2020-02-15 (so onset is the CK, before the condition);
   anti-HMGCR unmapped (concept 0, source value 93493-5) 120 against range_high 20:
   positive; simvastatin (the ingredient concept itself) from 2017-01-10 to 2019-12-31;
   prednisone (a drug under the ingredient) from 2020-03-05; two observation periods
   (2010-2015 and 2016-06-01 to 2023-12-31); breast cancer C50.9 in 2012 (before onset)
   and lung cancer C34.1 in 2021.
2. male, born 1970-01-02 (datetime). M33.2 by source concept (no source value) on
   2019-04-01 (onset: condition first); CK 50 ukat/L (3,000 U/L, range_high 3.2 ukat/L =
   192 U/L) on 2019-05-01, CK >20,000 U/L on 2019-07-01 (the peak, range_high 200), CK <10
   U/L on 2019-08-01 (no value for the peak); anti-HMGCR mapped (the site's local concept
   2000000001) negative by value concept 9189; anti-SRP unmapped (33921-8) positive by
   value concept 45884084; Jo-1 (3013023) negative by value concept 45878583: other_msa
   "none"; atorvastatin 80 mg tablet (under the ingredient in concept_ancestor) from
   2020-01-01, after onset; died 2022-03-03, before the end of its observation period.
3. female, born 1980 (year only: 1980-07-01). A standard concept
   (4000001) that the ICD-10-CM M60.9 concept Maps to, on 2018-08-08; PL-7 unmapped
   (33772-5) 80 against 20: other_msa "pl7"; no observation period.
4. CK 5,000 U/L only, and a statin: not a candidate.
5. gender concept 0 (unknown), born 1960-03-03. anti-HMGCR numeric "<5" against 20:
   negative; a CK of 1,500 with no unit (left out, counted); a CK with the operator > and
   no value; no myositis condition and no high CK: no onset.

EMG studies with a coded result (the site's result concepts in :data:`SITE_CONCEPTS`):
person 1 a myopathic one (CPT 95886 as source value) in the observation period of onset
and a not myopathic one (95860) in the earlier period (not counted): emg_myopathic true;
person 2 a not myopathic one by the site's study concept and an "abnormal" one (45878745,
not read as myopathic): false; person 3 a myopathic one but no observation period, and
person 5 a myopathic one but no onset: empty.
"""

from __future__ import annotations

from pathlib import Path

#: The site's own concept set file of the tests: a local concept for anti-HMGCR, and local
#: concepts for an EMG study and its results.
SITE_CONCEPTS = """\
version = "test-site-1"

[myositis_antibodies]
concepts = [{id = 2000000001, name = "Local anti-HMGCR ELISA", label = "hmgcr", method = "elisa"}]

[emg]
concepts = [
    {id = 2000000200, name = "EMG report (local)", label = "study"},
    {id = 2000000201, name = "Myopathic pattern (local)", label = "myopathic"},
    {id = 2000000202, name = "Normal study (local)", label = "not_myopathic"},
]
"""

_TABLES: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "INTEGER",
        "gender_concept_id": "INTEGER",
        "year_of_birth": "INTEGER",
        "month_of_birth": "INTEGER",
        "day_of_birth": "INTEGER",
        "birth_datetime": "TIMESTAMP",
        "person_source_value": "VARCHAR",
    },
    "observation_period": {
        "observation_period_id": "INTEGER",
        "person_id": "INTEGER",
        "observation_period_start_date": "DATE",
        "observation_period_end_date": "DATE",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "INTEGER",
        "person_id": "INTEGER",
        "condition_concept_id": "INTEGER",
        "condition_start_date": "DATE",
        "condition_source_value": "VARCHAR",
        "condition_source_concept_id": "INTEGER",
    },
    "measurement": {
        "measurement_id": "INTEGER",
        "person_id": "INTEGER",
        "measurement_concept_id": "INTEGER",
        "measurement_date": "DATE",
        "operator_concept_id": "INTEGER",
        "value_as_number": "DECIMAL(18,3)",
        "value_as_concept_id": "INTEGER",
        "unit_concept_id": "INTEGER",
        "range_high": "DECIMAL(18,3)",
        "measurement_source_value": "VARCHAR",
        "unit_source_value": "VARCHAR",
    },
    "drug_exposure": {
        "drug_exposure_id": "INTEGER",
        "person_id": "INTEGER",
        "drug_concept_id": "INTEGER",
        "drug_exposure_start_date": "DATE",
        "drug_exposure_end_date": "DATE",
    },
    "death": {"person_id": "INTEGER", "death_date": "DATE"},
    "concept": {
        "concept_id": "INTEGER",
        "concept_name": "VARCHAR",
        "vocabulary_id": "VARCHAR",
        "concept_code": "VARCHAR",
    },
    "concept_relationship": {
        "concept_id_1": "INTEGER",
        "concept_id_2": "INTEGER",
        "relationship_id": "VARCHAR",
    },
    "concept_ancestor": {
        "ancestor_concept_id": "INTEGER",
        "descendant_concept_id": "INTEGER",
    },
}

N = None
ROWS: dict[str, list[tuple[object, ...]]] = {
    "person": [
        (1, 8532, 1955, 4, 20, N, "p1"),
        (2, 8507, 1970, 1, 2, "1970-01-02 00:00:00", "p2"),
        (3, 8532, 1980, N, N, N, "p3"),
        (4, 8507, 1950, 1, 1, N, "p4"),
        (5, 0, 1960, 3, 3, N, "p5"),
    ],
    "observation_period": [
        (1, 1, "2010-01-01", "2015-12-31"),
        (2, 1, "2016-06-01", "2023-12-31"),
        (3, 2, "2015-01-01", "2022-12-31"),
        (4, 4, "2015-01-01", "2022-12-31"),
        (5, 5, "2015-01-01", "2022-12-31"),
    ],
    "condition_occurrence": [
        (1, 1, 0, "2020-03-01", "G72.49", 0),
        (2, 1, 0, "2012-05-05", "C50.9", 0),
        (3, 1, 0, "2021-07-01", "C34.1", 0),
        (4, 2, 0, "2019-04-01", N, 45000001),
        (5, 3, 4000001, "2018-08-08", "Myositis NOS", 0),
        (6, 4, 0, "2019-01-01", "I10", 0),
    ],
    "measurement": [
        (1, 1, 3007220, "2020-02-15", N, 8000, N, 8645, 200, "2157-6", "U/L"),
        (2, 1, 0, "2020-03-02", N, 120, N, 0, 20, "93493-5", "U"),
        (3, 2, 3007220, "2019-05-01", N, 50, N, 32995, 3.2, "2157-6", "ukat/L"),
        (4, 2, 3007220, "2019-07-01", 4172704, 20000, N, 8645, 200, "2157-6", "U/L"),
        (5, 2, 3007220, "2019-08-01", 4171756, 10, N, 8645, 200, "2157-6", "U/L"),
        (6, 2, 2000000001, "2019-05-02", N, N, 9189, 0, N, "HMGCR", N),
        (7, 2, 0, "2019-05-02", N, N, 45884084, 0, N, "33921-8", N),
        (8, 2, 3013023, "2019-05-02", N, N, 45878583, 0, N, "8076-2", N),
        (9, 3, 0, "2018-08-10", N, 80, N, 0, 20, "33772-5", N),
        (10, 4, 3007220, "2019-02-01", N, 5000, N, 8645, 200, "2157-6", "U/L"),
        (11, 5, 0, "2021-01-01", 4171756, 5, N, 0, 20, "93493-5", "U"),
        (12, 5, 3007220, "2021-01-02", N, 1500, N, 0, N, "2157-6", N),
        (13, 5, 3007220, "2021-01-03", 4172704, N, N, 8645, 200, "2157-6", "U/L"),
        (14, 1, 0, "2020-03-03", N, N, 2000000201, 0, N, "95886", N),
        (15, 1, 0, "2012-01-01", N, N, 2000000202, 0, N, "95860", N),
        (16, 2, 2000000200, "2019-04-20", N, N, 2000000202, 0, N, "EMG", N),
        (17, 2, 0, "2019-04-21", N, N, 45878745, 0, N, "95864", N),
        (18, 3, 0, "2018-08-09", N, N, 2000000201, 0, N, "95861", N),
        (19, 5, 0, "2021-01-04", N, N, 2000000201, 0, N, "95864", N),
    ],
    "drug_exposure": [
        (1, 1, 1539403, "2017-01-10", "2019-12-31"),
        (2, 1, 1551100, "2020-03-05", "2020-09-01"),
        (3, 2, 1545959, "2020-01-01", "2020-06-30"),
        (4, 4, 1539403, "2018-01-01", "2018-12-31"),
    ],
    "death": [(2, "2022-03-03")],
    "concept": [
        (45000001, "Polymyositis", "ICD10CM", "M33.2"),
        (45000002, "Myositis, unspecified", "ICD10CM", "M60.9"),
        (4000001, "Myositis", "SNOMED", "26889001"),
        (1539403, "simvastatin", "RxNorm", "36567"),
        (1545958, "atorvastatin", "RxNorm", "83367"),
        (1545959, "atorvastatin 80 MG Oral Tablet", "RxNorm", "259255"),
        (1551099, "prednisone", "RxNorm", "8640"),
        (1551100, "prednisone 20 MG Oral Tablet", "RxNorm", "312615"),
    ],
    "concept_relationship": [
        (45000002, 4000001, "Maps to"),
        (45000001, 4000002, "Maps to"),
    ],
    "concept_ancestor": [
        (1539403, 1539403),
        (1545958, 1545958),
        (1545958, 1545959),
        (1551099, 1551099),
        (1551099, 1551100),
    ],
}


def build(
    path: Path,
    *,
    upper: bool = False,
    text_numbers: bool = False,
    without_table: str | None = None,
    rename: tuple[str, str, str] | None = None,
    ancestors: bool = True,
    schema: str | None = None,
) -> Path:
    """Write the database to ``path`` (DuckDB) and return it.

    ``upper``: upper-case column names; ``text_numbers``: ``value_as_number`` and
    ``range_high`` stored as text (both as OHDSI's GiBleed has them); ``without_table``:
    leave a table out; ``rename``: ``(table, column, new name)``; ``ancestors``: false
    leaves ``concept_ancestor`` empty (as Synthea27Nj has it).
    """
    import duckdb

    con = duckdb.connect(str(path))
    try:
        if schema:
            con.execute(f"CREATE SCHEMA {schema}")
        for table, columns in _TABLES.items():
            if table == without_table:
                continue
            defs = []
            for name, kind in columns.items():
                if text_numbers and name in ("value_as_number", "range_high"):
                    kind = "VARCHAR"
                shown = name
                if rename and rename[0] == table and rename[1] == name:
                    shown = rename[2]
                defs.append(f"{shown.upper() if upper else shown} {kind}")
            where = f"{schema}.{table}" if schema else table
            con.execute(f"CREATE TABLE {where} ({', '.join(defs)})")
            rows = ROWS[table] if ancestors or table != "concept_ancestor" else []
            if text_numbers and table == "measurement":
                rows = [
                    tuple(
                        None if v is None else str(v) if i in (5, 8) else v for i, v in enumerate(r)
                    )
                    for r in rows
                ]
            if rows:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"INSERT INTO {where} VALUES ({marks})", rows)
    finally:
        con.close()
    return path
