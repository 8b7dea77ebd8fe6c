"""Property: validating with the schema in parts (on two threads) finds exactly the failures
that the whole :data:`EXTRACT_SCHEMA` finds, on random dirty extracts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pandera.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import synthesize
from imnm_cohort.contracts.coerce import coerce_extract
from imnm_cohort.contracts.patients import DATE_ORDER_COLUMN, EXTRACT_SCHEMA, PANDERA_RULES
from imnm_cohort.validation.validate import _SCHEMA_PARTS, _schema_cases, _schema_failures


def _essentials(column) -> tuple:
    checks = [(check.name, check.error, check.statistics) for check in column.checks]
    return (str(column.dtype), column.nullable, column.unique, column.metadata, checks)


def test_the_parts_cover_every_column_and_check_once():
    columns = [name for part in _SCHEMA_PARTS for name in part.columns]
    assert sorted(columns) == sorted(EXTRACT_SCHEMA.columns)
    assert len(columns) == len(set(columns))
    for part in _SCHEMA_PARTS:
        for name, column in part.columns.items():
            assert _essentials(column) == _essentials(EXTRACT_SCHEMA.columns[name])
    wide = [(check.name, check.error) for part in _SCHEMA_PARTS for check in part.checks]
    assert wide == [(check.name, check.error) for check in EXTRACT_SCHEMA.checks]


def _whole_schema_cells(typed: pd.DataFrame) -> set[tuple[int, str, str]]:
    """(row, column, rule) of every failure, by the whole schema in one call."""
    try:
        EXTRACT_SCHEMA.validate(typed.copy(), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return set()
    cases = cases[cases["index"].notna()]
    wide = cases["schema_context"] == "DataFrameSchema"
    column, wide_cases = cases[~wide], cases[wide]
    cells = {
        (int(i), str(c), str(PANDERA_RULES.get(str(r), r)))
        for i, c, r in zip(column["index"], column["column"], column["check"], strict=True)
    }
    cells |= {
        (int(i), "", str(r)) for i, r in zip(wide_cases["index"], wide_cases["check"], strict=True)
    }
    return cells


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 60), seed=st.integers(0, 10_000), dirty=st.sampled_from([0.2, 0.6, 1.0]))
def test_parts_find_what_the_whole_schema_finds(n, seed, dirty):
    raw = synthesize(n, seed=seed, dirty=dirty).astype(object)
    raw = raw.where(raw.notna(), None).astype(str).where(raw.notna(), None)
    typed, _ = coerce_extract(raw)
    expected = _whole_schema_cells(typed)
    with ThreadPoolExecutor(max_workers=len(_SCHEMA_PARTS)) as pool:
        cases = list(pool.map(lambda part: _schema_cases(part, typed), _SCHEMA_PARTS))
    found = _schema_failures(cases, raw)
    got = {
        (int(i), "" if r in DATE_ORDER_COLUMN else str(c), str(r))
        for i, c, r in zip(found["index"], found["column"], found["rule"], strict=True)
    }
    assert got == expected


def test_the_valid_rows_carry_no_partial_schema(tmp_path):
    from imnm_cohort import load_extract, write_extract

    path = tmp_path / "extract.csv"
    write_extract(synthesize(20, seed=3), path)
    assert load_extract(path).valid.pandera.schema is None
