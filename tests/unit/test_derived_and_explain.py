"""Derived columns against hand-computed values; explanations in words."""

from __future__ import annotations

import math

import pytest

from imnm_cohort import UnknownCriteriaError, available_criteria, classify, explain
from tests.conftest import SERONEGATIVE, valid_patients


def test_derived_columns_by_hand():
    # onset 2015-06-01, birth 1955-03-01: 22,007 days; statin start 2012-06-01: 1,095 days;
    # follow-up to 2020-06-01: 1,827 days (counted with a calendar).
    row = classify(valid_patients([{}])).iloc[0]
    assert row["age_at_onset_years"] == pytest.approx(22007 / 365.25, abs=1e-12)
    assert row["statin_latency_months"] == pytest.approx(1095 / 30.4375, abs=1e-12)
    assert row["followup_years"] == pytest.approx(1827 / 365.25, abs=1e-12)


def test_followup_ends_at_death_when_given():
    row = classify(valid_patients([{"death_date": "2021-06-01"}])).iloc[0]
    assert row["followup_years"] == pytest.approx(2192 / 365.25, abs=1e-12)


@pytest.mark.parametrize(
    "overrides",
    [
        {"statin_exposed": "false"},
        {"statin_exposed": None},
        {"statin_start_date": None},
        {"statin_start_date": "2015-06-02", "statin_stop_date": None},
    ],
)
def test_statin_latency_is_empty_unless_exposed_before_onset(overrides):
    row = classify(valid_patients([overrides])).iloc[0]
    assert math.isnan(row["statin_latency_months"])


def test_latency_zero_when_started_on_onset_day():
    row = classify(valid_patients([{"statin_start_date": "2015-06-01"}])).iloc[0]
    assert row["statin_latency_months"] == 0.0


def test_criteria_column_and_listing():
    assert available_criteria() == ("tma2025", "enmc2017", "ehr2026")
    out = classify(valid_patients([{}]), "enmc2017")
    assert out["criteria"].tolist() == ["enmc2017"]
    with pytest.raises(UnknownCriteriaError, match="tma2025, enmc2017"):
        classify(valid_patients([{}]), "eular2017")


def test_explain_names_the_deciding_rule_and_the_missing_values():
    patients = valid_patients(
        [
            {},
            {**SERONEGATIVE, "biopsy_necrosis": None, "biopsy_inflammation": None, "dm_rash": None},
        ]
    )
    e = explain(patients, "P002")
    assert (e.group, e.decided_by, e.reasons) == ("unclassified", 11, ("r11_biopsy_missing",))
    assert [c.number for c in e.checks] == list(range(1, 12))
    assert e.checks[-1].empty_columns == ("biopsy_necrosis", "biopsy_inflammation")
    assert "dm_rash" in e.checks[9].empty_columns
    text = str(e)
    assert "P002" in text and "rule 11: applies" in text and "r11_biopsy_missing" in text
    first = explain(patients, "P001", criteria="enmc2017")
    assert (first.group, first.decided_by) == ("hmgcr", 6)


def test_explain_errors():
    patients = valid_patients([{}, {}])
    with pytest.raises(KeyError):
        explain(patients, "nobody")
    with pytest.raises(ValueError):
        explain(patients)


def test_every_rule_has_a_statement_a_source_and_reason_codes():
    from imnm_cohort.classify import REASON_CODES, RULES

    assert [r.number for r in RULES] == list(range(1, 12))
    for rule in RULES:
        assert rule.statement and rule.source and rule.columns
        assert any(number == rule.number for number, _, _ in REASON_CODES.values())
