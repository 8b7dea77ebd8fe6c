"""``analyse`` on a cohort an analyst built without ``classify``: the contract's derived
columns are computed, a default Table 1 row that cannot be made is left out with a note,
and only a row the analyst asked for fails."""

from __future__ import annotations

import pandas as pd
import pytest

import imnm_cohort as ic
from imnm_cohort.analysis.table_spec import TableOneOptions, known_variable
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.vocabulary import CLASSIFICATION_COLUMNS

DERIVED = ("age_at_onset_years", "statin_latency_months", "followup_years")
EULAR = "eular_acr_2017_category"


@pytest.fixture(scope="module")
def classified() -> pd.DataFrame:
    result = ic.validate_extract(ic.synthesize(80, seed=3))
    return ic.classify(result.valid)


@pytest.fixture(scope="module")
def full(classified) -> ic.CohortAnalysis:
    return _analyse(classified)


def _analyse(frame: pd.DataFrame, **kwargs) -> ic.CohortAnalysis:
    return ic.analyse(frame, n_boot=20, **kwargs)


def test_derived_columns_present_and_no_classifier_columns(classified, full):
    frame = classified[[*CONTRACT_COLUMNS, "imnm_group", *DERIVED]]
    result = _analyse(frame)
    columns = [row.variable.column for row in result.table_one.rows]
    assert EULAR not in columns and "age_at_onset_years" in columns
    note = "Left out of Table 1, the cohort having no such column: "
    assert result.notes == (f"{note}EULAR/ACR 2017 IIM category ('{EULAR}').",)
    assert result.to_dict()["notes"] == list(result.notes)
    assert result.notes[0] in result.to_dict()["table_one"]["footnotes"]
    assert full.notes == () and "notes" not in full.to_dict()  # a run's summary is unchanged
    assert EULAR in [row.variable.column for row in full.table_one.rows]
    assert result.table_one.row("ck_peak") == full.table_one.row("ck_peak")


def test_only_the_contract_columns_and_the_group(classified, full):
    frame = classified[[*CONTRACT_COLUMNS, "imnm_group"]]
    result = _analyse(frame)
    assert result.notes[0] == (
        "Computed from the cohort's dates, as the contract defines them: "
        + ", ".join(DERIVED)
        + "."
    )
    assert "Left out of Table 1" in result.notes[1]
    assert set(DERIVED) <= set(CLASSIFICATION_COLUMNS)
    # The computed columns are classify's: the same onset ages and follow-up give the same
    # comparisons, survival and Table 1 rows.
    assert result.onset_age == full.onset_age
    assert result.survival.to_dict() == full.survival.to_dict()
    for name in ("age_at_onset_years", "followup_years"):
        assert result.table_one.row(name) == full.table_one.row(name)
    assert list(frame.columns) == [*CONTRACT_COLUMNS, "imnm_group"]  # not modified


def test_a_row_the_analyst_asked_for_still_fails(classified):
    frame = classified[[*CONTRACT_COLUMNS, "imnm_group"]]
    variable = known_variable(EULAR)
    assert variable is not None
    options = TableOneOptions(variables=(variable,))
    with pytest.raises(ic.ConfigError, match=f"variable '{EULAR}': no such column"):
        _analyse(frame, table_one_options=options)
