"""Data-quality warnings show the value that raised them, as the file wrote it."""

from __future__ import annotations

from datetime import date

from imnm_cohort.validation.validate import validate_extract
from tests.conftest import text_frame


def test_date_warnings_show_the_date_as_written():
    rows = [
        {"statin_start_date": "2015-07-01", "statin_stop_date": None},
        {"diagnosis_date": "2020-06-02", "last_followup_date": "2020-06-01"},
    ]
    warnings = validate_extract(text_frame(rows)).warnings
    shown = dict(zip(warnings["code"], warnings["value"], strict=True))
    assert shown == {
        "statin_started_after_onset": "2015-07-01",
        "diagnosis_after_end_of_observation": "2020-06-02",
    }


def test_onset_age_warnings_show_the_age_in_years():
    # Born 2014-01-01, onset 2015-06-01 (the base patient): 516 days, in years of 365.25 days.
    warnings = validate_extract(text_frame([{"birth_date": "2014-01-01"}])).warnings
    assert warnings["value"].tolist() == [
        round((date(2015, 6, 1) - date(2014, 1, 1)).days / 365.25, 2)
    ]
