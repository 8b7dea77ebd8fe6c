"""Validation in the database gives what validation in memory gives: the same valid rows,
the same quarantine with the same reasons (rule, column and value), the same warnings and
the same file-level judgement, on DuckDB and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import FileLevelError, synthesize
from imnm_cohort.contracts.patients import PATIENTS
from imnm_cohort.validation.sql import validate_in_database
from imnm_cohort.validation.validate import validate_table
from tests.conftest import text_frame
from tests.spec import test_extract_rules as spec


@pytest.fixture(scope="module")
def duck() -> Any:
    # Left open: the temporary tables of the results are dropped when they are collected.
    return ibis.duckdb.connect()


def _load(con: Any, frame: pd.DataFrame, name: str = "extract") -> Any:
    """The frame as a table of text cells (NULL for a missing cell)."""
    cells = frame.astype(object).where(frame.notna(), None)
    schema = ibis.schema({c: "string" for c in frame.columns})
    return con.create_table(name, cells, schema=schema, overwrite=True)


def _bag(frame: pd.DataFrame, columns: list[str]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(str(v) for v in row) for row in frame[columns].itertuples(index=False))


def _same(frame: pd.DataFrame, con: Any, name: str = "extract") -> Any:
    """Validate ``frame`` in memory and in the database and check both agree."""
    memory = validate_table(frame, PATIENTS)
    database = validate_in_database(_load(con, frame, name), PATIENTS)
    assert (database.input_rows, database.valid_rows, database.quarantined_rows) == (
        memory.input_rows,
        memory.valid_rows,
        memory.quarantined_rows,
    )
    valid_ids = database.valid.select("patient_id").to_pandas()["patient_id"]
    assert Counter(valid_ids.astype(str)) == Counter(memory.valid["patient_id"].astype(str))
    reasons = ["patient_id", "column", "rule", "value"]
    assert _bag(database.reasons, reasons) == _bag(memory.reasons, reasons)
    quarantined = set(map(str, database.quarantined_ids()))
    assert quarantined == set(map(str, memory.quarantine["patient_id"]))
    warned = ["patient_id", "column", "code", "value"]
    assert _bag(database.warnings, warned) == _bag(memory.warnings, warned)
    counts = database.reason_counts().to_dict("records")
    assert counts == memory.reason_counts().to_dict("records")
    return database


def _spec_rows() -> list[dict[str, Any]]:
    """Every spec case of validation as rows of one table, each case's ids its own."""
    rows: list[dict[str, Any]] = []
    for k, (overrides, _, _) in enumerate(spec.QUARANTINED):
        rows += [{"patient_id": f"OK{k}"}, {"patient_id": f"BAD{k}", **overrides}]
    rows += [{"patient_id": f"V{k}", **overrides} for k, overrides in enumerate(spec.VALID)]
    warned = spec.test_implausible_values_stay_with_a_warning.pytestmark[0].args[1]
    rows += [{"patient_id": f"W{k}", **overrides} for k, (overrides, _) in enumerate(warned)]
    rows += [
        {"patient_id": f"M{k}", "cancer_date": "2016-01-01", "cancer_icd10": code}
        for k, code in enumerate(["C00", "C97", "C50.9", "C509"])
    ]
    rows += [{"patient_id": "D"}, {"patient_id": "D"}, {"patient_id": " D "}]
    rows += [
        {"patient_id": "E", "sex": "x", "ck_peak": "-5", "birth_date": "bad",
         "death_date": "2019-01-01"},
        {"patient_id": "F", "onset_date": "2015-13-01"},
        {"patient_id": "G", "site": " Centre A ", "notes": "=1+1"},
        {"patient_id": "H", "diagnosis_date": "2020-07-01", "death_date": "2020-08-01"},
        {"patient_id": "I", "ck_peak": "100000"},
    ]  # fmt: skip
    return rows


def test_every_spec_case_gives_the_same_outcome_on_duckdb(duck):
    result = _same(text_frame(_spec_rows()), duck)
    got = set(map(tuple, result.reasons[["patient_id", "column", "rule"]].values.tolist()))
    for k, (_, column, rule) in enumerate(spec.QUARANTINED):
        bad = [r for r in got if r[1:] == (column, rule)]
        assert bad, (k, column, rule)
    assert {("D", "patient_id", "duplicate_patient_id")} <= got
    assert (" D ", "patient_id", "duplicate_patient_id") in got


def test_valid_rows_are_typed_as_in_memory(duck):
    rows = [
        {"sex": " Female ", "other_msa": "Jo1 ; PL7", "anti_srp": None, "cancer_icd10": "c50.9"}
    ]
    result = _same(text_frame(rows), duck)
    row = result.valid.to_pandas().iloc[0]
    assert row["sex"] == "female"
    assert row["other_msa"] == "jo1;pl7"
    assert row["anti_srp"] == "not_tested"
    assert row["cancer_icd10"] == "C50.9"
    assert pd.Timestamp(row["birth_date"]) == pd.Timestamp("1955-03-01")


def _file_level(frame: pd.DataFrame, con: Any, order_by: str | None) -> tuple[str, str]:
    with pytest.raises(FileLevelError) as memory:
        validate_table(frame, PATIENTS, source="extract.csv")
    with pytest.raises(FileLevelError) as database:
        validate_in_database(_load(con, frame), PATIENTS, "extract.csv", order_by=order_by)
    m, d = memory.value, database.value
    assert (d.column, d.rule, d.failing_rows, d.total_rows) == (
        m.column,
        m.rule,
        m.failing_rows,
        m.total_rows,
    )
    return str(m), str(d)


def test_most_rows_breaking_one_rule_is_the_same_file_level_error(duck):
    rows = [{"birth_date": f"0{(7 - i) % 9 + 1}/03/1955"} for i in range(12)] + [{}] * 8
    frame = text_frame(rows).assign(row_no=[f"{i:03d}" for i in range(20)])
    memory, database = _file_level(frame, duck, order_by="row_no")
    assert database == memory  # the examples in the order of the rows
    memory, database = _file_level(frame, duck, order_by=None)
    assert "01/03/1955" in database  # the smallest examples, without an order


def test_a_schema_rule_most_rows_break_is_file_level_too(duck):
    rows = [{"ck_peak": "-1", "sex": "x"}] * 11 + [{}] * 9
    memory, database = _file_level(text_frame(rows), duck, order_by=None)
    assert database == memory


def test_half_of_rows_breaking_a_rule_and_a_small_file_stay_a_quarantine(duck):
    _same(text_frame([{"ck_peak": "-1"}] * 10 + [{}] * 10), duck)
    _same(text_frame([{"birth_date": "01/03/1955"}] * 9), duck)


def test_a_missing_contract_column_is_read_as_empty(duck):
    frame = text_frame([{}, {}]).drop(columns=["weakness_course", "dm_rash"])
    result = _same(frame, duck)
    assert set(result.absent_columns) >= {"weakness_course", "dm_rash"}


#: Cells a database keeps that a file reader tidies or that parse at the edges.
ODD = {
    "date": ["2021-02-29", "2020-02-29", "1900-02-29", "2000-02-29", "0000-02-29",
             " 2016-01-01 ", "2016-1-01", "1677-09-21", "1677-09-22", "2262-04-11",
             "2262-04-12", "２０１６-01-01", "2016-01-01\u00a0", "", "  ",
             "2023-02-30", "0000-01-01", "0000-02-30", "9999-12-31", "2016-02-29T00:00",
             "NaN", "1e3", "٢٠١٦-٠١-٠١", "2016-01-01" * 500],
    "bool": ["YES", "nO", " 1 ", "t", "True", "\u00a0no", "", "ｙｅｓ", "NaN", "١", "\tno\n"],
    "float": ["1e3", " 5 ", "+5", ".5", "5.", "1e400", "1e-400", "inf", "1,5", "0x10",
              "1" * 120, "1e05", "-0", "", "１０", "200", " 12 ", "١٢٣", "NaN", "nan",
              "-Infinity", "1" * 5000, "1_000", "1e99", "1e100"],
    "category": ["FEMALE", " male ", "male\u00a0", "ma le", "UN\u212aNOWN", "Positive",
                 "NOT_TESTED", "", "negative"],
    "msa_list": ["Jo1 ; PL7", ";jo1;", "none", "NONE;jo1", "jo1;;pl7", "Jö1", "mi2 ;", ""],
    "icd10": ["c50.9", "C50ſ", "c509", "D05.1", "C98", "c5", ""],
    "id": ["P001", " P001", "Zoe\u0308", "Zo\u00eb", "P\u212a1", "PK1", "", "P\x01",
           "P" * 5000, "P\x1f"],
}  # fmt: skip


@st.composite
def dirty_extracts(draw: Any) -> pd.DataFrame:
    n = draw(st.integers(5, 25))
    frame = synthesize(n, seed=draw(st.integers(0, 10_000)), dirty=0.3)
    for _ in range(draw(st.integers(0, 12))):
        column = draw(st.sampled_from(list(PATIENTS.column_names)))
        kind = PATIENTS.kinds[column]
        odd = ODD.get(kind, ODD["category"] if kind == "string" else ODD["id"])
        value = draw(st.sampled_from([*odd, None]))
        frame.loc[draw(st.integers(0, n - 1)), column] = value
    return frame


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=dirty_extracts())
def test_duckdb_agrees_with_memory_on_dirty_extracts(duck, frame):
    try:
        validate_table(frame, PATIENTS)
    except FileLevelError:
        _file_level(frame, duck, order_by=None)
        return
    _same(frame, duck)


def test_every_odd_cell_gives_the_same_outcome(duck):
    rows = []
    for column, kind in PATIENTS.kinds.items():
        for k, value in enumerate(ODD.get(kind, ODD["id"])):
            rows.append({"patient_id": f"{column}-{k}", column: value})
    _same(text_frame(rows), duck)


def test_postgresql_agrees_with_memory_on_a_dirty_cohort(pg_url):
    frame = synthesize(300, seed=7, dirty=0.25)
    odd = text_frame(
        [{"patient_id": f"X{k}", column: value}
         for k, (column, value) in enumerate(
             [(c, v) for c, kind in PATIENTS.kinds.items() for v in ODD.get(kind, ODD["id"])]
         )]
    )  # fmt: skip
    frame = pd.concat([frame, odd], ignore_index=True)
    con = ibis.connect(pg_url)
    try:
        _same(frame, con, "dirty_cohort")
        con.drop_table("dirty_cohort")
    finally:
        con.disconnect()


def test_a_contract_the_database_cannot_run_is_refused_by_name(duck):
    import pandera.pandas as pa

    from imnm_cohort.contracts.rates import REFERENCE_RATES
    from imnm_cohort.contracts.table import TableContract, column

    table = _load(duck, pd.DataFrame({"code": ["a"]}), "odd_table")
    with pytest.raises(ValueError, match="validated in memory only"):
        validate_in_database(table, REFERENCE_RATES)
    odd = TableContract(
        name="odd",
        unit="rows",
        columns={
            "code": column("string", checks=[pa.Check.str_length(1, 3)], description="", title="")
        },
    )
    with pytest.raises(ValueError, match=r"'str_length'.*has no SQL form"):
        validate_in_database(table, odd)


def test_the_valid_rows_classify_in_the_database_as_in_memory(duck):
    from imnm_cohort.classify import classify
    from imnm_cohort.classify.sql import classified_frame, classify_expr

    frame = synthesize(300, seed=3, dirty=0.2)
    result = validate_in_database(_load(duck, frame), PATIENTS)
    database = classified_frame(classify_expr(result.valid, criteria="enmc2017"))
    memory = classify(validate_table(frame, PATIENTS).valid, criteria="enmc2017")
    columns = ["patient_id", "imnm_group", "classification_reasons"]
    got = database[columns].astype(str).sort_values("patient_id", ignore_index=True)
    expected = memory[columns].astype(str).sort_values("patient_id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)


def test_valid_rows_fetched_as_arrow_are_typed_as_fetched_one_by_one(duck):
    from imnm_cohort.validation.sql import (
        _as_in_memory,
        arrow_as_in_memory,
        fetch,
        fetch_arrow,
    )

    rows = [
        {"patient_id": f"{column}-{k}", column: value}
        for column, kind in PATIENTS.kinds.items()
        for k, value in enumerate(ODD.get(kind, ODD["id"]))
    ]
    frame = pd.concat([synthesize(200, seed=9, dirty=0.2), text_frame(rows)], ignore_index=True)
    valid = validate_in_database(_load(duck, frame, "arrow_typed"), PATIENTS).valid
    one_by_one = _as_in_memory(fetch(valid), PATIENTS)
    assert len(one_by_one) > 200
    pd.testing.assert_frame_equal(arrow_as_in_memory(fetch_arrow(valid), PATIENTS), one_by_one)
