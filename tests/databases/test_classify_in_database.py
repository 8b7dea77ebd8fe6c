"""Classification in the database gives what classification in memory gives.

The query :func:`~imnm_cohort.classify.sql.classify_expr` builds from the rules runs on
DuckDB (in memory) and on PostgreSQL (the throw-away cluster of ``conftest.py``); for every
patient, its group, criteria, reasons and derived columns must equal those of
:func:`~imnm_cohort.classify` in memory. The patients are every case of the specification
tests that classifies (``tests/spec/test_group_*.py``, each with the spec's own expected
answer) and random synthetic cohorts with random cells left empty.
"""

from __future__ import annotations

import importlib
import re
from itertools import product
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import tests.conftest as shared
from imnm_cohort import RuleCode, available_criteria, classify, synthesize
from imnm_cohort.classify.columns import FrameColumns
from imnm_cohort.classify.derived import DERIVED_COLUMNS
from imnm_cohort.classify.rules import RULES
from imnm_cohort.classify.sql import IbisColumns, classified_frame, classify_expr
from imnm_cohort.validation.validate import validate_extract
from imnm_cohort.vocabulary import GROUP_COLUMN

SPEC = Path(__file__).resolve().parents[1] / "spec"
DECIDED = (GROUP_COLUMN, "criteria", "classification_reasons")


class _Recorded:
    """Stands for ``outcome(...)``'s answer in a spec test: records the patient and the
    answer the spec expects (the test's ``==``), and lets the test pass."""

    def __init__(self, cases: list, overrides: dict, criteria: str) -> None:
        self.case = {"overrides": overrides, "criteria": criteria}
        cases.append(self.case)

    def __eq__(self, expected: object) -> bool:
        self.case["expected"] = expected
        return True

    __hash__ = None  # type: ignore[assignment]


def _spec_cases() -> list[dict[str, Any]]:
    """Every (patient, criteria set, expected group and reasons) of the spec's group tests,
    found by running each parametrized test with a recording ``outcome``."""
    cases: list[dict[str, Any]] = []
    for path in sorted(SPEC.glob("test_group_*.py")):
        module = importlib.import_module(f"tests.spec.{path.stem}")
        original = module.outcome

        def record(overrides: dict, criteria: str = "tma2025") -> _Recorded:
            return _Recorded(cases, overrides, criteria)

        module.outcome = record
        try:
            for name in dir(module):
                test = getattr(module, name)
                if name.startswith("test_"):
                    for arguments in _parameters(test):
                        test(**arguments)
        finally:
            module.outcome = original
    return cases


def _parameters(test: Any) -> list[dict[str, Any]]:
    """Every set of arguments pytest would call a test with (stacked parametrize marks
    multiply)."""
    choices = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            names, values = mark.args[0], mark.args[1]
            if isinstance(names, str):
                names, values = [names], [(v,) for v in values]
            choices.append([dict(zip(names, v, strict=True)) for v in values])
    return [{k: v for part in parts for k, v in part.items()} for parts in product(*choices)]


SPEC_CASES = _spec_cases()


def _valid(frame: pd.DataFrame) -> pd.DataFrame:
    return validate_extract(frame, "<frame>").valid.reset_index(drop=True)


def _agree(con: Any, patients: pd.DataFrame, criteria: str) -> pd.DataFrame:
    """Classify ``patients`` in the database behind ``con`` and in memory; assert that they
    agree patient by patient and return the database's answer (in memory's row order)."""
    table = con.create_table("patients", patients, overwrite=True)
    got = classified_frame(classify_expr(table, criteria))
    want = classify(patients, criteria, scores=())
    assert len(got) == len(want) and got["patient_id"].is_unique
    got = got.set_index("patient_id").loc[want["patient_id"].to_numpy()].reset_index()
    assert got.columns.tolist() == want.columns.tolist()
    for column in DECIDED:
        assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column
    assert got[GROUP_COLUMN].notna().all()
    for column in DERIVED_COLUMNS:
        np.testing.assert_allclose(got[column], want[column], rtol=0, atol=1e-12, err_msg=column)
    return got


@pytest.fixture(scope="module")
def duckdb() -> Any:
    con = ibis.duckdb.connect()
    yield con
    con.disconnect()


def _spec_patients(criteria: str) -> tuple[pd.DataFrame, list]:
    cases = [c for c in SPEC_CASES if c["criteria"] == criteria]
    return _valid(shared.text_frame(c["overrides"] for c in cases)), cases


def test_every_spec_group_test_is_recorded():
    # 7 modules; statin_toxic asks for both sets; the count is at least the spec's cases.
    assert len(SPEC_CASES) > 100
    assert all("expected" in c for c in SPEC_CASES)
    assert {c["criteria"] for c in SPEC_CASES} == set(available_criteria())


@pytest.mark.parametrize("criteria", available_criteria())
def test_spec_cases_classify_alike_in_duckdb(duckdb, criteria):
    patients, cases = _spec_patients(criteria)
    assert len(patients) == len(cases)  # every spec patient is valid
    got = _agree(duckdb, patients, criteria)
    answers = list(zip(got[GROUP_COLUMN].astype(str), got["classification_reasons"], strict=True))
    assert answers == [c["expected"] for c in cases]


#: A patient at the two ends of the accepted date range (and one never exposed).
EDGES = [
    {"birth_date": "1677-09-22", "onset_date": "2262-04-11", "diagnosis_date": "2262-04-11",
     "last_followup_date": "2262-04-11", "statin_start_date": "1677-09-22",
     "statin_stop_date": "1677-09-22"},
    {"statin_exposed": "false", "statin_name": None, "statin_start_date": None,
     "statin_stop_date": None},
]  # fmt: skip


def test_derived_columns_alike_at_the_edges_of_the_date_range(duckdb):
    patients = _valid(shared.text_frame(EDGES))
    got = _agree(duckdb, patients, "tma2025")
    assert got["age_at_onset_years"].iloc[0] > 584


#: Values of the columns whose empty values the rules read (None: empty), crossed in full.
GRID = {
    "anti_hmgcr": ["positive", "negative", "not_tested", None],
    "anti_srp": ["positive", "negative", None],
    "proximal_weakness": ["none", "mild", "moderate", None],
    "ck_peak": ["500", "1500", None],
    "ck_uln": ["200", None],
    "statin_exposed": ["true", None],
    "improved_after_statin_stop": ["true", None],
    "biopsy_necrosis": ["predominant", None],
    "biopsy_inflammation": ["minimal", None],
}
#: The yes/no findings and other_msa: as in the base patient, or all empty.
EMPTY_FINDINGS = dict.fromkeys(
    ("dm_rash", "hereditary_myopathy", "other_msa", "biopsy_rimmed_vacuoles",
     "biopsy_perifascicular_atrophy"),
)  # fmt: skip


def test_empty_values_read_alike_over_a_grid_of_every_rule_s_inputs(duckdb):
    rows = [
        {**dict(zip(GRID, values, strict=True)), **findings}
        for values in product(*GRID.values())
        for findings in ({}, EMPTY_FINDINGS)
    ]
    patients = _valid(shared.text_frame(rows))
    assert len(patients) == len(rows)
    for criteria in available_criteria():
        _agree(duckdb, patients, criteria)


#: The columns the rules and the derived columns read that may be empty (blanked at random).
OPTIONAL = (
    "death_date", "proximal_weakness", "dm_rash", "ck_peak", "ck_uln", "anti_hmgcr",
    "anti_srp", "other_msa", "biopsy_necrosis", "biopsy_inflammation",
    "biopsy_perifascicular_atrophy", "biopsy_rimmed_vacuoles", "statin_exposed",
    "statin_start_date", "improved_after_statin_stop", "hereditary_myopathy",
)  # fmt: skip


@settings(
    max_examples=5,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 100),
    seed=st.integers(0, 2**16),
    blanks=st.lists(st.tuples(st.integers(0, 99), st.sampled_from(OPTIONAL)), max_size=60),
)
def test_random_cohorts_classify_alike_in_duckdb(duckdb, n, seed, blanks):
    frame = synthesize(n, seed)
    for row, column in blanks:
        if row < n:
            frame.loc[row, column] = None
    patients = _valid(frame)
    if patients.empty:
        return
    for criteria in available_criteria():
        _agree(duckdb, patients, criteria)


def test_spec_cases_and_a_cohort_classify_alike_in_postgresql(pg_url):
    cohort = _valid(synthesize(300, seed=20))
    edges = _valid(shared.text_frame(EDGES))
    assert len(edges) == len(EDGES)
    others = [
        cohort.assign(patient_id="S" + cohort["patient_id"]),
        edges.assign(patient_id="E" + edges["patient_id"]),
    ]
    con = ibis.connect(pg_url)
    try:
        for criteria in available_criteria():
            spec, cases = _spec_patients(criteria)
            patients = pd.concat([spec, *others], ignore_index=True)
            got = _agree(con, patients, criteria)
            answers = zip(got[GROUP_COLUMN].astype(str), got["classification_reasons"], strict=True)
            assert list(answers)[: len(cases)] == [c["expected"] for c in cases]
        con.drop_table("patients")
    finally:
        con.disconnect()


def test_the_group_is_one_case_expression_over_every_rule_outcome(duckdb):
    table = duckdb.create_table("patients", _spec_patients("tma2025")[0], overwrite=True)
    for dialect in ("duckdb", "postgres"):
        sql = ibis.to_sql(classify_expr(table).select(GROUP_COLUMN), dialect=dialect)
        outer = sql[: sql.index(f'AS "{GROUP_COLUMN}"')]
        assert len(re.findall(r"\bCASE\b", outer)) == 1, outer
        assert (
            len(re.findall(r"\bWHEN\b", outer))
            == sum(len(rule.outcomes(_AllFacts())) for rule in RULES)
            == len(RuleCode)
        )


class _AllFacts:
    """Facts that are all true (enough to count each rule's outcomes)."""

    def __getattr__(self, name: str) -> Any:
        return np.array([True]) if name != "biopsy" else np.array([""], dtype=object)


def test_carried_output_columns_keep_their_values(duckdb):
    patients = _valid(shared.text_frame([{}]))
    patients["imnm_group"] = "from the extract"
    patients["_imnm_fact_weak"] = "named like a fact of the query"
    table = duckdb.create_table("patients", patients, overwrite=True)
    got = classified_frame(classify_expr(table))
    want = classify(patients, scores=())
    assert got.columns.tolist() == want.columns.tolist()
    assert got["extract.imnm_group"].tolist() == ["from the extract"]
    assert got["_imnm_fact_weak"].tolist() == ["named like a fact of the query"]
    assert got[GROUP_COLUMN].astype(str).tolist() == ["hmgcr"]


def test_an_empty_value_is_false_before_negation_in_both_column_apis(duckdb):
    # The rules may negate a fact (``~f.weak``); SQL's NOT NULL is NULL, so an empty value
    # must be made false first, as in memory.
    frame = pd.DataFrame({"dm_rash": pd.array([True, False, None], dtype="boolean")})
    table = duckdb.create_table("flags", frame, overwrite=True)
    memory, database = FrameColumns(frame), IbisColumns(table)
    expected = (~memory.holds(memory["dm_rash"])).tolist()
    assert expected == [False, True, True]
    negated = ~database.holds(database["dm_rash"])
    assert table.select(v=negated).to_pandas()["v"].tolist() == expected
