"""The Lexis split on a hand-worked patient, and reference-rate files that are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.lexis import TimeScale, days, lexis_split, year_start_days
from imnm_cohort.analysis.rates import read_reference_rates
from imnm_cohort.errors import ConfigError, ReferenceRateError

Y = 365.25


def test_one_patient_crossing_a_birthday_a_new_year_and_a_follow_up_band():
    # Born 1950-07-01, followed 2009-10-01 to 2011-10-01: turns 60 on 2010-07-01 (by
    # days / 365.25), a new calendar period on 2010-01-01, one year of follow-up on
    # 2010-10-01 (+365.25 days).
    birth, entry, exit = days(pd.Series(["1950-07-01", "2009-10-01", "2011-10-01"]))
    scales = {
        "age": TimeScale(np.array([birth]), np.array([50.0, 60.0]) * Y),
        "year": TimeScale(np.zeros(1), year_start_days(np.array([2000, 2010]))),
        "band": TimeScale(np.array([entry]), np.array([0.0, 1.0]) * Y),
    }
    pieces = lexis_split(np.array([entry]), np.array([exit]), np.array([1]), scales)
    cuts = [entry, days(pd.Series(["2010-01-01"]))[0], birth + 60 * Y, entry + Y, exit]
    assert pieces["start"].tolist() == pytest.approx(cuts[:-1])
    assert pieces["stop"].tolist() == pytest.approx(cuts[1:])
    assert pieces["age"].tolist() == [0, 0, 1, 1]
    assert pieces["year"].tolist() == [0, 1, 1, 1]
    assert pieces["band"].tolist() == [0, 0, 0, 1]
    assert pieces["event"].tolist() == [0, 0, 0, 1]  # the event goes to the last piece
    assert pieces["person_years"].sum() == pytest.approx((exit - entry) / Y)


def test_follow_up_of_length_zero_keeps_its_event():
    scale = {"band": TimeScale(np.zeros(2), np.array([0.0, Y]))}
    pieces = lexis_split(np.array([0.0, 0.0]), np.array([0.0, 2 * Y]), np.array([1, 0]), scale)
    assert pieces["patient"].tolist() == [0, 1, 1]
    assert pieces["event"].tolist() == [1, 0, 0]
    assert pieces["person_years"].tolist() == pytest.approx([0.0, 1.0, 1.0])


def test_breaks_of_two_scales_at_the_same_point_give_no_empty_piece():
    scales = {
        "a": TimeScale(np.zeros(1), np.array([0.0, 10.0])),
        "b": TimeScale(np.zeros(1), np.array([0.0, 10.0])),
    }
    pieces = lexis_split(np.array([0.0]), np.array([20.0]), np.array([0]), scales)
    assert pieces["stop"].tolist() == [10.0, 20.0]


HEADER = "sex,age_from,age_to,calendar_from,calendar_to,site,rate_per_100000,source\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("female,40,44,,,all_malignant,100,x\n", None),
        ("woman,40,44,,,all_malignant,100,x\n", "column 'sex'"),
        ("female,40,39,,,all_malignant,100,x\n", "column 'age_to'"),
        ("female,,44,,,all_malignant,100,x\n", "column 'age_from'"),
        ("female,40,44,,,all_malignant,-1,x\n", "column 'rate_per_100000'"),
        ("female,40,44,,,all_malignant,many,x\n", "column 'rate_per_100000'"),
        ("female,40,44,,,lung,100,x\n", "column 'site'"),
        ("female,40,44,,,all_malignant,100,\n", "column 'source'"),
        ("female,40,44,2010,2009,all_malignant,100,x\n", "column 'calendar_to'"),
        ("female,40.5,44,,,all_malignant,100,x\n", "whole numbers"),
        ("female,40,49,,,C50,1,x\nall,45,,,,C50,1,x\n", "overlaps"),
        ("female,40,44,,,all_malignant,100,a,b\n", "more fields"),
    ],
)
def test_rate_files(tmp_path, body, message):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + body)
    if message is None:
        rates = read_reference_rates(path)
        assert rates.sites == ("all_malignant",)
        assert rates.table["age_hi"].tolist() == [45.0]  # inclusive whole years
        return
    with pytest.raises(ReferenceRateError, match=message) as info:
        read_reference_rates(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, ConfigError)  # exit code 2


def test_missing_file_and_missing_column(tmp_path):
    with pytest.raises(ReferenceRateError, match="not found"):
        read_reference_rates(tmp_path / "absent.csv")
    path = tmp_path / "rates.csv"
    path.write_text("sex,age_from,site,source\nfemale,40,C50,x\n")
    with pytest.raises(ReferenceRateError, match="rate_per_100000"):
        read_reference_rates(path)


def test_site_ranges_select_codes(tmp_path):
    import pandas as pd

    from imnm_cohort.analysis.rates import site_codes

    codes = pd.Series(["C18.7", "C20", "C21.0", "C17", None, "c19"])
    assert site_codes("C18-C20", codes).tolist() == [True, True, False, False, False, True]
