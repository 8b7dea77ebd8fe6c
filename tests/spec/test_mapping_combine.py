"""Spec: each combine rule, a patient's rows before and the one value after."""

from __future__ import annotations

import pytest

from tests.mapping_files import REQUIRED, column, mapped

NO_ID = {k: v for k, v in REQUIRED.items() if k != "patient_id"}


def combined(tmp_path, name, source_rows, rule, extra="", values=""):
    """One patient (record 1): a first row with the required columns, then ``source_rows``."""
    rows = [{**NO_ID, "record": "1"}] + [{"record": "1", **r} for r in source_rows]
    rule_text = f', combine = "{rule}"' if rule else ""
    rule_text += f", values = {{ {values} }}" if values else ""
    text = f'[source]\nid = "record"\n[columns]\n{name} = {{ from = "x"{rule_text} }}\n{extra}'
    return mapped(tmp_path, rows, text)


@pytest.mark.parametrize(
    ("rule", "cells", "expected"),
    [
        # | x          |
        # | 2012-05-01 |   max -> 2014-01-01, min -> 2012-05-01
        # | 2014-01-01 |
        # | (empty)    |
        ("max", ["2012-05-01", "2014-01-01", None], "2014-01-01"),
        ("min", ["2012-05-01", "2014-01-01", None], "2012-05-01"),
        ("first", [None, "2013-01-01", "2012-01-01"], "2013-01-01"),
        ("last", ["2013-01-01", "2012-01-01", None], "2012-01-01"),
    ],
)
def test_dates(tmp_path, rule, cells, expected):
    result = combined(tmp_path, "diagnosis_date", [{"x": c} for c in cells], rule)
    assert column(result, "diagnosis_date") == [expected]


@pytest.mark.parametrize(
    ("rule", "cells", "expected"),
    [("max", ["900", "12000", "80"], "12000"), ("min", ["900", "12000", "80"], "80")],
)
def test_numbers_compare_as_numbers_not_text(tmp_path, rule, cells, expected):
    result = combined(tmp_path, "ck_peak", [{"x": c} for c in cells], rule)
    assert column(result, "ck_peak") == [expected]


@pytest.mark.parametrize(
    ("rule", "cells", "expected"),
    [
        ("any", ["0", "1", None], "true"),
        ("any", ["0", "0", None], "false"),
        ("any", [None, None], None),
        ("all", ["1", "1", None], "true"),
        ("all", ["1", "0"], "false"),
        ("all", [None, None], None),
    ],
)
def test_any_and_all(tmp_path, rule, cells, expected):
    yes_no = '"1" = "true", "0" = "false"'
    result = combined(tmp_path, "dm_rash", [{"x": c} for c in cells], rule, values=yes_no)
    assert column(result, "dm_rash") == [expected]


def test_same_is_the_default_and_equal_values_agree(tmp_path):
    result = combined(
        tmp_path, "weakness_course", [{"x": "chronic"}, {"x": None}, {"x": "Chronic"}], None
    )
    assert column(result, "weakness_course") == ["chronic"]


def test_same_quarantines_conflicting_values_with_every_value(tmp_path):
    result = combined(tmp_path, "weakness_course", [{"x": "acute"}, {"x": "chronic"}], None)
    assert result["extract"] == []
    [bad] = result["quarantine"]
    assert bad["export_rows"] == "1;2;3"
    assert bad["quarantine_reasons"] == "weakness_course:conflicting_values=acute | chronic"


def test_at_min_takes_the_value_on_the_row_of_the_first_cancer(tmp_path):
    # | ca_date    | ca_icd10 |       | cancer_date | cancer_icd10 |
    # | 2019-03-01 | C61      |  ->   | 2016-07-01  | C50.9        |
    # | 2016-07-01 | C50.9    |
    rows = [{"x": "2019-03-01", "code": "C61"}, {"x": "2016-07-01", "code": "C50.9"}]
    extra = 'cancer_icd10 = { from = "code", combine = "at_min:cancer_date" }\n'
    result = combined(tmp_path, "cancer_date", rows, "min", extra)
    assert column(result, "cancer_date") == ["2016-07-01"]
    assert column(result, "cancer_icd10") == ["C50.9"]


def test_at_max_takes_the_value_on_the_row_where_the_column_is_largest(tmp_path):
    rows = [{"x": "300", "u": "170"}, {"x": "9000", "u": "200"}, {"x": "50", "u": "190"}]
    extra = 'ck_uln = { from = "u", combine = "at_max:ck_peak" }\n'
    result = combined(tmp_path, "ck_peak", rows, "max", extra)
    assert (column(result, "ck_peak"), column(result, "ck_uln")) == (["9000"], ["200"])


def test_checkboxes_over_several_rows_agree_when_other_rows_say_nothing(tmp_path):
    rows = [{**NO_ID, "record": "1", "b1": "1", "done": "1"}, {"record": "1", "b1": "0"}]
    text = (
        '[source]\nid = "record"\n[columns]\n'
        'other_msa = { checkboxes = { "b1" = "jo1" }, tested = "done" }\n'
    )
    assert column(mapped(tmp_path, rows, text), "other_msa") == ["jo1"]


def test_patients_keep_the_order_of_their_first_row(tmp_path):
    rows = [{**NO_ID, "record": r} for r in ("b", "a", "b", "c")]
    result = mapped(tmp_path, rows, '[source]\nid = "record"\n')
    assert column(result, "patient_id") == ["b", "a", "c"]
