"""The reference-rate file validated from its contract: every bad row quarantined with every
reason, the file refused by the first problem in the words it has always had (exit code 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imnm_cohort.analysis.rates import read_reference_rates, validate_reference_rates
from imnm_cohort.contracts.rates import REFERENCE_RATES
from imnm_cohort.errors import ConfigError, ReferenceRateError

HEADER = "sex,age_from,age_to,calendar_from,calendar_to,site,rate_per_100000,source\n"
GOOD = "female,40,44,,,all_malignant,100,x\n"


def _file(tmp_path, *rows: str):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + "".join(rows))
    return path


def test_every_bad_row_is_quarantined_with_every_reason(tmp_path):
    path = _file(
        tmp_path,
        GOOD,
        "woman,40,44,,,all_malignant,-1,x\n",  # two reasons in one row
        "male,50,49,,,C 18-c20,10,x\n",
        "all,60,,2010,2009,lung,10,\n",
        "male,50,54,,,c50,7.5,y\n",
    )
    checked = validate_reference_rates(path)
    assert checked.table == "reference_rates" and checked.unit == "rows"
    assert (checked.input_rows, checked.valid_rows, checked.quarantined_rows) == (5, 2, 3)
    assert checked.valid.index.tolist() == [1, 5]
    assert checked.valid["site"].tolist() == ["all_malignant", "C50"]  # tidied
    found = sorted(
        zip(checked.reasons["row_number"], checked.reasons["column"], checked.reasons["rule"],
            strict=True)
    )  # fmt: skip
    assert found == [
        (2, "rate_per_100000", "out_of_range"),
        (2, "sex", "not_allowed"),
        (3, "age_to", "age_to_before_age_from"),
        (4, "calendar_to", "calendar_to_before_calendar_from"),
        (4, "site", "unknown_site"),
        (4, "source", "missing_required"),
    ]
    assert "patient_id" not in checked.reasons.columns  # the table has no id column
    assert checked.counts.to_dict() == {
        "unit": "rows", "input_rows": 5, "valid_rows": 2, "quarantined_rows": 3,
    }  # fmt: skip


def test_the_file_is_refused_by_its_first_problem_and_says_how_many_rows(tmp_path):
    path = _file(
        tmp_path,
        GOOD,
        "female,40,44,,,all_malignant,-1,x\n",
        "female,45,49,,,all_malignant,100,\n",
        "woman,50,54,,,all_malignant,1,x\n",
    )
    with pytest.raises(ReferenceRateError) as info:
        read_reference_rates(path)
    # sex is checked first, as it always was, though its row comes last
    assert str(info.value) == (
        f"{path}: row 4, column 'sex': must be female, male or all (found 'woman') "
        "(3 rows in all break a rule)"
    )
    assert isinstance(info.value, ConfigError)  # exit code 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("female,40,44,,,all_malignant,-1,x\n",
         "row 2, column 'rate_per_100000': must be from 0 to 100,000 (found '-1')"),
        ("female,40,44,,,all_malignant, inf ,x\n",
         "row 2, column 'rate_per_100000': must be from 0 to 100,000 (found 'inf')"),
        ("female,40,44,,,all_malignant,nan,x\n",
         "row 2, column 'rate_per_100000': not a number (found 'nan')"),
        ("female,,44,,,all_malignant,1,x\n",
         "row 2, column 'age_from': must be from 0 to 150 (found '')"),
        ("female,40,44,1990,1989,all_malignant,1,x\n",
         "row 2, column 'calendar_to': must be at least calendar_from (found '1989')"),
        ("female,40,44.5,,,all_malignant,1,x\n", "ages and calendar years must be whole numbers"),
    ],
)  # fmt: skip
def test_one_bad_row_gives_the_message_it_always_gave(tmp_path, row, message):
    path = _file(tmp_path, GOOD, row)
    with pytest.raises(ReferenceRateError) as info:
        read_reference_rates(path)
    assert str(info.value) == f"{path}: {message}"


def test_file_level_problems_stay_file_level(tmp_path):
    path = _file(tmp_path, "female,40,49,,,C50,1,x\n", "all,45,,,,C50,1,x\n")
    assert validate_reference_rates(path).quarantined_rows == 0  # each row is fine alone
    with pytest.raises(ReferenceRateError, match=r"the band of row 2 .* overlaps another row"):
        read_reference_rates(path)
    path.write_text("sex,age_from,site,source\nfemale,40,C50,x\n")
    with pytest.raises(ReferenceRateError, match="lacks column 'rate_per_100000'"):
        validate_reference_rates(path)
    path.write_text(HEADER)
    with pytest.raises(ReferenceRateError, match="has no rows"):
        validate_reference_rates(path)


def test_the_rate_contract_is_a_table_of_rows():
    assert REFERENCE_RATES.unit == "rows"
    assert REFERENCE_RATES.required == ("sex", "age_from", "site", "rate_per_100000", "source")
    assert REFERENCE_RATES.allowed == {"sex": ("female", "male", "all")}
    assert not REFERENCE_RATES.file_level  # every bad row is named, however many


@pytest.mark.slow
def test_an_empty_required_number_leaves_stderr_quiet(tmp_path):
    # pandera's gathering of an all-missing check's cases warns in pandas (a FutureWarning
    # on stderr under a plain interpreter, as the command line runs); the validator keeps
    # it off. A fresh process: the test runner's own warning filters would hide it.
    path = _file(tmp_path, "female,40,44,,,all_malignant,,x\n", "x,,44,,,C50,1,x\n")
    code = (
        "import sys; from imnm_cohort.analysis.rates import validate_reference_rates as v; "
        "sys.exit(0 if v(sys.argv[1]).quarantined_rows == 2 else 3)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
