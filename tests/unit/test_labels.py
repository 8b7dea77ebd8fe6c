"""Codes in words: every reason code and quarantine rule a report can show."""

from __future__ import annotations

import re

from imnm_cohort import EXTRACT_SCHEMA, REASON_CODES
from imnm_cohort.report.labels import reason_words, rule_words


def test_every_reason_code_reads_as_words_without_column_names():
    columns = set(EXTRACT_SCHEMA.columns)
    for code in REASON_CODES:
        words = reason_words(code)
        assert words and words != code
        assert not set(re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", words)) & columns, words
    assert reason_words("r6_ck_missing") == "anti-HMGCR positive, peak CK (U/L) is empty"


def test_quarantine_rules_in_words():
    assert rule_words("birth_date", "not_a_date") == (
        "date of birth: the value is not a date written YYYY-MM-DD"
    )
    assert (
        rule_words("death_date", "death_before_followup") == "date of death before last follow-up"
    )
    assert rule_words("birth_date", "birth_not_before_onset") == (
        "onset date on or before date of birth"
    )
    assert rule_words("x", "some_new_rule") == "x: some new rule"
